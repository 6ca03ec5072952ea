// The asio policy server. One io_context per worker thread, each run by that thread alone: a
// connection lives on one worker from accept to close, so its handlers need no strand and no
// lock (measured: a shared io_context with strands cost 45% more CPU per request on two cores).
// The main thread accepts and hands each connection to the next worker. A Session reads,
// frames, decides and answers in order (Postfix waits for each answer, but pipelined requests are
// answered in order too). One deadline per session, checked by a timer that is armed once and
// re-armed only when it fires: updating the deadline on every request costs an assignment, not a
// timer cancellation.
#include "policyd/server.hpp"

#include <grp.h>
#include <httplib.h>
#include <pwd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <thread>

#include "policyd/memory_store.hpp"
#include "policyd/redis_store.hpp"

namespace mw::policyd {

namespace {

using stream = asio::generic::stream_protocol;
using acceptor_t = asio::basic_socket_acceptor<stream>;
using steady = std::chrono::steady_clock;

std::string now_text() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string peer_name(const stream::endpoint& ep) {
  const sockaddr* sa = ep.data();
  if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
    char host[INET6_ADDRSTRLEN] = {};
    int port = 0;
    if (sa->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
      inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
      port = ntohs(in->sin_port);
      return std::string(host) + ":" + std::to_string(port);
    }
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "unix";
}

struct ListenAddress {
  bool unix_socket = false;
  std::string host;
  int port = 0;
  std::string path;
};

Result<ListenAddress> parse_listen(const std::string& text) {
  ListenAddress a;
  if (text.rfind("unix:", 0) == 0) {
    a.unix_socket = true;
    a.path = text.substr(5);
    if (a.path.empty() || a.path[0] != '/')
      return Error{"listen '" + text + "': not an absolute path"};
    return a;
  }
  if (text.rfind("inet:", 0) != 0) return Error{"listen '" + text + "': expected inet: or unix:"};
  std::string rest = text.substr(5);
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Error{"listen '" + text + "': expected inet:[ADDRESS]:PORT"};
    }
    a.host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return Error{"listen '" + text + "': no port"};
    a.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  try {
    std::size_t used = 0;
    a.port = std::stoi(port, &used);
    if (used != port.size() || a.port < 0 || a.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Error{"listen '" + text + "': bad port '" + port + "'"};
  }
  return a;
}

std::int64_t max_window(const Config& c) {
  std::int64_t m = 0;
  for (const auto& l : c.limits) {
    for (const auto& w : l.windows) m = std::max(m, w.window);
  }
  for (const auto& e : c.exceptions) {
    for (const auto& w : e.windows) m = std::max(m, w.window);
  }
  return m;
}

}  // namespace

LogSink default_log_sink(bool use_syslog) {
  if (use_syslog) openlog("mailwarden-policyd", LOG_PID | LOG_NDELAY, LOG_MAIL);
  return [use_syslog](LogLevel level, const std::string& message) {
    const char* tag = level == LogLevel::info      ? "info"
                      : level == LogLevel::warning ? "warning"
                                                   : "error";
    std::fprintf(stderr, "%s mailwarden-policyd: %s: %s\n", now_text().c_str(), tag,
                 message.c_str());
    if (use_syslog && level != LogLevel::info) {
      syslog(level == LogLevel::warning ? LOG_WARNING : LOG_ERR, "%s: %s", tag, message.c_str());
    }
  };
}

Result<std::unique_ptr<CounterStore>> open_store(const StateConfig& state) {
  if (state.backend == StoreBackend::redis) {
    auto s = RedisStore::open(state.redis);
    if (!s) return s.error();
    return std::unique_ptr<CounterStore>(std::move(*s));
  }
  MemoryStoreOptions options;
  options.path = state.path;
  auto s = MemoryStore::open(options);
  if (!s) return s.error();
  return std::unique_ptr<CounterStore>(std::move(*s));
}

struct Server::Impl {
  Impl(Server& s, Options o, std::shared_ptr<const Policy> p, CounterStore& st, Alerter& a,
       Clock& c, LogSink l)
      : self(s),
        options(std::move(o)),
        policy(std::move(p)),
        store(st),
        alerts(a),
        clock(c),
        log(std::move(l)),
        signals(io) {}

