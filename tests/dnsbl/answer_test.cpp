// Query names, DNS response parsing and the decoding of every class of DNSBL answer.
#include "dnsbl/answer.hpp"

#include <gtest/gtest.h>

#include "dns_message.hpp"

namespace mw::dnsbl {
namespace {

Address addr(std::string_view s) {
  auto a = parse_address(s);
  EXPECT_TRUE(a.ok()) << s;
  return *a;
}

TEST(QueryName, Ipv4OctetsReversed) {
  struct Case {
    const char* ip;
    const char* name;
  } cases[] = {
      {"192.0.2.1", "1.2.0.192.zen.example"},
      {"127.0.0.2", "2.0.0.127.zen.example"},
      {"0.0.0.0", "0.0.0.0.zen.example"},
      {"255.255.255.255", "255.255.255.255.zen.example"},
      {"10.20.30.40", "40.30.20.10.zen.example"},
  };
  for (const auto& c : cases) EXPECT_EQ(query_name(addr(c.ip), "zen.example"), c.name) << c.ip;
}

TEST(QueryName, Ipv6ThirtyTwoNibblesReversed) {
  // RFC 5782 section 2.4's example.
  EXPECT_EQ(query_name(addr("2001:db8:1:2:3:4:567:89ab"), "ugly.example.com"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
  // Spamhaus' IPv6 test entry; upper-case input gives lower-case nibbles.
  EXPECT_EQ(query_name(addr("::FFFF:7F00:2"), "zen.spamhaus.org"),
            "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.spamhaus.org");
  std::string zeros;
  for (int i = 0; i < 32; ++i) zeros += "0.";
  EXPECT_EQ(query_name(addr("::"), "z"), zeros + "z");
  const std::string all_f = query_name(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "z");
  EXPECT_EQ(all_f.size(), 63u + 2u);
  EXPECT_EQ(all_f.substr(0, 4), "f.f.");
}

DnsblList zen() {
  DnsblList l;
  l.id = "zen";
  l.zone = "zen.example";
  l.codes = {
      {0x7f000002, 0x7f000002, CodeClass::listed, "SBL"},
      {0x7f000004, 0x7f000007, CodeClass::listed, "XBL"},
      {0x7f00000a, 0x7f00000b, CodeClass::listed, "PBL"},
      {0x7ffffffc, 0x7ffffffc, CodeClass::refused, "typing error"},
      {0x7ffffffe, 0x7fffffff, CodeClass::refused, "public resolver / excessive"},
  };
  return l;
}

DnsAnswer a(std::vector<std::uint32_t> v) {
  return {Rcode::noerror, std::move(v), {}, {}};
}

TEST(DecodeAnswer, EveryClass) {
  const auto l = zen();
  struct Case {
    const char* what;
    DnsAnswer answer;
    Verdict verdict;
    std::size_t codes;
  } cases[] = {
      {"SBL", a({0x7f000002}), Verdict::listed, 1},
      {"XBL range end", a({0x7f000007}), Verdict::listed, 1},
      {"SBL + PBL", a({0x7f000002, 0x7f00000b}), Verdict::listed, 2},
      {"undocumented 127.x code", a({0x7f000063}), Verdict::listed, 1},
      {"public resolver refusal", a({0x7ffffffe}), Verdict::refused, 1},
      {"typing error refusal", a({0x7ffffffc}), Verdict::refused, 1},
      {"refusal wins over listing", a({0x7f000002, 0x7fffffff}), Verdict::refused, 2},
      {"outside 127/8: NXDOMAIN rewriting", a({0xc0000201}), Verdict::error, 1},
      {"NODATA", a({}), Verdict::not_listed, 0},
      {"NXDOMAIN", {Rcode::nxdomain, {}, {}, {}}, Verdict::not_listed, 0},
      {"SERVFAIL", {Rcode::servfail, {}, {}, {}}, Verdict::refused, 0},
      {"REFUSED", {Rcode::refused, {}, {}, {}}, Verdict::refused, 0},
      {"timeout", {Rcode::timeout, {}, {}, {}}, Verdict::timeout, 0},
      {"error", {Rcode::error, {}, {}, "socket"}, Verdict::error, 0},
  };
  for (const auto& c : cases) {
    const auto d = decode_answer(l, c.answer);
    EXPECT_EQ(name_of(d.verdict), name_of(c.verdict)) << c.what;
    EXPECT_EQ(d.codes.size(), c.codes) << c.what;
  }
  const auto d = decode_answer(l, a({0x7f000005}));
  ASSERT_EQ(d.codes.size(), 1u);
  EXPECT_EQ(d.codes[0].meaning, "XBL");
  EXPECT_EQ(decode_answer(l, a({0x7ffffffe})).detail, "public resolver / excessive");
}

TEST(ParseDnsResponse, AAnswers) {
  const auto m = test::response("2.0.0.127.zen.example", 0, {0x7f000002, 0x7f00000a});
  const auto r = parse_dns_response(m, QueryType::a);
  ASSERT_EQ(r.rcode, Rcode::noerror) << r.detail;
  EXPECT_EQ(r.a, (std::vector<std::uint32_t>{0x7f000002, 0x7f00000a}));
}

TEST(ParseDnsResponse, Rcodes) {
  EXPECT_EQ(parse_dns_response(test::response("x.z", 3, {}), QueryType::a).rcode, Rcode::nxdomain);
  EXPECT_EQ(parse_dns_response(test::response("x.z", 2, {}), QueryType::a).rcode, Rcode::servfail);
  EXPECT_EQ(parse_dns_response(test::response("x.z", 5, {}), QueryType::a).rcode, Rcode::refused);
  EXPECT_EQ(parse_dns_response(test::response("x.z", 4, {}), QueryType::a).rcode, Rcode::error);
  const auto nodata = parse_dns_response(test::response("x.z", 0, {}), QueryType::a);
  EXPECT_EQ(nodata.rcode, Rcode::noerror);
  EXPECT_TRUE(nodata.a.empty());
}

TEST(ParseDnsResponse, Txt) {
  const auto m = test::response("2.0.0.127.zen.example", 0, {}, {"listed: see https://x/"});
  const auto r = parse_dns_response(m, QueryType::txt);
  ASSERT_EQ(r.rcode, Rcode::noerror) << r.detail;
  ASSERT_EQ(r.txt.size(), 1u);
  EXPECT_EQ(r.txt[0], "listed: see https://x/");
}

TEST(ParseDnsResponse, MalformedIsErrorNeverListed) {
  auto m = test::response("2.0.0.127.zen.example", 0, {0x7f000002});
  const std::vector<std::uint8_t> shorter(m.begin(), m.end() - 3);
  EXPECT_EQ(parse_dns_response(shorter, QueryType::a).rcode, Rcode::error);
  EXPECT_EQ(parse_dns_response(std::vector<std::uint8_t>(5, 0), QueryType::a).rcode, Rcode::error);
  auto query = m;
  query[2] &= 0x7f;  // QR clear: a query, not a response
  EXPECT_EQ(parse_dns_response(query, QueryType::a).rcode, Rcode::error);
  auto truncated = m;
  truncated[2] |= 0x02;
  EXPECT_EQ(parse_dns_response(truncated, QueryType::a).rcode, Rcode::error);
}

TEST(SpecialRange, WarnsForNonPublicAddresses) {
  for (const char* ip :
       {"10.1.2.3", "192.168.0.1", "127.0.0.2", "192.0.2.1", "198.51.100.7", "203.0.113.9",
        "100.64.0.1", "2001:db8::1", "fe80::1", "::1", "::ffff:192.0.2.1", "fd00::5"})
    EXPECT_TRUE(special_range(addr(ip)).has_value()) << ip;
  for (const char* ip : {"8.8.8.8", "192.0.3.1", "2a00:1450::1", "1.1.1.1"})
    EXPECT_FALSE(special_range(addr(ip)).has_value()) << ip;
}

}  // namespace
}  // namespace mw::dnsbl
