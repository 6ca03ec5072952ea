// Postfix messages: one case per kind, SASL failure lines of every Postfix version, IPv6 and
// unknown clients, the queue life of one message (smtpd -> cleanup -> qmgr -> smtp -> removed).
#include <gtest/gtest.h>

#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

using test::Fixture;

Facts parse_ok(std::string_view line) {
  Fixture fx;
  auto e = fx.parse(line);
  EXPECT_EQ(e.line_kind, LineKind::parsed) << line;
  EXPECT_EQ(e.program_kind, Program::postfix) << line;
  return e.facts;
}

TEST(Postfix, SaslFailureWithoutUsername) {  // Postfix < 3.5.22 / 3.6.12 / 3.7.8, 3.8.0-3.8.2
  auto f = parse_ok(
      "Sep  6 00:44:56 trianon postfix/submission/smtpd[11538]: warning: "
      "unknown[82.221.106.233]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
  EXPECT_EQ(f.kind, EventKind::auth);
  EXPECT_EQ(f.outcome, Outcome::failure);
  EXPECT_EQ(f.protocol, Protocol::submission);
  EXPECT_EQ(f.client_name, "unknown");
  EXPECT_EQ(f.client_ip, "82.221.106.233");
  EXPECT_EQ(f.method, "LOGIN");
  EXPECT_EQ(f.reason, "UGFzc3dvcmQ6");
  EXPECT_EQ(f.account, "");
}

TEST(Postfix, SaslFailureWithUsername) {  // 3.5.22, 3.6.12, 3.7.8, 3.8.3 and later
  auto f = parse_ok(
      "Nov 28 23:55:58 mx postfix/smtps/smtpd[42]: warning: unknown[192.0.2.1]: "
      "SASL PLAIN authentication failed: authentication failure, "
      "sasl_username=alice@example.com");
  EXPECT_EQ(f.protocol, Protocol::submission);
  EXPECT_EQ(f.account, "alice@example.com");
  EXPECT_EQ(f.reason, "authentication failure");
  EXPECT_EQ(f.client_ip, "192.0.2.1");
}

TEST(Postfix, SaslFailureUsernameUnavailable) {
  auto f = parse_ok(
      "Nov 28 23:55:58 mx postfix/smtpd[42]: warning: host.example[2001:db8::5]: "
      "SASL LOGIN authentication failed: (reason unavailable), "
      "sasl_username=(unavailable)");
  EXPECT_EQ(f.protocol, Protocol::smtp);
  EXPECT_EQ(f.account, "");
  EXPECT_EQ(f.reason, "(reason unavailable)");
  EXPECT_EQ(f.client_ip, "2001:db8::5");
  EXPECT_EQ(f.client_name, "host.example");
}

TEST(Postfix, SaslFailureEmptyReasonAndPort) {
  auto a = parse_ok(
      "Aug 3 15:30:49 ksusha postfix/smtpd[17041]: warning: "
      "mail.foldsandwalker.com[98.191.84.74]: SASL Plain authentication failed:");
  EXPECT_EQ(a.reason, "");
  EXPECT_EQ(a.method, "Plain");
  auto b = parse_ok(
      "Aug 4 16:47:52 mail3 postfix/smtpd[31152]: warning: unknown[192.0.2.237]:55729:"
      " SASL LOGIN authentication failed: authentication failure");
  EXPECT_EQ(b.client_port, 55729);
  EXPECT_EQ(b.client_ip, "192.0.2.237");
}

TEST(Postfix, SaslSuccessIsTheClientLine) {
  auto f = parse_ok(
      "Nov 28 23:55:59 mx postfix/submission/smtpd[43]: 4ABCD1234: "
      "client=unknown[192.0.2.1]:51234, sasl_method=PLAIN, "
      "sasl_username=bob@example.com");
  EXPECT_EQ(f.kind, EventKind::message_client);
  EXPECT_EQ(f.outcome, Outcome::success);
  EXPECT_EQ(f.queue_id, "4ABCD1234");
  EXPECT_EQ(f.account, "bob@example.com");
  EXPECT_EQ(f.method, "PLAIN");
  EXPECT_EQ(f.client_port, 51234);
  auto plain = parse_ok(
      "Nov 28 23:55:59 mx postfix/smtpd[43]: 4ABCD1234: client=mx.example.org"
      "[198.51.100.7]");
  EXPECT_EQ(plain.outcome, Outcome::none);
  EXPECT_EQ(plain.account, "");
}

TEST(Postfix, ConnectDisconnectLost) {
  auto c = parse_ok("Nov 28 23:55:58 mx postfix/smtpd[42]: connect from unknown[192.0.2.1]");
  EXPECT_EQ(c.kind, EventKind::connect);
  EXPECT_EQ(c.client_ip, "192.0.2.1");
  auto d = parse_ok(
      "Feb 10 13:26:34 srv postfix/smtpd[123]: disconnect from unknown[192.0.2.2] "
      "ehlo=1 auth=0/1 rset=1 quit=1 commands=3/4");
  EXPECT_EQ(d.kind, EventKind::disconnect);
  EXPECT_EQ(d.reason, "ehlo=1 auth=0/1 rset=1 quit=1 commands=3/4");
  auto l = parse_ok(
      "Feb 18 09:48:04 xxx postfix/smtpd[23]: lost connection after AUTH from "
      "unknown[192.0.2.23]");
  EXPECT_EQ(l.kind, EventKind::disconnect);
  EXPECT_EQ(l.reason, "lost connection after AUTH");
}

TEST(Postfix, RejectWithReason) {
  auto f = parse_ok(
      "Jul 12 07:47:48 saturn postfix/smtpd[8738]: NOQUEUE: reject: RCPT from "
      "1-2-3-4-example.com[1.2.3.4]: 554 5.7.1 <smtp@example.com>: Relay access "
      "denied; from=<john@example.com> to=<smtp@example.org> proto=SMTP "
      "helo=<198.51.100.17>");
  EXPECT_EQ(f.kind, EventKind::reject);
  EXPECT_EQ(f.queue_id, "NOQUEUE");
  EXPECT_EQ(f.client_ip, "1.2.3.4");
  EXPECT_EQ(f.reason, "554 5.7.1 <smtp@example.com>: Relay access denied");
  EXPECT_EQ(f.from, "john@example.com");
  EXPECT_EQ(f.recipients, "smtp@example.org");
  auto nul = parse_ok(
      "Feb 21 09:21:54 xxx postfix/smtpd[14398]: NOQUEUE: reject: RCPT from "
      "example.com[192.0.43.10]: 450 4.7.1 : Helo command rejected: Host not "
      "found; from=<> to=<> proto=ESMTP helo=");
  EXPECT_TRUE(nul.has_from);
  EXPECT_EQ(nul.from, "");
  auto ps = parse_ok(
      "May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from "
      "[216.245.194.173]:60591: 550 5.7.1 Service unavailable; client "
      "[216.245.194.173] blocked using rbl.example.com; from=<spammer@example.com>,"
      " to=<goodguy@example.com>, proto=ESMTP, helo=<badguy.example.com>");
  EXPECT_EQ(ps.kind, EventKind::reject);
  EXPECT_EQ(ps.client_port, 60591);
  EXPECT_EQ(ps.recipients, "goodguy@example.com");
  auto milter = parse_ok(
      "Mar 11 23:27:54 server postfix-smo/submission/smtpd[22427]: "
      "44JCRG5tYPzCqt2: reject: BDAT from signing-milter.example.com"
      "[192.0.2.109]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient"
      " bounce; from=<> to=<some@example.com> proto=ESMTP helo=<domain.tld>");
  EXPECT_EQ(milter.queue_id, "44JCRG5tYPzCqt2");
  EXPECT_EQ(milter.protocol, Protocol::submission);
}

TEST(Postfix, OneMessageThroughTheQueue) {
  Fixture fx;
  const char* lines[] = {
      "Nov 28 10:00:00 mx postfix/smtpd[1]: 3F1A2B: client=unknown[192.0.2.1]",
      "Nov 28 10:00:00 mx postfix/cleanup[2]: 3F1A2B: message-id=<abc@example.com>",
      "Nov 28 10:00:00 mx postfix/qmgr[3]: 3F1A2B: from=<a@example.com>, size=1234, nrcpt=2 "
      "(queue active)",
      "Nov 28 10:00:01 mx postfix/smtp[4]: 3F1A2B: to=<b@example.org>, relay=127.0.0.1[127.0.0.1]"
      ":10024, delay=0.5, delays=0.1/0/0/0.4, dsn=2.0.0, status=sent (250 2.0.0 from "
      "MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4B2C3D)",
      "Nov 28 10:00:01 mx postfix/smtp[4]: 3F1A2B: to=<c@example.org>, relay=mx.example.org"
      "[198.51.100.7]:25, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to "
      "mx.example.org[198.51.100.7]:25: Connection timed out)",
      "Nov 28 10:00:02 mx postfix/local[5]: 3F1A2B: to=<d@mx.example.com>, orig_to=<d@example.com>,"
      " relay=local, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (unknown user: \"d\")",
      "Nov 28 10:00:02 mx postfix/bounce[6]: 3F1A2B: sender non-delivery notification: 5C3D4E",
      "Nov 28 10:00:03 mx postfix/qmgr[3]: 3F1A2B: removed",
      "Nov 28 10:00:04 mx postfix/pickup[7]: 6D4E5F: uid=1000 from=<root>",
      "Nov 28 10:00:05 mx postfix/qmgr[3]: 7E5F60: from=<x@example.com>, status=expired, "
      "returned to sender",
  };
  std::vector<Event> ev;
  for (auto l : lines) ev.push_back(fx.parse(l));
  for (std::size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].line_kind, LineKind::parsed) << lines[i];
  }
  EXPECT_EQ(ev[0].facts.kind, EventKind::message_client);
  EXPECT_EQ(ev[1].facts.kind, EventKind::message_id);
  EXPECT_EQ(ev[1].facts.message_id, "<abc@example.com>");
  EXPECT_EQ(ev[2].facts.kind, EventKind::message_queued);
  EXPECT_EQ(ev[2].facts.size, 1234u);
  EXPECT_EQ(ev[2].facts.nrcpt, 2u);
  EXPECT_EQ(ev[2].facts.from, "a@example.com");
  EXPECT_EQ(ev[3].facts.kind, EventKind::delivery);
  EXPECT_EQ(ev[3].facts.status, DeliveryStatus::sent);
  EXPECT_EQ(ev[3].facts.next_queue_id, "4B2C3D");
  EXPECT_EQ(ev[3].facts.relay, "127.0.0.1[127.0.0.1]:10024");
  EXPECT_EQ(ev[3].facts.dsn, "2.0.0");
  EXPECT_EQ(ev[4].facts.status, DeliveryStatus::deferred);
  EXPECT_EQ(ev[4].facts.recipients, "c@example.org");
  EXPECT_EQ(ev[5].facts.status, DeliveryStatus::bounced);
  EXPECT_EQ(ev[5].facts.relay, "local");
  EXPECT_EQ(ev[6].facts.kind, EventKind::bounce_notice);
  EXPECT_EQ(ev[6].facts.next_queue_id, "5C3D4E");
  EXPECT_EQ(ev[7].facts.kind, EventKind::removed);
  EXPECT_EQ(ev[7].facts.queue_id, "3F1A2B");
  EXPECT_EQ(ev[8].facts.kind, EventKind::message_pickup);
  EXPECT_EQ(ev[8].facts.account, "1000");
  EXPECT_EQ(ev[8].facts.from, "root");
  EXPECT_EQ(ev[9].facts.status, DeliveryStatus::expired);
}

