// AddressSet algebra over the IPv4 and IPv6 spaces, and the minimal CIDR cover used to print it.
#include "core/address_set.hpp"

#include <cassert>

namespace mw {
namespace {

// All ones in the low `bits` bits; bits may be 128, where a plain shift would be undefined.
u128 low_ones(int bits) {
  return bits >= 128 ? ~u128{0} : (u128{1} << bits) - 1;
}

}  // namespace

namespace detail {

std::vector<CidrBlock> cidr_cover(int width, u128 lo, u128 hi) {
  assert(width >= 1 && width <= 128);
  assert(lo <= hi && hi <= low_ones(width));
  std::vector<CidrBlock> out;
  // Greedy from the left: the largest aligned block that starts at lo and stays within hi. Any
  // cover must start a block at lo, and a larger one can only save blocks later, so this is
  // minimal.
  while (true) {
    int k = 0;
    while (k < width) {
      const u128 bigger = low_ones(k + 1);
      if ((lo & bigger) != 0 || (lo | bigger) > hi) break;
      ++k;
    }
    out.push_back({lo, k});
    const u128 last = lo | low_ones(k);
    // Stop on equality rather than testing lo <= hi: last + 1 wraps at 2^128 - 1.
    if (last == hi) break;
    lo = last + 1;
  }
  return out;
}

}  // namespace detail

std::vector<Prefix> interval_to_prefixes(Family f, u128 lo, u128 hi) {
  const int bits = family_bits(f);
  std::vector<Prefix> out;
  for (const auto& b : detail::cidr_cover(bits, lo, hi)) {
    out.push_back(Prefix{Address{f, b.start}, bits - b.host_bits});
  }
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
  AddressSet s;
  for (const auto& p : ps) s.add(p);
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
  for (const auto& i : intervals(f).intervals()) {
    auto ps = interval_to_prefixes(f, i.lo, i.hi);
    out.insert(out.end(), ps.begin(), ps.end());
  }
  return out;
}

std::vector<Prefix> AddressSet::to_prefixes() const {
  std::vector<Prefix> out = to_prefixes(Family::v4);
  auto v6 = to_prefixes(Family::v6);
  out.insert(out.end(), v6.begin(), v6.end());
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
