// The synthetic mail server: a clock-ordered queue of tasks (a login, a message, a delivery
// retry, one attack attempt) whose execution writes log lines, in the shapes of Postfix 3.7,
// Dovecot 2.3, OpenSSH, amavisd-new and Zimbra's log4j files. Everything random comes from one
// Rng advanced in task order, so one seed gives one output.
#include "generator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "civil.hpp"
#include "rng.hpp"

namespace loggen {

// Postfix's way of printing a delay in seconds ("0.04", "1.2", "37").
struct Secs {
  std::int64_t ms;
};

}  // namespace loggen

template <>
struct fmt::formatter<loggen::Secs> : fmt::formatter<std::string_view> {
  auto format(loggen::Secs s, fmt::format_context& ctx) const {
    const auto ms = s.ms < 0 ? 0 : s.ms;
    if (ms < 10) return fmt::format_to(ctx.out(), "0");
    if (ms < 100) return fmt::format_to(ctx.out(), "0.0{}", ms / 10);
    if (ms < 1000) {
      const auto cs = ms / 10;
      if (cs % 10 == 0) return fmt::format_to(ctx.out(), "0.{}", cs / 10);
      return fmt::format_to(ctx.out(), "0.{:02}", cs);
    }
    if (ms < 10000) {
      const auto ds = ms / 100;
      if (ds % 10 == 0) return fmt::format_to(ctx.out(), "{}", ds / 10);
      return fmt::format_to(ctx.out(), "{}.{}", ds / 10, ds % 10);
    }
    return fmt::format_to(ctx.out(), "{}", ms / 1000);
  }
};

namespace loggen {

std::array<std::string, kStreams> file_names(Flavor f) {
  if (f == Flavor::zimbra) return {"zimbra.log", "audit.log", "mailbox.log"};
  return {"mail.log", "", ""};
}

namespace {

constexpr std::string_view kServerV4 = "192.0.2.2";
constexpr std::string_view kServerV6 = "2001:db8:0:1::2";
constexpr std::string_view kLmtpZimbra = "mail.example.com[192.0.2.2]:7025";
constexpr std::string_view kLmtpDovecot = "mail.example.com[private/dovecot-lmtp]";
constexpr std::int64_t kMaxQueueLifetime = 5 * kDay;  // Postfix's maximal_queue_lifetime

// The GeoIP map of tests/data/geoip: the third group of 2001:db8:XXYY:: names the country.
enum class Region : std::uint16_t {
  de = 0x000,
  fr = 0x100,
  us = 0x200,
  br = 0x300,
  cn = 0x400,
  ng = 0x500,
  ru = 0x600,
  jp = 0x700,
};

constexpr std::string_view kFirstNames[] = {
    "anna", "ben",   "carla", "david", "emma",  "felix", "greta", "hugo",   "ida",     "jonas",
    "karl", "lena",  "max",   "nina",  "oskar", "paula", "rosa",  "sven",   "tina",    "uwe",
    "vera", "willi", "xenia", "yann",  "zoe",   "info",  "sales", "office", "support", "billing"};
constexpr std::string_view kLastNames[] = {"meyer",  "schulz", "novak",    "rossi",  "dubois",
                                           "smith",  "garcia", "kowalski", "jensen", "silva",
                                           "tanaka", "okafor", "ivanova",  "chen",   "berg"};
constexpr std::string_view kSshScanNames[] = {"admin",    "test", "user", "oracle", "ubuntu",
                                              "postgres", "git",  "ftp",  "guest",  "pi"};
constexpr std::string_view kImapUserAgents[] = {"Thunderbird/115.5.0", "Outlook/16.0",
                                                "AppleMail/16.0", "K-9Mail/6.7"};

enum class Client : std::uint8_t { imap, pop3, webmail };
enum class Proto : std::uint8_t { imap, pop3, webmail, smtp, ssh };
enum class Entry : std::uint8_t { submission, webmail, inbound, relay };
enum class Fate : std::uint8_t { sent, defer_sent, defer_bounce, bounce, dead };

struct Counts {
  std::uint64_t messages = 0, recipients = 0, logins = 0, failures = 0, sasl_messages = 0;
};

struct Account {
  std::string name;
  std::string office_ip, home_ip;  // empty when the account has none
  Client client = Client::imap;
  int mail_rate = 0;                              // messages on a working day
  int inbound_rate = 0;                           // messages received from the internet per day
  bool known_office = false, known_home = false;  // logged in from there already
  bool typos = true;
  bool background_sends = true;
  std::vector<std::pair<std::int64_t, std::int64_t>> quiet;  // no background activity
};

struct Rcpt {
  std::string addr;
  Fate fate = Fate::sent;
  bool local = false;
  std::uint8_t tries = 0;  // deferred attempts before the final outcome
};

struct Message {
  Entry entry = Entry::submission;
  std::string from;
  std::vector<Rcpt> rcpts;
  std::string client_name, client_ip;
  std::string sasl_user;
  std::string_view sasl_method = "PLAIN";
  int account = -1;  // the account that submitted it (truth), -1 for none
  std::uint32_t size = 0;
  std::string message_id;
  bool spam = false;  // inbound spam that amavis blocks (Zimbra)
};

// A message waiting in the deferred queue.
struct Queued {
  std::shared_ptr<Message> m;
  std::string qid;
  std::uint32_t size = 0;
  std::vector<std::size_t> pending;  // indexes into m->rcpts
  int attempt = 1;
  std::int64_t arrived = 0;
  std::int64_t backoff = 0;
};

struct Expected {
  std::string detector, key;
};

struct IncidentTruth {
  std::string id, scenario, description;
  std::vector<Expected> expect, allow;
  std::vector<std::string> source_ips, accounts;
  std::int64_t start = 0, end = 0;
};

struct BenignTruth {
  std::string id, scenario, description;
  std::vector<std::string> accounts, ips, senders;
  std::int64_t start = 0, end = 0;
};

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

// Other domains' mail servers live in 198.51.100.16-199: below is our LAN (mynetworks), above
// are the attackers' addresses, which nothing else uses.
unsigned mail_host_octet(std::string_view domain) {
  return 16 + fnv1a(domain) % 184;
}

std::string_view domain_of(std::string_view addr) {
  const auto at = addr.rfind('@');
  return at == std::string_view::npos ? addr : addr.substr(at + 1);
}

bool is_v6(std::string_view ip) {
  return ip.find(':') != std::string_view::npos;
}

class World {
 public:
  World(const Options& opt, LogSink& sink)
      : opt_(opt),
        zimbra_(opt.flavor == Flavor::zimbra),
        rng_(opt.seed ^ 0x6c6f6767656e2121ULL),
        sink_(sink),
        start_(opt.start_ms),
        end_(opt.start_ms + static_cast<std::int64_t>(opt.days) * kDay) {
    qid_salt_ = rng_.next();
    qmgr_pid_ = static_cast<int>(rng_.between(900, 2900));
    for (auto& p : cleanup_pids_) p = static_cast<int>(rng_.between(3000, 60000));
    for (auto& p : smtp_pids_) p = static_cast<int>(rng_.between(3000, 60000));
    for (auto& p : lmtp_pids_) p = static_cast<int>(rng_.between(3000, 60000));
    for (auto& p : bounce_pids_) p = static_cast<int>(rng_.between(3000, 60000));
    for (auto& p : amavis_pids_) p = static_cast<int>(rng_.between(3000, 60000));
  }

  void build();
  void run();
  nlohmann::ordered_json truth() const;

 private:
  // --- tasks ---------------------------------------------------------------------------------
  struct Task {
    std::int64_t ms;
    std::uint64_t seq;
    std::function<void()> fn;
  };
  static bool later(const Task& a, const Task& b) {
    return a.ms != b.ms ? a.ms > b.ms : a.seq > b.seq;
  }
  void at(std::int64_t ms, std::function<void()> fn) {
    if (ms >= end_) return;  // beyond the period: never logged
    tasks_.push_back(Task{ms, task_seq_++, std::move(fn)});
    std::push_heap(tasks_.begin(), tasks_.end(), later);
  }

  // --- helpers -------------------------------------------------------------------------------
  std::string qid() {
    const std::uint64_t v = (qid_counter_++ * 0x9E3779B97F4A7C15ULL + qid_salt_) & 0xFFFFFFFFFFFULL;
    return fmt::format("{:011X}", v);
  }
  // A home address in Germany, unique to the account (its fourth group is the account's).
  std::string home_ip(int i) {
    return ip6(Region::de, static_cast<std::uint32_t>(1 + static_cast<unsigned>(i) % 0xfffe));
  }
  // (Function arguments are evaluated in an unspecified order: every random draw gets its own
  // statement, so that another compiler gives the same bytes.)
  std::string ip6(Region r, std::uint32_t g4) {
    const auto g3 = static_cast<unsigned>(r) + rng_.below(0x100);
    const auto g8 = 1 + rng_.below(0xfffe);
    return fmt::format("2001:db8:{:x}:{:x}::{:x}", g3, g4, g8);
  }
  int pid() { return static_cast<int>(rng_.between(3000, 65000)); }
  int port() { return static_cast<int>(rng_.between(32768, 60999)); }
  std::string_view lip(std::string_view ip) const { return is_v6(ip) ? kServerV6 : kServerV4; }
  Counts& counts(const std::string& name) { return counts_[name]; }
  bool in_period(std::int64_t ms) const { return ms >= start_ && ms < end_; }
  bool working_time(std::int64_t ms) const {
    const int h = hour_of(ms);
    return weekday_of(ms) < 5 && h >= 8 && h < 18;
  }
  const std::string& ip_at(const Account& a, std::int64_t ms) const {
    if (!a.office_ip.empty() && (a.home_ip.empty() || working_time(ms))) return a.office_ip;
    return a.home_ip;
  }
  bool quiet(const Account& a, std::int64_t ms) const {
    for (const auto& [from, to] : a.quiet) {
      if (ms >= from && ms < to) return true;
    }
    return false;
  }
  bool known(const Account& a, const std::string& ip) const {
    return (ip == a.office_ip && a.known_office) || (ip == a.home_ip && a.known_home);
  }
  void mark_known(Account& a, const std::string& ip) {
    if (ip == a.office_ip) a.known_office = true;
    if (ip == a.home_ip) a.known_home = true;
  }
  bool keep() { return opt_.rate_ppm >= 1000000 || rng_.ppm(opt_.rate_ppm); }
  // An analyzer counts one attempt logged twice (audit.log and mailbox.log, the same second,
  // account, client and outcome) once; so two real attempts never share their second.
  std::int64_t own_second(const std::string& user, const std::string& ip, bool ok,
                          std::int64_t ms) {
    auto& last = last_auth_second_[user + (ok ? "|+|" : "|-|") + ip];
    if (ms / kSecond <= last) ms = (last + 1) * kSecond + ms % kSecond;
    last = ms / kSecond;
    return ms;
  }
  // "first.last", the local part of other people's addresses.
  std::string person() {
    const auto first = rng_.pick(kFirstNames);
    const auto last = rng_.pick(kLastNames);
    return fmt::format("{}.{}", first, last);
  }
  std::string external_address(int domains) {
    const auto who = person();
    return fmt::format("{}@d{}.example.net", who,
                       1 + rng_.below(static_cast<std::uint64_t>(domains)));
  }
  std::string mx_of(std::string_view domain) const {
    return fmt::format("mx1.{}[198.51.100.{}]", domain, mail_host_octet(domain));
  }
  std::uint32_t message_size() {
    // Mostly a few kB, sometimes an attachment.
    const auto bucket = rng_.below(100);
    if (bucket < 70) return static_cast<std::uint32_t>(rng_.between(1800, 12000));
    if (bucket < 95) return static_cast<std::uint32_t>(rng_.between(12000, 250000));
    return static_cast<std::uint32_t>(rng_.between(250000, 8000000));
  }
  std::string message_id(Entry e, std::int64_t ms, std::string_view from) {
    const auto c = civil_from_ms(ms);
    switch (e) {
      case Entry::webmail: {
        const auto a = rng_.between(100000, 999999);
        const auto b = rng_.between(1, 999);
        return fmt::format("<{}.{}.{}.JavaMail.zimbra@example.com>", a, b, ms);
      }
      case Entry::submission: {
        std::array<std::uint64_t, 5> g{};
        for (std::size_t k = 0; k < g.size(); ++k) g[k] = rng_.next();
        return fmt::format("<{:08x}-{:04x}-{:04x}-{:04x}-{:012x}@example.com>", g[0] >> 32,
                           g[1] >> 48, g[2] >> 48, g[3] >> 48, g[4] >> 16);
      }
      default:
        return fmt::format("<{:04}{:02}{:02}{:02}{:02}{:02}.{}@{}>", c.year, c.month, c.day, c.hour,
                           c.minute, c.second, rng_.token(10), domain_of(from));
    }
  }

