// Account attribution from the logs through logs' own readers: a real Postfix 3.7 capture
// (submission -> content filter on 127.0.0.1:10026 -> "queued as") and amavis' queued_as.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fake_tools.hpp"
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

// Zimbra webmail: mailboxd submits over SMTP from the mailbox server without SASL; amavis
// re-injects it from loopback too (logged before the hand-off's 'queued as'). The account is the
// envelope sender, and the re-injection is the same message (not a second webmail submission).
// Inbound mail from elsewhere without SASL is nobody's.
TEST(LogAttribution, WebmailFromAMailboxServerIsTheSenders) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mw-queue-webmail-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "zimbra.log").string();
  {
    std::ofstream out(path);
    out << "Nov 28 10:00:00 mx postfix/smtpd[11]: AAA111: client=mbox1.example.com[192.0.2.20]\n"
        << "Nov 28 10:00:01 mx postfix/smtpd[13]: BBB222: client=localhost[127.0.0.1]\n"
        << "Nov 28 10:00:01 mx postfix/smtp[12]: AAA111: to=<x@example.org>, "
           "relay=127.0.0.1[127.0.0.1]:10032, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
           "status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10030): 250 2.0.0 Ok: queued as "
           "BBB222)\n"
        << "Nov 28 10:00:02 mx postfix/smtpd[14]: CCC333: client=mail.example.net[198.51.100.9]\n"
        << "Nov 28 10:00:03 mx postfix/smtpd[15]: DDD444: client=localhost[127.0.0.1]\n";
  }
  logs::ReadOptions ro = utc();
  const auto a = attribute_from_logs({path}, ro, {*parse_prefix("192.0.2.20")});
  const auto loop = attribute_from_logs({path}, ro);  // default: loopback only
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(a.chain.webmail("AAA111"));
  EXPECT_TRUE(a.chain.webmail("BBB222")) << "the re-injection of a webmail message";
  EXPECT_FALSE(a.chain.webmail("CCC333")) << "inbound mail from another server";
  EXPECT_FALSE(a.chain.webmail("DDD444")) << "loopback is not a mailbox server here";
  EXPECT_FALSE(loop.chain.webmail("AAA111"));
  EXPECT_FALSE(loop.chain.webmail("BBB222")) << "a re-injection is its parent's message";
  EXPECT_TRUE(loop.chain.webmail("DDD444"));

  auto msg = [](std::string id, std::string sender) {
    QueuedMessage m;
    m.queue_id = std::move(id);
    m.sender = std::move(sender);
    return m;
  };
  const std::vector<QueuedMessage> queued = {msg("BBB222", "alice@example.com"),
                                             msg("CCC333", "news@example.net"), msg("EEE555", "")};
  std::vector<const QueuedMessage*> ptrs;
  for (const auto& m : queued) ptrs.push_back(&m);
  testing::FakeTools tools;
  const auto lookup = lookup_accounts(tools, ptrs, &a.chain, /*use_postcat=*/false, 1);
  ASSERT_EQ(lookup.accounts.count("BBB222"), 1u);
  EXPECT_EQ(lookup.accounts.at("BBB222").account, "alice@example.com");
  EXPECT_EQ(lookup.accounts.at("BBB222").source, AccountSource::webmail);
  EXPECT_EQ(lookup.accounts.count("CCC333"), 0u);
  EXPECT_EQ(lookup.accounts.count("EEE555"), 0u);
}

}  // namespace
}  // namespace mw::queue
