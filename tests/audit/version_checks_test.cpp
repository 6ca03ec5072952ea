// The Zimbra release parser (zmcontrol -v), the fix rule, the CVE table loader and the check
// host.zimbra-version, on hand-built facts and on the bundled example snapshot.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/snapshot.hpp"
#include "audit/zimbra_version.hpp"
#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

ZimbraVersion v(std::string_view text) {
  auto r = parse_zimbra_version(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : ZimbraVersion{};
}

// ---------------------------------------------------------------------------------------------
// zmcontrol -v

struct ReleaseCase {
  const char* text;
  const char* version;  // effective, version_name()
  const char* base;
  const char* build;
  const char* platform;
  const char* edition;
  const char* patch;
  std::size_t line;
};

class ReleaseForms : public ::testing::TestWithParam<ReleaseCase> {};

TEST_P(ReleaseForms, Parse) {
  const auto& c = GetParam();
  auto r = parse_zmcontrol_version(c.text, "zmcontrol-v.txt");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(version_name(r->version), c.version);
  EXPECT_EQ(version_name(r->base), c.base);
  EXPECT_EQ(r->build, c.build);
  EXPECT_EQ(r->platform, c.platform);
  EXPECT_EQ(r->edition, c.edition);
  EXPECT_EQ(r->patch, c.patch);
  EXPECT_EQ(r->line, c.line);
  EXPECT_THAT(r->raw, StartsWith("Release "));
}

INSTANTIATE_TEST_SUITE_P(
    Zmcontrol, ReleaseForms,
    ::testing::Values(
        // The bundled example (dpkg form, no patch).
        ReleaseCase{"Release 10.1.3.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition.\n", "10.1.3",
                    "10.1.3", "GA.4633.UBUNTU22.64", "UBUNTU22_64", "network", "", 1},
        // rpm form (version_release with underscores) with an 8.8.15 patch.
        ReleaseCase{"Release 8.8.15_GA_3869.RHEL7_64_20190918004220 RHEL7_64 FOSS edition, Patch "
                    "8.8.15_P41.",
                    "8.8.15.P41", "8.8.15", "GA_3869.RHEL7_64_20190918004220", "RHEL7_64", "foss",
                    "8.8.15_P41", 1},
        ReleaseCase{"Release 9.0.0.ZIMBRA.GA.3924.UBUNTU20_64 UBUNTU20_64 NETWORK edition, Patch "
                    "9.0.0_P38.",
                    "9.0.0.P38", "9.0.0", "ZIMBRA.GA.3924.UBUNTU20_64", "UBUNTU20_64", "network",
                    "9.0.0_P38", 1},
        ReleaseCase{
            "Release 9.0.0.GA.4571.UBUNTU20.64 UBUNTU20_64 NETWORK edition, Patch 9.0.0_P39.",
            "9.0.0.P39", "9.0.0", "GA.4571.UBUNTU20.64", "UBUNTU20_64", "network", "9.0.0_P39", 1},
        // Without the trailing period, as quoted on forums.
        ReleaseCase{
            "Release 8.8.15.GA.3869.UBUNTU18.64 UBUNTU18_64 NETWORK edition, Patch 8.8.15_P26",
            "8.8.15.P26", "8.8.15", "GA.3869.UBUNTU18.64", "UBUNTU18_64", "network", "8.8.15_P26",
            1},
        // A re-released patch (P24.1).
        ReleaseCase{
            "Release 9.0.0.GA.4178.UBUNTU20.64 UBUNTU20_64 NETWORK edition, Patch 9.0.0_P24.1.",
            "9.0.0.P24.1", "9.0.0", "GA.4178.UBUNTU20.64", "UBUNTU20_64", "network", "9.0.0_P24.1",
            1},
        // 10.0 without a platform column, as quoted on forums.
        ReleaseCase{"Release 10.0.7.GA.4518.UBUNTU20_64 NETWORK edition.", "10.0.7", "10.0.7",
                    "GA.4518.UBUNTU20_64", "", "network", "", 1},
        // A FOSS rpm build of 10.0.
        ReleaseCase{"Release 10.0.10_GA_1008.RHEL8_64_20241012175445 RHEL8_64 FOSS edition.\n",
                    "10.0.10", "10.0.10", "GA_1008.RHEL8_64_20241012175445", "RHEL8_64", "foss", "",
                    1},
        // 10.x micro release installed as a patch: the patch is what runs.
        ReleaseCase{
            "Release 10.1.0.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition, Patch 10.1.12.",
            "10.1.12", "10.1.0", "GA.4633.UBUNTU22.64", "UBUNTU22_64", "network", "10.1.12", 1},
        ReleaseCase{"Release 10.1.3.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition, Patch 10.1.3.",
                    "10.1.3", "10.1.3", "GA.4633.UBUNTU22.64", "UBUNTU22_64", "network", "10.1.3",
                    1},
        // Old zmcontrol: two newlines first, no edition when zmprov failed, CRLF.
        ReleaseCase{"\n\nRelease 8.7.11_GA_1854.RHEL7_64_20170531151956 RHEL7_64\r\n\r\n", "8.7.11",
                    "8.7.11", "GA_1854.RHEL7_64_20170531151956", "RHEL7_64", "", "", 3},
        // Noise before the Release line is skipped.
        ReleaseCase{
            "Warning: something\n  Release 8.8.12_GA_3794.RHEL7_64 RHEL7_64 FOSS edition.\n",
            "8.8.12", "8.8.12", "GA_3794.RHEL7_64", "RHEL7_64", "foss", "", 2}));

struct BadRelease {
  const char* text;
  const char* error;  // the whole expected prefix of the message (position included)
};

class ReleaseErrors : public ::testing::TestWithParam<BadRelease> {};

TEST_P(ReleaseErrors, NamePosition) {
  auto r = parse_zmcontrol_version(GetParam().text, "zmcontrol-v.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, StartsWith(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Zmcontrol, ReleaseErrors,
    ::testing::Values(
        BadRelease{"", "zmcontrol-v.txt:1:1: empty"},
        BadRelease{"\n \n", "zmcontrol-v.txt:1:1: empty"},
        BadRelease{"Run as the zimbra user!\n",
                   "zmcontrol-v.txt:1:1: expected 'Release <version> <platform> NETWORK|FOSS "
                   "edition', found 'Run as the zimbra user!'"},
        BadRelease{"Release\n", "zmcontrol-v.txt:1:8: 'Release' without a version"},
        BadRelease{"Releases 10.1.3\n", "zmcontrol-v.txt:1:1: expected 'Release"},
        BadRelease{"Release 10.1 UBUNTU22_64 NETWORK edition.",
                   "zmcontrol-v.txt:1:9: '10.1' is not a Zimbra release"},
        BadRelease{"\nRelease 10.x.3 UBUNTU22_64 NETWORK edition.",
                   "zmcontrol-v.txt:2:9: '10.x.3' is not a Zimbra release"},
        BadRelease{"Release 123456.1.1.GA X FOSS edition.",
                   "zmcontrol-v.txt:1:9: '123456.1.1.GA' is not a Zimbra release (a number has "
                   "more than 5 digits"},
        BadRelease{"Release 10.1.3GA UBUNTU22_64 NETWORK edition.",
                   "zmcontrol-v.txt:1:15: unexpected 'G' after the version 10.1.3"},
        BadRelease{"Release 10.1.3.GA UBUNTU22_64 ENTERPRISE edition.",
                   "zmcontrol-v.txt:1:31: unknown edition 'ENTERPRISE'"},
        BadRelease{"Release 10.1.3.GA edition.",
                   "zmcontrol-v.txt:1:19: 'edition' without NETWORK or FOSS"},
        BadRelease{"Release 10.1.3.GA UBUNTU22_64 extra NETWORK edition.",
                   "zmcontrol-v.txt:1:31: unexpected 'extra'"},
        BadRelease{"Release 10.1.3.GA U NETWORK edition. trailing",
                   "zmcontrol-v.txt:1:38: unexpected 'trailing' after the edition"},
        BadRelease{"Release 10.1.3.GA U NETWORK edition, Fix 1",
                   "zmcontrol-v.txt:1:38: expected 'Patch <version>'"},
        BadRelease{"Release 10.1.3.GA U NETWORK edition, Patch",
                   "zmcontrol-v.txt:1:43: 'Patch' without a version"},
        BadRelease{"Release 8.8.15.GA.1 U NETWORK edition, Patch 9.0.0_P38.",
                   "zmcontrol-v.txt:1:46: Patch 9.0.0_P38 is not a patch of release 8.8.15"},
        BadRelease{"Release 8.8.15.GA.1 U NETWORK edition, Patch 8.8.15.",
                   "zmcontrol-v.txt:1:46: Patch 8.8.15 has no patch number"},
        BadRelease{"Release 8.8.15.GA.1 U NETWORK edition, Patch 8.8.15_Q4.",
                   "zmcontrol-v.txt:1:46: Patch '8.8.15_Q4' is not a Zimbra version"},
        BadRelease{"Release 10.1.5.GA.1 U NETWORK edition, Patch 10.1.3.",
                   "zmcontrol-v.txt:1:46: Patch 10.1.3 is older than release 10.1.5"},
        BadRelease{"Release 10.1.5.GA.1 U NETWORK edition, Patch 10.0.9.",
                   "zmcontrol-v.txt:1:46: Patch 10.0.9 is not a release of line 10.1"},
        BadRelease{"Release 10.1.5.GA.1 U NETWORK edition, Patch 10.1.6. more",
                   "zmcontrol-v.txt:1:54: unexpected 'more' after the patch"}));

TEST(Zmcontrol, InputIsBounded) {
  const std::string huge(70 * 1024, 'x');
  auto r = parse_zmcontrol_version(huge, "zmcontrol-v.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, StartsWith("zmcontrol-v.txt: 71680 bytes is more than"));

  const std::string long_line = "\nRelease " + std::string(5000, '9') + "\n";
  r = parse_zmcontrol_version(long_line, "zmcontrol-v.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, StartsWith("zmcontrol-v.txt:2:1: line is longer than 4096"));

  // Control bytes are reported printable.
  r = parse_zmcontrol_version(std::string("Release 1\x01.2.3 X FOSS edition.", 31), "z");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("'1?.2.3'"));
}

// ---------------------------------------------------------------------------------------------
// Versions, their order and the fix rule

TEST(ZimbraVersions, ParseAndName) {
  EXPECT_EQ(version_name(v("8.8.15.P46")), "8.8.15.P46");
  EXPECT_EQ(version_name(v("8.8.15_P41")), "8.8.15.P41");
  EXPECT_EQ(version_name(v("8.8.15.p41")), "8.8.15.P41");
  EXPECT_EQ(version_name(v("9.0.0.P24.1")), "9.0.0.P24.1");
  EXPECT_EQ(version_name(v("10.1.3")), "10.1.3");
  EXPECT_EQ(version_name(v("10.1.18.P1")), "10.1.18.P1");
  for (const char* bad : {"", "8", "8.8", "8.8.15.", "8.8.15.P", "8.8.15.P0", "8.8.15 P41",
                          "8.8.15.P41x", "v10.1.3", "10.1.3.GA", "100000.0.0"}) {
    EXPECT_FALSE(parse_zimbra_version(bad).ok()) << bad;
  }
  EXPECT_THAT(parse_zimbra_version("8.8.15.P41x").error().message,
              HasSubstr("unexpected 'x' after 8.8.15.P41"));
}

TEST(ZimbraVersions, OrderAndBoundaries) {
  EXPECT_LT(v("8.8.15.P40"), v("8.8.15.P41"));
  EXPECT_LT(v("8.8.15"), v("8.8.15.P1"));
  EXPECT_LT(v("10.0.8"), v("10.0.9"));
  EXPECT_LT(v("10.0.9"), v("10.0.10"));  // numerically, not as text
  EXPECT_LT(v("10.0.9"), v("10.1.0"));
  EXPECT_LT(v("9.0.0.P24"), v("9.0.0.P24.1"));
  EXPECT_LT(v("9.0.0.P24.1"), v("9.0.0.P25"));
  EXPECT_LT(v("10.1.18"), v("10.1.18.P1"));
  EXPECT_LT(v("10.1.18.P1"), v("10.1.19"));
  EXPECT_EQ(line_name(line_of(v("8.8.15.P46"))), "8.8.15");
  EXPECT_EQ(line_name(line_of(v("10.1.13"))), "10.1");
  EXPECT_EQ(line_of(v("10.1.3")), line_of(v("10.1.21")));
  EXPECT_NE(line_of(v("8.8.10.P7")), line_of(v("8.8.11.P3")));
  EXPECT_NE(line_of(v("10.0.9")), line_of(v("10.1.0")));
}

struct FixCase {
  const char* installed;
  std::vector<const char*> fixed_in;
  const char* introduced;  // "" for none
  bool applies;
  const char* line_fix;    // "" for none
  const char* upgrade_to;  // "" for none
};

class FixRule : public ::testing::TestWithParam<FixCase> {};

TEST_P(FixRule, Applies) {
  const auto& c = GetParam();
  std::vector<ZimbraVersion> fixed;
  for (const char* f : c.fixed_in) fixed.push_back(v(f));
  std::optional<ZimbraVersion> introduced;
  if (*c.introduced) introduced = v(c.introduced);
  const FixVerdict r = check_fix(v(c.installed), fixed, introduced);
  EXPECT_EQ(r.applies, c.applies) << c.installed;
  EXPECT_EQ(r.line_fix ? version_name(*r.line_fix) : "", c.line_fix) << c.installed;
  EXPECT_EQ(r.upgrade_to ? version_name(*r.upgrade_to) : "", c.upgrade_to) << c.installed;
}

const std::vector<const char*> kPostjournal = {"8.8.15.P46", "9.0.0.P41", "10.0.9", "10.1.1"};
const std::vector<const char*> kSsrf2019 = {"8.6.0.P13", "8.7.11.P10", "8.8.10.P7", "8.8.11.P3"};

INSTANTIATE_TEST_SUITE_P(
    Rule, FixRule,
    ::testing::Values(
        // Same line, patch lines: the patch number decides.
        FixCase{"8.8.15.P45", kPostjournal, "", true, "8.8.15.P46", ""},
        FixCase{"8.8.15.P46", kPostjournal, "", false, "8.8.15.P46", ""},
        FixCase{"8.8.15.P47", kPostjournal, "", false, "8.8.15.P46", ""},
        FixCase{"9.0.0", kPostjournal, "", true, "9.0.0.P41", ""},
        FixCase{"9.0.0.P40", kPostjournal, "", true, "9.0.0.P41", ""},
        FixCase{"9.0.0.P41", kPostjournal, "", false, "9.0.0.P41", ""},
        // Same line from 10 on: a higher micro release fixes.
        FixCase{"10.0.8", kPostjournal, "", true, "10.0.9", ""},
        FixCase{"10.0.9", kPostjournal, "", false, "10.0.9", ""},
        FixCase{"10.0.10", kPostjournal, "", false, "10.0.9", ""},
        FixCase{"10.1.0", kPostjournal, "", true, "10.1.1", ""},
        FixCase{"10.1.3", kPostjournal, "", false, "10.1.1", ""},
        FixCase{"10.1.18.P1", {"10.1.19"}, "", true, "10.1.19", ""},
        // No fix for the installed line: an older or in-between line got none.
        FixCase{"8.7.11.P10", kPostjournal, "", true, "", "8.8.15.P46"},
        FixCase{"8.8.12", kPostjournal, "", true, "", "8.8.15.P46"},
        FixCase{"8.8.9", kSsrf2019, "", true, "", "8.8.10.P7"},
        FixCase{"8.5.0", kSsrf2019, "", true, "", "8.6.0.P13"},
        FixCase{"10.0.18", {"10.1.20"}, "", true, "", "10.1.20"},
        FixCase{"8.8.15.P46", {"9.0.0.P44", "10.0.13", "10.1.5"}, "", true, "", "9.0.0.P44"},
        // A line newer than every listed one: branched after the fix, or never affected.
        FixCase{"8.8.12", kSsrf2019, "", false, "", ""},
        FixCase{"9.0.0.P1", {"8.8.15.P41"}, "", false, "", ""},
        FixCase{"10.2.0", kPostjournal, "", false, "", ""},
        FixCase{"8.8.11.P2", kSsrf2019, "", true, "8.8.11.P3", ""},
        FixCase{"8.8.11.P3", kSsrf2019, "", false, "8.8.11.P3", ""},
        // Re-released patches.
        FixCase{"9.0.0.P24", {"8.8.15.P31", "9.0.0.P24.1"}, "", true, "9.0.0.P24.1", ""},
        FixCase{"9.0.0.P24.1", {"8.8.15.P31", "9.0.0.P24.1"}, "", false, "9.0.0.P24.1", ""},
        // Bounded from below: releases before the flaw are not affected.
        FixCase{"9.0.0.P44", {"10.0.12", "10.1.4"}, "10.0.0", false, "", ""},
        FixCase{"10.0.11", {"10.0.12", "10.1.4"}, "10.0.0", true, "10.0.12", ""},
        FixCase{"10.1.4", {"10.0.12", "10.1.4"}, "10.0.0", false, "10.1.4", ""}));

TEST(CivilDay, Dates) {
  EXPECT_EQ(civil_day("1970-01-01"), 0);
  EXPECT_EQ(civil_day("1970-01-02"), 1);
  EXPECT_EQ(civil_day("2000-03-01").value() - civil_day("2000-02-28").value(), 2);  // leap
  EXPECT_EQ(civil_day("2026-11-28T23:55:58Z"), civil_day("2026-11-28"));
  EXPECT_EQ(civil_day("2026-11-29").value() - civil_day("2026-11-28").value(), 1);
  EXPECT_TRUE(civil_day("2024-02-29"));
  for (const char* bad : {"", "2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "2024-1-01",
                          "2026-11-28X", "2026/11/28", "abcd-ef-gh"}) {
    EXPECT_FALSE(civil_day(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Ratings

TEST(Ratings, CvssSeverityBoundaries) {
  EXPECT_EQ(cvss_severity(10.0), CveRating::critical);
  EXPECT_EQ(cvss_severity(9.0), CveRating::critical);
  EXPECT_EQ(cvss_severity(8.9), CveRating::high);
  EXPECT_EQ(cvss_severity(7.0), CveRating::high);
  EXPECT_EQ(cvss_severity(6.9), CveRating::medium);
  EXPECT_EQ(cvss_severity(4.0), CveRating::medium);
  EXPECT_EQ(cvss_severity(3.9), CveRating::low);
  EXPECT_EQ(cvss_severity(0.1), CveRating::low);
  EXPECT_EQ(cvss_severity(0.0), CveRating::unrated);
}

TEST(Ratings, ZimbraClassificationBoundaries) {
  // Critical 8.0-10.0, Major 5.0-7.9, Minor 0.0-4.9.
  EXPECT_EQ(zimbra_rating(10.0), ZimbraRating::critical);
  EXPECT_EQ(zimbra_rating(8.0), ZimbraRating::critical);
  EXPECT_EQ(zimbra_rating(7.9), ZimbraRating::major);
  EXPECT_EQ(zimbra_rating(5.0), ZimbraRating::major);
  EXPECT_EQ(zimbra_rating(4.9), ZimbraRating::minor);
  EXPECT_EQ(zimbra_rating(0.0), ZimbraRating::minor);
  EXPECT_EQ(zimbra_rating(std::nullopt), ZimbraRating::unrated);
  EXPECT_EQ(zimbra_rating_name(ZimbraRating::major), "major");
}

// ---------------------------------------------------------------------------------------------
// The CVE table

constexpr const char* kTable = R"(as_of = "2026-06-01"
sources = ["test"]
rating_scale = "CVSS 3.1 base severity"

[deadlines]
source = "test policy"
critical = 30

[[cve]]
id = "CVE-2024-45519"
rating = "critical"
cvss = 10.0
summary = "postjournal"
fixed_in = ["8.8.15.P46", "9.0.0.P41", "10.0.9", "10.1.1"]
exploited = true
kev_added = "2024-10-03"
published = "2024-10-02"
source = "record"

[[cve]]
id = "CVE-2025-27915"
rating = "medium"
cvss = 5.4
summary = "ICS XSS"
fixed_in = ["9.0.0.P44", "10.0.13", "10.1.5"]
exploited = true
kev_added = "2025-10-07"
published = "2025-03-12"
source = "record"

[[cve]]
id = "CVE-2026-00001"
rating = "high"
cvss = 8.1
summary = "made up, for the deadline"
fixed_in = ["10.1.20"]
introduced = "10.0.0"
published = "2026-01-01"
source = "test"
)";

std::shared_ptr<const CveTable> table_from(const std::string& text) {
  auto t = parse_cve_table(text, "t.toml");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::make_shared<const CveTable>(std::move(*t)) : nullptr;
}

TEST(CveTable, Parses) {
  auto t = table_from(kTable);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->as_of, "2026-06-01");
  EXPECT_EQ(t->deadlines_source, "test policy");
  ASSERT_EQ(t->deadline_days.size(), 1u);
  EXPECT_EQ(t->deadline_days.at(ZimbraRating::critical), 30);
  ASSERT_EQ(t->cves.size(), 3u);
  const auto& c = t->cves[0];
  EXPECT_EQ(c.id, "CVE-2024-45519");
  EXPECT_EQ(c.rating, CveRating::critical);
  EXPECT_EQ(c.cvss, 10.0);
  EXPECT_TRUE(c.exploited);
  EXPECT_EQ(c.kev_added, "2024-10-03");
  EXPECT_EQ(c.line, 9u);
  ASSERT_EQ(c.fixed_in.size(), 4u);
  EXPECT_EQ(version_name(c.fixed_in[1]), "9.0.0.P41");
  EXPECT_FALSE(t->cves[1].introduced);
  ASSERT_TRUE(t->cves[2].introduced);
  EXPECT_EQ(version_name(*t->cves[2].introduced), "10.0.0");
  EXPECT_EQ(t->cves[2].cvss, 8.1);
  EXPECT_EQ(t->cves[2].rating, CveRating::high);
}

struct BadTable {
  std::string text;
  const char* error;  // expected prefix
};

// kTable with one line replaced (1-based), so errors point at a known line.
std::string with_line(int line, const std::string& replacement) {
  std::string out;
  int n = 0;
  std::size_t pos = 0;
  const std::string text = kTable;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string l = text.substr(pos, nl - pos);
    ++n;
    out += (n == line ? replacement : l) + "\n";
    pos = nl + 1;
  }
  return out;
}

class CveTableErrors : public ::testing::TestWithParam<BadTable> {};

TEST_P(CveTableErrors, NameFileLineAndField) {
  auto t = parse_cve_table(GetParam().text, "t.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message, StartsWith(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CveTableErrors,
    ::testing::Values(
        BadTable{with_line(1, "asof = \"2026-06-01\""), "t.toml:1:1: asof: unknown key"},
        BadTable{with_line(1, "as_of = \"2026-13-01\""),
                 "t.toml:1:9: as_of: '2026-13-01' is not a date"},
        BadTable{with_line(1, "as_of = 2026-06-01"), "t.toml:1:9: as_of: expected a string"},
        BadTable{with_line(2, "sources = [\"test\""), "t.toml:3:1: TOML syntax error"},
        BadTable{with_line(7, "critical = 0"),
                 "t.toml:7:12: deadlines.critical: expected a number of days"},
        BadTable{with_line(7, "urgent = 3"), "t.toml:7:1: deadlines.urgent: unknown key"},
        // Deadlines are keyed on Zimbra's rating, not on the CVSS severity names.
        BadTable{with_line(7, "high = 3"),
                 "t.toml:7:1: deadlines.high: unknown key (expected "
                 "source or a Zimbra rating: critical, major, minor)"},
        BadTable{with_line(6, "# no source"), "t.toml:5:1: deadlines.source: missing"},
        BadTable{with_line(10, "id = \"CVE-24-45519\""),
                 "t.toml:10:6: cve[0].id: 'CVE-24-45519' is not a CVE id"},
        BadTable{with_line(11, "rating = \"severe\""),
                 "t.toml:11:10: cve[0].rating: unknown rating 'severe'"},
        BadTable{with_line(12, "cvss = 11.0"), "t.toml:12:8: cve[0].cvss: expected a CVSS score"},
        BadTable{with_line(12, "cvss = 7.5"),
                 "t.toml:11:10: cve[0].rating: 'critical' does not match cvss 7.5 (CVSS 3.1 "
                 "severity: high)"},
        BadTable{with_line(14, "fixed_in = [\"8.8.15.P46\", \"9.0.0.Q41\"]"),
                 "t.toml:14:27: cve[0].fixed_in[1]: '9.0.0.Q41' is not a Zimbra version"},
        BadTable{with_line(14, "fixed_in = [\"10.1.1\", \"10.1.5\"]"),
                 "t.toml:14:23: cve[0].fixed_in[1]: line 10.1 already has a fix (10.1.1)"},
        BadTable{with_line(14, "fixed_in = []"),
                 "t.toml:14:12: cve[0].fixed_in: expected a non-empty array"},
        BadTable{with_line(14, "# no fixed_in"), "t.toml:9:1: cve[0].fixed_in: missing (required)"},
        BadTable{with_line(15, "exploited = \"yes\""),
                 "t.toml:15:13: cve[0].exploited: expected true or false"},
        BadTable{with_line(16, "# no kev_added"),
                 "t.toml:15:13: cve[0].exploited: exploited = true needs kev_added"},
        BadTable{with_line(17, "published = \"2024-10-32\""),
                 "t.toml:17:13: cve[0].published: '2024-10-32' is not a date"},
        BadTable{with_line(18, "sauce = \"record\""), "t.toml:18:1: cve[0].sauce: unknown key"},
        BadTable{with_line(21, "id = \"CVE-2024-45519\""),
                 "t.toml:21:6: cve[1].id: CVE-2024-45519 is already listed by cve[0] at line 9"},
        BadTable{with_line(37, "introduced = \"10.0\""),
                 "t.toml:37:14: cve[2].introduced: '10.0' is not a Zimbra version"},
        BadTable{with_line(26, "exploited = false"),
                 "t.toml:27:13: cve[1].kev_added: kev_added without exploited = true"},
        BadTable{"as_of = \"2026-06-01\"\n", "t.toml:1:1: cve: missing"},
        BadTable{"as_of = \"2026-06-01\"\ncve = 3\n",
                 "t.toml:2:7: cve: expected an array of tables"}));

TEST(CveTable, FileErrors) {
  auto t = load_cve_table("/nonexistent/cves.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message, StartsWith("/nonexistent/cves.toml: cannot read"));
  auto big = parse_cve_table(std::string(2 * 1024 * 1024, '#'), "big.toml");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, StartsWith("big.toml: 2097152 bytes is more than"));
}

TEST(CveTable, TheShippedTableLoads) {
  auto t = load_cve_table(std::string(MW_SOURCE_DIR) + "/catalog/zimbra/cves.toml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(civil_day(t->as_of));
  EXPECT_FALSE(t->sources.empty());
  EXPECT_FALSE(t->rating_scale.empty());
  EXPECT_FALSE(t->deadlines_source.empty());
  // The well-known ones are there with the facts of their CVE records.
  auto find = [&](std::string_view id) -> const CveEntry* {
    for (const auto& c : t->cves)
      if (c.id == id) return &c;
    return nullptr;
  };
  const CveEntry* pj = find("CVE-2024-45519");
  ASSERT_TRUE(pj);
  std::vector<std::string> fixed;
  for (const auto& f : pj->fixed_in) fixed.push_back(version_name(f));
  EXPECT_THAT(fixed, ElementsAre("8.8.15.P46", "9.0.0.P41", "10.0.9", "10.1.1"));
  EXPECT_TRUE(pj->exploited);
  for (const char* id : {"CVE-2019-9670", "CVE-2019-9621", "CVE-2022-24682", "CVE-2022-27924",
                         "CVE-2022-27925", "CVE-2022-37042", "CVE-2022-41352", "CVE-2023-37580"}) {
    const CveEntry* c = find(id);
    ASSERT_TRUE(c) << id;
    EXPECT_TRUE(c->exploited) << id;
  }
  for (const auto& c : t->cves) {
    EXPECT_FALSE(c.source.empty()) << c.id;
    EXPECT_LE(civil_day(c.published), civil_day(t->as_of)) << c.id;
  }
  // The check's default path is this file in a test build (ctest sets MAILWARDEN_CATALOG to the
  // source catalog, which is also the compiled-in default).
  EXPECT_EQ(
      std::filesystem::weakly_canonical(cve_table_path()),
      std::filesystem::weakly_canonical(std::string(MW_SOURCE_DIR) + "/catalog/zimbra/cves.toml"));
}

// ---------------------------------------------------------------------------------------------
// The check

Control version_control() {
  Control c;
  c.id = "host.zimbra-version";
  c.title = "The Zimbra release has the fixes for the known Zimbra CVEs";
  c.severity = Severity::critical;
  c.check.kind = CheckKind::custom;
  c.check.name = "zimbra-version";
  return c;
}

Facts facts_with(const std::string& release, const std::string& collected_at = "") {
  Facts f;
  f.zimbra_release = release;
  f.file_of["edition"] = "zmcontrol-v.txt";
  f.collected_at = collected_at;
  return f;
}

ControlResult run(const Facts& f, std::shared_ptr<const CveTable> table) {
  CustomChecks checks = builtin_checks();
  set_cve_table(checks, std::move(table));
  static const Control c = version_control();
  return evaluate(c, f, checks);
}

TEST(VersionCheck, PassNamesTheReleaseAndTheTableDate) {
  auto r = run(facts_with("Release 10.1.21.GA.4900.UBUNTU22.64 UBUNTU22_64 NETWORK edition.\n"),
               table_from(kTable));
  EXPECT_EQ(r.status, Status::pass) << r.detail;
  EXPECT_EQ(r.detail,
            "Zimbra 10.1.21 (network edition): none of the 3 CVEs in the table (as of "
            "2026-06-01) applies");
  EXPECT_TRUE(r.failing.empty());
  EXPECT_TRUE(r.remediation.empty());
  ASSERT_GE(r.facts.size(), 3u);
  EXPECT_EQ(r.facts[0].origin, "zmcontrol-v.txt:1");
  EXPECT_EQ(r.facts[2].value, "3 CVEs, as of 2026-06-01");
}

TEST(VersionCheck, PassSaysWhenTheSnapshotIsNewerThanTheTable) {
  auto r = run(facts_with("Release 10.1.21.GA.1 U NETWORK edition.", "2026-06-11T08:00:00Z"),
               table_from(kTable));
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_THAT(r.detail, HasSubstr("the snapshot is 10 days newer than the table"));
}

TEST(VersionCheck, FailListsEachCveWithItsFixKevAndAge) {
  auto r = run(facts_with("Release 10.1.3.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition.",
                          "2026-03-02T12:00:00Z"),
               table_from(kTable));
  ASSERT_EQ(r.status, Status::fail);
  // Known exploited first, then by rating.
  EXPECT_THAT(r.failing, ElementsAre("CVE-2025-27915", "CVE-2026-00001"));
  EXPECT_THAT(r.detail, StartsWith("Zimbra 10.1.3 (network edition) lacks the fixes for 2 CVE(s) "
                                   "in the table (as of 2026-06-01), 1 known exploited; "));
  EXPECT_THAT(r.detail, HasSubstr("CVE-2025-27915 (Zimbra major, CVSS 5.4 medium, exploited: "
                                  "CISA KEV since "
                                  "2025-10-07): ICS XSS, fixed in 10.1.5, public since "
                                  "2025-03-12 (355 days before the snapshot)"));
  // The deadline of the table's [deadlines] (critical = 30 days after publication).
  EXPECT_THAT(r.detail, HasSubstr("CVE-2026-00001 (Zimbra critical, CVSS 8.1 high): made up, for "
                                  "the deadline, fixed in 10.1.20, public since 2026-01-01 (60 "
                                  "days before the snapshot), patch deadline 2026-01-31 (30 days "
                                  "for critical): overdue by 30 days at the snapshot"));
  EXPECT_THAT(r.detail, Not(HasSubstr("CVE-2024-45519")));  // 10.1.1 fixed it
  EXPECT_THAT(r.remediation, HasSubstr("apt-get install zimbra-patch"));
  EXPECT_THAT(r.remediation, HasSubstr("at least 10.1.20"));
  EXPECT_THAT(r.remediation, HasSubstr("./install.sh"));
}

TEST(VersionCheck, AnUnscoredCveIsUnratedAndSortsLast) {
  // cve[1] (CVE-2025-27915) without its score: the record had none.
  std::string text = with_line(22, "rating = \"unrated\"");
  for (const std::string cut : {"cvss = 5.4\n", "exploited = true\nkev_added = \"2025-10-07\"\n"}) {
    const auto at = text.find(cut);
    ASSERT_NE(at, std::string::npos) << cut;
    text.erase(at, cut.size());
  }
  auto table = table_from(text);
  ASSERT_TRUE(table);
  ASSERT_FALSE(table->cves[1].cvss);
  auto r = run(facts_with("Release 10.1.3.GA.1 U NETWORK edition."), table);
  ASSERT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.failing, ElementsAre("CVE-2026-00001", "CVE-2025-27915"));
  EXPECT_THAT(r.detail, HasSubstr("CVE-2025-27915 (unrated: no CVSS score): ICS XSS"));
}

TEST(VersionCheck, WithoutSnapshotDateNoAgeButStillTheDeadline) {
  auto r = run(facts_with("Release 10.1.3.GA.1 U NETWORK edition."), table_from(kTable));
  ASSERT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, Not(HasSubstr("days before the snapshot")));
  EXPECT_THAT(r.detail, HasSubstr("patch deadline 2026-01-31 (30 days for critical)"));
  EXPECT_THAT(r.detail, Not(HasSubstr("overdue")));
}

TEST(VersionCheck, PatchLineGetsThePatchCommandAndTheBoundary) {
  auto table = table_from(kTable);
  auto p45 = run(facts_with("Release 8.8.15_GA_3869.RHEL7_64_20190918004220 RHEL7_64 FOSS "
                            "edition, Patch 8.8.15_P45."),
                 table);
  ASSERT_EQ(p45.status, Status::fail);
  EXPECT_THAT(p45.failing, ElementsAre("CVE-2024-45519", "CVE-2025-27915"));
  EXPECT_THAT(p45.detail, HasSubstr("fixed in 8.8.15.P46"));
  // 9.0.0 and 10.x got the ICS fix, 8.8.15 did not.
  EXPECT_THAT(p45.detail, HasSubstr("line 8.8.15 no longer receives fixes (fixed in 9.0.0.P44, "
                                    "10.0.13, 10.1.5)"));
  EXPECT_THAT(p45.remediation, StartsWith("apt-get update && apt-get install zimbra-patch"));
  EXPECT_THAT(p45.remediation, HasSubstr("the newest 8.8.15 patch (at least 8.8.15.P46)"));
  EXPECT_THAT(p45.remediation, HasSubstr("upgrade to a maintained line (at least 9.0.0.P44)"));

  auto p46 = run(facts_with("Release 8.8.15.GA.3869.UBUNTU18.64 UBUNTU18_64 NETWORK edition, "
                            "Patch 8.8.15_P46."),
                 table);
  ASSERT_EQ(p46.status, Status::fail);
  EXPECT_THAT(p46.failing, ElementsAre("CVE-2025-27915"));
}

TEST(VersionCheck, AnUnmaintainedLineIsSaidSo) {
  auto r = run(facts_with("Release 8.7.11_GA_1854.RHEL7_64_20170531151956 RHEL7_64 FOSS edition."),
               table_from(kTable));
  ASSERT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("line 8.7.11 no longer receives fixes (fixed in 8.8.15.P46, "
                                  "9.0.0.P41, 10.0.9, 10.1.1)"));
  EXPECT_THAT(r.remediation, Not(HasSubstr("zimbra-patch")));
  EXPECT_THAT(r.remediation, HasSubstr("line 8.7.11 gets no fix for 2 CVE(s)"));
}

TEST(VersionCheck, NotCheckedWithoutTheFile) {
  Facts f;
  f.missing["edition"] = "zmcontrol-v.txt: not in the snapshot";
  auto r = run(f, table_from(kTable));
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_EQ(r.detail, "zmcontrol-v.txt: not in the snapshot");
}

TEST(VersionCheck, NotCheckedWhenTheFileDoesNotParse) {
  auto r = run(facts_with("Run as the zimbra user!\n"), table_from(kTable));
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, StartsWith("zmcontrol-v.txt:1:1: expected 'Release"));

  r = run(facts_with("Release 8.8.15.GA.1 U NETWORK edition, Patch 9.0.0_P38."),
          table_from(kTable));
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, StartsWith("zmcontrol-v.txt:1:46: Patch 9.0.0_P38 is not a patch"));
}

TEST(VersionCheck, NotCheckedWithoutATable) {
  auto r = run(facts_with("Release 10.1.3.GA.1 U NETWORK edition."), nullptr);
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, StartsWith("the CVE table did not load"));
}

