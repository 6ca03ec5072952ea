// The check behind host.zimbra-version: the installed Zimbra release (zmcontrol -v) against the
// dated table of Zimbra CVEs (catalog/zimbra/cves.toml). The parsers and the rule that decides
// whether a fix is installed are in zimbra_version.cpp; this file words the result.
#include <fmt/format.h>

#include <filesystem>

#include <algorithm>
#include <mutex>

#include "audit/check_util.hpp"
#include "audit/custom_checks.hpp"
#include "audit/zimbra_version.hpp"

namespace mw::audit {

namespace {

constexpr std::string_view kCheckName = "zimbra-version";

struct Applying {
  const CveEntry* cve = nullptr;
  FixVerdict verdict;
};

// Days since 1970-01-01 back to YYYY-MM-DD (Howard Hinnant's civil_from_days).
std::string date_name(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::string versions_list(const std::vector<ZimbraVersion>& vs) {
  std::string out;
  for (const auto& v : vs) out += (out.empty() ? "" : ", ") + version_name(v);
  return out;
}

// One CVE that applies, in words: what it is, the fix for this line, how old it is and, when
// the table has deadlines, whether the deadline has passed at the snapshot's time.
std::string describe(const Applying& a, const CveTable& table, const ZimbraVersion& installed,
                     std::optional<std::int64_t> snapshot_day) {
  const CveEntry& c = *a.cve;
  // Zimbra's rating first (what its advisories print), then the score it comes from.
  const ZimbraRating zr = zimbra_rating(c.cvss);
  std::string s = c.cvss ? fmt::format("{} (Zimbra {}, CVSS {:.1f} {}", c.id,
                                       zimbra_rating_name(zr), *c.cvss, rating_name(c.rating))
                         : fmt::format("{} (unrated: no CVSS score", c.id);
  if (c.exploited) s += fmt::format(", exploited: CISA KEV since {}", c.kev_added);
  s += "): " + c.summary;
  if (a.verdict.line_fix) {
    s += fmt::format(", fixed in {}", version_name(*a.verdict.line_fix));
  } else {
    // Older than every listed line: the vendor had stopped fixing it. Between listed lines: the
    // table only says that this line got no fix.
    const ReleaseLine line = line_of(installed);
    const bool older_than_all =
        std::all_of(c.fixed_in.begin(), c.fixed_in.end(),
                    [&](const ZimbraVersion& v) { return line_of(v) > line; });
    s += older_than_all ? fmt::format(", line {} no longer receives fixes (fixed in {})",
                                      line_name(line), versions_list(c.fixed_in))
                        : fmt::format(", line {} got no fix for it (fixed in {})", line_name(line),
                                      versions_list(c.fixed_in));
  }
  const auto published = civil_day(c.published);
  if (published && snapshot_day) {
    const std::int64_t age = *snapshot_day - *published;
    s += age >= 0 ? fmt::format(", public since {} ({} days before the snapshot)", c.published, age)
                  : fmt::format(", published {} ({} days after the snapshot)", c.published, -age);
  }
  if (auto it = table.deadline_days.find(zr); it != table.deadline_days.end() && published) {
    const std::int64_t due = *published + it->second;
    s += fmt::format(", patch deadline {} ({} days for {})", date_name(due), it->second,
                     zimbra_rating_name(zr));
    if (snapshot_day && *snapshot_day > due)
      s += fmt::format(": overdue by {} days at the snapshot", *snapshot_day - due);
  }
  return s;
}

// The commands that bring the installed line up to the fixes, or off a line that gets none.
std::string remediation_for(const ZimbraRelease& rel, const std::vector<Applying>& applying) {
  const ReleaseLine line = line_of(rel.version);
  std::optional<ZimbraVersion> target;     // the newest fix of this line that is needed
  std::optional<ZimbraVersion> elsewhere;  // the newest fix of a newer line, when this one has none
  std::size_t unfixed = 0;
  for (const auto& a : applying) {
    if (a.verdict.line_fix) {
      if (!target || *target < *a.verdict.line_fix) target = a.verdict.line_fix;
    } else if (a.verdict.upgrade_to) {
      ++unfixed;
      if (!elsewhere || *elsewhere < *a.verdict.upgrade_to) elsewhere = a.verdict.upgrade_to;
    }
  }
  std::string out;
  if (target && line.major < 10) {
    out += fmt::format(
        "apt-get update && apt-get install zimbra-patch && su - zimbra -c 'zmcontrol restart'   "
        "# as root on each mailbox node: the newest {} patch (at least {}); RHEL: yum install "
        "zimbra-patch; MTA and proxy nodes: zimbra-mta-patch, zimbra-proxy-patch\n",
        line_name(line), version_name(*target));
  } else if (target) {
    out += fmt::format(
        "apt-get update && apt-get install zimbra-patch && su - zimbra -c 'zmcontrol restart'   "
        "# as root: Network Edition {}.x releases come as zimbra-patch (zimbra-mta-patch, "
        "zimbra-proxy-patch on those nodes); at least {}; RHEL: yum install zimbra-patch\n",
        line_name(line), version_name(*target));
    out += fmt::format(
        "tar xzf zcs-*-{}_GA_*.tgz && cd zcs-*/ && ./install.sh   # or, as root, the installer of "
        "{} or later upgrades in place (the only way for FOSS builds)\n",
        version_name(*target), version_name(*target));
  }
  if (elsewhere) {
    out += fmt::format(
        "tar xzf zcs-*.tgz && cd zcs-*/ && ./install.sh   # as root: line {} gets no fix for {} "
        "CVE(s) of the table; upgrade to a maintained line (at least {}) with that release's "
        "installer\n",
        line_name(line), unfixed, version_name(*elsewhere));
  }
  return out;
}

ControlResult evaluate_release(const Control& c, const Facts& f, const CveTable* table,
                               std::string_view table_error) {
  if (!f.zimbra_release) {
    return missing_facts(c, f, "edition", "zmcontrol-v.txt: not in the snapshot");
  }
  const std::string file =
      f.file_of.count("edition") ? f.file_of.at("edition") : std::string("zmcontrol-v.txt");
  auto rel = parse_zmcontrol_version(*f.zimbra_release, file);
  if (!rel) return make_result(c, Status::not_checked, rel.error().message);
  if (table == nullptr) {
    return make_result(c, Status::not_checked,
                       fmt::format("the CVE table did not load: {}", table_error));
  }

  auto r = make_result(c, Status::pass);
  const std::string running =
      version_name(rel->version) +
      (rel->edition.empty() ? std::string() : fmt::format(" ({} edition)", rel->edition));
  r.facts.push_back({"zmcontrol -v", rel->raw, fmt::format("{}:{}", file, rel->line)});
  r.facts.push_back({"release that runs", running,
                     rel->patch.empty() ? file : fmt::format("{} (Patch {})", file, rel->patch)});
  r.facts.push_back({"CVE table",
                     fmt::format("{} CVEs, as of {}", table->cves.size(), table->as_of),
                     // Relative to the catalog: the same report wherever the tool is installed.
                     "catalog " + (std::filesystem::path(table->location).parent_path().filename() /
                                   std::filesystem::path(table->location).filename())
                                      .string()});
  r.facts.push_back({"snapshot taken", f.collected_at.empty() ? "(unknown)" : f.collected_at,
                     f.collected_at.empty() ? "no manifest.json" : "manifest.json"});

  const auto snapshot_day = f.collected_at.empty() ? std::nullopt : civil_day(f.collected_at);
  std::vector<Applying> applying;
  for (const auto& cve : table->cves) {
    FixVerdict v = check_fix(rel->version, cve.fixed_in, cve.introduced);
    if (v.applies) applying.push_back({&cve, v});
  }
  // Known exploited first, then by score (unrated last), then in table order.
  std::stable_sort(applying.begin(), applying.end(), [](const Applying& a, const Applying& b) {
    if (a.cve->exploited != b.cve->exploited) return a.cve->exploited;
    return a.cve->cvss.value_or(-1.0) > b.cve->cvss.value_or(-1.0);
  });

  std::string staleness;
  if (const auto as_of = civil_day(table->as_of); as_of && snapshot_day && *snapshot_day > *as_of)
    staleness = fmt::format(
        "; the snapshot is {} days newer than the table, so CVEs published since are not "
        "checked",
        *snapshot_day - *as_of);

  if (applying.empty()) {
    r.detail = fmt::format("Zimbra {}: none of the {} CVEs in the table (as of {}) applies{}",
                           running, table->cves.size(), table->as_of, staleness);
    return r;
  }
  r.status = Status::fail;
  const auto exploited = std::count_if(applying.begin(), applying.end(),
                                       [](const Applying& a) { return a.cve->exploited; });
  r.detail = fmt::format(
      "Zimbra {} lacks the fixes for {} CVE(s) in the table (as of {}), {} "
      "known exploited{}",
      running, applying.size(), table->as_of, exploited, staleness);
  for (const auto& a : applying) {
    r.failing.push_back(a.cve->id);
    r.detail += "; " + describe(a, *table, rel->version, snapshot_day);
  }
  r.remediation = remediation_for(*rel, applying);
  return r;
}

// The shipped table, read at the first evaluation of the check and kept for the others.
struct LazyTable {
  std::once_flag once;
  std::shared_ptr<const CveTable> table;
  std::string error;
};

}  // namespace

CustomCheck zimbra_version_check(std::shared_ptr<const CveTable> table) {
  return [table = std::move(table)](const Control& c, const Facts& f) {
    return evaluate_release(c, f, table.get(), "no table given");
  };
}

void set_cve_table(CustomChecks& checks, std::shared_ptr<const CveTable> table) {
  checks[std::string(kCheckName)] = zimbra_version_check(std::move(table));
}

void add_version_checks(CustomChecks& checks) {
  auto lazy = std::make_shared<LazyTable>();
  checks[std::string(kCheckName)] = [lazy](const Control& c, const Facts& f) {
    std::call_once(lazy->once, [&] {
      auto t = load_cve_table(cve_table_path());
      if (t) {
        lazy->table = std::make_shared<const CveTable>(std::move(*t));
      } else {
        lazy->error = t.error().message;
      }
    });
    return evaluate_release(c, f, lazy->table.get(), lazy->error);
  };
}

}  // namespace mw::audit
