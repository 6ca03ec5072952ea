// RedisStore: the rate-limit counters in Redis, shared by several MTAs. Every decision is one
// atomic Lua script (EVALSHA) over the buckets' sorted sets, the de-duplication keys and the
// alert state, with the same semantics as MemoryStore (store.hpp is the contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "policyd/config.hpp"
#include "policyd/store.hpp"

namespace mw::policyd {

// Knobs tests need; the daemon uses the defaults.
struct RedisStoreOptions {
  // After a failed connect, requests fail at once for this long instead of each trying again:
  // a dead Redis then costs nothing per request.
  std::chrono::milliseconds retry_backoff{1000};
  // How long active_keys() reuses its last count before asking Redis again.
  std::chrono::milliseconds active_keys_refresh{5000};
};

class RedisStore final : public CounterStore {
 public:
  // Validates the configuration; does not fail when Redis is down (connections are made
  // lazily and the fail mode applies per request).
  static Result<std::unique_ptr<RedisStore>> open(const RedisConfig& config,
                                                  const RedisStoreOptions& options = {});
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  Result<ChargeResult> charge(const ChargeRequest& request,
                              std::span<const Bucket> buckets) override;

  // Bucket keys (of every MTA sharing this Redis) whose newest traffic is still inside their
  // largest window, as counted by count_active_keys() at most every
  // RedisStoreOptions::active_keys_refresh; the last known count while Redis is unreachable.
  std::size_t active_keys() const override;
  // The same count, asked now: the script keeps an index of bucket keys scored by the second
  // their traffic leaves every window.
  Result<std::size_t> count_active_keys(std::int64_t now) const;

  // The decision script (also run by the benchmark through redis-benchmark).
  static std::string_view lua_script();

  // Calls that failed (connect, back-off, timeout, script error): the store_errors metric.
  std::uint64_t errors() const;

  // "127.0.0.1:6379" or "unix:/run/redis/redis-server.sock", the start of every error.
  const std::string& endpoint() const;

 private:
  struct Impl;  // the connection pool and the counters; hiredis stays out of this header
  explicit RedisStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw::policyd
