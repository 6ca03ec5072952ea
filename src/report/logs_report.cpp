// `mailwarden logs report` as text and JSON, and the follow-up commands of a compromised
// account. Log text is untrusted: on a terminal every control character and invalid byte is
// shown as \xNN (an escape sequence in an account name must not repaint the screen); in JSON
// invalid bytes become U+FFFD. Nothing here reads a clock, so the same report gives the same
// bytes.
#include "report/logs_report.hpp"

#include "report/html_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/join.hpp"
#include "core/subprocess.hpp"

namespace mw::report {

namespace {

using logs::AccountSummary;
using logs::Finding;
using logs::FindingSeverity;
using logs::LogReport;
using logs::Timestamp;

// The years ISO 8601 writes with four digits.
constexpr std::int64_t kMinSeconds = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// The length of the valid UTF-8 sequence at the start of `s` (ASCII included) and its code
// point; 0 when the bytes are not one.
std::size_t utf8_char(std::string_view s, char32_t& cp) {
  const auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  return utf8_sequence(s, cp);
}

bool control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// `s` for a terminal: printable UTF-8 as is, every other byte as \xNN.
std::string display(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const std::size_t len = utf8_char(s.substr(i), cp);
    if (len == 0 || control(cp)) {
      const std::size_t n = len == 0 ? 1 : len;
      for (std::size_t k = 0; k < n; ++k) {
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i + k]));
      }
      i += n;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

// Characters on screen of a display()ed string (code points; wide scripts are rare in logins).
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// `s` cut to `max` characters (display()ed text only: whole code points), padded to `max`.
std::string cell(std::string_view s, std::size_t max) {
  std::string out;
  std::size_t shown = 0;
  const bool cut = width(s) > max;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      if (cut && shown == max - 3) break;
      ++shown;
    }
    out += s[i];
  }
  if (cut) {
    out += "...";
    shown += 3;
  }
  out.append(max > shown ? max - shown : 0, ' ');
  return out;
}

std::string list_text(const std::vector<std::string>& items, std::uint64_t total) {
  std::vector<std::string> shown;
  shown.reserve(items.size());
  for (const auto& s : items) shown.push_back(display(s));
  std::string out = join(shown);
  if (total > items.size()) out += fmt::format(" (+{} more)", grouped(total - items.size()));
  return out;
}

// Howard Hinnant's civil_from_days: days since 1970-01-01 to year, month, day.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

std::string severity_tag(FindingSeverity s, bool color) {
  std::string name(logs::name_of(s));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  if (!color) return "[" + name + "]";
  const char* code = s == FindingSeverity::critical ? "\033[1;31m"
                     : s == FindingSeverity::high   ? "\033[31m"
                     : s == FindingSeverity::medium ? "\033[33m"
                                                    : "\033[36m";
  return fmt::format("{}[{}]\033[0m", code, name);
}

std::string heading(std::string_view title, bool color) {
  return color ? fmt::format("\033[1m{}\033[0m\n", title) : fmt::format("{}\n", title);
}

const AccountSummary* summary_of(const LogReport& r, std::string_view account) {
  // Accounts are sorted by name, but a report built by hand may not be: search them all.
  for (const auto& a : r.accounts) {
    if (a.account == account) return &a;
  }
  return nullptr;
}

std::string counts_text(const std::map<std::string, std::uint64_t>& counts) {
  std::vector<std::string> parts;
  for (const auto& [name, n] : counts)
    parts.push_back(fmt::format("{} {}", display(name), grouped(n)));
  return join(parts);
}

// The first few lines and the last: enough to start reading at 3 a.m.; JSON has them all.
std::string evidence_list(const LogReport& r, const std::vector<logs::Position>& evidence) {
  constexpr std::size_t kShown = 4;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    if (i == kShown && evidence.size() > kShown + 1) {
      parts.push_back(fmt::format("... ({} more) ...", evidence.size() - kShown - 1));
      i = evidence.size() - 1;
    }
    parts.push_back(display(evidence_text(r, evidence[i])));
  }
  return join(parts);
}

// An address as it may appear in a comment line: the characters of IPv4 / IPv6 text only.
bool address_text(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
           c == ':' || c == '/';
  });
}