  // --- logins --------------------------------------------------------------------------------
  void login_ok(const std::string& user, const std::string& ip, Proto p, std::int64_t ms);
  void login_fail(const std::string& user, const std::string& ip, Proto p, std::int64_t ms);
  void smtp_auth_fail(const std::string& user, const std::string& ip, std::int64_t ms,
                      bool with_username);
  void ssh_fail(const std::string& user, const std::string& ip, std::int64_t ms, bool invalid,
                int pid, int port);

  // --- mail ----------------------------------------------------------------------------------
  void submit(std::shared_ptr<Message> m, std::int64_t ms);
  void deliver(const std::shared_ptr<Queued>& q, std::int64_t ms);
  std::int64_t deliver_one(const std::string& qid, const Message& m, Rcpt& r, int attempt,
                           std::int64_t arrived, std::int64_t ms, std::uint32_t size,
                           bool& deferred, bool& bounced);
  std::int64_t bounce_notice(const std::string& orig, const Message& m, std::int64_t ms);
  void retry(const std::shared_ptr<Queued>& q, std::int64_t ms);
  std::vector<Rcpt> background_recipients(int sender);
  // The delivery starts at `begin`; returns the time of Postfix's delivery line.
  std::int64_t local_delivery(const std::string& qid, std::string_view from,
                              const std::string& message_id, const std::string& rcpt,
                              std::int64_t begin, std::int64_t arrived, std::uint32_t size);

  // --- background ----------------------------------------------------------------------------
  void plan_day(int day);
  void session(int i, std::int64_t ms);
  void send(int i, std::int64_t ms, bool typo_allowed);
  void inbound(int i, std::int64_t ms);
  void noise_day(int day);
  bool typo_guard(const std::string& ip, int i, std::int64_t ms);

  // --- incidents and look-alikes -------------------------------------------------------------
  void plan_incidents();
  void plan_benign();
  int take_special();
  std::shared_ptr<Message> sasl_message(int i, const std::string& ip, std::vector<Rcpt> rcpts,
                                        std::int64_t ms);
  std::shared_ptr<Message> webmail_message(int i, std::vector<Rcpt> rcpts, std::int64_t ms);
  std::vector<Rcpt> spam_recipients(int lo, int hi, std::uint32_t defer_pct,
                                    std::uint32_t bounce_pct);

