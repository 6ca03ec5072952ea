// attrs.tsv / localconfig-keys.tsv tables and the value syntaxes, checked against every default
// Zimbra ships.
#include "audit/attrs.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <ctime>

#include "audit/redact.hpp"
#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using namespace std::chrono_literals;

const AttrTable& attrs() {
  static const AttrTable t = [] {
    auto r = load_attrs_tsv(std::string(MW_SOURCE_DIR) + "/catalog/zimbra/attrs.tsv");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(*r) : AttrTable{};
  }();
  return t;
}

TEST(Attrs, LoadsFastAndCompletely) {
  const auto text = test::read_source_file("catalog/zimbra/attrs.tsv");
  const std::clock_t c0 = std::clock();
  const auto t0 = std::chrono::steady_clock::now();
  constexpr int kRuns = 10;
  for (int i = 0; i < kRuns; ++i) {
    auto r = parse_attrs_tsv(text, "attrs.tsv");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->size(), 1893u);
  }
  const double cpu_ms = 1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC / kRuns;
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
      kRuns;
  std::printf("attrs.tsv parse: %.2f ms CPU, %.2f ms wall per load (%zu bytes)\n", cpu_ms, wall_ms,
              text.size());
  EXPECT_LT(cpu_ms, 250.0);  // generous for sanitizer builds; the audit budget is 1 s in all
}

TEST(Attrs, KnownAttributes) {
  const auto& t = attrs();
  const AttrInfo* len = t.find("zimbraPasswordMinLength");
  ASSERT_NE(len, nullptr);
  EXPECT_EQ(len->type, "integer");
  EXPECT_EQ(len->default_cos_value, std::vector<std::string>{"6"});
  EXPECT_TRUE(len->may_appear_on(kHolderCos));
  EXPECT_TRUE(len->may_appear_on(kHolderAccount));
  EXPECT_FALSE(len->may_appear_on(kHolderGlobalConfig));
  EXPECT_TRUE(len->account_inherited);
  const AttrInfo* crawl = t.find("zimbraMailKeepOutWebCrawlers");
  ASSERT_NE(crawl, nullptr);
  EXPECT_TRUE(crawl->server_inherited);
  EXPECT_EQ(crawl->global_config_value, std::vector<std::string>{"FALSE"});
  const AttrInfo* ext = t.find("zimbraMtaCommonBlockedExtension");
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(ext->cardinality, Cardinality::multi);
  EXPECT_EQ(ext->global_config_value.size(), 27u);
  const AttrInfo* tls = t.find("zimbraMtaTlsSecurityLevel");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->enum_values, (std::vector<std::string>{"may", "none"}));
  EXPECT_FALSE(check_attr_value(*tls, "encrypt").ok());
  EXPECT_TRUE(check_attr_value(*tls, "may").ok());
  const AttrInfo* proto = t.find("zimbraMtaSmtpdTlsProtocols");
  ASSERT_NE(proto, nullptr);
  EXPECT_EQ(proto->cardinality, Cardinality::single);
  EXPECT_EQ(proto->global_config_value, std::vector<std::string>{"!SSLv2, !SSLv3"});
  EXPECT_EQ(t.find("zimbraPasswordMinLength"), t.find("ZIMBRAPASSWORDMINLENGTH"));
  EXPECT_EQ(t.find("zimbraMtaSmtpdClientMessageRateLimit"), nullptr);  // a guide's invention
  EXPECT_EQ(t.find("zimbraTwoFactorAuthAvailable"), nullptr);
  EXPECT_EQ(t.find("zimbraLastLogonTimestampFrequency")->global_config_value,
            std::vector<std::string>{"7d"});
  EXPECT_EQ(t.find("zimbraAuthFallbackToLocal")->holders,
            static_cast<std::uint32_t>(kHolderDomain));
}