std::string unparsed_text(const logs::UnparsedCounts& c) {
  std::vector<std::string> kinds;
  for (std::size_t k = 0; k < logs::kLineKinds; ++k) {
    const auto kind = static_cast<logs::LineKind>(k);
    if (kind == logs::LineKind::parsed || c.by_kind[k] == 0) continue;
    std::string part = fmt::format("{} {}", logs::name_of(kind), grouped(c.by_kind[k]));
    if (kind == logs::LineKind::message_unknown) {
      std::vector<std::string> progs;
      for (std::size_t p = 0; p < logs::kPrograms; ++p) {
        if (c.message_unknown_by_program[p] == 0) continue;
        progs.push_back(fmt::format("{} {}", logs::name_of(static_cast<logs::Program>(p)),
                                    grouped(c.message_unknown_by_program[p])));
      }
      if (!progs.empty()) part += " (" + join(progs) + ")";
    }
    kinds.push_back(std::move(part));
  }
  std::string out = fmt::format("{} lines, {} parsed", grouped(c.lines),
                                grouped(c.count(logs::LineKind::parsed)));
  out += kinds.empty() ? "; every line parsed" : "; not parsed: " + join(kinds);
  if (c.invalid_utf8) out += fmt::format("; {} with invalid UTF-8", grouped(c.invalid_utf8));
  if (c.time_backwards) {
    out += fmt::format("; {} earlier than the line before", grouped(c.time_backwards));
  }
  if (c.year_rollovers) out += fmt::format("; {} year rollovers", grouped(c.year_rollovers));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text sections.

void text_header(std::string& out, const LogReport& r, bool color) {
  out += heading("mailwarden logs report", color);
  if (r.has_time) {
    out += fmt::format("Period:   {} to {}\n", iso_time(r.first), iso_time(r.last));
  } else {
    out += "Period:   unknown (no line had a time)\n";
  }
  out += fmt::format("Read:     {} lines from {} input{} ({} not parsed, see Inputs)\n",
                     grouped(r.totals.lines), r.inputs.size(), r.inputs.size() == 1 ? "" : "s",
                     grouped(r.totals.unparsed()));
  out += fmt::format("Activity: {} messages, {} logins, {} failed logins, {} accounts\n",
                     grouped(r.messages), grouped(r.logins), grouped(r.failures),
                     grouped(r.accounts.size()));
  std::array<std::size_t, 4> by_sev{};
  for (const auto& f : r.findings) ++by_sev[static_cast<std::size_t>(f.severity) % 4];
  out += fmt::format("Findings: {} critical, {} high, {} medium, {} low\n", by_sev[0], by_sev[1],
                     by_sev[2], by_sev[3]);
  if (!r.geoip.empty()) out += fmt::format("GeoIP:    {}\n", display(r.geoip));
}

void text_incidents(std::string& out, const LogReport& r, const std::vector<Incident>& all,
                    bool color) {
  out += '\n';
  if (all.empty()) {
    out += heading("No compromised account found.", color);
    return;
  }
  out += heading(fmt::format("COMPROMISED ACCOUNTS ({})", all.size()), color);
  for (const auto& inc : all) {
    std::string sentence = display(incident_sentence(r, inc));
    if (color) sentence = "\033[1;31m" + sentence + "\033[0m";
    out += fmt::format("\n  {}\n", sentence);
    std::vector<logs::Position> evidence;
    for (const auto* f : inc.findings) {
      out += fmt::format("    {} {}: {}\n", severity_tag(f->severity, color),
                         logs::name_of(f->detector), display(f->summary));
      if (!f->evidence.empty()) {
        out += fmt::format("      evidence: {}\n", evidence_list(r, f->evidence));
      }
    }
  }
}

void text_findings(std::string& out, const LogReport& r, bool color) {
  std::vector<const Finding*> others;
  for (const auto& f : r.findings) {
    if (!logs::means_compromise(f.detector) || f.account.empty()) others.push_back(&f);
  }
  // The report lists findings by severity already; a stable sort keeps that order and fixes a
  // hand-built one.
  std::stable_sort(others.begin(), others.end(),
                   [](const Finding* a, const Finding* b) { return a->severity < b->severity; });
  out += '\n';
  out += heading(fmt::format("OTHER FINDINGS ({})", others.size()), color);
  if (others.empty()) out += "  none\n";
  for (const auto* f : others) {
    out += fmt::format("\n  {} {} {}\n", severity_tag(f->severity, color),
                       logs::name_of(f->detector), display(f->key));
    if (!f->summary.empty()) out += fmt::format("    {}\n", display(f->summary));
    out +=
        fmt::format("    seen:       {} to {}\n", iso_time(f->first_seen), iso_time(f->last_seen));
    if (!f->account.empty()) out += fmt::format("    account:    {}\n", display(f->account));
    if (!f->counts.empty()) out += fmt::format("    counts:     {}\n", counts_text(f->counts));
    if (f->source_ip_count > 0 || !f->source_ips.empty()) {
      out += fmt::format("    source IPs: {}\n",
                         list_text(f->source_ips, std::max<std::uint64_t>(f->source_ip_count,
                                                                          f->source_ips.size())));
    }
    if (!f->countries.empty())
      out += fmt::format("    countries:  {}\n", list_text(f->countries, 0));
    if (f->account_count > 0 || !f->accounts.empty()) {
      out += fmt::format(
          "    accounts:   {}\n",
          list_text(f->accounts, std::max<std::uint64_t>(f->account_count, f->accounts.size())));
    }
    if (!f->evidence.empty())
      out += fmt::format("    evidence:   {}\n", evidence_list(r, f->evidence));
  }
}

void text_commands(std::string& out, const LogReport& r, const std::vector<Incident>& all,
                   bool color) {
  if (all.empty()) return;
  out += '\n';
  out +=
      heading(fmt::format("FOLLOW-UP COMMANDS ({}; printed, not run: read each before running it)",
                          r.saw_zimbra ? "Zimbra" : "Postfix + Dovecot"),
              color);
  for (const auto& inc : all) {
    out += fmt::format("\n  # {}\n", display(inc.account));
    for (const auto& line : follow_up_commands(r, inc.account)) {
      out += fmt::format("  {}\n", line);
    }
  }
}

void text_top_accounts(std::string& out, const LogReport& r, std::size_t top, bool color) {
  std::vector<const AccountSummary*> by_messages, by_failures;
  for (const auto& a : r.accounts) {
    if (a.messages > 0) by_messages.push_back(&a);
    if (a.failures > 0) by_failures.push_back(&a);
  }
  // Ties by name, so that the order does not depend on the input's.
  std::sort(by_messages.begin(), by_messages.end(), [](auto* a, auto* b) {
    return a->messages != b->messages ? a->messages > b->messages : a->account < b->account;
  });
  std::sort(by_failures.begin(), by_failures.end(), [](auto* a, auto* b) {
    return a->failures != b->failures ? a->failures > b->failures : a->account < b->account;
  });
  if (by_messages.size() > top) by_messages.resize(top);
  if (by_failures.size() > top) by_failures.resize(top);

  constexpr std::size_t kName = 40;
  auto name_width = [&](const std::vector<const AccountSummary*>& rows) {
    std::size_t w = 7;
    for (const auto* a : rows) w = std::max(w, width(display(a->account)));
    return std::min(w, kName);
  };
  auto mark = [](const AccountSummary* a) { return a->suspicious ? "!" : " "; };

  out += '\n';
  out += heading(fmt::format("TOP ACCOUNTS BY MESSAGES ({} shown; ! = named by a finding)",
                             by_messages.size()),
                 color);
  if (by_messages.empty()) out += "  no message sent by an account\n";
  if (!by_messages.empty()) {
    const std::size_t w = name_width(by_messages);
    out += fmt::format("   {} {:>10} {:>10} {:>9} {:>8} {:>8} {:>7}\n", cell("account", w),
                       "messages", "recipients", "ext.dom", "bounced", "deferred", "peak/h");
    for (const auto* a : by_messages) {
      out += fmt::format(" {} {} {:>10} {:>10} {:>9} {:>8} {:>8} {:>7}\n", mark(a),
                         cell(display(a->account), w), grouped(a->messages), grouped(a->recipients),
                         grouped(a->external_domains), grouped(a->bounced), grouped(a->deferred),
                         grouped(a->peak_per_hour));
    }
  }
  out += '\n';
  out +=
      heading(fmt::format("TOP ACCOUNTS BY FAILED LOGINS ({} shown)", by_failures.size()), color);
  if (by_failures.empty()) out += "  no failed login\n";
  if (!by_failures.empty()) {
    const std::size_t w = name_width(by_failures);
    out += fmt::format("   {} {:>9} {:>9} {:>5}  {}\n", cell("account", w), "failures", "logins",
                       "IPs", "countries");
    for (const auto* a : by_failures) {
      out += fmt::format(" {} {} {:>9} {:>9} {:>5}  {}\n", mark(a), cell(display(a->account), w),
                         grouped(a->failures), grouped(a->logins), grouped(a->client_ip_count),
                         a->countries.empty() ? "-" : list_text(a->countries, 0));
    }
  }
}

void text_inputs(std::string& out, const LogReport& r, bool color) {
  out += '\n';
  out += heading("INPUTS", color);
  for (const auto& in : r.inputs) {
    out += fmt::format("  {} ({}, {} bytes): {}\n", display(in.name), display(in.compression),
                       grouped(in.bytes), unparsed_text(in.counts));
  }
  if (r.inputs.size() != 1) out += fmt::format("  all inputs: {}\n", unparsed_text(r.totals));
}

// ---------------------------------------------------------------------------------------------
// JSON.

using Json = nlohmann::ordered_json;

Json time_or_null(bool has, Timestamp t) {
  return has ? Json(iso_time(t)) : Json(nullptr);
}

Json counts_json(const logs::UnparsedCounts& c) {
  Json by_kind = Json::object();
  for (std::size_t k = 0; k < logs::kLineKinds; ++k) {
    by_kind[std::string(logs::name_of(static_cast<logs::LineKind>(k)))] = c.by_kind[k];
  }
  Json by_program = Json::object();
  for (std::size_t p = 0; p < logs::kPrograms; ++p) {
    if (c.message_unknown_by_program[p] == 0) continue;
    by_program[std::string(logs::name_of(static_cast<logs::Program>(p)))] =
        c.message_unknown_by_program[p];
  }
  return Json{{"lines", c.lines},
              {"parsed", c.count(logs::LineKind::parsed)},
              {"unparsed", c.unparsed()},
              {"by_kind", std::move(by_kind)},
              {"message_unknown_by_program", std::move(by_program)},
              {"invalid_utf8", c.invalid_utf8},
              {"time_backwards", c.time_backwards},
              {"year_rollovers", c.year_rollovers}};
}

Json strings(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const auto& s : v) out.push_back(s);
  return out;
}

