// `--baseline OLD.json`: an earlier `mailwarden audit --format json` report, compared with the
// results of now (new failures, fixed, other status changes, changed facts).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/engine.hpp"
#include "core/result.hpp"
#include "report/audit_view.hpp"

namespace mw::report {

// A control as the baseline report recorded it.
struct BaselineControl {
  std::string id;
  std::string status;
  std::vector<std::string> failing;
  std::vector<audit::FactRead> facts;
  std::string detail;
};

struct Baseline {
  std::string snapshot;
  std::string collected_at;  // "" when the report did not say
  int score = 0;
  std::vector<BaselineControl> controls;
};

// Parses a mailwarden-audit/1 JSON report; errors name `name` and, for syntax errors, the
// byte offset, and for a wrong field the control index and field.
Result<Baseline> parse_baseline(std::string_view text, std::string_view name);
Result<Baseline> load_baseline(const std::string& file);

BaselineDiff diff_baseline(const Baseline& before, const std::vector<audit::ControlResult>& now,
                           const std::string& file);

}  // namespace mw::report
