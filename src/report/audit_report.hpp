// Renderers of `mailwarden audit` results: text grouped by severity (colour on a terminal) and
// JSON with a stable, documented schema (docs in the header of audit_report.cpp).
#pragma once

#include <string>
#include <vector>

#include "audit/engine.hpp"

namespace mw::report {

std::string render_audit_text(const std::vector<audit::ControlResult>& results,
                              const std::string& snapshot, bool color);
std::string render_audit_json(const std::vector<audit::ControlResult>& results,
                              const std::string& snapshot);

}  // namespace mw::report
