// Fuzz target: dpkg -l and rpm -qa parsers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/dpkg.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto r :
       {mw::audit::parse_dpkg_l(text, "fuzz.txt"), mw::audit::parse_rpm_qa(text, "fuzz.txt")}) {
    if (!r.ok()) {
      if (r.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
      continue;
    }
    for (const auto& p : r->packages) {
      if (p.name.empty() || p.version.empty()) std::abort();
      if (p.installed() && !r->installed(p.name)) std::abort();
    }
  }
  return 0;
}
