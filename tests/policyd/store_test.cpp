// Tests of the in-process counters: exact sliding windows with an injected `now`, limits,
// de-duplication, alerts, a property test against a brute-force model, concurrency, and the
// SQLite persistence (round trip, damaged and foreign files, expiry).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "policyd/memory_store.hpp"
#include "policyd/window.hpp"

namespace fs = std::filesystem;
using namespace mw::policyd;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

// A private directory removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mw-store-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::unique_ptr<MemoryStore> must_open(const fs::path& path = {}) {
  auto r = MemoryStore::open({path});
  if (!r) throw std::runtime_error("open failed: " + r.error().message);
  return std::move(*r);
}

std::string open_error(const fs::path& path) {
  auto r = MemoryStore::open({path});
  if (r) return "(opened without error)";
  return r.error().message;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void sql(const fs::path& path, const std::string& statements) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("sqlite3_open");
  char* msg = nullptr;
  const int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &msg);
  const std::string err = msg != nullptr ? msg : "";
  sqlite3_free(msg);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sql: " + err);
}

Bucket bucket(std::string key, std::vector<WindowLimit> windows) {
  return Bucket{std::move(key), std::move(windows)};
}

// Charges with a fresh dedupe and message key each time (one message, end-of-message mode).
class Charger {
 public:
  explicit Charger(MemoryStore& store) : store_(store) {}
  ChargeResult operator()(const std::vector<Bucket>& buckets, std::int64_t now,
                          std::uint32_t recipients = 1) {
    ChargeRequest q;
    q.dedupe_key = "req-" + std::to_string(next_++);
    q.message_key = q.dedupe_key;
    q.recipients = recipients;
    q.now = now;
    return raw(q, buckets);
  }
  ChargeResult raw(const ChargeRequest& q, const std::vector<Bucket>& buckets) {
    auto r = store_.charge(q, buckets);
    if (!r) throw std::runtime_error("charge failed: " + r.error().message);
    return *r;
  }

 private:
  MemoryStore& store_;
  int next_ = 0;
};

// ---- SlidingWindow ---------------------------------------------------------------------------

TEST(SlidingWindow, CountsEventsStrictlyAfterWindowStart) {
  SlidingWindow w;
  w.add(100, 1, 2);
  w.add(150, 2, 3);
  w.add(150, 1, 0);  // merged into second 150
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.usage(150, 51), (WindowUsage{4, 5}));  // s > 99: both
  EXPECT_EQ(w.usage(150, 50), (WindowUsage{3, 3}));  // s > 100: only 150
  EXPECT_EQ(w.usage(249, 100), (WindowUsage{3, 3}));
  EXPECT_EQ(w.usage(250, 100), (WindowUsage{0, 0}));
  // Events after `now` (clock stepped back) still count: the limit is enforced early, not late.
  EXPECT_EQ(w.usage(120, 10), (WindowUsage{3, 3}));
}

TEST(SlidingWindow, OutOfOrderAddsKeepSecondsSorted) {
  SlidingWindow w;
  w.add(100, 1, 1);
  w.add(200, 1, 2);
  w.add(150, 1, 4);
  w.add(100, 1, 8);
  w.add(50, 1, 16);
  const std::vector<WindowEvent> expected{{50, 1, 16}, {100, 2, 9}, {150, 1, 4}, {200, 1, 2}};
  EXPECT_EQ(w.events(), expected);
  EXPECT_EQ(w.usage(200, 101), (WindowUsage{4, 15}));  // s > 99
  EXPECT_EQ(w.usage(200, 100), (WindowUsage{2, 6}));   // s > 100
  EXPECT_EQ(w.usage(200, 1000), (WindowUsage{5, 31}));
}

TEST(SlidingWindow, ZeroEventIsNotStored) {
  SlidingWindow w;
  w.add(10, 0, 0);
  EXPECT_TRUE(w.empty());
}

TEST(SlidingWindow, PruningEverythingFreesTheBuffer) {
  SlidingWindow w;
  for (int s = 0; s < 1000; ++s) w.add(s, 1, 1);
  EXPECT_GT(w.heap_bytes(), 0u);
  w.prune(2000, 100);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.heap_bytes(), 0u);
  EXPECT_EQ(w.usage(2000, 100000), (WindowUsage{0, 0}));
  // Usable again afterwards.
  w.add(2001, 1, 3);
  EXPECT_EQ(w.usage(2001, 1), (WindowUsage{1, 3}));
}

TEST(SlidingWindow, PruneKeepsWhatTheLongestWindowCounts) {
  SlidingWindow w;
  for (int s = 1; s <= 10; ++s) w.add(s, 1, 1);
  w.prune(10, 5);  // keeps s > 5
  EXPECT_EQ(w.size(), 5u);
  EXPECT_EQ(w.usage(10, 5), (WindowUsage{5, 5}));
  EXPECT_EQ(w.usage(10, 3), (WindowUsage{3, 3}));
}

TEST(SlidingWindow, RunningSumsWrapWithoutChangingWindowUsage) {
  SlidingWindow w;
  w.add(1, 1, 0xFFFFFFF0u);
  w.add(2, 1, 0x20u);
  EXPECT_EQ(w.usage(2, 1), (WindowUsage{1, 0x20u}));
  w.prune(2, 1);
  w.add(3, 1, 0x10u);
  EXPECT_EQ(w.usage(3, 2), (WindowUsage{2, 0x30u}));
}

