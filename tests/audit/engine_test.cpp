// The audit engine on small hand-written facts: each comparison at its boundary, defaults
// from attrs.tsv, every COS on its own, missing facts -> not_checked, applicability, and the
// remediation lines.
#include "audit/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/custom_checks.hpp"
#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using ::testing::HasSubstr;

const AttrTable& attrs() {
  return test::tables().attrs;
}
const LocalconfigKeyTable& keys() {
  return test::tables().keys;
}

std::vector<ZObject> objects(const std::string& text, const std::string& file) {
  auto parsed = parse_zmprov(text, file);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  std::vector<ZObject> out;
  if (parsed.ok()) {
    for (auto& e : parsed->entries) out.push_back({std::move(e), file});
  }
  return out;
}

Facts facts_with_coses(const std::string& text) {
  Facts f;
  f.attrs = &attrs();
  f.localconfig_keys = &keys();
  f.coses = objects(text, "zmprov-gac-v.txt");
  return f;
}

Control control(Check check, std::string remediation = "zmprov mc {object} A {value}") {
  Control c;
  c.id = "test.control";
  c.title = "test";
  c.severity = Severity::high;
  c.check = std::move(check);
  c.remediation = std::move(remediation);
  c.fix_value = "V";
  return c;
}

Check attr(const char* name, Op op, std::string expected = "") {
  Check k;
  k.kind = CheckKind::attr;
  k.level = Level::cos;
  k.name = name;
  k.op = op;
  k.expected = std::move(expected);
  return k;
}

Status status_for(const std::string& value, Check k) {
  auto f = facts_with_coses("# name default\n" + std::string(k.name) + ": " + value + "\n\n");
  auto c = control(std::move(k));
  return evaluate(c, f, {}).status;
}

TEST(Engine, NumbersAtTheirBoundary) {
  auto k = attr("zimbraPasswordMinLength", Op::ge, "10");
  EXPECT_EQ(status_for("9", k), Status::fail);
  EXPECT_EQ(status_for("10", k), Status::pass);
  EXPECT_EQ(status_for("11", k), Status::pass);
  k.op = Op::le;
  EXPECT_EQ(status_for("10", k), Status::pass);
  EXPECT_EQ(status_for("11", k), Status::fail);
  // Not a number: not_checked with the reason, never a pass.
  EXPECT_EQ(status_for("ten", k), Status::not_checked);
}

TEST(Engine, BetweenTreatsZeroAsItsOwnValue) {
  auto k = attr("zimbraPasswordMaxAge", Op::between);
  k.min = 1;
  k.max = 90;
  EXPECT_EQ(status_for("0", k), Status::fail);  // 0 = never expires
  EXPECT_EQ(status_for("1", k), Status::pass);
  EXPECT_EQ(status_for("90", k), Status::pass);
  EXPECT_EQ(status_for("91", k), Status::fail);
}

TEST(Engine, DurationsWithUnitsAndZeroAsInfinite) {
  auto k = attr("zimbraPasswordLockoutDuration", Op::duration_ge, "1h");
  EXPECT_EQ(status_for("59m", k), Status::fail);
  EXPECT_EQ(status_for("60m", k), Status::pass);
  EXPECT_EQ(status_for("3600", k), Status::pass);  // a bare number is seconds
  EXPECT_EQ(status_for("3599s", k), Status::fail);
  EXPECT_EQ(status_for("0", k), Status::fail);
  k.zero_is_infinite = true;  // 0 = locked until an admin unlocks
  EXPECT_EQ(status_for("0", k), Status::pass);

  auto idle = attr("zimbraMailIdleSessionTimeout", Op::duration_le, "1h");
  idle.zero_is_infinite = true;  // 0 = never times out
  EXPECT_EQ(status_for("0", idle), Status::fail);
  EXPECT_EQ(status_for("1h", idle), Status::pass);
  EXPECT_EQ(status_for("61m", idle), Status::fail);
  EXPECT_EQ(status_for("1x", idle), Status::not_checked);
}

TEST(Engine, BooleansIgnoreCaseStringsDoNot) {
  auto k = attr("zimbraPasswordLockoutEnabled", Op::eq, "TRUE");
  EXPECT_EQ(status_for("TRUE", k), Status::pass);
  EXPECT_EQ(status_for("true", k), Status::pass);
  EXPECT_EQ(status_for("FALSE", k), Status::fail);
  Check lc;
  lc.kind = CheckKind::localconfig;
  lc.name = "zimbra_same_site_cookie";
  lc.op = Op::eq;
  lc.expected = "Strict";
  Facts f;
  f.localconfig_keys = &keys();
  auto parsed = parse_localconfig("zimbra_same_site_cookie = strict\n", "lc.txt");
  ASSERT_TRUE(parsed.ok());
  f.localconfig = *parsed;
  auto c = control(lc, "zmlocalconfig -e zimbra_same_site_cookie={value}");
  EXPECT_EQ(evaluate(c, f, {}).status, Status::fail);
}

