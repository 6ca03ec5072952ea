// sshd -T and sshd_config: effective values, first-value-wins, Include with globs, Match blocks.
#include "audit/sshd.hpp"

#include <gtest/gtest.h>

#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using test::read_source_file;

TEST(SshdT, ExampleSnapshotsAndDebian) {
  auto d = parse_sshd_t(test::snapshot_file("zimbra-default", "sshd-T.txt"), "sshd-T.txt");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_NE(d->find("passwordauthentication"), nullptr);
  EXPECT_EQ(d->find("PasswordAuthentication")->value, "yes");
  EXPECT_EQ(d->find("passwordauthentication")->origin.to_string(),
            "sshd-T.txt:" + std::to_string(d->find("passwordauthentication")->origin.line));
  EXPECT_EQ(d->find("permitrootlogin")->value, "without-password");
  EXPECT_EQ(d->values("listenaddress"), (std::vector<std::string_view>{"[::]:22", "0.0.0.0:22"}));
  auto h = parse_sshd_t(test::snapshot_file("zimbra-hardened", "sshd-T.txt"), "t");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->find("passwordauthentication")->value, "no");
  auto deb = parse_sshd_t(read_source_file("tests/data/config/sshd-T.txt"), "t");
  ASSERT_TRUE(deb.ok()) << deb.error().message;
  EXPECT_EQ(deb->find("passwordauthentication")->value, "yes");
  EXPECT_EQ(deb->find("gssapiauthentication")->value, "no");
  auto debh = parse_sshd_t(read_source_file("tests/data/config/sshd-T-hardened.txt"), "t");
  ASSERT_TRUE(debh.ok());
  EXPECT_EQ(debh->find("permitrootlogin")->value, "no");
}

TEST(SshdT, Errors) {
  auto a = parse_sshd_t("port 22\nPort 23\n", "t");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "t:2:1: expected a lower-case keyword, got 'Port'");
  auto b = parse_sshd_t("port\n", "t");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "t:1:5: keyword 'port' without a value");
}

TEST(SshdConfig, DebianDefaultWithoutResolver) {
  auto r =
      parse_sshd_config(read_source_file("tests/data/config/sshd_config"), "/etc/ssh/sshd_config");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->global_first("include")->args, "/etc/ssh/sshd_config.d/*.conf");
  EXPECT_EQ(r->global_first("KbdInteractiveAuthentication")->args, "no");
  EXPECT_EQ(r->global_first("subsystem")->args, "sftp\t/usr/lib/openssh/sftp-server");
  EXPECT_EQ(r->global_first("x11forwarding")->origin.to_string(), "/etc/ssh/sshd_config:90");
  EXPECT_EQ(r->global_first("passwordauthentication"), nullptr);  // commented out
  EXPECT_TRUE(r->matches.empty());
}

TEST(SshdConfig, IncludesGlobsAndMatchBlocks) {
  const auto root = std::string(MW_SOURCE_DIR) + "/tests/data/audit/sshd-root";
  const auto resolver = filesystem_include_resolver(root);
  auto main = resolver.read("/etc/ssh/sshd_config");
  ASSERT_TRUE(main.ok());
  auto r = parse_sshd_config(*main, "/etc/ssh/sshd_config", &resolver);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->files, (std::vector<std::string>{
                          "/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/10-ports.conf",
                          "/etc/ssh/sshd_config.d/50-cloud.conf", "/etc/ssh/match.d/x11.conf"}));
  // The drop-in is read first: sshd keeps its "yes", not the main file's "no".
  const auto* pa = r->global_first("PasswordAuthentication");
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(pa->args, "yes");
  EXPECT_EQ(pa->origin.to_string(), "/etc/ssh/sshd_config.d/50-cloud.conf:3");
  EXPECT_EQ(r->global_all("passwordauthentication").size(), 2u);
  EXPECT_EQ(r->global_first("passwordauthentication")->written, "PasswordAuthentication");
  // The Match in the drop-in ends with its file: the main file's settings after it are global.
  EXPECT_EQ(r->global_first("permitrootlogin")->args, "no");
  EXPECT_EQ(r->global_first("gssapiauthentication")->args, "no");
  // Ports accumulate, in reading order.
  ASSERT_TRUE(sshd_keyword_accumulates("Port"));
  const auto ports = r->global_all("port");
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0]->args, "2222");
  EXPECT_EQ(r->global_all("allowusers").size(), 2u);
  // Match blocks with their criteria and origins.
  ASSERT_EQ(r->matches.size(), 3u);
  EXPECT_EQ(r->matches[0].criteria, "Address 10.0.0.0/8");
  EXPECT_EQ(r->matches[0].origin.to_string(), "/etc/ssh/sshd_config.d/50-cloud.conf:4");
  EXPECT_EQ(r->matches[1].criteria, "User backup");
  EXPECT_EQ(r->matches[2].criteria, "all");
  const auto in_match = r->in_matches("passwordauthentication");
  ASSERT_EQ(in_match.size(), 1u);
  EXPECT_EQ(in_match[0]->match, 1);
  EXPECT_EQ(in_match[0]->origin.to_string(), "/etc/ssh/sshd_config:11");
  // An Include inside a Match puts the included lines under that Match.
  const auto x11 = r->in_matches("x11forwarding");
  ASSERT_EQ(x11.size(), 1u);
  EXPECT_EQ(x11[0]->match, 1);
  EXPECT_EQ(x11[0]->origin.to_string(), "/etc/ssh/match.d/x11.conf:1");
  EXPECT_EQ(r->in_matches("permitrootlogin")[0]->match, 0);
}

