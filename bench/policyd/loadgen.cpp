// mw-policyd-loadgen: drives a Postfix policy server the way a busy Postfix does, for the
// policyd benchmark. Each connection is one smtpd process's persistent policy connection and
// replays, per message, the requests Postfix sends (RCPT once per recipient, DATA,
// END-OF-MESSAGE) with every attribute it sends, waiting for each answer before the next
// request. Reports requests/s, answers by action, per-request latency percentiles and errors.
// Independent of mailwarden's own code: it is the other side of the protocol.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

// ---- options --------------------------------------------------------------------------------

// "250ms", "5s", "15m", "1h", "1d" or a bare number of seconds.
std::optional<std::int64_t> parse_duration_ms(const std::string& text) {
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > 1'000'000'000) return std::nullopt;
    n = n * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string unit = text.substr(i);
  if (unit == "ms") return n;
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "m") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  if (unit == "d") return n * 86'400'000;
  return std::nullopt;
}

struct Target {
  std::string text;
  std::string unix_path;  // set for unix:PATH
  std::string host;
  std::string port;
};

// "inet:HOST:PORT", "inet:[V6]:PORT" or "unix:PATH" (Postfix's notation).
std::optional<Target> parse_target(const std::string& text) {
  Target t;
  t.text = text;
  if (text.rfind("unix:", 0) == 0) {
    t.unix_path = text.substr(5);
    if (t.unix_path.empty() || t.unix_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return std::nullopt;
    }
    return t;
  }
  if (text.rfind("inet:", 0) != 0) return std::nullopt;
  const std::string rest = text.substr(5);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
  t.host = rest.substr(0, colon);
  t.port = rest.substr(colon + 1);
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') {
    t.host = t.host.substr(1, t.host.size() - 2);
  }
  if (t.port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return t;
}

enum class Stage : std::uint8_t { rcpt, data, eom };
constexpr std::string_view kStageName[] = {"RCPT", "DATA", "END-OF-MESSAGE"};

struct Options {
  Target target;
  int connections = 10;
  int threads = 1;
  std::int64_t duration_ms = 5000;
  std::int64_t warmup_ms = 0;
  std::int64_t timeout_ms = 5000;
  std::uint64_t messages = 0;  // 0 = run for the duration
  std::uint32_t accounts = 1000;
  std::uint32_t account_base = 0;  // accounts are user<base>@ ... user<base+accounts-1>@
  std::uint32_t rcpt_min = 1;
  std::uint32_t rcpt_max = 5;
  bool stages[3] = {true, true, true};
  bool cycle = false;  // accounts in turn (every account sends) instead of at random
  std::uint64_t seed = 1;
  bool json = false;
};

// ---- the requests ---------------------------------------------------------------------------

struct Message {
  std::uint32_t account = 0;
  std::uint32_t recipients = 0;  // RCPT TO commands the client sends
  std::uint32_t next_rcpt = 0;
  std::uint32_t accepted = 0;  // recipients the policy server did not refuse
  std::uint32_t size = 0;
  std::uint32_t client_port = 0;
  std::uint32_t first_rcpt_id = 0;
  char instance[48] = {};
  char queue_id[16] = {};
};

// The shared run state of all threads.
struct Run {
  Options opt;
  Clock::time_point start, measure_from, stop_sending;
  std::atomic<std::uint64_t> next_message{0};
  std::uint64_t run_id = 0;  // makes `instance` unique across loadgen runs
};

void append_attr(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.push_back('=');
  out.append(value);
  out.push_back('\n');
}

void append_attr(std::string& out, std::string_view name, std::uint64_t value) {
  char buf[24];
  const int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(value));
  append_attr(out, name, std::string_view(buf, static_cast<std::size_t>(n)));
}

