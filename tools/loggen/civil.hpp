// UTC calendar arithmetic for the generator (proleptic Gregorian, Howard Hinnant's algorithms):
// the logs carry civil times, the generator counts milliseconds since 1970.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loggen {

inline constexpr std::int64_t kSecond = 1000;
inline constexpr std::int64_t kMinute = 60 * kSecond;
inline constexpr std::int64_t kHour = 60 * kMinute;
inline constexpr std::int64_t kDay = 24 * kHour;

struct Civil {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, milli = 0;
};

inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

inline Civil civil_from_ms(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / kDay : (ms - kDay + 1) / kDay;
  std::int64_t rest = ms - days * kDay;
  Civil c;
  c.hour = static_cast<int>(rest / kHour);
  c.minute = static_cast<int>(rest / kMinute % 60);
  c.second = static_cast<int>(rest / kSecond % 60);
  c.milli = static_cast<int>(rest % kSecond);
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (c.month <= 2));
  return c;
}

// 0 = Monday ... 6 = Sunday.
inline int weekday_of(std::int64_t ms) {
  const std::int64_t days = ms >= 0 ? ms / kDay : (ms - kDay + 1) / kDay;
  return static_cast<int>(((days % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
}

inline int hour_of(std::int64_t ms) {
  return static_cast<int>(((ms % kDay) + kDay) % kDay / kHour);
}

// "2026-11-23T00:00:00Z" (also without seconds or without the Z); nullopt when malformed.
std::optional<std::int64_t> parse_iso_utc(std::string_view text);
// "2026-11-23T00:00:00Z".
std::string iso_utc(std::int64_t ms);

}  // namespace loggen
