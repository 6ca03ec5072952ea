// The state directory of `firewall apply`: the change waiting for confirmation (what was
// applied, what to restore, when to roll back), the outcome of the last one, and a lock that
// serialises apply, confirm and the rollback watchdog. Default /run/mailwarden: a reboot clears
// both the kernel's rules and this state, so a pending entry never outlives the rules it guards.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace mw::fw {

inline constexpr const char* kDefaultStateDir = "/run/mailwarden";

struct PendingApply {
  std::string id;               // random, names the watchdog and the change
  std::string backend;          // "nft" or "iptables"
  std::int64_t applied_at = 0;  // Unix seconds
  std::int64_t deadline = 0;    // Unix seconds: roll back unless confirmed before
  std::string policy;           // the policy file, for messages
  std::string ssh_connection;   // $SSH_CONNECTION of the session that applied, or ""
  int watchdog_pid = 0;
  // What mailwarden owned before, as the backend saved it (OwnedFirewall::save).
  std::string saved;
  friend bool operator==(const PendingApply&, const PendingApply&) = default;
};

struct ApplyRecord {
  std::string id;
  std::string outcome;  // "confirmed", "rolled back", "rollback failed"
  std::int64_t at = 0;
  std::string detail;
};

class ApplyState {
 public:
  // Creates the directory (mode 0700) if needed.
  static Result<ApplyState> open(const std::filesystem::path& dir);

  // Held while reading and changing the state: apply, confirm and the watchdog take it.
  class Lock {
   public:
    explicit Lock(UniqueFd fd) : fd_(std::move(fd)) {}

   private:
    UniqueFd fd_;
  };
  Result<Lock> lock() const;

  Result<std::optional<PendingApply>> pending() const;
  Status write_pending(const PendingApply& p) const;
  Status clear_pending() const;

  // The last outcome (also appended to history.log, one JSON object per line).
  Status record(const ApplyRecord& r) const;
  Result<std::optional<ApplyRecord>> last() const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  explicit ApplyState(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

std::int64_t unix_seconds(Clock::time_point t);
Clock::time_point from_unix_seconds(std::int64_t s);
// "2026-11-28 22:41:07 UTC"
std::string format_time(std::int64_t unix_seconds);
// A fresh random id (16 hex digits).
std::string new_apply_id();

}  // namespace mw::fw
