// Alert delivery: formatting (syslog line, mail, JSON, hook environment) and the worker thread
// that runs the slow deliveries (sendmail, hooks, webhook) off the policy answer's path.
#include "policyd/alerts.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <syslog.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>

#include "core/subprocess.hpp"

namespace mw::policyd {

namespace {

// Facts come from SMTP clients (sender, login): a CR/LF must never reach a mail header or a
// log line as a line break.
std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

// Headers stay 7-bit: a non-ASCII byte becomes '?' (the body, UTF-8, keeps it).
std::string header_text(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  return out;
}

// Text pasted into a suggested shell command: only plain address characters, so that a
// crafted sender cannot turn the postmaster's copy-and-paste into something else.
bool shell_safe(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '@' || c == '.' || c == '_' || c == '+' || c == '-' || c == ':';
  });
}

std::string rfc5322_date(std::int64_t t) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} +0000",
                     days[static_cast<std::size_t>(tm.tm_wday % 7)], tm.tm_mday,
                     months[static_cast<std::size_t>(tm.tm_mon % 12)], tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string iso_time(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d} UTC", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// "11/10 messages", "130/100 recipients", or both: the quantities over their limit (all
// limited ones when none is, which should not happen for a rate-limit alert).
std::string usage(const Alert& a) {
  std::vector<std::string> over;
  std::vector<std::string> all;
  if (a.limit_messages > 0) {
    auto s = fmt::format("{}/{} messages", a.used_messages, a.limit_messages);
    if (a.used_messages > a.limit_messages) over.push_back(s);
    all.push_back(std::move(s));
  }
  if (a.limit_recipients > 0) {
    auto s = fmt::format("{}/{} recipients", a.used_recipients, a.limit_recipients);
    if (a.used_recipients > a.limit_recipients) over.push_back(s);
    all.push_back(std::move(s));
  }
  const auto& shown = over.empty() ? all : over;
  if (shown.empty())
    return fmt::format("{} messages, {} recipients", a.used_messages, a.used_recipients);
  return fmt::format("{}", fmt::join(shown, ", "));
}

struct Url {
  bool https = false;
  std::string host;
  int port = 0;
  std::string path;
};

// The webhook URL (checked by the config loader; parsed again defensively).
std::optional<Url> parse_url(std::string_view url) {
  Url u;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
    u.port = 80;
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    u.https = true;
    u.port = 443;
  } else {
    return std::nullopt;
  }
  const auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  u.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  if (!port.empty()) {
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || p > 65535) return std::nullopt;
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return std::nullopt;
    u.port = p;
  }
  return u;
}

void log_line(const std::string& line, int priority = LOG_ERR) {
  std::fprintf(stderr, "mailwarden-policyd: %s\n", line.c_str());
  syslog(LOG_MAIL | priority, "%s", line.c_str());
}

// The first line of a command's stderr, for a failure message.
std::string first_line(std::string_view s) {
  const auto nl = s.find('\n');
  return clean(s.substr(0, std::min<std::size_t>(nl, 200)));
}

std::string describe(const CommandOutput& out) {
  std::string what;
  if (out.timed_out) {
    what = "timed out";
  } else if (out.signal != 0) {
    what = fmt::format("killed by signal {}", out.signal);
  } else {
    what = fmt::format("exited with {}", out.exit_code);
  }
  if (const auto err = first_line(out.err); !err.empty()) what += fmt::format(": {}", err);
  return what;
}

}  // namespace

