// Mail-flow controls read from Postfix's effective configuration (postconf -n, postconf -M) and,
// where Postfix's own files are missing, from the Zimbra attributes zmconfigd writes them from.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "audit/check_util.hpp"
#include "audit/custom_checks.hpp"
#include "audit/text_lines.hpp"

namespace mw::audit {

namespace {

using detail::ascii_lower;
using detail::trim;

struct Param {
  std::string value;
  std::string origin;
  bool present = false;
};

Param postconf(const Facts& f, std::string_view name) {
  Param p;
  if (!f.postconf) return p;
  if (const auto* v = f.postconf->find(name)) {
    p.value = v->value;
    p.origin = fmt::format("{}:{}", origin_of(f, "postconf"), v->line);
    p.present = true;
  }
  return p;
}

// The smtp services of master.cf listening on port 25 (type inet, "smtp" or "host:smtp").
std::vector<const MasterService*> smtp_services(const Facts& f) {
  std::vector<const MasterService*> out;
  if (!f.master) return out;
  for (const auto& s : *f.master) {
    std::string_view name = s.service;
    if (auto colon = name.rfind(':'); colon != std::string_view::npos) {
      name = name.substr(colon + 1);
    }
    if (s.type == "inet" && (name == "smtp" || name == "25")) out.push_back(&s);
  }
  return out;
}

bool server_has_service(const Facts& f, std::string_view service) {
  if (!f.server) return false;
  for (auto v : f.server->entry.values("zimbraServiceEnabled")) {
    if (v == service) return true;
  }
  return false;
}

// --- SMTP AUTH on port 25 ---------------------------------------------------------------------

ControlResult smtp_auth_port25(const Control& c, const Facts& f) {
  if (!f.postconf) return missing_facts(c, f, "postconf", "postconf-n.txt: not in the snapshot");
  auto sasl = postconf(f, "smtpd_sasl_auth_enable");
  auto r = make_result(c, Status::pass);
  r.facts.push_back({"postconf smtpd_sasl_auth_enable", sasl.present ? sasl.value : "no (default)",
                     sasl.present ? sasl.origin : "postconf -d"});
  if (!sasl.present || ascii_lower(trim(sasl.value)) != "yes") {
    r.detail = "SMTP AUTH is off in main.cf";
    return r;
  }
  if (!f.master) {
    r.status = Status::fail;
    r.detail =
        "main.cf offers SMTP AUTH (smtpd_sasl_auth_enable = yes) and no master.cf was collected "
        "to show an override on the smtp service (postconf-M.txt), so port 25 offers it";
    r.remediation = render_remediation(c, "");
    return r;
  }
  auto services = smtp_services(f);
  std::vector<std::string> offering;
  for (const auto* s : services) {
    auto o = s->override_of("smtpd_sasl_auth_enable");
    r.facts.push_back(
        {fmt::format("master.cf {}/{} -o smtpd_sasl_auth_enable", s->service, s->type),
         o ? std::string(*o) : "(not overridden)",
         fmt::format("{}:{}", origin_of(f, "master"), s->line)});
    if (s->command == "postscreen") continue;  // the smtpd behind it is "smtpd pass"
    if (!o || ascii_lower(*o) == "yes") offering.push_back(s->service);
  }
  // With postscreen, port 25's sessions are handed to the "smtpd" pass service.
  for (const auto& s : *f.master) {
    if (s.service == "smtpd" && s.type == "pass") {
      auto o = s.override_of("smtpd_sasl_auth_enable");
      if (!o || ascii_lower(*o) == "yes") offering.push_back("smtpd/pass (behind postscreen)");
    }
  }
  if (!offering.empty()) {
    r.status = Status::fail;
    r.detail = fmt::format(
        "port 25 offers SMTP AUTH ({}): password guessing from the whole "
        "Internet",
        fmt::join(offering, ", "));
    r.remediation = render_remediation(c, "");
  }
  return r;
}

// --- DNS blocklists ---------------------------------------------------------------------------

ControlResult rbl(const Control& c, const Facts& f) {
  if (!f.postconf && !f.server) {
    return missing_facts(c, f, "postconf", "neither postconf-n.txt nor zmprov-gs.txt");
  }
  auto r = make_result(c, Status::pass);
  std::vector<std::string> lists;
  if (f.postconf) {
    for (const auto& p : f.postconf->params) {
      if (!p.name.starts_with("smtpd_") || !p.name.ends_with("_restrictions")) continue;
      auto w = split_list(p.value);
      for (std::size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] == "reject_rbl_client" || w[i] == "reject_rhsbl_client" ||
            w[i] == "reject_rhsbl_sender") {
          lists.emplace_back(w[i + 1]);
          r.facts.push_back({fmt::format("postconf {}", p.name),
                             fmt::format("{} {}", w[i], w[i + 1]),
                             fmt::format("{}:{}", origin_of(f, "postconf"), p.line)});
        }
      }
    }
  } else {
    for (auto v : f.server->entry.values("zimbraMtaRestriction")) {
      auto w = split_list(v);
      if (w.size() == 2 && (w[0] == "reject_rbl_client" || w[0] == "reject_rhsbl_client")) {
        lists.emplace_back(w[1]);
        r.facts.push_back({"server: zimbraMtaRestriction", std::string(v), f.server->file});
      }
    }
  }
  // postscreen: sites with weights, scored against the threshold, when its action is not ignore
  // and port 25 is served by postscreen.
  std::vector<std::string> screens;
  std::string threshold = "1";
  if (f.postconf) {
    auto sites = postconf(f, "postscreen_dnsbl_sites");
    auto action = postconf(f, "postscreen_dnsbl_action");
    auto thr = postconf(f, "postscreen_dnsbl_threshold");
    if (thr.present) threshold = std::string(trim(thr.value));
    std::string act = action.present ? std::string(trim(action.value)) : "ignore";
    bool postscreen = false;
    for (const auto* s : smtp_services(f)) postscreen = postscreen || s->command == "postscreen";
    r.facts.push_back({"postconf postscreen_dnsbl_sites", sites.value, sites.origin});
    r.facts.push_back({"postconf postscreen_dnsbl_action", act, action.origin});
    if (!split_list(sites.value).empty() && act != "ignore") {
      if (f.master && !postscreen) {
        r.facts.push_back({"postscreen on port 25", "no (smtp is not served by postscreen)",
                           origin_of(f, "master")});
      } else {
        for (auto site : split_list(sites.value)) screens.emplace_back(site);
      }
    }
  }
  if (lists.empty() && screens.empty()) {
    r.status = Status::fail;
    r.detail =
        "no DNS blocklist: no reject_rbl_client in the smtpd restrictions and no "
        "postscreen DNSBL site acting on its score";
    r.remediation = render_remediation(c, "");
    return r;
  }
  r.detail = fmt::format(
      "{} blocklist(s) in the restrictions{}; {} postscreen site(s){}", lists.size(),
      lists.empty() ? "" : fmt::format(" ({})", fmt::join(lists, ", ")), screens.size(),
      screens.empty() ? ""
                      : fmt::format(" ({}), threshold {}", fmt::join(screens, ", "), threshold));
  return r;
}

