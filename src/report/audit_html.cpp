// `mailwarden audit --format html`: one self-contained page. Every value that comes from the
// snapshot, the catalog or the baseline passes through esc() (text and attributes alike, the SVG
// included); the only markup, style and script are the constants of this file. A
// Content-Security-Policy forbids every request, so that even a mistake here cannot make the page
// fetch anything. The output depends on the view alone (no clock), so that two runs over the same
// snapshot give the same bytes.
#include "report/audit_html.hpp"

#include "report/html_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

#include "report/exposure_cells.hpp"

namespace mw::report {

namespace {

// Every value in the page goes through this (html_text.hpp).
std::string esc(std::string_view s) {
  return html_escape(s);
}

using audit::ControlResult;
using audit::Severity;
using audit::Status;

constexpr std::array kSeverities = {Severity::critical, Severity::high, Severity::medium,
                                    Severity::low, Severity::info};

// An element id for a control: "c-" and the id's letters, digits, '.', '-' and '_'; any other
// byte as "_XX" (hex), so that two ids never meet and the anchor needs no escaping.
std::string anchor(std::string_view id) {
  std::string out = "c-";
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-') {
      out += ch;
    } else {
      out += fmt::format("_{:02X}", c);
    }
  }
  return out;
}

std::string_view sev_name(Severity s) {
  return audit::severity_name(s);
}

