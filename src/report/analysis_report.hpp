// Renderers of `firewall analyze` results: a table an administrator reads at a glance, JSON for
// scripts, and one line per --query.
#pragma once

#include <string>
#include <vector>

#include "firewall/analysis.hpp"

namespace mw::report {

struct QueryAnswer {
  std::string source_text;  // as given
  fw::PortQuery port;
  fw::Outcome outcome = fw::Outcome::drop;
  std::string rule;
  std::string reason;
};

std::string render_analysis_text(const fw::AnalysisReport& r,
                                 const std::vector<std::string>& inputs, bool color);
std::string render_analysis_json(const fw::AnalysisReport& r,
                                 const std::vector<std::string>& inputs);
// "203.0.113.5 7071/tcp drop rules.v4:12"
std::string render_query_line(const QueryAnswer& a);

}  // namespace mw::report
