// FirewallPlan: the backend-neutral result of (site policy x port catalog): for every port
// this host serves, who may open a connection to it. Every backend renders a plan; the e2e
// tests and the analyser compare what the kernel does with what the plan says.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/ports.hpp"
#include "core/address_set.hpp"
#include "core/port_set.hpp"
#include "policy/policy.hpp"

namespace mw {

struct PortOpening {
  Protocol protocol = Protocol::tcp;
  std::uint16_t port = 0;
  Exposure exposure = Exposure::public_;  // public, admin or cluster (loopback is never opened)
  std::string service;
  std::string why;  // catalog source or "policy extra port (site.toml:31:1)"
};

// A port that listens here but stays closed to the outside, with the reason (loopback class,
// feature switched off, admin-console mode). Printed in generated files as documentation.
struct ClosedPort {
  Protocol protocol = Protocol::tcp;
  std::uint16_t port = 0;
  std::string service;
  std::string why;
};

struct FirewallPlan {
  std::string policy_source;
  std::string product;
  std::string hostname;
  Topology topology = Topology::single;
  std::vector<std::string> roles;
  AddressSet admin;    // admin networks
  AddressSet cluster;  // cluster networks
  // The installation's own servers: [host] addresses of a single server, or every node's.
  std::vector<Prefix> server_addresses;
  std::vector<PortOpening> openings;  // sorted by (protocol, port, exposure)
  std::vector<ClosedPort> closed;     // sorted by (protocol, port)
  PortSet never_udp;                  // udp ports dropped explicitly before anything (11211)
  PortSet never_tcp;
  bool log_drops = true;
  std::string log_rate;
  std::string log_prefix;
  bool egress_smtp_restricted = false;
  std::string egress_mta_user;
  std::vector<std::string> notes;  // operator instructions (admin-console recipe, zmproxyconfig)
  std::string iis_site;            // Exchange: the IIS site whose /ecp is restricted
  bool iis_proxy_mode = false;     // Exchange: a load balancer in front (X-Forwarded-For)

  // The ports of one protocol opened with one exposure class.
  PortSet ports(Protocol proto, Exposure e) const;
  // Who may open a NEW connection to (proto, port) from outside: the union of the sources of
  // its classes (public = every address). Empty for a closed port.
  AddressSet allowed_sources(Protocol proto, std::uint16_t port) const;
};

Result<FirewallPlan> make_plan(const SitePolicy& policy, const PortCatalog& catalog);

}  // namespace mw
