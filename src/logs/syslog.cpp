// Syslog envelopes (RFC 3164, RFC 5424, ISO 8601) and their time rules.
#include "logs/syslog.hpp"

#include <cstring>
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
  // Cached per quarter of an hour, not per hour: Lord Howe Island changes its clocks by 30
  // minutes at 02:00 and the Chatham Islands at 02:45, so an hour can hold two offsets (and,
  // when the clocks go back, a half hour that exists twice). Every transition of our time falls
  // on a quarter hour, so the offset is the same throughout each quarter and the answer never
  // depends on which line of it came first (nor on how a file was cut into chunks).
  const std::int64_t hour = local_seconds >= 0 ? local_seconds / 900 : (local_seconds - 899) / 900;
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

// The three bytes as one number, compared with the twelve names': no string compare per month.
constexpr std::uint32_t month_key(std::string_view s) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2]));
}

int month_of(std::string_view s) {
  if (s.size() != 3) return 0;
  const std::uint32_t k = month_key(s);
  for (int i = 0; i < 12; ++i) {
    if (k == month_key(kMonths[i])) return i + 1;
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

bool rfc5424(std::string_view s, Envelope& e) {
  e.format = EnvelopeFormat::rfc5424;
  if (!consume(s, "<")) return false;
  std::uint64_t pri = 0, version = 0;
  if (!scan::uint_prefix(s, pri, 3) || pri > 191 || !consume(s, ">")) return false;
  if (!scan::uint_prefix(s, version, 2) || version == 0 || !consume(s, " ")) return false;
  if (consume(s, "-")) {
    return false;  // a nil timestamp: nothing to place the line in time with
  }
  if (!iso_timestamp(s, e, false) || !consume(s, " ")) return false;
  auto field = [&s](std::string_view& out) {
    const auto sp = s.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    out = s.substr(0, sp);
    s.remove_prefix(sp + 1);
    if (out == "-") out = {};
    return true;
  };
  std::string_view msgid;
  if (!field(e.host) || !field(e.program) || !field(e.pid) || !field(msgid)) return false;
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
      if (i >= s.size()) return false;  // unterminated element
      ++i;                              // past ']'
    }
    s.remove_prefix(i);
  } else {
    return false;
  }
  consume(s, " ");
  consume(s, "\xEF\xBB\xBF");  // the BOM RFC 5424 puts before a UTF-8 message
  e.message = s;
  return true;
}

bool rfc3164(std::string_view line, Envelope& e) {
  std::string_view s = line;
  e.format = EnvelopeFormat::rfc3164;
  if (s.size() < 15) return false;
  e.month = month_of(s.substr(0, 3));
  if (e.month == 0 || s[3] != ' ') return false;
  s.remove_prefix(4);
  if (!s.empty() && s[0] == ' ') s.remove_prefix(1);  // "Nov  6"
  std::uint64_t day = 0;
  if (!scan::uint_prefix(s, day, 2) || day < 1 || day > 31 || !consume(s, " ")) {
    return false;
  }
  e.day = static_cast<int>(day);
  if (!clock_time(s, e)) return false;
  const std::size_t after_clock = s.size();
  fraction(s, e, '.');
  if (s.size() == after_clock) e.rfc3164_time_bytes = line.size() - after_clock;
  if (!consume(s, " ")) return false;
  parse_host_tag(s, e);
  return true;
}

bool iso(std::string_view s, Envelope& e) {
  e.format = EnvelopeFormat::iso;
  if (!iso_timestamp(s, e, true) || !consume(s, " ")) return false;
  parse_host_tag(s, e);
  return true;
}

// Whether one of the eight bytes of `w` is `c` (the classic "has a zero byte" test on w ^ c).
bool has_byte(std::uint64_t w, char c) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  const std::uint64_t x = w ^ (kOnes * static_cast<unsigned char>(c));
  return ((x - kOnes) & ~x & kHighs) != 0;
}

// The first space-delimited token of `rest` (all of it without a space), and whether it is a
// tag: "prog[pid]:" or "prog:" with no other bracket in prog. The end is found eight bytes at
// a time and brackets are only looked for in a token that ends with ':' (this runs twice per
// line, and the host token is never a tag). As before, a "...[pid]:" token sets `pid` even
// when its prog part then fails the test.
bool tag_token(std::string_view rest, std::size_t& token_end, std::string_view& program,
               std::string_view& pid) {
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t n = 0;
  while (n + 8 <= rest.size()) {
    std::uint64_t w;
    std::memcpy(&w, rest.data() + n, 8);
    if (has_byte(w, ' ')) break;
    n += 8;
  }
  while (n < rest.size() && rest[n] != ' ') ++n;
  token_end = n == rest.size() ? npos : n;
  if (n < 2 || rest[n - 1] != ':') return false;
  std::size_t name_len = n - 1;
  if (rest[n - 2] == ']') {
    std::size_t open = n - 2;  // the last '[' before the ']'
    while (open > 0 && rest[open - 1] != '[') --open;
    if (open <= 1) return false;  // no '[', or "[pid]:" with an empty name
    --open;
    pid = rest.substr(open + 1, n - 2 - (open + 1));
    name_len = open;
  }
  for (std::size_t i = 0; i < name_len; ++i) {
    if (rest[i] == '[' || rest[i] == ']') return false;
  }
  program = rest.substr(0, name_len);
  return true;
}

}  // namespace

void parse_host_tag(std::string_view rest, std::string_view& host, std::string_view& program,
                    std::string_view& pid, std::string_view& message) {
  std::size_t first_sp = 0;
  // A first token that is already a tag: no host in the line.
  if (tag_token(rest, first_sp, program, pid)) {
    message = first_sp == std::string_view::npos ? std::string_view{} : rest.substr(first_sp + 1);
    return;
  }
  host = rest.substr(0, first_sp);
  if (first_sp == std::string_view::npos) return;
  rest.remove_prefix(first_sp + 1);
  std::size_t sp = 0;
  if (tag_token(rest, sp, program, pid)) {
    message = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  } else {
    message = rest;  // a line without a tag ("-- MARK --"): no program
  }
}

void parse_host_tag(std::string_view rest, Envelope& e) {
  parse_host_tag(rest, e.host, e.program, e.pid, e.message);
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

bool parse_syslog_envelope(std::string_view line, Envelope& env) {
  if (line.empty()) return false;
  if (line[0] == '<') return rfc5424(line, env);
  if (is_digit(line[0])) return iso(line, env);
  return rfc3164(line, env);
}

std::optional<Envelope> parse_syslog_envelope(std::string_view line) {
  Envelope env;
  if (!parse_syslog_envelope(line, env)) return std::nullopt;
  return env;
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
