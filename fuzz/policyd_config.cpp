// Fuzz target: policyd's configuration (TOML from an administrator, possibly hand-mangled) and
// the sender login map (a Postfix table source file). No crash on any input; every error names
// the input first; whatever is accepted keeps the invariants the engine relies on.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policyd/config.hpp"
#include "policyd/sender_login_map.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "policyd_config invariant broken: %s\n", what);
    std::abort();
  }
}

bool valid_windows(const std::vector<mw::policyd::WindowLimit>& windows) {
  for (std::size_t i = 0; i < windows.size(); ++i) {
    if (windows[i].window <= 0) return false;
    if (windows[i].messages == 0 && windows[i].recipients == 0) return false;
    if (i > 0 && windows[i - 1].window >= windows[i].window) return false;  // sorted, unique
  }
  return true;
}

void config(std::string_view text) {
  auto c = mw::policyd::parse_config(text, "fuzz.toml");
  if (!c.ok()) {
    check(c.error().message.rfind("fuzz.toml:", 0) == 0, "config error does not name the input");
    return;
  }
  check(!c->server.listen.empty(), "no listen address");
  check(c->server.idle_timeout_ms > 0 && c->server.request_timeout_ms > 0 &&
            c->server.max_ttl_ms > 0 && c->state.flush_interval_ms > 0 &&
            c->alerts.timeout_ms > 0 && c->state.redis.timeout_ms > 0,
        "a duration <= 0");
  for (const auto& s : c->limits) check(valid_windows(s.windows) && !s.windows.empty(), "limits");
  for (std::size_t i = 1; i < c->limits.size(); ++i)
    check(c->limits[i - 1].scope < c->limits[i].scope, "scopes not merged");
  for (const auto& e : c->exceptions) {
    check(!e.match.empty(), "empty exception match");
    check(e.exempt == e.windows.empty() && valid_windows(e.windows), "exception limits");
  }
  for (const auto& t : {c->defer_text, c->hold_text, c->reject_text, c->spoof_text})
    check(!t.empty() && t.find('\n') == std::string::npos, "reply text with a newline");
}

void login_map(std::string_view text) {
  auto m = mw::policyd::SenderLoginMap::parse(text, "fuzz.map", "+-");
  if (!m.ok()) {
    check(m.error().message.rfind("fuzz.map:", 0) == 0, "map error does not name the input");
    return;
  }
  // Every owner listed for a key owns it; lookups of arbitrary text do not crash.
  const auto first_line = text.substr(0, text.find('\n'));
  check(m->owns("anyone", ""), "the null sender is refused");
  (void)m->owns(first_line, first_line.substr(first_line.find(' ') + 1));
  if (const auto* owners = m->owners(first_line.substr(0, first_line.find_first_of(" \t"))))
    check(!owners->empty(), "an entry without owners");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A sender_login_maps path is opened; special files could block the run (/proc/kmsg).
  for (std::string_view special : {"/proc", "/sys", "/dev"})
    if (text.find(special) != std::string_view::npos) return 0;
  config(text);
  login_map(text);
  return 0;
}
