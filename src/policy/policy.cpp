// Site policy parser and validator: TOML in, a checked SitePolicy out, every error positioned.
#include "policy/policy.hpp"
#include "core/join.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <map>

#include "core/atomic_file.hpp"

namespace mw {

std::string_view admin_console_mode_name(AdminConsoleMode m) {
  switch (m) {
    case AdminConsoleMode::ssh_tunnel_only:
      return "ssh-tunnel-only";
    case AdminConsoleMode::proxy_9071:
      return "proxy-9071";
    case AdminConsoleMode::direct:
      return "direct";
  }
  return "?";
}

namespace {

// Raised inside the parser and turned into an Error at its boundary: the walk below is deep
// and every step can fail, so an early exit keeps each step a single line.
struct PolicyError {
  std::string message;
};

class PolicyReader {
 public:
  PolicyReader(std::string_view source, const PortCatalog& catalog)
      : source_(source), catalog_(catalog) {}

  SitePolicy read(const toml::table& root) {
    p_.source = std::string(source_);
    expect_keys(root, "",
                {"host", "networks", "node", "ssh", "admin_console", "services", "extra_port",
                 "logging", "egress", "iis"});
    read_host(root);
    read_networks(root);
    read_nodes(root);
    read_ssh(root);
    read_admin_console(root);
    read_services(root);
    read_extra_ports(root);
    read_logging(root);
    read_egress(root);
    read_iis(root);
    cross_checks(root);
    return std::move(p_);
  }

 private:
  std::string pos(const toml::source_region& r) const {
    return fmt::format("{}:{}:{}", source_, r.begin.line, r.begin.column);
  }
  [[noreturn]] void fail(const toml::source_region& r, std::string_view field,
                         std::string_view what) const {
    throw PolicyError{fmt::format("{}: {}: {}", pos(r), field, what)};
  }
  void warn(const toml::source_region& r, std::string_view field, std::string_view what) {
    p_.warnings.push_back(fmt::format("{}: warning: {}: {}", pos(r), field, what));
  }

  void expect_keys(const toml::table& t, std::string_view where,
                   const std::vector<std::string>& allowed) const {
    for (auto&& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
        std::string field =
            where.empty() ? std::string(k.str()) : fmt::format("{}.{}", where, k.str());
        fail(k.source(), field, fmt::format("unknown key (expected one of: {})", join(allowed)));
      }
    }
  }

  const toml::table* table_at(const toml::table& parent, std::string_view key,
                              std::string_view field) const {
    const toml::node* n = parent.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(n->source(), field, "expected a table");
    return n->as_table();
  }

