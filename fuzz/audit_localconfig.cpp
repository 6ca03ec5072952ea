// Fuzz target: the zmlocalconfig -s parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/localconfig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = mw::audit::parse_localconfig(text, "fuzz.txt");
  if (!r.ok()) {
    if (r.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
    return 0;
  }
  for (const auto& e : r->entries) {
    if (e.key.empty() || r->find(e.key) != &e) std::abort();  // keys are unique
  }
  return 0;
}
