// Syslog envelopes (RFC 3164, RFC 5424, ISO 8601) and their time rules.
#include "logs/syslog.hpp"

#include <ctime>
#include <string>

#include "logs/field_scan.hpp"

namespace mw::logs {

using scan::consume;
using scan::fixed_digits;
using scan::is_digit;

bool is_leap_year(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2 && is_leap_year(year)) return 29;
  return kDays[month - 1];
}

// The usual era-based conversion: years counted from March so that the leap day is last.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int32_t ProcessLocalZone::offset_for_local(std::int64_t local_seconds) const {
  const std::int64_t hour =
      local_seconds >= 0 ? local_seconds / 3600 : (local_seconds - 3599) / 3600;
  if (hour == cached_hour_) return cached_offset_;
  auto gmtoff_at = [](std::int64_t t) -> std::int32_t {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (localtime_r(&tt, &tm) == nullptr) return 0;
    return static_cast<std::int32_t>(tm.tm_gmtoff);
  };
  // Two steps: the offset at the guessed instant, then at the instant that offset gives.
  std::int32_t off = gmtoff_at(local_seconds);
  off = gmtoff_at(local_seconds - off);
  cached_hour_ = hour;
  cached_offset_ = off;
  return off;
}

namespace {

// "+01:00", "-0500", "+1", "Z" -> seconds east of UTC.
bool parse_offset_text(std::string_view s, std::int32_t& out) {
  if (s == "Z" || s == "UTC" || s == "utc" || s == "GMT") {
    out = 0;
    return true;
  }
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  const int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  int h = 0, m = 0;
  if (s.size() == 1 || s.size() == 2) {
    std::uint64_t v = 0;
    if (!scan::whole_uint(s, v, 2)) return false;
    h = static_cast<int>(v);
  } else {
    if (!fixed_digits(s, 2, h)) return false;
    consume(s, ":");
    if (!fixed_digits(s, 2, m) || !s.empty()) return false;
  }
  if (h > 14 || m > 59) return false;
  out = sign * (h * 3600 + m * 60);
  return true;
}

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_of(std::string_view s) {
  for (int i = 0; i < 12; ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return 0;
}

// "hh:mm:ss" with range checks (second 60 allowed: a leap second is printed as such).
bool clock_time(std::string_view& s, Envelope& e) {
  if (!fixed_digits(s, 2, e.hour) || !consume(s, ":") || !fixed_digits(s, 2, e.minute) ||
      !consume(s, ":") || !fixed_digits(s, 2, e.second)) {
    return false;
  }
  return e.hour <= 23 && e.minute <= 59 && e.second <= 60;
}

// ".123456" / ",123": up to nine digits kept as nanoseconds; further digits are skipped.
void fraction(std::string_view& s, Envelope& e, char mark) {
  if (s.size() < 2 || s[0] != mark || !is_digit(s[1])) return;
  s.remove_prefix(1);
  std::uint32_t v = 0;
  int n = 0;
  while (!s.empty() && is_digit(s[0])) {
    if (n < 9) {
      v = v * 10 + static_cast<std::uint32_t>(s[0] - '0');
      ++n;
    }
    s.remove_prefix(1);
  }
  while (n < 9) {
    v *= 10;
    ++n;
  }
  e.nanos = v;
}

// "YYYY-MM-DD" + separator + "hh:mm:ss[.frac]" + optional zone.
bool iso_timestamp(std::string_view& s, Envelope& e, bool allow_space_separator) {
  if (!fixed_digits(s, 4, e.year) || !consume(s, "-") || !fixed_digits(s, 2, e.month) ||
      !consume(s, "-") || !fixed_digits(s, 2, e.day) || s.empty()) {
    return false;
  }
  if (s[0] == 'T' || (allow_space_separator && s[0] == ' ')) {
    s.remove_prefix(1);
  } else {
    return false;
  }
  if (!clock_time(s, e)) return false;
  fraction(s, e, '.');
  if (!s.empty() && (s[0] == 'Z' || s[0] == '+' || s[0] == '-')) {
    std::size_t n = 1;
    if (s[0] != 'Z') {
      while (n < s.size() && n < 6 && (is_digit(s[n]) || s[n] == ':')) ++n;
    }
    if (!parse_offset_text(s.substr(0, n), e.offset_seconds)) return false;
    e.has_offset = true;
    s.remove_prefix(n);
  }
  return e.month >= 1 && e.month <= 12 && e.day >= 1 && e.day <= 31;
}

std::optional<Envelope> rfc5424(std::string_view s) {
  Envelope e;
  e.format = EnvelopeFormat::rfc5424;
  if (!consume(s, "<")) return std::nullopt;
  std::uint64_t pri = 0, version = 0;
  if (!scan::uint_prefix(s, pri, 3) || pri > 191 || !consume(s, ">")) return std::nullopt;
  if (!scan::uint_prefix(s, version, 2) || version == 0 || !consume(s, " ")) return std::nullopt;
  if (consume(s, "-")) {
    return std::nullopt;  // a nil timestamp: nothing to place the line in time with
  }
  if (!iso_timestamp(s, e, false) || !consume(s, " ")) return std::nullopt;
  auto field = [&s](std::string_view& out) {
    const auto sp = s.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    out = s.substr(0, sp);
    s.remove_prefix(sp + 1);
    if (out == "-") out = {};
    return true;
  };
  std::string_view msgid;
  if (!field(e.host) || !field(e.program) || !field(e.pid) || !field(msgid)) return std::nullopt;
  // STRUCTURED-DATA: "-" or "[id k="v" ...]..." where '"', '\' and ']' are escaped by '\'.
  if (consume(s, "-")) {
  } else if (!s.empty() && s[0] == '[') {
    std::size_t i = 0;
    while (i < s.size() && s[i] == '[') {
      bool quoted = false;
      ++i;
      for (; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted && c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = !quoted;
        } else if (!quoted && c == ']') {
          break;
        }
      }
      if (i >= s.size()) return std::nullopt;  // unterminated element
      ++i;                                     // past ']'
    }
    s.remove_prefix(i);
  } else {
    return std::nullopt;
  }
  consume(s, " ");
  consume(s, "\xEF\xBB\xBF");  // the BOM RFC 5424 puts before a UTF-8 message
  e.message = s;
  return e;
}

std::optional<Envelope> rfc3164(std::string_view s) {
  Envelope e;
  e.format = EnvelopeFormat::rfc3164;
  if (s.size() < 15) return std::nullopt;
  e.month = month_of(s.substr(0, 3));
  if (e.month == 0 || s[3] != ' ') return std::nullopt;
  s.remove_prefix(4);
  if (!s.empty() && s[0] == ' ') s.remove_prefix(1);  // "Nov  6"
  std::uint64_t day = 0;
  if (!scan::uint_prefix(s, day, 2) || day < 1 || day > 31 || !consume(s, " ")) {
    return std::nullopt;
  }
  e.day = static_cast<int>(day);
  if (!clock_time(s, e)) return std::nullopt;
  fraction(s, e, '.');
  if (!consume(s, " ")) return std::nullopt;
  parse_host_tag(s, e);
  return e;
}

std::optional<Envelope> iso(std::string_view s) {
  Envelope e;
  e.format = EnvelopeFormat::iso;
  if (!iso_timestamp(s, e, true) || !consume(s, " ")) return std::nullopt;
  parse_host_tag(s, e);
  return e;
}

// "prog[pid]:" or "prog:" as the whole token (with its colon).
bool tag_token(std::string_view token, Envelope& e) {
  if (token.size() < 2 || token.back() != ':') return false;
  token.remove_suffix(1);
  if (token.back() == ']') {
    const auto open = token.rfind('[');
    if (open == std::string_view::npos || open == 0) return false;
    e.pid = token.substr(open + 1, token.size() - open - 2);
    token = token.substr(0, open);
  }
  if (token.empty() || token.find_first_of("[]") != std::string_view::npos) return false;
  e.program = token;
  return true;
}

}  // namespace

