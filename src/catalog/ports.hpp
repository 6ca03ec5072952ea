// The port catalog: every port the hardening guides (and the products' own attribute tables)
// name, with its exposure class per (role, topology). Loaded from catalog/ports/*.toml.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/port_set.hpp"
#include "core/result.hpp"

namespace mw {

// Who may open a connection to a port.
//   public   : anyone, IPv4 and IPv6
//   admin    : only the site's admin networks
//   cluster  : only the other nodes of a multi-server install (cluster networks)
//   loopback : nobody from outside; the service talks to this host only
enum class Exposure : std::uint8_t { public_, admin, cluster, loopback };
std::string_view exposure_name(Exposure e);  // "public", "admin", "cluster", "loopback"
std::optional<Exposure> parse_exposure(std::string_view text);

enum class Topology : std::uint8_t { single, multi };
std::string_view topology_name(Topology t);  // "single", "multi"
std::optional<Topology> parse_topology(std::string_view text);

struct PortFact {
  std::uint16_t port = 0;
  Protocol protocol = Protocol::tcp;
  std::string service;      // short name: "smtp", "ldap", "zimbra-admin-console"
  std::string description;  // one line for people
  // Class on a single-server install; nullopt when nothing listens there in that topology.
  std::optional<Exposure> single;
  // Class per role in a multi-server install, for the roles whose nodes listen on the port.
  std::map<std::string, Exposure> multi;
  // Optional feature the port belongs to: the site policy can switch features off, which
  // closes their ports ("imap", "pop", "chat", "admin-console-direct", "admin-console-proxy").
  std::string feature;
  // Never to be opened to anyone outside, whatever the policy says (11211/udp: memcached
  // amplification). A policy that tries is refused.
  bool never_public = false;
  std::string attribute;  // the product setting that moves the port (zimbraAdminPort), or ""
  std::string source;     // where the fact comes from: guide and section, or attribute default
  std::string location;   // "catalog/ports/zimbra.toml:42" for messages
};

struct PortCatalog {
  std::string product;                // "zimbra", "postfix-dovecot", "exchange"
  std::string title;                  // "Zimbra Collaboration 10.x"
  std::vector<std::string> roles;     // roles a multi-server node can have
  std::vector<std::string> features;  // features the policy may switch off
  // Features off unless the policy switches them on (they do not listen after a default
  // install: Zimbra's client-certificate ports, Exchange's POP3/IMAP4 services).
  std::vector<std::string> default_off;
  std::vector<PortFact> ports;  // sorted by (protocol, port)
  std::string location;         // the file it was loaded from

  const PortFact* find(Protocol proto, std::uint16_t port) const;

  // The classes a port has on a host of this topology with these roles: empty when no role of
  // the host listens on it. On a single server, roles are ignored (the host has all of them).
  std::vector<Exposure> exposure(const PortFact& fact, Topology topology,
                                 const std::vector<std::string>& host_roles) const;
};

// Parses one catalog file's text; `name` is used in error messages (file:line:column).
// Rejects: unknown keys, missing fields, a port outside 1-65535, unknown protocol or class,
// a multi-server role not declared in `roles`, a feature not declared in `features`,
// the same (protocol, port) twice.
Result<PortCatalog> parse_port_catalog(std::string_view text, std::string_view name);
Result<PortCatalog> load_port_catalog(const std::filesystem::path& file);

// The catalog directory: $MAILWARDEN_CATALOG if set, else the compiled-in default.
std::filesystem::path catalog_dir();
// Loads catalog_dir()/ports/<product>.toml.
Result<PortCatalog> load_product_catalog(std::string_view product);

}  // namespace mw