Json protocols_json(const std::array<std::uint64_t, 10>& by) {
  Json out = Json::object();
  for (std::size_t p = 0; p < by.size(); ++p) {
    if (by[p] == 0) continue;
    out[std::string(logs::name_of(static_cast<logs::Protocol>(p)))] = by[p];
  }
  return out;
}

Json finding_json(const LogReport& r, const Finding& f) {
  Json j;
  j["detector"] = std::string(logs::name_of(f.detector));
  j["severity"] = std::string(logs::name_of(f.severity));
  j["key"] = f.key;
  if (!f.account.empty()) j["account"] = f.account;
  j["summary"] = f.summary;
  j["source_ips"] = strings(f.source_ips);
  j["source_ip_count"] = std::max<std::uint64_t>(f.source_ip_count, f.source_ips.size());
  j["countries"] = strings(f.countries);
  j["accounts"] = strings(f.accounts);
  j["account_count"] = std::max<std::uint64_t>(f.account_count, f.accounts.size());
  j["first_seen"] = iso_time(f.first_seen);
  j["last_seen"] = iso_time(f.last_seen);
  Json counts = Json::object();
  for (const auto& [name, n] : f.counts) counts[name] = n;
  j["counts"] = std::move(counts);
  Json evidence = Json::array();
  for (const auto& p : f.evidence) {
    Json e;
    e["input"] =
        p.input < r.inputs.size() ? r.inputs[p.input].name : fmt::format("input#{}", p.input);
    e["line"] = p.line;
    evidence.push_back(std::move(e));
  }
  j["evidence"] = std::move(evidence);
  if (logs::means_compromise(f.detector) && !f.account.empty()) {
    j["commands"] = strings(follow_up_commands(r, f.account));
  }
  return j;
}

