// Look-ups on the analysis model.
#include "firewall/ruleset.hpp"

namespace mw::fw {

const Chain* Table::find(std::string_view chain) const {
  for (const auto& c : chains) {
    if (c.name == chain) return &c;
  }
  return nullptr;
}

}  // namespace mw::fw
