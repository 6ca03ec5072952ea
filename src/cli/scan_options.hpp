// Options shared by `mailwarden scan` and `firewall analyze --verify`: the per-port timeout as
// the operator writes it, the --source addresses, and the scan itself from the command line.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "scan/scanner.hpp"

namespace mw::cli {

// "500ms", "1s", "1.5s" (a unit is required: nmap reads a bare number as seconds, others as
// milliseconds). Between 1 ms and 60 s.
Result<std::chrono::milliseconds> parse_timeout(std::string_view text);

// --source ADDR, at most one per family.
Status add_sources(scan::ScanOptions& o, const std::vector<std::string>& sources);

}  // namespace mw::cli
