// read_inputs: chunks of whole lines, parsed by worker threads, delivered in order.
//
// Every input becomes a sequence of chunks. A plain regular file is cut by position: chunk k
// owns the lines that start in [k*C, (k+1)*C), and each worker reads its own chunk with pread
// (no mmap: a file truncated under a mapping would raise SIGBUS). Compressed data and stdin
// are decoded on one thread at a time, in order, by whichever worker takes the next chunk.
//
// The RFC 3164 year makes chunks depend on one another: a chunk's first line continues the
// year of the previous chunk's last line. A worker seeds its chunk with the state known when
// it starts (the chunks delivered so far); the delivering thread checks the first RFC 3164
// line got the year and rollover a sequential reader would have given it, and re-parses the
// chunk with the right seed when not (after a Dec -> Jan step, for the chunks in flight).
//
// The delivering thread (the sink: the Analyzer) is the serial stage: the workers run at a
// lower priority (kWorkerNice) so that, with more threads than cores, it is never the one
// waiting for a CPU (plain files; a stream's decoder is serial too and keeps its priority).
// The workers still get every cycle it leaves. On two cores this took
// `logs report` on 1 GB from ~0.8 s to ~0.6 s (bench/logs_vs_peers.sh).
#include "logs/reader.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "logs/parse_line.hpp"
#include "logs/progress.hpp"
#include "logs/syslog.hpp"

namespace mw::logs {

namespace {

// A byte buffer that does not zero what is about to be overwritten by read().
class Bytes {
 public:
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void resize(std::size_t n) {
    if (n > cap_) {
      std::size_t cap = std::max(n, cap_ + cap_ / 2);
      auto grown = std::make_unique_for_overwrite<char[]>(cap);
      if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
      data_ = std::move(grown);
      cap_ = cap;
    }
    size_ = n;
  }
  void append(const char* p, std::size_t n) {
    const std::size_t old = size_;
    resize(old + n);
    if (n > 0) std::memcpy(data_.get() + old, p, n);
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, cap_ = 0;
};

struct Kept {
  Event event;
  std::uint64_t line;  // 1-based within the chunk
};

// One chunk of whole lines and what parsing it gave.
struct Chunk {
  Bytes data;
  std::size_t begin = 0, end = 0;  // the chunk's lines: data[begin, end)
  std::uint64_t text_bytes = 0;    // bytes of the input's text this chunk accounts for
  std::uint64_t position = 0;      // where in the input file the chunk ends (progress)
  bool last = false;               // the input ends with this chunk
  std::string error;               // why the input ends here early

  std::vector<Kept> kept;
  UnparsedCounts counts;
  std::uint64_t lines = 0;
  YearInference years_end{0, 0};
  // The first RFC 3164 line: its month, the year and the rollovers it was given.
  bool has_rfc3164 = false;
  int first_month = 0, first_year = 0;
  std::uint64_t first_rollovers = 0;
  bool has_time = false;
  Timestamp first_time, last_time;

