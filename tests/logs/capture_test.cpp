// Real Postfix + Dovecot logs captured by tests/data/logs/capture/capture.sh (a private,
// loopback-only mail system): every line of every capture parses into a known kind. Skipped,
// with the reason, while no capture has been committed.
#include <gtest/gtest.h>

#include <filesystem>

#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

std::vector<std::filesystem::path> captures() {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir =
      std::filesystem::path(MW_SOURCE_DIR) / "tests/data/logs/capture";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_directory()) continue;
    for (const char* name : {"mail.log", "dovecot.log"}) {
      if (std::filesystem::exists(e.path() / name)) out.push_back(e.path() / name);
    }
  }
  return out;
}

TEST(Capture, EveryLineParses) {
  const auto files = captures();
  if (files.empty()) GTEST_SKIP() << "no tests/data/logs/capture/*/mail.log yet (capture.sh)";
  for (const auto& path : files) {
    const auto rel = std::filesystem::relative(path, MW_SOURCE_DIR).string();
    const auto text = test::read_source_file(rel);
    test::Fixture fx;
    std::size_t n = 0, sasl_failures = 0, sasl_logins = 0, passdb_failures = 0;
    for (const auto& l : test::split_lines(text)) {
      if (l.empty()) continue;
      auto e = fx.parse(l);
      ++n;
      EXPECT_EQ(e.line_kind, LineKind::parsed) << rel << ": " << l;
      EXPECT_NE(e.facts.kind, EventKind::unparsed) << rel << ": " << l;
      // Postfix >= 3.7.8 names the user on SASL failures, or says "(unavailable)".
      const auto u = l.find("sasl_username=");
      if (l.find("SASL ") != std::string::npos &&
          l.find("authentication failed") != std::string::npos) {
        ++sasl_failures;
        EXPECT_EQ(e.facts.kind, EventKind::auth) << l;
        EXPECT_EQ(e.facts.outcome, Outcome::failure) << l;
        EXPECT_FALSE(e.facts.client_ip.empty()) << l;
        ASSERT_NE(u, std::string::npos) << l;
        const auto user = l.substr(u + 14);
        EXPECT_EQ(e.facts.account, user == "(unavailable)" ? "" : user) << l;
      } else if (u != std::string::npos) {
        ++sasl_logins;
        EXPECT_EQ(e.facts.kind, EventKind::message_client) << l;
        EXPECT_EQ(e.facts.outcome, Outcome::success) << l;
        EXPECT_EQ(e.facts.account, l.substr(u + 14)) << l;
      }
      if (l.find("passwd-file(") != std::string::npos) {
        ++passdb_failures;
        EXPECT_EQ(e.facts.outcome, Outcome::failure) << l;
        EXPECT_EQ(e.facts.client_ip, "127.0.0.1") << l;
      }
    }
    EXPECT_GT(n, 0u) << rel;
    if (path.filename() == "mail.log") {
      EXPECT_GT(sasl_failures, 0u) << rel;
      EXPECT_GT(sasl_logins, 0u) << rel;
    } else {
      EXPECT_GT(passdb_failures, 0u) << rel;
    }
  }
}

}  // namespace
}  // namespace mw::logs
