// Fuzz target: a sieve script (zimbraMailSieveScript, zimbraAdminSieveScript*, Dovecot's sieve
// dir). Parsing must end in a value or an error naming the position, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "incident/account.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = mw::incident::scan_sieve(text, "fuzz");
  std::size_t targets = 0;
  for (const auto& a : s.actions) targets += mw::incident::sieve_targets(a).size();
  volatile std::size_t n = s.actions.size() + targets + s.error.size();
  (void)n;
  return 0;
}
