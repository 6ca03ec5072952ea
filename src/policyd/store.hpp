// The counters behind the rate limits. One call per decision, atomic: check every window of
// every bucket the message falls in and, when all allow it, add it to all of them. Exact
// sliding windows at one-second resolution: "10 per hour" means never more than 10 accepted in
// any 3600 consecutive seconds. Refused messages are not counted (they were not sent).
// Implementations: MemoryStore (in process, persisted to SQLite) and RedisStore (one Lua script
// per decision, shared by several MTAs).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "policyd/config.hpp"

namespace mw::policyd {

// One key the message counts for ("a:alice@example.com", "d:example.com", ...) and its windows.
struct Bucket {
  std::string key;
  std::vector<WindowLimit> windows;
};

struct ChargeRequest {
  // A repeated request (Postfix resends after a lost answer) must not count twice: a key seen
  // in the last kDedupeSeconds returns its first answer without counting anything.
  std::string dedupe_key;
  // The message is counted once per message_key (in RCPT mode every recipient of one message
  // is a request of its own; the message counts with the first one accepted).
  std::string message_key;
  std::uint32_t recipients = 0;
  std::int64_t now = 0;  // seconds since the epoch
};

inline constexpr std::int64_t kDedupeSeconds = 600;
// Alert counts (for the auto-lock) are kept this long after a key's last alert.
inline constexpr std::int64_t kAlertMemorySeconds = 86400;

struct ChargeResult {
  bool duplicate = false;  // dedupe_key seen before: nothing counted, `allowed` is the first answer
  bool allowed = true;
  bool message_counted = false;  // this call counted the message (false when message_key was seen)
  // When refused: the first bucket and window (indexes into the request) that refused, and
  // what it held before this message.
  int bucket = -1;
  int window = -1;
  std::uint64_t used_messages = 0;
  std::uint64_t used_recipients = 0;
  // The first refusal of that bucket since its last alert expired (an alert covers one window
  // length): send an alert. `alerts` counts the bucket's alerts, this one included.
  bool alert = false;
  std::uint32_t alerts = 0;
};

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // An error means the store could not decide (Redis down or slow); the caller applies the
  // configured fail mode.
  virtual Result<ChargeResult> charge(const ChargeRequest& request,
                                      std::span<const Bucket> buckets) = 0;
  // Writes pending state to durable storage (no-op when there is none).
  virtual Status flush() { return {}; }
  // Keys with any state (for metrics).
  virtual std::size_t active_keys() const = 0;
};

}  // namespace mw::policyd
