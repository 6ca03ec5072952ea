// Network exposure controls: the snapshot's firewall read by the ruleset analyser (who reaches
// which port), joined with `ss` (what actually listens where).
#include <fmt/format.h>

#include "audit/check_util.hpp"
#include "audit/custom_checks.hpp"
#include "firewall/exposure.hpp"

namespace mw::audit {

namespace {

ControlResult make(const Control& c, Status s, std::string detail = {}) {
  return make_result(c, s, std::move(detail));
}

std::string missing(const Facts& f, const std::string& group, std::string_view fallback) {
  return missing_reason(f, group, fallback);
}

// "The world": at least half of the family's address space may connect. An admin network, a
// cluster or a LAN is far smaller; "everyone except a few ranges" is the world.
bool world(const AddressSet& sources, Family f) {
  // The whole IPv6 space has 2^128 addresses: one more than a u128 counts.
  if (sources.is_any(f)) return true;
  u128 total = 0;
  for (const auto& [lo, hi] : sources.intervals(f).intervals()) total += hi - lo + 1;
  return total >= (u128{1} << (family_bits(f) - 1));
}

struct Reach {
  fw::Outcome outcome = fw::Outcome::drop;  // accept: the world reaches it
  std::string who;                          // the sources that reach it
  std::string rule;                         // the deciding rule (for the world's part)
  std::string reason;                       // uncertain: why
};

// Who reaches (protocol, port) from outside, per the snapshot's firewall.
Reach reach(const Facts& f, Family fam, Protocol proto, std::uint16_t port) {
  fw::Query q;
  q.family = fam;
  q.protocol = proto;
  q.port = port;
  auto e = fw::analyse(*f.ruleset, q);
  Reach r;
  auto accepted = e.sources(fw::Outcome::accept);
  auto uncertain = e.sources(fw::Outcome::uncertain);
  r.who = accepted.only(fam).empty() ? "nobody" : accepted.only(fam).to_string();
  if (world(accepted, fam)) {
    r.outcome = fw::Outcome::accept;
    for (const auto& reg : e.regions) {
      if (reg.outcome == fw::Outcome::accept) {
        r.rule = reg.rule;
        break;
      }
    }
  } else if (world(accepted.unite(uncertain), fam)) {
    r.outcome = fw::Outcome::uncertain;
    for (const auto& reg : e.regions) {
      if (reg.outcome == fw::Outcome::uncertain) {
        r.rule = reg.rule;
        r.reason = reg.reason;
        break;
      }
    }
  }
  return r;
}

std::vector<Family> covered(const Facts& f) {
  std::vector<Family> out;
  if (f.ruleset_v4) out.push_back(Family::v4);
  if (f.ruleset_v6) out.push_back(Family::v6);
  return out;
}

// Sockets of `proto` listening on `port` other than on loopback: who could be reached at all.
std::vector<const ListeningSocket*> listening_outside(const Facts& f, SocketProto proto,
                                                      std::uint16_t port) {
  std::vector<const ListeningSocket*> out;
  if (!f.listeners) return out;
  for (const auto& s : *f.listeners) {
    if (s.proto == proto && s.local.port == port && !s.local.loopback()) out.push_back(&s);
  }
  return out;
}

// Unmatched traffic (an unused port, tcp/1 and udp/1) from the world is dropped, per family.
ControlResult default_drop(const Control& c, const Facts& f, Family fam) {
  if (!f.ruleset) return make(c, Status::not_checked, missing(f, "ruleset", "no firewall dump"));
  if ((fam == Family::v4 && !f.ruleset_v4) || (fam == Family::v6 && !f.ruleset_v6)) {
    return make(c, Status::not_checked,
                fam == Family::v4
                    ? "no IPv4 ruleset (iptables-save.txt or nft.json) in the snapshot"
                    : "no IPv6 ruleset (ip6tables-save.txt or nft.json) in the snapshot");
  }
  auto r = make(c, Status::pass);
  for (auto proto : {Protocol::tcp, Protocol::udp}) {
    auto x = reach(f, fam, proto, 1);
    r.facts.push_back({fmt::format("{} {}/1 (an unused port) reachable from", family_name(fam),
                                   protocol_name(proto)),
                       x.who, x.rule.empty() ? "firewall" : x.rule});
    if (x.outcome == fw::Outcome::uncertain) {
      return make(c, Status::not_checked,
                  fmt::format("{}: {} ({})", family_name(fam), x.reason, x.rule));
    }
    if (x.outcome == fw::Outcome::accept && r.status == Status::pass) {
      r.status = Status::fail;
      r.detail = fmt::format("{} traffic to ports nobody opened is accepted from the world ({})",
                             family_name(fam), x.rule);
      r.remediation = render_remediation(c, "");
    }
  }
  return r;
}

ControlResult admin_console(const Control& c, const Facts& f) {
  if (!f.ruleset) return make(c, Status::not_checked, missing(f, "ruleset", "no firewall dump"));
  auto r = make(c, Status::pass);
  for (Family fam : covered(f)) {
    for (std::uint16_t port : {std::uint16_t{7071}, std::uint16_t{9071}}) {
      auto x = reach(f, fam, Protocol::tcp, port);
      r.facts.push_back(
          {fmt::format("{} tcp/{} reachable from", family_name(fam), port), x.who, x.rule});
      if (x.outcome == fw::Outcome::accept) {
        r.status = Status::fail;
        r.failing.push_back(fmt::format("{}/tcp {}", port, family_name(fam)));
        r.detail += fmt::format("{}{}/tcp is reachable from the world over {} ({})",
                                r.detail.empty() ? "" : "; ", port, family_name(fam), x.rule);
      } else if (x.outcome == fw::Outcome::uncertain && r.status == Status::pass) {
        return make(c, Status::not_checked,
                    fmt::format("{}/tcp {}: {} ({})", port, family_name(fam), x.reason, x.rule));
      }
    }
  }
  if (!f.ruleset_v6)
    r.detail += (r.detail.empty() ? "" : "; ") +
                std::string("IPv6 not checked: no IPv6 ruleset in the snapshot");
  if (r.status == Status::fail) r.remediation = render_remediation(c, "");
  return r;
}

// Ports the catalog says are loopback- or cluster-only on a single server, listening outside
// loopback and reachable from the world.
ControlResult internal_ports(const Control& c, const Facts& f) {
  if (!f.ruleset) return make(c, Status::not_checked, missing(f, "ruleset", "no firewall dump"));
  if (!f.ports) return make(c, Status::not_checked, "the port catalog is not loaded");
  auto r = make(c, Status::pass);
  for (const auto& p : f.ports->ports) {
    if (!p.single || *p.single == Exposure::public_ || *p.single == Exposure::admin) continue;
    auto proto = p.protocol == Protocol::tcp ? SocketProto::tcp : SocketProto::udp;
    auto sockets = listening_outside(f, proto, p.port);
    if (f.listeners && sockets.empty()) continue;  // nothing listens beyond loopback
    for (Family fam : covered(f)) {
      auto x = reach(f, fam, p.protocol, p.port);
      if (x.outcome != fw::Outcome::accept) continue;
      std::string where = sockets.empty() ? "listening unknown (no ss in the snapshot)"
                                          : "listening on " + sockets.front()->local.text;
      r.status = Status::fail;
      r.failing.push_back(fmt::format("{}/{} {}", p.port, protocol_name(p.protocol), p.service));
      r.facts.push_back({fmt::format("{} {}/{} {} reachable from", family_name(fam),
                                     protocol_name(p.protocol), p.port, p.service),
                         x.who, fmt::format("{}; {}", x.rule, where)});
    }
  }
  if (r.status == Status::fail) {
    r.detail = fmt::format("internal services reachable from the world: {}", [&] {
      std::string s;
      for (const auto& x : r.failing) s += (s.empty() ? "" : ", ") + x;
      return s;
    }());
    r.remediation = render_remediation(c, "");
  }
  return r;
}

// memcached on a single server: bound to loopback only (zimbraMemcachedBindAddress).
ControlResult memcached_bind(const Control& c, const Facts& f) {
  if (!f.listeners) return make(c, Status::not_checked, missing(f, "listeners", "no ss output"));
  auto r = make(c, Status::pass);
  auto outside = listening_outside(f, SocketProto::tcp, 11211);
  std::string where;
  for (const auto* s : outside) where += (where.empty() ? "" : ", ") + s->local.text;
  r.facts.push_back({"memcached tcp/11211 listening outside loopback", where.empty() ? "no" : where,
                     f.file_of.count("listeners") ? f.file_of.at("listeners") : "ss"});
  if (f.server) {
    auto bind = f.server->entry.values("zimbraMemcachedBindAddress");
    std::string b;
    for (auto v : bind) b += (b.empty() ? "" : ", ") + std::string(v);
    r.facts.push_back({"server: zimbraMemcachedBindAddress",
                       b.empty() ? "absent (all interfaces)" : b, f.server->file});
  }
  if (!outside.empty()) {
    r.status = Status::fail;
    r.detail = fmt::format(
        "memcached listens on {}: anyone who reaches it reads and poisons the "
        "proxy's route cache",
        where);
  }
  // The clients must point at loopback too: a client list naming another address means either
  // memcached is reached over the network or the mailbox's cache is broken.
  if (f.server) {
    std::string list, remote;
    for (auto v : f.server->entry.values("zimbraMemcachedClientServerList")) {
      list += (list.empty() ? "" : ", ") + std::string(v);
      auto host = v.substr(0, std::min(v.rfind(':'), v.size()));
      if (host != "127.0.0.1" && host != "localhost" && host != "[::1]" && host != "::1") {
        remote += (remote.empty() ? "" : ", ") + std::string(v);
      }
    }
    r.facts.push_back({"server: zimbraMemcachedClientServerList", list.empty() ? "absent" : list,
                       f.server->file});
    if (!remote.empty()) {
      r.status = Status::fail;
      r.detail += fmt::format("{}zimbraMemcachedClientServerList names {}, not 127.0.0.1",
                              r.detail.empty() ? "" : "; ", remote);
    }
  }
  if (r.status == Status::fail) {
    r.remediation = render_remediation(c, f.server ? f.server->entry.name : "$(zmhostname)");
  }
  return r;
}

// memcached on a multi-server install: 11211/tcp reachable from the cluster, not the world.
ControlResult memcached_cluster(const Control& c, const Facts& f) {
  if (!f.ruleset) return make(c, Status::not_checked, missing(f, "ruleset", "no firewall dump"));
  if (f.listeners && listening_outside(f, SocketProto::tcp, 11211).empty()) {
    auto r = make(c, Status::pass, "memcached does not listen beyond loopback on this node");
    r.facts.push_back(
        {"memcached tcp/11211 listening outside loopback", "no", origin_of(f, "listeners")});
    return r;
  }
  auto r = make(c, Status::pass);
  for (Family fam : covered(f)) {
    auto x = reach(f, fam, Protocol::tcp, 11211);
    r.facts.push_back(
        {fmt::format("{} tcp/11211 reachable from", family_name(fam)), x.who, x.rule});
    if (x.outcome == fw::Outcome::accept) {
      r.status = Status::fail;
      r.failing.push_back(fmt::format("11211/tcp {}", family_name(fam)));
      r.detail += fmt::format("{}11211/tcp is reachable from the world over {} ({})",
                              r.detail.empty() ? "" : "; ", family_name(fam), x.rule);
    } else if (x.outcome == fw::Outcome::uncertain && r.status == Status::pass) {
      return make(c, Status::not_checked,
                  fmt::format("11211/tcp {}: {} ({})", family_name(fam), x.reason, x.rule));
    }
  }
  if (r.status == Status::fail) r.remediation = render_remediation(c, "");
  return r;
}

// Outbound tcp/25 limited to the MTA: an owner match in an output chain that rejects the others,
// or an output policy of drop. The analyser models inbound flows; this reads the output chains.
bool mentions_owner(const fw::Rule& rule) {
  for (const auto& u : rule.match.unknown) {
    if (u.find("owner") != std::string::npos || u.find("skuid") != std::string::npos ||
        u.find("skgid") != std::string::npos) {
      return true;
    }
  }
  return rule.text.find("--uid-owner") != std::string::npos ||
         rule.text.find("skuid") != std::string::npos;
}

bool may_be_smtp(const fw::Rule& rule) {
  const auto& m = rule.match;
  if (m.l4proto && !m.l4proto->test(6)) return false;
  if (m.dport && !m.dport->contains(25)) return false;
  return true;
}

// How a new outbound tcp/25 connection from a user other than the MTA's, to a remote host, ends
// in one chain (jumps followed): decided by a rule, or falls through (nullopt).
struct EgressDecision {
  bool limited = false;  // refused (to everyone, or to all but the MTA's user)
  std::string why;
};
std::optional<EgressDecision> walk_output(const fw::Table& t, const fw::Chain& ch, int depth) {
  if (depth > 16) return std::nullopt;
  for (const auto& rule : ch.rules) {
    const auto& m = rule.match;
    if (!may_be_smtp(rule)) continue;
    if (m.ct_state && !(*m.ct_state & fw::kCtNew)) continue;
    if (m.oif) {
      bool only_lo = !m.oif->negate && !m.oif->names.empty();
      for (const auto& n : m.oif->names) only_lo = only_lo && n == "lo";
      if (only_lo) continue;  // loopback: the mailbox's own submissions
    }
    const bool owner = mentions_owner(rule);
    if (!owner && !m.unknown.empty()) continue;  // a match we cannot decide: read on
    switch (rule.verdict) {
      case fw::Verdict::drop:
      case fw::Verdict::reject:
        return EgressDecision{
            true, owner ? fmt::format("refused to all but the MTA's user ({})", rule.origin)
                        : fmt::format("refused to everyone ({})", rule.origin)};
      case fw::Verdict::accept:
        if (owner) continue;  // accepts the MTA's user; others read on
        return EgressDecision{false, fmt::format("accepted for every process ({})", rule.origin)};
      case fw::Verdict::jump:
      case fw::Verdict::goto_:
        if (const auto* target = t.find(rule.target)) {
          if (auto d = walk_output(t, *target, depth + 1)) return d;
        }
        if (rule.verdict == fw::Verdict::goto_) return std::nullopt;
        continue;
      case fw::Verdict::return_:
        return std::nullopt;
      default:
        continue;
    }
  }
  return std::nullopt;
}

ControlResult egress_smtp(const Control& c, const Facts& f) {
  if (!f.ruleset) return make(c, Status::not_checked, missing(f, "ruleset", "no firewall dump"));
  auto r = make(c, Status::pass);
  bool any_output = false;
  std::vector<std::string> open, closed;
  for (const auto& t : f.ruleset->tables) {
    for (const auto& ch : t.chains) {
      if (!ch.base || ch.base->hook != fw::Hook::output || ch.base->type != "filter") continue;
      any_output = true;
      auto d = walk_output(t, ch, 0);
      std::string outcome =
          d ? d->why
            : fmt::format("policy {}", ch.base->policy == fw::Verdict::drop ? "drop" : "accept");
      r.facts.push_back(
          {fmt::format("{} {}: new tcp/25 to a remote host", t.name, ch.name), outcome, ch.origin});
      bool limited = d ? d->limited : ch.base->policy == fw::Verdict::drop;
      (limited ? closed : open).push_back(fmt::format("{} {}: {}", t.name, ch.name, outcome));
    }
  }
  if (!any_output || !open.empty()) {
    r.status = Status::fail;
    r.detail = any_output
                   ? fmt::format("every local process may open tcp/25: {}", fmt::join(open, "; "))
                   : "no output filtering: every local process may open tcp/25";
    r.remediation = render_remediation(c, "");
  } else {
    r.detail = fmt::format("new outbound tcp/25: {}", fmt::join(closed, "; "));
  }
  if (!f.ruleset_v6) {
    r.detail += "; IPv6 not checked: no IPv6 ruleset in the snapshot";
  }
  return r;
}

// memcached over UDP (an amplification vector): no UDP listener, and not open in the firewall.
ControlResult memcached_udp(const Control& c, const Facts& f) {
  if (!f.listeners && !f.ruleset) {
    return make(c, Status::not_checked, "neither ss output nor a firewall dump in the snapshot");
  }
  auto r = make(c, Status::pass);
  if (f.listeners) {
    bool any = false;
    for (const auto& s : *f.listeners)
      any = any || (s.proto == SocketProto::udp && s.local.port == 11211);
    r.facts.push_back({"udp/11211 listening", any ? "yes" : "no",
                       f.file_of.count("listeners") ? f.file_of.at("listeners") : "ss"});
    if (any) {
      r.status = Status::fail;
      r.detail =
          "memcached listens on UDP 11211 (it should run with -U 0, as zmmemcachedctl starts it)";
      r.remediation = render_remediation(c, "");
    }
    return r;
  }
  for (Family fam : covered(f)) {
    auto x = reach(f, fam, Protocol::udp, 11211);
    r.facts.push_back(
        {fmt::format("{} udp/11211 reachable from", family_name(fam)), x.who, x.rule});
    if (x.outcome == fw::Outcome::accept) {
      r.status = Status::fail;
      r.detail = "udp/11211 is open to the world in the firewall (listeners unknown: no ss output)";
      r.remediation = render_remediation(c, "");
    }
  }
  return r;
}

}  // namespace

void add_network_checks(CustomChecks& checks) {
  checks.emplace("firewall-default-drop-v4",
                 [](const Control& c, const Facts& f) { return default_drop(c, f, Family::v4); });
  checks.emplace("firewall-default-drop-v6",
                 [](const Control& c, const Facts& f) { return default_drop(c, f, Family::v6); });
  checks.emplace("admin-console-not-public", admin_console);
  checks.emplace("internal-ports-not-public", internal_ports);
  checks.emplace("memcached-bind-local", memcached_bind);
  checks.emplace("memcached-udp-closed", memcached_udp);
  checks.emplace("memcached-cluster-only", memcached_cluster);
  checks.emplace("egress-smtp", egress_smtp);
}

}  // namespace mw::audit
