// Fuzz target: the ban state file (a crash may truncate it, an operator may hand-edit it) and
// the `nft -j list set` reader of the ban sets. Whatever parses must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ban/ban.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto st = mw::ban::parse_state(text, "bans.json");
  if (st.ok()) {
    auto again = mw::ban::parse_state(mw::ban::serialize_state(*st), "bans.json");
    if (!again.ok() || again->bans.size() != st->bans.size()) std::abort();
  } else if (st.error().message.rfind("bans.json", 0) != 0) {
    std::abort();  // every error names the file first
  }
  (void)mw::ban::parse_nft_set_json(text);
  return 0;
}
