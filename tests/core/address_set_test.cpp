// AddressSet and the CIDR cover: known answers, brute-force checks in small spaces, and
// properties over random IPv4/IPv6 prefix sets clustered near 0, the middle and the top.
#include "core/address_set.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bitset>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

namespace mw {
namespace {

using detail::cidr_cover;
using detail::CidrBlock;

u128 ones(int bits) {
  return bits >= 128 ? ~u128{0} : (u128{1} << bits) - 1;
}
u128 block_last(const CidrBlock& b) {
  return b.start | ones(b.host_bits);
}

// The minimal cover is unique: the maximal aligned blocks inside [lo, hi], found here by walking
// the binary trie top-down, which shares no logic with the left-to-right greedy under test.
void trie_cover(u128 start, int k, u128 lo, u128 hi, std::vector<CidrBlock>& out) {
  const u128 last = start | ones(k);
  if (last < lo || start > hi) return;
  if (lo <= start && last <= hi) {
    out.push_back({start, k});
    return;
  }
  trie_cover(start, k - 1, lo, hi, out);
  trie_cover(start | (u128{1} << (k - 1)), k - 1, lo, hi, out);
}

std::vector<CidrBlock> trie_cover(int width, u128 lo, u128 hi) {
  std::vector<CidrBlock> out;
  trie_cover(0, width, lo, hi, out);
  return out;
}

// Fewest aligned blocks that tile [lo, hi] exactly, by dynamic programming over every tiling.
int min_blocks(int width, unsigned lo, unsigned hi) {
  const unsigned n = hi - lo + 1;
  std::vector<int> dp(n + 1, INT_MAX);
  dp[0] = 0;
  for (unsigned j = 0; j < n; ++j) {
    if (dp[j] == INT_MAX) continue;
    for (int k = 0; k <= width; ++k) {
      const unsigned size = 1u << k;
      if ((lo + j) % size != 0 || j + size > n) break;
      dp[j + size] = std::min(dp[j + size], dp[j] + 1);
    }
  }
  return dp[n];
}

// Checks that blocks are aligned, ascending, disjoint and tile exactly [lo, hi].
void check_tiling(const std::vector<CidrBlock>& blocks, int width, u128 lo, u128 hi) {
  RC_ASSERT(!blocks.empty());
  RC_ASSERT(blocks.front().start == lo);
  RC_ASSERT(block_last(blocks.back()) == hi);
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    RC_ASSERT(blocks[k].host_bits >= 0 && blocks[k].host_bits <= width);
    RC_ASSERT((blocks[k].start & ones(blocks[k].host_bits)) == 0);
    if (k > 0) RC_ASSERT(blocks[k].start == block_last(blocks[k - 1]) + 1);
  }
}

TEST(CoreCidrCover, ExhaustiveWidth6MatchesBruteForce) {
  constexpr int kWidth = 6;
  for (unsigned lo = 0; lo < 64; ++lo) {
    for (unsigned hi = lo; hi < 64; ++hi) {
      const auto blocks = cidr_cover(kWidth, lo, hi);
      std::bitset<64> covered;
      for (const auto& b : blocks) {
        ASSERT_EQ(b.start & ones(b.host_bits), 0u) << lo << "-" << hi;
        for (u128 v = b.start; v <= block_last(b); ++v) {
          ASSERT_FALSE(covered[static_cast<unsigned>(v)]) << "overlap in " << lo << "-" << hi;
          covered.set(static_cast<unsigned>(v));
        }
      }
      std::bitset<64> want;
      for (unsigned v = lo; v <= hi; ++v) want.set(v);
      ASSERT_EQ(covered, want) << lo << "-" << hi;
      ASSERT_EQ(static_cast<int>(blocks.size()), min_blocks(kWidth, lo, hi)) << lo << "-" << hi;
    }
  }
}

RC_GTEST_PROP(CoreCidrCover, Width8IsMinimalTiling, ()) {
  const unsigned lo = *rc::gen::inRange(0u, 256u);
  const unsigned hi = *rc::gen::inRange(lo, 256u);
  const auto blocks = cidr_cover(8, lo, hi);
  check_tiling(blocks, 8, lo, hi);
  RC_ASSERT(static_cast<int>(blocks.size()) == min_blocks(8, lo, hi));
}

u128 gen_u128() {
  const auto hi = *rc::gen::arbitrary<std::uint64_t>();
  const auto lo = *rc::gen::arbitrary<std::uint64_t>();
  return (u128{hi} << 64) | lo;
}

// A value of a `width`-bit space: near 0, near the top, or anywhere.
u128 gen_value(int width) {
  const u128 max = ones(width);
  const u128 small = static_cast<u128>(*rc::gen::inRange<std::uint32_t>(0, 5000));
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      return small & max;
    case 1:
      return max - (small & max);
    default:
      return gen_u128() & max;
  }
}

