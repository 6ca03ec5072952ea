// `mailwarden firewall apply | confirm | rollback | status` and the hidden `firewall watchdog`
// that the apply starts detached: wiring from the command line to fw::safe_apply.
#include <fcntl.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "core/subprocess.hpp"
#include "firewall/safe_apply.hpp"
#include "policy/policy.hpp"

namespace mw::cli {

namespace {

// apply's exit codes (README.md): 0 applied (or dry run done), 1 failed (the previous state is
// back), 2 invalid input (policy, or the kernel tool rejected the ruleset), 3 refused (the SSH
// session would be locked out, or another change is pending).
constexpr int kApplyRefused = 3;

struct ApplyOptions {
  std::string policy;
  std::string node;
  std::string backend = "nft";
  std::string confirm_within = "60s";
  std::string state_dir;
  bool dry_run = false;
  bool force = false;
  bool wait = false;
};

std::filesystem::path state_dir(const std::string& option) {
  if (!option.empty()) return option;
  if (const char* env = std::getenv("MAILWARDEN_STATE_DIR"); env && *env) return env;
  return fw::kDefaultStateDir;
}

// "90", "90s", "2m", "1h": 1 s to 24 h.
Result<std::chrono::seconds> parse_duration(std::string_view text) {
  DurationSyntax syntax;
  syntax.units = DurationSyntax::s | DurationSyntax::m | DurationSyntax::h;
  syntax.bare_is_seconds = true;
  syntax.min = std::chrono::seconds(1);
  syntax.max = std::chrono::hours(24);
  auto d = mw::parse_duration(text, syntax);
  if (!d) return Error{"--confirm-within " + d.error().message};
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

// The interface that holds `a` in this network namespace, if any.
std::optional<std::string> interface_of(const Address& a) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET && a.family == Family::v4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      if (ntohl(sin->sin_addr.s_addr) == static_cast<std::uint32_t>(a.value)) found = i->ifa_name;
    } else if (i->ifa_addr->sa_family == AF_INET6 && a.family == Family::v6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      u128 v = 0;
      for (auto byte : sin6->sin6_addr.s6_addr) v = (v << 8) | byte;
      if (v == a.value) found = i->ifa_name;
    }
  }
  ::freeifaddrs(list);
  return found;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("mailwarden") : p.string();
}

