// The renderers of `mailwarden logs report`: the text names each compromised account with its
// addresses and figures, the follow-up commands survive hostile account names (checked by a real
// shell), the JSON parses back to what the report holds, the HTML escapes everything, invalid
// UTF-8 never reaches the output, and the same report always gives the same bytes.
// LogsReportSample writes the JSON that tests/report/logs_schema_test.py validates.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/subprocess.hpp"
#include "report/logs_html.hpp"
#include "report/logs_report.hpp"

namespace mw::report {
namespace {

using logs::AccountSummary;
using logs::Detector;
using logs::Finding;
using logs::FindingSeverity;
using logs::LogReport;
using logs::Protocol;
using logs::Timestamp;

constexpr std::int64_t kT0 = 1795835520;  // 2026-11-28T03:12:00Z

std::size_t count_of(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// True when `s` is valid UTF-8 (no overlong form, surrogate or code point past U+10FFFF).
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80           ? 1
                            : (c >> 5) == 0x6  ? 2
                            : (c >> 4) == 0xE  ? 3
                            : (c >> 3) == 0x1E ? 4
                                               : 0;
    if (len == 0 || i + len > s.size()) return false;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      const auto x = static_cast<unsigned char>(s[i + k]);
      if ((x & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (x & 0x3F);
    }
    constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// The tags of a page ("<a href=...>"): with every value escaped, the only '<' are markup.
std::vector<std::string> tags_of(std::string_view html) {
  std::vector<std::string> tags;
  for (auto p = html.find('<'); p != std::string_view::npos; p = html.find('<', p + 1)) {
    tags.emplace_back(html.substr(p, html.find('>', p) - p + 1));
  }
  return tags;
}

Finding compromise(const std::string& account, std::vector<std::string> ips, std::int64_t at,
                   std::uint64_t failures) {
  Finding f;
  f.detector = Detector::compromised_login;
  f.severity = FindingSeverity::critical;
  f.key = account;
  f.account = account;
  f.summary = "login from a new address after " + std::to_string(failures) + " failures";
  f.source_ips = std::move(ips);
  f.source_ip_count = f.source_ips.size();
  f.first_seen = Timestamp{at, 0};
  f.last_seen = Timestamp{at + 60, 0};
  f.counts = {{"failures", failures}, {"successes", 1}};
  f.evidence = {{0, 120}, {1, 7}};
  return f;
}

AccountSummary account(const std::string& name, std::uint64_t messages, std::uint64_t failures) {
  AccountSummary a;
  a.account = name;
  a.logins = 3;
  a.failures = failures;
  a.logins_by_protocol[static_cast<std::size_t>(Protocol::imap)] = 2;
  a.logins_by_protocol[static_cast<std::size_t>(Protocol::http)] = 1;
  a.failures_by_protocol[static_cast<std::size_t>(Protocol::submission)] = failures;
  a.client_ips = {"192.0.2.10"};
  a.client_ip_count = 1;
  a.messages = messages;
  a.recipients = messages * 2;
  a.first_seen = Timestamp{kT0 - 7200, 0};
  a.last_seen = Timestamp{kT0 + 7200, 0};
  return a;
}

// alice: compromised from one address in Australia, then a burst of mail; bob: compromised from
// two addresses; a brute force from 198.51.100.7 on several accounts (no account of its own).
LogReport sample() {
  LogReport r;
  r.inputs.resize(2);
  r.inputs[0].name = "/var/log/mail.log";
  r.inputs[0].compression = "none";
  r.inputs[0].bytes = 123456;
  r.inputs[0].lines = 1000;
  r.inputs[0].counts.lines = 1000;
  r.inputs[0].counts.by_kind[static_cast<std::size_t>(logs::LineKind::parsed)] = 990;
  r.inputs[0].counts.by_kind[static_cast<std::size_t>(logs::LineKind::envelope_unknown)] = 3;
  r.inputs[0].counts.by_kind[static_cast<std::size_t>(logs::LineKind::message_unknown)] = 7;
  r.inputs[0].counts.message_unknown_by_program[static_cast<std::size_t>(logs::Program::postfix)] =
      7;
  r.inputs[1].name = "/opt/zimbra/log/audit.log.1.gz";
  r.inputs[1].compression = "gzip";
  r.inputs[1].bytes = 999;
  r.inputs[1].lines = 50;
  r.inputs[1].counts.lines = 50;
  r.inputs[1].counts.by_kind[static_cast<std::size_t>(logs::LineKind::parsed)] = 50;
  r.totals = r.inputs[0].counts;
  r.totals.merge(r.inputs[1].counts);
  r.has_time = true;
  r.first = Timestamp{kT0 - 86400, 0};
  r.last = Timestamp{kT0 + 3600, 0};
  r.saw_zimbra = true;
  r.messages = 2000;
  r.logins = 40;
  r.failures = 300;

  Finding a = compromise("alice@example.com", {"203.0.113.9"}, kT0, 45);
  a.countries = {"AU"};
  Finding burst;
  burst.detector = Detector::outbound_burst;
  burst.severity = FindingSeverity::high;
  burst.key = burst.account = "alice@example.com";
  burst.summary = "1830 messages in 45 minutes";
  burst.first_seen = Timestamp{kT0 + 480, 0};  // 03:20
  burst.last_seen = Timestamp{kT0 + 3180, 0};  // 04:05
  burst.counts = {{"messages", 1830}, {"recipients", 4211}};
  burst.evidence = {{0, 130}, {0, 990}};
  Finding b = compromise("bob@example.com", {"198.51.100.20", "198.51.100.21"}, kT0 + 600, 12);
  Finding brute;
  brute.detector = Detector::brute_force;
  brute.severity = FindingSeverity::high;
  brute.key = "198.51.100.7";
  brute.summary = "250 failed logins on 3 accounts";
  brute.source_ips = {"198.51.100.7"};
  brute.source_ip_count = 1;
  brute.accounts = {"alice@example.com", "bob@example.com", "carol@example.com"};
  brute.account_count = 3;
  brute.first_seen = Timestamp{kT0 - 3600, 0};
  brute.last_seen = Timestamp{kT0, 0};
  brute.counts = {{"failures", 250}};
  brute.evidence = {{0, 5}, {0, 99}};
  r.findings = {a, b, burst, brute};

  auto alice = account("alice@example.com", 1830, 45);
  alice.recipients = 4211;
  alice.external_domains = 312;
  alice.countries = {"AU", "DE"};
  alice.suspicious = true;
  alice.peak_per_hour = 1500;
  alice.peak_hour = kT0 / 3600;
  alice.timeline = {{kT0 / 3600 - 1, 0, 45, 0, 0},
                    {kT0 / 3600, 1, 0, 1500, 3000},
                    {kT0 / 3600 + 1, 0, 0, 330, 1211}};
  auto bob = account("bob@example.com", 0, 12);
  bob.suspicious = true;
  bob.timeline = {{kT0 / 3600, 1, 12, 0, 0}};
  auto carol = account("carol@example.com", 170, 200);
  r.accounts = {alice, bob, carol};
  r.geoip = "GeoLite2-Country.mmdb";
  return r;
}

// The report with its one compromised account renamed.
LogReport with_account(const std::string& name, bool zimbra) {
  LogReport r = sample();
  r.saw_zimbra = zimbra;
  r.findings = {compromise(name, {"203.0.113.9"}, kT0, 45)};
  auto a = account(name, 10, 45);
  a.suspicious = true;
  a.timeline = {{kT0 / 3600, 1, 45, 10, 20}};
  r.accounts = {a};
  return r;
}

// ---------------------------------------------------------------------------------------------
// Text.

TEST(LogsText, NamesEachCompromisedAccountWithAddressesAndCounts) {
  const std::string text = render_logs_text(sample(), {});
  EXPECT_NE(text.find("account alice@example.com compromised at 2026-11-28T03:12:00Z from "
                      "203.0.113.9 (AU) after 45 failures; sent 1,830 messages to 4,211 "
                      "recipients (312 external domains) from 2026-11-28T03:20:00Z to "
                      "2026-11-28T04:05:00Z"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("account bob@example.com compromised at 2026-11-28T03:22:00Z from "
                      "198.51.100.20, 198.51.100.21 after 12 failures; no message sent"),
            std::string::npos)
      << text;
  // The incident comes first, the other findings after it, the inputs last.
  const auto incident = text.find("COMPROMISED ACCOUNTS (2)");
  const auto others = text.find("OTHER FINDINGS");
  const auto inputs = text.find("INPUTS");
  ASSERT_NE(incident, std::string::npos);
  ASSERT_NE(others, std::string::npos);
  EXPECT_LT(incident, others);
  EXPECT_LT(others, inputs);
  // The brute force with its addresses, accounts and evidence as input:line.
  EXPECT_NE(text.find("[HIGH] brute_force 198.51.100.7"), std::string::npos) << text;
  EXPECT_NE(text.find("alice@example.com, bob@example.com, carol@example.com"), std::string::npos);
  EXPECT_NE(text.find("/var/log/mail.log:5, /var/log/mail.log:99"), std::string::npos);
  EXPECT_NE(text.find("/var/log/mail.log:120, /opt/zimbra/log/audit.log.1.gz:7"),
            std::string::npos);
  // No line is lost silently: the unparsed lines by kind and program.
  EXPECT_NE(text.find("envelope_unknown 3, message_unknown 7 (postfix 7)"), std::string::npos)
      << text;
  // The top accounts, by messages and by failures.
  EXPECT_LT(text.find("alice@example.com"), text.find("TOP ACCOUNTS BY FAILED LOGINS"));
  const auto failures = text.substr(text.find("TOP ACCOUNTS BY FAILED LOGINS"));
  EXPECT_LT(failures.find("carol@example.com"), failures.find("alice@example.com"));
}

TEST(LogsText, NoCompromiseSaysSo) {
  LogReport r = sample();
  r.findings.resize(0);
  const std::string text = render_logs_text(r, {});
  EXPECT_NE(text.find("No compromised account found."), std::string::npos);
  EXPECT_EQ(text.find("FOLLOW-UP COMMANDS"), std::string::npos);
}

TEST(LogsText, ColourOnlyWhenAsked) {
  EXPECT_EQ(render_logs_text(sample(), {}).find('\033'), std::string::npos);
  EXPECT_NE(render_logs_text(sample(), {.color = true}).find("\033[1;31m"), std::string::npos);
}

TEST(LogsText, ControlCharactersFromLogsAreShownNotSent) {
  // An account name that would clear the screen and ring the bell on a terminal.
  LogReport r = with_account("evil\x1b[2J\x07@example.com", true);
  r.findings[0].summary =
      "line\nbreak \xc2\x9b"
      "31m";
  const std::string text = render_logs_text(r, {});
  EXPECT_EQ(text.find('\033'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(text.find("evil\\x1b[2J\\x07@example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("line\\x0abreak \\xc2\\x9b31m"), std::string::npos) << text;
}

// ---------------------------------------------------------------------------------------------
// Follow-up commands.

TEST(LogsCommands, ZimbraLocksExpiresSessionsAndHoldsMail) {
  const auto lines = follow_up_commands(sample(), "alice@example.com");
  auto has = [&](std::string_view s) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l == s; });
  };
  EXPECT_TRUE(has("zmprov ma alice@example.com zimbraAccountStatus locked"));
  EXPECT_TRUE(has("zmprov ga alice@example.com zimbraAuthTokenValidityValue"));
  EXPECT_TRUE(has("zmprov ma alice@example.com zimbraPasswordMustChange TRUE"));
  EXPECT_TRUE(has("zmprov flushCache account alice@example.com"));
  EXPECT_TRUE(
      has("/opt/zimbra/common/sbin/postqueue -j | jq -r --arg sender alice@example.com "
          "'select(.sender == $sender) | .queue_id' | /opt/zimbra/common/sbin/postsuper "
          "-h -"));
  EXPECT_TRUE(has("# block the addresses the attacker used at your firewall: 203.0.113.9"));
  // No known password is ever printed: the new one must be set by the reader.
  for (const auto& l : lines) {
    if (l.rfind("zmprov sp ", 0) == 0) {
      EXPECT_NE(l.find("${NEW_PASSWORD:?"), std::string::npos);
    }
  }
  EXPECT_TRUE(std::none_of(lines.begin(), lines.end(),
                           [](const std::string& l) { return l.find("doveadm") == 0; }));
}

TEST(LogsCommands, PostfixDovecotWithoutZimbra) {
  LogReport r = sample();
  r.saw_zimbra = false;
  const auto lines = follow_up_commands(r, "bob@example.com");
  auto has = [&](std::string_view s) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l == s; });
  };
  EXPECT_TRUE(has("doveadm kick bob@example.com"));
  EXPECT_TRUE(has("doveadm auth cache flush bob@example.com"));
  EXPECT_TRUE(
      has("postqueue -j | jq -r --arg sender bob@example.com 'select(.sender == $sender) "
          "| .queue_id' | postsuper -h -"));
  EXPECT_TRUE(
      has("# block the addresses the attacker used at your firewall: 198.51.100.20 "
          "198.51.100.21"));
  EXPECT_TRUE(std::none_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("zmprov") != std::string::npos;
  }));
}

// Each command line runs in a real shell where the programs are functions printing their
// arguments one per line: the account must arrive as exactly one argument, unchanged, and
// nothing in it may run.
TEST(LogsCommands, HostileAccountNamesReachTheShellAsOneWord) {
  const std::vector<std::string> names = {"o'brien smith@example.com",
                                          "a b",
                                          "$(echo INJECTED)",
                                          "x;echo INJECTED",
                                          "`echo INJECTED`",
                                          "back\\slash\"quote",
                                          "*",
                                          "ü@example.com",
                                          "'",
                                          "a|b&c>d"};
  for (const bool zimbra : {true, false}) {
    for (const auto& name : names) {
      SCOPED_TRACE(name);
      const auto lines = follow_up_commands(with_account(name, zimbra), name);
      std::size_t run = 0;
      for (std::string line : lines) {
        if (line.empty() || line[0] == '#') continue;
        for (std::string_view dir : {"/opt/zimbra/common/sbin/"}) {
          for (auto p = line.find(dir); p != std::string::npos; p = line.find(dir)) {
            line.erase(p, dir.size());
          }
        }
        const std::string script =
            "args() { for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; }\n"
            "zmprov() { args \"$@\"; }\ndoveadm() { args \"$@\"; }\npostqueue() { :; }\n"
            "jq() { args \"$@\"; }\npostsuper() { cat; }\n"
            "NEW_VALIDITY=2 NEW_PASSWORD=x\n" +
            line + "\n";
        auto res = run_command({"/bin/sh", "-c", script});
        ASSERT_TRUE(res.ok()) << line;
        EXPECT_EQ(res->exit_code, 0) << line << "\n" << res->err;
        EXPECT_NE(res->out.find("[" + name + "]\n"), std::string::npos) << line << "\n" << res->out;
        EXPECT_EQ(count_of(res->out, "INJECTED"), count_of(name, "INJECTED")) << res->out;
        ++run;
      }
      EXPECT_GE(run, zimbra ? 6u : 3u);
    }
  }
}

TEST(LogsCommands, NoCommandForNamesATerminalCannotShow) {
  for (const std::string& name : {std::string("evil\x1b[2J"), std::string("bad\xff"),
                                  std::string("new\nline"), std::string("-rf")}) {
    const auto lines = follow_up_commands(with_account(name, true), name);
    ASSERT_EQ(lines.size(), 1u) << name;
    EXPECT_EQ(lines[0][0], '#');
    EXPECT_EQ(lines[0].find(name), std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON.

TEST(LogsJson, RoundTrip) {
  const LogReport r = sample();
  const auto j = nlohmann::json::parse(render_logs_json(r, "1.2.3"));
  EXPECT_EQ(j["tool"]["name"], "mailwarden");
  EXPECT_EQ(j["tool"]["version"], "1.2.3");
  ASSERT_EQ(j["inputs"].size(), 2u);
  EXPECT_EQ(j["inputs"][1]["name"], "/opt/zimbra/log/audit.log.1.gz");
  EXPECT_EQ(j["inputs"][1]["compression"], "gzip");
  EXPECT_EQ(j["inputs"][0]["counts"]["by_kind"]["envelope_unknown"], 3);
  EXPECT_EQ(j["inputs"][0]["counts"]["message_unknown_by_program"]["postfix"], 7);
  EXPECT_EQ(j["inputs"][0]["counts"]["unparsed"], 10);
  EXPECT_EQ(j["totals"]["input_lines"]["lines"], 1050);
  EXPECT_EQ(j["totals"]["compromised_accounts"], 2);
  EXPECT_EQ(j["totals"]["failures"], 300);
  EXPECT_EQ(j["period"]["first"], "2026-11-27T03:12:00Z");
  EXPECT_EQ(j["period"]["last"], "2026-11-28T04:12:00Z");
  EXPECT_EQ(j["geoip"], "GeoLite2-Country.mmdb");
  EXPECT_EQ(j["follow_up"], "zimbra");

  ASSERT_EQ(j["findings"].size(), r.findings.size());
  const auto& a = j["findings"][0];
  EXPECT_EQ(a["detector"], "compromised_login");
  EXPECT_EQ(a["severity"], "critical");
  EXPECT_EQ(a["account"], "alice@example.com");
  EXPECT_EQ(a["source_ips"], nlohmann::json({"203.0.113.9"}));
  EXPECT_EQ(a["countries"], nlohmann::json({"AU"}));
  EXPECT_EQ(a["first_seen"], "2026-11-28T03:12:00Z");
  EXPECT_EQ(a["counts"]["failures"], 45);
  EXPECT_EQ(a["evidence"][1]["input"], "/opt/zimbra/log/audit.log.1.gz");
  EXPECT_EQ(a["evidence"][1]["line"], 7);
  ASSERT_TRUE(a.contains("commands"));
  EXPECT_EQ(a["commands"].get<std::vector<std::string>>(),
            follow_up_commands(r, "alice@example.com"));
  const auto& brute = j["findings"][3];
  EXPECT_EQ(brute["detector"], "brute_force");
  EXPECT_FALSE(brute.contains("account"));
  EXPECT_FALSE(brute.contains("commands"));
  EXPECT_EQ(brute["account_count"], 3);

  ASSERT_EQ(j["accounts"].size(), 3u);
  const auto& alice = j["accounts"][0];
  EXPECT_EQ(alice["account"], "alice@example.com");
  EXPECT_EQ(alice["logins_by_protocol"], nlohmann::json({{"imap", 2}, {"http", 1}}));
  EXPECT_EQ(alice["failures_by_protocol"], nlohmann::json({{"submission", 45}}));
  EXPECT_EQ(alice["external_domains"], 312);
  EXPECT_EQ(alice["peak_hour"], "2026-11-28T03:00:00Z");
  EXPECT_EQ(alice["timeline"][1]["messages"], 1500);
  EXPECT_EQ(j["accounts"][1]["peak_hour"], nullptr);  // bob sent nothing
}

TEST(LogsJson, NoTimeGivesNullPeriod) {
  LogReport r = sample();
  r.has_time = false;
  r.geoip.clear();
  const auto j = nlohmann::json::parse(render_logs_json(r, "1"));
  EXPECT_TRUE(j["period"]["first"].is_null());
  EXPECT_TRUE(j["geoip"].is_null());
}

// ---------------------------------------------------------------------------------------------
// HTML.

TEST(LogsHtml, HostileAccountIsEscapedEverywhere) {
  const std::string name = "<script>alert(1)</script>\"'&@example.com";
  LogReport r = with_account(name, true);
  r.inputs[0].name = "<img src=x onerror=alert(2)>";
  const std::string html = render_logs_html(r, "1.2.3");
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(count_of(html, "<script"), 1u);  // the page's own copy script
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;@example.com"),
            std::string::npos);
  // Nothing can be fetched: the policy forbids it and no element points outside.
  EXPECT_NE(html.find("content=\"default-src 'none';"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  for (const auto& tag : tags_of(html)) {
    EXPECT_EQ(tag.find(" src="), std::string::npos) << tag;
    EXPECT_EQ(tag.find("href=\"http"), std::string::npos) << tag;
  }
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(LogsHtml, CompromisedAccountFirstWithTimelineAndCommands) {
  const std::string html = render_logs_html(sample(), "1.2.3");
  const auto incidents = html.find("id=\"incidents\"");
  const auto findings = html.find("id=\"findings\"");
  const auto commands = html.find("id=\"commands\"");
  ASSERT_NE(incidents, std::string::npos);
  EXPECT_LT(incidents, findings);
  EXPECT_LT(findings, commands);
  EXPECT_EQ(count_of(html, "<svg class=\"timeline\""), 2u);  // alice and bob
  EXPECT_NE(html.find("<title>2026-11-28T03:00:00Z: 1,500 messages</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>compromised_login (critical) first seen 2026-11-28T03:12:00Z"),
            std::string::npos);
  EXPECT_NE(html.find("zmprov ma alice@example.com zimbraAccountStatus locked"), std::string::npos);
  EXPECT_EQ(count_of(html, "class=\"copy\""), 2u);
  EXPECT_NE(html.find("/var/log/mail.log:120"), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("@media (max-width:640px)"), std::string::npos);
}

// A timeline over years of sparse hours stays a bounded number of bars.
TEST(LogsHtml, LongTimelineIsBucketed) {
  LogReport r = with_account("alice@example.com", true);
  auto& t = r.accounts[0].timeline;
  t.clear();
  for (std::int64_t h = 0; h < 24 * 365 * 3; h += 7) t.push_back({kT0 / 3600 + h, 1, 1, 1, 1});
  const std::string html = render_logs_html(r, "1");
  EXPECT_LE(count_of(html, "<rect class=\"m\""), 240u);
  EXPECT_NE(html.find("messages per 110 hours"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Untrusted bytes and determinism.

TEST(LogsOutput, InvalidUtf8InAccountGivesValidUtf8) {
  const std::string name = "bad\xff\xfe\xc3(\xed\xa0\x80name@example.com";
  LogReport r = with_account(name, true);
  r.inputs[0].name = "mail\xfflog";
  r.findings[0].source_ips = {"203.0.113.9\x80"};
  const std::string text = render_logs_text(r, {});
  const std::string json = render_logs_json(r, "1");
  const std::string html = render_logs_html(r, "1");
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_TRUE(is_valid_utf8(json));
  EXPECT_TRUE(is_valid_utf8(html));
  EXPECT_NE(text.find("bad\\xff\\xfe\\xc3(\\xed\\xa0\\x80name@example.com"), std::string::npos);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["findings"][0]["account"],
            "bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "name@example.com");
}

TEST(LogsOutput, SameReportSameBytes) {
  const LogReport a = sample();
  const LogReport b = sample();
  EXPECT_EQ(render_logs_text(a, {}), render_logs_text(b, {}));
  EXPECT_EQ(render_logs_json(a, "1"), render_logs_json(b, "1"));
  EXPECT_EQ(render_logs_html(a, "1"), render_logs_html(b, "1"));
  EXPECT_EQ(render_logs_html(a, "1"), render_logs_html(a, "1"));
}

TEST(LogsOutput, TimesAndNumbers) {
  EXPECT_EQ(iso_time({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso_time({kT0, 5}), "2026-11-28T03:12:00Z");
  EXPECT_EQ(iso_time({-1, 0}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(iso_time({951782400, 0}), "2000-02-29T00:00:00Z");
  EXPECT_EQ(iso_time({INT64_MAX, 0}), "invalid-time(9223372036854775807)");
  EXPECT_EQ(iso_hour(INT64_MIN), "invalid-hour(-9223372036854775808)");
  EXPECT_EQ(grouped(0), "0");
  EXPECT_EQ(grouped(999), "999");
  EXPECT_EQ(grouped(1830), "1,830");
  EXPECT_EQ(grouped(1234567), "1,234,567");
}

// ---------------------------------------------------------------------------------------------
// The sample that tests/report/logs_schema_test.py validates against
// docs/logs-report.schema.json: the report above plus an account whose name is hostile bytes.

TEST(LogsReportSample, WritesSampleJson) {
  const char* env = std::getenv("MW_LOGS_REPORT_SAMPLE");
  const std::filesystem::path path =
      env != nullptr && *env != '\0'
          ? std::filesystem::path(env)
          : std::filesystem::path(MW_ARTIFACT_DIR) / "logs-report-sample.json";
  LogReport r = sample();
  const std::string hostile = "mallory\xff\x1b[2J@example.com";
  r.findings.push_back(compromise(hostile, {"192.0.2.66"}, kT0 + 900, 3));
  auto m = account(hostile, 1, 3);
  m.suspicious = true;
  r.accounts.push_back(m);
  const std::string json = render_logs_json(r, "0.0.0-test");
  ASSERT_TRUE(is_valid_utf8(json));
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.close();
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace
}  // namespace mw::report
