// Bad catalogs the loader must refuse, each with the exact file:line:column and field.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "catalog/ports.hpp"

namespace mw {
namespace {

// Line numbers in the cases below count from this text: [[port]] is line 6, port = 25 line 7.
constexpr const char* kValid = R"(product = "demo"
title = "Demo product"
roles = ["mta", "mailbox"]
features = ["imap"]

[[port]]
port = 25
protocol = "tcp"
service = "smtp"
description = "mail from the Internet"
single = "public"
multi = { mta = "public" }
source = "RFC 5321"
)";

// Replaces the first occurrence of `from` in the valid catalog.
std::string edit(const std::string& from, const std::string& to) {
  std::string text = kValid;
  const auto at = text.find(from);
  if (at == std::string::npos)
    ADD_FAILURE() << "case does not apply: " << from;
  else
    text.replace(at, from.size(), to);
  return text;
}

constexpr const char* kSecondPort = R"(
[[port]]
port = 143
protocol = "tcp"
service = "imap"
description = "imap"
single = "public"
feature = "imap"
source = "RFC 9051"
)";

struct RejectCase {
  const char* name;
  std::string text;
  std::string expected;  // the whole message, position first
};

std::vector<RejectCase> reject_cases() {
  const std::string valid = kValid;
  return {
      {"unknown_port_key",
       edit("source = \"RFC 5321\"\n", "source = \"RFC 5321\"\ncolour = \"red\"\n"),
       "bad.toml:14:1: port[0].colour: unknown key (expected one of port, protocol, service, "
       "description, single, multi, feature, attribute, source, never_public)"},
      {"unknown_top_key", "prodcut = \"x\"\n" + valid,
       "bad.toml:1:1: prodcut: unknown key (expected one of product, title, roles, features, "
       "default_off, port)"},
      {"undeclared_default_off", "default_off = [\"fax\"]\n" + valid,
       "bad.toml:1:16: default_off[0]: 'fax' is not declared in features"},
      {"bad_single_class", edit("single = \"public\"", "single = \"publik\""),
       "bad.toml:11:10: port[0].single: unknown class 'publik' (expected public, admin, cluster, "
       "loopback)"},
      {"bad_multi_class", edit("{ mta = \"public\" }", "{ mta = \"internal\" }"),
       "bad.toml:12:17: port[0].multi.mta: unknown class 'internal' (expected public, admin, "
       "cluster, loopback)"},
      {"duplicate_port",
       valid + "\n[[port]]\nport = 25\nprotocol = \"tcp\"\nservice = \"smtp2\"\n"
               "description = \"again\"\nsingle = \"loopback\"\nsource = \"x\"\n",
       "bad.toml:16:8: port[1].port: tcp/25 is already defined by port[0] at line 6"},
      {"undeclared_role", edit("{ mta = \"public\" }", "{ mtaa = \"public\" }"),
       "bad.toml:12:11: port[0].multi.mtaa: role 'mtaa' is not declared in roles (mta, mailbox)"},
      {"undeclared_feature",
       edit("source = \"RFC 5321\"", "source = \"RFC 5321\"\nfeature = \"pop\""),
       "bad.toml:14:11: port[0].feature: feature 'pop' is not declared in features (imap)"},
      {"port_zero", edit("port = 25", "port = 0"),
       "bad.toml:7:8: port[0].port: 0 is outside 1-65535"},
      {"port_70000", edit("port = 25", "port = 70000"),
       "bad.toml:7:8: port[0].port: 70000 is outside 1-65535"},
      {"port_negative", edit("port = 25", "port = -25"),
       "bad.toml:7:8: port[0].port: -25 is outside 1-65535"},
      {"port_as_string", edit("port = 25", "port = \"25\""),
       "bad.toml:7:8: port[0].port: expected an integer, got a string"},
      {"missing_port", edit("port = 25\n", ""), "bad.toml:6:1: port[0].port: missing (required)"},
      {"missing_source", edit("source = \"RFC 5321\"\n", ""),
       "bad.toml:6:1: port[0].source: missing (required)"},
      {"empty_source", edit("source = \"RFC 5321\"", "source = \"\""),
       "bad.toml:13:10: port[0].source: must not be empty"},
      {"missing_service", edit("service = \"smtp\"\n", ""),
       "bad.toml:6:1: port[0].service: missing (required)"},
      {"bad_protocol", edit("protocol = \"tcp\"", "protocol = \"sctp\""),
       "bad.toml:8:12: port[0].protocol: unknown protocol 'sctp' (expected tcp, udp)"},
      {"never_public_but_public",
       edit("source = \"RFC 5321\"", "source = \"RFC 5321\"\nnever_public = true"),
       "bad.toml:11:10: port[0].single: a never_public port cannot be 'public'"},
      {"never_public_not_bool",
       edit("source = \"RFC 5321\"", "source = \"RFC 5321\"\nnever_public = \"yes\""),
       "bad.toml:14:16: port[0].never_public: expected a boolean, got a string"},
      {"listens_nowhere", edit("single = \"public\"\nmulti = { mta = \"public\" }\n", ""),
       "bad.toml:6:1: port[0]: neither 'single' nor 'multi' is set: the port would listen "
       "nowhere"},
      {"multi_not_a_table", edit("{ mta = \"public\" }", "\"public\""),
       "bad.toml:12:9: port[0].multi: expected a table of role = class, got a string"},
      {"missing_product", edit("product = \"demo\"\n", ""),
       "bad.toml:1:1: product: missing (required)"},
      {"bad_product_name", edit("product = \"demo\"", "product = \"../demo\""),
       "bad.toml:1:11: product: '../demo' is not a name (lower-case letters, digits, '-')"},
      {"role_listed_twice", edit("[\"mta\", \"mailbox\"]", "[\"mta\", \"mta\"]"),
       "bad.toml:3:17: roles[1]: 'mta' is listed twice"},
      {"no_ports", "product = \"demo\"\ntitle = \"t\"\n",
       "bad.toml:1:1: port: missing: a catalog lists at least one port"},
      {"port_not_array_of_tables", "product = \"demo\"\ntitle = \"t\"\nport = 25\n",
       "bad.toml:3:8: port: expected an array of tables ([[port]] sections)"},
      {"second_port_error_counts_index", valid + kSecondPort + "colour = 1\n",
       "bad.toml:23:1: port[1].colour: unknown key (expected one of port, protocol, service, "
       "description, single, multi, feature, attribute, source, never_public)"},
      {"syntax_unterminated_string", edit("single = \"public\"", "single = \"public"),
       "bad.toml:11:17: TOML syntax error: "},
      {"syntax_missing_value", edit("port = 25", "port = "), "bad.toml:7:8: TOML syntax error: "},
      {"syntax_duplicate_key", edit("service = \"smtp\"", "service = \"smtp\"\nservice = \"x\""),
       "bad.toml:10:11: TOML syntax error: "},
  };
}

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const RejectCase& c, std::ostream* out) {
  *out << c.name;
}

