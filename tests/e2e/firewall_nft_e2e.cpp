// The generated nftables firewall, loaded in a network namespace, does exactly what the
// policy says: every catalog port probed from an admin, a cluster and an outside address,
// IPv4 and IPv6.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>

#include "firewall/nft_backend.hpp"
#include "firewall/plan.hpp"
#include "harness/netns.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

using test::ProbeOutcome;

// The kernel resolves `meta skuid "zimbra"` when the ruleset loads; this machine has no such
// user, so the e2e tests name one every Debian system has. The golden tests keep the real name.
constexpr const char* kTestMtaUser = "nobody";

struct Source {
  std::string label;  // "admin v4"
  Address address;
};

Address host_in(const Prefix& p) {
  Address a = p.addr;
  // Not the network address itself when the prefix has room: a plain host address.
  if (p.len < family_bits(a.family) - 1) a.value += 1;
  return a;
}

Address addr(const char* text) {
  return *parse_address(text);
}

class NftE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  }

  FirewallPlan plan_for(const std::string& example, const std::string& node = "") {
    auto loaded = load_policy(std::string(MW_SOURCE_DIR) + "/examples/" + example);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    auto site = policy_for_node(loaded->policy, node);
    EXPECT_TRUE(site.ok()) << site.error().message;
    auto plan = make_plan(*site, loaded->catalog);
    EXPECT_TRUE(plan.ok()) << plan.error().message;
    catalog_ = loaded->catalog;
    if (plan->egress_smtp_restricted) plan->egress_mta_user = kTestMtaUser;
    return *plan;
  }

  // Sources: one address of each kind the plan distinguishes, IPv4 and IPv6.
  std::vector<Source> sources_for(const FirewallPlan& plan) {
    std::vector<Source> out = {{"outside v4", addr("203.0.113.200")},
                               {"outside v6", addr("2001:db8:ffff::200")}};
    for (Family f : {Family::v4, Family::v6}) {
      const char* fam = f == Family::v4 ? "v4" : "v6";
      if (auto ps = plan.admin.to_prefixes(f); !ps.empty()) {
        out.push_back({fmt::format("admin {}", fam), host_in(ps.front())});
      }
      if (auto ps = plan.cluster.to_prefixes(f); !ps.empty()) {
        out.push_back({fmt::format("cluster {}", fam), host_in(ps.back())});
      }
    }
    for (const auto& s : out) {
      if (s.label.rfind("outside", 0) == 0) {
        EXPECT_FALSE(plan.admin.contains(s.address) || plan.cluster.contains(s.address))
            << "test address " << to_string(s.address) << " must be outside every trusted set";
      }
    }
    return out;
  }

  // Every port of the catalog, the policy's own ports, and two ports nobody mentions.
  std::set<std::pair<Protocol, std::uint16_t>> ports_for(const FirewallPlan& plan) {
    std::set<std::pair<Protocol, std::uint16_t>> ports;
    for (const auto& f : catalog_.ports) ports.insert({f.protocol, f.port});
    for (const auto& o : plan.openings) ports.insert({o.protocol, o.port});
    ports.insert({Protocol::tcp, 12345});
    ports.insert({Protocol::udp, 12345});
    return ports;
  }

  // Loads the plan's ruleset in a fresh namespace pair and checks every (source, port) pair
  // against plan.allowed_sources().
  void expect_kernel_matches_plan(const FirewallPlan& plan) {
    std::string ruleset = render_nft(plan).at(0).content;

    test::NetnsOptions opts;
    opts.server_addresses = {test::interface_address("192.0.2.1/24"),
                             test::interface_address("2001:db8:5::1/64")};
    opts.client_addresses = {test::interface_address("192.0.2.2/24"),
                             test::interface_address("2001:db8:5::2/64")};
    auto sources = sources_for(plan);
    for (const auto& s : sources) {
      opts.client_addresses.push_back({s.address, family_bits(s.address.family)});
    }
    auto pair = test::NetnsPair::create(opts);
    ASSERT_TRUE(pair.ok()) << pair.error().message;
    auto& ns = **pair;

    auto check = ns.exec(ns.server(), {"nft", "-c", "-f", "-"}, [&] {
      CommandOptions o;
      o.stdin_data = ruleset;
      return o;
    }());
    ASSERT_TRUE(check.ok()) << check.error().message;
    ASSERT_TRUE(check->success()) << "nft -c refused the ruleset:\n" << check->err << ruleset;
    auto loaded = ns.load_nft(ruleset);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;

    auto ports = ports_for(plan);
    std::vector<std::pair<Protocol, std::uint16_t>> port_list(ports.begin(), ports.end());
    auto listeners = test::Listeners::start(ns.server(), port_list);
    ASSERT_TRUE(listeners.ok()) << listeners.error().message;

    std::vector<test::Probe> probes;
    std::vector<std::string> labels;
    std::vector<ProbeOutcome> expected;
    for (const auto& s : sources) {
      Address target = s.address.family == Family::v4 ? addr("192.0.2.1") : addr("2001:db8:5::1");
      for (auto [proto, port] : port_list) {
        probes.push_back({s.address, target, proto, port});
        labels.push_back(fmt::format("{}/{} from {} ({})", port, protocol_name(proto), s.label,
                                     to_string(s.address)));
        bool allowed = plan.allowed_sources(proto, port).contains(s.address);
        expected.push_back(allowed ? ProbeOutcome::open : ProbeOutcome::dropped);
      }
    }
    auto got = test::probe_all(ns.client(), probes, std::chrono::milliseconds(2500));
    ASSERT_EQ(got.size(), probes.size());
    int open = 0;
    for (std::size_t i = 0; i < probes.size(); ++i) {
      EXPECT_EQ(test::probe_outcome_name(got[i]), test::probe_outcome_name(expected[i]))
          << labels[i];
      open += got[i] == ProbeOutcome::open;
    }
    // Public ports answered over IPv6 with no static neighbour entry: neighbour discovery
    // passed the firewall both ways.
    EXPECT_GT(open, 0);
    auto neigh = ns.exec(ns.server(), {"ip", "-6", "neigh", "show"});
    ASSERT_TRUE(neigh.ok());
    EXPECT_NE(neigh->out.find("2001:db8:ffff::200"), std::string::npos)
        << "no IPv6 neighbour learnt:\n"
        << neigh->out;
    probes_run_ += static_cast<int>(probes.size());
  }

  PortCatalog catalog_;
  int probes_run_ = 0;
};

