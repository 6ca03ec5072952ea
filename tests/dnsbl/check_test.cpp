// The check engine with a fake resolver: health checks, pacing, and the rule that a timeout or an
// error is never reported as clean.
#include "dnsbl/check.hpp"

#include <gtest/gtest.h>

#include <map>

namespace mw::dnsbl {
namespace {

Address addr(std::string_view s) {
  auto a = parse_address(s);
  EXPECT_TRUE(a.ok()) << s;
  return *a;
}

// Answers from a table; anything not in it times out (the safe default to test against).
class FakeResolver final : public Resolver {
 public:
  std::map<std::string, DnsAnswer> answers;
  std::vector<Lookup> seen;
  std::vector<DnsAnswer> resolve(std::span<const Lookup> lookups) override {
    std::vector<DnsAnswer> out;
    for (const auto& l : lookups) {
      seen.push_back(l);
      auto it = answers.find(l.name + (l.type == QueryType::txt ? "/txt" : ""));
      out.push_back(it != answers.end() ? it->second : DnsAnswer{Rcode::timeout, {}, {}, {}});
    }
    return out;
  }
  void listed(const std::string& name, std::uint32_t code) {
    answers[name] = {Rcode::noerror, {code}, {}, {}};
  }
  void clean(const std::string& name) { answers[name] = {Rcode::nxdomain, {}, {}, {}}; }
};

DnsblList list(std::string id, bool v6 = false) {
  DnsblList l;
  l.id = id;
  l.zone = id + ".test";
  l.ipv6 = v6;
  l.test_ipv4 = addr("127.0.0.2");
  if (v6) l.test_ipv6 = addr("::ffff:7f00:2");
  l.codes = {{0x7f000002, 0x7f000002, CodeClass::listed, "spam"},
             {0x7ffffffe, 0x7ffffffe, CodeClass::refused, "public resolver"}};
  return l;
}

// A healthy list: test entry listed, 127.0.0.1 not.
void healthy(FakeResolver& r, const DnsblList& l) {
  r.listed("2.0.0.127." + l.zone, 0x7f000002);
  r.clean("1.0.0.127." + l.zone);
}

TEST(Check, ListedCleanAndTimeoutNeverClean) {
  const auto a = list("a"), b = list("b");
  FakeResolver r;
  healthy(r, a);
  healthy(r, b);
  r.listed("1.2.0.192.a.test", 0x7f000002);
  // 192.0.2.1 on b: no entry in the fake: a timeout.
  r.clean("2.2.0.192.a.test");
  r.clean("2.2.0.192.b.test");
  CheckRequest req{{addr("192.0.2.1"), addr("192.0.2.2")}, {&a, &b}, false, true};
  const auto rep = run_check(req, r);
  ASSERT_EQ(rep.addresses.size(), 2u);
  EXPECT_EQ(rep.addresses[0].results[0].decoded.verdict, Verdict::listed);
  EXPECT_EQ(rep.addresses[0].results[1].decoded.verdict, Verdict::timeout);
  EXPECT_FALSE(rep.addresses[0].results[1].counts_clean());
  EXPECT_TRUE(rep.addresses[0].results[1].counts_unknown());
  EXPECT_EQ(rep.addresses[1].results[0].decoded.verdict, Verdict::not_listed);
  EXPECT_EQ(rep.listed, 1u);
  EXPECT_EQ(rep.clean, 2u);
  EXPECT_EQ(rep.unknown, 1u);
  EXPECT_EQ(rep.health[0].health, Health::ok);
  EXPECT_EQ(rep.queries, 4u + 4u);
}

TEST(Check, EveryFailureIsUnknownNeverClean) {
  const auto a = list("a");
  for (Rcode rc : {Rcode::timeout, Rcode::error, Rcode::servfail, Rcode::refused}) {
    FakeResolver r;
    healthy(r, a);
    r.answers["1.2.0.192.a.test"] = {rc, {}, {}, "x"};
    const auto rep = run_check({{addr("192.0.2.1")}, {&a}, false, true}, r);
    EXPECT_EQ(rep.clean, 0u) << name_of(rc);
    EXPECT_EQ(rep.unknown, 1u) << name_of(rc);
    EXPECT_TRUE(is_unknown(rep.addresses[0].results[0].decoded.verdict)) << name_of(rc);
  }
}

TEST(Check, HealthCheckFailureMakesCleanUnknown) {
  const auto a = list("a");
  FakeResolver r;
  r.clean("2.0.0.127.a.test");  // the test entry is not listed: the zone is empty or gone
  r.clean("1.0.0.127.a.test");
  r.clean("1.2.0.192.a.test");
  const auto rep = run_check({{addr("192.0.2.1")}, {&a}, false, true}, r);
  EXPECT_EQ(rep.health[0].health, Health::unreliable);
  EXPECT_FALSE(rep.addresses[0].results[0].reliable);
  EXPECT_EQ(rep.clean, 0u);
  EXPECT_EQ(rep.unknown, 1u);
}

TEST(Check, WildcardListIsUnreliable) {
  const auto a = list("a");
  FakeResolver r;
  r.listed("2.0.0.127.a.test", 0x7f000002);
  r.listed("1.0.0.127.a.test", 0x7f000002);  // lists 127.0.0.1: lists everything
  r.listed("1.2.0.192.a.test", 0x7f000002);
  const auto rep = run_check({{addr("192.0.2.1")}, {&a}, false, true}, r);
  EXPECT_EQ(rep.health[0].health, Health::unreliable);
  EXPECT_EQ(rep.listed, 0u);
  EXPECT_EQ(rep.unknown, 1u);
}

TEST(Check, RefusingListIsRefusedNotClean) {
  const auto a = list("a");
  FakeResolver r;
  for (const char* n : {"2.0.0.127.a.test", "1.0.0.127.a.test", "1.2.0.192.a.test"})
    r.listed(n, 0x7ffffffe);
  const auto rep = run_check({{addr("192.0.2.1")}, {&a}, false, true}, r);
  EXPECT_EQ(rep.health[0].health, Health::refused);
  EXPECT_EQ(rep.addresses[0].results[0].decoded.verdict, Verdict::refused);
  EXPECT_EQ(rep.addresses[0].results[0].decoded.detail, "public resolver");
  EXPECT_EQ(rep.unknown, 1u);
  EXPECT_EQ(rep.clean + rep.listed, 0u);
}

TEST(Check, Ipv6OnlyWhereSupportedAndClosedNeverQueried) {
  const auto v4only = list("four"), both = list("both", true);
  auto closed = list("closed");
  closed.status = ListStatus::closed;
  FakeResolver r;
  healthy(r, v4only);
  healthy(r, both);
  r.listed(query_name(addr("::ffff:7f00:2"), both.zone), 0x7f000002);
  r.clean(query_name(addr("::1"), both.zone));
  r.clean(query_name(addr("2001:db8::1"), both.zone));
  const auto rep = run_check({{addr("2001:db8::1")}, {&v4only, &both, &closed}, false, true}, r);
  const auto& res = rep.addresses[0].results;
  EXPECT_EQ(res[0].decoded.verdict, Verdict::skipped);
  EXPECT_EQ(res[1].decoded.verdict, Verdict::not_listed);
  EXPECT_EQ(res[2].decoded.verdict, Verdict::skipped);
  EXPECT_EQ(rep.health[1].health, Health::ok);
  for (const auto& l : r.seen) {
    EXPECT_EQ(l.name.find("closed.test"), std::string::npos) << l.name;
    // IPv6-only run: no IPv4 health queries at all.
    EXPECT_EQ(l.name.find("2.0.0.127."), std::string::npos) << l.name;
  }
}

TEST(Check, PacedPerList) {
  auto a = list("a");
  a.rate = 4;  // 250 ms apart
  auto b = list("b");
  b.rate = 0;  // unlimited
  FakeResolver r;
  std::vector<Address> ips;
  for (int i = 1; i <= 3; ++i) ips.push_back(Address{Family::v4, 0xc0000200u + i});
  const auto rep = run_check({ips, {&a, &b}, false, true}, r);
  std::vector<std::int64_t> at_a, at_b;
  for (const auto& l : r.seen)
    (l.name.ends_with(".a.test") ? at_a : at_b).push_back(l.not_before.count());
  EXPECT_EQ(at_a, (std::vector<std::int64_t>{0, 250, 500, 750, 1000}));
  EXPECT_EQ(at_b, (std::vector<std::int64_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(rep.queries, 10u);
}

TEST(Check, ReasonsFetchedForListingsOnly) {
  const auto a = list("a");
  FakeResolver r;
  healthy(r, a);
  r.listed("1.2.0.192.a.test", 0x7f000002);
  r.answers["1.2.0.192.a.test/txt"] = {Rcode::noerror, {}, {"spam trap hit"}, {}};
  r.clean("2.2.0.192.a.test");
  const auto rep = run_check({{addr("192.0.2.1"), addr("192.0.2.2")}, {&a}, true, true}, r);
  ASSERT_EQ(rep.addresses[0].results[0].reasons.size(), 1u);
  EXPECT_EQ(rep.addresses[0].results[0].reasons[0], "spam trap hit");
  std::size_t txt = 0;
  for (const auto& l : r.seen) txt += l.type == QueryType::txt;
  EXPECT_EQ(txt, 1u);
}

}  // namespace
}  // namespace mw::dnsbl
