// Following one log file as it is written, with `tail -F` semantics, for `mailwarden logs
// watch`: new complete lines, across rotation (rename + create), copytruncate, and the file
// being missing for a while.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mw::logs {

// Lines back to back in one buffer: what a poll returns without one allocation per line.
struct LineBatch {
  std::string text;
  std::vector<std::size_t> ends;  // the end of each line in `text`
  std::size_t size() const { return ends.size(); }
  bool empty() const { return ends.empty(); }
  std::string_view line(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  void add(std::string_view l) {
    text.append(l);
    ends.push_back(text.size());
  }
  void clear() {
    text.clear();
    ends.clear();
  }
};

class Follower {
 public:
  enum class Start { at_end, at_start };

  // Opens `path` when it exists. at_end: only lines completed after now (a last line still
  // being written counts as new); at_start: the file's current lines too. A file that appears
  // later (or replaces this one) is read from its start.
  explicit Follower(std::string path, Start start = Start::at_end);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // The complete lines written since the last call, without their '\n'. Never waits: the
  // caller decides how often to ask. An unfinished last line waits for its '\n'. When the
  // path names another file (rotated), the old file's remaining lines come first, then the
  // new file's from its start; a file shorter than what was read (truncated in place) is read
  // again from its start. A line longer than kMaxLineBytes comes out cut to kMaxLineBytes + 1
  // bytes (parse_line counts it too_long); the rest of it is skipped. At most `max_bytes` are
  // read per call: behind() says whether more is waiting.
  std::vector<std::string> poll(std::size_t max_bytes = 4 << 20);
  // The same, appended to `out` (cleared first).
  void poll(LineBatch& out, std::size_t max_bytes = 4 << 20);

  const std::string& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }
  bool behind() const { return behind_; }
  std::uint64_t rotations() const { return rotations_; }
  std::uint64_t truncations() const { return truncations_; }
  // The last problem other than the file being missing (permission denied, read error); ""
  // once the file is read again.
  const std::string& error() const { return error_; }

 private:
  bool open_path(bool at_end);
  void close_file();
  // Reads from offset_ to the end of the open file (within the budget) into `out`.
  void drain(LineBatch& out, std::size_t& budget);
  void take(const char* p, std::size_t n, LineBatch& out);
  void flush_partial(LineBatch& out);

  std::string path_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::uint64_t offset_ = 0;
  std::string partial_;    // the unfinished last line, at most kMaxLineBytes + 1 bytes
  bool skipping_ = false;  // dropping the rest of a line that was cut
  bool behind_ = false;
  std::uint64_t rotations_ = 0, truncations_ = 0;
  std::string error_;
};

}  // namespace mw::logs
