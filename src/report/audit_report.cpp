// JSON schema "mailwarden-audit/1" (stable: fields are only ever added):
// {
//   "schema": "mailwarden-audit/1",
//   "tool": "mailwarden 0.1.0",
//   "snapshot": "<directory>",                  "" when only --iis-config was audited
//   "collected_at": "2026-11-28T23:55:58Z",     from the snapshot's manifest; "" without one
//   "iis_config": "<file>",                     only with --iis-config
//   "score": {"percent": 0-100, "pass": n, "fail": n, "not_checked": n, "not_applicable": n},
//   "controls": [{
//     "id", "title", "severity" (critical|high|medium|low|info),
//     "status" (pass|fail|not_checked|not_applicable), "guides": [...],
//     "facts": [{"name", "value", "origin"}],   the facts the control read
//     "failing": [...],                           objects that fail (COS, domain, server...)
//     "detail", "rationale", "notes", "remediation" (commands, one per line; "" unless fail)
//   }, ...],                                      in catalog order
//   "baseline": {                               only with --baseline OLD.json
//     "file", "snapshot", "collected_at", "score_before",
//     "new_failures": [{"id", "before", "after"}],   fail now; before "" = not in the baseline
//     "fixed": [...], "changed": [...],              failed before, pass/not_applicable now; other
//     "facts": [{"id", "fact", "before", "after"}],  changed values ("(absent)" when none)
//     "removed": ["id", ...]                          controls the baseline had, not run now
//   }
// }
#include "report/audit_report.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

