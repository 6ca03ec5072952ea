// Site policy parsing and validation: accepted policies, and every refusal with its position.
#include "policy/policy.hpp"

#include <gtest/gtest.h>

#include "support/test_catalog.hpp"

namespace mw {
namespace {

const PortCatalog& catalog() {
  static const PortCatalog c = test::small_zimbra_catalog();
  return c;
}

constexpr const char* kGood = R"(
[host]
product = "zimbra"
hostname = "mail.example.com"

[networks]
admin_ipv4 = ["198.51.100.0/28"]
admin_ipv6 = ["2001:db8:ad::/120"]

[admin_console]
mode = "proxy-9071"

[services]
pop = false
chat = false

[[extra_port]]
ports = "9100-9101"
class = "admin"
comment = "exporters"
)";

TEST(Policy, ParsesAGoodSingleServerPolicy) {
  auto p = parse_policy(kGood, "site.toml", catalog());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->product, "zimbra");
  EXPECT_EQ(p->hostname, "mail.example.com");
  EXPECT_EQ(p->topology, Topology::single);
  EXPECT_EQ(p->roles, catalog().roles);
  EXPECT_EQ(p->admin_console, AdminConsoleMode::proxy_9071);
  EXPECT_EQ(p->disabled_features, (std::set<std::string>{"pop", "chat"}));
  ASSERT_EQ(p->admin_networks.size(), 2u);
  EXPECT_EQ(to_string(p->admin_networks[0]), "198.51.100.0/28");
  EXPECT_EQ(to_string(p->admin_networks[1]), "2001:db8:ad::/120");
  ASSERT_EQ(p->extra_ports.size(), 1u);
  EXPECT_EQ(p->extra_ports[0].ports.to_string(), "9100-9101");
  EXPECT_EQ(p->extra_ports[0].exposure, Exposure::admin);
  EXPECT_EQ(p->extra_ports[0].location, "site.toml:17:1");
  EXPECT_EQ(p->ssh_port, 22);
  EXPECT_EQ(p->ssh_exposure, Exposure::admin);
  EXPECT_TRUE(p->warnings.empty()) << p->warnings[0];
}

struct Refusal {
  std::string name;
  std::string text;
  std::string expected;  // substring of the error: position and field first
};

void PrintTo(const Refusal& r, std::ostream* os) {
  *os << r.name;
}

class PolicyRefusal : public testing::TestWithParam<Refusal> {};

TEST_P(PolicyRefusal, NamesPositionAndField) {
  auto p = parse_policy(GetParam().text, "site.toml", catalog());
  ASSERT_FALSE(p.ok()) << "accepted: " << GetParam().text;
  EXPECT_NE(p.error().message.find(GetParam().expected), std::string::npos)
      << "got: " << p.error().message << "\nexpected to contain: " << GetParam().expected;
}

