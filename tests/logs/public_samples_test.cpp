// The real lines of tests/data/logs/public/ (fail2ban 1.0.2's and sshguard 2.4.2's test
// inputs, see its README.md): the lines of the programs we parse become facts, with the
// client address fail2ban and sshguard expect.
#include <gtest/gtest.h>

#include <map>

#include "core/ip.hpp"
#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

using test::Fixture;

std::map<std::string, int> histogram(const std::string& file, std::vector<std::string>* unknown) {
  Fixture fx;
  std::map<std::string, int> kinds;
  for (const auto& l : test::fail2ban_lines(file)) {
    auto e = fx.parse(l);
    if (e.line_kind == LineKind::parsed) {
      kinds[std::string(name_of(e.facts.kind))]++;
    } else {
      kinds[std::string(name_of(e.line_kind))]++;
      unknown->push_back(l);
    }
  }
  return kinds;
}

TEST(PublicSamples, Fail2banPostfixEveryLineParses) {
  std::vector<std::string> unknown;
  auto kinds = histogram("postfix", &unknown);
  EXPECT_TRUE(unknown.empty()) << unknown.front();
  const std::map<std::string, int> want = {
      {"auth", 13}, {"disconnect", 7}, {"protocol_error", 7}, {"reject", 23}, {"screen", 4}};
  EXPECT_EQ(kinds, want);
  // Every SASL failure names a client address.
  Fixture fx;
  for (const auto& l : test::fail2ban_lines("postfix")) {
    auto e = fx.parse(l);
    if (e.facts.kind != EventKind::auth) continue;
    EXPECT_EQ(e.facts.outcome, Outcome::failure) << l;
    EXPECT_TRUE(parse_address(e.facts.client_ip).ok()) << l;
    EXPECT_FALSE(e.facts.method.empty()) << l;
  }
}

TEST(PublicSamples, Fail2banDovecot) {
  std::vector<std::string> unknown;
  auto kinds = histogram("dovecot", &unknown);
  // Only the four daemontools (TAI64N "@4000...") lines have no envelope we read.
  ASSERT_EQ(unknown.size(), 4u);
  for (const auto& l : unknown) EXPECT_EQ(l[0], '@') << l;
  const std::map<std::string, int> want = {
      {"auth", 33}, {"disconnect", 21}, {"envelope_unknown", 4}};
  EXPECT_EQ(kinds, want);
  Fixture fx;
  int failures_with_ip = 0;
  for (const auto& l : test::fail2ban_lines("dovecot")) {
    auto e = fx.parse(l);
    if (e.facts.kind == EventKind::auth && e.facts.outcome == Outcome::failure &&
        parse_address(e.facts.client_ip).ok()) {
      ++failures_with_ip;
    }
  }
  EXPECT_EQ(failures_with_ip, 33);
}

TEST(PublicSamples, Fail2banSshd) {
  std::vector<std::string> unknown;
  auto kinds = histogram("sshd", &unknown);
  // What stays unknown: "[sshd]" without host or pid (not a syslog tag), and messages that
  // name no attempt we count (reverse-DNS warnings, tcpd refusals).
  EXPECT_EQ(kinds["program_unknown"], 2);
  EXPECT_EQ(kinds["message_unknown"], 3);
  EXPECT_EQ(kinds["auth"], 33);
  EXPECT_EQ(kinds["invalid_user"], 15);
}

TEST(PublicSamples, SshdUserNameInjection) {
  // fail2ban's injection cases: the client is 127.0.0.1 each time.
  for (std::string_view l : {
           "Nov 11 08:04:51 redbamboo sshd[2737]: Failed password for invalid user from "
           "10.10.1.1 from 127.0.0.1 port 58946 ssh2",
           "Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from "
           "10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2",
           "Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from "
           "127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2",
       }) {
    Fixture fx;
    auto e = fx.parse(l);
    ASSERT_EQ(e.facts.kind, EventKind::auth) << l;
    EXPECT_EQ(e.facts.client_ip, "127.0.0.1") << l;
    EXPECT_EQ(e.facts.client_port, 58946) << l;
  }
}

// sshguard's records: input line, expected "<service> <addr> <4|6> <score>" or "*", "M".
TEST(PublicSamples, SshguardVectors) {
  auto lines =
      test::split_lines(test::read_source_file("tests/data/logs/public/sshguard-2.4.2/tests.txt"));
  int checked = 0;
  for (std::size_t i = 0; i + 2 < lines.size(); ++i) {
    if (lines[i].empty() || lines[i][0] == '#' || lines[i] == "M") continue;
    const std::string& input = lines[i];
    const std::string& want = lines[i + 1];
    if (lines[i + 2] != "M") continue;
    i += 2;
    const auto sp1 = want.find(' ');
    if (sp1 == std::string::npos) continue;  // "*": not an attack (we only check no crash)
    const std::string service = want.substr(0, sp1);
    const std::string addr = want.substr(sp1 + 1, want.find(' ', sp1 + 1) - sp1 - 1);
    std::string_view got;
    Fixture fx;
    auto e = fx.parse(input);
    std::optional<Facts> f;
    if (e.line_kind == LineKind::parsed) {
      f = e.facts;
    } else if (service == "100" && e.envelope == EnvelopeFormat::none) {
      f = parse_sshd(input);  // sshguard's SSH section gives only the message
    }
    if (service != "100" && service != "260" && service != "210") continue;
    if (e.envelope == EnvelopeFormat::none && service != "100") continue;
    if (e.envelope != EnvelopeFormat::none && e.program_kind == Program::unknown) continue;
    ASSERT_TRUE(f.has_value()) << input;
    got = f->client_ip;
    EXPECT_EQ(got, addr) << input;
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace mw::logs