TEST(SlidingWindow, ExtremeWindowsSaturate) {
  SlidingWindow w;
  w.add(-5, 1, 1);
  w.add(5, 1, 1);
  EXPECT_EQ(w.usage(5, std::numeric_limits<std::int64_t>::max()), (WindowUsage{2, 2}));
  EXPECT_EQ(w.usage(std::numeric_limits<std::int64_t>::min() + 1, 10), (WindowUsage{2, 2}));
  w.prune(std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(w.size(), 2u);
}

TEST(SlidingWindow, FromEventsRoundTripsAndRejectsDisorder) {
  SlidingWindow w;
  w.add(10, 1, 5);
  w.add(20, 2, 0);
  w.add(30, 1, 1);
  w.prune(25, 10);  // drops 10
  auto back = SlidingWindow::from_events(w.events());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->events(), w.events());
  EXPECT_EQ(back->usage(30, 100), w.usage(30, 100));

  const std::vector<WindowEvent> bad{{10, 1, 1}, {10, 1, 1}};
  auto r = SlidingWindow::from_events(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("event 1"), std::string::npos) << r.error().message;
}

// Against a plain list of events: any sequence of adds (in order or not), prunes and window
// lengths gives the brute-force sums.
RC_GTEST_PROP(SlidingWindowProps, MatchesAnEventList, ()) {
  const auto max_window = *rc::gen::inRange<std::int64_t>(1, 200);
  SlidingWindow w;
  std::vector<WindowEvent> model;
  std::int64_t now = *rc::gen::inRange<std::int64_t>(-1000, 1000);
  const int steps = *rc::gen::inRange(1, 300);
  for (int k = 0; k < steps; ++k) {
    now += *rc::gen::weightedOneOf<std::int64_t>(
        {{8, rc::gen::inRange<std::int64_t>(0, 5)}, {1, rc::gen::inRange<std::int64_t>(0, 400)}});
    const auto m = *rc::gen::inRange<std::uint32_t>(0, 3);
    const auto r = *rc::gen::inRange<std::uint32_t>(0, 50);
    w.add(now, m, r);
    model.push_back({now, m, r});
    w.prune(now, max_window);
    const auto window = *rc::gen::inRange<std::int64_t>(1, max_window + 1);
    WindowUsage expected;
    for (const WindowEvent& e : model) {
      if (e.second > now - window) {
        expected.messages += e.messages;
        expected.recipients += e.recipients;
      }
    }
    RC_ASSERT(w.usage(now, window) == expected);
    RC_ASSERT(w.size() <= static_cast<std::size_t>(max_window));
  }
}

// ---- MemoryStore: limits ---------------------------------------------------------------------

TEST(MemoryStore, TenPerHourIsExactAtTheWindowEdge) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:alice@example.com", {{kHour, 10, 0}})};
  const std::int64_t s = kT0;
  EXPECT_TRUE(charge(b, s).allowed);
  for (int k = 1; k < 10; ++k) EXPECT_TRUE(charge(b, s + 10 * k).allowed) << k;
  const ChargeResult eleventh = charge(b, s + 100);
  EXPECT_FALSE(eleventh.allowed);
  EXPECT_EQ(eleventh.bucket, 0);
  EXPECT_EQ(eleventh.window, 0);
  EXPECT_EQ(eleventh.used_messages, 10u);
  const ChargeResult late = charge(b, s + 3599);
  EXPECT_FALSE(late.allowed);
  EXPECT_EQ(late.used_messages, 10u);
  // At s + 3600 the first message (second s) is no longer within the last 3600 seconds.
  const ChargeResult edge = charge(b, s + 3600);
  EXPECT_TRUE(edge.allowed);
  EXPECT_TRUE(edge.message_counted);
  EXPECT_FALSE(charge(b, s + 3600).allowed);
  EXPECT_EQ(store->usage("a:alice@example.com", s + 3600, kHour).messages, 10u);
}

TEST(MemoryStore, HourAndDayWindowsTogether) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:bob", {{kHour, 10, 0}, {kDay, 25, 0}})};
  const std::int64_t s = kT0;
  for (int k = 0; k < 10; ++k) EXPECT_TRUE(charge(b, s + k).allowed);
  ChargeResult r = charge(b, s + 10);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.window, 0);
  for (int k = 0; k < 10; ++k) EXPECT_TRUE(charge(b, s + kHour + k).allowed);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(charge(b, s + 2 * kHour + k).allowed);
  r = charge(b, s + 2 * kHour + 10);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.window, 1);  // the hour holds 5, the day 25
  EXPECT_EQ(r.used_messages, 25u);
  // A day after the first message, the first hour's ten have left the day window.
  EXPECT_FALSE(charge(b, s + kDay - 1).allowed);
  r = charge(b, s + kDay);
  EXPECT_TRUE(r.allowed);
}