// The attributes of Postfix's smtpd policy request, in the order smtpd_check.c sends them
// (SMTPD_POLICY_README). compatibility_level and mail_version come from Postfix 3.8; 3.7 does
// not send them, 3.8 and later do: keeping them makes every request a little larger.
void build_request(std::string& out, Stage stage, const Message& m) {
  char buf[96];
  out.clear();
  append_attr(out, "request", "smtpd_access_policy");
  append_attr(out, "protocol_state", kStageName[static_cast<int>(stage)]);
  append_attr(out, "protocol_name", "ESMTP");
  std::snprintf(buf, sizeof buf, "client-%u.dsl.example.net", m.account);
  append_attr(out, "helo_name", buf);
  append_attr(out, "queue_id", m.queue_id);
  std::snprintf(buf, sizeof buf, "user%u@example.com", m.account);
  const std::string_view user = buf;
  append_attr(out, "sender", user);
  // The recipient is known at RCPT; at DATA and END-OF-MESSAGE only when there is exactly one.
  char rcpt[64] = "";
  if (stage == Stage::rcpt) {
    std::snprintf(rcpt, sizeof rcpt, "rcpt%u@example.org", m.first_rcpt_id + m.next_rcpt);
  } else if (m.accepted == 1) {
    std::snprintf(rcpt, sizeof rcpt, "rcpt%u@example.org", m.first_rcpt_id);
  }
  append_attr(out, "recipient", rcpt);
  append_attr(out, "recipient_count", stage == Stage::rcpt ? 0 : m.accepted);
  char addr[32];
  std::snprintf(addr, sizeof addr, "198.18.%u.%u", (m.account >> 8) & 0xff, m.account & 0xff);
  append_attr(out, "client_address", addr);
  std::snprintf(buf, sizeof buf, "host-%u.dsl.example.net", m.account);
  append_attr(out, "client_name", buf);
  append_attr(out, "reverse_client_name", buf);
  append_attr(out, "instance", m.instance);
  append_attr(out, "sasl_method", "PLAIN");
  std::snprintf(buf, sizeof buf, "user%u@example.com", m.account);
  append_attr(out, "sasl_username", buf);
  append_attr(out, "sasl_sender", "");
  append_attr(out, "size", m.size);
  append_attr(out, "ccert_subject", "");
  append_attr(out, "ccert_issuer", "");
  append_attr(out, "ccert_fingerprint", "");
  append_attr(out, "ccert_pubkey_fingerprint", "");
  append_attr(out, "encryption_protocol", "TLSv1.3");
  append_attr(out, "encryption_cipher", "TLS_AES_256_GCM_SHA384");
  append_attr(out, "encryption_keysize", 256);
  append_attr(out, "etrn_domain", "");
  append_attr(out, "stress", "");
  append_attr(out, "client_port", m.client_port);
  append_attr(out, "policy_context", "");
  append_attr(out, "server_address", "10.0.0.25");
  append_attr(out, "server_port", 587);
  append_attr(out, "compatibility_level", "3.6");
  append_attr(out, "mail_version", "3.8.6");
  out.push_back('\n');
}

// Answers that make smtpd refuse the recipient or the message (access(5)).
bool refuses(std::string_view action) {
  if (action == "REJECT" || action == "DEFER" || action == "DEFER_IF_PERMIT") return true;
  return action.size() == 3 && (action[0] == '4' || action[0] == '5') &&
         std::isdigit(static_cast<unsigned char>(action[1])) &&
         std::isdigit(static_cast<unsigned char>(action[2]));
}

// ---- one thread's connections ---------------------------------------------------------------

struct Stats {
  std::uint64_t requests = 0;  // answered inside the measured window
  std::uint64_t messages = 0;  // completed inside the measured window
  std::uint64_t requests_by_stage[3] = {};
  std::map<std::string, std::uint64_t> answers;
  std::map<std::string, std::uint64_t> errors;
  std::vector<std::uint32_t> latency_ns;  // saturates at ~4.29 s
  Clock::time_point last_answer{};
};

struct Connection {
  int fd = -1;
  int index = 0;
  std::uint32_t seqno = 0;
  std::mt19937_64 rng;
  Message msg;
  Stage stage = Stage::rcpt;
  std::string out;
  std::size_t out_done = 0;
  std::string in;
  bool busy = false;  // a request is out, its answer not yet in
  bool want_out = false;
  bool finished = false;
  Clock::time_point sent_at{};
};

class Worker {
 public:
  Worker(Run& run, std::vector<Connection*> conns) : run_(run), conns_(std::move(conns)) {}

