// Unit tests of the ban engine: durations, the recidive catalog, the allow-list, the state
// file and the nft scripts, with a fake command runner and a fake clock.
#include "ban/ban.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/atomic_file.hpp"

namespace mw::ban {
namespace {

Prefix pfx(const char* t) {
  auto p = parse_prefix(t);
  EXPECT_TRUE(p.ok()) << t;
  return *p;
}

// Records every command; answers `nft -j list set` from `kernel`, `ip -j addr` from `ip_json`.
class FakeRunner final : public CommandRunner {
 public:
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> scripts;
  std::string ip_json = "[]";
  std::string kernel4 = "{\"nftables\":[]}";
  bool nft_fails = false;
  Result<CommandOutput> run(const std::vector<std::string>& argv,
                            const std::string& stdin_data) override {
    calls.push_back(argv);
    CommandOutput o;
    o.exit_code = 0;
    if (argv.at(0) == "ip") {
      o.out = ip_json;
    } else if (argv.at(0) == "nft" && argv.size() > 2 && argv[1] == "-j") {
      o.out = argv.back() == "ban4" ? kernel4 : "{\"nftables\":[]}";
    } else if (argv.at(0) == "nft") {
      scripts.push_back(stdin_data);
      if (nft_fails) {
        o.exit_code = 1;
        o.err = "Error: Could not process rule";
      }
    } else {
      o.exit_code = 127;
    }
    return o;
  }
};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("mw-ban-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static inline int counter = 0;
};

TEST(Duration, ParsesUnitsAndRejectsTheRest) {
  EXPECT_EQ(parse_duration("90s")->count(), 90);
  EXPECT_EQ(parse_duration("15m")->count(), 900);
  EXPECT_EQ(parse_duration("1h")->count(), 3600);
  EXPECT_EQ(parse_duration("7d")->count(), 7 * 86400);
  EXPECT_EQ(parse_duration("2w")->count(), 14 * 86400);
  for (const char* bad : {"", "h", "0h", "-1h", "+1h", "1x", "1.5h", "1 h", "400d", "99999999999w"})
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  EXPECT_EQ(format_duration(Seconds(86400)), "1d");
  EXPECT_EQ(format_duration(Seconds(90)), "90s");
}

TEST(Config, RepositoryCatalogLoads) {
  auto c = load_ban_config(std::filesystem::path(MW_SOURCE_DIR) / "catalog" / "ban.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->steps.size(), 4u);
  EXPECT_EQ(c->duration_for(1), Seconds(3600));
  EXPECT_EQ(c->duration_for(2), Seconds(6 * 3600));
  EXPECT_EQ(c->duration_for(3), Seconds(86400));
  EXPECT_EQ(c->duration_for(4), Seconds(7 * 86400));
  EXPECT_EQ(c->duration_for(9), Seconds(7 * 86400));  // the last step repeats
  EXPECT_EQ(c->window, Seconds(30 * 86400));
  EXPECT_EQ(c->ipv6_prefix, 64);
}

TEST(Config, ErrorsNamePosition) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[recidive]\nsteps = [\"1h\", \"2q\"]\n", "b.toml:2:16: recidive.steps: '2q': unknown unit"},
      {"[recidive]\nwindow = 30\n", "b.toml:2:10: recidive.window"},
      {"[recidive]\nsteps = [\"1d\", \"1h\"]\n", "shorter than the step before"},
      {"[ipv6]\nprefix = 200\n", "b.toml:2:10: ipv6.prefix"},
      {"[bans]\n", "b.toml:1:1: unknown table 'bans'"},
      {"[recidive\n", "b.toml:1:"},
  };
  for (const auto& c : cases) {
    auto r = parse_ban_config(c.text, "b.toml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

TEST(AllowList, MynetworksAsPostfixWritesIt) {
  std::vector<std::string> skipped;
  auto r = parse_mynetworks(
      "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128, 10.1.0.0/16\n"
      " hash:/etc/postfix/network_table",
      &skipped);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[2], pfx("::1/128"));
  EXPECT_EQ((*r)[3], pfx("10.1.0.0/16"));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_FALSE(parse_mynetworks("[::1/128", nullptr).ok());
  EXPECT_FALSE(parse_mynetworks("10.0.0.0/33", nullptr).ok());
}

TEST(AllowList, HostAddressesFromIpJson) {
  auto r = parse_ip_addr_json(
      R"([{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
          {"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.1","prefixlen":24},
           {"family":"inet6","local":"2001:db8::1","prefixlen":64}]}])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].prefix, pfx("192.0.2.1/32"));  // the address, not its on-link network
  EXPECT_EQ((*r)[1].why, "host address (eth0)");
  EXPECT_EQ((*r)[2].prefix, pfx("2001:db8::1/128"));
  EXPECT_FALSE(parse_ip_addr_json("{").ok());
}

