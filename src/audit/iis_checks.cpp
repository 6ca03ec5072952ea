// The Exchange controls (catalog/controls/exchange.toml): the IIS restriction of the admin
// center, <site>/ecp, read from applicationHost.config (iis.cpp computes what IIS enforces),
// with the site policy when given; remediation is the iis firewall backend's PowerShell script.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <variant>

#include "audit/check_util.hpp"
#include "audit/custom_checks.hpp"
#include "audit/iis.hpp"
#include "firewall/artefact.hpp"
#include "firewall/backends.hpp"
#include "firewall/iis_backend.hpp"

namespace mw::audit {

namespace {

// Widest allow entries that are still "a few admin hosts": a /24 of IPv4, a /64 of IPv6 (one
// LAN segment). Anything wider is a whole LAN or more.
constexpr int kWidestV4 = 24;
constexpr int kWidestV6 = 64;

// "The world": at least half of a family's addresses (the rule of network_checks.cpp).
bool world(const AddressSet& s, Family f) {
  if (s.is_any(f)) return true;
  u128 total = 0;
  for (const auto& [lo, hi] : s.intervals(f).intervals()) total += hi - lo + 1;
  return total >= (u128{1} << (family_bits(f) - 1));
}

std::string joined(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// What the checks share: the configuration, the path of the admin center, and what IIS
// enforces there and below.
struct Ecp {
  const IisConfig* config = nullptr;
  std::string file;  // the name in origins: "applicationHost.config"
  const IisSite* site = nullptr;
  std::string path;                 // "Default Web Site/ecp"
  IisEffective eff;                 // at path
  std::vector<IisEffective> below;  // at each location under path that writes ipSecurity/modules

  std::string at(std::size_t line) const {
    return line == 0 ? std::string("IIS default: no element sets it")
                     : fmt::format("{}:{}", file, line);
  }
};

std::string file_of(const Facts& f) {
  if (!f.iis_file.empty()) return f.iis_file;
  return f.iis ? f.iis->source : std::string("applicationHost.config");
}

std::string site_name(const Facts& f) {
  return f.site_plan ? f.site_plan->iis_site : std::string(kIisFrontEndSite);
}

// The admin center of the site, or the result to return (not given, not an Exchange front end,
// a merge IIS refuses).
std::variant<ControlResult, Ecp> ecp_of(const Control& c, const Facts& f) {
  if (!f.iis) {
    return missing_facts(c, f, "iis",
                         "no IIS configuration given (--iis-config "
                         "%windir%\\system32\\inetsrv\\config\\applicationHost.config)");
  }
  Ecp e;
  e.config = &*f.iis;
  e.file = file_of(f);
  const std::string& file = e.file;
  const std::string want = site_name(f);
  if (f.iis->sites.empty()) {
    return make_result(c, Status::not_checked,
                       fmt::format("{} has no <sites> under <system.applicationHost>: not a "
                                   "whole applicationHost.config",
                                   file));
  }
  e.site = f.iis->site(want);
  if (!e.site) {
    std::vector<std::string> names;
    for (const auto& s : f.iis->sites) names.push_back("'" + s.name + "'");
    return make_result(c, Status::not_applicable,
                       fmt::format("no site '{}' in {} (sites: {}){}", want, file, joined(names),
                                   f.site_plan ? " (the policy's iis.site)" : ""));
  }
  const bool has_ecp =
      std::any_of(e.site->applications.begin(), e.site->applications.end(), [](const auto& a) {
        std::string p = a;
        while (!p.empty() && p.back() == '/') p.pop_back();
        std::transform(p.begin(), p.end(), p.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        return p == iis::kEcpPath;
      });
  if (!has_ecp) {
    return make_result(c, Status::not_applicable,
                       fmt::format("site '{}' ({}:{}) has no /ecp application: no Exchange admin "
                                   "center there (an Edge Transport server has none)",
                                   e.site->name, file, e.site->line));
  }
  e.path = e.site->name + std::string(iis::kEcpPath);
  auto eff = effective_ip_security(*f.iis, e.path);
  if (!eff) return make_result(c, Status::not_checked, eff.error().message);
  if (!eff->unreadable.empty()) return make_result(c, Status::not_checked, eff->unreadable);
  e.eff = std::move(*eff);
  for (const auto& p : iis_paths_below(*f.iis, e.path)) {
    auto b = effective_ip_security(*f.iis, p);
    if (!b) return make_result(c, Status::not_checked, b.error().message);
    if (!b->unreadable.empty()) return make_result(c, Status::not_checked, b->unreadable);
    e.below.push_back(std::move(*b));
  }
  return e;
}

void site_facts(ControlResult& r, const Ecp& e) {
  std::vector<std::string> bindings;
  for (const auto& b : e.site->bindings) bindings.push_back(b.protocol + " " + b.information);
  r.facts.push_back({"IIS site of the admin center",
                     fmt::format("{} (id {}): {}, application /ecp", e.site->name, e.site->id,
                                 bindings.empty() ? "no bindings" : joined(bindings)),
                     fmt::format("{}:{}", e.file, e.site->line)});
  if (const IisSite* back = e.config->site(kIisBackEndSite)) {
    std::vector<std::string> b;
    for (const auto& x : back->bindings) b.push_back(x.protocol + " " + x.information);
    r.facts.push_back({"IIS site of the Exchange back end",
                       fmt::format("{}: {} (its /ecp is reached through the front end; keep its "
                                   "ports closed to all but the Exchange servers)",
                                   back->name, b.empty() ? "no bindings" : joined(b)),
                       fmt::format("{}:{}", e.file, back->line)});
  }
}

void module_facts(ControlResult& r, const Ecp& e, const IisEffective& eff) {
  r.facts.push_back({"IpRestrictionModule in <globalModules>",
                     eff.module_installed
                         ? fmt::format("installed ({})", e.config->restriction_module_image)
                         : std::string("not installed"),
                     eff.module_installed ? e.at(eff.module_installed_line)
                                          : fmt::format("<globalModules> of {}", e.file)});
  r.facts.push_back(
      {fmt::format("IpRestrictionModule at {}", eff.path),
       eff.module_enabled ? "enabled" : "not enabled",
       eff.module_line ? e.at(eff.module_line) : fmt::format("<modules> of {}: no entry", e.file)});
}

std::string entries_text(const IisEffective& eff) {
  std::vector<std::string> items;
  for (const auto& x : eff.entries) {
    items.push_back(
        fmt::format("{} {} (line {})", x.allowed ? "allow" : "deny", x.describe(), x.line));
  }
  return items.empty() ? std::string("none") : joined(items);
}

void section_facts(ControlResult& r, const Ecp& e, const IisEffective& eff) {
  r.facts.push_back({fmt::format("ipSecurity allowUnlisted at {}", eff.path),
                     eff.allow_unlisted ? "true" : "false", e.at(eff.allow_unlisted_line)});
  r.facts.push_back({fmt::format("ipSecurity entries at {}", eff.path), entries_text(eff),
                     eff.elements.empty()
                         ? fmt::format("{}: no <ipSecurity> at or above this path", e.file)
                         : fmt::format("{}: <ipSecurity> at line(s) {}", e.file, [&] {
                             std::vector<std::string> l;
                             for (auto n : eff.elements) l.push_back(std::to_string(n));
                             return joined(l);
                           }())});
}

// --------------------------------------------------------------------------- remediation

// Whether an allow entry is narrow enough to keep: one host up to a /24 (IPv6: /64).
bool narrow(const Prefix& p) {
  return p.len >= (p.addr.family == Family::v4 ? kWidestV4 : kWidestV6);
}

bool is_loopback(const Prefix& p) {
  static const AddressSet loopback = [] {
    AddressSet s;
    s.add(*parse_prefix("127.0.0.0/8"));
    s.add(*parse_prefix("::1/128"));
    return s;
  }();
  return loopback.contains(p);
}

// The iis backend's PowerShell script (idempotent: it adds what is missing, removes what the
// plan does not list, and sets allowUnlisted=false last), from the policy when given, else from
// the configuration itself.
std::string ecp_script(const Ecp& e, const Facts& f) {
  FirewallPlan plan;
  std::string head;
  if (f.site_plan) {
    plan = *f.site_plan;
    head = wrap_comment(
        "Save as ecp-ipsecurity.ps1 and run it in an elevated Windows PowerShell on the Exchange "
        "server: the iis firewall backend's script for the site policy (the same as `mailwarden "
        "firewall generate --policy " +
            plan.policy_source + " --backend iis`).",
        "# ");
  } else {
    plan.product = "exchange";
    plan.policy_source = e.file + " (no --policy)";
    plan.iis_site = e.site->name;
    plan.iis_proxy_mode = e.eff.enable_proxy_mode;
    std::vector<std::string> kept, dropped;
    for (const auto& x : e.eff.entries) {
      if (!x.allowed || (x.prefix && is_loopback(*x.prefix))) continue;  // the backend adds it
      if (x.prefix && narrow(*x.prefix)) {
        plan.admin.add(*x.prefix);
        kept.push_back(x.describe());
      } else {
        dropped.push_back(x.describe());
      }
    }
    head = wrap_comment(
        "No --policy: this script was built from " + e.file +
            " itself. It allows loopback and the narrow entries /ecp already allows (" +
            (kept.empty() ? std::string("none") : joined(kept)) + ")" +
            (dropped.empty() ? std::string()
                             : ", and drops the wide ones (" + joined(dropped) + ")") +
            ". It knows neither your admin networks nor the Exchange servers' addresses: CHECK "
            "$entries below and add them before you run it, or run the audit again with --policy "
            "site.toml to get the script of the site policy. Then save it as ecp-ipsecurity.ps1 "
            "and run it in an elevated Windows PowerShell on the Exchange server.",
        "# ");
  }
  auto artefacts = render_iis(plan);
  if (!artefacts) {
    return wrap_comment("The iis backend cannot write the script: " + artefacts.error().message,
                        "# ");
  }
  for (const auto& a : *artefacts) {
    if (a.filename == "ecp-ipsecurity.ps1") return head + a.content;
  }
  return wrap_comment("The iis backend wrote no ecp-ipsecurity.ps1", "# ");
}

// ------------------------------------------------------------------------------ controls

// exchange.ecp-restricted: the module enforces the section, and allowUnlisted is false at /ecp
// and at every location below it.
ControlResult ecp_restricted(const Control& c, const Facts& f) {
  auto ctx = ecp_of(c, f);
  if (auto* r = std::get_if<ControlResult>(&ctx)) return std::move(*r);
  const Ecp& e = std::get<Ecp>(ctx);
  auto r = make_result(c, Status::pass);
  site_facts(r, e);
  module_facts(r, e, e.eff);
  section_facts(r, e, e.eff);
  for (const auto& note : e.eff.notes) {
    r.facts.push_back({fmt::format("IIS merge at {}", e.path), note, e.file});
  }
  std::vector<std::string> why;
  if (!e.eff.module_installed) {
    why.push_back(
        "the IpRestrictionModule is not in <globalModules>: without the IP and Domain "
        "Restrictions role service (Web-IP-Security) IIS ignores every <ipSecurity>");
  } else if (!e.eff.module_enabled) {
    why.push_back(
        fmt::format("the IpRestrictionModule is not enabled at {} ({}): IIS ignores its "
                    "<ipSecurity>",
                    e.path,
                    e.eff.module_line ? "removed at " + e.at(e.eff.module_line)
                                      : std::string("no <modules> entry enables it")));
  }
  if (e.eff.allow_unlisted) {
    why.push_back(
        e.eff.allow_unlisted_line == 0
            ? fmt::format("no <ipSecurity> at or above {} sets allowUnlisted=\"false\": IIS's "
                          "default (true) lets every address in",
                          e.path)
            : fmt::format("allowUnlisted=\"true\" at {}: every address not denied gets in",
                          e.at(e.eff.allow_unlisted_line)));
  }
  if (!why.empty()) r.failing.push_back(e.path);
  std::vector<std::string> below;
  for (const auto& b : e.below) {
    if (b.allow_unlisted && !e.eff.allow_unlisted) {
      below.push_back(
          fmt::format("<location path=\"{}\"> opens it again: allowUnlisted=\"true\" at "
                      "{}",
                      b.path, e.at(b.allow_unlisted_line)));
      r.failing.push_back(b.path);
    } else if (!b.enforced() && e.eff.enforced()) {
      below.push_back(fmt::format(
          "the IpRestrictionModule is not enabled at {} ({})", b.path,
          b.module_line ? "removed at " + e.at(b.module_line) : std::string("no entry")));
      r.failing.push_back(b.path);
    }
  }
  if (why.empty() && below.empty()) {
    std::size_t allowed = 0;
    for (const auto& x : e.eff.entries) allowed += x.allowed ? 1 : 0;
    r.detail = fmt::format(
        "{}: IIS refuses every address it does not list (allowUnlisted=\"false\" at {}, "
        "IpRestrictionModule installed and enabled), {} allow entr{}; denyAction {}",
        e.path, e.at(e.eff.allow_unlisted_line), allowed, allowed == 1 ? "y" : "ies",
        e.eff.deny_action);
    return r;
  }
  r.status = Status::fail;
  r.detail = why.empty() ? fmt::format("{} is restricted, but {}", e.path, joined(below, "; "))
                         : fmt::format("{} is not restricted: {}", e.path, joined(why, "; "));
  if (!why.empty() && !below.empty()) r.detail += "; " + joined(below, "; ");
  if (!why.empty() && e.eff.lower_files != IisOverride::deny) {
    r.detail += fmt::format(
        " (ipSecurity may be set in the web.config files there, {}: mailwarden reads "
        "applicationHost.config only, and the restriction belongs there)",
        e.eff.lower_files_from);
  }
  r.remediation = ecp_script(e, f);
  return r;
}

// The allow entries that make `fam` the world, widest first; "allowUnlisted" when it does.
std::vector<std::string> world_makers(const Ecp& e, const IisEffective& eff, Family fam) {
  std::vector<std::string> out;
  if (!eff.enforced()) {
    out.push_back(fmt::format("IpRestrictionModule {} at {}",
                              eff.module_installed ? "not enabled" : "not installed", eff.path));
    return out;
  }
  if (eff.allow_unlisted) {
    out.push_back(
        fmt::format("allowUnlisted=true at {} ({})", eff.path, e.at(eff.allow_unlisted_line)));
    return out;
  }
  std::vector<const IisIpEntry*> allow;
  for (const auto& x : eff.entries) {
    if (x.allowed && x.prefix && x.prefix->addr.family == fam) allow.push_back(&x);
  }
  std::stable_sort(allow.begin(), allow.end(), [](const IisIpEntry* a, const IisIpEntry* b) {
    return a->prefix->len < b->prefix->len;
  });
  AddressSet sum;
  for (const IisIpEntry* x : allow) {
    sum.add(*x->prefix);
    out.push_back(fmt::format("{} (allowed at {})", x->describe(), e.at(x->line)));
    if (world(sum.intersect(eff.allowed), fam)) break;
  }
  return out;
}

// exchange.ecp-not-world: what IIS lets through at /ecp (and below) is not the Internet.
ControlResult ecp_not_world(const Control& c, const Facts& f) {
  auto ctx = ecp_of(c, f);
  if (auto* r = std::get_if<ControlResult>(&ctx)) return std::move(*r);
  const Ecp& e = std::get<Ecp>(ctx);
  auto r = make_result(c, Status::pass);
  module_facts(r, e, e.eff);
  section_facts(r, e, e.eff);
  std::vector<std::string> why;
  std::vector<const IisEffective*> all = {&e.eff};
  for (const auto& b : e.below) all.push_back(&b);
  for (const IisEffective* eff : all) {
    const AddressSet reach = eff->enforced() ? eff->allowed : AddressSet::any();
    std::vector<std::pair<std::string, std::vector<std::string>>> open;  // family, makers
    for (Family fam : {Family::v4, Family::v6}) {
      if (!world(reach, fam)) continue;
      auto makers = world_makers(e, *eff, fam);
      if (!open.empty() && open.back().second == makers) {
        open.back().first += " and " + std::string(family_name(fam));
      } else {
        open.emplace_back(std::string(family_name(fam)), std::move(makers));
      }
    }
    for (auto& [families, makers] : open) {
      why.push_back(fmt::format("{}: every {} address may reach it ({})", eff->path, families,
                                joined(makers, "; ")));
      for (auto& m : makers) {
        if (std::find(r.failing.begin(), r.failing.end(), m) == r.failing.end()) {
          r.failing.push_back(std::move(m));
        }
      }
    }
  }
  if (why.empty()) {
    r.detail =
        fmt::format("what IIS lets through at {} is a small part of the address space: {}", e.path,
                    e.eff.allowed.empty() ? std::string("no address") : e.eff.allowed.to_string());
    return r;
  }
  r.status = Status::fail;
  r.detail = joined(why, "; ");
  r.remediation = ecp_script(e, f);
  return r;
}

bool in_private_lan(const Prefix& p) {
  static const AddressSet lans = [] {
    AddressSet s;
    for (const char* t : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}) {
      s.add(*parse_prefix(t));
    }
    return s;
  }();
  return lans.contains(p);
}

// How one allow entry is classed: what it is, and whether it is a finding.
std::pair<std::string, bool> classify(const IisIpEntry& x, const FirewallPlan* plan,
                                      const IisEffective& eff) {
  if (!x.prefix) {
    return {fmt::format("a domain name: IIS lets in any address whose reverse DNS ends so{} (the "
                        "owner of an address writes its PTR record)",
                        eff.enable_reverse_dns ? ""
                                               : "; enableReverseDns is off, so it is not "
                                                 "applied today"),
            true};
  }
  const Prefix& p = *x.prefix;
  if (is_loopback(p)) return {"loopback", false};
  if (plan) {
    for (const Prefix& s : plan->server_addresses) {
      if (AddressSet::of(s).contains(p)) return {"an Exchange server of the policy", false};
    }
    if (plan->admin.contains(p)) return {"an admin network of the policy", false};
  }
  if (!narrow(p)) {
    const int widest = p.addr.family == Family::v4 ? kWidestV4 : kWidestV6;
    return {
        fmt::format("{}wider than a /{}", in_private_lan(p) ? "a whole private LAN, " : "", widest),
        true};
  }
  if (plan) return {"in neither the policy's admin networks nor its servers", true};
  return {
      fmt::format("narrow (/{}; no --policy to tell an admin network from another host)", p.len),
      false};
}

// exchange.ecp-allow-list: the allow entries are loopback, servers and admin networks, not LANs.
ControlResult ecp_allow_list(const Control& c, const Facts& f) {
  auto ctx = ecp_of(c, f);
  if (auto* r = std::get_if<ControlResult>(&ctx)) return std::move(*r);
  const Ecp& e = std::get<Ecp>(ctx);
  if (e.eff.allow_unlisted) {
    return make_result(c, Status::not_applicable,
                       fmt::format("{} admits unlisted addresses (allowUnlisted=true, {}): its "
                                   "allow list restricts nothing (exchange.ecp-restricted)",
                                   e.path, e.at(e.eff.allow_unlisted_line)));
  }
  auto r = make_result(c, Status::pass);
  std::vector<std::string> seen, findings;
  std::size_t count = 0;
  std::vector<const IisEffective*> all = {&e.eff};
  for (const auto& b : e.below) all.push_back(&b);
  for (const IisEffective* eff : all) {
    for (const auto& x : eff->entries) {
      if (!x.allowed || std::find(seen.begin(), seen.end(), x.key) != seen.end()) continue;
      seen.push_back(x.key);
      ++count;
      auto [what, finding] = classify(x, f.site_plan, *eff);
      r.facts.push_back({fmt::format("ipSecurity allow entry at {}", eff->path),
                         fmt::format("{}: {}", x.describe(), what), e.at(x.line)});
      if (finding) {
        r.failing.push_back(x.describe());
        findings.push_back(fmt::format("{} ({}, {})", x.describe(), what, e.at(x.line)));
      }
    }
  }
  if (findings.empty()) {
    r.detail = count == 0 ? fmt::format("{} allows no address at all (not even loopback)", e.path)
                          : fmt::format(
                                "the {} allow entr{} of {} are loopback, servers or "
                                "small networks{}",
                                count, count == 1 ? "y" : "ies", e.path,
                                f.site_plan ? " of the policy" : "");
    return r;
  }
  r.status = Status::fail;
  r.detail = fmt::format("{} allows more than admin hosts: {}", e.path, joined(findings, "; "));
  r.remediation = ecp_script(e, f);
  return r;
}

// exchange.ecp-proxy-mode: behind the policy's load balancer, IIS must judge the client from
// X-Forwarded-For (enableProxyMode).
ControlResult ecp_proxy_mode(const Control& c, const Facts& f) {
  auto ctx = ecp_of(c, f);
  if (auto* r = std::get_if<ControlResult>(&ctx)) return std::move(*r);
  const Ecp& e = std::get<Ecp>(ctx);
  if (!f.site_plan) {
    return make_result(
        c, Status::not_checked,
        fmt::format("whether a load balancer or reverse proxy is in front is the site policy's to "
                    "say ([iis] enable_proxy_mode), and none was given (--policy); enableProxyMode "
                    "is {} at {} ({})",
                    e.eff.enable_proxy_mode ? "true" : "false", e.path,
                    e.at(e.eff.enable_proxy_mode_line)));
  }
  if (e.eff.allow_unlisted || !e.eff.enforced()) {
    return make_result(c, Status::not_applicable,
                       fmt::format("no restriction in force at {} (exchange.ecp-restricted): "
                                   "proxy mode changes nothing",
                                   e.path));
  }
  auto r = make_result(c, Status::pass);
  const bool want = f.site_plan->iis_proxy_mode;
  r.facts.push_back({"load balancer in front (policy iis.enable_proxy_mode)", want ? "yes" : "no",
                     f.site_plan->policy_source});
  std::vector<const IisEffective*> all = {&e.eff};
  for (const auto& b : e.below) all.push_back(&b);
  for (const IisEffective* eff : all) {
    r.facts.push_back({fmt::format("ipSecurity enableProxyMode at {}", eff->path),
                       eff->enable_proxy_mode ? "true" : "false",
                       e.at(eff->enable_proxy_mode_line)});
    if (want && !eff->enable_proxy_mode) r.failing.push_back(eff->path);
  }
  if (r.failing.empty()) {
    r.detail = want ? fmt::format(
                          "enableProxyMode is on at {}: IIS judges the client named in "
                          "X-Forwarded-For as well as the load balancer",
                          e.path)
               : e.eff.enable_proxy_mode
                   ? fmt::format(
                         "no load balancer in the policy; enableProxyMode is on at {}, "
                         "which only adds refusals (a client's own X-Forwarded-For)",
                         e.path)
                   : fmt::format(
                         "no load balancer in the policy, and IIS judges the connecting "
                         "address at {}",
                         e.path);
    return r;
  }
  r.status = Status::fail;
  r.detail = fmt::format(
      "the policy puts a load balancer in front, but enableProxyMode is off at {}: IIS sees the "
      "balancer's address only, so it refuses every administrator, or, once the balancer is "
      "allowed, lets in whoever comes through it",
      joined(r.failing));
  r.remediation = ecp_script(e, f);
  return r;
}

// exchange.ecp-restriction-locked: no web.config at the site root, at /ecp or below may change
// ipSecurity, nor remove the module.
ControlResult ecp_restriction_locked(const Control& c, const Facts& f) {
  auto ctx = ecp_of(c, f);
  if (auto* r = std::get_if<ControlResult>(&ctx)) return std::move(*r);
  const Ecp& e = std::get<Ecp>(ctx);
  auto site = effective_ip_security(*e.config, e.site->name);
  if (!site) return make_result(c, Status::not_checked, site.error().message);
  auto r = make_result(c, Status::pass);
  std::vector<std::string> why;
  std::vector<const IisEffective*> all = {&*site, &e.eff};
  for (const auto& b : e.below) all.push_back(&b);
  for (const IisEffective* eff : all) {
    r.facts.push_back({fmt::format("ipSecurity for the web.config files of {}", eff->path),
                       eff->locked() ? "locked" : "may be overridden", eff->lower_files_from});
    if (eff->locked()) continue;
    why.push_back(fmt::format("a web.config at {} may change ipSecurity ({}: {})", eff->path,
                              eff->lower_files_from, joined(eff->open_to_web_config)));
    r.failing.push_back(eff->path);
    r.remediation += render_remediation(c, eff->path);
  }
  if (!e.eff.section_declared) {
    why.push_back(fmt::format(
        "{} declares no system.webServer/security/ipSecurity section in <configSections>: IIS "
        "cannot read an <ipSecurity> without it",
        e.file));
    r.failing.push_back("<configSections>");
    r.remediation += wrap_comment(
        "Declare the section as IIS setup does, in <configSections>, <sectionGroup "
        "name=\"system.webServer\">, <sectionGroup name=\"security\">: <section "
        "name=\"ipSecurity\" overrideModeDefault=\"Deny\" /> (installing Web-IP-Security writes "
        "it).",
        "# ");
  }
  if (e.eff.module_enabled && !e.eff.module_entry_locked) {
    why.push_back(
        fmt::format("the <add name=\"IpRestrictionModule\"> enabling the module at {} "
                    "({}) has no lockItem=\"true\": a web.config there may <remove> it",
                    e.path, e.at(e.eff.module_line)));
    r.failing.push_back(std::string(kIisRestrictionModule));
    r.remediation += fmt::format(
        "Add-WebConfigurationLock -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter "
        "\"system.webServer/modules/add[@name='IpRestrictionModule']\" -Type general   # "
        "elevated PowerShell (WebAdministration); then the module's <add> in {} (line {}) must "
        "read lockItem=\"true\", as IIS setup writes it\n",
        e.file, e.eff.module_line);
  }
  if (why.empty()) {
    r.detail = fmt::format(
        "the web.config files of {} and {} cannot change ipSecurity ({}), and the module's entry "
        "is locked",
        site->path, e.path, e.eff.lower_files_from);
    return r;
  }
  r.status = Status::fail;
  r.detail = joined(why, "; ");
  return r;
}

}  // namespace

void add_iis_checks(CustomChecks& checks) {
  checks["ecp-restricted"] = ecp_restricted;
  checks["ecp-not-world"] = ecp_not_world;
  checks["ecp-allow-list"] = ecp_allow_list;
  checks["ecp-proxy-mode"] = ecp_proxy_mode;
  checks["ecp-restriction-locked"] = ecp_restriction_locked;
}

}  // namespace mw::audit
