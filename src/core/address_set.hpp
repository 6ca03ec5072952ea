// AddressSet: any set of IPv4 and IPv6 addresses, with exact set algebra over the whole
// 32- and 128-bit spaces, printed as the minimal list of CIDR prefixes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/interval_set.hpp"
#include "core/ip.hpp"

namespace mw {

class AddressSet {
 public:
  AddressSet();                        // empty
  static AddressSet any();             // every IPv4 and every IPv6 address
  static AddressSet any_of(Family f);  // the whole space of one family
  static AddressSet of(const Prefix& p);
  // Many prefixes at once, in any order: sorted and merged in one pass.
  static AddressSet of(const std::vector<Prefix>& ps);

  void add(const Prefix& p);
  void add(const Address& a);
  bool contains(const Address& a) const;
  bool contains(const Prefix& p) const;  // every address of p
  bool empty() const;
  bool empty(Family f) const;
  bool is_any(Family f) const;

  AddressSet unite(const AddressSet& o) const;
  AddressSet intersect(const AddressSet& o) const;
  AddressSet subtract(const AddressSet& o) const;
  AddressSet complement() const;  // over both families
  AddressSet only(Family f) const;

  // The minimal list of prefixes covering exactly this set, IPv4 first, each ascending.
  std::vector<Prefix> to_prefixes() const;
  std::vector<Prefix> to_prefixes(Family f) const;
  // Comma-separated prefixes, "(none)" when empty.
  std::string to_string() const;

  const IntervalSet<u128>& intervals(Family f) const { return f == Family::v4 ? v4_ : v6_; }

  friend bool operator==(const AddressSet&, const AddressSet&) = default;

 private:
  IntervalSet<u128> v4_;
  IntervalSet<u128> v6_;
};

// The minimal CIDR cover of one interval [lo, hi] of a family's space (lo <= hi <= family_max),
// ascending.
std::vector<Prefix> interval_to_prefixes(Family f, u128 lo, u128 hi);

namespace detail {
// interval_to_prefixes for a space of any width (1-128 bits), so that tests can compare it with
// a brute-force search in a small space. A block covers [start, start + 2^host_bits - 1].
struct CidrBlock {
  u128 start;
  int host_bits;
  friend bool operator==(const CidrBlock&, const CidrBlock&) = default;
};
std::vector<CidrBlock> cidr_cover(int width, u128 lo, u128 hi);
}  // namespace detail

}  // namespace mw
