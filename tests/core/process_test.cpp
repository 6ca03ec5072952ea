// Unit tests for run_command and command_line: exit codes, capture, stdin, large output, timeouts.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include "core/subprocess.hpp"

namespace mw {
namespace {

TEST(RunCommand, TrueExitsZero) {
  auto r = run_command({"true"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->signal, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_TRUE(r->success());
}

TEST(RunCommand, EnvironmentEntriesAreAddedAndReplaceInheritedOnes) {
  ::setenv("MW_TEST_INHERITED", "parent", 1);
  ::setenv("MW_TEST_REPLACED", "old", 1);
  CommandOptions o;
  o.environment = {"MW_TEST_REPLACED=new value; $(no shell)", "MW_TEST_ADDED=1"};
  auto r = run_command({"env"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->out.find("MW_TEST_INHERITED=parent\n"), std::string::npos);
  EXPECT_NE(r->out.find("MW_TEST_REPLACED=new value; $(no shell)\n"), std::string::npos);
  EXPECT_EQ(r->out.find("MW_TEST_REPLACED=old"), std::string::npos);
  EXPECT_NE(r->out.find("MW_TEST_ADDED=1\n"), std::string::npos);
  ::unsetenv("MW_TEST_INHERITED");
  ::unsetenv("MW_TEST_REPLACED");
}

TEST(RunCommand, FalseIsAnOutputNotAnError) {
  auto r = run_command({"false"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_FALSE(r->success());
}

TEST(RunCommand, ExitCodeIsPassedThrough) {
  auto r = run_command({"sh", "-c", "exit 42"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 42);
}

TEST(RunCommand, CapturesStdoutAndStderrSeparately) {
  auto r = run_command({"sh", "-c", "printf out; printf err >&2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "out");
  EXPECT_EQ(r->err, "err");
}

TEST(RunCommand, NoShellInterpretsArguments) {
  auto r = run_command({"echo", "$HOME", "a b", "'q'", ";", "|"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "$HOME a b 'q' ; |\n");
}

TEST(RunCommand, FeedsStdin) {
  CommandOptions o;
  o.stdin_data = "line one\nline two\n";
  auto r = run_command({"cat"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, o.stdin_data);
}

TEST(RunCommand, LargeStdinAndStdoutAtOnceDoNotDeadlock) {
  CommandOptions o;
  o.stdin_data.assign(std::size_t{4} << 20, 'x');
  auto r = run_command({"cat"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out.size(), o.stdin_data.size());
  EXPECT_TRUE(r->success());
}

TEST(RunCommand, EmptyStdinIsEof) {
  auto r = run_command({"cat"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "");
  EXPECT_TRUE(r->success());
}

TEST(RunCommand, ChildThatIgnoresStdinDoesNotKillUs) {
  CommandOptions o;
  o.stdin_data.assign(std::size_t{1} << 20, 'y');
  auto r = run_command({"true"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->success());
}

TEST(RunCommand, OneMebibyteThroughHead) {
  auto r = run_command({"head", "-c", "1048576", "/dev/zero"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->success());
  EXPECT_EQ(r->out.size(), std::size_t{1} << 20);
  EXPECT_EQ(r->out.find_first_not_of('\0'), std::string::npos);
}

TEST(RunCommand, LargeOutputOnBothStreams) {
  auto r =
      run_command({"sh", "-c", "head -c 1048576 /dev/zero >&2 & head -c 1048576 /dev/zero; wait"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out.size(), std::size_t{1} << 20);
  EXPECT_EQ(r->err.size(), std::size_t{1} << 20);
}

TEST(RunCommand, MaxOutputIsHonouredAndNoted) {
  CommandOptions o;
  o.max_output = 1000;
  auto r = run_command({"head", "-c", "1048576", "/dev/zero"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->success());  // the rest was drained, so head was not blocked or killed
  EXPECT_EQ(r->out.size(), 1000u);
  EXPECT_NE(r->err.find("stdout truncated"), std::string::npos) << r->err;
}

TEST(RunCommand, TimeoutKillsTheChild) {
  CommandOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto r = run_command({"sleep", "10"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_FALSE(r->success());
}

// True once the process is gone or a zombie (killed, not yet reaped by its new parent).
bool process_dead(const std::string& pid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    if (!stat || !std::getline(stat, line)) return true;
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z')
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(RunCommand, TimeoutKillsTheWholeProcessGroup) {
  CommandOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto r = run_command({"sh", "-c", "sleep 10 & echo $!; wait; echo never"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  auto nl = r->out.find('\n');
  ASSERT_NE(nl, std::string::npos) << r->out;
  std::string grandchild = r->out.substr(0, nl);
  EXPECT_EQ(r->out.find("never"), std::string::npos);
  EXPECT_TRUE(process_dead(grandchild)) << "background sleep " << grandchild << " survived";
}

TEST(RunCommand, OutputBeforeTheTimeoutIsKept) {
  CommandOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto r = run_command({"sh", "-c", "echo early; exec sleep 10"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->out, "early\n");
}

TEST(RunCommand, DaemonHoldingThePipeDoesNotBlockTheReturn) {
  CommandOptions o;
  o.timeout = std::chrono::milliseconds(5000);
  auto r =
      run_command({"sh", "-c", "echo hi; (sleep 3 >/dev/null 2>&1 &) ; (sleep 3 &); exit 3"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hi\n");
}

TEST(RunCommand, SignalIsReported) {
  auto r = run_command({"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_FALSE(r->timed_out);
}

TEST(RunCommand, MissingCommandIsAnError) {
  auto r = run_command({"mailwarden-no-such-command-xyz"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("mailwarden-no-such-command-xyz"), std::string::npos);
  EXPECT_NE(r.error().message.find("not found"), std::string::npos) << r.error().message;
}

TEST(RunCommand, MissingAbsolutePathIsAnError) {
  auto r = run_command({"/nonexistent/dir/tool", "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/dir/tool"), std::string::npos);
}

TEST(RunCommand, NonExecutableFileIsAnError) {
  auto r = run_command({"/etc/passwd"});
  ASSERT_FALSE(r.ok());
}

TEST(RunCommand, EmptyArgvIsAnError) {
  auto r = run_command({});
  ASSERT_FALSE(r.ok());
}

TEST(RunCommand, AbsolutePathWorks) {
  auto r = run_command({"/bin/sh", "-c", "echo ok"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "ok\n");
}

TEST(RunCommand, ChildRunsInItsOwnProcessGroup) {
  // /proc/PID/stat: "pid (comm) state ppid pgrp ...": the shell leads its own group.
  auto r = run_command({"sh", "-c", "echo $$; cut -d' ' -f5 /proc/$$/stat"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto nl = r->out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(r->out.substr(0, nl + 1), r->out.substr(nl + 1)) << r->out;
}

TEST(RunCommand, ParentDescriptorsDoNotLeakIntoTheChild) {
  // A descriptor opened without O_CLOEXEC, at a number the child would not use itself.
  const int fd = ::dup2(STDERR_FILENO, 57);
  ASSERT_EQ(fd, 57);
  auto r = run_command({"sh", "-c", "test -e /proc/$$/fd/57 && echo leaked || echo closed"});
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "closed\n");
}

TEST(RunCommand, ChildStartsWithDefaultSignalsAndAnEmptyMask) {
  // The parent ignores SIGHUP and blocks SIGUSR1; the command must see neither.
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ASSERT_EQ(::sigaction(SIGHUP, &ign, &old), 0);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);
  // The command itself reads its status (a shell would block signals around its own forks).
  auto r = run_command({"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"});
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGHUP, &old, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Masks are hexadecimal bit sets, bit (signal - 1): SIGHUP is 0x1, SIGUSR1 0x200.
  auto mask = [&](const std::string& name) -> unsigned long long {
    const auto at = r->out.find(name + ":\t");
    if (at == std::string::npos) return ~0ULL;
    return std::stoull(r->out.substr(at + name.size() + 2), nullptr, 16);
  };
  EXPECT_EQ(mask("SigIgn") & 0x1, 0u) << r->out;
  EXPECT_EQ(mask("SigBlk") & 0x200, 0u) << r->out;
}

TEST(CommandLine, PlainArgumentsStayPlain) {
  EXPECT_EQ(command_line({"nft", "-c", "-f", "/tmp/x"}), "nft -c -f /tmp/x");
}

TEST(CommandLine, SpacesQuotesAndEmptyAreQuoted) {
  EXPECT_EQ(command_line({"echo", "a b"}), "echo 'a b'");
  EXPECT_EQ(command_line({"echo", "it's"}), "echo 'it'\\''s'");
  EXPECT_EQ(command_line({"echo", ""}), "echo ''");
  EXPECT_EQ(command_line({"echo", "$x;y"}), "echo '$x;y'");
  EXPECT_EQ(command_line({}), "");
}

}  // namespace
}  // namespace mw
