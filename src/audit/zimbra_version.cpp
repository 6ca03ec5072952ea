// Parsers of `zmcontrol -v` and of catalog/zimbra/cves.toml, and the rule that says whether a
// CVE's fix is in an installed Zimbra release.
#include "audit/zimbra_version.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "catalog/ports.hpp"
#include "catalog/toml_file.hpp"
#include "core/atomic_file.hpp"

namespace mw::audit {

namespace {

constexpr std::size_t kMaxZmcontrolBytes = 64 * 1024;
constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::size_t kMaxTableBytes = 1024 * 1024;
constexpr int kMaxDigits = 5;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Up to kMaxDigits digits at s[i]; advances i. False when there is no digit or too many.
bool read_number(std::string_view s, std::size_t& i, int& out) {
  std::size_t start = i;
  int value = 0;
  while (i < s.size() && is_digit(s[i])) {
    if (i - start == kMaxDigits) return false;
    value = value * 10 + (s[i] - '0');
    ++i;
  }
  if (i == start) return false;
  out = value;
  return true;
}

// major.minor.micro at s[0], then an optional patch "[._][Pp]N[.N]". Returns how many bytes
// were read, or 0 (with `why`) when there is no version at the start.
std::size_t read_version(std::string_view s, ZimbraVersion& v, std::string& why) {
  std::size_t i = 0;
  int* parts[] = {&v.major, &v.minor, &v.micro};
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (i >= s.size() || s[i] != '.') {
        why = "expected major.minor.micro";
        return 0;
      }
      ++i;
    }
    std::size_t before = i;
    if (!read_number(s, i, *parts[k])) {
      why = i - before >= static_cast<std::size_t>(kMaxDigits) ? "a number has more than 5 digits"
                                                               : "expected major.minor.micro";
      return 0;
    }
  }
  // A patch: ".P46", "_P41", ".p41", then an optional update ".1".
  if (i + 2 < s.size() && (s[i] == '.' || s[i] == '_') && (s[i + 1] == 'P' || s[i + 1] == 'p') &&
      is_digit(s[i + 2])) {
    std::size_t j = i + 2;
    if (!read_number(s, j, v.patch)) {
      why = "a patch number has more than 5 digits";
      return 0;
    }
    if (v.patch == 0) {
      why = "patch numbers start at 1";
      return 0;
    }
    i = j;
    if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
      j = i + 1;
      if (!read_number(s, j, v.update)) {
        why = "a patch update has more than 5 digits";
        return 0;
      }
      i = j;
    }
  }
  return i;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A printable excerpt of untrusted text for an error message.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (s.size() > 60) out += "...";
  return out;
}

struct Word {
  std::string_view text;
  std::size_t column;  // 1-based, in the line
};

std::vector<Word> words_of(std::string_view line, std::size_t from) {
  std::vector<Word> out;
  std::size_t i = from;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) out.push_back({line.substr(start, i - start), start + 1});
  }
  return out;
}

bool same_release(const ZimbraVersion& a, const ZimbraVersion& b) {
  return a.major == b.major && a.minor == b.minor && a.micro == b.micro;
}

}  // namespace

ReleaseLine line_of(const ZimbraVersion& v) {
  return v.major >= 10 ? ReleaseLine{v.major, v.minor, 0} : ReleaseLine{v.major, v.minor, v.micro};
}

std::string line_name(const ReleaseLine& l) {
  return l.major >= 10 ? fmt::format("{}.{}", l.major, l.minor)
                       : fmt::format("{}.{}.{}", l.major, l.minor, l.micro);
}

std::string version_name(const ZimbraVersion& v) {
  std::string out = fmt::format("{}.{}.{}", v.major, v.minor, v.micro);
  if (v.patch > 0) out += fmt::format(".P{}", v.patch);
  if (v.update > 0) out += fmt::format(".{}", v.update);
  return out;
}

