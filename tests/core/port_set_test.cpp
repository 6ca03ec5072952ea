// Port, port-set and protocol parsing: accepted forms, exact rejection messages, and properties
// of PortSet against a bitset model.
#include "core/port_set.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bitset>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace mw {
namespace {

struct SetCase {
  std::string text;
  std::string canonical;
  std::size_t count;
};
void PrintTo(const SetCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class AcceptPortSet : public testing::TestWithParam<SetCase> {};

TEST_P(AcceptPortSet, ParsesAndPrintsCanonically) {
  const auto& c = GetParam();
  auto s = parse_port_set(c.text);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->to_string(), c.canonical);
  EXPECT_EQ(s->count(), c.count);
  auto again = parse_port_set(c.canonical);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *s);
}

INSTANTIATE_TEST_SUITE_P(
    Core, AcceptPortSet,
    testing::Values(SetCase{"25", "25", 1}, SetCase{"1", "1", 1}, SetCase{"65535", "65535", 1},
                    SetCase{"25,587,10024-10032", "25, 587, 10024-10032", 11},
                    SetCase{"25, 587, 10024-10032", "25, 587, 10024-10032", 11},
                    SetCase{"25,   80", "25, 80", 2}, SetCase{"80,25", "25, 80", 2},
                    SetCase{"10-20,15-25", "10-25", 16}, SetCase{"24,25,26", "24-26", 3},
                    SetCase{"25,25", "25", 1}, SetCase{"5-5", "5", 1},
                    SetCase{"1-65535", "1-65535", 65535},
                    SetCase{"65534,65535,1", "1, 65534-65535", 3}));

