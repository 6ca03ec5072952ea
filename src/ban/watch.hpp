// `logs watch --ban`: turns the findings of the live log analysis into kernel bans through the
// BanEngine, with a per-detector choice of what bans, a token-bucket rate limit, a dry-run
// mode, de-duplication while a ban lasts, and the counters served as Prometheus text.
// Engines never print: the driver returns what it did as values; the CLI prints them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ban/ban.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "logs/analysis.hpp"

namespace mw::ban {

// Which detectors' findings ban their source addresses. Data, not code: the defaults are the
// table kDefaultBanningDetectors, and --ban-detectors replaces it.
struct BanSelection {
  std::array<bool, logs::kDetectors> bans{};
  bool operator[](logs::Detector d) const { return bans[static_cast<std::size_t>(d)]; }
  static BanSelection defaults();
  // "brute_force,password_spray" (names of catalog/detectors.toml; "none" = nothing bans).
  static Result<BanSelection> parse(std::string_view list);
  std::string to_string() const;  // "brute_force,password_spray,compromised_login"
};

// Attack detectors whose sources are attackers. compromised_login bans the new address that
// logged in after the failures (its source_ips); the others (impossible travel, outbound
// burst, bounce ratio, baseline, relay, queue flood) describe an account or a sender, and the
// address behind them is often the real user's or a trusted relay: they only alert.
inline constexpr std::array<logs::Detector, 3> kDefaultBanningDetectors = {
    logs::Detector::brute_force, logs::Detector::password_spray, logs::Detector::compromised_login};

struct WatchBanOptions {
  BanSelection detectors = BanSelection::defaults();
  std::uint32_t bans_per_minute = 30;  // the token bucket's size and refill per minute
  bool dry_run = false;
  std::optional<Seconds> duration;  // --ban-for; otherwise the recidive steps
  // How long an address whose ban failed (nft error) is left alone before a new finding may
  // try again: errors are counted, never retried in a tight loop.
  Seconds error_backoff{60};
  // How long an address already inside a wider ban is left alone.
  Seconds covered_backoff{300};
  std::size_t max_remembered = 100000;  // bound on the de-duplication table
};

// Counters of one watcher. Relaxed atomics: the metrics endpoint reads them from its own
// thread while the watch loop updates them.
class WatchMetrics {
 public:
  void line_read(std::uint64_t n = 1) { lines_.fetch_add(n, std::memory_order_relaxed); }
  void finding(logs::Detector d) { at(findings_, d).fetch_add(1, std::memory_order_relaxed); }
  void ban_added(logs::Detector d) { at(added_, d).fetch_add(1, std::memory_order_relaxed); }
  void refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  void rate_limited() { rate_limited_.fetch_add(1, std::memory_order_relaxed); }
  void error() { errors_.fetch_add(1, std::memory_order_relaxed); }
  void set_active(std::uint64_t n) { active_.store(n, std::memory_order_relaxed); }

  std::uint64_t lines() const { return lines_.load(std::memory_order_relaxed); }
  std::uint64_t added(logs::Detector d) const {
    return added_[static_cast<std::size_t>(d)].load(std::memory_order_relaxed);
  }
  std::uint64_t refused_count() const { return refused_.load(std::memory_order_relaxed); }
  std::uint64_t rate_limited_count() const { return rate_limited_.load(std::memory_order_relaxed); }
  std::uint64_t error_count() const { return errors_.load(std::memory_order_relaxed); }
  std::uint64_t active() const { return active_.load(std::memory_order_relaxed); }

  // Prometheus text exposition format 0.0.4; names start with mailwarden_.
  std::string render() const;

 private:
  using Counter = std::atomic<std::uint64_t>;
  static Counter& at(std::array<Counter, logs::kDetectors>& a, logs::Detector d) {
    return a[static_cast<std::size_t>(d)];
  }
  Counter lines_{0}, refused_{0}, rate_limited_{0}, errors_{0}, active_{0};
  std::array<Counter, logs::kDetectors> findings_{}, added_{};
};

// What the driver did with one address of one finding.
struct BanAction {
  enum class Kind {
    banned,        // in the kernel now
    would_ban,     // dry run
    covered,       // inside a wider active ban
    refused,       // the allow-list (reported once per address)
    rate_limited,  // over --ban-rate: dropped, not queued
    error,         // nft or the state file failed
    invalid,       // the finding's address could not be read
  };
  Kind kind = Kind::banned;
  logs::Detector detector = logs::Detector::brute_force;
  std::string address;  // as in the finding
  Prefix prefix;        // what is (or would be) banned
  std::string account;
  Seconds duration{0};
  std::uint64_t offence = 0;
  std::string message;  // refused / covered / error detail
};
std::string_view kind_name(BanAction::Kind k);
// One line for people: "banned 198.51.100.10/32 for 1h (brute_force, account a@b, offence 1)".
std::string describe(const BanAction& a, std::uint32_t bans_per_minute);

// At most `per_minute` tokens; one token comes back every 60s / per_minute. Time from a Clock.
class TokenBucket {
 public:
  TokenBucket(std::uint32_t per_minute, const Clock& clock);
  bool take();

 private:
  double capacity_, tokens_;
  const Clock& clock_;
  Clock::time_point last_;
};

class BanDriver {
 public:
  BanDriver(BanEngine& engine, AllowList allow, Clock& clock, WatchBanOptions options,
            WatchMetrics& metrics);

  // The bans for one finding (as take_alerts() gives it): one request per source address,
  // reason = the detector's name, account = the attacked account. Addresses already handled
  // (banned and not yet expired, refused, in error backoff) give no action.
  std::vector<BanAction> on_finding(const logs::Finding& f);
  // The same for several findings at once, with every ban among them written in one kernel
  // transaction (BanEngine::add_all): what the watch loop uses when findings come in bursts.
  std::vector<BanAction> on_findings(const std::vector<logs::Finding>& findings);

  // Forgets expired entries and updates the bans_active gauge; the watch loop calls it now
  // and then (on_finding calls it too).
  void tick();
  std::size_t active() const;  // addresses banned by this watcher whose ban has not ended

  const AllowList& allow_list() const { return allow_; }

 private:
  struct Remembered {
    BanAction::Kind kind;
    Clock::time_point until;  // time_point::max() for refused
  };
  // The checks before the engine (address, allow-list, rate limit): a request, or nothing
  // with `a` saying why.
  std::optional<BanRequest> prepare(const logs::Finding& f, const std::string& address,
                                    BanAction& a);
  void conclude(const logs::Finding& f, const Result<BanResult>& r, BanAction& a);
  void remember(const Prefix& p, BanAction::Kind kind, Clock::time_point until);

  BanEngine& engine_;
  AllowList allow_;
  Clock& clock_;
  WatchBanOptions o_;
  WatchMetrics& metrics_;
  TokenBucket bucket_;
  std::map<std::string, Remembered> seen_;  // by to_string(effective prefix)
};

// GET /metrics on `listen` ("127.0.0.1:9155", "[::1]:0"; port 0 = any free port), served from
// a thread of its own until destroyed.
class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                      const WatchMetrics& metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const;

 private:
  MetricsServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw::ban
