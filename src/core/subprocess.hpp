// Runs an external command (nft, ip, zmprov, postqueue...) without a shell, with a timeout,
// capturing stdout and stderr. The one way mailwarden starts other programs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw {

struct CommandOutput {
  int exit_code = -1;      // exit status; -1 when killed by a signal or on timeout
  int signal = 0;          // the signal that ended it, 0 if it exited
  bool timed_out = false;  // killed (SIGKILL to its process group) after the timeout
  std::string out;
  std::string err;
  bool success() const { return exit_code == 0 && !timed_out; }
};

struct CommandOptions {
  std::chrono::milliseconds timeout{30000};
  std::string stdin_data;             // written to the child's stdin, then closed
  std::size_t max_output = 64 << 20;  // per stream; the rest is discarded and noted in err
  // "NAME=value" entries added to (or replacing in) the inherited environment: how a hook gets
  // data without a shell parsing it.
  std::vector<std::string> environment;
};

// argv[0] is looked up in PATH when it has no slash. An Error only when the command could not
// be started at all (not found, spawn failed); a non-zero exit is a CommandOutput.
Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const CommandOptions& options = {});

// "nft -c -f /tmp/x" for messages: arguments with spaces or quotes are single-quoted.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace mw
