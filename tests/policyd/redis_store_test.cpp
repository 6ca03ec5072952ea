// RedisStore against a real redis-server on a private port: the limit semantics of store.hpp
// with an injected `now`, several stores sharing one Redis, and Redis down, restarted or slow.
#include "policyd/redis_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "redis_test_server.hpp"

namespace mw::policyd {
namespace {

using redis_test::Context;
using redis_test::RedisServer;
using redis_test::Reply;

constexpr std::int64_t kT0 = 1'800'000'000;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

Bucket bucket(std::string key, std::vector<WindowLimit> windows) {
  return Bucket{std::move(key), std::move(windows)};
}

// A new message (end-of-message mode): its own dedupe and message keys.
ChargeRequest message(std::int64_t now, std::uint32_t recipients = 1) {
  static std::atomic<int> serial{0};
  const std::string id = "mta1|" + std::to_string(serial.fetch_add(1));
  return ChargeRequest{id, id, recipients, now};
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(redis_test::kRedisServer)) {
      GTEST_SKIP() << redis_test::kRedisServer << " is not installed (package redis-server)";
    }
    std::string why;
    server_ = RedisServer::start(why, extra_args());
    ASSERT_TRUE(server_) << why;
  }

  virtual std::vector<std::string> extra_args() const { return {}; }

  RedisConfig config() const {
    RedisConfig c;
    c.port = server_->port();
    c.pool = 4;
    // Generous: the machine running the tests is shared and ASan is slow. The timeout tests
    // set their own.
    c.timeout_ms = 2000;
    c.prefix = "mwtest:";
    return c;
  }

  std::unique_ptr<RedisStore> open(const RedisConfig& c, const RedisStoreOptions& o = {}) {
    auto s = RedisStore::open(c, o);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }

  // The charge must succeed.
  static ChargeResult charge(RedisStore& store, const ChargeRequest& q,
                             const std::vector<Bucket>& buckets) {
    auto r = store.charge(q, buckets);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ChargeResult{};
  }

  Reply side(const std::vector<std::string>& args) {
    if (!side_) side_ = server_->connect();
    return redis_test::command(side_.get(), args);
  }

  std::unique_ptr<RedisServer> server_;
  Context side_;
};

TEST_F(RedisStoreTest, WindowEdgeIsExactToTheSecond) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:alice@example.com", {{kHour, 10, 0}})};
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(charge(*store, message(kT0 + i), b).allowed) << i;
  }
  ChargeResult r = charge(*store, message(kT0 + 10), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.bucket, 0);
  EXPECT_EQ(r.window, 0);
  EXPECT_EQ(r.used_messages, 10u);
  // The first message (at kT0) is inside the window up to kT0 + 3599 ...
  r = charge(*store, message(kT0 + kHour - 1), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 10u);
  // ... and leaves it at kT0 + 3600.
  r = charge(*store, message(kT0 + kHour), b);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.message_counted);
  r = charge(*store, message(kT0 + kHour), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 10u);
  EXPECT_TRUE(charge(*store, message(kT0 + kHour + 1), b).allowed);
}

TEST_F(RedisStoreTest, HourAndDayWindowsTogether) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:bob", {{kHour, 3, 0}, {kDay, 5, 0}})};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(charge(*store, message(kT0 + i), b).allowed);
  ChargeResult r = charge(*store, message(kT0 + 100), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.window, 0);
  EXPECT_EQ(r.used_messages, 3u);
  // Next hour: two more fit in the day, the third does not.
  EXPECT_TRUE(charge(*store, message(kT0 + kHour), b).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + kHour + 1), b).allowed);
  r = charge(*store, message(kT0 + kHour + 2), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.window, 1);
  EXPECT_EQ(r.used_messages, 5u);
  r = charge(*store, message(kT0 + kDay - 1), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.window, 1);
  // The first hour's three leave the day window.
  r = charge(*store, message(kT0 + kDay + 2), b);
  EXPECT_TRUE(r.allowed);
}