struct RejectCase {
  std::string text;
  std::string message;
};
void PrintTo(const RejectCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class RejectPortSet : public testing::TestWithParam<RejectCase> {};

TEST_P(RejectPortSet, WithExactMessage) {
  const auto& c = GetParam();
  auto s = parse_port_set(c.text);
  ASSERT_FALSE(s.ok()) << s->to_string();
  EXPECT_EQ(s.error().message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Core, RejectPortSet,
    testing::Values(
        RejectCase{"", "'': empty port list"},
        RejectCase{"25,,80", "'25,,80': empty item at character 4"},
        RejectCase{",25", "',25': empty item at character 1"},
        RejectCase{"25,", "'25,': trailing ',' at character 3"},
        RejectCase{"25, ", "'25, ': trailing ',' at character 3"},
        RejectCase{"25 ,80",
                   "'25 ,80': item '25 ' at character 1: whitespace is allowed only after a "
                   "comma"},
        RejectCase{" 25",
                   "' 25': item ' 25' at character 1: whitespace is allowed only after a "
                   "comma"},
        RejectCase{"25,\t80",
                   "'25,\\x0980': item '\\x0980' at character 4: whitespace is allowed only after "
                   "a comma"},
        RejectCase{"25,587,10032-10024",
                   "'25,587,10032-10024': item '10032-10024' at character 8: range start 10032 "
                   "exceeds range end 10024"},
        RejectCase{"81-80",
                   "'81-80': item '81-80' at character 1: range start 81 exceeds range end 80"},
        RejectCase{"1-2-3", "'1-2-3': item '1-2-3' at character 1: more than one '-' in a range"},
        RejectCase{"10-", "'10-': item '10-' at character 1: range has no end port"},
        RejectCase{"-10",
                   "'-10': item '-10' at character 1: a sign is not allowed; write a plain number "
                   "1-65535"},
        RejectCase{"25,0",
                   "'25,0': item '0' at character 4: port 0 is not a port one can filter on "
                   "(ports are 1-65535)"},
        RejectCase{"0-1023",
                   "'0-1023': item '0-1023' at character 1: range start: port 0 is not a port one "
                   "can filter on (ports are 1-65535)"},
        RejectCase{"25,70000", "'25,70000': item '70000' at character 4: port 70000 exceeds 65535"},
        RejectCase{"1-99999999999999999999",
                   "'1-99999999999999999999': item '1-99999999999999999999' at character 1: range "
                   "end: port 999999999999... exceeds 65535"},
        RejectCase{"025", "'025': item '025' at character 1: leading zero is not allowed"},
        RejectCase{"smtp", "'smtp': item 'smtp' at character 1: not a decimal port number 1-65535"},
        RejectCase{"25;587",
                   "'25;587': item '25;587' at character 1: not a decimal port number 1-65535"}));

class RejectPort : public testing::TestWithParam<RejectCase> {};

TEST_P(RejectPort, WithExactMessage) {
  const auto& c = GetParam();
  auto p = parse_port(c.text);
  ASSERT_FALSE(p.ok()) << *p;
  EXPECT_EQ(p.error().message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Core, RejectPort,
    testing::Values(
        RejectCase{"", "'': empty port"},
        RejectCase{"0", "'0': port 0 is not a port one can filter on (ports are 1-65535)"},
        RejectCase{"65536", "'65536': port 65536 exceeds 65535"},
        RejectCase{"025", "'025': leading zero is not allowed"},
        RejectCase{"+25", "'+25': a sign is not allowed; write a plain number 1-65535"},
        RejectCase{"-25", "'-25': a sign is not allowed; write a plain number 1-65535"},
        RejectCase{" 25", "' 25': whitespace is allowed only after a comma"},
        RejectCase{"25 ", "'25 ': whitespace is allowed only after a comma"},
        RejectCase{"25-30", "'25-30': a range is not accepted here, only a single port"},
        RejectCase{"0x19", "'0x19': not a decimal port number 1-65535"}));

// Found by fuzzing: escaping made a message four times the length of the (already cut) input.
TEST(CorePorts, UnprintableInputGivesShortPrintableMessage) {
  const std::string junk = std::string(40, '\0') + "\x08\x10,\x7f";
  for (const auto& msg : {parse_port_set(junk).error().message, parse_port(junk).error().message}) {
    EXPECT_LT(msg.size(), 200u) << msg;
    for (char c : msg) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << msg;
  }
  EXPECT_EQ(parse_port(std::string(3, '\x01')).error().message,
            "'\\x01\\x01\\x01': not a decimal port number 1-65535");
}

TEST(CorePorts, ParsePortAccepts) {
  EXPECT_EQ(*parse_port("1"), 1);
  EXPECT_EQ(*parse_port("25"), 25);
  EXPECT_EQ(*parse_port("65535"), 65535);
}

TEST(CorePorts, Protocols) {
  EXPECT_EQ(*parse_protocol("tcp"), Protocol::tcp);
  EXPECT_EQ(*parse_protocol("udp"), Protocol::udp);
  EXPECT_EQ(protocol_name(Protocol::tcp), "tcp");
  EXPECT_EQ(protocol_name(Protocol::udp), "udp");
  EXPECT_EQ(parse_protocol("TCP").error().message,
            "'TCP': unknown protocol (expected 'tcp' or 'udp', lower case)");
  EXPECT_EQ(parse_protocol("icmp").error().message,
            "'icmp': unknown protocol (expected 'tcp' or 'udp', lower case)");
  EXPECT_EQ(parse_protocol("").error().message, "'': empty protocol (expected 'tcp' or 'udp')");
  EXPECT_FALSE(parse_protocol("tcp ").ok());
}

TEST(CorePorts, AllAndEmpty) {
  EXPECT_EQ(PortSet::all().count(), 65536u);
  EXPECT_EQ(PortSet::all().to_string(), "0-65535");
  EXPECT_EQ(PortSet().complement(), PortSet::all());
  EXPECT_TRUE(PortSet::all().complement().empty());
  EXPECT_EQ(PortSet().to_string(), "");
  EXPECT_EQ(PortSet().count(), 0u);
  PortSet s;
  s.add(65535);
  s.add(1, 1024);
  EXPECT_EQ(s.to_string(), "1-1024, 65535");
  EXPECT_EQ(s.complement().to_string(), "0, 1025-65534");
  EXPECT_TRUE(s.contains(65535));
  EXPECT_FALSE(s.contains(0));
}

// --- Properties against a bitset of all 65536 ports ---

using PortBits = std::bitset<65536>;

// Ports cluster at both ends of the range so that merges at 1 and 65535 are common.
std::pair<PortSet, std::unique_ptr<PortBits>> gen_ports() {
  PortSet s;
  auto bits = std::make_unique<PortBits>();
  const auto n = *rc::gen::inRange(0, 8);
  for (int k = 0; k < n; ++k) {
    const unsigned lo = *rc::gen::oneOf(rc::gen::inRange(1u, 40u), rc::gen::inRange(65500u, 65536u),
                                        rc::gen::inRange(1u, 65536u));
    const unsigned hi = std::min(
        65535u, lo + *rc::gen::oneOf(rc::gen::inRange(0u, 4u), rc::gen::inRange(0u, 70000u)));
    s.add(static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi));
    for (unsigned p = lo; p <= hi; ++p) bits->set(p);
  }
  return {s, std::move(bits)};
}

PortBits model_of(const PortSet& s) {
  PortBits b;
  for (const auto& i : s.intervals().intervals()) {
    for (unsigned p = i.lo; p <= i.hi; ++p) b.set(p);
  }
  return b;
}

RC_GTEST_PROP(CorePortSetProps, TextRoundTripAndCount, ()) {
  auto [s, bits] = gen_ports();
  RC_ASSERT(model_of(s) == *bits);
  RC_ASSERT(s.count() == bits->count());
  if (s.empty()) {
    RC_ASSERT(s.to_string().empty());
    return;
  }
  auto back = parse_port_set(s.to_string());
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == s);
}

RC_GTEST_PROP(CorePortSetProps, AlgebraMatchesBitset, ()) {
  auto [a, ma] = gen_ports();
  auto [b, mb] = gen_ports();
  RC_ASSERT(model_of(a.unite(b)) == (*ma | *mb));
  RC_ASSERT(model_of(a.intersect(b)) == (*ma & *mb));
  RC_ASSERT(model_of(a.subtract(b)) == (*ma & ~*mb));
  RC_ASSERT(model_of(a.complement()) == ~*ma);
  RC_ASSERT(a.complement().count() == 65536 - a.count());
}

}  // namespace
}  // namespace mw