TEST(SshdConfig, IncludeLoopAndFanOutAreBounded) {
  SshdIncludeResolver loop;
  loop.expand = [](const std::string& p) { return std::vector<std::string>{p, p}; };
  loop.read = [](const std::string&) -> Result<std::string> {
    return std::string("Include /etc/ssh/self.conf\n");
  };
  auto r = parse_sshd_config("Include self.conf\n", "/etc/ssh/sshd_config", &loop);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/etc/ssh/self.conf:1:9: Include nested deeper than 16 files")
      << r.error().message;
  SshdIncludeResolver wide;
  wide.expand = [](const std::string&) {
    std::vector<std::string> files;
    for (int i = 0; i < 300; ++i) files.push_back("/etc/ssh/d/" + std::to_string(i) + ".conf");
    return files;
  };
  wide.read = [](const std::string&) -> Result<std::string> { return std::string("Port 22\n"); };
  auto w = parse_sshd_config("Include d/*.conf\n", "/etc/ssh/sshd_config", &wide);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("more than 256 files"), std::string::npos) << w.error().message;
}

TEST(SshdConfig, Errors) {
  auto a = parse_sshd_config("Match\n", "c");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "c:1:1: Match without criteria");
  auto b = parse_sshd_config("  PasswordAuthentication\n", "c");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "c:1:25: 'PasswordAuthentication' without an argument");
  auto c = parse_sshd_config("Pass-word yes\n", "c");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "c:1:1: invalid keyword 'Pass-word'");
  SshdIncludeResolver missing;
  missing.expand = [](const std::string& p) { return std::vector<std::string>{p}; };
  missing.read = [](const std::string&) -> Result<std::string> { return Error{"cannot be read"}; };
  auto d = parse_sshd_config("Include x.conf\n", "c", &missing);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "c:1:9: Include '/etc/ssh/x.conf': cannot be read");
}

