// Fuzz target: the --baseline reader (an earlier JSON report, which may be damaged or not ours).
// An error must name the file; a parsed baseline must diff without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "report/baseline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto b = mw::report::parse_baseline(text, "old.json");
  if (!b.ok()) {
    if (b.error().message.rfind("old.json", 0) != 0) std::abort();
    return 0;
  }
  const std::vector<mw::audit::ControlResult> none;
  auto d = mw::report::diff_baseline(*b, none, "old.json");
  if (d.removed.size() != b->controls.size()) std::abort();
  return 0;
}
