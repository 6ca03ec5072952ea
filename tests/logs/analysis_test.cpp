// The analysis on hand-written flows of real line shapes: attribution through amavis'
// re-injection, webmail and relays, Zimbra's duplicate login lines, and each detector just
// below and just at its threshold (from the real catalog/detectors.toml).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <iterator>

#include "logs/analysis.hpp"
#include "logs/detector_catalog.hpp"
#include "logs/merge.hpp"
#include "logs/parse_line.hpp"

namespace mw::logs {
namespace {

DetectorCatalog real_catalog() {
  auto c = load_detector_catalog(std::string(MW_SOURCE_DIR) + "/catalog/detectors.toml");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : DetectorCatalog{};
}

// Feeds lines to an Analyzer through the real parser. Times: "Nov 28 HH:MM:SS", UTC.
class Flow {
 public:
  explicit Flow(AnalyzerOptions opt = {}) : cat_(real_catalog()), an_(cat_, std::move(opt)) {}

  // `input`: which file the line is from (Zimbra writes one login to two files).
  void line(const std::string& text, std::uint32_t input = 0) {
    lines_.push_back(text);
    Event e = parse_line(lines_.back(), ctx_);
    ASSERT_EQ(e.line_kind, LineKind::parsed) << text;
    an_.add(e, Position{input, lines_.size()});
  }
  LogReport finish() { return an_.finish({}); }
  Analyzer& analyzer() { return an_; }