  Server& self;
  Options options;
  std::atomic<std::shared_ptr<const Policy>> policy;
  CounterStore& store;
  Alerter& alerts;
  Clock& clock;
  LogSink log;

  // The workers outlive `io`: a pending accept on `io` holds a socket of a worker's context,
  // destroyed with `io`.
  std::vector<std::unique_ptr<asio::io_context>> workers;  // one per worker thread
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  asio::io_context io;  // the acceptors and signals (main thread)
  std::size_t next_worker = 0;
  std::vector<std::unique_ptr<acceptor_t>> acceptors;
  std::vector<int> ports;
  std::vector<std::string> unix_paths;
  asio::signal_set signals;

  std::unique_ptr<httplib::Server> http;
  std::thread http_thread;
  int metrics_port = 0;

  std::mutex maintenance_mutex;
  std::condition_variable maintenance_cv;
  bool stopping = false;
  std::thread maintenance;

  // Store errors are logged at most every 10 s, with the number suppressed in between.
  std::mutex error_log_mutex;
  steady::time_point last_error_log{};
  std::uint64_t suppressed_errors = 0;

  void accept(acceptor_t& acceptor);
  void wait_signal();
  void maintain();
  void log_store_error(const std::string& detail);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, Metrics& metrics, stream::socket socket)
      : server_(server),
        metrics_(metrics),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        born_(steady::now()) {
    asio::error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("?") : peer_name(ep);
  }
  ~Session() { metrics_.connection_closed(); }

  void start() {
    metrics_.connection_opened();
    const auto policy = server_.policy.load();
    const auto& sc = policy->config.server;
    limits_.max_request_bytes = sc.max_request_bytes;
    limits_.max_attributes = sc.max_attributes;
    buffer_.resize(static_cast<std::size_t>(limits_.max_request_bytes) + 1);
    set_deadline(*policy);
    arm_timer();
    read();
  }

 private:
  void set_deadline(const Policy& p) {
    const auto& sc = p.config.server;
    const auto now = steady::now();
    const auto wait =
        std::chrono::milliseconds(used_ == 0 ? sc.idle_timeout_ms : sc.request_timeout_ms);
    deadline_ = std::min(now + wait, born_ + std::chrono::milliseconds(sc.max_ttl_ms));
  }

