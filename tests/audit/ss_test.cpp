// ss -Htlnup parser: the example snapshots, address forms, processes, errors.
#include "audit/ss.hpp"

#include <gtest/gtest.h>

#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

TEST(Ss, DefaultSnapshotMemcachedTcpOnlyOnAllAddresses) {
  auto r = parse_ss(test::snapshot_file("zimbra-default", "ss-tlnp.txt"), "ss");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 38u);
  std::vector<const ListeningSocket*> memcached;
  for (const auto& s : *r) {
    if (s.local.port == 11211) memcached.push_back(&s);
  }
  ASSERT_EQ(memcached.size(), 2u);
  const auto& m = *memcached[0];
  EXPECT_EQ(m.proto, SocketProto::tcp);
  EXPECT_EQ(m.state, "LISTEN");
  EXPECT_EQ(m.send_q, 1024u);
  ASSERT_TRUE(m.local.address.has_value());
  EXPECT_EQ(to_string(*m.local.address), "0.0.0.0");
  EXPECT_TRUE(m.local.any_address());
  ASSERT_EQ(m.processes.size(), 1u);
  EXPECT_EQ(m.processes[0].name, "memcached");
  EXPECT_EQ(m.processes[0].pid, 1588);
  EXPECT_EQ(m.processes[0].fd, 26);
  EXPECT_EQ(memcached[1]->local.address->family, Family::v6);
  for (const auto& s : *r) EXPECT_EQ(s.proto, SocketProto::tcp);
  // Java binds dual-stack: "*:7071".
  const auto* admin = &(*r)[27];
  EXPECT_EQ(admin->local.port, 7071);
  EXPECT_FALSE(admin->local.address.has_value());
  EXPECT_TRUE(admin->local.any_address());
  EXPECT_FALSE(admin->peer.port.has_value());
  EXPECT_EQ((*r)[18].local.text, "192.0.2.10:389");
  EXPECT_FALSE((*r)[18].local.any_address());
  EXPECT_TRUE((*r)[7].local.loopback());
  EXPECT_TRUE((*r)[10].local.loopback());  // [::1]:10024
}

TEST(Ss, HardenedSnapshotMemcachedOnLoopback) {
  auto r = parse_ss(test::snapshot_file("zimbra-hardened", "ss-tlnp.txt"), "ss");
  ASSERT_TRUE(r.ok()) << r.error().message;
  int n = 0;
  for (const auto& s : *r) {
    if (s.local.port == 11211) {
      ++n;
      EXPECT_TRUE(s.local.loopback()) << s.local.text;
    }
  }
  EXPECT_EQ(n, 1);
}

TEST(Ss, AddressFormsUdpAndHeader) {
  const std::string text =
      "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
      "udp   UNCONN 0      0      127.0.0.53%lo:53 0.0.0.0:* users:((\"systemd-resolve\",pid=5,"
      "fd=13))\n"
      "udp   UNCONN 0      0      [fe80::1]%eth0:546 [::]:* users:((\"Web Content\",pid=7,fd=1),"
      "(\"x\",pid=8,fd=2))\n"
      "tcp   LISTEN 0      4096   [::ffff:127.0.0.1]:8080 *:*\n";
  auto r = parse_ss(text, "ss");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].proto, SocketProto::udp);
  EXPECT_EQ((*r)[0].local.iface, "lo");
  EXPECT_EQ(to_string(*(*r)[0].local.address), "127.0.0.53");
  EXPECT_EQ((*r)[0].local.port, 53);
  EXPECT_EQ((*r)[1].local.iface, "eth0");
  EXPECT_EQ(to_string(*(*r)[1].local.address), "fe80::1");
  ASSERT_EQ((*r)[1].processes.size(), 2u);
  EXPECT_EQ((*r)[1].processes[0].name, "Web Content");
  EXPECT_TRUE((*r)[2].local.loopback());
  EXPECT_TRUE((*r)[2].processes.empty());
  // Without -u there is no Netid column: tcp.
  auto t = parse_ss("LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", "ss");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ((*t)[0].proto, SocketProto::tcp);
}

TEST(Ss, Errors) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c :
       {Case{"raw LISTEN 0 0 1.2.3.4:1 *:*\n", "ss:1:1: expected tcp, udp or a socket state"},
        Case{"tcp LISTEN 0 0 1.2.3.4:1\n", "ss:1:1: expected [Netid] State"},
        Case{"tcp LISTEN x 0 1.2.3.4:1 *:*\n", "ss:1:12: expected a queue length, got 'x'"},
        Case{"tcp LISTEN 0 0 1.2.3.400:1 *:*\n", "ss:1:16: '1.2.3.400:1': "},
        Case{"tcp LISTEN 0 0 1.2.3.4:70000 *:*\n", "ss:1:16: '1.2.3.4:70000': port '70000'"},
        Case{"tcp LISTEN 0 0 1.2.3.4:ssh *:*\n", "ss:1:16: '1.2.3.4:ssh': port 'ssh'"},
        Case{"tcp LISTEN 0 0 1.2.3.4:* *:*\n", "ss:1:16: local port '*'"},
        Case{"tcp LISTEN 0 0 1.2.3.4:1 *:* users:((\"a\",pid=x,fd=1))\n",
             "ss:1:30: expected pid=N,fd=N"}}) {
    auto e = parse_ss(c.text, "ss");
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.error().message.rfind(c.error, 0), 0u) << e.error().message;
  }
}

}  // namespace
}  // namespace mw::audit
