// Turns (site policy x port catalog) into the FirewallPlan every backend renders.
#include "firewall/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace mw {

PortSet FirewallPlan::ports(Protocol proto, Exposure e) const {
  PortSet out;
  for (const auto& o : openings) {
    if (o.protocol == proto && o.exposure == e) out.add(o.port);
  }
  return out;
}

AddressSet FirewallPlan::allowed_sources(Protocol proto, std::uint16_t port) const {
  AddressSet out;
  for (const auto& o : openings) {
    if (o.protocol != proto || o.port != port) continue;
    switch (o.exposure) {
      case Exposure::public_:
        return AddressSet::any();
      case Exposure::admin:
        out = out.unite(admin);
        break;
      case Exposure::cluster:
        out = out.unite(cluster);
        break;
      case Exposure::loopback:
        break;
    }
  }
  return out;
}

namespace {

bool is_console_direct(const PortFact& f) {
  return f.feature == "admin-console-direct";
}
bool is_console_proxy(const PortFact& f) {
  return f.feature == "admin-console-proxy";
}

class PlanBuilder {
 public:
  PlanBuilder(const SitePolicy& p, const PortCatalog& c) : p_(p), c_(c) {}

  Result<FirewallPlan> build() {
    plan_.policy_source = p_.source;
    plan_.product = p_.product;
    plan_.hostname = p_.hostname;
    plan_.topology = p_.topology;
    plan_.roles = p_.roles;
    plan_.admin = p_.admin_set();
    plan_.cluster = p_.cluster_set();
    plan_.server_addresses = p_.host_addresses;
    for (const auto& n : p_.nodes) {
      plan_.server_addresses.insert(plan_.server_addresses.end(), n.addresses.begin(),
                                    n.addresses.end());
    }
    plan_.iis_site = p_.iis_site;
    plan_.iis_proxy_mode = p_.iis_proxy_mode;
    plan_.log_drops = p_.log_drops;
    plan_.log_rate = p_.log_rate;
    plan_.log_prefix = p_.log_prefix;
    plan_.egress_smtp_restricted = p_.egress_smtp_restricted;
    plan_.egress_mta_user = p_.egress_mta_user;

    for (const PortFact& f : c_.ports) add_fact(f);
    add_ssh();
    for (const ExtraPort& ep : p_.extra_ports) add_extra(ep);
    console_notes();

    auto key = [](const auto& x) { return std::tuple(x.protocol, x.port); };
    std::sort(plan_.openings.begin(), plan_.openings.end(), [&](const auto& a, const auto& b) {
      return std::tuple(a.protocol, a.port, a.exposure) <
             std::tuple(b.protocol, b.port, b.exposure);
    });
    std::sort(plan_.closed.begin(), plan_.closed.end(),
              [&](const auto& a, const auto& b) { return key(a) < key(b); });
    // A port opened for a reason is not also "closed" (e.g. 7071 loopback on one role,
    // cluster on another): drop such closed entries.
    std::erase_if(plan_.closed, [&](const ClosedPort& cp) {
      auto it = opened_.lower_bound({cp.protocol, cp.port, Exposure::public_});
      return it != opened_.end() && std::get<0>(*it) == cp.protocol && std::get<1>(*it) == cp.port;
    });

    for (const auto& o : plan_.openings) {
      if (o.exposure == Exposure::admin && plan_.admin.empty()) {
        return Error{
            fmt::format("{}: {}/{} ({}) is an admin port but the policy lists no admin "
                        "networks: it would be closed to everyone",
                        p_.source, o.port, protocol_name(o.protocol), o.service)};
      }
      if (o.exposure == Exposure::cluster && plan_.cluster.empty()) {
        return Error{
            fmt::format("{}: {}/{} ({}) is a cluster port but the policy lists no "
                        "cluster networks",
                        p_.source, o.port, protocol_name(o.protocol), o.service)};
      }
    }
    return std::move(plan_);
  }

 private:
  void open(Protocol proto, std::uint16_t port, Exposure e, std::string service, std::string why) {
    // Extra ports can be whole ranges: dedupe through a set, not a scan of the openings.
    if (!opened_.insert({proto, port, e}).second) return;
    plan_.openings.push_back({proto, port, e, std::move(service), std::move(why)});
  }
  void close(const PortFact& f, std::string why) {
    plan_.closed.push_back({f.protocol, f.port, f.service, std::move(why)});
  }

