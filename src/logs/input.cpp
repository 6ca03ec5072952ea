// Inputs: compression sniffing, rotated-set order, and the decoders behind ByteSource.
#include "logs/input.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

namespace mw::logs {

std::string_view name_of(Compression c) {
  switch (c) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::zstd:
      return "zstd";
  }
  return "none";
}

Compression detect_compression(std::string_view b) {
  if (b.size() >= 2 && b[0] == '\x1f' && b[1] == '\x8b') return Compression::gzip;
  if (b.size() >= 4 && b.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) {
    return Compression::zstd;
  }
  return Compression::none;
}

// --- order_inputs ---------------------------------------------------------------------------

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Where a file sits in its rotated set. Smaller sorts first (older).
struct Rotation {
  std::string base;          // the live file's path: the set's key
  int kind = 2;              // 0: dated, 1: numbered, 2: the live file
  std::uint64_t number = 0;  // the date (dated) or N (numbered)
};

Rotation rotation_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::size_t name_at = slash == std::string::npos ? 0 : slash + 1;
  std::string_view p = path;
  for (std::string_view ext : {".gz", ".zst"}) {
    if (p.size() > name_at + ext.size() && p.substr(p.size() - ext.size()) == ext) {
      p.remove_suffix(ext.size());
      break;
    }
  }
  // "B.N": N up to 9 digits (logrotate's rotate count), B not empty.
  const auto dot = p.rfind('.');
  if (dot != std::string_view::npos && dot > name_at) {
    const auto n = p.substr(dot + 1);
    if (all_digits(n) && n.size() <= 9) {
      return {std::string(p.substr(0, dot)), 1, std::stoull(std::string(n))};
    }
  }
  // "B-YYYYMMDD" or "B-YYYYMMDDHH" (dateext with an hourly dateformat).
  const auto dash = p.rfind('-');
  if (dash != std::string_view::npos && dash > name_at) {
    const auto d = p.substr(dash + 1);
    if (all_digits(d) && (d.size() == 8 || d.size() == 10)) {
      std::uint64_t v = std::stoull(std::string(d));
      if (d.size() == 8) v *= 100;  // compare daily and hourly dates on one scale
      return {std::string(p.substr(0, dash)), 0, v};
    }
  }
  return {path, 2, 0};
}

}  // namespace

std::vector<std::string> order_inputs(std::vector<std::string> paths) {
  struct Item {
    std::size_t set;  // index of the set in order of first appearance
    Rotation rot;
    std::size_t given;  // position in the user's list, the last tie-break
  };
  std::vector<Item> items;
  items.reserve(paths.size());
  std::unordered_map<std::string, std::size_t> set_of;
  std::size_t sets = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (paths[i] == "-") {
      // stdin is a set of its own, at its place.
      items.push_back({sets++, {"-", 2, 0}, i});
      continue;
    }
    Rotation r = rotation_of(paths[i]);
    auto [it, inserted] = set_of.try_emplace(r.base, sets);
    if (inserted) ++sets;
    items.push_back({it->second, std::move(r), i});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.set != b.set) return a.set < b.set;
    if (a.rot.kind != b.rot.kind) return a.rot.kind < b.rot.kind;
    if (a.rot.kind == 1) return a.rot.number > b.rot.number;  // B.3 is older than B.1
    return a.rot.number < b.rot.number;
  });
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& it : items) out.push_back(std::move(paths[it.given]));
  return out;
}

std::vector<std::vector<std::string>> rotated_sets(std::vector<std::string> paths) {
  std::vector<std::vector<std::string>> sets;
  std::string last_base;
  for (auto& p : order_inputs(std::move(paths))) {
    std::string base = p == "-" ? std::string() : rotation_of(p).base;
    // order_inputs keeps each set together: a new base (or stdin) starts a new set.
    if (sets.empty() || p == "-" || base != last_base || sets.back().front() == "-") {
      sets.emplace_back();
    }
    last_base = std::move(base);
    sets.back().push_back(std::move(p));
  }
  return sets;
}

// --- byte sources ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kInputBuffer = 256 * 1024;

