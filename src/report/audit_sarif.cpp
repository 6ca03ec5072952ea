// `mailwarden audit --format sarif`: the audit as one SARIF 2.1.0 run (OASIS Standard, schema
// vendored in tests/data/sarif/), so that code-scanning dashboards and SARIF viewers show it.
//
// Mapping (stable: properties are only ever added):
//   sarifLog   {"$schema": OASIS errata01 schema URI, "version": "2.1.0", "runs": [run]}
//   run.tool.driver
//     name "mailwarden", fullName = AuditView::tool, version = AuditView::tool without
//     "mailwarden " (semanticVersion too when it is MAJOR.MINOR.PATCH);
//     rules: one reportingDescriptor per control run, in catalog order:
//       id = control id, name = control id, shortDescription = title,
//       fullDescription = rationale (title when empty),
//       help.text = the guides demanding it, the remediation template, the catalog's notes,
//       defaultConfiguration.level: critical/high -> "error", medium/low -> "warning",
//         info -> "note",
//       properties: severity, guides, definedIn (the catalog's file:line), tags ["security",
//         first segment of the id], "security-severity" (GitHub's numeric string: critical 9.5,
//         high 8.0, medium 5.5, low 3.0, info 0.0).
//   run.originalUriBaseIds
//     "SNAPSHOT": the snapshot directory, "IISCONFIG": the directory of --iis-config. Both have
//     a description and no "uri": the spec requires that uri to be absolute, and an absolute
//     path would make the report depend on where it ran. A consumer is told the base out of band
//     (viewers ask for it, like any uriBaseId they cannot resolve).
//   run.artifacts
//     the manifest's files (description = the command that produced it, properties: status,
//     runAs, exitCode, redacted, note), then every other file a location names; each location's
//     artifactLocation.index points here.
//   run.results: one per control result, same order as the rules, ruleId + ruleIndex:
//     kind: pass -> "pass", fail -> "fail", not_checked -> "open" (the tool could not decide:
//       a fact is missing), not_applicable -> "notApplicable";
//     level: for "fail" the rule's level; "none" for every other kind (SARIF 3.27.10: level is
//       "none" or absent unless kind is "fail"; written out because some consumers default an
//       absent level to "warning" without looking at kind);
//     message.text = detail (title and status when the engine gave none), for a failure
//       followed by the remediation commands ("Fix:"): SARIF's `fixes` are byte replacements in
//       files, which shell commands are not;
//     locations: every fact origin that names a file ("zmprov-gs.txt:131", "zmprov-gs.txt",
//       "(iptables-save.txt:3)" inside a longer origin, "/etc/ssh/sshd_config:12" = snapshot
//       file etc/ssh/sshd_config): artifactLocation {uri relative, uriBaseId "SNAPSHOT" or, for
//       the --iis-config file's name, "IISCONFIG", index} + region.startLine when the origin has
//       a line; location.message = "fact = value". Origins that name no file ("default
//       (attrs.tsv)", "catalog zimbra/cves.toml", "postconf -d", "firewall") give no location;
//       every fact is in properties.facts with its origin either way;
//     partialFingerprints {"mailwarden/v1": "<control id>:<16 hex digits>"}: FNV-1a 64 of the
//       control id and the sorted failing objects, so that a result keeps its identity across
//       audits while the same objects fail, and a new failing object is a new identity;
//     baselineState (only with --baseline): a failing control gets BaselineDiff::failure_state
//       ("new" / "unchanged" / "updated", "new" if the diff does not name it); a control in
//       BaselineDiff::fixed (failed in the baseline, passes or does not apply now) gets
//       "absent": its failure is absent from this run, and the result that records it is the
//       pass / notApplicable one; a control in BaselineDiff::changed gets "updated"; other
//       results get none (the diff does not say whether a non-failing control is new);
//     properties: severity, status (mailwarden's name), failing, facts [{name, value, origin}],
//       remediation (failures only).
//   run.invocations [{"executionSuccessful": true}]: the renderer runs only after the audit did.
//   run.properties: snapshot, iisConfig, host and collectedAt (manifest), score {percent, pass,
//     fail, notChecked, notApplicable}, baseline {file, snapshot, collectedAt, scoreBefore,
//     newFailures, fixed, changed [{id, before, after}], removed} with --baseline.
// Every string from the snapshot is untrusted: URIs are percent-encoded, and invalid UTF-8 is
// replaced by U+FFFD when the document is written, so that rendering never throws.
#include "report/audit_sarif.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

