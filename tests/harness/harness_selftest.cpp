// Self-test of the netns harness: namespaces come and go, probes tell open / rejected / dropped.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness/netns.hpp"

namespace mw::test {
namespace {

constexpr auto kDeadline = std::chrono::milliseconds(1500);

Address addr(std::string_view text) {
  return interface_address(text).address;
}

std::string netns_list() {
  auto r = run_command({"ip", "netns", "list"});
  return r ? r->out : "";
}

bool listed(const std::string& name) {
  std::string list = "\n" + netns_list();
  return list.find("\n" + name + " ") != std::string::npos ||
         list.find("\n" + name + "\n") != std::string::npos;
}

// Runs the probes and checks each outcome, naming the probe and the reason on a mismatch.
void expect_outcomes(const std::string& ns,
                     const std::vector<std::pair<Probe, ProbeOutcome>>& cases,
                     std::chrono::milliseconds deadline = kDeadline) {
  std::vector<Probe> probes;
  for (const auto& c : cases) probes.push_back(c.first);
  std::vector<std::string> details;
  auto got = probe_all(ns, probes, deadline, &details);
  ASSERT_EQ(got.size(), cases.size());
  ASSERT_EQ(details.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(probe_outcome_name(got[i]), probe_outcome_name(cases[i].second))
        << to_string(cases[i].first) << " (" << details[i] << ")";
  }
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    NetnsOptions o;
    o.client_addresses.push_back(interface_address("198.51.100.10/32"));
    o.client_addresses.push_back(interface_address("203.0.113.10/32"));
    o.client_addresses.push_back(interface_address("2001:db8:ad::10/128"));
    auto p = NetnsPair::create(o);
    ASSERT_TRUE(p.ok()) << p.error().message;
    pair_ = std::move(*p);
  }
  Probe tcp(std::string_view from, std::string_view to, std::uint16_t port) {
    return {addr(from), addr(to), Protocol::tcp, port};
  }
  Probe udp(std::string_view from, std::string_view to, std::uint16_t port) {
    return {addr(from), addr(to), Protocol::udp, port};
  }
  std::unique_ptr<NetnsPair> pair_;
};

TEST(NetnsPairLifecycle, CreateAndDestroyLeavesNoNamespace) {
  if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  std::string server, client;
  {
    auto p = NetnsPair::create();
    ASSERT_TRUE(p.ok()) << p.error().message;
    server = (*p)->server();
    client = (*p)->client();
    EXPECT_NE(server, client);
    EXPECT_TRUE(listed(server)) << netns_list();
    EXPECT_TRUE(listed(client)) << netns_list();
    // Both names carry our pid, which is what the sweep relies on.
    EXPECT_NE(server.find("-" + std::to_string(::getpid()) + "-"), std::string::npos);
    // The sysctls were written inside the namespaces.
    auto dad = (*p)->exec(server, {"cat", "/proc/sys/net/ipv6/conf/all/accept_dad"});
    ASSERT_TRUE(dad.ok()) << dad.error().message;
    EXPECT_EQ(dad->out, "0\n");
  }
  EXPECT_FALSE(listed(server)) << netns_list();
  EXPECT_FALSE(listed(client)) << netns_list();
}

TEST(NetnsPairLifecycle, TwoPairsHaveDistinctNames) {
  if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  auto a = NetnsPair::create();
  auto b = NetnsPair::create();
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_NE((*a)->server(), (*b)->server());
  EXPECT_NE((*a)->client(), (*b)->client());
}

TEST(NetnsPairLifecycle, FailedCreationCleansUp) {
  if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  NetnsOptions o;
  o.prefix = "mwtfail";
  // Two identical server addresses: the second `ip address add` fails after both
  // namespaces and the veth exist.
  o.server_addresses.push_back(o.server_addresses.front());
  auto p = NetnsPair::create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("address"), std::string::npos) << p.error().message;
  EXPECT_EQ(netns_list().find("mwtfail-" + std::to_string(::getpid()) + "-"), std::string::npos)
      << netns_list();
}