// The watchdog outlives the session that applied: that session dying is what it is for.
// Under systemd (logind may kill a session's processes, setsid or not) it runs as a transient
// unit; elsewhere it is double-forked into its own session, with its output in the state
// directory. The systemd path is untested on machines without systemd.
Result<int> spawn_watchdog(const fw::PendingApply& p, const std::filesystem::path& dir) {
  std::vector<std::string> args = {self_exe(),   "firewall", "watchdog", "--state-dir",
                                   dir.string(), "--id",     p.id};
  if (std::filesystem::exists("/run/systemd/system")) {
    std::vector<std::string> argv = {"systemd-run", "--quiet", "--collect",
                                     "--unit=mailwarden-rollback-" + p.id};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    if (!r) return r.error();
    if (!r->success()) return Error{fmt::format("{}: {}", command_line(argv), r->err)};
    return 0;  // the unit's pid is systemd's business; the id names it
  }

  // Everything the children need is prepared before fork: after it, only async-signal-safe
  // calls until exec.
  auto log = (dir / "watchdog.log").string();
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error{fmt::format("pipe: {}", std::strerror(errno))};
  pid_t child = ::fork();
  if (child < 0) return Error{fmt::format("fork: {}", std::strerror(errno))};
  if (child == 0) {
    ::close(fds[0]);
    ::setsid();
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    pid_t me = ::getpid();
    (void)!::write(fds[1], &me, sizeof me);
    ::close(fds[1]);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (::chdir("/") != 0) ::_exit(1);
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  pid_t pid = 0;
  ssize_t n = ::read(fds[0], &pid, sizeof pid);
  ::close(fds[0]);
  if (n != sizeof pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{"the watchdog process could not be started"};
  }
  return static_cast<int>(pid);
}

std::unique_ptr<fw::OwnedFirewall> owned_firewall(std::string_view backend,
                                                  const std::filesystem::path& dir) {
  return fw::make_owned_firewall(backend, dir);
}

// Waits for the operator: "yes" on a terminal, or a confirm from another session (the pending
// entry disappears). Returns true when the change was confirmed.
bool wait_for_confirmation(const fw::ApplyState& state, const fw::PendingApply& p, bool prompt,
                           SystemClock& clock) {
  if (prompt) {
    fmt::print(stderr,
               "Open a NEW SSH session now and check that you can log in. Type 'yes' here "
               "within {} s to keep the new firewall; anything else rolls it back.\n> ",
               p.deadline - fw::unix_seconds(clock.now()));
  }
  std::string typed;
  for (;;) {
    auto pending = state.pending();
    if (!pending || !*pending || (*pending)->id != p.id) {
      auto last = state.last();
      return last && *last && (*last)->id == p.id && (*last)->outcome == "confirmed";
    }
    if (fw::unix_seconds(clock.now()) > p.deadline + 5) return false;  // the watchdog is late
    if (!prompt) {
      clock.sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) return false;
    typed.append(buf, static_cast<std::size_t>(n));
    auto nl = typed.find('\n');
    if (nl == std::string::npos) continue;
    auto answer = typed.substr(0, nl);
    if (answer == "yes") {
      auto c = fw::confirm_pending(state, clock);
      return c.ok();
    }
    auto fwall = fw::make_owned_firewall(p.backend, state.dir());
    auto r = fw::rollback_pending(*fwall, state, clock, "the operator answered no");
    if (!r) fmt::print(stderr, "mailwarden: {}\n", r.error().message);
    return false;
  }
}

int run_apply(const ApplyOptions& o) {
  auto within = parse_duration(o.confirm_within);
  if (!within) {
    fmt::print(stderr, "mailwarden: {}\n", within.error().message);
    return kExitInvalid;
  }
  auto loaded = load_policy(o.policy);
  if (!loaded) {
    fmt::print(stderr, "mailwarden: {}\n", loaded.error().message);
    return kExitInvalid;
  }
  for (const auto& w : loaded->policy.warnings) fmt::print(stderr, "{}\n", w);
  auto site = policy_for_node(loaded->policy, o.node);
  if (!site) {
    fmt::print(stderr, "mailwarden: {}\n", site.error().message);
    return kExitInvalid;
  }
  auto plan = make_plan(*site, loaded->catalog);
  if (!plan) {
    fmt::print(stderr, "mailwarden: {}\n", plan.error().message);
    return kExitInvalid;
  }
  auto dir = state_dir(o.state_dir);
  auto state = fw::ApplyState::open(dir);
  if (!state) {
    fmt::print(stderr, "mailwarden: state directory {}\n", state.error().message);
    return kExitFailure;
  }
  auto fwall = owned_firewall(o.backend, dir);
  if (!fwall) {
    fmt::print(stderr,
               "mailwarden: --backend {}: apply knows nft and iptables (iptables "
               "applies IPv4 and IPv6)\n",
               o.backend);
    return kExitInvalid;
  }

  fw::ApplyRequest req;
  req.plan = &*plan;
  req.policy_path = o.policy;
  req.ports = fw::ports_to_compare(loaded->catalog, &*plan);
  req.confirm_within = *within;
  req.force = o.force;
  req.dry_run = o.dry_run;
  if (const char* ssh = std::getenv("SSH_CONNECTION"); ssh && *ssh) {
    auto c = fw::parse_ssh_connection(ssh);
    if (!c) {
      fmt::print(stderr, "mailwarden: {}\n", c.error().message);
      return kExitInvalid;
    }
    req.ssh = *c;
    req.ssh_connection_text = ssh;
    req.ssh_iface = interface_of(c->server);
  }

  SystemClock clock;
  auto outcome = fw::safe_apply(*fwall, *state, clock, req,
                                [&](const fw::PendingApply& p) { return spawn_watchdog(p, dir); });
  for (const auto& n : outcome.notes) fmt::print(stderr, "note: {}\n", n);
  if (outcome.lockout && outcome.lockout->outcome == fw::Outcome::accept) {
    fmt::print(stderr, "lockout check: {}\n", outcome.lockout->message);
  }
  auto print_diff = [&] {
    if (outcome.exposure_diff.empty()) {
      fmt::print("exposure: no change (catalog and policy ports, IPv4 and IPv6)\n");
    } else {
      fmt::print("exposure changes (today -> tomorrow; sources that reach the port):\n");
      std::fputs(outcome.exposure_diff.c_str(), stdout);
    }
    std::fflush(stdout);
  };
  switch (outcome.result) {
    case fw::ApplyResult::dry_run:
      print_diff();
      fmt::print(stderr, "dry run: the new ruleset passed the kernel's check; nothing changed\n");
      return kExitOk;
    case fw::ApplyResult::invalid:
      fmt::print(stderr, "mailwarden: {}\n", outcome.error);
      return kExitInvalid;
    case fw::ApplyResult::refused:
      fmt::print(stderr, "mailwarden: {}\n", outcome.error);
      return kApplyRefused;
    case fw::ApplyResult::failed:
      fmt::print(stderr, "mailwarden: {}\n", outcome.error);
      return kExitFailure;
    case fw::ApplyResult::pending:
      break;
  }
  print_diff();
  const auto& p = *outcome.pending;
  fmt::print(stderr,
             "applied ({}); it rolls back at {} unless confirmed: run `mailwarden firewall "
             "confirm` from a NEW session (watchdog pid {}, state in {})\n",
             p.backend, fw::format_time(p.deadline), p.watchdog_pid, dir.string());
  bool prompt = ::isatty(STDIN_FILENO) != 0;
  if (!prompt && !o.wait) return kExitOk;
  if (wait_for_confirmation(*state, p, prompt, clock)) {
    fmt::print(stderr, "confirmed: the new firewall stays\n");
    return kExitOk;
  }
  auto last = state->last();
  fmt::print(stderr, "not confirmed: {}\n",
             last && *last ? (*last)->outcome + " (" + (*last)->detail + ")" : "rolled back");
  return kExitFailure;
}

int run_confirm(const std::string& dir_option) {
  auto state = fw::ApplyState::open(state_dir(dir_option));
  if (!state) {
    fmt::print(stderr, "mailwarden: state directory {}\n", state.error().message);
    return kExitFailure;
  }
  SystemClock clock;
  auto p = fw::confirm_pending(*state, clock);
  if (!p) {
    fmt::print(stderr, "mailwarden: {}\n", p.error().message);
    return kExitFailure;
  }
  fmt::print(stderr, "confirmed: the {} firewall applied at {} from {} stays\n", p->backend,
             fw::format_time(p->applied_at), p->policy);
  return kExitOk;
}

int run_rollback(const std::string& dir_option) {
  auto dir = state_dir(dir_option);
  auto state = fw::ApplyState::open(dir);
  if (!state) {
    fmt::print(stderr, "mailwarden: state directory {}\n", state.error().message);
    return kExitFailure;
  }
  auto pending = state->pending();
  if (!pending || !*pending) {
    fmt::print(stderr, "mailwarden: {}\n",
               pending ? "nothing is waiting for confirmation: nothing to roll back"
                       : pending.error().message);
    return kExitFailure;
  }
  auto fwall = owned_firewall((*pending)->backend, dir);
  if (!fwall) {
    fmt::print(stderr, "mailwarden: unknown backend '{}' in the state\n", (*pending)->backend);
    return kExitFailure;
  }
  SystemClock clock;
  auto p = fw::rollback_pending(*fwall, *state, clock, "`mailwarden firewall rollback`");
  if (!p) {
    fmt::print(stderr, "mailwarden: {}\n", p.error().message);
    return kExitFailure;
  }
  fmt::print(stderr, "rolled back: the {} firewall is as it was before {}\n", p->backend,
             fw::format_time(p->applied_at));
  return kExitOk;
}

int run_status(const std::string& dir_option) {
  auto state = fw::ApplyState::open(state_dir(dir_option));
  if (!state) {
    fmt::print(stderr, "mailwarden: state directory {}\n", state.error().message);
    return kExitFailure;
  }
  auto pending = state->pending();
  if (!pending) {
    fmt::print(stderr, "mailwarden: {}\n", pending.error().message);
    return kExitFailure;
  }
  if (*pending) {
    const auto& p = **pending;
    fmt::print("pending: {} change {} applied at {} from {}; rolls back at {} (watchdog pid {})\n",
               p.backend, p.id, fw::format_time(p.applied_at), p.policy,
               fw::format_time(p.deadline), p.watchdog_pid);
  } else {
    fmt::print("pending: none\n");
  }
  auto last = state->last();
  if (last && *last) {
    fmt::print("last: change {} {} at {}: {}\n", (*last)->id, (*last)->outcome,
               fw::format_time((*last)->at), (*last)->detail);
  }
  return kExitOk;
}

int run_watchdog_cmd(const std::string& dir_option, const std::string& id) {
  auto dir = state_dir(dir_option);
  auto state = fw::ApplyState::open(dir);
  if (!state) {
    fmt::print(stderr, "watchdog {}: state directory {}\n", id, state.error().message);
    return kExitFailure;
  }
  SystemClock clock;
  fmt::print(stderr, "{} watchdog {} (pid {}) started\n",
             fw::format_time(fw::unix_seconds(clock.now())), id, ::getpid());
  auto what = fw::run_watchdog(
      [&](std::string_view backend) { return owned_firewall(backend, dir); }, *state, clock, id);
  fmt::print(stderr, "{} watchdog {}: {}\n", fw::format_time(fw::unix_seconds(clock.now())), id,
             what);
  return kExitOk;
}

}  // namespace