TEST_F(NftE2E, ZimbraSingleServer) {
  auto plan = plan_for("zimbra-single.toml");
  // The example's choices, so that the kernel check below covers each kind of port.
  ASSERT_TRUE(plan.allowed_sources(Protocol::tcp, 25).contains(addr("203.0.113.200")));
  ASSERT_FALSE(plan.allowed_sources(Protocol::tcp, 9071).empty());
  ASSERT_TRUE(plan.allowed_sources(Protocol::tcp, 389).empty());
  ASSERT_TRUE(plan.allowed_sources(Protocol::udp, 11211).empty());
  expect_kernel_matches_plan(plan);
}

TEST_F(NftE2E, ZimbraMultiServerNodes) {
  for (const char* node :
       {"mta1.example.com", "proxy1.example.com", "mbox1.example.com", "ldap1.example.com"}) {
    SCOPED_TRACE(node);
    auto plan = plan_for("zimbra-multi.toml", node);
    expect_kernel_matches_plan(plan);
  }
}

TEST_F(NftE2E, PostfixDovecot) {
  expect_kernel_matches_plan(plan_for("postfix-dovecot.toml"));
}

// Outbound SMTP is refused to every user but the MTA's.
TEST_F(NftE2E, EgressSmtpOnlyFromTheMtaUser) {
  auto plan = plan_for("zimbra-single.toml");
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
  auto plan = plan_for("zimbra-single.toml");
  std::string ruleset = render_nft(plan).at(0).content;
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