const char* kHost = "[host]\nproduct = \"zimbra\"\nhostname = \"mail.example.com\"\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, PolicyRefusal,
    testing::Values(
        Refusal{"toml_syntax", "[host\n", "site.toml:1:"},
        Refusal{"unknown_top_key", "colour = 1\n" + std::string(kHost),
                "site.toml:1:1: colour: unknown key"},
        Refusal{"unknown_host_key", std::string(kHost) + "colour = 1\n",
                "site.toml:4:1: host.colour: unknown key"},
        Refusal{"unknown_nested_key",
                std::string(kHost) + "[networks]\nadmin = [\"198.51.100.1\"]\n",
                "site.toml:5:1: networks.admin: unknown key"},
        Refusal{"missing_host", "[networks]\n", "host: missing table [host]"},
        Refusal{"wrong_product", "[host]\nproduct = \"exchange\"\nhostname = \"a.b\"\n",
                "site.toml:2:11: host.product: 'exchange' does not match"},
        Refusal{"bad_hostname", "[host]\nproduct = \"zimbra\"\nhostname = \"a b\"\n",
                "site.toml:3:12: host.hostname: 'a b' is not a host name"},
        Refusal{"prefix_too_long",
                std::string(kHost) + "[networks]\nadmin_ipv4 = [\"10.0.0.1/33\"]\n",
                "site.toml:5:15: networks.admin_ipv4[0]: "},
        Refusal{"v4_where_v6", std::string(kHost) + "[networks]\nadmin_ipv6 = [\"192.0.2.0/24\"]\n",
                "site.toml:5:15: networks.admin_ipv6[0]: '192.0.2.0/24' is an IPv4 prefix where "
                "IPv6 is required"},
        Refusal{"v6_where_v4",
                std::string(kHost) + "[networks]\nadmin_ipv4 = [\"2001:db8::/32\"]\n",
                "networks.admin_ipv4[0]: '2001:db8::/32' is an IPv6 prefix where IPv4"},
        Refusal{"admin_everything_v4",
                std::string(kHost) + "[networks]\nadmin_ipv4 = [\"0.0.0.0/0\"]\n",
                "site.toml:5:15: networks.admin_ipv4[0]: '0.0.0.0/0' is the whole IPv4 Internet"},
        Refusal{"admin_everything_v6", std::string(kHost) + "[networks]\nadmin_ipv6 = [\"::/0\"]\n",
                "networks.admin_ipv6[0]: '::/0' is the whole IPv6 Internet"},
        Refusal{
            "console_without_admin",
            std::string(kHost) + "[ssh]\nfrom = \"anywhere\"\n[admin_console]\nmode = \"direct\"\n",
            "site.toml:7:8: networks.admin_ipv4: admin_console.mode = \"direct\" with no admin "
            "networks would make the admin console public"},
        Refusal{"ssh_lockout", std::string(kHost),
                "ssh.from: SSH from the admin networks, but there are none"},
        Refusal{"bad_console_mode", std::string(kHost) + "[admin_console]\nmode = \"open\"\n",
                "site.toml:5:8: admin_console.mode: 'open' is not a mode"},
        Refusal{"unknown_service", std::string(kHost) + "[services]\nftp = false\n",
                "site.toml:5:1: services.ftp: unknown key (expected one of: imap, pop, chat)"},
        Refusal{"port_in_two_classes",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[[extra_port]]\nports = 389\n"
                    "class = \"public\"\n",
                "site.toml:8:9: extra_port[0].class: 389/tcp (ldap) is already class 'loopback' "
                "in the catalog (test.toml:389)"},
        Refusal{"extra_ports_overlap",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[[extra_port]]\nports = "
                    "\"9000-9010\"\nclass = \"public\"\n[[extra_port]]\nports = \"9010\"\nclass = "
                    "\"admin\"\n",
                "extra_port[1].class: ports 9010/tcp are class 'admin' here and class 'public' in "
                "extra_port[0] (site.toml:6:1)"},
        Refusal{"never_public_port",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[[extra_port]]\nports = 11211\n"
                    "protocol = \"udp\"\nclass = \"admin\"\n",
                "extra_port[0].ports: 11211/udp (memcached-udp) is never opened"},
        Refusal{"bad_port_list",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[[extra_port]]\nports = \"9-\"\n"
                    "class = \"admin\"\n",
                "site.toml:7:9: extra_port[0].ports: '9-'"},
        Refusal{"loopback_extra",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[[extra_port]]\nports = 9000\n"
                    "class = \"loopback\"\n",
                "extra_port[0].class: 'loopback' is not a class one opens"},
        Refusal{"cluster_extra_single",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[[extra_port]]\nports = 9000\n"
                    "class = \"cluster\"\n",
                "site.toml:6:1: extra_port: class 'cluster' but there are no cluster networks"},
        Refusal{"bad_rate",
                std::string(kHost) + "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[logging]\nrate "
                                     "= \"fast\"\n",
                "site.toml:7:8: logging.rate: 'fast' is not a rate"},
        Refusal{"egress_without_user",
                std::string(kHost) +
                    "[networks]\nadmin_ipv4 = [\"198.51.100.1\"]\n[egress]\nrestrict_smtp = true\n",
                "egress.mta_user: restrict_smtp needs the user the MTA delivers as (postfix"},
        Refusal{"multi_without_nodes",
                "[host]\nproduct = \"zimbra\"\ntopology = \"multi\"\n[networks]\nadmin_ipv4 = "
                "[\"198.51.100.1\"]\n",
                "node: a multi-server policy lists its hosts as [[node]] tables"},
        Refusal{"node_unknown_role",
                "[host]\nproduct = \"zimbra\"\ntopology = \"multi\"\n[networks]\nadmin_ipv4 = "
                "[\"198.51.100.1\"]\n[[node]]\nname = \"a.example\"\nroles = [\"web\"]\nipv4 = "
                "[\"192.0.2.1\"]\n",
                "site.toml:8:10: node[0].roles[0]: unknown role 'web' for zimbra"},
        Refusal{"node_twice",
                "[host]\nproduct = \"zimbra\"\ntopology = \"multi\"\n[networks]\nadmin_ipv4 = "
                "[\"198.51.100.1\"]\n[[node]]\nname = \"a.example\"\nroles = [\"mta\"]\nipv4 = "
                "[\"192.0.2.1\"]\n[[node]]\nname = \"a.example\"\nroles = [\"ldap\"]\nipv4 = "
                "[\"192.0.2.2\"]\n",
                "site.toml:11:8: node[1].name: 'a.example' is already node at site.toml:6:1"},
        Refusal{"node_without_address",
                "[host]\nproduct = \"zimbra\"\ntopology = \"multi\"\n[networks]\nadmin_ipv4 = "
                "[\"198.51.100.1\"]\n[[node]]\nname = \"a.example\"\nroles = [\"mta\"]\n",
                "node[0]: a node needs its addresses"},
        Refusal{"nodes_on_single", std::string(kHost) + "[[node]]\nname = \"a\"\n",
                "site.toml:4:1: node: [[node]] "
                "tables belong to topology"}),
    [](const testing::TestParamInfo<Refusal>& info) { return info.param.name; });