TEST(SshdMatchSpecs, OneConnectionPerBlockThatTheBlockSelects) {
  auto c = parse_sshd_config(
      "PasswordAuthentication no\n"
      "Match User backup,!root Address 10.1.0.0/16\n  PasswordAuthentication yes\n"
      "Match Host *.example.org\n  X11Forwarding no\n"
      "Match LocalPort 2222\n  PermitRootLogin no\n"
      "Match Group admins\n  AllowTcpForwarding no\n"
      "Match User !root\n  AllowTcpForwarding no\n"
      "Match User backup Address 10.1.0.0/16\n  Banner none\n"
      "Match User a;b\n  Banner none\n",
      "/etc/ssh/sshd_config", nullptr);
  ASSERT_TRUE(c.ok()) << c.error().message;
  std::vector<std::string> skipped;
  auto specs = sshd_match_specs(*c, &skipped);
  // A LocalPort block anywhere: every spec names a local port (sshd 9.2 refuses one without).
  EXPECT_EQ(specs, (std::vector<std::string>{
                       "user=backup,host=probe.invalid,addr=10.1.0.0,lport=22",
                       "user=mailwarden-probe,host=x.example.org,addr=192.0.2.1,lport=22",
                       "user=mailwarden-probe,host=probe.invalid,addr=192.0.2.1,lport=2222"}));
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_NE(skipped[0].find("Group"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("negated"), std::string::npos) << skipped[1];
  EXPECT_NE(skipped[2].find("a;b"), std::string::npos) << skipped[2];
}

// What the real sshd 9.2 showed (sshd_real_test.cpp): a spec must be a connection its block
// selects, so values avoid the list's negated patterns, and addresses are ones a real
// connection has (a wildcard's "fd00:0" selected nothing).
TEST(SshdMatchSpecs, ValuesAvoidNegationsAndAddressesAreReal) {
  struct Row {
    std::string criteria;
    std::string spec;  // "" when the block is skipped
    std::string skip_reason = {};
  };
  const std::string d = "user=mailwarden-probe,host=probe.invalid,addr=192.0.2.1";
  const std::vector<Row> rows = {
      {"Address 10.0.0.0/8,!10.0.0.0/16", "user=mailwarden-probe,host=probe.invalid,addr=10.1.0.0"},
      {"Address 10.0.0.0/8,!10.0.0.*", "user=mailwarden-probe,host=probe.invalid,addr=10.0.1.0"},
      {"Address 10.0.0.0/8,!10.0.0.0/9",
       "user=mailwarden-probe,host=probe.invalid,addr=10.128.0.0"},
      {"Address 2001:DB8::/32", "user=mailwarden-probe,host=probe.invalid,addr=2001:db8::"},
      {"Address fd00:*", "user=mailwarden-probe,host=probe.invalid,addr=fd00::"},
      {"Address 2001:db8:*:1", "user=mailwarden-probe,host=probe.invalid,addr=2001:db8::1"},
      {"Address 10.20.*", "user=mailwarden-probe,host=probe.invalid,addr=10.20.0.0"},
      {"Address *.5", "user=mailwarden-probe,host=probe.invalid,addr=0.0.0.5"},
      {"Address 192.168.1.?", "user=mailwarden-probe,host=probe.invalid,addr=192.168.1.0"},
      {"Address *", "user=mailwarden-probe,host=probe.invalid,addr=0.0.0.0"},
      {"Host *.example.org,!x*.example.org",
       "user=mailwarden-probe,host=y.example.org,addr=192.0.2.1"},
      {"Host *.Example.ORG", "user=mailwarden-probe,host=x.example.org,addr=192.0.2.1"},
      {"User !root,!admin,eve*", "user=evex,host=probe.invalid,addr=192.0.2.1"},
      {"User alice User a*", "user=alice,host=probe.invalid,addr=192.0.2.1"},
      {"LocalAddress 10.9.0.0/16", d + ",laddr=10.9.0.0"},
      // sshd's strdelim(): '=' separates like a blank, double quotes group.
      {"User=backup", "user=backup,host=probe.invalid,addr=192.0.2.1"},
      {"User \"ops\" Address=10.30.0.0/16", "user=ops,host=probe.invalid,addr=10.30.0.0"},
      {"User alice User b*", "", "no user matching 'alice,b*'"},
      {"Address 10.0.0.0/8,!10.0.0.0/8", "", "no address matching"},
      {"Address 2001:DB8:*", "", "no address matching"},  // sshd compares the text: lower case
      {"Address 10.1", "", "no address matching"},
      {"User \"ops", "", "unterminated quote"},
      {"RDomain x", "", "Match RDomain cannot be named"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.criteria);
    auto c = parse_sshd_config("Match " + row.criteria + "\n  X11Forwarding no\n", "c");
    ASSERT_TRUE(c.ok()) << c.error().message;
    std::vector<std::string> skipped;
    const auto specs = sshd_match_specs(*c, &skipped);
    if (row.spec.empty()) {
      EXPECT_TRUE(specs.empty());
      ASSERT_EQ(skipped.size(), 1u);
      EXPECT_NE(skipped[0].find(row.skip_reason), std::string::npos) << skipped[0];
    } else {
      EXPECT_EQ(specs, std::vector<std::string>{row.spec}) << (skipped.empty() ? "" : skipped[0]);
    }
  }
}

// sshd 9.2 refuses every -C spec without lport= once any Match line names LocalPort, even a line
// it skips: every spec then names the port a connection has, the first global Port or 22.
TEST(SshdMatchSpecs, ALocalPortBlockGivesEverySpecALocalPort) {
  auto c = parse_sshd_config(
      "Port 2200\nPort 2201\nMatch User a\n  X11Forwarding no\n"
      "Match Group g LocalPort 2022\n  X11Forwarding no\n"
      "Match LocalPort=2222\n  X11Forwarding no\n",
      "c");
  ASSERT_TRUE(c.ok()) << c.error().message;
  std::vector<std::string> skipped;
  EXPECT_EQ(sshd_match_specs(*c, &skipped),
            (std::vector<std::string>{
                "user=a,host=probe.invalid,addr=192.0.2.1,lport=2200",
                "user=mailwarden-probe,host=probe.invalid,addr=192.0.2.1,lport=2222"}));
  EXPECT_EQ(skipped.size(), 1u);
  auto none = parse_sshd_config("Match User a\n  X11Forwarding no\n", "c");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(sshd_match_specs(*none),
            std::vector<std::string>{"user=a,host=probe.invalid,addr=192.0.2.1"});
}

// A Match line may be 1 MiB: finding a value stays bounded whatever the patterns.
TEST(SshdMatchSpecs, HostileMatchLinesAreBounded) {
  std::string addresses = "10.0.0.0/8";
  for (int i = 0; i < 60000; ++i) {
    addresses += ",!10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
  }
  std::string users = "!*";
  for (int i = 0; i < 60000; ++i) users += ",*?*?*?*?*?*?*?*";
  auto c = parse_sshd_config("Match Address " + addresses + "\n  X11Forwarding no\n" +
                                 "Match User " + users + "\n  X11Forwarding no\n",
                             "c");
  ASSERT_TRUE(c.ok()) << c.error().message;
  std::vector<std::string> skipped;
  const auto specs = sshd_match_specs(*c, &skipped);
  // 10.0.0.0/24 ... 10.234.95.0/24 are excluded: the first address left is 10.234.96.0.
  EXPECT_EQ(specs,
            std::vector<std::string>{"user=mailwarden-probe,host=probe.invalid,addr=10.234.96.0"});
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("no user matching"), std::string::npos) << skipped[0].substr(0, 200);
}

}  // namespace
}  // namespace mw::audit
