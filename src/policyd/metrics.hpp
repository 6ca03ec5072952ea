// policyd's counters, rendered in the Prometheus text exposition format (version 0.0.4) for
// the /metrics endpoint. Lock-free: every request updates a few relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "policyd/engine.hpp"

namespace mw::policyd {

class Metrics {
 public:
  // Latency buckets in seconds (le); a policy answer is expected well under a millisecond.
  static constexpr std::array<double, 14> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                      0.0025,  0.005,  0.01,    0.025,  0.05,
                                                      0.1,     0.25,   0.5,     1.0};

  void request(const Decision& d, double seconds);
  void malformed() { malformed_.fetch_add(1, std::memory_order_relaxed); }
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void timeout() { timeouts_.fetch_add(1, std::memory_order_relaxed); }
  void alert() { alerts_.fetch_add(1, std::memory_order_relaxed); }
  void reload(bool ok) {
    (ok ? reloads_ok_ : reloads_error_).fetch_add(1, std::memory_order_relaxed);
  }
  void flush_error() { flush_errors_.fetch_add(1, std::memory_order_relaxed); }

  // Gauges and external counters are passed in at render time.
  struct Gauges {
    std::uint64_t active_keys = 0;
    std::uint64_t alerts_failed = 0;
    std::uint64_t alerts_dropped = 0;
  };
  std::string render(const Gauges& g) const;

  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  Counter requests_{0}, malformed_{0}, timeouts_{0}, alerts_{0};
  std::array<Counter, 4> decisions_{};  // by Verdict
  std::array<Counter, 8> reasons_{};    // by Reason
  Counter store_errors_{0}, reloads_ok_{0}, reloads_error_{0}, flush_errors_{0};
  std::atomic<std::int64_t> connections_{0};
  std::array<Counter, kBuckets.size() + 1> latency_{};  // last: +Inf
  std::atomic<std::uint64_t> latency_sum_ns_{0};
};

}  // namespace mw::policyd
