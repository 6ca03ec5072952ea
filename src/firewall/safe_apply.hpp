// `firewall apply`, `confirm`, `rollback` and the rollback watchdog: the order of operations
// that makes applying a firewall over SSH safe. Kernel work goes through OwnedFirewall, time
// through Clock, the detached watchdog is started by a callback: all three are injected, so
// unit tests run the whole flow on fakes and e2e tests on the real kernel.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "firewall/analysis.hpp"
#include "firewall/apply.hpp"
#include "firewall/apply_state.hpp"
#include "firewall/owned_firewall.hpp"

namespace mw::fw {

struct ApplyRequest {
  const FirewallPlan* plan = nullptr;
  std::string policy_path;               // for the record
  std::vector<PortQuery> ports;          // the exposure diff's ports
  std::optional<SshConnection> ssh;      // the session applying, if over SSH
  std::string ssh_connection_text;       // as found in the environment
  std::optional<std::string> ssh_iface;  // the interface holding ssh->server, if known
  std::chrono::seconds confirm_within{60};
  bool force = false;    // apply even when the SSH session would be locked out
  bool dry_run = false;  // check and print the exposure diff only
};

enum class ApplyResult : std::uint8_t {
  dry_run,  // checked, nothing changed
  pending,  // applied; rolls back unless confirmed by the deadline
  refused,  // the lockout check failed (nothing changed)
  invalid,  // the kernel tool rejected the new ruleset (nothing changed)
  failed,   // installing failed; the saved state was put back
};

struct ApplyOutcome {
  ApplyResult result = ApplyResult::invalid;
  std::string exposure_diff;  // today -> tomorrow, "" when nothing changes
  std::optional<LockoutCheck> lockout;
  std::optional<PendingApply> pending;
  std::vector<std::string> notes;  // for the operator, in order
  std::string error;               // for invalid / failed / refused
};

// Starts the detached rollback watchdog for `id`; returns its pid.
using WatchdogSpawner = std::function<Result<int>(const PendingApply&)>;

ApplyOutcome safe_apply(OwnedFirewall& fw, const ApplyState& state, const Clock& clock,
                        const ApplyRequest& request, const WatchdogSpawner& spawn);

// Keeps the pending change. An Error when nothing is pending (then the message says whether
// the last change was rolled back, and when).
Result<PendingApply> confirm_pending(const ApplyState& state, const Clock& clock);

// Rolls back the pending change now (`firewall rollback`, or the prompt's "no").
Result<PendingApply> rollback_pending(OwnedFirewall& fw, const ApplyState& state,
                                      const Clock& clock, std::string_view why);

// The detached watchdog's life: waits for the deadline of change `id`, re-reading the state
// (a confirm removes it), then rolls back. Returns what it did, for its log.
std::string run_watchdog(const std::function<std::unique_ptr<OwnedFirewall>(std::string_view)>& fw,
                         const ApplyState& state, Clock& clock, const std::string& id);

}  // namespace mw::fw