TEST(MemoryStore, RecipientLimits) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:carol", {{kHour, 0, 100}})};
  EXPECT_TRUE(charge(b, kT0, 60).allowed);
  ChargeResult r = charge(b, kT0 + 1, 50);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_recipients, 60u);
  EXPECT_EQ(r.used_messages, 1u);
  EXPECT_TRUE(charge(b, kT0 + 2, 40).allowed);  // exactly 100
  EXPECT_FALSE(charge(b, kT0 + 3, 1).allowed);
  EXPECT_TRUE(charge(b, kT0 + 4, 0).allowed);  // no recipients: nothing over the limit
  // One message with more recipients than the limit is refused on an empty key too.
  const std::vector<Bucket> other{bucket("a:dave", {{kHour, 0, 100}})};
  r = charge(other, kT0, 101);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_recipients, 0u);
}

TEST(MemoryStore, MessagesAndRecipientsInOneWindow) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:erin", {{kHour, 3, 10}})};
  EXPECT_TRUE(charge(b, kT0, 4).allowed);
  EXPECT_TRUE(charge(b, kT0, 4).allowed);
  EXPECT_FALSE(charge(b, kT0, 4).allowed);  // recipients: 8 + 4 > 10
  EXPECT_TRUE(charge(b, kT0, 2).allowed);   // 3 messages, 10 recipients
  const ChargeResult r = charge(b, kT0, 0);
  EXPECT_FALSE(r.allowed);  // messages: 3 + 1 > 3
  EXPECT_EQ(r.used_messages, 3u);
  EXPECT_EQ(r.used_recipients, 10u);
}

TEST(MemoryStore, ZeroMeansUnlimited) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:frank", {{kHour, 0, 0}, {kDay, 0, 1000}})};
  for (int k = 0; k < 500; ++k) ASSERT_TRUE(charge(b, kT0 + k, 2).allowed) << k;
  EXPECT_FALSE(charge(b, kT0 + 500, 1).allowed);
  EXPECT_EQ(store->usage("a:frank", kT0 + 500, kDay).messages, 500u);
}

TEST(MemoryStore, RefusedMessagesAreNotCounted) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:gina", {{100, 2, 0}})};
  EXPECT_TRUE(charge(b, kT0).allowed);
  EXPECT_TRUE(charge(b, kT0 + 50).allowed);
  for (int k = 0; k < 20; ++k) EXPECT_FALSE(charge(b, kT0 + 51 + k).allowed);
  // The first message left; only it: the twenty refusals weighed nothing.
  EXPECT_TRUE(charge(b, kT0 + 100).allowed);
  EXPECT_FALSE(charge(b, kT0 + 100).allowed);
  EXPECT_EQ(store->usage("a:gina", kT0 + 100, 100).messages, 2u);
}

TEST(MemoryStore, AllBucketsOrNothing) {
  auto store = must_open();
  Charger charge(*store);
  const WindowLimit account{kHour, 10, 0};
  const WindowLimit domain{kHour, 3, 0};
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(charge({bucket("a:u" + std::to_string(k), {account}), bucket("d:x", {domain})}, kT0)
                    .allowed);
  }
  const ChargeResult r = charge({bucket("a:u0", {account}), bucket("d:x", {domain})}, kT0);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.bucket, 1);
  EXPECT_EQ(r.window, 0);
  EXPECT_EQ(r.used_messages, 3u);
  // The account bucket, which allowed it, did not count the refused message.
  EXPECT_EQ(store->usage("a:u0", kT0, kHour).messages, 1u);
}

TEST(MemoryStore, BucketWithoutWindowsCountsNothing) {
  auto store = must_open();
  Charger charge(*store);
  EXPECT_TRUE(charge({bucket("a:exempt", {})}, kT0).allowed);
  EXPECT_EQ(store->active_keys(), 0u);
  EXPECT_TRUE(charge({}, kT0).allowed);
}

TEST(MemoryStore, NonPositiveWindowIsAnError) {
  auto store = must_open();
  ChargeRequest q;
  q.now = kT0;
  const std::vector<Bucket> b{bucket("a:x", {{kHour, 1, 0}}), bucket("d:y", {{0, 1, 0}})};
  auto r = store->charge(q, b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bucket 1 ('d:y') window 0"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(store->active_keys(), 0u);
}

// ---- de-duplication --------------------------------------------------------------------------

TEST(MemoryStore, RepeatedRequestGetsItsFirstAnswer) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:henry", {{kHour, 2, 0}})};
  ChargeRequest q;
  q.dedupe_key = "node1/instance-1";
  q.message_key = q.dedupe_key;
  q.recipients = 3;
  q.now = kT0;
  ChargeResult first = charge.raw(q, b);
  EXPECT_TRUE(first.allowed);
  EXPECT_FALSE(first.duplicate);
  q.now = kT0 + 10;
  ChargeResult again = charge.raw(q, b);
  EXPECT_TRUE(again.duplicate);
  EXPECT_TRUE(again.allowed);
  EXPECT_FALSE(again.message_counted);
  EXPECT_EQ(store->usage("a:henry", kT0 + 10, kHour), (WindowUsage{1, 3}));

  // A refused answer is repeated too, even though another message would now be refused or not.
  EXPECT_TRUE(charge(b, kT0 + 20).allowed);
  ChargeRequest over = q;
  over.dedupe_key = "node1/instance-2";
  over.message_key = over.dedupe_key;
  over.now = kT0 + 30;
  ChargeResult refused = charge.raw(over, b);
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.alert);
  over.now = kT0 + 40;
  ChargeResult repeated = charge.raw(over, b);
  EXPECT_TRUE(repeated.duplicate);
  EXPECT_FALSE(repeated.allowed);
  EXPECT_FALSE(repeated.alert);  // no second alert for the same request
  EXPECT_EQ(repeated.used_messages, 2u);
}