  const Options& opt_;
  bool zimbra_;
  Rng rng_;
  LogSink& sink_;
  std::int64_t start_, end_;
  std::vector<Task> tasks_;
  std::uint64_t task_seq_ = 0;
  std::uint64_t qid_counter_ = 1, qid_salt_ = 0;
  int qmgr_pid_ = 0;
  std::array<int, 4> cleanup_pids_{};
  std::array<int, 8> smtp_pids_{};
  std::array<int, 4> lmtp_pids_{};
  std::array<int, 2> bounce_pids_{};
  std::array<int, 8> amavis_pids_{};
  std::array<int, 8> amavis_counters_{};
  std::vector<Account> accts_;
  std::vector<int> pool_;  // shuffled account indexes, consumed by take_special()
  std::size_t pool_next_ = 0;
  std::unordered_map<std::string, Counts> counts_;
  std::map<std::string, Counts> relayed_;  // mynetworks clients: messages, recipients
  std::unordered_map<std::string, std::vector<std::pair<std::int64_t, int>>> recent_failures_;
  std::unordered_map<std::string, std::int64_t> last_auth_second_;
  std::vector<IncidentTruth> incidents_;
  std::vector<BenignTruth> benign_;
  std::vector<std::string> typo_accounts_;
};

// ============================================================================================
// Logins
// ============================================================================================

void World::login_ok(const std::string& user, const std::string& ip, Proto p, std::int64_t ms) {
  if (p == Proto::smtp) return;  // an SMTP AUTH success shows only in the message's client= line
  ms = own_second(user, ip, true, ms);
  if (in_period(ms)) ++counts(user).logins;
  switch (p) {
    case Proto::webmail:
      if (zimbra_) {
        const auto thread = rng_.between(100, 9999);
        sink_.add(Stream::audit, ms,
                  "INFO  [qtp1090950072-{}:https://mail.example.com/service/soap/AuthRequest] "
                  "[oip={};ua=zclient/10.0.5_GA_4518;] security - cmd=Auth; account={}; "
                  "protocol=soap;",
                  thread, ip, user);
        // Zimbra's security logger also reaches mailbox.log on many installations: the same
        // login, the same second, written twice (an analyzer must count it once).
        if (rng_.percent(30)) {
          sink_.add(Stream::mailbox, ms,
                    "INFO  [qtp1090950072-{}:https://mail.example.com/service/soap/AuthRequest] "
                    "[oip={};ua=zclient/10.0.5_GA_4518;] security - cmd=Auth; account={}; "
                    "protocol=soap;",
                    thread, ip, user);
        }
        return;
      }
      [[fallthrough]];
    case Proto::imap:
    case Proto::pop3: {
      const bool pop = p == Proto::pop3;
      if (zimbra_) {
        const auto thread = rng_.between(1, 250);
        const auto ua = rng_.pick(kImapUserAgents);
        sink_.add(Stream::mailbox, ms,
                  "INFO  [{}-{}] [name={};oip={};ua={};] {} - user {} authenticated, "
                  "mechanism=PLAIN [TLS]",
                  pop ? "Pop3SSLServer" : "ImapSSLServer", thread, user, ip, ua,
                  pop ? "pop" : "imap", user);
      } else {
        const auto mpid = pid();
        const auto session = rng_.token(16);
        sink_.add(Stream::syslog, ms,
                  "dovecot: {}-login: Login: user=<{}>, method=PLAIN, rip={}, lip={}, mpid={}, "
                  "TLS, session=<{}>",
                  pop ? "pop3" : "imap", user, ip, lip(ip), mpid, session);
      }
      return;
    }
    case Proto::ssh: {
      const int p_ = pid();
      const int pt = port();
      const auto key = rng_.token(43);
      sink_.add(Stream::syslog, ms,
                "sshd[{}]: Accepted publickey for {} from {} port {} ssh2: ED25519 SHA256:{}", p_,
                user, ip, pt, key);
      sink_.add(Stream::syslog, ms + 12,
                "sshd[{}]: pam_unix(sshd:session): session opened for user {}(uid=1000) by (uid=0)",
                p_, user);
      return;
    }
    case Proto::smtp:
      return;
  }
}

void World::login_fail(const std::string& user, const std::string& ip, Proto p, std::int64_t ms) {
  if (p != Proto::smtp && p != Proto::ssh) ms = own_second(user, ip, false, ms);
  switch (p) {
    case Proto::webmail:
      if (zimbra_) {
        if (in_period(ms)) ++counts(user).failures;
        sink_.add(Stream::audit, ms,
                  "WARN  [qtp1090950072-{}:https://mail.example.com/service/soap/AuthRequest] "
                  "[oip={};ua=zclient/10.0.5_GA_4518;] security - cmd=Auth; account={}; "
                  "protocol=soap; error=authentication failed for [{}], invalid password;",
                  rng_.between(100, 9999), ip, user, user);
        return;
      }
      [[fallthrough]];
    case Proto::imap:
    case Proto::pop3: {
      if (in_period(ms)) ++counts(user).failures;
      const bool pop = p == Proto::pop3;
      if (zimbra_) {
        const auto thread = rng_.between(1, 250);
        const auto ua = rng_.pick(kImapUserAgents);
        sink_.add(Stream::mailbox, ms,
                  "WARN  [{}-{}] [oip={};ua={};] {} - authentication failed for [{}], invalid "
                  "password",
                  pop ? "Pop3SSLServer" : "ImapSSLServer", thread, ip, ua, pop ? "pop" : "imap",
                  user);
      } else {
        const std::string_view how = rng_.percent(50) ? "Disconnected" : "Aborted login";
        const auto secs = rng_.between(2, 9);
        const auto session = rng_.token(16);
        sink_.add(Stream::syslog, ms,
                  "dovecot: {}-login: {} (auth failed, 1 attempts in {} secs): user=<{}>, "
                  "method=PLAIN, rip={}, lip={}, TLS, session=<{}>",
                  pop ? "pop3" : "imap", how, secs, user, ip, lip(ip), session);
      }
      return;
    }
    case Proto::smtp:
      smtp_auth_fail(user, ip, ms, true);
      return;
    case Proto::ssh: {
      const int p_ = pid();
      ssh_fail(user, ip, ms, false, p_, port());
      return;
    }
  }
}

void World::smtp_auth_fail(const std::string& user, const std::string& ip, std::int64_t ms,
                           bool with_username) {
  const int p = pid();
  const std::string_view tag = rng_.percent(80) ? "postfix/submission/smtpd" : "postfix/smtpd";
  const std::string_view method = rng_.percent(60) ? "LOGIN" : "PLAIN";
  sink_.add(Stream::syslog, ms, "{}[{}]: connect from unknown[{}]", tag, p, ip);
  auto t = ms + rng_.between(1500, 4000);
  if (with_username) {
    t = own_second(user, ip, false, t);
    if (in_period(t)) ++counts(user).failures;
    // Postfix >= 3.7.8 names the user; the reason is the SASL server's (Cyrus for Zimbra,
    // Dovecot for the other flavor).
    sink_.add(Stream::syslog, t,
              "{}[{}]: warning: unknown[{}]: SASL {} authentication failed: {}, sasl_username={}",
              tag, p, ip, method, zimbra_ ? "authentication failure" : "(reason unavailable)",
              user);
  } else if (rng_.percent(50)) {
    // Older Postfix: no user name; Cyrus' reply is the base64 "Password:" prompt.
    sink_.add(Stream::syslog, t,
              "{}[{}]: warning: unknown[{}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", tag,
              p, ip);
  } else {
    sink_.add(Stream::syslog, t,
              "{}[{}]: warning: unknown[{}]: SASL {} authentication failed: (reason unavailable), "
              "sasl_username=(unavailable)",
              tag, p, ip, method);
  }
  if (rng_.percent(50)) {
    sink_.add(Stream::syslog, t + 3, "{}[{}]: lost connection after AUTH from unknown[{}]", tag, p,
              ip);
    sink_.add(Stream::syslog, t + 4,
              "{}[{}]: disconnect from unknown[{}] ehlo=1 auth=0/1 commands=1/2", tag, p, ip);
  } else {
    sink_.add(Stream::syslog, t + 4,
              "{}[{}]: disconnect from unknown[{}] ehlo=1 auth=0/1 quit=1 commands=2/3", tag, p,
              ip);
  }
}

void World::ssh_fail(const std::string& user, const std::string& ip, std::int64_t ms, bool invalid,
                     int p, int port_) {
  ms = own_second(user, ip, false, ms);
  if (in_period(ms)) ++counts(user).failures;
  sink_.add(Stream::syslog, ms, "sshd[{}]: Failed password for {}{} from {} port {} ssh2", p,
            invalid ? "invalid user " : "", user, ip, port_);
}

// ============================================================================================
// Mail
// ============================================================================================

void World::submit(std::shared_ptr<Message> m, std::int64_t ms) {
  const std::size_t n = m->rcpts.size();
  const bool sasl = !m->sasl_user.empty();
  const std::string_view tag =
      m->entry == Entry::submission ? "postfix/submission/smtpd" : "postfix/smtpd";
  const int p = pid();
  const bool tls = m->entry != Entry::webmail && m->entry != Entry::relay;
  sink_.add(Stream::syslog, ms, "{}[{}]: connect from {}[{}]", tag, p, m->client_name,
            m->client_ip);
  auto t = ms;
  if (tls) {
    t += rng_.between(60, 300);
    sink_.add(Stream::syslog, t,
              "{}[{}]: Anonymous TLS connection established from {}[{}]: TLSv1.3 with cipher "
              "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
              "RSA-PSS (2048 bits) server-digest SHA256",
              tag, p, m->client_name, m->client_ip);
  }
  if (m->entry == Entry::inbound && m->rcpts.size() == 1 && m->rcpts[0].fate == Fate::bounce) {
    // Mail for a user who does not exist is refused at RCPT time and never queued.
    t += rng_.between(200, 900);
    const auto& r = m->rcpts[0].addr;
    const auto helo = m->client_name;
    sink_.add(Stream::syslog, t,
              "{}[{}]: NOQUEUE: reject: RCPT from {}[{}]: 550 5.1.1 <{}>: Recipient address "
              "rejected: User unknown in virtual mailbox table; from=<{}> to=<{}> proto=ESMTP "
              "helo=<{}>",
              tag, p, m->client_name, m->client_ip, r, m->from, r, helo);
    sink_.add(Stream::syslog, t + rng_.between(20, 200),
              "{}[{}]: disconnect from {}[{}] ehlo=1{} mail=1 rcpt=0/1 quit=1 commands={}/{}", tag,
              p, m->client_name, m->client_ip, tls ? " starttls=1" : "", tls ? 4 : 3, tls ? 5 : 4);
    return;
  }
  const auto q1 = qid();
  t += rng_.between(300, 1500);
  if (sasl) {
    sink_.add(Stream::syslog, t, "{}[{}]: {}: client={}[{}], sasl_method={}, sasl_username={}", tag,
              p, q1, m->client_name, m->client_ip, m->sasl_method, m->sasl_user);
  } else {
    sink_.add(Stream::syslog, t, "{}[{}]: {}: client={}[{}]", tag, p, q1, m->client_name,
              m->client_ip);
  }
  if (in_period(t)) {
    if (m->account >= 0) {
      auto& c = counts(accts_[static_cast<std::size_t>(m->account)].name);
      ++c.messages;
      c.recipients += n;
      if (sasl) ++c.sasl_messages;
    }
    if (m->entry == Entry::relay) {
      auto& c = relayed_[m->client_ip];
      ++c.messages;
      c.recipients += n;
    }
  }
  t += rng_.between(10, 80);
  sink_.add(Stream::syslog, t, "postfix/cleanup[{}]: {}: message-id={}",
            cleanup_pids_[rng_.below(cleanup_pids_.size())], q1, m->message_id);
  t += rng_.between(5, 40);
  sink_.add(Stream::syslog, t, "postfix/qmgr[{}]: {}: from=<{}>, size={}, nrcpt={} (queue active)",
            qmgr_pid_, q1, m->from, m->size, n);
  t += rng_.between(5, 60);
  sink_.add(Stream::syslog, t,
            "{}[{}]: disconnect from {}[{}] ehlo=1{}{} mail=1 rcpt={} data=1 quit=1 commands={}",
            tag, p, m->client_name, m->client_ip, tls ? " starttls=1" : "", sasl ? " auth=1" : "",
            n, n + 4 + (tls ? 1 : 0) + (sasl ? 1 : 0));

  auto q = std::make_shared<Queued>();
  q->m = m;
  q->arrived = ms;
  for (std::size_t i = 0; i < n; ++i) q->pending.push_back(i);
  if (!zimbra_) {
    q->qid = q1;
    q->size = m->size;
    deliver(q, t + rng_.between(5, 60));
    return;
  }

  // Zimbra: every message goes through amavis (content_filter smtp-amavis:[127.0.0.1]:10032)
  // and comes back on port 10025 under a new queue id. The re-injection is logged before the
  // filter's reply "queued as" ends the first queue entry.
  const int slot = static_cast<int>(rng_.below(amavis_pids_.size()));
  const int apid = amavis_pids_[static_cast<std::size_t>(slot)];
  const int anum = ++amavis_counters_[static_cast<std::size_t>(slot)];
  const auto scan_ms = rng_.between(300, 2500);
  auto t2 = t + scan_ms;
  std::string rlist;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) rlist += ',';
    rlist += '<';
    rlist += m->rcpts[i].addr;
    rlist += '>';
  }
  const std::string_view direction = m->entry == Entry::inbound ? "Inbound" : "Outbound";
  const auto aport = port();
  const int smtp_pid = smtp_pids_[rng_.below(smtp_pids_.size())];
  const auto mail_id = rng_.token(12);
  if (m->spam) {
    const auto quarantine = rng_.token(12);
    const auto hits = rng_.between(8, 30);
    const auto hits_frac = rng_.below(1000);
    sink_.add(
        Stream::syslog, t2,
        "amavis[{}]: ({}-{:02}) Blocked SPAM {{Discarded{},Quarantined}}, [{}]:{} [{}] <{}> -> "
        "{}, quarantine: spam-{}, Queue-ID: {}, Message-ID: {}, mail_id: {}, Hits: {}.{:03}, "
        "size: {}, {} ms",
        apid, apid, anum, direction, m->client_ip, aport, m->client_ip, m->from, rlist, quarantine,
        q1, m->message_id, mail_id, hits, hits_frac, m->size, scan_ms);
    for (std::size_t i = 0; i < n; ++i) {
      sink_.add(Stream::syslog, t2 + 2,
                "postfix/smtp[{}]: {}: to=<{}>, relay=127.0.0.1[127.0.0.1]:10032, delay={}, "
                "delays={}/0/0/{}, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id={}-{:02} - "
                "spam)",
                smtp_pid, q1, m->rcpts[i].addr, Secs{t2 - ms}, Secs{t - ms}, Secs{scan_ms}, apid,
                anum);
    }
    sink_.add(Stream::syslog, t2 + 4, "postfix/qmgr[{}]: {}: removed", qmgr_pid_, q1);
    return;
  }
  const auto q2 = qid();
  const int rp = pid();
  const auto size2 = m->size + static_cast<std::uint32_t>(rng_.between(550, 900));
  sink_.add(Stream::syslog, t2, "postfix/smtpd[{}]: connect from localhost[127.0.0.1]", rp);
  sink_.add(Stream::syslog, t2 + 3, "postfix/smtpd[{}]: {}: client=localhost[127.0.0.1]", rp, q2);
  sink_.add(Stream::syslog, t2 + 6, "postfix/cleanup[{}]: {}: message-id={}",
            cleanup_pids_[rng_.below(cleanup_pids_.size())], q2, m->message_id);
  sink_.add(Stream::syslog, t2 + 9,
            "postfix/qmgr[{}]: {}: from=<{}>, size={}, nrcpt={} (queue active)", qmgr_pid_, q2,
            m->from, size2, n);
  sink_.add(Stream::syslog, t2 + 11,
            "postfix/smtpd[{}]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={} data=1 "
            "quit=1 commands={}",
            rp, n, n + 4);
  const auto hits = rng_.below(3);
  const auto hits_frac = rng_.below(1000);
  sink_.add(Stream::syslog, t2 + 13,
            "amavis[{}]: ({}-{:02}) Passed CLEAN {{Relayed{}}}, [127.0.0.1]:{} [{}] <{}> -> {}, "
            "Queue-ID: {}, Message-ID: {}, mail_id: {}, Hits: -{}.{:03}, size: {}, queued_as: {}, "
            "{} ms",
            apid, apid, anum, direction, aport, m->client_ip, m->from, rlist, q1, m->message_id,
            mail_id, hits, hits_frac, m->size, q2, scan_ms);
  for (std::size_t i = 0; i < n; ++i) {
    sink_.add(Stream::syslog, t2 + 15,
              "postfix/smtp[{}]: {}: to=<{}>, relay=127.0.0.1[127.0.0.1]:10032, delay={}, "
              "delays={}/0/0/{}, dsn=2.0.0, status=sent (250 2.0.0 from "
              "MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {})",
              smtp_pid, q1, m->rcpts[i].addr, Secs{t2 + 15 - ms}, Secs{t - ms}, Secs{scan_ms}, q2);
  }
  sink_.add(Stream::syslog, t2 + 17, "postfix/qmgr[{}]: {}: removed", qmgr_pid_, q1);
  q->qid = q2;
  q->size = size2;
  deliver(q, t2 + rng_.between(20, 120));
}

