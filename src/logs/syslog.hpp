// The line envelope of syslog-style logs: RFC 3164 ("Nov 28 23:55:58 host prog[pid]: msg",
// also journalctl's default output), RFC 5424, and ISO 8601 timestamps (rsyslog's
// RSYSLOG_FileFormat, `journalctl -o short-iso`); the time zone and year rules that turn their
// timestamps into UTC.
//
// Time zones: RFC 3164 and zone-less ISO times are wall-clock times of the logging host, read
// in a TimeZone the caller passes (the CLI's --tz; default the process' local zone, i.e. TZ).
// Times with an offset ("Z", "+01:00", "+0100") are converted with that offset and the zone is
// not used. RFC 3164 has no year: YearInference supplies it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "logs/event.hpp"

namespace mw::logs {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
bool is_leap_year(std::int64_t year);
unsigned days_in_month(std::int64_t year, unsigned month);

// A wall-clock zone. `local_seconds` is a local time counted as if it were UTC (seconds since
// 1970-01-01 00:00 local); the answer is the zone's offset east of UTC at that local time. In a
// DST gap or fold the offset in force just before the change is used.
class TimeZone {
 public:
  virtual ~TimeZone() = default;
  virtual std::int32_t offset_for_local(std::int64_t local_seconds) const = 0;
};

class FixedOffsetZone final : public TimeZone {
 public:
  explicit FixedOffsetZone(std::int32_t offset_seconds) : offset_(offset_seconds) {}
  std::int32_t offset_for_local(std::int64_t) const override { return offset_; }

 private:
  std::int32_t offset_;
};

// The process' local zone (the TZ environment variable, else /etc/localtime), through
// localtime_r. A named zone (--tz Europe/Berlin) is applied by setting TZ before parsing
// starts. Caches the offset per local quarter hour; not for concurrent use (one per thread).
class ProcessLocalZone final : public TimeZone {
 public:
  std::int32_t offset_for_local(std::int64_t local_seconds) const override;

 private:
  mutable std::int64_t cached_hour_ = INT64_MIN;  // the local quarter hour cached
  mutable std::int32_t cached_offset_ = 0;
};

// "local" -> ProcessLocalZone; "UTC", "Z", "+01:00", "-0500", "+1" -> FixedOffsetZone.
Result<std::unique_ptr<TimeZone>> make_time_zone(std::string_view spec);

// The year of RFC 3164 timestamps, for one file read from its first line to its last.
// Seeded with the file's modification time (year and month, in the file's zone): a first line
// in a month after the file's month was written the year before. Afterwards a step back of more
// than six months (Dec -> Jan) is a new year; a smaller step back stays in the year (it is
// "time went backwards", which the caller counts by comparing times).
// A chunked parallel reader seeds one YearInference per chunk from the previous chunk's last
// (year, month), which it learns in a cheap sequential pass over the chunks' first lines.
class YearInference {
 public:
  YearInference(int file_year, int file_month) : year_(file_year), file_month_(file_month) {}
  // A chunk that continues a text whose last RFC 3164 line was in `last_month` (1-12) of
  // `year`: the state a sequential reader has at that point, with no rollovers counted yet.
  static YearInference continuing(int year, int last_month) {
    YearInference y(year, 12);
    y.last_month_ = last_month;
    return y;
  }
  int year_for(int month);
  std::uint64_t rollovers() const { return rollovers_; }
  // The year of the last line (the seed's year before any), and its month (0: none yet); what
  // a chunked reader passes to continuing() for the next chunk.
  int year() const { return year_; }
  int last_month() const { return last_month_; }

 private:
  int year_;
  int file_month_;
  int last_month_ = 0;
  std::uint64_t rollovers_ = 0;
};

// A parsed envelope; views into the line. The time is still civil: resolve_time makes it UTC.
struct Envelope {
  EnvelopeFormat format = EnvelopeFormat::none;
  int year = 0;  // 0: not in the line (RFC 3164)
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::uint32_t nanos = 0;
  bool has_offset = false;
  std::int32_t offset_seconds = 0;
  std::string_view host, program, pid, message;
  // RFC 3164 without a fraction of a second: the bytes the timestamp takes at the line's start
  // (0 otherwise). The timestamp is read from them alone, so a line that starts with the same
  // bytes followed by a space has the same civil time (parse_line skips re-reading it).
  std::size_t rfc3164_time_bytes = 0;
};

// RFC 3164, RFC 5424 or ISO. nullopt when the line has none of these shapes. Hour, minute and
// second ranges are checked here; whether the day exists in its month is checked by
// resolve_time (it needs the year).
std::optional<Envelope> parse_syslog_envelope(std::string_view line);
// The same into `env`, which must be a default-constructed Envelope; on false `env` is left
// unspecified (parse_line fills one in place: no Envelope copies).
bool parse_syslog_envelope(std::string_view line, Envelope& env);

// The tag and message after the timestamp: "host prog[pid]: msg", "prog[pid]: msg" (no host,
// as in dovecot's own log files), or "host msg" without a tag (program left empty).
void parse_host_tag(std::string_view rest, Envelope& env);
// The same into any four views: parse_line fills its Event's fields directly (copying them
// from an Envelope just written stalled on store forwarding).
void parse_host_tag(std::string_view rest, std::string_view& host, std::string_view& program,
                    std::string_view& pid, std::string_view& message);

// The envelope's time in UTC; false when the date does not exist. Uses `years` when the line
// has no year (and sets *year_inferred), else the line's year.
bool resolve_time(const Envelope& env, const TimeZone& zone, YearInference& years, Timestamp& out,
                  bool& year_inferred);

// Civil fields + optional offset -> UTC; false for a date that does not exist.
bool civil_to_utc(int year, int month, int day, int hour, int minute, int second,
                  std::optional<std::int32_t> offset, const TimeZone& zone, std::int64_t& out);

}  // namespace mw::logs