// ---------------------------------------------------------------------------------------------
// The bundled example snapshot, with the shipped control and table

const Control* find_control(const std::vector<Control>& controls, std::string_view id) {
  for (const auto& c : controls)
    if (c.id == id) return &c;
  return nullptr;
}

TEST(VersionCheck, TheDefaultExampleLacksTheFixesAfter10_1_3) {
  std::vector<std::string> warnings;
  auto f = load_snapshot(std::string(MW_SOURCE_DIR) + "/examples/snapshots/zimbra-default",
                         test::tables().attrs, test::tables().keys, warnings);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto controls = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
  ASSERT_TRUE(controls.ok()) << controls.error().message;
  const Control* c = find_control(*controls, "host.zimbra-version");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->severity, Severity::critical);
  // builtin_checks() reads the shipped catalog/zimbra/cves.toml.
  auto r = evaluate(*c, *f, builtin_checks());
  ASSERT_EQ(r.status, Status::fail) << r.detail;
  // 10.1.3 GA has the 10.1.1 postjournal fix; it lacks everything fixed from 10.1.4 on. The only
  // known exploited one (CISA KEV) comes first, then by CVSS score (unrated last).
  EXPECT_THAT(r.failing,
              ElementsAre("CVE-2025-27915", "CVE-2026-93642", "CVE-2026-73570", "CVE-2025-66376",
                          "CVE-2025-25065", "CVE-2025-62763", "CVE-2025-25064"));
  EXPECT_THAT(r.detail, StartsWith("Zimbra 10.1.3 (network edition) lacks the fixes for 7 CVE(s)"));
  EXPECT_THAT(r.remediation, HasSubstr("at least 10.1.21"));
  EXPECT_EQ(r.facts[0].value, "Release 10.1.3.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition.");
  EXPECT_EQ(r.facts[0].origin, "zmcontrol-v.txt:1");
}

TEST(VersionCheck, ASnapshotWithoutZmcontrolIsNotChecked) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mw-version-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(std::string(MW_SOURCE_DIR) + "/examples/snapshots/zimbra-default", dir);
  std::filesystem::remove(dir / "zmcontrol-v.txt");
  std::vector<std::string> warnings;
  auto f = load_snapshot(dir, test::tables().attrs, test::tables().keys, warnings);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(f.ok()) << f.error().message;
  const Control c = version_control();
  auto r = evaluate(c, *f, builtin_checks());
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("zmcontrol-v.txt"));
}

}  // namespace
}  // namespace mw::audit
