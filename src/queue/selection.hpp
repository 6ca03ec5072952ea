// Which queued messages an action applies to: selectors combined with AND (within one selector,
// any of its values). There is no "select everything": at least one selector is required.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "queue/accounts.hpp"
#include "queue/model.hpp"

namespace mw::queue {

struct Selector {
  std::vector<std::string> senders;        // envelope sender, case-insensitive; "<>" = null sender
  std::vector<std::string> sasl_users;     // the submitting account (queue file, else logs)
  std::vector<std::string> queue_ids;      // exact
  std::vector<std::string> to_domains;     // some recipient in this domain (case-insensitive)
  std::vector<QueueName> queues;           // in one of these queues
  std::optional<std::int64_t> older_than;  // seconds: arrived more than this long ago

  bool empty() const {
    return senders.empty() && sasl_users.empty() && queue_ids.empty() && to_domains.empty() &&
           queues.empty() && !older_than;
  }
  bool needs_accounts() const { return !sasl_users.empty(); }
  // "--sender a@b --older-than 3600s": for logs and reports.
  std::string describe() const;
};

// Checks the selector's values (queue ids, queue names were checked when parsed): an Error
// names the first bad one. An empty selector is an error.
Status validate(const Selector& s);

// "90s", "30m", "6h", "3d", "2w", "1h30m" -> seconds, up to 10 years (core/duration with the
// queue's syntax: terms add up, weeks allowed). Errors name the text and position.
Result<std::int64_t> parse_duration(std::string_view text);
// "deferred" etc. (not "other").
Result<QueueName> parse_queue_name(std::string_view text);

// The selectors other than sasl_users, for one message at time `now`.
bool matches_envelope(const QueuedMessage& m, const Selector& s, std::int64_t now);

struct Selection {
  std::vector<std::size_t> indices;  // into QueueListing::messages, in listing order
  std::size_t unknown_account = 0;   // candidates dropped because their account is unknown
  AccountLookup lookup;              // when accounts were needed
};

// Messages matching every selector. Accounts are looked up (postcat, then `logs`) only for the
// messages the other selectors keep, and only when --sasl-user is given.
Selection select(const QueueListing& listing, const Selector& s, std::int64_t now,
                 QueueTools& tools, const QueueIdChain* logs, bool use_postcat, unsigned jobs);

}  // namespace mw::queue
