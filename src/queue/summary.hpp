// The queue at a glance: by status, sender, submitting account, recipient domain and age, and
// the Nagios verdict on its size and age.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "queue/accounts.hpp"
#include "queue/model.hpp"

namespace mw::queue {

struct Tally {
  std::string key;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
};

struct AgeBucket {
  std::string label;       // "<1h", "1h-6h", ...
  std::int64_t upper = 0;  // seconds; the last bucket has no upper bound (0)
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
};

struct QueueSummary {
  std::uint64_t messages = 0, bytes = 0, recipients = 0;
  std::array<Tally, kQueueNames> by_queue{};  // indexed by QueueName; key = its name
  std::vector<Tally> by_sender;               // top N, most messages first ("<>" = null sender)
  std::vector<Tally> by_account;              // top N of the messages whose account is known
  std::vector<Tally> by_domain;  // top N recipient domains; messages = recipients there
  std::size_t senders = 0, accounts = 0, domains = 0;  // distinct, before the top-N cut
  bool accounts_resolved = false;                      // an account lookup was done
  std::uint64_t account_known = 0, account_unknown = 0;
  std::uint64_t account_from_queue_file = 0, account_from_logs = 0, account_from_webmail = 0;
  std::vector<AgeBucket> by_age;
  std::int64_t oldest_age = 0;  // seconds; 0 for an empty queue
  std::string oldest_id;
  std::size_t bad_lines = 0;  // of the listing: messages that may be missing from the figures
};

// `accounts` null: no account figures. Ages are taken at `now` (seconds since the epoch).
QueueSummary summarize(const QueueListing& listing, const AccountMap* accounts, std::int64_t now,
                       std::size_t top);

// A Nagios threshold: "125" (messages), "450MB" / "2GiB" / "1000B" (bytes), "6h" / "2d" (age of
// the oldest message; units s, m, h, d, w).
struct Threshold {
  enum Kind : std::uint8_t { messages, bytes, age } kind = messages;
  std::uint64_t value = 0;
  std::string text;  // as given
};
Result<Threshold> parse_threshold(std::string_view text);

struct NagiosVerdict {
  int state = 0;                     // 0 OK, 1 WARNING, 2 CRITICAL
  std::vector<std::string> reasons;  // "1234 messages >= 125 (critical)"
};
NagiosVerdict evaluate(const QueueSummary& s, const std::vector<Threshold>& warning,
                       const std::vector<Threshold>& critical);

}  // namespace mw::queue
