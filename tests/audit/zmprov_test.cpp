// zmprov parser: the example snapshots, base64 and PEM values, entry headers, errors.
#include "audit/zmprov.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using test::snapshot_file;

TEST(Zmprov, GacfDefaultHasOneUnnamedEntry) {
  const auto text = snapshot_file("zimbra-default", "zmprov-gacf.txt");
  auto r = parse_zmprov(text, "zmprov-gacf.txt");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  const auto& e = r->entries[0];
  EXPECT_EQ(e.name, "");
  EXPECT_EQ(e.first("zimbraSmtpSendAddMailer"), "TRUE");
  EXPECT_EQ(e.first("zimbraLastLogonTimestampFrequency"), "7d");
  EXPECT_FALSE(e.has("zimbraMtaBlockedExtension"));
  const auto ext = e.values("zimbraMtaCommonBlockedExtension");
  ASSERT_EQ(ext.size(), 27u);
  EXPECT_EQ(ext.front(), "asd");
  EXPECT_EQ(ext.back(), "xl");
  // Every line but the base64 continuation lines is one value.
  std::size_t values = 0;
  for (const auto& [name, vs] : e.attrs) values += vs.size();
  EXPECT_EQ(values, 908u - 7u);
}

TEST(Zmprov, Base64DhParamDecodesToPemThenDer) {
  const auto text = snapshot_file("zimbra-default", "zmprov-gacf.txt");
  auto r = parse_zmprov(text, "gacf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ZmprovValue* v = r->entries[0].find("zimbraSSLDHParam");
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->base64);
  EXPECT_EQ(v->line, 783u);
  EXPECT_EQ(v->last_line, 790u);
  // The attribute holds a PEM text; its body decodes to DER, a SEQUENCE (0x30).
  ASSERT_EQ(v->value.rfind("-----BEGIN DH PARAMETERS-----\n", 0), 0u) << v->value;
  const std::size_t body = v->value.find('\n') + 1;
  const std::size_t end = v->value.find("-----END");
  std::string b64;
  for (char c : v->value.substr(body, end - body)) {
    if (c != '\n') b64 += c;
  }
  const auto der = decode_base64(b64);
  ASSERT_TRUE(der.has_value());
  ASSERT_FALSE(der->empty());
  EXPECT_EQ(static_cast<unsigned char>((*der)[0]), 0x30);
  // The next attribute is read normally after the CR LF wrapped lines.
  EXPECT_EQ(r->entries[0].find("zimbraSSLExcludeCipherSuites")->line, 791u);
}

TEST(Zmprov, GsKeepsPemLinesAndHeader) {
  const auto text = snapshot_file("zimbra-default", "zmprov-gs.txt");
  auto r = parse_zmprov(text, "gs");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entries.size(), 1u);
  const auto& e = r->entries[0];
  EXPECT_EQ(e.name, "mail.example.org");
  EXPECT_EQ(e.line, 1u);
  const ZmprovValue* key = e.find("zimbraSSLPrivateKey");
  ASSERT_NE(key, nullptr);
  EXPECT_FALSE(key->base64);
  EXPECT_EQ(key->line, 513u);
  EXPECT_EQ(key->last_line, 518u);
  EXPECT_EQ(key->value,
            "-----BEGIN PRIVATE KEY-----\n"
            "FAKE-SECRET-PRIVATE-KEY-01-REDACT-ME-xxxxxxxxxxxxxxxxxxxxxxxx\n"
            "FAKE-SECRET-PRIVATE-KEY-02-REDACT-ME-xxxxxxxxxxxxxxxxxxxxxxxx\n"
            "FAKE-SECRET-PRIVATE-KEY-03-REDACT-ME-xxxxxxxxxxxxxxxxxxxxxxxx\n"
            "FAKE-SECRET-PRIVATE-KEY-04-REDACT-ME-xxxxxxxxxxxxxxxxxxxxxxxx\n"
            "-----END PRIVATE KEY-----");
  const ZmprovValue* cert = e.find("zimbraSSLCertificate");
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(cert->value.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  EXPECT_NE(cert->value.find("\n-----END CERTIFICATE-----"), std::string::npos);
  EXPECT_GT(e.values("zimbraServiceEnabled").size(), 5u);
}

TEST(Zmprov, EveryExampleFileParses) {
  for (const char* snap : {"zimbra-default", "zimbra-hardened"}) {
    for (const char* f : {"zmprov-gacf.txt", "zmprov-gs.txt", "zmprov-gc-default.txt",
                          "zmprov-gd.txt", "zmprov-ga-admin.txt"}) {
      auto r = parse_zmprov(snapshot_file(snap, f), f);
      ASSERT_TRUE(r.ok()) << snap << "/" << f << ": " << r.error().message;
      EXPECT_EQ(r->entries.size(), 1u) << f;
    }
  }
  auto h = parse_zmprov(snapshot_file("zimbra-hardened", "zmprov-gs.txt"), "gs");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->entries[0].first("zimbraMemcachedBindAddress"), "127.0.0.1");
  EXPECT_EQ(h->entries[0].first("zimbraImapServerEnabled"), "FALSE");
  auto ga = parse_zmprov(snapshot_file("zimbra-default", "zmprov-ga-admin.txt"), "ga");
  ASSERT_TRUE(ga.ok());
  EXPECT_EQ(ga->entries[0].name, "admin@example.org");
  EXPECT_EQ(ga->entries[0].attrs.size(), 10u);
  EXPECT_FALSE(ga->entries[0].has("zimbraTwoFactorAuthEnabled"));
}

