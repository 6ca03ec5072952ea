// The generated nftables firewall, loaded in a network namespace, does exactly what the
// policy says: every catalog port probed from an admin, a cluster and an outside address,
// IPv4 and IPv6.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>

#include "e2e/exposure_check.hpp"
#include "firewall/nft_backend.hpp"
#include "firewall/plan.hpp"
#include "harness/netns.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

using test::example_plan;
using test::kTestMtaUser;

Address addr(const char* text) {
  return *parse_address(text);
}

// nft -c first (the kernel's own validation), then the real load.
Status load_nft_checked(test::NetnsPair& ns, const std::string& ruleset) {
  CommandOptions o;
  o.stdin_data = ruleset;
  auto check = ns.exec(ns.server(), {"nft", "-c", "-f", "-"}, o);
  if (!check.ok()) return check.error();
  if (!check->success()) return Error{"nft -c refused the ruleset:\n" + check->err + ruleset};
  return ns.load_nft(ruleset);
}

void expect_nft_matches_plan(const test::PlanUnderTest& p) {
  std::string ruleset = render_nft(p.plan).at(0).content;
  test::expect_kernel_matches_plan(
      p, [&](test::NetnsPair& ns) { return load_nft_checked(ns, ruleset); });
}

class NftE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(NftE2E, ZimbraSingleServer) {
  auto p = example_plan("zimbra-single.toml");
  // The example's choices, so that the kernel check below covers each kind of port.
  ASSERT_TRUE(p.plan.allowed_sources(Protocol::tcp, 25).contains(addr("203.0.113.200")));
  ASSERT_FALSE(p.plan.allowed_sources(Protocol::tcp, 9071).empty());
  ASSERT_TRUE(p.plan.allowed_sources(Protocol::tcp, 389).empty());
  ASSERT_TRUE(p.plan.allowed_sources(Protocol::udp, 11211).empty());
  expect_nft_matches_plan(p);
}

TEST_F(NftE2E, ZimbraMultiServerNodes) {
  for (const char* node :
       {"mta1.example.com", "proxy1.example.com", "mbox1.example.com", "ldap1.example.com"}) {
    SCOPED_TRACE(node);
    expect_nft_matches_plan(example_plan("zimbra-multi.toml", node));
  }
}

TEST_F(NftE2E, PostfixDovecot) {
  expect_nft_matches_plan(example_plan("postfix-dovecot.toml"));
}

// Outbound SMTP is refused to every user but the MTA's.
TEST_F(NftE2E, EgressSmtpOnlyFromTheMtaUser) {
  auto plan = example_plan("zimbra-single.toml").plan;
  ASSERT_TRUE(plan.egress_smtp_restricted);
  test::NetnsOptions opts;
  auto pair = test::NetnsPair::create(opts);
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;
  ASSERT_TRUE(ns.load_nft(render_nft(plan).at(0).content).ok());
  auto listeners = test::Listeners::start(ns.client(), {{Protocol::tcp, 25}, {Protocol::tcp, 587}});
  ASSERT_TRUE(listeners.ok()) << listeners.error().message;
  // Connect from the server namespace as a given user with bash's /dev/tcp.
  auto connect_as = [&](const char* user, int port) {
    return ns.exec(ns.server(),
                   {"setpriv", fmt::format("--reuid={}", user), "--regid=nogroup", "--clear-groups",
                    "bash", "-c", fmt::format("exec 3<>/dev/tcp/192.0.2.2/{}", port)});
  };
  auto as_root = ns.exec(ns.server(), {"bash", "-c", "exec 3<>/dev/tcp/192.0.2.2/25"});
  ASSERT_TRUE(as_root.ok());
  EXPECT_FALSE(as_root->success()) << "root reached tcp/25 outbound";
  auto as_mta = connect_as(kTestMtaUser, 25);
  ASSERT_TRUE(as_mta.ok());
  EXPECT_TRUE(as_mta->success()) << "the MTA user could not send: " << as_mta->err;
  auto submission = ns.exec(ns.server(), {"bash", "-c", "exec 3<>/dev/tcp/192.0.2.2/587"});
  ASSERT_TRUE(submission.ok());
  EXPECT_TRUE(submission->success()) << "only tcp/25 is restricted: " << submission->err;
}

// The load replaces only table inet mailwarden: another table (fail2ban's, Docker's, a ban
// table) survives, and loading twice is the same as loading once.
TEST_F(NftE2E, LoadTouchesOnlyItsOwnTable) {
  std::string ruleset = render_nft(example_plan("zimbra-single.toml").plan).at(0).content;
  auto pair = test::NetnsPair::create({});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;
  ASSERT_TRUE(ns.load_nft("table inet f2b-table {\n set addr-set-sshd { type ipv4_addr; "
                          "elements = { 203.0.113.9 } }\n}\n")
                  .ok());
  ASSERT_TRUE(ns.load_nft(ruleset).ok());
  auto first = ns.exec(ns.server(), {"nft", "list", "table", "inet", "mailwarden"});
  ASSERT_TRUE(ns.load_nft(ruleset).ok());
  auto second = ns.exec(ns.server(), {"nft", "list", "table", "inet", "mailwarden"});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->out, second->out);
  // A ruleset that fails half-way changes nothing: nft -f is one transaction.
  std::string broken = ruleset;
  broken.insert(broken.rfind("counter drop"), "tcp dport 7 bogus-verdict\n\t\t");
  EXPECT_FALSE(ns.load_nft(broken).ok());
  auto third = ns.exec(ns.server(), {"nft", "list", "table", "inet", "mailwarden"});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(first->out, third->out);
  auto all = ns.exec(ns.server(), {"nft", "list", "tables"});
  ASSERT_TRUE(all.ok());
  EXPECT_NE(all->out.find("table inet f2b-table"), std::string::npos) << all->out;
  EXPECT_NE(all->out.find("table inet mailwarden"), std::string::npos) << all->out;
  auto f2b = ns.exec(ns.server(), {"nft", "list", "set", "inet", "f2b-table", "addr-set-sshd"});
  ASSERT_TRUE(f2b.ok());
  EXPECT_NE(f2b->out.find("203.0.113.9"), std::string::npos) << f2b->out;
}

}  // namespace
}  // namespace mw