  void arm_timer() {
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (ec || !self->socket_.is_open()) return;
      if (steady::now() >= self->deadline_) {
        self->metrics_.timeout();
        asio::error_code ignored;
        self->socket_.close(ignored);
        return;
      }
      self->arm_timer();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
                            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                              if (ec) {
                                self->close();
                                return;
                              }
                              self->used_ += n;
                              self->process();
                            });
  }

  void process() {
    const auto policy = server_.policy.load();
    std::size_t start = 0;
    out_.clear();
    for (;;) {
      const std::string_view pending(buffer_.data() + start, used_ - start);
      const std::size_t end = find_request_end(pending, scanned_);
      if (end == std::string_view::npos) break;
      scanned_ = 0;
      const auto t0 = steady::now();
      auto request = parse_request(pending.substr(0, end), limits_);
      if (!request) {
        metrics_.malformed();
        server_.log(LogLevel::warning, "malformed request from " + peer_ + ": " +
                                           request.error().message + "; closing without an answer");
        // The answers to the well-formed requests before it in the same read still go out.
        close_after_write();
        return;
      }
      const auto now =
          std::chrono::duration_cast<std::chrono::seconds>(server_.clock.now().time_since_epoch())
              .count();
      Decision d = decide(*policy, server_.store, *request, now);
      out_ += format_reply(d.action);
      metrics_.request(d, std::chrono::duration<double>(steady::now() - t0).count());
      report(d);
      start += end;
    }
    // Keep the unfinished request at the front of the buffer.
    if (start > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start, used_ - start);
      used_ -= start;
    }
    if (used_ == buffer_.size()) {
      metrics_.malformed();
      server_.log(LogLevel::warning, "request from " + peer_ + " exceeds " +
                                         std::to_string(limits_.max_request_bytes) +
                                         " bytes; closing without an answer");
      close();
      return;
    }
    set_deadline(*policy);
    if (out_.empty()) {
      read();
      return;
    }
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
          if (ec) {
            self->close();
            return;
          }
          // Postfix closes at its max_ttl; ours is longer, a safety net.
          if (self->used_ == 0 &&
              steady::now() >=
                  self->born_ + std::chrono::milliseconds(
                                    self->server_.policy.load()->config.server.max_ttl_ms)) {
            self->close();
            return;
          }
          self->read();
        });
  }

  void report(const Decision& d) {
    switch (d.reason) {
      case Reason::over_limit:
      case Reason::spoofed:
        server_.log(LogLevel::warning,
                    std::string(reason_name(d.reason)) + ": " + d.detail + ": " + d.action);
        break;
      case Reason::fail_open:
      case Reason::fail_closed:
        server_.log_store_error(std::string(reason_name(d.reason)) + ": " + d.detail);
        break;
      default:
        break;
    }
    if (d.alert) {
      metrics_.alert();
      server_.alerts.send(*d.alert);
    }
  }

  void close_after_write() {
    if (out_.empty()) {
      close();
      return;
    }
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this()](const asio::error_code&, std::size_t) { self->close(); });
  }

  void close() {
    asio::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  Server::Impl& server_;
  Metrics& metrics_;
  stream::socket socket_;
  asio::steady_timer timer_;
  steady::time_point born_;
  steady::time_point deadline_;
  std::string peer_;
  ProtocolLimits limits_;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
  std::size_t scanned_ = 0;
  std::string out_;
};

}  // namespace

void Server::Impl::accept(acceptor_t& acceptor) {
  auto& worker = *workers[next_worker++ % workers.size()];
  acceptor.async_accept(
      worker.get_executor(), [this, &acceptor](const asio::error_code& ec, stream::socket socket) {
        if (!acceptor.is_open()) return;
        if (!ec) {
          std::make_shared<Session>(*this, self.metrics_, std::move(socket))->start();
        } else if (ec != asio::error::operation_aborted) {
          log(LogLevel::warning, "accept: " + ec.message());
        }
        accept(acceptor);
      });
}

void Server::Impl::wait_signal() {
  signals.async_wait([this](const asio::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      (void)self.reload();
      wait_signal();
      return;
    }
    log(LogLevel::info, std::string("signal ") + (sig == SIGTERM ? "TERM" : "INT") + ": stopping");
    self.stop();
  });
}

void Server::Impl::log_store_error(const std::string& detail) {
  std::lock_guard lock(error_log_mutex);
  const auto now = steady::now();
  if (now - last_error_log < std::chrono::seconds(10)) {
    ++suppressed_errors;
    return;
  }
  std::string line = detail;
  if (suppressed_errors > 0) {
    line += " (" + std::to_string(suppressed_errors) + " more since the last message)";
  }
  suppressed_errors = 0;
  last_error_log = now;
  log(LogLevel::warning, line);
}

void Server::Impl::maintain() {
  auto next_expire = steady::now() + std::chrono::seconds(60);
  bool flush_failing = false;
  std::unique_lock lock(maintenance_mutex);
  while (!stopping) {
    const auto policy = this->policy.load();
    maintenance_cv.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(
                                      policy->config.state.flush_interval_ms, 10)));
    if (stopping) break;
    lock.unlock();
    const Status st = store.flush();
    if (!st) {
      self.metrics_.flush_error();
      if (!flush_failing) log(LogLevel::error, "saving the counters: " + st.error().message);
    } else if (flush_failing) {
      log(LogLevel::info, "saving the counters works again");
    }
    flush_failing = !st;
    if (steady::now() >= next_expire) {
      next_expire = steady::now() + std::chrono::seconds(60);
      if (auto* memory = dynamic_cast<MemoryStore*>(&store)) {
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch())
                .count();
        memory->expire(now, std::max<std::int64_t>(max_window(policy->config), 1));
      }
    }
    lock.lock();
  }
}

