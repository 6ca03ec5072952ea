// The controls whose condition needs logic: named by `check = { kind = "custom", name = ... }`
// in catalog/controls/*.toml. A test checks that every name the catalog uses exists here.
#pragma once

#include "audit/engine.hpp"

namespace mw::audit {

// Every built-in check (the ones below and the network ones).
CustomChecks builtin_checks();
// The network exposure checks (network_checks.cpp): firewall via the ruleset analyser, and ss.
void add_network_checks(CustomChecks& checks);

}  // namespace mw::audit
