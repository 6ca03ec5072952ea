// The dispatcher: one line in, one Event out. Chooses the envelope (Zimbra log4j, RFC 5424,
// ISO, RFC 3164), then the program's parser, and counts every line that does not become facts
// by kind (UnparsedCounts). Never throws; never reads outside the line.
#pragma once

#include <string_view>

#include "logs/event.hpp"
#include "logs/parsers.hpp"
#include "logs/syslog.hpp"

namespace mw::logs {

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

 private:
  const TimeZone* zone_;
  YearInference years_;
  TrustedProxies trusted_;
  UnparsedCounts counts_;
  bool have_last_ = false;
  Timestamp last_;
};

// Parses one line (without its '\n'; a trailing '\r' is ignored). Lines longer than
// kMaxLineBytes are cut there and counted as too_long: only their envelope is read.
Event parse_line(std::string_view line, ParseContext& ctx);

// True when `s` is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace mw::logs
