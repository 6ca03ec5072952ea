// The control catalog: the schema's errors name file:line:column, and the shipped catalog
// loads, uses only existing custom checks, and names Zimbra attributes that exist.
#include "audit/controls.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/attrs.hpp"
#include "audit/custom_checks.hpp"

namespace mw::audit {
namespace {

using ::testing::HasSubstr;

constexpr const char* kOne = R"([[control]]
id = "accounts.password.min-length"
title = "Passwords have at least 10 characters"
severity = "high"
guides = ["Zimbra wiki"]
rationale = "Short passwords fall."
check = { kind = "attr", level = "cos", name = "zimbraPasswordMinLength", op = "ge", value = 10 }
remediation = "zmprov mc {object} zimbraPasswordMinLength {value}"
fix_value = "12"
)";

TEST(Controls, ParsesAControl) {
  auto c = parse_controls(kOne, "one.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->size(), 1u);
  const Control& x = c->front();
  EXPECT_EQ(x.id, "accounts.password.min-length");
  EXPECT_EQ(x.severity, Severity::high);
  EXPECT_EQ(x.check.kind, CheckKind::attr);
  EXPECT_EQ(x.check.level, Level::cos);
  EXPECT_EQ(x.check.op, Op::ge);
  EXPECT_EQ(x.check.expected, "10");
  EXPECT_EQ(x.origin, "one.toml:1");
}

struct BadCase {
  std::string from, to, message;
};

TEST(Controls, SchemaErrorsNameTheFieldAndPosition) {
  const BadCase cases[] = {
      {"severity = \"high\"", "severity = \"urgent\"",
       "one.toml:4:12: control[0].severity: 'urgent'"},
      {"op = \"ge\"", "op = \"gte\"", "control[0].check.op: 'gte'"},
      {"level = \"cos\"", "level = \"user\"", "control[0].check.level: 'user'"},
      {"value = 10 }", "value = \"ten\" }", "control[0].check.value: expected an integer"},
      {"guides = [\"Zimbra wiki\"]", "guides = []", "control[0].guides"},
      {"id = \"accounts.password.min-length\"", "id = \"Accounts MinLength\"", "control[0].id"},
      {"fix_value = \"12\"", "fix_value = \"12\"\nurl = \"x\"", "control[0].url: unknown key"},
      {"remediation = \"zmprov mc {object} zimbraPasswordMinLength {value}\"", "",
       "control[0].remediation: missing"},
      {"title = \"Passwords", "title = \"Passwords\n", "one.toml:3"},
  };
  for (const auto& c : cases) {
    std::string text = kOne;
    auto at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    auto r = parse_controls(text, "one.toml");
    ASSERT_FALSE(r.ok()) << c.to;
    EXPECT_THAT(r.error().message, HasSubstr(c.message)) << c.to;
  }
}

TEST(Controls, ScopeIsZimbraUnlessSaid) {
  auto plain = parse_controls(kOne, "one.toml");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->front().scope, Scope::zimbra);
  EXPECT_EQ(scope_name(Scope::zimbra), "zimbra");
  EXPECT_EQ(scope_name(Scope::exchange), "exchange");
  auto with_scope = [](const std::string& line) {
    std::string text = kOne;
    const std::string id = "id = \"accounts.password.min-length\"\n";
    text.insert(text.find(id) + id.size(), line + "\n");
    return parse_controls(text, "one.toml");
  };
  auto exchange = with_scope("scope = \"exchange\"");
  ASSERT_TRUE(exchange.ok()) << exchange.error().message;
  EXPECT_EQ(exchange->front().scope, Scope::exchange);
  auto zimbra = with_scope("scope = \"zimbra\"");
  ASSERT_TRUE(zimbra.ok());
  EXPECT_EQ(zimbra->front().scope, Scope::zimbra);
  const BadCase bad[] = {
      {"", "scope = \"windows\"",
       "one.toml:3:9: control[0].scope: 'windows' (expected one of zimbra, exchange)"},
      {"", "scope = \"Exchange\"", "one.toml:3:9: control[0].scope: 'Exchange'"},
      {"", "scope = \"\"", "one.toml:3:9: control[0].scope: must not be empty"},
      {"", "scope = 2", "one.toml:3:9: control[0].scope: expected a string"},
      {"", "scope = [\"exchange\"]", "one.toml:3:9: control[0].scope: expected a string"},
  };
  for (const auto& c : bad) {
    auto r = with_scope(c.to);
    ASSERT_FALSE(r.ok()) << c.to;
    EXPECT_THAT(r.error().message, HasSubstr(c.message)) << c.to;
  }
}

TEST(Controls, IdsAreUnique) {
  auto r = parse_controls(std::string(kOne) + kOne, "two.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("already defined at line 1"));
}

TEST(Controls, TheShippedCatalogIsConsistent) {
  auto controls = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
  ASSERT_TRUE(controls.ok()) << controls.error().message;
  EXPECT_GE(controls->size(), 30u);
  auto attrs = load_attrs_tsv(std::string(MW_SOURCE_DIR) + "/catalog/zimbra/attrs.tsv");
  ASSERT_TRUE(attrs.ok()) << attrs.error().message;
  auto keys = load_localconfig_keys_tsv(std::string(MW_SOURCE_DIR) +
                                        "/catalog/zimbra/localconfig-keys.tsv");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  auto custom = builtin_checks();
  for (const auto& c : *controls) {
    SCOPED_TRACE(c.origin + " " + c.id);
    // The Exchange controls read IIS's configuration, which only C++ checks do; the others
    // read a Zimbra snapshot.
    const bool exchange = c.id.rfind("exchange.", 0) == 0;
    EXPECT_EQ(c.scope, exchange ? Scope::exchange : Scope::zimbra);
    if (exchange) {
      EXPECT_EQ(c.check.kind, CheckKind::custom);
    }
    switch (c.check.kind) {
      case CheckKind::custom:
        EXPECT_TRUE(custom.count(c.check.name)) << "no custom check " << c.check.name;
        break;
      case CheckKind::attr: {
        // The guides name attributes that do not exist; the catalog must not.
        const AttrInfo* a = attrs->find(c.check.name);
        ASSERT_NE(a, nullptr) << c.check.name << " is not in zimbra-attrs.xml";
        EXPECT_EQ(a->name, c.check.name) << "spelling differs from zimbra-attrs.xml";
        EXPECT_FALSE(a->deprecated()) << c.check.name << " is deprecated";
        // The value to set must be one the attribute accepts.
        if (!c.fix_value.empty()) {
          auto ok = check_attr_value(*a, c.fix_value);
          EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message);
        }
        break;
      }
      case CheckKind::localconfig:
        EXPECT_NE(keys->find(c.check.name), nullptr) << c.check.name << " is not in LC.java";
        break;
      default:
        break;
    }
    // A remediation with {value} needs a value.
    if (c.remediation.find("{value}") != std::string::npos) {
      EXPECT_FALSE(c.fix_value.empty());
    }
    if (c.check.kind == CheckKind::attr && c.check.level != Level::global) {
      EXPECT_NE(c.remediation.find("{object}"), std::string::npos)
          << "a per-object check must name the object in its fix";
    }
  }
}

}  // namespace
}  // namespace mw::audit
