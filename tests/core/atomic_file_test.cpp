// Unit tests for write_file_atomic and read_file: replacement, no temp leftovers, clean failures,
// bounds.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.hpp"

namespace fs = std::filesystem;

namespace mw {
namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "mw-atomic-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::size_t entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, CreatesANewFile) {
  auto p = dir_ / "a.conf";
  ASSERT_TRUE(write_file_atomic(p, "hello\n").ok());
  auto r = read_file(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "hello\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, ReplacesContentAndLeavesNoTempFiles) {
  auto p = dir_ / "rules.nft";
  ASSERT_TRUE(write_file_atomic(p, std::string(100000, 'a')).ok());
  ASSERT_TRUE(write_file_atomic(p, "short").ok());
  auto r = read_file(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "short");
  EXPECT_EQ(entries(), 1u);
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "rules.nft");
}

TEST_F(AtomicFileTest, EmptyContent) {
  auto p = dir_ / "empty";
  ASSERT_TRUE(write_file_atomic(p, "").ok());
  EXPECT_EQ(fs::file_size(p), 0u);
}

TEST_F(AtomicFileTest, AppliesTheMode) {
  auto p = dir_ / "secret";
  ASSERT_TRUE(write_file_atomic(p, "x", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_TRUE(write_file_atomic(p, "y", 0640).ok());
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(AtomicFileTest, MissingDirectoryFailsCleanly) {
  auto p = dir_ / "no-such-dir" / "file";
  auto s = write_file_atomic(p, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(p.string()), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("No such file or directory"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(entries(), 0u);
}

TEST_F(AtomicFileTest, RenameOntoADirectoryFailsAndRemovesTheTemp) {
  auto p = dir_ / "occupied";
  fs::create_directory(p);
  fs::create_directory(p / "child");  // a non-empty directory cannot be renamed over
  auto s = write_file_atomic(p, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(p.string()), std::string::npos) << s.error().message;
  EXPECT_EQ(entries(), 1u);  // only the directory: the temporary file is gone
}

TEST_F(AtomicFileTest, NoFileNameIsAnError) {
  EXPECT_FALSE(write_file_atomic(dir_ / "", "x").ok());
  EXPECT_FALSE(write_file_atomic("", "x").ok());
}

TEST_F(AtomicFileTest, RelativePathInTheCurrentDirectory) {
  auto old = fs::current_path();
  fs::current_path(dir_);
  auto s = write_file_atomic("rel.txt", "rel");
  fs::current_path(old);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*read_file(dir_ / "rel.txt"), "rel");
}

TEST_F(AtomicFileTest, ReadFileHonoursTheBound) {
  auto p = dir_ / "big";
  ASSERT_TRUE(write_file_atomic(p, std::string(1000, 'z')).ok());
  auto exact = read_file(p, 1000);
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(exact->size(), 1000u);
  auto over = read_file(p, 999);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find(p.string()), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find("999"), std::string::npos) << over.error().message;
}

TEST_F(AtomicFileTest, ReadFileBoundAppliesWhenSizeIsUnknown) {
  // /proc files report size 0; the bound is enforced on the bytes actually read.
  auto r = read_file("/proc/self/status", 10);
  ASSERT_FALSE(r.ok());
  auto ok = read_file("/proc/self/status");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_NE(ok->find("Name:"), std::string::npos);
}

TEST_F(AtomicFileTest, ReadFileMissingNamesThePath) {
  auto p = dir_ / "absent";
  auto r = read_file(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(p.string()), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos);
}

TEST_F(AtomicFileTest, ReadFileOfADirectoryIsAnError) {
  auto r = read_file(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("directory"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace mw
