// Several logs at once (zimbra.log, audit.log, mailbox.log; each perhaps a rotated set) are
// one history: their events reach the analysis merged in time order, so that a spray seen
// partly in audit.log and partly in zimbra.log is one spray and the same login in audit.log and
// mailbox.log meets itself. Each set is read by read_inputs on its own thread (a rotated set is
// already in time order: its files are concatenated); the merge takes the earliest head.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "logs/reader.hpp"

namespace mw::logs {

struct MergedInputs {
  // Every input in the order positions number them: set after set, each set oldest first.
  std::vector<std::string> order;
  std::vector<InputResult> results;  // one per input, in `order`
};

// Groups `inputs` into rotated sets (rotated_sets), reads each set in order, and calls sink for
// every kept event in time order across sets (ties: the set named first). Events without a
// time keep their place within their set. One set is read without any copying.
MergedInputs read_merged(const std::vector<std::string>& inputs, const ReadOptions& options,
                         const std::function<void(const Event&, Position)>& sink);

}  // namespace mw::logs
