// Shared by every firewall backend's e2e test: load a backend's rules in a fresh namespace
// pair and check, source by source and port by port, that the kernel does what the plan says.
#pragma once

#include <functional>
#include <string>

#include "catalog/ports.hpp"
#include "core/result.hpp"
#include "firewall/plan.hpp"
#include "harness/netns.hpp"

namespace mw::test {

// The kernel resolves `meta skuid "postfix"` / `-m owner --uid-owner postfix` when rules
// load; this machine may have no such user, so e2e tests name one every Debian system has.
// The golden tests keep the real name.
inline constexpr const char* kTestMtaUser = "nobody";

struct PlanUnderTest {
  FirewallPlan plan;
  PortCatalog catalog;
};

// Loads examples/<example> (for `node` of a multi-server policy) and makes its plan, with the
// egress user replaced by kTestMtaUser. Fails the current test (ADD_FAILURE) on error.
PlanUnderTest example_plan(const std::string& example, const std::string& node = "");

// Loads the rules into the server namespace of `pair` (e.g. `nft -f`, iptables-restore, ufw).
using RulesLoader = std::function<Status(NetnsPair& pair)>;

// Creates a namespace pair with an outside, an admin and a cluster source address (v4 and
// v6) on the client, loads the rules with `load`, starts listeners on every catalog port, the
// plan's ports and two unmentioned ones, probes them all from every source, and expects
// `open` exactly where plan.allowed_sources() contains the source and `dropped` elsewhere.
// Also checks that IPv6 neighbour discovery happened. `after_load`, if given, runs once the
// rules are in (to check foreign chains survived, for instance).
void expect_kernel_matches_plan(const PlanUnderTest& p, const RulesLoader& load,
                                const std::function<void(NetnsPair&)>& after_load = {});

}  // namespace mw::test
