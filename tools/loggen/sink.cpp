// The pending-line window and the buffered, atomically renamed log files.
#include "sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "civil.hpp"

namespace loggen {

namespace {

constexpr std::size_t kWriteBlock = 8u << 20;
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string tmp_path(const std::string& dir, const std::string& name) {
  return dir + "/." + name + ".tmp";
}

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

void write_all(int fd, const std::string& data, const std::string& path) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const auto n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("cannot write", path);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

LogSink::LogSink(std::string dir, const std::array<std::string, kStreams>& names,
                 std::int64_t start_ms, std::int64_t end_ms)
    : dir_(std::move(dir)), names_(names), start_ms_(start_ms), end_ms_(end_ms) {
  by_day_.assign(static_cast<std::size_t>((end_ms - start_ms + kDay - 1) / kDay), 0);
  for (std::size_t i = 0; i < kStreams; ++i) {
    figs_[i].name = names_[i];
    if (dir_.empty() || names_[i].empty()) continue;
    const auto path = tmp_path(dir_, names_[i]);
    fds_[i] = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fds_[i] < 0) io_error("cannot create", path);
  }
}

LogSink::~LogSink() {
  // An unfinished run (an error) leaves no half-written file behind under the final name.
  for (std::size_t i = 0; i < kStreams; ++i) {
    if (fds_[i] < 0) continue;
    ::close(fds_[i]);
    if (!finished_) std::remove(tmp_path(dir_, names_[i]).c_str());
  }
}

const std::string& LogSink::prefix(Stream s, std::int64_t ms) {
  if (s == Stream::syslog) {
    const auto sec = ms >= 0 ? ms / kSecond : (ms - kSecond + 1) / kSecond;
    if (sec != syslog_sec_) {
      syslog_sec_ = sec;
      const auto c = civil_from_ms(sec * kSecond);
      // RFC 3164: "Nov  3 09:15:02": the day is padded with a space, the year is absent.
      syslog_prefix_ = fmt::format("{} {:>2} {:02}:{:02}:{:02} mail ", kMonths[c.month - 1], c.day,
                                   c.hour, c.minute, c.second);
    }
    return syslog_prefix_;
  }
  if (ms != log4j_ms_) {
    log4j_ms_ = ms;
    const auto c = civil_from_ms(ms);
    log4j_prefix_ = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} ", c.year, c.month,
                                c.day, c.hour, c.minute, c.second, c.milli);
  }
  return log4j_prefix_;
}

void LogSink::write_line(const Rec& r) {
  const auto i = static_cast<std::size_t>(r.stream);
  auto& out = out_[i];
  const auto before = out.size();
  out += prefix(r.stream, r.ms);
  out.append(arena_, r.off, r.len);
  out += '\n';
  const auto n = out.size() - before;
  figs_[i].bytes += n;
  figs_[i].lines += 1;
  const auto day = static_cast<std::size_t>((r.ms - start_ms_) / kDay);
  if (day < by_day_.size()) by_day_[day] += n;
  if (out.size() >= kWriteBlock) drain(r.stream);
}

void LogSink::late_line(std::int64_t ms) const {
  throw std::logic_error(
      fmt::format("generator bug: a line at {} ms comes after lines up to {} ms "
                  "were written",
                  ms, floor_));
}

void LogSink::drain(Stream s) {
  const auto i = static_cast<std::size_t>(s);
  if (fds_[i] >= 0) write_all(fds_[i], out_[i], tmp_path(dir_, names_[i]));
  out_[i].clear();
}

void LogSink::flush_before(std::int64_t ms) {
  if (ms > end_ms_) ms = end_ms_;
  floor_ = std::max(floor_, ms);
  auto mid = std::partition(recs_.begin(), recs_.end(), [ms](const Rec& r) { return r.ms < ms; });
  std::sort(recs_.begin(), mid,
            [](const Rec& a, const Rec& b) { return a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq; });
  for (auto it = recs_.begin(); it != mid; ++it) {
    if (it->ms >= start_ms_) write_line(*it);
  }
  // Keep the later lines, in a fresh arena so that it does not grow without bound.
  std::string kept;
  std::vector<Rec> rest;
  rest.reserve(static_cast<std::size_t>(recs_.end() - mid));
  for (auto it = mid; it != recs_.end(); ++it) {
    Rec r = *it;
    const auto off = kept.size();
    kept.append(arena_, r.off, r.len);
    r.off = off;
    rest.push_back(r);
  }
  arena_.swap(kept);
  recs_.swap(rest);
}

void LogSink::finish() {
  flush_before(end_ms_);
  recs_.clear();
  arena_.clear();
  for (std::size_t i = 0; i < kStreams; ++i) {
    drain(static_cast<Stream>(i));
    if (fds_[i] < 0) continue;
    const auto tmp = tmp_path(dir_, names_[i]);
    if (::fsync(fds_[i]) != 0) io_error("cannot sync", tmp);
    if (::close(fds_[i]) != 0) {
      fds_[i] = -1;
      io_error("cannot close", tmp);
    }
    fds_[i] = -1;
    const auto final_path = dir_ + "/" + names_[i];
    if (std::rename(tmp.c_str(), final_path.c_str()) != 0) io_error("cannot rename to", final_path);
  }
  finished_ = true;
}

std::array<StreamFigures, kStreams> LogSink::figures() const {
  return figs_;
}

std::uint64_t LogSink::total_bytes() const {
  std::uint64_t n = 0;
  for (const auto& f : figs_) n += f.bytes;
  return n;
}

}  // namespace loggen
