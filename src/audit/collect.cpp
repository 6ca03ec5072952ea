// Snapshot collection: the command table, a small pool that runs it, redaction before every
// write, and manifest.json.
#include "audit/collect.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "audit/sshd.hpp"
#include "core/atomic_file.hpp"

namespace mw::audit {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kZmprov = "/opt/zimbra/bin/zmprov";
constexpr std::string_view kZimbraPostconf = "/opt/zimbra/common/sbin/postconf";
constexpr std::string_view kSystemPostconf = "/usr/sbin/postconf";
// Raw files are configuration, not data: anything larger is not what we think it is.
// Accounts without a logon for this long are collected for review (zmprov-sa-review.txt); the
// controls apply their own, catalog-given threshold to what was collected.
constexpr std::chrono::hours kReviewAfter{24 * 90};
constexpr std::size_t kMaxCopyBytes = std::size_t{16} << 20;
constexpr std::size_t kMaxManifestBytes = std::size_t{16} << 20;
// More values than this (domains, jails) are refused: a runaway list is not a host to audit
// one command at a time.
constexpr std::size_t kMaxValues = 10000;
// Where programs named without a path are looked for, independently of the caller's PATH
// (sudo and cron give different ones; sshd and iptables-save live in sbin).
constexpr std::array<std::string_view, 6> kSystemDirs = {
    "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};

CollectItem run(std::string file, std::vector<std::string> argv, milliseconds timeout,
                RunAs as = RunAs::invoker) {
  CollectItem i;
  i.file = std::move(file);
  i.argv = std::move(argv);
  i.timeout = timeout;
  i.run_as = as;
  return i;
}

CollectItem zimbra(std::string file, std::vector<std::string> argv, milliseconds timeout) {
  return run(std::move(file), std::move(argv), timeout, RunAs::zimbra);
}

CollectItem copy_file(std::string file, std::string source) {
  CollectItem i;
  i.file = std::move(file);
  i.kind = CollectKind::copy_file;
  i.source = std::move(source);
  return i;
}

CollectItem copy_dir(std::string dir, std::string source, std::string suffix = "") {
  CollectItem i;
  i.file = std::move(dir);
  i.kind = CollectKind::copy_dir;
  i.source = std::move(source);
  i.name_suffix = std::move(suffix);
  return i;
}

std::vector<CollectItem> make_table() {
  using namespace std::chrono_literals;
  const std::string zmprov(kZmprov);
  const std::string zpostconf(kZimbraPostconf);
  const std::string spostconf(kSystemPostconf);
  // Each zmprov / zmlocalconfig starts a JVM (1-3 s on a mail server); -l reads LDAP directly
  // instead of going through the mailbox's SOAP port, so it works with mailboxd down.
  std::vector<CollectItem> t;
  t.push_back(zimbra("zmhostname.txt", {"/opt/zimbra/bin/zmhostname"}, 10s));
  t.push_back(zimbra("zmprov-gad.txt", {zmprov, "-l", "gad"}, 15s));
  // zmcontrol -v runs zmlocalconfig and two zmprov gacf itself: the slowest, started early.
  auto zmcontrol = zimbra("zmcontrol-v.txt", {"/opt/zimbra/bin/zmcontrol", "-v"}, 20s);
  zmcontrol.ok_exit_codes = {0, 1};  // displayVersion() then exit 1, in every release we read
  t.push_back(zmcontrol);
  t.push_back(zimbra("zmprov-gaaa-v.txt", {zmprov, "-l", "gaaa", "-v"}, 20s));
  t.push_back(zimbra("zmprov-gacf.txt", {zmprov, "-l", "gacf"}, 15s));
  t.push_back(zimbra("zmprov-gac-v.txt", {zmprov, "-l", "gac", "-v"}, 15s));
  t.push_back(zimbra("zmprov-gas.txt", {zmprov, "-l", "gas"}, 15s));
  t.push_back(zimbra("zmlocalconfig-s.txt", {"/opt/zimbra/bin/zmlocalconfig", "-s"}, 10s));
  // The accounts to review: no logon for kReviewAfter, never logged in, or external virtual
  // (guests of external sharing). Only those, with -v: every account would be far too much.
  t.push_back(
      zimbra("zmprov-sa-review.txt",
             {zmprov, "-l", "sa", "-v",
              "(&(!(zimbraIsSystemAccount=TRUE))(|(zimbraIsExternalVirtualAccount=TRUE)"
              "(!(zimbraLastLogonTimestamp=*))(zimbraLastLogonTimestamp<={logon_cutoff})))"},
             20s));

  auto gs = zimbra("zmprov-gs.txt", {zmprov, "-l", "gs", "{}"}, 15s);
  gs.kind = CollectKind::per_value;
  gs.values_from = "zmhostname.txt";
  gs.values = ValueSource::host_names;
  t.push_back(gs);
  auto gd = zimbra("zmprov-gd.txt", {zmprov, "-l", "gd", "{}"}, 15s);
  gd.kind = CollectKind::per_value;
  gd.values_from = "zmprov-gad.txt";
  gd.values = ValueSource::host_names;
  t.push_back(gd);

  t.push_back(zimbra("postconf-n.txt", {zpostconf, "-n"}, 5s));
  t.push_back(zimbra("postconf-M.txt", {zpostconf, "-M"}, 5s));
  t.push_back(zimbra("postconf-P.txt", {zpostconf, "-P"}, 5s));
  t.push_back(run("postconf-n-system.txt", {spostconf, "-n"}, 5s));
  t.push_back(run("postconf-M-system.txt", {spostconf, "-M"}, 5s));
  t.push_back(run("postconf-P-system.txt", {spostconf, "-P"}, 5s));

  t.push_back(run("sshd-T.txt", {"sshd", "-T"}, 5s));
  // Raw files keep their host path under the snapshot (etc/ssh/...): their Include and
  // $IncludeConfig lines name absolute paths, which the loader resolves under the snapshot
  // directory (sshd.hpp filesystem_include_resolver).
  t.push_back(copy_file("etc/ssh/sshd_config", "/etc/ssh/sshd_config"));
  t.push_back(copy_dir("etc/ssh/sshd_config.d", "/etc/ssh/sshd_config.d", ".conf"));
  // sshd -T shows the connection no Match block selects; each Match block's values need
  // sshd -T -C with a connection it selects (after sshd -T, which says sshd is there).
  auto match = run("sshd-T-match.txt", {"sshd", "-T", "-C", "{}"}, 5s);
  match.kind = CollectKind::per_value;
  match.values_from = "sshd-T.txt";
  match.values = ValueSource::sshd_match;
  t.push_back(match);

  t.push_back(run("ss-tlnp.txt", {"ss", "-Htlnup"}, 5s));
  t.push_back(run("iptables-save.txt", {"iptables-save"}, 5s));
  t.push_back(run("ip6tables-save.txt", {"ip6tables-save"}, 5s));
  t.push_back(run("nft.json", {"nft", "-j", "list", "ruleset"}, 5s));

  t.push_back(run("dpkg-l.txt", {"dpkg", "-l"}, 10s));
  auto rpm = run("rpm-qa.txt", {"rpm", "-qa"}, 15s);
  rpm.fallback_for = "dpkg-l.txt";
  t.push_back(rpm);
  t.push_back(run("apt-upgradable.txt", {"apt", "list", "--upgradable"}, 10s));
  // RHEL and its rebuilds: the pending security advisories (EL8+ dnf, EL7 yum); -C reads the
  // cached metadata only, so the collector never waits on a mirror.
  t.push_back(
      run("dnf-security.txt", {"dnf", "-C", "-q", "updateinfo", "list", "--security"}, 20s));
  auto yum = run("yum-security.txt", {"yum", "-C", "-q", "updateinfo", "list", "security"}, 20s);
  yum.fallback_for = "dnf-security.txt";
  t.push_back(yum);
  t.push_back(copy_file("reboot-required.txt", "/var/run/reboot-required"));
  t.push_back(run("uname-r.txt", {"uname", "-r"}, 5s));
  t.push_back(copy_file("os-release.txt", "/etc/os-release"));
  // Answers only when chronyd runs: its exit code says whether the clock is kept.
  t.push_back(run("chronyc-tracking.txt", {"chronyc", "-n", "tracking"}, 5s));

  auto f2b = run("fail2ban-status.txt", {"fail2ban-client", "status", "{}"}, 5s);
  f2b.kind = CollectKind::per_value;
  f2b.run_first = true;
  f2b.values_from = "fail2ban-status.txt";
  f2b.values = ValueSource::fail2ban_jails;
  t.push_back(f2b);

  t.push_back(copy_file("etc/logrotate.conf", "/etc/logrotate.conf"));
  t.push_back(copy_dir("etc/logrotate.d", "/etc/logrotate.d"));
  t.push_back(copy_file("etc/rsyslog.conf", "/etc/rsyslog.conf"));
  t.push_back(copy_dir("etc/rsyslog.d", "/etc/rsyslog.d"));

  // Zimbra's crontab deletes its logs after about 8 days: the retention controls read it.
  auto cron = run("zimbra-crontab.txt", {"crontab", "-l", "-u", "zimbra"}, 5s);
  cron.requires_path = "/opt/zimbra";
  t.push_back(cron);
  return t;
}

// The account mode: the account's own commands, then the rows of the host table that give the
// policy (global config, COS, domains, this server) and the local domains.
std::vector<CollectItem> make_account_table() {
  using namespace std::chrono_literals;
  const std::string zmprov(kZmprov);
  const std::string zmmailbox = "/opt/zimbra/bin/zmmailbox";
  std::vector<CollectItem> t;
  t.push_back(zimbra("zmprov-ga-account.txt", {zmprov, "-l", "ga", "{account}"}, 15s));
  t.push_back(zimbra("zmprov-gds-account.txt", {zmprov, "-l", "gds", "{account}"}, 15s));
  t.push_back(zimbra("zmprov-getGrants-account.txt",
                     {zmprov, "-l", "getGrants", "-t", "account", "{account}"}, 15s));
  // zmmailbox talks SOAP to the mailbox server (-z: the admin credentials of localconfig): it
  // fails when mailboxd is down, which the manifest records.
  t.push_back(zimbra("zmmailbox-getFilterRules.txt",
                     {zmmailbox, "-z", "-m", "{account}", "getFilterRules"}, 30s));
  t.push_back(zimbra("zmmailbox-getOutgoingFilterRules.txt",
                     {zmmailbox, "-z", "-m", "{account}", "getOutgoingFilterRules"}, 30s));
  t.push_back(zimbra("zmprov-gas-mailbox.txt", {zmprov, "-l", "gas", "mailbox"}, 15s));
  static const std::set<std::string> kept = {
      "zmhostname.txt", "zmprov-gad.txt",      "zmprov-gacf.txt", "zmprov-gac-v.txt",
      "zmprov-gas.txt", "zmlocalconfig-s.txt", "zmprov-gs.txt",   "zmprov-gd.txt",
      "postconf-n.txt", "postconf-M.txt"};
  for (const auto& item : make_table())
    if (kept.count(item.file)) t.push_back(item);
  return t;
}

// --- small helpers ---------------------------------------------------------------------------

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(trim(text.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

bool is_jail_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// A value shown in a note: bounded, and printable whatever it holds.
std::string shown(std::string_view v) {
  std::string out = "'";
  for (char c : v.substr(0, 80)) {
    auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  if (v.size() > 80) out += "...";
  return out + "'";
}

struct Values {
  std::vector<std::string> accepted;
  std::vector<std::string> refused;
};

Values read_values(ValueSource source, std::string_view text) {
  Values v;
  std::set<std::string> seen;
  auto offer = [&](const std::string& value, bool valid) {
    if (value.empty()) return;
    if (!valid || v.accepted.size() >= kMaxValues) {
      v.refused.push_back(value);
    } else if (seen.insert(value).second) {
      v.accepted.push_back(value);
    }
  };
  if (source == ValueSource::host_names) {
    for (const auto& line : split_lines(text)) offer(line, is_host_name(line));
  } else if (source == ValueSource::fail2ban_jails) {
    // "`- Jail list:\tsshd, zimbra-submission"
    for (const auto& line : split_lines(text)) {
      auto at = line.find("Jail list:");
      if (at == std::string::npos) continue;
      std::string_view rest = std::string_view(line).substr(at + 10);
      while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string name = trim(rest.substr(0, comma));
        offer(name, is_jail_name(name));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  return v;
}

std::vector<std::string> with_value(const std::vector<std::string>& argv, const std::string& v) {
  std::vector<std::string> out;
  for (const auto& a : argv) out.push_back(a == "{}" ? v : a);
  return out;
}

// For display: "{}" as NAME or JAIL.
std::string shown_command(const CollectItem& item) {
  return command_line(
      with_value(item.argv, item.values == ValueSource::fail2ban_jails ? "JAIL" : "NAME"));
}

std::vector<std::string> without_placeholder(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (const auto& a : argv) {
    if (a != "{}") out.push_back(a);
  }
  return out;
}

std::string first_lines(std::string_view text, std::size_t lines, std::size_t max_chars) {
  std::string out;
  std::size_t n = 0;
  for (const auto& l : split_lines(text)) {
    if (l.empty()) continue;
    if (n++ == lines) break;
    if (!out.empty()) out += '\n';
    out += l;
  }
  if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
  return out;
}

std::string utc_time(std::chrono::system_clock::time_point at, const char* format) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

std::string local_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// Runs queued tasks on a few threads; a task may queue more. run() returns when nothing is
// queued or running.
class TaskPool {
 public:
  explicit TaskPool(unsigned threads) : threads_(std::max(1u, threads)) {}

  void submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  void run() {
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads_; ++i) workers.emplace_back([this] { work(); });
    for (auto& w : workers) w.join();
  }

  // The first exception a task threw, if any (reported by collect_snapshot as an Error).
  std::string failure() {
    std::lock_guard lock(mu_);
    return failure_;
  }

 private:
  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return !queue_.empty() || active_ == 0; });
      if (queue_.empty()) {
        cv_.notify_all();
        return;
      }
      auto task = std::move(queue_.front());
      queue_.pop_front();
      ++active_;
      lock.unlock();
      std::string error;
      try {
        task();
      } catch (const std::exception& e) {
        error = e.what();
      }
      lock.lock();
      if (!error.empty() && failure_.empty()) failure_ = error;
      --active_;
      cv_.notify_all();
    }
  }

  unsigned threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  unsigned active_ = 0;
  std::string failure_;
};

// The outcome of one command.
struct Run {
  std::string status = "ok";
  std::optional<int> exit_code;
  std::string out;
  std::string err;
  long long duration_ms = 0;
  std::string note;
  bool write_out() const { return status == "ok" || (status == "failed" && !out.empty()); }
};

int rank(const std::string& status) {
  if (status == "timed_out") return 3;
  if (status == "failed") return 2;
  if (status == "not_available") return 1;
  return 0;
}

class Collector {
 public:
  Collector(const CollectOptions& o, const Runner& runner, fs::path dir)
      : o_(o),
        table_(o.account.empty() ? collect_table() : account_collect_table()),
        runner_(runner),
        dir_(std::move(dir)),
        pool_(o.parallelism) {
    SystemClock system_clock;
    const Clock& clock = o.clock != nullptr ? *o.clock : system_clock;
    logon_cutoff_ = utc_time(clock.now() - kReviewAfter, "%Y%m%d%H%M%SZ");
  }

  mw::Status collect() {
    const auto& table = table_;
    for (std::size_t i = 0; i < table.size(); ++i) {
      const auto& item = table[i];
      const std::string& after = !item.fallback_for.empty() ? item.fallback_for
                                 : item.kind == CollectKind::per_value && !item.run_first
                                     ? item.values_from
                                     : std::string();
      if (after.empty()) {
        pool_.submit([this, &item] { start(item); });
      } else {
        waiting_[after].push_back(&item);
      }
    }
    pool_.run();
    if (auto f = pool_.failure(); !f.empty()) return Error{"collecting the snapshot: " + f};
    std::lock_guard lock(mu_);
    if (!write_error_.empty()) return Error{write_error_};
    return {};
  }

  std::vector<ManifestEntry> entries() {
    std::lock_guard lock(mu_);
    auto e = entries_;
    std::sort(e.begin(), e.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
    return e;
  }

 private:
  // --- running ---

  // The path under root, for existence checks and reads.
  fs::path on_host(const std::string& absolute) const {
    return o_.root / fs::path(absolute).relative_path();
  }

  bool executable(const std::string& absolute) const {
    struct stat st {};
    auto p = on_host(absolute);
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  }

  // The absolute path of a program on the host, or "" when absent.
  std::string resolve(const std::string& program) const {
    if (program.find('/') != std::string::npos) return executable(program) ? program : "";
    for (auto d : kSystemDirs) {
      std::string candidate = std::string(d) + "/" + program;
      if (executable(candidate)) return candidate;
    }
    return "";
  }

  Run run_command_item(const CollectItem& item, std::vector<std::string> argv) {
    Run r;
    const auto started = std::chrono::steady_clock::now();
    auto finish = [&]() -> Run {
      r.duration_ms =
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started)
              .count();
      return r;
    };
    std::string program = resolve(argv[0]);
    if (program.empty()) {
      r.status = "not_available";
      r.note = fmt::format("{}: not installed", argv[0]);
      return finish();
    }
    argv[0] = program;
    std::vector<std::string> full;
    if (item.run_as == RunAs::zimbra) {
      std::string runuser = resolve("runuser");
      if (runuser.empty()) {
        r.status = "not_available";
        r.note = "runuser: not installed (needed to run Zimbra's commands as zimbra)";
        return finish();
      }
      full = zimbra_argv(runuser, argv);
    } else {
      // The C locale: the parsers read the tools' English output (dpkg, apt and ss translate
      // headers and notes). Not for zimbra: Java would then print non-ASCII values as '?'.
      std::string env = resolve("env");
      if (!env.empty()) full = {env, "LC_ALL=C"};
      full.insert(full.end(), argv.begin(), argv.end());
    }
    auto out = runner_(full, item.timeout);
    if (!out) {
      const auto& m = out.error().message;
      bool absent =
          m.find("not found") != std::string::npos || m.find("No such file") != std::string::npos;
      r.status = absent ? "not_available" : "failed";
      r.note = m;
      return finish();
    }
    r.exit_code = out->exit_code;
    r.out = std::move(out->out);
    r.err = std::move(out->err);
    if (out->timed_out) {
      // A killed command's partial output would read as a whole one (a half COS): not kept.
      r.status = "timed_out";
      r.out.clear();
      r.note = fmt::format("killed after {} ms", item.timeout.count());
    } else if (std::find(item.ok_exit_codes.begin(), item.ok_exit_codes.end(), out->exit_code) ==
               item.ok_exit_codes.end()) {
      r.status = "failed";
      r.note = out->signal != 0 ? fmt::format("killed by signal {}", out->signal)
                                : fmt::format("exit code {}", out->exit_code);
    }
    return finish();
  }

  void start(const CollectItem& item) {
    if (!item.requires_path.empty()) {
      std::error_code ec;
      if (!fs::exists(on_host(item.requires_path), ec)) {
        Run r;
        r.status = "not_available";
        r.note = fmt::format("{} does not exist", item.requires_path);
        record(item, shown_command(item), r);
        return;
      }
    }
    switch (item.kind) {
      case CollectKind::command: {
        auto argv = item.argv;
        for (auto& a : argv) {
          if (auto at = a.find("{logon_cutoff}"); at != std::string::npos) {
            a.replace(at, 14, logon_cutoff_);
          }
          // Checked by collect_snapshot (is_account_name) before anything runs.
          if (a == "{account}") a = o_.account;
        }
        Run r = run_command_item(item, argv);
        record(item, command_line(argv), r);
        return;
      }
      case CollectKind::per_value: {
        if (item.run_first) {
          Run first = run_command_item(item, without_placeholder(item.argv));
          if (first.status != "ok") {
            record(item, command_line(without_placeholder(item.argv)), first);
            return;
          }
          auto values = read_values(item.values, first.out);
          run_each(item, std::make_shared<Run>(std::move(first)), std::move(values));
        }
        return;
      }
      case CollectKind::copy_file:
        copy_one(item.file, item.source);
        done(item.file, "ok", "");
        return;
      case CollectKind::copy_dir:
        copy_directory(item);
        done(item.file, "ok", "");
        return;
    }
  }

  // A per_value item once its source has run.
  void start_after(const CollectItem& item, const std::string& source_status,
                   const std::string& source_out) {
    if (!item.fallback_for.empty()) {
      if (source_status == "not_available") {
        start(item);
      } else {
        done(item.file, "skipped", "");
      }
      return;
    }
    if (source_status != "ok") {
      Run r;
      r.status = source_status == "not_available" ? "not_available" : "failed";
      r.note = fmt::format("no values: {} is {}", item.values_from, source_status);
      record(item, shown_command(item), r);
      return;
    }
    if (item.values == ValueSource::sshd_match) {
      run_each(item, nullptr, match_specs());
      return;
    }
    run_each(item, nullptr, read_values(item.values, source_out));
  }

  // One sshd -T -C spec per Match block of the host's sshd_config (its Includes followed).
  Values match_specs() const {
    Values v;
    auto text = read_file(on_host("/etc/ssh/sshd_config"), kMaxCopyBytes);
    if (!text) return v;
    std::string root = o_.root == "/" ? std::string() : o_.root.string();
    auto resolver = filesystem_include_resolver(root);
    auto config = parse_sshd_config(*text, "/etc/ssh/sshd_config", &resolver);
    if (!config) return v;
    v.accepted = sshd_match_specs(*config, &v.refused);
    return v;
  }

  // Runs item.argv once per value, each its own task; the last to finish writes the file.
  void run_each(const CollectItem& item, std::shared_ptr<Run> first, Values values) {
    struct Gather {
      std::shared_ptr<Run> first;
      Values values;
      std::vector<Run> runs;
      std::mutex mu;
      std::size_t left = 0;
    };
    auto g = std::make_shared<Gather>();
    g->first = std::move(first);
    g->values = std::move(values);
    g->runs.resize(g->values.accepted.size());
    g->left = g->values.accepted.size();
    auto assemble = [this, &item](Gather& gather) {
      Run all;
      std::vector<std::string> notes;
      if (gather.first) {
        all = *gather.first;
        all.note.clear();
      }
      for (std::size_t i = 0; i < gather.runs.size(); ++i) {
        const Run& r = gather.runs[i];
        all.duration_ms += r.duration_ms;
        if (r.write_out()) {
          if (item.values == ValueSource::sshd_match) {
            all.out += fmt::format("# sshd -T -C {}\n", gather.values.accepted[i]);
          }
          all.out += r.out;
        }
        if (r.status != "ok") {
          notes.push_back(fmt::format(
              "{}: {}", command_line(with_value(item.argv, gather.values.accepted[i])), r.note));
          if (rank(r.status) > rank(all.status)) {
            all.status = r.status;
            all.exit_code = r.exit_code;
          }
          if (all.err.empty()) all.err = r.err;
        } else if (!all.exit_code) {
          all.exit_code = r.exit_code;
        }
      }
      if (gather.runs.empty() && !gather.first) notes.push_back("no values to run it for");
      if (!gather.values.refused.empty()) {
        std::vector<std::string> names;
        for (const auto& v : gather.values.refused) names.push_back(shown(v));
        notes.push_back(fmt::format("refused {} value(s) that are not valid names: {}",
                                    names.size(), fmt::join(names, ", ")));
      }
      all.note = fmt::format("{}", fmt::join(notes, "; "));
      std::string what = shown_command(item);
      if (!item.values_from.empty() && !item.run_first) {
        what += fmt::format(" (for each of {} value(s) from {})", gather.values.accepted.size(),
                            item.values_from);
      } else if (item.run_first) {
        what = command_line(without_placeholder(item.argv)) +
               fmt::format(", then {} for each of {} value(s)", shown_command(item),
                           gather.values.accepted.size());
      }
      record(item, what, all);
    };
    if (g->values.accepted.empty()) {
      assemble(*g);
      return;
    }
    for (std::size_t i = 0; i < g->values.accepted.size(); ++i) {
      pool_.submit([this, &item, g, i, assemble] {
        Run r = run_command_item(item, with_value(item.argv, g->values.accepted[i]));
        bool last = false;
        {
          std::lock_guard lock(g->mu);
          g->runs[i] = std::move(r);
          last = --g->left == 0;
        }
        if (last) assemble(*g);
      });
    }
  }

  // --- writing ---

  mw::Status ensure_dir(const fs::path& rel) {
    std::lock_guard lock(dir_mu_);
    fs::path p = dir_;
    for (const auto& part : rel) {
      p /= part;
      std::error_code ec;
      if (fs::is_directory(p, ec)) continue;
      if (::mkdir(p.c_str(), 0700) != 0 || ::chmod(p.c_str(), 0700) != 0) {
        return Error{fmt::format("cannot create {}: {}", p.string(), std::strerror(errno))};
      }
    }
    return {};
  }

  // Redacts, then writes; the count of redacted values, or nullopt when it could not write.
  std::optional<std::size_t> write(const std::string& file, std::string_view text) {
    auto red = redact_snapshot_file(file, text, o_.rules);
    fs::path rel(file);
    if (rel.has_parent_path()) {
      if (auto s = ensure_dir(rel.parent_path()); !s) {
        write_failed(s.error().message);
        return std::nullopt;
      }
    }
    if (auto s = write_file_atomic(dir_ / rel, red.text, 0600); !s) {
      write_failed(s.error().message);
      return std::nullopt;
    }
    return red.values;
  }

  void write_failed(const std::string& message) {
    std::lock_guard lock(mu_);
    if (write_error_.empty()) write_error_ = message;
  }

  void record(const CollectItem& item, const std::string& command, const Run& r) {
    ManifestEntry e;
    e.file = item.file;
    e.command = command;
    e.run_as = item.run_as == RunAs::zimbra ? "zimbra" : "";
    e.status = r.status;
    e.exit_code = r.exit_code;
    e.duration_ms = r.duration_ms;
    e.note = r.note;
    if (r.status != "ok" && !r.err.empty()) {
      e.stderr_head = redact_snapshot_file(item.file, first_lines(r.err, 5, 600), o_.rules).text;
    }
    if (r.write_out()) {
      auto n = write(item.file, r.out);
      if (n) e.redacted = *n;
    }
    add(std::move(e));
    done(item.file, r.status, r.out);
  }

  void add(ManifestEntry e) {
    std::lock_guard lock(mu_);
    if (o_.on_entry) o_.on_entry(e);
    entries_.push_back(std::move(e));
  }

  // A file is finished: start what waited for it (gs after zmhostname, rpm after dpkg...).
  void done(const std::string& file, const std::string& status, const std::string& out) {
    std::vector<const CollectItem*> next;
    {
      std::lock_guard lock(mu_);
      auto it = waiting_.find(file);
      if (it == waiting_.end()) return;
      next = std::move(it->second);
      waiting_.erase(it);
    }
    for (const auto* item : next) {
      pool_.submit([this, item, status, out] { start_after(*item, status, out); });
    }
  }

  void copy_one(const std::string& file, const std::string& source) {
    ManifestEntry e;
    e.file = file;
    e.command = "copy of " + source;
    const auto started = std::chrono::steady_clock::now();
    std::error_code ec;
    const fs::path p = on_host(source);
    if (!fs::exists(p, ec)) {
      e.status = "not_available";
      e.note = source + " does not exist";
    } else if (!fs::is_regular_file(p, ec)) {
      e.status = "failed";
      e.note = source + " is not a regular file";
    } else if (auto text = read_file(p, kMaxCopyBytes); !text) {
      e.status = "failed";
      e.note = text.error().message;
    } else {
      e.status = "ok";
      if (auto n = write(file, *text)) e.redacted = *n;
    }
    e.duration_ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
    add(std::move(e));
  }

  void copy_directory(const CollectItem& item) {
    ManifestEntry e;
    e.file = item.file + "/";
    e.command = "copy of " + item.source + "/*" + item.name_suffix;
    std::error_code ec;
    const fs::path p = on_host(item.source);
    if (!fs::is_directory(p, ec)) {
      e.status = "not_available";
      e.note = item.source + " does not exist";
      add(std::move(e));
      return;
    }
    std::vector<std::string> names;
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      // Hidden files and editor leftovers are not read by sshd, logrotate or rsyslog either
      // (logrotate and rsyslog have their own rules; the copy errs on the side of keeping).
      if (name.empty() || name.front() == '.') continue;
      if (name.size() < item.name_suffix.size() ||
          name.compare(name.size() - item.name_suffix.size(), item.name_suffix.size(),
                       item.name_suffix) != 0) {
        continue;
      }
      std::error_code ec2;
      if (fs::is_regular_file(it->path(), ec2)) names.push_back(name);
    }
    if (ec) {
      e.status = "failed";
      e.note = fmt::format("cannot list {}: {}", item.source, ec.message());
      add(std::move(e));
      return;
    }
    std::sort(names.begin(), names.end());
    e.status = "ok";
    e.note = fmt::format("{} file(s)", names.size());
    add(std::move(e));
    if (auto s = ensure_dir(item.file); !s) {
      write_failed(s.error().message);
      return;
    }
    for (const auto& name : names) copy_one(item.file + "/" + name, item.source + "/" + name);
  }

  const CollectOptions& o_;
  const std::vector<CollectItem>& table_;
  std::string logon_cutoff_;  // LDAP generalized time, kReviewAfter before the collection
  const Runner& runner_;
  fs::path dir_;
  TaskPool pool_;
  std::mutex mu_;
  std::mutex dir_mu_;
  std::map<std::string, std::vector<const CollectItem*>> waiting_;
  std::vector<ManifestEntry> entries_;
  std::string write_error_;
};

// The output directory: created 0700, or an existing empty one (then made 0700).
mw::Status prepare_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return Error{dir.string() + ": exists and is not a directory"};
    if (!fs::is_empty(dir, ec)) {
      return Error{dir.string() +
                   ": exists and is not empty (a snapshot goes into a new directory)"};
    }
  } else {
    if (dir.has_parent_path() && !dir.parent_path().empty()) {
      fs::create_directories(dir.parent_path(), ec);
      if (ec)
        return Error{fmt::format("cannot create {}: {}", dir.parent_path().string(), ec.message())};
    }
    if (::mkdir(dir.c_str(), 0700) != 0) {
      return Error{fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno))};
    }
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return Error{fmt::format("cannot set the mode of {}: {}", dir.string(), std::strerror(errno))};
  }
  return {};
}

