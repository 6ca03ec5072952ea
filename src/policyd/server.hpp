// The policy service: asio, one io thread per core (configurable), TCP and unix sockets, one
// session per smtpd connection with Postfix-compatible timeouts; the metrics endpoint; the
// periodic flush of the counters; SIGHUP reloads the configuration atomically, SIGTERM flushes
// and exits.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "policyd/alerts.hpp"
#include "policyd/engine.hpp"
#include "policyd/metrics.hpp"
#include "policyd/store.hpp"

namespace mw::policyd {

// Log lines: the server writes them to stderr (the journal) and, at warning level and above,
// to syslog (mail facility) when enabled.
enum class LogLevel { info, warning, error };
using LogSink = std::function<void(LogLevel, const std::string&)>;
LogSink default_log_sink(bool syslog);

// The store the configuration asks for (memory with optional SQLite persistence, or Redis).
Result<std::unique_ptr<CounterStore>> open_store(const StateConfig& state);

class Server {
 public:
  struct Options {
    std::filesystem::path config_file;  // reloaded on SIGHUP
    bool handle_signals = true;         // false in tests: call reload() / stop() instead
  };

  Server(Options options, std::shared_ptr<const Policy> policy, CounterStore& store,
         Alerter& alerts, Clock& clock, LogSink log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listen address and the metrics endpoint. An error names the address.
  Status bind();
  // The bound TCP ports in listen order (0 for unix sockets): tests listen on port 0.
  std::vector<int> ports() const;
  int metrics_port() const;
  // Drops root privileges to `user` (after bind, before opening files it must own).
  static Status drop_privileges(const std::string& user);

  // Serves until stop() or SIGTERM/SIGINT; flushes the store before returning.
  Status run();
  void stop();
  // Loads the configuration file again; a broken one keeps the current policy and says why.
  Status reload();

  Metrics& metrics() { return metrics_; }
  std::shared_ptr<const Policy> policy() const;

  struct Impl;  // the asio machinery (server.cpp)

 private:
  // Declared first: sessions still open when the server is destroyed count themselves closed.
  Metrics metrics_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw::policyd