std::string format_window(std::int64_t s) {
  if (s > 0 && s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s > 0 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s > 0 && s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

std::string alert_summary(const Alert& a) {
  const std::string from =
      a.client_address.empty() ? "" : fmt::format(" from {}", clean(a.client_address));
  const std::string answered =
      a.action.empty() ? "" : fmt::format(", answered {}", clean(a.action));
  if (a.kind == "spoofing") {
    return fmt::format("sender address not owned: {} {} used sender {}{} (alert {}){}",
                       clean(a.scope), clean(a.subject), a.sender.empty() ? "<>" : clean(a.sender),
                       from, a.alerts, answered);
  }
  if (a.kind == "rate_limit") {
    return fmt::format("rate limit exceeded: {} {} {} in {}{} (alert {}){}", clean(a.scope),
                       clean(a.subject), usage(a), format_window(a.window), from, a.alerts,
                       answered);
  }
  return fmt::format("{}: {} {}{} (alert {}){}", clean(a.kind), clean(a.scope), clean(a.subject),
                     from, a.alerts, answered);
}

std::vector<std::string> alert_environment(const Alert& a) {
  return {
      "MW_ALERT_KIND=" + clean(a.kind),
      "MW_KEY=" + clean(a.key),
      "MW_SCOPE=" + clean(a.scope),
      "MW_SUBJECT=" + clean(a.subject),
      "MW_CLIENT_ADDRESS=" + clean(a.client_address),
      "MW_SENDER=" + clean(a.sender),
      "MW_INSTANCE=" + clean(a.instance),
      "MW_QUEUE_ID=" + clean(a.queue_id),
      fmt::format("MW_TIME={}", a.time),
      fmt::format("MW_WINDOW={}", a.window),
      fmt::format("MW_USED_MESSAGES={}", a.used_messages),
      fmt::format("MW_USED_RECIPIENTS={}", a.used_recipients),
      fmt::format("MW_LIMIT_MESSAGES={}", a.limit_messages),
      fmt::format("MW_LIMIT_RECIPIENTS={}", a.limit_recipients),
      fmt::format("MW_ALERTS={}", a.alerts),
      "MW_ACTION=" + clean(a.action),
  };
}

std::string alert_json(const Alert& a) {
  const nlohmann::json j = {
      {"kind", a.kind},
      {"key", a.key},
      {"scope", a.scope},
      {"subject", a.subject},
      {"client_address", a.client_address},
      {"sender", a.sender},
      {"instance", a.instance},
      {"queue_id", a.queue_id},
      {"time", a.time},
      {"window", a.window},
      {"used_messages", a.used_messages},
      {"used_recipients", a.used_recipients},
      {"limit_messages", a.limit_messages},
      {"limit_recipients", a.limit_recipients},
      {"alerts", a.alerts},
      {"action", a.action},
      {"summary", alert_summary(a)},
  };
  // Invalid UTF-8 from a client must not make the alert fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string alert_mail(const Alert& a, std::string_view postmaster) {
  const std::string summary = alert_summary(a);
  std::string m;
  m += fmt::format("To: {}\n", header_text(postmaster, 200));
  // Like Postfix's own notices: from the mailer daemon, so that replies and bounces do not
  // loop back into the policy service's alerts.
  m += "From: mailwarden policyd <MAILER-DAEMON>\n";
  m += fmt::format("Subject: [mailwarden] {}\n", header_text(summary, 200));
  m += fmt::format("Date: {}\n", rfc5322_date(a.time));
  m += "Auto-Submitted: auto-generated\n";
  m += "MIME-Version: 1.0\n";
  m += "Content-Type: text/plain; charset=utf-8\n";
  m += "Content-Transfer-Encoding: 8bit\n";
  m += "\n";
  if (a.kind == "spoofing") {
    m += "mailwarden policyd refused a message whose envelope sender is not owned by the\n"
         "authenticated account.\n\n";
  } else {
    m += "mailwarden policyd refused a message over a sending limit. A burst like this is the\n"
         "usual sign of a compromised account or a misbehaving script.\n\n";
  }
  m += fmt::format("  {}\n\n", summary);
  auto fact = [&m](std::string_view name, std::string_view value) {
    m += fmt::format("  {:<18}{}\n", fmt::format("{}:", name), value.empty() ? "-" : value);
  };
  fact("kind", clean(a.kind));
  fact("scope", clean(a.scope));
  fact(a.scope.empty() ? std::string_view("subject") : std::string_view(a.scope), clean(a.subject));
  fact("key", clean(a.key));
  if (a.kind != "spoofing") {
    fact("window", fmt::format("{} ({} s)", format_window(a.window), a.window));
    fact("messages", a.limit_messages > 0
                         ? fmt::format("{} (limit {})", a.used_messages, a.limit_messages)
                         : fmt::format("{} (no limit)", a.used_messages));
    fact("recipients", a.limit_recipients > 0
                           ? fmt::format("{} (limit {})", a.used_recipients, a.limit_recipients)
                           : fmt::format("{} (no limit)", a.used_recipients));
  }
  fact("client address", clean(a.client_address));
  fact("envelope sender", a.sender.empty() ? "<>" : clean(a.sender));
  fact("queue id", clean(a.queue_id));
  fact("smtpd instance", clean(a.instance));
  fact("answer", clean(a.action));
  fact("alert",
       fmt::format("{} for this key (at most one per window while it stays over)", a.alerts));
  fact("time", iso_time(a.time));

  m += "\nWhat to do\n\n";
  const std::string& addr = a.sender.empty() ? a.subject : a.sender;
  if (shell_safe(addr) && addr.find('@') != std::string::npos) {
    m += fmt::format(
        "  Messages from {0} still in the queue:\n"
        "    postqueue -j | jq -r 'select(.sender == \"{0}\") | .queue_id'\n"
        "  Put them on hold (kept as evidence, nothing is lost):\n"
        "    postqueue -j | jq -r 'select(.sender == \"{0}\") | .queue_id' | postsuper -h -\n",
        addr);
  }
  if (a.action.starts_with("HOLD") && shell_safe(a.queue_id)) {
    m += fmt::format(
        "  This message is in the hold queue: read it with postcat -q {0},\n"
        "  release it with postsuper -H {0} or delete it with postsuper -d {0}.\n",
        a.queue_id);
  }
  if ((a.scope == "account" || a.scope == "sender") && shell_safe(a.subject)) {
    m += fmt::format(
        "  If the account is compromised, on Zimbra lock it and reset its password:\n"
        "    su - zimbra -c 'zmprov ma {0} zimbraAccountStatus locked'\n"
        "    su - zimbra -c 'zmprov sp {0} NEW-PASSWORD'\n"
        "  and unlock it once it is clean:\n"
        "    su - zimbra -c 'zmprov ma {0} zimbraAccountStatus active'\n",
        a.subject);
  }
  if (a.scope == "client" && shell_safe(a.subject)) {
    m += fmt::format(
        "  Queue ids of mail from this client (postqueue does not show client addresses):\n"
        "    grep -F '[{0}]' /var/log/mail.log | grep -F 'client='\n",
        a.subject);
  }
  if (a.scope == "domain" && shell_safe(a.subject)) {
    m += fmt::format(
        "  Messages from the domain still in the queue:\n"
        "    postqueue -j | jq -r 'select(.sender | endswith(\"@{0}\")) | .queue_id'\n",
        a.subject);
  }
  m += "\n-- \nmailwarden policyd\n";
  return m;
}

std::vector<std::string> expand_command(std::string_view command,
                                        const std::vector<std::string>& env) {
  auto lookup = [&env](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& e : env) {
      if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
        return std::string_view(e).substr(name.size() + 1);
    }
    return std::nullopt;
  };
  auto is_name = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  std::vector<std::string> argv;
  std::size_t i = 0;
  while (i < command.size()) {
    while (i < command.size() && (command[i] == ' ' || command[i] == '\t')) ++i;
    if (i >= command.size()) break;
    std::string word;
    while (i < command.size() && command[i] != ' ' && command[i] != '\t') {
      if (command[i] == '$') {
        const bool braced = i + 1 < command.size() && command[i + 1] == '{';
        std::size_t j = i + (braced ? 2 : 1);
        const std::size_t start = j;
        while (j < command.size() && is_name(command[j])) ++j;
        const auto name = command.substr(start, j - start);
        const bool closed = !braced || (j < command.size() && command[j] == '}');
        if (name.starts_with("MW_") && closed) {
          if (auto v = lookup(name)) {
            word += *v;
            i = j + (braced ? 1 : 0);
            continue;
          }
        }
      }
      word += command[i++];
    }
    argv.push_back(std::move(word));
  }
  return argv;
}

Alerter::Alerter(AlertConfig config, std::size_t queue_capacity)
    : config_(std::move(config)), capacity_(std::max<std::size_t>(1, queue_capacity)) {
  worker_ = std::thread([this] { run(); });
}

Alerter::~Alerter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    // Each delivery has its own timeout; the queue as a whole gets a couple of them.
    const auto budget =
        std::chrono::milliseconds(std::max<std::int64_t>(1000, 2 * config_.timeout_ms));
    drain_deadline_ = std::chrono::steady_clock::now() + budget;
  }
  wake_.notify_all();
  worker_.join();
}