TEST_F(RedisStoreTest, RecipientLimitAndUnlimitedMessages) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:carol", {{kHour, 0, 10}})};
  EXPECT_TRUE(charge(*store, message(kT0, 4), b).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + 1, 4), b).allowed);
  ChargeResult r = charge(*store, message(kT0 + 2, 3), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_recipients, 8u);
  EXPECT_EQ(r.used_messages, 2u);
  EXPECT_TRUE(charge(*store, message(kT0 + 3, 2), b).allowed);
  r = charge(*store, message(kT0 + 4, 1), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_recipients, 10u);
  // One message over the limit on its own never fits.
  r = charge(*store, message(kT0 + kDay, 11), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_recipients, 0u);
}

TEST_F(RedisStoreTest, RefusedMessagesAreNotCounted) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:dave", {{kHour, 2, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0), b).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + 1), b).allowed);
  for (int i = 2; i < 50; ++i) EXPECT_FALSE(charge(*store, message(kT0 + i), b).allowed);
  // Only the two accepted ones count: each frees its place an hour after it was sent.
  EXPECT_TRUE(charge(*store, message(kT0 + kHour), b).allowed);
  EXPECT_FALSE(charge(*store, message(kT0 + kHour), b).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + kHour + 1), b).allowed);
}

TEST_F(RedisStoreTest, AtomicOverBuckets) {
  auto store = open(config());
  const std::vector<Bucket> both = {bucket("a:erin@example.com", {{kHour, 5, 0}}),
                                    bucket("d:example.com", {{kHour, 3, 0}})};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(charge(*store, message(kT0 + i), both).allowed);
  ChargeResult r = charge(*store, message(kT0 + 3), both);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.bucket, 1);
  EXPECT_EQ(r.used_messages, 3u);
  // The refused message was not counted for the account either: two more fit, not one.
  const std::vector<Bucket> account = {both[0]};
  EXPECT_TRUE(charge(*store, message(kT0 + 4), account).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + 5), account).allowed);
  r = charge(*store, message(kT0 + 6), account);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 5u);
  // A bucket without windows counts nothing and refuses nothing.
  EXPECT_TRUE(charge(*store, message(kT0 + 7), {bucket("a:free", {})}).allowed);
  EXPECT_EQ(side({"EXISTS", "mwtest:w:a:free"})->integer, 0);
}

TEST_F(RedisStoreTest, DuplicateGetsTheFirstAnswerAndCountsNothing) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:frank", {{kHour, 2, 0}})};
  const ChargeRequest first = message(kT0);
  ChargeResult r = charge(*store, first, b);
  EXPECT_TRUE(r.allowed);
  EXPECT_FALSE(r.duplicate);
  for (int i = 0; i < 5; ++i) {
    r = charge(*store, ChargeRequest{first.dedupe_key, first.message_key, 1, kT0 + 1 + i}, b);
    EXPECT_TRUE(r.duplicate);
    EXPECT_TRUE(r.allowed);
    EXPECT_FALSE(r.message_counted);
  }
  EXPECT_TRUE(charge(*store, message(kT0 + 10), b).allowed);  // the resends counted nothing
  const ChargeRequest refused = message(kT0 + 11);
  r = charge(*store, refused, b);
  EXPECT_FALSE(r.allowed);
  EXPECT_TRUE(r.alert);
  r = charge(*store, refused, b);
  EXPECT_TRUE(r.duplicate);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.bucket, 0);
  EXPECT_EQ(r.window, 0);
  EXPECT_EQ(r.used_messages, 2u);
  EXPECT_FALSE(r.alert);  // the first answer alerted already
  EXPECT_EQ(r.alerts, 1u);
  // Remembered kDedupeSeconds from the first answer, by the request's clock.
  ChargeRequest late = first;
  late.now = kT0 + kDedupeSeconds - 1;
  EXPECT_TRUE(charge(*store, late, b).duplicate);
  late.now = kT0 + kDedupeSeconds;
  r = charge(*store, late, b);
  EXPECT_FALSE(r.duplicate);
  EXPECT_FALSE(r.allowed);  // a new request now, and the hour is full
}

