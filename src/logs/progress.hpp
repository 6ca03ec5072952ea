// The progress bar of `mailwarden logs` on stderr: drawn only when asked and stderr is a
// terminal, never into a pipe or a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mw::logs {

// One line: "[#######.............]  35%  350.0/1000.0 MB  120.5 MB/s  0:05 left". `total` 0
// means unknown (stdin): "350.0 MB  120.5 MB/s". The rate and the time left are left out until
// `elapsed_seconds` makes them meaningful.
std::string format_progress(std::uint64_t done, std::uint64_t total, double elapsed_seconds);

class ProgressBar {
 public:
  // Draws only when `requested` and stderr is a terminal.
  ProgressBar(bool requested, std::uint64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool active() const { return active_; }
  // Redraws at most ten times a second.
  void update(std::uint64_t done);
  // Erases the bar; later updates draw nothing.
  void finish();

 private:
  bool active_ = false;
  bool drawn_ = false;
  std::uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace mw::logs