std::string safe_for_file_name(std::string_view host) {
  std::string out;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? "unknown" : out;
}

}  // namespace

const std::vector<CollectItem>& collect_table() {
  static const std::vector<CollectItem> table = make_table();
  return table;
}

const std::vector<CollectItem>& account_collect_table() {
  static const std::vector<CollectItem> table = make_account_table();
  return table;
}

bool is_account_name(std::string_view s) {
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || s.find('@', at + 1) != s.npos)
    return false;
  const auto local = s.substr(0, at);
  if (local.front() == '-' || local.front() == '.') return false;
  const bool ok = std::all_of(local.begin(), local.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '=' || c == '-';
  });
  return ok && is_host_name(s.substr(at + 1));
}

Runner default_runner() {
  return [](const std::vector<std::string>& argv, milliseconds timeout) {
    CommandOptions o;
    o.timeout = timeout;
    return run_command(argv, o);
  };
}

// Zimbra's tools are meant to be run from the zimbra user's login environment ("su - zimbra",
// as every Zimbra guide says): ~zimbra/.bash_profile sources ~/.bashrc, which sets PATH
// (/opt/zimbra/bin, common/bin), PERLLIB/PERL5LIB for the Perl tools (zmcontrol), JAVA_HOME
// and umask 0027, and the set differs between releases (8.6's zimbramon paths, 8.7+'s
// common/lib/perl5). zmprov itself only needs /opt/zimbra/bin/zmshutil, but zmcontrol -v runs
// dpkg/rpm, sed and get_plat_tag.sh through PATH. Rebuilding that environment by hand would
// drift from the installed release, so we run a login shell (runuser -l: also cd ~zimbra, which
// zmjava expects) -- but its command string is a constant, `exec "$0" "$@"`, and the program and
// its arguments follow as separate argv entries that the shell receives as positional
// parameters, never parsed as shell text: a domain name from `zmprov gad` cannot inject
// anything even if it slipped past is_host_name.
std::vector<std::string> zimbra_argv(const std::string& runuser,
                                     const std::vector<std::string>& argv) {
  std::vector<std::string> full = {runuser, "-l", "zimbra", "-c", "exec \"$0\" \"$@\""};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    start = dot + 1;
    if (dot == s.size()) break;
  }
  return true;
}

