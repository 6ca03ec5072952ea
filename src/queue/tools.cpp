// PostfixTools: the real postqueue / postcat / postsuper, run without a shell (run_command).
#include "queue/tools.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "core/subprocess.hpp"

namespace mw::queue {

std::string_view name_of(Action a) {
  switch (a) {
    case Action::hold:
      return "hold";
    case Action::release:
      return "release";
    case Action::remove:
      return "delete";
  }
  return "?";
}

char postsuper_flag(Action a) {
  switch (a) {
    case Action::hold:
      return 'h';
    case Action::release:
      return 'H';
    case Action::remove:
      return 'd';
  }
  return '?';
}

std::string default_tool_path(const std::string& name, const std::string& zimbra_sbin) {
  const std::string zimbra = zimbra_sbin + "/" + name;
  if (::access(zimbra.c_str(), X_OK) == 0) return zimbra;
  return name;
}

std::vector<std::string> PostfixTools::base(const std::string& program) const {
  std::vector<std::string> argv{program};
  if (!paths_.config_dir.empty()) {
    argv.push_back("-c");
    argv.push_back(paths_.config_dir);
  }
  return argv;
}

namespace {
std::string describe_failure(const std::vector<std::string>& argv, const CommandOutput& out) {
  std::string err = out.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  if (out.timed_out) return fmt::format("{}: timed out", command_line(argv));
  if (out.signal != 0)
    return fmt::format("{}: killed by signal {}", command_line(argv), out.signal);
  return fmt::format("{}: exit {}{}{}", command_line(argv), out.exit_code, err.empty() ? "" : ": ",
                     err);
}
}  // namespace

Result<std::string> PostfixTools::list_queue() {
  auto argv = base(paths_.postqueue);
  argv.push_back("-j");
  CommandOptions opt;
  opt.timeout = std::chrono::minutes(5);
  opt.max_output = std::size_t{2} << 30;  // a huge queue is still read whole
  auto out = run_command(argv, opt);
  if (!out) return out.error();
  if (!out->success()) return Error{describe_failure(argv, *out)};
  return std::move(out->out);
}

Result<std::string> PostfixTools::read_envelope(const std::string& queue_id) {
  auto argv = base(paths_.postcat);
  argv.insert(argv.end(), {"-e", "-q", queue_id});
  CommandOptions opt;
  opt.timeout = std::chrono::seconds(30);
  opt.max_output = 16 << 20;
  auto out = run_command(argv, opt);
  if (!out) return out.error();
  if (!out->success()) return Error{describe_failure(argv, *out)};
  return std::move(out->out);
}

Result<SuperResult> PostfixTools::super(Action action, const std::vector<std::string>& ids,
                                        const std::vector<std::string>& queues) {
  auto argv = base(paths_.postsuper);
  argv.push_back(std::string("-") + postsuper_flag(action));
  argv.push_back("-");
  argv.insert(argv.end(), queues.begin(), queues.end());
  CommandOptions opt;
  opt.timeout = std::chrono::minutes(5);
  for (const auto& id : ids) {
    opt.stdin_data += id;
    opt.stdin_data += '\n';
  }
  auto out = run_command(argv, opt);
  if (!out) return out.error();
  SuperResult r;
  r.exit_code = out->timed_out ? -1 : out->exit_code;
  r.err = out->err;
  if (out->timed_out || out->signal != 0) r.err = describe_failure(argv, *out);
  return r;
}

}  // namespace mw::queue
