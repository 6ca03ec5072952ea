// Fuzz target: the zmprov parsers (listings and name lists copied from audited servers).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/zmprov.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = mw::audit::parse_zmprov(text, "fuzz.txt");
  if (!r.ok()) {
    if (r.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
  } else {
    // Every value names lines inside the input, in order.
    for (const auto& e : r->entries) {
      for (const auto& [name, values] : e.attrs) {
        if (name.empty()) std::abort();
        for (const auto& v : values) {
          if (v.line == 0 || v.last_line < v.line) std::abort();
        }
      }
    }
  }
  // The classifier agrees with the line count the parser uses.
  (void)mw::audit::classify_zmprov_lines(text);
  auto l = mw::audit::parse_zmprov_list(text, "fuzz.txt");
  if (!l.ok() && l.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
  return 0;
}
