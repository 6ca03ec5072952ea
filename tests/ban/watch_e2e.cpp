// `mailwarden logs watch --ban` against the real kernel: the watcher follows a temp
// zimbra.log-style file and drives nft in a server namespace; the test appends SASL failures
// and probes 25/587/993 from a client namespace (attacker, another client, an allow-listed
// admin), IPv4 and IPv6, through a policy replacement and until the ban expires.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/netns.hpp"
#include "mail_netns.hpp"

namespace mw {
namespace {

using namespace std::chrono_literals;
using test::ProbeOutcome;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The watcher as a child process; killed (and reaped) when this goes away.
class Watcher {
 public:
  Watcher(std::vector<std::string> args, const std::filesystem::path& out,
          const std::filesystem::path& err) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Dies with the test even if the test crashes.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(o);
    ::close(e);
  }
  ~Watcher() { stop(); }
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class WatchBanE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    auto net = ban::e2e::MailNetns::create();
    ASSERT_TRUE(net.ok()) << net.error().message;
    net_ = std::move(*net);
    dir_ = std::filesystem::temp_directory_path() /
           ("mw-watch-e2e-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    log_ = dir_ / "zimbra.log";
    std::ofstream(log_) << "";
    // Small thresholds: 5 failures make a brute force.
    std::string det = slurp(std::string(MW_SOURCE_DIR) + "/catalog/detectors.toml");
    const std::string from = "failures = 20\n";
    const auto at = det.find(from);
    ASSERT_NE(at, std::string::npos) << "catalog/detectors.toml changed: adjust the test";
    det.replace(at, from.size(), "failures = 5\n");
    std::ofstream(dir_ / "detectors.toml") << det;
  }
  void TearDown() override {
    watcher_.reset();
    net_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  // Starts the watcher and waits until it follows the log (its metrics count a line).
  void start_watcher(const std::string& ban_for) {
    watcher_ =
        std::make_unique<Watcher>(std::vector<std::string>{MW_BINARY,
                                                           "logs",
                                                           "watch",
                                                           log_.string(),
                                                           "--ban",
                                                           "--netns",
                                                           net_->pair().server(),
                                                           "--state-dir",
                                                           (dir_ / "state").string(),
                                                           "--detectors",
                                                           (dir_ / "detectors.toml").string(),
                                                           "--allow",
                                                           "198.51.100.77/32",
                                                           "--mynetworks",
                                                           "127.0.0.0/8",
                                                           "--no-geoip",
                                                           "--tz",
                                                           "UTC",
                                                           "--ban-for",
                                                           ban_for,
                                                           "--metrics-listen",
                                                           "127.0.0.1:0"},
                                  dir_ / "watch.out", dir_ / "watch.err");
    for (int i = 0; i < 100 && metrics_port_ == 0; ++i) {
      const std::string err = slurp(dir_ / "watch.err");
      // "... metrics on http://127.0.0.1:0/metrics (port 43121)"
      if (const auto at = err.find("(port "); at != std::string::npos)
        metrics_port_ = std::atoi(err.c_str() + at + 6);
      ASSERT_TRUE(watcher_->running()) << "the watcher exited: " << err;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_GT(metrics_port_, 0) << slurp(dir_ / "watch.err");
    // The watcher starts at the end of the file: wait until it reads what is appended now.
    for (int i = 0; i < 100; ++i) {
      append("postfix/smtpd[100]: connect from unknown[192.0.2.200]");
      std::this_thread::sleep_for(100ms);
      if (metric("mailwarden_lines_read_total") > 0) return;
    }
    FAIL() << "the watcher never read the log: " << slurp(dir_ / "watch.err");
  }

  void append(const std::string& rest) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    const std::string line = std::string(stamp) + " mail " + rest + "\n";
    const int fd = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ::close(fd);
  }
  // One SASL failure as Postfix (3.7.8 and later) writes it.
  void sasl_failure(const std::string& ip, const std::string& account) {
    append("postfix/submission/smtpd[2" + std::to_string(++pid_) + "]: warning: unknown[" + ip +
           "]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=" + account);
  }

  // A sample's value from GET /metrics (the exact "name" or "name{labels}"), -1 if absent.
  long metric(const std::string& name) {
    httplib::Client c("127.0.0.1", metrics_port_);
    c.set_connection_timeout(3);
    c.set_read_timeout(3);
    auto r = c.Get("/metrics");
    if (!r || r->status != 200) return -1;
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name + " ", 0) == 0) return std::stol(line.substr(name.size() + 1));
    }
    return -1;
  }

  bool output_has(const std::string& text, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (slurp(dir_ / "watch.out").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  std::unique_ptr<ban::e2e::MailNetns> net_;
  std::unique_ptr<Watcher> watcher_;
  std::filesystem::path dir_, log_;
  int metrics_port_ = 0;
  int pid_ = 0;
};

TEST_F(WatchBanE2E, BruteForceIsBannedAdminIsNeverAndTheBanExpires) {
  ASSERT_TRUE(net_->all("198.51.100.10", ProbeOutcome::open));
  ASSERT_TRUE(net_->all("198.51.100.77", ProbeOutcome::open));
  start_watcher("8s");
  if (HasFatalFailure()) return;

  for (int i = 0; i < 5; ++i) sasl_failure("198.51.100.10", "alice@example.org");
  ASSERT_TRUE(net_->becomes("198.51.100.10", ProbeOutcome::dropped, 5s))
      << "no ban within 5 s; watcher said:\n"
      << slurp(dir_ / "watch.out") << slurp(dir_ / "watch.err");
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("203.0.113.10", ProbeOutcome::open));
  EXPECT_TRUE(
      output_has("ban: banned 198.51.100.10/32 for 8s (brute_force, account "
                 "alice@example.org, offence 1)",
                 2s))
      << slurp(dir_ / "watch.out");

  // What `firewall apply` does: table inet mailwarden replaced whole, twice. The ban stays.
  ASSERT_TRUE(net_->pair().load_nft(ban::e2e::kPolicyReplacement).ok());
  ASSERT_TRUE(net_->pair().load_nft(ban::e2e::kPolicyReplacement).ok());
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("203.0.113.10", ProbeOutcome::open));

  // The admin fails the same way: refused (said once), never banned, still connects.
  for (int i = 0; i < 12; ++i) sasl_failure("198.51.100.77", "admin@example.org");
  EXPECT_TRUE(output_has("refused to ban 198.51.100.77/32", 5s)) << slurp(dir_ / "watch.out");
  EXPECT_TRUE(net_->all("198.51.100.77", ProbeOutcome::open));
  EXPECT_EQ(metric("mailwarden_bans_refused_total"), 1);
  EXPECT_EQ(metric("mailwarden_bans_added_total{detector=\"brute_force\"}"), 1);
  EXPECT_EQ(metric("mailwarden_bans_active"), 1);

  // The 8 s ban ends by itself in the kernel.
  EXPECT_TRUE(net_->becomes("198.51.100.10", ProbeOutcome::open, 20s)) << "still banned after 20 s";
  EXPECT_TRUE(watcher_->running());
}

TEST_F(WatchBanE2E, Ipv6BanCoversTheSlash64) {
  ASSERT_TRUE(net_->all("2001:db8:bad:1::99", ProbeOutcome::open));
  start_watcher("1h");
  if (HasFatalFailure()) return;
  for (int i = 0; i < 5; ++i) sasl_failure("2001:db8:bad:1::10", "carol@example.org");
  ASSERT_TRUE(net_->becomes("2001:db8:bad:1::10", ProbeOutcome::dropped, 5s))
      << slurp(dir_ / "watch.out") << slurp(dir_ / "watch.err");
  EXPECT_TRUE(net_->all("2001:db8:bad:1::99", ProbeOutcome::dropped));  // same /64
  EXPECT_TRUE(net_->all("2001:db8::2", ProbeOutcome::open));
  EXPECT_TRUE(output_has("banned 2001:db8:bad:1::/64 for 1h", 2s)) << slurp(dir_ / "watch.out");
}

}  // namespace
}  // namespace mw
