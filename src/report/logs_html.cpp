// `mailwarden logs report --format html`: one self-contained page. Every value from the logs
// passes through esc() (text, attributes and the SVG alike); the only markup, style and script
// are the constants of this file, and a Content-Security-Policy forbids every request. The page
// depends on the report alone (no clock), so the same report gives the same bytes.
#include "report/logs_html.hpp"

#include "report/html_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "core/join.hpp"
#include "report/logs_report.hpp"

namespace mw::report {

namespace {

using logs::AccountSummary;
using logs::Finding;
using logs::FindingSeverity;
using logs::LogReport;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::array kSeverities = {FindingSeverity::critical, FindingSeverity::high,
                                    FindingSeverity::medium, FindingSeverity::low};

// Every value in the page goes through this (html_text.hpp).
std::string esc(std::string_view raw) {
  return html_escape(raw);
}

std::string sev_name(FindingSeverity s) {
  return std::string(logs::name_of(s));
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", grouped(n), n == 1 ? one : many);
}

std::string chips(const std::vector<std::string>& items, std::uint64_t total) {
  std::string out = "<ul class=\"chips\">";
  for (const auto& s : items) out += fmt::format("<li>{}</li>", esc(s));
  if (total > items.size()) {
    out += fmt::format("<li class=\"more\">+{} more</li>", grouped(total - items.size()));
  }
  return out + "</ul>";
}

// ---------------------------------------------------------------------------------------------
// Constant page parts.

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'";

constexpr std::string_view kStyle = R"CSS(
:root{--bg:#f4f5f7;--card:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d5dbe1;--soft:#eef1f4;
--code:#f3f5f8;--link:#0a58b8;--crit:#9b1c1c;--high:#c2410c;--med:#a16207;--low:#1d5fc4;
--ok:#1a7f37;--msg:#3b6fd1;--login:#1a7f37;--fail:#c62828;--chip:#e9edf1;
--mono:ui-monospace,"SFMono-Regular","DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;
color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0e1217;--card:#161c23;--fg:#e4e8ec;--muted:#9ba5b0;
--line:#2c3540;--soft:#1d252e;--code:#0b0f13;--link:#79b8ff;--crit:#f87171;--high:#fb923c;
--med:#facc15;--low:#60a5fa;--ok:#4ade80;--msg:#6b9bf2;--login:#4ade80;--fail:#f87171;
--chip:#232c36}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
.page{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
h1,h2,h3{line-height:1.25;margin:0}
h1{font-size:1.5rem}
h2{font-size:1.25rem;margin:0 0 12px}
h3{font-size:1.05rem;margin:0 0 8px;display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
p{margin:6px 0}
a{color:var(--link)}
code,.mono,pre{font-family:var(--mono);font-size:.88em}
h1,h2,h3,p,li,td,dd,dt{overflow-wrap:anywhere}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;
margin:16px 0}
.muted{color:var(--muted)}
.small{font-size:.86rem}
.meta{margin:6px 0 0;display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);font-size:.9rem}
.meta b{color:var(--fg);font-weight:600}
.verdict{font-size:1.05rem;margin-top:10px}
.verdict.bad{color:var(--fail);font-weight:600}
.sevstrip{display:flex;flex-wrap:wrap;gap:6px;margin-top:10px}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 14px;margin:14px 0 0;font-size:.92rem}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.78rem;font-weight:700;
letter-spacing:.02em;text-transform:uppercase;color:#fff;white-space:nowrap;vertical-align:middle}
.badge.critical{background:var(--crit)}.badge.high{background:var(--high)}
.badge.medium{background:var(--med)}.badge.low{background:var(--low)}
.badge.zero{background:var(--chip);color:var(--muted)}
@media (prefers-color-scheme:dark){.badge{color:#10151a}.badge.zero{color:var(--muted)}}
.incident{border:1px solid var(--line);border-left:6px solid var(--crit);border-radius:8px;
padding:12px 16px;margin:12px 0;background:var(--card)}
.sentence{font-size:1.02rem}
.finding{border:1px solid var(--line);border-left:6px solid var(--low);border-radius:8px;
padding:12px 16px;margin:10px 0;background:var(--card)}
.finding.critical{border-left-color:var(--crit)}.finding.high{border-left-color:var(--high)}
.finding.medium{border-left-color:var(--med)}.finding.low{border-left-color:var(--low)}
.key{font-family:var(--mono);font-size:.9rem}
dl.fmeta{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 14px;margin:8px 0}
dl.fmeta dt{color:var(--muted);font-weight:600;font-size:.88rem}
dl.fmeta dd{margin:0}
ul.chips{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px}
ul.chips li{background:var(--chip);border-radius:6px;padding:0 8px;font-family:var(--mono);
font-size:.84rem}
ul.chips li.more{font-family:inherit;color:var(--muted)}
ul.plain{margin:4px 0;padding-left:18px}
.fix{margin:10px 0 6px;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.fixbar{display:flex;align-items:center;gap:10px;padding:4px 6px 4px 12px;background:var(--soft);
border-bottom:1px solid var(--line);font-size:.85rem}
.fixbar .lbl{font-weight:600;flex:1 1 auto;min-width:0;font-family:var(--mono)}
button.copy{font:600 .85rem system-ui,sans-serif;padding:4px 14px;border-radius:6px;
border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer}
button.copy:hover{border-color:var(--link)}
button.copy:focus-visible{outline:2px solid var(--link);outline-offset:1px}
.copy-msg{font-size:.82rem}
.copy-msg.ok{color:var(--ok)}.copy-msg.manual{color:var(--med)}
pre.cmd{margin:0;padding:10px 12px;background:var(--code);overflow-x:auto;line-height:1.5;
font-size:13px}
pre.cmd .ln{display:block;white-space:pre-wrap;overflow-wrap:anywhere;padding-left:2ch;
text-indent:-2ch}
pre.cmd .cm{color:var(--muted)}
.copy-buffer{position:fixed;top:0;left:0;width:1px;height:1px;opacity:0;border:0;padding:0}
.tw{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:baseline;padding:6px 10px;border-bottom:1px solid var(--line)}
th{font-weight:600;color:var(--muted);font-size:.8rem;text-transform:uppercase;
letter-spacing:.03em;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.acct{font-family:var(--mono);font-size:.86rem}
tfoot td{font-weight:600}
tbody tr:hover{background:var(--soft)}
.susp{color:var(--fail);font-weight:700}
.chart{overflow-x:auto;max-width:100%;margin:8px 0}
svg.timeline{display:block;width:100%;height:auto;min-width:480px}
svg.timeline text{fill:var(--muted);font:11px system-ui,sans-serif}
svg.timeline .axis{stroke:var(--line);stroke-width:1}
svg.timeline .m{fill:var(--msg)}
svg.timeline .l{fill:var(--login)}
svg.timeline .f{fill:var(--fail)}
svg.timeline .mark{stroke-width:1.5;stroke-dasharray:4 3}
svg.timeline .mark.critical{stroke:var(--crit)}svg.timeline .mark.high{stroke:var(--high)}
svg.timeline .mark.medium{stroke:var(--med)}svg.timeline .mark.low{stroke:var(--low)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.85rem;color:var(--muted)}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px}
.sw.m{background:var(--msg)}.sw.l{background:var(--login)}.sw.f{background:var(--fail)}
.sw.mark{width:0;height:14px;border-left:2px dashed var(--crit);border-radius:0}
footer{color:var(--muted);font-size:.82rem;margin-top:24px}
@media (max-width:640px){
.page{padding:12px 10px 28px}
body{font-size:14.5px}
h1{font-size:1.25rem}
.card{padding:14px 12px;border-radius:8px}
.incident,.finding{padding:10px 10px}
dl.fmeta{grid-template-columns:minmax(0,1fr);gap:0}
dl.fmeta dt{margin-top:6px}
th,td{padding:5px 6px}
table.stack,table.stack tbody,table.stack tfoot,table.stack tr,table.stack td{display:block;
width:auto}
table.stack thead{display:none}
table.stack tr{padding:8px 0;border-bottom:1px solid var(--line)}
table.stack td{border:0;padding:1px 0;text-align:left}
table.stack td.num{display:inline-block;margin-right:14px}
table.stack td[data-h]::before{content:attr(data-h);color:var(--muted);font:600 .72rem system-ui,
sans-serif;text-transform:uppercase;letter-spacing:.03em;margin-right:6px}
}
@media print{
:root{--bg:#fff;--card:#fff;--fg:#000;--muted:#444;--line:#bbb;--soft:#f1f1f1;--code:#fff;
--link:#000;--chip:#eee}
@page{margin:14mm 12mm}
body{background:#fff;color:#000;font-size:10pt}
.page{max-width:none;padding:0}
.card{border:0;padding:0;margin:0 0 14px}
nav.toc,button.copy,.copy-msg{display:none!important}
.badge,.sw,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.chart,.tw{overflow:visible}
svg.timeline{min-width:0}
pre.cmd{overflow:visible;white-space:pre-wrap}
.incident,.finding,.fix,tr{break-inside:avoid;page-break-inside:avoid}
h2,h3{break-after:avoid;page-break-after:avoid}
a{color:#000;text-decoration:none}
}
)CSS";

// ---------------------------------------------------------------------------------------------
// The timeline of one account: messages per hour above, logins and failed logins below, a
// dashed mark at the first_seen of each finding that names the account.

constexpr std::int64_t kMinHour = -62167219200 / 3600;  // year 0000 .. 9999, as iso_hour()
constexpr std::int64_t kMaxHour = 253402300799 / 3600;
constexpr std::int64_t kMaxBars = 240;  // longer spans are summed into buckets of hours

struct Bucket {
  std::uint64_t logins = 0, failures = 0, messages = 0;
};

// "11-28 03:00" of an hour (the caption gives the full period).
std::string short_hour(std::int64_t hour) {
  const std::string iso = iso_hour(hour);
  return iso.size() >= 16 ? iso.substr(5, 5) + " " + iso.substr(11, 5) : iso;
}

std::string timeline_svg(const AccountSummary& a, const std::vector<const Finding*>& marks) {
  std::vector<logs::HourCount> hours;
  for (const auto& h : a.timeline) {
    if (h.hour >= kMinHour && h.hour <= kMaxHour) hours.push_back(h);
  }
  if (hours.empty()) {
    return "<p class=\"muted\">No hourly timeline for this account.</p>\n";
  }
  std::int64_t lo = hours.front().hour, hi = lo;
  for (const auto& h : hours) {
    lo = std::min(lo, h.hour);
    hi = std::max(hi, h.hour);
  }
  // A few active hours would make a few huge bars: show at least half a day around them.
  constexpr std::int64_t kMinSpan = 12;
  if (hi - lo + 1 < kMinSpan) {
    const std::int64_t pad = kMinSpan - (hi - lo + 1);
    lo -= pad / 2;
    hi += pad - pad / 2;
  }
  const std::int64_t span = hi - lo + 1;
  const std::int64_t per = (span + kMaxBars - 1) / kMaxBars;  // hours per bar
  const auto n = static_cast<std::size_t>((span + per - 1) / per);
  std::vector<Bucket> bars(n);
  for (const auto& h : hours) {
    auto& b = bars[static_cast<std::size_t>((h.hour - lo) / per)];
    b.logins += h.logins;
    b.failures += h.failures;
    b.messages += h.messages;
  }
  std::uint64_t max_m = 0, max_a = 0;
  for (const auto& b : bars) {
    max_m = std::max(max_m, b.messages);
    max_a = std::max({max_a, b.logins, b.failures});
  }
  const auto peak = [](std::uint64_t m) {
    return m == 0 ? std::string("none") : "max " + grouped(m);
  };
  const std::string peak_m = peak(max_m), peak_a = peak(max_a);
  // The scales: a panel without activity keeps an empty axis.
  max_m = std::max<std::uint64_t>(max_m, 1);
  max_a = std::max<std::uint64_t>(max_a, 1);

  constexpr double kW = 760, kH = 240, kLeft = 56, kRight = 14;
  constexpr double kTop1 = 24, kH1 = 96, kTop2 = 150, kH2 = 62;
  const double plot = kW - kLeft - kRight;
  const double bw = plot / static_cast<double>(n);
  const std::string unit = per == 1 ? "hour" : fmt::format("{} hours", per);
  const std::string label = fmt::format("Activity of {} per {}", a.account, unit);

  std::string out = fmt::format(
      "<div class=\"chart\"><svg class=\"timeline\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\">\n<title>{}</title>\n",
      kW, kH, esc(label), esc(label));
  out += fmt::format("<text x=\"{}\" y=\"{}\">messages per {} ({})</text>\n", kLeft, kTop1 - 8,
                     unit, peak_m);
  out += fmt::format("<text x=\"{}\" y=\"{}\">logins and failed logins per {} ({})</text>\n", kLeft,
                     kTop2 - 8, unit, peak_a);
  for (const auto& [top, h, max] : {std::tuple{kTop1, kH1, max_m}, std::tuple{kTop2, kH2, max_a}}) {
    out += fmt::format(
        "<line class=\"axis\" x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>"
        "<text x=\"{3}\" y=\"{1:.1f}\" text-anchor=\"end\">0</text>\n",
        kLeft, top + h, kLeft + plot, kLeft - 6, top + 9, grouped(max));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& b = bars[i];
    if (b.messages == 0 && b.logins == 0 && b.failures == 0) continue;
    const double x = kLeft + static_cast<double>(i) * bw;
    const std::int64_t hour = lo + static_cast<std::int64_t>(i) * per;
    const std::string when = iso_hour(hour);
    auto bar = [&](const char* cls, double bx, double width, double top, double height,
                   std::uint64_t v, std::uint64_t max, std::string_view what) {
      if (v == 0) return;
      const double bh = std::max(1.0, height * static_cast<double>(v) / static_cast<double>(max));
      out += fmt::format(
          "<rect class=\"{}\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\">"
          "<title>{}: {} {}</title></rect>\n",
          cls, bx, top + height - bh, std::max(width, 0.5), bh, when, grouped(v), what);
    };
    const double gap = bw > 3 ? bw * 0.12 : 0;
    bar("m", x + gap, bw - 2 * gap, kTop1, kH1, b.messages, max_m, "messages");
    bar("l", x + gap, (bw - 2 * gap) / 2, kTop2, kH2, b.logins, max_a, "logins");
    bar("f", x + bw / 2, (bw - 2 * gap) / 2, kTop2, kH2, b.failures, max_a, "failed logins");
  }
  // Up to seven hour labels along the bottom, on the boundaries of the bars.
  const std::size_t ticks = std::min<std::size_t>(n, 6) + 1;
  for (std::size_t k = 0; k < ticks; ++k) {
    const std::size_t i = k * n / (ticks - 1);
    const double x = kLeft + static_cast<double>(i) * bw;
    const char* anchor = k == 0 ? "start" : k + 1 == ticks ? "end" : "middle";
    out += fmt::format(
        "<line class=\"axis\" x1=\"{0:.2f}\" y1=\"{1:.1f}\" x2=\"{0:.2f}\" y2=\"{2:.1f}\"/>"
        "<text x=\"{0:.2f}\" y=\"{3:.1f}\" text-anchor=\"{4}\">{5}</text>\n",
        x, kTop2 + kH2, kTop2 + kH2 + 4, kTop2 + kH2 + 18, anchor,
        short_hour(lo + static_cast<std::int64_t>(i) * per));
  }
  for (const auto* f : marks) {
    const double at = static_cast<double>(f->first_seen.seconds) / 3600.0;
    const double rel = (at - static_cast<double>(lo)) / static_cast<double>(per);
    const double x = kLeft + std::clamp(rel, 0.0, static_cast<double>(n)) * bw;
    out += fmt::format(
        "<line class=\"mark {0}\" x1=\"{1:.2f}\" y1=\"{2}\" x2=\"{1:.2f}\" y2=\"{3}\">"
        "<title>{4} ({0}) first seen {5}</title></line>\n",
        sev_name(f->severity), x, kTop1 - 4, kTop2 + kH2, logs::name_of(f->detector),
        iso_time(f->first_seen));
  }
  out += "</svg></div>\n";
  out += fmt::format(
      "<div class=\"legend\"><span><i class=\"sw m\"></i>messages</span><span><i class=\"sw "
      "l\"></i>logins</span><span><i class=\"sw f\"></i>failed logins</span><span><i class=\"sw "
      "mark\"></i>a finding first seen</span><span>{} to {} (UTC)</span></div>\n",
      iso_hour(lo), iso_hour(hi + 1));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sections.

struct Page {
  const LogReport& r;
  std::vector<Incident> all;
  std::string out;

  explicit Page(const LogReport& report) : r(report), all(incidents(report)) {}

  std::string evidence(const Finding& f) const {
    std::vector<std::string> items;
    items.reserve(f.evidence.size());
    for (const auto& p : f.evidence) items.push_back(evidence_text(r, p));
    return chips(items, 0);
  }

  static std::string account_id(std::size_t index) { return fmt::format("acct-{}", index); }

  void head(std::string_view tool_version);
  void header();
  void incident_cards();
  void findings();
  void commands();
  void top_accounts();
  void inputs();
  void finding(const Finding& f);
};

void Page::head(std::string_view tool_version) {
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n", kCsp);
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<meta name=\"color-scheme\" content=\"light dark\">\n";
  out += fmt::format("<meta name=\"generator\" content=\"mailwarden {}\">\n", esc(tool_version));
  out += fmt::format("<title>Mail logs: {}, {}</title>\n",
                     plural(all.size(), "compromised account", "compromised accounts"),
                     plural(r.findings.size(), "finding", "findings"));
  out += fmt::format("<style>{}</style>\n</head>\n<body>\n<div class=\"page\">\n", kStyle);
}

void Page::header() {
  out += "<header class=\"card\" id=\"top\">\n<h1>Mail log report</h1>\n<div class=\"meta\">";
  if (r.has_time) {
    out += fmt::format("<span>period <b>{}</b> to <b>{}</b></span>", iso_time(r.first),
                       iso_time(r.last));
  } else {
    out += "<span>period <b>unknown</b> (no line had a time)</span>";
  }
  out +=
      fmt::format("<span><b>{}</b> from <b>{}</b></span>", plural(r.totals.lines, "line", "lines"),
                  plural(r.inputs.size(), "input", "inputs"));
  out += fmt::format("<span><b>{}</b> not parsed</span>", grouped(r.totals.unparsed()));
  out += fmt::format("<span><b>{}</b></span><span><b>{}</b></span><span><b>{}</b></span>",
                     plural(r.messages, "message", "messages"), plural(r.logins, "login", "logins"),
                     plural(r.failures, "failed login", "failed logins"));
  out += fmt::format("<span><b>{}</b></span>", plural(r.accounts.size(), "account", "accounts"));
  if (!r.geoip.empty()) out += fmt::format("<span>GeoIP <b>{}</b></span>", esc(r.geoip));
  out += "</div>\n";
  if (all.empty()) {
    out += "<p class=\"verdict\">No compromised account found.</p>\n";
  } else {
    out += fmt::format("<p class=\"verdict bad\">{}.</p>\n",
                       plural(all.size(), "account is compromised", "accounts are compromised"));
  }
  out += "<div class=\"sevstrip\">";
  for (const auto s : kSeverities) {
    const auto n = std::count_if(r.findings.begin(), r.findings.end(),
                                 [&](const Finding& f) { return f.severity == s; });
    out += fmt::format("<span class=\"badge {}\">{} {}</span>", n == 0 ? "zero" : sev_name(s), n,
                       sev_name(s));
  }
  out += "</div>\n<nav class=\"toc\">";
  if (!all.empty()) out += "<a href=\"#incidents\">Compromised accounts</a>";
  out += "<a href=\"#findings\">Findings</a>";
  if (!all.empty()) out += "<a href=\"#commands\">Follow-up commands</a>";
  out += "<a href=\"#accounts\">Top accounts</a><a href=\"#inputs\">Inputs</a></nav>\n";
  out += "</header>\n";
}

void Page::incident_cards() {
  if (all.empty()) return;
  out +=
      fmt::format("<section class=\"card\" id=\"incidents\">\n<h2>Compromised accounts ({})</h2>\n",
                  all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& inc = all[i];
    out += fmt::format("<article class=\"incident\" id=\"{}\">\n", account_id(i));
    out += fmt::format("<h3><span class=\"mono\">{}</span></h3>\n", esc(inc.account));
    out += fmt::format("<p class=\"sentence\">{}</p>\n", esc(incident_sentence(r, inc)));
    if (inc.summary != nullptr) {
      std::vector<const Finding*> marks;
      for (const auto& f : r.findings) {
        if (f.account == inc.account) marks.push_back(&f);
      }
      out += timeline_svg(*inc.summary, marks);
    }
    out += "<ul class=\"plain\">";
    for (const auto* f : inc.findings) {
      out += fmt::format("<li><span class=\"badge {0}\">{0}</span> <b>{1}</b> {2}",
                         sev_name(f->severity), logs::name_of(f->detector), esc(f->summary));
      if (!f->evidence.empty())
        out += fmt::format("<div class=\"small\">evidence {}</div>", evidence(*f));
      out += "</li>";
    }
    out += "</ul>\n";
    out += fmt::format("<p><a href=\"#cmd-{}\">Follow-up commands</a></p>\n", i);
    out += "</article>\n";
  }
  out += "</section>\n";
}

void Page::finding(const Finding& f) {
  const std::string sev = sev_name(f.severity);
  out += fmt::format("<article class=\"finding {}\">\n<h3><span class=\"badge {}\">{}</span>", sev,
                     sev, sev);
  out += fmt::format("<span>{}</span><span class=\"key\">{}</span></h3>\n",
                     logs::name_of(f.detector), esc(f.key));
  if (!f.summary.empty()) out += fmt::format("<p>{}</p>\n", esc(f.summary));
  out += "<dl class=\"fmeta\">";
  out +=
      fmt::format("<dt>seen</dt><dd>{} to {}</dd>", iso_time(f.first_seen), iso_time(f.last_seen));
  if (!f.account.empty())
    out += fmt::format("<dt>account</dt><dd class=\"mono\">{}</dd>", esc(f.account));
  if (!f.counts.empty()) {
    std::vector<std::string> parts;
    for (const auto& [name, n] : f.counts)
      parts.push_back(fmt::format("{} {}", esc(name), grouped(n)));
    out += fmt::format("<dt>counts</dt><dd>{}</dd>", join(parts));
  }
  const auto ip_total = std::max<std::uint64_t>(f.source_ip_count, f.source_ips.size());
  if (ip_total > 0) {
    out += fmt::format("<dt>source IPs ({})</dt><dd>{}</dd>", grouped(ip_total),
                       chips(f.source_ips, ip_total));
  }
  if (!f.countries.empty())
    out += fmt::format("<dt>countries</dt><dd>{}</dd>", chips(f.countries, 0));
  const auto acct_total = std::max<std::uint64_t>(f.account_count, f.accounts.size());
  if (acct_total > 0) {
    out += fmt::format("<dt>accounts ({})</dt><dd>{}</dd>", grouped(acct_total),
                       chips(f.accounts, acct_total));
  }
  if (!f.evidence.empty()) out += fmt::format("<dt>evidence</dt><dd>{}</dd>", evidence(f));
  out += "</dl>\n</article>\n";
}

void Page::findings() {
  out += fmt::format("<section class=\"card\" id=\"findings\">\n<h2>Findings ({})</h2>\n",
                     r.findings.size());
  if (r.findings.empty()) out += "<p class=\"muted\">No finding.</p>\n";
  // By severity, in report order within one.
  for (const auto s : kSeverities) {
    for (const auto& f : r.findings) {
      if (f.severity == s) finding(f);
    }
  }
  out += "</section>\n";
}

// One block per compromised account; the <pre>'s text is exactly the commands (what Copy copies).
void Page::commands() {
  if (all.empty()) return;
  out += "<section class=\"card\" id=\"commands\">\n<h2>Follow-up commands</h2>\n";
  out += fmt::format(
      "<p class=\"muted\">{}. Printed, never run: read each line before running it; lines "
      "starting with # explain.</p>\n",
      r.saw_zimbra ? "Zimbra (zmprov as the zimbra user, postsuper as root)"
                   : "Postfix + Dovecot (as root)");
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& inc = all[i];
    out += fmt::format(
        "<div class=\"fix\" id=\"cmd-{0}\">\n<div class=\"fixbar\"><span class=\"lbl\">{1}</span>"
        "<span class=\"copy-msg\" role=\"status\" aria-live=\"polite\"></span><button "
        "type=\"button\" class=\"copy\" data-copy=\"pre-{0}\" aria-label=\"Copy the commands for "
        "{1}\" hidden>Copy</button></div>\n<pre class=\"cmd\" id=\"pre-{0}\"><code>",
        i, esc(inc.account));
    const auto lines = follow_up_commands(r, inc.account);
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const bool comment = !lines[k].empty() && lines[k][0] == '#';
      out += fmt::format("<span class=\"ln{}\">{}{}</span>", comment ? " cm" : "", esc(lines[k]),
                         k + 1 < lines.size() ? "\n" : "");
    }
    out += "</code></pre>\n</div>\n";
  }
  out += "</section>\n";
}

void Page::top_accounts() {
  constexpr std::size_t kTop = 20;
  std::vector<const AccountSummary*> by_messages, by_failures;
  for (const auto& a : r.accounts) {
    if (a.messages > 0) by_messages.push_back(&a);
    if (a.failures > 0) by_failures.push_back(&a);
  }
  std::sort(by_messages.begin(), by_messages.end(), [](auto* a, auto* b) {
    return a->messages != b->messages ? a->messages > b->messages : a->account < b->account;
  });
  std::sort(by_failures.begin(), by_failures.end(), [](auto* a, auto* b) {
    return a->failures != b->failures ? a->failures > b->failures : a->account < b->account;
  });
  if (by_messages.size() > kTop) by_messages.resize(kTop);
  if (by_failures.size() > kTop) by_failures.resize(kTop);
  auto name = [](const AccountSummary* a) {
    return fmt::format(
        "<td class=\"acct\">{}{}</td>", esc(a->account),
        a->suspicious ? " <span class=\"susp\" title=\"named by a finding\">!</span>" : "");
  };

  out += "<section class=\"card\" id=\"accounts\">\n<h2>Top accounts</h2>\n";
  out += fmt::format("<h3>By messages sent ({} shown)</h3>\n", by_messages.size());
  if (by_messages.empty()) {
    out += "<p class=\"muted\">No message sent by an account.</p>\n";
  } else {
    out +=
        "<div class=\"tw\"><table class=\"stack\"><thead><tr><th>account</th><th "
        "class=\"num\">messages</th><th class=\"num\">recipients</th><th class=\"num\">external "
        "domains</th><th class=\"num\">bounced</th><th class=\"num\">deferred</th><th "
        "class=\"num\">peak / hour</th></tr></thead><tbody>\n";
    for (const auto* a : by_messages) {
      out += fmt::format(
          "<tr>{}<td class=\"num\" data-h=\"messages\">{}</td><td class=\"num\" "
          "data-h=\"recipients\">{}</td><td class=\"num\" data-h=\"external domains\">{}</td><td "
          "class=\"num\" data-h=\"bounced\">{}</td><td class=\"num\" "
          "data-h=\"deferred\">{}</td><td "
          "class=\"num\" data-h=\"peak / hour\">{}</td></tr>\n",
          name(a), grouped(a->messages), grouped(a->recipients), grouped(a->external_domains),
          grouped(a->bounced), grouped(a->deferred), grouped(a->peak_per_hour));
    }
    out += "</tbody></table></div>\n";
  }
  out += fmt::format("<h3>By failed logins ({} shown)</h3>\n", by_failures.size());
  if (by_failures.empty()) {
    out += "<p class=\"muted\">No failed login.</p>\n";
  } else {
    out +=
        "<div class=\"tw\"><table class=\"stack\"><thead><tr><th>account</th><th "
        "class=\"num\">failed logins</th><th class=\"num\">logins</th><th "
        "class=\"num\">addresses</th><th>countries</th></tr></thead><tbody>\n";
    for (const auto* a : by_failures) {
      out += fmt::format(
          "<tr>{}<td class=\"num\" data-h=\"failed logins\">{}</td><td class=\"num\" "
          "data-h=\"logins\">{}</td><td class=\"num\" data-h=\"addresses\">{}</td><td "
          "data-h=\"countries\">{}</td></tr>\n",
          name(a), grouped(a->failures), grouped(a->logins),
          grouped(std::max<std::uint64_t>(a->client_ip_count, a->client_ips.size())),
          a->countries.empty() ? std::string("-") : esc(join(a->countries)));
    }
    out += "</tbody></table></div>\n";
  }
  out += "</section>\n";
}

void Page::inputs() {
  out += "<section class=\"card\" id=\"inputs\">\n<h2>Inputs</h2>\n";
  out +=
      "<p class=\"muted\">Every line is counted: a line that gave no fact is counted under "
      "the reason it could not be read.</p>\n";
  out +=
      "<div class=\"tw\"><table class=\"stack\"><thead><tr><th>input</th><th>compression</th>"
      "<th class=\"num\">bytes</th><th class=\"num\">lines</th>";
  for (std::size_t k = 0; k < logs::kLineKinds; ++k) {
    out += fmt::format("<th class=\"num\">{}</th>",
                       esc(logs::name_of(static_cast<logs::LineKind>(k))));
  }
  out += "<th class=\"num\">invalid UTF-8</th></tr></thead><tbody>\n";
  auto row = [&](std::string_view name, std::string_view compression, std::string bytes,
                 const logs::UnparsedCounts& c) {
    std::string cells = fmt::format(
        "<td class=\"acct\">{}</td><td data-h=\"compression\">{}</td><td class=\"num\" "
        "data-h=\"bytes\">{}</td><td class=\"num\" data-h=\"lines\">{}</td>",
        esc(name), esc(compression), bytes, grouped(c.lines));
    for (std::size_t k = 0; k < logs::kLineKinds; ++k) {
      const auto kind = esc(logs::name_of(static_cast<logs::LineKind>(k)));
      cells += fmt::format("<td class=\"num\" data-h=\"{}\">{}</td>", kind, grouped(c.by_kind[k]));
    }
    cells +=
        fmt::format("<td class=\"num\" data-h=\"invalid UTF-8\">{}</td>", grouped(c.invalid_utf8));
    return "<tr>" + cells + "</tr>\n";
  };
  for (const auto& in : r.inputs) out += row(in.name, in.compression, grouped(in.bytes), in.counts);
  out += "</tbody>";
  if (r.inputs.size() != 1) {
    std::uint64_t bytes = 0;
    for (const auto& in : r.inputs) bytes += in.bytes;
    out += "<tfoot>" + row("all inputs", "", grouped(bytes), r.totals) + "</tfoot>";
  }
  out += "</table></div>\n</section>\n";
}

}  // namespace

std::string render_logs_html(const LogReport& report, std::string_view tool_version) {
  Page page(report);
  page.head(tool_version);
  page.header();
  page.out += "<main>\n";
  page.incident_cards();
  page.findings();
  page.commands();
  page.top_accounts();
  page.inputs();
  page.out += "</main>\n";
  page.out += fmt::format(
      "<footer>mailwarden {} &middot; times in UTC &middot; a self-contained page: it loads "
      "nothing from the network.</footer>\n",
      esc(tool_version));
  page.out += fmt::format("</div>\n<script>{}</script>\n</body>\n</html>\n", kCopyScript);
  return std::move(page.out);
}

}  // namespace mw::report
