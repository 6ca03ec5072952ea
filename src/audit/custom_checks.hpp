// The controls whose condition needs logic: named by `check = { kind = "custom", name = ... }`
// in catalog/controls/*.toml. A test checks that every name the catalog uses exists here.
#pragma once

#include "audit/engine.hpp"

namespace mw::audit {

CustomChecks builtin_checks();

}  // namespace mw::audit