 private:
  DetectorCatalog cat_;
  FixedOffsetZone utc_{0};
  ParseContext ctx_{utc_, YearInference(2026, 11)};
  std::deque<std::string> lines_;
  Analyzer an_;
};

std::string at(int seconds) {
  return fmt::format("Nov 28 {:02}:{:02}:{:02}", seconds / 3600 % 24, seconds / 60 % 60,
                     seconds % 60);
}

const AccountSummary* account(const LogReport& r, std::string_view name) {
  for (const auto& a : r.accounts)
    if (a.account == name) return &a;
  return nullptr;
}

const Finding* finding(const LogReport& r, Detector d, std::string_view key) {
  for (const auto& f : r.findings)
    if (f.detector == d && f.key == key) return &f;
  return nullptr;
}

// A submission through an amavis content filter: the re-injected copy's client= line comes
// before the parent's "queued as" line, as in the real capture.
void submit_via_amavis(Flow& f, int t, const std::string& qid, const std::string& account,
                       const std::vector<std::string>& to, const std::string& status = "sent",
                       const std::string& ip = "192.0.2.10") {
  const std::string child = qid + "B";
  f.line(
      fmt::format("{} mail postfix/submission/smtpd[10]: {}: client=unknown[{}], "
                  "sasl_method=PLAIN, sasl_username={}",
                  at(t), qid, ip, account));
  f.line(fmt::format("{} mail postfix/qmgr[11]: {}: from=<{}>, size=500, nrcpt={} (queue active)",
                     at(t), qid, account, to.size()));
  f.line(fmt::format("{} mail postfix/amavisd/smtpd[12]: {}: client=localhost[127.0.0.1]", at(t),
                     child));
  f.line(fmt::format("{} mail postfix/qmgr[11]: {}: from=<{}>, size=700, nrcpt={} (queue active)",
                     at(t), child, account, to.size()));
  for (const auto& r : to)
    f.line(
        fmt::format("{} mail postfix/smtp[13]: {}: to=<{}>, relay=127.0.0.1[127.0.0.1]:10026, "
                    "delay=0.04, delays=0.01/0.01/0.01/0.01, dsn=2.0.0, status=sent (250 2.0.0 "
                    "Ok: queued as {})",
                    at(t), qid, r, child));
  f.line(fmt::format("{} mail postfix/qmgr[11]: {}: removed", at(t), qid));
  for (const auto& r : to) {
    const std::string dsn = status == "sent" ? "2.0.0" : status == "deferred" ? "4.4.1" : "5.1.1";
    f.line(
        fmt::format("{} mail postfix/smtp[14]: {}: to=<{}>, relay=mx.example.net[198.51.100.77]"
                    ":25, delay=1, delays=0/0/0.5/0.5, dsn={}, status={} (whatever)",
                    at(t + 1), child, r, dsn, status));
  }
  if (status != "deferred")
    f.line(fmt::format("{} mail postfix/qmgr[11]: {}: removed", at(t + 1), child));
}

TEST(DetectorCatalog, RealCatalogLoads) {
  auto c = load_detector_catalog(std::string(MW_SOURCE_DIR) + "/catalog/detectors.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->brute_force.window, 600);
  EXPECT_EQ(c->severity_of(Detector::compromised_login), FindingSeverity::critical);
}

TEST(DetectorCatalog, ErrorsNamePosition) {
  auto text = [](std::string extra) {
    std::string s;
    for (std::size_t i = 0; i < kDetectors; ++i) {
      s += fmt::format("[{}]\nseverity = \"high\"\n", name_of(static_cast<Detector>(i)));
    }
    return s + extra;
  };
  auto r = parse_detector_catalog(text(""), "d.toml");
  ASSERT_FALSE(r.ok());  // keys missing
  EXPECT_NE(r.error().message.find("d.toml:1:1: [brute_force]: key 'window' is missing"),
            std::string::npos)
      << r.error().message;
  auto bad = parse_detector_catalog("[brute_force]\nseverity = \"high\"\nwindow = \"10 minutes\"\n",
                                    "d.toml");
  ASSERT_FALSE(bad.ok());
  // The duration's own error (core/duration) comes after the key's position.
  std::string real;
  {
    std::ifstream in(std::string(MW_SOURCE_DIR) + "/catalog/detectors.toml");
    real.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto at = real.find("window = \"10m\"");
  ASSERT_NE(at, std::string::npos);
  const auto line =
      1 + std::count(real.begin(), real.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  for (const auto& [value, expected] :
       {std::pair<std::string, std::string>{"10 minutes",
                                            "'window': '10 minutes': unknown unit ' ' (s, m, h, d) "
                                            "at position 3"},
        {"0m", "'0m': 0s is out of range 1s..365d"}}) {
    std::string text = real;
    text.replace(at, 14, "window = \"" + value + "\"");
    auto r = parse_detector_catalog(text, "d.toml");
    ASSERT_FALSE(r.ok()) << value;
    EXPECT_NE(r.error().message.find(fmt::format("d.toml:{}:10: ", line)), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
  auto unknown = parse_detector_catalog("[brute_forse]\n", "d.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("d.toml:1:1: unknown table [brute_forse]"),
            std::string::npos)
      << unknown.error().message;
  auto syntax = parse_detector_catalog("[brute_force\n", "d.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("d.toml:1:"), std::string::npos);
}

TEST(Attribution, AmavisReinjectionCountsOnceForTheSubmitter) {
  Flow f;
  submit_via_amavis(f, 3600, "AAA100", "alice@example.com",
                    {"x@d1.example.net", "y@d2.example.net"});
  const auto r = f.finish();
  const auto* a = account(r, "alice@example.com");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->messages, 1u);
  EXPECT_EQ(a->recipients, 2u);
  EXPECT_EQ(a->external_domains, 2u);
  EXPECT_EQ(r.messages, 1u);  // the re-injected copy is the same message
  EXPECT_EQ(r.accounts.size(), 1u);
  EXPECT_TRUE(r.findings.empty());
}

TEST(Attribution, ChildDeliveredBeforeTheLinkStillCounts) {
  // The re-injected copy is delivered (and bounces) before the parent's "queued as" line.
  Flow f;
  f.line(at(10) +
         " mail postfix/submission/smtpd[10]: P00001: client=unknown[192.0.2.10], "
         "sasl_method=PLAIN, sasl_username=bob@example.com");
  f.line(at(10) +
         " mail postfix/qmgr[11]: P00001: from=<bob@example.com>, size=1, nrcpt=1 (queue active)");
  f.line(at(11) + " mail postfix/amavisd/smtpd[12]: C00001: client=localhost[127.0.0.1]");
  f.line(at(11) +
         " mail postfix/qmgr[11]: C00001: from=<bob@example.com>, size=1, nrcpt=1 (queue active)");
  f.line(at(12) +
         " mail postfix/smtp[14]: C00001: to=<z@d9.example.net>, relay=none, delay=1, "
         "delays=0/0/1/0, dsn=5.1.1, status=bounced (host said: no such user)");
  f.line(at(13) +
         " mail postfix/smtp[13]: P00001: to=<z@d9.example.net>, relay=127.0.0.1[127.0.0.1]:10026, "
         "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as C00001)");
  const auto r = f.finish();
  const auto* a = account(r, "bob@example.com");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->messages, 1u);
  EXPECT_EQ(a->bounced, 1u);
  EXPECT_EQ(r.messages, 1u);
}

TEST(Attribution, WebmailIsTheSendersAndRelayIsNot) {
  AnalyzerOptions opt;
  opt.mynetworks = {*parse_prefix("127.0.0.0/8"), *parse_prefix("198.51.100.0/28")};
  opt.local_domains = {"example.com"};
  Flow f(opt);
  // Webmail: mailboxd over loopback, no SASL, a local sender.
  f.line(at(100) + " mail postfix/smtpd[10]: W00001: client=localhost[127.0.0.1]");
  f.line(
      at(100) +
      " mail postfix/qmgr[11]: W00001: from=<carol@example.com>, size=1, nrcpt=3 (queue active)");
  f.line(at(101) +
         " mail postfix/smtp[13]: W00001: to=<a@d1.example.net>, relay=mx[198.51.100.99]:25, "
         "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)");
  f.line(at(101) + " mail postfix/qmgr[11]: W00001: removed");
  // A LAN host in mynetworks: relayed, not an account's.
  f.line(at(200) + " mail postfix/smtpd[10]: R00001: client=app[198.51.100.5]");
  f.line(at(200) +
         " mail postfix/qmgr[11]: R00001: from=<news@example.com>, size=1, nrcpt=1 (queue active)");
  f.line(at(200) + " mail postfix/qmgr[11]: R00001: removed");
  // Inbound from the internet.
  f.line(at(300) + " mail postfix/smtpd[10]: I00001: client=mx.example.net[203.0.113.50]");
  f.line(
      at(300) +
      " mail postfix/qmgr[11]: I00001: from=<someone@example.net>, size=1, nrcpt=1 (queue active)");
  const auto r = f.finish();
  const auto* c = account(r, "carol@example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->messages, 1u);
  EXPECT_EQ(c->recipients, 3u);
  EXPECT_EQ(account(r, "news@example.com"), nullptr);
  EXPECT_EQ(account(r, "someone@example.net"), nullptr);
  EXPECT_EQ(r.messages, 3u);
}

TEST(Logins, ZimbraAuditAndMailboxLineOfOneLoginCountOnce) {
  Flow f;
  const std::string ctx = "[name=dave@example.com;oip=192.0.2.20;]";
  f.line("2026-11-28 10:00:00,100 INFO  [ImapServer-1] " + ctx +
         " security - cmd=Auth; account=dave@example.com; protocol=imap;");
  f.line(
      "2026-11-28 10:00:00,200 INFO  [ImapServer-1] [name=dave@example.com;ip=192.0.2.20;]"
      " imap - user dave@example.com authenticated, mechanism=PLAIN",
      1);
  // The same security line again in mailbox.log.
  f.line("2026-11-28 10:00:00,100 INFO  [ImapServer-1] " + ctx +
             " security - cmd=Auth; account=dave@example.com; protocol=imap;",
         1);
  // A second, separate login a minute later.
  f.line("2026-11-28 10:01:00,100 INFO  [ImapServer-2] " + ctx +
         " security - cmd=Auth; account=dave@example.com; protocol=imap;");
  const auto r = f.finish();
  const auto* d = account(r, "dave@example.com");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->logins, 2u);  // 10:00:00 written three times in two files, and 10:01:00
  EXPECT_TRUE(r.saw_zimbra);
}

std::string imap_failure(int t, const std::string& user, const std::string& ip) {
  return fmt::format(
      "{} mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 "
      "secs): user=<{}>, method=PLAIN, rip={}, lip=192.0.2.1, TLS, session=<x>",
      at(t), user, ip);
}
std::string imap_success(int t, const std::string& user, const std::string& ip) {
  return fmt::format(
      "{} mail dovecot: imap-login: Login: user=<{}>, method=PLAIN, rip={}, "
      "lip=192.0.2.1, mpid=1, TLS, session=<y>",
      at(t), user, ip);
}

TEST(BruteForce, ThresholdWithinTheWindow) {
  Flow below, over;
  for (int i = 0; i < 19; ++i)
    below.line(imap_failure(3600 + i * 20, "eve@example.com", "203.0.113.7"));
  for (int i = 0; i < 20; ++i)
    over.line(imap_failure(3600 + i * 20, "eve@example.com", "203.0.113.7"));
  EXPECT_EQ(finding(below.finish(), Detector::brute_force, "eve@example.com"), nullptr);
  const auto r = over.finish();
  const auto* b = finding(r, Detector::brute_force, "eve@example.com");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->counts.at("failures"), 20u);
  EXPECT_EQ(b->source_ips, std::vector<std::string>{"203.0.113.7"});
  EXPECT_EQ(b->evidence.size(), kMaxEvidence);
  EXPECT_EQ(b->evidence.front().line, 1u);
}

TEST(BruteForce, SpreadOutFailuresAndTheUsersOwnPhoneStayQuiet) {
  Flow f;
  f.line(imap_success(3000, "fay@example.com", "192.0.2.30"));  // the laptop
  // The phone with the old password, every 5 minutes for 10 hours from the same address.
  for (int i = 0; i < 120; ++i)
    f.line(imap_failure(3600 + i * 300, "fay@example.com", "192.0.2.30"));
  // A slow attacker: one failure every 2 minutes (5 per 10 minutes).
  for (int i = 0; i < 100; ++i)
    f.line(imap_failure(3600 + i * 120, "gus@example.com", "203.0.113.8"));
  const auto r = f.finish();
  EXPECT_TRUE(r.findings.empty()) << name_of(r.findings.front().detector) << " "
                                  << r.findings.front().key;
}

TEST(Spray, OneAddressAcrossAccountsThenSuccess) {
  Flow f;
  f.line(imap_success(100, "user5@example.com", "192.0.2.40"));  // its usual address
  for (int i = 0; i < 10; ++i)
    f.line(imap_failure(3600 + i * 30, fmt::format("user{}@example.com", i), "203.0.113.9"));
  f.line(imap_success(4000, "user5@example.com", "203.0.113.9"));
  const auto r = f.finish();
  const auto* s = finding(r, Detector::password_spray, "203.0.113.9");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->account_count, 10u);
  const auto* c = finding(r, Detector::compromised_login, "user5@example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->account, "user5@example.com");
  EXPECT_EQ(c->source_ips, std::vector<std::string>{"203.0.113.9"});
  EXPECT_TRUE(means_compromise(c->detector));
  // Nine accounts: no spray.
  Flow g;
  for (int i = 0; i < 9; ++i)
    g.line(imap_failure(3600 + i * 30, fmt::format("user{}@example.com", i), "203.0.113.9"));
  EXPECT_TRUE(g.finish().findings.empty());
}

TEST(Spray, SlidingWindowCountsAccountsStillInIt) {
  // One address, a new account a minute for 40 minutes: the 30-minute window holds 30 accounts
  // at most (more than fit the small per-address counts: they move to a hash map), and each
  // account leaves it again as it ages.
  Flow f;
  for (int i = 0; i < 40; ++i)
    f.line(imap_failure(3600 + i * 60, fmt::format("user{:02}@example.com", i), "203.0.113.19"));
  const auto r = f.finish();
  const auto* s = finding(r, Detector::password_spray, "203.0.113.19");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->account_count, 40u);
  EXPECT_EQ(s->counts.at("failures"), 40u);
  EXPECT_EQ(s->counts.at("accounts_in_window"), 30u);
  ASSERT_FALSE(s->accounts.empty());
  EXPECT_EQ(s->accounts.front(), "user00@example.com");
}

TEST(Spray, Botnet) {
  Flow f;
  // 12 addresses, each failing on 2 of 24 accounts.
  for (int i = 0; i < 12; ++i)
    for (int k = 0; k < 2; ++k)
      f.line(imap_failure(3600 + i * 60 + k, fmt::format("u{}@example.com", i * 2 + k),
                          fmt::format("2001:db8:500::{:x}", i + 1)));
  const auto r = f.finish();
  const auto* s = finding(r, Detector::password_spray, "botnet");
  ASSERT_NE(s, nullptr);
  EXPECT_GE(s->source_ip_count, 10u);
  EXPECT_GE(s->account_count, 20u);
  // The same failures from addresses that each try one account only: no botnet.
  Flow g;
  for (int i = 0; i < 24; ++i)
    g.line(imap_failure(3600 + i * 60, fmt::format("u{}@example.com", i),
                        fmt::format("2001:db8:500::{:x}", i + 1)));
  EXPECT_EQ(finding(g.finish(), Detector::password_spray, "botnet"), nullptr);
}

TEST(CompromisedLogin, NeedsFailuresFromUnknownAddressesFirst) {
  Flow f;
  for (int i = 0; i < 4; ++i) f.line(imap_failure(3600 + i, "hal@example.com", "198.51.100.40"));
  f.line(imap_success(3700, "hal@example.com", "198.51.100.40"));  // a typo or four: quiet
  for (int i = 0; i < 5; ++i) f.line(imap_failure(3600 + i, "ida@example.com", "203.0.113.40"));
  f.line(imap_success(3700, "ida@example.com", "203.0.113.41"));
  const auto r = f.finish();
  EXPECT_EQ(finding(r, Detector::compromised_login, "hal@example.com"), nullptr);
  ASSERT_NE(finding(r, Detector::compromised_login, "ida@example.com"), nullptr);
}

TEST(Outbound, BurstAndBounceRatio) {
  Flow f;
  for (int i = 0; i < 200; ++i)
    submit_via_amavis(f, 7200 + i * 10, fmt::format("Q{:05}", i), "jim@example.com",
                      {fmt::format("r{}@d{}.example.net", i, i)}, i % 2 ? "bounced" : "sent",
                      "203.0.113.60");
  const auto r = f.finish();
  const auto* b = finding(r, Detector::outbound_burst, "jim@example.com");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->counts.at("messages"), 200u);
  EXPECT_EQ(b->source_ips, std::vector<std::string>{"203.0.113.60"});
  ASSERT_NE(finding(r, Detector::bounce_ratio, "jim@example.com"), nullptr);
  const auto* a = account(r, "jim@example.com");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->messages, 200u);
  EXPECT_EQ(a->bounced, 100u);
  EXPECT_EQ(a->external_domains, 200u);
  EXPECT_EQ(a->peak_per_hour, 200u);
  EXPECT_TRUE(a->suspicious);
  EXPECT_FALSE(a->timeline.empty());
  // 199 messages, all delivered: quiet.
  Flow g;
  for (int i = 0; i < 199; ++i)
    submit_via_amavis(g, 7200 + i * 10, fmt::format("Q{:05}", i), "jim@example.com",
                      {fmt::format("r{}@d{}.example.net", i, i)});
  EXPECT_TRUE(g.finish().findings.empty());
}

TEST(Outbound, ExternalDomainsAreDistinctPerAccount) {
  // Interleaved accounts, one domain in two cases, a message to two recipients of one domain,
  // and local mail: each account counts the external domains it sent to, once each.
  AnalyzerOptions opt;
  opt.local_domains = {"example.com"};
  Flow f(opt);
  int n = 0;
  const auto send = [&](const std::string& account, const std::vector<std::string>& to) {
    submit_via_amavis(f, 7200 + n * 10, fmt::format("Q{:05}", n), account, to);
    ++n;
  };
  send("kim@example.com", {"a@d1.example.net", "b@d1.example.net"});
  send("lou@example.com", {"a@d1.example.net"});
  send("kim@example.com", {"c@D1.Example.NET", "d@d2.example.net", "e@example.com"});
  send("lou@example.com", {"f@d3.example.net", "g@d2.example.net"});
  send("kim@example.com", {"h@d2.example.net"});
  const auto r = f.finish();
  const auto* kim = account(r, "kim@example.com");
  const auto* lou = account(r, "lou@example.com");
  ASSERT_NE(kim, nullptr);
  ASSERT_NE(lou, nullptr);
  EXPECT_EQ(kim->external_domains, 2u);  // d1, d2
  EXPECT_EQ(lou->external_domains, 3u);  // d1, d3, d2
  EXPECT_EQ(kim->recipients, 6u);
}

TEST(Logins, SmtpAuthSessionIsOneLoginUntilItsProcessFallsQuiet) {
  // smtpd logs SMTP AUTH only on each message's client= line. One process, one account, one
  // client: the messages of one session are one login; after 15 quiet minutes (longer than
  // smtpd_timeout allows a session to idle) the process's next message is a new connection.
  Flow f;
  const auto client = [&](int t, int q, const std::string& account) {
    f.line(
        fmt::format("{} mail postfix/submission/smtpd[4242]: S{:05}: client=unknown[192.0.2.7], "
                    "sasl_method=PLAIN, sasl_username={}",
                    at(t), q, account));
  };
  client(100, 1, "max@example.com");
  client(160, 2, "max@example.com");   // same session
  client(1000, 3, "max@example.com");  // 840 s quiet: still the same session
  client(1901, 4, "max@example.com");  // 901 s quiet: a new connection
  client(1910, 5, "ned@example.com");  // another account in that process: a new login
  client(1920, 6, "max@example.com");  // and back: a new login again
  const auto r = f.finish();
  const auto* max = account(r, "max@example.com");
  ASSERT_NE(max, nullptr);
  EXPECT_EQ(max->logins, 3u);
  EXPECT_EQ(r.logins, 4u);
}

TEST(Outbound, QueueFloodOfDeferredMail) {
  AnalyzerOptions opt;
  opt.local_domains = {"example.com"};
  Flow f(opt);
  for (int i = 0; i < 200; ++i)
    submit_via_amavis(f, 7200 + i * 60, fmt::format("Q{:05}", i), "kim@example.com",
                      {fmt::format("r{}@dead.example.net", i)}, "deferred");
  const auto r = f.finish();
  ASSERT_NE(finding(r, Detector::queue_flood, "kim@example.com"), nullptr);
  EXPECT_EQ(finding(r, Detector::outbound_burst, "kim@example.com"), nullptr);  // 60 per hour
}

TEST(Attribution, RelayAbuseFromMynetworks) {
  AnalyzerOptions opt;
  opt.mynetworks = {*parse_prefix("127.0.0.0/8"), *parse_prefix("198.51.100.0/28")};
  opt.local_domains = {"example.com"};
  Flow f(opt), newsletter(opt);
  for (int i = 0; i < 60; ++i) {
    const int t = 7200 + i * 30;
    f.line(fmt::format("{} mail postfix/smtpd[10]: M{:05}: client=web[198.51.100.6]", at(t), i));
    f.line(
        fmt::format("{} mail postfix/qmgr[11]: M{:05}: from=<x{}@forged{}.example.org>, size=1, "
                    "nrcpt=1 (queue active)",
                    at(t), i, i, i));
    newsletter.line(
        fmt::format("{} mail postfix/smtpd[10]: N{:05}: client=news[198.51.100.5]", at(t), i));
    newsletter.line(
        fmt::format("{} mail postfix/qmgr[11]: N{:05}: from=<news@example.com>, size=1, "
                    "nrcpt=1 (queue active)",
                    at(t), i));
    newsletter.line(fmt::format("{} mail postfix/qmgr[11]: N{:05}: removed", at(t + 1), i));
  }
  // Pending messages resolve a minute later or at the end.
  const auto r = f.finish();
  ASSERT_NE(finding(r, Detector::mynetworks_relay, "198.51.100.6"), nullptr);
  EXPECT_TRUE(newsletter.finish().findings.empty());
}

TEST(Attribution, ARemoteServersQueuedAsIsADelivery) {
  // Real MX hosts also answer "queued as X": X is their queue, not ours.
  Flow f;
  f.line(at(10) +
         " mail postfix/submission/smtpd[10]: A00001: client=unknown[192.0.2.10], "
         "sasl_method=PLAIN, sasl_username=mia@example.com");
  f.line(at(10) +
         " mail postfix/qmgr[11]: A00001: from=<mia@example.com>, size=1, nrcpt=1 (queue active)");
  f.line(at(11) +
         " mail postfix/smtp[13]: A00001: to=<x@d1.example.net>, "
         "relay=mx.d1.example.net[198.51.100.80]:25, delay=1, delays=0/0/0/1, "
         "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4NQ1bX2yz)");
  f.line(at(11) + " mail postfix/qmgr[11]: A00001: removed");
  const auto r = f.finish();
  const auto* a = account(r, "mia@example.com");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->messages, 1u);
  EXPECT_EQ(a->external_domains, 1u);  // the delivery counted
  EXPECT_EQ(r.messages, 1u);
}

std::string ssh_invalid(int t, int pid, const std::string& user, const std::string& ip) {
  return fmt::format("{} mail sshd[{}]: Invalid user {} from {} port 4000", at(t), pid, user, ip);
}
std::string ssh_failed(int t, int pid, const std::string& user, const std::string& ip) {
  return fmt::format("{} mail sshd[{}]: Failed password for invalid user {} from {} port 4000 ssh2",
                     at(t), pid, user, ip);
}

TEST(Logins, SshdInvalidUserAndItsFirstAttemptAreOneFailure) {
  Flow f;
  f.line(ssh_invalid(100, 7, "oracle", "203.0.113.5"));
  f.line(ssh_failed(102, 7, "oracle", "203.0.113.5"));
  f.line(ssh_failed(104, 7, "oracle", "203.0.113.5"));  // a second attempt, same connection
  f.line(ssh_invalid(110, 8, "git", "203.0.113.5"));    // a probe that never tries a password
  const auto r = f.finish();
  ASSERT_NE(account(r, "oracle"), nullptr);
  EXPECT_EQ(account(r, "oracle")->failures, 2u);
  ASSERT_NE(account(r, "git"), nullptr);
  EXPECT_EQ(account(r, "git")->failures, 1u);
  EXPECT_EQ(r.failures, 3u);
}

TEST(Watch, AlertsOnceAndExpires) {
  Flow f;
  for (int i = 0; i < 25; ++i) f.line(imap_failure(3600 + i, "leo@example.com", "203.0.113.70"));
  auto alerts = f.analyzer().take_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].detector, Detector::brute_force);
  EXPECT_TRUE(f.analyzer().take_alerts().empty());
  const auto before = f.analyzer().state_size();
  EXPECT_GT(before, 0u);
  f.analyzer().expire(Timestamp{alerts[0].last_seen.seconds + 10 * 86400, 0});
  EXPECT_EQ(f.analyzer().state_size(), 0u);
}

