// `mailwarden logs report --format html`: one self-contained page (no network request, no
// external font or script): the compromised accounts first, each with an hourly timeline drawn
// as inline SVG, then every finding with its evidence, the follow-up commands with copy buttons,
// the top accounts and the inputs with their unparsed lines. Readable printed and on a phone.
#pragma once

#include <string>
#include <string_view>

#include "logs/analysis.hpp"

namespace mw::report {

std::string render_logs_html(const logs::LogReport& report, std::string_view tool_version);

}  // namespace mw::report
