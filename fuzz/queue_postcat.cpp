// Fuzz target: `postcat -e -q` output, which carries a sender's envelope and, after it, text a
// sender controls. Parsing must end in an envelope (maybe empty), never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "queue/postcat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto e = mw::queue::parse_postcat(text);
  volatile std::size_t n = e.sasl_username.size() + e.sender.size() + e.queue_id.size();
  (void)n;
  return 0;
}
