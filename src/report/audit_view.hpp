// Everything an audit report shows, gathered once by the command and handed to every renderer
// (text, JSON, HTML, Nagios, SARIF): the results, the snapshot and its manifest, the exposure
// matrix of the snapshot's firewall, and what changed since a baseline.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/collect.hpp"
#include "audit/engine.hpp"
#include "firewall/analysis.hpp"

namespace mw::report {

// One control whose status changed since the baseline. `before` is "" for a control the
// baseline did not have (a new control in the catalog, or a new input such as --iis-config).
struct StatusChange {
  std::string id;
  std::string before;  // status name in the baseline, "" when absent there
  std::string after;   // status name now
};

// A fact a control read whose value changed; `before` or `after` is "(absent)" when the fact
// appears or disappears.
struct FactChange {
  std::string id;    // the control
  std::string fact;  // FactRead::name
  std::string before;
  std::string after;
};

// What changed since the baseline report (`--baseline OLD.json`, an earlier `--format json`).
struct BaselineDiff {
  std::string file;          // the baseline as given on the command line
  std::string snapshot;      // the baseline's "snapshot"
  std::string collected_at;  // the baseline's snapshot time, "" when it did not say
  int score_before = 0;
  std::vector<StatusChange> new_failures;  // fail now, anything else (or absent) before
  std::vector<StatusChange> fixed;         // fail before, pass or not_applicable now
  std::vector<StatusChange> changed;       // every other status change
  std::vector<FactChange> facts;           // controls whose facts changed
  std::vector<std::string> removed;        // controls of the baseline that are no longer run

  // For every control failing now, SARIF's baselineState: "new" (did not fail in the
  // baseline), "unchanged" (failed with the same failing objects and facts), "updated" (failed,
  // but its failing objects or facts changed). The controls in `fixed` are SARIF's "absent".
  std::map<std::string, std::string, std::less<>> failure_state;
};

struct AuditView {
  const std::vector<audit::ControlResult>* results = nullptr;  // in catalog order
  audit::Score score;
  std::string snapshot;                     // as given ("" when only --iis-config was audited)
  std::optional<audit::Manifest> manifest;  // the snapshot's manifest.json, when it has one
  std::string iis_config;                   // --iis-config as given, "" without
  // The catalog's ports over the snapshot's firewall (iptables-save/ip6tables-save/nft -j);
  // nullopt when the snapshot holds no ruleset. exposure_v4/v6: which families it covers.
  std::optional<fw::AnalysisReport> exposure;
  bool exposure_v4 = false, exposure_v6 = false;
  std::optional<BaselineDiff> baseline;
  std::string tool;  // "mailwarden 0.1.0"
};

// The catalog's ports (facts.ports) over the snapshot's firewall: nullopt when the snapshot has
// no ruleset or no port catalog was loaded.
std::optional<fw::AnalysisReport> exposure_of(const audit::Facts& facts);

}  // namespace mw::report
