// read_inputs: every input of `mailwarden logs` (plain, gzip, zstd, stdin) parsed into Events
// and handed to one sink in input order and line order. Plain files are read in chunks parsed
// in parallel; the result does not depend on the number of threads or the chunk size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "logs/event.hpp"
#include "logs/input.hpp"
#include "logs/parsers.hpp"
#include "logs/position.hpp"

namespace mw::logs {

struct ReadOptions {
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
  // The size of the chunks parsed in parallel: small enough that a chunk's events are still
  // in cache when the delivering thread reads them.
  std::size_t chunk_bytes = 1 << 20;
  std::string time_zone = "local";  // make_time_zone spec (syslog.hpp)
  TrustedProxies trusted;           // parsers.hpp
  bool progress = false;            // draw the progress bar on stderr (only on a terminal)
  // Bytes of this call's inputs read so far (file bytes: compressed ones for compressed
  // input), after each chunk, on the calling thread: for a caller's own progress display.
  std::function<void(std::uint64_t)> on_progress;
  // Runs in worker threads: which parsed events to keep (the others are only counted).
  std::function<bool(const Event&)> keep;  // empty: keep every event
  // The (year, month) RFC 3164 years are inferred from; default: the file's modification time
  // in `time_zone` (stdin: now).
  std::optional<std::pair<int, int>> file_year_month;
};

struct InputResult {
  std::string name;  // the path as given; "stdin" for "-"
  Compression compression = Compression::none;
  std::uint64_t bytes = 0;  // bytes of text read (after decompression)
  std::uint64_t lines = 0;
  UnparsedCounts counts;
  // "" when the input was read to its end; else why not (cannot open, corrupt data, the file
  // shrank while being read). Lines delivered before the problem stay delivered.
  std::string error;
};

// Reads every input in order and calls sink(event, position) for each kept event, in input
// order and line order, on the calling thread. Lines are numbered from 1 per input; a
// position's `input` is the index in `inputs`. The events' views point into buffers that stay
// valid only while the sink runs: a sink that keeps an event copies what it needs.
// A bad input does not stop the others: its InputResult says what went wrong.
std::vector<InputResult> read_inputs(const std::vector<std::string>& inputs, const ReadOptions&,
                                     const std::function<void(const Event&, Position)>& sink);

}  // namespace mw::logs