Result<CollectResult> collect_snapshot(const CollectOptions& options, const Runner& runner) {
  SystemClock system_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  Manifest m;
  m.schema = std::string(kSnapshotSchema);
  m.tool = "mailwarden " + (options.tool_version.empty() ? "dev" : options.tool_version);
  m.host = options.host.empty() ? local_host_name() : options.host;
  m.collected_at = utc_time(clock.now(), "%Y-%m-%dT%H:%M:%SZ");

  if (!options.account.empty() && !is_account_name(options.account)) {
    return Error{fmt::format("{} is not an account name (local@domain)", shown(options.account))};
  }
  fs::path dir = options.out_dir;
  if (dir.empty()) {
    dir =
        options.account.empty()
            ? fs::path(fmt::format("mailwarden-snapshot-{}-{}", safe_for_file_name(m.host),
                                   utc_time(clock.now(), "%Y%m%d-%H%M%S")))
            : fs::path(fmt::format("mailwarden-incident-{}-{}", safe_for_file_name(options.account),
                                   utc_time(clock.now(), "%Y%m%d-%H%M%S")));
  }
  if (auto s = prepare_dir(dir); !s) return s.error();

  Collector c(options, runner, dir);
  if (auto s = c.collect(); !s) return s.error();
  m.files = c.entries();
  if (auto s = write_file_atomic(dir / "manifest.json", manifest_to_json(m), 0600); !s) {
    return s.error();
  }
  return CollectResult{dir, std::move(m)};
}

