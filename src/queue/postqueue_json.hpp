// The parser of `postqueue -j` (Postfix 3.1+): one JSON object per line, untrusted input.
// Strict per line (required fields, their types, queue ids safe to hand to postsuper), but a bad
// line never stops the rest: it is counted and named by its line number.
#pragma once

#include <cstddef>
#include <string_view>

#include "queue/model.hpp"

namespace mw::queue {

// A line longer than this is a bad line (a message with thousands of recipients and their
// delay reasons stays well below).
inline constexpr std::size_t kMaxJsonLineBytes = 16 << 20;
// Queue ids: Postfix's short (hex) and long (base-52 + 'z' + inode) forms are [0-9A-Za-z]
// and far shorter than this.
inline constexpr std::size_t kMaxQueueIdBytes = 64;

// `source` names the input in errors ("postqueue -j", a file name).
QueueListing parse_postqueue_json(std::string_view text, std::string_view source = "postqueue -j");

// True for a queue id we accept: 1..kMaxQueueIdBytes of [0-9A-Za-z]. Anything else would be
// unsafe to write to postsuper's stdin (one id per line).
bool valid_queue_id(std::string_view id);

}  // namespace mw::queue
