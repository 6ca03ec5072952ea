// Postfix listings: postconf -n/-d, main.cf, postconf -M, master.cf, postconf -P.
#include "audit/postconf.hpp"

#include <gtest/gtest.h>

#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using test::read_source_file;

TEST(Postconf, ZimbraPostconfN) {
  auto r = parse_postconf(test::snapshot_file("zimbra-default", "postconf-n.txt"), "pn");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->params.size(), 161u);
  EXPECT_EQ(r->find("address_verify_poll_count")->value, "${stress?3}${stress:5}");
  EXPECT_EQ(r->find("import_environment")->value, "");
  EXPECT_EQ(r->find("inet_protocols")->value, "ipv4");
  auto h = parse_postconf(test::snapshot_file("zimbra-hardened", "postconf-n.txt"), "pn");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->find("smtpd_sasl_auth_enable")->value, "no");
}

TEST(Postconf, DebianOutputsAndRawMainCf) {
  auto d = parse_postconf(read_source_file("tests/data/config/postconf-d.txt"), "pd");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->params.size(), 1043u);
  auto n = parse_postconf(read_source_file("tests/data/config/postconf-n.txt"), "pn");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->find("myhostname")->value, "vm");
  auto hn = parse_postconf(read_source_file("tests/data/config/postconf-n-hardened.txt"), "pn");
  ASSERT_TRUE(hn.ok()) << hn.error().message;
  EXPECT_EQ(hn->find("smtpd_recipient_restrictions")->value,
            "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, "
            "reject_rbl_client zen.spamhaus.org");
  // The raw main.cf (comments, blank lines) gives the same values as postconf -n.
  auto raw = parse_postconf(read_source_file("tests/data/config/main-hardened.cf"), "main.cf");
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  for (const auto& p : hn->params) {
    const auto* q = raw->find(p.name);
    ASSERT_NE(q, nullptr) << p.name;
    EXPECT_EQ(q->value, p.value) << p.name;
  }
}

TEST(Postconf, ContinuationLinesAndErrors) {
  auto r = parse_postconf("# c\na = x,\n    y\n\n  # not a comment inside? skipped\nb=\n", "m");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->find("a")->value, "x, y");
  EXPECT_EQ(r->find("b")->value, "");
  auto e1 = parse_postconf("  x = 1\n", "m");
  ASSERT_FALSE(e1.ok());
  EXPECT_EQ(e1.error().message.rfind("m:1:1: continuation line before any entry", 0), 0u);
  auto e2 = parse_postconf("a = 1\nno equals\n", "m");
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e2.error().message.rfind("m:2:1: expected 'name = value'", 0), 0u);
  auto e3 = parse_postconf("a b = 1\n", "m");
  ASSERT_FALSE(e3.ok());
  EXPECT_EQ(e3.error().message.rfind("m:1:2: invalid character", 0), 0u);
}

TEST(Postconf, PostconfMOutput) {
  auto r = parse_master_cf(read_source_file("tests/data/config/master.cf"), "postconf-M");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 31u);
  const auto& smtp = (*r)[0];
  EXPECT_EQ(smtp.service, "smtp");
  EXPECT_EQ(smtp.type, "inet");
  EXPECT_EQ(smtp.private_flag, "n");
  EXPECT_EQ(smtp.chroot, "y");
  EXPECT_EQ(smtp.command, "smtpd");
  const auto& relay = (*r)[14];
  EXPECT_EQ(relay.service, "relay");
  EXPECT_EQ(relay.override_of("syslog_name"), "postfix/$service_name");
  EXPECT_EQ((*r)[4].wakeup, "1000?");
  EXPECT_EQ((*r)[24].type, "unix-dgram");
}

TEST(Postconf, RawMasterCfMatchesPostconfM) {
  auto raw = parse_master_cf(read_source_file("tests/data/config/etc-postfix-master.cf"), "m");
  auto m = parse_master_cf(read_source_file("tests/data/config/master.cf"), "M");
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(raw->size(), m->size());
  for (std::size_t i = 0; i < m->size(); ++i) {
    EXPECT_EQ((*raw)[i].service, (*m)[i].service);
    EXPECT_EQ((*raw)[i].args, (*m)[i].args) << (*m)[i].service;
    EXPECT_EQ((*raw)[i].overrides, (*m)[i].overrides);
  }
}

TEST(Postconf, SubmissionOverrides) {
  const std::string text =
      "submission inet n - y - - smtpd\n"
      "  -o syslog_name=postfix/submission\n"
      "  -o smtpd_tls_security_level=encrypt\n"
      "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
      "  -osmtpd_sasl_auth_enable=yes\n";
  auto r = parse_master_cf(text, "m");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const auto& s = (*r)[0];
  EXPECT_EQ(s.line, 1u);
  ASSERT_EQ(s.overrides.size(), 4u);
  EXPECT_EQ(s.override_of("smtpd_tls_security_level"), "encrypt");
  EXPECT_EQ(s.override_of("smtpd_client_restrictions"), "permit_sasl_authenticated, reject");
  EXPECT_EQ(s.override_of("smtpd_sasl_auth_enable"), "yes");
  EXPECT_FALSE(s.override_of("nothing").has_value());
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c :
       {Case{"smtp inet n - y - - \n", "m:1:1: expected 'service type private"},
        Case{"smtp tcp n - y - - smtpd\n", "m:1:6: unknown service type 'tcp'"},
        Case{"smtp inet x - y - - smtpd\n", "m:1:11: expected y, n or -, got 'x'"},
        Case{"smtp inet n - y abc - smtpd\n", "m:1:17: expected a number or -, got 'abc'"},
        Case{"smtp inet n - y - - smtpd -o\n", "m:1:1: '-o' without an argument"},
        Case{"smtp inet n - y - - smtpd -o x\n", "m:1:1: expected '-o name=value'"},
        Case{"smtp inet n - y - - smtpd -o { a = b\n", "m:1:1: unbalanced '{'"}}) {
    auto e = parse_master_cf(c.text, "m");
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.error().message.rfind(c.error, 0), 0u) << e.error().message;
  }
}

TEST(Postconf, PostconfP) {
  auto r = parse_postconf_p(
      "submission/inet/smtpd_tls_security_level = encrypt\n"
      "127.0.0.1:smtp/inet/syslog_name = postfix/local\n"
      "relay/unix/smtp_fallback_relay =\n",
      "pP");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].service, "submission");
  EXPECT_EQ((*r)[0].type, "inet");
  EXPECT_EQ((*r)[0].name, "smtpd_tls_security_level");
  EXPECT_EQ((*r)[0].value, "encrypt");
  EXPECT_EQ((*r)[1].service, "127.0.0.1:smtp");
  EXPECT_EQ((*r)[2].value, "");
  auto e = parse_postconf_p("submission/smtpd_tls_security_level = encrypt\n", "pP");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.rfind("pP:1:1: expected 'service/type/parameter = value'", 0), 0u);
}

}  // namespace
}  // namespace mw::audit
