// Fuzz target: OpenSSH sshd messages (parse_sshd).
// The input is split into lines; every view the parser returns must point into its line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logs/parse_line.hpp"
#include "logs/parsers.hpp"
#include "logs/syslog.hpp"

namespace {

bool inside(std::string_view v, std::string_view line) {
  return v.empty() || (v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size());
}

void check_facts(const mw::logs::Facts& f, std::string_view line) {
  for (auto v : {f.client_ip, f.client_name, f.queue_id, f.next_queue_id, f.from, f.recipients,
                 f.relay, f.dsn, f.message_id}) {
    if (!inside(v, line)) std::abort();
  }
}

// The message of a syslog line, or the whole line when it has no envelope.
std::string_view message_of(std::string_view line, std::string_view& tag) {
  if (auto env = mw::logs::parse_syslog_envelope(line)) {
    tag = env->program;
    return env->message;
  }
  return line;
}

void one_line(std::string_view line) {
  std::string_view tag;
  const auto msg = message_of(line, tag);
  if (auto f = mw::logs::parse_sshd(msg)) check_facts(*f, line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    one_line(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return 0;
}
