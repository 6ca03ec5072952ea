// LiveReader: the reading half of `mailwarden logs watch`. It follows the files (Follower),
// parses their new lines and hands the wanted events over in batches, on a thread of its own,
// so that reading and parsing one batch overlaps with the analysis (and the bans) of the
// previous one. Batches come out in the order they were read; each file's lines in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "logs/event.hpp"
#include "logs/follow.hpp"
#include "logs/parse_line.hpp"

namespace mw::logs {

struct LiveBatch {
  std::size_t input = 0;                    // index of the file in the reader's paths
  LineBatch lines;                          // owns the text the events point into
  std::vector<Event> events;                // the kept events, in line order
  std::vector<std::uint64_t> line_numbers;  // each event's line number in its file (from 1)
  std::uint64_t lines_read = 0;             // every line of the batch, kept or not
  bool has_time = false;
  Timestamp latest;  // the latest time among all the batch's lines
  // A marker, not lines: a round over every file found nothing new and no file behind. Every
  // batch read before it has come out before it.
  bool drained = false;
};

class LiveReader {
 public:
  struct Options {
    bool from_start = false;  // the files' current lines too (else only what is written next)
    // The longest wait between two looks at the files; a write (seen through inotify on
    // their directories) wakes the reader at once.
    std::chrono::duration<double> interval{0.5};
    std::size_t batch_bytes = 1 << 20;       // at most this much text per batch
    std::size_t max_batches = 4;             // batches read ahead of the consumer, at most
    std::function<bool(const Event&)> keep;  // empty: keep every event
  };

  // `contexts[i]` parses `paths[i]`; the reader owns them from now on.
  LiveReader(std::vector<std::string> paths, std::vector<std::unique_ptr<ParseContext>> contexts,
             Options options);
  ~LiveReader();  // stops the thread (waking it) and joins it
  LiveReader(const LiveReader&) = delete;
  LiveReader& operator=(const LiveReader&) = delete;

  // The next batch, waiting at most `timeout`; nullptr when none came. Rethrows what the
  // reading thread threw.
  std::unique_ptr<LiveBatch> next(std::chrono::duration<double> timeout);
  // Gives a batch back for reuse (its buffers keep their capacity).
  void recycle(std::unique_ptr<LiveBatch> batch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw::logs
