// Account attribution from the logs through logs' own readers: a real Postfix 3.7 capture
// (submission -> content filter on 127.0.0.1:10026 -> "queued as") and amavis' queued_as.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "queue/accounts.hpp"

namespace mw::queue {
namespace {

logs::ReadOptions utc() {
  logs::ReadOptions ro;
  ro.time_zone = "UTC";
  ro.threads = 1;
  return ro;
}

TEST(LogAttribution, RealPostfixCaptureFollowsQueuedAs) {
  const std::string log =
      std::string(MW_SOURCE_DIR) + "/tests/data/logs/capture/postfix-3.7-dovecot/mail.log";
  const auto a = attribute_from_logs({log}, utc());
  ASSERT_TRUE(a.errors.empty()) << a.errors.front();
  ASSERT_NE(a.chain.account("561F9A7E0DF"), nullptr);
  EXPECT_EQ(*a.chain.account("561F9A7E0DF"), "alice@example.org");
  // The filter's re-injection of that message: no sasl_username of its own.
  ASSERT_NE(a.chain.account("5D147A7E0E2"), nullptr);
  EXPECT_EQ(*a.chain.account("5D147A7E0E2"), "alice@example.org");
  ASSERT_NE(a.chain.account("6A9CDA7E0E9"), nullptr);
  EXPECT_EQ(*a.chain.account("6A9CDA7E0E9"), "bob@example.org");
}

TEST(LogAttribution, AmavisQueuedAsAndChainedFilters) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mw-queue-accounts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "zimbra.log").string();
  {
    std::ofstream out(path);
    // amavis reports the re-injection (queued_as) after the SMTP hand-off; the final copy
    // 9C8D7E is then relayed by 4B2C3D's delivery to a second filter.
    out << "Nov 28 10:00:00 mx postfix/submission/smtpd[11]: 3F1A2B: client=unknown[192.0.2.50], "
           "sasl_method=LOGIN, sasl_username=zed@example.com\n"
        << "Nov 28 10:00:01 mx amavis[2345]: (02345-01) Passed CLEAN {RelayedOutbound}, "
           "[127.0.0.1]:41234 [192.0.2.50] <a@example.com> -> <b@example.org>, Queue-ID: 3F1A2B, "
           "Message-ID: <abc@example.com>, mail_id: Xy12_ab, Hits: -, size: 1234, queued_as: "
           "4B2C3D, 120 ms\n"
        << "Nov 28 10:00:02 mx postfix/smtp[12]: 4B2C3D: to=<b@example.org>, "
           "relay=127.0.0.1[127.0.0.1]:10030, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
           "status=sent (250 2.0.0 Ok: queued as 9C8D7E)\n"
        << "Nov 28 10:00:03 mx postfix/smtp[12]: 9C8D7E: to=<b@example.org>, "
           "relay=mx.example.org[198.51.100.7]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
           "status=sent (250 2.0.0 Ok: queued as REMOTE1)\n";
  }
  const auto a = attribute_from_logs({path}, utc());
  std::filesystem::remove_all(dir);
  ASSERT_NE(a.chain.account("4B2C3D"), nullptr);
  EXPECT_EQ(*a.chain.account("4B2C3D"), "zed@example.com");
  ASSERT_NE(a.chain.account("9C8D7E"), nullptr);
  EXPECT_EQ(*a.chain.account("9C8D7E"), "zed@example.com");
  EXPECT_EQ(a.chain.account("REMOTE1"), nullptr) << "a remote server's queue id is not ours";
}

}  // namespace
}  // namespace mw::queue
