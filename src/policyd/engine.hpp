// The decision for one policy request: which buckets the message counts for (account, webmail
// sender, client, sender domain), whether the sender is the login's, and what to answer.
// Stateless: the counters live in the CounterStore, the configuration in a Policy that the
// server swaps atomically on SIGHUP.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "policyd/alerts.hpp"
#include "policyd/config.hpp"
#include "policyd/protocol.hpp"
#include "policyd/sender_login_map.hpp"
#include "policyd/store.hpp"

namespace mw::policyd {

// A loaded configuration and what it refers to (the sender login map).
struct Policy {
  Config config;
  std::optional<SenderLoginMap> logins;
};
Result<std::shared_ptr<const Policy>> load_policy(const std::filesystem::path& file);

enum class Verdict : std::uint8_t { dunno, defer, hold, reject };
std::string_view verdict_name(Verdict v);  // "dunno", "defer", "hold", "reject" (metric labels)

// Why: for the metrics and the log.
enum class Reason : std::uint8_t {
  not_counted,  // a protocol stage where nothing is counted
  no_limit,     // no limit applies (no scope configured, exempt, null sender from webmail)
  accepted,     // counted, within every limit
  duplicate,    // a repeated request: the first answer again
  over_limit,
  spoofed,
  fail_open,    // the store failed; answered DUNNO as configured
  fail_closed,  // the store failed; answered DEFER_IF_PERMIT as configured
};
std::string_view reason_name(Reason r);

struct Decision {
  Verdict verdict = Verdict::dunno;
  Reason reason = Reason::not_counted;
  std::string action;          // the reply's action text, e.g. "DEFER_IF_PERMIT 4.7.1 ..."
  std::string detail;          // one line for the log when not plain DUNNO
  std::optional<Alert> alert;  // the first refusal of a window: alert the postmaster
};

// The bucket keys a request counts for, with their windows (exceptions applied). Exposed for
// tests and `policyd status`.
std::vector<Bucket> buckets_for(const Config& config, const Request& request);

// The node identity of the de-duplication key: the configured node_id, else server_address.
Decision decide(const Policy& policy, CounterStore& store, const Request& request,
                std::int64_t now);

}  // namespace mw::policyd
