// The dispatcher: one line in, one Event out. Chooses the envelope (Zimbra log4j, RFC 5424,
// ISO, RFC 3164), then the program's parser, and counts every line that does not become facts
// by kind (UnparsedCounts). Never throws; never reads outside the line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "logs/event.hpp"
#include "logs/parsers.hpp"
#include "logs/syslog.hpp"

namespace mw::logs {

// The last RFC 3164 timestamp parse_line read: its bytes, fields, year and local time (as
// civil_to_utc counts it). Consecutive lines nearly always share it, so comparing a dozen
// bytes replaces the parse and the calendar arithmetic; the zone is still asked per line.
struct Rfc3164Memo {
  std::array<char, 16> text{};
  std::size_t bytes = 0;  // 0: empty
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int year = 0;
  std::int64_t local = 0;

  // Whether `p`, which holds at least `bytes` bytes, starts with `text`. A timestamp is 14 to
  // 16 bytes (the memo holds 8 to 16): two 8-byte compares, the second overlapping the first,
  // instead of a memcmp call of a length unknown at compile time.
  bool matches(const char* p) const {
    std::uint64_t a, b, c, d;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, text.data(), 8);
    std::memcpy(&c, p + bytes - 8, 8);
    std::memcpy(&d, text.data() + bytes - 8, 8);
    return a == b && c == d;
  }
};

// The state one sequential reader of one file keeps across lines: the zone of zone-less
// timestamps, the RFC 3164 year, the trusted proxies of Zimbra's oip chains, the counts and
// the previous line's time ("time went backwards"). A parallel reader keeps one per chunk and
// merges the counts (UnparsedCounts::merge).
class ParseContext {
 public:
  ParseContext(const TimeZone& zone, YearInference years, TrustedProxies trusted = {})
      : zone_(&zone), years_(years), trusted_(std::move(trusted)) {}

  const TimeZone& zone() const { return *zone_; }
  YearInference& years() { return years_; }
  const TrustedProxies& trusted() const { return trusted_; }
  UnparsedCounts& counts() { return counts_; }
  const UnparsedCounts& counts() const { return counts_; }

  // Called by parse_line for every line with a time.
  void note_time(const Timestamp& t);
  // parse_line's memo (nothing else uses it).
  Rfc3164Memo& rfc3164_memo() { return memo_; }

 private:
  const TimeZone* zone_;
  YearInference years_;
  TrustedProxies trusted_;
  UnparsedCounts counts_;
  bool have_last_ = false;
  Timestamp last_;
  Rfc3164Memo memo_;
};

// Parses one line (without its '\n'; a trailing '\r' is ignored). Lines longer than
// kMaxLineBytes are cut there and counted as too_long: only their envelope is read.
Event parse_line(std::string_view line, ParseContext& ctx);
// The same into `ev`, which must be a default-constructed Event: the chunked reader parses
// straight into its result vector instead of copying each Event there.
void parse_line(std::string_view line, ParseContext& ctx, Event& ev);

// True when `s` is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace mw::logs
