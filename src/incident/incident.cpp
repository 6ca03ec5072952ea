// The incident engine: logins from the logs, the queue, the outbound blacklist check, the policy
// gaps, the plan of commands and --act.
#include "incident/incident.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "audit/attrs.hpp"
#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/snapshot.hpp"
#include "dnsbl/check.hpp"
#include "logs/detector_catalog.hpp"
#include "queue/postqueue_json.hpp"
#include "queue/selection.hpp"

namespace mw::incident {

std::string_view name_of(Flavour f) {
  return f == Flavour::zimbra ? "zimbra" : "postfix";
}

// ---- logins ---------------------------------------------------------------------------------

struct AccountLogs::Impl {
  std::string account, local_part;
  logs::Analyzer analyzer;
  std::uint32_t min_failures;
  const logs::GeoIp* geoip;
  queue::QueueIdChain chain;
  struct Ip {
    LoginIp v;
    bool succeeded = false;
  };
  std::unordered_map<std::string, Ip> ips;
  std::vector<AdminAction> admin;
  std::vector<logs::Position> admin_pos;
  LoginReport report;

  Impl(std::string a, const logs::DetectorCatalog& c, logs::AnalyzerOptions o)
      : account(lower_ascii(a)),
        analyzer(c, o),
        min_failures(c.compromised_login.min_failures),
        geoip(o.geoip) {
    local_part = account.substr(0, account.find('@'));
  }

