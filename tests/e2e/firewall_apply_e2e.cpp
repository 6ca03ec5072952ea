// `mailwarden firewall apply` against the real kernel, in a network namespace: the rollback
// happens although the process that applied was killed, restores exactly what mailwarden owned
// and nothing else; a confirmed change stays; a ruleset that would cut off the SSH session or
// that the kernel rejects changes nothing. The timers are real and short (seconds).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "core/atomic_file.hpp"
#include "e2e/exposure_check.hpp"
#include "harness/netns.hpp"

namespace mw {
namespace {

using namespace std::chrono_literals;

class ApplyE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    auto pair = test::NetnsPair::create();
    ASSERT_TRUE(pair.ok()) << pair.error().message;
    pair_ = std::move(*pair);
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("mw-apply-e2e-{}-{}", ::getpid(),
                       testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // Policy A (the admin network 198.51.100.0/28) and B (198.51.100.128/28); both let the
    // test's client 192.0.2.2 nowhere near SSH, which only admin networks reach.
    policy_a_ = write_policy("a.toml", "198.51.100.0/28", test::kTestMtaUser);
    policy_b_ = write_policy("b.toml", "198.51.100.128/28", test::kTestMtaUser);
  }

  void TearDown() override {
    if (pair_) {
      // A change a failed test left pending is rolled back now, so no watchdog outlives it.
      (void)mw({"firewall", "rollback"});
    }
    pair_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string write_policy(const std::string& name, const std::string& admin_v4,
                           const std::string& mta_user) {
    auto text = read_file(std::string(MW_SOURCE_DIR) + "/examples/zimbra-single.toml");
    EXPECT_TRUE(text.ok());
    std::string t = *text;
    replace_line(t, "admin_ipv4 = ", fmt::format("admin_ipv4 = [\"{}\"]", admin_v4));
    replace_line(t, "mta_user = ", fmt::format("mta_user = \"{}\"", mta_user));
    auto path = (dir_ / name).string();
    EXPECT_TRUE(write_file_atomic(path, t).ok());
    return path;
  }

  // Replaces the line starting with `key` (which the example must have).
  static void replace_line(std::string& text, const std::string& key, const std::string& line) {
    auto at = text.find("\n" + key);
    ASSERT_NE(at, std::string::npos) << key;
    auto end = text.find('\n', at + 1);
    text.replace(at + 1, end - at - 1, line);
  }

  // mailwarden in the server namespace, with this test's state directory; `ssh` is the
  // SSH_CONNECTION it sees ("" = not over SSH).
  CommandOutput mw(std::vector<std::string> args, const std::string& ssh = "",
                   std::chrono::milliseconds timeout = 60s) {
    std::vector<std::string> argv = {"env", "-u", "SSH_CONNECTION"};
    if (!ssh.empty()) argv.push_back("SSH_CONNECTION=" + ssh);
    argv.push_back("MAILWARDEN_STATE_DIR=" + (dir_ / "state").string());
    argv.push_back(MW_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions o;
    o.timeout = timeout;
    auto r = pair_->exec(pair_->server(), argv, o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : CommandOutput{};
  }

  std::string sh(const std::string& command) {
    auto r = pair_->exec(pair_->server(), {"sh", "-c", command});
    EXPECT_TRUE(r.ok() && r->success()) << command << ": " << (r.ok() ? r->err : "");
    return r.ok() ? r->out : "";
  }

  // The owned part as the issue defines "restored exactly": without handles or counters.
  std::string owned_nft() {
    return sh("nft -s list table inet mailwarden 2>/dev/null || echo absent");
  }
  std::string owned_iptables(const char* tool) {
    return sh(
        fmt::format("for c in MAILWARDEN-INPUT MAILWARDEN-OUTPUT; do {0} -S $c 2>&1 || true; done; "
                    "{0} -S INPUT | grep -c -- '-j MAILWARDEN-INPUT' || true",
                    tool));
  }

  // Waits (bounded) until no change is pending; false on timeout.
  bool wait_until_settled(std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto st = mw({"firewall", "status"});
      if (st.out.find("pending: none") != std::string::npos) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  static int watchdog_pid(const std::string& status) {
    auto at = status.find("watchdog pid ");
    return at == std::string::npos ? 0 : std::atoi(status.c_str() + at + 13);
  }

  std::unique_ptr<test::NetnsPair> pair_;
  std::filesystem::path dir_;
  std::string policy_a_, policy_b_;
};

TEST_F(ApplyE2E, NftUnconfirmedChangeRollsBackAfterTheApplyingProcessIsKilled) {
  // Yesterday's firewall (policy A), confirmed, and fail2ban's table beside it.
  auto first = mw({"firewall", "apply", "-p", policy_a_, "--confirm-within", "30s"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(mw({"firewall", "confirm"}).exit_code, 0);
  sh("nft add table inet f2b; nft add chain inet f2b input '{ type filter hook input priority "
     "-1; }'; nft add rule inet f2b input ip saddr 203.0.113.66 drop");
  const std::string before = owned_nft();
  ASSERT_NE(before.find("198.51.100.0/28"), std::string::npos) << before;

  // Apply B and kill the process that applied it (the SSH session dies), as a group.
  auto start = std::chrono::steady_clock::now();
  // The apply takes ~0.3 s here (sanitizer build); 3 s leaves room on a loaded machine, and
  // the 6 s deadline leaves 3 s to look at the applied table before the rollback.
  auto killed =
      mw({"firewall", "apply", "-p", policy_b_, "--confirm-within", "6s", "--wait"}, "", 3000ms);
  ASSERT_TRUE(killed.timed_out) << "apply --wait should still have been waiting: " << killed.err;
  auto applied = owned_nft();
  ASSERT_NE(applied.find("198.51.100.128/28"), std::string::npos) << applied;
  // fail2ban bans someone meanwhile.
  sh("nft add rule inet f2b input ip saddr 203.0.113.77 drop");

  ASSERT_TRUE(wait_until_settled(20s)) << mw({"firewall", "status"}).out;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 6s) << "rolled back before the deadline";
  EXPECT_EQ(owned_nft(), before) << "the owned table is not exactly as before";
  auto f2b = sh("nft list table inet f2b");
  EXPECT_NE(f2b.find("203.0.113.66"), std::string::npos) << f2b;
  EXPECT_NE(f2b.find("203.0.113.77"), std::string::npos) << "the ban added meanwhile is gone";
  auto status = mw({"firewall", "status"});
  EXPECT_NE(status.out.find("rolled back"), std::string::npos) << status.out;
  // Confirming now is too late, and says so.
  auto late = mw({"firewall", "confirm"});
  EXPECT_NE(late.exit_code, 0);
  EXPECT_NE(late.err.find("rolled back"), std::string::npos) << late.err;
}

TEST_F(ApplyE2E, NftFirstApplyUnconfirmedLeavesNoTableBehind) {
  ASSERT_EQ(owned_nft().find("table inet mailwarden"), std::string::npos);
  auto r = mw({"firewall", "apply", "-p", policy_a_, "--confirm-within", "2s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(owned_nft().find("table inet mailwarden"), std::string::npos);
  ASSERT_TRUE(wait_until_settled(15s));
  EXPECT_EQ(owned_nft().find("table inet mailwarden"), std::string::npos) << owned_nft();
}

TEST_F(ApplyE2E, NftConfirmedChangeStaysAndTheWatchdogIsGone) {
  auto r = mw({"firewall", "apply", "-p", policy_a_, "--confirm-within", "3s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int pid = watchdog_pid(r.err);
  ASSERT_GT(pid, 0) << r.err;
  const std::string applied = owned_nft();
  auto c = mw({"firewall", "confirm"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  std::this_thread::sleep_for(4s);  // past the deadline
  EXPECT_EQ(owned_nft(), applied);
  // The watchdog was stopped (reaped by init: it is nobody's child).
  bool alive = ::kill(pid, 0) == 0 && std::filesystem::exists(fmt::format("/proc/{}", pid));
  if (alive) {
    std::ifstream cmd(fmt::format("/proc/{}/cmdline", pid));
    std::string s((std::istreambuf_iterator<char>(cmd)), {});
    EXPECT_EQ(s.find("watchdog"), std::string::npos) << "watchdog " << pid << " still runs";
  }
  EXPECT_NE(mw({"firewall", "status"}).out.find("confirmed"), std::string::npos);
}

TEST_F(ApplyE2E, RefusesARulesetThatLocksOutTheSshSession) {
  const std::string before = owned_nft();
  // The session comes from 192.0.2.2 (the client namespace), not from an admin network.
  auto r = mw({"firewall", "apply", "-p", policy_a_}, "192.0.2.2 50000 192.0.2.1 22");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("192.0.2.2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("DROPPED"), std::string::npos) << r.err;
  EXPECT_EQ(owned_nft(), before);
  EXPECT_NE(mw({"firewall", "status"}).out.find("pending: none"), std::string::npos);

  // From the admin network it goes through (and is rolled back by hand).
  auto ok = mw({"firewall", "apply", "-p", policy_a_}, "198.51.100.2 50000 192.0.2.1 22");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("still accepted"), std::string::npos) << ok.err;
  EXPECT_EQ(mw({"firewall", "rollback"}).exit_code, 0);
  EXPECT_EQ(owned_nft(), before);
}

TEST_F(ApplyE2E, ARulesetTheKernelRejectsChangesNothing) {
  ASSERT_EQ(mw({"firewall", "apply", "-p", policy_a_}).exit_code, 0);
  ASSERT_EQ(mw({"firewall", "confirm"}).exit_code, 0);
  const std::string before = owned_nft();
  auto broken = write_policy("broken.toml", "198.51.100.128/28", "nosuchuser");
  for (const char* backend : {"nft", "iptables"}) {
    auto r = mw({"firewall", "apply", "-p", broken, "--backend", backend});
    EXPECT_EQ(r.exit_code, 2) << backend << ": " << r.err;
    EXPECT_NE(r.err.find("nothing changed"), std::string::npos) << r.err;
    // The kernel tool's own message, with the file it read.
    EXPECT_NE(r.err.find("candidate"), std::string::npos) << r.err;
  }
  EXPECT_EQ(owned_nft(), before);
  EXPECT_EQ(owned_iptables("iptables").find("MAILWARDEN-INPUT -"), std::string::npos);
  EXPECT_NE(mw({"firewall", "status"}).out.find("pending: none"), std::string::npos);
}

TEST_F(ApplyE2E, DryRunPrintsTheExposureDiffAndChangesNothing) {
  auto r = mw({"firewall", "apply", "-p", policy_a_, "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("7306/tcp mysql IPv4: everyone -> nobody"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("22/tcp ssh IPv6: everyone -> 2001:db8:ad::/120"), std::string::npos)
      << r.out;
  EXPECT_EQ(owned_nft().find("table inet mailwarden"), std::string::npos);
}

// On a terminal apply asks; `script` gives it one (a pseudo-terminal) and types the answer.
TEST_F(ApplyE2E, TheTerminalPromptConfirmsOrRollsBack) {
  auto on_tty = [&](const std::string& answer) {
    std::string command = fmt::format(
        "env -u SSH_CONNECTION MAILWARDEN_STATE_DIR={} {} firewall apply -p {} "
        "--confirm-within 20s",
        (dir_ / "state").string(), MW_BINARY, policy_a_);
    CommandOptions o;
    o.timeout = 30s;
    o.stdin_data = answer + "\n";
    auto r = pair_->exec(pair_->server(), {"script", "-qec", command, "/dev/null"}, o);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandOutput{};
  };
  auto no = on_tty("no");
  EXPECT_NE(no.exit_code, 0) << no.out;
  EXPECT_NE(no.out.find("Type 'yes'"), std::string::npos) << no.out;
  EXPECT_EQ(owned_nft(), "absent\n") << "answering no must roll back at once";
  EXPECT_NE(mw({"firewall", "status"}).out.find("the operator answered no"), std::string::npos);

  auto yes = on_tty("yes");
  EXPECT_EQ(yes.exit_code, 0) << yes.out;
  EXPECT_NE(yes.out.find("confirmed"), std::string::npos) << yes.out;
  EXPECT_NE(owned_nft().find("table inet mailwarden"), std::string::npos);
  EXPECT_NE(mw({"firewall", "status"}).out.find("pending: none"), std::string::npos);
}

TEST_F(ApplyE2E, IptablesUnconfirmedChangeRestoresTheOwnedChainsOnly) {
  // fail2ban's chain first in INPUT, then policy A confirmed.
  for (const char* ipt : {"iptables", "ip6tables"}) {
    sh(
        fmt::format("{0} -N f2b-sshd && {0} -A f2b-sshd -j RETURN && "
                    "{0} -I INPUT -p tcp --dport 22 -j f2b-sshd",
                    ipt));
  }
  auto first = mw({"firewall", "apply", "-p", policy_a_, "-b", "iptables"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(mw({"firewall", "confirm"}).exit_code, 0);
  const std::string before4 = owned_iptables("iptables");
  const std::string before6 = owned_iptables("ip6tables");
  ASSERT_NE(before4.find("198.51.100.0/28"), std::string::npos) << before4;
  // The jump went after fail2ban's.
  auto input = sh("iptables -S INPUT");
  EXPECT_LT(input.find("f2b-sshd"), input.find("MAILWARDEN-INPUT")) << input;

  auto killed = mw(
      {"firewall", "apply", "-p", policy_b_, "-b", "iptables", "--confirm-within", "6s", "--wait"},
      "", 3000ms);
  ASSERT_TRUE(killed.timed_out) << killed.err;
  ASSERT_NE(owned_iptables("iptables").find("198.51.100.128/28"), std::string::npos);
  sh("iptables -I f2b-sshd -s 203.0.113.77 -j REJECT");  // a ban meanwhile

  ASSERT_TRUE(wait_until_settled(20s)) << mw({"firewall", "status"}).out;
  EXPECT_EQ(owned_iptables("iptables"), before4);
  EXPECT_EQ(owned_iptables("ip6tables"), before6);
  auto f2b = sh("iptables -S f2b-sshd");
  EXPECT_NE(f2b.find("203.0.113.77"), std::string::npos) << f2b;
}

TEST_F(ApplyE2E, IptablesFirstApplyRolledBackRemovesChainsAndJumps) {
  sh("iptables -A INPUT -p tcp --dport 8080 -j ACCEPT");
  const std::string before = sh("iptables -S; ip6tables -S");
  auto r = mw({"firewall", "apply", "-p", policy_a_, "-b", "iptables"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(sh("iptables -S").find("MAILWARDEN-INPUT"), std::string::npos);
  ASSERT_EQ(mw({"firewall", "rollback"}).exit_code, 0);
  EXPECT_EQ(sh("iptables -S; ip6tables -S"), before);
}

}  // namespace
}  // namespace mw
