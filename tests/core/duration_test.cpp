// The one duration parser (core/duration): each module's syntax is a parameter.
#include "core/duration.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace mw {
namespace {

using namespace std::chrono_literals;

std::string error_of(std::string_view text, const DurationSyntax& s = {}) {
  auto r = parse_duration(text, s);
  return r ? std::string("(ok)") : r.error().message;
}

TEST(Duration, DefaultSyntaxIsOneTermOfSecondsToDays) {
  EXPECT_EQ(*parse_duration("90s"), 90s);
  EXPECT_EQ(*parse_duration("10m"), 10min);
  EXPECT_EQ(*parse_duration("1h"), 1h);
  EXPECT_EQ(*parse_duration("365d"), 365 * 24h);
  EXPECT_EQ(error_of("1h30m"), "'1h30m': expected one number and one unit at position 3");
  EXPECT_EQ(error_of("1w"), "'1w': unit 'w' not accepted here (s, m, h, d) at position 2");
  EXPECT_EQ(error_of("500ms"), "'500ms': unit 'ms' not accepted here (s, m, h, d) at position 4");
  EXPECT_EQ(error_of("90"), "'90': missing unit (s, m, h, d) at position 3");
  EXPECT_EQ(error_of("-1h"), "'-1h': expected a number at position 1");
  EXPECT_EQ(error_of("1H"), "'1H': unknown unit 'H' (s, m, h, d) at position 2");
  EXPECT_EQ(error_of("0m"), "'0m': 0s is out of range 1s..365d");
  EXPECT_EQ(error_of("366d"), "'366d': 366d is out of range 1s..365d");
  EXPECT_EQ(error_of(""), "empty duration (expected e.g. 90s, 15m, 1h)");
  EXPECT_EQ(error_of("99999999999999999999d"), "'99999999999999999999d': duration too large");
  // A tab shows as an escape: the 3 a.m. "but it looks right" case.
  EXPECT_EQ(error_of("1\th"), "'1\\x09h': unknown unit '\\x09' (s, m, h, d) at position 2");
}

TEST(Duration, SyntaxIsAParameter) {
  DurationSyntax zimbra;  // DateUtil: bare seconds, ms, zero allowed
  zimbra.units |= DurationSyntax::ms;
  zimbra.bare_is_seconds = true;
  zimbra.min = 0ms;
  zimbra.max = Millis::max();
  EXPECT_EQ(*parse_duration("30", zimbra), 30s);
  EXPECT_EQ(*parse_duration("0", zimbra), 0ms);
  EXPECT_EQ(*parse_duration("500ms", zimbra), 500ms);
  EXPECT_FALSE(parse_duration("1w", zimbra).ok());

  DurationSyntax queue;  // --older-than: terms add up, weeks allowed
  queue.units |= DurationSyntax::w;
  queue.compound = true;
  EXPECT_EQ(*parse_duration("1h30m", queue), 90min);
  EXPECT_EQ(*parse_duration("1w2d", queue), 9 * 24h);
  EXPECT_EQ(error_of("1h30", queue), "'1h30': missing unit (s, m, h, d, w) at position 5");
  EXPECT_EQ(error_of("1hh", queue), "'1hh': expected a number at position 3");
}

TEST(Duration, FormatUsesTheLargestExactUnit) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(14 * 24h), "14d");
}

RC_GTEST_PROP(Duration, FormatThenParseIsIdentity, ()) {
  const auto ms = *rc::gen::inRange<std::int64_t>(1, 365LL * 86'400'000);
  DurationSyntax s;
  s.units |= DurationSyntax::ms;
  s.min = 1ms;
  const auto back = parse_duration(format_duration(Millis(ms)), s);
  RC_ASSERT(back.ok());
  RC_ASSERT(back->count() == ms);
}

}  // namespace
}  // namespace mw
