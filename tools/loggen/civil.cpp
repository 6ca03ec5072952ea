// Parsing and printing of the period's ISO 8601 UTC times.
#include "civil.hpp"

#include <fmt/format.h>

namespace loggen {

namespace {

bool digits(std::string_view& s, std::size_t n, int& out) {
  if (s.size() < n) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  s.remove_prefix(n);
  return true;
}

bool lit(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_iso_utc(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 4, y) || !lit(s, '-') || !digits(s, 2, mo) || !lit(s, '-') || !digits(s, 2, d) ||
      !(lit(s, 'T') || lit(s, ' ')) || !digits(s, 2, h) || !lit(s, ':') || !digits(s, 2, mi)) {
    return std::nullopt;
  }
  if (lit(s, ':') && !digits(s, 2, sec)) return std::nullopt;
  if (!s.empty() && !(s == "Z" || s == "+00:00")) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  const auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * kDay + h * kHour + mi * kMinute + sec * kSecond;
}

std::string iso_utc(std::int64_t ms) {
  const auto c = civil_from_ms(ms);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour,
                     c.minute, c.second);
}

}  // namespace loggen