TEST(MemoryStore, DedupeKeysExpire) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:iris", {{kDay, 0, 0}})};
  ChargeRequest q;
  q.dedupe_key = "n/1";
  q.message_key = "n/1";
  q.now = kT0;
  EXPECT_FALSE(charge.raw(q, b).duplicate);
  q.now = kT0 + kDedupeSeconds - 1;
  EXPECT_TRUE(charge.raw(q, b).duplicate);
  q.now = kT0 + kDedupeSeconds;
  const ChargeResult r = charge.raw(q, b);
  EXPECT_FALSE(r.duplicate);
  EXPECT_TRUE(r.message_counted);
  EXPECT_EQ(store->usage("a:iris", q.now, kDay).messages, 2u);
  // Several generations later, old keys are still forgotten and new ones remembered.
  for (int k = 0; k < 5; ++k) {
    ChargeRequest n;
    n.dedupe_key = "n/gen" + std::to_string(k);
    n.message_key = n.dedupe_key;
    n.now = kT0 + (k + 2) * kDedupeSeconds;
    EXPECT_FALSE(charge.raw(n, b).duplicate);
    n.now += 300;
    EXPECT_TRUE(charge.raw(n, b).duplicate);
  }
}

TEST(MemoryStore, RcptModeCountsTheMessageOnce) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:jack", {{kHour, 2, 5}})};
  auto rcpt = [&](const std::string& message, int n, std::int64_t now) {
    ChargeRequest q;
    q.dedupe_key = message + "/rcpt" + std::to_string(n);
    q.message_key = message;
    q.recipients = 1;
    q.now = now;
    return charge.raw(q, b);
  };
  ChargeResult r = rcpt("m1", 1, kT0);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.message_counted);
  for (int n = 2; n <= 3; ++n) {
    r = rcpt("m1", n, kT0 + n);
    EXPECT_TRUE(r.allowed);
    EXPECT_FALSE(r.message_counted);
  }
  EXPECT_EQ(store->usage("a:jack", kT0 + 3, kHour), (WindowUsage{1, 3}));
  EXPECT_TRUE(rcpt("m2", 1, kT0 + 10).allowed);  // second message: 2 messages, 4 recipients
  EXPECT_TRUE(rcpt("m2", 2, kT0 + 11).allowed);  // 5 recipients
  r = rcpt("m2", 3, kT0 + 12);
  EXPECT_FALSE(r.allowed);  // recipients over; the message itself was counted already
  EXPECT_EQ(r.used_recipients, 5u);
  // A third message is refused at its first recipient and not remembered as counted.
  r = rcpt("m3", 1, kT0 + 20);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(store->usage("a:jack", kT0 + 20, kHour), (WindowUsage{2, 5}));
  // Once m1 has left the window, m3's next recipient counts the message.
  r = rcpt("m3", 2, kT0 + kHour + 3);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.message_counted);
}

// ---- alerts ----------------------------------------------------------------------------------

TEST(MemoryStore, AlertOncePerWindowAndCounted) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:kate", {{kHour, 1, 0}})};
  EXPECT_TRUE(charge(b, kT0).allowed);
  ChargeResult r = charge(b, kT0 + 10);
  EXPECT_FALSE(r.allowed);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
  r = charge(b, kT0 + 20);
  EXPECT_FALSE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
  // Still within the hour after the alert (kT0 + 10): no new alert.
  EXPECT_TRUE(charge(b, kT0 + kHour).allowed);
  r = charge(b, kT0 + kHour + 9);
  EXPECT_FALSE(r.allowed);
  EXPECT_FALSE(r.alert);
  r = charge(b, kT0 + kHour + 10);
  EXPECT_FALSE(r.allowed);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 2u);
  // A day without alert resets the count.
  const std::int64_t later = kT0 + kHour + 10 + kAlertMemorySeconds;
  EXPECT_TRUE(charge(b, later).allowed);
  r = charge(b, later + 1);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
}

TEST(MemoryStore, AlertsArePerKey) {
  auto store = must_open();
  Charger charge(*store);
  const WindowLimit one{kHour, 1, 0};
  EXPECT_TRUE(charge({bucket("a:l1", {one})}, kT0).allowed);
  EXPECT_TRUE(charge({bucket("a:l2", {one})}, kT0).allowed);
  EXPECT_TRUE(charge({bucket("a:l1", {one})}, kT0 + 1).alert);
  const ChargeResult r = charge({bucket("a:l2", {one})}, kT0 + 1);
  EXPECT_TRUE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
}

// ---- property test against a brute-force model -----------------------------------------------

