// Fuzz target: the site-policy parser (TOML from an administrator, possibly hand-mangled), and
// the plan and nft rendering of whatever it accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "firewall/nft_backend.hpp"
#include "firewall/plan.hpp"
#include "policy/policy.hpp"
#include "support/test_catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mw::PortCatalog catalog = mw::test::small_zimbra_catalog();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = mw::parse_policy(text, "fuzz.toml", catalog);
  if (policy.ok()) {
    // Whatever is accepted must be usable: every node resolves, plans and renders.
    auto names = mw::node_names(*policy);
    if (names.empty()) names.push_back("");
    for (const auto& name : names) {
      auto node = mw::policy_for_node(*policy, name);
      if (!node.ok()) std::abort();
      auto plan = mw::make_plan(*node, catalog);
      if (plan.ok() && mw::render_nft(*plan).at(0).content.find("table inet mailwarden {") ==
                           std::string::npos) {
        std::abort();
      }
    }
  } else if (policy.error().message.rfind("fuzz.toml", 0) != 0) {
    std::abort();  // every error names the input first
  }
  return 0;
}
