// `mailwarden policyd run|check-config|status|lua-script`: the Postfix policy service.
#include <fmt/format.h>
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "core/clock.hpp"
#include "policyd/alerts.hpp"
#include "policyd/engine.hpp"
#include "policyd/redis_store.hpp"
#include "policyd/server.hpp"

namespace mw::cli {

namespace {

struct PolicydOptions {
  std::string config;
  std::string metrics;
  bool no_syslog = false;
  bool check_only = false;
};

int run_policyd(const PolicydOptions& o) {
  using namespace mw::policyd;
  auto log = default_log_sink(!o.no_syslog);
  auto policy = load_policy(o.config);
  if (!policy) {
    log(LogLevel::error, policy.error().message);
    return kExitInvalid;
  }
  const Config& config = (*policy)->config;
  SystemClock clock;
  // Bind first (a port below 1024 or a socket in Postfix's private/ may need root), then drop
  // privileges, then open the state so that its files belong to the service's user.
  Alerter alerts(config.alerts);
  std::unique_ptr<CounterStore> store;
  // The server needs its store before bind() but the store opens after the privilege drop:
  // it gets this forwarder, pointed at the real store before run() accepts anything.
  class Forward final : public CounterStore {
   public:
    CounterStore* target = nullptr;
    Result<ChargeResult> charge(const ChargeRequest& r, std::span<const Bucket> b) override {
      return target->charge(r, b);
    }
    Status flush() override { return target->flush(); }
    std::size_t active_keys() const override { return target->active_keys(); }
  };
  Forward forward;
  Server server({o.config, true}, *policy, forward, alerts, clock, log);
  if (auto st = server.bind(); !st) {
    log(LogLevel::error, st.error().message);
    return kExitFailure;
  }
  if (auto st = Server::drop_privileges(config.server.user); !st) {
    log(LogLevel::error, st.error().message);
    return kExitFailure;
  }
  auto opened = open_store(config.state);
  if (!opened) {
    log(LogLevel::error, opened.error().message);
    return kExitFailure;
  }
  store = std::move(*opened);
  forward.target = store.get();
  std::string where;
  const auto ports = server.ports();
  for (std::size_t i = 0; i < config.server.listen.size(); ++i) {
    if (!where.empty()) where += ", ";
    where += config.server.listen[i];
    if (i < ports.size() && ports[i] != 0) where += fmt::format(" (port {})", ports[i]);
  }
  if (server.metrics_port() > 0)
    where += fmt::format("; metrics on port {}", server.metrics_port());
  log(LogLevel::info,
      fmt::format("listening on {}; state: {}", where,
                  config.state.backend == StoreBackend::redis ? "redis"
                  : config.state.path.empty()                 ? "memory (not persisted)"
                                              : "memory, saved to " + config.state.path.string()));
  if (auto st = server.run(); !st) {
    log(LogLevel::error, st.error().message);
    return kExitFailure;
  }
  log(LogLevel::info, "stopped; counters saved");
  return kExitOk;
}

int check_config(const PolicydOptions& o) {
  auto policy = mw::policyd::load_policy(o.config);
  if (!policy) {
    std::fprintf(stderr, "%s\n", policy.error().message.c_str());
    return kExitInvalid;
  }
  const auto& c = (*policy)->config;
  std::size_t windows = 0;
  for (const auto& l : c.limits) windows += l.windows.size();
  std::printf("%s: ok (%zu limits, %zu exceptions, counting at %s, state %s%s)\n", o.config.c_str(),
              windows, c.exceptions.size(),
              c.stage == mw::policyd::CountStage::rcpt ? "RCPT" : "END-OF-MESSAGE",
              c.state.backend == mw::policyd::StoreBackend::redis ? "redis" : "memory",
              (*policy)->logins ? ", sender login map loaded" : "");
  return kExitOk;
}

// `status`: reads the metrics endpoint and prints what an administrator asks first.
int status(const PolicydOptions& o) {
  std::string target = o.metrics;
  if (target.empty()) {
    auto policy = mw::policyd::load_policy(o.config);
    if (!policy) {
      std::fprintf(stderr, "%s\n", policy.error().message.c_str());
      return kExitInvalid;
    }
    target = (*policy)->config.server.metrics;
    if (target.empty()) {
      std::fprintf(stderr, "%s: [server] metrics is off: status needs the metrics endpoint\n",
                   o.config.c_str());
      return kExitInvalid;
    }
  }
  const auto colon = target.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--metrics '%s': expected HOST:PORT\n", target.c_str());
    return kExitInvalid;
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  httplib::Client client(host, std::atoi(target.c_str() + colon + 1));
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) {
    std::fprintf(stderr, "policyd at %s: not answering (%s)\n", target.c_str(),
                 res ? fmt::format("HTTP {}", res->status).c_str()
                     : httplib::to_string(res.error()).c_str());
    return kExitFailure;
  }
  std::map<std::string, double> m;
  std::istringstream in(res->body);
  std::string line;
  std::vector<std::pair<double, double>> buckets;  // le, cumulative
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    const std::string name = line.substr(0, sp);
    const double value = std::strtod(line.c_str() + sp + 1, nullptr);
    m[name] = value;
    const std::string prefix = "mailwarden_policyd_request_seconds_bucket{le=\"";
    if (name.rfind(prefix, 0) == 0) {
      const std::string le = name.substr(prefix.size(), name.size() - prefix.size() - 2);
      buckets.emplace_back(le == "+Inf" ? 1e9 : std::strtod(le.c_str(), nullptr), value);
    }
  }
  auto get = [&](const std::string& k) { return static_cast<unsigned long long>(m[k]); };
  const double total = buckets.empty() ? 0 : buckets.back().second;
  auto quantile = [&](double q) -> std::string {
    if (total <= 0) return "-";
    for (const auto& [le, c] : buckets) {
      if (c >= q * total) return le >= 1e9 ? "> 1 s" : fmt::format("<= {:g} ms", le * 1000);
    }
    return "-";
  };
  std::printf("policyd at %s\n", target.c_str());
  std::printf("  requests      %llu (malformed %llu, timeouts %llu)\n",
              get("mailwarden_policyd_requests_total"), get("mailwarden_policyd_malformed_total"),
              get("mailwarden_policyd_timeouts_total"));
  std::printf("  answers       dunno %llu, defer %llu, hold %llu, reject %llu\n",
              get("mailwarden_policyd_decisions_total{action=\"dunno\"}"),
              get("mailwarden_policyd_decisions_total{action=\"defer\"}"),
              get("mailwarden_policyd_decisions_total{action=\"hold\"}"),
              get("mailwarden_policyd_decisions_total{action=\"reject\"}"));
  std::printf("  over limit    %llu, spoofed %llu, duplicates %llu, alerts %llu (failed %llu)\n",
              get("mailwarden_policyd_over_limit_total"), get("mailwarden_policyd_spoofed_total"),
              get("mailwarden_policyd_duplicates_total"), get("mailwarden_policyd_alerts_total"),
              get("mailwarden_policyd_alerts_failed_total"));
  std::printf(
      "  store errors  %llu (fail-open %llu, fail-closed %llu), save errors %llu\n",
      get("mailwarden_policyd_store_errors_total"), get("mailwarden_policyd_fail_open_total"),
      get("mailwarden_policyd_fail_closed_total"), get("mailwarden_policyd_flush_errors_total"));
  std::printf("  now           %llu connections, %llu active keys\n",
              get("mailwarden_policyd_connections"), get("mailwarden_policyd_active_keys"));
  std::printf("  latency       p50 %s, p99 %s\n", quantile(0.5).c_str(), quantile(0.99).c_str());
  return kExitOk;
}

}  // namespace