TEST(Engine, AnAbsentAttributeHasItsDefault) {
  // The COS default of zimbraPasswordMinLength is 6 (attrs.tsv).
  auto f = facts_with_coses("# name default\nzimbraPasswordLockoutEnabled: TRUE\n\n");
  auto c = control(attr("zimbraPasswordMinLength", Op::ge, "10"));
  auto r = evaluate(c, f, {});
  EXPECT_EQ(r.status, Status::fail);
  ASSERT_EQ(r.facts.size(), 1u);
  EXPECT_EQ(r.facts[0].value, "6");
  EXPECT_EQ(r.facts[0].origin, "default (attrs.tsv)");
  EXPECT_THAT(r.detail, HasSubstr("(default)"));
}

TEST(Engine, EveryCosIsCheckedAndFixedByName) {
  auto f = facts_with_coses(
      "# name default\nzimbraPasswordMinLength: 12\n\n"
      "# name contractors\nzimbraPasswordMinLength: 8\n\n"
      "# name interns\nzimbraPasswordMinLength: 6\n\n");
  auto c = control(attr("zimbraPasswordMinLength", Op::ge, "10"),
                   "zmprov mc {object} zimbraPasswordMinLength {value}");
  c.fix_value = "12";
  auto r = evaluate(c, f, {});
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.failing, (std::vector<std::string>{"contractors", "interns"}));
  EXPECT_EQ(r.remediation,
            "zmprov mc contractors zimbraPasswordMinLength 12\n"
            "zmprov mc interns zimbraPasswordMinLength 12\n");
  EXPECT_EQ(r.facts.size(), 3u);
  EXPECT_EQ(r.facts[1].origin, "zmprov-gac-v.txt:5");
}

TEST(Engine, ListsContainWordsAndEmptyMeansNoValue) {
  Check k = attr("zimbraMtaSmtpdSenderRestrictions", Op::contains,
                 "reject_authenticated_sender_login_mismatch");
  k.level = Level::global;
  Facts f;
  f.attrs = &attrs();
  auto g = objects(
      "zimbraMtaSmtpdSenderRestrictions: reject_non_fqdn_sender, "
      "reject_authenticated_sender_login_mismatch\n",
      "zmprov-gacf.txt");
  f.global = g.front();
  auto c = control(k, "zmprov mcf +zimbraMtaSmtpdSenderRestrictions x");
  EXPECT_EQ(evaluate(c, f, {}).status, Status::pass);
  c.check.expected = "reject_sender_login_mismatch";  // a word, not a substring
  EXPECT_EQ(evaluate(c, f, {}).status, Status::fail);

  auto empty = attr("zimbraProxyAllowedDomains", Op::empty);
  EXPECT_EQ(status_for("*.example.com", empty), Status::fail);
  auto f2 = facts_with_coses("# name default\nzimbraPasswordMinLength: 12\n\n");
  auto c2 = control(empty, "zmprov mc {object} zimbraProxyAllowedDomains \"\"");
  EXPECT_EQ(evaluate(c2, f2, {}).status, Status::pass);  // absent, and no default
}

TEST(Engine, MissingFactsAreNotCheckedWithTheReason) {
  Facts f;
  f.attrs = &attrs();
  f.missing["cos"] = "zmprov-gac-v.txt: not in the snapshot";
  auto c = control(attr("zimbraPasswordMinLength", Op::ge, "10"));
  auto r = evaluate(c, f, {});
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("zmprov-gac-v.txt"));
  Check pkg;
  pkg.kind = CheckKind::package;
  pkg.name = "pax";
  EXPECT_EQ(evaluate(control(pkg), f, {}).status, Status::not_checked);
}

TEST(Engine, ApplicabilityByEditionAndTopology) {
  auto f = facts_with_coses("# name default\nzimbraFeatureTwoFactorAuthAvailable: FALSE\n\n");
  auto c = control(attr("zimbraFeatureTwoFactorAuthAvailable", Op::eq, "TRUE"));
  c.applies.edition = "network";
  EXPECT_EQ(evaluate(c, f, {}).status, Status::not_checked);  // edition unknown
  f.edition = "foss";
  EXPECT_EQ(evaluate(c, f, {}).status, Status::not_applicable);
  f.edition = "network";
  EXPECT_EQ(evaluate(c, f, {}).status, Status::fail);
  c.applies.topology = "multi";
  f.topology = "single";
  EXPECT_EQ(evaluate(c, f, {}).status, Status::not_applicable);
}

