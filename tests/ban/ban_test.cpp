// Unit tests of the ban engine: durations, the recidive catalog, the allow-list, the state
// file, the nft scripts and the iptables + ipset backend (its `ipset save` reader on real
// captured output), with fake command runners and a fake clock.
#include "ban/ban.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "ban/backend.hpp"
#include "core/atomic_file.hpp"
#include "fakes.hpp"

namespace mw::ban {
namespace {

Prefix pfx(const char* t) {
  auto p = parse_prefix(t);
  EXPECT_TRUE(p.ok()) << t;
  return *p;
}

using fakes::FakeRunner;
using fakes::TempDir;

TEST(Duration, ParsesUnitsAndRejectsTheRest) {
  EXPECT_EQ(parse_duration("90s")->count(), 90);
  EXPECT_EQ(parse_duration("15m")->count(), 900);
  EXPECT_EQ(parse_duration("1h")->count(), 3600);
  EXPECT_EQ(parse_duration("7d")->count(), 7 * 86400);
  EXPECT_EQ(parse_duration("2w")->count(), 14 * 86400);
  EXPECT_EQ(parse_duration("365d")->count(), 365 * 86400);
  // Core's parser: every error quotes the input and says where it went wrong.
  struct Bad {
    const char* text;
    const char* expect;
  } bad[] = {
      {"", "empty duration"},
      {"h", "'h': expected a number at position 1"},
      {"0h", "'0h': 0s is out of range 1s..365d"},
      {"-1h", "'-1h': expected a number at position 1"},
      {"+1h", "'+1h': expected a number at position 1"},
      {"1x", "'1x': unknown unit 'x' (s, m, h, d, w) at position 2"},
      {"1.5h", "'1.5h': unknown unit '.' (s, m, h, d, w) at position 2"},
      {"1 h", "'1 h': unknown unit ' ' (s, m, h, d, w) at position 2"},
      {"90", "'90': missing unit (s, m, h, d, w) at position 3"},
      {"1h30m", "'1h30m': expected one number and one unit at position 3"},
      {"500ms", "'500ms': unit 'ms' not accepted here"},
      {"400d", "'400d': 400d is out of range 1s..365d"},
      {"99999999999w", "'99999999999w': duration too large"},
      {"999999999999999999999s", "too large"},
  };
  for (const auto& b : bad) {
    auto r = parse_duration(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.error().message.find(b.expect), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(format_duration(Seconds(86400)), "1d");
  EXPECT_EQ(format_duration(Seconds(90)), "90s");
  EXPECT_EQ(format_duration(Seconds(14 * 86400)), "14d");
  EXPECT_EQ(format_duration(Seconds(0)), "0s");
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
      {"[recidive]\nsteps = [\"1h\", \"2q\"]\n",
       "b.toml:2:16: recidive.steps: '2q': unknown unit 'q' (s, m, h, d, w) at position 2"},
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
  std::string dup = serialize_state(BanState{{st.bans[0], st.bans[0]}, std::nullopt});
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

TEST(Nft, NeighbourDiscoveryPassesBeforeTheIpv6Drop) {
  const std::string s = nft_ensure_script();
  const auto nd = s.find(
      "add rule inet mailwarden_ban input icmpv6 type { nd-router-solicit, nd-router-advert, "
      "nd-neighbor-solicit, nd-neighbor-advert } accept\n");
  const auto drop6 = s.find("add rule inet mailwarden_ban input ip6 saddr @ban6 drop\n");
  ASSERT_NE(nd, std::string::npos) << s;
  ASSERT_NE(drop6, std::string::npos) << s;
  EXPECT_LT(nd, drop6) << s;
  EXPECT_LT(s.find("flush chain"), nd) << s;  // rewritten each time, never duplicated
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

TEST_F(EngineTest, AddAllWritesABurstAsOneTransactionAndOneSave) {
  auto e = engine();
  std::vector<BanRequest> reqs = {
      {pfx("203.0.113.9"), std::nullopt, "brute_force", "a@example.com", false},
      {pfx("192.0.2.1"), std::nullopt, "brute_force", "b@example.com", false},  // allow-listed
      {pfx("2001:db8:5:6::9"), std::nullopt, "password_spray", "", false},
      {pfx("198.51.100.7"), Seconds(120), "brute_force", "c@example.com", false},
  };
  auto rs = e.add_all(reqs, allow);
  ASSERT_EQ(rs.size(), 4u);
  for (auto& r : rs) ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(rs[0]->outcome, Outcome::banned);
  EXPECT_EQ(rs[1]->outcome, Outcome::refused);
  EXPECT_EQ(rs[2]->outcome, Outcome::banned);
  EXPECT_EQ(rs[2]->prefix, pfx("2001:db8:5:6::/64"));
  EXPECT_EQ(rs[3]->duration, Seconds(120));
  // One script for the three bans; one listing per family.
  ASSERT_EQ(run.scripts.size(), 1u);
  EXPECT_EQ(run.lists, 2u);
  for (const char* want :
       {"ban4 { 203.0.113.9/32 timeout 3600s comment \"brute_force; a@example.com; offence 1\"",
        "ban6 { 2001:db8:5:6::/64 timeout", "ban4 { 198.51.100.7/32 timeout 120s"})
    EXPECT_NE(run.scripts[0].find(want), std::string::npos) << want << "\n" << run.scripts[0];
  EXPECT_EQ(run.scripts[0].find("192.0.2.1"), std::string::npos);
  auto st = load_state(e.state_file());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->bans.size(), 3u);
  EXPECT_EQ(st->refused, 1u);
}

TEST_F(EngineTest, AddAllDecidesOverlapsAsSeparateCallsWould) {
  auto e = engine();
  // The same address twice in one burst: the second is its second offence, written after the
  // first, exactly as two add() calls.
  std::vector<BanRequest> reqs = {
      {pfx("203.0.113.9"), std::nullopt, "brute_force", "a@example.com", false},
      {pfx("203.0.113.9"), std::nullopt, "password_spray", "", false},
  };
  auto rs = e.add_all(reqs, allow);
  ASSERT_TRUE(rs[0].ok() && rs[1].ok());
  EXPECT_EQ(rs[0]->offence, 1u);
  EXPECT_EQ(rs[1]->offence, 2u);
  EXPECT_EQ(rs[1]->duration, Seconds(6 * 3600));
  EXPECT_EQ(run.scripts.size(), 2u);
  auto st = load_state(e.state_file());
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->bans.size(), 1u);
  EXPECT_EQ(st->bans[0].offences, 2u);
  EXPECT_EQ(st->bans[0].reason, "password_spray");
}

TEST_F(EngineTest, AddAllFailureFailsTheWholeTransactionAndKeepsTheState) {
  run.nft_fails = true;
  auto e = engine();
  auto rs = e.add_all({{pfx("203.0.113.9"), std::nullopt, "x", "", false},
                       {pfx("203.0.113.10"), std::nullopt, "x", "", false},
                       {pfx("203.0.113.11"), std::nullopt, "x", "", true}},  // dry run
                      allow);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_FALSE(rs[0].ok());
  EXPECT_FALSE(rs[1].ok());
  ASSERT_TRUE(rs[2].ok());
  EXPECT_EQ(rs[2]->outcome, Outcome::dry_run);
  EXPECT_FALSE(std::filesystem::exists(e.state_file()));
}

TEST_F(EngineTest, NoTableIsNoBansButAMissingNftIsAnError) {
  auto e = engine();
  run.list_fails = 1;
  run.list_err = "Error: No such file or directory\nlist set inet mailwarden_ban ban4\n";
  auto none = e.list();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
  // What `ip netns exec NS /wrong/nft` says: the same errno text, but not nft's answer.
  run.list_fails = 255;
  run.list_err = "exec of \"/wrong/nft\" failed: No such file or directory\n";
  auto missing = e.list();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/wrong/nft"), std::string::npos);
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

// ---- iptables + ipset ------------------------------------------------------------------------

std::string corpus(const char* file) {
  auto t = read_file(std::filesystem::path(MW_SOURCE_DIR) / "fuzz" / "corpus" / "ban_ipset" / file);
  EXPECT_TRUE(t.ok()) << file;
  return t.ok() ? *t : std::string();
}

TEST(Ipset, ParsesRealSaveOutput) {
  auto r = parse_ipset_save(corpus("all-sets.save"), "all-sets.save");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  const IpsetSet& b4 = (*r)[0];
  EXPECT_EQ(b4.name, "mailwarden-ban4");
  EXPECT_EQ(b4.type, "hash:net");
  EXPECT_EQ(b4.family, Family::v4);
  ASSERT_EQ(b4.members.size(), 5u);
  EXPECT_EQ(b4.members[0].prefix, pfx("198.51.100.10/32"));  // ipset prints /32 bare
  EXPECT_EQ(b4.members[0].expires, Seconds(3599));
  EXPECT_EQ(b4.members[0].timeout, std::nullopt);  // ipset keeps only the time left
  EXPECT_EQ(b4.members[0].comment, "brute force; bob@example.com; offence 1");
  EXPECT_EQ(b4.members[2].prefix, pfx("203.0.113.0/24"));
  EXPECT_EQ(b4.members[3].comment, "");
  EXPECT_EQ(b4.members[4].expires, std::nullopt);  // timeout 0: permanent
  const IpsetSet& b6 = (*r)[1];
  EXPECT_EQ(b6.family, Family::v6);
  ASSERT_EQ(b6.members.size(), 2u);
  EXPECT_EQ(b6.members[0].prefix, pfx("2001:db8:bad:2::/64"));
  EXPECT_EQ((*r)[2].type, "hash:ip");  // counters: packets/bytes are read and ignored
  EXPECT_EQ((*r)[3].members.size(), 2u);
  auto empty = parse_ipset_save(corpus("empty-ban4.save"), "e");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  ASSERT_EQ(empty->size(), 1u);
  EXPECT_TRUE((*empty)[0].members.empty());
}

TEST(Ipset, ErrorsNameLineAndColumn) {
  const std::string c4 = "create s hash:net family inet timeout 0 comment\n";
  const std::string c6 = "create s hash:net family inet6 timeout 0 comment\n";
  struct Case {
    std::string text;
    const char* expect;
  } cases[] = {
      {"flush s\n", "x:1:1: expected 'create' or 'add', got 'flush'"},
      {"\n", "x:1:1: empty line"},
      {"create s hash:net family inet\n\n", "x:2:1: empty line"},
      {"create s hash:net  family inet\n", "x:1:19: unexpected space"},
      {"create s hash:net family inet \n", "x:1:30: trailing space"},
      {"create s list:set\n", "x:1:10: set type 'list:set' not supported"},
      {"create s hash:net family ipx\n", "x:1:26: family: expected inet or inet6, got 'ipx'"},
      {"create s hash:net hashsize -1\n", "x:1:28: hashsize: expected a whole number"},
      {"create s hash:net timeout 99999999999\n", "x:1:27: timeout: expected a whole number up to"},
      {"create s hash:net initval 0xZZ\n", "x:1:27: initval"},
      {"create s hash:net frobnicate\n", "x:1:19: unknown create option 'frobnicate'"},
      {"create s hash:net comment comment\n", "x:1:27: create option 'comment' given twice"},
      {"create s hash:net\ncreate s hash:net\n", "x:2:8: set s created twice"},
      {"create " + std::string(40, 'n') + " hash:net\n", "x:1:8: bad set name"},
      {"add s 192.0.2.1\n", "x:1:5: add to set s before its create line"},
      {c4 + "add s 192.0.2.1/33\n", "x:2:7: "},
      {c4 + "add s 2001:db8::/64\n", "x:2:7: IPv6 address in IPv4 set s"},
      {c6 + "add s 192.0.2.1\n", "x:2:7: IPv4 address in IPv6 set s"},
      {c4 + "add s 192.0.2.1 timeout 2147484\n",
       "x:2:25: timeout: expected a whole number up to 2147483"},
      {c4 + "add s 192.0.2.1 timeout\n", "x:2:17: timeout: missing value"},
      {c4 + "add s 192.0.2.1 comment bare\n", "x:2:25: comment: expected a quoted string"},
      {c4 + "add s 192.0.2.1 comment \"open\n", "x:2:25: unterminated quoted string"},
      {c4 + "add s 192.0.2.1 comment \"a\"b\n", "x:2:28: expected a space after the quoted string"},
      {c4 + "add s 192.0.2.1 comment \"" + std::string(256, 'c') + "\"\n",
       "x:2:25: comment longer than 255"},
      {c4 + "add s 192.0.2.1 skbmark 0x1\n", "x:2:17: unknown element option 'skbmark'"},
      {c4 + "add s 192.0.2.1 timeout 5 timeout 6\n",
       "x:2:27: element option 'timeout' given twice"},
      {c4 + "add s 192.0.2.1\nadd s 192.0.2.1/32\n", "x:3:7: 192.0.2.1/32 listed twice in s"},
      {c4 + "add s 192.0.2.1\tx\n", "x:2:16: unexpected character '\\x09'"},
      {"create s hash:ip\nadd s 192.0.2.0/24\n", "x:2:7: a hash:ip set holds addresses"},
      {corpus("truncated.save"), "x:2:"},
  };
  for (const auto& c : cases) {
    auto r = parse_ipset_save(c.text, "x");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos)
        << c.text << "\n  -> " << r.error().message;
  }
}

TEST(Iptables, ChainRulesLetNeighbourDiscoveryThroughFirst) {
  const auto v4 = ban_chain_rules(Family::v4);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0], "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban4 src -j DROP");
  const auto v6 = ban_chain_rules(Family::v6);
  ASSERT_EQ(v6.size(), 5u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(
        v6[i],
        fmt::format("-A MAILWARDEN-BAN -p ipv6-icmp -m icmp6 --icmpv6-type {} -j RETURN", 133 + i));
  EXPECT_EQ(v6[4], "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban6 src -j DROP");
  const std::string sets = ipset_ensure_script();
  EXPECT_NE(sets.find("create mailwarden-ban4 hash:net family inet timeout 0 comment\n"),
            std::string::npos);
  EXPECT_NE(sets.find("create mailwarden-ban6 hash:net family inet6 timeout 0 comment\n"),
            std::string::npos);
}

TEST(Iptables, FixScriptIsIdempotentAndPutsTheJumpFirst) {
  const std::string head = "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n";
  // Nothing there yet: chain, rules and the jump at position 1.
  const std::string fresh = iptables_fix_script(Family::v4, head);
  EXPECT_EQ(fresh,
            "*filter\n:MAILWARDEN-BAN - [0:0]\n"
            "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban4 src -j DROP\n"
            "-I INPUT 1 -j MAILWARDEN-BAN\nCOMMIT\n");
  // Exactly right (as `iptables -S` prints it): nothing to do.
  const std::string good = head +
                           "-N MAILWARDEN-BAN\n-A INPUT -j MAILWARDEN-BAN\n"
                           "-A INPUT -p tcp -m tcp --dport 25 -j ACCEPT\n"
                           "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban4 src -j DROP\n";
  EXPECT_EQ(iptables_fix_script(Family::v4, good), "");
  // A policy rule inserted above the jump: the jump moves back to the top, once.
  const std::string below = head +
                            "-N MAILWARDEN-BAN\n-A INPUT -p tcp -m tcp --dport 25 -j ACCEPT\n"
                            "-A INPUT -j MAILWARDEN-BAN\n-A INPUT -j MAILWARDEN-BAN\n"
                            "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban4 src -j DROP\n";
  const std::string fix = iptables_fix_script(Family::v4, below);
  EXPECT_NE(fix.find("-D INPUT -j MAILWARDEN-BAN\n-D INPUT -j MAILWARDEN-BAN\n-I INPUT 1 -j "
                     "MAILWARDEN-BAN\n"),
            std::string::npos)
      << fix;
  // The IPv6 chain without its neighbour-discovery exception is rewritten, the jump kept.
  const std::string v6 = head +
                         "-N MAILWARDEN-BAN\n-A INPUT -j MAILWARDEN-BAN\n"
                         "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban6 src -j DROP\n";
  const std::string fix6 = iptables_fix_script(Family::v6, v6);
  EXPECT_NE(fix6.find("--icmpv6-type 135 -j RETURN\n"), std::string::npos) << fix6;
  EXPECT_EQ(fix6.find("INPUT"), std::string::npos) << fix6;
}

// A small model of ipset and iptables: elements per set with their timeout and comment, and
// the filter table's rules per family, updated by the commands the backend runs.
class FakeIptables final : public CommandRunner {
 public:
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> restores;  // stdin of ipset / iptables-restore runs
  bool nft_works = false;
  bool ipset_fails = false;
  std::map<std::string, std::map<std::string, std::pair<std::int64_t, std::string>>> sets;
  std::map<std::string, std::vector<std::string>> tables{{"iptables", {}}, {"ip6tables", {}}};

  Result<CommandOutput> run(const std::vector<std::string>& argv, const std::string& in) override {
    calls.push_back(argv);
    CommandOutput o;
    o.exit_code = 0;
    const std::string& cmd = argv.at(0);
    if (cmd == "ip") {
      o.out = "[]";
    } else if (cmd == "nft") {
      if (!nft_works) {
        o.exit_code = 1;
        o.err = "Error: Could not process rule: Operation not supported";
      }
    } else if (cmd == "ipset" && argv.at(1) == "save") {
      auto it = sets.find(argv.at(2));
      if (it == sets.end()) {
        o.exit_code = 1;
        o.err = "ipset v7.17: The set with the given name does not exist";
      } else {
        const bool v6 = argv[2] == "mailwarden-ban6";
        o.out = fmt::format(
            "create {} hash:net family {} hashsize 1024 maxelem 65536 timeout 0 "
            "comment bucketsize 12 initval 0x0bac93fb\n",
            argv[2], v6 ? "inet6" : "inet");
        for (const auto& [e, tc] : it->second)
          o.out +=
              fmt::format("add {} {} timeout {} comment \"{}\"\n", argv[2], e, tc.first, tc.second);
      }
    } else if (cmd == "ipset" && argv.at(1) == "-exist" && argv.at(2) == "restore") {
      restores.push_back(in);
      if (ipset_fails) {
        o.exit_code = 1;
        o.err = "ipset v7.17: Error in line 3: Kernel error received: Operation not permitted";
        return o;
      }
      std::istringstream lines(in);
      std::string op, set, elem, kw, comment;
      while (lines >> op >> set) {
        std::string rest;
        std::getline(lines, rest);
        std::istringstream r(rest);
        if (op == "create") {
          sets[set];
        } else if (op == "flush") {
          sets[set].clear();
        } else if (op == "del") {
          r >> elem;
          sets[set].erase(elem);
        } else if (op == "add") {
          std::int64_t t = 0;
          r >> elem >> kw >> t >> kw;
          std::getline(r, comment);
          sets[set][elem] = {t, comment.substr(2, comment.size() - 3)};
        }
      }
    } else if (cmd == "ipset" && argv.at(1) == "del") {
      if (!sets[argv.at(2)].erase(argv.at(3))) {
        o.exit_code = 1;
        o.err = "ipset v7.17: Element cannot be deleted from the set: it's not added";
      }
    } else if ((cmd == "iptables" || cmd == "ip6tables") && argv.at(2) == "-S") {
      o.out = "-P INPUT ACCEPT\n";
      for (const auto& r : tables[cmd]) o.out += r + "\n";
    } else if (cmd == "iptables-restore" || cmd == "ip6tables-restore") {
      restores.push_back(in);
      // Only what iptables_fix_script writes: the chain rewritten, the jump moved first.
      auto& t = tables[cmd.substr(0, cmd.size() - 8)];
      std::vector<std::string> kept;
      for (const auto& r : t)
        if (r.rfind("-A MAILWARDEN-BAN", 0) != 0 && r != "-A INPUT -j MAILWARDEN-BAN" &&
            r != "-N MAILWARDEN-BAN")
          kept.push_back(r);
      std::vector<std::string> chain;
      std::istringstream lines(in);
      std::string l;
      bool jump_inserted = false;
      while (std::getline(lines, l)) {
        if (l.rfind("-A MAILWARDEN-BAN", 0) == 0) chain.push_back(l);
        if (l == "-I INPUT 1 -j MAILWARDEN-BAN") jump_inserted = true;
      }
      std::vector<std::string> had_jump;
      for (const auto& r : t)
        if (r == "-A INPUT -j MAILWARDEN-BAN") had_jump.push_back(r);
      t = {"-N MAILWARDEN-BAN"};
      if (jump_inserted || !had_jump.empty()) t.push_back("-A INPUT -j MAILWARDEN-BAN");
      t.insert(t.end(), kept.begin(), kept.end());
      t.insert(t.end(), chain.begin(), chain.end());
    } else {
      o.exit_code = 127;
      o.err = cmd + ": not found";
    }
    return o;
  }
  std::size_t count(const std::string& cmd) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.at(0) == cmd;
    return n;
  }
};

class IptablesEngineTest : public testing::Test {
 protected:
  TempDir dir;
  FakeIptables run;
  FakeClock clock;
  AllowList allow{{{pfx("192.0.2.1/32"), "host address (eth0)"}}, {}};
  BanEngine engine(BackendChoice b = BackendChoice::iptables) {
    EngineOptions o;
    o.state_dir = dir.path;
    o.backend = b;
    return BanEngine(o, run, clock);
  }
};

TEST_F(IptablesEngineTest, AddCreatesSetsChainsAndTheElement) {
  auto e = engine();
  auto r =
      e.add({pfx("203.0.113.9"), std::nullopt, "brute force", "bob@example.com", false}, allow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->outcome, Outcome::banned);
  EXPECT_EQ(r->duration, Seconds(3600));
  ASSERT_EQ(run.restores.size(), 3u);  // ipset, iptables-restore, ip6tables-restore
  EXPECT_EQ(run.restores[0],
            ipset_ensure_script() +
                "add mailwarden-ban4 203.0.113.9/32 timeout 3600 comment \"brute force; "
                "bob@example.com; offence 1\"\n");
  EXPECT_NE(run.restores[1].find("-I INPUT 1 -j MAILWARDEN-BAN"), std::string::npos);
  EXPECT_NE(run.restores[2].find("--icmpv6-type 135 -j RETURN"), std::string::npos);
  EXPECT_EQ(run.count("nft"), 0u);
  // The second ban finds everything in place: one ipset run and two listings, no restore.
  clock.advance(std::chrono::hours(1));
  auto again =
      e.add({pfx("203.0.113.9"), std::nullopt, "brute force", "bob@example.com", false}, allow);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->duration, Seconds(6 * 3600));  // recidive, from the shared state
  EXPECT_EQ(run.restores.size(), 4u);
  EXPECT_EQ(run.count("iptables-restore"), 1u);
  EXPECT_EQ(run.sets["mailwarden-ban4"]["203.0.113.9/32"].first, 6 * 3600);
  EXPECT_EQ(run.sets["mailwarden-ban4"]["203.0.113.9/32"].second,
            "brute force; bob@example.com; offence 2");
  // Listing joins the kernel's elements with the state.
  run.sets["mailwarden-ban4"] = {
      {"203.0.113.9", {21599, "brute force; bob@example.com; offence 2"}}};
  auto listed = e.list();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kernel.expires, Seconds(21599));
  ASSERT_TRUE((*listed)[0].record.has_value());
  EXPECT_EQ((*listed)[0].record->offences, 2u);
}

