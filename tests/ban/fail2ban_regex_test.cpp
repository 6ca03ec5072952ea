// Runs the real fail2ban-regex with each generated filter over the sample logs in
// tests/data/fail2ban/ (and the untouched Postfix capture), asserting the exact lines matched
// and the exact addresses taken; then `fail2ban-client --test` on a copy of /etc/fail2ban with
// the generated jails. Skipped when fail2ban is not installed (Debian package fail2ban).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "ban/fail2ban.hpp"
#include "core/subprocess.hpp"

namespace mw::ban::fail2ban {
namespace {

namespace fs = std::filesystem;

bool have(const char* program) {
  auto r = run_command({"sh", "-c", std::string("command -v ") + program});
  return r.ok() && r->success();
}

// A private directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "mw-fail2ban-XXXXXX").string();
    if (mkdtemp(t.data()) != nullptr) path = t;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

struct RegexRun {
  int lines = -1, matched = -1, missed = -1;
  std::multiset<std::string> ips;  // one per matched line
  std::string output;
};

// fail2ban-regex resolves a filter's directory from its path: give it an absolute one.
RegexRun run_regex(const fs::path& log, const fs::path& filter) {
  RegexRun r;
  CommandOptions co;
  co.timeout = std::chrono::seconds(120);
  auto summary = run_command({"fail2ban-regex", log.string(), filter.string()}, co);
  EXPECT_TRUE(summary.ok() && summary->success())
      << (summary.ok() ? summary->out + summary->err : summary.error().message);
  if (!summary.ok()) return r;
  r.output = summary->out;
  // "Lines: 20 lines, 0 ignored, 20 matched, 0 missed"
  const auto at = summary->out.find("\nLines: ");
  int ignored = -1;
  if (at != std::string::npos)
    std::sscanf(summary->out.c_str() + at, "\nLines: %d lines, %d ignored, %d matched, %d missed",
                &r.lines, &ignored, &r.matched, &r.missed);
  auto ips = run_command({"fail2ban-regex", "--out", "ip", log.string(), filter.string()}, co);
  EXPECT_TRUE(ips.ok() && ips->success());
  if (ips.ok()) {
    std::size_t pos = 0;
    const auto& out = ips->out;
    while (pos < out.size()) {
      auto end = out.find('\n', pos);
      if (end == std::string::npos) end = out.size();
      if (end > pos) r.ips.insert(out.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  return r;
}

struct Case {
  std::string_view filter;
  std::string log;  // relative to the source tree
  int lines, matched;
  std::set<std::string> ips;
};

const std::string kData = "tests/data/fail2ban/";

std::vector<Case> cases() {
  return {
      {kPostfixSasl,
       kData + "postfix-sasl.log",
       20,
       20,
       {"127.0.0.1", "114.44.142.233", "1.1.1.1", "82.221.106.233", "62.138.2.143", "98.191.84.74",
        "192.0.2.237", "192.0.2.150", "203.0.113.7", "198.51.100.9", "2001:db8::7", "203.0.113.8"}},
      {kPostfixSasl, kData + "postfix-sasl-negative.log", 158, 0, {}},
      // The real Postfix 3.7 capture as it is: 6 password failures; the 3 "Connection lost to
      // authentication server" lines (Dovecot's penalty, one of them a correct password) and
      // the 147 other lines do not count.
      {kPostfixSasl, "tests/data/logs/capture/postfix-3.7-dovecot/mail.log", 156, 6, {"127.0.0.1"}},
      {kZimbraAudit,
       kData + "zimbra-audit.log",
       9,
       9,
       {"198.51.100.23", "198.51.100.24", "203.0.113.15", "203.0.113.16", "2001:db8::7",
        "192.0.2.44", "192.0.2.8", "2001:db8::5", "203.0.113.17"}},
      {kZimbraAudit, kData + "zimbra-audit-negative.log", 11, 0, {}},
      {kZimbraAudit, kData + "zimbra-admin.log", 3, 0, {}},
      {kZimbraAudit, kData + "zimbra-mailbox.log", 5, 0, {}},
      {kZimbraMailbox,
       kData + "zimbra-mailbox.log",
       5,
       5,
       {"192.0.2.30", "192.0.2.33", "192.0.2.31", "198.51.100.40", "2001:db8::30"}},
      {kZimbraMailbox, kData + "zimbra-mailbox-negative.log", 7, 0, {}},
      {kZimbraMailbox, kData + "zimbra-audit.log", 9, 0, {}},
      {kZimbraAdmin,
       kData + "zimbra-admin.log",
       3,
       3,
       {"203.0.113.9", "198.51.100.77", "2001:db8::99"}},
      {kZimbraAdmin, kData + "zimbra-admin-negative.log", 5, 0, {}},
      {kZimbraAdmin, kData + "zimbra-audit.log", 9, 0, {}},
  };
}

std::string filter_text(std::string_view name) {
  if (name == kPostfixSasl) return postfix_sasl_filter();
  if (name == kZimbraAudit) return zimbra_audit_filter();
  if (name == kZimbraMailbox) return zimbra_mailbox_filter();
  return zimbra_admin_filter();
}

TEST(Fail2banRegex, EachFilterMatchesExactlyTheFailuresAndTheClient) {
  if (!have("fail2ban-regex")) GTEST_SKIP() << "fail2ban-regex not installed";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  std::printf("| filter | log | lines | matched | missed |\n|---|---|---|---|---|\n");
  for (const auto& c : cases()) {
    const auto filter = dir.path / "filter.d" / (std::string(c.filter) + ".conf");
    write(filter, filter_text(c.filter));
    const auto r = run_regex(fs::path(MW_SOURCE_DIR) / c.log, filter);
    const std::string what = std::string(c.filter) + " on " + c.log;
    std::printf("| %s | %s | %d | %d | %d |\n", std::string(c.filter).c_str(), c.log.c_str(),
                r.lines, r.matched, r.missed);
    EXPECT_EQ(r.lines, c.lines) << what << "\n" << r.output;
    EXPECT_EQ(r.matched, c.matched) << what << "\n" << r.output;
    EXPECT_EQ(r.ips.size(), static_cast<std::size_t>(c.matched)) << what;
    EXPECT_EQ(std::set<std::string>(r.ips.begin(), r.ips.end()), c.ips) << what;
  }
}

TEST(Fail2banRegex, NeverTheProxy) {
  if (!have("fail2ban-regex")) GTEST_SKIP() << "fail2ban-regex not installed";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  // The proxy (ip=) and an address hidden in a user agent must never come out, whatever the
  // order of the pairs.
  const std::string log =
      "2026-11-28 23:56:01,004 WARN  [ImapSSLServer-42] [oip=198.51.100.23;ip=10.0.0.2;] "
      "security - cmd=Auth; account=a; protocol=imap; error=authentication failed for [a];\n"
      "2026-11-28 23:56:02,004 WARN  [ImapSSLServer-42] [ip=10.0.0.2;ua=x;;oip=192.0.2.66;;;"
      "oip=198.51.100.24;] security - cmd=Auth; account=b; protocol=imap; "
      "error=authentication failed for [b];\n"
      "2026-11-28 23:56:03,004 WARN  [ImapSSLServer-42] [ua=ip=192.0.2.67;;;ip=198.51.100.25;] "
      "security - cmd=Auth; account=c; protocol=imap; error=authentication failed for [c];\n"
      "2026-11-28 23:56:04,004 INFO  [ImapSSLServer-42] [ip=10.0.0.2;oip=192.0.2.30;] imap - "
      "authentication failed for [d] (invalid password)\n";
  write(dir.path / "proxy.log", log);
  const auto audit = dir.path / "filter.d/a.conf";
  write(audit, zimbra_audit_filter());
  auto r = run_regex(dir.path / "proxy.log", audit);
  EXPECT_EQ(r.matched, 3) << r.output;
  EXPECT_EQ(r.ips, (std::multiset<std::string>{"198.51.100.23", "198.51.100.24", "198.51.100.25"}));
  const auto mailbox = dir.path / "filter.d/m.conf";
  write(mailbox, zimbra_mailbox_filter());
  r = run_regex(dir.path / "proxy.log", mailbox);
  EXPECT_EQ(r.ips, (std::multiset<std::string>{"192.0.2.30"}));
}

// `fail2ban-client --test` on a private copy of /etc/fail2ban (read, never changed) with the
// generated files added: fail2ban itself parses the jails, filters and actions.
void expect_config_test_passes(const Options& base, bool drop_route_conf) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const auto conf = dir.path / "fail2ban";
  std::error_code ec;
  fs::copy("/etc/fail2ban", conf, fs::copy_options::recursive, ec);
  ASSERT_FALSE(ec) << ec.message();
  // Only our jails: the stock sshd jail would need /var/log/auth.log.
  fs::remove(conf / "jail.d/defaults-debian.conf", ec);
  if (drop_route_conf) fs::remove(conf / "action.d/route.conf", ec);
  Options o = base;
  o.have_route_action = fs::exists(conf / "action.d/route.conf");
  // fail2ban checks that each logpath exists: empty files in the temp dir.
  for (auto [p, name] :
       {std::pair{&o.zimbra_log, "zimbra.log"}, std::pair{&o.audit_log, "audit.log"},
        std::pair{&o.mailbox_log, "mailbox.log"}, std::pair{&o.maillog, "mail.log"}}) {
    write(dir.path / "log" / name, "");
    *p = (dir.path / "log" / name).string();
  }
  AllowList allow;
  allow.entries.push_back({*parse_prefix("198.51.100.0/28"), "admin network"});
  allow.entries.push_back({*parse_prefix("2001:db8:ad::/120"), "admin network"});
  auto g = generate(o, allow);
  ASSERT_TRUE(g.ok()) << g.error().message;
  for (const auto& f : g->files) write(conf / f.path, f.content);
  CommandOptions co;
  co.timeout = std::chrono::seconds(120);
  auto r = run_command({"fail2ban-client", "-c", conf.string(), "--test"}, co);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_NE((r->out + r->err).find("OK: configuration test is successful"), std::string::npos)
      << r->out << r->err;
  // The dump shows our jails with our ignoreip (fail2ban's own view of the files).
  auto d = run_command({"fail2ban-client", "-c", conf.string(), "-d"}, co);
  ASSERT_TRUE(d.ok());
  for (const auto& f : g->files) {
    if (f.path.rfind("filter.d/", 0) != 0) continue;
    const auto name = f.path.substr(9, f.path.size() - 9 - 5);
    EXPECT_NE(d->out.find("['add', '" + name + "'"), std::string::npos) << name << d->out;
  }
  EXPECT_NE(d->out.find("'addignoreip', '127.0.0.0/8', '::1/128', '198.51.100.0/28', "
                        "'2001:db8:ad::/120']"),
            std::string::npos)
      << d->out;
  if (o.action == BanAction::route && !o.have_route_action) {
    EXPECT_NE(d->out.find("'addaction', 'mailwarden-route'"), std::string::npos);
  }
}

TEST(Fail2banClient, GeneratedJailsPassTheConfigurationTest) {
  if (!have("fail2ban-client") || !fs::exists("/etc/fail2ban/jail.conf"))
    GTEST_SKIP() << "fail2ban-client not installed";
  Options o;
  for (auto a : {BanAction::nftables, BanAction::iptables, BanAction::route}) {
    o.action = a;
    SCOPED_TRACE(std::string(ban_action_name(a)));
    expect_config_test_passes(o, false);
  }
  SCOPED_TRACE("route without action.d/route.conf");
  o.action = BanAction::route;
  expect_config_test_passes(o, true);
  SCOPED_TRACE("postfix flavour");
  o.flavour = Flavour::postfix;
  o.action = BanAction::nftables;
  expect_config_test_passes(o, false);
}

}  // namespace
}  // namespace mw::ban::fail2ban
