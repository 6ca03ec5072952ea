// Fuzz target: the strict `ipset save` reader of the iptables ban backend (the kernel's sets
// may hold anything another tool put there). Errors must name the input first; what parses
// must keep each element in its set's family.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ban/ban.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sets = mw::ban::parse_ipset_save(text, "ipset save");
  if (!sets.ok()) {
    if (sets.error().message.rfind("ipset save:", 0) != 0) std::abort();
    return 0;
  }
  for (const auto& s : *sets)
    for (const auto& m : s.members)
      if (m.prefix.addr.family != s.family || m.comment.size() > 255) std::abort();
  (void)mw::ban::iptables_fix_script(mw::Family::v6, text);
  return 0;
}
