// Envelopes (RFC 3164, RFC 5424, ISO / short-iso, hostless), time zones, year inference.
#include "logs/syslog.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

using test::Fixture;

std::int64_t utc(int y, int mo, int d, int h, int mi, int s) {
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + s;
}

TEST(Syslog, Rfc3164Forms) {
  Fixture fx;
  auto e = fx.parse("Nov 28 23:55:58 mail postfix/smtpd[123]: connect from unknown[192.0.2.1]");
  EXPECT_EQ(e.envelope, EnvelopeFormat::rfc3164);
  EXPECT_EQ(e.host, "mail");
  EXPECT_EQ(e.program, "postfix/smtpd");
  EXPECT_EQ(e.pid, "123");
  EXPECT_EQ(e.message, "connect from unknown[192.0.2.1]");
  EXPECT_TRUE(e.year_inferred);
  EXPECT_EQ(e.time.seconds, utc(2026, 11, 28, 23, 55, 58));
  // Space-padded and unpadded days, fractional seconds (Postfix's maillog_file, rsyslog).
  auto p = fx.parse("Dec  6 01:02:03.250 mail sshd[9]: Server listening on 0.0.0.0 port 22.");
  EXPECT_EQ(p.time.seconds, utc(2026, 12, 6, 1, 2, 3));
  EXPECT_EQ(p.time.nanos, 250000000u);
  auto u = fx.parse("Dec 6 01:02:04 mail sshd[9]: Server listening on :: port 22.");
  EXPECT_EQ(u.time.seconds, utc(2026, 12, 6, 1, 2, 4));
  // No host: dovecot's own log file.
  auto d =
      fx.parse("Dec  6 01:02:05 imap-login: Info: Login: user=<a>, method=PLAIN, rip=192.0.2.9");
  EXPECT_EQ(d.host, "");
  EXPECT_EQ(d.program, "imap-login");
  EXPECT_EQ(d.line_kind, LineKind::parsed);
  // A tag without pid; a line without a tag.
  auto t = fx.parse("Dec  6 01:02:06 mail dovecot: master: Dovecot v2.3.19 starting up");
  EXPECT_EQ(t.program, "dovecot");
  EXPECT_EQ(t.pid, "");
  auto m = fx.parse("Dec  6 01:02:07 mail -- MARK --");
  EXPECT_EQ(m.line_kind, LineKind::program_unknown);
}

TEST(Syslog, Rfc5424) {
  Fixture fx;
  auto e = fx.parse(
      "<34>1 2026-11-28T23:55:58.123Z mail postfix/smtpd 4242 - - connect from "
      "unknown[192.0.2.1]");
  EXPECT_EQ(e.envelope, EnvelopeFormat::rfc5424);
  EXPECT_EQ(e.program, "postfix/smtpd");
  EXPECT_EQ(e.pid, "4242");
  EXPECT_EQ(e.time.seconds, utc(2026, 11, 28, 23, 55, 58));
  EXPECT_EQ(e.time.nanos, 123000000u);
  EXPECT_FALSE(e.year_inferred);
  EXPECT_EQ(e.facts.kind, EventKind::connect);
  // Structured data with an escaped ']' and a BOM before the message; offsets.
  auto s = fx.parse(
      "<13>1 2026-11-28T23:55:58+01:00 mail sshd - ID47 [ex@32473 a=\"x\\]y\"] "
      "\xEF\xBB\xBF"
      "Accepted password for bob from 192.0.2.4 port 5 ssh2");
  EXPECT_EQ(s.time.seconds, utc(2026, 11, 28, 22, 55, 58));
  EXPECT_EQ(s.facts.kind, EventKind::auth);
  EXPECT_EQ(s.facts.account, "bob");
  EXPECT_EQ(fx.parse("<13>1 - mail sshd - - - x").line_kind, LineKind::envelope_unknown);
  EXPECT_EQ(fx.parse("<13>1 2026-11-28T23:55:58Z mail sshd - - [unterminated").line_kind,
            LineKind::envelope_unknown);
}