Json account_json(const AccountSummary& a) {
  Json j;
  j["account"] = a.account;
  j["suspicious"] = a.suspicious;
  j["logins"] = a.logins;
  j["failures"] = a.failures;
  j["logins_by_protocol"] = protocols_json(a.logins_by_protocol);
  j["failures_by_protocol"] = protocols_json(a.failures_by_protocol);
  j["ips"] = strings(a.client_ips);
  j["ip_count"] = std::max<std::uint64_t>(a.client_ip_count, a.client_ips.size());
  j["countries"] = strings(a.countries);
  j["messages"] = a.messages;
  j["recipients"] = a.recipients;
  j["external_domains"] = a.external_domains;
  j["bounced"] = a.bounced;
  j["deferred"] = a.deferred;
  j["peak_per_hour"] = a.peak_per_hour;
  j["peak_hour"] = a.peak_per_hour > 0 ? Json(iso_hour(a.peak_hour)) : Json(nullptr);
  j["first_seen"] = iso_time(a.first_seen);
  j["last_seen"] = iso_time(a.last_seen);
  Json timeline = Json::array();
  for (const auto& h : a.timeline) {
    timeline.push_back(Json{{"hour", iso_hour(h.hour)},
                            {"logins", h.logins},
                            {"failures", h.failures},
                            {"messages", h.messages},
                            {"recipients", h.recipients}});
  }
  j["timeline"] = std::move(timeline);
  return j;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared pieces.

std::string iso_time(Timestamp t) {
  if (t.seconds < kMinSeconds || t.seconds > kMaxSeconds) {
    return fmt::format("invalid-time({})", t.seconds);
  }
  const std::int64_t days = (t.seconds >= 0 ? t.seconds : t.seconds - 86399) / 86400;
  const std::int64_t rest = t.seconds - days * 86400;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, rest / 3600, rest / 60 % 60,
                     rest % 60);
}