// --- per-account sending limits ---------------------------------------------------------------

ControlResult per_account_rate_limit(const Control& c, const Facts& f) {
  if (!f.postconf && !f.server) {
    return missing_facts(c, f, "postconf", "neither postconf-n.txt nor zmprov-gs.txt");
  }
  auto r = make_result(c, Status::pass);
  if (server_has_service(f, "cbpolicyd")) {
    r.facts.push_back({"server: zimbraServiceEnabled", "cbpolicyd", f.server->file});
    r.detail = "Zimbra's cbpolicyd is enabled (its quotas give per-account limits)";
    return r;
  }
  if (!f.postconf) {
    return missing_facts(c, f, "postconf", "postconf-n.txt: not in the snapshot");
  }
  for (const char* name : {"smtpd_data_restrictions", "smtpd_end_of_data_restrictions"}) {
    auto p = postconf(f, name);
    auto w = split_list(p.value);
    if (std::find(w.begin(), w.end(), "check_policy_service") != w.end()) {
      r.facts.push_back({fmt::format("postconf {}", name), p.value, p.origin});
      r.detail = fmt::format("a policy service is consulted in {}", name);
      return r;
    }
  }
  std::string late;
  {
    auto p = postconf(f, "smtpd_recipient_restrictions");
    auto w = split_list(p.value);
    bool permitted = false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i] == "permit_sasl_authenticated" || w[i] == "permit_mynetworks" || w[i] == "permit") {
        permitted = true;
      }
      if (w[i] == "check_policy_service") {
        r.facts.push_back({"postconf smtpd_recipient_restrictions", p.value, p.origin});
        if (!permitted) {
          r.detail =
              "a policy service is consulted in smtpd_recipient_restrictions before the "
              "permits";
          return r;
        }
        late = fmt::format(
            "; the check_policy_service in smtpd_recipient_restrictions ({}) comes after a "
            "permit, so authenticated and mynetworks senders never reach it",
            p.origin);
      }
    }
  }
  auto limit = postconf(f, "smtpd_client_message_rate_limit");
  auto exceptions = postconf(f, "smtpd_client_event_limit_exceptions");
  r.facts.push_back({"postconf smtpd_client_message_rate_limit",
                     limit.present ? limit.value : "0 (default: no limit)",
                     limit.present ? limit.origin : "postconf -d"});
  r.facts.push_back({"postconf smtpd_client_event_limit_exceptions",
                     exceptions.present ? exceptions.value : "$mynetworks (default)",
                     exceptions.present ? exceptions.origin : "postconf -d"});
  r.status = Status::fail;
  std::string lim = limit.present ? std::string(trim(limit.value)) : "0";
  r.detail = fmt::format(
      "no per-account sending limit: no policy service, no cbpolicyd{}. "
      "smtpd_client_message_rate_limit is {} and counts per client IP, exempting {}: a stolen "
      "account sending through webmail (from this host, in mynetworks) or from many addresses "
      "is never slowed",
      late, lim == "0" ? "0 (off)" : lim, exceptions.present ? exceptions.value : "mynetworks");
  r.remediation = render_remediation(c, "");
  return r;
}