TEST(Syslog, IsoAndShortIso) {
  Fixture fx;
  // rsyslog RSYSLOG_FileFormat and journalctl -o short-iso (old "+0100" and new "+01:00").
  auto r = fx.parse(
      "2026-11-28T23:55:58.123456+01:00 mail sshd[7]: Failed password for root "
      "from 2001:db8::5 port 22 ssh2");
  EXPECT_EQ(r.envelope, EnvelopeFormat::iso);
  EXPECT_EQ(r.time.seconds, utc(2026, 11, 28, 22, 55, 58));
  EXPECT_EQ(r.time.nanos, 123456000u);
  EXPECT_EQ(r.facts.client_ip, "2001:db8::5");
  auto j = fx.parse("2026-11-28T23:55:58+0100 mail sshd[7]: Server listening on :: port 22.");
  EXPECT_EQ(j.time.seconds, utc(2026, 11, 28, 22, 55, 58));
  auto z = fx.parse("2026-11-28T23:55:58Z mail sshd[7]: Server listening on :: port 22.");
  EXPECT_EQ(z.time.seconds, utc(2026, 11, 28, 23, 55, 58));
  // No zone: the context's zone (here UTC).
  auto n = fx.parse("2026-11-28 23:55:58 auth-worker(1): Info: pam(u,192.0.2.1): unknown user");
  EXPECT_EQ(n.time.seconds, utc(2026, 11, 28, 23, 55, 58));
  EXPECT_EQ(n.facts.client_ip, "192.0.2.1");
}

TEST(Syslog, InvalidDatesAndTimes) {
  Fixture fx;  // year 2026: not a leap year
  EXPECT_EQ(fx.parse("Feb 29 10:00:00 h sshd[1]: x").line_kind, LineKind::timestamp_invalid);
  EXPECT_EQ(fx.parse("2026-02-30T10:00:00Z h sshd[1]: x").line_kind, LineKind::timestamp_invalid);
  EXPECT_EQ(fx.parse("Feb 28 24:00:00 h sshd[1]: x").line_kind, LineKind::envelope_unknown);
  EXPECT_EQ(fx.parse("Foo 28 10:00:00 h sshd[1]: x").line_kind, LineKind::envelope_unknown);
  EXPECT_EQ(fx.parse("2026-13-01T10:00:00Z h sshd[1]: x").line_kind, LineKind::envelope_unknown);
  EXPECT_EQ(fx.ctx.counts().count(LineKind::timestamp_invalid), 2u);
}

TEST(Syslog, ZonesAreInjected) {
  FixedOffsetZone plus2(7200);
  ParseContext ctx(plus2, YearInference(2026, 12));
  auto e = parse_line("Nov 28 23:55:58 mail sshd[1]: Server listening on :: port 22.", ctx);
  EXPECT_EQ(e.time.seconds, utc(2026, 11, 28, 21, 55, 58));
  // An explicit offset wins over the zone.
  auto o = parse_line("2026-11-28T23:55:58Z mail sshd[1]: Server listening on :: port 22.", ctx);
  EXPECT_EQ(o.time.seconds, utc(2026, 11, 28, 23, 55, 58));

  auto z = make_time_zone("+05:30");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ((*z)->offset_for_local(0), 5 * 3600 + 1800);
  EXPECT_EQ((*make_time_zone("UTC"))->offset_for_local(0), 0);
  EXPECT_EQ((*make_time_zone("-0500"))->offset_for_local(0), -5 * 3600);
  EXPECT_FALSE(make_time_zone("Mars/Olympus").ok());
  EXPECT_FALSE(make_time_zone("+25:00").ok());
}

TEST(Syslog, ProcessLocalZoneFollowsTzAcrossDst) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);  // POSIX rule: no tzdata needed
  tzset();
  ProcessLocalZone zone;
  EXPECT_EQ(zone.offset_for_local(utc(2026, 1, 15, 12, 0, 0)), 3600);
  EXPECT_EQ(zone.offset_for_local(utc(2026, 7, 15, 12, 0, 0)), 7200);
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

