// The exposure matrix and its comparison with the site's plan.
#include "firewall/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace mw::fw {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::critical:
      return "critical";
    case Severity::high:
      return "high";
    case Severity::medium:
      return "medium";
  }
  return "?";
}

std::vector<PortQuery> catalog_ports(const PortCatalog& catalog) {
  std::vector<PortQuery> out;
  for (const auto& f : catalog.ports) out.push_back({f.protocol, f.port, f.service});
  return out;
}

Result<std::vector<PortQuery>> parse_port_queries(std::string_view text,
                                                  const PortCatalog* catalog) {
  std::vector<PortQuery> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    Protocol proto = Protocol::tcp;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto p = parse_protocol(item.substr(slash + 1));
      if (!p) return Error{fmt::format("--ports: {}", p.error().message)};
      proto = *p;
      item = item.substr(0, slash);
    }
    auto ports = parse_port_set(item);
    if (!ports) return Error{fmt::format("--ports: {}", ports.error().message)};
    for (const auto& iv : ports->intervals().intervals()) {
      for (unsigned p = iv.lo; p <= iv.hi; ++p) {
        auto port = static_cast<std::uint16_t>(p);
        const PortFact* f = catalog ? catalog->find(proto, port) : nullptr;
        out.push_back({proto, port, f ? f->service : ""});
      }
    }
    start = comma + 1;
  }
  return out;
}

Query make_query(Family f, const PortQuery& p, const ArrivalContext& ctx) {
  Query q;
  q.family = f;
  q.protocol = p.protocol;
  q.port = p.port;
  q.iface = ctx.iface;
  q.to = f == Family::v4 ? ctx.to_v4 : ctx.to_v6;
  return q;
}

namespace {

// What the plan says of a port, in words, and how bad more exposure is.
struct Intent {
  AddressSet allowed;
  std::string words;
  bool internal = false;  // loopback, cluster or admin in the plan, or absent from it
};

Intent intent_of(const FirewallPlan& plan, const PortQuery& p) {
  Intent in;
  in.allowed = plan.allowed_sources(p.protocol, p.port);
  bool is_public = false;
  for (const auto& o : plan.openings) {
    if (o.protocol == p.protocol && o.port == p.port && o.exposure == Exposure::public_) {
      is_public = true;
    }
  }
  in.internal = !is_public;
  in.words = is_public ? "everyone" : in.allowed.empty() ? "nobody" : in.allowed.to_string();
  return in;
}

void compare(const FirewallPlan& plan, const PortExposure& pe, AnalysisReport& report) {
  Intent in = intent_of(plan, pe.port);
  AddressSet trusted = plan.admin.unite(plan.cluster);
  AddressSet extra4 = pe.v4.sources(Outcome::accept).subtract(in.allowed);
  AddressSet extra6 = pe.v6.sources(Outcome::accept).subtract(in.allowed);
  for (Family f : {Family::v4, Family::v6}) {
    const AddressSet& extra = f == Family::v4 ? extra4 : extra6;
    if (extra.empty()) continue;
    const ExposureResult& r = f == Family::v4 ? pe.v4 : pe.v6;
    Finding fd;
    fd.port = pe.port;
    fd.family = f;
    fd.extra = extra;
    fd.allowed = in.words;
    bool from_untrusted = !extra.subtract(trusted).empty();
    fd.severity = in.internal && from_untrusted ? Severity::critical
                  : from_untrusted              ? Severity::high
                                                : Severity::medium;
    for (const auto& reg : r.regions) {
      if (reg.outcome == Outcome::accept && !reg.sources.intersect(extra).empty()) {
        fd.rules.push_back(reg.rule);
      }
    }
    std::string who = extra == AddressSet::any_of(f) ? "everyone" : extra.to_string();
    fd.message = fmt::format("{}/{}{} reachable over {} from {}; the policy allows {}",
                             pe.port.port, protocol_name(pe.port.protocol),
                             pe.port.service.empty() ? "" : " (" + pe.port.service + ")",
                             family_name(f), who, in.words);
    if (f == Family::v6 && extra4.empty()) {
      fd.message += " — IPv6 is open while IPv4 is closed";
    }
    report.findings.push_back(std::move(fd));
  }
}

}  // namespace

AnalysisReport analyse_ports(const Ruleset& ruleset, const std::vector<PortQuery>& ports,
                             const ArrivalContext& ctx, const FirewallPlan* plan) {
  AnalysisReport report;
  // Every port of one family and protocol shares the port-independent part of the analysis.
  std::optional<ExposureAnalyser> analysers[2][2];  // [family][protocol]
  auto analyse_port = [&](Family f, const PortQuery& p) {
    auto& a = analysers[f == Family::v4 ? 0 : 1][p.protocol == Protocol::tcp ? 0 : 1];
    if (!a) a.emplace(ruleset, make_query(f, p, ctx));
    return a->analyse(p.port);
  };
  for (const auto& p : ports) {
    PortExposure pe{p, analyse_port(Family::v4, p), analyse_port(Family::v6, p)};
    report.uncertain = report.uncertain || !pe.v4.sources(Outcome::uncertain).empty() ||
                       !pe.v6.sources(Outcome::uncertain).empty();
    if (plan) compare(*plan, pe, report);
    report.ports.push_back(std::move(pe));
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
  return report;
}

}  // namespace mw::fw