TEST(AllowList, OverlapInEitherDirectionIsRefused) {
  FakeRunner run;
  run.ip_json = R"([{"ifname":"eth0","addr_info":[{"local":"192.0.2.1"}]}])";
  AllowSources s;
  s.mynetworks = std::vector<std::string>{"10.1.0.0/16"};
  s.extra = {"198.51.100.7"};
  auto al = build_allow_list(s, run);
  ASSERT_TRUE(al.ok()) << al.error().message;
  struct Case {
    const char* ban;
    const char* why;  // nullptr: allowed to ban
  } cases[] = {
      {"127.0.0.1", "loopback"},        {"::1", "loopback"},
      {"192.0.2.0/24", "host address"}, {"192.0.2.1", "host address"},
      {"10.0.0.0/8", "mynetworks"},     {"10.1.2.3", "mynetworks"},
      {"198.51.100.0/24", "--allow"},   {"192.0.2.2", nullptr},
      {"10.2.0.0/16", nullptr},         {"2001:db8::/32", nullptr},
  };
  for (const auto& c : cases) {
    const AllowEntry* e = al->overlapping(pfx(c.ban));
    if (c.why == nullptr) {
      EXPECT_EQ(e, nullptr) << c.ban;
    } else {
      ASSERT_NE(e, nullptr) << c.ban;
      EXPECT_NE(e->why.find(c.why), std::string::npos) << c.ban << ": " << e->why;
    }
  }
}

TEST(AllowList, PolicyAdminAndClusterNetworks) {
  FakeRunner run;
  AllowSources s;
  s.host_addresses = false;
  s.postconf = "";
  s.policy_file = std::string(MW_SOURCE_DIR) + "/examples/zimbra-single.toml";
  auto al = build_allow_list(s, run);
  ASSERT_TRUE(al.ok()) << al.error().message;
  bool admin = false;
  for (const auto& e : al->entries) admin = admin || e.why.find("admin network") == 0;
  EXPECT_TRUE(admin);
  EXPECT_TRUE(run.calls.empty());  // neither ip nor postconf was asked
}

TEST(AllowList, BadEntriesAreErrors) {
  FakeRunner run;
  AllowSources s;
  s.host_addresses = false;
  s.postconf = "";
  s.extra = {"10.0.0.0/40"};
  auto r = build_allow_list(s, run);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--allow"), std::string::npos);
  s.extra.clear();
  s.policy_file = "/nonexistent/site.toml";
  EXPECT_FALSE(build_allow_list(s, run).ok());
}

TEST(State, RoundTrip) {
  BanState st;
  st.bans.push_back(
      {pfx("203.0.113.9/32"), 3, {100, 200}, "brute force", "bob@example.com", 50, 200, 3800});
  st.bans.push_back({pfx("2001:db8:1::/64"), 1, {10}, "spray", "", 10, 10, 20});
  auto back = parse_state(serialize_state(st), "bans.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->bans.size(), 2u);
  EXPECT_EQ(back->bans[0].prefix, st.bans[0].prefix);
  EXPECT_EQ(back->bans[0].recent, st.bans[0].recent);
  EXPECT_EQ(back->bans[0].account, "bob@example.com");
  EXPECT_EQ(back->bans[1].expires, 20);
}

TEST(State, BrokenFilesAreErrorsNamingTheFile) {
  BanState st;
  st.bans.push_back({pfx("203.0.113.9/32"), 1, {100}, "r", "a", 100, 100, 3700});
  const std::string good = serialize_state(st);
  struct Case {
    std::string text;
    const char* expect;
  } cases[] = {
      {good.substr(0, good.size() / 2), "bans.json:"},  // truncated by a crash
      {"", "bans.json:1:1: not valid JSON"},
      {"[]", "top level"},
      {R"({"version":2,"bans":[]})", "version"},
      {R"({"version":1,"bans":[],"x":1})", "x: unknown key"},
      {R"({"version":1,"bans":[{"prefix":"1.2.3.4/33","offences":1,"recent":[],"reason":"","account":"","first":0,"last":0,"expires":0}]})",
       "bans[0].prefix"},
      {R"({"version":1,"bans":[{"prefix":"1.2.3.4/32","offences":1,"recent":[],"reason":"","account":"","first":0,"last":0}]})",
       "missing 'expires'"},
      {R"({"version":1,"bans":[{"prefix":"1.2.3.4/32","offences":-1,"recent":[],"reason":"","account":"","first":0,"last":0,"expires":0}]})",
       "offences"},
      {R"({"version":1,"bans":[{"prefix":"1.2.3.4/32","offences":0,"recent":[1],"reason":"","account":"","first":0,"last":0,"expires":0}]})",
       "more entries than offences"},
  };
  for (const auto& c : cases) {
    auto r = parse_state(c.text, "bans.json");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind("bans.json", 0), 0u) << r.error().message;
  }
  std::string dup = serialize_state(BanState{{st.bans[0], st.bans[0]}});
  EXPECT_FALSE(parse_state(dup, "bans.json").ok());
}

