// Renderers of `mailwarden audit` results: text grouped by severity (colour on a terminal) and
// JSON with a stable, documented schema (docs in the header of audit_report.cpp). Both show the
// baseline diff when the view has one.
#pragma once

#include <string>
#include <vector>

#include "report/audit_view.hpp"

namespace mw::report {

std::string render_audit_text(const AuditView& view, bool color);
std::string render_audit_json(const AuditView& view);

}  // namespace mw::report
