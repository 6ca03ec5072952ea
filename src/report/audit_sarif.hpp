// `mailwarden audit --format sarif`: SARIF 2.1.0, one rule per control, one result per control
// run, locations pointing into the snapshot files, baselineState with --baseline.
#pragma once

#include <string>

#include "report/audit_view.hpp"

namespace mw::report {

std::string render_audit_sarif(const AuditView& view);

}  // namespace mw::report