namespace mw::report {

namespace {

using audit::Severity;
using audit::Status;

constexpr const char* kReset = "\033[0m";

const char* severity_color(Severity s) {
  switch (s) {
    case Severity::critical:
      return "\033[1;31m";
    case Severity::high:
      return "\033[31m";
    case Severity::medium:
      return "\033[33m";
    case Severity::low:
      return "\033[36m";
    case Severity::info:
      return "\033[2m";
  }
  return "";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string indent(std::string_view text, std::string_view lead) {
  std::string out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    out += fmt::format("{}{}\n", lead, text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// What was audited: the snapshot, the IIS configuration, or both.
std::string audited(const AuditView& v) {
  if (v.iis_config.empty()) return v.snapshot;
  if (v.snapshot.empty()) return v.iis_config;
  return v.snapshot + " and " + v.iis_config;
}

bool is_new(const AuditView& v, const audit::ControlResult& r) {
  if (!v.baseline) return false;
  auto it = v.baseline->failure_state.find(r.control->id);
  return it != v.baseline->failure_state.end() && it->second == "new";
}

std::string change_line(const StatusChange& c) {
  return fmt::format("  {}: {} -> {}\n", c.id,
                     c.before.empty() ? "(not in the baseline)" : c.before, c.after);
}

std::string baseline_text(const BaselineDiff& d, int score_now) {
  std::string out = fmt::format("\nSINCE THE BASELINE {} ({}{})\n", d.file, d.snapshot,
                                d.collected_at.empty() ? "" : ", collected " + d.collected_at);
  out += fmt::format(
      "  score {} -> {}; {} new failure(s), {} fixed, {} other change(s), {} changed "
      "fact(s)\n",
      d.score_before, score_now, d.new_failures.size(), d.fixed.size(), d.changed.size(),
      d.facts.size());
  auto section = [&](std::string_view title, const std::vector<StatusChange>& list) {
    if (list.empty()) return;
    out += fmt::format(" {}:\n", title);
    for (const auto& c : list) out += "  " + change_line(c);
  };
  section("new failures", d.new_failures);
  section("fixed", d.fixed);
  section("other status changes", d.changed);
  if (!d.facts.empty()) {
    out += " changed facts:\n";
    for (const auto& f : d.facts)
      out += fmt::format("    {}: {}: {} -> {}\n", f.id, f.fact, f.before, f.after);
  }
  if (!d.removed.empty()) {
    out += " no longer run:\n";
    for (const auto& id : d.removed) out += fmt::format("    {}\n", id);
  }
  return out;
}

nlohmann::ordered_json baseline_json(const BaselineDiff& d) {
  using nlohmann::ordered_json;
  auto changes = [](const std::vector<StatusChange>& list) {
    ordered_json a = ordered_json::array();
    for (const auto& c : list)
      a.push_back({{"id", c.id}, {"before", c.before}, {"after", c.after}});
    return a;
  };
  ordered_json facts = ordered_json::array();
  for (const auto& f : d.facts)
    facts.push_back({{"id", f.id}, {"fact", f.fact}, {"before", f.before}, {"after", f.after}});
  return {{"file", d.file},
          {"snapshot", d.snapshot},
          {"collected_at", d.collected_at},
          {"score_before", d.score_before},
          {"new_failures", changes(d.new_failures)},
          {"fixed", changes(d.fixed)},
          {"changed", changes(d.changed)},
          {"facts", facts},
          {"removed", d.removed}};
}

}  // namespace

std::string render_audit_text(const AuditView& view, bool color) {
  const auto& results = *view.results;
  const auto& s = view.score;
  std::string out = fmt::format("mailwarden audit of {}\n", audited(view));
  out += fmt::format(
      "score {}/100 (severity-weighted pass / (pass + fail)): {} pass, {} fail; {} not checked, "
      "{} not applicable\n",
      s.percent, s.pass, s.fail, s.not_checked, s.not_applicable);
  if (!view.snapshot.empty())
    out +=
        "fix commands: zmprov, zmlocalconfig and zm*ctl as the zimbra user, the others as root\n";
  if (view.baseline) out += baseline_text(*view.baseline, s.percent);

  std::map<std::string, std::string> printed_fix;  // remediation -> the control that printed it
  for (int sev = 0; sev <= static_cast<int>(Severity::info); ++sev) {
    bool header = false;
    for (const auto& r : results) {
      if (r.status != Status::fail || static_cast<int>(r.control->severity) != sev) continue;
      if (!header) {
        out += fmt::format("\n{}{}{}\n", color ? severity_color(r.control->severity) : "",
                           upper(audit::severity_name(r.control->severity)), color ? kReset : "");
        header = true;
      }
      out += fmt::format("  FAIL {}: {}{}\n", r.control->id, r.control->title,
                         is_new(view, r) ? " [new since the baseline]" : "");
      out += indent(r.detail, "       ");
      if (!r.control->notes.empty()) out += indent("note: " + r.control->notes, "       ");
      if (!r.remediation.empty()) {
        // A long fix shared by several controls (the IIS script) is printed once.
        auto [it, first] = printed_fix.emplace(r.remediation, r.control->id);
        if (first || r.remediation.size() < 400) {
          out += "       fix:\n";
          out += indent(r.remediation, "         ");
        } else {
          out += fmt::format("       fix: the same commands as {} above\n", it->second);
        }
      }
    }
  }
  auto list = [&](Status st, std::string_view title, bool with_detail) {
    std::string body;
    int n = 0;
    for (const auto& r : results) {
      if (r.status != st) continue;
      ++n;
      body += with_detail ? fmt::format("  {}: {}\n", r.control->id, r.detail)
                          : fmt::format("  {}\n", r.control->id);
    }
    if (n > 0) out += fmt::format("\n{} ({})\n{}", title, n, body);
  };
  list(Status::not_checked, "NOT CHECKED", true);
  list(Status::not_applicable, "NOT APPLICABLE", true);
  list(Status::pass, "PASSED", false);
  return out;
}

std::string render_audit_json(const AuditView& view) {
  using nlohmann::ordered_json;
  const auto& results = *view.results;
  const auto& s = view.score;
  ordered_json controls = ordered_json::array();
  for (const auto& r : results) {
    ordered_json facts = ordered_json::array();
    for (const auto& f : r.facts) {
      facts.push_back({{"name", f.name}, {"value", f.value}, {"origin", f.origin}});
    }
    controls.push_back({{"id", r.control->id},
                        {"title", r.control->title},
                        {"severity", audit::severity_name(r.control->severity)},
                        {"status", audit::status_name(r.status)},
                        {"guides", r.control->guides},
                        {"facts", facts},
                        {"failing", r.failing},
                        {"detail", r.detail},
                        {"rationale", r.control->rationale},
                        {"notes", r.control->notes},
                        {"remediation", r.remediation}});
  }
  ordered_json doc = {{"schema", "mailwarden-audit/1"},
                      {"tool", view.tool},
                      {"snapshot", view.snapshot},
                      {"collected_at", view.manifest ? view.manifest->collected_at : ""},
                      {"score",
                       {{"percent", s.percent},
                        {"pass", s.pass},
                        {"fail", s.fail},
                        {"not_checked", s.not_checked},
                        {"not_applicable", s.not_applicable}}},
                      {"controls", controls}};
  if (!view.iis_config.empty()) doc["iis_config"] = view.iis_config;
  if (view.baseline) doc["baseline"] = baseline_json(*view.baseline);
  // Values come from the snapshot: bytes that are not UTF-8 are replaced, never thrown on.
  return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace mw::report
