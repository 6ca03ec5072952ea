// firewalld backend: renders a FirewallPlan as firewalld's own configuration files (service
// definitions, zone `mailwarden`, direct rules) and as the equivalent firewall-cmd script.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "firewall/artefact.hpp"
#include "firewall/plan.hpp"

namespace mw {

// Zone of the policy: made the default zone, so that every interface and source not bound to
// another zone lands in it. firewalld limits zone names to 17 characters.
inline constexpr const char* kFirewalldZone = "mailwarden";
inline constexpr const char* kFirewalldZoneFile = "mailwarden.xml";
inline constexpr const char* kFirewalldScript = "mailwarden-firewalld.sh";
inline constexpr const char* kFirewalldDirectFile = "direct.xml";
// Tag (iptables comment) of the direct rules the script owns: it removes them by this tag.
inline constexpr const char* kFirewalldDirectTag = "mailwarden-egress-smtp";

// One rule of firewalld's rich language (firewalld.richlanguage(5)), in the subset this backend
// writes: at most one source, destination and element, an optional log, an optional action.
struct FirewalldRichRule {
  enum class Element : std::uint8_t { none, service, port, protocol, icmp_type };
  enum class Action : std::uint8_t { none, accept, drop };

  int priority = 0;
  std::string family;       // "ipv4", "ipv6", or "" for both
  std::string source;       // "198.51.100.0/28" or ""
  std::string destination;  // "ff00::/8" or ""
  Element element = Element::none;
  std::string value;  // service name, port ("25", "10024-10032"), protocol value or ICMP type
  Protocol protocol = Protocol::tcp;  // of a port element
  std::string log_prefix;             // a log element when log_level is not empty
  std::string log_level;
  std::string log_limit;
  Action action = Action::none;
  std::string action_limit;  // "10/s", or "" for no limit
};

// The rule as firewall-cmd prints it and --add-rich-rule parses it, in the order firewalld
// itself writes the parts (priority, family, source, destination, element, log, action):
//   rule family="ipv4" source address="198.51.100.0/28" service name="mailwarden-admin-ssh" accept
std::string firewalld_rich_rule_text(const FirewalldRichRule& rule);

// "mailwarden-<class>-<name>": the service's name lower-cased, each run of characters other
// than a-z and 0-9 turned into one '-' ("prometheus node exporter" -> "prometheus-node-
// exporter"), at most 40 characters of it; "extra" when nothing is left.
std::string firewalld_service_name(Exposure exposure, std::string_view service);

// firewalld's limit syntax for the policy's rate ("5/minute" -> "5/m"). An Error for a rate
// firewalld refuses (it rejects 1/day as too slow) or one that is not N/second|minute|hour|day.
Result<std::string> firewalld_limit(std::string_view rate);

}  // namespace mw