TEST(Nft, EnsureScriptNeverFlushesElements) {
  const std::string s = nft_ensure_script();
  EXPECT_NE(s.find("add table inet mailwarden_ban"), std::string::npos);
  EXPECT_NE(s.find("flags interval, timeout;"), std::string::npos);
  EXPECT_EQ(s.find("auto-merge"), std::string::npos);
  EXPECT_EQ(s.find("flush set"), std::string::npos);
  EXPECT_EQ(s.find("flush table"), std::string::npos);
  EXPECT_NE(s.find("priority filter - 10"), std::string::npos);
}

TEST(Nft, CommentsCannotBreakOutOfTheString) {
  EXPECT_EQ(element_comment("brute force", "bob@x", 2), "brute force; bob@x; offence 2");
  EXPECT_EQ(element_comment("a\"; flush ruleset; \"", "", 1), "a_; flush ruleset; _; -; offence 1");
  EXPECT_EQ(element_comment(std::string(300, 'r'), "a", 1).size(), 128u);
  EXPECT_EQ(element_comment("x\n\\y", "é", 1), "x__y; __; offence 1");
}

TEST(Nft, ParsesListSetJson) {
  auto r = parse_nft_set_json(
      R"({"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "inet", "name": "ban4", "table": "mailwarden_ban", "type": "ipv4_addr", "handle": 1, "flags": ["interval", "timeout"], "elem": [{"elem": {"val": {"prefix": {"addr": "10.0.0.0", "len": 24}}, "timeout": 3600, "expires": 3599, "comment": "x; y; offence 1"}}, {"elem": {"val": "10.1.0.5", "timeout": 120, "expires": 119, "comment": "again"}}, "10.2.0.1"]}}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].prefix, pfx("10.0.0.0/24"));
  EXPECT_EQ((*r)[0].expires, Seconds(3599));
  EXPECT_EQ((*r)[0].comment, "x; y; offence 1");
  EXPECT_EQ((*r)[1].prefix, pfx("10.1.0.5/32"));
  EXPECT_EQ((*r)[2].timeout, std::nullopt);
  EXPECT_FALSE(parse_nft_set_json("{}").ok());
  EXPECT_FALSE(
      parse_nft_set_json(R"({"nftables":[{"set":{"elem":[{"elem":{"val":true}}]}}]})").ok());
}

class EngineTest : public testing::Test {
 protected:
  TempDir dir;
  FakeRunner run;
  FakeClock clock;
  AllowList allow{{{pfx("192.0.2.1/32"), "host address (eth0)"}}, {}};
  BanEngine engine() {
    EngineOptions o;
    o.state_dir = dir.path;
    return BanEngine(o, run, clock);
  }
};

TEST_F(EngineTest, RecidiveEscalatesWithinTheWindow) {
  auto e = engine();
  BanRequest req{pfx("203.0.113.9"), std::nullopt, "brute force", "bob@example.com", false};
  const Seconds expect[] = {Seconds(3600), Seconds(6 * 3600), Seconds(86400), Seconds(7 * 86400),
                            Seconds(7 * 86400)};
  for (std::size_t i = 0; i < 5; ++i) {
    auto r = e.add(req, allow);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->outcome, Outcome::banned);
    EXPECT_EQ(r->offence, i + 1);
    EXPECT_EQ(r->duration, expect[i]) << i;
    EXPECT_NE(run.scripts.back().find(
                  fmt::format("timeout {}s comment \"brute force; bob@example.com; offence {}\"",
                              expect[i].count(), i + 1)),
              std::string::npos)
        << run.scripts.back();
    clock.advance(std::chrono::hours(24));
  }
  // 31 days later the old offences are forgotten: back to the first step.
  clock.advance(std::chrono::hours(24 * 31));
  auto r = e.add(req, allow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->offence, 1u);
  EXPECT_EQ(r->duration, Seconds(3600));
  auto st = load_state(e.state_file());
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(st->bans.size(), 1u);
  EXPECT_EQ(st->bans[0].offences, 6u);
  EXPECT_EQ(st->bans[0].account, "bob@example.com");
}

