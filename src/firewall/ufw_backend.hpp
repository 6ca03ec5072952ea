// ufw backend: application profiles, the ufw command script and before.rules fragments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "firewall/plan.hpp"

namespace mw {

// Fixed artefact names (for --out DIR).
inline constexpr std::string_view kUfwProfileFile = "mailwarden";  // /etc/ufw/applications.d/
inline constexpr std::string_view kUfwScriptFile = "mailwarden-ufw.sh";
inline constexpr std::string_view kUfwBeforeFragmentFile = "mailwarden-before.rules";
inline constexpr std::string_view kUfwBefore6FragmentFile = "mailwarden-before6.rules";

// ufw refuses a port list with more than 14 ',' and ':' separators (iptables' multiport
// limit): 15 slots, a single port takes one and a range ("lo:hi") two.
inline constexpr std::size_t kUfwMaxPortSlots = 15;

// One [section] of the profile file: ports of one protocol opened with one exposure class.
struct UfwProfile {
  std::string name;  // "mailwarden-public-tcp", "mailwarden-cluster-tcp-2"
  Exposure exposure = Exposure::public_;
  Protocol protocol = Protocol::tcp;
  PortSet ports;
};

// Slots `ports` takes in one ufw port list.
std::size_t ufw_port_slots(const PortSet& ports);

// ufw's port-list syntax: "25,465,587/tcp", ranges as "7071:7074".
std::string ufw_port_list(const PortSet& ports, Protocol proto);

// The profiles of a plan: per exposure class (public, admin, cluster) and protocol, split in
// ascending port order into chunks of at most kUfwMaxPortSlots. SSH is not in any profile (the
// script opens it with plain port rules, so that it never depends on the profile file).
std::vector<UfwProfile> ufw_profiles(const FirewallPlan& plan);

}  // namespace mw