TEST(Policy, WarnsAboutWholeLansAndPublicSsh) {
  std::string text = std::string(kHost) +
                     "[networks]\nadmin_ipv4 = [\"192.168.0.0/16\", \"198.51.100.7/32\"]\n"
                     "admin_ipv6 = [\"2001:db8::/48\"]\n[ssh]\nfrom = \"anywhere\"\n";
  auto p = parse_policy(text, "site.toml", catalog());
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->warnings.size(), 3u);
  EXPECT_NE(p->warnings[0].find("site.toml:5:15: warning: networks.admin_ipv4[0]: "
                                "192.168.0.0/16 is a whole network"),
            std::string::npos)
      << p->warnings[0];
  EXPECT_NE(p->warnings[1].find("networks.admin_ipv6[0]: 2001:db8::/48 is a whole network"),
            std::string::npos)
      << p->warnings[1];
  EXPECT_NE(p->warnings[2].find("ssh.from: SSH open to the whole Internet"), std::string::npos)
      << p->warnings[2];
}

TEST(Policy, HostBitsAreClearedWithAWarning) {
  std::string text = std::string(kHost) + "[networks]\nadmin_ipv4 = [\"198.51.100.5/30\"]\n";
  auto p = parse_policy(text, "site.toml", catalog());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(to_string(p->admin_networks[0]), "198.51.100.4/30");
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("site.toml:5:15: warning: networks.admin_ipv4[0]"),
            std::string::npos)
      << p->warnings[0];
}

constexpr const char* kMulti = R"(
[host]
product = "zimbra"
topology = "multi"
[networks]
admin_ipv4 = ["198.51.100.1"]
cluster_ipv6 = ["2001:db8:c::/64"]
[[node]]
name = "mta.example"
roles = ["mta"]
ipv4 = ["192.0.2.11"]
[[node]]
name = "mbox.example"
roles = ["mailbox", "ldap"]
ipv4 = ["192.0.2.12"]
)";

TEST(Policy, MultiServerNodesSelectRolesAndClusterNetworks) {
  auto p = parse_policy(kMulti, "m.toml", catalog());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(node_names(*p), (std::vector<std::string>{"mta.example", "mbox.example"}));
  auto mbox = policy_for_node(*p, "mbox.example");
  ASSERT_TRUE(mbox.ok()) << mbox.error().message;
  EXPECT_EQ(mbox->hostname, "mbox.example");
  EXPECT_EQ(mbox->roles, (std::vector<std::string>{"mailbox", "ldap"}));
  EXPECT_EQ(mbox->cluster_set().to_string(), "192.0.2.11/32, 192.0.2.12/32, 2001:db8:c::/64");

  auto none = policy_for_node(*p, "web.example");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no node 'web.example'"), std::string::npos);
  EXPECT_NE(none.error().message.find("mta.example, mbox.example"), std::string::npos);
}

}  // namespace
}  // namespace mw