TEST(Engine, LockoutThresholdDependsOnFail2ban) {
  auto checks = builtin_checks();
  Control c = control({}, "zmprov mc {object} zimbraPasswordLockoutMaxFailures {value}");
  c.check.kind = CheckKind::custom;
  c.check.name = "lockout-max-failures";
  c.fix_value = "5";
  auto f = facts_with_coses("# name default\nzimbraPasswordLockoutMaxFailures: 8\n\n");
  auto dpkg = parse_dpkg_l("ii  fail2ban 1.0.2-2 all ban hosts\n", "dpkg-l.txt");
  ASSERT_TRUE(dpkg.ok()) << dpkg.error().message;
  auto without = evaluate(c, f, checks);
  EXPECT_EQ(without.status, Status::fail);
  EXPECT_EQ(without.remediation, "zmprov mc default zimbraPasswordLockoutMaxFailures 5\n");
  f.packages = *dpkg;
  EXPECT_EQ(evaluate(c, f, checks).status, Status::pass);
  auto unlimited = facts_with_coses("# name default\nzimbraPasswordLockoutMaxFailures: 0\n\n");
  unlimited.packages = *dpkg;
  EXPECT_EQ(evaluate(c, unlimited, checks).status, Status::fail);
}

TEST(Engine, MynetworksAllowsLoopbackAndHostsOnly) {
  auto checks = builtin_checks();
  Control c = control({}, "zmprov ms {object} zimbraMtaMyNetworks '127.0.0.0/8 [::1]/128'");
  c.check.kind = CheckKind::custom;
  c.check.name = "mynetworks-loopback-only";
  auto with = [&](const std::string& value) {
    Facts f;
    f.server =
        objects("# name mail.example.org\nzimbraMtaMyNetworks: " + value + "\n\n", "zmprov-gs.txt")
            .front();
    return evaluate(c, f, checks);
  };
  EXPECT_EQ(with("127.0.0.0/8 [::1]/128").status, Status::pass);
  EXPECT_EQ(with("127.0.0.0/8 [::1]/128 192.0.2.10/32").status, Status::pass);
  auto lan = with("127.0.0.0/8 [::1]/128 192.0.2.0/24");
  EXPECT_EQ(lan.status, Status::fail);
  EXPECT_THAT(lan.detail, HasSubstr("192.0.2.0/24"));
  EXPECT_EQ(lan.remediation,
            "zmprov ms mail.example.org zimbraMtaMyNetworks '127.0.0.0/8 [::1]/128'\n");
  EXPECT_EQ(with("[2001:db8::]/64").status, Status::fail);
}

TEST(Engine, SubmissionNeedsTlsEvenWhenMainCfSaysMay) {
  auto checks = builtin_checks();
  Control c = control({}, "postconf -P submission/inet/smtpd_tls_security_level=encrypt");
  c.check.kind = CheckKind::custom;
  c.check.name = "submission-tls";
  auto with = [&](const std::string& master) {
    Facts f;
    auto m = parse_master_cf(master, "postconf-M.txt");
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    f.master = *m;
    auto pc = parse_postconf("smtpd_tls_security_level = may\n", "postconf-n.txt");
    f.postconf = *pc;
    return evaluate(c, f, checks);
  };
  const std::string good =
      "smtp inet n - n - - smtpd\n"
      "submission inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n"
      "smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n";
  EXPECT_EQ(with(good).status, Status::pass);
  // The -o override is what the daemon uses: main.cf's "may" leaks through without it.
  auto weak = with("submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes\n");
  EXPECT_EQ(weak.status, Status::fail);
  EXPECT_THAT(weak.detail,
              HasSubstr("submission lets clients authenticate without TLS (security level may)"));
  auto unwrapped = with("smtps inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes\n");
  EXPECT_EQ(unwrapped.status, Status::fail);
  // Port 25 alone: nothing to check, and port 25 stays opportunistic.
  EXPECT_EQ(with("smtp inet n - n - - smtpd\n").status, Status::pass);
  Facts none;
  EXPECT_EQ(evaluate(c, none, checks).status, Status::not_checked);
}

TEST(Engine, ScoreWeighsBySeverity) {
  Control crit = control({});
  crit.severity = Severity::critical;
  Control low = control({});
  low.severity = Severity::low;
  std::vector<ControlResult> r = {{&crit, Status::fail, {}, {}, "", ""},
                                  {&low, Status::pass, {}, {}, "", ""},
                                  {&low, Status::not_checked, {}, {}, "", ""}};
  auto s = score(r);
  EXPECT_EQ(s.percent, 9);  // 1 / (10 + 1)
  EXPECT_EQ(s.pass, 1);
  EXPECT_EQ(s.fail, 1);
  EXPECT_EQ(s.not_checked, 1);
}

}  // namespace
}  // namespace mw::audit
