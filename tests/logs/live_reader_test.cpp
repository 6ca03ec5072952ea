// The reading thread of `logs watch` on real files in a temporary directory: events in line
// order with their line numbers, the keep filter, the drained marker, lines appended later
// (woken through inotify), and a destructor that does not wait for the interval.
#include "logs/live_reader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace mw::logs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void append(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::string failure(int n) {
  return "Nov 28 10:00:0" + std::to_string(n % 10) +
         " mail postfix/submission/smtpd[77]: warning: unknown[203.0.113.9]: SASL LOGIN "
         "authentication failed: (reason unavailable), sasl_username=u" +
         std::to_string(n) + "@example.com\n";
}

std::vector<std::unique_ptr<ParseContext>> contexts(const TimeZone& zone, std::size_t n) {
  std::vector<std::unique_ptr<ParseContext>> v;
  for (std::size_t i = 0; i < n; ++i)
    v.push_back(std::make_unique<ParseContext>(zone, YearInference(2026, 11)));
  return v;
}

struct Seen {
  std::vector<std::string> accounts;
  std::vector<std::uint64_t> lines;
  std::uint64_t lines_read = 0;
  bool drained = false;
};

// Batches until a drained marker comes after at least `want_lines` lines (or 20 s pass).
Seen collect(LiveReader& r, std::uint64_t want_lines) {
  Seen s;
  for (int i = 0; i < 200; ++i) {
    auto b = r.next(100ms);
    if (!b) continue;
    s.lines_read += b->lines_read;
    for (std::size_t k = 0; k < b->events.size(); ++k) {
      s.accounts.emplace_back(b->events[k].facts.account);
      s.lines.push_back(b->line_numbers[k]);
    }
    const bool drained = b->drained;
    r.recycle(std::move(b));
    if (drained && s.lines_read >= want_lines) {
      s.drained = true;
      break;
    }
  }
  return s;
}

class LiveReaderTest : public ::testing::Test {
 protected:
  fs::path path(const char* name = "mail.log") const { return dir_.path() / name; }
  test::TempDir dir_{"mw-live."};
  std::unique_ptr<TimeZone> zone_ = std::move(make_time_zone("UTC").value());
};

TEST_F(LiveReaderTest, KeptEventsInOrderThenDrainedThenWhatIsAppended) {
  std::string text;
  for (int i = 1; i <= 3000; ++i)
    text += i % 3 == 0 ? "Nov 28 10:00:00 mail cron[1]: x\n" : failure(i);
  append(path(), text);
  LiveReader::Options o;
  o.from_start = true;
  o.batch_bytes = 4096;  // many batches: the order must hold across them
  o.max_batches = 2;
  o.interval = 30s;  // the append below must wake the reader, not the interval
  o.keep = [](const Event& e) { return e.program_kind == Program::postfix; };
  LiveReader r({path().string()}, contexts(*zone_, 1), o);
  Seen s = collect(r, 3000);
  ASSERT_TRUE(s.drained);
  EXPECT_EQ(s.lines_read, 3000u);
  ASSERT_EQ(s.accounts.size(), 2000u);  // cron's lines were read, not kept
  EXPECT_EQ(s.accounts.front(), "u1@example.com");
  EXPECT_EQ(s.lines[1], 2u);
  EXPECT_EQ(s.accounts.back(), "u2999@example.com");
  EXPECT_EQ(s.lines.back(), 2999u);
  for (std::size_t k = 1; k < s.lines.size(); ++k) ASSERT_LT(s.lines[k - 1], s.lines[k]);

  append(path(), failure(3001));
  Seen later = collect(r, 1);
  ASSERT_TRUE(later.drained);
  ASSERT_EQ(later.accounts, std::vector<std::string>{"u3001@example.com"});
  EXPECT_EQ(later.lines, std::vector<std::uint64_t>{3001});
}

TEST_F(LiveReaderTest, SeveralFilesKeepTheirOwnLineNumbers) {
  append(path("a.log"), failure(1) + failure(2));
  append(path("b.log"), failure(3));
  LiveReader::Options o;
  o.from_start = true;
  LiveReader r({path("a.log").string(), path("b.log").string()}, contexts(*zone_, 2), o);
  std::vector<std::pair<std::size_t, std::uint64_t>> where;
  std::uint64_t read = 0;
  for (int i = 0; i < 200 && read < 3; ++i) {
    auto b = r.next(100ms);
    if (!b) continue;
    read += b->lines_read;
    for (auto n : b->line_numbers) where.emplace_back(b->input, n);
    r.recycle(std::move(b));
  }
  EXPECT_EQ(where, (std::vector<std::pair<std::size_t, std::uint64_t>>{{0, 1}, {0, 2}, {1, 1}}));
}

// The reader waits for writes up to an hour here: destroying it must wake it (ctest's timeout
// fails this test otherwise).
TEST_F(LiveReaderTest, DestructorWakesAWaitingReader) {
  append(path(), failure(1));
  LiveReader::Options o;
  o.interval = 3600s;
  auto r = std::make_unique<LiveReader>(std::vector<std::string>{path().string()},
                                        contexts(*zone_, 1), o);
  // At the end: nothing to read, so a drained marker and then the long wait.
  auto b = r->next(20s);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->drained);
  r.reset();
}

}  // namespace
}  // namespace mw::logs