  bool ready = false;  // parsed, waiting for delivery (guarded by the pipeline's mutex)
};

// The state a sequential reader would start the next chunk with.
YearInference seed_from(const YearInference& state) {
  if (state.last_month() == 0) return state;  // no RFC 3164 line yet: the file-time rule
  return YearInference::continuing(state.year(), state.last_month());
}

// True when the chunk's first RFC 3164 line got what `seed` gives it: then every later line
// got the same too, and the chunk's result equals a sequential read's.
bool seed_fits(const Chunk& c, const YearInference& seed) {
  if (!c.has_rfc3164) return true;
  YearInference t = seed;
  const int y = t.year_for(c.first_month);
  return y == c.first_year && t.rollovers() == c.first_rollovers;
}

// Kept events handed on early by a single-threaded read (see run_inline).
constexpr std::size_t kEarlyBatch = 2048;
using EarlySink = std::function<void(const std::vector<Kept>&)>;

// `early`, when set, takes the kept events every kEarlyBatch of them (and they leave c.kept):
// only for a chunk whose seed is known to be right, so that they are final.
void parse_chunk(Chunk& c, const TimeZone& zone, const YearInference& seed, const ReadOptions& opt,
                 const EarlySink& early = {}) {
  c.kept.clear();
  c.lines = 0;
  c.has_rfc3164 = false;
  c.has_time = false;
  ParseContext ctx(zone, seed, opt.trusted);
  const char* p = c.data.data() + c.begin;
  const char* const end = c.data.data() + c.end;
  std::uint64_t line = 0;
  while (p < end) {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* le = nl != nullptr ? nl : end;
    ++line;
    // Parsed in place at the end of `kept` (dropped again below when not kept): an Event is a
    // few hundred bytes, and copying each one into the vector showed in profiles.
    Kept& slot = c.kept.emplace_back();
    slot.line = line;
    Event& ev = slot.event;
    parse_line(std::string_view(p, static_cast<std::size_t>(le - p)), ctx, ev);
    p = nl != nullptr ? nl + 1 : end;
    if (ev.envelope == EnvelopeFormat::rfc3164 && !c.has_rfc3164) {
      // Every line with an RFC 3164 envelope asked YearInference for its year.
      c.has_rfc3164 = true;
      c.first_month = ctx.years().last_month();
      c.first_year = ctx.years().year();
      c.first_rollovers = ctx.years().rollovers();
    }
    if (ev.has_time) {
      if (!c.has_time) c.first_time = ev.time;
      c.has_time = true;
      c.last_time = ev.time;
    }
    if (opt.keep && !opt.keep(ev)) c.kept.pop_back();
    if (early && c.kept.size() >= kEarlyBatch) {
      early(c.kept);
      c.kept.clear();
    }
  }
  c.lines = line;
  c.counts = ctx.counts();
  c.years_end = ctx.years();
}

// Where chunks come from.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Streams must be filled one chunk after the other, in order.
  virtual bool ordered() const = 0;
  // The number of chunks when known in advance.
  virtual std::uint64_t count() const = 0;
  virtual void fill(std::uint64_t k, Chunk& c) = 0;
};

constexpr std::uint64_t kUnknownCount = UINT64_MAX;
constexpr std::size_t kExtendPiece = 16 * 1024;

// pread until `n` bytes or the end of the file; errno-style failure as an Error.
Result<std::size_t> pread_full(int fd, char* out, std::size_t n, std::uint64_t off,
                               const std::string& name) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return Error{name + ": read error at byte " + std::to_string(off + got) + ": " +
                   std::strerror(errno)};
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// A plain regular file, cut by position. The size is taken once: lines appended while it is
// read belong to the next run.
class FileChunks final : public ChunkSource {
 public:
  FileChunks(int fd, std::uint64_t size, std::size_t chunk, std::string name)
      : fd_(fd), size_(size), chunk_(chunk), name_(std::move(name)) {}
  bool ordered() const override { return false; }
  std::uint64_t count() const override { return size_ == 0 ? 0 : (size_ - 1) / chunk_ + 1; }

  void fill(std::uint64_t k, Chunk& c) override {
    const std::uint64_t a = k * chunk_;
    const std::uint64_t b = std::min<std::uint64_t>(a + chunk_, size_);
    const std::uint64_t from = a == 0 ? 0 : a - 1;  // the byte before says if a starts a line
    c.text_bytes = b - a;
    c.position = b;
    c.last = k + 1 == count();
    c.error.clear();
    c.begin = c.end = 0;
    c.data.resize(static_cast<std::size_t>(b - from));
    auto got = pread_full(fd_, c.data.data(), c.data.size(), from, name_);
    if (!got) {
      c.data.clear();
      return fail(c, 0, got.error().message);
    }
    if (*got < c.data.size()) {
      c.data.resize(*got);
      return shrank(c, from + *got);
    }
    std::size_t s = 0;
    if (a > 0) {
      const auto* nl = static_cast<const char*>(std::memchr(c.data.data(), '\n', c.data.size()));
      if (nl == nullptr) return;  // a line from an earlier chunk covers this one
      s = static_cast<std::size_t>(nl - c.data.data()) + 1;
    }
    if (s >= c.data.size()) return;  // no line starts in [a, b)
    c.begin = s;
    if (c.data.data()[c.data.size() - 1] == '\n' || b == size_) {
      c.end = c.data.size();
      return;
    }
    // The last line runs past b: read on to its '\n', keeping at most kMaxLineBytes + 1 bytes
    // of it (parse_line cuts there anyway; the +1 tells it the line was longer).
    const auto* last_nl =
        static_cast<const char*>(memrchr(c.data.data() + s, '\n', c.data.size() - s));
    const std::size_t line_start =
        last_nl != nullptr ? static_cast<std::size_t>(last_nl - c.data.data()) + 1 : s;
    std::uint64_t pos = b;
    while (c.data.size() - line_start < kMaxLineBytes + 1 && pos < size_) {
      const std::size_t old = c.data.size();
      const auto piece =
          static_cast<std::size_t>(std::min<std::uint64_t>(kExtendPiece, size_ - pos));
      c.data.resize(old + piece);
      auto r = pread_full(fd_, c.data.data() + old, piece, pos, name_);
      if (!r) {
        c.data.resize(line_start);  // the unfinished line stays unread
        return fail(c, s, r.error().message);
      }
      c.data.resize(old + *r);
      pos += *r;
      if (const auto* nl = static_cast<const char*>(std::memchr(c.data.data() + old, '\n', *r))) {
        c.data.resize(static_cast<std::size_t>(nl - c.data.data()) + 1);
        break;
      }
      if (*r < piece) {
        c.data.resize(line_start);  // the unfinished line is gone with the truncation
        return shrank(c, pos);
      }
    }
    c.data.resize(std::min(c.data.size(), line_start + kMaxLineBytes + 1));
    c.end = c.data.size();
  }