std::int64_t World::local_delivery(const std::string& qid, std::string_view from,
                                   const std::string& message_id, const std::string& rcpt,
                                   std::int64_t begin, std::int64_t arrived, std::uint32_t size) {
  const int lp = lmtp_pids_[rng_.below(lmtp_pids_.size())];
  const auto took = rng_.between(20, 400);
  const auto t = begin + took;
  if (zimbra_) {
    const auto thread = rng_.between(1, 60);
    const auto mailbox_id = rng_.between(2, 9000);
    sink_.add(Stream::mailbox, begin,
              "INFO  [LmtpServer-{}] [name={};mid={};ip=192.0.2.2;] lmtp - Delivering message: "
              "size={} bytes, nrcpts=1, sender={}, msgid={}",
              thread, rcpt, mailbox_id, size, from, message_id);
    sink_.add(Stream::syslog, t,
              "postfix/lmtp[{}]: {}: to=<{}>, relay={}, delay={}, delays=0.01/0/0/{}, dsn=2.1.5, "
              "status=sent (250 2.1.5 Delivery OK)",
              lp, qid, rcpt, kLmtpZimbra, Secs{t - arrived}, Secs{took});
  } else {
    const auto sess = rng_.token(16);
    sink_.add(Stream::syslog, begin, "dovecot: lmtp({})<{}><{}>: msgid={}: saved mail to INBOX",
              rcpt, pid(), sess, message_id);
    sink_.add(Stream::syslog, t,
              "postfix/lmtp[{}]: {}: to=<{}>, relay={}, delay={}, delays=0.01/0/0/{}, dsn=2.0.0, "
              "status=sent (250 2.0.0 <{}> {} Saved)",
              lp, qid, rcpt, kLmtpDovecot, Secs{t - arrived}, Secs{took}, rcpt, sess);
  }
  return t;
}

std::int64_t World::deliver_one(const std::string& qid, const Message& m, Rcpt& r, int attempt,
                                std::int64_t arrived, std::int64_t ms, std::uint32_t size,
                                bool& deferred, bool& bounced) {
  if (r.local) {
    return local_delivery(qid, m.from, m.message_id, r.addr, ms + rng_.between(10, 100), arrived,
                          size);
  }
  const int sp = smtp_pids_[rng_.below(smtp_pids_.size())];
  const auto domain = domain_of(r.addr);
  bool fail_now = false, bounce_now = false;
  switch (r.fate) {
    case Fate::sent:
      break;
    case Fate::defer_sent:
      fail_now = attempt <= r.tries;
      break;
    case Fate::defer_bounce:
      fail_now = attempt <= r.tries;
      bounce_now = !fail_now;
      break;
    case Fate::bounce:
      bounce_now = true;
      break;
    case Fate::dead:
      fail_now = true;
      break;
  }
  if (r.fate == Fate::dead) {
    const auto t = ms + rng_.between(10, 300);
    sink_.add(
        Stream::syslog, t,
        "postfix/smtp[{}]: {}: to=<{}>, relay=none, delay={}, delays={}/0.01/{}/0, dsn=4.4.3, "
        "status=deferred (Host or domain name not found. Name service error for name={} "
        "type=MX: Host not found, try again)",
        sp, qid, r.addr, Secs{t - arrived}, Secs{t - arrived - 60 > 0 ? t - arrived - 60 : 0},
        Secs{t - ms}, domain);
    deferred = true;
    return t;
  }
  const auto mx = mx_of(domain);
  if (fail_now) {
    deferred = true;
    if (rng_.percent(60)) {
      const auto t = ms + rng_.between(300, 2500);
      sink_.add(Stream::syslog, t,
                "postfix/smtp[{}]: {}: to=<{}>, relay={}:25, delay={}, delays=0.01/0.01/{}/{}, "
                "dsn=4.7.1, status=deferred (host {} said: 451 4.7.1 Greylisting in action, "
                "please come back later (in reply to RCPT TO command))",
                sp, qid, r.addr, mx, Secs{t - arrived}, Secs{(t - ms) / 2}, Secs{(t - ms) / 2}, mx);
      return t;
    }
    const auto t = ms + 30000;
    sink_.add(Stream::syslog, t,
              "postfix/smtp[{}]: {}: to=<{}>, relay=none, delay={}, delays=0.01/0.01/30/0, "
              "dsn=4.4.1, status=deferred (connect to {}:25: Connection timed out)",
              sp, qid, r.addr, Secs{t - arrived}, mx);
    return t;
  }
  const auto t = ms + rng_.between(250, 3000);
  if (bounce_now) {
    bounced = true;
    sink_.add(Stream::syslog, t,
              "postfix/smtp[{}]: {}: to=<{}>, relay={}:25, delay={}, delays=0.01/0.01/{}/{}, "
              "dsn=5.1.1, status=bounced (host {} said: 550 5.1.1 <{}>: Recipient address "
              "rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))",
              sp, qid, r.addr, mx, Secs{t - arrived}, Secs{(t - ms) / 2}, Secs{(t - ms) / 2}, mx,
              r.addr);
    return t;
  }
  const auto kind = rng_.below(3);
  if (kind == 0) {
    sink_.add(Stream::syslog, t,
              "postfix/smtp[{}]: {}: to=<{}>, relay={}:25, delay={}, delays=0.01/0.01/{}/{}, "
              "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {})",
              sp, qid, r.addr, mx, Secs{t - arrived}, Secs{(t - ms) / 2}, Secs{(t - ms) / 2},
              rng_.token(12));
  } else if (kind == 1) {
    sink_.add(Stream::syslog, t,
              "postfix/smtp[{}]: {}: to=<{}>, relay={}:25, delay={}, delays=0.01/0.01/{}/{}, "
              "dsn=2.0.0, status=sent (250 2.0.0 OK {} {} - gsmtp)",
              sp, qid, r.addr, mx, Secs{t - arrived}, Secs{(t - ms) / 2}, Secs{(t - ms) / 2},
              t / 1000, rng_.token(20));
  } else {
    sink_.add(Stream::syslog, t,
              "postfix/smtp[{}]: {}: to=<{}>, relay={}:25, delay={}, delays=0.01/0.01/{}/{}, "
              "dsn=2.0.0, status=sent (250 Message accepted for delivery)",
              sp, qid, r.addr, mx, Secs{t - arrived}, Secs{(t - ms) / 2}, Secs{(t - ms) / 2});
  }
  return t;
}

std::int64_t World::bounce_notice(const std::string& orig, const Message& m, std::int64_t ms) {
  // The non-delivery notification is a new message from the null sender back to the sender;
  // the original's "removed" (at the returned time) comes before the notification's delivery.
  const auto q3 = qid();
  const auto c = civil_from_ms(ms);
  const auto mid = fmt::format("<{:04}{:02}{:02}{:02}{:02}{:02}.{}@mail.example.com>", c.year,
                               c.month, c.day, c.hour, c.minute, c.second, q3);
  const auto size3 = static_cast<std::uint32_t>(rng_.between(2400, 6000));
  sink_.add(Stream::syslog, ms, "postfix/cleanup[{}]: {}: message-id={}",
            cleanup_pids_[rng_.below(cleanup_pids_.size())], q3, mid);
  sink_.add(Stream::syslog, ms + 2, "postfix/bounce[{}]: {}: sender non-delivery notification: {}",
            bounce_pids_[rng_.below(bounce_pids_.size())], orig, q3);
  sink_.add(Stream::syslog, ms + 4,
            "postfix/qmgr[{}]: {}: from=<>, size={}, nrcpt=1 (queue active)", qmgr_pid_, q3, size3);
  auto t = ms + rng_.between(30, 300);
  if (domain_of(m.from) == "example.com") {
    t = local_delivery(q3, "", mid, m.from, t, ms, size3);
  } else {
    // Backscatter to a forged sender's domain.
    const auto mx = mx_of(domain_of(m.from));
    sink_.add(Stream::syslog, t,
              "postfix/smtp[{}]: {}: to=<{}>, relay={}:25, delay={}, delays=0/0.01/{}/{}, "
              "dsn=2.0.0, status=sent (250 Message accepted for delivery)",
              smtp_pids_[rng_.below(smtp_pids_.size())], q3, m.from, mx, Secs{t - ms},
              Secs{(t - ms) / 2}, Secs{(t - ms) / 2});
  }
  sink_.add(Stream::syslog, t + rng_.between(2, 20), "postfix/qmgr[{}]: {}: removed", qmgr_pid_,
            q3);
  return ms + 5;
}

void World::deliver(const std::shared_ptr<Queued>& q, std::int64_t ms) {
  auto& m = *q->m;
  bool any_deferred = false, any_bounced = false;
  std::vector<std::size_t> still;
  auto t = ms;
  auto last = ms;
  for (auto i : q->pending) {
    bool deferred = false, bounced = false;
    t += rng_.between(1, 40);
    const auto done =
        deliver_one(q->qid, m, m.rcpts[i], q->attempt, q->arrived, t, q->size, deferred, bounced);
    last = std::max(last, done);
    if (deferred) still.push_back(i);
    any_deferred = any_deferred || deferred;
    any_bounced = any_bounced || bounced;
  }
  t = last + rng_.between(5, 40);
  if (any_bounced) t = bounce_notice(q->qid, m, t);
  if (any_deferred) {
    q->pending = std::move(still);
    q->backoff =
        q->backoff == 0 ? 300 * kSecond : std::min<std::int64_t>(q->backoff * 2, 4000 * kSecond);
    const auto when = t + q->backoff + rng_.between(0, 60 * kSecond);
    ++q->attempt;
    auto keep = q;
    at(when, [this, keep, when] { retry(keep, when); });
    return;
  }
  sink_.add(Stream::syslog, t, "postfix/qmgr[{}]: {}: removed", qmgr_pid_, q->qid);
}

void World::retry(const std::shared_ptr<Queued>& q, std::int64_t ms) {
  auto& m = *q->m;
  if (ms - q->arrived >= kMaxQueueLifetime) {
    sink_.add(Stream::syslog, ms,
              "postfix/qmgr[{}]: {}: from=<{}>, status=expired, returned to sender", qmgr_pid_,
              q->qid, m.from);
    const auto t = bounce_notice(q->qid, m, ms + rng_.between(5, 50));
    sink_.add(Stream::syslog, t, "postfix/qmgr[{}]: {}: removed", qmgr_pid_, q->qid);
    return;
  }
  sink_.add(Stream::syslog, ms, "postfix/qmgr[{}]: {}: from=<{}>, size={}, nrcpt={} (queue active)",
            qmgr_pid_, q->qid, m.from, q->size, m.rcpts.size());
  deliver(q, ms + rng_.between(5, 50));
}

// ============================================================================================
// Background: the normal accounts' days
// ============================================================================================

std::shared_ptr<Message> World::sasl_message(int i, const std::string& ip, std::vector<Rcpt> rcpts,
                                             std::int64_t ms) {
  auto m = std::make_shared<Message>();
  const auto& a = accts_[static_cast<std::size_t>(i)];
  m->entry = Entry::submission;
  m->from = a.name;
  m->rcpts = std::move(rcpts);
  m->client_name = "unknown";
  m->client_ip = ip;
  m->sasl_user = a.name;
  m->sasl_method = rng_.percent(70) ? "PLAIN" : "LOGIN";
  m->account = i;
  m->size = message_size();
  m->message_id = message_id(Entry::submission, ms, a.name);
  return m;
}

std::shared_ptr<Message> World::webmail_message(int i, std::vector<Rcpt> rcpts, std::int64_t ms) {
  auto m = std::make_shared<Message>();
  const auto& a = accts_[static_cast<std::size_t>(i)];
  // Zimbra's mailboxd hands webmail messages to Postfix over loopback, without SASL: the
  // envelope sender is the account.
  m->entry = Entry::webmail;
  m->from = a.name;
  m->rcpts = std::move(rcpts);
  m->client_name = "localhost";
  m->client_ip = "127.0.0.1";
  m->account = i;
  m->size = message_size();
  m->message_id = message_id(Entry::webmail, ms, a.name);
  return m;
}

