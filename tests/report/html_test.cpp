// The HTML audit report: self-contained (no request possible), every failure with its commands
// and a copy button, counts equal to the score, hostile snapshot values escaped, the exposure
// picture, the baseline changes and the manifest; and the source classes behind the picture.
#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "report/analysis_report.hpp"
#include "report/audit_html.hpp"
#include "report/exposure_cells.hpp"
#include "support/audit_example.hpp"

namespace mw::report {
namespace {

using audit::ControlResult;
using audit::Status;

// True when `s` is valid UTF-8 (no overlong form, surrogate or code point past U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) return false;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      auto x = static_cast<unsigned char>(s[i + k]);
      if ((x & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (x & 0x3F);
    }
    constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// The text of an HTML fragment: tags dropped, the entities esc() writes decoded.
std::string text_of(std::string_view html) {
  std::string out;
  bool tag = false;
  for (char c : html) {
    if (c == '<') tag = true;
    if (!tag) out += c;
    if (c == '>') tag = false;
  }
  for (auto [from, to] :
       {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    std::string::size_type p = 0;
    while ((p = out.find(from, p)) != std::string::npos) {
      out.replace(p, std::string_view(from).size(), to);
      p += std::string_view(to).size();
    }
  }
  return out;
}

std::size_t occurrences(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// The element that starts at `id="ID"` up to its closing tag `close`.
std::string element(const std::string& html, const std::string& id, std::string_view close) {
  auto start = html.find("id=\"" + id + "\"");
  if (start == std::string::npos) return {};
  start = html.rfind('<', start);
  auto end = html.find(close, start);
  return html.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One tag of the page: its name and attributes (names lower-cased, values as written).
struct Tag {
  std::string text;
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
};

// Every tag of the page, read as the HTML tokenizer reads attributes (escaped values hold no
// '<', so every '<' starts a tag; script and style bodies hold none of their own).
std::vector<Tag> tags_of(const std::string& html) {
  std::vector<Tag> out;
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  for (auto p = html.find('<'); p != std::string::npos; p = html.find('<', p + 1)) {
    Tag t;
    std::size_t q = p + 1;
    while (q < html.size() && !space(html[q]) && html[q] != '>') t.name += html[q++];
    t.name = lower(t.name);
    while (q < html.size() && html[q] != '>') {
      while (q < html.size() && (space(html[q]) || html[q] == '/')) ++q;
      std::string name;
      while (q < html.size() && !space(html[q]) && html[q] != '=' && html[q] != '>' &&
             html[q] != '/') {
        name += html[q++];
      }
      while (q < html.size() && space(html[q])) ++q;
      std::string value;
      if (q < html.size() && html[q] == '=') {
        ++q;
        while (q < html.size() && space(html[q])) ++q;
        if (q < html.size() && (html[q] == '"' || html[q] == '\'')) {
          const char quote = html[q++];
          auto end = html.find(quote, q);
          value = html.substr(q, end - q);
          q = end == std::string::npos ? html.size() : end + 1;
        } else {
          while (q < html.size() && !space(html[q]) && html[q] != '>') value += html[q++];
        }
      }
      if (!name.empty()) t.attributes.emplace_back(lower(name), value);
    }
    t.text = html.substr(p, q - p + 1);
    out.push_back(std::move(t));
  }
  return out;
}

// The <style> element's body.
std::string style_of(const std::string& html) {
  auto start = html.find("<style>");
  if (start == std::string::npos) return {};
  start += 7;
  return html.substr(start, html.find("</style>", start) - start);
}

std::string anchor_of(std::string_view id) {
  return "c-" + std::string(id);  // the catalog's ids use only letters, digits, '.', '-'
}

void expect_self_contained(const std::string& html) {
  // Only the page's own <style> and <script> are code; snapshot text may say "@import" or
  // "url(" as text, escaped.
  const auto style = style_of(html);
  EXPECT_FALSE(style.empty());
  EXPECT_EQ(style.find("@import"), std::string::npos);
  for (auto p = style.find("url("); p != std::string::npos; p = style.find("url(", p + 1)) {
    EXPECT_EQ(style.compare(p + 4, 5, "data:"), 0) << style.substr(p, 60);
  }
  for (const auto& tag : tags_of(html)) {
    for (const auto& [name, value] : tag.attributes) {
      EXPECT_FALSE(name.starts_with("on")) << "event handler: " << tag.text;
      EXPECT_NE(name, "style") << tag.text;
      if (name == "src" || name == "href" || name == "action" || name == "data" ||
          name == "srcset" || name == "poster" || name == "xlink:href" || name == "formaction") {
        const auto v = lower(value);
        for (const char* remote : {"http:", "https:", "//", "ftp:", "javascript:"}) {
          EXPECT_FALSE(v.starts_with(remote)) << tag.text;
        }
      }
    }
  }
  for (const char* tag : {"<link", "<iframe", "<object", "<embed", "<img", "<base", "<form"}) {
    EXPECT_EQ(html.find(tag), std::string::npos) << tag;
  }
  EXPECT_EQ(occurrences(html, "<script"), 1u);
  EXPECT_NE(html.find("<script>"), std::string::npos) << "the one script is inline";
  const auto csp = html.find(
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; script-src 'unsafe-inline'; img-src data:;");
  ASSERT_NE(csp, std::string::npos) << "CSP meta";
  EXPECT_LT(csp, html.find("<style>"));
  EXPECT_LT(csp, html.find("<script>"));
  EXPECT_NE(html.find("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
            std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_TRUE(valid_utf8(html));
}

class ExampleHtml : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleHtml, IsSelfContained) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  expect_self_contained(render_audit_html(a->view));
}

TEST_P(ExampleHtml, EveryFailureHasItsCommandsAndACopyButton) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  const auto html = render_audit_html(a->view);
  int fails = 0;
  for (const auto& r : a->results) {
    if (r.status != Status::fail) continue;
    ++fails;
    SCOPED_TRACE(r.control->id);
    auto article = element(html, anchor_of(r.control->id), "</article>");
    ASSERT_FALSE(article.empty());
    EXPECT_NE(article.find(std::string("finding ") +
                           std::string(audit::severity_name(r.control->severity))),
              std::string::npos);
    const auto text = text_of(article);
    EXPECT_NE(text.find(r.control->title), std::string::npos);
    EXPECT_NE(text.find(r.detail), std::string::npos);
    EXPECT_NE(text.find(r.control->rationale), std::string::npos);
    if (r.remediation.empty()) continue;
    // The <pre> the button copies holds exactly the commands.
    const std::string key = "class=\"copy\" data-copy=\"";
    auto at = article.find(key);
    ASSERT_NE(at, std::string::npos);
    at += key.size();
    auto pre = element(article, article.substr(at, article.find('"', at) - at), "</pre>");
    ASSERT_FALSE(pre.empty());
    std::string want = r.remediation;
    if (!want.empty() && want.back() == '\n') want.pop_back();
    EXPECT_EQ(text_of(pre), want);
  }
  EXPECT_EQ(fails, a->view.score.fail);
  if (GetParam() == "zimbra-default") {
    EXPECT_GT(fails, 40);
  }
}

TEST_P(ExampleHtml, CountsMatchTheScore) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  const auto html = render_audit_html(a->view);
  const auto& s = a->view.score;
  EXPECT_NE(html.find("aria-label=\"score " + std::to_string(s.percent) + " of 100\""),
            std::string::npos);
  EXPECT_NE(html.find("<b>" + std::to_string(s.fail) + "</b> fail<"), std::string::npos);
  EXPECT_NE(html.find("<b>" + std::to_string(s.pass) + "</b> pass<"), std::string::npos);
  EXPECT_NE(html.find("<b>" + std::to_string(s.not_checked) + "</b> not checked<"),
            std::string::npos);
  EXPECT_NE(html.find("<b>" + std::to_string(s.not_applicable) + "</b> not applicable<"),
            std::string::npos);
  EXPECT_NE(html.find("<h2>Findings (" + std::to_string(s.fail) + ")</h2>"), std::string::npos);
  EXPECT_NE(html.find("<h2>Not checked (" + std::to_string(s.not_checked) + ")</h2>"),
            std::string::npos);
  EXPECT_NE(html.find("<h2>Passed (" + std::to_string(s.pass) + ")</h2>"), std::string::npos);
  EXPECT_EQ(occurrences(html, "<article class=\"finding "), static_cast<std::size_t>(s.fail));
  if (s.fail == 0) {
    EXPECT_NE(html.find("<p>No control fails.</p>"), std::string::npos);
  }
  // The not checked, not applicable and passed controls each appear once, with their anchor.
  for (const auto& r : a->results) {
    EXPECT_EQ(occurrences(html, "id=\"" + anchor_of(r.control->id) + "\""), 1u) << r.control->id;
  }
}

TEST_P(ExampleHtml, IsDeterministic) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  EXPECT_EQ(render_audit_html(a->view), render_audit_html(a->view));
}

TEST_P(ExampleHtml, DrawsTheExposureOfTheFamiliesTheSnapshotHas) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->view.exposure);
  auto html = render_audit_html(a->view);
  std::size_t families = (a->view.exposure_v4 ? 1 : 0) + (a->view.exposure_v6 ? 1 : 0);
  EXPECT_EQ(occurrences(html, "<svg class=\"matrix\""), families);
  EXPECT_NE(html.find("class=\"x-accept\""), std::string::npos);
  // One table row per port of the catalog.
  auto table = element(html, "exposure", "</section>");
  EXPECT_EQ(occurrences(table, "<td class=\"nw mono\">"), a->view.exposure->ports.size());
  if (!a->view.exposure_v6) {
    EXPECT_NE(html.find("The snapshot holds no IPv6 ruleset"), std::string::npos);
  }

  a->view.exposure.reset();
  html = render_audit_html(a->view);
  EXPECT_EQ(html.find("<svg class=\"matrix\""), std::string::npos);
  EXPECT_NE(html.find("The snapshot has no firewall ruleset"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleHtml,
                         ::testing::Values("zimbra-default", "zimbra-hardened"));

TEST(ExposureCells, TheHardenedExampleHasTwoSourceClasses) {
  auto a = test::load_example_audit("zimbra-hardened");
  ASSERT_TRUE(a && a->view.exposure);
  const auto& rep = *a->view.exposure;
  auto classes = classify_sources(rep, Family::v4);
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(describe_sources(classes[0].sources, Family::v4), "0.0.0.0/0 minus 198.51.100.0/24");
  EXPECT_EQ(describe_sources(classes[1].sources, Family::v4), "198.51.100.0/24");
  EXPECT_EQ(classes[0].sources.unite(classes[1].sources), AddressSet::any_of(Family::v4));
  for (std::size_t i = 0; i < rep.ports.size(); ++i) {
    const auto& p = rep.ports[i].port;
    SCOPED_TRACE(p.port);
    bool world = p.protocol == Protocol::tcp && (p.port == 25 || p.port == 443);
    bool admin = world || (p.protocol == Protocol::tcp &&
                           (p.port == 22 || p.port == 7071 || p.port == 9071));
    EXPECT_EQ(classes[0].outcomes[i], world ? fw::Outcome::accept : fw::Outcome::drop);
    EXPECT_EQ(classes[1].outcomes[i], admin ? fw::Outcome::accept : fw::Outcome::drop);
    ASSERT_FALSE(classes[1].deciding[i].empty());
    EXPECT_NE(classes[1].deciding[i][0], nullptr);
  }
  auto html = render_audit_html(a->view);
  EXPECT_NE(html.find(">0.0.0.0/0 minus 198.51.100.0/24</text>"), std::string::npos);
  EXPECT_NE(html.find(">198.51.100.0/24</text>"), std::string::npos);
}

// The cell text is the one `firewall analyze` prints.
TEST(ExposureCells, CellsReadAsTheAnalysisReport) {
  for (const char* name : {"zimbra-default", "zimbra-hardened"}) {
    auto a = test::load_example_audit(name);
    ASSERT_TRUE(a && a->view.exposure);
    auto text = render_analysis_text(*a->view.exposure, {"x"}, false);
    for (const auto& pe : a->view.exposure->ports) {
      auto port = std::to_string(pe.port.port) + "/" + std::string(protocol_name(pe.port.protocol));
      auto line_at = text.find("\n" + port + " ");
      ASSERT_NE(line_at, std::string::npos) << port;
      auto line = text.substr(line_at + 1, text.find('\n', line_at + 1) - line_at - 1);
      EXPECT_NE(line.find(" " + exposure_cell(pe.v4, Family::v4) + " "), std::string::npos) << line;
      EXPECT_TRUE(line.ends_with(" " + exposure_cell(pe.v6, Family::v6))) << line;
    }
  }
}

fw::Region region(const std::vector<std::string>& prefixes, fw::Outcome o, std::string rule,
                  std::string reason = {}) {
  fw::Region r;
  for (const auto& p : prefixes) r.sources.add(*parse_prefix(p));
  r.outcome = o;
  r.rule = std::move(rule);
  r.reason = std::move(reason);
  return r;
}

// A report where port i accepts 10.0.i.0/24 only: 21 classes, more than the picture shows.
fw::AnalysisReport many_classes(int ports) {
  fw::AnalysisReport rep;
  for (int i = 0; i < ports; ++i) {
    fw::PortExposure pe;
    pe.port.port = static_cast<std::uint16_t>(1000 + i);
    auto net = AddressSet::of(*parse_prefix("10.0." + std::to_string(i) + ".0/24"));
    fw::Region acc{net, fw::Outcome::accept, "rules.v4:" + std::to_string(i + 1), ""};
    fw::Region rest{AddressSet::any_of(Family::v4).subtract(net), fw::Outcome::drop,
                    "policy of filter/INPUT", ""};
    pe.v4.regions = {acc, rest};
    pe.v6.regions = {region({"::/0"}, fw::Outcome::drop, "policy")};
    rep.ports.push_back(pe);
  }
  return rep;
}

TEST(ExposureCells, ClassesPartitionTheSpaceLargestFirst) {
  auto rep = many_classes(20);
  auto classes = classify_sources(rep, Family::v4);
  ASSERT_EQ(classes.size(), 21u);
  AddressSet all;
  for (const auto& c : classes) {
    EXPECT_TRUE(all.intersect(c.sources).empty());
    all = all.unite(c.sources);
  }
  EXPECT_EQ(all, AddressSet::any_of(Family::v4));
  EXPECT_EQ(describe_sources(classes[0].sources, Family::v4),
            "0.0.0.0/0 minus 10.0.0.0/20, 10.0.16.0/22");
  EXPECT_EQ(describe_sources(classes[1].sources, Family::v4), "10.0.0.0/24");
  EXPECT_EQ(classes[1].outcomes[0], fw::Outcome::accept);
  EXPECT_EQ(classes[1].outcomes[1], fw::Outcome::drop);
  ASSERT_EQ(classes[1].deciding[0].size(), 1u);
  EXPECT_EQ(classes[1].deciding[0][0]->rule, "rules.v4:1");
  auto v6 = classify_sources(rep, Family::v6);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(describe_sources(v6[0].sources, Family::v6), "::/0");
}

TEST(ExposureCells, DescribesSetsShortly) {
  auto set = [](std::vector<std::string> ps) {
    AddressSet s;
    for (const auto& p : ps) s.add(*parse_prefix(p));
    return s;
  };
  EXPECT_EQ(describe_sources(set({"0.0.0.0/0"}), Family::v4), "0.0.0.0/0");
  EXPECT_EQ(describe_sources(set({}), Family::v4), "(none)");
  EXPECT_EQ(describe_sources(set({"192.0.2.0/24", "203.0.113.7/32"}), Family::v4),
            "192.0.2.0/24, 203.0.113.7/32");
  EXPECT_EQ(
      describe_sources(set({"10.0.0.0/8", "10.2.0.0/16", "192.0.2.1", "192.0.2.9"}), Family::v4),
      "10.0.0.0/8, 192.0.2.1/32 +1 more");
  EXPECT_EQ(describe_sources(
                AddressSet::any_of(Family::v4)
                    .subtract(set({"192.0.2.1", "192.0.2.9", "198.51.100.7", "203.0.113.0/24"})),
                Family::v4),
            "0.0.0.0/0 minus 192.0.2.1/32, 192.0.2.9/32 +2 more");
  EXPECT_EQ(
      describe_sources(AddressSet::any_of(Family::v6).subtract(set({"2001:db8::/32"})), Family::v6),
      "::/0 minus 2001:db8::/32");
}

// A view with nothing in it (no results, no snapshot) is still a whole, valid page.
TEST(AuditHtml, RendersAnEmptyView) {
  AuditView view;
  const auto html = render_audit_html(view);
  expect_self_contained(html);
  EXPECT_NE(html.find("(no snapshot)"), std::string::npos);
  EXPECT_NE(html.find("<p>No control fails.</p>"), std::string::npos);
  EXPECT_NE(html.find("The snapshot has no firewall ruleset"), std::string::npos);
  EXPECT_TRUE(html.ends_with("</html>\n"));
}

// The page names uncertain sources shortly; `firewall analyze` lists them all.
TEST(ExposureCells, ShortensUncertainSourcesOnRequest) {
  fw::ExposureResult r;
  auto banned = AddressSet::of(
      std::vector<Prefix>{*parse_prefix("192.0.2.0/28"), *parse_prefix("203.0.113.66")});
  r.regions = {{banned, fw::Outcome::drop, "rules.v4:9", ""},
               {AddressSet::any_of(Family::v4).subtract(banned), fw::Outcome::uncertain,
                "rules.v4:10", "-m set --match-set blocklist src"}};
  EXPECT_EQ(exposure_cell(r, Family::v4, true),
            "nobody (uncertain: 0.0.0.0/0 minus 192.0.2.0/28, 203.0.113.66/32)");
  EXPECT_EQ(exposure_cell(r, Family::v4),
            "nobody (uncertain: " + r.regions[1].sources.to_string() + ")");
  EXPECT_EQ(reach_of(r, Family::v4), Reach::nobody);
}

// The picture keeps 12 rows: the 11 largest classes and one row summing up the rest.
TEST(AuditHtml, CapsThePictureRows) {
  auto a = test::load_example_audit("zimbra-hardened");
  ASSERT_TRUE(a);
  a->view.exposure = many_classes(20);
  a->view.exposure_v4 = true;
  a->view.exposure_v6 = false;
  auto html = render_audit_html(a->view);
  auto svg = element(html, "exposure", "</svg>");
  EXPECT_EQ(occurrences(svg, "<text class=\"rowlbl\""), 12u);
  EXPECT_NE(svg.find(">10 other source sets</text>"), std::string::npos);
  // Each summed-up class accepts on its own port: mixed there, drop where all agree.
  EXPECT_NE(svg.find("class=\"x-mixed\""), std::string::npos);
}

constexpr const char* kHostile =
    "<script>alert(1)</script> \"quoted\" 'single' ]]> & \xff\xfe "
    "\xc0\xaf \xed\xa0\x80 \x01 <img src=x onerror=alert(2)>";

TEST(AuditHtml, EscapesHostileSnapshotValues) {
  audit::Control control;
  control.id = "x\" onmouseover=\"alert(3)";
  control.title = kHostile;
  control.severity = audit::Severity::critical;
  control.rationale = kHostile;
  control.notes = kHostile;
  control.guides = {kHostile};
  std::vector<ControlResult> results(2);
  results[0].control = &control;
  results[0].status = Status::fail;
  results[0].detail = kHostile;
  results[0].failing = {kHostile};
  results[0].facts = {{kHostile, kHostile, kHostile}};
  results[0].remediation = std::string("zmprov mc ") + kHostile + "   # " + kHostile + "\n";
  results[1] = results[0];
  results[1].status = Status::not_checked;

  AuditView view;
  view.results = &results;
  view.score = audit::score(results);
  view.snapshot = kHostile;
  view.tool = kHostile;
  audit::Manifest m;
  m.host = m.tool = m.collected_at = m.schema = kHostile;
  audit::ManifestEntry e;
  e.file = e.command = e.run_as = e.status = e.note = e.stderr_head = kHostile;
  m.files = {e};
  view.manifest = m;
  BaselineDiff b;
  b.file = b.snapshot = b.collected_at = kHostile;
  b.new_failures = {{kHostile, "", kHostile}};
  b.facts = {{kHostile, kHostile, kHostile, kHostile}};
  b.removed = {kHostile};
  b.failure_state[control.id] = kHostile;
  view.baseline = b;
  fw::AnalysisReport rep;
  fw::PortExposure pe;
  pe.port.port = 25;
  pe.port.service = kHostile;
  pe.v4.regions = {region({"0.0.0.0/1"}, fw::Outcome::uncertain, kHostile, kHostile),
                   region({"128.0.0.0/1"}, fw::Outcome::accept, kHostile)};
  pe.v6.regions = {region({"::/0"}, fw::Outcome::drop, kHostile)};
  rep.ports = {pe};
  view.exposure = rep;
  view.exposure_v4 = view.exposure_v6 = true;

  const auto html = render_audit_html(view);
  expect_self_contained(html);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("]]>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &#39;single&#39; "
                      "]]&gt; &amp; \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD "
                      "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD &lt;img"),
            std::string::npos);
  // No event handler attribute in any tag, no attribute value broken out of.
  // No event handler attribute in any tag (expect_self_contained), no attribute broken out of.
  EXPECT_NE(html.find("id=\"c-x_22_20onmouseover_3D_22alert_283_29\""), std::string::npos);
  // The value reaches every section, escaped: the SVG tooltip and labels too.
  const auto svg = element(html, "exposure", "</svg>");
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  const auto copied = element(html, "fix-0", "</pre>");
  EXPECT_NE(text_of(copied).find("zmprov mc <script>alert(1)</script>"), std::string::npos);
}

TEST(AuditHtml, RendersTheBaselineChanges) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  const ControlResult* fail = nullptr;
  const ControlResult* pass = nullptr;
  for (const auto& r : a->results) {
    if (!fail && r.status == Status::fail) fail = &r;
    if (!pass && r.status == Status::pass) pass = &r;
  }
  ASSERT_TRUE(fail && pass);
  auto html = render_audit_html(a->view);
  EXPECT_EQ(html.find("id=\"changes\""), std::string::npos) << "no section without a baseline";

  BaselineDiff b;
  b.file = "audit-2024-10-01.json";
  b.snapshot = "snap-old";
  b.collected_at = "2024-10-01T02:00:00Z";
  b.score_before = 40;
  b.new_failures = {{fail->control->id, "pass", "fail"}};
  b.fixed = {{pass->control->id, "fail", "pass"}};
  b.changed = {{"gone.control", "not_checked", "not_applicable"}};
  b.facts = {{fail->control->id, "cos default: zimbraPasswordMinLength", "12", "6"}};
  b.removed = {"old.control"};
  b.failure_state[fail->control->id] = "new";
  a->view.baseline = b;
  html = render_audit_html(a->view);
  auto section = element(html, "changes", "</section>");
  ASSERT_FALSE(section.empty());
  const auto text = text_of(section);
  EXPECT_NE(text.find("audit-2024-10-01.json"), std::string::npos);
  EXPECT_NE(text.find("collected 2024-10-01T02:00:00Z"), std::string::npos);
  EXPECT_NE(section.find("&rarr; <b>" + std::to_string(a->view.score.percent) + "</b>"),
            std::string::npos);
  EXPECT_NE(text.find("New failures (1)"), std::string::npos);
  EXPECT_NE(text.find("Fixed (1)"), std::string::npos);
  EXPECT_NE(text.find("Other status changes (1)"), std::string::npos);
  EXPECT_NE(text.find("Changed facts (1)"), std::string::npos);
  EXPECT_NE(text.find("No longer run (1)"), std::string::npos);
  EXPECT_NE(text.find("old.control"), std::string::npos);
  EXPECT_NE(text.find("not checked"), std::string::npos);
  // Ids of controls the page shows link to them; the others are plain text.
  EXPECT_NE(section.find("href=\"#" + anchor_of(fail->control->id) + "\""), std::string::npos);
  EXPECT_NE(section.find("href=\"#" + anchor_of(pass->control->id) + "\""), std::string::npos);
  EXPECT_EQ(section.find("href=\"#c-gone.control\""), std::string::npos);
  EXPECT_NE(text.find("zimbraPasswordMinLength"), std::string::npos);
  auto article = element(html, anchor_of(fail->control->id), "</article>");
  EXPECT_NE(article.find("new since baseline"), std::string::npos);
  EXPECT_NE(html.find("Since the baseline: 1 new, 1 fixed."), std::string::npos);

  a->view.baseline = BaselineDiff{};
  a->view.baseline->file = "same.json";
  html = render_audit_html(a->view);
  EXPECT_NE(element(html, "changes", "</section>").find("Nothing changed"), std::string::npos);
}

TEST(AuditHtml, RendersTheManifest) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  auto html = render_audit_html(a->view);
  EXPECT_NE(element(html, "manifest", "</section>").find("has no <code>manifest.json</code>"),
            std::string::npos);
  EXPECT_NE(html.find("collection time unknown"), std::string::npos);