TEST(NetnsPairLifecycle, BadPrefixForAddClientAddress) {
  if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  auto p = NetnsPair::create();
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto net = parse_prefix("198.51.100.0/24");
  ASSERT_TRUE(net.ok());
  EXPECT_FALSE((*p)->add_client_address(*net).ok());
}

TEST_F(NetnsTest, OpenAndRejectedWithoutRuleset) {
  auto l = Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::udp, 53}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  using O = ProbeOutcome;
  expect_outcomes(pair_->client(), {
                                       {tcp("192.0.2.2", "192.0.2.1", 25), O::open},
                                       {tcp("2001:db8::2", "2001:db8::1", 25), O::open},
                                       {udp("192.0.2.2", "192.0.2.1", 53), O::open},
                                       {udp("2001:db8::2", "2001:db8::1", 53), O::open},
                                       {tcp("198.51.100.10", "192.0.2.1", 25), O::open},
                                       {udp("2001:db8:ad::10", "2001:db8::1", 53), O::open},
                                       {tcp("192.0.2.2", "192.0.2.1", 26), O::rejected},
                                       {tcp("2001:db8::2", "2001:db8::1", 26), O::rejected},
                                       {udp("192.0.2.2", "192.0.2.1", 54), O::rejected},
                                       {udp("2001:db8::2", "2001:db8::1", 54), O::rejected},
                                   });
  EXPECT_GE((*l)->tcp_accepted(), 3u);
  EXPECT_GE((*l)->udp_echoed(), 3u);
  // Neighbour discovery happened for real: nothing static in either namespace.
  for (const auto& ns : {pair_->server(), pair_->client()}) {
    auto neigh = pair_->exec(ns, {"ip", "neigh", "show", "nud", "permanent"});
    ASSERT_TRUE(neigh.ok()) << neigh.error().message;
    EXPECT_EQ(neigh->out, "") << ns;
  }
}

TEST_F(NetnsTest, NftDropAndRejectThenReset) {
  auto l = Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::tcp, 26}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  Status s = pair_->load_nft(R"(
table inet mwt_selftest {
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 203.0.113.10 tcp dport 25 drop
    tcp dport 26 reject with tcp reset
  }
}
)");
  ASSERT_TRUE(s.ok()) << s.error().message;
  using O = ProbeOutcome;
  expect_outcomes(pair_->client(), {
                                       {tcp("203.0.113.10", "192.0.2.1", 25), O::dropped},
                                       {tcp("192.0.2.2", "192.0.2.1", 25), O::open},
                                       {tcp("198.51.100.10", "192.0.2.1", 25), O::open},
                                       {tcp("2001:db8::2", "2001:db8::1", 25), O::open},
                                       {tcp("192.0.2.2", "192.0.2.1", 26), O::rejected},
                                       {tcp("203.0.113.10", "192.0.2.1", 26), O::rejected},
                                       {tcp("2001:db8::2", "2001:db8::1", 26), O::rejected},
                                   });

  ASSERT_TRUE(pair_->reset().ok());
  auto rules = pair_->exec(pair_->server(), {"nft", "list", "ruleset"});
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->out, "");
  expect_outcomes(pair_->client(), {
                                       {tcp("203.0.113.10", "192.0.2.1", 25), O::open},
                                       {tcp("192.0.2.2", "192.0.2.1", 26), O::open},
                                   });
}

