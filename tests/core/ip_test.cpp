// Address and prefix parsing: accepted forms and their canonical text, every rejection with its
// exact message, warnings, and properties against glibc's inet_pton/inet_ntop as a reference.
#include "core/ip.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace mw {
namespace {

constexpr u128 v6(std::uint64_t hi, std::uint64_t lo) {
  return (u128{hi} << 64) | lo;
}

struct AddrCase {
  std::string text;
  Family family;
  u128 value;
  std::string canonical;
};
void PrintTo(const AddrCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class AcceptAddress : public testing::TestWithParam<AddrCase> {};

TEST_P(AcceptAddress, ParsesAndPrintsCanonically) {
  const auto& c = GetParam();
  auto a = parse_address(c.text);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->family, c.family);
  EXPECT_TRUE(a->value == c.value);
  EXPECT_EQ(to_string(*a), c.canonical);
  auto again = parse_address(c.canonical);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *a);
}

INSTANTIATE_TEST_SUITE_P(
    Core, AcceptAddress,
    testing::Values(
        AddrCase{"0.0.0.0", Family::v4, 0, "0.0.0.0"},
        AddrCase{"255.255.255.255", Family::v4, 0xffffffffu, "255.255.255.255"},
        AddrCase{"192.0.2.1", Family::v4, 0xc0000201u, "192.0.2.1"},
        AddrCase{"10.0.0.10", Family::v4, 0x0a00000au, "10.0.0.10"},
        AddrCase{"::", Family::v6, 0, "::"}, AddrCase{"::1", Family::v6, 1, "::1"},
        AddrCase{"1::", Family::v6, v6(0x0001000000000000, 0), "1::"},
        AddrCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Family::v6, ~u128{0},
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        AddrCase{"FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", Family::v6, ~u128{0},
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        AddrCase{"2001:DB8::1", Family::v6, v6(0x20010db800000000, 1), "2001:db8::1"},
        AddrCase{"2001:0db8:0000:0000:0000:0000:0000:0001", Family::v6, v6(0x20010db800000000, 1),
                 "2001:db8::1"},
        // RFC 5952 4.2.2: a single zero group is not compressed.
        AddrCase{"2001:db8:0:1:1:1:1:1", Family::v6, v6(0x20010db800000001, 0x0001000100010001),
                 "2001:db8:0:1:1:1:1:1"},
        AddrCase{"1:2:3:4:5:6:7::", Family::v6, v6(0x0001000200030004, 0x0005000600070000),
                 "1:2:3:4:5:6:7:0"},
        AddrCase{"::2:3:4:5:6:7:8", Family::v6, v6(0x0000000200030004, 0x0005000600070008),
                 "0:2:3:4:5:6:7:8"},
        // 4.2.3: the longest run is compressed; on a tie, the first.
        AddrCase{"2001:0:0:1:0:0:0:1", Family::v6, v6(0x2001000000000001, 1), "2001:0:0:1::1"},
        AddrCase{"2001:db8:0:0:1:0:0:1", Family::v6, v6(0x20010db800000000, 0x0001000000000001),
                 "2001:db8::1:0:0:1"},
        AddrCase{"fe80::1", Family::v6, v6(0xfe80000000000000, 1), "fe80::1"},
        // IPv4-mapped stays IPv6 and prints in mixed notation (RFC 5952 section 5).
        AddrCase{"::ffff:1.2.3.4", Family::v6, 0xffff01020304, "::ffff:1.2.3.4"},
        AddrCase{"::FFFF:1.2.3.4", Family::v6, 0xffff01020304, "::ffff:1.2.3.4"},
        AddrCase{"0:0:0:0:0:ffff:102:304", Family::v6, 0xffff01020304, "::ffff:1.2.3.4"},
        // Other embedded dotted quads print as hex groups.
        AddrCase{"::1.2.3.4", Family::v6, 0x01020304, "::102:304"},
        AddrCase{"64:ff9b::192.0.2.33", Family::v6, v6(0x0064ff9b00000000, 0xc0000221),
                 "64:ff9b::c000:221"},
        AddrCase{"1:2:3:4:5:6:1.2.3.4", Family::v6, v6(0x0001000200030004, 0x0005000601020304),
                 "1:2:3:4:5:6:102:304"}));

struct RejectCase {
  std::string text;
  std::string message;
};
void PrintTo(const RejectCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class RejectAddress : public testing::TestWithParam<RejectCase> {};

TEST_P(RejectAddress, WithExactMessage) {
  const auto& c = GetParam();
  auto a = parse_address(c.text);
  ASSERT_FALSE(a.ok()) << to_string(*a);
  EXPECT_EQ(a.error().message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Core, RejectAddress,
    testing::Values(
        RejectCase{"", "'': empty address"},
        RejectCase{"010.0.0.1",
                   "'010.0.0.1': octet 1 has a leading zero (ambiguous: some tools read it as "
                   "octal)"},
        RejectCase{"10.0.0.01",
                   "'10.0.0.01': octet 4 has a leading zero (ambiguous: some tools read it as "
                   "octal)"},
        RejectCase{"10.1",
                   "'10.1': expected 4 dot-separated octets, found 2 (shorthand like '10.1' is not "
                   "accepted)"},
        RejectCase{"1.2.3.4.5", "'1.2.3.4.5': expected 4 dot-separated octets, found 5"},
        RejectCase{"256.0.0.1", "'256.0.0.1': octet 1 is 256, above 255"},
        RejectCase{"1.2.3.99999999999999999999",
                   "'1.2.3.99999999999999999999': octet 4 is 999999999999..., above 255"},
        RejectCase{"1..2.3", "'1..2.3': octet 2 is empty (character 3)"},
        RejectCase{" 10.0.0.1", "' 10.0.0.1': whitespace at character 1"},
        RejectCase{"10.0.0.1 ", "'10.0.0.1 ': whitespace at character 9"},
        RejectCase{"10.0.0.1\n", "'10.0.0.1\\x0a': whitespace at character 9"},
        RejectCase{"2001:db8::\t1", "'2001:db8::\\x091': whitespace at character 11"},
        RejectCase{"10.0.0.0/8",
                   "'10.0.0.0/8': unexpected character '/' at character 9 (a prefix length is not "
                   "accepted here, only a single address)"},
        RejectCase{"10.0.0.1:25",
                   "'10.0.0.1:25': unexpected ':' at character 9 (a port is not accepted here, "
                   "only an address)"},
        RejectCase{"mail.example.com",
                   "'mail.example.com': unexpected character 'm' at character 1 (host names are "
                   "not accepted, only numeric addresses)"},
        RejectCase{"10.0.0.1\xc2\xa0",
                   "'10.0.0.1\\xc2\\xa0': unexpected character byte 0xc2 at "
                   "character 9"},
        RejectCase{"fe80::1%eth0",
                   "'fe80::1%eth0': zone id '%eth0' at character 8 is not accepted (an address in "
                   "a firewall set cannot name an interface)"},
        RejectCase{"1:2:3:4:5:6:7:8:9", "'1:2:3:4:5:6:7:8:9': more than 8 groups (character 17)"},
        RejectCase{"1:2:3:4:5:6:7",
                   "'1:2:3:4:5:6:7': has 7 groups, expected 8 (or '::' for a run of zero groups)"},
        RejectCase{"1:2:3:4:5:6:7:8::",
                   "'1:2:3:4:5:6:7:8::': has 8 groups besides '::', which must stand for at least "
                   "one zero group"},
        RejectCase{"1::2::3",
                   "'1::2::3': second '::' at character 5 (only one run of zeros may be "
                   "compressed)"},
        RejectCase{":1::", "':1::': starts with a single ':' (write '::' for leading zero groups)"},
        RejectCase{"1::2:", "'1::2:': ends with a single ':' (character 5)"},
        RejectCase{":::", "':::': unexpected ':' at character 3"},
        RejectCase{"12345::", "'12345::': group '12345' at character 1 has more than 4 hex digits"},
        RejectCase{"2001:db8::g", "'2001:db8::g': unexpected character 'g' at character 11"},
        RejectCase{"::1.2.3.04",
                   "'::1.2.3.04': embedded IPv4 part '1.2.3.04': octet 4 has a leading zero "
                   "(ambiguous: some tools read it as octal)"},
        RejectCase{"::1.2.3",
                   "'::1.2.3': embedded IPv4 part '1.2.3': expected 4 dot-separated octets, found "
                   "3 (shorthand like '10.1' is not accepted)"},
        RejectCase{"1:2:3:4:5:6:7:1.2.3.4",
                   "'1:2:3:4:5:6:7:1.2.3.4': more than 8 groups (an embedded IPv4 part counts as "
                   "2)"},
        RejectCase{"::1.2.3.4:5",
                   "'::1.2.3.4:5': embedded IPv4 part '1.2.3.4:5': unexpected character ':' at "
                   "character 10"},
        RejectCase{std::string(100, '1'),
                   "'" + std::string(64, '1') +
                       "...': expected 4 dot-separated octets, found 1 (shorthand like '10.1' is "
                       "not accepted)"}));

struct PrefixCase {
  std::string text;
  std::string canonical;
  std::vector<std::string> warnings;
};
void PrintTo(const PrefixCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class AcceptPrefix : public testing::TestWithParam<PrefixCase> {};

TEST_P(AcceptPrefix, ParsesNormalisesAndWarns) {
  const auto& c = GetParam();
  std::vector<std::string> warnings;
  auto p = parse_prefix(c.text, &warnings);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(to_string(*p), c.canonical);
  EXPECT_EQ(warnings, c.warnings);
  EXPECT_TRUE((p->first() & host_mask(p->addr.family, p->len)) == 0);
  // Without a warnings vector the result is the same.
  auto quiet = parse_prefix(c.text);
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(*quiet, *p);
  // The canonical text is a fixed point and draws no host-bits warning.
  std::vector<std::string> again_warnings;
  auto again = parse_prefix(c.canonical, &again_warnings);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *p);
  for (const auto& w : again_warnings) EXPECT_EQ(w.find("host bits"), std::string::npos) << w;
}

INSTANTIATE_TEST_SUITE_P(
    Core, AcceptPrefix,
    testing::Values(
        PrefixCase{"0.0.0.0/0", "0.0.0.0/0", {}}, PrefixCase{"::/0", "::/0", {}},
        PrefixCase{"255.255.255.255/32", "255.255.255.255/32", {}},
        PrefixCase{"255.255.255.255", "255.255.255.255/32", {}},
        PrefixCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
                   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
                   {}},
        PrefixCase{"2001:db8::/32", "2001:db8::/32", {}},
        PrefixCase{"10.0.0.0/8", "10.0.0.0/8", {}}, PrefixCase{"::1", "::1/128", {}},
        PrefixCase{"192.0.2.1", "192.0.2.1/32", {}},
        PrefixCase{"192.168.1.5/24",
                   "192.168.1.0/24",
                   {"'192.168.1.5/24': host bits set, using 192.168.1.0/24 (as nft does)"}},
        PrefixCase{"1.2.3.4/0",
                   "0.0.0.0/0",
                   {"'1.2.3.4/0': host bits set, using 0.0.0.0/0 (as nft does)"}},
        PrefixCase{"2001:db8::1/32",
                   "2001:db8::/32",
                   {"'2001:db8::1/32': host bits set, using 2001:db8::/32 (as nft does)"}},
        PrefixCase{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1",
                   "8000::/1",
                   {"'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/1': host bits set, using 8000::/1 "
                    "(as nft does)"}},
        PrefixCase{"::ffff:1.2.3.4",
                   "::ffff:1.2.3.4/128",
                   {"'::ffff:1.2.3.4': IPv4-mapped IPv6 address, kept as IPv6: it matches no IPv4 "
                    "packet (write 1.2.3.4 to filter IPv4)"}},
        PrefixCase{"::ffff:10.0.0.0/104",
                   "::ffff:10.0.0.0/104",
                   {"'::ffff:10.0.0.0/104': IPv4-mapped IPv6 address, kept as IPv6: it matches no "
                    "IPv4 packet (write 10.0.0.0/8 to filter IPv4)"}},
        // Covers more than the mapped range: no mapped warning.
        PrefixCase{"::/64", "::/64", {}}));

class RejectPrefix : public testing::TestWithParam<RejectCase> {};

TEST_P(RejectPrefix, WithExactMessage) {
  const auto& c = GetParam();
  std::vector<std::string> warnings;
  auto p = parse_prefix(c.text, &warnings);
  ASSERT_FALSE(p.ok()) << to_string(*p);
  EXPECT_EQ(p.error().message, c.message);
  EXPECT_TRUE(warnings.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Core, RejectPrefix,
    testing::Values(
        RejectCase{"10.0.0.1/33", "'10.0.0.1/33': prefix length 33 exceeds 32 for IPv4"},
        RejectCase{"::ffff:1.2.3.4/200", "'::ffff:1.2.3.4/200': prefix length 200 exceeds 128"},
        RejectCase{"::/129", "'::/129': prefix length 129 exceeds 128"},
        RejectCase{"10.0.0.0/99999999999999999999",
                   "'10.0.0.0/99999999999999999999': prefix length 999999999999... exceeds "
                   "32 for IPv4"},
        RejectCase{"", "'': empty address"}, RejectCase{"/8", "'/8': empty address before '/'"},
        RejectCase{"10.0.0.0/", "'10.0.0.0/': missing prefix length after '/'"},
        RejectCase{"10.0.0.0/08", "'10.0.0.0/08': prefix length '08' has a leading zero"},
        RejectCase{"::/00", "'::/00': prefix length '00' has a leading zero"},
        RejectCase{"10.0.0.0/+8",
                   "'10.0.0.0/+8': prefix length '+8' has a sign; write a plain number 0-32"},
        RejectCase{"::/-1", "'::/-1': prefix length '-1' has a sign; write a plain number 0-128"},
        RejectCase{"10.0.0.0/8/9", "'10.0.0.0/8/9': more than one '/' (character 11)"},
        RejectCase{"10.0.0.0/ 8", "'10.0.0.0/ 8': whitespace at character 10"},
        RejectCase{"10.0.0.0 /8", "'10.0.0.0 /8': whitespace at character 9"},
        RejectCase{"10.0.0.0/8a",
                   "'10.0.0.0/8a': prefix length '8a' is not a decimal number ('a' at character "
                   "11)"},
        RejectCase{"10.0.0.0/0x8",
                   "'10.0.0.0/0x8': prefix length '0x8' is not a decimal number ('x' at character "
                   "11)"},
        RejectCase{"fe80::%eth0/64",
                   "'fe80::%eth0/64': zone id '%eth0' at character 7 is not accepted (an address "
                   "in a firewall set cannot name an interface)"},
        RejectCase{"010.0.0.0/8",
                   "'010.0.0.0/8': octet 1 has a leading zero (ambiguous: some tools read it as "
                   "octal)"},
        RejectCase{"10.0.0/8",
                   "'10.0.0/8': expected 4 dot-separated octets, found 3 (shorthand like '10.1' "
                   "is not accepted)"}));

TEST(CoreIp, UnprintableInputGivesShortPrintableMessage) {
  const std::string junk = "::" + std::string(100, '\x01');
  for (const auto& msg :
       {parse_address(junk).error().message, parse_prefix(junk).error().message}) {
    EXPECT_LT(msg.size(), 200u) << msg;
    for (char c : msg) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << msg;
    EXPECT_NE(msg.find("...'"), std::string::npos) << msg;
  }
}

TEST(CoreIp, FamilyNamesAndLast) {
  EXPECT_EQ(family_name(Family::v4), "IPv4");
  EXPECT_EQ(family_name(Family::v6), "IPv6");
  EXPECT_TRUE(parse_prefix("10.0.0.0/8")->last() == 0x0affffffu);
  EXPECT_TRUE(parse_prefix("0.0.0.0/0")->last() == 0xffffffffu);
  EXPECT_TRUE(parse_prefix("::/0")->last() == ~u128{0});
  EXPECT_TRUE(parse_prefix("::/1")->last() == (~u128{0} >> 1));
  EXPECT_TRUE(parse_prefix("::1")->last() == 1);
  EXPECT_TRUE(host_mask(Family::v6, 0) == ~u128{0});
  EXPECT_TRUE(host_mask(Family::v6, 128) == 0);
  EXPECT_TRUE(host_mask(Family::v4, 0) == 0xffffffffu);
}

// --- Properties against glibc as an independent implementation ---

// Addresses with many zero groups, so that compression choices are exercised.
u128 gen_v6_value() {
  u128 v = 0;
  for (int k = 0; k < 8; ++k) {
    const auto g =
        *rc::gen::oneOf(rc::gen::just<std::uint16_t>(0), rc::gen::arbitrary<std::uint16_t>(),
                        rc::gen::just<std::uint16_t>(0xffff));
    v = (v << 16) | g;
  }
  return v;
}

RC_GTEST_PROP(CoreIpProps, V6PrintingMatchesInetNtop, ()) {
  const u128 v = gen_v6_value();
  // glibc also prints the deprecated IPv4-compatible form ::a.b.c.d in mixed notation; RFC 5952
  // recommends that only where the address is known to embed IPv4, which we do for mapped only.
  RC_PRE(!((v >> 32) == 0 && ((v >> 16) & 0xffff) != 0));
  unsigned char bytes[16];
  for (int k = 0; k < 16; ++k) bytes[k] = static_cast<unsigned char>(v >> (120 - 8 * k));
  char buf[INET6_ADDRSTRLEN];
  RC_ASSERT(inet_ntop(AF_INET6, bytes, buf, sizeof buf) != nullptr);
  const std::string ours = to_string(Address{Family::v6, v});
  RC_ASSERT(ours == std::string(buf));
  auto back = parse_address(ours);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == (Address{Family::v6, v}));
}

RC_GTEST_PROP(CoreIpProps, V4RoundTrip, (std::uint32_t v)) {
  const Address a{Family::v4, v};
  auto back = parse_address(to_string(a));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == a);
}

RC_GTEST_PROP(CoreIpProps, PrefixRoundTripWithoutWarnings, ()) {
  const Family f = *rc::gen::element(Family::v4, Family::v6);
  const int len = *rc::gen::inRange(0, family_bits(f) + 1);
  const u128 value =
      (f == Family::v4 ? u128{*rc::gen::arbitrary<std::uint32_t>()} : gen_v6_value());
  const Prefix p{Address{f, value & ~host_mask(f, len)}, len};
  std::vector<std::string> warnings;
  auto back = parse_prefix(to_string(p), &warnings);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == p);
  for (const auto& w : warnings) RC_ASSERT(w.find("IPv4-mapped") != std::string::npos);
}

