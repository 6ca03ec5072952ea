// iptables backend (being written).
#include "firewall/backends.hpp"

namespace mw {

Result<std::vector<Artefact>> render_iptables(const FirewallPlan&) {
  return Error{"--backend iptables: not implemented yet"};
}
Result<std::vector<Artefact>> render_ip6tables(const FirewallPlan&) {
  return Error{"--backend ip6tables: not implemented yet"};
}

}  // namespace mw
