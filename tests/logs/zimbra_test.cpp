// Zimbra audit.log and mailbox.log lines. The lines follow the layout of zm-mailbox's
// store-conf/conf/log4j.properties (`%d %-5p [%t] [%z] %c{1} - %m%n`) and the messages of
// LdapProvisioning.authAccount (cmd=Auth), service/admin/Auth.java (cmd=AdminAuth),
// ZimbraLog.encodeAttrs ("k=v; k=v;"), ImapHandler/Pop3Handler ("user %s authenticated,
// mechanism=%s").
#include <gtest/gtest.h>

#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

using test::Fixture;

TEST(Zimbra, AuditAuthSuccess) {
  Fixture fx;
  auto e = fx.parse(
      "2026-11-28 23:55:58,123 INFO  [qtp1090950072-6781:https://mail.example.com/"
      "service/soap/AuthRequest] [name=alice@example.com;oip=203.0.113.5;"
      "ua=zclient/10.0.5_GA_4518;soapId=3e5c1d;] security - cmd=Auth; "
      "account=alice@example.com; protocol=soap;");
  ASSERT_EQ(e.line_kind, LineKind::parsed);
  EXPECT_EQ(e.envelope, EnvelopeFormat::log4j);
  EXPECT_EQ(e.program_kind, Program::zimbra_audit);
  EXPECT_EQ(e.facts.kind, EventKind::auth);
  EXPECT_EQ(e.facts.outcome, Outcome::success);
  EXPECT_EQ(e.facts.protocol, Protocol::http);
  EXPECT_EQ(e.facts.account, "alice@example.com");
  EXPECT_EQ(e.facts.client_ip, "203.0.113.5");
  EXPECT_EQ(e.time.nanos, 123000000u);
}

TEST(Zimbra, AuditAuthFailure) {
  Fixture fx;
  auto e = fx.parse(
      "2026-11-28 23:56:01,004 WARN  [ImapSSLServer-42] [ip=10.0.0.2;"
      "oip=198.51.100.23;via=10.0.0.2(nginx/1.20.0);ua=Thunderbird;] security - "
      "cmd=Auth; account=bob@example.com; protocol=imap; error=authentication "
      "failed for [bob], invalid password;");
  ASSERT_EQ(e.line_kind, LineKind::parsed);
  EXPECT_EQ(e.facts.outcome, Outcome::failure);
  EXPECT_EQ(e.facts.protocol, Protocol::imap);
  EXPECT_EQ(e.facts.account, "bob@example.com");
  EXPECT_EQ(e.facts.reason, "invalid password");
  EXPECT_EQ(e.facts.client_ip, "198.51.100.23");
}

TEST(Zimbra, AdminAuthIsAnAdminLoginAttempt) {
  Fixture fx;
  auto a = fx.parse(
      "2026-11-28 23:57:00,000 INFO  [qtp1-1:https://mail.example.com:7071/service/"
      "admin/soap/AuthRequest] [name=admin@example.com;oip=203.0.113.9;ua=ZimbraWebClient;]"
      " security - cmd=AdminAuth; account=admin@example.com;");
  ASSERT_EQ(a.line_kind, LineKind::parsed);
  EXPECT_EQ(a.facts.kind, EventKind::auth);
  EXPECT_EQ(a.facts.protocol, Protocol::admin);
  EXPECT_EQ(a.facts.method, "AdminAuth");
  EXPECT_EQ(a.facts.outcome, Outcome::none);  // logged before the password check
  // The password check's own line on the admin port, and the failed AdminAuth.
  auto ok = fx.parse(
      "2026-11-28 23:57:00,010 INFO  [qtp1-1:https://mail.example.com:7071/service/"
      "admin/soap/AuthRequest] [name=admin@example.com;oip=203.0.113.9;] security -"
      " cmd=Auth; account=admin@example.com; protocol=soap;");
  EXPECT_EQ(ok.facts.protocol, Protocol::admin);
  EXPECT_EQ(ok.facts.outcome, Outcome::success);
  auto bad = fx.parse(
      "2026-11-28 23:57:01,000 WARN  [qtp1-2:https://mail.example.com:7071/service/"
      "admin/soap/AuthRequest] [oip=203.0.113.9;] security - cmd=AdminAuth; "
      "account=admin; error=authentication failed for [admin], invalid password;");
  EXPECT_EQ(bad.facts.outcome, Outcome::failure);
  EXPECT_EQ(bad.facts.protocol, Protocol::admin);
  EXPECT_EQ(bad.facts.account, "admin");
}