TEST_F(RedisStoreTest, RcptModeCountsTheMessageOnce) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:grace", {{kHour, 1, 3}})};
  auto rcpt = [](const std::string& msg, int n, std::int64_t now) {
    return ChargeRequest{msg + "|rcpt" + std::to_string(n) + "@example.net", msg, 1, now};
  };
  ChargeResult r = charge(*store, rcpt("mta1|m1", 1, kT0), b);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.message_counted);
  for (int n = 2; n <= 3; ++n) {
    r = charge(*store, rcpt("mta1|m1", n, kT0 + n), b);
    EXPECT_TRUE(r.allowed) << n;
    EXPECT_FALSE(r.message_counted) << n;
  }
  r = charge(*store, rcpt("mta1|m1", 4, kT0 + 4), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 1u);
  EXPECT_EQ(r.used_recipients, 3u);
  // A second message: refused, so not marked as counted ...
  r = charge(*store, rcpt("mta1|m2", 1, kT0 + 5), b);
  EXPECT_FALSE(r.allowed);
  // ... and it counts with its first accepted recipient, an hour later.
  r = charge(*store, rcpt("mta1|m2", 2, kT0 + kHour), b);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.message_counted);
}

TEST_F(RedisStoreTest, AlertOncePerWindowAndAlertCounting) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:heidi", {{kHour, 1, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0), b).allowed);
  ChargeResult r = charge(*store, message(kT0 + 1), b);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
  r = charge(*store, message(kT0 + 2), b);
  EXPECT_FALSE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
  EXPECT_TRUE(charge(*store, message(kT0 + kHour), b).allowed);
  r = charge(*store, message(kT0 + kHour), b);  // the first alert still covers this second
  EXPECT_FALSE(r.alert);
  r = charge(*store, message(kT0 + kHour + 1), b);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 2u);
  // Another bucket has alerts of its own.
  r = charge(*store, message(kT0 + kHour + 2), {bucket("a:ivan", {{kHour, 0, 1}})});
  EXPECT_TRUE(r.allowed);
  r = charge(*store, message(kT0 + kHour + 2), {bucket("a:ivan", {{kHour, 0, 1}})});
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
  // A day without an alert: the count starts again.
  const std::int64_t later = kT0 + kHour + 1 + kAlertMemorySeconds;
  EXPECT_TRUE(charge(*store, message(later), b).allowed);
  r = charge(*store, message(later), b);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
}

TEST_F(RedisStoreTest, OlderSecondThanTheNewestIsCountedExactly) {
  // Two MTAs' clocks a few seconds apart: the earlier second is inserted in order.
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:judy", {{kHour, 2, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0 + 10), b).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + 5), b).allowed);
  ChargeResult r = charge(*store, message(kT0 + 7), b);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 2u);
  EXPECT_TRUE(charge(*store, message(kT0 + kHour + 5), b).allowed);  // kT0 + 5 left
  EXPECT_FALSE(charge(*store, message(kT0 + kHour + 6), b).allowed);
  EXPECT_TRUE(charge(*store, message(kT0 + kHour + 10), b).allowed);  // kT0 + 10 left
}