// Buffered read(2) of one descriptor, with bytes already read (the sniffed magic) in front.
class FdInput {
 public:
  FdInput(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {
    buf_.resize(kInputBuffer);
  }
  ~FdInput() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  FdInput(const FdInput&) = delete;
  FdInput& operator=(const FdInput&) = delete;

  const std::string& name() const { return name_; }
  // Unread bytes in the buffer.
  const char* data() const { return buf_.data() + pos_; }
  std::size_t available() const { return len_ - pos_; }
  void consume(std::size_t n) { pos_ += n; }
  bool eof() const { return eof_; }
  // Offset in the file of the first unread byte.
  std::uint64_t offset() const { return read_total_ - (len_ - pos_); }
  std::uint64_t read_total() const { return read_total_; }

  // Moves unread bytes to the front and reads more after them; false on a read error.
  Status refill() {
    if (eof_) return {};
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
      len_ -= pos_;
      pos_ = 0;
    }
    if (len_ == buf_.size()) return {};
    for (;;) {
      const ssize_t n = ::read(fd_, buf_.data() + len_, buf_.size() - len_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Error{name_ + ": read error at byte " + std::to_string(read_total_) + ": " +
                     std::strerror(errno)};
      }
      if (n == 0) eof_ = true;
      len_ += static_cast<std::size_t>(n);
      read_total_ += static_cast<std::uint64_t>(n);
      return {};
    }
  }

 private:
  int fd_;
  bool owned_;
  std::string name_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t read_total_ = 0;
  bool eof_ = false;
};

class PlainSource final : public ByteSource {
 public:
  explicit PlainSource(std::unique_ptr<FdInput> in) : in_(std::move(in)) {}
  Result<std::size_t> read(char* out, std::size_t n) override {
    if (in_->available() == 0) {
      if (auto st = in_->refill(); !st) return st.error();
    }
    const std::size_t k = std::min(n, in_->available());
    std::memcpy(out, in_->data(), k);
    in_->consume(k);
    return k;
  }
  std::uint64_t consumed() const override { return in_->offset(); }
  Compression compression() const override { return Compression::none; }

 private:
  std::unique_ptr<FdInput> in_;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<FdInput> in) : in_(std::move(in)) {
    zs_.zalloc = Z_NULL;
    zs_.zfree = Z_NULL;
    zs_.opaque = Z_NULL;
    // 16 + MAX_WBITS: a gzip header and trailer, not zlib's.
    init_ok_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipSource() override {
    if (init_ok_) inflateEnd(&zs_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Result<std::size_t> read(char* out, std::size_t n) override {
    if (error_) return *error_;
    if (!init_ok_) return Error{in_->name() + ": cannot initialise the gzip decoder"};
    std::size_t produced = 0;
    while (produced == 0 && n > 0) {
      if (in_->available() < 2 && !in_->eof()) {
        if (auto st = in_->refill(); !st) return fail(produced, st.error());
        continue;
      }
      if (member_done_) {
        if (in_->available() == 0) return produced;  // the end of the last member
        if (in_->available() < 2 || detect_compression({in_->data(), 2}) != Compression::gzip) {
          return fail(produced,
                      Error{in_->name() + ": data after the last gzip member at byte " +
                            std::to_string(in_->offset()) + " is not gzip; it was not read"});
        }
        inflateReset(&zs_);  // the next member of a concatenation
        member_done_ = false;
      }
      const std::size_t avail = in_->available();
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_->data()));
      zs_.avail_in = static_cast<uInt>(std::min<std::size_t>(avail, 1u << 30));
      zs_.next_out = reinterpret_cast<Bytef*>(out + produced);
      zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - produced, 1u << 30));
      const uInt in_before = zs_.avail_in;
      const uInt out_before = zs_.avail_out;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      in_->consume(in_before - zs_.avail_in);
      produced += out_before - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc == Z_BUF_ERROR ||
                 (rc == Z_OK && in_before == zs_.avail_in && out_before == zs_.avail_out)) {
        // No progress: the input ran out inside a member.
        if (in_->eof() && in_->available() == 0) {
          return fail(produced,
                      Error{in_->name() + ": truncated gzip data: the file ends at byte " +
                            std::to_string(in_->offset()) + " inside a gzip member"});
        }
        if (auto st = in_->refill(); !st) return fail(produced, st.error());
      } else if (rc != Z_OK) {
        return fail(produced, Error{in_->name() + ": corrupt gzip data at byte " +
                                    std::to_string(in_->offset()) + ": " +
                                    (zs_.msg != nullptr ? zs_.msg : "inflate error")});
      }
    }
    return produced;
  }
  std::uint64_t consumed() const override { return in_->offset(); }
  Compression compression() const override { return Compression::gzip; }

 private:
  // The bytes decoded before the damage go out first; the error comes with the next call.
  Result<std::size_t> fail(std::size_t produced, Error e) {
    error_ = std::move(e);
    if (produced > 0) return produced;
    return *error_;
  }

  std::unique_ptr<FdInput> in_;
  z_stream zs_{};
  bool init_ok_ = false;
  bool member_done_ = false;
  std::optional<Error> error_;
};

