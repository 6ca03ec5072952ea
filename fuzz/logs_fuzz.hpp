// Shared by the logs fuzz targets: the input split into lines, and the invariant every parser
// keeps — each view it returns points into its own line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logs/event.hpp"
#include "logs/syslog.hpp"

namespace mw::logs::fuzz {

inline bool inside(std::string_view v, std::string_view line) {
  return v.empty() || (v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size());
}

inline void check_facts(const Facts& f, std::string_view line) {
  for (auto v : {f.client_ip, f.client_name, f.queue_id, f.next_queue_id, f.from, f.recipients,
                 f.relay, f.dsn, f.message_id}) {
    if (!inside(v, line)) std::abort();
  }
}

// The message of a syslog line, or the whole line when it has no envelope.
inline std::string_view message_of(std::string_view line, std::string_view& tag) {
  if (auto env = parse_syslog_envelope(line)) {
    tag = env->program;
    return env->message;
  }
  return line;
}

// Calls one_line for every line of the fuzzer's input.
template <typename F>
void for_each_line(const std::uint8_t* data, std::size_t size, F&& one_line) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    one_line(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace mw::logs::fuzz