  void operator()() {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
      error_all("epoll_create1 failed");
      return;
    }
    for (Connection* c : conns_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        fail(*c, "epoll_ctl failed");
        continue;
      }
      ++open_;
      start_message(*c, Clock::now());
    }
    std::vector<epoll_event> events(std::max<std::size_t>(conns_.size(), 1));
    auto last_scan = Clock::now();
    while (open_ > 0) {
      const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 20);
      if (n < 0 && errno != EINTR) {
        error_all("epoll_wait failed");
        break;
      }
      for (int i = 0; i < n; ++i) {
        auto& c = *static_cast<Connection*>(events[i].data.ptr);
        if (c.finished) continue;
        if (events[i].events & EPOLLOUT) write_some(c);
        if (!c.finished && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) read_some(c);
      }
      // A request not answered in time: the server hangs, as smtpd would see it. Checked
      // every 10 ms, not after every event, to keep the client's own cost per request low.
      const auto now = Clock::now();
      if (now - last_scan < std::chrono::milliseconds(10)) continue;
      last_scan = now;
      for (Connection* c : conns_) {
        if (!c->finished && c->busy &&
            now - c->sent_at > std::chrono::milliseconds(run_.opt.timeout_ms)) {
          fail(*c, "no answer within the timeout");
        }
      }
    }
    ::close(ep_);
  }

  Stats stats;

 private:
  bool out_of_work(Clock::time_point now) const {
    return run_.opt.messages == 0 && now >= run_.stop_sending;
  }

  void error_all(const char* what) {
    for (Connection* c : conns_) {
      if (!c->finished) fail(*c, what);
    }
  }

  void fail(Connection& c, const std::string& what) {
    ++stats.errors[what];
    finish(c);
  }

  void finish(Connection& c) {
    if (c.finished) return;
    c.finished = true;
    if (c.fd >= 0) {
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
    --open_;
  }

  void start_message(Connection& c, Clock::time_point now) {
    if (out_of_work(now)) {
      finish(c);
      return;
    }
    const auto& o = run_.opt;
    std::uint64_t claim = 0;
    if (o.messages > 0 || o.cycle) {
      claim = run_.next_message.fetch_add(1, std::memory_order_relaxed);
      if (o.messages > 0 && claim >= o.messages) {
        finish(c);
        return;
      }
    }
    Message& m = c.msg;
    m = Message{};
    m.account = o.account_base + (o.cycle ? static_cast<std::uint32_t>(claim % o.accounts)
                                          : static_cast<std::uint32_t>(c.rng() % o.accounts));
    m.recipients = o.rcpt_min + static_cast<std::uint32_t>(c.rng() % (o.rcpt_max - o.rcpt_min + 1));
    m.size = 2000 + static_cast<std::uint32_t>(c.rng() % 60000);
    m.client_port = 1024 + static_cast<std::uint32_t>(c.rng() % 64000);
    m.first_rcpt_id = static_cast<std::uint32_t>(c.rng() % 1'000'000);
    // Postfix's instance is "%x.%lx.%lx.%x": smtpd's pid, the session's start time (seconds,
    // microseconds) and a message counter. One fake pid per connection keeps it unique across
    // connections; run_id (the run's start time) across runs.
    ++c.seqno;
    std::snprintf(m.instance, sizeof m.instance, "%x.%llx.%llx.%x", 0x1000 + c.index,
                  static_cast<unsigned long long>(run_.run_id / 1'000'000),
                  static_cast<unsigned long long>(run_.run_id % 1'000'000), c.seqno);
    if (o.stages[0]) {
      c.stage = Stage::rcpt;
    } else {
      // No RCPT hook: every recipient is accepted by Postfix itself.
      m.accepted = m.recipients;
      assign_queue_id(c);
      c.stage = o.stages[1] ? Stage::data : Stage::eom;
    }
    send_request(c);
  }

  void assign_queue_id(Connection& c) {
    // Postfix creates the queue file (and so the queue id) once a first recipient is accepted.
    std::snprintf(c.msg.queue_id, sizeof c.msg.queue_id, "%010llX",
                  static_cast<unsigned long long>(c.rng() & 0xFFFFFFFFFFull));
  }

  void send_request(Connection& c) {
    build_request(c.out, c.stage, c.msg);
    c.out_done = 0;
    c.busy = true;
    c.sent_at = Clock::now();
    write_some(c);
  }

  void write_some(Connection& c) {
    while (c.out_done < c.out.size()) {
      const auto n =
          ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_want_out(c, true);
          return;
        }
        fail(c, std::string("send failed: ") + std::strerror(errno));
        return;
      }
      c.out_done += static_cast<std::size_t>(n);
    }
    set_want_out(c, false);
  }

  void set_want_out(Connection& c, bool on) {
    if (c.want_out == on) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = on;
  }

  void read_some(Connection& c) {
    char buf[4096];
    for (;;) {
      const auto n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n == 0) {
        fail(c, c.busy ? "connection closed before the answer" : "connection closed");
        return;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        fail(c, std::string("recv failed: ") + std::strerror(errno));
        return;
      }
      c.in.append(buf, static_cast<std::size_t>(n));
      if (c.in.size() > 4096) {
        fail(c, "answer too long");
        return;
      }
      const auto end = c.in.find("\n\n");
      if (end != std::string::npos) {
        if (!c.busy || end + 2 != c.in.size()) {
          // smtpd sends one request and reads one answer: anything more is a protocol error.
          fail(c, "answer without a request");
          return;
        }
        const std::string answer = c.in.substr(0, end);
        c.in.clear();
        on_answer(c, answer);
        return;
      }
      if (static_cast<std::size_t>(n) < sizeof buf) return;
    }
  }

  void on_answer(Connection& c, const std::string& answer) {
    const auto now = Clock::now();
    c.busy = false;
    if (answer.rfind("action=", 0) != 0 || answer.find('\n') != std::string::npos) {
      fail(c, "malformed answer");
      return;
    }
    // The action's first word, upper case: DUNNO, DEFER_IF_PERMIT, HOLD, REJECT, 450, ...
    std::string action = answer.substr(7, answer.find_first_of(" \t", 7) - 7);
    for (auto& ch : action) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    // Answers to requests still out when the duration ended are awaited but not counted.
    const bool measured =
        now >= run_.measure_from && (run_.opt.messages > 0 || now < run_.stop_sending);
    if (measured) {
      const auto ns = std::chrono::duration_cast<Nanos>(now - c.sent_at).count();
      stats.latency_ns.push_back(
          static_cast<std::uint32_t>(std::min<std::int64_t>(ns, UINT32_MAX)));
      ++stats.requests;
      ++stats.requests_by_stage[static_cast<int>(c.stage)];
      ++stats.answers[action];
      stats.last_answer = now;
    }
    // What smtpd does next, given the answer.
    const auto& st = run_.opt.stages;
    Message& m = c.msg;
    bool message_done = false;
    switch (c.stage) {
      case Stage::rcpt:
        if (!refuses(action)) {
          if (m.accepted == 0) assign_queue_id(c);
          ++m.accepted;
        }
        if (++m.next_rcpt < m.recipients) break;
        if (m.accepted == 0) {
          message_done = true;  // "554 no valid recipients": no DATA
        } else if (st[1]) {
          c.stage = Stage::data;
        } else if (st[2]) {
          c.stage = Stage::eom;
        } else {
          message_done = true;
        }
        break;
      case Stage::data:
        if (!refuses(action) && st[2]) {
          c.stage = Stage::eom;
        } else {
          message_done = true;
        }
        break;
      case Stage::eom:
        message_done = true;
        break;
    }
    if (!message_done) {
      if (out_of_work(now)) {
        finish(c);  // the run is over: the rest of the message is not needed
      } else {
        send_request(c);
      }
      return;
    }
    if (measured) ++stats.messages;
    start_message(c, now);
  }

  Run& run_;
  std::vector<Connection*> conns_;
  int ep_ = -1;
  int open_ = 0;
};

