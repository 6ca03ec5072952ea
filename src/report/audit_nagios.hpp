// `mailwarden audit --format nagios`: one status line with perfdata, and the exit code a
// monitoring plugin gives (Nagios plugin guidelines): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
#pragma once

#include <string>

#include "audit/controls.hpp"
#include "report/audit_view.hpp"

namespace mw::report {

// The state is CRITICAL when a failing control's severity is at least `critical`, else WARNING
// when one is at least `warning`, else OK. Defaults: a high or critical failure is CRITICAL, a
// medium or low one WARNING, info never alerts. With a baseline, `only_new` alerts on the
// failures that are new since it (the others still show in the perfdata).
struct NagiosThresholds {
  audit::Severity warning = audit::Severity::low;
  audit::Severity critical = audit::Severity::high;
  bool only_new = false;
};

enum class NagiosState : int { ok = 0, warning = 1, critical = 2, unknown = 3 };

struct NagiosOutput {
  NagiosState state = NagiosState::unknown;
  std::string text;  // the status line, perfdata after '|', then the failing controls, one per line
};

NagiosOutput render_audit_nagios(const AuditView& view, const NagiosThresholds& thresholds);

// "MAILWARDEN AUDIT UNKNOWN - <why>": when the audit cannot run.
std::string nagios_unknown(std::string_view why);

}  // namespace mw::report
