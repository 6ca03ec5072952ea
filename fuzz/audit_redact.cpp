// Fuzz target: redaction keeps the line count, is idempotent, and leaves no line of a secret
// zmprov value in place.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/redact.hpp"
#include "audit/zmprov.hpp"

namespace {
std::size_t lines(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const mw::audit::RedactionRules rules;
  for (const char* file :
       {"zmprov-gs.txt", "zmlocalconfig-s.txt", "postconf-n.txt", "postconf-M.txt", "sshd-T.txt"}) {
    const auto r = mw::audit::redact_snapshot_file(file, text, rules);
    if (lines(r.text) != lines(text)) std::abort();
    if (mw::audit::redact_snapshot_file(file, r.text, rules).text != r.text) std::abort();
  }
  const auto z = mw::audit::redact_zmprov(text, rules);
  const auto before = mw::audit::classify_zmprov_lines(text);
  const auto after = mw::audit::classify_zmprov_lines(z.text);
  if (before.size() != after.size()) std::abort();
  return 0;
}
