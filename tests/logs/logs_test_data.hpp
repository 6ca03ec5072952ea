// Test helpers for src/logs: reading the bundled sample logs and parsing lines in a fixed zone.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "logs/parse_line.hpp"

namespace mw::logs::test {

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// The log lines of a fail2ban test file: its "# ..." annotation lines and blank lines dropped.
inline std::vector<std::string> fail2ban_lines(const std::string& name) {
  std::vector<std::string> out;
  for (auto& l :
       split_lines(read_source_file("tests/data/logs/public/fail2ban-1.0.2/logs/" + name))) {
    if (l.empty() || l[0] == '#') continue;
    out.push_back(l);
  }
  return out;
}

// A context in UTC whose RFC 3164 lines are read as written in 2026 (file modified in December).
struct Fixture {
  FixedOffsetZone utc{0};
  ParseContext ctx{utc, YearInference(2026, 12)};
  Event parse(std::string_view line) { return parse_line(line, ctx); }
};

}  // namespace mw::logs::test
