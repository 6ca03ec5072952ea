// `mailwarden audit --format html`: one self-contained HTML file (no network request, no
// external font or script): summary and score, findings by severity with rationale and
// remediation (copy buttons), the exposure matrix as a table and a picture, the baseline diff
// and the snapshot's manifest. Readable printed and on a phone.
#pragma once

#include <string>

#include "report/audit_view.hpp"

namespace mw::report {

std::string render_audit_html(const AuditView& view);

}  // namespace mw::report
