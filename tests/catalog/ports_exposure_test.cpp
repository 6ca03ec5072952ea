// Exposure classes per topology and role, on the shipped catalogs and on a hand-made one.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "catalog/ports.hpp"

namespace mw {
namespace {

using E = Exposure;
using P = Protocol;
using Classes = std::vector<Exposure>;

PortCatalog load(const char* product) {
  auto cat = load_product_catalog(product);
  if (!cat.ok()) {
    ADD_FAILURE() << cat.error().message;
    return {};
  }
  return *std::move(cat);
}

// The classes of proto/port on a host, or a failure when the catalog lacks the port.
std::optional<Classes> classes(const PortCatalog& cat, P proto, std::uint16_t port, Topology t,
                               const std::vector<std::string>& roles = {}) {
  const PortFact* f = cat.find(proto, port);
  if (f == nullptr) return std::nullopt;
  return cat.exposure(*f, t, roles);
}

std::optional<Classes> single(const PortCatalog& cat, std::uint16_t port, P proto = P::tcp) {
  return classes(cat, proto, port, Topology::single);
}

std::optional<Classes> multi(const PortCatalog& cat, std::vector<std::string> roles,
                             std::uint16_t port, P proto = P::tcp) {
  return classes(cat, proto, port, Topology::multi, roles);
}

const Classes kPublic{E::public_};
const Classes kAdmin{E::admin};
const Classes kCluster{E::cluster};
const Classes kLoopback{E::loopback};
const Classes kNone{};

TEST(catalog_names, ExposureAndTopologyRoundTrip) {
  for (E e : {E::public_, E::admin, E::cluster, E::loopback}) {
    EXPECT_EQ(parse_exposure(exposure_name(e)), e);
  }
  EXPECT_EQ(exposure_name(E::public_), "public");
  EXPECT_EQ(exposure_name(E::loopback), "loopback");
  EXPECT_FALSE(parse_exposure("Public").has_value());
  EXPECT_FALSE(parse_exposure("").has_value());
  EXPECT_EQ(topology_name(Topology::single), "single");
  EXPECT_EQ(topology_name(Topology::multi), "multi");
  EXPECT_EQ(parse_topology("multi"), Topology::multi);
  EXPECT_EQ(parse_topology("single"), Topology::single);
  EXPECT_FALSE(parse_topology("multi-server").has_value());
}

TEST(catalog_exposure, MultiIsTheUnionOverRolesInEnumOrder) {
  auto cat = parse_port_catalog(R"(product = "demo"
title = "t"
roles = ["a", "b", "c"]

[[port]]
port = 1
protocol = "tcp"
service = "s"
description = "d"
multi = { a = "loopback", b = "public", c = "loopback" }
source = "x"
)",
                                "demo.toml");
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  const PortFact& f = cat->ports.at(0);
  EXPECT_EQ(cat->exposure(f, Topology::multi, {"c", "a", "b"}), (Classes{E::public_, E::loopback}));
  EXPECT_EQ(cat->exposure(f, Topology::multi, {"c", "a"}), kLoopback);
  EXPECT_EQ(cat->exposure(f, Topology::multi, {"unknown-role"}), kNone);
  EXPECT_EQ(cat->exposure(f, Topology::multi, {}), kNone);
  EXPECT_EQ(cat->exposure(f, Topology::single, {"a"}), kNone) << "no single class: not listening";
}

TEST(catalog_exposure, FindUsesProtocolAndPort) {
  const PortCatalog cat = load("zimbra");
  const PortFact* tcp = cat.find(P::tcp, 11211);
  const PortFact* udp = cat.find(P::udp, 11211);
  ASSERT_NE(tcp, nullptr);
  ASSERT_NE(udp, nullptr);
  EXPECT_NE(tcp, udp);
  EXPECT_EQ(cat.find(P::udp, 25), nullptr);
  EXPECT_EQ(cat.find(P::tcp, 1), nullptr);
  EXPECT_EQ(cat.find(P::tcp, 65535), nullptr);
}

TEST(catalog_zimbra_single, Classes) {
  const PortCatalog cat = load("zimbra");
  for (std::uint16_t p : {25, 465, 587, 80, 443, 110, 143, 993, 995, 5222, 5223, 3443}) {
    EXPECT_EQ(single(cat, p), kPublic) << p;
  }
  for (std::uint16_t p : {22, 7071, 9071}) EXPECT_EQ(single(cat, p), kAdmin) << p;
  for (std::uint16_t p :
       {389,  636,  11211, 7025, 7026, 7047, 7072, 7073, 7110, 7143, 7171,  7306,  7780,
        7993, 7995, 8080,  8443, 8465, 8735, 8736, 3310, 5269, 7285, 10663, 23232, 23233}) {
    EXPECT_EQ(single(cat, p), kLoopback) << p;
  }
  for (std::uint16_t p = 10024; p <= 10032; ++p) EXPECT_EQ(single(cat, p), kLoopback) << p;
  EXPECT_EQ(single(cat, 11211, P::udp), kLoopback);
  EXPECT_TRUE(cat.find(P::udp, 11211)->never_public);
  EXPECT_FALSE(cat.find(P::tcp, 11211)->never_public);
  EXPECT_EQ(single(cat, 161, P::udp), kLoopback);
  EXPECT_EQ(single(cat, 514, P::udp), kLoopback);
}

TEST(catalog_zimbra_single, FeaturesGateTheirPorts) {
  const PortCatalog cat = load("zimbra");
  EXPECT_EQ(cat.find(P::tcp, 7071)->feature, "admin-console-direct");
  EXPECT_EQ(cat.find(P::tcp, 9071)->feature, "admin-console-proxy");
  for (std::uint16_t p : {143, 993, 7143, 7993}) EXPECT_EQ(cat.find(P::tcp, p)->feature, "imap");
  for (std::uint16_t p : {110, 995, 7110, 7995}) EXPECT_EQ(cat.find(P::tcp, p)->feature, "pop");
  for (std::uint16_t p : {5222, 5223, 5269}) EXPECT_EQ(cat.find(P::tcp, p)->feature, "chat");
  for (std::uint16_t p : {25, 443, 22, 389}) EXPECT_EQ(cat.find(P::tcp, p)->feature, "") << p;
}

TEST(catalog_zimbra_multi, ClassesPerRole) {
  const PortCatalog cat = load("zimbra");
  // LDAP: cluster on the directory nodes, absent elsewhere.
  EXPECT_EQ(multi(cat, {"ldap"}, 389), kCluster);
  EXPECT_EQ(multi(cat, {"ldap"}, 636), kCluster);
  EXPECT_EQ(multi(cat, {"mta"}, 389), kNone);
  EXPECT_EQ(multi(cat, {"mailbox"}, 389), kNone);
  // memcached: cluster on the proxies; UDP never beyond loopback.
  EXPECT_EQ(multi(cat, {"proxy"}, 11211), kCluster);
  EXPECT_EQ(multi(cat, {"mailbox"}, 11211), kNone);
  EXPECT_EQ(multi(cat, {"proxy"}, 11211, P::udp), kLoopback);
  // The MTA: public SMTP, its filters loopback only.
  for (std::uint16_t p : {25, 465, 587}) EXPECT_EQ(multi(cat, {"mta"}, p), kPublic) << p;
  for (std::uint16_t p = 10024; p <= 10032; ++p) EXPECT_EQ(multi(cat, {"mta"}, p), kLoopback) << p;
  for (std::uint16_t p : {3310, 7026, 8465, 23232, 23233})
    EXPECT_EQ(multi(cat, {"mta"}, p), kLoopback) << p;
  // The proxy: the client ports and 9071.
  for (std::uint16_t p : {80, 443, 110, 143, 993, 995})
    EXPECT_EQ(multi(cat, {"proxy"}, p), kPublic) << p;
  EXPECT_EQ(multi(cat, {"proxy"}, 9071), kAdmin);
  // The mailbox: backends reached by MTAs and proxies, 7071 for admins.
  for (std::uint16_t p : {7025, 7072, 7073, 7110, 7143, 7993, 7995, 8080, 8443, 7780, 8735, 8736})
    EXPECT_EQ(multi(cat, {"mailbox"}, p), kCluster) << p;
  EXPECT_EQ(multi(cat, {"mailbox"}, 7071), kAdmin);
  EXPECT_EQ(multi(cat, {"mailbox"}, 7306), kLoopback);
  EXPECT_EQ(multi(cat, {"mailbox"}, 7047), kLoopback);
  // A mailbox-only node has no public SMTP and no proxy ports.
  for (std::uint16_t p : {25, 465, 587, 80, 443, 993, 9071})
    EXPECT_EQ(multi(cat, {"mailbox"}, p), kNone) << p;
  EXPECT_EQ(multi(cat, {"mta"}, 7025), kNone);
  // The logger receives syslog from the other nodes.
  EXPECT_EQ(multi(cat, {"logger"}, 514, P::udp), kCluster);
  EXPECT_EQ(multi(cat, {"mta"}, 514, P::udp), kNone);
  // SSH and zmconfigd are on every node.
  for (const char* role : {"mta", "proxy", "mailbox", "ldap", "logger"}) {
    EXPECT_EQ(multi(cat, {role}, 22), kAdmin) << role;
    EXPECT_EQ(multi(cat, {role}, 7171), kLoopback) << role;
  }
}

TEST(catalog_zimbra_multi, NodeWithSeveralRolesGetsTheUnion) {
  const PortCatalog cat = load("zimbra");
  const std::vector<std::string> roles{"mta", "mailbox"};
  EXPECT_EQ(multi(cat, roles, 25), kPublic);
  EXPECT_EQ(multi(cat, roles, 7025), kCluster);
  EXPECT_EQ(multi(cat, roles, 10024), kLoopback);
  EXPECT_EQ(multi(cat, roles, 443), kNone);
}

TEST(catalog_zimbra, EveryPortTheGuidesNameIsCatalogued) {
  const PortCatalog cat = load("zimbra");
  // The multi-server list of the Zimbra wiki "Ports", the ufw profile's extras, and the ports
  // Zimbra listens on that the guides forget.
  const std::vector<std::uint16_t> tcp = {
      25,   80,   110,  143,  389,  443,  465,   587,   636,   993,  995,  3310, 3443, 5222,
      5223, 5269, 7025, 7026, 7047, 7071, 7072,  7073,  7110,  7143, 7171, 7306, 7780, 7993,
      7995, 8080, 8443, 8735, 8736, 9071, 11211, 23232, 23233, 22,   7285, 8465, 10663};
  for (std::uint16_t p : tcp) EXPECT_NE(cat.find(P::tcp, p), nullptr) << "tcp/" << p;
  for (std::uint16_t p = 10024; p <= 10032; ++p)
    EXPECT_NE(cat.find(P::tcp, p), nullptr) << "tcp/" << p;
  for (std::uint16_t p : {11211, 161, 514}) EXPECT_NE(cat.find(P::udp, p), nullptr) << "udp/" << p;
}

TEST(catalog_exchange, SingleServer) {
  const PortCatalog cat = load("exchange");
  for (std::uint16_t p : {25, 80, 443, 587, 110, 995, 143, 993})
    EXPECT_EQ(single(cat, p), kPublic) << p;
  for (std::uint16_t p : {3389, 5985, 5986}) EXPECT_EQ(single(cat, p), kAdmin) << p;
  for (std::uint16_t p : {81, 444, 465, 475, 717, 2525, 135, 1110, 1143})
    EXPECT_EQ(single(cat, p), kLoopback) << p;
  // No DAG and no Edge on a single server.
  for (std::uint16_t p : {64327, 50636, 50389}) EXPECT_EQ(single(cat, p), kNone) << p;
  EXPECT_EQ(cat.find(P::tcp, 993)->feature, "imap");
  EXPECT_EQ(cat.find(P::tcp, 995)->feature, "pop");
}

TEST(catalog_exchange, MultiServer) {
  const PortCatalog cat = load("exchange");
  EXPECT_EQ(multi(cat, {"edge"}, 25), kPublic);
  EXPECT_EQ(multi(cat, {"edge"}, 50636), kCluster);
  EXPECT_EQ(multi(cat, {"edge"}, 50389), kLoopback);
  EXPECT_EQ(multi(cat, {"edge"}, 443), kNone);
  EXPECT_EQ(multi(cat, {"mailbox"}, 50636), kNone);
  EXPECT_EQ(multi(cat, {"mailbox"}, 443), kPublic);
  for (std::uint16_t p : {444, 2525, 475, 465, 717, 135, 64327})
    EXPECT_EQ(multi(cat, {"mailbox"}, p), kCluster) << p;
  EXPECT_EQ(multi(cat, {"edge"}, 3389), kAdmin);
}

TEST(catalog_postfix_dovecot, SingleServer) {
  const PortCatalog cat = load("postfix-dovecot");
  for (std::uint16_t p : {25, 465, 587, 110, 995, 143, 993, 4190, 80, 443})
    EXPECT_EQ(single(cat, p), kPublic) << p;
  EXPECT_EQ(single(cat, 22), kAdmin);
  for (std::uint16_t p : {10024, 10025, 783, 11332, 11333, 11334, 3306, 5432, 6379, 389, 24, 10023,
                          12525, 8891, 8893, 3310, 10031})
    EXPECT_EQ(single(cat, p), kLoopback) << p;
  EXPECT_EQ(cat.find(P::tcp, 4190)->feature, "sieve");
  EXPECT_EQ(cat.find(P::tcp, 443)->feature, "webmail");
  EXPECT_EQ(cat.find(P::tcp, 995)->feature, "pop");
}

TEST(catalog_postfix_dovecot, MultiServer) {
  const PortCatalog cat = load("postfix-dovecot");
  EXPECT_EQ(multi(cat, {"mta"}, 25), kPublic);
  EXPECT_EQ(multi(cat, {"imap"}, 25), kNone);
  EXPECT_EQ(multi(cat, {"imap"}, 993), kPublic);
  EXPECT_EQ(multi(cat, {"mta"}, 993), kNone);
  EXPECT_EQ(multi(cat, {"imap"}, 24), kCluster) << "LMTP from the MTAs";
  EXPECT_EQ(multi(cat, {"mta"}, 24), kNone);
  EXPECT_EQ(multi(cat, {"mta"}, 10024), kLoopback);
  EXPECT_EQ(multi(cat, {"mta", "imap"}, 22), kAdmin);
}

}  // namespace
}  // namespace mw