  audit::Manifest m;
  m.schema = "mailwarden-snapshot/1";
  m.tool = "mailwarden 0.1.0";
  m.host = "mail.example.org";
  m.collected_at = "2026-11-28T23:55:58Z";
  auto entry = [](std::string file, std::string command, std::string run_as, std::string status,
                  std::optional<int> exit, long long ms, std::size_t redacted,
                  std::string stderr_head, std::string note) {
    audit::ManifestEntry e;
    e.file = std::move(file);
    e.command = std::move(command);
    e.run_as = std::move(run_as);
    e.status = std::move(status);
    e.exit_code = exit;
    e.duration_ms = ms;
    e.redacted = redacted;
    e.stderr_head = std::move(stderr_head);
    e.note = std::move(note);
    return e;
  };
  m.files = {entry("zmprov-gacf.txt", "zmprov -l gacf", "zimbra", "ok", 0, 1234, 3, "", ""),
             entry("nft.json", "nft -j list ruleset", "", "not_available", std::nullopt, 0, 0, "",
                   "nft not found"),
             entry("sshd-T.txt", "sshd -T", "", "failed", 255, 12, 0, "Permission denied", "")};
  a->view.manifest = m;
  html = render_audit_html(a->view);
  auto text = text_of(element(html, "manifest", "</section>"));
  for (const char* want : {"mail.example.org", "2026-11-28T23:55:58Z", "zmprov -l gacf", "zimbra",
                           "1234 ms", "not available", "nft not found", "255", "Permission denied",
                           "3 files; 2 not collected as expected; 3 values redacted"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want;
  }
  EXPECT_NE(text_of(html.substr(0, html.find("</header>"))).find("collected 2026-11-28T23:55:58Z"),
            std::string::npos);
}

}  // namespace
}  // namespace mw::report