  void add_fact(const PortFact& f) {
    // SSH is the policy's to decide (port, who): the catalog's entry only documents it.
    if (f.protocol == Protocol::tcp && f.port == 22 && f.service == "ssh") return;
    auto classes = c_.exposure(f, p_.topology, p_.roles);
    if (classes.empty()) return;  // no role of this host listens there
    if (f.never_public) {
      (f.protocol == Protocol::udp ? plan_.never_udp : plan_.never_tcp).add(f.port);
      close(f, "never opened: " + f.description);
      return;
    }
    if (!f.feature.empty() && p_.disabled_features.count(f.feature)) {
      bool by_default = std::find(c_.default_off.begin(), c_.default_off.end(), f.feature) !=
                        c_.default_off.end();
      close(f, by_default ? fmt::format("service '{}' is off unless [services] {} = true",
                                        f.feature, f.feature)
                          : fmt::format("service '{}' switched off in the policy", f.feature));
      return;
    }
    for (Exposure e : classes) {
      if (e == Exposure::loopback) {
        close(f, "loopback only");
        continue;
      }
      if (is_console_direct(f) || is_console_proxy(f)) {
        e = console_class(f, e);
        if (e == Exposure::loopback) {
          close(f,
                fmt::format("admin console mode '{}'", admin_console_mode_name(p_.admin_console)));
          continue;
        }
      }
      open(f.protocol, f.port, e, f.service, f.source);
    }
  }

  // The admin-console mode refines the catalog's class of 7071 and 9071.
  Exposure console_class(const PortFact& f, Exposure catalog_class) const {
    switch (p_.admin_console) {
      case AdminConsoleMode::ssh_tunnel_only:
        return Exposure::loopback;
      case AdminConsoleMode::direct:
        return is_console_direct(f) ? catalog_class : Exposure::loopback;
      case AdminConsoleMode::proxy_9071:
        if (is_console_proxy(f)) return catalog_class;
        // The proxy forwards 9071 to the mailbox servers' 7071: between nodes it stays open.
        return p_.topology == Topology::multi ? Exposure::cluster : Exposure::loopback;
    }
    return Exposure::loopback;
  }

  void add_ssh() {
    if (p_.ssh_port == 0) return;
    open(Protocol::tcp, p_.ssh_port, p_.ssh_exposure, "ssh",
         fmt::format("policy [ssh] ({})", p_.source));
    // Zimbra's mailbox nodes manage the MTAs' queues over SSH as zimbra (zmrcd).
    bool mta = std::find(p_.roles.begin(), p_.roles.end(), "mta") != p_.roles.end();
    if (p_.product == "zimbra" && p_.topology == Topology::multi && mta &&
        p_.ssh_exposure != Exposure::public_) {
      open(Protocol::tcp, p_.ssh_port, Exposure::cluster, "ssh",
           "mailbox nodes run queue commands on the MTAs over SSH (zmrcd, "
           "zimbraRemoteManagementCommand)");
    }
  }

  void add_extra(const ExtraPort& ep) {
    for (const auto& iv : ep.ports.intervals().intervals()) {
      for (unsigned port = iv.lo; port <= iv.hi; ++port) {
        const PortFact* f = c_.find(ep.protocol, static_cast<std::uint16_t>(port));
        std::string service = f ? f->service : (ep.comment.empty() ? "extra" : ep.comment);
        open(ep.protocol, static_cast<std::uint16_t>(port), ep.exposure, service,
             fmt::format("policy extra port ({})", ep.location));
      }
    }
  }

  void console_notes() {
    bool has_console = std::any_of(c_.ports.begin(), c_.ports.end(), [](const PortFact& f) {
      return is_console_direct(f) || is_console_proxy(f);
    });
    if (!has_console) return;
    const std::string& h = p_.hostname;
    switch (p_.admin_console) {
      case AdminConsoleMode::ssh_tunnel_only:
        plan_.notes.push_back(fmt::format(
            "Admin console (7071/9071) is closed to every network. Reach it through SSH as an "
            "unprivileged user: ssh -L 7071:localhost:7071 lowpriv@{} then open "
            "https://localhost:7071/",
            h));
        break;
      case AdminConsoleMode::proxy_9071:
        plan_.notes.push_back(fmt::format(
            "Admin console through the proxy on 9071 from the admin networks only; 7071 stays "
            "closed. On {} as the zimbra user: /opt/zimbra/libexec/zmproxyconfig -e -w -C -H {} "
            "&& zmproxyctl restart (zimbraReverseProxyAdminEnabled is FALSE by default)",
            h, h));
        break;
      case AdminConsoleMode::direct:
        plan_.notes.push_back(
            "Admin console on 7071 from the admin networks only; 9071 stays closed. Prefer "
            "proxy-9071 or ssh-tunnel-only: 7071 is the mailbox's own Jetty");
        break;
    }
  }

  const SitePolicy& p_;
  const PortCatalog& c_;
  FirewallPlan plan_;
  std::set<std::tuple<Protocol, std::uint16_t, Exposure>> opened_;
};

}  // namespace

Result<FirewallPlan> make_plan(const SitePolicy& policy, const PortCatalog& catalog) {
  return PlanBuilder(policy, catalog).build();
}

}  // namespace mw
