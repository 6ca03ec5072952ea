// iis backend (being written).
#include "firewall/backends.hpp"

namespace mw {

Result<std::vector<Artefact>> render_iis(const FirewallPlan&) {
  return Error{"--backend iis: not implemented yet"};
}

}  // namespace mw