TEST_F(RedisStoreTest, WindowsChangingBetweenCalls) {
  // A configuration reload changes the windows: the script works from the request's windows.
  auto store = open(config());
  const std::string key = "a:ken";
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(charge(*store, message(kT0 + i), {bucket(key, {{kHour, 10, 0}})}).allowed);
  }
  // Shorter: only the last minute counts.
  const std::vector<Bucket> minute = {bucket(key, {{60, 1, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0 + 100), minute).allowed);
  ChargeResult r = charge(*store, message(kT0 + 101), minute);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 1u);
  // A new day window next to the hour: seconds older than the longest window of an earlier
  // call were pruned, so the day sees what the minute window kept.
  const std::vector<Bucket> both = {bucket(key, {{kHour, 10, 0}, {kDay, 2, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0 + 102), both).allowed);
  r = charge(*store, message(kT0 + 103), both);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.window, 1);
  EXPECT_EQ(r.used_messages, 2u);
}

TEST_F(RedisStoreTest, TwoStoresManyThreadsAcceptExactlyTheLimit) {
  // Two MTAs sharing one Redis, four threads each, all charging one account.
  auto mta1 = open(config());
  auto mta2 = open(config());
  const std::vector<Bucket> b = {bucket("a:shared@example.com", {{kHour, 50, 0}, {kDay, 80, 0}})};
  std::atomic<int> accepted{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RedisStore& store = t % 2 == 0 ? *mta1 : *mta2;
      for (int i = 0; i < 40; ++i) {
        auto r = store.charge(message(kT0 + i), b);
        if (!r) {
          ++failed;
        } else if (r->allowed) {
          ++accepted;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(accepted.load(), 50);
  EXPECT_EQ(mta1->errors() + mta2->errors(), 0u);
  EXPECT_FALSE(mta1->charge(message(kT0 + 50), b)->allowed);
}

TEST_F(RedisStoreTest, EveryKeyHasATtl) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:leo", {{kHour, 1, 0}, {kDay, 5, 0}}),
                                 bucket("d:example.org", {{kHour, 100, 0}})};
  EXPECT_TRUE(charge(*store, ChargeRequest{"m1|r1", "m1", 1, kT0}, b).allowed);
  EXPECT_FALSE(charge(*store, ChargeRequest{"m2|r1", "m2", 1, kT0 + 1}, b).allowed);
  Reply keys = side({"KEYS", "mwtest:*"});
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->type, REDIS_REPLY_ARRAY);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < keys->elements; ++i) names.emplace_back(keys->element[i]->str);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"mwtest:al:a:leo", "mwtest:dd:m1|r1",
                                             "mwtest:dd:m2|r1", "mwtest:keys", "mwtest:msg:m1",
                                             "mwtest:w:a:leo", "mwtest:w:d:example.org"}));
  auto ttl = [&](const std::string& k) { return side({"TTL", k})->integer; };
  // TTLs count down in real time while the test runs: a bound, not an exact value.
  auto between = [](long long v, long long lo, long long hi) { return v >= lo && v <= hi; };
  EXPECT_PRED3(between, ttl("mwtest:w:a:leo"), kDay - 60, kDay);
  EXPECT_PRED3(between, ttl("mwtest:w:d:example.org"), kHour - 60, kHour);
  EXPECT_PRED3(between, ttl("mwtest:keys"), kDay - 60, kDay);
  EXPECT_PRED3(between, ttl("mwtest:dd:m1|r1"), kDedupeSeconds - 60, kDedupeSeconds);
  EXPECT_PRED3(between, ttl("mwtest:dd:m2|r1"), kDedupeSeconds - 60, kDedupeSeconds);
  EXPECT_PRED3(between, ttl("mwtest:msg:m1"), kDedupeSeconds - 60, kDedupeSeconds);
  EXPECT_PRED3(between, ttl("mwtest:al:a:leo"), kAlertMemorySeconds - 60, kAlertMemorySeconds);
  // One entry per second, in the compact encoding.
  EXPECT_EQ(side({"OBJECT", "ENCODING", "mwtest:w:a:leo"})->str, std::string("listpack"));
}