  std::optional<std::string> string_at(const toml::table& t, std::string_view key,
                                       std::string_view field) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(n->source(), field, "expected a string");
    return n->as_string()->get();
  }
  std::optional<bool> bool_at(const toml::table& t, std::string_view key,
                              std::string_view field) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(n->source(), field, "expected true or false");
    return n->as_boolean()->get();
  }
  std::optional<std::int64_t> int_at(const toml::table& t, std::string_view key,
                                     std::string_view field) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(n->source(), field, "expected an integer");
    return n->as_integer()->get();
  }
  toml::source_region region(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    return n ? n->source() : t.source();
  }

  void read_host(const toml::table& root) {
    const toml::table* host = table_at(root, "host", "host");
    if (!host) fail(root.source(), "host", "missing table [host] (product, hostname, topology)");
    expect_keys(*host, "host", {"product", "hostname", "topology", "roles", "ipv4", "ipv6"});
    auto product = string_at(*host, "product", "host.product");
    if (!product) fail(host->source(), "host.product", "missing (e.g. product = \"zimbra\")");
    if (*product != catalog_.product) {
      fail(
          region(*host, "product"), "host.product",
          fmt::format("'{}' does not match the catalog in use ('{}')", *product, catalog_.product));
    }
    p_.product = *product;
    auto topo = string_at(*host, "topology", "host.topology").value_or("single");
    auto t = parse_topology(topo);
    if (!t) {
      fail(region(*host, "topology"), "host.topology",
           fmt::format("'{}' is not a topology (expected single or multi)", topo));
    }
    p_.topology = *t;

    auto hostname = string_at(*host, "hostname", "host.hostname");
    if (p_.topology == Topology::single && (!hostname || hostname->empty())) {
      fail(host->source(), "host.hostname", "missing (the host's FQDN, e.g. mail.example.com)");
    }
    if (p_.topology == Topology::multi && hostname) {
      fail(region(*host, "hostname"), "host.hostname",
           "a multi-server policy names its hosts in [[node]] tables, not in [host]");
    }
    if (hostname) {
      check_hostname(*hostname, region(*host, "hostname"), "host.hostname");
      p_.hostname = *hostname;
    }

    if (host->get("roles")) {
      fail(region(*host, "roles"), "host.roles",
           "a single server has every role; a multi-server policy gives each [[node]] its roles");
    }
    if (p_.topology == Topology::single) p_.roles = catalog_.roles;
    if ((host->get("ipv4") || host->get("ipv6")) && p_.topology == Topology::multi) {
      fail(region(*host, host->get("ipv4") ? "ipv4" : "ipv6"), "host",
           "a multi-server policy gives each [[node]] its addresses");
    }
    p_.host_addresses = read_prefixes(*host, "ipv4", "host.ipv4", Family::v4);
    auto v6 = read_prefixes(*host, "ipv6", "host.ipv6", Family::v6);
    p_.host_addresses.insert(p_.host_addresses.end(), v6.begin(), v6.end());
  }

  void read_iis(const toml::table& root) {
    const toml::table* iis = table_at(root, "iis", "iis");
    if (!iis) return;
    if (p_.product != "exchange") {
      fail(iis->source(), "iis", "[iis] belongs to product = \"exchange\"");
    }
    expect_keys(*iis, "iis", {"site", "enable_proxy_mode"});
    if (auto site = string_at(*iis, "site", "iis.site")) {
      bool ok = !site->empty() && site->size() <= 128;
      for (char c : *site) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' ||
                    c == '_' || c == '.');
      }
      if (!ok) {
        fail(region(*iis, "site"), "iis.site",
             fmt::format("'{}' is not an IIS site name (letters, digits, ' ', '-', '_', '.')",
                         *site));
      }
      p_.iis_site = *site;
    }
    p_.iis_proxy_mode = bool_at(*iis, "enable_proxy_mode", "iis.enable_proxy_mode").value_or(false);
  }

  void check_hostname(const std::string& name, const toml::source_region& r,
                      std::string_view field) const {
    bool ok = !name.empty() && name.size() <= 253;
    for (char c : name) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-');
    }
    if (!ok) {
      fail(r, field, fmt::format("'{}' is not a host name (letters, digits, '.', '-')", name));
    }
  }

  std::vector<std::string> read_roles(const toml::table& t, std::string_view field) const {
    std::vector<std::string> roles;
    const toml::node* r = t.get("roles");
    if (!r)
      fail(t.source(), field, fmt::format("missing (one or more of: {})", join(catalog_.roles)));
    const toml::array* arr = r->as_array();
    if (!arr || arr->empty()) fail(r->source(), field, "expected a non-empty array of role names");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = (*arr)[i];
      std::string f = fmt::format("{}[{}]", field, i);
      if (!e.is_string()) fail(e.source(), f, "expected a string");
      std::string role = e.as_string()->get();
      if (std::find(catalog_.roles.begin(), catalog_.roles.end(), role) == catalog_.roles.end()) {
        fail(e.source(), f,
             fmt::format("unknown role '{}' for {} (expected one of: {})", role, catalog_.product,
                         join(catalog_.roles)));
      }
      if (std::find(roles.begin(), roles.end(), role) != roles.end()) {
        fail(e.source(), f, fmt::format("role '{}' listed twice", role));
      }
      roles.push_back(role);
    }
    return roles;
  }

  void read_nodes(const toml::table& root) {
    const toml::node* n = root.get("node");
    if (!n) {
      if (p_.topology == Topology::multi) {
        fail(root.source(), "node",
             "a multi-server policy lists its hosts as [[node]] tables (name, roles, ipv4, ipv6)");
      }
      return;
    }
    if (p_.topology == Topology::single) {
      fail(n->source(), "node", "[[node]] tables belong to topology = \"multi\"");
    }
    const toml::array* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables()) fail(n->source(), "node", "expected [[node]] tables");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table& t = *(*arr)[i].as_table();
      std::string field = fmt::format("node[{}]", i);
      expect_keys(t, field, {"name", "roles", "ipv4", "ipv6"});
      ClusterNode node;
      node.location = pos(t.source());
      auto name = string_at(t, "name", field + ".name");
      if (!name) fail(t.source(), field + ".name", "missing (the node's FQDN)");
      check_hostname(*name, region(t, "name"), field + ".name");
      for (const auto& other : p_.nodes) {
        if (other.name == *name) {
          fail(region(t, "name"), field + ".name",
               fmt::format("'{}' is already node at {}", *name, other.location));
        }
      }
      node.name = *name;
      node.roles = read_roles(t, field + ".roles");
      node.addresses = read_prefixes(t, "ipv4", field + ".ipv4", Family::v4);
      auto v6 = read_prefixes(t, "ipv6", field + ".ipv6", Family::v6);
      node.addresses.insert(node.addresses.end(), v6.begin(), v6.end());
      if (node.addresses.empty()) {
        fail(t.source(), field,
             "a node needs its addresses (ipv4 and/or ipv6): the other nodes "
             "open their cluster ports to them");
      }
      p_.nodes.push_back(std::move(node));
    }
  }

  // Reads one list of prefixes of one family, refusing the other family and the whole space.
  std::vector<Prefix> read_prefixes(const toml::table& t, std::string_view key,
                                    std::string_view field, Family family) {
    std::vector<Prefix> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr) fail(n->source(), field, "expected an array of prefixes");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = (*arr)[i];
      std::string f = fmt::format("{}[{}]", field, i);
      if (!e.is_string()) fail(e.source(), f, "expected a string such as \"192.0.2.0/24\"");
      std::vector<std::string> warnings;
      auto prefix = parse_prefix(e.as_string()->get(), &warnings);
      if (!prefix) fail(e.source(), f, prefix.error().message);
      for (const auto& w : warnings) warn(e.source(), f, w);
      if (prefix->addr.family != family) {
        fail(e.source(), f,
             fmt::format("'{}' is an {} prefix where {} is required", e.as_string()->get(),
                         family_name(prefix->addr.family), family_name(family)));
      }
      if (prefix->len == 0) {
        fail(e.source(), f,
             fmt::format("'{}' is the whole {} Internet: the ports it guards would be public",
                         to_string(*prefix), family_name(family)));
      }
      out.push_back(*prefix);
    }
    return out;
  }

  void read_networks(const toml::table& root) {
    const toml::table* nets = table_at(root, "networks", "networks");
    if (!nets) return;
    expect_keys(*nets, "networks", {"admin_ipv4", "admin_ipv6", "cluster_ipv4", "cluster_ipv6"});
    auto a4 = read_prefixes(*nets, "admin_ipv4", "networks.admin_ipv4", Family::v4);
    auto a6 = read_prefixes(*nets, "admin_ipv6", "networks.admin_ipv6", Family::v6);
    auto c4 = read_prefixes(*nets, "cluster_ipv4", "networks.cluster_ipv4", Family::v4);
    auto c6 = read_prefixes(*nets, "cluster_ipv6", "networks.cluster_ipv6", Family::v6);
    // The guides advise the admin console from a few admin workstations or a jump host, and
    // internal ports from the other nodes only: a whole LAN is worth a warning, not a refusal.
    auto lan_warnings = [&](const std::vector<Prefix>& ps, std::string_view key, int max4, int max6,
                            std::string_view advice) {
      for (std::size_t i = 0; i < ps.size(); ++i) {
        const Prefix& pr = ps[i];
        int limit = pr.addr.family == Family::v4 ? max4 : max6;
        if (pr.len <= limit) {
          const toml::node& e = *nets->get(key)->as_array()->get(i);
          warn(e.source(), fmt::format("networks.{}[{}]", key, i),
               fmt::format("{} is a whole network (/{}): {}", to_string(pr), pr.len, advice));
        }
      }
    };
    constexpr std::string_view admin_advice =
        "the guides advise opening admin ports to the admin workstations or a jump host only";
    constexpr std::string_view cluster_advice =
        "internal ports should be open to the other mail nodes only, not to a whole LAN";
    lan_warnings(a4, "admin_ipv4", 24, 64, admin_advice);
    lan_warnings(a6, "admin_ipv6", 24, 64, admin_advice);
    lan_warnings(c4, "cluster_ipv4", 23, 56, cluster_advice);
    lan_warnings(c6, "cluster_ipv6", 23, 56, cluster_advice);
    p_.admin_networks = a4;
    p_.admin_networks.insert(p_.admin_networks.end(), a6.begin(), a6.end());
    p_.cluster_networks = c4;
    p_.cluster_networks.insert(p_.cluster_networks.end(), c6.begin(), c6.end());
  }

  void read_ssh(const toml::table& root) {
    const toml::table* ssh = table_at(root, "ssh", "ssh");
    if (!ssh) return;
    expect_keys(*ssh, "ssh", {"enabled", "port", "from"});
    ssh_enabled_ = bool_at(*ssh, "enabled", "ssh.enabled").value_or(true);
    if (auto port = int_at(*ssh, "port", "ssh.port")) {
      if (*port < 1 || *port > 65535) {
        fail(region(*ssh, "port"), "ssh.port", fmt::format("{} is not a port (1-65535)", *port));
      }
      p_.ssh_port = static_cast<std::uint16_t>(*port);
    }
    auto from = string_at(*ssh, "from", "ssh.from").value_or("admin");
    if (from == "admin") {
      p_.ssh_exposure = Exposure::admin;
    } else if (from == "anywhere") {
      p_.ssh_exposure = Exposure::public_;
      warn(region(*ssh, "from"), "ssh.from",
           "SSH open to the whole Internet: disable password authentication and run fail2ban");
    } else {
      fail(region(*ssh, "from"), "ssh.from",
           fmt::format("'{}' is not allowed (expected \"admin\" or \"anywhere\")", from));
    }
    ssh_region_ = region(*ssh, "from");
  }

  void read_admin_console(const toml::table& root) {
    const toml::table* ac = table_at(root, "admin_console", "admin_console");
    if (!ac) return;
    expect_keys(*ac, "admin_console", {"mode"});
    auto mode = string_at(*ac, "mode", "admin_console.mode").value_or("ssh-tunnel-only");
    if (mode == "ssh-tunnel-only") {
      p_.admin_console = AdminConsoleMode::ssh_tunnel_only;
    } else if (mode == "proxy-9071") {
      p_.admin_console = AdminConsoleMode::proxy_9071;
    } else if (mode == "direct") {
      p_.admin_console = AdminConsoleMode::direct;
    } else {
      fail(
          region(*ac, "mode"), "admin_console.mode",
          fmt::format("'{}' is not a mode (expected ssh-tunnel-only, proxy-9071 or direct)", mode));
    }
    console_region_ = region(*ac, "mode");
  }

  void read_services(const toml::table& root) {
    p_.disabled_features.insert(catalog_.default_off.begin(), catalog_.default_off.end());
    const toml::table* sv = table_at(root, "services", "services");
    if (!sv) return;
    // Admin-console features are driven by admin_console.mode, not switched here.
    std::vector<std::string> switchable;
    for (const auto& f : catalog_.features) {
      if (f.rfind("admin-console", 0) != 0) switchable.push_back(f);
    }
    expect_keys(*sv, "services", switchable);
    for (const auto& f : switchable) {
      if (auto on = bool_at(*sv, f, "services." + f)) {
        if (*on) {
          p_.disabled_features.erase(f);
        } else {
          p_.disabled_features.insert(f);
        }
      }
    }
  }

  void read_extra_ports(const toml::table& root) {
    const toml::node* n = root.get("extra_port");
    if (!n) return;
    const toml::array* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      fail(n->source(), "extra_port", "expected [[extra_port]] tables");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table& t = *(*arr)[i].as_table();
      std::string field = fmt::format("extra_port[{}]", i);
      expect_keys(t, field, {"ports", "protocol", "class", "comment"});
      ExtraPort ep;
      ep.location = pos(t.source());
      const toml::node* pn = t.get("ports");
      if (!pn)
        fail(t.source(), field + ".ports", "missing (e.g. ports = \"8443\" or \"9000-9010\")");
      if (auto i64 = pn->as_integer()) {
        auto port = parse_port(std::to_string(i64->get()));
        if (!port) fail(pn->source(), field + ".ports", port.error().message);
        ep.ports.add(*port);
      } else if (auto s = pn->as_string()) {
        auto ps = parse_port_set(s->get());
        if (!ps) fail(pn->source(), field + ".ports", ps.error().message);
        ep.ports = *ps;
      } else {
        fail(pn->source(), field + ".ports", "expected a port number or a string of ports");
      }
      auto proto_text = string_at(t, "protocol", field + ".protocol").value_or("tcp");
      auto proto = parse_protocol(proto_text);
      if (!proto) fail(region(t, "protocol"), field + ".protocol", proto.error().message);
      ep.protocol = *proto;
      auto cls_text = string_at(t, "class", field + ".class");
      if (!cls_text) {
        fail(t.source(), field + ".class", "missing (public, admin or cluster)");
      }
      auto cls = parse_exposure(*cls_text);
      if (!cls || *cls == Exposure::loopback) {
        fail(region(t, "class"), field + ".class",
             fmt::format("'{}' is not a class one opens (expected public, admin or cluster)",
                         *cls_text));
      }
      ep.exposure = *cls;
      ep.comment = string_at(t, "comment", field + ".comment").value_or("");
      check_extra_port(ep, t, field, i);
      p_.extra_ports.push_back(std::move(ep));
    }
  }

  // A port has one class: an extra port may not reclassify a catalog port of this host, nor
  // overlap another extra port with a different class.
  void check_extra_port(const ExtraPort& ep, const toml::table& t, const std::string& field,
                        std::size_t index) {
    for (const auto& iv : ep.ports.intervals().intervals()) {
      for (unsigned port = iv.lo; port <= iv.hi; ++port) {
        auto p16 = static_cast<std::uint16_t>(port);
        const PortFact* fact = catalog_.find(ep.protocol, p16);
        if (fact) {
          if (fact->never_public) {
            fail(region(t, "ports"), field + ".ports",
                 fmt::format("{}/{} ({}) is never opened: {}", port, protocol_name(ep.protocol),
                             fact->service, fact->description));
          }
          auto classes = catalog_.exposure(*fact, p_.topology, all_roles());
          for (Exposure c : classes) {
            if (c != ep.exposure) {
              fail(region(t, "class"), field + ".class",
                   fmt::format("{}/{} ({}) is already class '{}' in the catalog ({}); a port "
                               "cannot be in two classes",
                               port, protocol_name(ep.protocol), fact->service, exposure_name(c),
                               fact->location));
            }
          }
        }
      }
    }
    for (std::size_t j = 0; j < index; ++j) {
      const ExtraPort& other = p_.extra_ports[j];
      if (other.protocol != ep.protocol || other.exposure == ep.exposure) continue;
      PortSet both = other.ports.intersect(ep.ports);
      if (!both.empty()) {
        fail(region(t, "class"), field + ".class",
             fmt::format("ports {}/{} are class '{}' here and class '{}' in extra_port[{}] ({}); "
                         "a port cannot be in two classes",
                         both.to_string(), protocol_name(ep.protocol), exposure_name(ep.exposure),
                         exposure_name(other.exposure), j, other.location));
      }
    }
  }

  void read_logging(const toml::table& root) {
    const toml::table* lg = table_at(root, "logging", "logging");
    if (!lg) return;
    expect_keys(*lg, "logging", {"log_drops", "rate", "prefix"});
    p_.log_drops = bool_at(*lg, "log_drops", "logging.log_drops").value_or(true);
    if (auto rate = string_at(*lg, "rate", "logging.rate")) {
      // nft and iptables both take N/second|minute|hour|day.
      auto slash = rate->find('/');
      bool ok = slash != std::string::npos && slash > 0 && slash < 6;
      for (std::size_t i = 0; ok && i < slash; ++i) ok = std::isdigit((*rate)[i]);
      static const char* units[] = {"second", "minute", "hour", "day"};
      ok = ok && std::any_of(std::begin(units), std::end(units),
                             [&](const char* u) { return rate->substr(slash + 1) == u; });
      ok = ok && (*rate)[0] != '0';
      if (!ok) {
        fail(region(*lg, "rate"), "logging.rate",
             fmt::format("'{}' is not a rate (expected N/second, N/minute, N/hour or N/day)",
                         *rate));
      }
      p_.log_rate = *rate;
    }
    if (auto prefix = string_at(*lg, "prefix", "logging.prefix")) {
      bool ok = !prefix->empty() && prefix->size() <= 28;  // iptables' --log-prefix limit: 29
      for (char c : *prefix) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                    c == ':' || c == ' ' || c == '.');
      }
      if (!ok) {
        fail(region(*lg, "prefix"), "logging.prefix",
             "expected 1-28 characters among letters, digits, '-', '_', ':', '.', ' '");
      }
      p_.log_prefix = *prefix;
    }
  }

  void read_egress(const toml::table& root) {
    const toml::table* eg = table_at(root, "egress", "egress");
    if (!eg) return;
    expect_keys(*eg, "egress", {"restrict_smtp", "mta_user"});
    p_.egress_smtp_restricted =
        bool_at(*eg, "restrict_smtp", "egress.restrict_smtp").value_or(false);
    auto user = string_at(*eg, "mta_user", "egress.mta_user");
    if (p_.egress_smtp_restricted) {
      if (!user || user->empty()) {
        fail(eg->source(), "egress.mta_user",
             "restrict_smtp needs the user the MTA delivers as (postfix, also on Zimbra: "
             "localconfig postfix_mail_owner)");
      }
      bool ok = user->size() <= 32 &&
                (std::islower(static_cast<unsigned char>((*user)[0])) || (*user)[0] == '_');
      for (char c : *user) {
        ok = ok && (std::islower(static_cast<unsigned char>(c)) ||
                    std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-');
      }
      if (!ok) {
        fail(region(*eg, "mta_user"), "egress.mta_user",
             fmt::format("'{}' is not a user name", *user));
      }
      p_.egress_mta_user = *user;
    }
  }

  // Every role of the installation: an extra port may not contradict the catalog on any node.
  std::vector<std::string> all_roles() const {
    if (p_.topology == Topology::single) return p_.roles;
    std::vector<std::string> roles;
    for (const auto& n : p_.nodes) {
      for (const auto& r : n.roles) {
        if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
      }
    }
    return roles;
  }

  bool console_reachable() const {
    if (p_.admin_console == AdminConsoleMode::ssh_tunnel_only) return false;
    // Only a product whose catalog has an admin console has a mode to speak of.
    return std::find_if(catalog_.features.begin(), catalog_.features.end(), [](auto& f) {
             return f.rfind("admin-console", 0) == 0;
           }) != catalog_.features.end();
  }

  void cross_checks(const toml::table& root) {
    bool no_admin = p_.admin_networks.empty();
    if (no_admin && console_reachable()) {
      fail(console_region_ ? *console_region_ : root.source(), "networks.admin_ipv4",
           fmt::format("admin_console.mode = \"{}\" with no admin networks would make the admin "
                       "console public; list admin networks or use ssh-tunnel-only",
                       admin_console_mode_name(p_.admin_console)));
    }
    if (!ssh_enabled_) {
      p_.ssh_port = 0;
    } else if (no_admin && p_.ssh_exposure == Exposure::admin) {
      fail(ssh_region_ ? *ssh_region_ : root.source(), "ssh.from",
           "SSH from the admin networks, but there are none: SSH would be closed to everyone "
           "(a lockout); list admin networks, or set ssh.from = \"anywhere\" or ssh.enabled = "
           "false");
    }
    for (const auto& ep : p_.extra_ports) {
      if (ep.exposure == Exposure::admin && no_admin) {
        throw PolicyError{
            fmt::format("{}: extra_port: class 'admin' but there are no admin "
                        "networks: the port would be closed to everyone",
                        ep.location)};
      }
      if (ep.exposure == Exposure::cluster && p_.cluster_networks.empty() && p_.nodes.empty()) {
        throw PolicyError{
            fmt::format("{}: extra_port: class 'cluster' but there are no cluster "
                        "networks: the port would be closed to everyone",
                        ep.location)};
      }
    }
  }

  std::string_view source_;
  const PortCatalog& catalog_;
  SitePolicy p_;
  bool ssh_enabled_ = true;
  std::optional<toml::source_region> ssh_region_;
  std::optional<toml::source_region> console_region_;
};

}  // namespace

