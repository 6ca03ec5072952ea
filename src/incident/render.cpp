// The incident report for people (text) and for scripts (JSON).
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "incident/incident.hpp"

namespace mw::incident {

namespace {

std::string iso(const logs::Timestamp& t) {
  if (t.seconds == 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(t.seconds);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out.empty() ? "-" : out;
}

std::string join(const std::vector<std::string>& s, std::string_view sep = ", ") {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : std::string(sep)) + x;
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace

std::string render_text(const IncidentReport& r) {
  std::string out;
  auto line = [&](const std::string& s = "") { out += s + "\n"; };
  line(fmt::format("Incident report: {} ({}){}", r.account, name_of(r.flavour),
                   r.since.empty() ? "" : ", since " + r.since));
  if (r.state) {
    line(fmt::format("  status {}, password changed {}, token validity {}, last logon {}",
                     r.state->status.empty() ? "-" : r.state->status,
                     r.state->password_modified.empty() ? "-" : r.state->password_modified,
                     r.state->token_validity.empty() ? "-" : r.state->token_validity,
                     r.state->last_logon.empty() ? "-" : r.state->last_logon));
  }
  for (const auto& w : r.warnings) line("  note: " + w);

  line();
  line("1. The mailbox: what an attacker leaves behind");
  if (!r.snapshot_given && r.mailbox.empty()) {
    line(r.flavour == Flavour::zimbra
             ? "   not checked: give --snapshot DIR (an account snapshot, see --collect)"
             : "   not checked: give --sieve-dir DIR (the user's Dovecot sieve scripts)");
  } else if (r.mailbox.empty()) {
    line("   nothing found (forwarding, filters, sieve, app passwords, data sources, grants)");
  }
  for (const auto& f : r.mailbox) {
    line(fmt::format("   [{}] {}: {}", upper(f.severity), f.kind, f.summary));
    line(fmt::format("          evidence: {}", f.evidence));
    for (const auto& c : f.revoke) line(fmt::format("          revoke:   {}", c));
  }

  line();
  line("2. Logins (logs)");
  const auto& L = r.logins;
  if (!L.checked) {
    line("   not checked: give the log files (zimbra.log, audit.log, mail.log, ...)");
  } else {
    line(fmt::format("   {} success(es), {} failure(s) from {} address(es); first {}, last {}",
                     L.successes, L.failures, L.ips.size(), iso(L.first_seen), iso(L.last_seen)));
    for (const auto& e : L.errors) line("   input error: " + e);
    for (const auto& v : L.ips) {
      std::string tag = v.attacker ? "ATTACKER" : "        ";
      line(fmt::format("   {} {:<39} {:>2} ok {:>4} failed  {:<18} {} .. {}{}", tag, v.ip,
                       v.successes, v.failures, join(v.protocols), iso(v.first_seen),
                       iso(v.last_seen), v.country.empty() ? "" : "  " + v.country));
      if (!v.why.empty()) line(fmt::format("            why: {}", join(v.why, "; ")));
      if (!v.allow_listed.empty())
        line(fmt::format("            allow-listed ({}): never offered for a ban", v.allow_listed));
    }
    for (const auto& f : L.findings)
      line(fmt::format("   detector {} [{}]: {}", logs::name_of(f.detector),
                       logs::name_of(f.severity), f.summary));
    for (const auto& a : L.admin_actions)
      line(fmt::format("   admin action {} from {} at {} ({}){}", a.command,
                       a.ip.empty() ? "?" : a.ip, iso(a.time), a.where,
                       a.unusual ? ": UNUSUAL, " + a.why : ""));
    line(fmt::format("   attacker addresses to ban: {}",
                     L.attacker_ips.empty() ? "none" : join(L.attacker_ips)));
    if (!L.protected_attackers.empty())
      line(fmt::format("   attacker addresses in the allow-list (not banned): {}",
                       join(L.protected_attackers)));
  }

  line();
  line("3. The queue");
  const auto& Q = r.queue;
  if (!Q.checked) {
    line("   " + Q.note);
  } else {
    if (!Q.note.empty()) line("   warning: " + Q.note);
    std::string status;
    for (const auto& [k, v] : Q.by_status)
      status += fmt::format("{}{} {}", status.empty() ? "" : ", ", v, k);
    line(fmt::format("   {} message(s) of the account ({} bytes, {} recipient(s)) of {} queued{}",
                     Q.messages, Q.bytes, Q.recipients, Q.queue_messages,
                     status.empty() ? "" : ": " + status));
    line(fmt::format("   matched by login: {}, by envelope sender: {}", Q.by_login, Q.by_sender));
    std::string doms;
    for (const auto& [d, n] : Q.top_domains)
      doms += fmt::format("{}{} ({})", doms.empty() ? "" : ", ", d, n);
    if (!doms.empty()) line("   top recipient domains: " + doms);
  }

  line();
  line("4. The server's outbound addresses (DNSBL)");
  if (!r.dnsbl.checked) line("   " + r.dnsbl.note);
  for (const auto& ip : r.dnsbl.ips) {
    if (ip.listed.empty())
      line(fmt::format("   {}: not listed on {} list(s){}", ip.ip, ip.clean,
                       ip.unknown.empty() ? "" : "; unknown: " + join(ip.unknown)));
    for (const auto& l : ip.listed)
      line(fmt::format("   {}: LISTED on {} ({}); delist: {}", ip.ip, l.list, l.meaning,
                       l.delist_url));
    if (!ip.listed.empty() && !ip.unknown.empty())
      line(fmt::format("   {}: unknown: {}", ip.ip, join(ip.unknown)));
  }

  line();
  line("5. Policy settings still missing (audit)");
  if (!r.policy.checked)
    line("   " + r.policy.note);
  else if (r.policy.failed.empty())
    line(fmt::format("   none: {} control(s) pass, {} not checked", r.policy.passed,
                     r.policy.not_checked));
  for (const auto& g : r.policy.failed)
    line(fmt::format("   [{}] {}: {}", upper(g.severity), g.id, g.title));

  line();
  line("6. What to do (steps marked [--act] are run by --act, after confirmation)");
  int n = 0;
  for (const auto& s : r.steps) {
    line(fmt::format("   6.{} {}{}", ++n, s.title, s.act ? " [--act]" : ""));
    if (!s.note.empty()) line("       " + s.note);
    for (const auto& c : s.commands) line("       " + c.text);
  }
  if (r.acted) {
    line();
    line("7. Done by --act");
    for (const auto& e : r.acted->entries)
      line(fmt::format("   {} {}: {}", e.ok ? "ok    " : "FAILED", shell_line(e.argv), e.result));
  }
  return out;
}

std::string render_json(const IncidentReport& r, std::string_view version) {
  using J = nlohmann::ordered_json;
  J j;
  j["version"] = version;
  j["account"] = r.account;
  j["flavour"] = name_of(r.flavour);
  j["since"] = r.since;
  j["snapshot"] = r.snapshot_given ? J(r.snapshot_dir) : J();
  j["warnings"] = r.warnings;
  if (r.state)
    j["state"] = {{"status", r.state->status},
                  {"password_modified", r.state->password_modified},
                  {"token_validity", r.state->token_validity},
                  {"last_logon", r.state->last_logon}};
  J mb = J::array();
  for (const auto& f : r.mailbox)
    mb.push_back({{"kind", f.kind},
                  {"severity", f.severity},
                  {"summary", f.summary},
                  {"targets", f.targets},
                  {"external", f.external},
                  {"evidence", f.evidence},
                  {"revoke", f.revoke}});
  j["mailbox"] = mb;
  const auto& L = r.logins;
  J ips = J::array();
  for (const auto& v : L.ips)
    ips.push_back({{"ip", v.ip},
                   {"country", v.country},
                   {"successes", v.successes},
                   {"failures", v.failures},
                   {"protocols", v.protocols},
                   {"first_seen", iso(v.first_seen)},
                   {"last_seen", iso(v.last_seen)},
                   {"attacker", v.attacker},
                   {"why", v.why},
                   {"allow_listed", v.allow_listed}});
  J findings = J::array();
  for (const auto& f : L.findings)
    findings.push_back({{"detector", logs::name_of(f.detector)},
                        {"severity", logs::name_of(f.severity)},
                        {"key", f.key},
                        {"summary", f.summary},
                        {"source_ips", f.source_ips}});
  J admin = J::array();
  for (const auto& a : L.admin_actions)
    admin.push_back({{"command", a.command},
                     {"ip", a.ip},
                     {"time", iso(a.time)},
                     {"where", a.where},
                     {"unusual", a.unusual},
                     {"why", a.why}});
  j["logins"] = {{"checked", L.checked},
                 {"successes", L.successes},
                 {"failures", L.failures},
                 {"first_seen", iso(L.first_seen)},
                 {"last_seen", iso(L.last_seen)},
                 {"ips", ips},
                 {"findings", findings},
                 {"admin_actions", admin},
                 {"attacker_ips", L.attacker_ips},
                 {"protected_attackers", L.protected_attackers},
                 {"errors", L.errors}};
  J doms = J::array();
  for (const auto& [d, n] : r.queue.top_domains) doms.push_back({{"domain", d}, {"recipients", n}});
  j["queue"] = {{"checked", r.queue.checked},
                {"note", r.queue.note},
                {"queue_messages", r.queue.queue_messages},
                {"messages", r.queue.messages},
                {"bytes", r.queue.bytes},
                {"recipients", r.queue.recipients},
                {"by_login", r.queue.by_login},
                {"by_sender", r.queue.by_sender},
                {"by_status", r.queue.by_status},
                {"top_domains", doms},
                {"queue_ids", r.queue.queue_ids}};
  J out_ips = J::array();
  for (const auto& ip : r.dnsbl.ips) {
    J listed = J::array();
    for (const auto& l : ip.listed)
      listed.push_back({{"list", l.list}, {"meaning", l.meaning}, {"delist_url", l.delist_url}});
    out_ips.push_back(
        {{"ip", ip.ip}, {"listed", listed}, {"clean", ip.clean}, {"unknown", ip.unknown}});
  }
  j["dnsbl"] = {{"checked", r.dnsbl.checked}, {"note", r.dnsbl.note}, {"ips", out_ips}};
  J failed = J::array();
  for (const auto& g : r.policy.failed)
    failed.push_back({{"id", g.id},
                      {"title", g.title},
                      {"severity", g.severity},
                      {"detail", g.detail},
                      {"remediation", g.remediation}});
  j["policy"] = {{"checked", r.policy.checked},
                 {"note", r.policy.note},
                 {"failed", failed},
                 {"passed", r.policy.passed},
                 {"not_checked", r.policy.not_checked}};
  J steps = J::array();
  for (const auto& s : r.steps) {
    J cmds = J::array();
    for (const auto& c : s.commands)
      cmds.push_back({{"text", c.text}, {"argv", c.argv}, {"runnable", !c.argv.empty()}});
    steps.push_back(
        {{"id", s.id}, {"title", s.title}, {"note", s.note}, {"act", s.act}, {"commands", cmds}});
  }
  j["steps"] = steps;
  if (r.acted) {
    J done = J::array();
    for (const auto& e : r.acted->entries)
      done.push_back({{"step", e.step}, {"argv", e.argv}, {"ok", e.ok}, {"result", e.result}});
    j["acted"] = done;
  }
  j["exit_code"] = severity_exit(r);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace mw::incident