TEST_F(RedisStoreTest, EntriesAreMergedPerSecondAndPruned) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:mallory", {{60, 0, 0}})};  // counted, no limit
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(charge(*store, message(kT0 + i / 10, 2), b).allowed);
  EXPECT_EQ(side({"ZCARD", "mwtest:w:a:mallory"})->integer, 2);
  EXPECT_TRUE(charge(*store, message(kT0 + 60), b).allowed);  // kT0 is pruned
  Reply members = side({"ZRANGE", "mwtest:w:a:mallory", "0", "-1"});
  ASSERT_EQ(members->elements, 2u);
  // second:messages_sum:recipients_sum:messages:recipients, the sums running on.
  EXPECT_EQ(std::string(members->element[0]->str), std::to_string(kT0 + 1) + ":20:40:10:20");
  EXPECT_EQ(std::string(members->element[1]->str), std::to_string(kT0 + 60) + ":21:41:1:1");
  EXPECT_TRUE(charge(*store, message(kT0 + 200), b).allowed);
  EXPECT_EQ(side({"ZCARD", "mwtest:w:a:mallory"})->integer, 1);
}

TEST_F(RedisStoreTest, ActiveKeysCountsBucketsWithTrafficInAWindow) {
  auto store = open(config());
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  for (const char* k : {"a:n1", "a:n2", "d:n.example"}) {
    EXPECT_TRUE(charge(*store, message(now), {bucket(k, {{kHour, 10, 0}})}).allowed);
  }
  EXPECT_TRUE(charge(*store, message(now), {bucket("a:n1", {{60, 10, 0}})}).allowed);
  EXPECT_EQ(store->active_keys(), 3u);
  EXPECT_EQ(*store->count_active_keys(now + 59), 3u);
  EXPECT_EQ(*store->count_active_keys(now + 60), 2u);  // a:n1's last call had a 60 s window
  EXPECT_EQ(*store->count_active_keys(now + kHour), 0u);
}

TEST_F(RedisStoreTest, ScriptReloadedAfterFlush) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:oscar", {{kHour, 2, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0), b).allowed);
  ASSERT_EQ(side({"SCRIPT", "FLUSH"})->type, REDIS_REPLY_STATUS);
  EXPECT_TRUE(charge(*store, message(kT0 + 1), b).allowed);  // EVAL after NOSCRIPT
  EXPECT_FALSE(charge(*store, message(kT0 + 2), b).allowed);
  EXPECT_EQ(store->errors(), 0u);
}