// ---- set-up and report ----------------------------------------------------------------------

int connect_to(const Target& t, std::string& error) {
  if (!t.unix_path.empty()) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, t.unix_path.c_str(), t.unix_path.size() + 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      error = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return -1;
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(t.host.c_str(), t.port.c_str(), &hints, &res);
  if (rc != 0) {
    error = ::gai_strerror(rc);
    return -1;
  }
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
    error = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(res);
    return -1;
  }
  ::freeaddrinfo(res);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

double percentile_us(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

int run_load(Options opt) {
  Run run;
  run.opt = opt;
  std::vector<Connection> conns(static_cast<std::size_t>(opt.connections));
  for (int i = 0; i < opt.connections; ++i) {
    auto& c = conns[static_cast<std::size_t>(i)];
    c.index = i;
    c.rng.seed(opt.seed * 1'000'003 + static_cast<std::uint64_t>(i));
    std::string error;
    c.fd = connect_to(opt.target, error);
    if (c.fd < 0) {
      std::fprintf(stderr, "mw-policyd-loadgen: cannot connect to %s: %s\n",
                   opt.target.text.c_str(), error.c_str());
      for (auto& d : conns) {
        if (d.fd >= 0) ::close(d.fd);
      }
      return 1;
    }
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  }
  run.run_id = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  run.start = Clock::now();
  run.measure_from = run.start + std::chrono::milliseconds(opt.warmup_ms);
  run.stop_sending = run.measure_from + std::chrono::milliseconds(opt.duration_ms);

  const int nthreads = std::min(opt.threads, opt.connections);
  std::vector<Worker> workers;
  workers.reserve(static_cast<std::size_t>(nthreads));
  for (int t = 0; t < nthreads; ++t) {
    std::vector<Connection*> mine;
    for (int i = t; i < opt.connections; i += nthreads)
      mine.push_back(&conns[static_cast<std::size_t>(i)]);
    workers.emplace_back(run, std::move(mine));
  }
  std::vector<std::thread> threads;
  for (int t = 1; t < nthreads; ++t)
    threads.emplace_back(std::ref(workers[static_cast<std::size_t>(t)]));
  workers[0]();
  for (auto& th : threads) th.join();

  Stats total;
  for (auto& w : workers) {
    total.requests += w.stats.requests;
    total.messages += w.stats.messages;
    for (int s = 0; s < 3; ++s) total.requests_by_stage[s] += w.stats.requests_by_stage[s];
    for (const auto& [k, v] : w.stats.answers) total.answers[k] += v;
    for (const auto& [k, v] : w.stats.errors) total.errors[k] += v;
    total.latency_ns.insert(total.latency_ns.end(), w.stats.latency_ns.begin(),
                            w.stats.latency_ns.end());
    total.last_answer = std::max(total.last_answer, w.stats.last_answer);
  }
  // The window: the configured duration, or (with --messages) until the last answer.
  double seconds = static_cast<double>(opt.duration_ms) / 1000.0;
  if (opt.messages > 0) {
    seconds = std::chrono::duration<double>(total.last_answer - run.measure_from).count();
    if (seconds <= 0) seconds = 1e-9;
  }
  std::sort(total.latency_ns.begin(), total.latency_ns.end());
  std::uint64_t errors = 0;
  for (const auto& [k, v] : total.errors) errors += v;
  double mean_us = 0;
  for (auto v : total.latency_ns) mean_us += v / 1000.0;
  if (!total.latency_ns.empty()) mean_us /= static_cast<double>(total.latency_ns.size());
  const double p50 = percentile_us(total.latency_ns, 0.50);
  const double p99 = percentile_us(total.latency_ns, 0.99);
  const double p999 = percentile_us(total.latency_ns, 0.999);
  const double max_us = total.latency_ns.empty() ? 0 : total.latency_ns.back() / 1000.0;

  if (opt.json) {
    nlohmann::json j;
    j["target"] = opt.target.text;
    j["connections"] = opt.connections;
    j["threads"] = nthreads;
    j["seconds"] = seconds;
    j["requests"] = total.requests;
    j["requests_per_s"] = static_cast<double>(total.requests) / seconds;
    j["messages"] = total.messages;
    j["messages_per_s"] = static_cast<double>(total.messages) / seconds;
    for (int s = 0; s < 3; ++s) j["requests_by_stage"][kStageName[s]] = total.requests_by_stage[s];
    j["answers"] = nlohmann::json::object();
    for (const auto& [k, v] : total.answers) j["answers"][k] = v;
    j["latency_us"] = {
        {"p50", p50}, {"p99", p99}, {"p999", p999}, {"max", max_us}, {"mean", mean_us}};
    j["errors"] = nlohmann::json::object();
    for (const auto& [k, v] : total.errors) j["errors"][k] = v;
    j["errors_total"] = errors;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s: %d connections, %.2f s measured\n", opt.target.text.c_str(), opt.connections,
                seconds);
    std::printf("  requests  %llu (%.0f/s), messages %llu (%.0f/s)\n",
                static_cast<unsigned long long>(total.requests),
                static_cast<double>(total.requests) / seconds,
                static_cast<unsigned long long>(total.messages),
                static_cast<double>(total.messages) / seconds);
    std::printf("  answers  ");
    for (const auto& [k, v] : total.answers)
      std::printf(" %s %llu", k.c_str(), static_cast<unsigned long long>(v));
    std::printf("\n  latency   p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n", p50, p99,
                p999, max_us);
    std::printf("  errors   ");
    if (errors == 0) std::printf(" none");
    for (const auto& [k, v] : total.errors)
      std::printf(" %s: %llu;", k.c_str(), static_cast<unsigned long long>(v));
    std::printf("\n");
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mw-policyd-loadgen: replays Postfix policy requests against a policy server"};
  Options opt;
  std::string target, duration = "5s", warmup = "0s", timeout = "5s", recipients = "1-5",
                      mode = "eom", stages, pick = "random";
  app.add_option("--target", target, "inet:HOST:PORT or unix:PATH")->required();
  app.add_option("--connections", opt.connections, "persistent connections (smtpd processes)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--threads", opt.threads, "client threads sharing the connections")
      ->check(CLI::Range(1, 64));
  app.add_option("--duration", duration, "measured time (250ms, 5s, 1m)");
  app.add_option("--warmup", warmup, "unmeasured time before it");
  app.add_option("--timeout", timeout, "longest wait for one answer (an error past it)");
  app.add_option("--messages", opt.messages, "stop after this many messages (0: run --duration)");
  app.add_option("--accounts", opt.accounts, "sasl_username pool size")
      ->check(CLI::Range(1u, 100'000'000u));
  app.add_option("--account-base", opt.account_base, "number of the first account (user<N>@)")
      ->check(CLI::Range(0u, 1'000'000'000u));
  app.add_option("--pick", pick, "random: accounts at random; cycle: in turn (each one sends)")
      ->check(CLI::IsMember({"random", "cycle"}));
  app.add_option("--recipients", recipients, "recipients per message, N or MIN-MAX");
  app.add_option("--mode", mode,
                 "eom: RCPT x n, DATA, END-OF-MESSAGE (hooks in the recipient, data and "
                 "end-of-data restrictions); rcpt: RCPT x n only")
      ->check(CLI::IsMember({"eom", "rcpt"}));
  app.add_option("--stages", stages, "explicit stages, e.g. rcpt,eom (overrides --mode)");
  app.add_option("--seed", opt.seed, "random seed");
  app.add_flag("--json", opt.json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "mw-policyd-loadgen: %s\n", what.c_str());
    return 2;
  };
  const auto t = parse_target(target);
  if (!t) return fail("--target '" + target + "': expected inet:HOST:PORT or unix:PATH");
  opt.target = *t;
  const auto d = parse_duration_ms(duration);
  const auto w = parse_duration_ms(warmup);
  const auto to = parse_duration_ms(timeout);
  if (!d || *d <= 0) return fail("--duration '" + duration + "': expected e.g. 250ms, 5s, 1m");
  if (!w) return fail("--warmup '" + warmup + "': expected e.g. 0s, 500ms, 1s");
  if (!to || *to <= 0) return fail("--timeout '" + timeout + "': expected e.g. 5s");
  opt.duration_ms = *d;
  opt.warmup_ms = *w;
  opt.timeout_ms = *to;
  if (opt.messages > 0) opt.warmup_ms = 0;  // counted messages are all measured
  {
    unsigned lo = 0, hi = 0;
    char extra = 0;
    if (std::sscanf(recipients.c_str(), "%u-%u%c", &lo, &hi, &extra) == 2) {
    } else if (std::sscanf(recipients.c_str(), "%u%c", &lo, &extra) == 1) {
      hi = lo;
    } else {
      return fail("--recipients '" + recipients + "': expected N or MIN-MAX");
    }
    if (lo < 1 || hi < lo || hi > 1000) {
      return fail("--recipients '" + recipients + "': need 1 <= MIN <= MAX <= 1000");
    }
    opt.rcpt_min = lo;
    opt.rcpt_max = hi;
  }
  if (mode == "rcpt") {
    opt.stages[1] = opt.stages[2] = false;
  }
  if (!stages.empty()) {
    opt.stages[0] = opt.stages[1] = opt.stages[2] = false;
    std::size_t pos = 0;
    while (pos <= stages.size()) {
      const auto comma = std::min(stages.find(',', pos), stages.size());
      const auto s = stages.substr(pos, comma - pos);
      if (s == "rcpt") {
        opt.stages[0] = true;
      } else if (s == "data") {
        opt.stages[1] = true;
      } else if (s == "eom") {
        opt.stages[2] = true;
      } else {
        return fail("--stages '" + stages + "': '" + s + "' is not one of rcpt, data, eom");
      }
      pos = comma + 1;
    }
  }
  opt.cycle = pick == "cycle";
  ::signal(SIGPIPE, SIG_IGN);
  return run_load(opt);
}