std::string iso_hour(std::int64_t hour) {
  if (hour < kMinSeconds / 3600 || hour > kMaxSeconds / 3600) {
    return fmt::format("invalid-hour({})", hour);
  }
  return iso_time(Timestamp{hour * 3600, 0});
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const std::size_t len = utf8_char(s.substr(i), cp);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool printable_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const std::size_t len = utf8_char(s.substr(i), cp);
    if (len == 0 || control(cp)) return false;
    i += len;
  }
  return true;
}

std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string evidence_text(const LogReport& r, const logs::Position& p) {
  if (p.input < r.inputs.size()) return fmt::format("{}:{}", r.inputs[p.input].name, p.line);
  return fmt::format("input#{}:{}", p.input, p.line);
}

std::vector<Incident> incidents(const LogReport& r) {
  std::map<std::string, Incident, std::less<>> by_account;
  for (const auto& f : r.findings) {
    if (!logs::means_compromise(f.detector) || f.account.empty()) continue;
    auto [it, fresh] = by_account.try_emplace(f.account);
    Incident& inc = it->second;
    if (fresh) {
      inc.account = f.account;
      inc.summary = summary_of(r, f.account);
      inc.first_seen = f.first_seen;
    }
    inc.first_seen = std::min(inc.first_seen, f.first_seen);
    inc.findings.push_back(&f);
  }
  std::vector<Incident> out;
  out.reserve(by_account.size());
  for (auto& [name, inc] : by_account) out.push_back(std::move(inc));
  std::stable_sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
    return a.first_seen < b.first_seen;
  });
  return out;
}

std::vector<std::string> incident_ips(const Incident& inc) {
  std::set<std::string> ips;
  for (const auto* f : inc.findings) ips.insert(f->source_ips.begin(), f->source_ips.end());
  return {ips.begin(), ips.end()};
}