// Strings over the characters addresses are made of, short enough to often be valid.
std::string gen_address_like(const std::string& alphabet, int max_len) {
  const auto len = *rc::gen::inRange(0, max_len + 1);
  std::string s;
  for (int k = 0; k < len; ++k) s += *rc::gen::elementOf(alphabet);
  return s;
}

// Three to five dot-separated octets, each valid or a near miss.
std::string gen_dotted_like() {
  const auto n = *rc::gen::element(4, 4, 4, 3, 5);
  std::string s;
  for (int k = 0; k < n; ++k) {
    if (k > 0) s += '.';
    s += *rc::gen::weightedOneOf<std::string>(
        {{8, rc::gen::exec([] { return std::to_string(*rc::gen::inRange(0, 256)); })},
         {1, rc::gen::element<std::string>("0", "00", "01", "255", "256", "1000", "")}});
  }
  return s;
}

// inet_pton accepts exactly the strict forms we document (glibc also rejects octal-looking
// octets), so it is a full reference for acceptance and value.
RC_GTEST_PROP(CoreIpProps, V6AcceptanceMatchesInetPton, ()) {
  const std::string s = *rc::gen::oneOf(
      rc::gen::exec([] { return gen_address_like("0123456789abcdefABCDEF:.", 24); }),
      rc::gen::exec([] { return gen_address_like("01f:.", 20); }),
      rc::gen::exec([] { return "::ffff:" + gen_address_like("0123456789.", 16); }));
  RC_PRE(s.find(':') != std::string::npos);
  unsigned char bytes[16];
  const bool theirs = inet_pton(AF_INET6, s.c_str(), bytes) == 1;
  auto ours = parse_address(s);
  RC_ASSERT(ours.ok() == theirs);
  if (theirs) {
    u128 v = 0;
    for (unsigned char b : bytes) v = (v << 8) | b;
    RC_ASSERT(ours->family == Family::v6);
    RC_ASSERT(ours->value == v);
  }
}

RC_GTEST_PROP(CoreIpProps, V4AcceptanceMatchesInetPton, ()) {
  const std::string s =
      *rc::gen::oneOf(rc::gen::exec([] { return gen_address_like("0123456789.", 16); }),
                      rc::gen::exec([] { return gen_dotted_like(); }));
  RC_PRE(!s.empty());
  unsigned char bytes[4];
  const bool theirs = inet_pton(AF_INET, s.c_str(), bytes) == 1;
  auto ours = parse_address(s);
  RC_ASSERT(ours.ok() == theirs);
  if (theirs) {
    const std::uint32_t v = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                            (std::uint32_t{bytes[2]} << 8) | bytes[3];
    RC_ASSERT(ours->family == Family::v4);
    RC_ASSERT(ours->value == u128{v});
  }
}

}  // namespace
}  // namespace mw
