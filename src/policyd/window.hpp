// SlidingWindow: one key's accepted messages, merged per second and kept with running sums, so
// that the usage of any window length is one binary search (exact at one-second resolution).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "core/result.hpp"

namespace mw::policyd {

// What was accepted within a window.
struct WindowUsage {
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  friend bool operator==(const WindowUsage&, const WindowUsage&) = default;
};

// One second's accepted traffic (the persisted form of a window).
struct WindowEvent {
  std::int64_t second = 0;
  std::uint32_t messages = 0;
  std::uint32_t recipients = 0;
  friend bool operator==(const WindowEvent&, const WindowEvent&) = default;
};

// The events of one key, oldest first, one entry per second. An event at second s counts in the
// window of length w at `now` iff s > now - w. Events later than `now` (the clock stepped back,
// or threads whose `now` differ by a second) count too: a limit is then enforced a little early,
// never late.
//
// Entries are 16 bytes (second + running sums of 32 bits) in one vector whose dead head is
// erased once it is at least as long as the live part: no per-key block as std::deque has.
// Running sums wrap modulo 2^32; a window's usage is their difference, exact while the true sum
// within the window is below 2^32 (a limit is at most 2^32 - 1, and Postfix bounds recipients).
class SlidingWindow {
 public:
  // Usage within the window of `window` seconds ending at `now` (see the class comment).
  WindowUsage usage(std::int64_t now, std::int64_t window) const;

  // Adds traffic at `second`: merged into that second's entry, or inserted in order (an earlier
  // second than the newest only happens when the clock steps back: linear in what follows).
  void add(std::int64_t second, std::uint32_t messages, std::uint32_t recipients);

  // Drops events that no window of up to `max_window` seconds can count at `now` or later.
  void prune(std::int64_t now, std::int64_t max_window);

  bool empty() const { return head_ == events_.size(); }
  std::size_t size() const { return events_.size() - head_; }
  // The newest event's second; only when !empty().
  std::int64_t newest() const { return events_.back().second; }

  // The live events, oldest first (for persistence).
  std::vector<WindowEvent> events() const;
  // Rebuilds a window from persisted events; they must be in strictly increasing seconds.
  static Result<SlidingWindow> from_events(std::span<const WindowEvent> events);

  // Heap bytes held (for the memory figures).
  std::size_t heap_bytes() const { return events_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    std::int64_t second;
    std::uint32_t messages_sum;    // running sum up to and including this entry, mod 2^32
    std::uint32_t recipients_sum;  // idem
  };
  static_assert(sizeof(Entry) == 16);

  // Running sums before entry i (i in [head_, size]).
  std::uint32_t messages_before(std::size_t i) const {
    return i == 0 ? base_messages_ : events_[i - 1].messages_sum;
  }
  std::uint32_t recipients_before(std::size_t i) const {
    return i == 0 ? base_recipients_ : events_[i - 1].recipients_sum;
  }
  // First live entry whose second is > t.
  std::size_t first_after(std::int64_t t) const;
  void compact();

  std::vector<Entry> events_;
  std::uint32_t head_ = 0;  // entries before head_ were pruned
  // Running sums before events_[0] (entries erased by compaction).
  std::uint32_t base_messages_ = 0;
  std::uint32_t base_recipients_ = 0;
};

// now - window, saturated: windows come from configuration and may be absurdly long.
inline std::int64_t window_start(std::int64_t now, std::int64_t window) {
  std::int64_t t = 0;
  if (__builtin_sub_overflow(now, window, &t)) {
    return window > 0 ? std::numeric_limits<std::int64_t>::min()
                      : std::numeric_limits<std::int64_t>::max();
  }
  return t;
}

}  // namespace mw::policyd
