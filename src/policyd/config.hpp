// mailwarden policyd's configuration (catalog/policyd.example.toml documents every key):
// where to listen, which limits apply to which mail, what to do over a limit, whom to alert,
// the anti-spoofing map and where the counters live. Loaded and checked as a whole: a
// configuration either loads completely or is refused with file:line:column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address_set.hpp"
#include "core/result.hpp"

namespace mw::policyd {

// Whose mail a limit counts.
enum class Scope : std::uint8_t {
  account,  // the SMTP AUTH user (sasl_username)
  sender,   // the envelope sender, for mail from a mailbox server without SMTP AUTH (webmail)
  client,   // the client address, for other unauthenticated mail
  domain,   // the envelope sender's domain, for authenticated and mailbox-server mail
};
std::string_view scope_name(Scope s);

// What the policy service answers when a message is over a limit.
enum class OverLimitAction : std::uint8_t {
  defer,   // DEFER_IF_PERMIT 4.7.1 ... (the client retries later; nothing is lost)
  hold,    // HOLD: accepted into the hold queue, kept as evidence
  reject,  // REJECT 5.7.1 ...
};

// Where the message is counted (which Postfix restriction list calls the service).
enum class CountStage : std::uint8_t {
  end_of_message,  // smtpd_end_of_data_restrictions: one request per message, recipient_count
  rcpt,            // smtpd_recipient_restrictions: one request per recipient
};

struct WindowLimit {
  std::int64_t window = 3600;  // seconds
  // 0 = no limit on that quantity.
  std::uint32_t messages = 0;
  std::uint32_t recipients = 0;
  friend bool operator==(const WindowLimit&, const WindowLimit&) = default;
};

// The limits of one scope, e.g. account: 10 messages per hour, 100 per day.
struct ScopeLimits {
  Scope scope = Scope::account;
  std::vector<WindowLimit> windows;  // sorted by window, at most one per window length
};

// A key (account, sender address, domain "@example.com", or client address/prefix) with its
// own limits, or none at all (`exempt`).
struct Exception {
  std::string match;                 // lower case; "@domain" for a whole domain
  std::optional<Prefix> client;      // when the exception names a client prefix
  bool exempt = false;               // no limit at all
  std::vector<WindowLimit> windows;  // replaces the scope's windows when not exempt
};

struct AlertConfig {
  bool syslog = true;
  std::string postmaster;  // mail to this address through sendmail (empty = off)
  std::string sendmail = "/usr/sbin/sendmail";
  std::string command;           // run with MW_* variables in the environment (empty = off)
  std::string webhook;           // http://host:port/path, JSON POST (empty = off)
  std::uint32_t lock_after = 0;  // run lock_command after this many alerts for a key (0 = off)
  std::string lock_command;
  std::int64_t timeout_ms = 5000;  // for the command, the mail and the webhook
};

struct SpoofingConfig {
  bool enabled = false;
  std::filesystem::path sender_login_maps;  // Postfix smtpd_sender_login_maps format
  std::vector<std::string> domains;         // sender domains checked (lower case); empty = all
  // Postfix's recipient_delimiter (e.g. "+"): "alice+news@example.com" is looked up in the map
  // as "alice@example.com" too when it has no entry of its own. Empty = none.
  std::string recipient_delimiter;
  OverLimitAction action = OverLimitAction::reject;  // reject, or defer while testing
};

enum class StoreBackend : std::uint8_t { memory, redis };
enum class FailMode : std::uint8_t { open, closed };

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_socket;  // used instead of host:port when set
  std::string password;
  int database = 0;
  std::uint32_t pool = 8;
  std::int64_t timeout_ms = 50;  // connect and per-command
  FailMode on_failure = FailMode::open;
  std::string prefix = "mailwarden:policyd:";
};

struct StateConfig {
  StoreBackend backend = StoreBackend::memory;
  std::filesystem::path path;  // SQLite file for the memory backend (empty = not persisted)
  std::int64_t flush_interval_ms = 1000;
  RedisConfig redis;
};

struct ServerConfig {
  // "inet:HOST:PORT" ("inet:[::1]:10031" for IPv6) or "unix:/path" (mode 0666 so that Postfix's
  // smtpd, running as postfix, can connect; put it inside /var/spool/postfix/private).
  std::vector<std::string> listen;
  std::string node_id;        // the MTA's identity for de-duplication (empty = server_address)
  std::uint32_t threads = 0;  // 0 = half the cores (at least 1; redis: at least the pool)
  std::string user;           // drop privileges to this user after binding (empty = stay)
  std::int64_t idle_timeout_ms = 330'000;     // > smtpd_policy_service_max_idle (300 s)
  std::int64_t request_timeout_ms = 100'000;  // a request started but not finished
  std::int64_t max_ttl_ms = 1'100'000;        // > smtpd_policy_service_max_ttl (1000 s)
  std::uint32_t max_request_bytes = 16384;
  std::uint32_t max_attributes = 100;
  std::string metrics;  // "HOST:PORT" of the Prometheus endpoint (empty = off)
};

struct Config {
  std::filesystem::path file;  // where it was loaded from (for messages)
  ServerConfig server;
  CountStage stage = CountStage::end_of_message;
  // Clients whose unauthenticated mail is keyed by the envelope sender (Zimbra mailbox servers:
  // webmail). Default: loopback.
  AddressSet mailbox_servers;
  std::vector<ScopeLimits> limits;
  std::vector<Exception> exceptions;
  OverLimitAction action = OverLimitAction::defer;
  std::string defer_text = "4.7.1 Sending rate limit exceeded, try again later";
  std::string hold_text = "sending rate limit exceeded: held for review";
  std::string reject_text = "5.7.1 Sending rate limit exceeded";
  std::string spoof_text = "5.7.1 Sender address not owned by the authenticated user";
  AlertConfig alerts;
  SpoofingConfig spoofing;
  StateConfig state;
};

// Loads and checks a configuration file. Every unknown key, wrong type, out-of-range value or
// bad address is an error "file:line:column: key: what is wrong".
Result<Config> load_config(const std::filesystem::path& file);
Result<Config> parse_config(std::string_view text, std::string_view name);

}  // namespace mw::policyd
