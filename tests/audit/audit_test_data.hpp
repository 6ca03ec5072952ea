// Test helpers: reading the bundled example snapshots and test data.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "audit/attrs.hpp"
#include "audit/redact.hpp"

namespace mw::audit::test {

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string snapshot_file(const std::string& snapshot, const std::string& file) {
  return read_source_file("examples/snapshots/" + snapshot + "/" + file);
}

// The shipped attribute and localconfig-key tables, loaded once per test binary.
struct Tables {
  AttrTable attrs;
  LocalconfigKeyTable keys;
  RedactionRules rules() const { return RedactionRules{&attrs, &keys}; }
};
inline const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    auto a = load_attrs_tsv(std::string(MW_SOURCE_DIR) + "/catalog/zimbra/attrs.tsv");
    auto k = load_localconfig_keys_tsv(std::string(MW_SOURCE_DIR) +
                                       "/catalog/zimbra/localconfig-keys.tsv");
    EXPECT_TRUE(a.ok() && k.ok());
    if (a.ok()) t.attrs = std::move(*a);
    if (k.ok()) t.keys = std::move(*k);
    return t;
  }();
  return t;
}

}  // namespace mw::audit::test
