// Where generated lines go: a short window of pending lines (the current minute and a few
// seconds beyond), written in time order to large buffers and from there to the log files.
// The generator never holds more than that window, so memory stays bounded for any size.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace loggen {

// The files of one run: the syslog file (zimbra.log / mail.log) and Zimbra's two log4j files.
enum class Stream : std::uint8_t { syslog, audit, mailbox };
inline constexpr std::size_t kStreams = 3;

struct StreamFigures {
  std::string name;  // file name, empty when the flavor has no such file
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;
};

class LogSink {
 public:
  // An empty `dir` is a dry run: lines are counted, nothing is written. Files are written as
  // "DIR/.NAME.tmp" and renamed when finish() succeeds. Throws std::runtime_error naming the
  // file on any I/O error.
  LogSink(std::string dir, const std::array<std::string, kStreams>& names, std::int64_t start_ms,
          std::int64_t end_ms);
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  // One line's text after its envelope: for the syslog stream "tag[pid]: message" (the sink
  // adds "Nov 23 09:15:02 mail "), for the log4j streams "LEVEL [thread] [ctx] cat - msg" (the
  // sink adds "2026-11-23 09:15:02,123 "). Lines at the same millisecond keep their order.
  template <typename... T>
  void add(Stream s, std::int64_t ms, fmt::format_string<T...> f, T&&... args) {
    // A line before what was already written would land out of order in the file.
    if (ms < floor_) late_line(ms);
    const auto off = arena_.size();
    fmt::format_to(std::back_inserter(arena_), f, std::forward<T>(args)...);
    recs_.push_back(Rec{ms, seq_++, off, static_cast<std::uint32_t>(arena_.size() - off), s});
  }

  // Writes every pending line earlier than `ms`. The caller promises that no line earlier
  // than `ms` will be added afterwards.
  void flush_before(std::int64_t ms);
  // Writes what is left before the end of the period, drops later lines, closes and renames.
  void finish();

  std::array<StreamFigures, kStreams> figures() const;
  std::uint64_t total_bytes() const;
  // Bytes written per day of the period (for --target-bytes estimates).
  const std::vector<std::uint64_t>& bytes_by_day() const { return by_day_; }

 private:
  struct Rec {
    std::int64_t ms;
    std::uint64_t seq;
    std::size_t off;
    std::uint32_t len;
    Stream stream;
  };
  [[noreturn]] void late_line(std::int64_t ms) const;
  void write_line(const Rec& r);
  void drain(Stream s);
  const std::string& prefix(Stream s, std::int64_t ms);

  std::string dir_;
  std::array<std::string, kStreams> names_;
  std::array<int, kStreams> fds_{-1, -1, -1};
  std::array<std::string, kStreams> out_;
  std::array<StreamFigures, kStreams> figs_;
  std::int64_t start_ms_, end_ms_;
  std::vector<Rec> recs_;
  std::string arena_;
  std::uint64_t seq_ = 0;
  std::int64_t floor_ = INT64_MIN;  // everything before this is written
  std::vector<std::uint64_t> by_day_;
  // The envelope of the last second (syslog) and millisecond (log4j) written.
  std::int64_t syslog_sec_ = INT64_MIN, log4j_ms_ = INT64_MIN;
  std::string syslog_prefix_, log4j_prefix_;
  bool finished_ = false;
};

}  // namespace loggen
