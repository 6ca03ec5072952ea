// libFuzzer target for the `nft -j list ruleset` reader: no crash or leak on any input, every
// error positioned in the input, and whatever parses is a consistent model.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "firewall/nft_json_parser.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "nft_json invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = mw::fw::parse_nft_json(text, "fuzz.json");
  if (!parsed.ok()) {
    // "fuzz.json:LINE:COLUMN: what" (or the size limit, which has no position).
    const std::string& m = parsed.error().message;
    if (m.rfind("fuzz.json:", 0) != 0) fail("error without the source", m);
    return 0;
  }
  for (const auto& table : *parsed) {
    if (table.origin != mw::fw::TableOrigin::nft_json) fail("origin", table.name);
    std::set<std::string> names;
    for (const auto& chain : table.chains) {
      if (!names.insert(chain.name).second) fail("duplicate chain", chain.name);
    }
    for (const auto& chain : table.chains) {
      for (const auto& rule : chain.rules) {
        const bool jumps =
            rule.verdict == mw::fw::Verdict::jump || rule.verdict == mw::fw::Verdict::goto_;
        if (jumps && names.count(rule.target) == 0) fail("jump to a missing chain", rule.target);
        if (rule.origin.rfind("fuzz.json: table ", 0) != 0) fail("rule origin", rule.origin);
        if (rule.match.ct_state && (*rule.match.ct_state & ~0x1f) != 0)
          fail("ct state bits", rule.text);
      }
    }
  }
  return 0;
}
