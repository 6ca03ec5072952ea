// read_merged: one reader thread per rotated set, batches of events copied out of the reader's
// buffers (the views rebased into the batch's own arena), a bounded queue per set, and a k-way
// merge by time on the calling thread.
#include "logs/merge.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "logs/input.hpp"
#include "logs/progress.hpp"

namespace mw::logs {

namespace {

// Events whose views point into `arena`. The arena's capacity is reserved up front and never
// exceeded, so it never moves while views point into it.
struct Batch {
  static constexpr std::size_t kArenaBytes = 1 << 20;
  static constexpr std::size_t kMaxEvents = 8192;
  std::string arena;
  std::vector<Event> events;
  std::vector<Position> positions;
  Batch() {
    arena.reserve(kArenaBytes);
    events.reserve(256);
    positions.reserve(256);
  }
};

template <class F>
void for_each_view(Event& e, F&& f) {
  Facts& x = e.facts;
  for (std::string_view* v : {&e.host, &e.program, &e.pid, &e.message, &x.client_ip, &x.client_name,
                              &x.account, &x.method, &x.reason, &x.queue_id, &x.next_queue_id,
                              &x.from, &x.recipients, &x.relay, &x.dsn, &x.message_id})
    f(*v);
}

// Copies the bytes the event's views cover (one span of its line) into the batch; false when
// the batch has no room left for it.
bool append(Batch& b, const Event& e, Position p) {
  const char* lo = nullptr;
  const char* hi = nullptr;
  Event copy = e;
  for_each_view(copy, [&](std::string_view v) {
    if (v.empty()) return;
    if (lo == nullptr || v.data() < lo) lo = v.data();
    if (hi == nullptr || v.data() + v.size() > hi) hi = v.data() + v.size();
  });
  const std::size_t n = lo == nullptr ? 0 : static_cast<std::size_t>(hi - lo);
  if (b.arena.size() + n > b.arena.capacity() || b.events.size() >= Batch::kMaxEvents) return false;
  const std::size_t at = b.arena.size();
  if (n > 0) b.arena.append(lo, n);
  const char* base = b.arena.data() + at;
  for_each_view(copy, [&](std::string_view& v) {
    v = v.empty() ? std::string_view{} : std::string_view(base + (v.data() - lo), v.size());
  });
  b.events.push_back(copy);
  b.positions.push_back(p);
  return true;
}

// Batches from one set's reader thread to the merge, at most kDepth in flight.
class Channel {
 public:
  static constexpr std::size_t kDepth = 4;

  void push(std::unique_ptr<Batch> b) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return queue_.size() < kDepth || cancelled_; });
    if (cancelled_) return;
    queue_.push_back(std::move(b));
    ready_.notify_one();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_one();
  }
  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    room_.notify_all();
  }
  // nullptr at the end.
  std::unique_ptr<Batch> pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return nullptr;
    auto b = std::move(queue_.front());
    queue_.pop_front();
    room_.notify_one();
    return b;
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::unique_ptr<Batch>> queue_;
  bool closed_ = false, cancelled_ = false;
};

struct SetReader {
  std::vector<std::string> paths;
  std::uint32_t first_input = 0;  // global index of its first input
  Channel channel;
  std::vector<InputResult> results;
  std::thread thread;
  // Merge side.
  std::unique_ptr<Batch> batch;
  std::size_t next = 0;
  bool done = false;
  Timestamp last_time;
};

}  // namespace

MergedInputs read_merged(const std::vector<std::string>& inputs, const ReadOptions& options,
                         const std::function<void(const Event&, Position)>& sink) {
  MergedInputs out;
  const auto sets = rotated_sets(inputs);
  for (const auto& s : sets) out.order.insert(out.order.end(), s.begin(), s.end());
  if (sets.size() <= 1) {
    out.results = read_inputs(out.order, options, sink);
    return out;
  }
  // Each set's parallel chunk reader gets its share of the cores.
  ReadOptions per_set = options;
  const unsigned cores =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  per_set.threads = std::max<unsigned>(1, cores / static_cast<unsigned>(sets.size()));
  // One bar for every set: each reader reports its bytes, the merge loop draws their sum.
  per_set.progress = false;
  std::uint64_t total = 0;
  for (const auto& path : out.order) {
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<std::uint64_t>(st.st_size);
  }
  ProgressBar bar(options.progress, total);
  std::vector<std::atomic<std::uint64_t>> done(sets.size());

  std::vector<std::unique_ptr<SetReader>> readers;
  std::uint32_t first = 0;
  for (const auto& s : sets) {
    auto r = std::make_unique<SetReader>();
    r->paths = s;
    r->first_input = first;
    first += static_cast<std::uint32_t>(s.size());
    readers.push_back(std::move(r));
  }
  for (std::size_t i = 0; i < readers.size(); ++i) {
    SetReader* r = readers[i].get();
    std::atomic<std::uint64_t>* set_done = &done[i];
    r->thread = std::thread([r, per_set, set_done]() mutable {
      per_set.on_progress = [set_done](std::uint64_t n) { set_done->store(n); };
      auto batch = std::make_unique<Batch>();
      r->results = read_inputs(r->paths, per_set, [&](const Event& e, Position p) {
        p.input += r->first_input;
        if (!append(*batch, e, p)) {
          r->channel.push(std::move(batch));
          batch = std::make_unique<Batch>();
          append(*batch, e, p);  // always fits an empty batch: a line is at most 64 KiB
        }
      });
      if (!batch->events.empty()) r->channel.push(std::move(batch));
      r->channel.close();
    });
  }
  // The k-way merge: the set whose next event is the earliest goes first.
  auto advance = [](SetReader& r) {
    while (!r.done && (r.batch == nullptr || r.next >= r.batch->events.size())) {
      r.batch = r.channel.pop();
      r.next = 0;
      if (r.batch == nullptr) r.done = true;
    }
  };
  std::uint64_t merged = 0;
  try {
    for (;;) {
      if (bar.active() && (++merged & 4095) == 0) {
        std::uint64_t sum = 0;
        for (const auto& d : done) sum += d.load();
        bar.update(sum);
      }
      SetReader* best = nullptr;
      Timestamp best_time;
      for (auto& rp : readers) {
        SetReader& r = *rp;
        advance(r);
        if (r.done) continue;
        const Event& e = r.batch->events[r.next];
        const Timestamp t = e.has_time ? e.time : r.last_time;
        if (best == nullptr || t < best_time) {
          best = &r;
          best_time = t;
        }
      }
      if (best == nullptr) break;
      const Event& e = best->batch->events[best->next];
      if (e.has_time) best->last_time = e.time;
      sink(e, best->batch->positions[best->next]);
      ++best->next;
    }
  } catch (...) {
    for (auto& r : readers) r->channel.cancel();
    for (auto& r : readers) r->thread.join();
    throw;
  }
  for (auto& r : readers) {
    r->thread.join();
    out.results.insert(out.results.end(), r->results.begin(), r->results.end());
  }
  bar.finish();
  return out;
}

}  // namespace mw::logs