TEST_F(NetnsTest, IcmpRejectVariantsAreRejected) {
  auto l = Listeners::start(pair_->server(), {{Protocol::udp, 53}, {Protocol::tcp, 25}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  Status s = pair_->load_nft(R"(
table inet mwt_selftest {
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 198.51.100.10 reject with icmp host-unreachable
    ip saddr 203.0.113.10 reject with icmp admin-prohibited
    ip6 saddr 2001:db8:ad::10 meta l4proto { tcp, udp } reject with icmpv6 admin-prohibited
  }
}
)");
  // The IPv6 rule names the protocols: rejecting everything from the source would also
  // reject its neighbour advertisements, and the ICMPv6 errors could not be delivered.
  ASSERT_TRUE(s.ok()) << s.error().message;
  using O = ProbeOutcome;
  expect_outcomes(pair_->client(),
                  {
                      {udp("198.51.100.10", "192.0.2.1", 53), O::rejected},
                      {tcp("198.51.100.10", "192.0.2.1", 25), O::rejected},
                      {udp("203.0.113.10", "192.0.2.1", 53), O::rejected},
                      {tcp("203.0.113.10", "192.0.2.1", 25), O::rejected},
                      {udp("2001:db8:ad::10", "2001:db8::1", 53), O::rejected},
                      {tcp("2001:db8:ad::10", "2001:db8::1", 25), O::rejected},
                      {udp("192.0.2.2", "192.0.2.1", 53), O::open},
                  },
                  // Shorter than TCP's first SYN retransmission (1 s): the rejection must
                  // come from the first ICMP error, not from a retry.
                  std::chrono::milliseconds(800));
}

TEST_F(NetnsTest, LoadNftErrorCarriesStderr) {
  Status s = pair_->load_nft("table inet t { chain c { this is not nft } }\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("Error"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(pair_->server()), std::string::npos) << s.error().message;
}

TEST_F(NetnsTest, ManyProbesUnderOneDeadline) {
  auto l = Listeners::start(
      pair_->server(),
      {{Protocol::tcp, 25}, {Protocol::tcp, 587}, {Protocol::udp, 53}, {Protocol::tcp, 27}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  Status s = pair_->load_nft(R"(
table inet mwt_selftest {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 27 drop
    tcp dport 28 reject
    udp dport 55 drop
  }
}
)");
  ASSERT_TRUE(s.ok()) << s.error().message;
  using O = ProbeOutcome;
  const std::vector<std::pair<std::string, std::string>> paths = {
      {"192.0.2.2", "192.0.2.1"},
      {"2001:db8::2", "2001:db8::1"},
      {"198.51.100.10", "192.0.2.1"},
      {"2001:db8:ad::10", "2001:db8::1"},
  };
  std::vector<std::pair<Probe, ProbeOutcome>> cases;
  for (int round = 0; round < 5; ++round) {
    for (const auto& [from, to] : paths) {
      cases.push_back({tcp(from, to, 25), O::open});
      cases.push_back({tcp(from, to, 587), O::open});
      cases.push_back({tcp(from, to, 26), O::rejected});
      cases.push_back({tcp(from, to, 27), O::dropped});
      cases.push_back({udp(from, to, 53), O::open});
      cases.push_back({udp(from, to, 54), O::rejected});
      cases.push_back({udp(from, to, 55), O::dropped});
      cases.push_back({udp(from, to, 56), O::rejected});
      cases.push_back({tcp(from, to, 2525), O::rejected});
      cases.push_back({tcp(from, to, 28), O::rejected});
    }
  }
  ASSERT_EQ(cases.size(), 200u);
  // One shared deadline: the run takes about one timeout, not 200.
  expect_outcomes(pair_->client(), cases);
}

TEST_F(NetnsTest, AddClientAddressLater) {
  auto l = Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::udp, 53}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  using O = ProbeOutcome;
  // Not yet in the client namespace: the probe cannot be made.
  expect_outcomes(pair_->client(), {{tcp("198.51.100.77", "192.0.2.1", 25), O::error}});
  auto host = parse_prefix("198.51.100.77");
  ASSERT_TRUE(host.ok());
  ASSERT_TRUE(pair_->add_client_address(*host).ok());
  Status s6 = pair_->add_client_address(interface_address("2001:db8:beef::7/128"));
  ASSERT_TRUE(s6.ok()) << s6.error().message;
  Status s4 = pair_->add_client_address(interface_address("192.0.2.99/24"));
  ASSERT_TRUE(s4.ok()) << s4.error().message;
  expect_outcomes(pair_->client(), {
                                       {tcp("198.51.100.77", "192.0.2.1", 25), O::open},
                                       {udp("198.51.100.77", "192.0.2.1", 53), O::open},
                                       {tcp("2001:db8:beef::7", "2001:db8::1", 25), O::open},
                                       {udp("2001:db8:beef::7", "2001:db8::1", 53), O::open},
                                       {tcp("192.0.2.99", "192.0.2.1", 25), O::open},
                                   });
}

TEST_F(NetnsTest, AddServerAddressLater) {
  auto l = Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::udp, 53}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  Status s4 = pair_->add_server_address(interface_address("203.0.113.1/24"));
  ASSERT_TRUE(s4.ok()) << s4.error().message;
  Status s6 = pair_->add_server_address(interface_address("2001:db8:5::1/64"));
  ASSERT_TRUE(s6.ok()) << s6.error().message;
  using O = ProbeOutcome;
  // With two addresses per family on the server, UDP echoes must leave from the address the
  // probe was sent to, or the client's connected socket would ignore them.
  expect_outcomes(pair_->client(), {
                                       {tcp("192.0.2.2", "203.0.113.1", 25), O::open},
                                       {udp("192.0.2.2", "203.0.113.1", 53), O::open},
                                       {udp("192.0.2.2", "192.0.2.1", 53), O::open},
                                       {tcp("2001:db8::2", "2001:db8:5::1", 25), O::open},
                                       {udp("2001:db8::2", "2001:db8:5::1", 53), O::open},
                                       {udp("2001:db8::2", "2001:db8::1", 53), O::open},
                                   });
}

TEST(NetnsSweep, DeletesOnlyNamespacesOfDeadProcesses) {
  if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // now a pid that no process has
  const std::string dead = "mwtsweep-" + std::to_string(child) + "-0-srv";
  const std::string alive = "mwtsweep-" + std::to_string(::getppid()) + "-0-srv";
  const std::string foreign = "mwtsweep-notapid";
  for (const auto& n : {dead, alive, foreign}) {
    auto r = run_command({"ip", "netns", "add", n});
    ASSERT_TRUE(r.ok() && r->success()) << n;
  }
  EXPECT_EQ(sweep_leftover_namespaces("mwtsweep"), 1);
  EXPECT_FALSE(listed(dead)) << netns_list();
  EXPECT_TRUE(listed(alive)) << netns_list();
  EXPECT_TRUE(listed(foreign)) << netns_list();
  for (const auto& n : {dead, alive, foreign}) (void)run_command({"ip", "netns", "delete", n});
  EXPECT_EQ(netns_list().find("mwtsweep-"), std::string::npos) << netns_list();
}

TEST(ProbeOutcomeName, Names) {
  EXPECT_EQ(probe_outcome_name(ProbeOutcome::open), "open");
  EXPECT_EQ(probe_outcome_name(ProbeOutcome::rejected), "rejected");
  EXPECT_EQ(probe_outcome_name(ProbeOutcome::dropped), "dropped");
  EXPECT_EQ(probe_outcome_name(ProbeOutcome::error), "error");
}

TEST(InterfaceAddressParse, KeepsHostBits) {
  auto a = parse_interface_address("192.0.2.1/24");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(to_string(*a), "192.0.2.1/24");
  auto b = parse_interface_address("2001:db8::1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(to_string(*b), "2001:db8::1/128");
  EXPECT_FALSE(parse_interface_address("192.0.2.1/33").ok());
  EXPECT_FALSE(parse_interface_address("192.0.2.1/").ok());
  EXPECT_FALSE(parse_interface_address("192.0.2.1/024").ok());
  EXPECT_FALSE(parse_interface_address("nonsense/24").ok());
}

}  // namespace
}  // namespace mw::test