Result<SitePolicy> parse_policy(std::string_view text, std::string_view source,
                                const PortCatalog& catalog) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Error{fmt::format("{}:{}:{}: {}", source, e.source().begin.line, e.source().begin.column,
                             e.description())};
  }
  try {
    return PolicyReader(source, catalog).read(root);
  } catch (const PolicyError& e) {
    return Error{e.message};
  }
}

std::vector<std::string> node_names(const SitePolicy& policy) {
  std::vector<std::string> names;
  for (const auto& n : policy.nodes) names.push_back(n.name);
  return names;
}

Result<SitePolicy> policy_for_node(const SitePolicy& policy, std::string_view node) {
  if (policy.topology == Topology::single) {
    if (!node.empty() && node != policy.hostname) {
      return Error{fmt::format("{}: no node '{}': this single-server policy describes {}",
                               policy.source, node, policy.hostname)};
    }
    return policy;
  }
  const ClusterNode* found = nullptr;
  for (const auto& n : policy.nodes) {
    if (n.name == node) found = &n;
  }
  if (!found) {
    std::string names;
    for (const auto& n : policy.nodes) names += (names.empty() ? "" : ", ") + n.name;
    return Error{fmt::format(
        "{}: {}: choose a node of this multi-server policy: {}", policy.source,
        node.empty() ? std::string("no node given") : fmt::format("no node '{}'", node), names)};
  }
  SitePolicy out = policy;
  out.hostname = found->name;
  out.roles = found->roles;
  for (const auto& n : policy.nodes) {
    out.cluster_networks.insert(out.cluster_networks.end(), n.addresses.begin(), n.addresses.end());
  }
  return out;
}

Result<LoadedPolicy> load_policy(const std::string& path) {
  auto text = read_file(path, std::size_t{1} << 20);
  if (!text) return text.error();
  // The product decides the catalog, which the full parse needs: read it first.
  std::string product;
  try {
    toml::table root = toml::parse(*text, path);
    product = root["host"]["product"].value_or(std::string());
  } catch (const toml::parse_error& e) {
    return Error{fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                             e.description())};
  }
  if (product.empty()) {
    return Error{
        fmt::format("{}: host.product: missing (zimbra, postfix-dovecot or exchange)", path)};
  }
  if (product.find('/') != std::string::npos || product.find("..") != std::string::npos) {
    return Error{fmt::format("{}: host.product: '{}' is not a product name", path, product)};
  }
  auto catalog = load_product_catalog(product);
  if (!catalog) {
    return Error{fmt::format("{}: host.product: '{}': {}", path, product, catalog.error().message)};
  }
  auto policy = parse_policy(*text, path, *catalog);
  if (!policy) return policy.error();
  return LoadedPolicy{std::move(*policy), std::move(*catalog)};
}

}  // namespace mw