namespace mw::report {

namespace {

using audit::Severity;
using audit::Status;
using nlohmann::ordered_json;

constexpr std::string_view kSchemaUri =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
constexpr std::string_view kSnapshotBase = "SNAPSHOT";
constexpr std::string_view kIisBase = "IISCONFIG";
constexpr std::string_view kFingerprintKey = "mailwarden/v1";

const char* level_of(Severity s) {
  switch (s) {
    case Severity::critical:
    case Severity::high:
      return "error";
    case Severity::medium:
    case Severity::low:
      return "warning";
    case Severity::info:
      return "note";
  }
  return "warning";
}

// GitHub code scanning reads rules' properties."security-severity" (a number as a string):
// over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
const char* security_severity_of(Severity s) {
  switch (s) {
    case Severity::critical:
      return "9.5";
    case Severity::high:
      return "8.0";
    case Severity::medium:
      return "5.5";
    case Severity::low:
      return "3.0";
    case Severity::info:
      return "0.0";
  }
  return "0.0";
}

const char* kind_of(Status s) {
  switch (s) {
    case Status::pass:
      return "pass";
    case Status::fail:
      return "fail";
    case Status::not_checked:
      return "open";
    case Status::not_applicable:
      return "notApplicable";
  }
  return "open";
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string fingerprint(const audit::ControlResult& r) {
  std::vector<std::string> failing = r.failing;
  std::sort(failing.begin(), failing.end());
  std::uint64_t h = fnv1a(0xcbf29ce484222325ULL, r.control->id);
  for (const auto& f : failing) {
    h = fnv1a(h, std::string_view("\0", 1));  // separator: no object name holds a NUL
    h = fnv1a(h, f);
  }
  return fmt::format("{}:{:016x}", r.control->id, h);
}

// A relative URI reference for a file path: unreserved characters, sub-delimiters, '/' and '@'
// are kept, every other byte is percent-encoded (':' too, so that no first segment reads as a
// scheme).
std::string uri_of_path(std::string_view path) {
  static constexpr std::string_view keep = "-._~!$&'()*+,;=@/";
  std::string out;
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The last path component: "applicationHost.config" of "C:\\x\\applicationHost.config".
std::string_view base_name(std::string_view path) {
  auto p = path.find_last_of("/\\");
  return p == std::string_view::npos ? path : path.substr(p + 1);
}

bool is_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/' || c == '+' || c == '@';
}

// A file named by an origin: a path relative to its base, and the line (0: the whole file).
struct FileRef {
  std::string base;  // kSnapshotBase or kIisBase
  std::string path;
  long long line = 0;
};

// `token` names a file when it has a dot or a slash (not "firewall", "default"), no empty, "."
// or ".." segment and no trailing slash. A host path ("/etc/ssh/sshd_config") is where the
// snapshot keeps that file ("etc/ssh/sshd_config").
std::optional<std::string> file_path_of(std::string_view token) {
  if (!token.empty() && token.front() == '/') token.remove_prefix(1);
  if (token.empty() || token.back() == '/') return std::nullopt;
  if (token.find_first_of("./") == std::string_view::npos) return std::nullopt;
  std::string_view rest = token;
  while (true) {
    auto slash = rest.find('/');
    auto seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return std::nullopt;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return std::string(token);
}

// Reads "PATH[:LINE]" at `pos` of `origin`. `need_line`: only a PATH:LINE counts (inside
// parentheses, where "(attrs.tsv)" names a catalog file, not a snapshot file).
std::optional<FileRef> file_ref_at(std::string_view origin, std::size_t pos, bool need_line,
                                   std::string_view iis_name) {
  std::size_t end = pos;
  while (end < origin.size() && is_path_char(origin[end])) ++end;
  auto path = file_path_of(origin.substr(pos, end - pos));
  if (!path) return std::nullopt;
  FileRef ref;
  ref.path = *path;
  std::size_t after = end;
  if (after < origin.size() && origin[after] == ':') {
    std::size_t d = after + 1;
    long long line = 0;
    while (d < origin.size() && origin[d] >= '0' && origin[d] <= '9' && d - after <= 9) {
      line = line * 10 + (origin[d] - '0');
      ++d;
    }
    if (d > after + 1 && (d == origin.size() || !is_path_char(origin[d]))) {
      ref.line = line;
      after = d;
    } else if (d > after + 1) {
      return std::nullopt;  // "file:12abc": not a line
    }
  }
  if (need_line && ref.line == 0) return std::nullopt;
  // What may follow a file reference: the end, a separator, or ": text" ("nft.json: handle 4").
  if (after < origin.size()) {
    const char c = origin[after];
    if (c != ' ' && c != ')' && c != ',' && c != ';' && c != ':') return std::nullopt;
  }
  ref.base = !iis_name.empty() && ref.path == iis_name ? kIisBase : kSnapshotBase;
  if (ref.base == kIisBase) ref.path = std::string(iis_name);
  return ref;
}

// The files an origin names: at its start, and after each '(' with a line.
std::vector<FileRef> file_refs(std::string_view origin, std::string_view iis_name) {
  std::vector<FileRef> out;
  if (auto r = file_ref_at(origin, 0, false, iis_name)) out.push_back(std::move(*r));
  for (std::size_t p = origin.find('('); p != std::string_view::npos; p = origin.find('(', p + 1)) {
    if (auto r = file_ref_at(origin, p + 1, true, iis_name)) out.push_back(std::move(*r));
  }
  return out;
}

// run.artifacts, indexed by (base, path).
class Artifacts {
 public:
  std::size_t add(const std::string& base, const std::string& path,
                  const ordered_json& extra = ordered_json::object()) {
    auto key = std::make_pair(base, path);
    if (auto it = index_.find(key); it != index_.end()) return it->second;
    bases_.insert(base);
    ordered_json a = ordered_json::object();
    a["location"] = {{"uri", uri_of_path(path)}, {"uriBaseId", base}};
    if (extra.is_object()) {
      for (const auto& [k, v] : extra.items()) a[k] = v;
    }
    list_.push_back(std::move(a));
    index_[key] = list_.size() - 1;
    return list_.size() - 1;
  }
  const ordered_json& json() const { return list_; }
  bool uses(std::string_view base) const { return bases_.count(std::string(base)) > 0; }

 private:
  std::set<std::string> bases_;
  std::map<std::pair<std::string, std::string>, std::size_t> index_;
  ordered_json list_ = ordered_json::array();
};

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// "catalog/controls/accounts.toml:6" from the absolute origin the loader records, so that the
// report does not depend on where the tool is installed; a catalog elsewhere (--controls) keeps
// its file name only.
std::string catalog_relative(const std::string& origin) {
  if (auto at = origin.rfind("catalog/controls/"); at != std::string::npos)
    return origin.substr(at);
  if (auto slash = origin.rfind('/'); slash != std::string::npos) return origin.substr(slash + 1);
  return origin;
}

ordered_json rule_of(const audit::Control& c) {
  std::string help = c.guides.empty() ? "Demanded by: (no guide named)."
                                      : "Demanded by: " + join(c.guides, "; ") + ".";
  if (!c.remediation.empty()) {
    help += "\n\nFix ({object}: the failing object, {value}: " +
            (c.fix_value.empty() ? std::string("the value to set") : c.fix_value) + "):\n" +
            trim_newlines(c.remediation);
  }
  if (!c.notes.empty()) help += "\n\nNotes: " + c.notes;

  ordered_json tags = ordered_json::array({"security"});
  const std::string area = c.id.substr(0, c.id.find('.'));
  if (!area.empty() && area != "security") tags.push_back(area);

  ordered_json props = {{"severity", audit::severity_name(c.severity)},
                        {"guides", c.guides},
                        {"tags", tags},
                        {"security-severity", security_severity_of(c.severity)}};
  if (!c.origin.empty()) props["definedIn"] = catalog_relative(c.origin);

  return {{"id", c.id},
          {"name", c.id},
          {"shortDescription", {{"text", c.title.empty() ? c.id : c.title}}},
          {"fullDescription", {{"text", c.rationale.empty() ? c.title : c.rationale}}},
          {"help", {{"text", help}}},
          {"defaultConfiguration", {{"level", level_of(c.severity)}}},
          {"properties", props}};
}

std::optional<std::string> baseline_state(const BaselineDiff& d, const audit::ControlResult& r) {
  const std::string& id = r.control->id;
  if (r.status == Status::fail) {
    auto it = d.failure_state.find(id);
    return it != d.failure_state.end() ? it->second : std::string("new");
  }
  auto named = [&](const std::vector<StatusChange>& v) {
    return std::any_of(v.begin(), v.end(), [&](const StatusChange& c) { return c.id == id; });
  };
  if (named(d.fixed)) return std::string("absent");
  if (named(d.changed)) return std::string("updated");
  return std::nullopt;
}

ordered_json result_of(const audit::ControlResult& r, std::size_t rule_index, const AuditView& view,
                       std::string_view iis_name, Artifacts& artifacts) {
  const audit::Control& c = *r.control;
  std::string text = r.detail.empty() ? fmt::format("{}: {}", c.title.empty() ? c.id : c.title,
                                                    audit::status_name(r.status))
                                      : r.detail;
  if (r.status == Status::fail && !r.remediation.empty()) {
    text += "\n\nFix:\n" + trim_newlines(r.remediation);
  }

  ordered_json locations = ordered_json::array();
  std::set<std::tuple<std::string, std::string, long long>> seen;
  ordered_json facts = ordered_json::array();
  for (const auto& f : r.facts) {
    facts.push_back({{"name", f.name}, {"value", f.value}, {"origin", f.origin}});
    for (auto& ref : file_refs(f.origin, iis_name)) {
      if (!seen.insert({ref.base, ref.path, ref.line}).second) continue;
      const std::size_t index = artifacts.add(ref.base, ref.path);
      ordered_json physical = {
          {"artifactLocation",
           {{"uri", uri_of_path(ref.path)}, {"uriBaseId", ref.base}, {"index", index}}}};
      if (ref.line > 0) physical["region"] = {{"startLine", ref.line}};
      locations.push_back({{"physicalLocation", physical},
                           {"message", {{"text", fmt::format("{} = {}", f.name, f.value)}}}});
    }
  }

  ordered_json res = {{"ruleId", c.id},
                      {"ruleIndex", rule_index},
                      {"kind", kind_of(r.status)},
                      {"level", r.status == Status::fail ? level_of(c.severity) : "none"},
                      {"message", {{"text", text}}}};
  if (!locations.empty()) res["locations"] = locations;
  res["partialFingerprints"] = {{kFingerprintKey, fingerprint(r)}};
  if (view.baseline) {
    if (auto state = baseline_state(*view.baseline, r)) res["baselineState"] = *state;
  }
  ordered_json props = {{"severity", audit::severity_name(c.severity)},
                        {"status", audit::status_name(r.status)},
                        {"failing", r.failing},
                        {"facts", facts}};
  if (r.status == Status::fail) props["remediation"] = r.remediation;
  res["properties"] = props;
  return res;
}

std::string version_of(const std::string& tool) {
  std::string_view v = tool;
  if (v.substr(0, 11) == "mailwarden ") v.remove_prefix(11);
  return v.empty() ? std::string("dev") : std::string(v);
}

bool is_semver(std::string_view v) {
  int dots = 0;
  bool digit = false;
  for (char c : v) {
    if (c == '.') {
      if (!digit) return false;
      ++dots;
      digit = false;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      return false;
    }
  }
  return dots == 2 && digit;
}

ordered_json changes_json(const std::vector<StatusChange>& v) {
  ordered_json out = ordered_json::array();
  for (const auto& c : v) out.push_back({{"id", c.id}, {"before", c.before}, {"after", c.after}});
  return out;
}

ordered_json ids_json(const std::vector<StatusChange>& v) {
  ordered_json out = ordered_json::array();
  for (const auto& c : v) out.push_back(c.id);
  return out;
}

}  // namespace

std::string render_audit_sarif(const AuditView& view) {
  static const std::vector<audit::ControlResult> kNone;
  const auto& results = view.results ? *view.results : kNone;
  const std::string iis_name(view.iis_config.empty() ? std::string_view()
                                                     : base_name(view.iis_config));

  Artifacts artifacts;
  if (view.manifest) {
    for (const auto& e : view.manifest->files) {
      ordered_json props = {{"status", e.status}};
      if (!e.run_as.empty()) props["runAs"] = e.run_as;
      if (e.exit_code) props["exitCode"] = *e.exit_code;
      if (e.redacted > 0) props["redacted"] = e.redacted;
      if (!e.note.empty()) props["note"] = e.note;
      const std::string path = file_path_of(e.file).value_or(e.file);
      artifacts.add(std::string(kSnapshotBase), path,
                    {{"description", {{"text", e.command.empty() ? e.file : e.command}}},
                     {"properties", props}});
    }
  }

  ordered_json rules = ordered_json::array();
  ordered_json sarif_results = ordered_json::array();
  std::map<std::string, std::size_t, std::less<>> rule_index;
  for (const auto& r : results) {
    if (r.control == nullptr) continue;
    auto [it, inserted] = rule_index.try_emplace(r.control->id, rules.size());
    if (inserted) rules.push_back(rule_of(*r.control));
    sarif_results.push_back(result_of(r, it->second, view, iis_name, artifacts));
  }

  const std::string version = version_of(view.tool);
  ordered_json driver = {{"name", "mailwarden"},
                         {"fullName", view.tool.empty() ? std::string("mailwarden") : view.tool},
                         {"version", version}};
  if (is_semver(version)) driver["semanticVersion"] = version;
  driver["rules"] = rules;

  ordered_json bases = ordered_json::object();
  if (!view.snapshot.empty() || artifacts.uses(kSnapshotBase)) {
    bases[std::string(kSnapshotBase)] = {
        {"description",
         {{"text", fmt::format("the snapshot directory audited (mailwarden audit --snapshot {})",
                               view.snapshot.empty() ? "-" : view.snapshot)}}}};
  }
  if (!view.iis_config.empty() || artifacts.uses(kIisBase)) {
    bases[std::string(kIisBase)] = {
        {"description",
         {{"text", fmt::format("the directory of the IIS configuration audited (--iis-config {})",
                               view.iis_config)}}}};
  }

  ordered_json props = ordered_json::object();
  props["snapshot"] = view.snapshot;
  if (!view.iis_config.empty()) props["iisConfig"] = view.iis_config;
  if (view.manifest) {
    props["host"] = view.manifest->host;
    props["collectedAt"] = view.manifest->collected_at;
  }
  props["score"] = {{"percent", view.score.percent},
                    {"pass", view.score.pass},
                    {"fail", view.score.fail},
                    {"notChecked", view.score.not_checked},
                    {"notApplicable", view.score.not_applicable}};
  if (view.baseline) {
    const auto& b = *view.baseline;
    props["baseline"] = {{"file", b.file},
                         {"snapshot", b.snapshot},
                         {"collectedAt", b.collected_at},
                         {"scoreBefore", b.score_before},
                         {"newFailures", ids_json(b.new_failures)},
                         {"fixed", ids_json(b.fixed)},
                         {"changed", changes_json(b.changed)},
                         {"removed", b.removed}};
  }

  ordered_json invocation = ordered_json::object();
  invocation["executionSuccessful"] = true;
  ordered_json run = ordered_json::object();
  run["tool"] = {{"driver", driver}};
  run["invocations"] = ordered_json::array();
  run["invocations"].push_back(invocation);
  if (!bases.empty()) run["originalUriBaseIds"] = bases;
  if (!artifacts.json().empty()) run["artifacts"] = artifacts.json();
  run["results"] = sarif_results;
  run["properties"] = props;

  ordered_json doc = ordered_json::object();
  doc["$schema"] = std::string(kSchemaUri);
  doc["version"] = "2.1.0";
  doc["runs"] = ordered_json::array();
  doc["runs"].push_back(std::move(run));
  return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace mw::report
