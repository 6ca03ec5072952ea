// Fuzz target: the iptables-save / ip6tables-save parser (dumps copied from hosts we audit).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "firewall/iptables_save_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A first byte '4' or '6' picks the family (and is not part of the dump); otherwise the
  // parser detects it, so both paths are run.
  std::optional<mw::Family> family;
  if (!text.empty() && (text[0] == '4' || text[0] == '6')) {
    family = text[0] == '4' ? mw::Family::v4 : mw::Family::v6;
    text.remove_prefix(1);
  }
  auto r = mw::fw::parse_iptables_save(text, "fuzz.txt", family);
  if (!r.ok()) {
    if (r.error().message.rfind("fuzz.txt", 0) != 0) std::abort();  // errors name the input
    return 0;
  }
  // What is accepted is consistent: jumps name chains of their table, redirects carry at most
  // one port, base chains only for built-in names.
  for (const auto& t : *r) {
    for (const auto& c : t.chains) {
      for (const auto& rule : c.rules) {
        if (rule.verdict == mw::fw::Verdict::jump || rule.verdict == mw::fw::Verdict::goto_) {
          const mw::fw::Chain* to = t.find(rule.target);
          if (to == nullptr || to->base) std::abort();
        }
        if (rule.to_port && rule.verdict != mw::fw::Verdict::redirect) std::abort();
        if (rule.origin.rfind("fuzz.txt:", 0) != 0) std::abort();
      }
    }
  }
  return 0;
}
