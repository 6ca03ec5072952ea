// Fuzz target: the site-policy parser (TOML from an administrator, possibly hand-mangled).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/policy.hpp"
#include "support/test_catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mw::PortCatalog catalog = mw::test::small_zimbra_catalog();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = mw::parse_policy(text, "fuzz.toml", catalog);
  if (policy.ok()) {
    // Whatever is accepted must be usable: every node resolves.
    for (const auto& name : mw::node_names(*policy)) {
      if (!mw::policy_for_node(*policy, name).ok()) std::abort();
    }
  } else if (policy.error().message.rfind("fuzz.toml", 0) != 0) {
    std::abort();  // every error names the input first
  }
  return 0;
}
