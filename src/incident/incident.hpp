// `mailwarden incident ACCOUNT`: the compromised-account playbook. Composes the engines for one
// account -- the mailbox (account snapshot), its logins (logs), its queued mail (queue), the
// server's outbound addresses (dnsbl), the missing policy settings (audit) -- into one
// IncidentReport with the commands to act. Engines return values; render.hpp turns them into
// text or JSON. --act runs only the non-destructive steps, through a Runner (tests use a fake).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ban/ban.hpp"
#include "core/clock.hpp"
#include "core/ip.hpp"
#include "core/result.hpp"
#include "core/subprocess.hpp"
#include "dnsbl/catalog.hpp"
#include "dnsbl/resolver.hpp"
#include "incident/account.hpp"
#include "logs/analysis.hpp"
#include "logs/event.hpp"
#include "logs/geoip.hpp"
#include "queue/accounts.hpp"
#include "queue/tools.hpp"

namespace mw::incident {

enum class Flavour : std::uint8_t { zimbra, postfix };
std::string_view name_of(Flavour f);

// ---- logins (logs) --------------------------------------------------------------------------
struct LoginIp {
  std::string ip;
  std::string country;  // ISO code, "" without GeoIP or unknown
  std::uint64_t successes = 0, failures = 0;
  std::set<std::string> protocols;
  logs::Timestamp first_seen, last_seen;
  // Failures from this address before its first success (0 when it never succeeded, or
  // succeeded first).
  std::uint64_t failures_before_success = 0;
  bool attacker = false;
  std::vector<std::string> why;  // "7 failures, then a success", "brute_force finding"
  std::string allow_listed;      // why it is in the allow-list ("" when it is not)
};

struct AdminAction {
  std::string command;  // ModifyAccount, SetPassword, ...
  std::string ip;
  logs::Timestamp time;
  std::string where;  // "audit.log:12"
  bool unusual = false;
  std::string why;
};

struct LoginReport {
  bool checked = false;  // some log was given
  std::vector<std::string> inputs, errors;
  std::uint64_t successes = 0, failures = 0;
  bool has_time = false;
  logs::Timestamp first_seen, last_seen;
  std::vector<LoginIp> ips;             // by first seen
  std::vector<logs::Finding> findings;  // the detectors' findings that name the account
  std::vector<AdminAction> admin_actions;
  std::vector<std::string> attacker_ips;         // to ban: attackers not in the allow-list
  std::vector<std::string> protected_attackers;  // attackers in the allow-list: never banned
};

// Reads one account's events from the logs: its logins per address, the detectors' findings
// (the logs Analyzer runs on every event: spray and brute force need the whole picture), the
// admin commands on it (Zimbra audit.log), and the queue-id chain for the queue's attribution.
class AccountLogs {
 public:
  AccountLogs(std::string account, const logs::DetectorCatalog& catalog,
              logs::AnalyzerOptions options);
  ~AccountLogs();
  // Whether `e` is of any use (readers drop the others early).
  static bool wants(const logs::Event& e);
  void add(const logs::Event& e, logs::Position where);
  // `inputs` names positions; `allow` (may be null) protects addresses from a ban;
  // `admin_networks` are where admin commands are expected from.
  LoginReport finish(std::vector<std::string> inputs, const ban::AllowList* allow,
                     const std::vector<Prefix>& admin_networks);
  const queue::QueueIdChain& chain() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- the queue ------------------------------------------------------------------------------
struct QueueReport {
  bool checked = false;
  std::string note;                  // why not checked, or a warning (unreadable lines)
  std::uint64_t queue_messages = 0;  // the whole queue
  std::uint64_t messages = 0, bytes = 0, recipients = 0;  // the account's
  std::uint64_t by_login = 0, by_sender = 0;       // how they were matched (a message may be both)
  std::map<std::string, std::uint64_t> by_status;  // queue name -> messages
  std::vector<std::pair<std::string, std::uint64_t>> top_domains;  // recipient domain -> rcpts
  std::vector<std::string> queue_ids;                              // first few, for people
};
// The account's messages: submitted by it (sasl_username in the queue file, else the logs'
// chain) or with it as envelope sender.
QueueReport account_queue(const std::string& account, queue::QueueTools& tools,
                          const queue::QueueIdChain* chain, bool use_postcat, std::int64_t now);

// ---- DNSBL ----------------------------------------------------------------------------------
struct OutboundListing {
  std::string list, meaning, delist_url;
};
struct OutboundIp {
  std::string ip;
  std::vector<OutboundListing> listed;
  std::vector<std::string> unknown;  // lists that gave no usable answer (never "clean")
  std::size_t clean = 0;
};
struct DnsblReport {
  bool checked = false;
  std::string note;
  std::vector<OutboundIp> ips;
};
DnsblReport check_outbound(const std::vector<Address>& ips, const dnsbl::DnsblCatalog& catalog,
                           dnsbl::Resolver& resolver);

// ---- policy (audit) -------------------------------------------------------------------------
struct PolicyGap {
  std::string id, title, severity, detail, remediation;
};
struct PolicyReport {
  bool checked = false;
  std::string note;
  std::vector<PolicyGap> failed;
  std::size_t passed = 0, not_checked = 0;
};
// The controls an incident makes urgent (password policy, lockout, 2FA, login filters, sending
// limits, sender checks, external pulls), evaluated on the snapshot when it holds the global
// config or a COS.
inline constexpr std::string_view kPolicyControlPrefixes[] = {
    "accounts.password.",       "accounts.lockout.",    "accounts.2fa.",
    "accounts.login-ip-filter", "mailflow.rate-limit",  "mailflow.sender-login-mismatch",
    "mailflow.external-imap",   "mailflow.external-pop"};
PolicyReport policy_gaps(const std::filesystem::path& snapshot_dir,
                         const std::filesystem::path& catalog_dir);

// ---- actions --------------------------------------------------------------------------------
struct Command {
  std::vector<std::string> argv;  // empty: `text` is guidance, not a command
  std::string text;               // as printed (shell-quoted argv, or guidance)
};
struct Step {
  std::string id;  // lock, expire_sessions, flush_cache, hold_queue, end_sessions, password,
                   // revoke, ban, policy, smtp
  std::string title;
  std::string note;
  std::vector<Command> commands;
  bool act = false;  // run by --act (non-destructive: never deletes mail, never sets a password)
};

struct PlanInput {
  std::string account;
  Flavour flavour = Flavour::zimbra;
  const AccountSnapshot* snapshot = nullptr;  // Zimbra facts; may be null
  const std::vector<MailboxFinding>* mailbox = nullptr;
  const LoginReport* logins = nullptr;
  const PolicyReport* policy = nullptr;
  std::int64_t now = 0;  // seconds since the epoch (the new token validity value when unknown)
};
std::vector<Step> plan_steps(const PlanInput& in);

// ---- --act ----------------------------------------------------------------------------------
class Runner {
 public:
  virtual ~Runner() = default;
  virtual Result<CommandOutput> run(const std::vector<std::string>& argv) = 0;
};
struct ActEntry {
  std::string step;
  std::vector<std::string> argv;
  bool ok = false;
  std::string result;  // "exit 0", "exit 1: <stderr head>", "not started: ..."
};
struct ActResult {
  std::vector<ActEntry> entries;
  bool ok() const;
};
// Runs every command of the steps marked `act`, in order, and appends one line per command and
// result to `log_file` (created 0600). A failing command does not stop the others: each step
// is worth doing alone. An Error only when the log cannot be written.
Result<ActResult> act(const std::vector<Step>& steps, Runner& runner,
                      const std::filesystem::path& log_file, const Clock& clock,
                      const std::string& account);

// ---- the report -----------------------------------------------------------------------------
struct AccountState {
  std::string status, password_modified, token_validity, last_logon;
};
struct IncidentReport {
  std::string account;
  Flavour flavour = Flavour::zimbra;
  std::string since;  // as given, "" for everything
  bool snapshot_given = false;
  std::string snapshot_dir;
  std::vector<std::string> warnings;
  std::optional<AccountState> state;
  std::vector<MailboxFinding> mailbox;
  LoginReport logins;
  QueueReport queue;
  DnsblReport dnsbl;
  PolicyReport policy;
  std::vector<Step> steps;
  std::optional<ActResult> acted;
};
AccountState account_state(const AccountSnapshot& s);

std::string render_text(const IncidentReport& r);
std::string render_json(const IncidentReport& r, std::string_view version);
// 0 nothing found; 1 findings, none high; 2 high; 3 the account is in an attacker's hands
// (an attacker address logged in, or a detector says so).
int severity_exit(const IncidentReport& r);

}  // namespace mw::incident