TEST(Postfix, PostscreenAndServiceLines) {
  auto p = parse_ok(
      "Dec 23 19:39:13 xxx postfix/postscreen[21057]: PREGREET 14 after 0.08 from "
      "[192.0.2.2]:59415: EHLO ylmf-pc\\r\\n");
  EXPECT_EQ(p.kind, EventKind::screen);
  EXPECT_EQ(p.reason, "PREGREET");
  EXPECT_EQ(p.client_ip, "192.0.2.2");
  EXPECT_EQ(p.client_port, 59415);
  auto c = parse_ok(
      "Nov 28 10:00:00 mx postfix/postscreen[9]: CONNECT from [2001:db8::7]:4711 to "
      "[2001:db8::1]:25");
  EXPECT_EQ(c.kind, EventKind::connect);
  EXPECT_EQ(c.client_ip, "2001:db8::7");
  auto s = parse_ok(
      "Nov 28 10:00:00 mx postfix/master[1]: daemon started -- version 3.7.11, "
      "configuration /etc/postfix");
  EXPECT_EQ(s.kind, EventKind::service);
  auto w = parse_ok(
      "Nov 28 10:00:00 mx postfix/smtpd[9]: warning: hostname x.example does not "
      "resolve to address 192.0.2.99: Name or service not known");
  EXPECT_EQ(w.kind, EventKind::diagnostic);
  EXPECT_EQ(w.client_ip, "192.0.2.99");
}

TEST(Postfix, UnknownMessageIsCountedByProgram) {
  Fixture fx;
  auto e = fx.parse("Nov 28 10:00:00 mx postfix/smtpd[9]: something Postfix never said");
  EXPECT_EQ(e.line_kind, LineKind::message_unknown);
  EXPECT_EQ(fx.ctx.counts().count(LineKind::message_unknown), 1u);
  EXPECT_EQ(fx.ctx.counts().message_unknown_by_program[static_cast<int>(Program::postfix)], 1u);
}

TEST(Postfix, TagForms) {
  EXPECT_TRUE(is_postfix_tag("postfix/smtpd"));
  EXPECT_TRUE(is_postfix_tag("postfix-incoming/smtpd"));
  EXPECT_TRUE(is_postfix_tag("postfix"));
  EXPECT_FALSE(is_postfix_tag("postfixer"));
  EXPECT_FALSE(is_postfix_tag("sshd"));
}

}  // namespace
}  // namespace mw::logs