// The contract of CounterStore written the slow, obvious way: every accepted event in a list.
class Model {
 public:
  ChargeResult charge(const ChargeRequest& q, const std::vector<Bucket>& buckets) {
    if (!q.dedupe_key.empty()) {
      const auto it = requests_.find(q.dedupe_key);
      if (it != requests_.end() && q.now - it->second.first < kDedupeSeconds) {
        ChargeResult r = it->second.second;
        r.duplicate = true;
        r.message_counted = false;
        r.alert = false;
        return r;
      }
    }
    bool seen = false;
    if (!q.message_key.empty()) {
      const auto it = messages_.find(q.message_key);
      seen = it != messages_.end() && q.now - it->second < kDedupeSeconds;
    }
    const std::uint64_t m = seen ? 0 : 1;
    const std::uint64_t r = q.recipients;
    ChargeResult res;
    for (std::size_t i = 0; i < buckets.size() && res.allowed; ++i) {
      for (std::size_t j = 0; j < buckets[i].windows.size(); ++j) {
        const WindowLimit& w = buckets[i].windows[j];
        std::uint64_t um = 0;
        std::uint64_t ur = 0;
        for (const Event& e : events_) {
          if (e.key == buckets[i].key && e.second > q.now - w.window) {
            um += e.messages;
            ur += e.recipients;
          }
        }
        if ((w.messages != 0 && um + m > w.messages) ||
            (w.recipients != 0 && ur + r > w.recipients)) {
          res.allowed = false;
          res.bucket = static_cast<int>(i);
          res.window = static_cast<int>(j);
          res.used_messages = um;
          res.used_recipients = ur;
          break;
        }
      }
    }
    if (!res.allowed) {
      const auto& b = buckets[static_cast<std::size_t>(res.bucket)];
      Alert& a = alerts_[b.key];
      if (a.window != 0 && q.now - a.last >= kAlertMemorySeconds) a.count = 0;
      if (a.window == 0 || q.now - a.last >= a.window) {
        res.alert = true;
        ++a.count;
        a.last = q.now;
        a.window = b.windows[static_cast<std::size_t>(res.window)].window;
      }
      res.alerts = a.count;
    } else {
      for (const Bucket& b : buckets) {
        if (!b.windows.empty()) events_.push_back({b.key, q.now, m, r});
      }
      res.message_counted = m == 1;
      if (!q.message_key.empty() && !seen) messages_[q.message_key] = q.now;
    }
    if (!q.dedupe_key.empty()) requests_[q.dedupe_key] = {q.now, res};
    return res;
  }
  // What a restart forgets.
  void restart() {
    requests_.clear();
    messages_.clear();
  }

 private:
  struct Event {
    std::string key;
    std::int64_t second;
    std::uint64_t messages;
    std::uint64_t recipients;
  };
  struct Alert {
    std::int64_t last = 0;
    std::int64_t window = 0;
    std::uint32_t count = 0;
  };
  std::vector<Event> events_;
  std::map<std::string, std::pair<std::int64_t, ChargeResult>> requests_;
  std::map<std::string, std::int64_t> messages_;
  std::map<std::string, Alert> alerts_;
};

std::string show(const ChargeResult& r) {
  std::ostringstream o;
  o << "{dup=" << r.duplicate << " allowed=" << r.allowed << " counted=" << r.message_counted
    << " bucket=" << r.bucket << " window=" << r.window << " used=" << r.used_messages << "/"
    << r.used_recipients << " alert=" << r.alert << " alerts=" << r.alerts << "}";
  return o.str();
}

bool same(const ChargeResult& a, const ChargeResult& b) {
  return a.duplicate == b.duplicate && a.allowed == b.allowed &&
         a.message_counted == b.message_counted && a.bucket == b.bucket && a.window == b.window &&
         a.used_messages == b.used_messages && a.used_recipients == b.used_recipients &&
         a.alert == b.alert && a.alerts == b.alerts;
}