TEST(Zmprov, VerboseListingHasSeveralEntries) {
  const std::string text =
      "# name default\nzimbraPasswordMinLength: 6\nzimbraMailAlias: a\nzimbraMailAlias: b\n\n"
      "# name strict\nzimbraPasswordMinLength: 12\n\n";
  auto r = parse_zmprov(text, "gac");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->find("strict")->first("zimbraPasswordMinLength"), "12");
  EXPECT_EQ(r->entries[0].values("zimbraMailAlias"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(r->find("strict")->line, 6u);
}

TEST(Zmprov, PemHeadersInsideABlockAreContinuations) {
  const std::string text =
      "# name s\n"
      "zimbraSSLPrivateKey: -----BEGIN RSA PRIVATE KEY-----\n"
      "Proc-Type: 4,ENCRYPTED\n"
      "DEK-Info: AES-128-CBC,00112233\n"
      "\n"
      "abcd\n"
      "-----END RSA PRIVATE KEY-----\n"
      "zimbraX: 1\n";
  auto r = parse_zmprov(text, "t");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& e = r->entries[0];
  EXPECT_FALSE(e.has("Proc-Type"));
  EXPECT_FALSE(e.has("DEK-Info"));
  EXPECT_EQ(e.find("zimbraSSLPrivateKey")->value,
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
            "AES-128-CBC,00112233\n\nabcd\n-----END RSA PRIVATE KEY-----");
  EXPECT_EQ(e.first("zimbraX"), "1");
}

TEST(Zmprov, RawMultiLineValueKeepsInnerBlankLines) {
  const std::string text = "zimbraNotes: first\n\nthird\nzimbraX: 1\n\n";
  auto r = parse_zmprov(text, "t");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries[0].first("zimbraNotes"), "first\n\nthird");
  EXPECT_EQ(r->entries[0].first("zimbraX"), "1");
}

TEST(Zmprov, Errors) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"garbage line\nzimbraX: 1\n",
       "f:1:1: expected 'name: value' or '# name X', got "
       "'garbage line'"},
      {"# name \nzimbraX: 1\n", "f:1:1: '# name' without a name"},
      {"zimbraX:: !!!!\n", "f:1:1: invalid base64"},
      {"zimbraX:: QUJD\nzimbraY:: QQ=\n", "f:2:1: invalid base64"},
  };
  for (const auto& c : cases) {
    auto r = parse_zmprov(c.text, "f");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().message.rfind(c.error, 0), 0u) << r.error().message;
  }
  auto ok = parse_zmprov("zimbraX:: QUJD\n", "f");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->entries[0].first("zimbraX"), "ABC");
}

TEST(Zmprov, PlainList) {
  auto r = parse_zmprov_list("example.org\n\n  example.net  \n", "gad");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].name, "example.net");
  EXPECT_EQ((*r)[1].line, 3u);
  auto bad = parse_zmprov_list("a b\n", "gas");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("gas:1:3: ", 0), 0u) << bad.error().message;
}

// Rendering a parsed entry the way zmprov does and parsing it again gives the same values.
RC_GTEST_PROP(ZmprovProps, ParseRenderRoundTrip, ()) {
  const auto names = *rc::gen::container<std::vector<std::string>>(
      rc::gen::map(rc::gen::inRange(0, 6), [](int i) { return "zimbraAttr" + std::to_string(i); }));
  ZmprovEntry e;
  e.name = "x";
  std::string text = "# name x\n";
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto& n : names) {
    const auto v = *rc::gen::container<std::string>(rc::gen::oneOf(
        rc::gen::inRange('a', 'z'), rc::gen::just(' '), rc::gen::just(':'), rc::gen::just('=')));
    if (v.empty() || v.front() == ' ') continue;
    expected[n].push_back(v);
  }
  for (const auto& [n, vs] : expected) {
    for (const auto& v : vs) text += n + ": " + v + "\n";
  }
  text += "\n";
  auto r = parse_zmprov(text, "rt");
  RC_ASSERT(r.ok());
  RC_ASSERT(r->entries.size() == 1u);
  for (const auto& [n, vs] : expected) {
    const auto got = r->entries[0].values(n);
    RC_ASSERT(got.size() == vs.size());
    for (std::size_t i = 0; i < vs.size(); ++i) RC_ASSERT(got[i] == vs[i]);
  }
}

}  // namespace
}  // namespace mw::audit