std::string manifest_to_json(const Manifest& m) {
  using Json = nlohmann::ordered_json;
  Json files = Json::array();
  for (const auto& f : m.files) {
    Json e;
    e["file"] = f.file;
    e["command"] = f.command;
    e["run_as"] = f.run_as.empty() ? Json() : Json(f.run_as);
    e["status"] = f.status;
    e["exit_code"] = f.exit_code ? Json(*f.exit_code) : Json();
    e["duration_ms"] = f.duration_ms;
    e["redacted"] = f.redacted;
    if (!f.stderr_head.empty()) e["stderr"] = f.stderr_head;
    if (!f.note.empty()) e["note"] = f.note;
    files.push_back(std::move(e));
  }
  Json j;
  j["schema"] = m.schema;
  j["tool"] = m.tool;
  j["host"] = m.host;
  j["collected_at"] = m.collected_at;
  j["files"] = std::move(files);
  // Not ASCII-escaped: a note may quote a name with any byte; replace invalid UTF-8 rather
  // than throw.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::optional<Manifest>> read_manifest(const fs::path& dir) {
  const fs::path path = dir / "manifest.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Manifest>();
  auto text = read_file(path, kMaxManifestBytes);
  if (!text) return text.error();
  const std::string name = path.string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    return Error{fmt::format("{}: not JSON: {}", name, e.what())};
  }
  auto str = [&](const nlohmann::json& o, const char* key, std::string& out,
                 const std::string& where) -> mw::Status {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return {};
    if (!it->is_string()) return Error{fmt::format("{}: {}{}: not a string", name, where, key)};
    out = it->get<std::string>();
    return {};
  };
  if (!j.is_object()) return Error{name + ": not a JSON object"};
  Manifest m;
  if (auto s = str(j, "schema", m.schema, ""); !s) return s.error();
  if (m.schema != kSnapshotSchema) {
    return Error{fmt::format("{}: schema '{}' is not {}", name, m.schema, kSnapshotSchema)};
  }
  for (const char* key : {"tool", "host", "collected_at"}) {
    std::string* out = key == std::string_view("tool")   ? &m.tool
                       : key == std::string_view("host") ? &m.host
                                                         : &m.collected_at;
    if (auto s = str(j, key, *out, ""); !s) return s.error();
  }
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return Error{name + ": files: not an array"};
  static const std::set<std::string> kStatuses = {"ok", "not_available", "failed", "timed_out"};
  for (std::size_t i = 0; i < files->size(); ++i) {
    const auto& f = (*files)[i];
    const std::string where = fmt::format("files[{}].", i);
    if (!f.is_object()) return Error{fmt::format("{}: files[{}]: not an object", name, i)};
    ManifestEntry e;
    for (auto [key, out] : {std::pair{"file", &e.file}, std::pair{"command", &e.command},
                            std::pair{"run_as", &e.run_as}, std::pair{"status", &e.status},
                            std::pair{"stderr", &e.stderr_head}, std::pair{"note", &e.note}}) {
      if (auto s = str(f, key, *out, where); !s) return s.error();
    }
    if (e.file.empty()) return Error{fmt::format("{}: {}file: missing", name, where)};
    if (!kStatuses.count(e.status)) {
      return Error{fmt::format("{}: {}status: '{}' is not ok, not_available, failed or timed_out",
                               name, where, e.status)};
    }
    auto number = [&](const char* key) -> Result<std::optional<long long>> {
      auto it = f.find(key);
      if (it == f.end() || it->is_null()) return std::optional<long long>();
      if (!it->is_number_integer()) {
        return Error{fmt::format("{}: {}{}: not an integer", name, where, key)};
      }
      return std::optional<long long>(it->get<long long>());
    };
    auto code = number("exit_code");
    if (!code) return code.error();
    if (*code) e.exit_code = static_cast<int>(**code);
    auto ms = number("duration_ms");
    if (!ms) return ms.error();
    e.duration_ms = ms->value_or(0);
    auto red = number("redacted");
    if (!red) return red.error();
    if (red->value_or(0) < 0) return Error{fmt::format("{}: {}redacted: negative", name, where)};
    e.redacted = static_cast<std::size_t>(red->value_or(0));
    m.files.push_back(std::move(e));
  }
  return std::optional<Manifest>(std::move(m));
}

}  // namespace mw::audit
