#include "core/duration.hpp"

#include <fmt/format.h>

#include <array>
#include <limits>

#include "core/quote.hpp"

namespace mw {
namespace {

struct UnitInfo {
  std::string_view name;
  DurationSyntax::Unit bit;
  std::int64_t ms;
};
// "ms" before "m" so that the longest name wins.
constexpr std::array<UnitInfo, 6> kUnits{{
    {"ms", DurationSyntax::ms, 1},
    {"s", DurationSyntax::s, 1000},
    {"m", DurationSyntax::m, 60'000},
    {"h", DurationSyntax::h, 3'600'000},
    {"d", DurationSyntax::d, 86'400'000},
    {"w", DurationSyntax::w, 7 * 86'400'000LL},
}};

std::string unit_list(unsigned units) {
  std::string out;
  for (const auto& u : kUnits) {
    if (!(units & u.bit)) continue;
    if (!out.empty()) out += ", ";
    out += u.name;
  }
  return out;
}

}  // namespace

Result<Millis> parse_duration(std::string_view text, const DurationSyntax& syntax) {
  const auto fail = [&](std::size_t pos, std::string_view what) -> Error {
    return Error{fmt::format("{}: {} at position {}", quote_input(text), what, pos + 1)};
  };
  if (text.empty()) return Error{"empty duration (expected e.g. 90s, 15m, 1h)"};
  std::int64_t total = 0;
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    if (!first && !syntax.compound) return fail(pos, "expected one number and one unit");
    first = false;
    const std::size_t start = pos;
    std::int64_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
        return Error{fmt::format("{}: duration too large", quote_input(text))};
      n = n * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return fail(pos, "expected a number");
    std::int64_t scale = 0;
    if (pos == text.size()) {
      if (!syntax.bare_is_seconds || start != 0)
        return fail(pos, fmt::format("missing unit ({})", unit_list(syntax.units)));
      scale = 1000;
    } else {
      for (const auto& u : kUnits) {
        if (text.substr(pos, u.name.size()) != u.name) continue;
        // "m" must not swallow the "m" of "ms" when ms is not allowed: the longest match
        // decides the unit, the mask decides whether it is accepted.
        if (!(syntax.units & u.bit))
          return fail(pos, fmt::format("unit '{}' not accepted here ({})", u.name,
                                       unit_list(syntax.units)));
        scale = u.ms;
        pos += u.name.size();
        break;
      }
      if (scale == 0)
        return fail(pos, fmt::format("unknown unit {} ({})", quote_input(text.substr(pos, 1)),
                                     unit_list(syntax.units)));
    }
    if (n > (std::numeric_limits<std::int64_t>::max() - total) / scale)
      return Error{fmt::format("{}: duration too large", quote_input(text))};
    total += n * scale;
  }
  const Millis d(total);
  if (d < syntax.min || d > syntax.max)
    return Error{fmt::format("{}: {} is out of range {}..{}", quote_input(text), format_duration(d),
                             format_duration(syntax.min), format_duration(syntax.max))};
  return d;
}

std::string format_duration(Millis d) {
  const std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (it->bit == DurationSyntax::w) continue;
    if (ms % it->ms == 0) return fmt::format("{}{}", ms / it->ms, it->name);
  }
  return fmt::format("{}ms", ms);
}

}  // namespace mw
