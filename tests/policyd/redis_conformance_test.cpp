// RedisStore and MemoryStore are two implementations of one contract (store.hpp): random
// sequences of charges (resends, RCPT-mode messages, reloads that change the windows, clocks
// stepping back a little, days passing) must give both the same ChargeResults.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "policyd/memory_store.hpp"
#include "policyd/redis_store.hpp"
#include "redis_test_server.hpp"

namespace mw::policyd {
namespace {

std::string show(const ChargeResult& r) {
  std::ostringstream o;
  o << "{duplicate " << r.duplicate << ", allowed " << r.allowed << ", message_counted "
    << r.message_counted << ", bucket " << r.bucket << ", window " << r.window << ", used "
    << r.used_messages << "/" << r.used_recipients << ", alert " << r.alert << ", alerts "
    << r.alerts << "}";
  return o.str();
}

bool same(const ChargeResult& a, const ChargeResult& b) {
  return a.duplicate == b.duplicate && a.allowed == b.allowed &&
         a.message_counted == b.message_counted && a.bucket == b.bucket && a.window == b.window &&
         a.used_messages == b.used_messages && a.used_recipients == b.used_recipients &&
         a.alert == b.alert && a.alerts == b.alerts;
}

std::string show(const ChargeRequest& q, const std::vector<Bucket>& buckets) {
  std::ostringstream o;
  o << "now " << q.now << " dedupe '" << q.dedupe_key << "' message '" << q.message_key
    << "' recipients " << q.recipients << " buckets";
  for (const Bucket& b : buckets) {
    o << " " << b.key << "[";
    for (const WindowLimit& w : b.windows) {
      o << " " << w.window << "s:" << w.messages << "m/" << w.recipients << "r";
    }
    o << " ]";
  }
  return o.str();
}

// Small limits and short windows, so that refusals, alerts and window edges happen often.
std::vector<WindowLimit> gen_windows() {
  std::vector<WindowLimit> out;
  for (const std::int64_t len : {5, 10, 60, 3600, 86400}) {
    if (*rc::gen::inRange(0, 3) != 0) continue;
    out.push_back(WindowLimit{len, static_cast<std::uint32_t>(*rc::gen::inRange(0, 6)),
                              static_cast<std::uint32_t>(*rc::gen::inRange(0, 12))});
  }
  return out;
}

TEST(RedisConformance, SameResultsAsMemoryStore) {
  if (!std::filesystem::exists(redis_test::kRedisServer)) {
    GTEST_SKIP() << redis_test::kRedisServer << " is not installed (package redis-server)";
  }
  std::string why;
  auto server = redis_test::RedisServer::start(why);
  ASSERT_TRUE(server) << why;
  redis_test::Context side = server->connect();
  ASSERT_TRUE(side && side->err == 0);
  RedisConfig config;
  config.port = server->port();
  config.timeout_ms = 5000;
  config.pool = 1;
  config.prefix = "conformance:";
  auto redis = RedisStore::open(config);
  ASSERT_TRUE(redis) << redis.error().message;

  // What the random sequences exercised, over all cases (the comparison is only as good as
  // the situations it meets).
  struct {
    int charges = 0, duplicates = 0, refusals = 0, repeated_alerts = 0, recounted = 0;
  } seen;
  const bool ok = rc::check("RedisStore gives MemoryStore's results", [&] {
    redis_test::command(side.get(), {"FLUSHDB"});
    auto memory = MemoryStore::open(MemoryStoreOptions{});
    RC_ASSERT(memory.ok());
    const std::vector<std::string> keys = {"a:alice@example.com", "a:bob@example.com",
                                           "d:example.com", "c:192.0.2.7"};
    std::map<std::string, std::vector<WindowLimit>> limits;
    for (const auto& k : keys) limits[k] = gen_windows();
    std::vector<ChargeRequest> sent;
    std::int64_t now = 1'800'000'000;
    int serial = 0;
    const int steps = *rc::gen::inRange(1, 120);
    for (int step = 0; step < steps; ++step) {
      now += *rc::gen::element<std::int64_t>(0, 0, 0, 1, 1, 2, 3, 4, 5, 9, 10, 30, 59, 60, 61, 599,
                                             600, 3599, 3600, 86400, -1, -3);
      if (*rc::gen::inRange(0, 25) == 0) limits[*rc::gen::elementOf(keys)] = gen_windows();

      ChargeRequest q;
      const int kind = *rc::gen::inRange(0, 10);
      if (kind == 0 && !sent.empty()) {
        q = *rc::gen::elementOf(sent);  // Postfix resending a request
      } else if (kind <= 3 && !sent.empty()) {
        // Another recipient of an earlier message (RCPT mode).
        q.message_key = (*rc::gen::elementOf(sent)).message_key;
        q.dedupe_key = q.message_key + "|r" + std::to_string(serial++);
      } else {
        const std::string id = "mta|" + std::to_string(serial++);
        q.message_key = *rc::gen::inRange(0, 8) == 0 ? "" : id;
        q.dedupe_key = *rc::gen::inRange(0, 8) == 0 ? "" : id;
      }
      q.now = now;
      q.recipients = static_cast<std::uint32_t>(*rc::gen::inRange(0, 6));
      sent.push_back(q);

      std::vector<Bucket> buckets;
      for (const auto& k : keys) {
        if (*rc::gen::inRange(0, 3) == 0) buckets.push_back(Bucket{k, limits[k]});
      }
      if (*rc::gen::arbitrary<bool>()) std::reverse(buckets.begin(), buckets.end());

      auto expected = (*memory)->charge(q, buckets);
      auto actual = (*redis)->charge(q, buckets);
      if (!expected.ok() || !actual.ok()) {
        RC_FAIL("step " + std::to_string(step) + ": " +
                (expected.ok() ? "" : "memory: " + expected.error().message) +
                (actual.ok() ? "" : " redis: " + actual.error().message));
      }
      ++seen.charges;
      seen.duplicates += expected->duplicate;
      seen.refusals += !expected->allowed;
      seen.repeated_alerts += expected->alert && expected->alerts > 1;
      seen.recounted += !expected->message_counted && expected->allowed && !expected->duplicate;
      if (!same(*expected, *actual)) {
        RC_FAIL("step " + std::to_string(step) + ": " + show(q, buckets) + "\n  memory " +
                show(*expected) + "\n  redis  " + show(*actual));
      }
    }
  });
  EXPECT_TRUE(ok);
  std::printf(
      "%d charges: %d duplicates, %d refusals, %d repeated alerts, %d further recipients "
      "of a counted message\n",
      seen.charges, seen.duplicates, seen.refusals, seen.repeated_alerts, seen.recounted);
  EXPECT_GT(seen.duplicates, 0);
  EXPECT_GT(seen.refusals, 0);
  EXPECT_GT(seen.repeated_alerts, 0);
  EXPECT_GT(seen.recounted, 0);
  EXPECT_EQ((*redis)->errors(), 0u);
}

}  // namespace
}  // namespace mw::policyd
