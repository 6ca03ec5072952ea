// The progress bar: a pure formatter and a throttled drawer on stderr.
#include "logs/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace mw::logs {

namespace {

constexpr int kBarWidth = 20;

std::string megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / 1e6);
  return buf;
}

void write_all(const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(STDERR_FILENO, s.data() + off, s.size() - off);
    if (n <= 0) return;  // a progress bar is not worth an error
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string format_progress(std::uint64_t done, std::uint64_t total, double elapsed) {
  std::string out;
  if (total > 0) {
    if (done > total) done = total;
    const auto filled =
        static_cast<int>(static_cast<double>(done) * kBarWidth / static_cast<double>(total));
    out += '[';
    out.append(static_cast<std::size_t>(filled), '#');
    out.append(static_cast<std::size_t>(kBarWidth - filled), '.');
    out += ']';
    char pct[16];
    std::snprintf(pct, sizeof pct, " %3d%%",
                  static_cast<int>(static_cast<double>(done) * 100 / static_cast<double>(total)));
    out += pct;
    out += "  " + megabytes(done) + "/" + megabytes(total) + " MB";
  } else {
    out += megabytes(done) + " MB";
  }
  // Below a tenth of a second the rate is noise.
  if (elapsed >= 0.1 && done > 0) {
    const double rate = static_cast<double>(done) / elapsed;
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %.1f MB/s", rate / 1e6);
    out += buf;
    if (total > 0 && done < total) {
      const auto left = static_cast<std::uint64_t>(static_cast<double>(total - done) / rate + 0.5);
      if (left >= 3600) {
        std::snprintf(buf, sizeof buf, "  %llu:%02llu:%02llu left",
                      static_cast<unsigned long long>(left / 3600),
                      static_cast<unsigned long long>(left / 60 % 60),
                      static_cast<unsigned long long>(left % 60));
      } else {
        std::snprintf(buf, sizeof buf, "  %llu:%02llu left",
                      static_cast<unsigned long long>(left / 60),
                      static_cast<unsigned long long>(left % 60));
      }
      out += buf;
    }
  }
  return out;
}

ProgressBar::ProgressBar(bool requested, std::uint64_t total)
    : active_(requested && ::isatty(STDERR_FILENO) == 1),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(std::uint64_t done) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // \r and "erase to the end of the line": the bar redraws in place.
  write_all("\r" + format_progress(done, total_, elapsed) + "\033[K");
}

void ProgressBar::finish() {
  if (active_ && drawn_) write_all("\r\033[K");
  active_ = false;
}

}  // namespace mw::logs
