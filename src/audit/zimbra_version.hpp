// The Zimbra release a server runs (`zmcontrol -v`) and the dated table of Zimbra CVEs with the
// release that fixes each (catalog/zimbra/cves.toml): which fixes the installed release lacks.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/engine.hpp"
#include "core/result.hpp"

namespace mw::audit {

// A Zimbra version as Zimbra numbers its fixes: 8.8.15 Patch 46 is {8,8,15,46}, 9.0.0 Patch 24.1
// (a re-release of Patch 24) is {9,0,0,24,1}, 10.1.3 is {10,1,3}. Ordered member by member, so
// 8.8.15.P40 < 8.8.15.P41, 10.0.8 < 10.0.9 < 10.1.0, 9.0.0.P24 < 9.0.0.P24.1.
struct ZimbraVersion {
  int major = 0, minor = 0, micro = 0;
  int patch = 0;   // the P-number; 0 = the GA release without a patch
  int update = 0;  // the ".1" of "P24.1"
  auto operator<=>(const ZimbraVersion&) const = default;
};

// A release line: the releases that one stream of fixes reaches.
// - Up to 9.x a line is major.minor.micro, and fixes come as patches of that one version:
//   8.8.15 Patch 46, 9.0.0 Patch 41. 8.8.10 and 8.8.11 were separate lines, patched side by side.
// - From 10 on a line is major.minor, and fixes come as new micro releases: 10.0.9, 10.1.1 (which
//   may get patches of their own, 10.1.18 P1). So 10.1.3 and 10.1.5 are the same line, 10.0.9 and
//   10.1.0 are not.
struct ReleaseLine {
  int major = 0, minor = 0;
  int micro = 0;  // always 0 from 10 on
  auto operator<=>(const ReleaseLine&) const = default;
};
ReleaseLine line_of(const ZimbraVersion& v);
std::string line_name(const ReleaseLine& l);       // "8.8.15", "10.1"
std::string version_name(const ZimbraVersion& v);  // "8.8.15.P46", "9.0.0.P24.1", "10.1.3"

// "10.1.3", "8.8.15.P46", "8.8.15_P41", "8.8.15.p41", "9.0.0.P24.1": the whole text must be a
// version. Components are at most 5 digits. The error says what is wrong, without a position.
Result<ZimbraVersion> parse_zimbra_version(std::string_view text);

// What `zmcontrol -v` printed, parsed.
struct ZimbraRelease {
  ZimbraVersion version;  // what runs: the Release field with the installed patch applied
  ZimbraVersion base;     // the Release field alone (the version of the zimbra-core package)
  std::string build;      // after the version: "GA.4633.UBUNTU22.64", "GA_3869.RHEL7_64_2019..."
  std::string platform;   // "UBUNTU22_64"; "" when not printed
  std::string edition;    // "network" or "foss"; "" when not printed (zmprov failed on the host)
  std::string patch;      // after ", Patch" as printed ("8.8.15_P41"); "" without a patch
  std::string raw;        // the Release line, trimmed
  std::size_t line = 0;   // its line number in the file
};

// The forms zmcontrol prints (one `Release` line; blank lines and other lines around it, such
// as the two newlines old versions print first, are skipped):
//   Release 8.8.15_GA_3869.RHEL7_64_20190918004220 RHEL7_64 FOSS edition, Patch 8.8.15_P41.
//   Release 8.8.15.GA.3869.UBUNTU18.64 UBUNTU18_64 NETWORK edition, Patch 8.8.15_P26
//   Release 9.0.0.GA.4571.UBUNTU20.64 UBUNTU20_64 NETWORK edition, Patch 9.0.0_P39.
//   Release 10.1.3.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition.
//   Release 10.0.10_GA_1008.RHEL8_64_20241012175445 RHEL8_64 FOSS edition.
//   Release 10.1.0.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition, Patch 10.1.12.
// The release field is the zimbra-core package version (dpkg: dots; rpm: version_release with
// underscores). The edition is missing when zmprov failed on the host; the platform may be too.
// Forms 1-3 and 5 are quoted from hosts (forums, issue threads), 4 is the bundled example; the
// last (a 10.x micro release installed as zimbra-patch) is inferred, not seen verbatim.
// A patch of 8.x/9.x must name the same major.minor.micro and carry a P-number; a patch of 10.x
// must name the same major.minor and a micro release no older than the Release field, and
// becomes the version that runs. Errors name source:line:column. Input is bounded (64 KiB,
// lines of 4096 bytes).
Result<ZimbraRelease> parse_zmcontrol_version(std::string_view text, std::string_view source);

// Does a CVE fixed in `fixed_in` (one first-fixed release per line, as the vendor lists them)
// apply to `installed`?
//  1. `introduced` set and installed < introduced: no (the flaw came later; only where the CVE
//     record bounds the affected versions from below, e.g. "10.0.x before 10.0.12").
//  2. The installed line has a listed fix: it applies iff installed < that fix. Same line means
//     the same major.minor.micro up to 9.x (8.8.15.P40 < 8.8.15.P41: applies) and the same
//     major.minor from 10 on, where a higher micro release fixes (10.0.8 < 10.0.9: applies;
//     10.0.10 does not) and patches of a micro release order after it (10.1.18 < 10.1.18.P1).
//  3. The installed line has no listed fix: it applies iff a listed line is newer than the
//     installed one. An older or in-between line (8.7.11 when 8.8.15 and 9.0.0 were patched,
//     8.8.9 when 8.8.10 and 8.8.11 were, 9.0.0 when only 8.8.15 and 10.x were) got no fix: the
//     vendor no longer fixed it. A line newer than every listed one was branched after the fix
//     (8.8.12 after 8.8.11 P3) or was never affected (9.0.0 for a flaw of 8.8.15 only), as the
//     CVE records list every line that was affected and maintained.
struct FixVerdict {
  bool applies = false;
  // The installed line's listed fix, whether or not the installed release has it.
  std::optional<ZimbraVersion> line_fix;
  // Applies, and the installed line has no listed fix: the fix of the oldest newer line.
  std::optional<ZimbraVersion> upgrade_to;
};
FixVerdict check_fix(const ZimbraVersion& installed, const std::vector<ZimbraVersion>& fixed_in,
                     const std::optional<ZimbraVersion>& introduced);

// "2026-11-28" (or the date part of "2026-11-28T23:55:58Z") as days since 1970-01-01;
// nullopt unless it is a valid Gregorian date.
std::optional<std::int64_t> civil_day(std::string_view date);

// The CVE table. Ratings are the CVSS 3.x base severity of the CVE record ("unrated" when the
// record carries no score); the file header says so.
enum class CveRating : std::uint8_t { critical, high, medium, low, unrated };
std::string_view rating_name(CveRating r);
// The CVSS 3.x base severity of a score (FIRST's CVSS 3.1 specification, section 5): critical
// 9.0-10.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9; a 0.0 score is "none", which the table
// has no use for: unrated.
CveRating cvss_severity(double score);

// Zimbra's own classification of a vulnerability by its CVSS score (wiki.zimbra.com, "Zimbra
// Vulnerability Rating Classification"): Critical 8.0-10.0, Major 5.0-7.9, Minor 0.0-4.9. It
// is what Zimbra's advisories print and what its response policy is keyed on, so patch
// deadlines are keyed on it too. unrated without a score.
enum class ZimbraRating : std::uint8_t { critical, major, minor, unrated };
std::string_view zimbra_rating_name(ZimbraRating r);
ZimbraRating zimbra_rating(std::optional<double> cvss);

struct CveEntry {
  std::string id;  // "CVE-2024-45519"
  CveRating rating = CveRating::unrated;
  std::optional<double> cvss;
  std::string summary;
  std::vector<ZimbraVersion> fixed_in;      // one per line, in file order
  std::optional<ZimbraVersion> introduced;  // first affected release, when the record says
  bool exploited = false;                   // listed in CISA's Known Exploited Vulnerabilities
  std::string kev_added;                    // "2024-10-03" when exploited
  std::string published;                    // the CVE record's publication date
  std::string source;                       // where the facts come from
  std::size_t line = 0;                     // of its [[cve]] header in the table file
};

struct CveTable {
  std::string as_of;  // "2026-11-29": the table knows of nothing later
  std::vector<std::string> sources;
  std::string rating_scale;  // what `rating` means
  std::map<ZimbraRating, int>
      deadline_days;             // days after publication, per Zimbra rating; may be empty
  std::string deadlines_source;  // where the deadlines come from, or why none
  std::vector<CveEntry> cves;
  std::string location;  // the file it was loaded from
};

// Schema (unknown keys are errors; errors name name:line:column and the field, `cve[N]`
// counting [[cve]] sections from 0):
//   as_of = "YYYY-MM-DD"  sources = ["..."]  rating_scale = "..."
//   [deadlines] source = "..."  critical = 30 ...   (Zimbra rating critical/major/minor ->
//               days, 1-3650; optional)
//   [[cve]] id, rating, summary, fixed_in = ["8.8.15.P46", "10.0.9"], published, source
//           (required); cvss (0-10), introduced, exploited + kev_added (together) (optional).
// fixed_in has at most one release per line; ids are unique; with a cvss score, rating must be
// that score's CVSS severity (a mistyped score or rating is caught when the table loads).
Result<CveTable> parse_cve_table(std::string_view text, std::string_view name);
Result<CveTable> load_cve_table(const std::filesystem::path& file);
// catalog_dir()/zimbra/cves.toml ($MAILWARDEN_CATALOG or the compiled-in catalog).
std::filesystem::path cve_table_path();

// The check "zimbra-version" (version_checks.cpp) bound to `table`. add_version_checks()
// registers it bound to cve_table_path(), read at its first evaluation; a table that does not
// load makes the control not_checked with the loader's message.
CustomCheck zimbra_version_check(std::shared_ptr<const CveTable> table);
// Replaces the "zimbra-version" entry of `checks` with one bound to `table`.
void set_cve_table(CustomChecks& checks, std::shared_ptr<const CveTable> table);

}  // namespace mw::audit
