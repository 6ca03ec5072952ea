// Evaluates controls against the facts of one server: pass, fail, not_checked (a fact is
// missing: the reason says which) or not_applicable (the control does not concern this
// install), with the facts read, the failing objects, and the remediation commands for them.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "audit/controls.hpp"
#include "audit/facts.hpp"

namespace mw::audit {

enum class Status : std::uint8_t { pass, fail, not_checked, not_applicable };
std::string_view status_name(Status s);  // "pass", "fail", "not_checked", "not_applicable"

// One fact a control read: "cos default: zimbraPasswordMinLength" = "6".
struct FactRead {
  std::string name;    // "cos default: zimbraPasswordMinLength", "localconfig: alias_login_enabled"
  std::string value;   // as found (several values joined by ", "); "(absent)" when absent
  std::string origin;  // "zmprov-gc-default.txt:312", or "default (attrs.tsv)"
};

struct ControlResult {
  const Control* control = nullptr;
  Status status = Status::not_checked;
  std::vector<FactRead> facts;
  std::vector<std::string> failing;  // the objects that fail ("COS default", "example.org")
  std::string detail;                // why it fails / is not checked / does not apply
  std::string remediation;           // the commands for the failing objects, ready to paste
};

// A check written in C++ for the controls whose condition is more than one value.
using CustomCheck = std::function<ControlResult(const Control&, const Facts&)>;
using CustomChecks = std::map<std::string, CustomCheck, std::less<>>;

// The control's remediation with {object} and {value} filled in, ending in a newline.
std::string render_remediation(const Control& control, std::string_view object);

ControlResult evaluate(const Control& control, const Facts& facts, const CustomChecks& custom);

std::vector<ControlResult> evaluate_all(const std::vector<Control>& controls, const Facts& facts,
                                        const CustomChecks& custom);

// Severity-weighted pass / (pass + fail), 0-100; not_checked and not_applicable count apart.
struct Score {
  int percent = 100;
  int pass = 0, fail = 0, not_checked = 0, not_applicable = 0;
};
Score score(const std::vector<ControlResult>& results);

}  // namespace mw::audit
