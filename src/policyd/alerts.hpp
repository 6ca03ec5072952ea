// Alerts for a sender over its limit or a spoofed sender: syslog, a mail to the postmaster, a
// command hook, a webhook and the optional auto-lock command, delivered by one worker thread
// so that the policy answer never waits for them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "policyd/config.hpp"

namespace mw::policyd {

struct Alert {
  std::int64_t time = 0;  // seconds since epoch
  std::string kind;       // "rate_limit" or "spoofing"
  std::string key;        // bucket key, e.g. "a:alice@example.com"
  std::string scope;      // "account", "sender", "client", "domain"
  std::string subject;    // the account / sender / client / domain without prefix
  std::string client_address, sender, instance, queue_id;
  std::int64_t window = 0;  // seconds
  // The window's use with the refused message included: the 11th message against a limit of
  // 10 is used_messages = 11 (ChargeResult::used_messages + 1, and used_recipients + this
  // message's recipients), so that "11/10 messages" reads as what was attempted.
  std::uint64_t used_messages = 0, used_recipients = 0;
  std::uint32_t limit_messages = 0, limit_recipients = 0;
  std::uint32_t alerts = 0;  // this key's alerts, this one included
  std::string action;        // what the service answered, e.g. "DEFER_IF_PERMIT"
};

// "1h", "1d", "90m", "45s": a window as an admin writes it.
std::string format_window(std::int64_t seconds);

// The one-line summary used for syslog, the mail subject and log messages:
// "rate limit exceeded: account alice@example.com 11/10 messages in 1h from 192.0.2.7
// (alert 1), answered DEFER_IF_PERMIT". Control characters in the facts (they come from SMTP
// clients) are replaced by '?'.
std::string alert_summary(const Alert& alert);

// The environment of the command and lock hooks: MW_ALERT_KIND, MW_KEY, MW_SCOPE, MW_SUBJECT,
// MW_CLIENT_ADDRESS, MW_SENDER, MW_INSTANCE, MW_QUEUE_ID, MW_TIME, MW_WINDOW,
// MW_USED_MESSAGES, MW_USED_RECIPIENTS, MW_LIMIT_MESSAGES, MW_LIMIT_RECIPIENTS, MW_ALERTS,
// MW_ACTION ("NAME=value" entries).
std::vector<std::string> alert_environment(const Alert& alert);

// The JSON document POSTed to the webhook (the same facts, lower-case names).
std::string alert_json(const Alert& alert);

// The complete message piped to `sendmail -t -i`: headers (To, From, Subject, Date,
// Auto-Submitted: auto-generated, MIME headers) and a body with every fact and the follow-up
// commands (postqueue/postsuper, and zmprov for Zimbra).
std::string alert_mail(const Alert& alert, std::string_view postmaster);

// A hook command line split into argv: words separated by whitespace, no shell and no
// quoting; "$MW_NAME" or "${MW_NAME}" inside a word is replaced by that variable from `env`
// (the replacement never splits a word), anything else is kept as typed. Lets
// lock_command = "/opt/zimbra/bin/zmprov ma ${MW_SUBJECT} zimbraAccountStatus locked" work
// without a shell parsing attacker-influenced text.
std::vector<std::string> expand_command(std::string_view command,
                                        const std::vector<std::string>& env);

class Alerter {
 public:
  static constexpr std::size_t kQueueCapacity = 1000;

  // Starts one worker thread. `queue_capacity`: alerts waiting beyond it are dropped.
  explicit Alerter(AlertConfig config, std::size_t queue_capacity = kQueueCapacity);
  ~Alerter();  // drains the queue (bounded wait), joins
  Alerter(const Alerter&) = delete;
  Alerter& operator=(const Alerter&) = delete;

  // Never blocks the caller on a delivery: queued for the worker; a full queue drops the alert,
  // counts it and logs once (until the queue has drained again).
  void send(Alert alert);

  // Counted per delivery (syslog, mail, command, webhook, lock command), not per alert: an
  // alert with a mail and a webhook that both work counts 2 sent.
  std::uint64_t sent() const;
  std::uint64_t failed() const;
  std::uint64_t dropped() const;  // alerts, never queued
  void wait_idle();               // returns when the queue is empty and no delivery runs

 private:
  void run();
  void deliver(const Alert& alert);
  void note_failure(const Alert& alert, std::string_view delivery, std::string_view what);

  AlertConfig config_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Alert> queue_;
  bool busy_ = false;
  bool stop_ = false;
  bool drop_logged_ = false;
  // Set by the destructor: alerts still queued after it are dropped, so shutdown is bounded.
  std::chrono::steady_clock::time_point drain_deadline_;
  std::uint64_t sent_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t dropped_ = 0;
  std::thread worker_;
};

}  // namespace mw::policyd