// Every default Zimbra ships is valid for its own attribute: exercises the value syntaxes on
// 1893 real rows. One exception, a fact of attrs.xml: zimbraMtaSmtpSaslSecurityOptions is a
// multi-valued enum whose globalConfigValue is the single value "noplaintext,noanonymous"
// (zmconfigd hands it to Postfix as is), which its own enum does not list.
TEST(Attrs, EveryShippedDefaultIsValid) {
  std::size_t checked = 0;
  std::vector<std::string> invalid;
  for (const auto& a : attrs().all()) {
    for (const auto* list : {&a.global_config_value, &a.default_cos_value}) {
      for (const auto& v : *list) {
        if (const Status st = check_attr_value(a, v); !st) invalid.push_back(st.error().message);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000u);
  EXPECT_EQ(invalid, (std::vector<std::string>{
                         "zimbraMtaSmtpSaslSecurityOptions: 'noplaintext,noanonymous' is not one "
                         "of its values"}));
}

TEST(Attrs, Durations) {
  struct Case {
    const char* text;
    std::chrono::milliseconds value;
  };
  for (const Case& c :
       {Case{"0", 0ms}, Case{"30", 30s}, Case{"30s", 30s}, Case{"500ms", 500ms}, Case{"30m", 30min},
        Case{"1h", 1h}, Case{"2d", 48h}, Case{"120000ms", 120s}}) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
    EXPECT_EQ(*d, c.value) << c.text;
  }
  for (const char* bad : {"", "h", "1H", "1.5h", "-1h", "1w", "1 h", " 1h", "1hm",
                          "99999999999999999999", "106751991167301d"}) {
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  }
  EXPECT_TRUE(parse_duration("106751991167d").ok());
}

TEST(Attrs, BooleansAndIntegersWithBounds) {
  EXPECT_TRUE(*parse_zimbra_bool("TRUE"));
  EXPECT_FALSE(*parse_zimbra_bool("FALSE"));
  EXPECT_TRUE(*parse_zimbra_bool("true"));
  EXPECT_FALSE(parse_zimbra_bool("yes").ok());
  EXPECT_FALSE(parse_zimbra_bool("").ok());
  const AttrInfo* pct = attrs().find("zimbraQuotaWarnPercent");  // min 0, max 100
  ASSERT_NE(pct, nullptr);
  EXPECT_EQ(*parse_zimbra_integer("0", pct), 0);
  EXPECT_EQ(*parse_zimbra_integer("100", pct), 100);
  EXPECT_FALSE(parse_zimbra_integer("-1", pct).ok());
  EXPECT_FALSE(parse_zimbra_integer("101", pct).ok());
  EXPECT_EQ(parse_zimbra_integer("101", pct).error().message,
            "zimbraQuotaWarnPercent: 101 is above the maximum 100");
  EXPECT_FALSE(check_attr_value(*pct, "101").ok());
  EXPECT_FALSE(parse_zimbra_integer("5x").ok());
  EXPECT_FALSE(parse_zimbra_integer("").ok());
  EXPECT_FALSE(parse_zimbra_integer("-").ok());
  EXPECT_FALSE(parse_zimbra_integer("+5").ok());
  EXPECT_EQ(*parse_zimbra_integer("-1"), -1);
  const AttrInfo* port = attrs().find("zimbraAdminPort");
  ASSERT_NE(port, nullptr);
  EXPECT_TRUE(check_attr_value(*port, "7071").ok());
  EXPECT_FALSE(check_attr_value(*port, "70710").ok());
  const AttrInfo* lifetime = attrs().find("zimbraAuthTokenLifetime");
  ASSERT_NE(lifetime, nullptr);
  EXPECT_EQ(lifetime->type, "duration");
  EXPECT_TRUE(check_attr_value(*lifetime, "12h").ok());
  EXPECT_FALSE(check_attr_value(*lifetime, "12 h").ok());
}

RC_GTEST_PROP(AttrsProps, DurationRoundTrip, ()) {
  const auto n = *rc::gen::inRange<std::int64_t>(0, 1'000'000'000);
  const auto unit = *rc::gen::element<std::string>("", "s", "ms", "m", "h", "d");
  auto d = parse_duration(std::to_string(n) + unit);
  RC_ASSERT(d.ok());
  const std::int64_t f = unit == "ms"  ? 1
                         : unit == "m" ? 60'000
                         : unit == "h" ? 3'600'000
                         : unit == "d" ? 86'400'000
                                       : 1000;
  RC_ASSERT(d->count() == n * f);
}

TEST(Attrs, Errors) {
  auto a = parse_attrs_tsv("name\tid\n", "a.tsv");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, "a.tsv:1:1: header lacks the column type");
  const std::string header =
      "name\tid\ttype\tcardinality\trequiredIn\toptionalIn\tflags\tglobalConfigValue\t"
      "defaultCOSValue\tsince\tdeprecatedSince\tdescription\tenumOrRegexValue\tmin\tmax\t"
      "immutable\trequiresRestart\n";
  auto b = parse_attrs_tsv(header + "x\t1\tstring\n", "a.tsv");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "a.tsv:2:1: 3 cells where the header has 17");
  const std::string row = "x\t1\tstring\tsingle\t\tcos\t\t\t\t\t\ta \\\\ b\\nc\t\t\t\t\t\n";
  auto c = parse_attrs_tsv(header + row + row, "a.tsv");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "a.tsv:3:1: attribute x listed twice");
  auto d = parse_attrs_tsv(header + row, "a.tsv");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->find("x")->description, "a \\ b\nc");
}

TEST(LocalconfigKeys, Table) {
  auto r = load_localconfig_keys_tsv(std::string(MW_SOURCE_DIR) +
                                     "/catalog/zimbra/localconfig-keys.tsv");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 709u);
  const auto* root = r->find("ldap_root_password");
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->secret);
  EXPECT_TRUE(root->masked_without_s);
  EXPECT_EQ(root->default_value, "zimbra");
  EXPECT_EQ(r->find("zimbra_same_site_cookie")->default_value, "");
  EXPECT_EQ(r->find("alias_login_enabled")->default_value, "true");
  EXPECT_FALSE(r->find("alias_login_enabled")->secret);
  std::size_t secrets = 0;
  for (const auto& k : r->all()) secrets += k.secret ? 1 : 0;
  EXPECT_EQ(secrets, 18u);
}

}  // namespace
}  // namespace mw::audit
