#include "report/audit_view.hpp"

namespace mw::report {

std::optional<fw::AnalysisReport> exposure_of(const audit::Facts& facts) {
  if (!facts.ruleset || facts.ports == nullptr) return std::nullopt;
  return fw::analyse_ports(*facts.ruleset, fw::catalog_ports(*facts.ports), fw::ArrivalContext{},
                           nullptr);
}

}  // namespace mw::report
