// The baseline: an earlier JSON report read back, and the comparison with the results of now.
//
// Matching is by control id. A control's facts are matched by name; when a control reads two
// facts of the same name (it does not today), they pair in order.
#include "report/baseline.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace mw::report {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxBaselineBytes = 64 << 20;
constexpr std::string_view kAbsent = "(absent)";

struct FieldError {
  std::string message;
};

const json& member(const json& obj, const char* key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) throw FieldError{fmt::format("{}{}: missing", where, key)};
  return *it;
}

std::string string_member(const json& obj, const char* key, std::string_view where) {
  const json& v = member(obj, key, where);
  if (!v.is_string()) throw FieldError{fmt::format("{}{}: expected a string", where, key)};
  return v.get<std::string>();
}

std::vector<std::string> strings_member(const json& obj, const char* key, std::string_view where) {
  const json& v = member(obj, key, where);
  if (!v.is_array()) throw FieldError{fmt::format("{}{}: expected an array", where, key)};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      throw FieldError{fmt::format("{}{}[{}]: expected a string", where, key, i)};
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

bool known_status(std::string_view s) {
  return s == "pass" || s == "fail" || s == "not_checked" || s == "not_applicable";
}

Baseline read(const json& doc) {
  if (!doc.is_object()) throw FieldError{"expected a JSON object (a mailwarden audit report)"};
  const std::string schema = string_member(doc, "schema", "");
  if (schema != "mailwarden-audit/1")
    throw FieldError{fmt::format(
        "schema: '{}' is not a mailwarden audit report (expected mailwarden-audit/1)", schema)};
  Baseline b;
  b.snapshot = string_member(doc, "snapshot", "");
  if (auto it = doc.find("collected_at"); it != doc.end() && it->is_string())
    b.collected_at = it->get<std::string>();
  const json& score = member(doc, "score", "");
  if (!score.is_object() || !score.contains("percent") || !score["percent"].is_number_integer())
    throw FieldError{"score.percent: expected an integer"};
  b.score = score["percent"].get<int>();
  const json& controls = member(doc, "controls", "");
  if (!controls.is_array()) throw FieldError{"controls: expected an array"};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < controls.size(); ++i) {
    const std::string where = fmt::format("controls[{}].", i);
    const json& c = controls[i];
    if (!c.is_object()) throw FieldError{fmt::format("controls[{}]: expected an object", i)};
    BaselineControl bc;
    bc.id = string_member(c, "id", where);
    if (!seen.insert(bc.id).second)
      throw FieldError{fmt::format("{}id: '{}' appears twice", where, bc.id)};
    bc.status = string_member(c, "status", where);
    if (!known_status(bc.status))
      throw FieldError{fmt::format("{}status: unknown status '{}'", where, bc.status)};
    bc.failing = strings_member(c, "failing", where);
    bc.detail = string_member(c, "detail", where);
    const json& facts = member(c, "facts", where);
    if (!facts.is_array()) throw FieldError{where + "facts: expected an array"};
    for (std::size_t j = 0; j < facts.size(); ++j) {
      const std::string fw = fmt::format("{}facts[{}].", where, j);
      if (!facts[j].is_object())
        throw FieldError{fw.substr(0, fw.size() - 1) + ": expected an object"};
      bc.facts.push_back({string_member(facts[j], "name", fw), string_member(facts[j], "value", fw),
                          string_member(facts[j], "origin", fw)});
    }
    b.controls.push_back(std::move(bc));
  }
  return b;
}

// name -> values in order, for pairing the facts of one control.
std::map<std::string, std::vector<std::string>> facts_by_name(
    const std::vector<audit::FactRead>& facts) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& f : facts) out[f.name].push_back(f.value);
  return out;
}

std::vector<FactChange> fact_changes(const std::string& id,
                                     const std::vector<audit::FactRead>& before,
                                     const std::vector<audit::FactRead>& now) {
  auto b = facts_by_name(before);
  auto n = facts_by_name(now);
  std::vector<FactChange> out;
  // In the order the control reads them now, then the facts it no longer reads.
  std::set<std::string> done;
  auto compare = [&](const std::string& name) {
    if (!done.insert(name).second) return;
    const auto& bv = b[name];
    const auto& nv = n[name];
    for (std::size_t i = 0; i < std::max(bv.size(), nv.size()); ++i) {
      std::string x = i < bv.size() ? bv[i] : std::string(kAbsent);
      std::string y = i < nv.size() ? nv[i] : std::string(kAbsent);
      if (x != y) out.push_back({id, name, std::move(x), std::move(y)});
    }
  };
  for (const auto& f : now) compare(f.name);
  for (const auto& f : before) compare(f.name);
  return out;
}

}  // namespace

Result<Baseline> parse_baseline(std::string_view text, std::string_view name) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // The byte offset, and the line and column it falls on.
    const std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    if (auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    return Error{fmt::format("{}:{}:{}: not JSON ({})", name, line, col, what)};
  }
  try {
    return read(doc);
  } catch (const FieldError& e) {
    return Error{fmt::format("{}: {}", name, e.message)};
  }
}

Result<Baseline> load_baseline(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot read the baseline report", file)};
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxBaselineBytes)
      return Error{fmt::format("{}: larger than {} MiB: not an audit report", file,
                               kMaxBaselineBytes >> 20)};
  }
  if (in.bad()) return Error{fmt::format("{}: read error", file)};
  return parse_baseline(text, file);
}

BaselineDiff diff_baseline(const Baseline& before, const std::vector<audit::ControlResult>& now,
                           const std::string& file) {
  BaselineDiff d;
  d.file = file;
  d.snapshot = before.snapshot;
  d.collected_at = before.collected_at;
  d.score_before = before.score;
  std::map<std::string, const BaselineControl*, std::less<>> old;
  for (const auto& c : before.controls) old[c.id] = &c;

  std::set<std::string, std::less<>> current;
  for (const auto& r : now) {
    const std::string& id = r.control->id;
    current.insert(id);
    const std::string status(audit::status_name(r.status));
    auto it = old.find(id);
    const BaselineControl* was = it == old.end() ? nullptr : it->second;
    const std::string before_status = was ? was->status : "";
    std::vector<FactChange> facts;
    if (was) facts = fact_changes(id, was->facts, r.facts);

    if (r.status == audit::Status::fail) {
      if (before_status != "fail") {
        d.new_failures.push_back({id, before_status, status});
        d.failure_state[id] = "new";
      } else {
        const bool same = was->failing == r.failing && facts.empty();
        d.failure_state[id] = same ? "unchanged" : "updated";
      }
    } else if (before_status == "fail" &&
               (r.status == audit::Status::pass || r.status == audit::Status::not_applicable)) {
      d.fixed.push_back({id, before_status, status});
    } else if (!before_status.empty() && before_status != status) {
      d.changed.push_back({id, before_status, status});
    }
    for (auto& f : facts) d.facts.push_back(std::move(f));
  }
  for (const auto& c : before.controls) {
    if (!current.count(c.id)) d.removed.push_back(c.id);
  }
  return d;
}

}  // namespace mw::report
