// The Nagios rendering, after the Monitoring Plugins Development Guidelines: one line
// "SERVICE STATUS - text | perfdata", then long output (one failing control per line), exit code
// 0/1/2/3. Perfdata labels are quoted only when needed; every value carries min/max where known:
//   score=22;;;0;100 fail=46;;;0; pass=15;;;0; not_checked=13;;;0; not_applicable=1;;;0;
//   critical=7;;;0; high=12;;;0; medium=18;;;0; low=9;;;0; info=0;;;0;
//   [new_failures=2;;;0; fixed=1;;;0;]   with a baseline
#include "report/audit_nagios.hpp"

#include <fmt/format.h>

#include <array>

namespace mw::report {

namespace {

using audit::Severity;
using audit::Status;

std::string_view state_name(NagiosState s) {
  switch (s) {
    case NagiosState::ok:
      return "OK";
    case NagiosState::warning:
      return "WARNING";
    case NagiosState::critical:
      return "CRITICAL";
    case NagiosState::unknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

// Severity enum order: critical (0) is the worst, so "at least s" is "<= s".
bool at_least(Severity s, Severity threshold) {
  return static_cast<int>(s) <= static_cast<int>(threshold);
}

// The status line's text and the long output lines may not contain '|' (it starts perfdata)
// nor newlines (one line per entry).
std::string plugin_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '|') {
      out += '/';
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string nagios_unknown(std::string_view why) {
  return fmt::format("MAILWARDEN AUDIT UNKNOWN - {}\n", plugin_text(why));
}

NagiosOutput render_audit_nagios(const AuditView& view, const NagiosThresholds& t) {
  const auto& results = *view.results;
  std::array<int, 5> failing_by_severity{};
  // The failures that may alert: every failure, or with only_new the new ones.
  auto alerts = [&](const audit::ControlResult& r) {
    if (r.status != Status::fail) return false;
    if (!t.only_new || !view.baseline) return true;
    auto it = view.baseline->failure_state.find(r.control->id);
    return it != view.baseline->failure_state.end() && it->second == "new";
  };
  int crit = 0, warn = 0;
  for (const auto& r : results) {
    if (r.status != Status::fail) continue;
    ++failing_by_severity[static_cast<std::size_t>(r.control->severity)];
    if (!alerts(r)) continue;
    if (r.control->severity != Severity::info && at_least(r.control->severity, t.critical)) {
      ++crit;
    } else if (r.control->severity != Severity::info && at_least(r.control->severity, t.warning)) {
      ++warn;
    }
  }

  NagiosOutput out;
  out.state = crit > 0 ? NagiosState::critical : warn > 0 ? NagiosState::warning : NagiosState::ok;
  const auto& s = view.score;
  std::string text = fmt::format("MAILWARDEN AUDIT {} - score {}/100, {} failing",
                                 state_name(out.state), s.percent, s.fail);
  std::string by_sev;
  for (int i = 0; i <= static_cast<int>(Severity::info); ++i) {
    if (failing_by_severity[static_cast<std::size_t>(i)] == 0) continue;
    by_sev += fmt::format("{}{} {}", by_sev.empty() ? "" : ", ",
                          failing_by_severity[static_cast<std::size_t>(i)],
                          audit::severity_name(static_cast<Severity>(i)));
  }
  if (!by_sev.empty()) text += " (" + by_sev + ")";
  if (view.baseline) {
    text += fmt::format(", {} new and {} fixed since the baseline",
                        view.baseline->new_failures.size(), view.baseline->fixed.size());
  }
  if (s.not_checked > 0) text += fmt::format(", {} not checked", s.not_checked);
  if (!view.snapshot.empty()) text += ", snapshot " + view.snapshot;
  text = plugin_text(text);

  std::string perf = fmt::format(
      "score={};;;0;100 fail={};;;0; pass={};;;0; not_checked={};;;0; not_applicable={};;;0;",
      s.percent, s.fail, s.pass, s.not_checked, s.not_applicable);
  for (int i = 0; i <= static_cast<int>(Severity::info); ++i) {
    perf += fmt::format(" {}={};;;0;", audit::severity_name(static_cast<Severity>(i)),
                        failing_by_severity[static_cast<std::size_t>(i)]);
  }
  if (view.baseline) {
    perf += fmt::format(" new_failures={};;;0; fixed={};;;0;", view.baseline->new_failures.size(),
                        view.baseline->fixed.size());
  }
  out.text = text + " | " + perf + "\n";
  // Long output: the failing controls, worst first, the alerting ones marked.
  for (int i = 0; i <= static_cast<int>(Severity::info); ++i) {
    for (const auto& r : results) {
      if (r.status != Status::fail || static_cast<int>(r.control->severity) != i) continue;
      std::string mark;
      if (view.baseline) {
        auto it = view.baseline->failure_state.find(r.control->id);
        if (it != view.baseline->failure_state.end() && it->second == "new") mark = " [new]";
      }
      out.text += plugin_text(fmt::format("{} {}{}: {}", audit::severity_name(r.control->severity),
                                          r.control->id, mark, r.control->title)) +
                  "\n";
    }
  }
  return out;
}

}  // namespace mw::report
