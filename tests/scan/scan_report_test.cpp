// The scan matrix in the analyser's look, and the verify table.
#include "report/scan_report.hpp"

#include <gtest/gtest.h>

namespace mw::report {
namespace {

scan::ScanReport sample() {
  scan::ScanReport r;
  r.host = "mail.example.com";
  r.addresses = {*parse_address("192.0.2.1"), *parse_address("2001:db8::1")};
  scan::Observation open{scan::PortState::open, 1, std::chrono::microseconds(250), 0, "connected"};
  scan::Observation rst{scan::PortState::closed, 1, std::chrono::microseconds(90), 111, "RST"};
  scan::Observation silent{scan::PortState::filtered, 2, std::nullopt, 0, "no answer"};
  r.ports.push_back({{Protocol::tcp, 25, "smtp"}, open, open});
  r.ports.push_back({{Protocol::tcp, 7071, "zimbra-admin-console"}, silent, rst});
  r.ports.push_back({{Protocol::udp, 514, "syslog"},
                     scan::Observation{scan::PortState::not_checkable, 0, {}, 0, "no UDP probe"},
                     std::nullopt});
  r.elapsed = std::chrono::milliseconds(2010);
  return r;
}

TEST(ScanReport, TextMatrix) {
  const std::string want =
      "What answers on each port of mail.example.com (192.0.2.1, 2001:db8::1), scanned from "
      "this machine\n"
      "\n"
      "port        service                    IPv4                                 IPv6\n"
      "25/tcp      smtp                       open                                 open\n"
      "7071/tcp    zimbra-admin-console       filtered (no answer)                 closed (RST)\n"
      "514/udp     syslog                     not checkable (no UDP probe)         -\n"
      "\n"
      "3 ports scanned in 2.01 s\n";
  EXPECT_EQ(render_scan_text(sample()), want);
}

TEST(ScanReport, Json) {
  const std::string j = render_scan_json(sample());
  EXPECT_NE(j.find("\"state\": \"filtered\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"attempts\": 2"), std::string::npos);
  EXPECT_NE(j.find("\"ipv6\": null"), std::string::npos);
}

TEST(VerifyReport, TextNamesTheMismatch) {
  scan::VerifyReport v;
  v.host = "192.0.2.1";
  v.targets = {*parse_address("192.0.2.1")};
  v.sources = {*parse_address("192.0.2.2")};
  scan::VerifyRow row;
  row.port = {Protocol::tcp, 7071, "zimbra-admin-console"};
  row.predicted = fw::Outcome::drop;
  row.rule = "nft.json: handle 7";
  row.observed = {scan::PortState::open, 1, {}, 0, "connected"};
  row.comparison = scan::compare(row.predicted, scan::Refusal::silent, row.observed, Protocol::tcp);
  v.rows.push_back(row);
  v.mismatches = 1;
  const std::string t = render_verify_text(v, {"nft.json"}, false);
  EXPECT_NE(t.find("7071/tcp"), std::string::npos) << t;
  EXPECT_NE(t.find("7071/tcp    zimbra-admin-console       IPv4   drop       open"
                   "                                 MISMATCH\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("  7071/tcp IPv4: predicted drop, observed open (connected) (deciding rule: "
                   "nft.json: handle 7)\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("1 checked: 0 agree, 1 mismatch, 0 unverifiable"), std::string::npos) << t;
  EXPECT_NE(render_verify_json(v, {"nft.json"}).find("\"agreement\": \"mismatch\""),
            std::string::npos);
}

}  // namespace
}  // namespace mw::report
