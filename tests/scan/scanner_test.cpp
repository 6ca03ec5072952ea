// What each connect / receive errno means, as nmap -sT reads them, and HOST validation.
#include "scan/scanner.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace mw::scan {
namespace {

struct Case {
  int err;
  bool at_once;
  PortState want;
};

TEST(ClassifyTcp, ErrnoTable) {
  const Case cases[] = {
      {0, false, PortState::open},
      {ECONNREFUSED, false, PortState::closed},     // RST, or ICMP port unreachable
      {ECONNREFUSED, true, PortState::closed},      // loopback refuses at once
      {EHOSTUNREACH, false, PortState::filtered},   // ICMP host unreachable / admin prohibited
      {ENETUNREACH, false, PortState::filtered},    // ICMP net unreachable
      {EACCES, false, PortState::filtered},         // ICMPv6 administratively prohibited
      {ETIMEDOUT, false, PortState::filtered},      // the kernel gave up
      {ENETUNREACH, true, PortState::unreachable},  // no route: nothing sent
      {EHOSTUNREACH, true, PortState::unreachable},
      {EPERM, true, PortState::filtered},  // this machine's OUTPUT drops it
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classify_tcp(c.err, c.at_once).state, c.want)
        << "errno " << c.err << (c.at_once ? " at once" : "");
  }
  EXPECT_EQ(classify_tcp(ECONNREFUSED, false).detail, "RST");
}

TEST(ClassifyUdp, PortUnreachableIsClosedOtherIcmpFiltered) {
  EXPECT_EQ(classify_udp_error(ECONNREFUSED, false).state, PortState::closed);
  EXPECT_EQ(classify_udp_error(EHOSTUNREACH, false).state, PortState::filtered);
  EXPECT_EQ(classify_udp_error(ENETUNREACH, true).state, PortState::unreachable);
}

TEST(UdpCheckable, OnlyMemcachedAndSnmp) {
  EXPECT_TRUE(udp_checkable(11211));
  EXPECT_TRUE(udp_checkable(161));
  EXPECT_FALSE(udp_checkable(514));
  EXPECT_FALSE(udp_checkable(53));
}

TEST(ResolveHost, LiteralsAreTakenAsGiven) {
  auto v4 = resolve_host("192.0.2.1");
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  ASSERT_EQ(v4->size(), 1u);
  EXPECT_EQ(to_string(v4->front()), "192.0.2.1");
  auto v6 = resolve_host("2001:db8::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->front().family, Family::v6);
}

TEST(ResolveHost, RefusesRangesListsAndPrefixes) {
  for (const char* h : {"192.0.2.0/24", "2001:db8::/64", "192.0.2.1-20", "192.0.2.1,192.0.2.2",
                        "192.0.2.*", "10.1", "192.0.2.300", "fe80::1%eth0", ""}) {
    auto r = resolve_host(h);
    EXPECT_FALSE(r.ok()) << h;
  }
  EXPECT_NE(resolve_host("192.0.2.0/24").error().message.find("one host"), std::string::npos);
}

TEST(ResolveHost, NamesResolveToOneAddressPerFamily) {
  auto r = resolve_host("localhost");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LE(r->size(), 2u);
  if (r->size() == 2) {
    EXPECT_NE((*r)[0].family, (*r)[1].family);
  }
}

TEST(LocalSource, LoopbackFromLoopback) {
  auto a = local_source_for(*parse_address("127.0.0.1"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(to_string(*a), "127.0.0.1");
}

}  // namespace
}  // namespace mw::scan