// Consecutive lines sharing a timestamp reuse the previous line's date arithmetic (the memo
// in ParseContext); the offset must still be the zone's at each line. Lord Howe Island moves
// its clocks by 30 minutes, inside an hour: one context for all the lines, and a fresh
// context per line, give the same times, also with two contexts sharing one zone.
TEST(Syslog, RepeatedTimestampsGiveTheSameTimesAsFreshParsesAcrossAHalfHourDst) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  // POSIX rule of Australia/Lord_Howe: +10:30 standard, +11 summer, from the first Sunday of
  // October 02:00 to the first Sunday of April 02:00 (no tzdata needed).
  setenv("TZ", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 1);
  tzset();
  std::vector<std::string> lines;
  for (const char* t : {"Oct  4 01:29:59", "Oct  4 01:59:59", "Oct  4 01:59:59", "Oct  4 02:30:00",
                        "Oct  4 02:30:00", "Oct  4 02:45:10", "Apr  5 01:15:00", "Apr  5 01:45:00",
                        "Apr  5 01:45:00", "Apr  5 02:10:00", "Apr  5 02:10:00"})
    lines.push_back(std::string(t) + " h sshd[1]: Server listening on :: port 22.");
  ProcessLocalZone shared;
  ParseContext a(shared, YearInference(2026, 10)), b(shared, YearInference(2026, 10));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ProcessLocalZone fresh_zone;
    ParseContext fresh(fresh_zone, YearInference(2026, 10));
    const auto want = parse_line(lines[i], fresh);
    ASSERT_EQ(want.line_kind, LineKind::parsed) << lines[i];
    // a and b take turns on the shared zone, so that its cache moves under each one's memo.
    ParseContext& ctx = i % 3 == 1 ? b : a;
    const auto got = parse_line(lines[i], ctx);
    EXPECT_EQ(got.time, want.time) << lines[i];
  }
  // 02:30 on Oct 4 is the first summer minute: +11.
  EXPECT_EQ(parse_line(lines[3], a).time.seconds, utc(2026, 10, 3, 15, 30, 0));
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST(Syslog, YearRolloverFromFileTime) {
  // A file modified in January 2027 that starts in December: Dec is 2026, Jan 2027.
  FixedOffsetZone z(0);
  ParseContext ctx(z, YearInference(2027, 1));
  auto a = parse_line("Dec 31 23:59:59 h sshd[1]: Server listening on :: port 22.", ctx);
  auto b = parse_line("Jan  1 00:00:01 h sshd[1]: Server listening on :: port 22.", ctx);
  EXPECT_EQ(a.time.seconds, utc(2026, 12, 31, 23, 59, 59));
  EXPECT_EQ(b.time.seconds, utc(2027, 1, 1, 0, 0, 1));
  EXPECT_EQ(ctx.counts().year_rollovers, 1u);
  EXPECT_EQ(ctx.counts().time_backwards, 0u);
}

TEST(Syslog, BackwardTimeIsCountedNotRolledOver) {
  FixedOffsetZone z(0);
  ParseContext ctx(z, YearInference(2026, 12));
  parse_line("Nov 28 10:00:00 h sshd[1]: Server listening on :: port 22.", ctx);
  auto b = parse_line("Nov 28 09:00:00 h sshd[1]: Server listening on :: port 22.", ctx);
  auto c = parse_line("Oct  1 09:00:00 h sshd[1]: Server listening on :: port 22.", ctx);
  EXPECT_EQ(b.time.seconds, utc(2026, 11, 28, 9, 0, 0));
  EXPECT_EQ(c.time.seconds, utc(2026, 10, 1, 9, 0, 0));  // same year: went backwards
  EXPECT_EQ(ctx.counts().time_backwards, 2u);
  EXPECT_EQ(ctx.counts().year_rollovers, 0u);
  EXPECT_EQ(ctx.counts().count(LineKind::parsed), 3u);
}

TEST(Syslog, FirstLineAfterFileMonthIsLastYear) {
  YearInference y(2026, 3);
  EXPECT_EQ(y.year_for(11), 2025);
  EXPECT_EQ(y.year_for(12), 2025);
  EXPECT_EQ(y.year_for(1), 2026);
  EXPECT_EQ(y.year_for(3), 2026);
  EXPECT_EQ(y.rollovers(), 1u);
}

TEST(Syslog, CivilDays) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_in_month(2024, 2), 29u);
  EXPECT_EQ(days_in_month(2100, 2), 28u);
}

}  // namespace
}  // namespace mw::logs