void register_policyd(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "policyd", "Postfix policy service: per-account sending limits and anti-spoofing");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<PolicydOptions>();

  auto* run = cmd->add_subcommand("run", "serve policy requests (foreground; SIGHUP reloads)");
  run->add_option("--config", opts->config, "configuration file (TOML)")->required();
  run->add_flag("--no-syslog", opts->no_syslog, "log to stderr only");
  run->add_flag("--check-config", opts->check_only,
                "check the configuration and exit (as check-config)");
  run->callback([opts, &exit_code] {
    exit_code = opts->check_only ? check_config(*opts) : run_policyd(*opts);
  });

  auto* check = cmd->add_subcommand("check-config", "load and check a configuration, then exit");
  check->add_option("--config", opts->config, "configuration file (TOML)")->required();
  check->callback([opts, &exit_code] { exit_code = check_config(*opts); });

  auto* st = cmd->add_subcommand("status", "show a running service's counters");
  st->add_option("--config", opts->config, "configuration file (its [server] metrics)");
  st->add_option("--metrics", opts->metrics, "metrics endpoint HOST:PORT");
  st->callback([opts, &exit_code] {
    if (opts->config.empty() && opts->metrics.empty()) {
      std::fprintf(stderr, "policyd status: give --config FILE or --metrics HOST:PORT\n");
      exit_code = kExitInvalid;
      return;
    }
    exit_code = status(*opts);
  });

  auto* lua = cmd->add_subcommand("lua-script", "print the Redis Lua script of the redis backend");
  lua->callback(
      [] { std::fputs(std::string(mw::policyd::RedisStore::lua_script()).c_str(), stdout); });
}

}  // namespace mw::cli
