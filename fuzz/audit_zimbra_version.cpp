// Fuzz target: the zmcontrol -v parser, the Zimbra version parser and the fix rule.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "audit/zimbra_version.hpp"

namespace {

void check_version_invariants(const mw::audit::ZimbraVersion& v) {
  using mw::audit::parse_zimbra_version;
  using mw::audit::version_name;
  // The canonical name parses back to the same version.
  auto again = parse_zimbra_version(version_name(v));
  if (!again.ok() || *again != v) std::abort();
  // The fix rule: a release is never affected by a CVE whose fix for its line it has.
  const std::vector<mw::audit::ZimbraVersion> fixed = {v};
  if (mw::audit::check_fix(v, fixed, std::nullopt).applies) std::abort();
  if (v.patch > 0) {
    auto earlier = v;
    earlier.patch -= 1;
    earlier.update = 0;
    if (!mw::audit::check_fix(earlier, fixed, std::nullopt).applies) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = mw::audit::parse_zmcontrol_version(text, "fuzz.txt");
  if (!r.ok()) {
    if (r.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
  } else {
    if (r->edition != "" && r->edition != "network" && r->edition != "foss") std::abort();
    if (mw::audit::line_of(r->version) != mw::audit::line_of(r->base)) std::abort();
    if (r->version < r->base && r->base.major >= 10) std::abort();
    if (r->line == 0 || r->raw.rfind("Release", 0) != 0) std::abort();
    check_version_invariants(r->version);
  }
  // The same bytes as a table entry's version.
  if (size <= 64) {
    auto v = mw::audit::parse_zimbra_version(text);
    if (v.ok()) check_version_invariants(*v);
  }
  return 0;
}