 private:
  // Keeps the complete lines from `begin` on; the input ends here with `why`.
  void fail(Chunk& c, std::size_t begin, std::string why) {
    c.last = true;
    c.error = std::move(why);
    c.begin = begin;
    if (c.data.size() > begin) {
      const auto* nl =
          static_cast<const char*>(memrchr(c.data.data() + begin, '\n', c.data.size() - begin));
      c.end = nl != nullptr ? static_cast<std::size_t>(nl - c.data.data()) + 1 : begin;
    } else {
      c.end = begin;
    }
  }
  void shrank(Chunk& c, std::uint64_t at) {
    // Owned lines are those starting at or after the chunk's own first line start.
    std::size_t begin = 0;
    if (c.position - c.text_bytes > 0) {
      const auto* nl = static_cast<const char*>(std::memchr(c.data.data(), '\n', c.data.size()));
      begin = nl != nullptr ? static_cast<std::size_t>(nl - c.data.data()) + 1 : c.data.size();
    }
    fail(c, std::min(begin, c.data.size()),
         name_ +
             ": the file shrank while being read (truncated, e.g. by logrotate's "
             "copytruncate): it ended at byte " +
             std::to_string(at) + " of the " + std::to_string(size_) +
             " it had when opened; the rest was not read");
  }

  int fd_;
  std::uint64_t size_;
  std::uint64_t chunk_;
  std::string name_;
};

// Decoded data (compressed files, stdin, pipes): lines through a bounded splitter. A line
// longer than kMaxLineBytes keeps its first kMaxLineBytes + 1 bytes; the rest is skipped.
class StreamChunks final : public ChunkSource {
 public:
  StreamChunks(std::unique_ptr<ByteSource> src, std::size_t chunk)
      : src_(std::move(src)), chunk_(chunk) {}
  bool ordered() const override { return true; }
  std::uint64_t count() const override { return kUnknownCount; }