void Alerter::send(Alert alert) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || queue_.size() >= capacity_) {
      ++dropped_;
      if (!drop_logged_) {
        drop_logged_ = true;
        log_line(
            fmt::format("alert for {}: dropped, the alert queue is full ({} alerts waiting); "
                        "further drops are counted, not logged",
                        clean(alert.key), queue_.size()));
      }
      return;
    }
    queue_.push_back(std::move(alert));
  }
  wake_.notify_one();
}

std::uint64_t Alerter::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

std::uint64_t Alerter::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::uint64_t Alerter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void Alerter::wait_idle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void Alerter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty() || (stop_ && std::chrono::steady_clock::now() >= drain_deadline_)) {
      if (!queue_.empty()) {
        log_line(fmt::format("shutting down: {} queued alerts dropped", queue_.size()));
        dropped_ += queue_.size();
        queue_.clear();
      }
      idle_.notify_all();
      return;
    }
    Alert a = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    deliver(a);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) {
      drop_logged_ = false;
      idle_.notify_all();
    }
  }
}

void Alerter::note_failure(const Alert& alert, std::string_view delivery, std::string_view what) {
  log_line(fmt::format("alert for {}: {} failed: {}", clean(alert.key), delivery, what));
  std::lock_guard lock(mu_);
  ++failed_;
}