TEST_F(IptablesEngineTest, PolicyRuleAboveTheJumpIsFixed) {
  run.tables["iptables"] = {"-N MAILWARDEN-BAN", "-A INPUT -p tcp -m tcp --dport 25 -j ACCEPT",
                            "-A INPUT -j MAILWARDEN-BAN",
                            "-A MAILWARDEN-BAN -m set --match-set mailwarden-ban4 src -j DROP"};
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow).ok());
  ASSERT_GE(run.restores.size(), 2u);
  EXPECT_NE(run.restores[1].find("-D INPUT -j MAILWARDEN-BAN\n-I INPUT 1 -j MAILWARDEN-BAN\n"),
            std::string::npos)
      << run.restores[1];
  EXPECT_EQ(run.tables["iptables"][1], "-A INPUT -j MAILWARDEN-BAN");
}

TEST_F(IptablesEngineTest, Ipv6WideningOverlapsAndDel) {
  auto e = engine();
  auto r = e.add({pfx("2001:db8:5:6:7::9"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->prefix, pfx("2001:db8:5:6::/64"));
  EXPECT_NE(run.restores[0].find("add mailwarden-ban6 2001:db8:5:6::/64 timeout 3600"),
            std::string::npos);
  // A narrower IPv4 ban is replaced by a wider one; a ban inside a wider one is covered.
  ASSERT_TRUE(e.add({pfx("198.51.100.7"), std::nullopt, "x", "", false}, allow).ok());
  auto wide = e.add({pfx("198.51.100.0/24"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(wide.ok());
  ASSERT_EQ(wide->replaced.size(), 1u);
  EXPECT_NE(run.restores.back().find("del mailwarden-ban4 198.51.100.7/32\n"), std::string::npos);
  EXPECT_EQ(run.sets["mailwarden-ban4"].count("198.51.100.7/32"), 0u);
  auto inside = e.add({pfx("198.51.100.9"), std::nullopt, "x", "", false}, allow);
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(inside->outcome, Outcome::already_covered);
  // del runs `ipset del`; a prefix not banned is an error before any change.
  EXPECT_FALSE(e.del(pfx("203.0.113.1")).ok());
  ASSERT_TRUE(e.del(pfx("2001:db8:5:6::1")).ok());
  EXPECT_EQ(run.calls.back(),
            (std::vector<std::string>{"ipset", "del", "mailwarden-ban6", "2001:db8:5:6::/64"}));
  EXPECT_TRUE(run.sets["mailwarden-ban6"].empty());
}

TEST_F(IptablesEngineTest, LongBansAreCappedToWhatIpsetAllows) {
  auto e = engine();
  auto r = e.add({pfx("203.0.113.9"), Seconds(30 * 86400), "x", "", false}, allow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->duration, kIpsetMaxTimeout);
  EXPECT_NE(r->message.find("30d is longer than the iptables backend allows"), std::string::npos)
      << r->message;
  EXPECT_NE(run.restores[0].find("timeout 2147483 comment"), std::string::npos);
  auto st = load_state(e.state_file());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->bans[0].expires - st->bans[0].last, kIpsetMaxTimeout.count());
}

TEST_F(IptablesEngineTest, FlushEmptiesBothSetsOnly) {
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow).ok());
  const auto rules = run.tables;
  ASSERT_TRUE(e.flush().ok());
  EXPECT_EQ(run.restores.back(),
            ipset_ensure_script() + "flush mailwarden-ban4\nflush mailwarden-ban6\n");
  EXPECT_TRUE(run.sets["mailwarden-ban4"].empty());
  EXPECT_EQ(run.tables, rules);  // chain and jump stay
}

TEST_F(IptablesEngineTest, DryRunDescribesAndChangesNothing) {
  auto e = engine();
  auto r = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", true}, allow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->outcome, Outcome::dry_run);
  EXPECT_NE(r->message.find("ipset -exist restore <<EOF\n"), std::string::npos) << r->message;
  EXPECT_NE(r->message.find("add mailwarden-ban4 203.0.113.9/32 timeout 3600"), std::string::npos);
  EXPECT_NE(r->message.find("ip6tables-restore -w --noflush"), std::string::npos);
  EXPECT_TRUE(run.restores.empty());
  EXPECT_FALSE(std::filesystem::exists(e.state_file()));
}

TEST_F(IptablesEngineTest, IpsetFailureLeavesStateUntouched) {
  run.ipset_fails = true;
  auto e = engine();
  auto r = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Operation not permitted"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(e.state_file()));
}

TEST_F(IptablesEngineTest, ForeignSetWithOurNameIsAnError) {
  auto e = engine();
  run.sets["mailwarden-ban4"];  // exists, but the fake lists it as family inet6 below
  run.sets["mailwarden-ban4"]["2001:db8::/64"] = {60, "x"};
  auto r = e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("`ipset save mailwarden-ban4`:2:"), std::string::npos)
      << r.error().message;
}

TEST_F(IptablesEngineTest, AutoPicksNftWhenItWorksElseIptables) {
  {
    auto e = engine(BackendChoice::automatic);
    auto name = e.backend_name();
    ASSERT_TRUE(name.ok());
    EXPECT_EQ(*name, "iptables");
    EXPECT_EQ(run.calls.front(), (std::vector<std::string>{"nft", "list", "tables"}));
  }
  run.nft_works = true;
  auto e = engine(BackendChoice::automatic);
  EXPECT_EQ(*e.backend_name(), "nft");
  EXPECT_EQ(*engine(BackendChoice::iptables).backend_name(), "iptables");
  EXPECT_EQ(parse_backend_choice("auto").value(), BackendChoice::automatic);
  auto bad = parse_backend_choice("pf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'pf': expected nft, iptables or auto"), std::string::npos);
}

TEST_F(IptablesEngineTest, RefusalsAreCountedInTheState) {
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("203.0.113.9"), std::nullopt, "x", "", false}, allow).ok());
  for (int i = 0; i < 2; ++i) {
    auto r = e.add({pfx("192.0.2.1"), std::nullopt, "x", "", false}, allow);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcome, Outcome::refused);
  }
  auto st = load_state(e.state_file());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->refused, 2u);
  EXPECT_EQ(st->added(), 1u);
  auto back = parse_state(serialize_state(*st), "bans.json");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->refused, 2u);
  EXPECT_EQ(parse_state(R"({"version":1,"bans":[]})", "b")->refused, std::nullopt);
  EXPECT_FALSE(parse_state(R"({"version":1,"bans":[],"refused":-1})", "b").ok());
}

}  // namespace
}  // namespace mw::ban
