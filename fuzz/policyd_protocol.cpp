// Fuzz target: policy requests as any client could send them to policyd's socket. Framing
// over every split and parsing must end in a request or an error, never a crash or a read past
// the buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policyd/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  mw::policyd::ProtocolLimits limits;
  limits.max_request_bytes = 4096;
  limits.max_attributes = 40;
  std::string_view rest = all;
  while (!rest.empty()) {
    // Feed in growing prefixes (reads of 7 bytes), as the server does.
    std::size_t scanned = 0, have = 0, end = std::string_view::npos;
    while (have < rest.size()) {
      have = std::min(rest.size(), have + 7);
      end = mw::policyd::find_request_end(rest.substr(0, have), scanned);
      if (end != std::string_view::npos) break;
    }
    if (end == std::string_view::npos) break;
    auto r = mw::policyd::parse_request(rest.substr(0, end), limits);
    if (r) {
      volatile std::size_t n = r->sender.size() + r->sasl_username.size();
      (void)n;
    }
    rest.remove_prefix(end);
  }
  return 0;
}
