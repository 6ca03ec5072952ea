// Fuzz target: the ss -Htlnup parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/ss.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = mw::audit::parse_ss(text, "fuzz.txt");
  if (!r.ok()) {
    if (r.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
    return 0;
  }
  for (const auto& s : *r) {
    if (!s.local.port) std::abort();  // a listening socket always has a port
    (void)s.local.loopback();
    (void)s.local.any_address();
  }
  return 0;
}