// Random keys, windows, times, recipient counts, repeated requests and messages, expiry and
// (when persisted) restarts: the store answers exactly as the model.
void run_against_model(bool persisted) {
  std::unique_ptr<TempDir> dir;
  fs::path path;
  if (persisted) {
    dir = std::make_unique<TempDir>();
    path = *dir / "state.sqlite";
  }
  auto store = must_open(path);
  Model model;

  const std::vector<std::string> keys{"a:alice", "a:bob", "d:example.com"};
  std::map<std::string, std::vector<WindowLimit>> limits;
  std::int64_t longest = 1;
  for (const auto& key : keys) {
    const auto lengths = *rc::gen::container<std::set<std::int64_t>>(
        *rc::gen::inRange<std::size_t>(1, 4), rc::gen::inRange<std::int64_t>(1, 80));
    for (const std::int64_t len : lengths) {
      limits[key].push_back(
          {len, *rc::gen::inRange<std::uint32_t>(0, 6), *rc::gen::inRange<std::uint32_t>(0, 14)});
      longest = std::max(longest, len);
    }
  }

  std::int64_t now = kT0;
  std::vector<std::string> dedupe_keys;
  std::vector<std::string> message_keys;
  int fresh = 0;
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    now += *rc::gen::weightedOneOf<std::int64_t>(
        {{20, rc::gen::inRange<std::int64_t>(0, 6)},
         {4, rc::gen::inRange<std::int64_t>(0, 120)},
         {1, rc::gen::inRange<std::int64_t>(kDedupeSeconds, kAlertMemorySeconds + 100)}});
    const int op = *rc::gen::inRange(0, 100);
    if (op < 4) {
      // Expiry only forgets what no later answer can depend on.
      store->expire(now, longest);
      continue;
    }
    if (op < 6 && persisted) {
      RC_ASSERT(store->flush().ok());
      store.reset();
      store = must_open(path);
      model.restart();
      continue;
    }
    std::vector<Bucket> buckets;
    const auto first = *rc::gen::inRange<std::size_t>(0, keys.size());
    buckets.push_back({keys[first], limits[keys[first]]});
    if (*rc::gen::inRange(0, 3) == 0) {
      const auto second = *rc::gen::inRange<std::size_t>(0, keys.size());
      if (second != first) buckets.push_back({keys[second], limits[keys[second]]});
    }
    ChargeRequest q;
    q.now = now;
    q.recipients = *rc::gen::inRange<std::uint32_t>(0, 7);
    const int d = *rc::gen::inRange(0, 10);
    if (d < 2 && !dedupe_keys.empty()) {
      q.dedupe_key = dedupe_keys[*rc::gen::inRange<std::size_t>(0, dedupe_keys.size())];
    } else if (d < 9) {
      q.dedupe_key = "r" + std::to_string(fresh++);
      dedupe_keys.push_back(q.dedupe_key);
    }
    const int mk = *rc::gen::inRange(0, 10);
    if (mk < 3 && !message_keys.empty()) {
      q.message_key = message_keys[*rc::gen::inRange<std::size_t>(0, message_keys.size())];
    } else if (mk < 9) {
      q.message_key = "m" + std::to_string(fresh++);
      message_keys.push_back(q.message_key);
    }
    auto got = store->charge(q, buckets);
    RC_ASSERT(got.ok());
    const ChargeResult expected = model.charge(q, buckets);
    RC_LOG() << "step " << step << " now=" << now - kT0 << " key=" << buckets[0].key
             << " buckets=" << buckets.size() << " rcpts=" << q.recipients
             << " dedupe=" << q.dedupe_key << " message=" << q.message_key << " got=" << show(*got)
             << " want=" << show(expected) << "\n";
    RC_ASSERT(same(*got, expected));
  }
}

RC_GTEST_PROP(MemoryStoreProps, AnswersAsTheBruteForceModel, ()) {
  run_against_model(false);
}

RC_GTEST_PROP(MemoryStoreProps, AnswersAsTheModelAcrossRestarts, ()) {
  run_against_model(true);
}

// ---- concurrency -----------------------------------------------------------------------------

TEST(MemoryStoreConcurrency, ThreadsOnOneKeyAcceptExactlyTheLimit) {
  auto store = must_open();
  const std::vector<Bucket> b{bucket("a:shared", {{kHour, 40000, 0}, {kDay, 60000, 0}})};
  constexpr int kThreads = 8;
  constexpr int kEach = 10000;
  std::atomic<int> accepted{0};
  std::atomic<int> errors{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Start together, so that the charges overlap.
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int k = 0; k < kEach; ++k) {
        ChargeRequest q;
        q.dedupe_key = std::to_string(t) + "/" + std::to_string(k);
        q.message_key = q.dedupe_key;
        q.recipients = 1;
        q.now = kT0;
        auto r = store->charge(q, b);
        if (!r) {
          ++errors;
        } else if (r->allowed) {
          ++accepted;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(accepted.load(), 40000);
  EXPECT_EQ(store->usage("a:shared", kT0, kHour), (WindowUsage{40000, 40000}));
}

// Accounts of one domain in both bucket orders (locks taken in shard order, never deadlocking),
// with flushes running alongside: the domain accepts exactly its limit, each account at most its
// own, and a reopened store holds exactly what was accepted.
TEST(MemoryStoreConcurrency, SharedDomainWithConcurrentFlushes) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  auto store = must_open(path);
  constexpr int kThreads = 6;
  constexpr int kEach = 150;
  const WindowLimit account{kHour, 40, 0};
  const WindowLimit domain{kHour, 100, 0};
  std::vector<int> accepted(kThreads, 0);
  std::atomic<bool> done{false};
  std::atomic<int> flush_errors{0};
  std::thread flusher([&] {
    while (!done.load()) {
      if (!store->flush().ok()) ++flush_errors;
      std::this_thread::yield();
    }
  });
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int k = 0; k < kEach; ++k) {
        std::vector<Bucket> b{bucket("a:user" + std::to_string(t), {account}),
                              bucket("d:example.com", {domain})};
        if (t % 2 == 1) std::swap(b[0], b[1]);
        ChargeRequest q;
        q.dedupe_key = std::to_string(t) + "/" + std::to_string(k);
        q.message_key = q.dedupe_key;
        q.recipients = 2;
        q.now = kT0 + k / 10;
        auto r = store->charge(q, b);
        if (r && r->allowed) ++accepted[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  flusher.join();
  EXPECT_EQ(flush_errors.load(), 0);
  int total = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_LE(accepted[static_cast<std::size_t>(t)], 40);
    EXPECT_EQ(store->usage("a:user" + std::to_string(t), kT0 + 100, kHour).messages,
              static_cast<std::uint64_t>(accepted[static_cast<std::size_t>(t)]));
    total += accepted[static_cast<std::size_t>(t)];
  }
  EXPECT_EQ(total, 100);
  ASSERT_TRUE(store->flush().ok());
  store.reset();
  auto reopened = must_open(path);
  EXPECT_EQ(reopened->usage("d:example.com", kT0 + 100, kHour), (WindowUsage{100, 200}));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(reopened->usage("a:user" + std::to_string(t), kT0 + 100, kHour).messages,
              static_cast<std::uint64_t>(accepted[static_cast<std::size_t>(t)]));
  }
}

