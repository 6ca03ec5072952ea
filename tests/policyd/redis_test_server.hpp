// A private redis-server for tests: a free loopback port, a temp dir, no persistence; killed and
// its directory removed when the object goes away (also when a test fails).
#pragma once

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mw::policyd::redis_test {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

// A port nobody listens on right now (bound to 0 and released; another process could take it
// before redis-server does, which the start-up check would report).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

inline Reply command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

class RedisServer {
 public:
  // Starts redis-server; extra arguments are appended ("--requirepass", "x", ...). Null with
  // `why` set when it did not start.
  static std::unique_ptr<RedisServer> start(std::string& why, std::vector<std::string> extra = {}) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mw-redis-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      why = "mkdtemp failed";
      return nullptr;
    }
    std::unique_ptr<RedisServer> s(new RedisServer(pattern, std::move(extra)));
    // Tests run in parallel: another one may take the port first. Then try another.
    for (int attempt = 0; attempt < 5; ++attempt) {
      s->port_ = free_loopback_port();
      if (s->port_ > 0 && s->launch(why)) return s;
    }
    return nullptr;
  }

  ~RedisServer() {
    kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // SIGKILL: Redis dies as in a crash.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  // Starts again on the same port and with the same arguments (empty: nothing was saved).
  bool restart(std::string& why) {
    kill();
    return launch(why);
  }

  // A separate client connection, for checks and for making Redis busy.
  Context connect(int timeout_ms = 5000) const {
    const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    Context c(redisConnectWithTimeout("127.0.0.1", port_, tv));
    if (c && c->err == 0) redisSetTimeout(c.get(), tv);
    if (c && c->err == 0 && !password_.empty()) command(c.get(), {"AUTH", password_});
    return c;
  }

  std::string log() const {
    std::ifstream in(dir_ / "redis.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  RedisServer(std::string dir, std::vector<std::string> extra)
      : dir_(std::move(dir)), extra_(std::move(extra)) {
    for (std::size_t i = 0; i + 1 < extra_.size(); ++i) {
      if (extra_[i] == "--requirepass") password_ = extra_[i + 1];
    }
  }

  bool launch(std::string& why) {
    std::vector<std::string> args = {kRedisServer,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_.string(),
                                     "--logfile",
                                     (dir_ / "redis.log").string(),
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--daemonize",
                                     "no",
                                     "--enable-debug-command",
                                     "yes"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      why = "fork failed";
      return false;
    }
    if (pid == 0) {
      // Only async-signal-safe calls here. The server dies with the test process.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::syscall(SYS_close_range, 3U, ~0U, 0U);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    // Bounded wait for start-up (this is not a test of time).
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        why = "redis-server exited at start-up: " + log();
        return false;
      }
      // Ours, not another test's server on the same port: it answers with our directory.
      if (Context c = connect(200); c && c->err == 0) {
        if (Reply r = command(c.get(), {"CONFIG", "GET", "dir"}); r) {
          std::error_code ec;
          if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              std::filesystem::equivalent(r->element[1]->str, dir_, ec)) {
            return true;
          }
          why = "port " + std::to_string(port_) + " is another redis-server's";
          kill();
          return false;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    why = "redis-server did not answer PING within 10 s: " + log();
    kill();
    return false;
  }

  std::filesystem::path dir_;
  std::vector<std::string> extra_;
  std::string password_;
  int port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace mw::policyd::redis_test
