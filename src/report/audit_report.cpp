// JSON schema "mailwarden-audit/1" (stable: fields are only ever added):
// {
//   "schema": "mailwarden-audit/1",
//   "snapshot": "<directory>",
//   "score": {"percent": 0-100, "pass": n, "fail": n, "not_checked": n, "not_applicable": n},
//   "controls": [{
//     "id", "title", "severity" (critical|high|medium|low|info),
//     "status" (pass|fail|not_checked|not_applicable), "guides": [...],
//     "facts": [{"name", "value", "origin"}],   the facts the control read
//     "failing": [...],                           objects that fail (COS, domain, server...)
//     "detail", "rationale", "notes", "remediation" (commands, one per line; "" unless fail)
//   }, ...]                                       in catalog order
// }
#include "report/audit_report.hpp"

#include <fmt/format.h>

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

}  // namespace

std::string render_audit_text(const std::vector<audit::ControlResult>& results,
                              const std::string& snapshot, bool color) {
  auto s = audit::score(results);
  std::string out = fmt::format("mailwarden audit of {}\n", snapshot);
  out += fmt::format(
      "score {}/100 (severity-weighted pass / (pass + fail)): {} pass, {} fail; {} not checked, "
      "{} not applicable\n",
      s.percent, s.pass, s.fail, s.not_checked, s.not_applicable);
  out += "fix commands: zmprov, zmlocalconfig and zm*ctl as the zimbra user, the others as root\n";

  for (int sev = 0; sev <= static_cast<int>(Severity::info); ++sev) {
    bool header = false;
    for (const auto& r : results) {
      if (r.status != Status::fail || static_cast<int>(r.control->severity) != sev) continue;
      if (!header) {
        out += fmt::format("\n{}{}{}\n", color ? severity_color(r.control->severity) : "",
                           upper(audit::severity_name(r.control->severity)), color ? kReset : "");
        header = true;
      }
      out += fmt::format("  FAIL {}: {}\n", r.control->id, r.control->title);
      out += indent(r.detail, "       ");
      if (!r.control->notes.empty()) out += indent("note: " + r.control->notes, "       ");
      if (!r.remediation.empty()) {
        out += "       fix:\n";
        out += indent(r.remediation, "         ");
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

std::string render_audit_json(const std::vector<audit::ControlResult>& results,
                              const std::string& snapshot) {
  using nlohmann::ordered_json;
  auto s = audit::score(results);
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
                      {"snapshot", snapshot},
                      {"score",
                       {{"percent", s.percent},
                        {"pass", s.pass},
                        {"fail", s.fail},
                        {"not_checked", s.not_checked},
                        {"not_applicable", s.not_applicable}}},
                      {"controls", controls}};
  return doc.dump(2) + "\n";
}

}  // namespace mw::report