  void fill(std::uint64_t, Chunk& c) override {
    c.error.clear();
    c.text_bytes = 0;
    c.data.clear();
    c.data.append(carry_.data(), carry_.size());
    carry_.clear();
    std::size_t complete = 0;  // the end of the last complete line in c.data
    while (!(complete > 0 && c.data.size() >= chunk_) && !eof_) {
      const std::size_t old = c.data.size();
      const std::size_t want =
          old < chunk_ ? std::min<std::size_t>(chunk_ - old, 1 << 20) : 64 * 1024;
      c.data.resize(old + want);
      auto r = src_->read(c.data.data() + old, want);
      if (!r) {
        c.data.resize(old);
        error_ = r.error().message;
        eof_ = true;
        break;
      }
      c.data.resize(old + *r);
      if (*r == 0) {
        eof_ = true;
        break;
      }
      c.text_bytes += *r;
      if (skipping_) {
        const auto* nl = static_cast<const char*>(std::memchr(c.data.data() + old, '\n', *r));
        if (nl == nullptr) {
          c.data.resize(old);
          continue;
        }
        const std::size_t after = static_cast<std::size_t>(nl - c.data.data()) + 1;
        std::memmove(c.data.data() + old, c.data.data() + after, c.data.size() - after);
        c.data.resize(old + (c.data.size() - after));
        skipping_ = false;
      }
      if (c.data.size() > old) {
        if (const auto* nl =
                static_cast<const char*>(memrchr(c.data.data() + old, '\n', c.data.size() - old))) {
          complete = static_cast<std::size_t>(nl - c.data.data()) + 1;
        }
      }
      if (c.data.size() - complete > kMaxLineBytes + 1) {
        c.data.resize(complete + kMaxLineBytes + 1);
        c.data.append("\n", 1);
        complete = c.data.size();
        skipping_ = true;
      }
    }
    c.begin = 0;
    if (eof_) {
      c.end = c.data.size();  // the last line without '\n' is still a line
      c.last = true;
      c.error = error_;
    } else {
      c.end = complete;
      carry_.append(c.data.data() + complete, c.data.size() - complete);
      c.last = false;
    }
    c.position = src_->consumed();
  }

 private:
  std::unique_ptr<ByteSource> src_;
  std::size_t chunk_;
  Bytes carry_;  // the unfinished line at the end of the last chunk
  bool skipping_ = false;
  bool eof_ = false;
  std::string error_;
};

// The totals of one input, built as chunks are delivered in order.
struct Delivery {
  std::uint32_t input = 0;
  YearInference years{0, 0};  // the state after the chunks delivered so far
  std::uint64_t line_base = 0;
  bool has_last_time = false;
  Timestamp last_time;
  InputResult* result = nullptr;
  ProgressBar* progress = nullptr;
  std::uint64_t progress_base = 0;
  const std::function<void(std::uint64_t)>* on_progress = nullptr;
  const std::function<void(const Event&, Position)>* sink = nullptr;

  // The events of the chunk being parsed, before deliver(c) accounts for it (its lines are
  // numbered from line_base, which deliver(c) advances).
  void deliver_events(const std::vector<Kept>& kept) const {
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (i + kPrefetchAhead < kept.size()) prefetch_text(kept[i + kPrefetchAhead].event);
      (*sink)(kept[i].event, Position{input, line_base + kept[i].line});
    }
  }

  void deliver(const Chunk& c) {
    deliver_events(c.kept);
    line_base += c.lines;
    UnparsedCounts counts = c.counts;
    // A sequential reader compares the chunk's first time with the previous chunk's last.
    if (has_last_time && c.has_time && c.first_time < last_time) ++counts.time_backwards;
    if (c.has_time) {
      has_last_time = true;
      last_time = c.last_time;
    }
    result->counts.merge(counts);
    result->lines += c.lines;
    result->bytes += c.text_bytes;
    if (c.has_rfc3164) years = c.years_end;
    if (!c.error.empty()) result->error = c.error;
    progress->update(progress_base + c.position);
    if (on_progress != nullptr && *on_progress) (*on_progress)(progress_base + c.position);
  }
};

// How much lower the workers' priority is than the delivering thread's (nice steps). With 10,
// a worker sharing a core with the delivering thread gets about a tenth of it (CFS weights);
// 5 left the delivering thread waiting for a CPU more often (measured on two cores).
constexpr int kWorkerNice = 10;

// Runs one input's chunks through `workers` threads (1: all on the calling thread).
class Pipeline {
 public:
  Pipeline(ChunkSource& src, const ReadOptions& opt, unsigned workers, const TimeZone& main_zone,
           Delivery& d)
      : src_(src), opt_(opt), workers_(workers), main_zone_(main_zone), d_(d) {}

  void run() {
    if (src_.count() == 0) return;
    if (workers_ <= 1) return run_inline();
    run_threaded();
  }

 private:
  void run_inline() {
    Chunk c;
    // One thread parses in order, so each chunk's seed is right and its events final: they
    // go to the sink in batches while the chunk is parsed, still in order, while they are
    // in the cache (a whole chunk's Events are several times the chunk's size).
    const EarlySink early = [this](const std::vector<Kept>& kept) { d_.deliver_events(kept); };
    for (std::uint64_t k = 0; k < src_.count(); ++k) {
      src_.fill(k, c);
      parse_chunk(c, main_zone_, seed_from(d_.years), opt_, early);
      d_.deliver(c);
      if (c.last) break;
    }
  }