// ---- persistence -----------------------------------------------------------------------------

TEST(MemoryStorePersistence, RestartKeepsTheCounts) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  const std::vector<Bucket> b{bucket("a:mia", {{kHour, 10, 0}}),
                              bucket("d:ex.org", {{kDay, 50, 0}})};
  {
    auto store = must_open(path);
    Charger charge(*store);
    for (int k = 0; k < 10; ++k) ASSERT_TRUE(charge(b, kT0 + k).allowed);
    ASSERT_TRUE(store->flush().ok());
  }
  auto store = must_open(path);
  EXPECT_EQ(store->active_keys(), 2u);
  Charger charge(*store);
  const ChargeResult r = charge(b, kT0 + 100);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.used_messages, 10u);
  EXPECT_EQ(store->usage("d:ex.org", kT0 + 100, kDay).messages, 10u);
  // The events kept their seconds: the first leaves the hour at kT0 + 3600 exactly.
  EXPECT_FALSE(charge(b, kT0 + kHour - 1).allowed);
  EXPECT_TRUE(charge(b, kT0 + kHour).allowed);
}

TEST(MemoryStorePersistence, AlertStateSurvivesARestart) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  const std::vector<Bucket> b{bucket("a:noah", {{kHour, 1, 0}})};
  {
    auto store = must_open(path);
    Charger charge(*store);
    ASSERT_TRUE(charge(b, kT0).allowed);
    ASSERT_TRUE(charge(b, kT0 + 1).alert);
    ASSERT_TRUE(store->flush().ok());
  }
  auto store = must_open(path);
  Charger charge(*store);
  ChargeResult r = charge(b, kT0 + 2);
  EXPECT_FALSE(r.allowed);
  EXPECT_FALSE(r.alert);
  EXPECT_EQ(r.alerts, 1u);
}

TEST(MemoryStorePersistence, OnlyChangedKeysAreWritten) {
  TempDir dir;
  auto store = must_open(dir / "state.sqlite");
  Charger charge(*store);
  const WindowLimit w{kHour, 100, 0};
  for (const char* k : {"a:1", "a:2", "a:3"}) ASSERT_TRUE(charge({bucket(k, {w})}, kT0).allowed);
  ASSERT_TRUE(charge({bucket("a:1", {w})}, kT0 + 1).allowed);
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(store->rows_written(), 3u);
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(store->rows_written(), 3u);
  ASSERT_TRUE(charge({bucket("a:2", {w})}, kT0 + 2).allowed);
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(store->rows_written(), 4u);
}

TEST(MemoryStorePersistence, WhatWasNotFlushedIsLostInACrash) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  const std::vector<Bucket> b{bucket("a:olga", {{kHour, 10, 0}})};
  {
    auto store = must_open(path);
    Charger charge(*store);
    ASSERT_TRUE(charge(b, kT0).allowed);
    ASSERT_TRUE(store->flush().ok());
    ASSERT_TRUE(charge(b, kT0 + 1).allowed);
    // Destroyed without a flush, as a crash would.
  }
  auto store = must_open(path);
  EXPECT_EQ(store->usage("a:olga", kT0 + 1, kHour).messages, 1u);
}

TEST(MemoryStorePersistence, ExpireDropsIdleKeysAndTheirRows) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  {
    auto store = must_open(path);
    Charger charge(*store);
    const WindowLimit one{kHour, 1, 0};
    ASSERT_TRUE(charge({bucket("a:idle", {one})}, kT0).allowed);
    ASSERT_TRUE(charge({bucket("a:alerted", {one})}, kT0).allowed);
    ASSERT_TRUE(charge({bucket("a:alerted", {one})}, kT0 + 10).alert);
    ASSERT_TRUE(charge({bucket("a:busy", {one})}, kT0 + kHour + 5).allowed);
    ASSERT_TRUE(store->flush().ok());
    EXPECT_EQ(store->active_keys(), 3u);

    EXPECT_EQ(store->expire(kT0 + kHour - 1, kHour), 0u);
    // a:idle's event left the hour; a:alerted's alert is remembered for a day; a:busy is busy.
    EXPECT_EQ(store->expire(kT0 + kHour + 10, kHour), 1u);
    EXPECT_EQ(store->active_keys(), 2u);
    EXPECT_EQ(store->expire(kT0 + 10 + kAlertMemorySeconds, kHour), 2u);
    EXPECT_EQ(store->active_keys(), 0u);
    // A key dropped and used again is written again.
    ASSERT_TRUE(charge({bucket("a:idle", {one})}, kT0 + 2 * kDay).allowed);
    ASSERT_TRUE(store->flush().ok());
  }
  auto store = must_open(path);
  EXPECT_EQ(store->active_keys(), 1u);
  EXPECT_EQ(store->usage("a:idle", kT0 + 2 * kDay, kHour).messages, 1u);
}

