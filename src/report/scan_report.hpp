// Renderers of `mailwarden scan` (the observed matrix, in the look of `firewall analyze`) and of
// `firewall analyze --verify` (prediction next to observation), as text and JSON.
#pragma once

#include <string>

#include "scan/scanner.hpp"
#include "scan/verify.hpp"

namespace mw::report {

// "closed (RST)", "filtered (no answer)", "-" for a family not scanned.
std::string scan_cell(const std::optional<scan::Observation>& o);

std::string render_scan_text(const scan::ScanReport& r);
std::string render_scan_json(const scan::ScanReport& r);
std::string render_verify_text(const scan::VerifyReport& r, const std::vector<std::string>& inputs,
                               bool color);
std::string render_verify_json(const scan::VerifyReport& r, const std::vector<std::string>& inputs);

}  // namespace mw::report