Server::Server(Options options, std::shared_ptr<const Policy> policy, CounterStore& store,
               Alerter& alerts, Clock& clock, LogSink log)
    : impl_(std::make_unique<Impl>(*this, std::move(options), std::move(policy), store, alerts,
                                   clock, std::move(log))) {}

Server::~Server() {
  stop();
  if (impl_->http) impl_->http->stop();
  if (impl_->http_thread.joinable()) impl_->http_thread.join();
  if (impl_->maintenance.joinable()) impl_->maintenance.join();
  for (const auto& p : impl_->unix_paths) ::unlink(p.c_str());
}

std::shared_ptr<const Policy> Server::policy() const {
  return impl_->policy.load();
}

std::vector<int> Server::ports() const {
  return impl_->ports;
}
int Server::metrics_port() const {
  return impl_->metrics_port;
}

Status Server::bind() {
  auto& im = *impl_;
  const auto policy = im.policy.load();
  const auto& sc = policy->config.server;
  std::vector<std::string> listen = sc.listen;
  if (listen.empty()) listen.push_back("inet:127.0.0.1:10031");
  for (const auto& text : listen) {
    auto addr = parse_listen(text);
    if (!addr) return addr.error();
    auto acceptor = std::make_unique<acceptor_t>(im.io);
    asio::error_code ec;
    if (addr->unix_socket) {
      struct stat st {};
      // A socket left by a crashed run is replaced; any other file is never touched.
      if (::lstat(addr->path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
          return Error{"listen '" + text + "': exists and is not a socket"};
        ::unlink(addr->path.c_str());
      }
      asio::local::stream_protocol::endpoint ep(addr->path);
      acceptor->open(stream(ep.protocol()), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) {
        // Postfix's smtpd runs as postfix: the socket must be writable by it. Restrict access
        // with the directory (Postfix's private/ is 0700 postfix).
        ::chmod(addr->path.c_str(), 0666);
        im.unix_paths.push_back(addr->path);
      }
    } else {
      auto ip = asio::ip::make_address(addr->host, ec);
      if (ec) return Error{"listen '" + text + "': bad address '" + addr->host + "'"};
      asio::ip::tcp::endpoint ep(ip, static_cast<unsigned short>(addr->port));
      acceptor->open(stream(ep.protocol()), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor->bind(ep, ec);
    }
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error{"listen '" + text + "': " + ec.message()};
    int port = 0;
    if (!addr->unix_socket) {
      const stream::endpoint local = acceptor->local_endpoint();
      const sockaddr* sa = local.data();
      port = sa->sa_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port)
                                      : ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
    }
    im.ports.push_back(port);
    im.acceptors.push_back(std::move(acceptor));
  }
  if (!sc.metrics.empty()) {
    const auto colon = sc.metrics.rfind(':');
    std::string host = sc.metrics.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    const int port = colon == std::string::npos ? -1 : std::atoi(sc.metrics.c_str() + colon + 1);
    im.http = std::make_unique<httplib::Server>();
    im.http->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      Metrics::Gauges g;
      g.active_keys = impl_->store.active_keys();
      g.alerts_failed = impl_->alerts.failed();
      g.alerts_dropped = impl_->alerts.dropped();
      res.set_content(metrics_.render(g), "text/plain; version=0.0.4");
    });
    const bool ok = port == 0 ? (im.metrics_port = im.http->bind_to_any_port(host)) > 0
                              : port > 0 && im.http->bind_to_port(host, port);
    if (!ok) return Error{"metrics '" + sc.metrics + "': cannot listen there"};
    if (port > 0) im.metrics_port = port;
  }
  return {};
}

