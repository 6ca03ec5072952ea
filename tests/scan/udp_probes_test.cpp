// The UDP requests byte for byte, and the recognition of answers: real shapes accepted, every
// truncation and malformed length refused without reading past the datagram.
#include "scan/udp_probes.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mw::scan {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(MemcachedProbe, RequestIsTheUdpFrameThenStats) {
  Bytes want = {0x12, 0x34, 0, 0, 0, 1, 0, 0};
  Bytes text = bytes("stats\r\n");
  want.insert(want.end(), text.begin(), text.end());
  EXPECT_EQ(memcached_stats_request(0x1234), want);
}

TEST(MemcachedProbe, RecognisesAStatsAnswer) {
  Bytes d = {0x12, 0x34, 0, 0, 0, 2, 0, 0};
  Bytes text = bytes("STAT pid 1234\r\nSTAT uptime 42\r\n");
  d.insert(d.end(), text.begin(), text.end());
  auto a = parse_memcached_answer(d);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->request_id, 0x1234);
  EXPECT_EQ(a->sequence, 0);
  EXPECT_EQ(a->total, 2);
  EXPECT_EQ(a->payload.substr(0, 8), "STAT pid");
}

TEST(MemcachedProbe, RecognisesAnErrorLineAndALaterDatagram) {
  Bytes err = {0, 1, 0, 0, 0, 1, 0, 0};
  Bytes text = bytes("ERROR\r\n");
  err.insert(err.end(), text.begin(), text.end());
  EXPECT_TRUE(parse_memcached_answer(err));
  // The second datagram of a long answer continues anywhere in the text.
  Bytes later = {0, 1, 0, 1, 0, 2, 0, 0, 'e', 's', '\r', '\n', 'E', 'N', 'D'};
  EXPECT_TRUE(parse_memcached_answer(later));
}

TEST(MemcachedProbe, RefusesMalformedFrames) {
  EXPECT_FALSE(parse_memcached_answer(Bytes{}));
  EXPECT_FALSE(parse_memcached_answer(Bytes{0, 1, 0, 0, 0, 1, 0}));          // 7 bytes
  EXPECT_FALSE(parse_memcached_answer(Bytes{0, 1, 0, 0, 0, 0, 0, 0}));       // total 0
  EXPECT_FALSE(parse_memcached_answer(Bytes{0, 1, 0, 2, 0, 2, 0, 0}));       // seq >= total
  EXPECT_FALSE(parse_memcached_answer(Bytes{0, 1, 0, 0, 0, 1, 0, 1, 'E'}));  // reserved != 0
  // Our own request echoed back is not an answer.
  EXPECT_FALSE(parse_memcached_answer(memcached_stats_request(1)));
}

// A v2c GetRequest for sysDescr.0, community "public", request id 0x01020304, as snmpget sends
// it (checked against tcpdump's decoding of `snmpget -v2c -c public HOST sysDescr.0`).
TEST(SnmpProbe, RequestEncoding) {
  Bytes want = {0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',  'u',  'b',  'l',
                'i',  'c',  0xa0, 0x1c, 0x02, 0x04, 0x01, 0x02, 0x03, 0x04, 0x02,
                0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08,
                0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};
  EXPECT_EQ(snmp_get_sysdescr_request(0x01020304), want);
  // Our own request parses as a well-formed message, a GetRequest.
  auto a = parse_snmp_answer(want);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->pdu_type, 0xa0);
  EXPECT_EQ(a->request_id, 0x01020304);
}