Result<ZimbraVersion> parse_zimbra_version(std::string_view text) {
  ZimbraVersion v;
  std::string why;
  const std::size_t n = read_version(text, v, why);
  if (n == 0)
    return Error{fmt::format("'{}' is not a Zimbra version ({}; e.g. 10.1.3 or 8.8.15.P46)",
                             excerpt(text), why)};
  if (n != text.size())
    return Error{fmt::format("'{}' is not a Zimbra version (unexpected '{}' after {})",
                             excerpt(text), excerpt(text.substr(n, 1)),
                             excerpt(text.substr(0, n)))};
  return v;
}

Result<ZimbraRelease> parse_zmcontrol_version(std::string_view text, std::string_view source) {
  if (text.size() > kMaxZmcontrolBytes)
    return Error{fmt::format("{}: {} bytes is more than zmcontrol -v prints (at most {} read)",
                             source, text.size(), kMaxZmcontrolBytes)};
  std::size_t line_no = 0;
  std::size_t first_other = 0;  // the first non-blank line that is not a Release line
  std::string_view first_other_text;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (line.size() > kMaxLineBytes)
      return Error{
          fmt::format("{}:{}:1: line is longer than {} bytes", source, line_no, kMaxLineBytes)};
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view body = trim(line);
    if (body.empty()) continue;
    constexpr std::string_view kRelease = "Release";
    if (body.substr(0, kRelease.size()) != kRelease ||
        (body.size() > kRelease.size() && !is_space(body[kRelease.size()]))) {
      if (first_other == 0) {
        first_other = line_no;
        first_other_text = body;
      }
      continue;
    }

    // The Release line. Columns count from the start of the line as printed.
    ZimbraRelease r;
    r.raw = std::string(body);
    r.line = line_no;
    const std::size_t lead = static_cast<std::size_t>(body.data() - line.data());
    std::vector<Word> words = words_of(line, lead + kRelease.size());
    auto fail = [&](std::size_t column, std::string_view what) {
      return Error{fmt::format("{}:{}:{}: {}", source, line_no, column, what)};
    };
    if (words.empty())
      return fail(lead + kRelease.size() + 1,
                  "'Release' without a version (expected e.g. 'Release 10.1.3.GA.4633.UBUNTU22.64 "
                  "UBUNTU22_64 NETWORK edition.')");

    // The release field: version, then the build after '.', '_' or '-'.
    const Word rel = words.front();
    std::string why;
    const std::size_t n = read_version(rel.text, r.base, why);
    if (n == 0)
      return fail(rel.column, fmt::format("'{}' is not a Zimbra release ({}; e.g. "
                                          "10.1.3.GA.4633.UBUNTU22.64)",
                                          excerpt(rel.text), why));
    if (n < rel.text.size()) {
      const char sep = rel.text[n];
      if (sep != '.' && sep != '_' && sep != '-')
        return fail(rel.column + n,
                    fmt::format("unexpected '{}' after the version {}",
                                excerpt(rel.text.substr(n, 1)), version_name(r.base)));
      r.build = std::string(rel.text.substr(n + 1));
    }
    r.version = r.base;

    // [platform] [NETWORK|FOSS edition[.|, Patch X[.]]]
    constexpr std::size_t k = 1;  // words[0] is the release field
    std::size_t edition_at = 0;
    for (std::size_t i = 1; i < words.size(); ++i) {
      const auto w = words[i].text;
      if (w == "edition" || w == "edition." || w == "edition,") {
        edition_at = i;
        break;
      }
    }
    const std::size_t platform_end = edition_at == 0 ? words.size() : edition_at - 1;
    if (edition_at == 1)
      return fail(words[1].column, "'edition' without NETWORK or FOSS before it");
    if (platform_end > k + 1)
      return fail(words[k + 1].column,
                  fmt::format("unexpected '{}' (expected '<platform> NETWORK edition' or "
                              "'<platform> FOSS edition')",
                              excerpt(words[k + 1].text)));
    if (platform_end == k + 1) {
      std::string_view p = words[k].text;
      if (edition_at == 0 && !p.empty() && p.back() == '.') p.remove_suffix(1);
      r.platform = std::string(p);
    }
    if (edition_at == 0) return r;

    const Word ed = words[edition_at - 1];
    if (ed.text == "NETWORK") {
      r.edition = "network";
    } else if (ed.text == "FOSS") {
      r.edition = "foss";
    } else {
      return fail(ed.column,
                  fmt::format("unknown edition '{}' (expected NETWORK or FOSS)", excerpt(ed.text)));
    }
    const std::string_view mark = words[edition_at].text;
    const std::size_t after = edition_at + 1;
    if (mark != "edition,") {
      if (after < words.size())
        return fail(words[after].column,
                    fmt::format("unexpected '{}' after the edition", excerpt(words[after].text)));
      return r;
    }
    if (after >= words.size() || words[after].text != "Patch")
      return fail(after < words.size() ? words[after].column
                                       : words[edition_at].column + words[edition_at].text.size(),
                  "expected 'Patch <version>' after 'edition,'");
    if (after + 1 >= words.size())
      return fail(words[after].column + words[after].text.size(),
                  "'Patch' without a version (expected e.g. 'Patch 8.8.15_P41.')");
    if (after + 2 < words.size())
      return fail(words[after + 2].column,
                  fmt::format("unexpected '{}' after the patch", excerpt(words[after + 2].text)));
    const Word pw = words[after + 1];
    std::string_view patch = pw.text;
    if (!patch.empty() && patch.back() == '.') patch.remove_suffix(1);
    r.patch = std::string(patch);
    auto pv = parse_zimbra_version(patch);
    if (!pv) return fail(pw.column, fmt::format("Patch {}", pv.error().message));
    if (r.base.major < 10) {
      if (!same_release(*pv, r.base))
        return fail(pw.column, fmt::format("Patch {} is not a patch of release {}", excerpt(patch),
                                           version_name(r.base)));
      if (pv->patch == 0)
        return fail(pw.column, fmt::format("Patch {} has no patch number (expected e.g. {}_P41)",
                                           excerpt(patch), version_name(r.base)));
    } else {
      if (line_of(*pv) != line_of(r.base))
        return fail(pw.column, fmt::format("Patch {} is not a release of line {}", excerpt(patch),
                                           line_name(line_of(r.base))));
      if (*pv < r.base)
        return fail(pw.column, fmt::format("Patch {} is older than release {}", excerpt(patch),
                                           version_name(r.base)));
    }
    r.version = *pv;
    return r;
  }
  if (first_other == 0)
    return Error{fmt::format("{}:1:1: empty: no 'Release <version> ...' line", source)};
  return Error{
      fmt::format("{}:{}:1: expected 'Release <version> <platform> NETWORK|FOSS "
                  "edition', found '{}'",
                  source, first_other, excerpt(first_other_text))};
}

