// Source x port exposure check of a loaded firewall against its FirewallPlan.
#include "e2e/exposure_check.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "policy/policy.hpp"

namespace mw::test {

namespace {

struct Source {
  std::string label;  // "admin v4"
  Address address;
};

Address addr(const char* text) {
  return *parse_address(text);
}

Address host_in(const Prefix& p) {
  Address a = p.addr;
  // Not the network address itself when the prefix has room: a plain host address.
  if (p.len < family_bits(a.family) - 1) a.value += 1;
  return a;
}

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

std::vector<std::pair<Protocol, std::uint16_t>> ports_for(const PlanUnderTest& p) {
  std::set<std::pair<Protocol, std::uint16_t>> ports;
  for (const auto& f : p.catalog.ports) ports.insert({f.protocol, f.port});
  for (const auto& o : p.plan.openings) ports.insert({o.protocol, o.port});
  ports.insert({Protocol::tcp, 12345});
  ports.insert({Protocol::udp, 12345});
  return {ports.begin(), ports.end()};
}

}  // namespace

PlanUnderTest example_plan(const std::string& example, const std::string& node) {
  PlanUnderTest out;
  auto loaded = load_policy(std::string(MW_SOURCE_DIR) + "/examples/" + example);
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.error().message;
    return out;
  }
  auto site = policy_for_node(loaded->policy, node);
  if (!site.ok()) {
    ADD_FAILURE() << site.error().message;
    return out;
  }
  auto plan = make_plan(*site, loaded->catalog);
  if (!plan.ok()) {
    ADD_FAILURE() << plan.error().message;
    return out;
  }
  out.catalog = loaded->catalog;
  out.plan = *plan;
  if (out.plan.egress_smtp_restricted) out.plan.egress_mta_user = kTestMtaUser;
  return out;
}

void expect_kernel_matches_plan(const PlanUnderTest& p, const RulesLoader& load,
                                const std::function<void(NetnsPair&)>& after_load) {
  const FirewallPlan& plan = p.plan;
  NetnsOptions opts;
  opts.server_addresses = {interface_address("192.0.2.1/24"),
                           interface_address("2001:db8:5::1/64")};
  opts.client_addresses = {interface_address("192.0.2.2/24"),
                           interface_address("2001:db8:5::2/64")};
  auto sources = sources_for(plan);
  for (const auto& s : sources) {
    opts.client_addresses.push_back({s.address, family_bits(s.address.family)});
  }
  auto pair = NetnsPair::create(opts);
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;

  auto loaded = load(ns);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  if (after_load) after_load(ns);

  auto port_list = ports_for(p);
  auto listeners = Listeners::start(ns.server(), port_list);
  ASSERT_TRUE(listeners.ok()) << listeners.error().message;

  std::vector<Probe> probes;
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
  std::vector<std::string> details;
  auto got = probe_all(ns.client(), probes, std::chrono::milliseconds(2500), &details);
  ASSERT_EQ(got.size(), probes.size());
  int open = 0;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(probe_outcome_name(got[i]), probe_outcome_name(expected[i]))
        << labels[i] << (details[i].empty() ? "" : ": " + details[i]);
    open += got[i] == ProbeOutcome::open;
  }
  EXPECT_GT(open, 0);
  // Public ports answered over IPv6 with no static neighbour entry: neighbour discovery
  // passed the firewall both ways.
  auto neigh = ns.exec(ns.server(), {"ip", "-6", "neigh", "show"});
  ASSERT_TRUE(neigh.ok());
  EXPECT_NE(neigh->out.find("2001:db8:ffff::200"), std::string::npos)
      << "no IPv6 neighbour learnt:\n"
      << neigh->out;
}

}  // namespace mw::test
