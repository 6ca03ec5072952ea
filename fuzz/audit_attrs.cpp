// Fuzz target: attrs.tsv and localconfig-keys.tsv loaders and the value syntaxes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/attrs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto a = mw::audit::parse_attrs_tsv(text, "fuzz.tsv");
  if (a.ok()) {
    for (const auto& attr : a->all()) {
      if (a->find(attr.name) == nullptr) std::abort();
      for (const auto& v : attr.global_config_value) (void)mw::audit::check_attr_value(attr, v);
      (void)mw::audit::check_attr_value(attr, text.substr(0, 32));
    }
  } else if (a.error().message.rfind("fuzz.tsv", 0) != 0) {
    std::abort();
  }
  auto k = mw::audit::parse_localconfig_keys_tsv(text, "fuzz.tsv");
  if (!k.ok() && k.error().message.rfind("fuzz.tsv", 0) != 0) std::abort();
  const std::string_view head = text.substr(0, 40);
  if (auto d = mw::audit::parse_duration(head); d.ok() && d->count() < 0) std::abort();
  (void)mw::audit::parse_zimbra_bool(head);
  (void)mw::audit::parse_zimbra_integer(head);
  return 0;
}
