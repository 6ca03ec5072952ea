// Cross-checks zimbra.toml against Zimbra's own attribute table (tests/data/zimbra/attrs.tsv,
// vendored from zimbra-attrs.xml of 10.1.3): every cited attribute exists and its default
// matches the catalogued port, save for the documented cases the installer changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/ports.hpp"

namespace mw {
namespace {

struct Attr {
  std::string global_config_value;
};

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, '\t')) cells.push_back(cell);
  if (!line.empty() && line.back() == '\t') cells.emplace_back();
  return cells;
}

std::map<std::string, Attr> load_attrs() {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/tests/data/zimbra/attrs.tsv");
  std::map<std::string, Attr> attrs;
  std::string line;
  if (!std::getline(in, line)) {
    ADD_FAILURE() << "tests/data/zimbra/attrs.tsv is missing or empty";
    return attrs;
  }
  const auto header = split_tabs(line);
  const auto name_col = std::find(header.begin(), header.end(), "name") - header.begin();
  const auto gcv_col =
      std::find(header.begin(), header.end(), "globalConfigValue") - header.begin();
  EXPECT_EQ(name_col, 0);
  EXPECT_EQ(gcv_col, 7) << "column 8 is globalConfigValue";
  while (std::getline(in, line)) {
    const auto cells = split_tabs(line);
    if (cells.size() <= static_cast<std::size_t>(gcv_col)) continue;
    attrs[cells[name_col]] = Attr{cells[gcv_col]};
  }
  return attrs;
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The `attribute` of a fact names a Zimbra attribute when its first word looks like one;
// other values name localconfig keys or configuration files.
std::string zimbra_attribute(const std::string& attribute) {
  const std::string first = attribute.substr(0, attribute.find(' '));
  const std::string_view prefix = "zimbra";
  const bool looks_like_one =
      first.size() > prefix.size() && first.compare(0, prefix.size(), prefix) == 0 &&
      std::all_of(first.begin(), first.end(), [](unsigned char c) { return std::isalnum(c); });
  return looks_like_one ? first : std::string();
}

// Ports whose attribute default in attrs.xml is not the port because zmproxyconfig rewrites it
// when the proxy is enabled (mailboxd moves to 8080/8443, nginx takes 80/443).
struct InstallerSet {
  std::uint16_t port;
  const char* attribute;
  const char* default_value;
};
constexpr InstallerSet kInstallerSet[] = {
    {80, "zimbraMailProxyPort", "0"},
    {443, "zimbraMailSSLProxyPort", "0"},
    {8080, "zimbraMailPort", "80"},
    {8443, "zimbraMailSSLPort", "0"},
};

TEST(catalog_zimbra_attrs, VendoredTableIsComplete) {
  const auto attrs = load_attrs();
  EXPECT_EQ(attrs.size(), 1893u) << "README: all 1893 attributes of zimbra-attrs.xml";
  EXPECT_EQ(attrs.at("zimbraAdminPort").global_config_value, "7071");
}

TEST(catalog_zimbra_attrs, CitedAttributesExistAndMatchTheirDefaults) {
  const auto attrs = load_attrs();
  auto cat = load_product_catalog("zimbra");
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  std::set<std::uint16_t> installer_set_seen;
  int checked = 0;
  for (const PortFact& f : cat->ports) {
    const std::string attr = zimbra_attribute(f.attribute);
    if (attr.empty()) continue;
    SCOPED_TRACE(f.location + " " + attr);
    const auto it = attrs.find(attr);
    ASSERT_NE(it, attrs.end()) << attr << " is not in attrs.tsv";
    EXPECT_NE(f.source.find(attr), std::string::npos) << "the source cites the attribute";
    const std::string& gcv = it->second.global_config_value;
    if (!is_number(gcv)) continue;
    ++checked;
    if (gcv == std::to_string(f.port)) continue;
    const auto* known = std::find_if(
        std::begin(kInstallerSet), std::end(kInstallerSet),
        [&](const InstallerSet& s) { return s.port == f.port && attr == s.attribute; });
    ASSERT_NE(known, std::end(kInstallerSet))
        << attr << " defaults to " << gcv << ", the catalog says " << f.port;
    EXPECT_EQ(gcv, known->default_value);
    installer_set_seen.insert(f.port);
  }
  EXPECT_EQ(installer_set_seen.size(), std::size(kInstallerSet)) << "stale exception";
  EXPECT_GE(checked, 25) << "most Zimbra ports are moved by an attribute";
}

TEST(catalog_zimbra_attrs, PortsSaidToHaveNoAttributeHaveNone) {
  const auto attrs = load_attrs();
  auto cat = load_product_catalog("zimbra");
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  int claims = 0;
  for (const PortFact& f : cat->ports) {
    std::string lower = f.source;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("not in attrs.tsv") == std::string::npos) continue;
    ++claims;
    SCOPED_TRACE(f.location);
    EXPECT_TRUE(zimbra_attribute(f.attribute).empty());
    for (const auto& [name, attr] : attrs) {
      // Only port settings count: a batch size of 25 does not move port 25.
      if (name.find("Port") == std::string::npos) continue;
      EXPECT_NE(attr.global_config_value, std::to_string(f.port))
          << name << " defaults to " << f.port << ", yet the catalog says no attribute does";
    }
  }
  EXPECT_GE(claims, 5);
}

}  // namespace
}  // namespace mw
