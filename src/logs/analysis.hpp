// The analysis of `mailwarden logs`: Events in (in log order), per-account figures and
// findings out. The same Analyzer serves `logs report` (every input read once, then finish())
// and `logs watch` (events as they are written, findings as they open, state expiring).
//
// Attribution: a message is the account's that submitted it. smtpd's "QID: client=...,
// sasl_username=U" names it; amavis re-injects the message under a new queue id ("queued as
// NEW" in the smtp client's delivery line, "queued_as: NEW" in amavis' own line) and the
// Analyzer follows that chain, so the deliveries of NEW count for U, once. Mail without SASL
// from a mailbox server (Zimbra's webmail: mailboxd submits over loopback) counts for its
// envelope sender; other mail from a trusted network (mynetworks) is "relayed" and counted per
// client address and sender.
//
// Logins: one attempt seen by two logs (Zimbra's audit.log and mailbox.log, the same second,
// account, client and outcome) is one login. Postfix logs a successful SMTP AUTH only on the
// client= line of each message: the messages of one session (one smtpd process, account and
// client in a row, none more than 15 minutes after the previous) are one login.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ip.hpp"
#include "logs/event.hpp"
#include "logs/geoip.hpp"
#include "logs/position.hpp"

namespace mw::logs {

enum class FindingSeverity : std::uint8_t { critical, high, medium, low };
std::string_view name_of(FindingSeverity s);

// The detectors, in the order of catalog/detectors.toml.
enum class Detector : std::uint8_t {
  brute_force,        // many failures on one account (from one address or from many)
  password_spray,     // one address, or many ("botnet"), failing across many accounts
  compromised_login,  // a success from a new address after failures (brute force, spray)
  impossible_travel,  // successes from places too far apart for the time between them
  outbound_burst,     // an account sending (or addressing) far more than any person does
  bounce_ratio,       // an account whose mail bounces / defers far more than normal
  baseline_exceeded,  // an account sending far above its own usual volume
  mynetworks_relay,   // unauthenticated mail relayed from a trusted network that is abuse
  queue_flood,        // one sender holding most of the queue
};
inline constexpr std::size_t kDetectors = 9;
std::string_view name_of(Detector d);
std::optional<Detector> detector_from_name(std::string_view name);
// True for the detectors whose finding means "this account is in an attacker's hands".
bool means_compromise(Detector d);

struct Finding {
  Detector detector = Detector::brute_force;
  FindingSeverity severity = FindingSeverity::high;
  // What the finding is about: an account, a client address ("203.0.113.9"), a sender
  // address, or "botnet" for a distributed spray. `account` is set when there is one.
  std::string key;
  std::string account;
  std::string summary;                  // one line for people
  std::vector<std::string> source_ips;  // sorted, at most kMaxListed
  std::uint64_t source_ip_count = 0;    // all of them
  std::vector<std::string> countries;   // ISO codes of source_ips, when a GeoIP db is given
  std::vector<std::string> accounts;    // accounts hit (spray), at most kMaxListed
  std::uint64_t account_count = 0;
  Timestamp first_seen, last_seen;
  // Named counts: "failures", "successes", "messages", "recipients", "bounced", "deferred",
  // "queued", "speed_kmh", "distance_km", "baseline_per_hour", ... (what the detector measured).
  std::map<std::string, std::uint64_t> counts;
  // The lines that prove it: the first kMaxEvidence positions and the last one.
  std::vector<Position> evidence;
  bool alerted = false;  // watch mode: already reported
  // Watch mode: how many times take_alerts() returned it (1: opened; more: grown by new
  // sources), and the sources added since the last time, beyond the kMaxListed of source_ips:
  // a botnet's 51st address must reach `logs watch --ban` too (at most kMaxNewSources).
  std::uint32_t alert_count = 0;
  std::vector<std::string> new_source_ips;
};
inline constexpr std::size_t kMaxListed = 50;
inline constexpr std::size_t kMaxEvidence = 20;
inline constexpr std::size_t kMaxNewSources = 4096;

// One hour of one account, for timelines.
struct HourCount {
  std::int64_t hour = 0;  // seconds since the epoch / 3600
  std::uint32_t logins = 0, failures = 0, messages = 0, recipients = 0;
};

struct AccountSummary {
  std::string account;
  std::array<std::uint64_t, 10> logins_by_protocol{};    // indexed by Protocol
  std::array<std::uint64_t, 10> failures_by_protocol{};  // indexed by Protocol
  std::uint64_t logins = 0, failures = 0;
  std::vector<std::string> client_ips;  // distinct addresses of successful logins, sorted, capped
  std::uint64_t client_ip_count = 0;
  std::vector<std::string> countries;  // of those addresses (GeoIP), sorted
  std::uint64_t messages = 0, recipients = 0;
  std::uint64_t external_domains = 0;  // distinct recipient domains that are not local
  std::uint64_t bounced = 0, deferred = 0;
  std::uint32_t peak_per_hour = 0;
  std::int64_t peak_hour = 0;
  Timestamp first_seen, last_seen;
  bool suspicious = false;          // some finding names the account
  std::vector<HourCount> timeline;  // hours with activity, in order (suspicious accounts only)
};

// One input as read: name as given ("-" for stdin), its compression and what became of its lines.
struct InputSummary {
  std::string name;
  std::string compression;  // "none", "gzip", "zstd"
  std::uint64_t bytes = 0;  // bytes of text (after decompression)
  std::uint64_t lines = 0;
  UnparsedCounts counts;
};

struct LogReport {
  std::vector<InputSummary> inputs;
  UnparsedCounts totals;  // every input together
  bool has_time = false;
  Timestamp first, last;                 // earliest and latest line time
  std::vector<Finding> findings;         // by severity, then first_seen
  std::vector<AccountSummary> accounts;  // by account name
  std::uint64_t messages = 0;            // messages seen queued (each counted once through amavis)
  std::uint64_t logins = 0, failures = 0;
  bool saw_zimbra = false;  // Zimbra lines were read: follow-up commands use zmprov
  std::string geoip;        // the GeoIP database(s) used, "" when none
};

// Everything the detectors need besides the lines.
struct AnalyzerOptions {
  std::vector<Prefix> mynetworks;          // Postfix's trusted clients; default loopback only
  std::vector<Prefix> mailbox_servers;     // whose unauthenticated mail is the sender's (webmail)
  std::vector<std::string> local_domains;  // also learnt from local deliveries and accounts
  const GeoIp* geoip = nullptr;            // optional
  bool watch = false;  // expire idle state (bounded memory) and keep no per-hour timelines
};

struct DetectorCatalog;

class Analyzer {
 public:
  Analyzer(const DetectorCatalog& catalog, AnalyzerOptions options);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Whether the analysis uses an event at all: a reader's workers drop the others early
  // (they are still counted by UnparsedCounts).
  static bool wants(const Event& e);

  // One event, in log order (inputs in the order given, lines in file order). The Analyzer
  // copies what it keeps; `e`'s views may die after the call.
  void add(const Event& e, Position where);

  // Watch mode: the findings opened (or grown by a new source) since the last call.
  std::vector<Finding> take_alerts();
  // Watch mode: forget state idle since before `now` minus the longest window (bounded memory).
  void expire(Timestamp now);
  // How many keys (accounts, addresses, messages) the Analyzer holds: for the memory bound.
  std::size_t state_size() const;

  // Report mode: resolves what is pending and returns the figures and the findings.
  LogReport finish(std::vector<InputSummary> inputs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw::logs
