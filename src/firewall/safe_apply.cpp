#include "firewall/safe_apply.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "firewall/ruleset_loader.hpp"

namespace mw::fw {

namespace {

Result<Ruleset> load(const std::vector<NamedDump>& dumps) {
  Ruleset rs;
  for (const auto& d : dumps) {
    if (auto st = add_dump(rs, d.text, d.name); !st) return st.error();
  }
  return rs;
}

// Stops the watchdog of change `id`, if `pid` is still that watchdog (its command line names
// the id: a recycled pid is left alone). The watchdog re-reads the state anyway.
void stop_watchdog(int pid, const std::string& id) {
  if (pid <= 0) return;
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find(id) == std::string::npos) return;
  ::kill(pid, SIGTERM);
}

std::string rollback_detail(const PendingApply& p, std::string_view why) {
  return fmt::format("{} change applied at {} from {} ({})", p.backend, format_time(p.applied_at),
                     p.policy, why);
}

// Restores the saved state of `p` and records the outcome. The caller holds the lock.
Status roll_back(OwnedFirewall& fw, const ApplyState& state, const Clock& clock,
                 const PendingApply& p, std::string_view why) {
  auto st = fw.restore(p.saved);
  ApplyRecord r{p.id, st ? "rolled back" : "rollback failed", unix_seconds(clock.now()),
                rollback_detail(p, why)};
  if (!st) r.detail += ": " + st.error().message;
  auto rec = state.record(r);
  if (!st) return st;  // the pending entry stays: `firewall rollback` can try again
  if (auto c = state.clear_pending(); !c) return c;
  return rec;
}

}  // namespace

ApplyOutcome safe_apply(OwnedFirewall& fw, const ApplyState& state, const Clock& clock,
                        const ApplyRequest& req, const WatchdogSpawner& spawn) {
  ApplyOutcome out;
  auto fail = [&](ApplyResult r, std::string message) {
    out.result = r;
    out.error = std::move(message);
    return out;
  };

  auto lock = state.lock();
  if (!lock) return fail(ApplyResult::failed, lock.error().message);
  auto pending = state.pending();
  if (!pending) return fail(ApplyResult::failed, pending.error().message);
  if (*pending) {
    const auto& p = **pending;
    return fail(ApplyResult::refused,
                fmt::format("a {} change applied at {} is waiting for confirmation until {}: "
                            "`mailwarden firewall confirm` or `mailwarden firewall rollback` first",
                            p.backend, format_time(p.applied_at), format_time(p.deadline)));
  }

  // 1. The new owned part, checked by the kernel tool itself.
  auto candidate = fw.render(*req.plan);
  if (!candidate) return fail(ApplyResult::invalid, candidate.error().message);
  if (auto st = fw.check(*candidate); !st) {
    return fail(
        ApplyResult::invalid,
        fmt::format("the new ruleset was rejected; nothing changed.\n{}", st.error().message));
  }

  // 2. Today's and tomorrow's exposure; the SSH session must still reach sshd tomorrow.
  auto today = fw.today();
  if (!today) return fail(ApplyResult::failed, today.error().message);
  // The other backend's owned part still loaded means two policies filter: say so.
  for (const auto& d : *today) {
    if (d.name != "nft -j list ruleset") continue;
    bool nft_table = d.text.find(R"("family": "inet", "name": "mailwarden",)") != std::string::npos;
    bool ipt_chains = d.text.find(R"("name": "MAILWARDEN-INPUT")") != std::string::npos;
    if (fw.backend() == "iptables" && nft_table) {
      out.notes.push_back(
          "table inet mailwarden (the nft backend) is loaded too: both filter; "
          "remove it with `nft delete table inet mailwarden` once this is confirmed");
    } else if (fw.backend() == "nft" && ipt_chains) {
      out.notes.push_back(
          "the iptables backend's MAILWARDEN-INPUT chain is loaded too: both "
          "filter; remove its jump and chains once this is confirmed");
    }
  }
  auto tomorrow = fw.tomorrow(*today, *candidate);
  if (!tomorrow) return fail(ApplyResult::failed, tomorrow.error().message);
  auto today_rs = load(*today);
  auto tomorrow_rs = load(*tomorrow);
  if (today_rs && tomorrow_rs) {
    auto before = analyse_ports(*today_rs, req.ports, {}, nullptr);
    auto after = analyse_ports(*tomorrow_rs, req.ports, {}, nullptr);
    out.exposure_diff = exposure_diff(before, after);
  } else {
    out.notes.push_back(fmt::format("the exposure cannot be compared: {}",
                                    (today_rs ? tomorrow_rs.error() : today_rs.error()).message));
  }
  if (req.ssh) {
    if (!tomorrow_rs) {
      out.lockout =
          LockoutCheck{Outcome::uncertain, "", tomorrow_rs.error().message,
                       "tomorrow's ruleset cannot be analysed: " + tomorrow_rs.error().message};
    } else {
      out.lockout = check_ssh_reachable(*tomorrow_rs, *req.ssh, req.ssh_iface);
    }
    if (out.lockout->outcome != Outcome::accept) {
      if (!req.force) {
        return fail(ApplyResult::refused,
                    fmt::format("refusing to apply: {}; nothing changed (--force applies anyway, "
                                "with the rollback timer as the only way back)",
                                out.lockout->message));
      }
      out.notes.push_back(fmt::format("--force: {}", out.lockout->message));
    }
  } else {
    out.notes.push_back("not an SSH session (no SSH_CONNECTION): the lockout check was skipped");
  }
  if (req.dry_run) {
    out.result = ApplyResult::dry_run;
    return out;
  }

  // 3. Save what mailwarden owns, record the change and start the watchdog *before* touching
  //    the kernel: from the first changed rule on, something will put it back.
  auto saved = fw.save();
  if (!saved) return fail(ApplyResult::failed, saved.error().message);
  PendingApply p;
  p.id = new_apply_id();
  p.backend = std::string(fw.backend());
  auto now = clock.now();
  p.applied_at = unix_seconds(now);
  // Rounded up to the second: never a moment earlier than promised.
  auto deadline = now + req.confirm_within;
  p.deadline = unix_seconds(deadline) + (from_unix_seconds(unix_seconds(deadline)) < deadline);
  p.policy = req.policy_path;
  p.ssh_connection = req.ssh_connection_text;
  p.saved = std::move(*saved);
  if (auto st = state.write_pending(p); !st) return fail(ApplyResult::failed, st.error().message);
  auto pid = spawn(p);
  if (!pid) {
    (void)state.clear_pending();
    return fail(ApplyResult::failed,
                fmt::format("the rollback watchdog could not be started, so nothing was "
                            "applied: {}",
                            pid.error().message));
  }
  p.watchdog_pid = *pid;
  if (auto st = state.write_pending(p); !st) {
    stop_watchdog(p.watchdog_pid, p.id);
    (void)state.clear_pending();
    return fail(ApplyResult::failed, st.error().message);
  }

  // 4. One transaction. A failure puts the saved state back at once.
  if (auto st = fw.install(*candidate); !st) {
    auto back = roll_back(fw, state, clock, p, "installing failed");
    stop_watchdog(p.watchdog_pid, p.id);
    return fail(ApplyResult::failed,
                fmt::format("installing failed: {}\n{}", st.error().message,
                            back ? "the previous state was restored"
                                 : "RESTORING FAILED TOO: " + back.error().message));
  }
  out.result = ApplyResult::pending;
  out.pending = std::move(p);
  return out;
}

