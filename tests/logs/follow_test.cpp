// The follower of `logs watch` on real files in a temporary directory: appends, partial lines,
// logrotate's create and copytruncate, delete + recreate, a path missing for a while.
#include "logs/follow.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "logs/event.hpp"
#include "support/temp_dir.hpp"

namespace mw::logs {
namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

void append(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

class FollowTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  fs::path path(const char* name = "mail.log") const { return dir_.path() / name; }
  test::TempDir dir_{"mw-follow."};
};

TEST_F(FollowTest, StartsAtTheEndAndReturnsAppendedLines) {
  append(path(), "old 1\nold 2\n");
  Follower f(path().string());
  EXPECT_TRUE(f.is_open());
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "a\nb\n");
  EXPECT_EQ(f.poll(), (Lines{"a", "b"}));
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "\nc\n");
  EXPECT_EQ(f.poll(), (Lines{"", "c"}));
  EXPECT_EQ(f.rotations(), 0u);
  EXPECT_EQ(f.truncations(), 0u);
}

TEST_F(FollowTest, AtStartReadsWhatIsThere) {
  append(path(), "a\nb\n");
  Follower f(path().string(), Follower::Start::at_start);
  EXPECT_EQ(f.poll(), (Lines{"a", "b"}));
  EXPECT_EQ(f.poll(), Lines{});
}

TEST_F(FollowTest, PartialLineWaitsForItsNewline) {
  append(path(), "x\n");
  Follower f(path().string());
  append(path(), "par");
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "ti");
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "al\nnext");
  EXPECT_EQ(f.poll(), Lines{"partial"});
  append(path(), "\n");
  EXPECT_EQ(f.poll(), Lines{"next"});
}

TEST_F(FollowTest, StartingAtTheEndKeepsALineBeingWritten) {
  append(path(), "done\nhalf a ");
  Follower f(path().string());
  append(path(), "line\n");
  EXPECT_EQ(f.poll(), Lines{"half a line"});
}

TEST_F(FollowTest, RenameAndCreateFinishesTheOldFileFirst) {
  append(path(), "1\n");
  Follower f(path().string(), Follower::Start::at_start);
  EXPECT_EQ(f.poll(), Lines{"1"});
  append(path(), "2\n");
  fs::rename(path(), path("mail.log.1"));
  // The writer still has the old file open until it is told to reopen.
  append(path("mail.log.1"), "3\nunfinished");
  append(path(), "4\n");
  EXPECT_EQ(f.poll(), (Lines{"2", "3", "unfinished", "4"}));
  EXPECT_EQ(f.rotations(), 1u);
  append(path(), "5\n");
  append(path("mail.log.1"), "lost\n");  // the old file is no longer followed
  EXPECT_EQ(f.poll(), Lines{"5"});
}

TEST_F(FollowTest, CopyTruncateReadsFromTheStart) {
  append(path(), "a\nb\n");
  Follower f(path().string(), Follower::Start::at_start);
  EXPECT_EQ(f.poll(), (Lines{"a", "b"}));
  fs::resize_file(path(), 0);
  append(path(), "c\n");
  EXPECT_EQ(f.poll(), Lines{"c"});
  EXPECT_EQ(f.truncations(), 1u);
  EXPECT_EQ(f.rotations(), 0u);
  append(path(), "d\n");
  EXPECT_EQ(f.poll(), Lines{"d"});
}

TEST_F(FollowTest, DeleteAndRecreate) {
  append(path(), "a\n");
  Follower f(path().string(), Follower::Start::at_start);
  EXPECT_EQ(f.poll(), Lines{"a"});
  fs::remove(path());
  EXPECT_EQ(f.poll(), Lines{});
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "b\n");
  EXPECT_EQ(f.poll(), Lines{"b"});
  EXPECT_EQ(f.rotations(), 1u);
}

TEST_F(FollowTest, MissingForAWhile) {
  Follower f(path().string());
  EXPECT_FALSE(f.is_open());
  EXPECT_EQ(f.poll(), Lines{});
  EXPECT_EQ(f.error(), "");
  append(path(), "first\n");
  // A file that appears is read from its start.
  EXPECT_EQ(f.poll(), Lines{"first"});
  EXPECT_TRUE(f.is_open());
  // Renamed away and not recreated yet: the old file is still read.
  fs::rename(path(), path("mail.log.1"));
  append(path("mail.log.1"), "late\n");
  EXPECT_EQ(f.poll(), Lines{"late"});
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "new\n");
  EXPECT_EQ(f.poll(), Lines{"new"});
}

TEST_F(FollowTest, LongLinesAreCut) {
  append(path(), "");
  Follower f(path().string());
  const std::string big(kMaxLineBytes + 1000, 'L');
  append(path(), big + "\nshort\n");
  auto lines = f.poll();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], big.substr(0, kMaxLineBytes + 1));
  EXPECT_EQ(lines[1], "short");
  // A long line written in pieces over several polls: out once, cut; its rest is skipped.
  append(path(), std::string(kMaxLineBytes, 'a'));
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), std::string(10, 'b'));
  lines = f.poll();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), kMaxLineBytes + 1);
  append(path(), std::string(100000, 'c'));
  EXPECT_EQ(f.poll(), Lines{});
  append(path(), "ccc\nafter\n");
  EXPECT_EQ(f.poll(), Lines{"after"});
}

TEST_F(FollowTest, ReadsAtMostTheBudgetPerPoll) {
  append(path(), "");
  Follower f(path().string());
  Lines want;
  std::string text;
  for (int i = 0; i < 100; ++i) {
    want.push_back("line " + std::to_string(i));
    text += want.back() + "\n";
  }
  append(path(), text);
  Lines got = f.poll(64);
  EXPECT_TRUE(f.behind());
  EXPECT_LT(got.size(), 10u);
  for (int i = 0; i < 1000 && f.behind(); ++i) {
    for (auto& l : f.poll(64)) got.push_back(l);
  }
  EXPECT_FALSE(f.behind());
  EXPECT_EQ(got, want);
}

TEST_F(FollowTest, NotARegularFile) {
  fs::create_directory(path("dir"));
  Follower f(path("dir").string());
  EXPECT_FALSE(f.is_open());
  EXPECT_EQ(f.poll(), Lines{});
  EXPECT_NE(f.error().find("not a regular file"), std::string::npos) << f.error();
}

}  // namespace
}  // namespace mw::logs
