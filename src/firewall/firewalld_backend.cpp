// firewalld backend (being written).
#include "firewall/backends.hpp"

namespace mw {

Result<std::vector<Artefact>> render_firewalld(const FirewallPlan&) {
  return Error{"--backend firewalld: not implemented yet"};
}

}  // namespace mw
