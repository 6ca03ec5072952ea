// The reading thread of `logs watch`: poll the followers, parse, queue; wait for a write
// (inotify on the files' directories) or the interval when there is nothing new.
#include "logs/live_reader.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

namespace mw::logs {

namespace {

// Wakes the reader when a watched file's directory changes (a write, a rotation), so that a
// ban follows its log line by milliseconds; the interval stays the upper bound. An eventfd
// lets the destructor wake it too.
class WriteWaiter {
 public:
  explicit WriteWaiter(const std::vector<std::string>& paths) {
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return;
    for (const auto& p : paths) {
      auto dir = std::filesystem::path(p).parent_path();
      if (dir.empty()) dir = ".";
      // The directory, not the file: it also sees the file being replaced or created.
      inotify_add_watch(fd_, dir.c_str(),
                        IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF);
    }
  }
  ~WriteWaiter() {
    if (fd_ >= 0) ::close(fd_);
    if (wake_ >= 0) ::close(wake_);
  }
  WriteWaiter(const WriteWaiter&) = delete;
  WriteWaiter& operator=(const WriteWaiter&) = delete;

  // Up to `timeout` for a change or a wake(); without inotify, at most 50 ms.
  void wait(std::chrono::duration<double> timeout) {
    pollfd p[2];
    nfds_t n = 0;
    if (fd_ >= 0) p[n++] = {fd_, POLLIN, 0};
    if (wake_ >= 0) p[n++] = {wake_, POLLIN, 0};
    double ms = std::max(1.0, timeout.count() * 1000);
    if (fd_ < 0) ms = std::min(ms, 50.0);
    if (::poll(p, n, static_cast<int>(ms)) > 0 && fd_ >= 0) {
      alignas(inotify_event) char buf[4096];
      while (::read(fd_, buf, sizeof buf) > 0) {
      }
    }
  }
  void wake() {
    if (wake_ < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
  }

 private:
  int fd_ = -1;
  int wake_ = -1;
};

}  // namespace

struct LiveReader::Impl {
  Options o;
  std::vector<std::unique_ptr<Follower>> followers;
  std::vector<std::unique_ptr<ParseContext>> contexts;
  std::vector<std::uint64_t> line_numbers;
  WriteWaiter waiter;

  std::mutex m;
  std::condition_variable ready;  // a batch was queued, or the thread failed
  std::condition_variable space;  // the consumer took a batch, or stop
  std::deque<std::unique_ptr<LiveBatch>> queue;
  std::vector<std::unique_ptr<LiveBatch>> spare;
  bool stop = false;
  std::exception_ptr failure;
  std::thread thread;

  Impl(std::vector<std::string> paths, std::vector<std::unique_ptr<ParseContext>> ctx, Options opt)
      : o(std::move(opt)), contexts(std::move(ctx)), waiter(paths) {
    o.max_batches = std::max<std::size_t>(o.max_batches, 1);
    for (const auto& p : paths)
      followers.push_back(std::make_unique<Follower>(
          p, o.from_start ? Follower::Start::at_start : Follower::Start::at_end));
    line_numbers.assign(paths.size(), 0);
  }

  std::unique_ptr<LiveBatch> take_spare() {
    std::lock_guard l(m);
    if (spare.empty()) return std::make_unique<LiveBatch>();
    auto b = std::move(spare.back());
    spare.pop_back();
    return b;
  }

  // Queues `b` once there is room; false when stopping.
  bool push(std::unique_ptr<LiveBatch> b) {
    {
      std::unique_lock l(m);
      space.wait(l, [&] { return stop || queue.size() < o.max_batches; });
      if (stop) return false;
      queue.push_back(std::move(b));
    }
    ready.notify_one();
    return true;
  }

  bool stopping() {
    std::lock_guard l(m);
    return stop;
  }

  void parse_into(LiveBatch& b, std::size_t i) {
    b.input = i;
    b.events.clear();
    b.line_numbers.clear();
    b.lines_read = b.lines.size();
    b.has_time = false;
    b.latest = {};
    b.drained = false;
    ParseContext& ctx = *contexts[i];
    for (std::size_t k = 0; k < b.lines.size(); ++k) {
      ++line_numbers[i];
      // Straight into the batch (no copy of the Event); taken back when not kept.
      Event& e = b.events.emplace_back();
      parse_line(b.lines.line(k), ctx, e);
      if (e.has_time && (!b.has_time || e.time > b.latest)) {
        b.has_time = true;
        b.latest = e.time;
      }
      if (o.keep && !o.keep(e)) {
        b.events.pop_back();
        continue;
      }
      b.line_numbers.push_back(line_numbers[i]);
    }
  }

  void run() {
    try {
      while (!stopping()) {
        bool read_any = false, behind = false;
        for (std::size_t i = 0; i < followers.size(); ++i) {
          auto b = take_spare();
          followers[i]->poll(b->lines, o.batch_bytes);
          behind = behind || followers[i]->behind();
          if (b->lines.empty()) {
            std::lock_guard l(m);
            spare.push_back(std::move(b));
            continue;
          }
          read_any = true;
          parse_into(*b, i);
          if (!push(std::move(b))) return;
        }
        if (read_any || behind) continue;
        auto marker = take_spare();
        marker->lines.clear();
        marker->events.clear();
        marker->line_numbers.clear();
        marker->lines_read = 0;
        marker->has_time = false;
        marker->drained = true;
        if (!push(std::move(marker))) return;
        waiter.wait(o.interval);
      }
    } catch (...) {
      {
        std::lock_guard l(m);
        failure = std::current_exception();
      }
      ready.notify_all();
    }
  }
};

LiveReader::LiveReader(std::vector<std::string> paths,
                       std::vector<std::unique_ptr<ParseContext>> contexts, Options options)
    : impl_(std::make_unique<Impl>(std::move(paths), std::move(contexts), std::move(options))) {
  impl_->thread = std::thread([this] { impl_->run(); });
}

LiveReader::~LiveReader() {
  {
    std::lock_guard l(impl_->m);
    impl_->stop = true;
  }
  impl_->space.notify_all();
  impl_->waiter.wake();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::unique_ptr<LiveBatch> LiveReader::next(std::chrono::duration<double> timeout) {
  std::unique_lock l(impl_->m);
  impl_->ready.wait_for(l, timeout, [&] { return !impl_->queue.empty() || impl_->failure; });
  if (impl_->failure) std::rethrow_exception(impl_->failure);
  if (impl_->queue.empty()) return nullptr;
  auto b = std::move(impl_->queue.front());
  impl_->queue.pop_front();
  l.unlock();
  impl_->space.notify_one();
  return b;
}

void LiveReader::recycle(std::unique_ptr<LiveBatch> batch) {
  if (!batch) return;
  std::lock_guard l(impl_->m);
  // A few spares are enough: the queue's size plus the ones in use.
  if (impl_->spare.size() < impl_->o.max_batches + 2) impl_->spare.push_back(std::move(batch));
}

}  // namespace mw::logs