Bytes snmp_response(std::int32_t id, std::uint8_t error_status, std::string_view descr) {
  Bytes value = {0x04, static_cast<std::uint8_t>(descr.size())};
  value.insert(value.end(), descr.begin(), descr.end());
  Bytes varbind = {0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00};
  varbind.insert(varbind.end(), value.begin(), value.end());
  Bytes vb = {0x30, static_cast<std::uint8_t>(varbind.size())};
  vb.insert(vb.end(), varbind.begin(), varbind.end());
  Bytes vbl = {0x30, static_cast<std::uint8_t>(vb.size())};
  vbl.insert(vbl.end(), vb.begin(), vb.end());
  const auto u = static_cast<std::uint32_t>(id);
  Bytes pdu = {0x02,
               0x04,
               static_cast<std::uint8_t>(u >> 24),
               static_cast<std::uint8_t>(u >> 16),
               static_cast<std::uint8_t>(u >> 8),
               static_cast<std::uint8_t>(u),
               0x02,
               0x01,
               error_status,
               0x02,
               0x01,
               0x00};
  pdu.insert(pdu.end(), vbl.begin(), vbl.end());
  Bytes msg = {0x02,
               0x01,
               0x01,
               0x04,
               0x06,
               'p',
               'u',
               'b',
               'l',
               'i',
               'c',
               0xa2,
               static_cast<std::uint8_t>(pdu.size())};
  msg.insert(msg.end(), pdu.begin(), pdu.end());
  Bytes out = {0x30, static_cast<std::uint8_t>(msg.size())};
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

TEST(SnmpProbe, RecognisesAResponseAndAnErrorResponse) {
  auto ok = parse_snmp_answer(snmp_response(77, 0, "Linux mail 6.1.0-18-amd64"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->version, 1);
  EXPECT_EQ(ok->pdu_type, 0xa2);
  EXPECT_EQ(ok->request_id, 77);
  EXPECT_EQ(ok->error_status, 0);
  auto err = parse_snmp_answer(snmp_response(78, 2, ""));  // noSuchName
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error_status, 2);
}

TEST(SnmpProbe, LongFormLengthsAndNegativeIds) {
  // The same response with the outer length in long form (0x81 n).
  Bytes r = snmp_response(-5, 0, "x");
  Bytes lf = {0x30, 0x81, r[1]};
  lf.insert(lf.end(), r.begin() + 2, r.end());
  auto a = parse_snmp_answer(lf);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->request_id, -5);
}

TEST(SnmpProbe, RefusesEveryTruncationAndBadLengths) {
  const Bytes r = snmp_response(77, 0, "Linux mail");
  for (std::size_t n = 0; n < r.size(); ++n) {
    EXPECT_FALSE(parse_snmp_answer(std::span(r.data(), n))) << "truncated to " << n;
  }
  Bytes trailing = r;
  trailing.push_back(0);
  EXPECT_FALSE(parse_snmp_answer(trailing));
  Bytes indefinite = r;
  indefinite[1] = 0x80;
  EXPECT_FALSE(parse_snmp_answer(indefinite));
  Bytes huge = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02};
  EXPECT_FALSE(parse_snmp_answer(huge));
  Bytes version9 = r;
  version9[4] = 9;
  EXPECT_FALSE(parse_snmp_answer(version9));
  EXPECT_FALSE(parse_snmp_answer(bytes("STAT pid 1\r\n")));
}

TEST(SnmpProbe, RecognisesAV3Report) {
  // SNMPv3: version 3, msgGlobalData, security parameters, a clear scoped PDU.
  Bytes global = {0x30, 0x0d, 0x02, 0x01, 0x01, 0x02, 0x02, 0x05,
                  0xdc, 0x04, 0x01, 0x00, 0x02, 0x01, 0x03};
  Bytes msg = {0x02, 0x01, 0x03};
  msg.insert(msg.end(), global.begin(), global.end());
  msg.insert(msg.end(), {0x04, 0x00, 0x30, 0x00});
  Bytes out = {0x30, static_cast<std::uint8_t>(msg.size())};
  out.insert(out.end(), msg.begin(), msg.end());
  auto a = parse_snmp_answer(out);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->version, 3);
}

Bytes corpus(const char* name) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/fuzz/corpus/scan_answers/" + name,
                   std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// The fuzz corpus's real-looking answers are what they are named.
TEST(Corpus, RealLookingAnswersAreRecognised) {
  for (const char* n : {"snmp_v2c_sysdescr", "snmp_v2c_nosuchobject", "snmp_v1_nosuchname",
                        "snmp_v2c_long_community", "snmp_v3_report"}) {
    EXPECT_TRUE(parse_snmp_answer(corpus(n))) << n;
  }
  for (const char* n : {"memcached_stats", "memcached_second_datagram", "memcached_error"}) {
    EXPECT_TRUE(parse_memcached_answer(corpus(n))) << n;
  }
  for (const char* n : {"snmp_truncated", "snmp_indefinite", "memcached_bad_reserved",
                        "memcached_header_only", "short", "empty"}) {
    EXPECT_FALSE(parse_snmp_answer(corpus(n))) << n;
    EXPECT_FALSE(parse_memcached_answer(corpus(n))) << n;
  }
}

}  // namespace
}  // namespace mw::scan
