// The C++ checks of account_checks.cpp, mailflow_checks.cpp and the newer network checks, each
// on small hand-written facts: pass, fail at the boundary, not_checked when a fact is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit_test_data.hpp"
#include "firewall/ruleset_loader.hpp"

namespace mw::audit {
namespace {

using ::testing::HasSubstr;

const std::vector<Control>& catalog() {
  static const std::vector<Control> controls = [] {
    auto c = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : std::vector<Control>{};
  }();
  return controls;
}

const Control& control(const std::string& id) {
  for (const auto& c : catalog()) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no control " << id;
  static Control none;
  return none;
}

ControlResult run(const std::string& id, const Facts& f) {
  static const CustomChecks checks = builtin_checks();
  return evaluate(control(id), f, checks);
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

Facts base() {
  Facts f;
  f.attrs = &test::tables().attrs;
  f.localconfig_keys = &test::tables().keys;
  f.edition = "network";
  f.topology = "single";
  return f;
}

// --- administrator accounts -------------------------------------------------------------------

// 2026-11-28T12:00:00Z minus `days` days, as LDAP generalized time.
std::string days_before(int days) {
  std::time_t t = 1795867200 - static_cast<std::time_t>(days) * 86400;  // 2026-11-28 12:00 UTC
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

Facts with_admins(const std::string& text) {
  auto f = base();
  f.admins = objects(text, "zmprov-gaaa-v.txt");
  f.collected_at = "2026-11-28T12:00:00Z";
  return f;
}

TEST(AdminUnused, BoundaryAtTheCatalogDays) {
  ASSERT_EQ(control("accounts.admin.unused").check.expected, "90");
  auto f =
      with_admins("# name a@example.org\nzimbraIsAdminAccount: TRUE\nzimbraLastLogonTimestamp: " +
                  days_before(89) + "\n\n");
  EXPECT_EQ(run("accounts.admin.unused", f).status, Status::pass);
  f = with_admins("# name a@example.org\nzimbraIsAdminAccount: TRUE\nzimbraLastLogonTimestamp: " +
                  days_before(90) + "\n\n");
  auto r = run("accounts.admin.unused", f);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("a@example.org"));
  EXPECT_THAT(r.remediation, HasSubstr("zmprov ma a@example.org zimbraAccountStatus locked"));
}

TEST(AdminUnused, NeverLoggedInCountsFromCreationAndLockedAccountsAreSkipped) {
  auto f = with_admins(
      "# name new@example.org\nzimbraCreateTimestamp: " + days_before(3) +
      "\nzimbraIsDelegatedAdminAccount: TRUE\n\n"
      "# name old@example.org\nzimbraCreateTimestamp: " +
      days_before(400) +
      "\nzimbraIsAdminAccount: TRUE\n\n"
      "# name gone@example.org\nzimbraAccountStatus: locked\nzimbraIsAdminAccount: TRUE\n\n"
      "# name user@example.org\nzimbraLastLogonTimestamp: " +
      days_before(900) + "\n\n");
  auto r = run("accounts.admin.unused", f);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.failing, std::vector<std::string>{"old@example.org"});
  EXPECT_THAT(r.detail, HasSubstr("never logged in"));
}

TEST(AdminUnused, WithoutCollectionTimeIsNotChecked) {
  auto f = with_admins("# name a@example.org\nzimbraIsAdminAccount: TRUE\n\n");
  f.collected_at.clear();
  auto r = run("accounts.admin.unused", f);
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("collected_at"));
  EXPECT_EQ(run("accounts.admin.unused", base()).status, Status::not_checked);
}

TEST(AdminLocalAuth, SecondFactorOrPassphraseLength) {
  ASSERT_EQ(control("accounts.admin.local-auth").check.expected, "15");
  auto r =
      run("accounts.admin.local-auth", with_admins("# name a@x.org\nzimbraIsAdminAccount: TRUE\n"
                                                   "zimbraPasswordMinLength: 14\n\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("14 characters"));
  EXPECT_EQ(
      run("accounts.admin.local-auth", with_admins("# name a@x.org\nzimbraIsAdminAccount: TRUE\n"
                                                   "zimbraPasswordMinLength: 15\n\n"))
          .status,
      Status::pass);
  EXPECT_EQ(run("accounts.admin.local-auth",
                with_admins("# name a@x.org\nzimbraFeatureTwoFactorAuthRequired: TRUE\n"
                            "zimbraIsAdminAccount: TRUE\nzimbraPasswordMinLength: 8\n\n"))
                .status,
            Status::pass);
  // Absent: the COS default (6) from attrs.tsv.
  r = run("accounts.admin.local-auth",
          with_admins("# name a@x.org\nzimbraIsAdminAccount: TRUE\n\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("6 characters"));
  // Delegated administrators do not fall back to local passwords.
  EXPECT_EQ(run("accounts.admin.local-auth",
                with_admins("# name d@x.org\nzimbraIsDelegatedAdminAccount: TRUE\n\n"))
                .status,
            Status::not_checked);
}

TEST(AdminSeparate, ListsTheGlobalAdministratorsForAPerson) {
  auto r = run("accounts.admin.separate",
               with_admins("# name a@x.org\nzimbraIsAdminAccount: TRUE\nzimbraLastLogonTimestamp: "
                           "20261001000000Z\n\n# name d@x.org\nzimbraIsDelegatedAdminAccount: "
                           "TRUE\n\n"));
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("a@x.org (last logon 2026-10-01)"));
  EXPECT_THAT(r.detail, ::testing::Not(HasSubstr("d@x.org")));
}

// --- accounts to review -----------------------------------------------------------------------

Facts with_review(const std::string& text) {
  auto f = base();
  f.review_accounts = objects(text, "zmprov-sa-review.txt");
  f.file_of["review"] = "zmprov-sa-review.txt";
  f.collected_at = "2026-11-28T12:00:00Z";
  return f;
}

TEST(StaleAccounts, ActiveAccountsPastTheDaysFail) {
  auto f = with_review("# name old@x.org\nzimbraAccountStatus: active\nzimbraLastLogonTimestamp: " +
                       days_before(90) +
                       "\n\n# name recent@x.org\nzimbraLastLogonTimestamp: " + days_before(89) +
                       "\n\n# name closed@x.org\nzimbraAccountStatus: closed\n\n"
                       "# name guest@ext.org\nzimbraIsExternalVirtualAccount: TRUE\n\n");
  auto r = run("accounts.stale", f);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.failing, std::vector<std::string>{"old@x.org"});
  EXPECT_THAT(r.remediation, HasSubstr("zmprov ma old@x.org zimbraAccountStatus closed"));
  EXPECT_EQ(run("accounts.stale", with_review("")).status, Status::pass);
  EXPECT_EQ(run("accounts.stale", base()).status, Status::not_checked);
}

TEST(ExternalVirtualAccounts, EveryOneIsListed) {
  auto r = run("accounts.external-virtual",
               with_review("# name guest@ext.org\nzimbraIsExternalVirtualAccount: TRUE\n\n"
                           "# name old@x.org\nzimbraLastLogonTimestamp: 20200101000000Z\n\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.failing, std::vector<std::string>{"guest@ext.org"});
  EXPECT_THAT(r.remediation, HasSubstr("zmprov da guest@ext.org"));
  EXPECT_EQ(run("accounts.external-virtual",
                with_review("# name old@x.org\nzimbraLastLogonTimestamp: 20200101000000Z\n\n"))
                .status,
            Status::pass);
}

// --- mail flow --------------------------------------------------------------------------------

Facts with_postfix(const std::string& main_cf, const std::string& master_cf = "") {
  auto f = base();
  auto pc = parse_postconf(main_cf, "postconf-n.txt");
  EXPECT_TRUE(pc.ok()) << (pc.ok() ? "" : pc.error().message);
  if (pc.ok()) f.postconf = *pc;
  f.file_of["postconf"] = "postconf-n.txt";
  if (!master_cf.empty()) {
    auto m = parse_master_cf(master_cf, "postconf-M.txt");
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    if (m.ok()) f.master = *m;
    f.file_of["master"] = "postconf-M.txt";
  }
  return f;
}

const char* kSmtpd = "smtp inet n - n - - smtpd\n";
const char* kSubmissionAuth =
    "submission inet n - n - - smtpd -o smtpd_tls_security_level=encrypt "
    "-o smtpd_sasl_auth_enable=yes\n";

TEST(SmtpAuthPort25, OffInMainCfOrOverriddenOnSmtp) {
  EXPECT_EQ(run("mailflow.smtp-auth-port25", with_postfix("smtpd_sasl_auth_enable = no\n")).status,
            Status::pass);
  // Postfix's default is no.
  EXPECT_EQ(run("mailflow.smtp-auth-port25", with_postfix("myhostname = x\n")).status,
            Status::pass);
  auto r = run("mailflow.smtp-auth-port25", with_postfix("smtpd_sasl_auth_enable = yes\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("postconf-M.txt"));
  r = run("mailflow.smtp-auth-port25",
          with_postfix("smtpd_sasl_auth_enable = yes\n", std::string(kSmtpd) + kSubmissionAuth));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(
      run("mailflow.smtp-auth-port25",
          with_postfix("smtpd_sasl_auth_enable = yes\n",
                       std::string("smtp inet n - n - - smtpd -o smtpd_sasl_auth_enable=no\n") +
                           kSubmissionAuth))
          .status,
      Status::pass);
  // Behind postscreen, the smtpd pass service is the one that talks AUTH.
  r = run("mailflow.smtp-auth-port25",
          with_postfix("smtpd_sasl_auth_enable = yes\n",
                       "smtp inet n - n - 1 postscreen\nsmtpd pass - - n - - smtpd\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("postscreen"));
  EXPECT_EQ(run("mailflow.smtp-auth-port25", base()).status, Status::not_checked);
}

TEST(Rbl, RestrictionsOrAPostscreenThatActs) {
  EXPECT_EQ(run("mailflow.rbl", with_postfix("smtpd_recipient_restrictions = "
                                             "permit_mynetworks, reject_unauth_destination\n"))
                .status,
            Status::fail);
  auto r =
      run("mailflow.rbl",
          with_postfix("smtpd_recipient_restrictions = permit_mynetworks,\n"
                       "  reject_rbl_client zen.spamhaus.org, reject_rbl_client bl.example\n"));
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_THAT(r.detail, HasSubstr("2 blocklist(s)"));
  const std::string screen =
      "postscreen_dnsbl_sites = zen.spamhaus.org*3 bl.example*2\npostscreen_dnsbl_threshold = 3\n";
  // Sites without an action are only logged.
  EXPECT_EQ(run("mailflow.rbl", with_postfix(screen + "postscreen_dnsbl_action = ignore\n",
                                             "smtp inet n - n - 1 postscreen\n"))
                .status,
            Status::fail);
  r = run("mailflow.rbl", with_postfix(screen + "postscreen_dnsbl_action = enforce\n",
                                       "smtp inet n - n - 1 postscreen\n"));
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_THAT(r.detail, HasSubstr("threshold 3"));
  // postscreen configured but port 25 is served by smtpd: it never runs.
  EXPECT_EQ(
      run("mailflow.rbl", with_postfix(screen + "postscreen_dnsbl_action = enforce\n", kSmtpd))
          .status,
      Status::fail);
}

TEST(PerAccountRateLimit, APolicyServiceWhereAuthenticatedSendersMeetIt) {
  auto r = run("mailflow.rate-limit",
               with_postfix("smtpd_client_message_rate_limit = 100\n"
                            "smtpd_recipient_restrictions = permit_sasl_authenticated, "
                            "permit_mynetworks, check_policy_service inet:127.0.0.1:10040\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("after a permit"));
  EXPECT_THAT(r.detail, HasSubstr("per client IP"));
  EXPECT_EQ(
      run("mailflow.rate-limit", with_postfix("smtpd_recipient_restrictions = check_policy_service "
                                              "inet:127.0.0.1:10040, permit_sasl_authenticated\n"))
          .status,
      Status::pass);
  EXPECT_EQ(run("mailflow.rate-limit",
                with_postfix("smtpd_end_of_data_restrictions = check_policy_service "
                             "unix:private/policy\n"))
                .status,
            Status::pass);
  auto f = with_postfix("myhostname = x\n");
  f.server = objects(
                 "# name mail.x.org\nzimbraServiceEnabled: mta\nzimbraServiceEnabled: "
                 "cbpolicyd\n\n",
                 "zmprov-gs.txt")
                 .front();
  EXPECT_EQ(run("mailflow.rate-limit", f).status, Status::pass);
}

TEST(MtaTls, OpportunisticOn25StrongWhereMandatory) {
  const std::string strong =
      "smtpd_tls_mandatory_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_ciphers = high\n";
  EXPECT_EQ(
      run("mailflow.mta-tls", with_postfix("smtpd_tls_security_level = may\n" + strong)).status,
      Status::pass);
  auto r = run("mailflow.mta-tls", with_postfix("smtpd_tls_security_level = encrypt\n" + strong));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("requires TLS"));
  EXPECT_EQ(
      run("mailflow.mta-tls", with_postfix("smtpd_tls_security_level = none\n" + strong)).status,
      Status::fail);
  // A master.cf override on smtp is what port 25 uses.
  EXPECT_EQ(run("mailflow.mta-tls",
                with_postfix("smtpd_tls_security_level = may\n" + strong,
                             "smtp inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n"))
                .status,
            Status::fail);
  r = run("mailflow.mta-tls", with_postfix("smtpd_tls_security_level = may\n"
                                           "smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3\n"
                                           "smtpd_tls_mandatory_ciphers = high\n"));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("TLSv1, TLSv1.1"));
  EXPECT_EQ(
      run("mailflow.mta-tls",
          with_postfix("smtpd_tls_security_level = may\nsmtpd_tls_mandatory_protocols = "
                       "!SSLv2:!SSLv3:!TLSv1:!TLSv1.1\nsmtpd_tls_mandatory_ciphers = medium\n"))
          .status,
      Status::pass);
  EXPECT_EQ(run("mailflow.mta-tls",
                with_postfix("smtpd_tls_security_level = may\nsmtpd_tls_mandatory_protocols = "
                             "TLSv1.2 TLSv1.3\nsmtpd_tls_mandatory_ciphers = export\n"))
                .status,
            Status::fail);
  r = run("mailflow.mta-tls", with_postfix("smtpd_tls_security_level = may\n"
                                           "smtpd_tls_mandatory_protocols = >=TLSv9\n"));
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("TLSv9"));
}

// --- network ----------------------------------------------------------------------------------

Facts with_rules(const std::string& iptables_save) {
  auto f = base();
  fw::Ruleset rs;
  auto s = fw::add_dump(rs, "# Generated by iptables-save v1.8.9\n" + iptables_save,
                        "iptables-save.txt");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  f.ruleset = std::move(rs);
  f.ruleset_v4 = true;
  return f;
}

const std::string kInputOpen = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n";

TEST(EgressSmtp, OwnerRuleOrDropPolicy) {
  auto r = run("network.egress-smtp", with_rules(kInputOpen + ":OUTPUT ACCEPT [0:0]\nCOMMIT\n"));
  EXPECT_EQ(r.status, Status::fail);
  r = run("network.egress-smtp",
          with_rules(kInputOpen +
                     ":OUTPUT ACCEPT [0:0]\n-A OUTPUT -o lo -j ACCEPT\n"
                     "-A OUTPUT -p tcp -m tcp --dport 25 -m owner ! --uid-owner postfix -j REJECT\n"
                     "COMMIT\n"));
  EXPECT_EQ(r.status, Status::pass) << r.detail;
  // The same rule in a chain reached by a jump.
  EXPECT_EQ(run("network.egress-smtp",
                with_rules(kInputOpen +
                           ":OUTPUT ACCEPT [0:0]\n:smtp-out - [0:0]\n-A OUTPUT -j smtp-out\n"
                           "-A smtp-out -p tcp --dport 25 -m owner ! --uid-owner postfix -j DROP\n"
                           "COMMIT\n"))
                .status,
            Status::pass);
  // An accept of everything before it wins.
  EXPECT_EQ(run("network.egress-smtp",
                with_rules(kInputOpen +
                           ":OUTPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\n"
                           "-A OUTPUT -p tcp --dport 25 -m owner ! --uid-owner postfix -j REJECT\n"
                           "COMMIT\n"))
                .status,
            Status::fail);
  EXPECT_EQ(
      run("network.egress-smtp", with_rules(kInputOpen + ":OUTPUT DROP [0:0]\nCOMMIT\n")).status,
      Status::pass);
  EXPECT_EQ(run("network.egress-smtp", base()).status, Status::not_checked);
}

TEST(MemcachedCluster, OnlyTheClusterReachesIt) {
  auto world = with_rules(kInputOpen + ":OUTPUT ACCEPT [0:0]\nCOMMIT\n");
  world.topology = "multi";
  auto r = run("network.memcached-cluster", world);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("11211/tcp"));
  auto cluster = with_rules(
      "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      "-A INPUT -s 10.0.0.0/24 -p tcp --dport 11211 -j ACCEPT\nCOMMIT\n");
  cluster.topology = "multi";
  EXPECT_EQ(run("network.memcached-cluster", cluster).status, Status::pass);
  // A single server: the loopback control applies instead.
  EXPECT_EQ(
      run("network.memcached-cluster", with_rules(kInputOpen + ":OUTPUT ACCEPT [0:0]\nCOMMIT\n"))
          .status,
      Status::not_applicable);
}

TEST(MemcachedBind, ClientListMustPointAtLoopback) {
  auto f = base();
  f.listeners = std::vector<ListeningSocket>{};
  f.server = objects(
                 "# name mail.x.org\nzimbraMemcachedBindAddress: 127.0.0.1\n"
                 "zimbraMemcachedClientServerList: 192.0.2.7:11211\n\n",
                 "zmprov-gs.txt")
                 .front();
  auto r = run("network.memcached-bind", f);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("192.0.2.7:11211"));
  f.server = objects(
                 "# name mail.x.org\nzimbraMemcachedBindAddress: 127.0.0.1\n"
                 "zimbraMemcachedClientServerList: 127.0.0.1:11211\n\n",
                 "zmprov-gs.txt")
                 .front();
  EXPECT_EQ(run("network.memcached-bind", f).status, Status::pass);
}

}  // namespace
}  // namespace mw::audit
