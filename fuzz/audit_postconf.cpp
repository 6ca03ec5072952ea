// Fuzz target: postconf -n/-d (main.cf), postconf -P and postconf -M (master.cf) parsers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/postconf.hpp"

namespace {
template <class R>
void check(const R& r) {
  if (!r.ok() && r.error().message.rfind("fuzz.cf:", 0) != 0) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = mw::audit::parse_postconf(text, "fuzz.cf");
  check(m);
  if (m.ok()) {
    for (const auto& p : m->params) {
      if (p.name.empty() || p.line == 0) std::abort();
    }
  }
  check(mw::audit::parse_postconf_p(text, "fuzz.cf"));
  auto s = mw::audit::parse_master_cf(text, "fuzz.cf");
  check(s);
  if (s.ok()) {
    for (const auto& svc : *s) {
      if (svc.command.empty()) std::abort();
      for (const auto& [name, value] : svc.overrides) {
        if (name.empty()) std::abort();
      }
    }
  }
  return 0;
}
