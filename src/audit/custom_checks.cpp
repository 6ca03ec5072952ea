#include "audit/custom_checks.hpp"

#include "audit/check_util.hpp"
#include "audit/text_lines.hpp"

#include <fmt/format.h>

#include "core/ip.hpp"

namespace mw::audit {

namespace {

ControlResult result(const Control& c, Status s) {
  return make_result(c, s);
}

// COS lockout threshold: at most 5 failures, or 10 where fail2ban bans the guessing address
// (the incident guide accepts that).
ControlResult lockout_max_failures(const Control& c, const Facts& f) {
  if (f.coses.empty()) {
    return missing_facts(c, f, "cos", "no COS in the snapshot");
  }
  const bool fail2ban = f.packages && f.packages->installed("fail2ban");
  const std::int64_t limit = fail2ban ? 10 : 5;
  auto r = result(c, Status::pass);
  r.facts.push_back({"package fail2ban",
                     f.packages ? (fail2ban ? "installed" : "not installed") : "(unknown)",
                     f.file_of.count("packages") ? f.file_of.at("packages") : "not collected"});
  const AttrInfo* info = f.attrs ? f.attrs->find("zimbraPasswordLockoutMaxFailures") : nullptr;
  for (const auto& cos : f.coses) {
    std::string value;
    std::string origin;
    if (auto v = cos.entry.first("zimbraPasswordLockoutMaxFailures")) {
      value = std::string(*v);
      origin =
          fmt::format("{}:{}", cos.file, cos.entry.find("zimbraPasswordLockoutMaxFailures")->line);
    } else if (info && !info->default_cos_value.empty()) {
      value = info->default_cos_value.front();
      origin = "default (attrs.tsv)";
    }
    r.facts.push_back(
        {fmt::format("cos {}: zimbraPasswordLockoutMaxFailures", cos.entry.name), value, origin});
    auto n = parse_zimbra_integer(value);
    if (!n) {
      auto nc = result(c, Status::not_checked);
      nc.detail = fmt::format("cos {}: {}", cos.entry.name, n.error().message);
      return nc;
    }
    // 0 (or less) means no lockout at all: LdapLockoutPolicy locks only when it is > 0.
    if (*n <= 0 || *n > limit) {
      r.status = Status::fail;
      r.failing.push_back(cos.entry.name);
      r.detail +=
          fmt::format("{}cos {}: {} failures allowed, at most {} {}", r.detail.empty() ? "" : "; ",
                      cos.entry.name, *n <= 0 ? std::string("unlimited") : value, limit,
                      fail2ban ? "(fail2ban is installed)" : "without fail2ban");
      r.remediation += render_remediation(c, cos.entry.name);
    }
  }
  return r;
}

// zimbraMtaMyNetworks (as the server uses it, zmprov gs): loopback and single host addresses
// only, never a subnet.
ControlResult mynetworks_loopback_only(const Control& c, const Facts& f) {
  if (!f.server) {
    return missing_facts(c, f, "server", "zmprov gs not in the snapshot");
  }
  auto r = result(c, Status::pass);
  std::vector<std::string> entries;
  for (auto v : f.server->entry.values("zimbraMtaMyNetworks")) {
    for (auto item : split_list(v)) entries.emplace_back(item);
  }
  const ZmprovValue* origin = f.server->entry.find("zimbraMtaMyNetworks");
  std::string all;
  for (const auto& e : entries) all += (all.empty() ? "" : " ") + e;
  r.facts.push_back({fmt::format("server {}: zimbraMtaMyNetworks", f.server->entry.name),
                     all.empty() ? "absent" : all,
                     origin ? fmt::format("{}:{}", f.server->file, origin->line) : f.server->file});
  std::vector<std::string> wide;
  for (const auto& e : entries) {
    // Postfix writes IPv6 as [addr]/len.
    std::string text = e;
    if (!text.empty() && text.front() == '[') {
      auto close = text.find(']');
      if (close != std::string::npos) text = text.substr(1, close - 1) + text.substr(close + 1);
    }
    if (text.find('/') == std::string::npos) continue;  // a single address
    auto p = parse_prefix(text);
    if (!p) {
      wide.push_back(e + " (not an address)");
      continue;
    }
    bool loopback = (p->addr.family == Family::v4 && (p->addr.value >> 24) == 127 && p->len >= 8) ||
                    (p->addr.family == Family::v6 && p->addr.value == 1 && p->len == 128);
    bool host = p->len == family_bits(p->addr.family);
    if (!loopback && !host) wide.push_back(e);
  }
  if (!wide.empty()) {
    r.status = Status::fail;
    r.failing.push_back(f.server->entry.name);
    std::string list;
    for (const auto& w : wide) list += (list.empty() ? "" : ", ") + w;
    r.detail = fmt::format("mynetworks trusts whole networks: {}", list);
    r.remediation = render_remediation(c, f.server->entry.name);
  }
  return r;
}

// Anti-spoofing for authenticated senders; moot when the MTA offers no SMTP AUTH at all
// (zimbraMtaSaslAuthEnable no, as the server uses it).
ControlResult sender_login_mismatch(const Control& c, const Facts& f) {
  const ZObject* where = f.server ? &*f.server : f.global ? &*f.global : nullptr;
  if (!where) {
    return missing_facts(c, f, "global", "zmprov gacf not in the snapshot");
  }
  auto r = result(c, Status::pass);
  auto sasl = where->entry.first("zimbraMtaSaslAuthEnable");
  std::string sasl_value = sasl ? std::string(*sasl) : "yes";
  r.facts.push_back(
      {fmt::format("{}: zimbraMtaSaslAuthEnable", where == &*f.server ? "server" : "global"),
       sasl_value, sasl ? where->file : "default (attrs.tsv)"});
  if (sasl_value == "no") {
    r.status = Status::not_applicable;
    r.detail = "SMTP AUTH is off on the MTA (zimbraMtaSaslAuthEnable no): no authenticated senders";
    return r;
  }
  if (!f.global) {
    auto nc = result(c, Status::not_checked);
    nc.detail = "zmprov gacf not in the snapshot";
    return nc;
  }
  std::string all;
  bool found = false;
  for (auto v : f.global->entry.values("zimbraMtaSmtpdSenderRestrictions")) {
    all += (all.empty() ? "" : ", ") + std::string(v);
    found = found || v.find("reject_authenticated_sender_login_mismatch") != std::string_view::npos;
  }
  r.facts.push_back(
      {"global: zimbraMtaSmtpdSenderRestrictions", all.empty() ? "absent" : all, f.global->file});
  if (!found) {
    r.status = Status::fail;
    r.failing.push_back("global config");
    r.detail = "zimbraMtaSmtpdSenderRestrictions lacks reject_authenticated_sender_login_mismatch";
    r.remediation = render_remediation(c, "");
  }
  return r;
}

// Password logins over SSH from the configuration files: the value sshd uses outside Match
// blocks (the first one read: a cloud-init drop-in wins over the main file), and any Match
// block that turns passwords back on for some users or addresses.
ControlResult sshd_password_anywhere(const Control& c, const Facts& f) {
  if (!f.sshd_config && !f.sshd_matches) {
    return missing_facts(c, f, "sshd_config", "etc/ssh/sshd_config not in the snapshot");
  }
  auto r = result(c, Status::pass);
  // What sshd itself answers for a connection each Match block selects.
  if (f.sshd_matches) {
    for (const auto& m : *f.sshd_matches) {
      const SshdValue* v = m.effective.find("passwordauthentication");
      r.facts.push_back({fmt::format("sshd -T -C {}: passwordauthentication", m.spec),
                         v ? v->value : "(not printed)",
                         fmt::format("sshd-T-match.txt:{}", m.line)});
      if (v && v->value == "yes") {
        r.status = Status::fail;
        r.detail += fmt::format("{}sshd -T -C {} answers passwordauthentication yes",
                                r.detail.empty() ? "" : "; ", m.spec);
      }
    }
  }
  if (!f.sshd_config) {
    if (r.status == Status::fail) r.remediation = render_remediation(c, "");
    return r;
  }
  const auto& cfg = *f.sshd_config;
  for (std::string_view kw : {"passwordauthentication", "kbdinteractiveauthentication",
                              "challengeresponseauthentication"}) {
    if (const SshdDirective* d = cfg.global_first(kw)) {
      r.facts.push_back({std::string(d->written), d->args, d->origin.to_string()});
      // KbdInteractive is a password prompt only through PAM; PasswordAuthentication always.
      bool yes = d->args == "yes" || d->args == "Yes" || d->args == "YES";
      if (yes && kw == "passwordauthentication") {
        r.status = Status::fail;
        r.detail += fmt::format(
            "{}PasswordAuthentication yes at {} (the first value sshd reads "
            "wins)",
            r.detail.empty() ? "" : "; ", d->origin.to_string());
      }
    }
    for (const SshdDirective* d : cfg.in_matches(kw)) {
      const auto& m = cfg.matches[static_cast<std::size_t>(d->match)];
      r.facts.push_back(
          {fmt::format("{} in Match {}", d->written, m.criteria), d->args, d->origin.to_string()});
      bool yes = d->args == "yes" || d->args == "Yes" || d->args == "YES";
      if (yes && kw == "passwordauthentication") {
        r.status = Status::fail;
        r.detail += fmt::format("{}PasswordAuthentication yes for Match {} at {}",
                                r.detail.empty() ? "" : "; ", m.criteria, d->origin.to_string());
      }
    }
  }
  if (r.status == Status::fail) r.remediation = render_remediation(c, "");
  return r;
}

// The submission services of master.cf (postconf -M) with their -o overrides: 587 must require
// TLS (smtpd_tls_security_level encrypt, or an smtpd that refuses AUTH without TLS), 465 must
// be wrapped (smtpd_tls_wrappermode yes).
ControlResult submission_tls(const Control& c, const Facts& f) {
  if (!f.master) {
    return missing_facts(c, f, "master", "postconf -M not in the snapshot");
  }
  auto r = result(c, Status::pass);
  const std::string file = f.file_of.count("master") ? f.file_of.at("master") : "postconf-M.txt";
  auto main_value = [&](std::string_view name) -> std::string {
    if (!f.postconf) return "";
    const PostconfParam* p = f.postconf->find(name);
    return p ? p->value : "";
  };
  int seen = 0;
  for (const auto& svc : *f.master) {
    if (svc.type != "inet" || svc.command != "smtpd") continue;
    std::string_view name = svc.service;
    if (auto colon = name.rfind(':'); colon != std::string_view::npos)
      name = name.substr(colon + 1);
    bool submission = name == "submission" || name == "587";
    bool smtps = name == "smtps" || name == "465" || name == "submissions";
    if (!submission && !smtps) continue;
    ++seen;
    auto value_of = [&](std::string_view param) {
      if (auto o = svc.override_of(param)) return std::string(*o);
      return main_value(param);
    };
    if (submission) {
      auto level = value_of("smtpd_tls_security_level");
      auto auth_only_tls = value_of("smtpd_tls_auth_only");
      r.facts.push_back({fmt::format("{}: smtpd_tls_security_level", svc.service),
                         level.empty() ? "(default: none)" : level,
                         fmt::format("{}:{}", file, svc.line)});
      if (level != "encrypt" && auth_only_tls != "yes") {
        r.status = Status::fail;
        r.failing.push_back(svc.service);
        r.detail +=
            fmt::format("{}{} lets clients authenticate without TLS (security level {})",
                        r.detail.empty() ? "" : "; ", svc.service, level.empty() ? "none" : level);
      }
    } else {
      auto wrapper = value_of("smtpd_tls_wrappermode");
      r.facts.push_back({fmt::format("{}: smtpd_tls_wrappermode", svc.service),
                         wrapper.empty() ? "(default: no)" : wrapper,
                         fmt::format("{}:{}", file, svc.line)});
      if (wrapper != "yes") {
        r.status = Status::fail;
        r.failing.push_back(svc.service);
        r.detail +=
            fmt::format("{}{} is not wrapped in TLS", r.detail.empty() ? "" : "; ", svc.service);
      }
    }
  }
  if (seen == 0) r.detail = "no submission or smtps service in master.cf";
  if (r.status == Status::fail) r.remediation = render_remediation(c, "");
  return r;
}

ControlResult security_updates(const Control& c, const Facts& f) {
  if (!f.security_updates) {
    return missing_facts(c, f, "updates", "apt-upgradable.txt missing");
  }
  auto r = result(c, Status::pass);
  std::string list;
  for (const auto& p : *f.security_updates) list += (list.empty() ? "" : ", ") + p;
  r.facts.push_back({"packages with a pending security update", list.empty() ? "none" : list,
                     "apt-upgradable.txt"});
  if (!f.security_updates->empty()) {
    r.status = Status::fail;
    r.failing = *f.security_updates;
    r.detail = fmt::format("{} security update(s) pending: {}", f.security_updates->size(), list);
    r.remediation = render_remediation(c, "");
  }
  return r;
}

ControlResult reboot_pending(const Control& c, const Facts& f) {
  if (!f.reboot_required) {
    return missing_facts(c, f, "reboot", "unknown");
  }
  auto r = result(c, *f.reboot_required ? Status::fail : Status::pass);
  r.facts.push_back({"/var/run/reboot-required", *f.reboot_required ? "present" : "absent",
                     f.file_of.count("reboot") ? f.file_of.at("reboot") : "manifest.json"});
  if (*f.reboot_required) {
    r.detail =
        "a reboot is pending: the running kernel or libraries are older than the installed ones";
    r.remediation = render_remediation(c, "");
  }
  return r;
}

// fail2ban protects the mail logins: a jail for Zimbra's web/SOAP logins (audit.log) and one
// for SMTP AUTH (Postfix SASL). Jail names are the administrator's; the usual ones match.
ControlResult fail2ban_jails(const Control& c, const Facts& f) {
  if (!f.fail2ban_jails) {
    return missing_facts(c, f, "fail2ban", "fail2ban-status.txt missing");
  }
  auto r = result(c, Status::pass);
  std::string list;
  bool zimbra = false, sasl = false;
  for (const auto& j : *f.fail2ban_jails) {
    list += (list.empty() ? "" : ", ") + j;
    std::string lower = j;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    zimbra = zimbra || lower.find("zimbra") != std::string::npos;
    sasl = sasl || lower.find("sasl") != std::string::npos ||
           lower.find("postfix") != std::string::npos;
  }
  r.facts.push_back({"fail2ban jails", list.empty() ? "none" : list, "fail2ban-status.txt"});
  if (!zimbra || !sasl) {
    r.status = Status::fail;
    r.detail = fmt::format("no fail2ban jail for {}",
                           !zimbra && !sasl ? "Zimbra's logins (audit.log) nor Postfix SASL"
                           : !zimbra        ? "Zimbra's logins (audit.log)"
                                            : "Postfix SASL (SMTP AUTH)");
    r.remediation = render_remediation(c, "");
  }
  return r;
}

}  // namespace

CustomChecks builtin_checks() {
  CustomChecks checks = {
      {"lockout-max-failures", lockout_max_failures},
      {"mynetworks-loopback-only", mynetworks_loopback_only},
      {"sender-login-mismatch", sender_login_mismatch},
      {"sshd-password-anywhere", sshd_password_anywhere},
      {"submission-tls", submission_tls},
      {"security-updates", security_updates},
      {"reboot-pending", reboot_pending},
      {"fail2ban-jails", fail2ban_jails},
  };
  add_network_checks(checks);
  add_account_checks(checks);
  add_mailflow_checks(checks);
  add_host_checks(checks);
  add_version_checks(checks);
  add_iis_checks(checks);
  return checks;
}

}  // namespace mw::audit