  void run_threaded() {
    window_ = workers_ + 2;
    slots_ = std::vector<Chunk>(window_);
    end_ = src_.count();
    std::vector<std::thread> threads;
    // Whatever happens on this thread (a sink that throws), the workers stop and are joined.
    struct Joiner {
      Pipeline* p;
      std::vector<std::thread>* t;
      ~Joiner() {
        {
          std::lock_guard lk(p->m_);
          p->stop_ = true;
        }
        p->space_.notify_all();
        for (auto& th : *t) th.join();
      }
    } joiner{this, &threads};
    truth_ = d_.years;
    for (unsigned i = 0; i < workers_; ++i) threads.emplace_back([this] { work(); });

    for (std::uint64_t k = 0;; ++k) {
      Chunk& c = slots_[k % window_];
      {
        std::unique_lock lk(m_);
        ready_.wait(lk, [&] { return c.ready || failure_; });
        if (failure_) break;
      }
      const YearInference seed = seed_from(d_.years);
      if (!seed_fits(c, seed)) parse_chunk(c, main_zone_, seed, opt_);
      d_.deliver(c);
      const bool last = c.last;
      {
        std::lock_guard lk(m_);
        c.ready = false;
        delivered_ = k + 1;
        truth_ = d_.years;
      }
      space_.notify_all();
      if (last) break;
    }
    if (failure_) {
      std::exception_ptr e;
      {
        std::lock_guard lk(m_);
        e = failure_;
      }
      std::rethrow_exception(e);
    }
  }

  void work() {
    // A stream's decoding is a serial stage too (one worker at a time decodes, in order), and
    // an unprivileged thread cannot raise its priority back: those workers keep theirs.
    if (!src_.ordered()) lower_priority();
    try {
      auto zone = make_time_zone(opt_.time_zone);
      if (!zone) throw std::runtime_error(zone.error().message);
      for (;;) {
        std::unique_lock<std::mutex> src_lock(src_m_, std::defer_lock);
        if (src_.ordered()) src_lock.lock();  // streams: filled in order, one at a time
        std::unique_lock lk(m_);
        space_.wait(lk, [&] { return stop_ || next_ >= end_ || next_ < delivered_ + window_; });
        if (stop_ || next_ >= end_) return;
        const std::uint64_t k = next_++;
        Chunk& c = slots_[k % window_];
        const YearInference seed = seed_from(truth_);
        lk.unlock();
        src_.fill(k, c);
        if (c.last) {
          lk.lock();
          end_ = std::min(end_, k + 1);
          lk.unlock();
          space_.notify_all();
        }
        if (src_lock.owns_lock()) src_lock.unlock();
        parse_chunk(c, **zone, seed, opt_);
        lk.lock();
        c.ready = true;
        lk.unlock();
        ready_.notify_one();
      }
    } catch (...) {
      {
        std::lock_guard lk(m_);
        if (!failure_) failure_ = std::current_exception();
        stop_ = true;
      }
      ready_.notify_all();
      space_.notify_all();
    }
  }

  // Linux: a thread's nice value is its own. Lowering it needs no privilege; a failure (a
  // sandbox without setpriority) only costs speed.
  static void lower_priority() {
    const auto tid = static_cast<id_t>(gettid());
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(19, now + kWorkerNice));
  }

  ChunkSource& src_;
  const ReadOptions& opt_;
  unsigned workers_;
  const TimeZone& main_zone_;
  Delivery& d_;

  std::mutex src_m_;
  std::mutex m_;
  std::condition_variable space_;  // a slot was freed, or stop
  std::condition_variable ready_;  // a chunk was parsed, or a worker failed
  std::vector<Chunk> slots_;
  std::uint64_t window_ = 0;
  std::uint64_t next_ = 0, delivered_ = 0, end_ = 0;
  bool stop_ = false;
  std::exception_ptr failure_;
  YearInference truth_{0, 0};
};

