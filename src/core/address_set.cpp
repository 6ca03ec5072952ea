// AddressSet algebra over the IPv4 and IPv6 spaces, and the minimal CIDR cover used to print it.
#include "core/address_set.hpp"

#include <algorithm>
#include <cassert>
#include <cstdint>

namespace mw {
namespace {

// All ones in the low `bits` bits; bits may be 128, where a plain shift would be undefined.
u128 low_ones(int bits) {
  return bits >= 128 ? ~u128{0} : (u128{1} << bits) - 1;
}

// Trailing zeros of v != 0.
int ctz128(u128 v) {
  const auto low = static_cast<std::uint64_t>(v);
  return low != 0 ? __builtin_ctzll(low)
                  : 64 + __builtin_ctzll(static_cast<std::uint64_t>(v >> 64));
}

// The highest set bit of v != 0.
int floor_log2(u128 v) {
  const auto high = static_cast<std::uint64_t>(v >> 64);
  return high != 0 ? 127 - __builtin_clzll(high)
                   : 63 - __builtin_clzll(static_cast<std::uint64_t>(v));
}

// Calls emit(start, host_bits) for each block of the minimal CIDR cover of [lo, hi] in a
// space of `width` bits, ascending. Greedy from the left: the largest aligned block that starts
// at lo and stays within hi. Any cover must start a block at lo, and a larger one can only save
// blocks later, so this is minimal. The block is bounded by lo's alignment (its trailing zeros)
// and by the length of what is left (the highest bit of hi - lo + 1).
template <class Emit>
void for_each_block(int width, u128 lo, u128 hi, Emit emit) {
  assert(width >= 1 && width <= 128);
  assert(lo <= hi && hi <= low_ones(width));
  if ((hi >> 64) == 0) {
    // IPv4 and the low IPv6 addresses: the same in 64-bit arithmetic, which is cheaper.
    auto l = static_cast<std::uint64_t>(lo);
    const auto h = static_cast<std::uint64_t>(hi);
    while (true) {
      int k = l == 0 ? std::min(width, 64) : std::min(width, __builtin_ctzll(l));
      const std::uint64_t left = h - l;  // + 1 wraps only for [0, 2^64 - 1]
      if (left != ~std::uint64_t{0}) k = std::min(k, 63 - __builtin_clzll(left + 1));
      emit(u128{l}, k);
      const std::uint64_t last = k >= 64 ? ~std::uint64_t{0} : l | ((std::uint64_t{1} << k) - 1);
      if (last == h) break;
      l = last + 1;
    }
    return;
  }
  while (true) {
    int k = lo == 0 ? width : std::min(width, ctz128(lo));
    const u128 left = hi - lo;  // + 1 wraps only for the whole 128-bit space
    if (left != ~u128{0}) k = std::min(k, floor_log2(left + 1));
    emit(lo, k);
    const u128 last = lo | low_ones(k);
    // Stop on equality rather than testing lo <= hi: last + 1 wraps at 2^128 - 1.
    if (last == hi) break;
    lo = last + 1;
  }
}

// Appends the minimal CIDR cover of [lo, hi] to out.
void append_prefixes(Family f, u128 lo, u128 hi, std::vector<Prefix>& out) {
  const int bits = family_bits(f);
  for_each_block(bits, lo, hi, [&](u128 start, int host_bits) {
    out.push_back(Prefix{Address{f, start}, bits - host_bits});
  });
}

}  // namespace

namespace detail {

std::vector<CidrBlock> cidr_cover(int width, u128 lo, u128 hi) {
  std::vector<CidrBlock> out;
  for_each_block(width, lo, hi, [&](u128 start, int host_bits) {
    out.push_back({start, host_bits});
  });
  return out;
}

}  // namespace detail

std::vector<Prefix> interval_to_prefixes(Family f, u128 lo, u128 hi) {
  std::vector<Prefix> out;
  append_prefixes(f, lo, hi, out);
  return out;
}

AddressSet::AddressSet() : v4_(family_max(Family::v4)), v6_(family_max(Family::v6)) {}

AddressSet AddressSet::any() {
  return any_of(Family::v4).unite(any_of(Family::v6));
}

AddressSet AddressSet::any_of(Family f) {
  AddressSet s;
  (f == Family::v4 ? s.v4_ : s.v6_) = IntervalSet<u128>::full(family_max(f));
  return s;
}

AddressSet AddressSet::of(const Prefix& p) {
  AddressSet s;
  s.add(p);
  return s;
}

AddressSet AddressSet::of(const std::vector<Prefix>& ps) {
  std::vector<IntervalSet<u128>::Interval> v4, v6;
  for (const auto& p : ps) (p.addr.family == Family::v4 ? v4 : v6).push_back({p.first(), p.last()});
  AddressSet s;
  s.v4_ = IntervalSet<u128>::of(family_max(Family::v4), std::move(v4));
  s.v6_ = IntervalSet<u128>::of(family_max(Family::v6), std::move(v6));
  return s;
}

void AddressSet::add(const Prefix& p) {
  (p.addr.family == Family::v4 ? v4_ : v6_).add(p.first(), p.last());
}

void AddressSet::add(const Address& a) {
  (a.family == Family::v4 ? v4_ : v6_).add(a.value);
}

bool AddressSet::contains(const Address& a) const {
  return intervals(a.family).contains(a.value);
}

bool AddressSet::contains(const Prefix& p) const {
  return intervals(p.addr.family).contains(p.first(), p.last());
}

bool AddressSet::empty() const {
  return v4_.empty() && v6_.empty();
}
bool AddressSet::empty(Family f) const {
  return intervals(f).empty();
}
bool AddressSet::is_any(Family f) const {
  return intervals(f).is_full();
}

AddressSet AddressSet::unite(const AddressSet& o) const {
  AddressSet s;
  s.v4_ = v4_.unite(o.v4_);
  s.v6_ = v6_.unite(o.v6_);
  return s;
}

AddressSet AddressSet::intersect(const AddressSet& o) const {
  AddressSet s;
  s.v4_ = v4_.intersect(o.v4_);
  s.v6_ = v6_.intersect(o.v6_);
  return s;
}

AddressSet AddressSet::subtract(const AddressSet& o) const {
  AddressSet s;
  s.v4_ = v4_.subtract(o.v4_);
  s.v6_ = v6_.subtract(o.v6_);
  return s;
}

AddressSet AddressSet::complement() const {
  AddressSet s;
  s.v4_ = v4_.complement();
  s.v6_ = v6_.complement();
  return s;
}

AddressSet AddressSet::only(Family f) const {
  AddressSet s;
  (f == Family::v4 ? s.v4_ : s.v6_) = intervals(f);
  return s;
}

std::vector<Prefix> AddressSet::to_prefixes(Family f) const {
  std::vector<Prefix> out;
  for (const auto& i : intervals(f).intervals()) append_prefixes(f, i.lo, i.hi, out);
  return out;
}

std::vector<Prefix> AddressSet::to_prefixes() const {
  std::vector<Prefix> out = to_prefixes(Family::v4);
  for (const auto& i : v6_.intervals()) append_prefixes(Family::v6, i.lo, i.hi, out);
  return out;
}

std::string AddressSet::to_string() const {
  if (empty()) return "(none)";
  std::string out;
  for (const auto& p : to_prefixes()) {
    if (!out.empty()) out += ", ";
    out += mw::to_string(p);
  }
  return out;
}

}  // namespace mw
