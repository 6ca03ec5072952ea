// FirewallPlan: what each port's allowed sources are for a policy, per topology and mode.
#include "firewall/plan.hpp"

#include <gtest/gtest.h>

#include "support/test_catalog.hpp"

namespace mw {
namespace {

using P = Protocol;

SitePolicy single_policy(AdminConsoleMode mode) {
  SitePolicy p;
  p.source = "t.toml";
  p.product = "zimbra";
  p.hostname = "mail.example.com";
  p.topology = Topology::single;
  p.roles = test::small_zimbra_catalog().roles;
  p.admin_networks = {*parse_prefix("198.51.100.0/28"), *parse_prefix("2001:db8:ad::/64")};
  p.admin_console = mode;
  return p;
}

std::string sources(const FirewallPlan& plan, P proto, std::uint16_t port) {
  return plan.allowed_sources(proto, port).to_string();
}

TEST(Plan, SingleServerClasses) {
  auto c = test::small_zimbra_catalog();
  auto plan = make_plan(single_policy(AdminConsoleMode::proxy_9071), c);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(sources(*plan, P::tcp, 25), "0.0.0.0/0, ::/0");
  EXPECT_EQ(sources(*plan, P::tcp, 443), "0.0.0.0/0, ::/0");
  EXPECT_EQ(sources(*plan, P::tcp, 22), "198.51.100.0/28, 2001:db8:ad::/64");
  EXPECT_EQ(sources(*plan, P::tcp, 9071), "198.51.100.0/28, 2001:db8:ad::/64");
  EXPECT_EQ(sources(*plan, P::tcp, 7071), "(none)");  // proxy mode closes the direct console
  EXPECT_EQ(sources(*plan, P::tcp, 389), "(none)");   // loopback on a single server
  EXPECT_EQ(sources(*plan, P::tcp, 11211), "(none)");
  EXPECT_EQ(sources(*plan, P::udp, 11211), "(none)");
  EXPECT_EQ(sources(*plan, P::tcp, 12345), "(none)");  // not in the catalog: default drop
  EXPECT_TRUE(plan->never_udp.contains(11211));
  EXPECT_EQ(plan->ports(P::tcp, Exposure::public_).to_string(), "25, 110, 143, 443, 5222");
  EXPECT_EQ(plan->ports(P::tcp, Exposure::admin).to_string(), "22, 9071");
  EXPECT_TRUE(plan->ports(P::tcp, Exposure::cluster).empty());
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("zmproxyconfig -e -w -C -H mail.example.com"), std::string::npos);
}

TEST(Plan, AdminConsoleModes) {
  auto c = test::small_zimbra_catalog();
  auto direct = make_plan(single_policy(AdminConsoleMode::direct), c);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(sources(*direct, P::tcp, 7071), "198.51.100.0/28, 2001:db8:ad::/64");
  EXPECT_EQ(sources(*direct, P::tcp, 9071), "(none)");

  auto tunnel = make_plan(single_policy(AdminConsoleMode::ssh_tunnel_only), c);
  ASSERT_TRUE(tunnel.ok());
  EXPECT_EQ(sources(*tunnel, P::tcp, 7071), "(none)");
  EXPECT_EQ(sources(*tunnel, P::tcp, 9071), "(none)");
  ASSERT_EQ(tunnel->notes.size(), 1u);
  EXPECT_NE(tunnel->notes[0].find("ssh -L 7071:localhost:7071 lowpriv@mail.example.com"),
            std::string::npos);
}

TEST(Plan, DisabledServicesCloseTheirPorts) {
  auto c = test::small_zimbra_catalog();
  auto p = single_policy(AdminConsoleMode::ssh_tunnel_only);
  p.disabled_features = {"pop", "chat"};
  auto plan = make_plan(p, c);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(sources(*plan, P::tcp, 110), "(none)");
  EXPECT_EQ(sources(*plan, P::tcp, 5222), "(none)");
  EXPECT_EQ(sources(*plan, P::tcp, 143), "0.0.0.0/0, ::/0");
  bool documented = false;
  for (const auto& cp : plan->closed) {
    if (cp.port == 110) documented = cp.why.find("'pop' switched off") != std::string::npos;
  }
  EXPECT_TRUE(documented);
}

TEST(Plan, SshFollowsThePolicy) {
  auto c = test::small_zimbra_catalog();
  auto p = single_policy(AdminConsoleMode::ssh_tunnel_only);
  p.ssh_port = 2222;
  p.ssh_exposure = Exposure::public_;
  auto plan = make_plan(p, c);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(sources(*plan, P::tcp, 2222), "0.0.0.0/0, ::/0");
  EXPECT_EQ(sources(*plan, P::tcp, 22), "(none)");
}

TEST(Plan, ExtraPortsAreOpened) {
  auto c = test::small_zimbra_catalog();
  auto p = single_policy(AdminConsoleMode::ssh_tunnel_only);
  ExtraPort ep;
  ep.ports = *parse_port_set("9100-9102");
  ep.exposure = Exposure::admin;
  ep.location = "t.toml:9:1";
  p.extra_ports.push_back(ep);
  auto plan = make_plan(p, c);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(sources(*plan, P::tcp, 9101), "198.51.100.0/28, 2001:db8:ad::/64");
  EXPECT_EQ(sources(*plan, P::tcp, 9103), "(none)");
}

SitePolicy multi_node(std::vector<std::string> roles, AdminConsoleMode mode) {
  SitePolicy p = single_policy(mode);
  p.topology = Topology::multi;
  p.roles = std::move(roles);
  p.cluster_networks = {*parse_prefix("192.0.2.0/29"), *parse_prefix("2001:db8:c::/64")};
  return p;
}

TEST(Plan, MultiServerMtaNode) {
  auto c = test::small_zimbra_catalog();
  auto plan = make_plan(multi_node({"mta"}, AdminConsoleMode::proxy_9071), c);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(sources(*plan, P::tcp, 25), "0.0.0.0/0, ::/0");
  EXPECT_EQ(sources(*plan, P::tcp, 389), "(none)");  // LDAP lives on the ldap node
  EXPECT_EQ(sources(*plan, P::tcp, 443), "(none)");  // and HTTPS on the proxy
  EXPECT_EQ(sources(*plan, P::tcp, 9071), "(none)");
}

TEST(Plan, MultiServerInternalPortsAreClusterOnly) {
  auto c = test::small_zimbra_catalog();
  auto ldap = make_plan(multi_node({"ldap"}, AdminConsoleMode::proxy_9071), c);
  ASSERT_TRUE(ldap.ok());
  EXPECT_EQ(sources(*ldap, P::tcp, 389), "192.0.2.0/29, 2001:db8:c::/64");
  EXPECT_EQ(sources(*ldap, P::tcp, 25), "(none)");

  auto proxy = make_plan(multi_node({"proxy"}, AdminConsoleMode::proxy_9071), c);
  ASSERT_TRUE(proxy.ok());
  EXPECT_EQ(sources(*proxy, P::tcp, 11211), "192.0.2.0/29, 2001:db8:c::/64");
  EXPECT_EQ(sources(*proxy, P::udp, 11211), "(none)");
  EXPECT_EQ(sources(*proxy, P::tcp, 9071), "198.51.100.0/28, 2001:db8:ad::/64");

  // The proxy forwards 9071 to the mailbox's 7071: in proxy mode the mailbox keeps 7071 open
  // to the cluster, never to the admin networks directly.
  auto mbox = make_plan(multi_node({"mailbox"}, AdminConsoleMode::proxy_9071), c);
  ASSERT_TRUE(mbox.ok());
  EXPECT_EQ(sources(*mbox, P::tcp, 7071), "192.0.2.0/29, 2001:db8:c::/64");
  EXPECT_EQ(sources(*mbox, P::tcp, 7025), "192.0.2.0/29, 2001:db8:c::/64");
  EXPECT_EQ(sources(*mbox, P::tcp, 8443), "192.0.2.0/29, 2001:db8:c::/64");

  auto mbox_tunnel = make_plan(multi_node({"mailbox"}, AdminConsoleMode::ssh_tunnel_only), c);
  ASSERT_TRUE(mbox_tunnel.ok());
  EXPECT_EQ(sources(*mbox_tunnel, P::tcp, 7071), "(none)");
}

TEST(Plan, AdminPortsWithoutAdminNetworksAreRefused) {
  auto c = test::small_zimbra_catalog();
  auto p = single_policy(AdminConsoleMode::direct);
  p.admin_networks.clear();
  auto plan = make_plan(p, c);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("no admin networks"), std::string::npos);
}

}  // namespace
}  // namespace mw