TEST_F(RedisStoreTest, ForeignDataIsAnErrorNotACrash) {
  auto store = open(config());
  side({"SET", "mwtest:w:a:peggy", "not a sorted set"});
  side({"ZADD", "mwtest:w:a:quentin", std::to_string(kT0), "garbage"});
  auto r = store->charge(message(kT0), std::vector{bucket("a:peggy", {{kHour, 2, 0}})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("WRONGTYPE"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("redis 127.0.0.1:" + std::to_string(server_->port()) + ": ", 0),
            0u)
      << r.error().message;
  r = store->charge(message(kT0), std::vector{bucket("a:quentin", {{kHour, 2, 0}})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("malformed entry \"garbage\""), std::string::npos)
      << r.error().message;
  EXPECT_EQ(store->errors(), 2u);
  EXPECT_TRUE(charge(*store, message(kT0), {bucket("a:rupert", {{kHour, 2, 0}})}).allowed);
}

TEST_F(RedisStoreTest, BadRequestsAreErrors) {
  auto store = open(config());
  auto r = store->charge(message(kT0), std::vector{bucket("a:sybil", {{kHour, 2, 0}, {0, 1, 0}})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("bucket 0 'a:sybil' window 1: length 0 s is out of range"),
            std::string::npos)
      << r.error().message;
  r = store->charge(message(-5), std::vector{bucket("a:sybil", {{kHour, 2, 0}})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("now -5 is negative"), std::string::npos);
  // Keys are binary-safe arguments, not text in a command line.
  const char raw[] = "a:new\nline \"quoted\" \0nul";
  const std::string odd(raw, sizeof raw - 1);
  EXPECT_TRUE(charge(*store, message(kT0), {bucket(odd, {{kHour, 1, 0}})}).allowed);
  EXPECT_FALSE(charge(*store, message(kT0), {bucket(odd, {{kHour, 1, 0}})}).allowed);
}

TEST_F(RedisStoreTest, ConfigurationIsValidated) {
  auto expect_error = [](RedisConfig c, const std::string& what) {
    auto s = RedisStore::open(c);
    ASSERT_FALSE(s) << what;
    EXPECT_NE(s.error().message.find(what), std::string::npos) << s.error().message;
  };
  RedisConfig c = config();
  c.pool = 0;
  expect_error(c, "pool of 0 connections is out of range");
  c = config();
  c.port = 70000;
  expect_error(c, "redis 127.0.0.1:70000: port 70000 is out of range");
  c = config();
  c.timeout_ms = 0;
  expect_error(c, "timeout 0 ms is out of range");
  c = config();
  c.host = "";
  expect_error(c, "no host");
  c = config();
  c.database = -1;
  expect_error(c, "database -1 is negative");
  c = config();
  c.unix_socket = "/" + std::string(200, 'x');
  expect_error(c, "socket path is longer than");
}

TEST_F(RedisStoreTest, KilledRedisFailsFastThenBacksOff) {
  auto store = open(config());
  const std::vector<Bucket> b = {bucket("a:trent", {{kHour, 10, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0), b).allowed);
  server_->kill();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = store->charge(message(kT0 + 1), b);
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_FALSE(r);
  const std::string prefix = "redis 127.0.0.1:" + std::to_string(server_->port()) + ": connect: ";
  EXPECT_EQ(r.error().message.rfind(prefix, 0), 0u) << r.error().message;
  // Within the back-off nothing is attempted: the error comes back at once.
  r = store->charge(message(kT0 + 2), b);
  const auto t2 = std::chrono::steady_clock::now();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind(prefix, 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("(next attempt in "), std::string::npos) << r.error().message;
  EXPECT_EQ(store->errors(), 2u);
  using us = std::chrono::microseconds;
  std::printf("killed Redis: first error after %lld us, during back-off after %lld us\n",
              static_cast<long long>(std::chrono::duration_cast<us>(t1 - t0).count()),
              static_cast<long long>(std::chrono::duration_cast<us>(t2 - t1).count()));
}

TEST_F(RedisStoreTest, RestartedRedisWorksAgain) {
  RedisStoreOptions o;
  o.retry_backoff = std::chrono::milliseconds(0);  // no waiting in a unit test
  auto store = open(config(), o);
  const std::vector<Bucket> b = {bucket("a:uma", {{kHour, 10, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0), b).allowed);
  std::string why;
  // Restarted between two calls: the pooled connections are dead, the next call reconnects.
  ASSERT_TRUE(server_->restart(why)) << why;
  EXPECT_TRUE(charge(*store, message(kT0 + 1), b).allowed);
  // Down for a while, then back.
  server_->kill();
  EXPECT_FALSE(store->charge(message(kT0 + 2), b));
  EXPECT_FALSE(store->charge(message(kT0 + 3), b));
  ASSERT_TRUE(server_->restart(why)) << why;
  ChargeResult r = charge(*store, message(kT0 + 4), b);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(store->errors(), 2u);
}

TEST_F(RedisStoreTest, SlowRedisTimesOut) {
  RedisConfig c = config();
  c.timeout_ms = 100;
  auto store = open(c);
  const std::vector<Bucket> b = {bucket("a:victor", {{kHour, 0, 0}})};
  EXPECT_TRUE(charge(*store, message(kT0), b).allowed);
  // Another client blocks Redis for a second; calls made meanwhile time out.
  Context blocker = server_->connect(10000);
  ASSERT_TRUE(blocker && blocker->err == 0);
  std::atomic<bool> done{false};
  std::thread sleeper([&] {
    redis_test::command(blocker.get(), {"DEBUG", "SLEEP", "1"});
    done = true;
  });
  std::string timeout_error;
  while (!done && timeout_error.empty()) {
    auto r = store->charge(message(kT0), b);
    if (!r) timeout_error = r.error().message;
  }
  sleeper.join();
  EXPECT_NE(timeout_error.find("EVALSHA: no answer within 100 ms (timeout)"), std::string::npos)
      << "no timeout seen: '" << timeout_error << "'";
  EXPECT_GE(store->errors(), 1u);
  // Redis answers again: so does the store (the timed-out connection was replaced).
  EXPECT_TRUE(charge(*store, message(kT0 + 1), b).allowed);
}

TEST_F(RedisStoreTest, RedisDownAtOpenIsNotAnError) {
  server_->kill();
  auto store = open(config());
  ASSERT_TRUE(store);
  auto r = store->charge(message(kT0), std::vector{bucket("a:walter", {{kHour, 1, 0}})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("connect: Connection refused"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(store->active_keys(), 0u);  // the last known count (none) when Redis is down
}

// AUTH, SELECT and a unix socket.
class RedisStoreAuthTest : public RedisStoreTest {
 protected:
  std::vector<std::string> extra_args() const override {
    return {"--requirepass", "s3cret", "--unixsocket", socket_path(), "--unixsocketperm", "700"};
  }
  std::string socket_path() const {
    return (std::filesystem::temp_directory_path() /
            ("mw-redis-test-" + std::to_string(::getpid()) + ".sock"))
        .string();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove(socket_path(), ec);
  }
};

TEST_F(RedisStoreAuthTest, UnixSocketPasswordAndDatabase) {
  RedisConfig c = config();
  c.unix_socket = socket_path();
  c.password = "s3cret";
  c.database = 3;
  auto store = open(c);
  EXPECT_EQ(store->endpoint(), "unix:" + socket_path());
  EXPECT_TRUE(charge(*store, message(kT0), {bucket("a:xavier", {{kHour, 1, 0}})}).allowed);
  EXPECT_EQ(side({"EXISTS", "mwtest:w:a:xavier"})->integer, 0);  // not in database 0
  side({"SELECT", "3"});
  EXPECT_EQ(side({"EXISTS", "mwtest:w:a:xavier"})->integer, 1);

  c.password = "hunter2";
  auto bad = open(c);
  auto r = bad->charge(message(kT0), std::vector{bucket("a:xavier", {{kHour, 1, 0}})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("redis unix:" + socket_path() + ": AUTH: ", 0), 0u)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);  // the password is not shown
}

// Not a test: charges per second against the local Redis, for the report.
// Run with --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Throughput*'.
TEST_F(RedisStoreTest, DISABLED_Throughput) {
  RedisConfig c = config();
  c.pool = 8;
  auto store = open(c);
  std::atomic<std::int64_t> sequence{0};
  for (int threads : {1, 8}) {
    constexpr int kPerThread = 20000;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          // 1000 accounts and their domain, 100 messages a second (time from the sequence).
          const std::int64_t n = sequence.fetch_add(1);
          const std::string account = "a:user" + std::to_string(n % 1000);
          const std::vector<Bucket> b = {bucket(account, {{kHour, 1000, 0}, {kDay, 10000, 0}}),
                                         bucket("d:example.com", {{kHour, 0, 0}})};
          auto r = store->charge(message(kT0 + n / 100), b);
          if (!r) std::printf("error: %s\n", r.error().message.c_str());
        }
      });
    }
    for (auto& t : pool) t.join();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%d thread(s): %.0f charges/s\n", threads, threads * kPerThread / s);
  }
}

}  // namespace
}  // namespace mw::policyd