std::vector<Rcpt> World::background_recipients(int sender) {
  const auto roll = rng_.below(100);
  const int k = roll < 50 ? 1 : roll < 75 ? 2 : roll < 87 ? 3 : roll < 95 ? 4 : 5;
  std::vector<Rcpt> out;
  for (int j = 0; j < k; ++j) {
    Rcpt r;
    if (rng_.percent(70)) {
      r.addr = external_address(800);
      if (rng_.ppm(5000)) {
        r.fate = Fate::bounce;
      } else if (rng_.ppm(20000)) {
        r.fate = Fate::defer_sent;
        r.tries = static_cast<std::uint8_t>(rng_.between(1, 2));
      }
    } else {
      auto other = static_cast<int>(rng_.below(accts_.size()));
      if (other == sender) other = (other + 1) % static_cast<int>(accts_.size());
      r.addr = accts_[static_cast<std::size_t>(other)].name;
      r.local = true;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Rcpt> World::spam_recipients(int lo, int hi, std::uint32_t defer_pct,
                                         std::uint32_t bounce_pct) {
  const auto k = rng_.between(lo, hi);
  std::vector<Rcpt> out;
  for (std::int64_t j = 0; j < k; ++j) {
    Rcpt r;
    r.addr = external_address(20000);
    const auto roll = rng_.below(100);
    if (roll < bounce_pct) {
      r.fate = Fate::bounce;
    } else if (roll < bounce_pct + defer_pct) {
      r.fate = rng_.percent(50) ? Fate::defer_sent : Fate::defer_bounce;
      r.tries = static_cast<std::uint8_t>(rng_.between(1, 2));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool World::typo_guard(const std::string& ip, int i, std::int64_t ms) {
  // Users behind one office NAT: never more than three accounts failing from one address
  // within 30 minutes, a third of what password_spray needs.
  auto& v = recent_failures_[ip];
  std::erase_if(v, [ms](const auto& e) { return e.first < ms - 30 * kMinute; });
  std::vector<int> others;
  for (const auto& e : v) {
    if (e.second != i && std::find(others.begin(), others.end(), e.second) == others.end()) {
      others.push_back(e.second);
    }
  }
  if (others.size() >= 2) return false;
  v.emplace_back(ms, i);
  return true;
}

void World::session(int i, std::int64_t ms) {
  auto& a = accts_[static_cast<std::size_t>(i)];
  if (quiet(a, ms)) return;
  const auto& ip = ip_at(a, ms);
  const Proto p = a.client == Client::webmail ? Proto::webmail
                  : a.client == Client::pop3  ? Proto::pop3
                                              : Proto::imap;
  auto t = ms;
  if (a.typos && known(a, ip) && rng_.percent(4) && typo_guard(ip, i, t)) {
    const int n = rng_.percent(80) ? 1 : 2;
    for (int k = 0; k < n; ++k) {
      login_fail(a.name, ip, p, t);
      t += rng_.between(8 * kSecond, 40 * kSecond);
    }
    if (in_period(ms)) typo_accounts_.push_back(a.name);
  }
  login_ok(a.name, ip, p, t);
  mark_known(a, ip);
  if (!zimbra_) {
    // Dovecot's mail process logs the end of the session.
    const auto out = t + rng_.between(2 * kMinute, 3 * kHour);
    const bool pop = p == Proto::pop3;
    at(out, [this, i, out, pop] {
      const auto& name = accts_[static_cast<std::size_t>(i)].name;
      const auto mpid = pid();
      const auto session = rng_.token(16);
      if (pop) {
        const auto n = rng_.between(0, 12);
        sink_.add(Stream::syslog, out,
                  "dovecot: pop3({})<{}><{}>: Disconnected: Logged out top=0/0, retr={}/{}, "
                  "del={}/{}, size={}",
                  name, mpid, session, n, n * 23456, n, n, n * 23456 + 1024);
      } else {
        const auto in = rng_.between(200, 9000);
        const auto sent = rng_.between(900, 900000);
        const auto bodies = rng_.between(0, 20);
        const auto body_bytes = rng_.between(0, 400000);
        sink_.add(Stream::syslog, out,
                  "dovecot: imap({})<{}><{}>: Logged out in={} out={} deleted=0 expunged=0 "
                  "trashed=0 hdr_count=0 hdr_bytes=0 body_count={} body_bytes={}",
                  name, mpid, session, in, sent, bodies, body_bytes);
      }
    });
  }
}

void World::send(int i, std::int64_t ms, bool typo_allowed) {
  auto& a = accts_[static_cast<std::size_t>(i)];
  if (quiet(a, ms)) return;
  auto rcpts = background_recipients(i);
  if (zimbra_ && a.client == Client::webmail) {
    submit(webmail_message(i, std::move(rcpts), ms), ms);
    return;
  }
  const auto& ip = ip_at(a, ms);
  auto t = ms;
  if (typo_allowed && a.typos && known(a, ip) && rng_.ppm(5000) && typo_guard(ip, i, t)) {
    // A mail client with a mistyped password, corrected at once.
    smtp_auth_fail(a.name, ip, t, true);
    t += rng_.between(15 * kSecond, 60 * kSecond);
    if (in_period(ms)) typo_accounts_.push_back(a.name);
  }
  submit(sasl_message(i, ip, std::move(rcpts), t), t);
}

void World::inbound(int i, std::int64_t ms) {
  const auto& a = accts_[static_cast<std::size_t>(i)];
  auto m = std::make_shared<Message>();
  m->entry = Entry::inbound;
  const auto domain = fmt::format("d{}.example.net", 1 + rng_.below(800));
  m->from = fmt::format("{}@{}", person(), domain);
  m->client_name = "mail." + domain;
  m->client_ip = fmt::format("198.51.100.{}", mail_host_octet(domain));
  if (rng_.percent(4)) {
    // A mistyped or long-gone local address: refused at RCPT time.
    Rcpt r;
    r.addr = person() + "@example.com";
    r.fate = Fate::bounce;
    r.local = true;
    m->rcpts.push_back(std::move(r));
  } else {
    Rcpt r;
    r.addr = a.name;
    r.local = true;
    m->rcpts.push_back(std::move(r));
    if (rng_.percent(10)) {
      Rcpt o;
      o.addr = accts_[rng_.below(accts_.size())].name;
      o.local = true;
      if (o.addr != a.name) m->rcpts.push_back(std::move(o));
    }
    m->spam = zimbra_ && rng_.percent(3);
  }
  m->size = message_size();
  m->message_id = message_id(Entry::inbound, ms, m->from);
  submit(std::move(m), ms);
}

void World::plan_day(int day) {
  const auto ds = start_ + static_cast<std::int64_t>(day) * kDay;
  const bool work = weekday_of(ds) < 5;
  for (std::size_t idx = 0; idx < accts_.size(); ++idx) {
    const int i = static_cast<int>(idx);
    const auto& a = accts_[idx];
    const auto sessions = work ? rng_.between(2, 5) : rng_.between(0, 2);
    for (std::int64_t s = 0; s < sessions; ++s) {
      std::int64_t t = 0;
      if (s == 0 && work) {
        t = ds + 7 * kHour + 30 * kMinute + rng_.between(0, 2 * kHour);
      } else {
        t = ds + 9 * kHour + 30 * kMinute + rng_.between(0, 12 * kHour + 30 * kMinute);
      }
      if (keep()) at(t, [this, i, t] { session(i, t); });
    }
    if (a.background_sends) {
      const auto msgs = work ? std::max<std::int64_t>(0, a.mail_rate + rng_.between(-2, 2))
                             : rng_.between(0, a.mail_rate / 8);
      // At most 10 messages in any clock hour: a third of what baseline_exceeded needs.
      std::array<int, 24> per_hour{};
      for (std::int64_t k = 0; k < msgs; ++k) {
        int h = 0;
        if (work) {
          h = rng_.percent(85) ? static_cast<int>(8 + rng_.below(10))
                               : static_cast<int>(18 + rng_.below(5));
        } else {
          h = static_cast<int>(10 + rng_.below(12));
        }
        int tries = 0;
        while (per_hour[static_cast<std::size_t>(h)] >= 10 && tries++ < 24) h = (h + 1) % 24;
        if (per_hour[static_cast<std::size_t>(h)] >= 10) continue;
        ++per_hour[static_cast<std::size_t>(h)];
        const auto t = ds + h * kHour + rng_.between(0, kHour - 1);
        if (keep()) at(t, [this, i, t] { send(i, t, true); });
      }
    }
    const auto in =
        work ? std::max<std::int64_t>(0, a.inbound_rate + rng_.between(-2, 2)) : a.inbound_rate / 3;
    for (std::int64_t k = 0; k < in; ++k) {
      const auto t = rng_.percent(75) ? ds + 7 * kHour + rng_.between(0, 12 * kHour)
                                      : ds + rng_.between(0, kDay - 1);
      if (keep()) at(t, [this, i, t] { inbound(i, t); });
    }
  }
}

// Administrators and the internet's background noise: ssh logins, ssh and SMTP AUTH scanners.
void World::noise_day(int day) {
  const auto ds = start_ + static_cast<std::int64_t>(day) * kDay;
  const bool work = weekday_of(ds) < 5;
  const auto admin_logins = work ? rng_.between(1, 3) : rng_.between(0, 1);
  for (std::int64_t k = 0; k < admin_logins; ++k) {
    const auto t = ds + 8 * kHour + rng_.between(0, 9 * kHour);
    at(t, [this, t] { login_ok("sysadmin", "192.0.2.11", Proto::ssh, t); });
  }
  // ssh scanners: about one every two hours, each trying one to three names.
  for (int k = 0; k < 12; ++k) {
    const auto t = ds + k * 2 * kHour + rng_.between(0, 2 * kHour - 10 * kMinute);
    // One address per session (121 in turn), so that no address tries many names in an hour.
    const auto octet = 130 + (day * 12 + k) % 121;
    at(t, [this, t, octet] {
      const auto ip = rng_.percent(60)
                          ? fmt::format("203.0.113.{}", octet)
                          : ip6(Region::fr, static_cast<std::uint32_t>(rng_.between(1, 0xfff)));
      auto when = t;
      const auto names = rng_.between(1, 3);
      const auto first = rng_.below(std::size(kSshScanNames));
      for (std::int64_t n = 0; n < names; ++n) {
        const std::string user(
            kSshScanNames[(first + static_cast<std::uint64_t>(n)) % std::size(kSshScanNames)]);
        const int p = pid();
        const int pt = port();
        sink_.add(Stream::syslog, when, "sshd[{}]: Invalid user {} from {} port {}", p, user, ip,
                  pt);
        when += rng_.between(1500, 3000);
        ssh_fail(user, ip, when, true, p, pt);
        when += rng_.between(200, 800);
        sink_.add(Stream::syslog, when,
                  "sshd[{}]: Connection closed by invalid user {} {} port {} [preauth]", p, user,
                  ip, pt);
        when += rng_.between(2000, 20000);
      }
    });
  }
  // SMTP AUTH scanners that give no user name (older Postfix, or a client that gives up).
  for (int k = 0; k < 16; ++k) {
    const auto t = ds + k * 90 * kMinute + rng_.between(0, 80 * kMinute);
    at(t, [this, t] {
      const auto ip = rng_.percent(60)
                          ? fmt::format("203.0.113.{}", rng_.between(130, 250))
                          : ip6(Region::fr, static_cast<std::uint32_t>(rng_.between(1, 0xfff)));
      auto when = t;
      const auto n = rng_.between(1, 3);
      for (std::int64_t k2 = 0; k2 < n; ++k2) {
        smtp_auth_fail("", ip, when, false);
        when += rng_.between(20 * kSecond, 3 * kMinute);
      }
    });
  }
}

// ============================================================================================
// Incidents and look-alikes
// ============================================================================================

int World::take_special() {
  if (pool_next_ >= pool_.size())
    throw std::invalid_argument("not enough accounts for the incidents");
  const int i = pool_[pool_next_++];
  auto& a = accts_[static_cast<std::size_t>(i)];
  a.typos = false;
  return i;
}

void World::plan_benign() {
  const int mid = (opt_.days - 1) / 2;
  const auto bm = start_ + static_cast<std::int64_t>(mid) * kDay;

  // B1: a phone with an old password, next to the laptop that logs in fine from the same home.
  {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    a.office_ip.clear();
    if (a.home_ip.empty()) a.home_ip = home_ip(i);
    if (a.client == Client::pop3) a.client = Client::imap;
    const auto from = std::max(start_ + 2 * kHour, bm - kDay + 18 * kHour);
    const auto to = std::min(end_, from + 2 * kDay);
    const auto laptop = from - 10 * kMinute;
    at(laptop, [this, i, laptop] {
      auto& acc = accts_[static_cast<std::size_t>(i)];
      login_ok(acc.name, acc.home_ip, acc.client == Client::webmail ? Proto::webmail : Proto::imap,
               laptop);
      mark_known(acc, acc.home_ip);
    });
    for (auto t = from; t < to; t += rng_.between(5 * kMinute, 15 * kMinute)) {
      at(t, [this, i, t] {
        const auto& acc = accts_[static_cast<std::size_t>(i)];
        login_fail(acc.name, acc.home_ip, Proto::imap, t);
      });
    }
    benign_.push_back({"B1",
                       "phone_old_password",
                       "the same IMAP failure every 5-15 minutes for two days from the user's home "
                       "address, where the user's laptop logs in successfully",
                       {a.name},
                       {a.home_ip},
                       {},
                       from,
                       to});
  }

  // B2: the newsletter host in mynetworks: 1,500 messages once a day within one hour.
  {
    const std::string ip = "198.51.100.5";
    for (int d = 0; d < opt_.days; ++d) {
      const auto t0 = start_ + static_cast<std::int64_t>(d) * kDay + 7 * kHour;
      at(t0, [this, t0, ip] {
        for (int k = 0; k < 1500; ++k) {
          const auto t = t0 + k * 2400 + rng_.between(0, 2000);
          at(t, [this, t, ip] {
            auto m = std::make_shared<Message>();
            m->entry = Entry::relay;
            m->from = "newsletter@example.com";
            m->client_name = "news.example.com";
            m->client_ip = ip;
            Rcpt r;
            if (rng_.percent(85)) {
              r.addr = external_address(3000);
              if (rng_.percent(1)) r.fate = Fate::bounce;
            } else {
              r.addr = accts_[rng_.below(accts_.size())].name;
              r.local = true;
            }
            m->rcpts.push_back(std::move(r));
            m->size = static_cast<std::uint32_t>(rng_.between(40000, 60000));
            m->message_id = fmt::format("<{}.{}@news.example.com>", rng_.token(16), t / 1000);
            submit(std::move(m), t);
          });
        }
      });
    }
    benign_.push_back({"B2",
                       "newsletter_host",
                       "a newsletter host in mynetworks sends 1,500 messages from "
                       "newsletter@example.com once a day within one hour, delivered at once, "
                       "about 1% bounced",
                       {},
                       {ip},
                       {"newsletter@example.com"},
                       start_,
                       end_});
  }

  // B3: a traveller: logins in Germany, then ten hours later in New York (about 640 km/h).
  {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    if (a.home_ip.empty()) a.home_ip = home_ip(i);
    const auto de = bm + 7 * kHour + 30 * kMinute;
    const auto us = de + 10 * kHour;
    const auto us_ip = ip6(Region::us, 0x7a5);
    a.quiet.emplace_back(de - kHour, end_);
    const Proto p = a.client == Client::webmail ? Proto::webmail : Proto::imap;
    at(de, [this, i, de, p] {
      auto& acc = accts_[static_cast<std::size_t>(i)];
      login_ok(acc.name, acc.home_ip, p, de);
      mark_known(acc, acc.home_ip);
    });
    for (auto t : {us, us + 90 * kMinute}) {
      at(t, [this, i, t, us_ip, p] {
        login_ok(accts_[static_cast<std::size_t>(i)].name, us_ip, p, t);
      });
    }
    for (auto day = bm + kDay; day < end_; day += kDay) {
      for (auto h : {13, 18, 23}) {
        const auto t = day + h * kHour + rng_.between(0, 40 * kMinute);
        at(t, [this, i, t, us_ip, p] {
          login_ok(accts_[static_cast<std::size_t>(i)].name, us_ip, p, t);
        });
      }
    }
    benign_.push_back({"B3",
                       "traveller",
                       "logins from Germany, then from New York ten hours later (about 640 km/h, "
                       "below the 1000 km/h of impossible_travel)",
                       {a.name},
                       {a.home_ip, us_ip},
                       {},
                       de,
                       us});
  }

  // B4: a heavy but regular sender: 60-90 messages every working hour of every working day.
  {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    a.home_ip.clear();
    if (a.office_ip.empty()) a.office_ip = fmt::format("192.0.2.{}", 10 + rng_.below(51));
    a.background_sends = false;
    if (a.client == Client::webmail) a.client = Client::imap;
    for (int d = 0; d < opt_.days; ++d) {
      const auto ds = start_ + static_cast<std::int64_t>(d) * kDay;
      if (weekday_of(ds) >= 5) continue;
      at(ds + 8 * kHour, [this, i, ds] {
        for (int h = 8; h < 18; ++h) {
          const auto n = rng_.between(60, 90);
          for (std::int64_t k = 0; k < n; ++k) {
            // Evenly spread, so that no sliding hour holds more than one clock hour does.
            const auto t = ds + h * kHour + k * kHour / n + rng_.between(0, kHour / n - 1);
            at(t, [this, i, t] {
              const auto& acc = accts_[static_cast<std::size_t>(i)];
              // Mostly one recipient, all delivered: its recipients per hour stay under a third
              // of outbound_burst's, its bounce ratio near zero.
              auto rcpts = background_recipients(i);
              rcpts.resize(std::min<std::size_t>(rcpts.size(), rng_.percent(80) ? 1 : 2));
              for (auto& r : rcpts) r.fate = Fate::sent;
              submit(sasl_message(i, acc.office_ip, std::move(rcpts), t), t);
            });
          }
        }
      });
    }
    benign_.push_back(
        {"B4",
         "heavy_regular_sender",
         "60-90 messages (mostly 1 recipient, all delivered) every working hour of every "
         "working day: a high but steady baseline, below outbound_burst",
         {a.name},
         {a.office_ip},
         {},
         start_,
         end_});
  }
}

void World::plan_incidents() {
  const int mid = (opt_.days - 1) / 2;
  const auto bm = start_ + static_cast<std::int64_t>(mid) * kDay;
  auto name = [this](int i) { return accts_[static_cast<std::size_t>(i)].name; };
  // An account under attack that must not look "compromised" later: one address, already known
  // before the attack.
  auto single_office = [this](int i) {
    auto& a = accts_[static_cast<std::size_t>(i)];
    a.home_ip.clear();
    if (a.office_ip.empty()) a.office_ip = fmt::format("192.0.2.{}", 10 + rng_.below(51));
    const auto t = start_ + 8 * kHour + 30 * kMinute + rng_.between(0, 20 * kMinute);
    at(t, [this, i, t] {
      auto& acc = accts_[static_cast<std::size_t>(i)];
      login_ok(acc.name, acc.office_ip,
               acc.client == Client::webmail ? Proto::webmail : Proto::imap, t);
      mark_known(acc, acc.office_ip);
    });
  };
  auto login_proto = [this](int i) {
    const auto c = accts_[static_cast<std::size_t>(i)].client;
    return c == Client::webmail ? Proto::webmail : c == Client::pop3 ? Proto::pop3 : Proto::imap;
  };

  // 12: sshd brute force on root from one address: 50 connections of 6 attempts in 30 minutes.
  {
    const auto ip = ip6(Region::ru, 0x22);
    const auto t0 = bm + 30 * kMinute;
    for (int c = 0; c < 50; ++c) {
      const auto t = t0 + c * 36 * kSecond;
      at(t, [this, t, ip] {
        const int p = pid();
        const int pt = port();
        auto when = t;
        for (int k = 0; k < 6; ++k) {
          ssh_fail("root", ip, when, false, p, pt);
          when += rng_.between(3000, 5000);
        }
        sink_.add(Stream::syslog, when,
                  "sshd[{}]: error: maximum authentication attempts exceeded for root from {} port "
                  "{} ssh2 [preauth]",
                  p, ip, pt);
        sink_.add(Stream::syslog, when + 1,
                  "sshd[{}]: Disconnecting authenticating user root {} port {}: Too many "
                  "authentication failures [preauth]",
                  p, ip, pt);
      });
    }
    incidents_.push_back({"12",
                          "ssh_brute_force_root",
                          "300 failed ssh passwords for root from one address in 30 minutes",
                          {{"brute_force", "root"}},
                          {},
                          {ip},
                          {"root"},
                          t0,
                          t0 + 30 * kMinute});
  }

  // 1: brute force on one account from one address (SMTP AUTH), never successful.
  {
    const int i = take_special();
    single_office(i);
    const std::string ip = "198.51.100.200";
    const auto t0 = bm + kHour;
    for (int k = 0; k < 200; ++k) {
      const auto t = t0 + k * 9 * kSecond + rng_.between(0, 3000);
      at(t, [this, i, t, ip] {
        smtp_auth_fail(accts_[static_cast<std::size_t>(i)].name, ip, t, true);
      });
    }
    incidents_.push_back({"1",
                          "brute_force_one_ip",
                          "200 SMTP AUTH failures (with sasl_username) on one account from one "
                          "address in 30 minutes, never successful",
                          {{"brute_force", name(i)}},
                          {},
                          {ip},
                          {name(i)},
                          t0,
                          t0 + 30 * kMinute});
  }

  // 2: brute force on one account from 24 addresses in China (IMAP), never successful.
  {
    const int i = take_special();
    single_office(i);
    std::vector<std::string> ips;
    for (std::uint32_t k = 0; k < 24; ++k) ips.push_back(ip6(Region::cn, 0x2000 + k));
    const auto t0 = bm + 2 * kHour + 30 * kMinute;
    for (int k = 0; k < 240; ++k) {
      const auto t = t0 + k * 7500 + rng_.between(0, 2000);
      const auto& ip = ips[static_cast<std::size_t>(k) % ips.size()];
      at(t, [this, i, t, ip] {
        login_fail(accts_[static_cast<std::size_t>(i)].name, ip, Proto::imap, t);
      });
    }
    incidents_.push_back({"2",
                          "brute_force_many_ips",
                          "240 IMAP failures on one account from 24 addresses "
                          "(2001:db8:400::/40) in 30 minutes, never successful",
                          {{"brute_force", name(i)}},
                          {},
                          ips,
                          {name(i)},
                          t0,
                          t0 + 30 * kMinute});
  }

  // 3: password spray from one address across 60 accounts, then success on one of them.
  {
    const int victim = take_special();
    std::vector<int> targets;
    for (int k = 0; k < 59; ++k) targets.push_back(pool_[pool_next_++]);
    const std::string ip = "203.0.113.45";
    const auto t0 = bm + 4 * kHour;
    // 59 single attempts and 15 on the victim, spread over 40 minutes.
    std::vector<int> order;
    std::size_t next_target = 0;
    for (int k = 0; k < 74; ++k) {
      if (k % 5 == 2 && std::count(order.begin(), order.end(), victim) < 15) {
        order.push_back(victim);
      } else if (next_target < targets.size()) {
        order.push_back(targets[next_target++]);
      } else {
        order.push_back(victim);
      }
    }
    const auto step = 40 * kMinute / static_cast<std::int64_t>(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto t = t0 + static_cast<std::int64_t>(k) * step + rng_.between(0, step / 2);
      const int who = order[k];
      at(t, [this, who, t, ip] {
        login_fail(accts_[static_cast<std::size_t>(who)].name, ip, Proto::imap, t);
      });
    }
    const auto ok = t0 + 42 * kMinute;
    at(ok, [this, victim, ok, ip] {
      login_ok(accts_[static_cast<std::size_t>(victim)].name, ip, Proto::imap, ok);
    });
    std::vector<std::string> accounts{name(victim)};
    for (int t : targets) accounts.push_back(name(t));
    incidents_.push_back({"3",
                          "password_spray_one_ip",
                          "one address fails on 60 accounts within 40 minutes (15 times on one of "
                          "them), then logs in to that one",
                          {{"password_spray", ip}, {"compromised_login", name(victim)}},
                          {{"impossible_travel", name(victim)}},
                          {ip},
                          accounts,
                          t0,
                          ok});
  }

  // 4: a botnet: 40 addresses in Nigeria and Russia, 2-3 accounts each, 86 accounts in 50
  // minutes; one account is tried from 15 of them and then logged in to.
  {
    const int victim = take_special();
    std::vector<std::string> ips;
    for (std::uint32_t k = 0; k < 40; ++k)
      ips.push_back(ip6(k < 20 ? Region::ng : Region::ru, 0x4000 + k));
    std::vector<std::pair<std::size_t, int>> attempts;  // (address, account)
    std::vector<std::string> accounts{name(victim)};
    for (std::size_t k = 0; k < ips.size(); ++k) {
      const auto others = k < 15 ? rng_.between(1, 2) : rng_.between(2, 3);
      for (std::int64_t o = 0; o < others; ++o) {
        const int who = pool_[pool_next_++];
        attempts.emplace_back(k, who);
        accounts.push_back(name(who));
      }
    }
    rng_.shuffle(attempts);
    // The victim's 15 attempts (one from each of the first 15 addresses) evenly spread, so
    // that no 10 minutes hold more than a third of what brute_force needs.
    const auto every = attempts.size() / 15 + 1;
    for (std::size_t k = 0; k < 15; ++k) {
      attempts.insert(attempts.begin() + static_cast<std::ptrdiff_t>(k * every), {k, victim});
    }
    const auto t0 = bm + 6 * kHour;
    const auto step = 50 * kMinute / static_cast<std::int64_t>(attempts.size());
    const Proto p = zimbra_ ? Proto::webmail : Proto::pop3;
    for (std::size_t k = 0; k < attempts.size(); ++k) {
      const auto t = t0 + static_cast<std::int64_t>(k) * step + rng_.between(0, step / 2);
      const auto ip = ips[attempts[k].first];
      const int who = attempts[k].second;
      at(t, [this, who, t, ip, p] {
        login_fail(accts_[static_cast<std::size_t>(who)].name, ip, p, t);
      });
    }
    const auto ok = t0 + 52 * kMinute;
    const auto ok_ip = ips[6];
    at(ok, [this, victim, ok, ok_ip, p] {
      login_ok(accts_[static_cast<std::size_t>(victim)].name, ok_ip, p, ok);
    });
    incidents_.push_back(
        {"4",
         "password_spray_botnet",
         "40 addresses (2001:db8:500::/40, 2001:db8:600::/40) fail on 2-3 accounts "
         "each, 85+ accounts in 50 minutes; one account, tried from 15 of them, "
         "is then logged in to",
         {{"password_spray", "botnet"}, {"compromised_login", name(victim)}},
         {{"impossible_travel", name(victim)}},
         ips,
         accounts,
         t0,
         ok});
  }

  // 5: brute force, success from the attacker's new address in China, then a spam run of 650
  // messages in an hour through authenticated submission, ~40% of recipients failing.
  {
    const int i = take_special();
    const auto ip = ip6(Region::cn, 0x5005);
    const auto t0 = bm + 8 * kHour;
    for (int k = 0; k < 80; ++k) {
      const auto t = t0 + k * 7500 + rng_.between(0, 2000);
      at(t, [this, i, t, ip] {
        login_fail(accts_[static_cast<std::size_t>(i)].name, ip, Proto::imap, t);
      });
    }
    const auto ok = t0 + 12 * kMinute;
    at(ok, [this, i, ok, ip] {
      login_ok(accts_[static_cast<std::size_t>(i)].name, ip, Proto::imap, ok);
    });
    const auto s0 = t0 + 15 * kMinute;
    for (int k = 0; k < 650; ++k) {
      const auto t = s0 + k * (55 * kMinute) / 650 + rng_.between(0, 4000);
      at(t, [this, i, t, ip] { submit(sasl_message(i, ip, spam_recipients(2, 5, 25, 15), t), t); });
    }
    incidents_.push_back(
        {"5",
         "compromised_account_spam",
         "80 IMAP failures in 10 minutes from a new address in China, a successful login from it, "
         "then 650 messages with 2-5 recipients each within an hour via SMTP AUTH from that "
         "address, about 40% of the recipients deferred or bounced",
         {{"brute_force", name(i)},
          {"compromised_login", name(i)},
          {"outbound_burst", name(i)},
          {"bounce_ratio", name(i)}},
         {{"baseline_exceeded", name(i)}, {"queue_flood", name(i)}, {"impossible_travel", name(i)}},
         {ip},
         {name(i)},
         t0,
         s0 + 55 * kMinute});
  }

  // 6: impossible travel, city level: Germany, then Tokyo 30 minutes later.
  {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    a.home_ip.clear();
    if (a.office_ip.empty()) a.office_ip = fmt::format("192.0.2.{}", 10 + rng_.below(51));
    const auto t0 = bm + 10 * kHour;
    a.quiet.emplace_back(t0 - 3 * kHour, t0 + 3 * kHour);
    const auto jp = ip6(Region::jp, 0x66);
    const Proto p = login_proto(i);
    const auto office = a.office_ip;
    at(t0, [this, i, t0, office, p] {
      login_ok(accts_[static_cast<std::size_t>(i)].name, office, p, t0);
    });
    const auto t1 = t0 + 30 * kMinute;
    at(t1, [this, i, t1, jp, p] { login_ok(accts_[static_cast<std::size_t>(i)].name, jp, p, t1); });
    incidents_.push_back({"6",
                          "impossible_travel_city",
                          "a login from the account's usual address in Germany, 30 minutes later "
                          "one from Tokyo (no failures around it)",
                          {{"impossible_travel", name(i)}},
                          {},
                          {office, jp},
                          {name(i)},
                          t0,
                          t1});
  }

  // 7: impossible travel, country level: Brazil, then China 30 minutes later.
  {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    const auto t0 = bm + 11 * kHour;
    a.quiet.emplace_back(t0 - 3 * kHour, t0 + 3 * kHour);
    const auto br = ip6(Region::br, 0x77);
    const auto cn = ip6(Region::cn, 0x77);
    const Proto p = login_proto(i);
    at(t0, [this, i, t0, br, p] { login_ok(accts_[static_cast<std::size_t>(i)].name, br, p, t0); });
    const auto t1 = t0 + 30 * kMinute;
    at(t1, [this, i, t1, cn, p] { login_ok(accts_[static_cast<std::size_t>(i)].name, cn, p, t1); });
    incidents_.push_back({"7",
                          "impossible_travel_country",
                          "a login from Brazil, 30 minutes later one from China: found with a "
                          "country-only database too",
                          {{"impossible_travel", name(i)}},
                          {},
                          {br, cn},
                          {name(i)},
                          t0,
                          t1});
  }

  // 8: above its own baseline: ~2 messages per working hour, then 90 in one hour.
  {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    a.home_ip.clear();
    if (a.office_ip.empty()) a.office_ip = fmt::format("192.0.2.{}", 10 + rng_.below(51));
    a.background_sends = false;
    if (a.client == Client::webmail) a.client = Client::imap;
    const int burst_day = std::max(mid + 1, 2);
    const auto burst = start_ + static_cast<std::int64_t>(burst_day) * kDay + 14 * kHour;
    auto one = [this, i](std::int64_t t) {
      at(t, [this, i, t] {
        const auto& acc = accts_[static_cast<std::size_t>(i)];
        Rcpt r;
        r.addr = external_address(800);  // fate sent: all delivered
        std::vector<Rcpt> rcpts;
        rcpts.push_back(std::move(r));
        submit(sasl_message(i, acc.office_ip, std::move(rcpts), t), t);
      });
    };
    // Every day, weekends included, so that the burst day always has its two days of history.
    for (int d = 0; d < opt_.days; ++d) {
      const auto ds = start_ + static_cast<std::int64_t>(d) * kDay;
      for (int h = 8; h < 18; ++h) {
        const auto hs = ds + h * kHour;
        if (hs == burst) {
          for (int k = 0; k < 90; ++k) one(hs + k * kHour / 90 + rng_.between(0, kHour / 90 - 1));
        } else {
          const auto n = rng_.between(1, 3);
          for (std::int64_t k = 0; k < n; ++k) one(hs + rng_.between(0, kHour - 1));
        }
      }
    }
    incidents_.push_back({"8",
                          "baseline_exceeded",
                          "an account sending 1-3 messages every hour from 08:00 to 18:00 (all "
                          "delivered) sends 90 in one hour, below outbound_burst",
                          {{"baseline_exceeded", name(i)}},
                          {},
                          {a.office_ip},
                          {name(i)},
                          burst,
                          burst + kHour});
  }

  // 9: mynetworks abuse: a LAN host relays 360 messages in an hour with forged foreign senders.
  {
    const std::string ip = "198.51.100.6";
    const auto t0 = bm + 14 * kHour;
    for (int k = 0; k < 360; ++k) {
      const auto t = t0 + k * (55 * kMinute) / 360 + rng_.between(0, 3000);
      at(t, [this, t, ip] {
        auto m = std::make_shared<Message>();
        m->entry = Entry::relay;
        const auto who = rng_.pick(kFirstNames);
        m->from = fmt::format("{}@f{}.example.org", who, 1 + rng_.below(200));
        m->client_name = "unknown";
        m->client_ip = ip;
        m->rcpts = spam_recipients(1, 3, 5, 5);
        m->size = message_size();
        m->message_id = message_id(Entry::relay, t, m->from);
        submit(std::move(m), t);
      });
    }
    incidents_.push_back({"9",
                          "mynetworks_relay",
                          "a LAN host in mynetworks relays 360 messages in an hour without SASL, "
                          "with forged senders from 200 foreign domains to external recipients",
                          {{"mynetworks_relay", ip}},
                          {},
                          {ip},
                          {},
                          t0,
                          t0 + kHour});
  }

  // 10: queue flood: an application server's notifications to a dead domain, never delivered.
  {
    const std::string ip = "198.51.100.7";
    const auto t0 = bm + 16 * kHour;
    for (int k = 0; k < 600; ++k) {
      const auto t = t0 + k * 24 * kSecond + rng_.between(0, 10000);
      at(t, [this, t, ip, k] {
        auto m = std::make_shared<Message>();
        m->entry = Entry::relay;
        m->from = "noreply@example.com";
        m->client_name = "app1.example.com";
        m->client_ip = ip;
        Rcpt r;
        r.addr = fmt::format("customer{}@old-partner.example.net", 1000 + k);
        r.fate = Fate::dead;
        m->rcpts.push_back(std::move(r));
        m->size = static_cast<std::uint32_t>(rng_.between(3000, 9000));
        m->message_id = fmt::format("<{}.{}@app1.example.com>", rng_.token(12), t);
        submit(std::move(m), t);
      });
    }
    incidents_.push_back({"10",
                          "queue_flood",
                          "an application server in mynetworks sends 150 notifications an hour for "
                          "4 hours from noreply@example.com to a dead domain: all deferred and "
                          "retried, never removed (until they expire after 5 days)",
                          {{"queue_flood", "noreply@example.com"}},
                          {{"mynetworks_relay", ip}},
                          {ip},
                          {},
                          t0,
                          t0 + 4 * kHour});
  }

  // 11 (Zimbra): 15 webmail failures from one address, a successful webmail login, then 400
  // messages in an hour through webmail.
  if (zimbra_) {
    const int i = take_special();
    auto& a = accts_[static_cast<std::size_t>(i)];
    a.client = Client::webmail;
    const std::string ip = "203.0.113.99";
    const auto t0 = bm + 12 * kHour;
    for (int k = 0; k < 15; ++k) {
      const auto t = t0 + k * 2 * kMinute + rng_.between(0, 30000);
      at(t, [this, i, t, ip] {
        login_fail(accts_[static_cast<std::size_t>(i)].name, ip, Proto::webmail, t);
      });
    }
    const auto ok = t0 + 32 * kMinute;
    at(ok, [this, i, ok, ip] {
      login_ok(accts_[static_cast<std::size_t>(i)].name, ip, Proto::webmail, ok);
    });
    const auto s0 = t0 + 40 * kMinute;
    for (int k = 0; k < 400; ++k) {
      const auto t = s0 + k * (50 * kMinute) / 400 + rng_.between(0, 3000);
      at(t, [this, i, t] { submit(webmail_message(i, spam_recipients(3, 5, 3, 2), t), t); });
    }
    incidents_.push_back(
        {"11",
         "webmail_compromise",
         "15 webmail login failures from one address, a successful webmail login from it, then "
         "400 messages with 3-5 recipients in 50 minutes through webmail (127.0.0.1, no SASL)",
         {{"outbound_burst", name(i)}, {"compromised_login", name(i)}},
         {{"brute_force", name(i)},
          {"baseline_exceeded", name(i)},
          {"impossible_travel", name(i)},
          {"bounce_ratio", name(i)},
          {"queue_flood", name(i)}},
         {ip},
         {name(i)},
         t0,
         s0 + 50 * kMinute});
  }
  std::sort(incidents_.begin(), incidents_.end(),
            [](const auto& a, const auto& b) { return std::stoi(a.id) < std::stoi(b.id); });
}

// ============================================================================================
// Set-up, run, truth
// ============================================================================================

void World::build() {
  const auto n = static_cast<std::size_t>(opt_.accounts);
  const int width =
      opt_.accounts > 9999 ? static_cast<int>(std::to_string(opt_.accounts).size()) : 4;
  accts_.resize(n);
  for (std::size_t idx = 0; idx < n; ++idx) {
    auto& a = accts_[idx];
    a.name = fmt::format("user{:0{}}@example.com", idx + 1, width);
    const auto kind = rng_.below(100);
    if (kind < 65) {
      a.office_ip = fmt::format("192.0.2.{}", 10 + rng_.below(51));
      if (rng_.percent(50)) a.home_ip = home_ip(static_cast<int>(idx));
    } else {
      a.home_ip = home_ip(static_cast<int>(idx));
    }
    if (zimbra_) {
      const auto c = rng_.below(100);
      a.client = c < 60 ? Client::webmail : c < 95 ? Client::imap : Client::pop3;
    } else {
      a.client = rng_.percent(85) ? Client::imap : Client::pop3;
    }
    const auto r = rng_.below(100);
    a.mail_rate = static_cast<int>(r < 25   ? rng_.between(0, 2)
                                   : r < 70 ? rng_.between(3, 10)
                                   : r < 95 ? rng_.between(11, 20)
                                            : rng_.between(21, 30));
    a.inbound_rate = static_cast<int>(rng_.between(2, 15));
  }
  for (std::size_t idx = 0; idx < n; ++idx) pool_.push_back(static_cast<int>(idx));
  rng_.shuffle(pool_);
  if (opt_.fixed) plan_benign();
  if (opt_.incidents) plan_incidents();
  for (int d = 0; d < opt_.days; ++d) {
    const auto ds = start_ + static_cast<std::int64_t>(d) * kDay;
    at(ds, [this, d] {
      if (opt_.background) plan_day(d);
      if (opt_.fixed) noise_day(d);
    });
  }
}

void World::run() {
  std::int64_t boundary = start_;
  while (!tasks_.empty()) {
    std::pop_heap(tasks_.begin(), tasks_.end(), later);
    Task task = std::move(tasks_.back());
    tasks_.pop_back();
    if (task.ms >= boundary) {
      // Every line of a task is at or after the task's time: what is before its minute is final.
      const auto minute = task.ms - (task.ms - start_) % kMinute;
      sink_.flush_before(minute);
      boundary = minute + kMinute;
    }
    task.fn();
  }
}

nlohmann::ordered_json World::truth() const {
  using json = nlohmann::ordered_json;
  json t;
  t["seed"] = opt_.seed;
  t["flavor"] = zimbra_ ? "zimbra" : "postfix";
  t["start"] = iso_utc(start_);
  t["end"] = iso_utc(end_);
  json files = json::array();
  for (const auto& f : file_names(opt_.flavor)) {
    if (!f.empty()) files.push_back(f);
  }
  t["files"] = files;
  t["analyzer"] = {{"time_zone", "UTC"},
                   {"mynetworks", {"127.0.0.0/8", "::1", "198.51.100.0/28"}},
                   {"local_domains", {"example.com"}},
                   {"mailbox_servers", zimbra_ ? json::array({"127.0.0.1"}) : json::array()}};
  auto findings = [](const std::vector<Expected>& v) {
    json a = json::array();
    for (const auto& e : v) a.push_back({{"detector", e.detector}, {"key", e.key}});
    return a;
  };
  json inc = json::array();
  for (const auto& i : incidents_) {
    inc.push_back({{"id", i.id},
                   {"scenario", i.scenario},
                   {"description", i.description},
                   {"expect", findings(i.expect)},
                   {"allow", findings(i.allow)},
                   {"source_ips", i.source_ips},
                   {"accounts", i.accounts},
                   {"start", iso_utc(i.start)},
                   {"end", iso_utc(i.end)}});
  }
  t["incidents"] = inc;
  json ben = json::array();
  for (const auto& b : benign_) {
    json e = {{"id", b.id},
              {"scenario", b.scenario},
              {"description", b.description},
              {"accounts", b.accounts},
              {"ips", b.ips}};
    if (!b.senders.empty()) e["senders"] = b.senders;
    e["start"] = iso_utc(b.start);
    e["end"] = iso_utc(b.end);
    ben.push_back(e);
  }
  if (opt_.background) {
    auto typos = typo_accounts_;
    std::sort(typos.begin(), typos.end());
    typos.erase(std::unique(typos.begin(), typos.end()), typos.end());
    ben.push_back({{"id", "B5"},
                   {"scenario", "typos"},
                   {"description",
                    "one or two failures, then a success from the user's usual, already known "
                    "address (background)"},
                   {"accounts", typos},
                   {"ips", json::array()},
                   {"start", iso_utc(start_)},
                   {"end", iso_utc(end_)}});
  }
  t["benign"] = ben;
  if (opt_.truth_accounts) {
    std::map<std::string, Counts> sorted(counts_.begin(), counts_.end());
    json acc = json::object();
    for (const auto& [name, c] : sorted) {
      acc[name] = {{"messages", c.messages},
                   {"recipients", c.recipients},
                   {"logins", c.logins},
                   {"failures", c.failures},
                   {"sasl_messages", c.sasl_messages}};
    }
    t["accounts"] = acc;
    json rel = json::object();
    for (const auto& [ip, c] : relayed_) {
      rel[ip] = {{"messages", c.messages}, {"recipients", c.recipients}};
    }
    t["relayed"] = rel;
  }
  return t;
}

}  // namespace

void validate(const Options& opt) {
  if (opt.accounts < 1) throw std::invalid_argument("--accounts must be at least 1");
  if (opt.days < 1) throw std::invalid_argument("--days must be at least 1");
  if (opt.incidents && opt.accounts < kMinAccountsWithIncidents) {
    throw std::invalid_argument(fmt::format(
        "--accounts {} is too few: the incidents need at least {} (or use --no-incidents)",
        opt.accounts, kMinAccountsWithIncidents));
  }
  if (opt.fixed && opt.accounts < 10) {
    throw std::invalid_argument(
        fmt::format("--accounts {} is too few: the look-alikes need at least 10", opt.accounts));
  }
  if (opt.incidents && opt.days < 3) {
    throw std::invalid_argument(
        "--days must be at least 3 with incidents (two days of history come before some of "
        "them), or use --no-incidents");
  }
}

RunFigures generate(const Options& opt, nlohmann::ordered_json& truth) {
  validate(opt);
  LogSink sink(opt.out_dir, file_names(opt.flavor), opt.start_ms,
               opt.start_ms + static_cast<std::int64_t>(opt.days) * kDay);
  World world(opt, sink);
  world.build();
  world.run();
  sink.finish();
  truth = world.truth();
  RunFigures f;
  f.streams = sink.figures();
  f.bytes_by_day = sink.bytes_by_day();
  f.total_bytes = sink.total_bytes();
  return f;
}

}  // namespace loggen
