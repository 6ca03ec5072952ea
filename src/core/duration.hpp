// Durations as people type them in options and catalogs: "90s", "15m", "1h", "7d", "2w",
// "1h30m". One parser for every module; what a module accepts (its units, whether a bare
// number means seconds, its range) is a parameter, so that each keeps its documented syntax
// and every error names the input and the position.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace mw {

using Millis = std::chrono::milliseconds;

struct DurationSyntax {
  // Units accepted, as a bitmask of the constants below.
  enum Unit : unsigned { ms = 1, s = 2, m = 4, h = 8, d = 16, w = 32 };
  unsigned units = s | m | h | d;
  // A number without a unit is seconds ("90" = 90s), as in Zimbra's DateUtil and for
  // --confirm-within; otherwise a unit is required.
  bool bare_is_seconds = false;
  // Several number+unit terms add up ("1h30m"); otherwise exactly one term.
  bool compound = false;
  Millis min{std::chrono::seconds(1)};
  Millis max{std::chrono::hours(24 * 365)};
};

// The duration, or an error like "'1x': unknown unit 'x' at position 2 (s, m, h, d)" or
// "'400d': 400d is out of range 1s..365d". Callers put their own context (file:line:col,
// option name) in front.
Result<Millis> parse_duration(std::string_view text, const DurationSyntax& syntax = {});

// The largest unit that divides exactly: 90000 ms -> "90s", 3600000 -> "1h", 604800000 ->
// "7d" (never weeks: "14d" reads better than "2w" in a listing); 0 -> "0s".
std::string format_duration(Millis d);

}  // namespace mw