TEST_F(EngineTest, ExplicitDurationWins) {
  auto e = engine();
  auto r = e.add({pfx("203.0.113.9"), Seconds(120), "manual", "", false}, allow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->duration, Seconds(120));
  EXPECT_NE(run.scripts.back().find("timeout 120s"), std::string::npos);
}

TEST_F(EngineTest, Ipv6IsWidenedToTheConfiguredPrefix) {
  auto e = engine();
  auto r = e.add({pfx("2001:db8:5:6:7::9"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prefix, pfx("2001:db8:5:6::/64"));
  EXPECT_NE(run.scripts.back().find("ban6 { 2001:db8:5:6::/64 timeout"), std::string::npos);
  EXPECT_EQ(e.effective_prefix(pfx("2001:db8::/48")), pfx("2001:db8::/48"));   // wider stays
  EXPECT_EQ(e.effective_prefix(pfx("198.51.100.7")), pfx("198.51.100.7/32"));  // IPv4 as given
}

TEST_F(EngineTest, AllowListRefusalNeverReachesTheKernelAndIsLogged) {
  auto e = engine();
  auto r = e.add({pfx("192.0.2.0/24"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::refused);
  EXPECT_NE(r->message.find("192.0.2.1/32 (host address (eth0))"), std::string::npos) << r->message;
  EXPECT_TRUE(run.calls.empty());
  auto log = read_file(e.log_file());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("\"event\":\"refused\""), std::string::npos);
}

TEST_F(EngineTest, BrokenStateIsAnErrorNotAReset) {
  auto e = engine();
  ASSERT_TRUE(write_file_atomic(e.state_file(), "{\"version\":1,\"bans\":[{\"pre").ok());
  auto r = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(e.state_file().string()), std::string::npos);
  EXPECT_TRUE(run.scripts.empty());
  auto text = read_file(e.state_file());
  EXPECT_EQ(*text, "{\"version\":1,\"bans\":[{\"pre");  // left for the operator to inspect
}

TEST_F(EngineTest, OverlapsWithActiveBans) {
  run.kernel4 =
      R"({"nftables":[{"set":{"elem":[{"elem":{"val":{"prefix":{"addr":"203.0.113.0","len":24}},"timeout":60}},
                                               {"elem":{"val":"198.51.100.7","timeout":60}}]}}]})";
  auto e = engine();
  auto inside = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(inside->outcome, Outcome::already_covered);
  EXPECT_TRUE(run.scripts.empty());
  auto wider = e.add({pfx("198.51.100.0/24"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(wider.ok());
  EXPECT_EQ(wider->outcome, Outcome::banned);
  ASSERT_EQ(wider->replaced.size(), 1u);
  EXPECT_NE(run.scripts.back().find("delete element inet mailwarden_ban ban4 { 198.51.100.7/32 }"),
            std::string::npos);
}

TEST_F(EngineTest, DryRunChangesNothing) {
  auto e = engine();
  auto r = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", true}, allow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::dry_run);
  EXPECT_NE(r->message.find("add element"), std::string::npos);
  EXPECT_TRUE(run.scripts.empty());
  EXPECT_FALSE(std::filesystem::exists(e.state_file()));
}

TEST_F(EngineTest, NftFailureLeavesStateUntouched) {
  run.nft_fails = true;
  auto e = engine();
  auto r = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Could not process rule"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(e.state_file()));
}

TEST_F(EngineTest, DelAndFlush) {
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("198.51.100.7"), std::nullopt, "x", "", false}, allow).ok());
  EXPECT_FALSE(e.del(pfx("203.0.113.1")).ok());  // not in the (fake) kernel
  run.kernel4 = R"({"nftables":[{"set":{"elem":[{"elem":{"val":"198.51.100.7","timeout":60}}]}}]})";
  ASSERT_TRUE(e.del(pfx("198.51.100.7")).ok());
  EXPECT_EQ(run.scripts.back(), "delete element inet mailwarden_ban ban4 { 198.51.100.7/32 }\n");
  auto listed = e.list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE((*listed)[0].record.has_value());
  EXPECT_EQ((*listed)[0].record->reason, "x");
  ASSERT_TRUE(e.flush().ok());
  EXPECT_NE(run.scripts.back().find("flush set inet mailwarden_ban ban4"), std::string::npos);
  EXPECT_EQ(run.scripts.back().find("flush table"), std::string::npos);
}

}  // namespace
}  // namespace mw::ban
