// ufw backend (being written).
#include "firewall/backends.hpp"

namespace mw {

Result<std::vector<Artefact>> render_ufw(const FirewallPlan&) {
  return Error{"--backend ufw: not implemented yet"};
}

}  // namespace mw
