// The site policy: what an administrator writes (TOML) to describe this host's role, its
// trusted networks and its choices; validated with file:line:column positions.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/ports.hpp"
#include "core/address_set.hpp"
#include "core/port_set.hpp"
#include "core/result.hpp"

namespace mw {

// How the Zimbra admin console (7071 direct, 9071 through the proxy) is reached.
enum class AdminConsoleMode : std::uint8_t {
  ssh_tunnel_only,  // 7071 and 9071 open to nobody: ssh -L 7071:localhost:7071 lowpriv@host
  proxy_9071,       // 9071 from the admin networks, 7071 closed
  direct,           // 7071 from the admin networks, 9071 closed
};
std::string_view admin_console_mode_name(AdminConsoleMode m);

struct ExtraPort {
  PortSet ports;
  Protocol protocol = Protocol::tcp;
  Exposure exposure = Exposure::admin;
  std::string comment;
  std::string location;  // "site.toml:31:1"
};

// One node of a multi-server installation: its name, roles and addresses. The addresses of
// all nodes are the cluster networks (plus any listed explicitly).
struct ClusterNode {
  std::string name;
  std::vector<std::string> roles;
  std::vector<Prefix> addresses;  // host prefixes (/32, /128) or small networks
  std::string location;
};

struct SitePolicy {
  std::string source;   // file name, for messages and generated headers
  std::string product;  // catalog product: "zimbra", "postfix-dovecot", "exchange"
  std::string hostname;
  Topology topology = Topology::single;
  std::vector<std::string> roles;  // multi-server: this node's roles; single: all
  std::vector<ClusterNode> nodes;  // multi-server: every node of the installation
  // Single server: its own addresses ([host] ipv4/ipv6), optional. They are trusted where a
  // server must reach itself through its public name (IIS /ecp restriction).
  std::vector<Prefix> host_addresses;

  std::vector<Prefix> admin_networks;    // as written (normalised), v4 and v6
  std::vector<Prefix> cluster_networks;  // multi-server nodes; empty on a single server

  // SSH: the port, and who may reach it (admin networks by default; "anywhere" is allowed,
  // with a warning, for hosts managed from unknown addresses).
  std::uint16_t ssh_port = 22;
  Exposure ssh_exposure = Exposure::admin;

  AdminConsoleMode admin_console = AdminConsoleMode::ssh_tunnel_only;
  std::set<std::string> disabled_features;  // catalog features switched off: "imap", "pop", "chat"
  std::vector<ExtraPort> extra_ports;

  bool log_drops = true;  // rate-limited log line before the final drop
  std::string log_rate = "5/minute";
  std::string log_prefix = "mailwarden-drop: ";

  // Egress control: only this user (the MTA's) may open outbound tcp/25, so that a web shell
  // or a compromised webmail cannot send around the MTA's rate limits.
  bool egress_smtp_restricted = false;
  std::string egress_mta_user;

  // Exchange / IIS: the web site whose /ecp is restricted, and whether a load balancer or
  // reverse proxy sits in front (IIS then reads the client from X-Forwarded-For).
  std::string iis_site = "Default Web Site";
  bool iis_proxy_mode = false;

  std::vector<std::string> warnings;  // positioned, for the operator

  AddressSet admin_set() const { return AddressSet::of(admin_networks); }
  AddressSet cluster_set() const { return AddressSet::of(cluster_networks); }
};

// Parses and validates a policy against the product's catalog (for roles, features and port
// conflicts). `source` names the file in messages. The first error is returned; warnings are
// collected in SitePolicy::warnings.
Result<SitePolicy> parse_policy(std::string_view text, std::string_view source,
                                const PortCatalog& catalog);

// The names of the nodes of a multi-server policy ("" for a single server's one host).
std::vector<std::string> node_names(const SitePolicy& policy);

// The policy as seen by one node of a multi-server installation: hostname and roles of that
// node, cluster networks extended with every node's addresses. An Error names the known nodes.
// For a single-server policy, `node` must be empty or the hostname.
Result<SitePolicy> policy_for_node(const SitePolicy& policy, std::string_view node);

// Reads the file, finds its product, loads that catalog and parses.
struct LoadedPolicy {
  SitePolicy policy;
  PortCatalog catalog;
};
Result<LoadedPolicy> load_policy(const std::string& path);

}  // namespace mw