class catalog_reject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(catalog_reject, NamesPositionAndField) {
  const RejectCase& c = GetParam();
  auto result = parse_port_catalog(c.text, "bad.toml");
  ASSERT_FALSE(result.ok()) << "accepted:\n" << c.text;
  const std::string& message = result.error().message;
  if (c.expected.find("TOML syntax error") != std::string::npos) {
    // toml++ words its own descriptions; what we promise is the position and the prefix.
    EXPECT_EQ(message.substr(0, c.expected.size()), c.expected) << message;
    EXPECT_GT(message.size(), c.expected.size()) << "the description follows";
  } else {
    EXPECT_EQ(message, c.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(cases, catalog_reject, ::testing::ValuesIn(reject_cases()),
                         [](const ::testing::TestParamInfo<RejectCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(catalog_reject_other, ValidBaseCatalogLoads) {
  auto result = parse_port_catalog(kValid, "good.toml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->ports.size(), 1u);
  EXPECT_EQ(result->ports[0].location, "good.toml:6");
}

TEST(catalog_reject_other, SamePortNumberWithOtherProtocolIsNotADuplicate) {
  const std::string text = std::string(kValid) +
                           "\n[[port]]\nport = 25\nprotocol = \"udp\"\nservice = \"x\"\n"
                           "description = \"x\"\nsingle = \"loopback\"\nsource = \"x\"\n";
  auto result = parse_port_catalog(text, "good.toml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->ports.size(), 2u);
}

TEST(catalog_reject_other, UnreadableFileNamesThePath) {
  auto result = load_port_catalog("/nonexistent/dir/zimbra.toml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.rfind("/nonexistent/dir/zimbra.toml: cannot read: ", 0), 0u)
      << result.error().message;
}

}  // namespace
}  // namespace mw