  bool mine(std::string_view who) const {
    const auto w = lower_ascii(who);
    if (w == account) return true;
    // Zimbra's "authentication failed for [bob]" and Dovecot's bare user names.
    return w.find('@') == std::string::npos && !w.empty() && w == local_part;
  }
};

AccountLogs::AccountLogs(std::string account, const logs::DetectorCatalog& catalog,
                         logs::AnalyzerOptions options)
    : impl_(std::make_unique<Impl>(std::move(account), catalog, std::move(options))) {}
AccountLogs::~AccountLogs() = default;

bool AccountLogs::wants(const logs::Event& e) {
  return logs::Analyzer::wants(e) || e.facts.kind == logs::EventKind::admin_command ||
         e.facts.kind == logs::EventKind::auth;
}

const queue::QueueIdChain& AccountLogs::chain() const {
  return impl_->chain;
}

void AccountLogs::add(const logs::Event& e, logs::Position where) {
  auto& m = *impl_;
  if (logs::Analyzer::wants(e)) m.analyzer.add(e, where);
  m.chain.add(e);
  const auto& f = e.facts;
  // An admin's command on this account: audit.log names the target in the message ("name=" or
  // "account="), the admin in the context, and the parser keeps only one of them.
  const bool admin_on_us =
      f.kind == logs::EventKind::admin_command &&
      (m.mine(f.account) ||
       lower_ascii(e.message).find("name=" + m.account + ";") != std::string::npos ||
       lower_ascii(e.message).find("account=" + m.account + ";") != std::string::npos);
  if (!admin_on_us && !m.mine(f.account)) return;
  if (f.kind == logs::EventKind::admin_command) {
    AdminAction a;
    a.command = std::string(f.reason);
    a.ip = std::string(f.client_ip);
    a.time = e.time;
    m.admin.push_back(std::move(a));
    m.admin_pos.push_back(where);
    return;
  }
  if (f.kind != logs::EventKind::auth || f.outcome == logs::Outcome::none) return;
  const std::string ip = f.client_ip.empty() ? "(no address)" : std::string(f.client_ip);
  auto& slot = m.ips[ip];
  auto& v = slot.v;
  if (v.ip.empty()) {
    v.ip = ip;
    v.first_seen = e.time;
  }
  v.last_seen = std::max(v.last_seen, e.time);
  if (f.protocol != logs::Protocol::unknown)
    v.protocols.insert(std::string(logs::name_of(f.protocol)));
  if (e.has_time) {
    if (!m.report.has_time || e.time < m.report.first_seen) m.report.first_seen = e.time;
    if (!m.report.has_time || e.time > m.report.last_seen) m.report.last_seen = e.time;
    m.report.has_time = true;
  }
  if (f.outcome == logs::Outcome::success) {
    ++v.successes;
    ++m.report.successes;
    slot.succeeded = true;
  } else {
    ++v.failures;
    ++m.report.failures;
    if (!slot.succeeded) ++v.failures_before_success;
  }
}

LoginReport AccountLogs::finish(std::vector<std::string> inputs, const ban::AllowList* allow,
                                const std::vector<Prefix>& admin_networks) {
  auto& m = *impl_;
  LoginReport r = std::move(m.report);
  r.checked = true;
  auto analysis = m.analyzer.finish({});
  for (auto& f : analysis.findings) {
    bool about = m.mine(f.account) || m.mine(f.key);
    for (const auto& a : f.accounts) about = about || m.mine(a);
    if (about) r.findings.push_back(std::move(f));
  }
  // Addresses named by a detector finding about this account.
  std::map<std::string, std::vector<std::string>> flagged;
  for (const auto& f : r.findings)
    for (const auto& ip : f.source_ips)
      flagged[ip].push_back(fmt::format("{} finding", logs::name_of(f.detector)));
  for (auto& [ip, slot] : m.ips) {
    auto& v = slot.v;
    if (!slot.succeeded) v.failures_before_success = 0;
    if (slot.succeeded && v.failures_before_success >= m.min_failures) {
      v.attacker = true;
      v.why.push_back(fmt::format("{} failure(s), then a success", v.failures_before_success));
    }
    if (auto it = flagged.find(ip); it != flagged.end()) {
      v.attacker = true;
      for (const auto& w : it->second) v.why.push_back(w);
    }
    if (m.geoip != nullptr)
      if (auto loc = m.geoip->lookup(ip)) v.country = loc->country;
    if (auto a = parse_address(ip); a && allow != nullptr) {
      if (const auto* e = allow->overlapping(Prefix{*a, a->family == Family::v4 ? 32 : 128}))
        v.allow_listed = e->why.empty() ? to_string(e->prefix) : e->why;
    }
    r.ips.push_back(v);
  }
  // Detector-named addresses that never logged in to this account (spray sources).
  for (const auto& [ip, why] : flagged) {
    if (m.ips.count(ip)) continue;
    LoginIp v;
    v.ip = ip;
    v.attacker = true;
    v.why = why;
    if (auto a = parse_address(ip); a && allow != nullptr)
      if (const auto* e = allow->overlapping(Prefix{*a, a->family == Family::v4 ? 32 : 128}))
        v.allow_listed = e->why.empty() ? to_string(e->prefix) : e->why;
    r.ips.push_back(std::move(v));
  }
  std::sort(r.ips.begin(), r.ips.end(), [](const LoginIp& a, const LoginIp& b) {
    if (a.attacker != b.attacker) return a.attacker;
    return a.first_seen < b.first_seen || (a.first_seen == b.first_seen && a.ip < b.ip);
  });
  for (const auto& v : r.ips) {
    if (!v.attacker || v.ip == "(no address)") continue;
    (v.allow_listed.empty() ? r.attacker_ips : r.protected_attackers).push_back(v.ip);
  }
  for (std::size_t i = 0; i < m.admin.size(); ++i) {
    auto a = m.admin[i];
    const auto p = m.admin_pos[i];
    a.where = fmt::format("{}:{}", p.input < inputs.size() ? inputs[p.input] : "?", p.line);
    const bool from_attacker =
        std::find(r.attacker_ips.begin(), r.attacker_ips.end(), a.ip) != r.attacker_ips.end() ||
        std::find(r.protected_attackers.begin(), r.protected_attackers.end(), a.ip) !=
            r.protected_attackers.end();
    bool in_admin_net = false;
    if (auto addr = parse_address(a.ip))
      for (const auto& n : admin_networks)
        if (n.addr.family == addr->family && addr->value >= n.first() && addr->value <= n.last())
          in_admin_net = true;
    if (from_attacker) {
      a.unusual = true;
      a.why = "from an attacker address";
    } else if (!admin_networks.empty() && !in_admin_net) {
      a.unusual = true;
      a.why = "from outside the admin networks";
    }
    r.admin_actions.push_back(std::move(a));
  }
  r.inputs = std::move(inputs);
  return r;
}

// ---- queue ----------------------------------------------------------------------------------

QueueReport account_queue(const std::string& account, queue::QueueTools& tools,
                          const queue::QueueIdChain* chain, bool use_postcat, std::int64_t now) {
  QueueReport r;
  auto text = tools.list_queue();
  if (!text) {
    r.note = "not checked: " + text.error().message;
    return r;
  }
  const auto listing = queue::parse_postqueue_json(*text);
  r.checked = true;
  r.queue_messages = listing.messages.size();
  if (listing.bad_line_count > 0)
    r.note = fmt::format(
        "{} unreadable line(s) of postqueue -j (first: {}): those messages are "
        "not counted",
        listing.bad_line_count, listing.first_error());
  queue::Selector by_login;
  by_login.sasl_users = {account};
  queue::Selector by_sender;
  by_sender.senders = {account};
  const auto a = queue::select(listing, by_login, now, tools, chain, use_postcat, 4);
  const auto b = queue::select(listing, by_sender, now, tools, nullptr, false, 1);
  r.by_login = a.indices.size();
  r.by_sender = b.indices.size();
  std::vector<std::size_t> all = a.indices;
  all.insert(all.end(), b.indices.begin(), b.indices.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::map<std::string, std::uint64_t> domains;
  for (auto i : all) {
    const auto& msg = listing.messages[i];
    ++r.messages;
    r.bytes += msg.size;
    r.recipients += msg.recipients.size();
    ++r.by_status[msg.queue_name];
    for (const auto& rc : msg.recipients) ++domains[queue::lower(queue::domain_of(rc.address))];
    if (r.queue_ids.size() < 10) r.queue_ids.push_back(msg.queue_id);
  }
  r.top_domains.assign(domains.begin(), domains.end());
  std::stable_sort(r.top_domains.begin(), r.top_domains.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  if (r.top_domains.size() > 10) r.top_domains.resize(10);
  return r;
}

// ---- DNSBL ----------------------------------------------------------------------------------

DnsblReport check_outbound(const std::vector<Address>& ips, const dnsbl::DnsblCatalog& catalog,
                           dnsbl::Resolver& resolver) {
  DnsblReport r;
  if (ips.empty()) {
    r.note = "not checked: give --outbound-ip (the server's sending addresses)";
    return r;
  }
  dnsbl::CheckRequest req;
  req.ips = ips;
  for (const auto& l : catalog.lists)
    if (l.enabled_by_default) req.lists.push_back(&l);
  const auto rep = dnsbl::run_check(req, resolver);
  r.checked = true;
  for (const auto& a : rep.addresses) {
    OutboundIp o;
    o.ip = to_string(a.ip);
    for (const auto& res : a.results) {
      if (res.counts_listed()) {
        std::string meaning;
        for (const auto& c : res.decoded.codes)
          meaning += (meaning.empty() ? "" : "; ") + c.meaning;
        o.listed.push_back({res.list->id, meaning, res.list->delist_url});
      } else if (res.counts_clean()) {
        ++o.clean;
      } else if (res.counts_unknown()) {
        o.unknown.push_back(fmt::format(
            "{} ({})", res.list->id,
            res.reliable ? std::string(name_of(res.decoded.verdict)) : "failed its health check"));
      }
    }
    r.ips.push_back(std::move(o));
  }
  return r;
}

// ---- policy ---------------------------------------------------------------------------------

PolicyReport policy_gaps(const std::filesystem::path& snapshot_dir,
                         const std::filesystem::path& catalog_dir) {
  PolicyReport r;
  auto attrs = audit::load_attrs_tsv((catalog_dir / "zimbra" / "attrs.tsv").string());
  if (!attrs) {
    r.note = "not checked: " + attrs.error().message;
    return r;
  }
  auto keys =
      audit::load_localconfig_keys_tsv((catalog_dir / "zimbra" / "localconfig-keys.tsv").string());
  if (!keys) {
    r.note = "not checked: " + keys.error().message;
    return r;
  }
  auto controls = audit::load_controls(catalog_dir / "controls");
  if (!controls) {
    r.note = "not checked: " + controls.error().message;
    return r;
  }
  std::vector<std::string> warnings;
  auto facts = audit::load_snapshot(snapshot_dir, *attrs, *keys, warnings);
  if (!facts) {
    r.note = "not checked: " + facts.error().message;
    return r;
  }
  if (!facts->global && facts->coses.empty()) {
    r.note =
        "not checked: the snapshot holds neither the global config (zmprov-gacf.txt) nor a "
        "COS (zmprov-gac-v.txt)";
    return r;
  }
  std::erase_if(*controls, [](const audit::Control& c) {
    if (c.scope != audit::Scope::zimbra) return true;
    for (auto p : kPolicyControlPrefixes)
      if (c.id.starts_with(p)) return false;
    return true;
  });
  r.checked = true;
  const auto results = audit::evaluate_all(*controls, *facts, audit::builtin_checks());
  for (const auto& res : results) {
    if (res.status == audit::Status::pass) ++r.passed;
    if (res.status == audit::Status::not_checked) ++r.not_checked;
    if (res.status != audit::Status::fail) continue;
    r.failed.push_back({res.control->id, res.control->title,
                        std::string(audit::severity_name(res.control->severity)), res.detail,
                        res.remediation});
  }
  return r;
}

// ---- the plan -------------------------------------------------------------------------------

namespace {

Command cmd(std::vector<std::string> argv) {
  Command c;
  c.text = shell_line(argv);
  c.argv = std::move(argv);
  return c;
}
Command say(std::string text) {
  Command c;
  c.text = std::move(text);
  return c;
}

void common_tail(const PlanInput& in, std::vector<Step>& steps) {
  const auto& a = in.account;
  Step hold{
      "hold_queue", "Hold the account's queued mail (review, then delete from hold)", "", {}, true};
  hold.note =
      "Holds what the account submitted and what it sends as envelope sender; nothing is "
      "deleted. Review with `mailwarden queue summary`, then `mailwarden queue delete "
      "--sasl-user ACCOUNT --yes` deletes only held messages.";
  hold.commands = {cmd({"mailwarden", "queue", "hold", "--sasl-user", a, "--yes"}),
                   cmd({"mailwarden", "queue", "hold", "--sender", a, "--yes"})};
  steps.push_back(std::move(hold));

  if (in.mailbox != nullptr && !in.mailbox->empty()) {
    Step revoke{"revoke", "Undo what the attacker left in the mailbox", "", {}, false};
    revoke.note = "One command (or two) per finding above; review each before running it.";
    for (const auto& f : *in.mailbox)
      for (const auto& r : f.revoke) revoke.commands.push_back(say(r));
    steps.push_back(std::move(revoke));
  }

  if (in.logins != nullptr && in.logins->checked) {
    Step ban{"ban", "Ban the attacker addresses", "", {}, false};
    for (const auto& ip : in.logins->attacker_ips)
      ban.commands.push_back(
          cmd({"mailwarden", "ban", "add", ip, "--reason", "compromised", "--account", a}));
    for (const auto& v : in.logins->ips)
      if (v.attacker && !v.allow_listed.empty())
        ban.commands.push_back(say(
            fmt::format("# {}: not offered for a ban: allow-listed ({})", v.ip, v.allow_listed)));
    if (ban.commands.empty()) ban.note = "No attacker address in the logs given.";
    steps.push_back(std::move(ban));
  }

  if (in.policy != nullptr && in.policy->checked && !in.policy->failed.empty()) {
    Step pol{"policy", "Close the policy gaps that made this easier", "", {}, false};
    pol.note = "Failed audit controls (password policy, lockout, 2FA, sending limits):";
    for (const auto& g : in.policy->failed) {
      pol.commands.push_back(say(fmt::format("# {} [{}]: {}", g.id, g.severity, g.title)));
      std::string_view rem = g.remediation;
      while (!rem.empty()) {
        const auto nl = rem.find('\n');
        const auto line = rem.substr(0, nl);
        if (!line.empty()) pol.commands.push_back(say(std::string(line)));
        if (nl == std::string_view::npos) break;
        rem.remove_prefix(nl + 1);
      }
    }
    steps.push_back(std::move(pol));
  }
}

std::vector<std::string> attackers_of(const PlanInput& in) {
  return in.logins != nullptr ? in.logins->attacker_ips : std::vector<std::string>{};
}

}  // namespace

std::vector<Step> plan_steps(const PlanInput& in) {
  std::vector<Step> steps;
  const auto& a = in.account;
  if (in.flavour == Flavour::zimbra) {
    Step lock{"lock", "Lock the account", "", {}, true};
    lock.note = "New logins are refused; mail is still delivered to the mailbox.";
    lock.commands = {cmd({"zmprov", "ma", a, "zimbraAccountStatus", "locked"})};
    steps.push_back(std::move(lock));

    std::int64_t validity = in.now;
    std::string was = "unknown";
    if (in.snapshot != nullptr && in.snapshot->attrs)
      if (auto v = in.snapshot->attrs->first("zimbraAuthTokenValidityValue")) {
        was = std::string(*v);
        try {
          validity = std::stoll(was) + 1;
        } catch (...) {
          validity = in.now;
        }
      }
    validity = std::clamp<std::int64_t>(validity, 1, 2147483647);
    Step expire{"expire_sessions", "Expire every session (auth tokens)", "", {}, true};
    expire.note = fmt::format(
        "Every auth token carries zimbraAuthTokenValidityValue (now {}); a new value makes all "
        "web, SOAP and ActiveSync sessions fail at their next request "
        "(zimbraAuthTokenValidityValueEnabled must stay TRUE).",
        was);
    expire.commands = {
        cmd({"zmprov", "ma", a, "zimbraAuthTokenValidityValue", std::to_string(validity)})};
    steps.push_back(std::move(expire));

    Step flush{"flush_cache", "Flush the account from every mailbox server's cache", "", {}, true};
    flush.note =
        "Mailbox servers cache accounts for 15 minutes: without a flush the lock and the new "
        "token value take effect late.";
    const auto* servers = in.snapshot != nullptr ? &in.snapshot->mailbox_servers : nullptr;
    if (servers != nullptr && !servers->empty()) {
      for (const auto& s : *servers)
        flush.commands.push_back(cmd({"zmprov", "-s", s, "flushCache", "account", a}));
    } else {
      flush.note +=
          " The snapshot lists no mailbox server (zmprov gas mailbox): -a asks every "
          "server.";
      flush.commands.push_back(cmd({"zmprov", "flushCache", "-a", "account", a}));
    }
    steps.push_back(std::move(flush));

    Step sessions{"end_sessions", "End the sessions already open", "", {}, false};
    sessions.note =
        "A lock refuses new logins only: IMAP/POP3 connections already logged in and SMTP "
        "sessions already authenticated stay open. Turn the protocols off for the account, ban "
        "the attacker addresses (below), and close their connections with ss -K (needs a kernel "
        "with CONFIG_INET_DIAG_DESTROY). Restarting the proxy or mailboxd (zmproxyctl restart, "
        "zmmailboxdctl restart) ends every user's sessions: the last resort.";
    sessions.commands = {
        cmd({"zmprov", "ma", a, "zimbraImapEnabled", "FALSE", "zimbraPop3Enabled", "FALSE"})};
    for (const auto& ip : attackers_of(in))
      sessions.commands.push_back(cmd({"ss", "-K", "dst", ip}));
    steps.push_back(std::move(sessions));

    Step pw{"password", "Force a new password (not run by --act)", "", {}, false};
    pw.note =
        "Set a random password now and make the user choose a new one at the next login; "
        "then unlock (zimbraAccountStatus active) once the mailbox is clean.";
    pw.commands = {cmd({"zmprov", "ma", a, "zimbraPasswordMustChange", "TRUE"}),
                   say(fmt::format("zmprov sp {} \"$(openssl rand -base64 24)\"", shell_word(a)))};
    steps.push_back(std::move(pw));
  } else {
    Step lock{"lock", "Lock the account (site-specific)", "", {}, false};
    lock.note =
        "How a Dovecot/Postfix account is locked depends on the passdb. A deny passdb "
        "refuses listed users before any other passdb is asked.";
    lock.commands = {say("# dovecot.conf: passdb { driver = passwd-file  deny = yes  args = "
                         "/etc/dovecot/deny-users }"),
                     say(fmt::format("echo {} >> /etc/dovecot/deny-users", shell_word(a)))};
    steps.push_back(std::move(lock));

    Step flush{"flush_cache", "Flush Dovecot's auth cache for the user", "", {}, true};
    flush.note = "So that the lock applies at once rather than when the cache entry expires.";
    flush.commands = {cmd({"doveadm", "auth", "cache", "flush", a})};
    steps.push_back(std::move(flush));

    Step kick{"expire_sessions", "End the user's IMAP/POP3 sessions", "", {}, true};
    kick.note =
        "doveadm kick disconnects every session of the user; ss -K closes the attacker's "
        "other connections (SMTP).";
    kick.commands = {cmd({"doveadm", "kick", a})};
    steps.push_back(std::move(kick));
    Step ss{"end_sessions", "Close the attacker's other connections", "", {}, false};
    for (const auto& ip : attackers_of(in)) ss.commands.push_back(cmd({"ss", "-K", "dst", ip}));
    if (!ss.commands.empty()) steps.push_back(std::move(ss));

    Step smtp{"smtp", "Stop the account from sending", "", {}, false};
    smtp.note = "Postfix has no account status: refuse its SASL login at submission.";
    smtp.commands = {
        say(fmt::format("echo '{} REJECT compromised account' >> /etc/postfix/sasl_access && "
                        "postmap /etc/postfix/sasl_access",
                        a)),
        say("# main.cf: smtpd_recipient_restrictions = check_sasl_access "
            "hash:/etc/postfix/sasl_access, permit_sasl_authenticated, ..."),
        say("# and smtpd_sender_login_maps + reject_sender_login_mismatch, so that no other "
            "login sends as this address; mailwarden policyd limits what any login sends")};
    steps.push_back(std::move(smtp));

    Step pw{"password", "Set a new password (not run by --act)", "", {}, false};
    pw.note = "Store a new hash in the passdb; the user gets the password by another channel.";
    pw.commands = {say("doveadm pw -s SHA512-CRYPT")};
    steps.push_back(std::move(pw));
  }
  common_tail(in, steps);
  return steps;
}

// ---- --act ----------------------------------------------------------------------------------

bool ActResult::ok() const {
  return std::all_of(entries.begin(), entries.end(), [](const ActEntry& e) { return e.ok; });
}

namespace {

std::string iso(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string head(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  std::string out;
  for (char c : s.substr(0, 300)) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

Status append_line(int fd, const std::string& line, const std::filesystem::path& file) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const auto n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{fmt::format("{}: {}", file.string(), std::strerror(errno))};
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<ActResult> act(const std::vector<Step>& steps, Runner& runner,
                      const std::filesystem::path& log_file, const Clock& clock,
                      const std::string& account) {
  std::error_code ec;
  if (log_file.has_parent_path()) std::filesystem::create_directories(log_file.parent_path(), ec);
  const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error{fmt::format("{}: {}", log_file.string(), std::strerror(errno))};
  ActResult r;
  Status status;
  for (const auto& s : steps) {
    if (!s.act) continue;
    for (const auto& c : s.commands) {
      if (c.argv.empty()) continue;
      // Written before the command runs: a crash midway still leaves what was attempted.
      if (status)
        status = append_line(fd,
                             fmt::format("{} incident account={} step={} run: {}\n",
                                         iso(clock.now()), account, s.id, c.text),
                             log_file);
      ActEntry e;
      e.step = s.id;
      e.argv = c.argv;
      auto out = runner.run(c.argv);
      if (!out) {
        e.result = "not started: " + out.error().message;
      } else if (out->timed_out) {
        e.result = "timed out";
      } else {
        e.ok = out->exit_code == 0;
        e.result = fmt::format("exit {}", out->exit_code);
        if (!e.ok && !head(out->err).empty()) e.result += ": " + head(out->err);
      }
      if (status)
        status = append_line(fd,
                             fmt::format("{} incident account={} step={} result: {}\n",
                                         iso(clock.now()), account, s.id, e.result),
                             log_file);
      r.entries.push_back(std::move(e));
    }
  }
  ::close(fd);
  if (!status) return status.error();
  return r;
}

// ---- the report's facts ----------------------------------------------------------------------

AccountState account_state(const AccountSnapshot& s) {
  AccountState st;
  if (!s.attrs) return st;
  auto get = [&](const char* attr) { return std::string(s.attrs->first(attr).value_or("")); };
  st.status = get("zimbraAccountStatus");
  st.password_modified = get("zimbraPasswordModifiedTime");
  st.token_validity = get("zimbraAuthTokenValidityValue");
  st.last_logon = get("zimbraLastLogonTimestamp");
  return st;
}

int severity_exit(const IncidentReport& r) {
  int rc = 0;
  for (const auto& f : r.mailbox)
    rc = std::max(rc, f.severity == "high" || f.severity == "critical" ? 2 : 1);
  for (const auto& f : r.logins.findings) {
    if (logs::means_compromise(f.detector)) rc = 3;
    rc = std::max(rc, f.severity == logs::FindingSeverity::critical ? 3
                      : f.severity == logs::FindingSeverity::high   ? 2
                                                                    : 1);
  }
  for (const auto& v : r.logins.ips)
    if (v.attacker && v.successes > 0) rc = 3;
  if (r.queue.messages > 0) rc = std::max(rc, 1);
  for (const auto& ip : r.dnsbl.ips)
    if (!ip.listed.empty()) rc = std::max(rc, 2);
  return rc;
}

}  // namespace mw::incident