void parse_host_tag(std::string_view rest, Envelope& e) {
  auto first_sp = rest.find(' ');
  auto first = rest.substr(0, first_sp);
  // A first token that is already a tag: no host in the line.
  if (tag_token(first, e)) {
    e.message = first_sp == std::string_view::npos ? std::string_view{} : rest.substr(first_sp + 1);
    return;
  }
  e.host = first;
  if (first_sp == std::string_view::npos) return;
  rest.remove_prefix(first_sp + 1);
  const auto sp = rest.find(' ');
  auto tag = rest.substr(0, sp);
  if (tag_token(tag, e)) {
    e.message = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  } else {
    e.message = rest;  // a line without a tag ("-- MARK --"): no program
  }
}

int YearInference::year_for(int month) {
  if (last_month_ == 0) {
    if (month > file_month_) --year_;
  } else if (last_month_ - month > 6) {
    ++year_;
    ++rollovers_;
  }
  last_month_ = month;
  return year_;
}

std::optional<Envelope> parse_syslog_envelope(std::string_view line) {
  if (line.empty()) return std::nullopt;
  if (line[0] == '<') return rfc5424(line);
  if (is_digit(line[0])) return iso(line);
  return rfc3164(line);
}

bool civil_to_utc(int year, int month, int day, int hour, int minute, int second,
                  std::optional<std::int32_t> offset, const TimeZone& zone, std::int64_t& out) {
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return false;
  }
  const std::int64_t local =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second;
  out = local - (offset ? *offset : zone.offset_for_local(local));
  return true;
}

bool resolve_time(const Envelope& env, const TimeZone& zone, YearInference& years, Timestamp& out,
                  bool& year_inferred) {
  int year = env.year;
  year_inferred = false;
  if (year == 0) {
    year = years.year_for(env.month);
    year_inferred = true;
  }
  std::optional<std::int32_t> offset;
  if (env.has_offset) offset = env.offset_seconds;
  std::int64_t secs = 0;
  if (!civil_to_utc(year, env.month, env.day, env.hour, env.minute, env.second, offset, zone,
                    secs)) {
    return false;
  }
  out.seconds = secs;
  out.nanos = env.nanos;
  return true;
}

Result<std::unique_ptr<TimeZone>> make_time_zone(std::string_view spec) {
  if (spec.empty() || spec == "local") {
    return std::unique_ptr<TimeZone>(std::make_unique<ProcessLocalZone>());
  }
  std::int32_t off = 0;
  if (!parse_offset_text(spec, off)) {
    return Error{"time zone '" + std::string(spec) +
                 "': expected local, UTC or an offset such as +01:00 (a named zone is set "
                 "through the TZ environment variable)"};
  }
  return std::unique_ptr<TimeZone>(std::make_unique<FixedOffsetZone>(off));
}

}  // namespace mw::logs
