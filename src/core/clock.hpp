// Time as a dependency: code that waits for deadlines (apply's confirmation window, ban expiry)
// takes a Clock, so that unit tests drive time themselves and only e2e tests wait for real.
#pragma once

#include <chrono>
#include <thread>

namespace mw {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  // Wall-clock time: deadlines are stored in files and shown to people.
  virtual time_point now() const = 0;
  // Waits `d` of elapsed time (a monotonic clock: stepping the wall clock does not change it).
  virtual void sleep_for(std::chrono::nanoseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
};

// For unit tests: time moves only when sleep_for or advance is called.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(time_point start = time_point{std::chrono::seconds(1'800'000'000)})
      : now_(start) {}
  time_point now() const override { return now_; }
  void sleep_for(std::chrono::nanoseconds d) override {
    if (d > d.zero()) now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  void advance(std::chrono::nanoseconds d) { now_ += d; }

 private:
  time_point now_;
};

}  // namespace mw