void Alerter::deliver(const Alert& a) {
  auto ok = [this] {
    std::lock_guard lock(mu_);
    ++sent_;
  };
  const auto timeout = std::chrono::milliseconds(config_.timeout_ms);

  if (config_.syslog) {
    syslog(LOG_MAIL | LOG_WARNING, "%s", alert_summary(a).c_str());
    ok();
  }

  auto run_hook = [&](std::string_view what, const std::vector<std::string>& argv,
                      const CommandOptions& opts) {
    if (argv.empty()) {
      note_failure(a, what, "empty command");
      return;
    }
    auto out = run_command(argv, opts);
    if (!out) {
      note_failure(a, what, out.error().message);
    } else if (!out->success()) {
      note_failure(a, what, fmt::format("{} {}", argv.front(), describe(*out)));
    } else {
      ok();
    }
  };

  if (!config_.postmaster.empty()) {
    CommandOptions opts;
    opts.timeout = timeout;
    opts.stdin_data = alert_mail(a, config_.postmaster);
    run_hook("mail to the postmaster", {config_.sendmail, "-t", "-i"}, opts);
  }

  const auto env = alert_environment(a);
  if (!config_.command.empty()) {
    CommandOptions opts;
    opts.timeout = timeout;
    opts.environment = env;
    run_hook("command hook", expand_command(config_.command, env), opts);
  }

  if (!config_.webhook.empty()) {
    const auto url = parse_url(config_.webhook);
    if (!url) {
      note_failure(a, "webhook", "bad URL");
    } else {
      const auto body = alert_json(a);
      const auto seconds = static_cast<time_t>(config_.timeout_ms / 1000);
      const auto micros = static_cast<time_t>((config_.timeout_ms % 1000) * 1000);
      auto post = [&](auto& client) {
        client.set_connection_timeout(seconds, micros);
        client.set_read_timeout(seconds, micros);
        client.set_write_timeout(seconds, micros);
        auto res = client.Post(url->path.c_str(), body, "application/json");
        if (!res) {
          note_failure(a, "webhook",
                       fmt::format("{}: {}", config_.webhook, httplib::to_string(res.error())));
        } else if (res->status < 200 || res->status > 299) {
          note_failure(a, "webhook",
                       fmt::format("{}: HTTP status {}", config_.webhook, res->status));
        } else {
          ok();
        }
      };
      if (url->https) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        httplib::SSLClient client(url->host, url->port);
        client.enable_server_certificate_verification(true);
        post(client);
#else
        note_failure(a, "webhook", "https is not supported by this build");
#endif
      } else {
        httplib::Client client(url->host, url->port);
        post(client);
      }
    }
  }

  // Only a person's account can be locked; the lock runs once per alert streak, when the
  // key's alert count reaches lock_after.
  if (config_.lock_after > 0 && !config_.lock_command.empty() && a.alerts == config_.lock_after &&
      (a.scope == "account" || a.scope == "sender")) {
    CommandOptions opts;
    opts.timeout = timeout;
    opts.environment = env;
    log_line(
        fmt::format("alert for {}: {} alerts, running the lock command", clean(a.key), a.alerts),
        LOG_WARNING);
    run_hook("lock command", expand_command(config_.lock_command, env), opts);
  }
}

}  // namespace mw::policyd
