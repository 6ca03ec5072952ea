// Who submitted each queued message: the SASL login smtpd stored in the queue file (postcat),
// else the one the logs name, following "queued as" through content filters (on Zimbra amavis
// re-injects every message under a new queue id, without sasl_username). Webmail has no SASL
// login at all: Zimbra's mailbox server submits it over SMTP from its own address after the
// user logged in to the web client, so mail a mailbox server submitted unauthenticated belongs
// to its envelope sender (as policyd's `s:` bucket counts it).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/ip.hpp"
#include "logs/event.hpp"
#include "logs/reader.hpp"
#include "queue/model.hpp"
#include "queue/tools.hpp"

namespace mw::queue {

enum class AccountSource : std::uint8_t {
  queue_file,  // sasl_username in the queue file (postcat)
  logs,        // sasl_username of the logs, followed through "queued as"
  webmail,     // submitted by a mailbox server without SASL: the envelope sender
};
std::string_view name_of(AccountSource s);

struct Attribution {
  std::string account;
  AccountSource source = AccountSource::queue_file;
};

// queue id -> the account that submitted it (only messages with a known account).
using AccountMap = std::unordered_map<std::string, Attribution>;

// Follows queue ids through the logs: "QID: client=..., sasl_username=U" gives QID to U; an
// smtp delivery to a loopback relay "queued as NEW" (a content filter's re-injection) or amavis'
// "Queue-ID: QID ... queued_as: NEW" gives NEW to QID's account. The logs' Analyzer does this
// internally but does not expose the map, hence this small copy of the rule over the events.
class QueueIdChain {
 public:
  // Mailbox servers: their unauthenticated submissions are webmail. Default: loopback, where
  // a single-server Zimbra's mailboxd submits.
  QueueIdChain();
  explicit QueueIdChain(std::vector<Prefix> mailbox_servers)
      : mailbox_servers_(std::move(mailbox_servers)) {}
  void add(const logs::Event& e);
  // Resolves links whose parent was learnt after them; then account(id) is final.
  void finish();
  const std::string* account(const std::string& queue_id) const;
  // Submitted by a mailbox server without SASL (webmail), or a re-injection of such a message.
  bool webmail(const std::string& queue_id) const { return webmail_.count(queue_id) != 0; }
  std::size_t accounts() const { return account_.size(); }
  std::size_t links() const { return links_.size(); }

 private:
  void link(std::string_view parent, std::string_view child);
  std::vector<Prefix> mailbox_servers_;
  std::unordered_map<std::string, std::string> account_;
  std::unordered_set<std::string> webmail_;
  std::vector<std::pair<std::string, std::string>> links_;  // parent, child
};

struct LogAttribution {
  QueueIdChain chain;
  std::vector<std::string> errors;  // inputs that could not be read to their end
  std::uint64_t lines = 0;
};

// Reads the logs (plain, gzip, zstd; rotated sets merged in time order) through logs' readers.
// `mailbox_servers` empty: loopback.
LogAttribution attribute_from_logs(const std::vector<std::string>& files,
                                   const logs::ReadOptions& options,
                                   std::vector<Prefix> mailbox_servers = {});

struct AccountLookup {
  AccountMap accounts;
  std::size_t looked_up = 0;         // postcat runs
  std::size_t postcat_failures = 0;  // message gone, permission denied, ...
  std::string first_error;
};

// The accounts of `messages`: postcat for each (at most `jobs` at a time), then the logs for the
// ones whose queue file names no SASL user, then webmail's envelope sender. `use_postcat`
// false: the logs only.
AccountLookup lookup_accounts(QueueTools& tools, const std::vector<const QueuedMessage*>& messages,
                              const QueueIdChain* logs, bool use_postcat, unsigned jobs);

}  // namespace mw::queue
