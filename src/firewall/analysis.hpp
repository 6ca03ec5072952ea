// `firewall analyze`: the exposure matrix of a host's ruleset over a list of ports, and, given
// the site's FirewallPlan, every port more exposed than the plan allows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/ports.hpp"
#include "firewall/exposure.hpp"
#include "firewall/plan.hpp"

namespace mw::fw {

struct PortQuery {
  Protocol protocol = Protocol::tcp;
  std::uint16_t port = 0;
  std::string service;  // from the catalog, or ""
};

// Where the packets arrive, when the operator knows it (--iface, --to).
struct ArrivalContext {
  std::optional<std::string> iface;
  std::optional<Address> to_v4;
  std::optional<Address> to_v6;
};

struct PortExposure {
  PortQuery port;
  ExposureResult v4;
  ExposureResult v6;
};

enum class Severity : std::uint8_t { critical, high, medium };
std::string_view severity_name(Severity s);

struct Finding {
  Severity severity = Severity::high;
  PortQuery port;
  Family family = Family::v4;
  AddressSet extra;     // sources that reach the port although the plan does not allow them
  std::string allowed;  // who the plan allows, in words
  std::string message;  // one line for the operator
  std::vector<std::string> rules;  // the rules that accept the extra sources
};

struct AnalysisReport {
  std::vector<PortExposure> ports;
  std::vector<Finding> findings;  // empty without a plan
  bool uncertain = false;         // some answer is uncertain
};

// The ports to analyse by default: every port of the catalog.
std::vector<PortQuery> catalog_ports(const PortCatalog& catalog);

// "25", "25/tcp", "161/udp", "10024-10032/tcp" separated by commas; names come from the catalog.
Result<std::vector<PortQuery>> parse_port_queries(std::string_view text,
                                                  const PortCatalog* catalog);

Query make_query(Family f, const PortQuery& p, const ArrivalContext& ctx);

AnalysisReport analyse_ports(const Ruleset& ruleset, const std::vector<PortQuery>& ports,
                             const ArrivalContext& ctx, const FirewallPlan* plan);

}  // namespace mw::fw