TEST(Zimbra, ProxyChainAndTrustedProxies) {
  std::vector<Prefix> trusted;
  for (auto p : {"10.0.0.0/8", "2001:db8:ffff::/48"}) trusted.push_back(*parse_prefix(p));
  FixedOffsetZone utc(0);
  ParseContext ctx(utc, YearInference(2026, 12), TrustedProxies(trusted));
  auto e = parse_line(
      "2026-11-28 23:56:01,004 WARN  [qtp1-9:https://mail/service/soap/] "
      "[oip=192.0.2.200, 198.51.100.23, 10.1.2.3;] security - cmd=Auth; "
      "account=c@example.com; protocol=soap; error=authentication failed for "
      "[c@example.com], invalid password;",
      ctx);
  EXPECT_EQ(e.facts.client_ip, "198.51.100.23");  // 10.1.2.3 is our proxy; 192.0.2.200 is a claim
  // No trusted list: the rightmost entry.
  EXPECT_EQ(zimbra_client("oip=192.0.2.200, 198.51.100.23, 10.1.2.3;", TrustedProxies{}),
            "10.1.2.3");
  // All trusted: the leftmost.
  EXPECT_EQ(zimbra_client("oip=10.0.0.1,10.0.0.2;", TrustedProxies(trusted)), "10.0.0.1");
  EXPECT_EQ(zimbra_client("ip=2001:db8:ffff::1;oip=[2001:db8::5], 2001:db8:ffff::2;",
                          TrustedProxies(trusted)),
            "2001:db8::5");
  EXPECT_EQ(zimbra_client("ip=192.0.2.4;", TrustedProxies(trusted)), "192.0.2.4");
  EXPECT_EQ(zimbra_client("name=x;", TrustedProxies(trusted)), "");
}

TEST(Zimbra, ContextValuesEscapeSemicolonsAndHoldBrackets) {
  Fixture fx;
  // A user agent with "] [", "; " and " - " inside cannot move the message boundary.
  auto e = fx.parse(
      "2026-11-28 23:56:01,004 INFO  [qtp1-9:https://[2001:db8::1]:443/service/soap/]"
      " [name=v@example.com;oip=192.0.2.8;ua=evil] security - cmd=Auth;; "
      "account=x;;;] security - cmd=Auth; account=v@example.com; protocol=soap;");
  ASSERT_EQ(e.line_kind, LineKind::parsed);
  EXPECT_EQ(e.facts.account, "v@example.com");
  EXPECT_EQ(e.facts.client_ip, "192.0.2.8");
  EXPECT_EQ(zimbra_attr("a=1;; 2; b=3;", "a").value(), "1;; 2");
  EXPECT_EQ(zimbra_attr("a=1;; 2; b=3;", "b").value(), "3");
  EXPECT_FALSE(zimbra_attr("a=1", "a").has_value());
}

TEST(Zimbra, MailboxLogAuthLines) {
  Fixture fx;
  auto s = fx.parse(
      "2026-11-28 23:58:00,500 INFO  [ImapSSLServer-13] [name=u@example.com;"
      "ip=10.0.0.2;oip=192.0.2.30;via=10.0.0.2(nginx/1.20.0);ua=Thunderbird;] imap - "
      "user u@example.com authenticated, mechanism=LOGIN [TLS]");
  ASSERT_EQ(s.line_kind, LineKind::parsed);
  EXPECT_EQ(s.program_kind, Program::zimbra_mailbox);
  EXPECT_EQ(s.facts.outcome, Outcome::success);
  EXPECT_EQ(s.facts.protocol, Protocol::imap);
  EXPECT_EQ(s.facts.method, "LOGIN");
  EXPECT_EQ(s.facts.client_ip, "192.0.2.30");
  auto f = fx.parse(
      "2026-11-28 23:58:01,000 INFO  [qtp1-77:https://mail/service/soap/AuthRequest]"
      " [name=w@example.com;oip=192.0.2.31;ua=zclient;] SoapEngine - handler "
      "exception: authentication failed for [w@example.com], invalid password");
  EXPECT_EQ(f.facts.outcome, Outcome::failure);
  EXPECT_EQ(f.facts.account, "w@example.com");
  EXPECT_EQ(f.facts.protocol, Protocol::http);
  auto o = fx.parse("2026-11-28 23:58:02,000 INFO  [MailboxPurge] [] purge - Purging messages.");
  EXPECT_EQ(o.facts.kind, EventKind::other);
  // mailboxd through syslog.
  auto sys = fx.parse(
      "Nov 28 23:58:03 mail mailboxd: WARN  [qtp1-2:https://mail/service/soap/] "
      "[oip=192.0.2.32;] security - cmd=Auth; account=z@example.com; "
      "protocol=soap; error=authentication failed for [z@example.com], account "
      "lockout;");
  EXPECT_EQ(sys.facts.outcome, Outcome::failure);
  EXPECT_EQ(sys.facts.reason, "account lockout");
  EXPECT_EQ(sys.facts.client_ip, "192.0.2.32");
}

}  // namespace
}  // namespace mw::logs