TEST(MemoryStorePersistence, ExpireForgetsDedupeKeys) {
  auto store = must_open();
  Charger charge(*store);
  const std::vector<Bucket> b{bucket("a:pia", {{kDay, 0, 0}})};
  ChargeRequest q;
  q.dedupe_key = "x";
  q.message_key = "x";
  q.now = kT0;
  EXPECT_FALSE(charge.raw(q, b).duplicate);
  store->expire(kT0 + kDedupeSeconds, kDay);
  store->expire(kT0 + 2 * kDedupeSeconds, kDay);
  q.now = kT0 + 2 * kDedupeSeconds;
  EXPECT_FALSE(charge.raw(q, b).duplicate);
}

TEST(MemoryStorePersistence, FileIsInWalMode) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  { auto store = must_open(path); }
  const std::string header = read_bytes(path);
  ASSERT_GE(header.size(), 100u);
  EXPECT_EQ(header.substr(0, 16), std::string("SQLite format 3\0", 16));
  // File format write/read versions 2 mean WAL.
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);
}

TEST(MemoryStorePersistence, EmptyFileIsInitialised) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  std::ofstream(path).close();
  auto store = must_open(path);
  Charger charge(*store);
  ASSERT_TRUE(charge({bucket("a:q", {{kHour, 1, 0}})}, kT0).allowed);
  EXPECT_TRUE(store->flush().ok());
}

TEST(MemoryStorePersistence, CorruptFileIsAnErrorAndLeftAlone) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  std::string garbage;
  for (int k = 0; k < 200; ++k)
    garbage += "this is not a database, line " + std::to_string(k) + "\n";
  std::ofstream(path, std::ios::binary) << garbage;
  const std::string err = open_error(path);
  EXPECT_NE(err.find(path.string()), std::string::npos) << err;
  EXPECT_NE(err.find("not a mailwarden policyd state file"), std::string::npos) << err;
  EXPECT_EQ(read_bytes(path), garbage);
}

TEST(MemoryStorePersistence, ForeignDatabaseIsAnError) {
  TempDir dir;
  const fs::path path = dir / "other.sqlite";
  sql(path, "CREATE TABLE users(name TEXT); INSERT INTO users VALUES('root');");
  const std::string err = open_error(path);
  EXPECT_NE(err.find(path.string()), std::string::npos) << err;
  EXPECT_NE(err.find("tables users"), std::string::npos) << err;
  sql(path, "SELECT name FROM users;");  // still there, untouched
}

TEST(MemoryStorePersistence, NewerSchemaIsAnError) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  { auto store = must_open(path); }
  sql(path, "UPDATE schema_version SET version = 2;");
  const std::string err = open_error(path);
  EXPECT_NE(err.find(path.string()), std::string::npos) << err;
  EXPECT_NE(err.find("schema version 2"), std::string::npos) << err;
}

TEST(MemoryStorePersistence, DamagedRowIsAnErrorNamingIt) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  {
    auto store = must_open(path);
    Charger charge(*store);
    ASSERT_TRUE(charge({bucket("a:rob", {{kHour, 5, 0}})}, kT0).allowed);
    ASSERT_TRUE(store->flush().ok());
  }
  sql(path, "UPDATE counters SET events = x'0102030405' WHERE key = 'a:rob';");
  std::string err = open_error(path);
  EXPECT_NE(err.find(path.string()), std::string::npos) << err;
  EXPECT_NE(err.find("'a:rob'"), std::string::npos) << err;
  EXPECT_NE(err.find("5 bytes"), std::string::npos) << err;

  // Two events out of order.
  // Two events out of order: second 2, then second 1 (each: i64 second, u32 messages, u32 rcpts).
  sql(path,
      "UPDATE counters SET events = x'"
      "0200000000000000"
      "01000000"
      "01000000"
      "0100000000000000"
      "01000000"
      "01000000"
      "' WHERE key = 'a:rob';");
  err = open_error(path);
  EXPECT_NE(err.find("'a:rob': event 1"), std::string::npos) << err;

  sql(path, "UPDATE counters SET events = x'', alerts = 'many' WHERE key = 'a:rob';");
  err = open_error(path);
  EXPECT_NE(err.find("'a:rob': column alerts is not an integer"), std::string::npos) << err;
}

TEST(MemoryStorePersistence, SecondOpenOfTheSameFileIsRefused) {
  TempDir dir;
  const fs::path path = dir / "state.sqlite";
  auto first = must_open(path);
  const std::string err = open_error(path);
  EXPECT_NE(err.find(path.string()), std::string::npos) << err;
  EXPECT_NE(err.find("in use by another process"), std::string::npos) << err;
  EXPECT_NE(err.find("locked"), std::string::npos) << err;
  first.reset();
  EXPECT_NE(must_open(path), nullptr);
}

TEST(MemoryStorePersistence, MissingDirectoryIsAnError) {
  TempDir dir;
  const fs::path path = dir / "no-such-dir" / "state.sqlite";
  const std::string err = open_error(path);
  EXPECT_NE(err.find(path.string()), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(path));
}

TEST(MemoryStorePersistence, FlushWithoutAFileIsANoOp) {
  auto store = must_open();
  Charger charge(*store);
  ASSERT_TRUE(charge({bucket("a:s", {{kHour, 1, 0}})}, kT0).allowed);
  EXPECT_TRUE(store->flush().ok());
  EXPECT_EQ(store->rows_written(), 0u);
}

}  // namespace