// A finding that gains a source after it was reported is reported again with the newcomers
// (logs watch --ban must ban them), even past the kMaxListed addresses of source_ips.
TEST(Watch, AGrownFindingIsReportedAgainWithItsNewSources) {
  AnalyzerOptions opt;
  opt.watch = true;
  Flow f(opt);
  for (int i = 0; i < 25; ++i) f.line(imap_failure(3600 + i, "leo@example.com", "203.0.113.70"));
  auto first = f.analyzer().take_alerts();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].alert_count, 1u);
  EXPECT_EQ(first[0].new_source_ips, std::vector<std::string>{"203.0.113.70"});
  // The same source again: nothing new to report.
  for (int i = 0; i < 5; ++i) f.line(imap_failure(3700 + i, "leo@example.com", "203.0.113.70"));
  EXPECT_TRUE(f.analyzer().take_alerts().empty());
  // 60 more addresses join the attack on the same account.
  for (int i = 0; i < 60; ++i)
    f.line(imap_failure(3800 + i, "leo@example.com", fmt::format("198.51.100.{}", i + 1)));
  auto grown = f.analyzer().take_alerts();
  ASSERT_EQ(grown.size(), 1u);
  EXPECT_EQ(grown[0].detector, Detector::brute_force);
  EXPECT_EQ(grown[0].alert_count, 2u);
  EXPECT_EQ(grown[0].source_ip_count, 61u);
  EXPECT_EQ(grown[0].source_ips.size(), kMaxListed);
  ASSERT_EQ(grown[0].new_source_ips.size(), 60u);
  EXPECT_EQ(grown[0].new_source_ips.back(), "198.51.100.60");
  EXPECT_TRUE(f.analyzer().take_alerts().empty());
}

}  // namespace
}  // namespace mw::logs