class ZstdSource final : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<FdInput> in)
      : in_(std::move(in)), ds_(ZSTD_createDStream()) {}
  ~ZstdSource() override { ZSTD_freeDStream(ds_); }
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  Result<std::size_t> read(char* out, std::size_t n) override {
    if (error_) return *error_;
    if (ds_ == nullptr) return Error{in_->name() + ": cannot initialise the zstd decoder"};
    ZSTD_outBuffer ob{out, n, 0};
    while (ob.pos == 0 && n > 0) {
      if (in_->available() == 0 && !in_->eof()) {
        if (auto st = in_->refill(); !st) return fail(ob.pos, st.error());
        continue;
      }
      const bool input_done = in_->available() == 0;     // and at the end of the file
      if (input_done && last_hint_ == 0) return ob.pos;  // every frame complete
      ZSTD_inBuffer ib{in_->data(), in_->available(), 0};
      const std::size_t rc = ZSTD_decompressStream(ds_, &ob, &ib);
      in_->consume(ib.pos);
      if (ZSTD_isError(rc)) {
        return fail(ob.pos, Error{in_->name() + ": corrupt zstd data at byte " +
                                  std::to_string(in_->offset()) + ": " + ZSTD_getErrorName(rc)});
      }
      last_hint_ = rc;
      if (input_done && ob.pos == 0 && rc != 0) {
        // Nothing more to flush and the frame is not complete.
        return fail(0, Error{in_->name() + ": truncated zstd data: the file ends at byte " +
                             std::to_string(in_->offset()) + " inside a zstd frame"});
      }
    }
    return ob.pos;
  }
  std::uint64_t consumed() const override { return in_->offset(); }
  Compression compression() const override { return Compression::zstd; }

 private:
  Result<std::size_t> fail(std::size_t produced, Error e) {
    error_ = std::move(e);
    if (produced > 0) return produced;
    return *error_;
  }

  std::unique_ptr<FdInput> in_;
  ZSTD_DStream* ds_;
  std::size_t last_hint_ = 0;  // ZSTD_decompressStream's last answer: 0 when a frame ended
  std::optional<Error> error_;
};

Result<std::unique_ptr<ByteSource>> make_source(int fd, bool owned, std::string name) {
  auto in = std::make_unique<FdInput>(fd, owned, std::move(name));
  // Sniff: read until 4 bytes are buffered or the input ends (a pipe may give fewer at once).
  while (in->available() < 4 && !in->eof()) {
    if (auto st = in->refill(); !st) return st.error();
  }
  switch (detect_compression({in->data(), in->available()})) {
    case Compression::gzip:
      return std::unique_ptr<ByteSource>(std::make_unique<GzipSource>(std::move(in)));
    case Compression::zstd:
      return std::unique_ptr<ByteSource>(std::make_unique<ZstdSource>(std::move(in)));
    case Compression::none:
      break;
  }
  return std::unique_ptr<ByteSource>(std::make_unique<PlainSource>(std::move(in)));
}

}  // namespace

Result<std::unique_ptr<ByteSource>> open_byte_source(int fd, std::string name) {
  return make_source(fd, true, std::move(name));
}

Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path) {
  if (path == "-") return make_source(STDIN_FILENO, false, "stdin");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{path + ": is a directory"};
  }
  return make_source(fd, true, path);
}

}  // namespace mw::logs
