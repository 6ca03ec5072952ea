// Dovecot, sshd and amavis lines: the auth forms, spoofing attempts through user names, and
// amavis' re-injection link (Queue-ID -> queued_as).
#include <gtest/gtest.h>

#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

using test::Fixture;

Event parse_ok(std::string_view line) {
  Fixture fx;
  auto e = fx.parse(line);
  EXPECT_EQ(e.line_kind, LineKind::parsed) << line;
  return e;
}

TEST(Dovecot, LoginSuccessAndFailure) {
  auto s = parse_ok(
      "Nov 28 10:00:00 mail dovecot: imap-login: Login: user=<alice@example.com>, "
      "method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, mpid=4242, TLS, "
      "session=<abcDEF123>");
  EXPECT_EQ(s.program_kind, Program::dovecot);
  EXPECT_EQ(s.facts.kind, EventKind::auth);
  EXPECT_EQ(s.facts.outcome, Outcome::success);
  EXPECT_EQ(s.facts.protocol, Protocol::imap);
  EXPECT_EQ(s.facts.account, "alice@example.com");
  EXPECT_EQ(s.facts.method, "PLAIN");
  EXPECT_EQ(s.facts.client_ip, "192.0.2.10");
  auto f = parse_ok(
      "Jul 02 13:49:31 hostname dovecot[442]: pop3-login: Aborted login (auth "
      "failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13,"
      " lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>");
  EXPECT_EQ(f.facts.outcome, Outcome::failure);
  EXPECT_EQ(f.facts.protocol, Protocol::pop3);
  EXPECT_EQ(f.facts.reason, "Aborted login (auth failed, 1 attempts in 17 secs)");
  auto d = parse_ok(
      "Jun 13 16:30:54 platypus dovecot: imap-login: Disconnected (auth failed, 2 "
      "attempts): user=<username.bob>, method=PLAIN, rip=49.176.98.87, "
      "lip=113.212.99.194, TLS");
  EXPECT_EQ(d.facts.outcome, Outcome::failure);
  EXPECT_EQ(d.facts.account, "username.bob");
  auto n = parse_ok(
      "Jun 13 20:48:11 platypus dovecot: pop3-login: Disconnected (no auth "
      "attempts): rip=121.44.24.254, lip=113.212.99.194, TLS: Disconnected");
  EXPECT_EQ(n.facts.kind, EventKind::disconnect);
  EXPECT_EQ(n.facts.outcome, Outcome::none);
}

TEST(Dovecot, UserNameCannotSpoofTheAddress) {
  auto e = parse_ok(
      "Nov 28 10:00:00 mail dovecot: imap-login: Disconnected (auth failed, 1 "
      "attempts): user=<x>, method=PLAIN, rip=6.6.6.6>, method=PLAIN, "
      "rip=192.0.2.77, lip=192.0.2.1, TLS");
  EXPECT_EQ(e.facts.client_ip, "192.0.2.77");
  EXPECT_EQ(e.facts.account, "x>, method=PLAIN, rip=6.6.6.6");
}

TEST(Dovecot, PassdbFailures) {
  auto p = parse_ok(
      "Jan 29 05:32:50 mail dovecot: auth-worker(304): pam(username,1.2.3.4): "
      "pam_authenticate() failed: Authentication failure (password mismatch?)");
  EXPECT_EQ(p.facts.outcome, Outcome::failure);
  EXPECT_EQ(p.facts.account, "username");
  EXPECT_EQ(p.facts.client_ip, "1.2.3.4");
  EXPECT_EQ(p.facts.method, "pam");
  auto s = parse_ok(
      "Jun 11 13:57:17 main dovecot: auth: sql(admin@example.ru,192.168.144.226,"
      "<6rXunFtu493AqJDi>): Password mismatch");
  EXPECT_EQ(s.facts.account, "admin@example.ru");
  EXPECT_EQ(s.facts.client_ip, "192.168.144.226");
  EXPECT_EQ(s.facts.method, "sql");
  auto l = parse_ok("Mar 23 06:10:52 auth: Info: ldap(dog,52.37.139.121,): invalid credentials");
  EXPECT_EQ(l.facts.client_ip, "52.37.139.121");
  EXPECT_EQ(l.facts.account, "dog");
}

