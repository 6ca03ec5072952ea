// The DNSBL catalog: the shipped file loads and says what the guide says; every schema error
// names file:line:column.
#include "dnsbl/catalog.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mw::dnsbl {
namespace {

TEST(DnsblCatalog, ShippedCatalogLoads) {
  auto c = load_dnsbl_catalog(std::string(MW_SOURCE_DIR) + "/catalog/dnsbl.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (const char* id : {"spamhaus-zen", "spamcop", "barracuda", "uceprotect-1", "uceprotect-2",
                         "uceprotect-3", "lashback", "cbl", "sorbs"})
    EXPECT_NE(c->find(id), nullptr) << id;
  const auto* zen = c->find("spamhaus-zen");
  ASSERT_NE(zen, nullptr);
  EXPECT_EQ(zen->zone, "zen.spamhaus.org");
  EXPECT_TRUE(zen->ipv6);
  ASSERT_TRUE(zen->test_ipv6.has_value());
  EXPECT_EQ(to_string(*zen->test_ipv6), "::ffff:127.0.0.2");
  for (std::uint32_t refusal : {0x7ffffffcu, 0x7ffffffeu, 0x7fffffffu}) {
    const auto* rc = zen->code_for(refusal);
    ASSERT_NE(rc, nullptr);
    EXPECT_EQ(rc->cls, CodeClass::refused);
  }
  EXPECT_EQ(zen->code_for(0x7f00000a)->cls, CodeClass::listed);
  EXPECT_EQ(c->find("sorbs")->status, ListStatus::closed);
  EXPECT_FALSE(c->find("sorbs")->enabled_by_default);
  EXPECT_EQ(c->find("cbl")->status, ListStatus::folded);
  EXPECT_EQ(c->find("barracuda")->policy, UsagePolicy::registration);
  for (const auto& l : c->lists) {
    EXPECT_TRUE(l.test_ipv4.has_value()) << l.id;
    EXPECT_EQ(to_string(*l.test_ipv4), "127.0.0.2") << l.id;
  }
}

const char* kGood = R"(schema = 1
[[list]]
id = "t"
name = "Test"
zone = "bl.test"
ipv4 = true
ipv6 = false
status = "active"
policy = "free"
policy_note = "n"
delist_url = "https://x/"
default = true
rate = 5
test_ipv4 = "127.0.0.2"
codes = [ { code = "127.0.0.2", class = "listed", meaning = "m" } ]
)";

std::string with(std::string_view from, std::string_view to) {
  std::string s = kGood;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
  return s;
}

TEST(DnsblCatalog, MinimalLoads) {
  auto c = parse_dnsbl_catalog(kGood, "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->lists.size(), 1u);
  EXPECT_DOUBLE_EQ(c->lists[0].rate, 5);
}

TEST(DnsblCatalog, ErrorsNamePosition) {
  struct Case {
    std::string text;
    const char* expect;  // start of the message
  } cases[] = {
      {with("schema = 1", "schema = 2"), "t.toml:1:10: schema"},
      {with("zone = \"bl.test\"", "zone = \"bl..test\""), "t.toml:5:8: list 't': zone"},
      {with("ipv6 = false", "ipv6 = \"no\""), "t.toml:7:8: list 't': 'ipv6' must be"},
      {with("status = \"active\"", "status = \"gone\""), "t.toml:8:10: list 't': 'status'"},
      {with("rate = 5", "rate = -1"), "t.toml:13:8: list 't': rate"},
      {with("test_ipv4 = \"127.0.0.2\"", "test_ipv4 = \"127.0.0.300\""), "t.toml:14:13:"},
      {with("test_ipv4 = \"127.0.0.2\"", "test_ipv4 = \"::1\""), "t.toml:14:13:"},
      {with("code = \"127.0.0.2\"", "code = \"10.0.0.2\""), "t.toml:15:"},
      {with("code = \"127.0.0.2\"", "code = \"127.0.0.9-127.0.0.3\""), "t.toml:15:"},
      {with("class = \"listed\"", "class = \"bad\""), "t.toml:15:"},
      {with("rate = 5", "rate = 5\nextra = 1"), "t.toml:14:9: [[list]]: unknown key 'extra'"},
      {with("delist_url = \"https://x/\"", "delist_url = \"x\""), "t.toml:11:14:"},
      {with("policy = \"free\"", "policy = \"closed\""), "t.toml:9:10:"},
      {with("id = \"t\"", "id = \"T T\""), "t.toml:3:6: id"},
      {"schema = 1\nlist = 3\n", "t.toml:2:8: 'list' must be"},
      {"schema = 1\n[[list]\n", "t.toml:2:"},
      {std::string(kGood) + (kGood + 11), "t.toml:16:1: list id 't' appears twice"},
  };
  for (const auto& c : cases) {
    auto r = parse_dnsbl_catalog(c.text, "t.toml");
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_EQ(r.error().message.rfind(c.expect, 0), 0u)
        << "expected '" << c.expect << "...', got: " << r.error().message;
  }
}

TEST(DnsblCatalog, OverlappingCodesRejected) {
  auto r = parse_dnsbl_catalog(
      with("codes = [ { code = \"127.0.0.2\", class = \"listed\", meaning = \"m\" } ]",
           "codes = [ { code = \"127.0.0.2-127.0.0.5\", class = \"listed\", meaning = \"m\" },\n"
           "  { code = \"127.0.0.4\", class = \"refused\", meaning = \"r\" } ]"),
      "t.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.toml:16:3: list 't': code 127.0.0.4 overlaps"),
            std::string::npos)
      << r.error().message;
}

TEST(DnsblCatalog, MissingFileNamed) {
  auto r = load_dnsbl_catalog("/nonexistent/dnsbl.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/dnsbl.toml"), std::string::npos);
}

}  // namespace
}  // namespace mw::dnsbl
