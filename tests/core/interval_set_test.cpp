// IntervalSet checked against a std::bitset model, over whole small types so the top of the
// space (where hi + 1 wraps) is always in play, plus edge cases at the top of u16 and u128.
#include "core/interval_set.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bitset>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/ip.hpp"

namespace mw {
namespace {

using Small = IntervalSet<std::uint8_t>;
using Bits = std::bitset<256>;

Bits universe(unsigned max) {
  Bits b;
  for (unsigned v = 0; v <= max; ++v) b.set(v);
  return b;
}

Bits model_of(const Small& s) {
  Bits b;
  for (const auto& i : s.intervals()) {
    for (unsigned v = i.lo; v <= i.hi; ++v) b.set(v);
  }
  return b;
}

// The representation invariants: sorted, disjoint, not even touching, inside [0, max].
void expect_canonical(const Small& s) {
  const auto& iv = s.intervals();
  for (std::size_t k = 0; k < iv.size(); ++k) {
    RC_ASSERT(iv[k].lo <= iv[k].hi);
    RC_ASSERT(iv[k].hi <= s.max());
    if (k > 0) RC_ASSERT(unsigned{iv[k - 1].hi} + 1 < unsigned{iv[k].lo});
  }
}

// A random max: mostly 255 (the type's own top, the interesting overflow case), sometimes 63.
rc::Gen<unsigned> gen_max() {
  return rc::gen::element(255u, 255u, 63u);
}

// Random set over [0, max] with its model, built by add() so that add's merging is exercised.
std::pair<Small, Bits> gen_set(unsigned max) {
  Small s(static_cast<std::uint8_t>(max));
  Bits b;
  const auto ranges = *rc::gen::container<std::vector<std::pair<unsigned, unsigned>>>(
      rc::gen::pair(rc::gen::inRange(0u, max + 1),
                    rc::gen::oneOf(rc::gen::inRange(0u, 8u), rc::gen::inRange(0u, 256u))));
  for (auto [lo, width] : ranges) {
    // Clamping to max makes ranges that end at the top common, where hi + 1 would wrap.
    const unsigned hi = std::min(lo + width, max);
    s.add(static_cast<std::uint8_t>(lo), static_cast<std::uint8_t>(hi));
    for (unsigned v = lo; v <= hi; ++v) b.set(v);
  }
  if (*rc::gen::inRange(0, 4) == 0) {
    s.add(static_cast<std::uint8_t>(max));
    b.set(max);
  }
  return {s, b};
}

RC_GTEST_PROP(CoreIntervalSetModel, AddMatchesBitset, ()) {
  const unsigned max = *gen_max();
  auto [s, b] = gen_set(max);
  expect_canonical(s);
  RC_ASSERT(model_of(s) == b);
  for (unsigned v = 0; v <= max; ++v) RC_ASSERT(s.contains(static_cast<std::uint8_t>(v)) == b[v]);
  RC_ASSERT(s.empty() == b.none());
  RC_ASSERT(s.is_full() == (b == universe(max)));
}

RC_GTEST_PROP(CoreIntervalSetModel, OperationsMatchBitset, ()) {
  const unsigned max = *gen_max();
  auto [a, ma] = gen_set(max);
  auto [b, mb] = gen_set(max);
  const Bits all = universe(max);
  const Small u = a.unite(b), i = a.intersect(b), d = a.subtract(b), c = a.complement();
  expect_canonical(u);
  expect_canonical(i);
  expect_canonical(d);
  expect_canonical(c);
  RC_ASSERT(model_of(u) == (ma | mb));
  RC_ASSERT(model_of(i) == (ma & mb));
  RC_ASSERT(model_of(d) == (ma & ~mb));
  RC_ASSERT(model_of(c) == (all & ~ma));
  RC_ASSERT(a.subset_of(b) == ((ma & ~mb).none()));
}

// IntervalSet::of (one sort and merge, for large sets given in any order) builds exactly the set
// that adding the same intervals one by one builds.
RC_GTEST_PROP(CoreIntervalSetModel, BulkConstructionMatchesIncrementalAdd, ()) {
  const unsigned max = *gen_max();
  const auto ranges = *rc::gen::container<std::vector<std::pair<unsigned, unsigned>>>(
      rc::gen::pair(rc::gen::inRange(0u, max + 1),
                    rc::gen::oneOf(rc::gen::inRange(0u, 4u), rc::gen::inRange(0u, 256u))));
  std::vector<Small::Interval> ivs;
  Small added(static_cast<std::uint8_t>(max));
  Bits b;
  for (auto [lo, width] : ranges) {
    const unsigned hi = std::min(lo + width, max);
    ivs.push_back({static_cast<std::uint8_t>(lo), static_cast<std::uint8_t>(hi)});
    added.add(static_cast<std::uint8_t>(lo), static_cast<std::uint8_t>(hi));
    for (unsigned v = lo; v <= hi; ++v) b.set(v);
  }
  const Small bulk = Small::of(static_cast<std::uint8_t>(max), ivs);
  expect_canonical(bulk);
  RC_ASSERT(bulk == added);
  RC_ASSERT(model_of(bulk) == b);
}

RC_GTEST_PROP(CoreIntervalSetModel, RangeContainsMatchesBitset, ()) {
  const unsigned max = *gen_max();
  auto [s, m] = gen_set(max);
  const unsigned lo = *rc::gen::inRange(0u, max + 1);
  const unsigned hi = *rc::gen::inRange(lo, max + 1);
  bool all_in = true;
  for (unsigned v = lo; v <= hi; ++v) all_in = all_in && m[v];
  RC_ASSERT(s.contains(static_cast<std::uint8_t>(lo), static_cast<std::uint8_t>(hi)) == all_in);
}

RC_GTEST_PROP(CoreIntervalSetLaws, DeMorganAndComplement, ()) {
  const unsigned max = *gen_max();
  const Small a = gen_set(max).first, b = gen_set(max).first;
  RC_ASSERT(a.unite(b).complement() == a.complement().intersect(b.complement()));
  RC_ASSERT(a.intersect(b).complement() == a.complement().unite(b.complement()));
  RC_ASSERT(a.complement().complement() == a);
  RC_ASSERT(a.unite(a.complement()).is_full());
  RC_ASSERT(a.intersect(a.complement()).empty());
  RC_ASSERT(a.subtract(b) == a.intersect(b.complement()));
}

RC_GTEST_PROP(CoreIntervalSetLaws, AssociativeCommutativeIdempotent, ()) {
  const unsigned max = *gen_max();
  const Small a = gen_set(max).first, b = gen_set(max).first, c = gen_set(max).first;
  RC_ASSERT(a.unite(b).unite(c) == a.unite(b.unite(c)));
  RC_ASSERT(a.intersect(b).intersect(c) == a.intersect(b.intersect(c)));
  RC_ASSERT(a.unite(b) == b.unite(a));
  RC_ASSERT(a.intersect(b) == b.intersect(a));
  RC_ASSERT(a.unite(a) == a);
  RC_ASSERT(a.intersect(a) == a);
  RC_ASSERT(a.intersect(b.unite(c)) == a.intersect(b).unite(a.intersect(c)));
}

RC_GTEST_PROP(CoreIntervalSetLaws, SubsetOf, ()) {
  const unsigned max = *gen_max();
  const Small a = gen_set(max).first, b = gen_set(max).first;
  RC_ASSERT(a.intersect(b).subset_of(a));
  RC_ASSERT(a.subset_of(a.unite(b)));
  RC_ASSERT(Small(static_cast<std::uint8_t>(max)).subset_of(a));
  RC_ASSERT(a.subset_of(Small::full(static_cast<std::uint8_t>(max))));
  RC_ASSERT((a.subset_of(b) && b.subset_of(a)) == (a == b));
}

TEST(CoreIntervalSet, MergesAdjacentAndOverlapping) {
  Small s(255);
  s.add(10, 19);
  s.add(30, 39);
  s.add(20, 29);  // touches both neighbours
  ASSERT_EQ(s.intervals().size(), 1u);
  EXPECT_EQ(s.intervals()[0], (Small::Interval{10, 39}));
  s.add(5, 50);
  ASSERT_EQ(s.intervals().size(), 1u);
  EXPECT_EQ(s.intervals()[0], (Small::Interval{5, 50}));
  s.add(52, 60);  // a gap of one value keeps them apart
  EXPECT_EQ(s.intervals().size(), 2u);
}

TEST(CoreIntervalSet, TopOfU16Space) {
  IntervalSet<std::uint16_t> s(65535);
  s.add(65535);
  s.add(65533, 65534);
  ASSERT_EQ(s.intervals().size(), 1u);
  EXPECT_EQ(s.intervals()[0].lo, 65533);
  EXPECT_EQ(s.intervals()[0].hi, 65535);
  const auto c = s.complement();
  ASSERT_EQ(c.intervals().size(), 1u);
  EXPECT_EQ(c.intervals()[0].lo, 0);
  EXPECT_EQ(c.intervals()[0].hi, 65532);
  EXPECT_TRUE(s.unite(c).is_full());
  EXPECT_TRUE(s.contains(65535));
  EXPECT_FALSE(c.contains(65535));
  EXPECT_TRUE(IntervalSet<std::uint16_t>::full(65535).complement().empty());
  EXPECT_TRUE(IntervalSet<std::uint16_t>(65535).complement().is_full());
}

TEST(CoreIntervalSet, TopOfU128Space) {
  const u128 top = ~u128{0};
  IntervalSet<u128> s(top);
  s.add(top);
  s.add(top - 2, top - 1);
  s.add(0);
  ASSERT_EQ(s.intervals().size(), 2u);
  EXPECT_TRUE(s.intervals()[1].lo == top - 2 && s.intervals()[1].hi == top);
  EXPECT_TRUE(s.contains(top - 2, top));
  EXPECT_FALSE(s.contains(top - 3, top));
  const auto c = s.complement();
  ASSERT_EQ(c.intervals().size(), 1u);
  EXPECT_TRUE(c.intervals()[0].lo == 1 && c.intervals()[0].hi == top - 3);
  EXPECT_TRUE(c.complement() == s);
  EXPECT_TRUE(s.unite(c).is_full());
  EXPECT_TRUE(s.subtract(IntervalSet<u128>::full(top)).empty());
}

TEST(CoreIntervalSet, BulkConstructionAtTheTopOfU128Space) {
  const u128 top = ~u128{0};
  using Big = IntervalSet<u128>;
  // Out of order, overlapping, touching, and ending at the top where hi + 1 wraps.
  const Big s = Big::of(top, {{top - 1, top}, {0, 0}, {5, 9}, {1, 2}, {top, top}, {7, 20}});
  ASSERT_EQ(s.intervals().size(), 3u);
  EXPECT_TRUE(s.intervals()[0].lo == 0 && s.intervals()[0].hi == 2);
  EXPECT_TRUE(s.intervals()[1].lo == 5 && s.intervals()[1].hi == 20);
  EXPECT_TRUE(s.intervals()[2].lo == top - 1 && s.intervals()[2].hi == top);
  EXPECT_TRUE(Big::of(top, {{0, top}, {3, 4}}).is_full());
  EXPECT_TRUE(Big::of(top, {}).empty());
}

TEST(CoreIntervalSet, SmallerMaxThanType) {
  Small s(63);
  s.add(60, 63);
  const auto c = s.complement();
  ASSERT_EQ(c.intervals().size(), 1u);
  EXPECT_EQ(c.intervals()[0], (Small::Interval{0, 59}));
  EXPECT_TRUE(Small::full(63).is_full());
  EXPECT_FALSE(Small::full(63) == Small::full(255));  // different universes never compare equal
}

}  // namespace
}  // namespace mw
