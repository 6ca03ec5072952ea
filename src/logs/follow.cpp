// The follower: pread from the last offset, inode checks for rotation, size checks for
// truncation. No inotify: poll() is cheap enough at the intervals `logs watch` uses.
#include "logs/follow.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "logs/event.hpp"

namespace mw::logs {

namespace {

constexpr std::size_t kReadPiece = 64 * 1024;
constexpr std::size_t kKeepBytes = kMaxLineBytes + 1;

}  // namespace

Follower::Follower(std::string path, Start start) : path_(std::move(path)) {
  open_path(start == Start::at_end);
}

Follower::~Follower() {
  close_file();
}

void Follower::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool Follower::open_path(bool at_end) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    // Missing is a normal state between a rotation's rename and create.
    if (errno != ENOENT) error_ = path_ + ": cannot open: " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error_ = path_ + ": not a regular file";
    ::close(fd);
    return false;
  }
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = 0;
  partial_.clear();
  skipping_ = false;
  error_.clear();
  if (at_end) {
    // Start after the last complete line, so that a line being written comes out whole.
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::size_t back = static_cast<std::size_t>(std::min<std::uint64_t>(size, kKeepBytes));
    std::string tail(back, '\0');
    const ssize_t n = ::pread(fd_, tail.data(), back, static_cast<off_t>(size - back));
    const std::size_t got = n > 0 ? static_cast<std::size_t>(n) : 0;
    const auto nl = std::string_view(tail.data(), got).rfind('\n');
    if (nl != std::string_view::npos) {
      offset_ = size - back + nl + 1;
    } else if (size > back) {
      offset_ = size;  // inside a line too long to keep: drop the rest of it
      skipping_ = true;
    }
  }
  return true;
}

void Follower::flush_partial(LineBatch& out) {
  if (!partial_.empty()) out.add(partial_);
  partial_.clear();
  skipping_ = false;
}

void Follower::take(const char* p, std::size_t n, LineBatch& out) {
  while (n > 0) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    const std::size_t len = nl != nullptr ? static_cast<std::size_t>(nl - p) : n;
    if (skipping_) {
      if (nl == nullptr) return;
      skipping_ = false;
    } else if (nl != nullptr && partial_.empty()) {
      out.add(std::string_view(p, std::min(len, kKeepBytes)));  // the common case: whole
    } else {
      const std::size_t room = kKeepBytes - partial_.size();
      partial_.append(p, std::min(len, room));
      if (nl != nullptr) {
        out.add(partial_);
        partial_.clear();
      } else if (len > room) {
        // Longer than we keep, and not finished: out now, cut; the rest is skipped.
        out.add(partial_);
        partial_.clear();
        skipping_ = true;
        return;
      }
    }
    if (nl == nullptr) return;
    n -= len + 1;
    p = nl + 1;
  }
}

void Follower::drain(LineBatch& out, std::size_t& budget) {
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_size) < offset_) {
    // Truncated in place (copytruncate): what follows is new text from the start.
    ++truncations_;
    flush_partial(out);
    offset_ = 0;
  }
  char buf[kReadPiece];
  while (budget > 0) {
    const std::size_t want = std::min(budget, kReadPiece);
    const ssize_t n = ::pread(fd_, buf, want, static_cast<off_t>(offset_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ =
          path_ + ": read error at byte " + std::to_string(offset_) + ": " + std::strerror(errno);
      return;
    }
    if (n == 0) return;
    const auto got = static_cast<std::size_t>(n);
    offset_ += got;
    budget -= got;
    take(buf, got, out);
  }
  behind_ = true;
}

std::vector<std::string> Follower::poll(std::size_t max_bytes) {
  LineBatch batch;
  poll(batch, max_bytes);
  std::vector<std::string> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) out.emplace_back(batch.line(i));
  return out;
}

void Follower::poll(LineBatch& out, std::size_t max_bytes) {
  out.clear();
  behind_ = false;
  std::size_t budget = std::max<std::size_t>(max_bytes, 1);
  if (fd_ < 0 && !open_path(false)) return;
  // A few rounds at most: each one finishes a file that has been replaced.
  for (int round = 0; round < 4; ++round) {
    struct stat st {};
    const bool replaced =
        ::stat(path_.c_str(), &st) == 0 && (st.st_dev != dev_ || st.st_ino != ino_);
    drain(out, budget);
    if (behind_ || !replaced) return;
    // The old file is done (its writer has moved on): its unfinished last line is a line.
    flush_partial(out);
    close_file();
    ++rotations_;
    if (!open_path(false)) return;
  }
}

}  // namespace mw::logs
