// Boundary tests for every numeric control: each catalog control compared with ge, le, between,
// duration_ge or duration_le is evaluated at its threshold, one unit inside and one unit outside
// (in every unit that writes the threshold exactly, down to milliseconds) and at 0 where 0 means
// infinite; the C++ checks with numeric thresholds have hand-written boundary tables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/iis.hpp"
#include "audit/zimbra_version.hpp"
#include "audit_test_data.hpp"
#include "catalog/ports.hpp"
#include "firewall/ruleset_loader.hpp"

namespace mw::audit {
namespace {

// ---------------------------------------------------------------------------------------------
// The catalog, loaded once.

struct LoadedCatalog {
  std::vector<Control> controls;
  std::string error;  // why catalog/controls did not load
};

const LoadedCatalog& catalog() {
  static const LoadedCatalog loaded = [] {
    LoadedCatalog out;
    auto c = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
    if (c.ok()) {
      out.controls = std::move(*c);
    } else {
      out.error = c.error().message;
    }
    return out;
  }();
  return loaded;
}

const Control* control_by_id(std::string_view id) {
  for (const auto& c : catalog().controls) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const Control* control_with_custom_check(std::string_view name) {
  for (const auto& c : catalog().controls) {
    if (c.check.kind == CheckKind::custom && c.check.name == name) return &c;
  }
  return nullptr;
}

const CustomChecks& checks() {
  static const CustomChecks all = builtin_checks();
  return all;
}

bool is_numeric(const Check& k) {
  if (k.kind == CheckKind::package || k.kind == CheckKind::custom) return false;
  switch (k.op) {
    case Op::ge:
    case Op::le:
    case Op::between:
    case Op::duration_ge:
    case Op::duration_le:
      return true;
    default:
      return false;
  }
}

bool is_duration(Op op) {
  return op == Op::duration_ge || op == Op::duration_le;
}

// ---------------------------------------------------------------------------------------------
// An independent reading of the thresholds (not the engine's parser, so that a parser mistake
// shows as a failing case): Zimbra durations (DateUtil.getTimeInterval) in milliseconds.

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Every way to write a duration, smallest unit first; "" is a bare number, which Zimbra (and
// sshd -T) read as seconds.
constexpr std::array<Unit, 6> kUnits = {
    {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};

std::optional<std::int64_t> reference_integer(std::string_view text) {
  std::int64_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return n;
}

std::optional<std::int64_t> reference_ms(std::string_view text) {
  // "ms" before "m" and "s"; the bare number last.
  for (auto [suffix, factor] : {std::pair<std::string_view, std::int64_t>{"ms", 1},
                                {"s", 1000},
                                {"m", 60'000},
                                {"h", 3'600'000},
                                {"d", 86'400'000},
                                {"", 1000}}) {
    if (text.size() <= suffix.size() || !text.ends_with(suffix)) continue;
    const std::string_view digits = text.substr(0, text.size() - suffix.size());
    if (!std::all_of(digits.begin(), digits.end(),
                     [](char ch) { return ch >= '0' && ch <= '9'; })) {
      continue;
    }
    auto n = reference_integer(digits);
    if (!n || *n > std::numeric_limits<std::int64_t>::max() / factor) return std::nullopt;
    return *n * factor;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// The generated cases.

struct BoundaryCase {
  std::string id;     // the control
  std::string label;  // unique within the control, part of the test name: "outside_3599s"
  std::string value;  // the fact, as zmprov / zmlocalconfig / postconf / sshd -T would print it
  Status expected = Status::pass;
  std::string problem;  // set: the generator cannot build cases for this control
};

void PrintTo(const BoundaryCase& c, std::ostream* os) {
  if (!c.problem.empty()) {
    *os << c.id << ": cannot generate cases";
    return;
  }
  *os << c.id << " = " << c.value << " -> " << status_name(c.expected);
}

std::string test_name(const std::string& text) {
  std::string out;
  for (char ch : text) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

// Cases for one numeric control, or one case naming the problem.
std::vector<BoundaryCase> cases_for(const Control& c) {
  std::vector<BoundaryCase> out;
  const Check& k = c.check;
  auto problem = [&](const std::string& why) {
    return std::vector<BoundaryCase>{
        {c.id, "cannot_generate", "", Status::not_checked,
         c.id + " (" + c.origin + "): the boundary generator cannot test this control: " + why +
             "; teach tests/audit/boundary_test.cpp this form"}};
  };
  if (k.kind != CheckKind::attr && k.kind != CheckKind::localconfig &&
      k.kind != CheckKind::postconf && k.kind != CheckKind::sshd) {
    return problem("no facts for a numeric check of this kind");
  }
  const bool infinite_zero = k.zero_is_infinite;
  auto add = [&](const std::string& role, std::int64_t n, std::string_view suffix, Status s) {
    // A generated neighbour that is 0 means "infinite" under zero_is_infinite: the zero cases
    // below test it. One unit inside a threshold of 1 in a coarse unit is 0, which the catalog
    // gives no meaning: the finer units test that side.
    if (n < 0 && is_duration(k.op)) return;  // a duration has no sign
    if (n == 0 && (infinite_zero || role == "inside")) return;
    std::string value = std::to_string(n) + std::string(suffix);
    out.push_back({c.id, role + "_" + value, value, s, ""});
  };
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  bool zero_passes = false;  // 0 = infinite passes a lower bound only
  switch (k.op) {
    case Op::ge:
    case Op::le: {
      auto t = reference_integer(k.expected);
      if (!t) return problem("threshold '" + k.expected + "' is not an integer");
      const bool up = k.op == Op::ge;
      zero_passes = up;
      add("at", *t, "", Status::pass);
      if (up ? *t < kMax : *t > kMin) add("inside", up ? *t + 1 : *t - 1, "", Status::pass);
      if (up ? *t > kMin : *t < kMax) add("outside", up ? *t - 1 : *t + 1, "", Status::fail);
      break;
    }
    case Op::between: {
      if (!k.min || !k.max) return problem("between without min and max");
      add("at_min", *k.min, "", Status::pass);
      add("at_max", *k.max, "", Status::pass);
      if (*k.min < *k.max) {
        add("inside_min", *k.min + 1, "", Status::pass);
        add("inside_max", *k.max - 1, "", Status::pass);
      }
      if (*k.min > kMin) add("outside_min", *k.min - 1, "", Status::fail);
      if (*k.max < kMax) add("outside_max", *k.max + 1, "", Status::fail);
      zero_passes = *k.max == kMax;
      break;
    }
    case Op::duration_ge:
    case Op::duration_le: {
      auto t = reference_ms(k.expected);
      if (!t) {
        return problem("threshold '" + k.expected +
                       "' is not a Zimbra duration (digits and one of d, h, m, s, ms)");
      }
      const bool up = k.op == Op::duration_ge;
      zero_passes = up;
      // The threshold in every unit that writes it exactly: "1h" is also 60m, 3600s, 3600 and
      // 3600000ms; one unit inside and outside in each, down to one millisecond.
      for (const Unit& u : kUnits) {
        if (*t % u.ms != 0) continue;
        const std::int64_t n = *t / u.ms;
        add("at", n, u.suffix, Status::pass);
        add("inside", up ? n + 1 : n - 1, u.suffix, Status::pass);
        add("outside", up ? n - 1 : n + 1, u.suffix, Status::fail);
      }
      break;
    }
    default:
      return problem("not a numeric op");
  }
  if (infinite_zero) {
    // 0 is never / forever: beyond every upper bound, and past every lower bound.
    const Status s = zero_passes ? Status::pass : Status::fail;
    if (is_duration(k.op)) {
      for (const char* z : {"0", "0ms", "0s", "0m", "0h", "0d"}) {
        out.push_back({c.id, std::string("zero_") + z, z, s, ""});
      }
    } else {
      out.push_back({c.id, "zero_0", "0", s, ""});
    }
  }
  return out;
}

std::vector<const Control*> numeric_controls() {
  std::vector<const Control*> out;
  for (const auto& c : catalog().controls) {
    if (is_numeric(c.check)) out.push_back(&c);
  }
  return out;
}

std::vector<BoundaryCase> all_cases() {
  std::vector<BoundaryCase> out;
  if (!catalog().error.empty()) {
    out.push_back({"catalog", "does_not_load", "", Status::not_checked,
                   "catalog/controls does not load: " + catalog().error});
    return out;
  }
  // Test names keep letters and digits only: two ids that differ in '.' and '-' alone must
  // still give distinct names.
  std::set<std::string> names;
  for (const Control* c : numeric_controls()) {
    for (auto& bc : cases_for(*c)) {
      while (!names.insert(test_name(bc.id + "__" + bc.label)).second) bc.label += "_";
      out.push_back(std::move(bc));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Facts that hold one value where the control reads it.

// The object an attr check at `level` reads, named as the engine names it in `failing`.
struct ObjectAt {
  const char* header;  // "# name ..." line, "" for gacf (which prints none)
  const char* file;
  const char* failing;
};
ObjectAt object_at(Level l) {
  switch (l) {
    case Level::global:
      return {"", "zmprov-gacf.txt", "global"};
    case Level::server:
      return {"# name mail.example.org\n", "zmprov-gs.txt", "mail.example.org"};
    case Level::cos:
      return {"# name default\n", "zmprov-gac-v.txt", "default"};
    case Level::domain:
      return {"# name example.org\n", "zmprov-gd.txt", "example.org"};
    case Level::admin:
      return {"# name admin@example.org\n", "zmprov-gaaa-v.txt", "admin@example.org"};
  }
  return {"", "", ""};
}

std::optional<Facts> facts_holding(const Control& c, const std::string& value, std::string& why) {
  Facts f;
  f.attrs = &test::tables().attrs;
  f.localconfig_keys = &test::tables().keys;
  // The control must apply: these tests are about its threshold.
  if (c.applies.topology) f.topology = *c.applies.topology;
  if (c.applies.edition) f.edition = *c.applies.edition;
  const Check& k = c.check;
  switch (k.kind) {
    case CheckKind::attr: {
      const ObjectAt at = object_at(k.level);
      auto parsed = parse_zmprov(std::string(at.header) + k.name + ": " + value + "\n", at.file);
      if (!parsed.ok() || parsed->entries.size() != 1) {
        why = parsed.ok() ? "not one zmprov entry" : parsed.error().message;
        return std::nullopt;
      }
      ZObject o{std::move(parsed->entries.front()), at.file};
      switch (k.level) {
        case Level::global:
          f.global = std::move(o);
          break;
        case Level::server:
          f.server = std::move(o);
          break;
        case Level::cos:
          f.coses.push_back(std::move(o));
          break;
        case Level::domain:
          f.domains.push_back(std::move(o));
          break;
        case Level::admin:
          f.admins.push_back(std::move(o));
          break;
      }
      return f;
    }
    case CheckKind::localconfig: {
      auto parsed = parse_localconfig(k.name + " = " + value + "\n", "zmlocalconfig-s.txt");
      if (!parsed.ok()) {
        why = parsed.error().message;
        return std::nullopt;
      }
      f.localconfig = std::move(*parsed);
      return f;
    }
    case CheckKind::postconf: {
      auto parsed = parse_postconf(k.name + " = " + value + "\n", "postconf-n.txt");
      if (!parsed.ok()) {
        why = parsed.error().message;
        return std::nullopt;
      }
      f.postconf = std::move(*parsed);
      return f;
    }
    case CheckKind::sshd: {
      auto parsed = parse_sshd_t(k.name + " " + value + "\n", "sshd-T.txt");
      if (!parsed.ok()) {
        why = parsed.error().message;
        return std::nullopt;
      }
      f.sshd = std::move(*parsed);
      return f;
    }
    case CheckKind::package:
    case CheckKind::custom:
      break;
  }
  why = "no generic facts for a package or custom check";
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// The catalog-driven cases.

class NumericBoundary : public ::testing::TestWithParam<BoundaryCase> {};

// Evaluates `c` on facts holding the case's value and checks the outcome.
void expect_boundary(const Control& c, const BoundaryCase& bc) {
  std::string why;
  auto facts = facts_holding(c, bc.value, why);
  ASSERT_TRUE(facts) << c.id << " (" << c.origin << "): cannot build facts holding '" << bc.value
                     << "': " << why;
  auto r = evaluate(c, *facts, checks());
  EXPECT_EQ(status_name(r.status), status_name(bc.expected))
      << c.id << " (" << c.origin << ") with " << c.check.name << " = " << bc.value << ": "
      << r.detail;
  // The engine compared the value written, not a default.
  ASSERT_EQ(r.facts.size(), 1u) << c.id;
  EXPECT_EQ(r.facts.front().value, bc.value) << c.id << ": " << r.facts.front().origin;
  if (c.check.kind == CheckKind::attr) {
    const auto failing = bc.expected == Status::fail
                             ? std::vector<std::string>{object_at(c.check.level).failing}
                             : std::vector<std::string>{};
    EXPECT_EQ(r.failing, failing) << c.id;
  }
}

TEST_P(NumericBoundary, PassesInsideAndFailsOutside) {
  const BoundaryCase& bc = GetParam();
  if (!bc.problem.empty()) FAIL() << bc.problem;
  const Control* c = control_by_id(bc.id);
  ASSERT_NE(c, nullptr) << bc.id;
  expect_boundary(*c, bc);
}

INSTANTIATE_TEST_SUITE_P(Catalog, NumericBoundary, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<BoundaryCase>& info) {
                           return test_name(info.param.id + "__" + info.param.label);
                         });

// The numeric controls of catalog/controls when this test was written (15):
//   accounts.password.min-length (ge 10), .upper-case, .lower-case, .digit, .punctuation
//   (ge 1), accounts.password.max-age (between 1 and 90), accounts.password.history (ge 3),
//   accounts.lockout.duration (duration_ge 1h, 0 = infinite), accounts.lockout.failure-window
//   (duration_ge 30m), accounts.login-ip-filter (server, between 1 and 10),
//   accounts.login-ip-filter-delay (server, ge 15), web.user-token-lifetime (duration_le 1d),
//   web.admin-token-lifetime (duration_le 2h), web.idle-timeout (duration_le 1h, 0 = infinite),
//   web.last-logon-frequency (global, duration_le 1d).
// Controls are added, never silently lost: finding fewer means the generator stopped
// recognising them (and the parameterized suite above would test nothing).
constexpr std::size_t kNumericControlsToday = 15;

TEST(NumericControls, TheGeneratorFindsAndCoversEveryOne) {
  ASSERT_TRUE(catalog().error.empty()) << catalog().error;
  const auto numeric = numeric_controls();
  std::string ids;
  for (const Control* c : numeric) ids += " " + c->id;
  EXPECT_GE(numeric.size(), kNumericControlsToday) << "numeric controls found:" << ids;
  for (const Control* c : numeric) {
    std::set<std::string> roles;
    for (const auto& bc : cases_for(*c)) {
      if (!bc.problem.empty()) {
        ADD_FAILURE() << bc.problem;
        continue;
      }
      roles.insert(bc.label.substr(0, bc.label.find('_')));
    }
    // Every control is tested on both sides of its threshold, and at 0 when 0 is infinite.
    for (const char* role : {"at", "inside", "outside"}) {
      EXPECT_TRUE(roles.count(role)) << c->id << ": no '" << role << "' case";
    }
    if (c->check.zero_is_infinite) {
      EXPECT_TRUE(roles.count("zero")) << c->id << ": no zero case";
    }
  }
}

TEST(NumericControls, TheReferenceReadingOfDurations) {
  // The oracle the generated cases rest on.
  EXPECT_EQ(reference_ms("1h"), 3'600'000);
  EXPECT_EQ(reference_ms("60m"), 3'600'000);
  EXPECT_EQ(reference_ms("3600"), 3'600'000);
  EXPECT_EQ(reference_ms("3600s"), 3'600'000);
  EXPECT_EQ(reference_ms("3600000ms"), 3'600'000);
  EXPECT_EQ(reference_ms("2d"), 172'800'000);
  EXPECT_EQ(reference_ms("1w"), std::nullopt);
  EXPECT_EQ(reference_ms("-1h"), std::nullopt);
  EXPECT_EQ(reference_ms("h"), std::nullopt);
}

// The generator on every form a catalog control may take, including the kinds and levels no
// numeric control of today's catalog uses, so that a new control of such a form is tested
// rather than stopping the generator.
TEST(NumericControls, TheGeneratorHandlesEveryKindAndLevel) {
  auto make = [](const std::string& id, CheckKind kind, Level level, const std::string& name, Op op,
                 const std::string& expected) {
    Control c;
    c.id = id;
    c.title = "synthetic";
    c.origin = "boundary_test.cpp";
    c.remediation = "zmprov {object} {value}";
    c.check.kind = kind;
    c.check.level = level;
    c.check.name = name;
    c.check.op = op;
    c.check.expected = expected;
    return c;
  };
  std::vector<Control> forms = {
      make("t.global", CheckKind::attr, Level::global, "zimbraLastLogonTimestampFrequency",
           Op::duration_le, "7d"),
      make("t.server", CheckKind::attr, Level::server, "zimbraInvalidLoginFilterMaxFailedLogin",
           Op::le, "10"),
      make("t.cos", CheckKind::attr, Level::cos, "zimbraPasswordMinLength", Op::ge, "12"),
      make("t.domain", CheckKind::attr, Level::domain, "zimbraGalMaxResults", Op::ge, "-3"),
      make("t.admin", CheckKind::attr, Level::admin, "zimbraAdminAuthTokenLifetime",
           Op::duration_le, "90m"),
      make("t.localconfig", CheckKind::localconfig, Level::global, "ldap_read_timeout", Op::ge,
           "30000"),
      make("t.postconf", CheckKind::postconf, Level::global, "smtpd_timeout", Op::duration_le,
           "300s"),
      make("t.sshd", CheckKind::sshd, Level::global, "maxauthtries", Op::le, "4"),
      make("t.sshd-time", CheckKind::sshd, Level::global, "logingracetime", Op::duration_le, "60"),
      make("t.between", CheckKind::attr, Level::cos, "zimbraPasswordMaxAge", Op::between, ""),
      make("t.zero-le", CheckKind::localconfig, Level::global, "zimbra_session_timeout", Op::le,
           "3600"),
      make("t.zero-ge", CheckKind::attr, Level::cos, "zimbraPasswordLockoutDuration",
           Op::duration_ge, "2d"),
      make("t.multi", CheckKind::attr, Level::server, "zimbraMailPort", Op::between, ""),
  };
  forms[9].check.min = 1;
  forms[9].check.max = 90;
  forms[9].check.zero_is_infinite = true;
  forms[10].check.zero_is_infinite = true;
  forms[11].check.zero_is_infinite = true;
  forms[12].check.min = 1;
  forms[12].check.max = 1;
  forms[12].applies.topology = "multi";
  forms[12].applies.edition = "network";
  for (const auto& c : forms) {
    auto cases = cases_for(c);
    ASSERT_FALSE(cases.empty()) << c.id;
    std::set<std::string> roles;
    for (const auto& bc : cases) {
      SCOPED_TRACE(::testing::Message() << c.id << " = " << bc.value);
      ASSERT_TRUE(bc.problem.empty()) << bc.problem;
      roles.insert(bc.label.substr(0, bc.label.find('_')));
      expect_boundary(c, bc);
    }
    EXPECT_TRUE(roles.count("at") && roles.count("outside")) << c.id;
    EXPECT_EQ(roles.count("zero") != 0, c.check.zero_is_infinite) << c.id;
  }
  // A form it cannot build names the control.
  auto pkg = make("t.package", CheckKind::package, Level::global, "pax", Op::ge, "1");
  auto cases = cases_for(pkg);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_THAT(cases.front().problem, ::testing::HasSubstr("t.package"));
  auto week = make("t.week", CheckKind::postconf, Level::global, "maximal_queue_lifetime",
                   Op::duration_le, "1w");
  cases = cases_for(week);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_THAT(cases.front().problem, ::testing::HasSubstr("t.week"));
}

// ---------------------------------------------------------------------------------------------
// Custom (C++) checks. Each one the catalog names is sorted here: it has a numeric threshold,
// tested by a hand-written boundary table below, or it was read and has none. A check that is
// in neither list fails the test below, naming the control, so that a new threshold cannot go
// untested silently.

const std::set<std::string, std::less<>> kCustomWithBoundaryTests = {
    "lockout-max-failures",       // at most 5 failures, 10 with fail2ban (custom_checks.cpp)
    "mynetworks-loopback-only",   // prefix length: /32 or /128, loopback /8 or longer
    "security-updates",           // pending security updates: 0
    "admin-unused",               // days since the last logon < the catalog's value
    "stale-accounts",             //   (account_checks.cpp)
    "admin-local-auth",           // zimbraPasswordMinLength >= the catalog's value, or 2FA
    "mta-tls",                    // mandatory TLS >= TLSv1.2, ciphers medium or high
    "zimbra-version",             // installed release >= the line's fixed release
    "log-retention",              // logs kept >= the catalog's days (host_checks.cpp)
    "haveged",                    // needed below the catalog's kernel version
    "firewall-default-drop-v4",   // "the world": at least half of the address space
    "firewall-default-drop-v6",   //   (network_checks.cpp, world())
    "admin-console-not-public",   //
    "internal-ports-not-public",  //
    "memcached-udp-closed",       //
    "memcached-cluster-only",     //
    "ecp-allow-list",             // allow entries up to a /24 (IPv6: /64) (iis_checks.cpp)
    "ecp-not-world",              // "the world": at least half the address space
};
const std::set<std::string, std::less<>> kCustomWithoutNumericThreshold = {
    "sender-login-mismatch",      // a word in a list
    "sshd-password-anywhere",     // yes/no per sshd_config directive
    "submission-tls",             // words in master.cf overrides
    "reboot-pending",             // a file present or not
    "fail2ban-jails",             // jail names
    "memcached-bind-local",       // a listener outside loopback or not
    "admin-separate",             // always not_checked: a person decides
    "external-virtual-accounts",  // any such account is listed
    "smtp-auth-port25",           // yes/no per smtp service
    "rbl",                        // a blocklist named or not (postscreen's threshold is shown)
    "per-account-rate-limit",     // a policy service or cbpolicyd present or not
    "egress-smtp",                // output chain verdicts
    "remote-syslog",              // a forwarding action to another host or not
    "chrony",                     // installed and answering or not
    "ecp-restricted",             // allowUnlisted and the module (iis_checks.cpp)
    "ecp-proxy-mode",             // enableProxyMode against the policy
    "ecp-restriction-locked",     // overrideMode and lock attributes
};

TEST(CustomChecks, EveryOneIsSortedByWhetherItHasANumericThreshold) {
  ASSERT_TRUE(catalog().error.empty()) << catalog().error;
  for (const auto& c : catalog().controls) {
    if (c.check.kind != CheckKind::custom) continue;
    const std::string& name = c.check.name;
    const bool tested = kCustomWithBoundaryTests.count(name) != 0;
    const bool none = kCustomWithoutNumericThreshold.count(name) != 0;
    EXPECT_TRUE(tested || none)
        << c.id << " (" << c.origin << ") uses custom check '" << name
        << "', unknown to tests/audit/boundary_test.cpp: if it has a numeric threshold, add its "
           "boundary cases there and list it in kCustomWithBoundaryTests, otherwise in "
           "kCustomWithoutNumericThreshold";
    // A threshold taken from the catalog ("90" days) is numeric by definition.
    EXPECT_TRUE(c.check.expected.empty() || !none)
        << c.id << ": custom check '" << name << "' takes the threshold '" << c.check.expected
        << "' from the catalog, yet is listed as having no numeric threshold";
  }
  for (const auto& name : kCustomWithBoundaryTests) {
    EXPECT_TRUE(checks().count(name)) << "no built-in check '" << name << "'";
  }
}

std::vector<ZObject> zobjects(const std::string& text, const std::string& file) {
  auto parsed = parse_zmprov(text, file);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  std::vector<ZObject> out;
  if (parsed.ok()) {
    for (auto& e : parsed->entries) out.push_back({std::move(e), file});
  }
  return out;
}

// ---- lockout-max-failures: at most 5 failures, or 10 where fail2ban is installed; 0 = none.

enum class Fail2ban { unknown, not_installed, removed, installed };

struct LockoutCase {
  Fail2ban fail2ban;
  const char* value;  // nullptr: absent, so the COS default of attrs.tsv (10)
  Status expected;
};

Facts lockout_facts(Fail2ban fail2ban, const std::string& cos_text) {
  Facts f;
  f.attrs = &test::tables().attrs;
  f.coses = zobjects(cos_text, "zmprov-gac-v.txt");
  const char* dpkg = nullptr;
  switch (fail2ban) {
    case Fail2ban::unknown:
      break;
    case Fail2ban::not_installed:
      dpkg = "ii  openssh-server 1:9.2p1-2 amd64 secure shell (SSH) server\n";
      break;
    case Fail2ban::removed:  // configuration files left: not installed
      dpkg = "rc  fail2ban 1.0.2-2 all ban hosts that cause multiple authentication errors\n";
      break;
    case Fail2ban::installed:
      dpkg = "ii  fail2ban 1.0.2-2 all ban hosts that cause multiple authentication errors\n";
      break;
  }
  if (dpkg) {
    auto p = parse_dpkg_l(dpkg, "dpkg-l.txt");
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    if (p.ok()) f.packages = std::move(*p);
  }
  return f;
}

std::string cos_with_max_failures(const char* value) {
  std::string text = "# name default\nzimbraPasswordLockoutEnabled: TRUE\n";
  if (value) text += std::string("zimbraPasswordLockoutMaxFailures: ") + value + "\n";
  return text + "\n";
}

TEST(CustomBoundary, LockoutMaxFailures) {
  const Control* c = control_with_custom_check("lockout-max-failures");
  ASSERT_NE(c, nullptr) << "no control uses the custom check lockout-max-failures";
  const std::vector<LockoutCase> cases = {
      // Without fail2ban (package list missing, fail2ban not in it, or removed): at most 5.
      {Fail2ban::unknown, "5", Status::pass},
      {Fail2ban::unknown, "4", Status::pass},
      {Fail2ban::unknown, "6", Status::fail},
      {Fail2ban::unknown, "1", Status::pass},
      {Fail2ban::unknown, "0", Status::fail},  // 0: no lockout at all
      {Fail2ban::unknown, nullptr, Status::fail},
      {Fail2ban::not_installed, "5", Status::pass},
      {Fail2ban::not_installed, "6", Status::fail},
      {Fail2ban::not_installed, "0", Status::fail},
      {Fail2ban::removed, "5", Status::pass},
      {Fail2ban::removed, "6", Status::fail},
      // With fail2ban banning the guessing address: at most 10.
      {Fail2ban::installed, "10", Status::pass},
      {Fail2ban::installed, "9", Status::pass},
      {Fail2ban::installed, "11", Status::fail},
      {Fail2ban::installed, "6", Status::pass},
      {Fail2ban::installed, "1", Status::pass},
      {Fail2ban::installed, "0", Status::fail},
      {Fail2ban::installed, nullptr, Status::pass},  // the default, 10
  };
  for (const auto& lc : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "fail2ban " << static_cast<int>(lc.fail2ban) << ", max failures "
                 << (lc.value ? lc.value : "absent (default)"));
    auto f = lockout_facts(lc.fail2ban, cos_with_max_failures(lc.value));
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(lc.expected)) << r.detail;
    EXPECT_EQ(r.failing, lc.expected == Status::fail ? std::vector<std::string>{"default"}
                                                     : std::vector<std::string>{});
  }
}

TEST(CustomBoundary, LockoutMaxFailuresEveryCosOnItsOwn) {
  const Control* c = control_with_custom_check("lockout-max-failures");
  ASSERT_NE(c, nullptr);
  auto f = lockout_facts(Fail2ban::not_installed,
                         "# name default\nzimbraPasswordLockoutMaxFailures: 5\n\n"
                         "# name contractors\nzimbraPasswordLockoutMaxFailures: 6\n\n");
  auto r = evaluate(*c, f, checks());
  EXPECT_EQ(status_name(r.status), "fail");
  EXPECT_EQ(r.failing, std::vector<std::string>{"contractors"});
}

TEST(CustomBoundary, LockoutMaxFailuresNegativeDisablesLockout) {
  const Control* c = control_with_custom_check("lockout-max-failures");
  ASSERT_NE(c, nullptr);
  for (auto fail2ban : {Fail2ban::not_installed, Fail2ban::installed}) {
    auto f = lockout_facts(fail2ban, cos_with_max_failures("-1"));
    EXPECT_EQ(status_name(evaluate(*c, f, checks()).status), "fail");
  }
}

// ---- mynetworks-loopback-only: single hosts (/32, /128) and loopback (127/8 or longer).

TEST(CustomBoundary, MynetworksPrefixLengths) {
  const Control* c = control_with_custom_check("mynetworks-loopback-only");
  ASSERT_NE(c, nullptr) << "no control uses the custom check mynetworks-loopback-only";
  struct Case {
    const char* value;
    Status expected;
  };
  const std::vector<Case> cases = {
      {"127.0.0.0/8", Status::pass},       {"127.0.0.0/9", Status::pass},
      {"127.0.0.0/7", Status::fail},  // 126.0.0.0/7: no longer only loopback
      {"192.0.2.10/32", Status::pass},     {"192.0.2.10", Status::pass},
      {"192.0.2.10/31", Status::fail},     {"[::1]/128", Status::pass},
      {"[::1]/127", Status::fail},         {"[2001:db8::1]/128", Status::pass},
      {"[2001:db8::1]/127", Status::fail},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.value);
    auto server =
        zobjects(std::string("# name mail.example.org\nzimbraMtaMyNetworks: ") + k.value + "\n\n",
                 "zmprov-gs.txt");
    ASSERT_EQ(server.size(), 1u);
    Facts f;
    f.server = std::move(server.front());
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- security-updates: none pending passes, one fails.

TEST(CustomBoundary, SecurityUpdatesPending) {
  const Control* c = control_with_custom_check("security-updates");
  ASSERT_NE(c, nullptr) << "no control uses the custom check security-updates";
  Facts f;
  f.security_updates = std::vector<std::string>{};
  EXPECT_EQ(status_name(evaluate(*c, f, checks()).status), "pass");
  f.security_updates = std::vector<std::string>{"openssl/bookworm-security"};
  EXPECT_EQ(status_name(evaluate(*c, f, checks()).status), "fail");
}

// ---- admin-unused, stale-accounts: unused for the catalog's number of days or more fails.

// "YYYYMMDDHHMMSSZ" (LDAP generalized time) of `t`.
std::string generalized_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

constexpr const char* kCollectedAt = "2026-11-28T12:00:00Z";
std::time_t collected_at() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 28;
  tm.tm_hour = 12;
  return timegm(&tm);
}

// A custom check's threshold from the catalog (`value`): days, characters.
std::int64_t catalog_number(const Control& c) {
  auto n = reference_integer(c.check.expected);
  EXPECT_TRUE(n) << c.id << ": the threshold '" << c.check.expected << "' is not a number";
  return n.value_or(0);
}

struct IdleCase {
  std::string what;
  std::string attrs;  // zmprov lines of the account besides its flags
  Status expected;
};

std::vector<IdleCase> idle_cases(std::int64_t days) {
  const std::time_t now = collected_at();
  const std::int64_t limit = days * 86400;
  auto logon = [&](std::int64_t ago) {
    return "zimbraLastLogonTimestamp: " + generalized_time(now - ago) + "\n";
  };
  auto created = [&](std::int64_t ago) {
    return "zimbraCreateTimestamp: " + generalized_time(now - ago) + "\n";
  };
  return {
      {"last logon exactly the limit ago", logon(limit), Status::fail},
      {"last logon one second short of the limit", logon(limit - 1), Status::pass},
      {"last logon one day short of the limit", logon(limit - 86400), Status::pass},
      {"last logon one day past the limit", logon(limit + 86400), Status::fail},
      {"never logged in, created exactly the limit ago", created(limit), Status::fail},
      {"never logged in, created one second short of it", created(limit - 1), Status::pass},
      {"never logged in, no creation time", "", Status::fail},
      {"locked, last logon one day past the limit",
       "zimbraAccountStatus: locked\n" + logon(limit + 86400), Status::pass},
  };
}

TEST(CustomBoundary, AdminUnusedDays) {
  const Control* c = control_with_custom_check("admin-unused");
  ASSERT_NE(c, nullptr) << "no control uses the custom check admin-unused";
  for (const auto& k : idle_cases(catalog_number(*c))) {
    for (const char* flag : {"zimbraIsAdminAccount", "zimbraIsDelegatedAdminAccount"}) {
      SCOPED_TRACE(::testing::Message() << flag << ", " << k.what);
      Facts f;
      f.collected_at = kCollectedAt;
      f.admins =
          zobjects("# name admin@example.org\n" + std::string(flag) + ": TRUE\n" + k.attrs + "\n",
                   "zmprov-gaaa-v.txt");
      auto r = evaluate(*c, f, checks());
      EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
    }
  }
}

TEST(CustomBoundary, StaleAccountsDays) {
  const Control* c = control_with_custom_check("stale-accounts");
  ASSERT_NE(c, nullptr) << "no control uses the custom check stale-accounts";
  for (const auto& k : idle_cases(catalog_number(*c))) {
    SCOPED_TRACE(k.what);
    Facts f;
    f.collected_at = kCollectedAt;
    f.review_accounts =
        zobjects("# name user@example.org\n" + k.attrs + "\n", "zmprov-sa-review.txt");
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- admin-local-auth: a global admin without 2FA needs passwords of the catalog's length.

TEST(CustomBoundary, AdminLocalAuthPasswordLength) {
  const Control* c = control_with_custom_check("admin-local-auth");
  ASSERT_NE(c, nullptr) << "no control uses the custom check admin-local-auth";
  const std::int64_t n = catalog_number(*c);  // characters
  struct Case {
    std::string attrs;
    Status expected;
  };
  const std::vector<Case> cases = {
      {"zimbraPasswordMinLength: " + std::to_string(n) + "\n", Status::pass},
      {"zimbraPasswordMinLength: " + std::to_string(n + 1) + "\n", Status::pass},
      {"zimbraPasswordMinLength: " + std::to_string(n - 1) + "\n", Status::fail},
      {"zimbraPasswordMinLength: " + std::to_string(n - 1) +
           "\nzimbraFeatureTwoFactorAuthRequired: TRUE\n",
       Status::pass},
      {"", Status::fail},  // the COS default of attrs.tsv, 6
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.attrs.empty() ? std::string("zimbraPasswordMinLength absent") : k.attrs);
    Facts f;
    f.attrs = &test::tables().attrs;
    f.admins = zobjects("# name admin@example.org\nzimbraIsAdminAccount: TRUE\n" + k.attrs + "\n",
                        "zmprov-gaaa-v.txt");
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- mta-tls: mandatory TLS from TLSv1.2 up, ciphers medium or better.

TEST(CustomBoundary, MtaTlsProtocolAndCipherFloor) {
  const Control* c = control_with_custom_check("mta-tls");
  ASSERT_NE(c, nullptr) << "no control uses the custom check mta-tls";
  struct Case {
    const char* protocols;
    const char* ciphers;
    Status expected;
  };
  const std::vector<Case> cases = {
      {">=TLSv1.2", "medium", Status::pass},
      {">=TLSv1.3", "medium", Status::pass},
      {">=TLSv1.1", "medium", Status::fail},
      {"!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", "medium", Status::pass},
      {"!SSLv2, !SSLv3, !TLSv1", "medium", Status::fail},
      {"TLSv1.2 TLSv1.3", "medium", Status::pass},
      {"TLSv1.1 TLSv1.2", "medium", Status::fail},
      {">=TLSv1.2", "high", Status::pass},
      {">=TLSv1.2", "low", Status::fail},
      {">=TLSv1.2", "export", Status::fail},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(::testing::Message() << k.protocols << " / " << k.ciphers);
    auto pc = parse_postconf(std::string("smtpd_tls_security_level = may\n") +
                                 "smtpd_tls_mandatory_protocols = " + k.protocols + "\n" +
                                 "smtpd_tls_mandatory_ciphers = " + k.ciphers + "\n",
                             "postconf-n.txt");
    ASSERT_TRUE(pc.ok()) << pc.error().message;
    Facts f;
    f.postconf = std::move(*pc);
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- zimbra-version: the line's fixed release passes, the one before it fails.

TEST(CustomBoundary, ZimbraVersionAtTheFixedRelease) {
  const Control* c = control_with_custom_check("zimbra-version");
  ASSERT_NE(c, nullptr) << "no control uses the custom check zimbra-version";
  auto table = parse_cve_table(
      "as_of = \"2026-11-29\"\n"
      "[[cve]]\n"
      "id = \"CVE-2099-0001\"\n"
      "rating = \"high\"\n"
      "summary = \"a flaw of the test\"\n"
      "fixed_in = [\"8.8.15.P46\", \"9.0.0.P24.1\", \"10.0.9\"]\n"
      "published = \"2024-01-01\"\n"
      "source = \"boundary_test.cpp\"\n",
      "cves-test.toml");
  ASSERT_TRUE(table.ok()) << table.error().message;
  CustomChecks with_table = checks();
  set_cve_table(with_table, std::make_shared<const CveTable>(std::move(*table)));
  struct Case {
    const char* release;
    Status expected;
  };
  const std::vector<Case> cases = {
      {"Release 8.8.15.GA.3869.UBUNTU18.64 UBUNTU18_64 NETWORK edition, Patch 8.8.15_P46.",
       Status::pass},
      {"Release 8.8.15.GA.3869.UBUNTU18.64 UBUNTU18_64 NETWORK edition, Patch 8.8.15_P47.",
       Status::pass},
      {"Release 8.8.15.GA.3869.UBUNTU18.64 UBUNTU18_64 NETWORK edition, Patch 8.8.15_P45.",
       Status::fail},
      {"Release 9.0.0.GA.4571.UBUNTU20.64 UBUNTU20_64 NETWORK edition, Patch 9.0.0_P24.1.",
       Status::pass},
      {"Release 9.0.0.GA.4571.UBUNTU20.64 UBUNTU20_64 NETWORK edition, Patch 9.0.0_P24.",
       Status::fail},
      {"Release 10.0.9.GA.1008.UBUNTU22.64 UBUNTU22_64 NETWORK edition.", Status::pass},
      {"Release 10.0.10.GA.1008.UBUNTU22.64 UBUNTU22_64 NETWORK edition.", Status::pass},
      {"Release 10.0.8.GA.1008.UBUNTU22.64 UBUNTU22_64 NETWORK edition.", Status::fail},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.release);
    Facts f;
    f.zimbra_release = std::string(k.release) + "\n";
    f.edition = "network";
    f.collected_at = kCollectedAt;
    auto r = evaluate(*c, f, with_table);
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- log-retention: logs kept the catalog's number of days or more.

TEST(CustomBoundary, LogRetentionDays) {
  const Control* c = control_with_custom_check("log-retention");
  ASSERT_NE(c, nullptr) << "no control uses the custom check log-retention";
  const std::int64_t t = catalog_number(*c);
  auto n = [](std::int64_t v) { return std::to_string(v); };
  auto find = [](const std::string& age) {
    return "30 2 * * * find /opt/zimbra/log/ -type f -name '*.log*' " + age + " -exec rm {} \\;\n";
  };
  const std::string long_rotation = "daily\nrotate 4000\n";
  struct Case {
    std::string what;
    std::string crontab;
    std::string stanza;  // options of /var/log/zimbra.log in /etc/logrotate.d/zimbra
    Status expected;
  };
  const std::vector<Case> cases = {
      // find -mtime +N deletes files N+1 days old.
      {"-mtime +(T-1)", find("-mtime +" + n(t - 1)), long_rotation, Status::pass},
      {"-mtime +(T-2)", find("-mtime +" + n(t - 2)), long_rotation, Status::fail},
      {"-mtime T", find("-mtime " + n(t)), long_rotation, Status::pass},
      {"-mtime T-1", find("-mtime " + n(t - 1)), long_rotation, Status::fail},
      {"-mmin +T days", find("-mmin +" + n(t * 1440)), long_rotation, Status::pass},
      {"-mmin +T days less a minute", find("-mmin +" + n(t * 1440 - 1)), long_rotation,
       Status::fail},
      // logrotate: rotate x period, capped by maxage.
      {"daily rotate T", "", "daily\nrotate " + n(t) + "\n", Status::pass},
      {"daily rotate T-1", "", "daily\nrotate " + n(t - 1) + "\n", Status::fail},
      {"weekly, enough weeks", "", "weekly\nrotate " + n((t + 6) / 7) + "\n", Status::pass},
      {"weekly, a week short", "", "weekly\nrotate " + n((t + 6) / 7 - 1) + "\n", Status::fail},
      {"maxage T", "", long_rotation + "maxage " + n(t) + "\n", Status::pass},
      {"maxage T-1", "", long_rotation + "maxage " + n(t - 1) + "\n", Status::fail},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.what);
    Facts f;
    f.zimbra_crontab = k.crontab;
    f.logrotate = std::vector<Facts::RawFile>{
        {"/etc/logrotate.conf", "weekly\nrotate 4\ninclude /etc/logrotate.d\n"},
        {"/etc/logrotate.d/zimbra", "/var/log/zimbra.log {\n" + k.stanza + "}\n"}};
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- haveged: needed (and so checked) on kernels older than the catalog's version only.

TEST(CustomBoundary, HavegedKernelVersion) {
  const Control* c = control_with_custom_check("haveged");
  ASSERT_NE(c, nullptr) << "no control uses the custom check haveged";
  ASSERT_EQ(c->check.expected, "5.6") << "the cases below are written for Linux 5.6";
  struct Case {
    const char* kernel;
    bool haveged;
    Status expected;
  };
  const std::vector<Case> cases = {
      {"5.6.0-1-amd64", false, Status::not_applicable},
      {"5.5.19-1-amd64", false, Status::fail},
      {"5.5.19-1-amd64", true, Status::pass},
      {"5.10.0-28-amd64", false, Status::not_applicable},  // 10 > 6: numbers, not text
      {"4.19.0-27-amd64", false, Status::fail},
      {"6.1.0-27-amd64", false, Status::not_applicable},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(::testing::Message()
                 << k.kernel << (k.haveged ? " with" : " without") << " haveged");
    Facts f;
    f.kernel_release = k.kernel;
    auto dpkg = parse_dpkg_l(k.haveged ? "ii  haveged 1.9.14-1 amd64 entropy daemon\n"
                                       : "ii  openssh-server 1:9.2p1-2 amd64 ssh server\n",
                             "dpkg-l.txt");
    ASSERT_TRUE(dpkg.ok()) << dpkg.error().message;
    f.packages = std::move(*dpkg);
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

// ---- "The world" of the network checks: at least half of a family's address space.

// A firewall that drops by default and accepts everything (any port) from `accept`, except
// from `except` (dropped first); the other family drops everything.
Facts firewall_facts(Family fam, const std::vector<std::string>& accept,
                     const std::string& except) {
  auto dump = [](bool v6, const std::vector<std::string>& from, const std::string& drop) {
    std::string t = std::string("# Generated by ") + (v6 ? "ip6tables-save" : "iptables-save") +
                    " v1.8.9 on Sat Nov 28 19:18:15 2026\n*filter\n:INPUT DROP [0:0]\n"
                    ":FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n";
    if (!drop.empty()) t += "-A INPUT -s " + drop + " -j DROP\n";
    for (const auto& s : from) t += "-A INPUT -s " + s + " -j ACCEPT\n";
    return t + "COMMIT\n";
  };
  const bool v6 = fam == Family::v6;
  fw::Ruleset rs;
  auto a = fw::add_dump(rs, dump(false, v6 ? std::vector<std::string>{} : accept, v6 ? "" : except),
                        "iptables-save.txt");
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  auto b = fw::add_dump(rs, dump(true, v6 ? accept : std::vector<std::string>{}, v6 ? except : ""),
                        "ip6tables-save.txt");
  EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().message);
  Facts f;
  f.ruleset = std::move(rs);
  f.ruleset_v4 = f.ruleset_v6 = true;
  return f;
}

const PortCatalog& zimbra_ports() {
  static const PortCatalog ports = [] {
    auto p = load_port_catalog(std::string(MW_SOURCE_DIR) + "/catalog/ports/zimbra.toml");
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? std::move(*p) : PortCatalog{};
  }();
  return ports;
}

TEST(CustomBoundary, TheWorldIsHalfTheAddressSpace) {
  struct Sources {
    const char* what;
    std::vector<std::string> accept;
    std::string except;
    Status expected;  // of every check: accepted from the world fails
  };
  const std::vector<std::pair<Family, std::vector<Sources>>> families = {
      {Family::v4,
       {{"exactly half", {"0.0.0.0/1"}, "", Status::fail},
        {"half in two quarters", {"0.0.0.0/2", "192.0.0.0/2"}, "", Status::fail},
        {"half and one address", {"0.0.0.0/1", "128.0.0.1/32"}, "", Status::fail},
        {"half less one address", {"0.0.0.0/1"}, "127.255.255.255/32", Status::pass},
        {"a quarter", {"0.0.0.0/2"}, "", Status::pass}}},
      {Family::v6,
       {{"exactly half", {"::/1"}, "", Status::fail},
        {"half in two quarters", {"::/2", "c000::/2"}, "", Status::fail},
        {"all of it in two halves", {"::/1", "8000::/1"}, "", Status::fail},
        {"all of it less one address", {"::/1", "8000::/1"}, "2001:db8::1/128", Status::fail},
        {"half less one address",
         {"::/1"},
         "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
         Status::pass},
        {"a quarter", {"::/2"}, "", Status::pass}}},
  };
  for (const auto& [fam, sources] : families) {
    const std::vector<std::string> names = {
        fam == Family::v4 ? "firewall-default-drop-v4" : "firewall-default-drop-v6",
        "admin-console-not-public", "internal-ports-not-public", "memcached-udp-closed",
        "memcached-cluster-only"};
    for (const auto& s : sources) {
      for (const auto& name : names) {
        SCOPED_TRACE(::testing::Message() << name << ", " << (fam == Family::v4 ? "IPv4" : "IPv6")
                                          << " accepted from " << s.what);
        const Control* c = control_with_custom_check(name);
        ASSERT_NE(c, nullptr) << "no control uses the custom check " << name;
        auto f = firewall_facts(fam, s.accept, s.except);
        f.ports = &zimbra_ports();  // internal ports; no ss output: listeners unknown
        if (c->applies.topology) f.topology = *c->applies.topology;
        auto r = evaluate(*c, f, checks());
        EXPECT_EQ(status_name(r.status), status_name(s.expected)) << r.detail;
      }
    }
  }
}

// ---- Zero at the catalog's numeric controls where the catalog does not say what 0 means.

TEST(CatalogZero, LockoutFailureWindowZeroNeverForgetsFailures) {
  const Control* c = control_by_id("accounts.lockout.failure-window");
  ASSERT_NE(c, nullptr);
  std::string why;
  auto f = facts_holding(*c, "0", why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(status_name(evaluate(*c, *f, checks()).status), "pass");
}

TEST(CatalogZero, LastLogonFrequencyZeroRecordsNothing) {
  const Control* c = control_by_id("web.last-logon-frequency");
  ASSERT_NE(c, nullptr);
  std::string why;
  auto f = facts_holding(*c, "0", why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(status_name(evaluate(*c, *f, checks()).status), "fail");
}

// ---- ecp-allow-list, ecp-not-world: prefix lengths of the allow entries of /ecp.

// An applicationHost.config whose /ecp refuses unlisted addresses and lists `entries`.
Facts iis_facts(const std::string& entries) {
  const std::string text =
      "<configuration>\n"
      "  <configSections><sectionGroup name=\"system.webServer\"><sectionGroup name=\"security\">"
      "<section name=\"ipSecurity\" overrideModeDefault=\"Deny\" /></sectionGroup>"
      "</sectionGroup></configSections>\n"
      "  <system.applicationHost><sites><site name=\"Default Web Site\" id=\"1\">"
      "<application path=\"/\" /><application path=\"/ecp\" /></site></sites>"
      "</system.applicationHost>\n"
      "  <system.webServer><globalModules><add name=\"IpRestrictionModule\" image=\"iprestr.dll\" "
      "/>"
      "</globalModules><modules><add name=\"IpRestrictionModule\" lockItem=\"true\" /></modules>"
      "</system.webServer>\n"
      "  <location path=\"Default Web Site/ecp\"><system.webServer><security>\n"
      "    <ipSecurity allowUnlisted=\"false\">\n" +
      entries +
      "    </ipSecurity>\n"
      "  </security></system.webServer></location>\n"
      "</configuration>\n";
  Facts f;
  auto c = parse_iis_config(text, "applicationHost.config");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  if (c.ok()) f.iis = std::move(*c);
  return f;
}

std::string allow(const std::string& address, const std::string& mask) {
  return "      <add ipAddress=\"" + address + "\"" +
         (mask.empty() ? std::string() : " subnetMask=\"" + mask + "\"") + " allowed=\"true\" />\n";
}

TEST(CustomBoundary, EcpAllowListPrefixLengths) {
  const Control* c = control_with_custom_check("ecp-allow-list");
  ASSERT_NE(c, nullptr) << "no control uses the custom check ecp-allow-list";
  struct Case {
    const char* address;
    const char* mask;
    Status expected;
  };
  const std::vector<Case> cases = {
      {"192.0.2.0", "255.255.255.0", Status::pass},      // /24: at the threshold
      {"192.0.2.0", "24", Status::pass},                 //   as a prefix length
      {"192.0.2.128", "255.255.255.128", Status::pass},  // /25: inside
      {"192.0.2.1", "", Status::pass},                   // one host
      {"192.0.2.0", "255.255.254.0", Status::fail},      // /23: one bit outside
      {"192.0.2.0", "23", Status::fail},                 //
      {"10.0.0.0", "255.0.0.0", Status::fail},           // a whole private LAN
      {"0.0.0.0", "0.0.0.0", Status::fail},              // everyone
      {"2001:db8:1:2::", "64", Status::pass},            // /64: at the threshold
      {"2001:db8:1:2::", "65", Status::pass},            // inside
      {"2001:db8:1::1", "", Status::pass},               // one host
      {"2001:db8:1::", "63", Status::fail},              // outside
      {"fd00::", "8", Status::fail},                     // a private (ULA) range
      {"127.0.0.0", "255.0.0.0", Status::pass},          // loopback is no LAN
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(::testing::Message() << k.address << " / " << k.mask);
    auto f = iis_facts(allow(k.address, k.mask));
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

TEST(CustomBoundary, EcpNotWorldIsHalfTheAddressSpace) {
  const Control* c = control_with_custom_check("ecp-not-world");
  ASSERT_NE(c, nullptr) << "no control uses the custom check ecp-not-world";
  struct Case {
    const char* what;
    std::string entries;
    Status expected;
  };
  const std::vector<Case> cases = {
      {"exactly half", allow("0.0.0.0", "128.0.0.0"), Status::fail},
      {"a quarter", allow("0.0.0.0", "192.0.0.0"), Status::pass},
      {"half in two quarters", allow("0.0.0.0", "2") + allow("64.0.0.0", "2"), Status::fail},
      // A deny first takes one address out of the half: less than half is allowed.
      {"half less one address",
       "      <add ipAddress=\"127.255.255.255\" />\n" + allow("0.0.0.0", "1"), Status::pass},
      {"the deny after the allow changes nothing",
       allow("0.0.0.0", "1") + "      <add ipAddress=\"127.255.255.255\" />\n", Status::fail},
      {"IPv6 exactly half", allow("::", "1"), Status::fail},
      {"IPv6 a quarter", allow("::", "2"), Status::pass},
      {"IPv6 everything", allow("::", "0"), Status::fail},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.what);
    auto f = iis_facts(k.entries);
    auto r = evaluate(*c, f, checks());
    EXPECT_EQ(status_name(r.status), status_name(k.expected)) << r.detail;
  }
}

}  // namespace
}  // namespace mw::audit