namespace mw::logs {
namespace {

// The real capture (tests/data/logs/capture): Dovecot's auth process logs each SMTP AUTH
// failure that Postfix logs again two seconds later; read together (merged in time order),
// each attempt counts once, under the protocol Postfix knows.
TEST(Capture, PostfixAndDovecotFailuresCountOnce) {
  const std::string dir =
      std::string(MW_SOURCE_DIR) + "/tests/data/logs/capture/postfix-3.7-dovecot/";
  const auto cat = real_catalog();
  Analyzer an(cat, {});
  ReadOptions ro;
  ro.time_zone = "UTC";
  ro.file_year_month = std::make_pair(2026, 11);
  ro.keep = [](const Event& e) { return Analyzer::wants(e); };
  const auto merged = read_merged({dir + "mail.log", dir + "dovecot.log"}, ro,
                                  [&](const Event& e, Position p) { an.add(e, p); });
  ASSERT_EQ(merged.results.size(), 2u);
  const auto r = an.finish({});
  const auto* alice = account(r, "alice@example.org");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->failures, 2u);  // S12, S13: two attempts, four lines
  EXPECT_EQ(alice->failures_by_protocol[static_cast<std::size_t>(Protocol::submission)], 2u);
  EXPECT_EQ(alice->messages, 3u);
  EXPECT_EQ(alice->recipients, 7u);
  const auto* mallory = account(r, "mallory@example.org");
  ASSERT_NE(mallory, nullptr);
  EXPECT_EQ(mallory->failures, 2u);  // S14, S15
  EXPECT_EQ(mallory->logins, 0u);
  // The merge is the same whatever order the files are named in.
  Analyzer an2(cat, {});
  (void)read_merged({dir + "dovecot.log", dir + "mail.log"}, ro,
                    [&](const Event& e, Position p) { an2.add(e, p); });
  const auto r2 = an2.finish({});
  ASSERT_NE(account(r2, "alice@example.org"), nullptr);
  EXPECT_EQ(account(r2, "alice@example.org")->failures, 2u);
  EXPECT_EQ(r2.failures, r.failures);
}

}  // namespace
}  // namespace mw::logs
