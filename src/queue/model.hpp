// The queue as mailwarden sees it: one QueuedMessage per line of `postqueue -j`, plus what
// could not be read (a queue listing never loses a message silently).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mw::queue {

// Postfix's queues (showq(8)); `other` keeps a name a later Postfix may add.
enum class QueueName : std::uint8_t { maildrop, incoming, active, deferred, hold, corrupt, other };
inline constexpr std::size_t kQueueNames = 7;
std::string_view name_of(QueueName q);
// "deferred" -> deferred; anything unknown -> other.
QueueName queue_from_name(std::string_view name);

struct Recipient {
  std::string address;
  std::string delay_reason;  // "" when Postfix gave none
};

struct QueuedMessage {
  QueueName queue = QueueName::other;
  std::string queue_name;  // as Postfix wrote it
  std::string queue_id;
  std::int64_t arrival_time = 0;  // seconds since the epoch
  std::uint64_t size = 0;         // message_size, bytes
  bool forced_expire = false;
  std::string sender;  // "" is the null sender
  std::vector<Recipient> recipients;
};

// One line of input that is not a message: where, and why.
struct BadLine {
  std::size_t line = 0;
  std::string message;
};

struct QueueListing {
  std::vector<QueuedMessage> messages;  // in input order
  std::size_t lines = 0;                // non-empty lines read
  std::size_t bad_line_count = 0;       // every bad line
  std::vector<BadLine> bad_lines;       // the first kMaxBadLinesKept of them
  // "postqueue -j line 7: ..." for the first bad line, "" when none: for messages.
  std::string first_error() const;
};
inline constexpr std::size_t kMaxBadLinesKept = 20;

// The domain of an address ("" when there is no '@'), as written.
std::string_view domain_of(std::string_view address);
// ASCII lower case: addresses and domains compare case-insensitively (Postfix folds them too).
std::string lower(std::string_view s);

}  // namespace mw::queue
