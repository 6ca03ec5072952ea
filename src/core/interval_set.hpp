// IntervalSet: a set of unsigned integers in [0, max] kept as sorted, disjoint, non-adjacent
// closed intervals. The one representation behind address sets (u32/u128) and port sets (u16).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace mw {

template <class U>
class IntervalSet {
 public:
  struct Interval {
    U lo;
    U hi;  // inclusive
    friend bool operator==(const Interval&, const Interval&) = default;
  };

  // The empty set over the universe [0, max].
  explicit IntervalSet(U max) : max_(max) {}

  static IntervalSet full(U max) {
    IntervalSet s(max);
    s.iv_.push_back({0, max});
    return s;
  }

  U max() const { return max_; }
  bool empty() const { return iv_.empty(); }
  bool is_full() const { return iv_.size() == 1 && iv_[0].lo == 0 && iv_[0].hi == max_; }
  const std::vector<Interval>& intervals() const { return iv_; }

  // Adds [lo, hi]; lo <= hi <= max() is the caller's contract.
  void add(U lo, U hi) {
    // A violation would silently corrupt the invariants every other member relies on.
    assert(lo <= hi && hi <= max_);
    // Find the first interval that ends at or after lo-1 (so adjacent ones merge).
    auto it = std::lower_bound(iv_.begin(), iv_.end(), lo, [](const Interval& a, U v) {
      return a.hi < v && v - a.hi > 1;  // a ends before v-1: neither overlaps nor touches
    });
    auto last = it;
    while (last != iv_.end() && (last->lo <= hi || (hi != max_ && last->lo == hi + 1))) {
      lo = std::min(lo, last->lo);
      hi = std::max(hi, last->hi);
      ++last;
    }
    it = iv_.erase(it, last);
    iv_.insert(it, Interval{lo, hi});
  }
  void add(U v) { add(v, v); }

  bool contains(U v) const {
    auto it = std::upper_bound(iv_.begin(), iv_.end(), v,
                               [](U x, const Interval& a) { return x < a.lo; });
    return it != iv_.begin() && std::prev(it)->hi >= v;
  }
  // True when every value of [lo, hi] is in the set.
  bool contains(U lo, U hi) const {
    auto it = std::upper_bound(iv_.begin(), iv_.end(), lo,
                               [](U x, const Interval& a) { return x < a.lo; });
    return it != iv_.begin() && std::prev(it)->hi >= hi;
  }

  IntervalSet complement() const {
    IntervalSet out(max_);
    U next = 0;
    bool open = true;  // false once next would overflow past max_
    for (const auto& i : iv_) {
      if (i.lo > next) out.iv_.push_back({next, static_cast<U>(i.lo - 1)});
      if (i.hi == max_) {
        open = false;
        break;
      }
      next = i.hi + 1;
    }
    if (open) out.iv_.push_back({next, max_});
    return out;
  }

  IntervalSet unite(const IntervalSet& o) const {
    IntervalSet out = *this;
    for (const auto& i : o.iv_) out.add(i.lo, i.hi);
    return out;
  }

  IntervalSet intersect(const IntervalSet& o) const {
    IntervalSet out(max_);
    std::size_t a = 0, b = 0;
    while (a < iv_.size() && b < o.iv_.size()) {
      U lo = std::max(iv_[a].lo, o.iv_[b].lo);
      U hi = std::min(iv_[a].hi, o.iv_[b].hi);
      if (lo <= hi) out.iv_.push_back({lo, hi});
      if (iv_[a].hi < o.iv_[b].hi) {
        ++a;
      } else {
        ++b;
      }
    }
    return out;
  }

  IntervalSet subtract(const IntervalSet& o) const { return intersect(o.complement()); }

  bool subset_of(const IntervalSet& o) const { return subtract(o).empty(); }

  friend bool operator==(const IntervalSet& a, const IntervalSet& b) {
    return a.max_ == b.max_ && a.iv_ == b.iv_;
  }

 private:
  U max_;
  std::vector<Interval> iv_;
};

}  // namespace mw