// --- MTA TLS ----------------------------------------------------------------------------------

constexpr std::array<std::string_view, 6> kProtocols = {"SSLv2",   "SSLv3",   "TLSv1",
                                                        "TLSv1.1", "TLSv1.2", "TLSv1.3"};

// The protocols a Postfix protocol list allows: "!SSLv2, !SSLv3" (exclusions), "TLSv1.2 TLSv1.3"
// (inclusions), ">=TLSv1.2" / "<=TLSv1.3" (bounds, Postfix 3.6). nullopt on an unknown name.
std::optional<std::vector<std::string_view>> allowed_protocols(std::string_view list,
                                                               std::string& why) {
  std::array<bool, kProtocols.size()> allowed{};
  allowed.fill(true);
  bool any_plain = false;
  std::array<bool, kProtocols.size()> plain{};
  auto index = [&](std::string_view name) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < kProtocols.size(); ++i) {
      if (ascii_lower(kProtocols[i]) == ascii_lower(name)) return i;
    }
    return std::nullopt;
  };
  for (std::string_view t : split_list(list)) {
    // ':' also separates (postconf(5)).
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= t.size()) {
      auto colon = t.find(':', start);
      parts.push_back(t.substr(start, colon == std::string_view::npos ? t.npos : colon - start));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    for (auto p : parts) {
      if (p.empty()) continue;
      bool neg = false, ge = false, le = false;
      if (p.starts_with("!")) {
        neg = true;
        p.remove_prefix(1);
      } else if (p.starts_with(">=")) {
        ge = true;
        p.remove_prefix(2);
      } else if (p.starts_with("<=")) {
        le = true;
        p.remove_prefix(2);
      }
      auto i = index(p);
      if (!i) {
        why = fmt::format("unknown protocol '{}'", p);
        return std::nullopt;
      }
      for (std::size_t k = 0; k < kProtocols.size(); ++k) {
        if (neg && k == *i) allowed[k] = false;
        if (ge && k < *i) allowed[k] = false;
        if (le && k > *i) allowed[k] = false;
      }
      if (!neg && !ge && !le) {
        any_plain = true;
        plain[*i] = true;
      }
    }
  }
  std::vector<std::string_view> out;
  for (std::size_t k = 0; k < kProtocols.size(); ++k) {
    if (allowed[k] && (!any_plain || plain[k])) out.push_back(kProtocols[k]);
  }
  return out;
}

bool weak(std::string_view protocol) {
  return protocol == "SSLv2" || protocol == "SSLv3" || protocol == "TLSv1" || protocol == "TLSv1.1";
}

// A postconf value, else the Zimbra attribute it is written from, else Postfix's default.
Param effective(const Facts& f, std::string_view param, std::string_view attr,
                std::string_view postfix_default) {
  auto p = postconf(f, param);
  if (p.present) return p;
  if (f.server) {
    if (auto v = f.server->entry.first(attr)) {
      return {std::string(*v), fmt::format("{} ({})", f.server->file, attr), true};
    }
  }
  return {std::string(postfix_default), "Postfix default (postconf -d)", true};
}