std::string title_case(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

// A status name as the baseline recorded it ("not_checked"), in words; "" = absent.
std::string status_words(std::string_view name) {
  if (name.empty()) return "absent";
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// The last component of a path ("zimbra-default" of "examples/snapshots/zimbra-default/").
std::string_view last_component(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.find_last_of('/');
  return slash == std::string_view::npos || path.size() == 1 ? path : path.substr(slash + 1);
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// ---------------------------------------------------------------------------------------------
// Constant page parts.

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'";

constexpr std::string_view kStyle = R"CSS(
:root{--bg:#f4f5f7;--card:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d5dbe1;--soft:#eef1f4;
--code:#f3f5f8;--code-line:#d5dbe1;--link:#0a58b8;--crit:#9b1c1c;--high:#c2410c;--med:#a16207;
--low:#1d5fc4;--info:#5f6b77;--pass:#1a7f37;--fail:#c62828;--nc:#9a6700;--na:#6e7781;
--accept:#e8590c;--drop:#e3e7ec;--drop-edge:#b3bcc6;--unc:#7c3aed;--mixed:#9aa5b1;--chip:#e9edf1;
--mono:ui-monospace,"SFMono-Regular","DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;
color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0e1217;--card:#161c23;--fg:#e4e8ec;--muted:#9ba5b0;
--line:#2c3540;--soft:#1d252e;--code:#0b0f13;--code-line:#2c3540;--link:#79b8ff;--crit:#f87171;
--high:#fb923c;--med:#facc15;--low:#60a5fa;--info:#9ca3af;--pass:#4ade80;--fail:#f87171;
--nc:#fbbf24;--na:#9ca3af;--accept:#f76707;--drop:#27313b;--drop-edge:#3d4a57;--unc:#a78bfa;
--mixed:#5c6875;--chip:#232c36}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
.page{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
h1,h2,h3,h4{line-height:1.25;margin:0}
h1{font-size:1.5rem}
h2{font-size:1.25rem;margin:0 0 12px}
h3{font-size:1.05rem;margin:18px 0 10px;display:flex;align-items:center;gap:8px}
h4{font-size:1rem;font-weight:600}
p{margin:6px 0}
a{color:var(--link)}
code,.mono,pre{font-family:var(--mono);font-size:.88em}
pre code{font-size:inherit}
h1,h2,h3,h4,p,li,td,dd,dt,summary{overflow-wrap:anywhere}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:18px 20px;margin:16px 0}
.muted{color:var(--muted)}
.small{font-size:.86rem}
/* header */
.top{display:flex;flex-wrap:wrap;gap:20px;align-items:center;justify-content:space-between}
.top .who{flex:1 1 380px;min-width:0}
.top .meta{margin:6px 0 0;display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);
font-size:.9rem}
.top .meta b{color:var(--fg);font-weight:600}
.verdict{font-size:1.05rem;margin-top:10px}
.scorebox{display:flex;flex-wrap:wrap;gap:16px;align-items:center;min-width:0}
.gauge{flex:none}
.gauge .track{stroke:var(--soft)}
.gauge .val{stroke:var(--pass)}.gauge .val.mid{stroke:var(--nc)}.gauge .val.bad{stroke:var(--fail)}
.gauge .num{font:700 30px system-ui,sans-serif;fill:var(--fg)}
.gauge .of{font:13px system-ui,sans-serif;fill:var(--muted)}
.counts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:6px 8px;min-width:0}
.count{display:flex;align-items:baseline;gap:6px;padding:4px 10px;border-radius:8px;
background:var(--soft);text-decoration:none;color:var(--fg);white-space:nowrap}
.count b{font-size:1.15rem}
.count.fail b{color:var(--fail)}.count.pass b{color:var(--pass)}.count.nc b{color:var(--nc)}
.count.na b{color:var(--na)}
.sevstrip{display:flex;flex-wrap:wrap;gap:6px;margin-top:10px}
/* badges */
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.78rem;font-weight:700;
letter-spacing:.02em;text-transform:uppercase;color:#fff;white-space:nowrap;vertical-align:middle}
.badge.critical{background:var(--crit)}.badge.high{background:var(--high)}
.badge.medium{background:var(--med)}.badge.low{background:var(--low)}
.badge.info{background:var(--info)}.badge.zero{background:var(--chip);color:var(--muted)}
@media (prefers-color-scheme:dark){.badge{color:#10151a}.badge.zero{color:var(--muted)}}
.badge.bl{background:transparent;color:var(--fg);border:1px solid var(--line);font-weight:600;
text-transform:none}
.badge.bl.new{border-color:var(--fail);color:var(--fail)}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 14px;margin:14px 0 0;font-size:.92rem}
/* tables */
.tw{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:baseline;padding:6px 10px;border-bottom:1px solid var(--line)}
th{font-weight:600;color:var(--muted);font-size:.8rem;text-transform:uppercase;
letter-spacing:.03em;white-space:nowrap}
td.nw,th.nw{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:hover{background:var(--soft)}
.sevtab{max-width:760px}
.sevtab .sh{display:none}
.sevtab td.zero{color:var(--muted)}
/* findings */
.howto{background:var(--soft);border-radius:8px;padding:8px 12px}
.sevgroup{margin-top:8px}
.finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:8px;
padding:12px 16px;margin:10px 0;background:var(--card)}
.finding.critical{border-left-color:var(--crit)}.finding.high{border-left-color:var(--high)}
.finding.medium{border-left-color:var(--med)}.finding.low{border-left-color:var(--low)}
.fhead{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
.fhead .cid{font-family:var(--mono);font-size:.84rem;color:var(--muted)}
.detail{white-space:pre-wrap;margin:8px 0}
dl.fmeta{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 14px;margin:8px 0}
dl.fmeta dt{color:var(--muted);font-weight:600;font-size:.88rem}
dl.fmeta dd{margin:0}
dl.fmeta ul{margin:0;padding-left:18px}
dl.fmeta ul.chips{padding:0}
ul.chips{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px}
ul.chips li{background:var(--chip);border-radius:6px;padding:0 8px;font-family:var(--mono);
font-size:.84rem}
.fix{margin:10px 0 6px;border:1px solid var(--code-line);border-radius:8px;overflow:hidden}
.fixbar{display:flex;align-items:center;gap:10px;padding:4px 6px 4px 12px;background:var(--soft);
border-bottom:1px solid var(--code-line);font-size:.85rem}
.fixbar .lbl{font-weight:600;flex:1 1 auto;min-width:0}
button.copy{font:600 .85rem system-ui,sans-serif;padding:4px 14px;border-radius:6px;
border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer}
button.copy:hover{border-color:var(--link)}
button.copy:focus-visible{outline:2px solid var(--link);outline-offset:1px}
.copy-msg{font-size:.82rem;min-width:0}
.copy-msg.ok{color:var(--pass)}.copy-msg.manual{color:var(--nc)}
pre.cmd{margin:0;padding:10px 12px;background:var(--code);overflow-x:auto;line-height:1.5;
font-size:13px}
pre.cmd .ln{display:block;white-space:pre-wrap;overflow-wrap:anywhere;padding-left:2ch;
text-indent:-2ch}
pre.cmd .cm{color:var(--muted)}
.copy-buffer{position:fixed;top:0;left:0;width:1px;height:1px;opacity:0;border:0;padding:0}
details{margin:6px 0}
details>summary{cursor:pointer;color:var(--muted);font-size:.9rem;font-weight:600}
details[open]>summary{margin-bottom:6px}
table.facts td.val{font-family:var(--mono);font-size:.84rem;white-space:pre-wrap}
table.facts td.org{font-family:var(--mono);font-size:.8rem;color:var(--muted)}
ul.passed{columns:2 340px;column-gap:28px;margin:6px 0;padding:0;list-style:none}
ul.passed li{break-inside:avoid;padding:2px 0}
ul.passed .cid,td .cid{font-family:var(--mono);font-size:.84rem}
.cid a{color:inherit}
/* exposure */
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:8px 0;font-size:.88rem}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:14px;height:14px;border-radius:3px;flex:none;vertical-align:-2px;
border:1px solid var(--drop-edge)}
.sw.accept,.sw.everyone{background:var(--accept);border-color:var(--accept)}
.sw.drop,.sw.nobody{background:var(--drop)}
.sw.some{background:linear-gradient(135deg,var(--accept) 50%,var(--drop) 50%)}
.sw.uncertain{background:var(--unc);border-color:var(--unc)}
.sw.mixed{background:var(--mixed);border-color:var(--mixed)}
td.cell{font-family:var(--mono);font-size:.84rem}
td.cell .sw{margin-right:6px}
td.unc{box-shadow:inset 3px 0 0 var(--unc)}
.scroll{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:8px;
background:var(--card);padding:6px}
svg.matrix{display:block}
@media (min-width:900px){svg.matrix{max-width:100%;height:auto}}
svg.matrix text{fill:var(--fg);font-family:var(--mono);font-size:11px}
svg.matrix .band{fill:var(--soft)}
svg.matrix .x-accept{fill:var(--accept)}
svg.matrix .x-drop{fill:var(--drop);stroke:var(--drop-edge);stroke-width:1}
svg.matrix .x-uncertain{fill:var(--unc)}
svg.matrix .x-mixed{fill:var(--mixed)}
svg.matrix text.q{fill:#fff;font-weight:700;font-size:11px;pointer-events:none}
.status-ok{color:var(--pass)}.status-bad{color:var(--fail)}.status-warn{color:var(--nc)}
footer{color:var(--muted);font-size:.82rem;margin-top:24px}
@media (max-width:640px){
.page{padding:12px 10px 28px}
body{font-size:14.5px}
h1{font-size:1.25rem}
.card{padding:14px 12px;border-radius:8px}
.finding{padding:10px 10px}
dl.fmeta{grid-template-columns:minmax(0,1fr);gap:0}
dl.fmeta dt{margin-top:6px}
th,td{padding:5px 6px}
th{white-space:normal}
.sevtab .total,.sevtab .lg{display:none}
.sevtab .sh{display:inline}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack thead{display:none}
table.stack tr{padding:8px 0;border-bottom:1px solid var(--line)}
table.stack td{border:0;padding:1px 0;text-align:left}
table.stack td.inl{display:inline-block;margin-right:14px;vertical-align:baseline}
table.stack td[data-h]::before{content:attr(data-h);color:var(--muted);font:600 .72rem system-ui,
sans-serif;text-transform:uppercase;letter-spacing:.03em;margin-right:6px}
table.stack td.val[data-h]::before{display:block}
.scorebox{flex-wrap:nowrap;gap:12px;width:100%}
.gauge{width:96px;height:96px}
.counts{grid-template-columns:minmax(0,1fr);flex:1 1 auto}
.count{padding:2px 10px}
}
@media print{
:root{--bg:#fff;--card:#fff;--fg:#000;--muted:#444;--line:#bbb;--soft:#f1f1f1;--code:#fff;
--code-line:#999;--link:#000;--crit:#9b1c1c;--high:#c2410c;--med:#a16207;--low:#1d5fc4;
--info:#5f6b77;--pass:#1a7f37;--fail:#c62828;--nc:#9a6700;--na:#555;--accept:#e8590c;
--drop:#eceff2;--drop-edge:#9aa4ae;--unc:#7c3aed;--mixed:#9aa5b1;--chip:#eee}
@page{margin:14mm 12mm}
@page wide{size:landscape;margin:12mm}
body{background:#fff;color:#000;font-size:10pt}
.page{max-width:none;padding:0}
.card{border:0;padding:0;margin:0 0 14px}
nav.toc,button.copy,.copy-msg,.noprint{display:none!important}
.badge{color:#fff}.badge.zero{color:#444}
.badge,.sw,.count,svg,.fixbar{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.tw,.scroll{overflow:visible;border:0;padding:0}
pre.cmd{overflow:visible;white-space:pre-wrap}
svg.matrix{max-width:100%;height:auto}
.fix,dl.fmeta>dd{break-inside:avoid;page-break-inside:avoid}
h2,h3,.fhead{break-after:avoid;page-break-after:avoid}
tr{break-inside:avoid}
details>summary{list-style:none;color:#000}
details>summary::-webkit-details-marker{display:none}
details::details-content{content-visibility:visible;display:block}
#exposure,#manifest{break-before:page;page-break-before:always}
#exposure{page:wide}
a{color:#000;text-decoration:none}
}
)CSS";

// Beside the Copy buttons (kCopyScript, html_text.hpp): a link into a closed <details> opens it,
// and printing opens them all. Nothing here may throw: every call that can is guarded.
constexpr std::string_view kScript = R"JS(
(function () {
  "use strict";
  // A link to a control inside a closed <details> (the passed ones) opens it.
  function reveal() {
    var el = null;
    try {
      el = location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    } catch (e) {
      el = null;
    }
    if (!el) return;
    var shown = false;
    for (var d = el.closest("details"); d; d = d.parentElement ? d.parentElement.closest("details") : null) {
      if (!d.open) {
        d.open = true;
        shown = true;
      }
    }
    if (shown) el.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
  var opened = [];
  window.addEventListener("beforeprint", function () {
    var all = document.querySelectorAll("details:not([open])");
    for (var j = 0; j < all.length; j++) {
      all[j].open = true;
      opened.push(all[j]);
    }
  });
  window.addEventListener("afterprint", function () {
    for (var j = 0; j < opened.length; j++) opened[j].open = false;
    opened = [];
  });
})();
)JS";

// ---------------------------------------------------------------------------------------------
// Sections.

struct Page {
  const AuditView& view;
  const std::vector<ControlResult>& results;
  std::map<std::string, const ControlResult*, std::less<>> by_id;
  std::string out;
  int next_fix = 0;

  explicit Page(const AuditView& v, const std::vector<ControlResult>& r) : view(v), results(r) {
    for (const auto& x : results) by_id.emplace(x.control->id, &x);
  }

  std::size_t count(Status st, std::optional<Severity> sev = std::nullopt) const {
    return static_cast<std::size_t>(std::count_if(results.begin(), results.end(), [&](auto& r) {
      return r.status == st && (!sev || r.control->severity == *sev);
    }));
  }

  // A control's id, linked to where the page shows it when it does.
  std::string id_link(std::string_view id) const {
    if (by_id.count(id) == 0) return fmt::format("<span class=\"cid\">{}</span>", esc(id));
    return fmt::format("<span class=\"cid\"><a href=\"#{}\">{}</a></span>", anchor(id), esc(id));
  }

  void head();
  void header();
  void summary();
  void baseline();
  void findings();
  void finding(const ControlResult& r);
  void remediation(std::string_view text, std::string_view id);
  void others();
  void exposure();
  // The families of the exposure the snapshot's ruleset covers (both when it says neither).
  bool shows(Family f) const {
    const bool neither = !view.exposure_v4 && !view.exposure_v6;
    return neither || (f == Family::v4 ? view.exposure_v4 : view.exposure_v6);
  }
  void exposure_table(const fw::AnalysisReport& rep);
  void exposure_picture(const fw::AnalysisReport& rep, Family f);
  void manifest();
};

void Page::head() {
  std::string subject = !view.snapshot.empty()     ? view.snapshot
                        : !view.iis_config.empty() ? view.iis_config
                                                   : std::string("(no snapshot)");
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n", kCsp);
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<meta name=\"color-scheme\" content=\"light dark\">\n";
  out += fmt::format("<title>Audit {}/100: {}</title>\n", view.score.percent,
                     esc(last_component(subject)));
  out += fmt::format("<style>{}</style>\n</head>\n<body>\n<div class=\"page\">\n", kStyle);
}

void Page::header() {
  const auto& s = view.score;
  std::string subject = !view.snapshot.empty() ? view.snapshot : view.iis_config;
  out += "<header class=\"card\" id=\"top\">\n";
  out += "<div class=\"top\">\n<div class=\"who\">\n";
  out += fmt::format("<h1>Security audit of <span class=\"mono\">{}</span></h1>\n",
                     subject.empty() ? "(no snapshot)" : esc(last_component(subject)));
  out += "<div class=\"meta\">";
  if (!view.snapshot.empty()) {
    out += fmt::format("<span>snapshot <b class=\"mono\">{}</b></span>", esc(view.snapshot));
  }
  if (view.manifest) {
    const auto& m = *view.manifest;
    if (!m.host.empty()) out += fmt::format("<span>host <b>{}</b></span>", esc(m.host));
    out += fmt::format("<span>collected <b>{}</b></span>",
                       m.collected_at.empty() ? "at an unknown time" : esc(m.collected_at));
    if (!m.tool.empty()) out += fmt::format("<span>by {}</span>", esc(m.tool));
  } else {
    out += "<span>collection time unknown (the snapshot has no manifest)</span>";
  }
  if (!view.iis_config.empty()) {
    out += fmt::format("<span>IIS configuration <b>{}</b></span>", esc(view.iis_config));
  }
  if (!view.tool.empty()) out += fmt::format("<span>report by {}</span>", esc(view.tool));
  out += "</div>\n";

  // The verdict: what to look at first.
  std::string verdict;
  if (s.fail == 0) {
    verdict = "No control fails.";
  } else {
    std::string parts;
    for (auto sev : kSeverities) {
      if (auto n = count(Status::fail, sev); n > 0) {
        parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n, sev_name(sev));
      }
    }
    verdict = fmt::format("<b>{} fail</b>: {}.",
                          plural(static_cast<std::size_t>(s.fail), "control", "controls"), parts);
  }
  if (s.not_checked > 0) {
    verdict += fmt::format(" {} could not be checked.",
                           plural(static_cast<std::size_t>(s.not_checked), "control", "controls"));
  }
  if (view.baseline) {
    const auto& b = *view.baseline;
    verdict += fmt::format(" Since the baseline: {} new, {} fixed.", b.new_failures.size(),
                           b.fixed.size());
  }
  out += fmt::format("<p class=\"verdict\">{}</p>\n", verdict);
  out += "<div class=\"sevstrip\" aria-label=\"failures by severity\">";
  for (auto sev : kSeverities) {
    auto n = count(Status::fail, sev);
    out += fmt::format("<span class=\"badge {}\">{} {}</span>", n > 0 ? sev_name(sev) : "zero", n,
                       sev_name(sev));
  }
  out += "</div>\n</div>\n";

  // The gauge: a ring filled to the score.
  constexpr double kR = 48.0;
  const double circumference = 2.0 * 3.14159265358979323846 * kR;
  const int pct = std::clamp(s.percent, 0, 100);
  const double filled = circumference * pct / 100.0;
  const char* band = pct >= 80 ? "" : pct >= 50 ? " mid" : " bad";
  out += "<div class=\"scorebox\">\n";
  out += fmt::format(
      "<svg class=\"gauge\" width=\"124\" height=\"124\" viewBox=\"0 0 124 124\" role=\"img\" "
      "aria-label=\"score {0} of 100\"><title>score {0}/100: severity-weighted pass / (pass + "
      "fail)</title><circle class=\"track\" cx=\"62\" cy=\"62\" r=\"48\" fill=\"none\" "
      "stroke-width=\"13\"/><circle class=\"val{1}\" cx=\"62\" cy=\"62\" r=\"48\" fill=\"none\" "
      "stroke-width=\"13\" stroke-dasharray=\"{2:.2f} {3:.2f}\" transform=\"rotate(-90 62 "
      "62)\"/><text class=\"num\" x=\"62\" y=\"67\" text-anchor=\"middle\">{0}</text><text "
      "class=\"of\" x=\"62\" y=\"86\" text-anchor=\"middle\">/ 100</text></svg>\n",
      pct, band, filled, circumference);
  out += "<div class=\"counts\">";
  out += fmt::format("<a class=\"count fail\" href=\"#findings\"><b>{}</b> fail</a>", s.fail);
  out += fmt::format("<a class=\"count pass\" href=\"#passed\"><b>{}</b> pass</a>", s.pass);
  out += fmt::format("<a class=\"count nc\" href=\"#not-checked\"><b>{}</b> not checked</a>",
                     s.not_checked);
  out += fmt::format("<a class=\"count na\" href=\"#not-applicable\"><b>{}</b> not applicable</a>",
                     s.not_applicable);
  out += "</div>\n</div>\n</div>\n";

  out += "<nav class=\"toc\" aria-label=\"sections\">";
  out += "<a href=\"#summary\">Summary</a>";
  if (view.baseline) out += "<a href=\"#changes\">Changes since baseline</a>";
  out += fmt::format("<a href=\"#findings\">Findings ({})</a>", s.fail);
  out += fmt::format("<a href=\"#not-checked\">Not checked ({})</a>", s.not_checked);
  out += fmt::format("<a href=\"#not-applicable\">Not applicable ({})</a>", s.not_applicable);
  out += fmt::format("<a href=\"#passed\">Passed ({})</a>", s.pass);
  out += "<a href=\"#exposure\">Firewall exposure</a><a href=\"#manifest\">Snapshot</a>";
  out += "</nav>\n</header>\n";
}

void Page::summary() {
  out += "<section class=\"card\" id=\"summary\">\n<h2>Summary by severity</h2>\n";
  out += fmt::format(
      "<p class=\"muted small\">Score {}/100: the severity-weighted share of passing controls "
      "among those that pass or fail (critical 10, high 5, medium 3, low 1, info 0). Controls "
      "not checked or not applicable do not count.</p>\n",
      view.score.percent);
  out +=
      "<div class=\"tw\"><table class=\"sevtab\"><thead><tr><th>severity</th>"
      "<th class=\"num\">fail</th><th class=\"num\">pass</th><th class=\"num\">not checked</th>"
      "<th class=\"num\"><span class=\"lg\">not applicable</span><span class=\"sh\">n/a</span></th>"
      "<th class=\"num total\">total</th></tr></thead>"
      "<tbody>\n";
  auto num = [](std::size_t n, std::string_view extra = "") {
    return fmt::format("<td class=\"num{}{}\">{}</td>", n == 0 ? " zero" : "", extra, n);
  };
  for (auto sev : kSeverities) {
    std::size_t f = count(Status::fail, sev), p = count(Status::pass, sev),
                nc = count(Status::not_checked, sev), na = count(Status::not_applicable, sev);
    out += fmt::format("<tr><td><span class=\"badge {}\">{}</span></td>{}{}{}{}{}</tr>\n",
                       f > 0 ? sev_name(sev) : "zero", sev_name(sev), num(f), num(p), num(nc),
                       num(na), num(f + p + nc + na, " total"));
  }
  const auto& s = view.score;
  out += fmt::format(
      "<tr><th>all</th><td class=\"num\"><b>{}</b></td><td class=\"num\"><b>{}</b></td>"
      "<td class=\"num\"><b>{}</b></td><td class=\"num\"><b>{}</b></td>"
      "<td class=\"num total\"><b>{}</b></td></tr>\n",
      s.fail, s.pass, s.not_checked, s.not_applicable,
      s.fail + s.pass + s.not_checked + s.not_applicable);
  out += "</tbody></table></div>\n</section>\n";
}

void Page::baseline() {
  if (!view.baseline) return;
  const auto& b = *view.baseline;
  out += "<section class=\"card\" id=\"changes\">\n<h2>Changes since the baseline</h2>\n";
  int delta = view.score.percent - b.score_before;
  out += fmt::format(
      "<p>Baseline <span class=\"mono\">{}</span>: snapshot <span class=\"mono\">{}</span>{}. "
      "Score {} &rarr; <b>{}</b> ({}{}).</p>\n",
      esc(b.file), esc(b.snapshot),
      b.collected_at.empty() ? std::string() : ", collected " + esc(b.collected_at), b.score_before,
      view.score.percent, delta > 0 ? "+" : "", delta);
  const bool nothing = b.new_failures.empty() && b.fixed.empty() && b.changed.empty() &&
                       b.facts.empty() && b.removed.empty();
  if (nothing) {
    out +=
        "<p>Nothing changed: the same controls have the same status and read the same "
        "facts.</p>\n</section>\n";
    return;
  }
  // Most severe first, then in catalog order; a control no longer in the catalog last.
  auto changes = [&](std::vector<StatusChange> list, std::string_view heading,
                     std::string_view cls) {
    if (list.empty()) return;
    auto rank = [&](const StatusChange& c) {
      auto it = by_id.find(c.id);
      return it == by_id.end() ? 99 : static_cast<int>(it->second->control->severity);
    };
    std::stable_sort(list.begin(), list.end(),
                     [&](const auto& x, const auto& y) { return rank(x) < rank(y); });
    out += fmt::format(
        "<h3>{} ({})</h3>\n<div class=\"tw\"><table class=\"{} stack\"><thead><tr>"
        "<th>control</th><th>severity</th><th>before</th><th>now</th></tr></thead>"
        "<tbody>\n",
        heading, list.size(), cls);
    for (const auto& c : list) {
      auto it = by_id.find(c.id);
      std::string sev, title;
      if (it != by_id.end()) {
        const auto name = sev_name(it->second->control->severity);
        sev = fmt::format("<span class=\"badge {0}\">{0}</span>", name);
        title = "<br>" + esc(it->second->control->title);
      }
      out += fmt::format(
          "<tr><td>{}{}</td><td class=\"inl\">{}</td><td class=\"nw inl\" data-h=\"before\">{}"
          "</td><td class=\"nw inl {}\" data-h=\"now\">{}</td></tr>\n",
          id_link(c.id), title, sev,
          c.before.empty() ? "not in the baseline" : esc(status_words(c.before)),
          c.after == "fail"   ? "status-bad"
          : c.after == "pass" ? "status-ok"
                              : "",
          esc(status_words(c.after)));
    }
    out += "</tbody></table></div>\n";
  };
  changes(b.new_failures, "New failures", "bl-new");
  changes(b.fixed, "Fixed", "bl-fixed");
  changes(b.changed, "Other status changes", "bl-changed");
  if (!b.facts.empty()) {
    out += fmt::format(
        "<h3>Changed facts ({})</h3>\n<div class=\"tw\"><table class=\"facts stack\">"
        "<thead><tr><th>control</th><th>fact</th><th>before</th><th>now</th></tr>"
        "</thead><tbody>\n",
        b.facts.size());
    for (const auto& f : b.facts) {
      out += fmt::format(
          "<tr><td>{}</td><td data-h=\"fact\">{}</td><td class=\"val\" data-h=\"before\">{}</td>"
          "<td class=\"val\" data-h=\"now\">{}</td></tr>\n",
          id_link(f.id), esc(f.fact), esc(f.before), esc(f.after));
    }
    out += "</tbody></table></div>\n";
  }
  if (!b.removed.empty()) {
    out += fmt::format("<h3>No longer run ({})</h3>\n<ul class=\"chips\">", b.removed.size());
    for (const auto& id : b.removed) out += fmt::format("<li>{}</li>", esc(id));
    out += "</ul>\n";
  }
  out += "</section>\n";
}

// Remediation commands, one line each, with shell comments dimmed. The text content of the <pre>
// is exactly the commands (what the Copy button copies).
void Page::remediation(std::string_view text, std::string_view id) {
  const std::string pre_id = fmt::format("fix-{}", next_fix++);
  out += "<div class=\"fix\">\n<div class=\"fixbar\"><span class=\"lbl\">Fix</span>";
  out += fmt::format(
      "<span class=\"copy-msg\" role=\"status\" aria-live=\"polite\"></span><button "
      "type=\"button\" class=\"copy\" data-copy=\"{}\" aria-label=\"Copy the commands of {}\" "
      "hidden>Copy</button></div>\n",
      pre_id, esc(id));
  out += fmt::format("<pre class=\"cmd\" id=\"{}\"><code>", pre_id);
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // A comment starts at a '#' at the start of a word, outside quotes.
    std::size_t comment = std::string_view::npos;
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        comment = i;
        break;
      }
    }
    const bool last = text.empty();
    if (comment == std::string_view::npos) {
      out += fmt::format("<span class=\"ln\">{}{}</span>", esc(line), last ? "" : "\n");
    } else {
      out += fmt::format("<span class=\"ln\">{}<span class=\"cm\">{}</span>{}</span>",
                         esc(line.substr(0, comment)), esc(line.substr(comment)), last ? "" : "\n");
    }
  }
  out += "</code></pre>\n</div>\n";
}

void Page::finding(const ControlResult& r) {
  const auto& c = *r.control;
  const auto sev = sev_name(c.severity);
  out += fmt::format("<article class=\"finding {}\" id=\"{}\">\n<div class=\"fhead\">", sev,
                     anchor(c.id));
  out += fmt::format("<span class=\"badge {}\">{}</span>", sev, sev);
  if (view.baseline) {
    auto it = view.baseline->failure_state.find(c.id);
    if (it != view.baseline->failure_state.end()) {
      const std::string_view state = it->second;
      const char* words = state == "new"       ? "new since baseline"
                          : state == "updated" ? "changed since baseline"
                                               : "also in baseline";
      out +=
          fmt::format("<span class=\"badge bl{}\">{}</span>", state == "new" ? " new" : "", words);
    }
  }
  out += fmt::format("<h4>{}</h4><span class=\"cid\">{}</span></div>\n", esc(c.title), esc(c.id));
  if (!r.detail.empty()) out += fmt::format("<p class=\"detail\">{}</p>\n", esc(r.detail));
  out += "<dl class=\"fmeta\">\n";
  if (!r.failing.empty()) {
    out += "<dt>Failing</dt><dd><ul class=\"chips\">";
    for (const auto& f : r.failing) out += fmt::format("<li>{}</li>", esc(f));
    out += "</ul></dd>\n";
  }
  if (!c.rationale.empty()) out += fmt::format("<dt>Why</dt><dd>{}</dd>\n", esc(c.rationale));
  if (!c.notes.empty()) out += fmt::format("<dt>Note</dt><dd>{}</dd>\n", esc(c.notes));
  if (!c.guides.empty()) {
    out += "<dt>Guides</dt><dd><ul>";
    for (const auto& g : c.guides) out += fmt::format("<li>{}</li>", esc(g));
    out += "</ul></dd>\n";
  }
  out += "</dl>\n";
  if (!r.remediation.empty()) {
    remediation(r.remediation, c.id);
  } else {
    out += "<p class=\"muted small\">No command to paste: the detail says what to change.</p>\n";
  }
  if (!r.facts.empty()) {
    out += fmt::format(
        "<details class=\"facts\"><summary>Facts read ({})</summary>\n"
        "<div class=\"tw\"><table class=\"facts stack\"><thead><tr><th>fact</th>"
        "<th>value</th><th>origin</th></tr></thead><tbody>\n",
        r.facts.size());
    for (const auto& f : r.facts) {
      out += fmt::format(
          "<tr><td>{}</td><td class=\"val\" data-h=\"value\">{}</td><td class=\"org\" "
          "data-h=\"origin\">{}</td></tr>\n",
          esc(f.name), esc(f.value), esc(f.origin));
    }
    out += "</tbody></table></div></details>\n";
  }
  out += "</article>\n";
}

void Page::findings() {
  out += "<section class=\"card\" id=\"findings\">\n";
  out += fmt::format("<h2>Findings ({})</h2>\n", view.score.fail);
  if (view.score.fail == 0) {
    out += "<p>No control fails.</p>\n</section>\n";
    return;
  }
  out +=
      "<p class=\"howto small\">Fix commands: <code>zmprov</code>, <code>zmlocalconfig</code> "
      "and <code>zm*ctl</code> as the <b>zimbra</b> user, the others as <b>root</b>. Read "
      "each command before running it: it is built from the snapshot.</p>\n";
  for (auto sev : kSeverities) {
    auto n = count(Status::fail, sev);
    if (n == 0) continue;
    out += fmt::format(
        "<div class=\"sevgroup\" id=\"sev-{0}\"><h3><span class=\"badge {0}\">"
        "{0}</span> {1} ({2})</h3>\n",
        sev_name(sev), title_case(sev_name(sev)), n);
    for (const auto& r : results) {
      if (r.status == Status::fail && r.control->severity == sev) finding(r);
    }
    out += "</div>\n";
  }
  out += "</section>\n";
}

void Page::others() {
  auto table = [&](Status st, std::string_view id, std::string_view heading,
                   std::string_view reason_heading, std::string_view none) {
    auto n = count(st);
    out += fmt::format("<section class=\"card\" id=\"{}\">\n<h2>{} ({})</h2>\n", id, heading, n);
    if (n == 0) {
      out += fmt::format("<p class=\"muted\">{}</p>\n</section>\n", none);
      return;
    }
    out += fmt::format(
        "<div class=\"tw\"><table class=\"stack\"><thead><tr><th>control</th><th>severity</th>"
        "<th>{}</th></tr></thead><tbody>\n",
        reason_heading);
    for (const auto& r : results) {
      if (r.status != st) continue;
      out += fmt::format(
          "<tr id=\"{}\"><td><span class=\"cid\">{}</span><br>{}</td><td class=\"inl\"><span "
          "class=\"badge "
          "{}\">{}</span></td><td class=\"detail\">{}</td></tr>\n",
          anchor(r.control->id), esc(r.control->id), esc(r.control->title),
          sev_name(r.control->severity), sev_name(r.control->severity), esc(r.detail));
    }
    out += "</tbody></table></div>\n</section>\n";
  };
  table(Status::not_checked, "not-checked", "Not checked", "why",
        "Every control could be checked.");
  table(Status::not_applicable, "not-applicable", "Not applicable", "why not",
        "Every control applies.");

  auto n = count(Status::pass);
  out += fmt::format("<section class=\"card\" id=\"passed\">\n<h2>Passed ({})</h2>\n", n);
  if (n == 0) {
    out += "<p class=\"muted\">No control passes.</p>\n</section>\n";
    return;
  }
  out += fmt::format(
      "<details><summary>Show the {} passing controls</summary>\n"
      "<ul class=\"passed\">\n",
      n);
  for (const auto& r : results) {
    if (r.status != Status::pass) continue;
    out += fmt::format(
        "<li id=\"{}\"><span class=\"badge {}\">{}</span> <span class=\"cid\">"
        "{}</span><br>{}</li>\n",
        anchor(r.control->id), sev_name(r.control->severity), sev_name(r.control->severity),
        esc(r.control->id), esc(r.control->title));
  }
  out += "</ul>\n</details>\n</section>\n";
}

std::string port_name(const fw::PortQuery& p) {
  return fmt::format("{}/{}", p.port, protocol_name(p.protocol));
}

std::string_view reach_class(Reach r) {
  switch (r) {
    case Reach::everyone:
      return "everyone";
    case Reach::some:
      return "some";
    case Reach::nobody:
      return "nobody";
  }
  return "";
}

// One column per family the snapshot's ruleset covers (both when it says neither).
void Page::exposure_table(const fw::AnalysisReport& rep) {
  const bool v4 = shows(Family::v4), v6 = shows(Family::v6);
  out += "<div class=\"tw\"><table class=\"exposure\"><thead><tr><th>port</th><th>service</th>";
  if (v4) out += "<th>IPv4 sources accepted</th>";
  if (v6) out += "<th>IPv6 sources accepted</th>";
  out += "</tr></thead><tbody>\n";
  auto cell = [&](const fw::ExposureResult& r, Family f) {
    const bool unc = !r.sources(fw::Outcome::uncertain).only(f).empty();
    const auto r_of = reach_of(r, f);
    // Nobody accepted but some uncertain: the uncertainty is the news.
    const auto reach = unc && r_of == Reach::nobody ? "uncertain" : reach_class(r_of);
    return fmt::format("<td class=\"cell{}\" title=\"{}\"><span class=\"sw {}\"></span>{}</td>",
                       unc ? " unc" : "", esc(exposure_cell(r, f)), reach,
                       esc(exposure_cell(r, f, true)));
  };
  for (const auto& pe : rep.ports) {
    out +=
        fmt::format("<tr><td class=\"nw mono\">{}</td><td>{}</td>{}{}</tr>\n",
                    esc(port_name(pe.port)), pe.port.service.empty() ? "-" : esc(pe.port.service),
                    v4 ? cell(pe.v4, Family::v4) : "", v6 ? cell(pe.v6, Family::v6) : "");
  }
  out += "</tbody></table></div>\n";
}

// The picture: one row per class of sources that meet the same outcome on every port (largest
// first; past kMaxRows the rest are summed up in one row), one column per port, cells coloured
// by outcome with a tooltip naming the deciding rules.
void Page::exposure_picture(const fw::AnalysisReport& rep, Family f) {
  constexpr std::size_t kMaxRows = 12;
  constexpr std::size_t kMaxLabel = 48;  // characters of a row label
  // Geometry in px; labels are monospace at 11px (0.6em wide), counted at 7px a character.
  constexpr int kCell = 13, kPitch = 16, kCharW = 7, kTop = 70, kPadR = 34, kPadB = 6;
  const std::size_t ports = rep.ports.size();
  auto classes = classify_sources(rep, f);

  struct Row {
    std::string label;     // shown (shortened)
    std::string sources;   // every prefix, for the tooltip
    std::vector<int> out;  // per port: Outcome, or -1 for mixed
    std::vector<std::string> tips;
  };
  std::vector<Row> rows;
  const std::size_t shown = classes.size() > kMaxRows ? kMaxRows - 1 : classes.size();
  auto prefixes_text = [&](const AddressSet& s) {
    auto ps = s.to_prefixes(f);
    std::string t;
    for (std::size_t i = 0; i < ps.size() && i < 24; ++i) t += (i ? ", " : "") + to_string(ps[i]);
    if (ps.size() > 24) t += fmt::format(" and {} more", ps.size() - 24);
    return t;
  };
  for (std::size_t k = 0; k < shown; ++k) {
    const auto& c = classes[k];
    Row row;
    row.label = describe_sources(c.sources, f);
    row.sources = prefixes_text(c.sources);
    for (std::size_t i = 0; i < ports; ++i) {
      row.out.push_back(static_cast<int>(c.outcomes[i]));
      std::string rules;
      for (const auto* reg : c.deciding[i]) {
        if (reg == nullptr) continue;
        rules += fmt::format("\n{} by {}", fw::outcome_name(reg->outcome), reg->rule);
        if (!reg->reason.empty()) rules += fmt::format(" ({})", reg->reason);
      }
      row.tips.push_back(rules);
    }
    rows.push_back(std::move(row));
  }
  if (classes.size() > shown) {
    Row rest;
    std::size_t n = classes.size() - shown;
    rest.label = fmt::format("{} other source sets", n);
    rest.sources = fmt::format("{} smaller sets of sources, each with its own outcomes", n);
    for (std::size_t i = 0; i < ports; ++i) {
      int o = static_cast<int>(classes[shown].outcomes[i]);
      for (std::size_t k = shown; k < classes.size(); ++k) {
        if (static_cast<int>(classes[k].outcomes[i]) != o) o = -1;
      }
      rest.out.push_back(o);
      rest.tips.push_back(o < 0 ? "\nthe outcome differs between these sources" : "");
    }
    rows.push_back(std::move(rest));
  }

  std::size_t label_chars = 10;
  for (auto& r : rows) {
    if (r.label.size() > kMaxLabel) r.label = r.label.substr(0, kMaxLabel - 1) + "\u2026";
    label_chars = std::max(label_chars, r.label.size());
  }
  const int label_w = static_cast<int>(label_chars) * kCharW + 12;
  const int width = label_w + static_cast<int>(ports) * kPitch + kPadR;
  const int height = kTop + static_cast<int>(rows.size()) * kPitch + kPadB;
  const auto fam = family_name(f);

  out += fmt::format(
      "<div class=\"scroll\"><svg class=\"matrix\" "
      "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2} sources "
      "by port: {3} rows, {4} ports\"><title>{2}: which sources reach which port</title>\n",
      width, height, fam, rows.size(), ports);
  // Column heads, rotated, with the service in the tooltip.
  for (std::size_t i = 0; i < ports; ++i) {
    const auto& p = rep.ports[i].port;
    const int x = label_w + static_cast<int>(i) * kPitch + kCell / 2 + 3;
    out += fmt::format(
        "<text x=\"{0}\" y=\"{1}\" transform=\"rotate(-55 {0} {1})\"><title>{2} {3}</title>{2}"
        "</text>\n",
        x, kTop - 6, esc(port_name(p)), esc(p.service));
  }
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    const int y = kTop + static_cast<int>(k) * kPitch;
    if (k % 2 == 0) {
      out += fmt::format("<rect class=\"band\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\"/>\n",
                         y - 1, width - kPadR + 4, kPitch);
    }
    out += fmt::format(
        "<text class=\"rowlbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>\n",
        label_w - 6, y + kCell - 2, esc(r.sources), esc(r.label));
    for (std::size_t i = 0; i < ports; ++i) {
      const int x = label_w + static_cast<int>(i) * kPitch;
      const int o = r.out[i];
      const std::string_view name =
          o < 0 ? std::string_view("mixed") : fw::outcome_name(static_cast<fw::Outcome>(o));
      out += fmt::format(
          "<rect class=\"x-{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\"><title>{} "
          "to {}: {}{}</title></rect>",
          name, x, y, kCell, kCell, esc(r.label), esc(port_name(rep.ports[i].port)), name,
          esc(r.tips[i]));
      if (o == static_cast<int>(fw::Outcome::uncertain) || o < 0) {
        out += fmt::format("<text class=\"q\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                           x + kCell / 2, y + kCell - 3, o < 0 ? "~" : "?");
      }
      out += "\n";
    }
  }
  out += "</svg></div>\n";

  // The full prefixes of the rows whose label had to be shortened.
  std::string full;
  for (std::size_t k = 0; k < shown; ++k) {
    auto label = describe_sources(classes[k].sources, f);
    if (label.size() <= kMaxLabel && label.find(" more") == std::string::npos) continue;
    full += fmt::format("<li><span class=\"mono\">{}</span>: {}</li>\n", esc(rows[k].label),
                        esc(rows[k].sources));
  }
  if (!full.empty()) {
    out += fmt::format(
        "<details><summary>Every prefix of the shortened {} rows</summary><ul "
        "class=\"small\">\n{}</ul></details>\n",
        fam, full);
  }
}

void Page::exposure() {
  out += "<section class=\"card\" id=\"exposure\">\n<h2>Firewall exposure</h2>\n";
  if (!view.exposure) {
    out +=
        "<p><b>The snapshot has no firewall ruleset</b> (no <code>iptables-save</code>, "
        "<code>ip6tables-save</code> or <code>nft -j list ruleset</code> output), or no port "
        "catalog was loaded: who can reach each port is not known.</p>\n</section>\n";
    return;
  }
  const auto& rep = *view.exposure;
  out +=
      "<p>Who can open a new connection to each port of the catalog from outside, as the "
      "snapshot's firewall rules decide (the rules are read, not tested: a service that does "
      "not listen is not reachable either).</p>\n";
  if (view.exposure_v4 != view.exposure_v6) {
    const char* missing = view.exposure_v4 ? "IPv6" : "IPv4";
    out += fmt::format(
        "<p class=\"howto small\">The snapshot holds no {0} ruleset: {0} is not shown.</p>\n",
        missing);
  }
  out +=
      "<div class=\"legend\" aria-label=\"legend\"><span><i class=\"sw accept\"></i>accept "
      "(reachable)</span><span><i class=\"sw drop\"></i>drop or reject</span><span><i "
      "class=\"sw uncertain\"></i>uncertain (a match the analyser does not model)</span>"
      "<span><i class=\"sw mixed\"></i>mixed (summary row)</span><span><i class=\"sw "
      "some\"></i>some sources (table)</span></div>\n";
  for (Family f : {Family::v4, Family::v6}) {
    if (!shows(f)) continue;
    out += fmt::format(
        "<h3>{} sources &times; ports</h3>\n<p class=\"muted small\">Each row is a set of "
        "sources that meets the same outcome on every port<span class=\"noprint\">; hover a "
        "cell for the deciding rule</span>.</p>\n",
        family_name(f));
    exposure_picture(rep, f);
  }
  out += "<h3>Ports</h3>\n";
  exposure_table(rep);

  // Uncertain answers, one line per (family, sources, rule, reason) with its ports: one
  // unmodelled match usually makes many ports uncertain for the same sources.
  struct Uncertain {
    Family family;
    const fw::Region* region;
    std::string ports;
  };
  std::vector<Uncertain> unc;
  std::map<std::tuple<Family, std::string, std::string, std::string>, std::size_t> unc_index;
  for (const auto& pe : rep.ports) {
    for (auto [res, f] : {std::pair{&pe.v4, Family::v4}, std::pair{&pe.v6, Family::v6}}) {
      if (!shows(f)) continue;
      for (const auto& reg : res->regions) {
        if (reg.outcome != fw::Outcome::uncertain) continue;
        auto [it, fresh] = unc_index.try_emplace(
            std::tuple{f, reg.sources.to_string(), reg.rule, reg.reason}, unc.size());
        if (fresh) unc.push_back({f, &reg, ""});
        auto& u = unc[it->second];
        u.ports += (u.ports.empty() ? "" : ", ") + port_name(pe.port);
      }
    }
  }
  if (!unc.empty()) {
    out +=
        "<h3>Uncertain</h3>\n<p class=\"small\">A match the analyser does not model; never "
        "guessed.</p>\n<ul class=\"small\">\n";
    for (const auto& u : unc) {
      out += fmt::format(
          "<li>{} from <span class=\"mono\" title=\"{}\">{}</span> to <span "
          "class=\"mono\">{}</span>: {} &mdash; {}</li>\n",
          family_name(u.family), esc(u.region->sources.to_string()),
          esc(describe_sources(u.region->sources, u.family)), esc(u.ports), esc(u.region->rule),
          esc(u.region->reason));
    }
    out += "</ul>\n";
  }
  if (!rep.findings.empty()) {
    out += "<h3>More exposed than the policy allows</h3>\n<ul>\n";
    for (const auto& f : rep.findings) {
      std::string rules;
      for (const auto& x : f.rules) rules += (rules.empty() ? "" : ", ") + x;
      out += fmt::format(
          "<li><span class=\"badge {}\">{}</span> {} (accepted by <span "
          "class=\"mono\">{}</span>)</li>\n",
          f.severity == fw::Severity::medium ? "medium" : "critical",
          esc(fw::severity_name(f.severity)), esc(f.message), esc(rules));
    }
    out += "</ul>\n";
  }
  out += "</section>\n";
}

void Page::manifest() {
  out += "<section class=\"card\" id=\"manifest\">\n<h2>Snapshot</h2>\n";
  if (!view.manifest) {
    out += fmt::format(
        "<p>The snapshot <span class=\"mono\">{}</span> has no <code>manifest.json</code>: it was "
        "not collected by <code>mailwarden audit --collect</code>, so which command produced "
        "each file, as whom and when, is not recorded.</p>\n</section>\n",
        esc(view.snapshot.empty() ? view.iis_config : view.snapshot));
    return;
  }
  const auto& m = *view.manifest;
  out += "<dl class=\"fmeta\">";
  out += fmt::format("<dt>directory</dt><dd class=\"mono\">{}</dd>", esc(view.snapshot));
  out += fmt::format("<dt>host</dt><dd class=\"mono\">{}</dd>", esc(m.host));
  out += fmt::format("<dt>collected at</dt><dd>{}</dd>", esc(m.collected_at));
  out += fmt::format("<dt>collected by</dt><dd>{}</dd>", esc(m.tool));
  out += fmt::format("<dt>schema</dt><dd class=\"mono\">{}</dd>", esc(m.schema));
  out += "</dl>\n";
  std::size_t not_ok = 0, redacted = 0;
  for (const auto& e : m.files) {
    if (e.status != "ok") ++not_ok;
    redacted += e.redacted;
  }
  out += fmt::format("<p class=\"small\">{}; {} not collected as expected; {} redacted.</p>\n",
                     plural(m.files.size(), "file", "files"), not_ok,
                     plural(redacted, "value", "values"));
  out +=
      "<div class=\"tw\"><table class=\"manifest stack\"><thead><tr><th>file</th><th>command</th>"
      "<th>run as</th><th>status</th><th class=\"num\">exit</th><th class=\"num\">duration</th>"
      "<th class=\"num\">redacted</th></tr></thead><tbody>\n";
  for (const auto& e : m.files) {
    const char* cls = e.status == "ok"              ? "status-ok"
                      : e.status == "not_available" ? "muted"
                                                    : "status-bad";
    std::string status =
        fmt::format("<span class=\"{}\">{}</span>", cls, esc(status_words(e.status)));
    if (!e.note.empty()) status += fmt::format("<br><span class=\"small\">{}</span>", esc(e.note));
    if (!e.stderr_head.empty()) {
      status += fmt::format("<br><span class=\"small mono\">{}</span>", esc(e.stderr_head));
    }
    out += fmt::format(
        "<tr><td class=\"mono nw\"><b>{}</b></td><td class=\"mono\" data-h=\"command\">{}</td>"
        "<td class=\"inl\" data-h=\"as\">{}</td><td class=\"inl\">{}</td><td class=\"num inl\" "
        "data-h=\"exit\">{}</td><td class=\"num nw inl\" data-h=\"took\">{} ms</td><td "
        "class=\"num inl\" data-h=\"redacted\">{}</td></tr>\n",
        esc(e.file), esc(e.command), e.run_as.empty() ? "invoker" : esc(e.run_as), status,
        e.exit_code ? std::to_string(*e.exit_code) : "-", e.duration_ms, e.redacted);
  }
  out += "</tbody></table></div>\n</section>\n";
}

}  // namespace

std::string render_audit_html(const AuditView& view) {
  static const std::vector<ControlResult> kNone;
  Page page(view, view.results ? *view.results : kNone);
  page.head();
  page.header();
  page.out += "<main>\n";
  page.summary();
  page.baseline();
  page.findings();
  page.others();
  page.exposure();
  page.manifest();
  page.out += "</main>\n";
  page.out += fmt::format(
      "<footer>{} &middot; a self-contained page: it loads nothing from the network.</footer>\n",
      view.tool.empty() ? std::string("mailwarden") : esc(view.tool));
  page.out +=
      fmt::format("</div>\n<script>{}{}</script>\n</body>\n</html>\n", kCopyScript, kScript);
  return std::move(page.out);
}

}  // namespace mw::report
