// libFuzzer target for the DNSBL catalog parser (--lists takes any file): no crash, and a
// catalog that loads is consistent (lists present, ids unique, code ranges in 127.0.0.0/8).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

#include "dnsbl/catalog.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "dnsbl_catalog invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > mw::dnsbl::kMaxDnsblCatalogBytes) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = mw::dnsbl::parse_dnsbl_catalog(text, "fuzz.toml");
  if (!c) {
    if (c.error().message.rfind("fuzz.toml:", 0) != 0) fail("error without its position");
    return 0;
  }
  if (c->lists.empty()) fail("catalog without lists");
  std::set<std::string> ids;
  for (const auto& l : c->lists) {
    if (!ids.insert(l.id).second) fail("duplicate id");
    if (!l.ipv4 && !l.ipv6) fail("list without a family");
    if (l.codes.empty()) fail("list without codes");
    for (const auto& rc : l.codes)
      if (rc.first > rc.last || (rc.first >> 24) != 127 || (rc.last >> 24) != 127)
        fail("code range outside 127.0.0.0/8");
  }
  return 0;
}