ControlResult mta_tls(const Control& c, const Facts& f) {
  if (!f.postconf) return missing_facts(c, f, "postconf", "postconf-n.txt: not in the snapshot");
  auto r = make_result(c, Status::pass);
  std::vector<std::string> problems;
  std::vector<std::string> notes;

  // Port 25: opportunistic.
  auto level = postconf(f, "smtpd_tls_security_level");
  std::string lvl = level.present ? ascii_lower(trim(level.value)) : "";
  std::string lvl_origin = level.present ? level.origin : "Postfix default (postconf -d)";
  for (const auto* s : smtp_services(f)) {
    if (auto o = s->override_of("smtpd_tls_security_level")) {
      lvl = ascii_lower(*o);
      lvl_origin = fmt::format("{}:{} (-o on {})", origin_of(f, "master"), s->line, s->service);
    }
  }
  r.facts.push_back(
      {"port 25 smtpd_tls_security_level", lvl.empty() ? "(empty: none)" : lvl, lvl_origin});
  if (lvl.empty() || lvl == "none") {
    problems.push_back(
        "port 25 offers no STARTTLS (smtpd_tls_security_level none): every "
        "message crosses the Internet in clear");
  } else if (lvl == "encrypt") {
    problems.push_back(
        "port 25 requires TLS (encrypt): mail from servers without TLS is "
        "refused, which postconf(5) forbids for a public MX");
  }

  // Where TLS is mandatory: protocols and ciphers.
  auto mproto = effective(f, "smtpd_tls_mandatory_protocols", "zimbraMtaSmtpdTlsMandatoryProtocols",
                          ">=TLSv1");
  r.facts.push_back({"smtpd_tls_mandatory_protocols", mproto.value, mproto.origin});
  std::string why;
  auto allowed = allowed_protocols(mproto.value, why);
  if (!allowed) {
    return make_result(c, Status::not_checked,
                       fmt::format("smtpd_tls_mandatory_protocols ({}): {}", mproto.origin, why));
  }
  std::vector<std::string_view> weak_ones;
  for (auto p : *allowed) {
    if (weak(p)) weak_ones.push_back(p);
  }
  if (!weak_ones.empty()) {
    problems.push_back(fmt::format("mandatory TLS still accepts {}", fmt::join(weak_ones, ", ")));
  }
  auto mciph =
      effective(f, "smtpd_tls_mandatory_ciphers", "zimbraMtaSmtpdTlsMandatoryCiphers", "medium");
  r.facts.push_back({"smtpd_tls_mandatory_ciphers", mciph.value, mciph.origin});
  auto grade = ascii_lower(trim(mciph.value));
  if (grade != "medium" && grade != "high") {
    problems.push_back(
        fmt::format("mandatory TLS accepts '{}' ciphers (medium or high needed)", mciph.value));
  }

  // Opportunistic list on 25: reported, not failed.
  auto oproto = postconf(f, "smtpd_tls_protocols");
  if (oproto.present) {
    r.facts.push_back({"smtpd_tls_protocols", oproto.value, oproto.origin});
    std::string w;
    if (auto o = allowed_protocols(oproto.value, w)) {
      bool tls1 = std::find(o->begin(), o->end(), std::string_view("TLSv1")) != o->end();
      if (!tls1) {
        notes.push_back(
            "smtpd_tls_protocols excludes TLSv1 on port 25: senders that only speak "
            "TLS 1.0 fall back to plain text (postconf(5)); kept as chosen");
      }
    }
  }
  if (!problems.empty()) {
    r.status = Status::fail;
    r.detail = fmt::format("{}", fmt::join(problems, "; "));
    r.remediation = render_remediation(c, "");
  }
  if (!notes.empty()) {
    r.detail += (r.detail.empty() ? "" : "; ") + fmt::format("{}", fmt::join(notes, "; "));
  }
  return r;
}

}  // namespace

void add_mailflow_checks(CustomChecks& checks) {
  checks.emplace("smtp-auth-port25", smtp_auth_port25);
  checks.emplace("rbl", rbl);
  checks.emplace("per-account-rate-limit", per_account_rate_limit);
  checks.emplace("mta-tls", mta_tls);
}

}  // namespace mw::audit