FixVerdict check_fix(const ZimbraVersion& installed, const std::vector<ZimbraVersion>& fixed_in,
                     const std::optional<ZimbraVersion>& introduced) {
  FixVerdict v;
  const ReleaseLine line = line_of(installed);
  for (const auto& fix : fixed_in) {
    if (line_of(fix) == line) v.line_fix = fix;
  }
  if (introduced && installed < *introduced) return v;
  if (v.line_fix) {
    v.applies = installed < *v.line_fix;
    return v;
  }
  for (const auto& fix : fixed_in) {
    if (line_of(fix) > line && (!v.upgrade_to || line_of(fix) < line_of(*v.upgrade_to)))
      v.upgrade_to = fix;
  }
  v.applies = v.upgrade_to.has_value();
  return v;
}

std::optional<std::int64_t> civil_day(std::string_view date) {
  if (date.size() < 10) return std::nullopt;
  if (date.size() > 10 && date[10] != 'T') return std::nullopt;
  const std::string_view d = date.substr(0, 10);
  for (std::size_t i = 0; i < 10; ++i) {
    if (i == 4 || i == 7) {
      if (d[i] != '-') return std::nullopt;
    } else if (!is_digit(d[i])) {
      return std::nullopt;
    }
  }
  auto num = [&](std::size_t at, std::size_t len) {
    int n = 0;
    for (std::size_t i = at; i < at + len; ++i) n = n * 10 + (d[i] - '0');
    return n;
  };
  const int y = num(0, 4), m = num(5, 2), day = num(8, 2);
  if (m < 1 || m > 12 || day < 1) return std::nullopt;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int max_day = kDays[static_cast<std::size_t>(m - 1)] + (m == 2 && leap ? 1 : 0);
  if (day > max_day) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  const int yy = m <= 2 ? y - 1 : y;
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

std::string_view rating_name(CveRating r) {
  switch (r) {
    case CveRating::critical:
      return "critical";
    case CveRating::high:
      return "high";
    case CveRating::medium:
      return "medium";
    case CveRating::low:
      return "low";
    case CveRating::unrated:
      return "unrated";
  }
  return "unrated";
}

CveRating cvss_severity(double score) {
  if (score >= 9.0) return CveRating::critical;
  if (score >= 7.0) return CveRating::high;
  if (score >= 4.0) return CveRating::medium;
  if (score > 0.0) return CveRating::low;
  return CveRating::unrated;
}

std::string_view zimbra_rating_name(ZimbraRating r) {
  switch (r) {
    case ZimbraRating::critical:
      return "critical";
    case ZimbraRating::major:
      return "major";
    case ZimbraRating::minor:
      return "minor";
    case ZimbraRating::unrated:
      return "unrated";
  }
  return "unrated";
}

ZimbraRating zimbra_rating(std::optional<double> cvss) {
  if (!cvss) return ZimbraRating::unrated;
  // Scores have one decimal; 7.95 would not be a CVSS score, so ">= 8.0" is the whole rule.
  if (*cvss >= 8.0) return ZimbraRating::critical;
  if (*cvss >= 5.0) return ZimbraRating::major;
  return ZimbraRating::minor;
}

namespace {

struct TableError {
  std::string message;
};

constexpr std::array<std::string_view, 5> kTopKeys = {"as_of", "sources", "rating_scale",
                                                      "deadlines", "cve"};
constexpr std::array<std::string_view, 10> kCveKeys = {
    "id",         "rating",    "cvss",      "summary",   "fixed_in",
    "introduced", "exploited", "kev_added", "published", "source"};
constexpr std::array<CveRating, 5> kRatings = {
    CveRating::critical, CveRating::high, CveRating::medium, CveRating::low, CveRating::unrated};

std::optional<CveRating> rating_of(std::string_view s) {
  for (auto r : kRatings) {
    if (rating_name(r) == s) return r;
  }
  return std::nullopt;
}

constexpr std::array<ZimbraRating, 3> kZimbraRatings = {ZimbraRating::critical, ZimbraRating::major,
                                                        ZimbraRating::minor};

std::optional<ZimbraRating> zimbra_rating_of(std::string_view s) {
  for (auto r : kZimbraRatings) {
    if (zimbra_rating_name(r) == s) return r;
  }
  return std::nullopt;
}

std::string ratings_list() {
  std::string out;
  for (auto r : kRatings) out += (out.empty() ? "" : ", ") + std::string(rating_name(r));
  return out;
}

bool is_cve_id(std::string_view s) {
  if (s.size() < 13 || s.size() > 16 || s.substr(0, 4) != "CVE-" || s[8] != '-') return false;
  for (std::size_t i = 4; i < s.size(); ++i) {
    if (i != 8 && !is_digit(s[i])) return false;
  }
  return true;
}

class TableParser {
 public:
  explicit TableParser(std::string_view name) : name_(name) {}

  CveTable parse(const toml::table& root) {
    CveTable t;
    t.location = name_;
    check_keys(root, "", kTopKeys);
    t.as_of = date_string(root, root_region(), "as_of", "as_of");
    if (const toml::node* n = root.get("sources")) t.sources = string_list(*n, "sources");
    if (const toml::node* n = root.get("rating_scale"))
      t.rating_scale = string_of(*n, "rating_scale");
    if (const toml::node* n = root.get("deadlines")) parse_deadlines(*n, t);

    const toml::node* cves = root.get("cve");
    if (cves == nullptr) fail(root_region(), "cve", "missing: the table lists at least one CVE");
    const toml::array* list = cves->as_array();
    if (list == nullptr || !list->is_array_of_tables())
      fail(*cves, "cve", "expected an array of tables ([[cve]] sections)");
    std::map<std::string, std::size_t, std::less<>> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::table& ct = *list->get(i)->as_table();
      CveEntry e = parse_cve(ct, i);
      if (auto it = seen.find(e.id); it != seen.end())
        fail(*ct.get("id"), field(i, "id"),
             fmt::format("{} is already listed by cve[{}] at line {}", e.id, it->second,
                         list->get(it->second)->source().begin.line));
      seen.emplace(e.id, i);
      t.cves.push_back(std::move(e));
    }
    return t;
  }

 private:
  [[noreturn]] void fail(const toml::source_region& at, std::string_view f,
                         std::string_view what) const {
    const auto line = at.begin.line > 0 ? at.begin.line : 1;
    const auto column = at.begin.column > 0 ? at.begin.column : 1;
    throw TableError{fmt::format("{}:{}:{}: {}: {}", name_, line, column, f, what)};
  }
  [[noreturn]] void fail(const toml::node& at, std::string_view f, std::string_view what) const {
    fail(at.source(), f, what);
  }

  static toml::source_region root_region() {
    toml::source_region r;
    r.begin = {1, 1};
    r.end = {1, 1};
    return r;
  }

  static std::string field(std::size_t i, std::string_view key) {
    return fmt::format("cve[{}].{}", i, key);
  }

  template <std::size_t N>
  void check_keys(const toml::table& t, std::string_view prefix,
                  const std::array<std::string_view, N>& allowed) const {
    for (auto&& [key, node] : t) {
      (void)node;
      const std::string_view k = key.str();
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(key.source(), fmt::format("{}{}", prefix, k),
           fmt::format("unknown key (expected one of {})", list));
    }
  }

  std::string string_of(const toml::node& n, std::string_view f) const {
    const auto* s = n.as_string();
    if (s == nullptr) fail(n, f, "expected a string");
    if (s->get().empty()) fail(n, f, "must not be empty");
    return s->get();
  }

  std::vector<std::string> string_list(const toml::node& n, std::string_view f) const {
    const toml::array* a = n.as_array();
    if (a == nullptr) fail(n, f, "expected an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a->size(); ++i)
      out.push_back(string_of(*a->get(i), fmt::format("{}[{}]", f, i)));
    return out;
  }

  std::string required(const toml::table& t, const toml::source_region& at, std::string_view key,
                       std::string_view f) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) fail(at, f, "missing (required)");
    return string_of(*n, f);
  }

  std::string date_string(const toml::table& t, const toml::source_region& at, std::string_view key,
                          std::string_view f) const {
    std::string s = required(t, at, key, f);
    if (s.size() != 10 || !civil_day(s))
      fail(*t.get(key), f, fmt::format("'{}' is not a date (expected YYYY-MM-DD)", excerpt(s)));
    return s;
  }

  void parse_deadlines(const toml::node& n, CveTable& t) const {
    const toml::table* d = n.as_table();
    if (d == nullptr) fail(n, "deadlines", "expected a table ([deadlines])");
    for (auto&& [key, node] : *d) {
      const std::string_view k = key.str();
      const std::string f = fmt::format("deadlines.{}", k);
      if (k == "source") {
        t.deadlines_source = string_of(node, f);
        continue;
      }
      auto r = zimbra_rating_of(k);
      if (!r)
        fail(key.source(), f,
             "unknown key (expected source or a Zimbra rating: critical, major, minor)");
      const auto* days = node.as_integer();
      if (days == nullptr || days->get() < 1 || days->get() > 3650)
        fail(node, f, "expected a number of days, 1-3650");
      t.deadline_days[*r] = static_cast<int>(days->get());
    }
    if (t.deadlines_source.empty())
      fail(n, "deadlines.source", "missing (required: where the deadlines come from, or why none)");
  }

  ZimbraVersion version_of(const toml::node& n, std::string_view f) const {
    const std::string s = string_of(n, f);
    auto v = parse_zimbra_version(s);
    if (!v) fail(n, f, v.error().message);
    return *v;
  }

  CveEntry parse_cve(const toml::table& ct, std::size_t i) const {
    check_keys(ct, fmt::format("cve[{}].", i), kCveKeys);
    const toml::source_region& at = ct.source();
    CveEntry e;
    e.line = at.begin.line;
    e.id = required(ct, at, "id", field(i, "id"));
    if (!is_cve_id(e.id))
      fail(*ct.get("id"), field(i, "id"),
           fmt::format("'{}' is not a CVE id (expected CVE-YYYY-NNNN)", excerpt(e.id)));
    const std::string rating = required(ct, at, "rating", field(i, "rating"));
    auto r = rating_of(rating);
    if (!r)
      fail(*ct.get("rating"), field(i, "rating"),
           fmt::format("unknown rating '{}' (expected {})", excerpt(rating), ratings_list()));
    e.rating = *r;
    if (const toml::node* n = ct.get("cvss")) {
      std::optional<double> score;
      if (const auto* fl = n->as_floating_point()) score = fl->get();
      if (const auto* in = n->as_integer()) score = static_cast<double>(in->get());
      if (!score || !std::isfinite(*score) || *score < 0.0 || *score > 10.0)
        fail(*n, field(i, "cvss"), "expected a CVSS score, 0.0-10.0");
      e.cvss = score;
      if (cvss_severity(*score) != e.rating)
        fail(*ct.get("rating"), field(i, "rating"),
             fmt::format("'{}' does not match cvss {:.1f} (CVSS 3.1 severity: {})",
                         rating_name(e.rating), *score, rating_name(cvss_severity(*score))));
    }
    e.summary = required(ct, at, "summary", field(i, "summary"));
    e.published = date_string(ct, at, "published", field(i, "published"));
    e.source = required(ct, at, "source", field(i, "source"));

    const toml::node* fixed = ct.get("fixed_in");
    if (fixed == nullptr) fail(at, field(i, "fixed_in"), "missing (required)");
    const toml::array* fa = fixed->as_array();
    if (fa == nullptr || fa->empty())
      fail(*fixed, field(i, "fixed_in"), "expected a non-empty array of releases");
    for (std::size_t j = 0; j < fa->size(); ++j) {
      const std::string f = fmt::format("cve[{}].fixed_in[{}]", i, j);
      ZimbraVersion v = version_of(*fa->get(j), f);
      for (const auto& prev : e.fixed_in) {
        if (line_of(prev) == line_of(v))
          fail(*fa->get(j), f,
               fmt::format("line {} already has a fix ({}): list one release per line",
                           line_name(line_of(v)), version_name(prev)));
      }
      e.fixed_in.push_back(v);
    }
    if (const toml::node* n = ct.get("introduced"))
      e.introduced = version_of(*n, field(i, "introduced"));
    if (const toml::node* n = ct.get("exploited")) {
      const auto* b = n->as_boolean();
      if (b == nullptr) fail(*n, field(i, "exploited"), "expected true or false");
      e.exploited = b->get();
    }
    if (ct.get("kev_added")) e.kev_added = date_string(ct, at, "kev_added", field(i, "kev_added"));
    if (e.exploited && e.kev_added.empty())
      fail(*ct.get("exploited"), field(i, "exploited"),
           "exploited = true needs kev_added (the date CISA listed it)");
    if (!e.exploited && !e.kev_added.empty())
      fail(*ct.get("kev_added"), field(i, "kev_added"), "kev_added without exploited = true");
    return e;
  }

  std::string name_;
};

}  // namespace

Result<CveTable> parse_cve_table(std::string_view text, std::string_view name) {
  if (text.size() > kMaxTableBytes)
    return Error{fmt::format("{}: {} bytes is more than a CVE table may hold ({} bytes)", name,
                             text.size(), kMaxTableBytes)};
  auto root = parse_toml(text, name);
  if (!root) return root.error();
  try {
    return TableParser(name).parse(*root);
  } catch (const TableError& e) {
    return Error{e.message};
  }
}

Result<CveTable> load_cve_table(const std::filesystem::path& file) {
  const std::string name = file.string();
  auto text = read_file(file, kMaxTableBytes);
  if (!text) return Error{fmt::format("{}: cannot read: {}", name, text.error().message)};
  return parse_cve_table(*text, name);
}

std::filesystem::path cve_table_path() {
  return catalog_dir() / "zimbra" / "cves.toml";
}

}  // namespace mw::audit
