// run_command: posix_spawn without a shell, stdin fed and stdout/stderr drained through poll,
// timeout kills the process group.
#include "core/subprocess.hpp"

#include "core/sigpipe_guard.hpp"
#include "core/unique_fd.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mw {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) {
  return std::strerror(err);
}

using Fd = UniqueFd;

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Resolves argv[0] as execvp would, but before spawning so "not found" is an Error of the parent.
Result<std::string> resolve_program(const std::string& name) {
  if (name.empty()) return Error{"cannot run a command with an empty program name"};
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) {
      return Error{"cannot run '" + name + "': " + errno_text(errno)};
    }
    return name;
  }
  std::string path_var;
  if (const char* p = std::getenv("PATH"); p != nullptr) {
    path_var = p;
  } else {
    path_var = "/usr/local/bin:/usr/bin:/bin";
  }
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return Error{"cannot run '" + name + "': command not found in PATH (" + path_var + ")"};
}

// Only async-signal-safe calls from here to exec: the parent may have other threads.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

// Appends what a read returned, keeping at most `limit` bytes and counting the rest.
struct Sink {
  std::string* text;
  std::size_t limit;
  std::size_t discarded = 0;
  void take(const char* data, std::size_t n) {
    std::size_t room = text->size() < limit ? limit - text->size() : 0;
    std::size_t keep = std::min(room, n);
    text->append(data, keep);
    discarded += n - keep;
  }
};

// Reads once from a non-blocking pipe. Returns false at EOF or on a hard error (fd closed).
bool read_some(Fd& fd, Sink& sink) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      sink.take(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    fd.reset();
    return false;
  }
}

