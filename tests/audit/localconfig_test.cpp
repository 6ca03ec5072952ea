// zmlocalconfig -s parser: the example snapshots, empty values, unexpanded references, errors.
#include "audit/localconfig.hpp"

#include <gtest/gtest.h>

#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

TEST(Localconfig, DefaultSnapshot) {
  auto r = parse_localconfig(test::snapshot_file("zimbra-default", "zmlocalconfig-s.txt"), "lc");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries.size(), 705u);
  ASSERT_NE(r->find("alias_login_enabled"), nullptr);
  EXPECT_EQ(r->find("alias_login_enabled")->value, "true");
  EXPECT_EQ(r->find("alias_login_enabled")->line, 5u);
  EXPECT_EQ(r->find("antispam_mysql_password")->value, "");  // "key = " with trailing space
  EXPECT_EQ(r->find("zimbra_same_site_cookie")->value, "");
  EXPECT_EQ(r->find("zimbra_log_directory")->value, "${zimbra_home}/log");
  EXPECT_EQ(r->find("ldap_root_password")->value, "FAKE-SECRET-0002");
  EXPECT_EQ(r->find("no_such_key"), nullptr);
  auto h = parse_localconfig(test::snapshot_file("zimbra-hardened", "zmlocalconfig-s.txt"), "lc");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->find("zimbra_same_site_cookie")->value, "Strict");
  EXPECT_EQ(h->find("alias_login_enabled")->value, "false");
}

TEST(Localconfig, EdgeCasesAndErrors) {
  auto r = parse_localconfig("a = x = y\nb =\nc = \n", "lc");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->find("a")->value, "x = y");
  EXPECT_EQ(r->find("b")->value, "");
  EXPECT_EQ(r->find("c")->value, "");
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {Case{"novalue\n", "lc:1:1: expected 'key = value', got 'novalue'"},
                        Case{"a = 1\nb c = 2\n", "lc:2:2: invalid character in key 'b c'"},
                        Case{"a = 1\na = 2\n", "lc:2:1: key 'a' given twice (first on line 1)"},
                        Case{"a =x\n", "lc:1:4: expected a space after '='"}}) {
    auto e = parse_localconfig(c.text, "lc");
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.error().message.rfind(c.error, 0), 0u) << e.error().message;
  }
}

}  // namespace
}  // namespace mw::audit
