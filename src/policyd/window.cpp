// SlidingWindow: per-second events with running sums (see window.hpp).
#include "policyd/window.hpp"

#include <algorithm>
#include <string>

namespace mw::policyd {

std::size_t SlidingWindow::first_after(std::int64_t t) const {
  const auto it = std::upper_bound(events_.begin() + head_, events_.end(), t,
                                   [](std::int64_t v, const Entry& e) { return v < e.second; });
  return static_cast<std::size_t>(it - events_.begin());
}

WindowUsage SlidingWindow::usage(std::int64_t now, std::int64_t window) const {
  if (empty()) return {};
  const std::size_t i = first_after(window_start(now, window));
  if (i == events_.size()) return {};
  // Unsigned subtraction undoes the wrap of the running sums.
  const std::uint32_t messages = events_.back().messages_sum - messages_before(i);
  const std::uint32_t recipients = events_.back().recipients_sum - recipients_before(i);
  return {messages, recipients};
}

void SlidingWindow::add(std::int64_t second, std::uint32_t messages, std::uint32_t recipients) {
  if (messages == 0 && recipients == 0) return;
  // The common case: time moves forward, the entry goes at the end.
  if (events_.empty() || second > events_.back().second) {
    const std::size_t n = events_.size();
    // Growth by half rather than doubling: most keys hold a handful of events for a long time.
    if (n == events_.capacity()) events_.reserve(n + n / 2 + 1);
    events_.push_back(Entry{second, static_cast<std::uint32_t>(messages_before(n) + messages),
                            static_cast<std::uint32_t>(recipients_before(n) + recipients)});
    return;
  }
  auto it = std::lower_bound(events_.begin() + head_, events_.end(), second,
                             [](const Entry& e, std::int64_t v) { return e.second < v; });
  if (it == events_.end() || it->second != second) {
    const auto i = static_cast<std::size_t>(it - events_.begin());
    it = events_.insert(it, Entry{second, messages_before(i), recipients_before(i)});
  }
  for (; it != events_.end(); ++it) {
    it->messages_sum += messages;
    it->recipients_sum += recipients;
  }
}

void SlidingWindow::prune(std::int64_t now, std::int64_t max_window) {
  const std::int64_t t = window_start(now, max_window);
  std::size_t head = head_;
  while (head < events_.size() && events_[head].second <= t) ++head;
  if (head == head_) return;
  head_ = static_cast<std::uint32_t>(head);
  if (head_ == events_.size()) {
    base_messages_ = messages_before(head_);
    base_recipients_ = recipients_before(head_);
    head_ = 0;
    // An idle key keeps no buffer: most of 100,000 accounts are idle at any time.
    std::vector<Entry>().swap(events_);
    return;
  }
  // Erasing the dead head once it is as long as the live part costs O(1) per event overall.
  if (head_ >= events_.size() - head_) compact();
}

void SlidingWindow::compact() {
  base_messages_ = messages_before(head_);
  base_recipients_ = recipients_before(head_);
  events_.erase(events_.begin(), events_.begin() + head_);
  head_ = 0;
  if (events_.capacity() > 8 && events_.capacity() >= 4 * events_.size()) events_.shrink_to_fit();
}

std::vector<WindowEvent> SlidingWindow::events() const {
  std::vector<WindowEvent> out;
  out.reserve(size());
  for (std::size_t i = head_; i < events_.size(); ++i) {
    out.push_back({events_[i].second,
                   static_cast<std::uint32_t>(events_[i].messages_sum - messages_before(i)),
                   static_cast<std::uint32_t>(events_[i].recipients_sum - recipients_before(i))});
  }
  return out;
}

Result<SlidingWindow> SlidingWindow::from_events(std::span<const WindowEvent> events) {
  SlidingWindow w;
  w.events_.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const WindowEvent& e = events[i];
    if (i > 0 && e.second <= events[i - 1].second) {
      return Error{"event " + std::to_string(i) + ": second " + std::to_string(e.second) +
                   " is not after the previous event's " + std::to_string(events[i - 1].second)};
    }
    const std::size_t n = w.events_.size();
    w.events_.push_back(Entry{e.second,
                              static_cast<std::uint32_t>(w.messages_before(n) + e.messages),
                              static_cast<std::uint32_t>(w.recipients_before(n) + e.recipients)});
  }
  return w;
}

}  // namespace mw::policyd