// After the child is gone, takes what is already in the pipe without waiting for writers
// that may still hold it (a daemon the command started).
void drain_now(Fd& fd, Sink& sink) {
  while (fd.get() >= 0) {
    char buf[65536];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      sink.take(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    fd.reset();
  }
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const CommandOptions& options) {
  if (argv.empty()) return Error{"run_command: empty argument list"};
  auto program = resolve_program(argv[0]);
  if (!program) return program.error();

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  // The environment is built before the child starts.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(
        options.environment.begin(), options.environment.end(),
        [&](const std::string& x) { return std::string_view(x).substr(0, name.size()) == name; });
    if (!replaced) env_strings.emplace_back(entry);
  }
  for (const auto& x : options.environment) env_strings.push_back(x);
  std::vector<char*> cenv;
  cenv.reserve(env_strings.size() + 1);
  for (auto& x : env_strings) cenv.push_back(x.data());
  cenv.push_back(nullptr);

  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  if (!make_pipe(in_r, in_w) || !make_pipe(out_r, out_w) || !make_pipe(err_r, err_w)) {
    return Error{"cannot run " + command_line(argv) + ": pipe: " + errno_text(errno)};
  }

  // posix_spawn, not fork: glibc starts the child with vfork semantics, so a parent holding
  // gigabytes (`logs watch --ban` with its analysis state) pays nothing for copying its page
  // tables, nor for the copy-on-write faults a fork leaves behind. The child gets its own
  // process group (a timeout kills the whole group), every signal back to its default (the
  // parent ignores SIGPIPE), an empty signal mask, the three pipes as 0/1/2 and no other
  // descriptor.
  struct SpawnSetup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    SpawnSetup() {
      posix_spawn_file_actions_init(&actions);
      posix_spawnattr_init(&attr);
    }
    ~SpawnSetup() {
      posix_spawn_file_actions_destroy(&actions);
      posix_spawnattr_destroy(&attr);
    }
  } spawn;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  int rc = posix_spawnattr_setflags(
      &spawn.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&spawn.attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&spawn.attr, &all);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&spawn.attr, &none);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&spawn.actions, in_r.get(), STDIN_FILENO);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&spawn.actions, out_w.get(), STDOUT_FILENO);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&spawn.actions, err_w.get(), STDERR_FILENO);
  // Descriptors the parent opened without O_CLOEXEC must not leak into the command.
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&spawn.actions, 3);
  if (rc != 0) return Error{"cannot run " + command_line(argv) + ": " + errno_text(rc)};

  SigpipeGuard sigpipe_guard;  // a child may exit without reading its stdin
  pid_t pid = -1;
  // glibc reports a failed exec as posix_spawn's own result.
  rc =
      ::posix_spawn(&pid, program->c_str(), &spawn.actions, &spawn.attr, cargv.data(), cenv.data());
  if (rc != 0) return Error{"cannot run " + command_line(argv) + ": " + errno_text(rc)};
  in_r.reset();
  out_w.reset();
  err_w.reset();

  CommandOutput result;
  Sink out_sink{&result.out, options.max_output};
  Sink err_sink{&result.err, options.max_output};
  set_nonblocking(in_w.get());
  set_nonblocking(out_r.get());
  set_nonblocking(err_r.get());
  std::size_t in_pos = 0;
  if (options.stdin_data.empty()) in_w.reset();

  Fd pidfd(open_pidfd(pid));
  const auto deadline = Clock::now() + options.timeout;
  bool exited = false;
  int status = 0;

  auto try_reap = [&](int flags) {
    for (;;) {
      pid_t r = ::waitpid(pid, &status, flags);
      if (r < 0 && errno == EINTR) continue;
      if (r == pid || (r < 0 && errno == ECHILD)) exited = true;
      return;
    }
  };

  while (!exited) {
    pollfd fds[4];
    int n = 0;
    int in_idx = -1, out_idx = -1, err_idx = -1, pid_idx = -1;
    if (in_w.get() >= 0) {
      in_idx = n;
      fds[n++] = {in_w.get(), POLLOUT, 0};
    }
    if (out_r.get() >= 0) {
      out_idx = n;
      fds[n++] = {out_r.get(), POLLIN, 0};
    }
    if (err_r.get() >= 0) {
      err_idx = n;
      fds[n++] = {err_r.get(), POLLIN, 0};
    }
    if (pidfd.get() >= 0) {
      pid_idx = n;
      fds[n++] = {pidfd.get(), POLLIN, 0};
    }
    auto now = Clock::now();
    if (now >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      try_reap(0);
      result.timed_out = true;
      break;
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    int wait_ms = static_cast<int>(std::min<long long>(left, 1000 * 60));
    // Without a pidfd, the child's exit is noticed by polling waitpid.
    if (pid_idx < 0) wait_ms = std::min(wait_ms, 20);
    int r = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      ::kill(-pid, SIGKILL);
      try_reap(0);
      return Error{"run_command: poll: " + errno_text(errno)};
    }
    if (in_idx >= 0 && fds[in_idx].revents != 0) {
      const std::string& data = options.stdin_data;
      ssize_t w = ::write(in_w.get(), data.data() + in_pos, data.size() - in_pos);
      if (w > 0) {
        in_pos += static_cast<std::size_t>(w);
        if (in_pos == data.size()) in_w.reset();
      } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
        if (errno == EPIPE) sigpipe_guard.note_epipe();
        in_w.reset();  // the child closed its stdin: it does not want the rest
      }
    }
    if (out_idx >= 0 && fds[out_idx].revents != 0) read_some(out_r, out_sink);
    if (err_idx >= 0 && fds[err_idx].revents != 0) read_some(err_r, err_sink);
    if (pid_idx >= 0) {
      if (fds[pid_idx].revents != 0) try_reap(0);
    } else {
      try_reap(WNOHANG);
    }
  }
  in_w.reset();
  drain_now(out_r, out_sink);
  drain_now(err_r, err_sink);

  if (result.timed_out) {
    result.exit_code = -1;
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    result.err += "[mailwarden: " + command_line(argv) + " timed out after " +
                  std::to_string(options.timeout.count()) + " ms and was killed]\n";
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(status);
  }
  // Notes go past the bound on purpose: they are short and say why the text is cut.
  if (out_sink.discarded > 0) {
    result.err += "[mailwarden: stdout truncated at " + std::to_string(options.max_output) +
                  " bytes, " + std::to_string(out_sink.discarded) + " bytes discarded]\n";
  }
  if (err_sink.discarded > 0) {
    result.err += "[mailwarden: stderr truncated at " + std::to_string(options.max_output) +
                  " bytes, " + std::to_string(err_sink.discarded) + " bytes discarded]\n";
  }
  return result;
}

std::string command_line(const std::vector<std::string>& argv) {
  auto plain = [](unsigned char c) {
    return std::isalnum(c) != 0 || (c != 0 && std::strchr("@%+=:,./_-", c) != nullptr);
  };
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    if (!arg.empty() && std::all_of(arg.begin(), arg.end(), plain)) {
      line += arg;
      continue;
    }
    line += '\'';
    for (char c : arg) {
      if (c == '\'') {
        line += "'\\''";
      } else {
        line += c;
      }
    }
    line += '\'';
  }
  return line;
}

}  // namespace mw