RC_GTEST_PROP(CoreCidrCover, WideSpacesMatchTrieModel, ()) {
  const int width = *rc::gen::element(32, 64, 127, 128);
  u128 lo = gen_value(width), hi = gen_value(width);
  if (lo > hi) std::swap(lo, hi);
  const auto blocks = cidr_cover(width, lo, hi);
  check_tiling(blocks, width, lo, hi);
  RC_ASSERT(blocks == trie_cover(width, lo, hi));
  RC_ASSERT(blocks.size() <= static_cast<std::size_t>(2 * (width - 1)));  // the known worst case
}

TEST(CoreIntervalToPrefixes, WholeSpaces) {
  const auto v6 = interval_to_prefixes(Family::v6, 0, ~u128{0});
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(to_string(v6[0]), "::/0");
  const auto v4 = interval_to_prefixes(Family::v4, 0, 0xffffffffu);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(to_string(v4[0]), "0.0.0.0/0");
}

TEST(CoreIntervalToPrefixes, TopOfV6Space) {
  const u128 top = ~u128{0};
  auto one = interval_to_prefixes(Family::v6, top, top);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(to_string(one[0]), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");

  // All but the first address: /128, /127, ..., /1, one per bit.
  auto from1 = interval_to_prefixes(Family::v6, 1, top);
  ASSERT_EQ(from1.size(), 128u);
  EXPECT_EQ(to_string(from1.front()), "::1/128");
  EXPECT_EQ(to_string(from1[1]), "::2/127");
  EXPECT_EQ(to_string(from1.back()), "8000::/1");

  auto but_last = interval_to_prefixes(Family::v6, 0, top - 1);
  ASSERT_EQ(but_last.size(), 128u);
  EXPECT_EQ(to_string(but_last.front()), "::/1");
  EXPECT_EQ(to_string(but_last.back()), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
}

TEST(CoreIntervalToPrefixes, V4Ranges) {
  auto inner = interval_to_prefixes(Family::v4, 1, 0xfffffffeu);
  EXPECT_EQ(inner.size(), 62u);
  auto r = interval_to_prefixes(Family::v4, 0x0a000005u, 0x0a00000au);  // 10.0.0.5-10.0.0.10
  std::vector<std::string> got;
  for (const auto& p : r) got.push_back(to_string(p));
  EXPECT_EQ(
      got, (std::vector<std::string>{"10.0.0.5/32", "10.0.0.6/31", "10.0.0.8/31", "10.0.0.10/32"}));
}

Prefix pfx(std::string_view text) {
  auto p = parse_prefix(text);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : Prefix{};
}

TEST(CoreAddressSet, PrintsMinimalPrefixesIpv4First) {
  EXPECT_EQ(AddressSet().to_string(), "(none)");
  EXPECT_EQ(AddressSet::any().to_string(), "0.0.0.0/0, ::/0");
  auto s = AddressSet::of({pfx("2001:db8::/32"), pfx("192.168.0.0/16"), pfx("10.0.0.0/8")});
  EXPECT_EQ(s.to_string(), "10.0.0.0/8, 192.168.0.0/16, 2001:db8::/32");
  auto halves = AddressSet::of({pfx("10.0.0.128/25"), pfx("10.0.0.0/25")});
  EXPECT_EQ(halves.to_string(), "10.0.0.0/24");
  auto nested = AddressSet::of({pfx("10.0.0.0/8"), pfx("10.1.2.3")});
  EXPECT_EQ(nested.to_string(), "10.0.0.0/8");
}

TEST(CoreAddressSet, SubtractFromWholeFamily) {
  auto rest = AddressSet::any_of(Family::v4).subtract(AddressSet::of(pfx("10.0.0.0/8")));
  EXPECT_EQ(rest.to_string(),
            "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, "
            "128.0.0.0/1");
  auto no_loopback = AddressSet::any_of(Family::v6).subtract(AddressSet::of(pfx("::1")));
  auto ps = no_loopback.to_prefixes();
  ASSERT_EQ(ps.size(), 128u);
  EXPECT_EQ(to_string(ps.front()), "::/128");
  EXPECT_EQ(to_string(ps[1]), "::2/127");
  EXPECT_EQ(to_string(ps.back()), "8000::/1");
}

TEST(CoreAddressSet, MembershipAndFamilies) {
  auto s = AddressSet::of({pfx("192.0.2.0/24"), pfx("2001:db8::/32")});
  EXPECT_TRUE(s.contains(*parse_address("192.0.2.255")));
  EXPECT_FALSE(s.contains(*parse_address("192.0.3.0")));
  EXPECT_TRUE(s.contains(*parse_address("2001:db8:ffff::1")));
  EXPECT_FALSE(s.contains(*parse_address("2001:db9::")));
  EXPECT_TRUE(s.contains(pfx("192.0.2.128/25")));
  EXPECT_FALSE(s.contains(pfx("192.0.2.0/23")));
  // The mapped form of a member IPv4 address is a different (IPv6) address.
  EXPECT_FALSE(s.contains(*parse_address("::ffff:192.0.2.1")));
  EXPECT_FALSE(s.empty());
  EXPECT_FALSE(s.empty(Family::v4));
  EXPECT_TRUE(s.only(Family::v4).empty(Family::v6));
  EXPECT_EQ(s.only(Family::v6).to_string(), "2001:db8::/32");
  EXPECT_TRUE(AddressSet().empty());
  EXPECT_TRUE(AddressSet::any_of(Family::v6).is_any(Family::v6));
  EXPECT_FALSE(AddressSet::any_of(Family::v6).is_any(Family::v4));
  EXPECT_TRUE(AddressSet().complement() == AddressSet::any());
  EXPECT_TRUE(AddressSet::any().complement().empty());
  AddressSet one;
  one.add(*parse_address("::"));
  EXPECT_EQ(one.to_string(), "::/128");
  EXPECT_TRUE(one.contains(pfx("::/128")));
}

// Random prefixes clustered near 0, in the middle and at the top of the family's space, with
// mostly long lengths, so that sets overlap, touch and reach family_max.
Prefix gen_prefix(Family f) {
  const int bits = family_bits(f);
  const u128 max = family_max(f);
  const u128 low = static_cast<u128>(*rc::gen::inRange<std::uint32_t>(0, 1u << 12));
  u128 base = 0;
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      break;
    case 1:
      base = (max >> 1) & ~u128{0xfff};
      break;
    default:
      base = max & ~u128{0xfff};
  }
  const int len =
      *rc::gen::oneOf(rc::gen::inRange(bits - 12, bits + 1), rc::gen::inRange(0, bits + 1));
  return Prefix{Address{f, (base | low) & ~host_mask(f, len)}, len};
}

std::vector<Prefix> gen_prefixes() {
  const auto n = *rc::gen::inRange(0, 12);
  std::vector<Prefix> ps;
  for (int k = 0; k < n; ++k) ps.push_back(gen_prefix(*rc::gen::element(Family::v4, Family::v6)));
  return ps;
}

Address gen_address() {
  const Prefix p = gen_prefix(*rc::gen::element(Family::v4, Family::v6));
  return Address{p.addr.family, p.first() | (gen_u128() & host_mask(p.addr.family, p.len))};
}

bool model_contains(const std::vector<Prefix>& ps, const Address& a) {
  for (const auto& p : ps) {
    if (p.addr.family == a.family && p.first() <= a.value && a.value <= p.last()) return true;
  }
  return false;
}

RC_GTEST_PROP(CoreAddressSetProps, MembershipMatchesPrefixList, ()) {
  const auto pa = gen_prefixes(), pb = gen_prefixes();
  const auto a = AddressSet::of(pa), b = AddressSet::of(pb);
  for (int k = 0; k < 20; ++k) {
    const Address x = gen_address();
    const bool in_a = model_contains(pa, x), in_b = model_contains(pb, x);
    RC_ASSERT(a.contains(x) == in_a);
    RC_ASSERT(a.unite(b).contains(x) == (in_a || in_b));
    RC_ASSERT(a.intersect(b).contains(x) == (in_a && in_b));
    RC_ASSERT(a.subtract(b).contains(x) == (in_a && !in_b));
    RC_ASSERT(a.complement().contains(x) == !in_a);
  }
}

// AddressSet::of builds the set in one sort and merge: the same set as adding the prefixes one
// by one, whatever their order.
RC_GTEST_PROP(CoreAddressSetProps, BulkConstructionMatchesIncrementalAdd, ()) {
  auto ps = gen_prefixes();
  const auto order = *rc::gen::container<std::vector<std::size_t>>(
      ps.size(), rc::gen::inRange<std::size_t>(0, std::max<std::size_t>(ps.size(), 1)));
  for (std::size_t k = 0; k < order.size(); ++k) std::swap(ps[k], ps[order[k]]);
  AddressSet added;
  for (const auto& p : ps) added.add(p);
  RC_ASSERT(AddressSet::of(ps) == added);
}

RC_GTEST_PROP(CoreAddressSetProps, PrefixRoundTrip, ()) {
  const auto a = AddressSet::of(gen_prefixes());
  const auto ps = a.to_prefixes();
  RC_ASSERT(AddressSet::of(ps) == a);
  // Ascending and disjoint within each family, IPv4 first.
  for (std::size_t k = 1; k < ps.size(); ++k) {
    if (ps[k - 1].addr.family == ps[k].addr.family) {
      RC_ASSERT(ps[k - 1].last() < ps[k].first());
    } else {
      RC_ASSERT(ps[k - 1].addr.family == Family::v4 && ps[k].addr.family == Family::v6);
    }
  }
  // Minimal: the cover of each interval must be the unique one.
  std::size_t want = 0;
  for (Family f : {Family::v4, Family::v6}) {
    for (const auto& i : a.intervals(f).intervals()) {
      want += trie_cover(family_bits(f), i.lo, i.hi).size();
    }
  }
  RC_ASSERT(ps.size() == want);
}

RC_GTEST_PROP(CoreAddressSetProps, TextRoundTrip, ()) {
  const auto a = AddressSet::of(gen_prefixes());
  const std::string text = a.to_string();
  AddressSet back;
  if (text != "(none)") {
    std::size_t pos = 0;
    while (pos <= text.size()) {
      const std::size_t end = std::min(text.find(", ", pos), text.size());
      std::vector<std::string> warnings;
      auto p = parse_prefix(std::string_view(text).substr(pos, end - pos), &warnings);
      RC_ASSERT(p.ok());
      for (const auto& w : warnings) RC_ASSERT(w.find("host bits") == std::string::npos);
      back.add(*p);
      pos = end + 2;
    }
  }
  RC_ASSERT(back == a);
}

RC_GTEST_PROP(CoreAddressSetProps, ComplementLaws, ()) {
  const auto a = AddressSet::of(gen_prefixes()), b = AddressSet::of(gen_prefixes());
  RC_ASSERT(a.complement().complement() == a);
  RC_ASSERT(a.unite(a.complement()) == AddressSet::any());
  RC_ASSERT(a.intersect(a.complement()).empty());
  RC_ASSERT(a.subtract(b) == a.intersect(b.complement()));
  RC_ASSERT(a.unite(b).complement() == a.complement().intersect(b.complement()));
  RC_ASSERT(a.only(Family::v4).unite(a.only(Family::v6)) == a);
  RC_ASSERT(a.only(Family::v4).intersect(a.only(Family::v6)).empty());
}

}  // namespace
}  // namespace mw