void register_firewall_apply(CLI::App& fw, int& exit_code) {
  auto o = std::make_shared<ApplyOptions>();
  auto* apply = fw.add_subcommand(
      "apply",
      "apply the policy's firewall to this host, safely: checked by the kernel tool, refused if "
      "it would cut off this SSH session, rolled back unless confirmed in time");
  apply->add_option("--policy,-p", o->policy, "site policy (TOML)")->required();
  apply->add_option("--node,-n", o->node, "node of a multi-server policy");
  apply->add_option("--backend,-b", o->backend, "nft or iptables (IPv4 and IPv6)")
      ->capture_default_str();
  apply
      ->add_option("--confirm-within", o->confirm_within,
                   "roll back unless `mailwarden firewall confirm` comes within this time")
      ->capture_default_str();
  apply->add_flag("--dry-run", o->dry_run,
                  "check, and print how the exposure would change; change nothing");
  apply->add_flag("--force", o->force, "apply even if this SSH session would be locked out");
  apply->add_flag("--wait", o->wait,
                  "without a terminal, wait for the confirmation or the rollback before exiting");
  apply->add_option("--state-dir", o->state_dir,
                    "where the pending change is kept (default $MAILWARDEN_STATE_DIR or "
                    "/run/mailwarden)");
  apply->callback([o, &exit_code] { exit_code = run_apply(*o); });

  auto dir = std::make_shared<std::string>();
  auto* confirm =
      fw.add_subcommand("confirm", "keep the firewall applied last (run it from a new session)");
  confirm->add_option("--state-dir", *dir, "as given to apply");
  confirm->callback([dir, &exit_code] { exit_code = run_confirm(*dir); });

  auto* rollback = fw.add_subcommand("rollback", "roll the pending change back now");
  rollback->add_option("--state-dir", *dir, "as given to apply");
  rollback->callback([dir, &exit_code] { exit_code = run_rollback(*dir); });

  auto* status =
      fw.add_subcommand("status", "the change waiting for confirmation, and the last one");
  status->add_option("--state-dir", *dir, "as given to apply");
  status->callback([dir, &exit_code] { exit_code = run_status(*dir); });

  auto id = std::make_shared<std::string>();
  auto* watchdog = fw.add_subcommand("watchdog", "");  // internal: started by apply
  watchdog->group("");
  watchdog->add_option("--state-dir", *dir)->required();
  watchdog->add_option("--id", *id)->required();
  watchdog->callback([dir, id, &exit_code] { exit_code = run_watchdog_cmd(*dir, *id); });
}

}  // namespace mw::cli
