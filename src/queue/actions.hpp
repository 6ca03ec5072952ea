// hold / release / delete of selected messages through postsuper, in batches of ids on its
// stdin. The plan (what would be done, what is refused and why) is the dry run; execute() acts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "queue/model.hpp"
#include "queue/tools.hpp"

namespace mw::queue {

struct ActionOptions {
  Action action = Action::hold;
  bool no_hold_first = false;     // delete: allow messages that are not on hold
  std::size_t batch_size = 1000;  // ids per postsuper run
};

struct PlannedMessage {
  std::string queue_id;
  std::string queue_name;
  std::string sender;
  std::int64_t arrival_time = 0;
  std::uint64_t size = 0;
};

struct Refusal {
  PlannedMessage message;
  std::string reason;
};

struct ActionPlan {
  Action action = Action::hold;
  std::vector<PlannedMessage> act;  // what postsuper will be given
  std::uint64_t bytes = 0;          // of `act`
  std::vector<Refusal> refused;     // selected, but not acted on (delete of non-held mail)
  std::vector<Refusal> skipped;     // selected, nothing to do (hold of held mail)
  std::vector<std::string> queues;  // postsuper's queue arguments ({} = its defaults)
};

// Plans `options.action` on the selected messages (indices into listing.messages).
ActionPlan plan_action(const QueueListing& listing, const std::vector<std::size_t>& selected,
                       const ActionOptions& options);

struct ActionOutcome {
  std::size_t batches = 0, batches_failed = 0;
  std::size_t requested = 0;      // ids given to postsuper
  std::size_t affected = 0;       // as postsuper reports ("Deleted: N messages")
  std::size_t changed_since = 0;  // planned ids gone or no longer the same message: not given
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// One line per event for the audit trail (syslog and stderr in the CLI).
using ActionLog = std::function<void(const std::string&)>;

// Lists the queue again and gives postsuper only the planned ids that still name the same
// message (queue id, arrival time, sender; for delete from hold: still on hold), so that a
// queue id reused since the plan is never touched. Logs every id given to postsuper.
ActionOutcome execute(const ActionPlan& plan, QueueTools& tools, const ActionOptions& options,
                      const ActionLog& log);

// The count postsuper reports on stderr ("postsuper: Deleted: 3 messages"); 0 when none.
std::size_t parse_postsuper_count(std::string_view err);

}  // namespace mw::queue