TEST(Sshd, AcceptedAndFailed) {
  auto a = parse_ok(
      "Mar  7 18:53:20 bar sshd[1556]: Accepted password for rda from 192.0.2.113 "
      "port 52100 ssh2");
  EXPECT_EQ(a.program_kind, Program::sshd);
  EXPECT_EQ(a.facts.kind, EventKind::auth);
  EXPECT_EQ(a.facts.outcome, Outcome::success);
  EXPECT_EQ(a.facts.protocol, Protocol::ssh);
  EXPECT_EQ(a.facts.method, "password");
  EXPECT_EQ(a.facts.account, "rda");
  EXPECT_EQ(a.facts.client_port, 52100);
  auto k = parse_ok(
      "Nov 28 09:16:03 srv sshd[32307]: Accepted publickey for git from 192.0.2.1 "
      "port 57904 ssh2: RSA SHA256:abcdef");
  EXPECT_EQ(k.facts.method, "publickey");
  auto f = parse_ok(
      "Feb 25 14:34:10 belka sshd[31603]: Failed password for invalid user ROOT "
      "from aaaa:bbbb:cccc:1234::1:1 port 50273 ssh2");
  EXPECT_EQ(f.facts.outcome, Outcome::failure);
  EXPECT_EQ(f.facts.account, "ROOT");
  EXPECT_EQ(f.facts.reason, "invalid user");
  EXPECT_EQ(f.facts.client_ip, "aaaa:bbbb:cccc:1234::1:1");
  auto np = parse_ok(
      "Feb 25 14:34:11 belka sshd[31603]: Failed password for invalid user ROOT "
      "from aaaa:bbbb:cccc:1234::1:1");
  EXPECT_EQ(np.facts.client_ip, "aaaa:bbbb:cccc:1234::1:1");
  auto s = parse_ok(
      "Nov 28 10:00:00 h sshd-session[77]: Failed publickey for root from "
      "192.0.2.5 port 22 ssh2: ED25519 SHA256:x");
  EXPECT_EQ(s.facts.client_ip, "192.0.2.5");
  auto i = parse_ok("Nov 28 10:00:00 h sshd[7]: Invalid user admin from 192.0.2.6 port 4444");
  EXPECT_EQ(i.facts.kind, EventKind::invalid_user);
  EXPECT_EQ(i.facts.account, "admin");
}

TEST(Amavis, PassedCleanWithReinjection) {
  auto e = parse_ok(
      "Nov 28 10:00:01 mx amavis[2345]: (02345-01) Passed CLEAN {RelayedOutbound}, "
      "[127.0.0.1]:41234 [192.0.2.50] <a@example.com> -> <b@example.org>,"
      "<c@example.org>, Queue-ID: 3F1A2B, Message-ID: <abc@example.com>, mail_id: "
      "Xy12_ab, Hits: -, size: 1234, queued_as: 4B2C3D, 120 ms");
  EXPECT_EQ(e.program_kind, Program::amavis);
  EXPECT_EQ(e.facts.kind, EventKind::content_scan);
  EXPECT_EQ(e.facts.outcome, Outcome::success);
  EXPECT_EQ(e.facts.reason, "Passed CLEAN");
  EXPECT_EQ(e.facts.method, "RelayedOutbound");
  EXPECT_EQ(e.facts.client_ip, "192.0.2.50");
  EXPECT_EQ(e.facts.from, "a@example.com");
  EXPECT_EQ(e.facts.recipients, "<b@example.org>,<c@example.org>");
  EXPECT_EQ(e.facts.nrcpt, 2u);
  EXPECT_EQ(e.facts.queue_id, "3F1A2B");
  EXPECT_EQ(e.facts.next_queue_id, "4B2C3D");
  EXPECT_EQ(e.facts.message_id, "<abc@example.com>");
  EXPECT_EQ(e.facts.size, 1234u);
  auto b = parse_ok(
      "Nov 28 10:00:02 mx amavis[2345]: (02345-02) Blocked INFECTED "
      "(Eicar-Signature) {DiscardedInbound,Quarantined}, [192.0.2.9]:5555 "
      "[192.0.2.9] <> -> <d@example.com>, quarantine: virus-x, Queue-ID: 5D6E7F, "
      "Message-ID: <v@x>, mail_id: q, Hits: -, size: 99, 40 ms");
  EXPECT_EQ(b.facts.outcome, Outcome::failure);
  EXPECT_EQ(b.facts.reason, "Blocked INFECTED (Eicar-Signature)");
  EXPECT_EQ(b.facts.from, "");
  EXPECT_TRUE(b.facts.has_from);
  EXPECT_EQ(b.facts.next_queue_id, "");
  Fixture fx;
  EXPECT_EQ(fx.parse("Nov 28 10:00:02 mx amavis[2345]: (02345-02) ESMTP :10024 "
                     "/var/lib/amavis/tmp/amavis-x: <a@b> -> <c@d> Received: SIZE=1")
                .line_kind,
            LineKind::message_unknown);
}

}  // namespace
}  // namespace mw::logs