std::string incident_sentence(const LogReport& r, const Incident& inc) {
  std::string out =
      fmt::format("account {} compromised at {}", inc.account, iso_time(inc.first_seen));
  const auto ips = incident_ips(inc);
  std::uint64_t ip_total = ips.size();
  std::set<std::string> countries;
  std::uint64_t failures = 0;
  bool has_failures = false;
  std::vector<std::string> detectors;
  for (const auto* f : inc.findings) {
    ip_total = std::max(ip_total, f->source_ip_count);
    countries.insert(f->countries.begin(), f->countries.end());
    if (auto it = f->counts.find("failures"); it != f->counts.end()) {
      failures = std::max(failures, it->second);
      has_failures = true;
    }
    std::string name(logs::name_of(f->detector));
    if (std::find(detectors.begin(), detectors.end(), name) == detectors.end()) {
      detectors.push_back(std::move(name));
    }
  }
  constexpr std::size_t kShown = 5;
  if (!ips.empty()) {
    std::vector<std::string> shown(ips.begin(), ips.begin() + std::min(ips.size(), kShown));
    out += " from " + join(shown);
    if (ip_total > shown.size())
      out += fmt::format(" (+{} more)", grouped(ip_total - shown.size()));
    if (!countries.empty()) {
      out += " (" + join(std::vector<std::string>(countries.begin(), countries.end())) + ")";
    }
  }
  if (has_failures) {
    out += fmt::format(" after {} failure{}", grouped(failures), failures == 1 ? "" : "s");
  }
  if (const auto* a = inc.summary) {
    if (a->messages == 0) {
      out += "; no message sent";
    } else {
      out += fmt::format("; sent {} message{} to {} recipient{} ({} external domain{})",
                         grouped(a->messages), a->messages == 1 ? "" : "s", grouped(a->recipients),
                         a->recipients == 1 ? "" : "s", grouped(a->external_domains),
                         a->external_domains == 1 ? "" : "s");
      // When the account's mail was measured by a finding, its times; else the hours of the
      // timeline that hold mail (the summary has no first / last message time).
      bool measured = false;
      Timestamp from, to;
      for (const auto& f : r.findings) {
        if (f.account != inc.account || f.counts.count("messages") == 0) continue;
        from = measured ? std::min(from, f.first_seen) : f.first_seen;
        to = measured ? std::max(to, f.last_seen) : f.last_seen;
        measured = true;
      }
      if (measured) {
        out += fmt::format(" from {} to {}", iso_time(from), iso_time(to));
      } else {
        const auto first = std::find_if(a->timeline.begin(), a->timeline.end(),
                                        [](const auto& h) { return h.messages > 0; });
        const auto last = std::find_if(a->timeline.rbegin(), a->timeline.rend(),
                                       [](const auto& h) { return h.messages > 0; });
        if (first != a->timeline.end()) {
          out += fmt::format(" in the hours from {} to {}", iso_hour(first->hour),
                             iso_hour(last->hour + 1));
        }
      }
    }
  }
  out += "; found by " + join(detectors);
  return out;
}

// ---------------------------------------------------------------------------------------------