// (year, month) of a UTC instant in `zone`.
std::pair<int, int> year_month_at(std::int64_t t, const TimeZone& zone) {
  std::int32_t off = zone.offset_for_local(t);
  off = zone.offset_for_local(t + off);
  const std::time_t local = static_cast<std::time_t>(t + off);
  std::tm tm{};
  if (gmtime_r(&local, &tm) == nullptr) return {1970, 1};
  return {tm.tm_year + 1900, tm.tm_mon + 1};
}

struct Opened {
  std::unique_ptr<ChunkSource> chunks;
  Compression compression = Compression::none;
  std::int64_t mtime = 0;
};

// An input as a chunk source; `fd` is owned by the caller. Plain regular files are read by
// position, everything else as a stream.
Result<Opened> open_input(const std::string& path, int& fd, std::size_t chunk) {
  Opened o;
  if (path == "-") {
    auto src = open_byte_source("-");
    if (!src) return src.error();
    o.compression = (*src)->compression();
    o.mtime = static_cast<std::int64_t>(std::time(nullptr));
    o.chunks = std::make_unique<StreamChunks>(std::move(*src), chunk);
    return o;
  }
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{path + ": cannot stat: " + std::strerror(errno)};
  if (S_ISDIR(st.st_mode)) return Error{path + ": is a directory"};
  o.mtime = static_cast<std::int64_t>(st.st_mtime);
  if (S_ISREG(st.st_mode)) {
    char magic[4] = {};
    auto got = pread_full(fd, magic, sizeof magic, 0, path);
    if (!got) return got.error();
    o.compression = detect_compression({magic, *got});
    if (o.compression == Compression::none) {
      o.chunks =
          std::make_unique<FileChunks>(fd, static_cast<std::uint64_t>(st.st_size), chunk, path);
      return o;
    }
  }
  // The byte source takes the descriptor over.
  auto src = open_byte_source(fd, path);
  fd = -1;
  if (!src) return src.error();
  o.compression = (*src)->compression();
  o.chunks = std::make_unique<StreamChunks>(std::move(*src), chunk);
  return o;
}

}  // namespace

std::vector<InputResult> read_inputs(const std::vector<std::string>& inputs, const ReadOptions& opt,
                                     const std::function<void(const Event&, Position)>& sink) {
  std::vector<InputResult> results(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    results[i].name = inputs[i] == "-" ? "stdin" : inputs[i];
  }
  auto zone = make_time_zone(opt.time_zone);
  if (!zone) {
    for (auto& r : results) r.error = zone.error().message;
    return results;
  }
  unsigned workers = opt.threads != 0 ? opt.threads : std::thread::hardware_concurrency();
  if (workers == 0) workers = 1;
  const std::size_t chunk = std::max<std::size_t>(opt.chunk_bytes, 1);

  // The bar's total: the sizes of the files; unknown (0) when stdin is one of them.
  std::vector<std::uint64_t> sizes(inputs.size());
  std::uint64_t total = 0;
  bool unknown = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    struct stat st {};
    if (inputs[i] == "-") {
      unknown = true;
    } else if (::stat(inputs[i].c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      sizes[i] = static_cast<std::uint64_t>(st.st_size);
      total += sizes[i];
    }
  }
  ProgressBar progress(opt.progress, unknown ? 0 : total);
  std::uint64_t progress_base = 0;

  for (std::size_t i = 0; i < inputs.size(); ++i) {
    InputResult& r = results[i];
    int fd = -1;
    struct FdCloser {
      int& fd;
      ~FdCloser() {
        if (fd >= 0) ::close(fd);
      }
    } closer{fd};
    auto opened = open_input(inputs[i], fd, chunk);
    if (!opened) {
      r.error = opened.error().message;
      continue;
    }
    r.compression = opened->compression;
    const auto [year, month] =
        opt.file_year_month ? *opt.file_year_month : year_month_at(opened->mtime, **zone);
    Delivery d;
    d.input = static_cast<std::uint32_t>(i);
    d.years = YearInference(year, month);
    d.result = &r;
    d.progress = &progress;
    d.progress_base = progress_base;
    d.on_progress = &opt.on_progress;
    d.sink = &sink;
    Pipeline(*opened->chunks, opt, workers, **zone, d).run();
    progress_base += sizes[i];
  }
  progress.finish();
  return results;
}

}  // namespace mw::logs