Status Server::drop_privileges(const std::string& user) {
  if (user.empty() || ::geteuid() != 0) return {};
  errno = 0;
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return Error{"user '" + user + "': no such user"};
  if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 ||
      ::setuid(pw->pw_uid) != 0) {
    return Error{"dropping privileges to '" + user + "': " + std::strerror(errno)};
  }
  if (::setuid(0) == 0) return Error{"dropping privileges to '" + user + "': could regain root"};
  return {};
}

Status Server::run() {
  auto& im = *impl_;
  if (im.acceptors.empty()) return Error{"run: nothing bound"};
  if (im.options.handle_signals) {
    im.signals.add(SIGHUP);
    im.signals.add(SIGTERM);
    im.signals.add(SIGINT);
    im.wait_signal();
  }
  const auto policy = im.policy.load();
  std::uint32_t threads = policy->config.server.threads;
  if (threads == 0) {
    // Half the cores: the requests come from smtpd processes (and amavis) on the same host,
    // and one worker already answers well over 100,000 requests a second. Measured on two
    // cores under the benchmark's load: one worker 0.89x the no-op C server, two 0.54x.
    threads = std::max(1u, std::thread::hardware_concurrency() / 2);
    // A Redis decision is a blocking call on the worker: as many workers as pooled connections
    // keep the pool busy.
    if (policy->config.state.backend == StoreBackend::redis) {
      threads = std::max(threads, policy->config.state.redis.pool);
    }
  }
  for (std::uint32_t i = 0; i < threads; ++i) {
    im.workers.push_back(std::make_unique<asio::io_context>(1));
    im.guards.push_back(asio::make_work_guard(*im.workers.back()));
  }
  for (auto& a : im.acceptors) im.accept(*a);
  if (im.http) im.http_thread = std::thread([&im] { im.http->listen_after_bind(); });
  im.maintenance = std::thread([&im] { im.maintain(); });

  std::vector<std::thread> pool;
  for (auto& w : im.workers) pool.emplace_back([&w] { w->run(); });
  im.io.run();
  for (auto& g : im.guards) g.reset();
  for (auto& w : im.workers) w->stop();
  for (auto& t : pool) t.join();

  {
    std::lock_guard lock(im.maintenance_mutex);
    im.stopping = true;
  }
  im.maintenance_cv.notify_all();
  if (im.maintenance.joinable()) im.maintenance.join();
  if (im.http) im.http->stop();
  if (im.http_thread.joinable()) im.http_thread.join();
  const Status st = im.store.flush();
  if (!st) return Error{"saving the counters at exit: " + st.error().message};
  return {};
}

void Server::stop() {
  auto& im = *impl_;
  asio::post(im.io, [&im] {
    for (auto& a : im.acceptors) {
      asio::error_code ignored;
      a->close(ignored);
    }
    asio::error_code ignored;
    im.signals.cancel(ignored);
    im.io.stop();
  });
}

Status Server::reload() {
  auto& im = *impl_;
  auto loaded = load_policy(im.options.config_file);
  if (!loaded) {
    metrics_.reload(false);
    im.log(LogLevel::error,
           "reload refused, keeping the running configuration: " + loaded.error().message);
    return loaded.error();
  }
  const auto old = im.policy.load();
  if ((*loaded)->config.server.listen != old->config.server.listen ||
      (*loaded)->config.server.metrics != old->config.server.metrics ||
      (*loaded)->config.state.backend != old->config.state.backend) {
    im.log(LogLevel::warning,
           "reload: listen addresses, metrics and the state backend change only at restart");
  }
  im.policy.store(*loaded);
  metrics_.reload(true);
  const Status st = im.store.flush();
  if (!st) im.log(LogLevel::error, "saving the counters: " + st.error().message);
  im.log(LogLevel::info, "configuration reloaded from " + im.options.config_file.string());
  return {};
}

}  // namespace mw::policyd
