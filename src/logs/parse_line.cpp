// The dispatcher from a line to its envelope and program parser.
#include "logs/parse_line.hpp"

#include <cstdint>
#include <cstring>

#include "logs/field_scan.hpp"

namespace mw::logs {

void ParseContext::note_time(const Timestamp& t) {
  if (have_last_ && t < last_) ++counts_.time_backwards;
  have_last_ = true;
  last_ = t;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Log lines are nearly always ASCII: 32, then 8 bytes at a time until a byte has its top
    // bit (four words OR-ed together: one test per 32 bytes).
    while (i + 32 <= n) {
      // Four separate loads: a memcpy into an array went through the stack.
      std::uint64_t a, b, c, d;
      std::memcpy(&a, p + i, 8);
      std::memcpy(&b, p + i + 8, 8);
      std::memcpy(&c, p + i + 16, 8);
      std::memcpy(&d, p + i + 24, 8);
      if (((a | b | c | d) & 0x8080808080808080ull) != 0) break;
      i += 32;
    }
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    // Fewer than eight bytes left: when the last eight bytes of the text (which hold them)
    // are ASCII, so are they.
    if (i + 8 > n && n >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p + n - 8, 8);
      if ((w & 0x8080808080808080ull) == 0) break;
    }
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

namespace {

void finish(const Event& ev, ParseContext& ctx) {
  auto& c = ctx.counts();
  ++c.by_kind[static_cast<std::size_t>(ev.line_kind)];
  if (ev.line_kind == LineKind::message_unknown) {
    ++c.message_unknown_by_program[static_cast<std::size_t>(ev.program_kind)];
  }
  c.year_rollovers = ctx.years().rollovers();
}

void apply_facts(Event& ev, const std::optional<Facts>& facts) {
  if (facts) {
    ev.facts = *facts;
    ev.line_kind = LineKind::parsed;
  } else {
    ev.line_kind = LineKind::message_unknown;
  }
}

// After a parser that wrote into ev.facts in place (no Facts copies): a parser that fails
// may leave them part-filled, so they are cleared.
void fill_facts(Event& ev, bool parsed) {
  if (parsed) {
    ev.line_kind = LineKind::parsed;
  } else {
    ev.facts = Facts{};
    ev.line_kind = LineKind::message_unknown;
  }
}

void zimbra_event(Event& ev, const Log4jLine& l, ParseContext& ctx) {
  ev.program_kind = l.category == "security" ? Program::zimbra_audit : Program::zimbra_mailbox;
  ev.program = l.category;
  ev.message = l.message;
  apply_facts(ev, parse_zimbra(l, ctx.trusted()));
}

}  // namespace

Event parse_line(std::string_view line, ParseContext& ctx) {
  Event ev;
  parse_line(line, ctx, ev);
  return ev;
}

void parse_line(std::string_view line, ParseContext& ctx, Event& ev) {
  ++ctx.counts().lines;
  bool cut = false;
  if (line.size() > kMaxLineBytes) {
    line = line.substr(0, kMaxLineBytes);
    cut = true;
  }
  if (!cut && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (scan::trim(line).empty()) {
    ev.line_kind = LineKind::empty;
    return finish(ev, ctx);
  }
  if (!is_valid_utf8(line) && !cut) ++ctx.counts().invalid_utf8;

  // Zimbra's log4j layout first: it also starts with a digit, like ISO syslog lines.
  if (scan::is_digit(line[0])) {
    if (auto l = parse_log4j_line(line)) {
      ev.envelope = EnvelopeFormat::log4j;
      std::int64_t secs = 0;
      if (!civil_to_utc(l->year, l->month, l->day, l->hour, l->minute, l->second, std::nullopt,
                        ctx.zone(), secs)) {
        ev.line_kind = LineKind::timestamp_invalid;
        return finish(ev, ctx);
      }
      ev.has_time = true;
      ev.time = {secs, l->nanos};
      ctx.note_time(ev.time);
      if (cut) {
        ev.line_kind = LineKind::too_long;
        return finish(ev, ctx);
      }
      zimbra_event(ev, *l, ctx);
      return finish(ev, ctx);
    }
  }

  Rfc3164Memo& memo = ctx.rfc3164_memo();
  if (memo.bytes != 0 && line.size() > memo.bytes && line[memo.bytes] == ' ' &&
      memo.matches(line.data())) {
    // The same timestamp bytes as the line the memo was made from: rfc3164 would read the
    // same civil time. The year still comes from YearInference and the offset from the zone,
    // line by line, as resolve_time does (a zone may cache per hour, or be shared).
    ev.envelope = EnvelopeFormat::rfc3164;
    parse_host_tag(line.substr(memo.bytes + 1), ev.host, ev.program, ev.pid, ev.message);
    ev.year_inferred = true;
    const int year = ctx.years().year_for(memo.month);
    std::int64_t secs = 0;
    if (year == memo.year) {
      secs = memo.local - ctx.zone().offset_for_local(memo.local);
    } else {
      // Not seen in practice (the month, hence the year, is the memo's): the full rule.
      memo.bytes = 0;
      if (!civil_to_utc(year, memo.month, memo.day, memo.hour, memo.minute, memo.second,
                        std::nullopt, ctx.zone(), secs)) {
        ev.line_kind = LineKind::timestamp_invalid;
        return finish(ev, ctx);
      }
    }
    ev.time = {secs, 0};
  } else {
    Envelope env;
    if (!parse_syslog_envelope(line, env)) {
      ev.line_kind = cut ? LineKind::too_long : LineKind::envelope_unknown;
      return finish(ev, ctx);
    }
    ev.envelope = env.format;
    ev.host = env.host;
    ev.program = env.program;
    ev.pid = env.pid;
    ev.message = env.message;
    const bool ok = resolve_time(env, ctx.zone(), ctx.years(), ev.time, ev.year_inferred);
    memo.bytes = 0;
    if (ok && env.rfc3164_time_bytes >= 8 && env.rfc3164_time_bytes <= memo.text.size()) {
      std::memcpy(memo.text.data(), line.data(), env.rfc3164_time_bytes);
      memo.bytes = env.rfc3164_time_bytes;
      memo.month = env.month;
      memo.day = env.day;
      memo.hour = env.hour;
      memo.minute = env.minute;
      memo.second = env.second;
      memo.year = ctx.years().year();
      // civil_to_utc's local time, which resolve_time has just found to be a real date.
      memo.local = days_from_civil(memo.year, static_cast<unsigned>(memo.month),
                                   static_cast<unsigned>(memo.day)) *
                       86400 +
                   memo.hour * 3600 + memo.minute * 60 + memo.second;
    }
    if (!ok) {
      ev.line_kind = LineKind::timestamp_invalid;
      return finish(ev, ctx);
    }
  }
  ev.has_time = true;
  ctx.note_time(ev.time);
  if (cut) {
    ev.line_kind = LineKind::too_long;
    return finish(ev, ctx);
  }

  const auto tag = ev.program;
  if (tag.empty()) {
    ev.line_kind = LineKind::program_unknown;
  } else if (is_postfix_tag(tag)) {
    ev.program_kind = Program::postfix;
    fill_facts(ev, parse_postfix(tag, ev.message, ev.facts));
  } else if (tag == "sshd" || tag == "sshd-session") {
    ev.program_kind = Program::sshd;
    apply_facts(ev, parse_sshd(ev.message));
  } else if (tag == "amavis" || tag == "amavisd" || tag == "amavisd-new") {
    ev.program_kind = Program::amavis;
    fill_facts(ev, parse_amavis(ev.message, ev.facts));
  } else if (is_dovecot_tag(tag) || (tag == "master" && ev.host.empty())) {
    // Dovecot's own log file has no host; its master process logs as "master".
    ev.program_kind = Program::dovecot;
    fill_facts(ev, parse_dovecot(tag, ev.message, ev.facts));
  } else if (tag == "mailboxd") {
    // mailboxd's syslog appender: "INFO  [thread] [ctx] category - message".
    ev.program_kind = Program::zimbra_mailbox;
    if (auto l = parse_log4j_body(ev.message)) {
      zimbra_event(ev, *l, ctx);
    } else {
      ev.line_kind = LineKind::message_unknown;
    }
  } else {
    ev.line_kind = LineKind::program_unknown;
  }
  finish(ev, ctx);
}

}  // namespace mw::logs
