// Fuzz target: `zmmailbox getFilterRules` output: rules a user (or an attacker) wrote. Parsing must
// end in a value or an error naming the position, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "incident/account.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = mw::incident::parse_filter_rules(text, "fuzz");
  volatile std::size_t n = r ? r->size() : r.error().message.size();
  (void)n;
  return 0;
}