Result<PendingApply> confirm_pending(const ApplyState& state, const Clock& clock) {
  auto lock = state.lock();
  if (!lock) return lock.error();
  auto pending = state.pending();
  if (!pending) return pending.error();
  if (!*pending) {
    auto last = state.last();
    if (last && *last && (*last)->outcome != "confirmed") {
      return Error{fmt::format("nothing to confirm: change {} was {} at {}: {}", (*last)->id,
                               (*last)->outcome, format_time((*last)->at), (*last)->detail)};
    }
    return Error{"nothing is waiting for confirmation"};
  }
  PendingApply p = **pending;
  auto now = unix_seconds(clock.now());
  std::string detail = fmt::format("{} change applied at {} from {} kept", p.backend,
                                   format_time(p.applied_at), p.policy);
  if (now > p.deadline) detail += " (confirmed after the deadline; the watchdog had not run)";
  if (auto st = state.record({p.id, "confirmed", now, detail}); !st) return st.error();
  if (auto st = state.clear_pending(); !st) return st.error();
  stop_watchdog(p.watchdog_pid, p.id);
  return p;
}

Result<PendingApply> rollback_pending(OwnedFirewall& fw, const ApplyState& state,
                                      const Clock& clock, std::string_view why) {
  auto lock = state.lock();
  if (!lock) return lock.error();
  auto pending = state.pending();
  if (!pending) return pending.error();
  if (!*pending) return Error{"nothing is waiting for confirmation: nothing to roll back"};
  PendingApply p = **pending;
  if (p.backend != fw.backend()) {
    return Error{fmt::format("the pending change is {}, not {}", p.backend, fw.backend())};
  }
  if (auto st = roll_back(fw, state, clock, p, why); !st) return st.error();
  stop_watchdog(p.watchdog_pid, p.id);
  return p;
}

std::string run_watchdog(
    const std::function<std::unique_ptr<OwnedFirewall>(std::string_view)>& make_fw,
    const ApplyState& state, Clock& clock, const std::string& id) {
  for (;;) {
    std::chrono::nanoseconds wait{};
    {
      auto lock = state.lock();
      if (!lock) return "cannot lock the state: " + lock.error().message;
      auto pending = state.pending();
      if (!pending) return "cannot read the state: " + pending.error().message;
      if (!*pending || (*pending)->id != id) {
        return fmt::format("change {} is no longer pending (confirmed or rolled back)", id);
      }
      const PendingApply& p = **pending;
      auto now = clock.now();
      auto deadline = from_unix_seconds(p.deadline);
      if (now >= deadline) {
        auto fw = make_fw(p.backend);
        if (!fw) return fmt::format("unknown backend '{}' in the state", p.backend);
        auto st = roll_back(*fw, state, clock, p, "not confirmed in time");
        return st ? fmt::format("change {} not confirmed by {}: rolled back", id,
                                format_time(p.deadline))
                  : fmt::format("change {}: ROLLBACK FAILED: {}", id, st.error().message);
      }
      // Short naps: a confirm is seen within a second even if the stop signal was missed.
      wait = std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::seconds(1));
    }
    clock.sleep_for(wait);
  }
}

}  // namespace mw::fw