std::vector<std::string> follow_up_commands(const LogReport& r, const std::string& account) {
  if (account.empty()) return {"# no account name: nothing to lock"};
  if (!printable_utf8(account)) {
    return {
        "# the account name holds control characters or invalid UTF-8: no command is given, "
        "find the account by hand (the JSON report has its exact name)"};
  }
  if (account.front() == '-') {
    return {
        "# the account name starts with '-': a command would read it as an option, find the "
        "account by hand"};
  }
  const std::string q = command_line({account});
  std::vector<std::string> out;
  const std::string sbin = r.saw_zimbra ? "/opt/zimbra/common/sbin/" : "";
  // jq gets the account as a --arg value: no quoting of jq's own syntax can go wrong.
  const std::string hold = fmt::format(
      "{}postqueue -j | jq -r --arg sender {} 'select(.sender == $sender) | .queue_id' | "
      "{}postsuper -h -",
      sbin, q, sbin);
  if (r.saw_zimbra) {
    out = {
        "# lock the account (as the zimbra user): no login, no new session",
        fmt::format("zmprov ma {} zimbraAccountStatus locked", q),
        "# expire its sessions: set NEW_VALIDITY to the value this shows + 1 (0 when none)",
        fmt::format("zmprov ga {} zimbraAuthTokenValidityValue", q),
        fmt::format("zmprov ma {} zimbraAuthTokenValidityValue \"${{NEW_VALIDITY:?set it to the "
                    "current value + 1}}\"",
                    q),
        "# force a password change: set NEW_PASSWORD to a new random password first",
        fmt::format("zmprov sp {} \"${{NEW_PASSWORD:?set a new random password}}\"", q),
        fmt::format("zmprov ma {} zimbraPasswordMustChange TRUE", q),
        "# drop the cached account (run on every mailbox server)",
        fmt::format("zmprov flushCache account {}", q),
        "# hold its queued mail for review (as root, needs jq; release: postsuper -H, delete: "
        "postsuper -d)",
        hold,
    };
  } else {
    out = {
        "# disable the login in your user database (passwd-file, SQL or LDAP) first: Dovecot and "
        "Postfix SASL then refuse it",
        "# end its IMAP / POP3 sessions",
        fmt::format("doveadm kick {}", q),
        "# forget its cached credentials (when auth_cache_size is set)",
        fmt::format("doveadm auth cache flush {}", q),
        "# hold its queued mail for review (as root, needs jq; release: postsuper -H, delete: "
        "postsuper -d)",
        hold,
    };
  }
  // The attacker's addresses, from the findings that say the account is compromised.
  Incident inc;
  for (const auto& f : r.findings) {
    if (f.account == account && logs::means_compromise(f.detector)) inc.findings.push_back(&f);
  }
  std::vector<std::string> ips;
  std::size_t left_out = 0;
  for (auto& ip : incident_ips(inc)) {
    if (address_text(ip)) {
      ips.push_back(std::move(ip));
    } else {
      ++left_out;
    }
  }
  if (!ips.empty()) {
    out.push_back("# block the addresses the attacker used at your firewall: " + join(ips, " "));
  }
  if (left_out > 0) {
    out.push_back(
        fmt::format("# {} more address{} not shown here (not an IP address): see the "
                    "JSON report",
                    left_out, left_out == 1 ? "" : "es"));
  }
  return out;
}

std::string render_logs_text(const LogReport& r, const TextOptions& options) {
  const auto all = incidents(r);
  std::string out;
  text_header(out, r, options.color);
  text_incidents(out, r, all, options.color);
  text_findings(out, r, options.color);
  text_commands(out, r, all, options.color);
  text_top_accounts(out, r, options.top_accounts, options.color);
  text_inputs(out, r, options.color);
  return out;
}

std::string render_logs_json(const LogReport& r, std::string_view tool_version) {
  Json doc;
  doc["tool"] = Json{{"name", "mailwarden"}, {"version", std::string(tool_version)}};
  Json inputs = Json::array();
  for (const auto& in : r.inputs) {
    Json j{{"name", in.name}, {"compression", in.compression}, {"bytes", in.bytes}};
    j["counts"] = counts_json(in.counts);
    inputs.push_back(std::move(j));
  }
  doc["inputs"] = std::move(inputs);
  doc["period"] = Json{{"first", time_or_null(r.has_time, r.first)},
                       {"last", time_or_null(r.has_time, r.last)}};
  std::size_t compromised = incidents(r).size();
  doc["totals"] = Json{{"input_lines", counts_json(r.totals)},
                       {"messages", r.messages},
                       {"logins", r.logins},
                       {"failures", r.failures},
                       {"accounts", r.accounts.size()},
                       {"findings", r.findings.size()},
                       {"compromised_accounts", compromised}};
  Json findings = Json::array();
  for (const auto& f : r.findings) findings.push_back(finding_json(r, f));
  doc["findings"] = std::move(findings);
  Json accounts = Json::array();
  for (const auto& a : r.accounts) accounts.push_back(account_json(a));
  doc["accounts"] = std::move(accounts);
  doc["geoip"] = r.geoip.empty() ? Json(nullptr) : Json(r.geoip);
  doc["follow_up"] = r.saw_zimbra ? "zimbra" : "postfix_dovecot";
  // Log text is untrusted and may hold any byte: replace, never throw.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace mw::report
