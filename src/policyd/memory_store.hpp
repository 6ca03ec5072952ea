// MemoryStore: the counters in process (sharded sliding windows, thread-safe), written behind to
// a SQLite file so that a restart keeps the counts.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "policyd/store.hpp"
#include "policyd/window.hpp"

namespace mw::policyd {

struct MemoryStoreOptions {
  std::filesystem::path path;  // SQLite state file; "" = not persisted
};

// Keys live in 64 shards, each behind its own mutex; one charge locks the shards of its buckets,
// its dedupe key and its message key in increasing order (no deadlock, atomic over all of them).
//
// Persistence: flush() writes the keys changed since the previous flush (their windows and alert
// state) in one SQLite transaction (WAL, synchronous=NORMAL); the owner calls it every
// flush_interval and before exiting, so a crash loses at most one interval. It copies the state
// under the shard locks and writes without them. The de-duplication memory (request and message
// keys, kept kDedupeSeconds) is not persisted: a request resent across a restart counts again.
// The file is held with an exclusive lock while the store is open: a second process opening it
// gets an error instead of silently overwriting the first one's counts. The destructor does not
// flush (it could not report a failure): the owner flushes before destroying the store.
class MemoryStore final : public CounterStore {
 public:
  // Opens (creating when absent or empty) the state file and loads it. A file that is not a
  // SQLite database, belongs to something else, or has a newer schema is an error naming it.
  static Result<std::unique_ptr<MemoryStore>> open(const MemoryStoreOptions& options);
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Buckets without windows count nothing. A window of 0 seconds or less is an error.
  Result<ChargeResult> charge(const ChargeRequest& request,
                              std::span<const Bucket> buckets) override;
  Status flush() override;
  std::size_t active_keys() const override { return active_keys_.load(std::memory_order_relaxed); }
  // Drops keys whose events are all older than max_window and whose alert memory expired, and
  // expired de-duplication keys; the server calls it about once a minute with the longest window
  // of its configuration (a shorter one would drop events a longer window still counts). Returns
  // how many keys were dropped (their rows are deleted by the next flush).
  std::size_t expire(std::int64_t now, std::int64_t max_window);

  // What `key` holds within the window of `window` seconds at `now` (for status and tests).
  WindowUsage usage(const std::string& key, std::int64_t now, std::int64_t window) const;
  // Rows written or deleted by successful flushes since open (for metrics and tests).
  std::uint64_t rows_written() const { return rows_written_.load(std::memory_order_relaxed); }
  // Heap bytes held by the windows (for the memory figures; walks every shard).
  std::size_t window_heap_bytes() const;

 private:
  struct Shard;
  struct Database;
  struct Snapshot;
  MemoryStore();
  Status load();
  std::vector<Snapshot> take_snapshots();

  static constexpr std::size_t kShards = 64;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::size_t> active_keys_{0};
  std::atomic<std::uint64_t> rows_written_{0};
  std::unique_ptr<Database> db_;    // null when not persisted
  std::mutex flush_mutex_;          // one flush at a time (the timer and SIGTERM may overlap)
  std::vector<std::string> retry_;  // keys of a failed flush, written by the next one
};

}  // namespace mw::policyd
