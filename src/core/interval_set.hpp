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

  // The set of many intervals at once, in any order, overlapping or not (each lo <= hi <= max):
  // one sort and one merge, where add() per interval moves the tail of the vector each time
  // (quadratic for a 10,000-element blocklist given out of order).
  static IntervalSet of(U max, std::vector<Interval> ivs) {
    IntervalSet s(max);
    std::sort(ivs.begin(), ivs.end(), [](const Interval& a, const Interval& b) {
      return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi);
    });
    for (const auto& i : ivs) {
      assert(i.lo <= i.hi && i.hi <= max);
      s.push_merged(i);
    }
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

  // Linear merges of the two sorted lists.
  IntervalSet unite(const IntervalSet& o) const {
    if (o.iv_.empty()) return *this;
    IntervalSet out(max_);
    if (iv_.empty()) {
      out.iv_ = o.iv_;
      return out;
    }
    out.iv_.reserve(iv_.size() + o.iv_.size());
    std::size_t a = 0, b = 0;
    while (a < iv_.size() || b < o.iv_.size()) {
      const bool take_a = b == o.iv_.size() || (a < iv_.size() && iv_[a].lo <= o.iv_[b].lo);
      out.push_merged(take_a ? iv_[a++] : o.iv_[b++]);
    }
    return out;
  }

  IntervalSet intersect(const IntervalSet& o) const {
    IntervalSet out(max_);
    if (is_full()) {
      out.iv_ = o.iv_;
      return out;
    }
    if (o.is_full()) return *this;
    // Usually no larger than the smaller operand (a tight reserve: a 10,000-interval set cut
    // by a /32 must not allocate for 10,000).
    out.iv_.reserve(std::min(iv_.size(), o.iv_.size()) + 1);
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

  IntervalSet subtract(const IntervalSet& o) const {
    if (o.iv_.empty()) return *this;
    IntervalSet out(max_);
    out.iv_.reserve(iv_.size() + 1);  // a cut splits one interval, the usual case
    std::size_t b = 0;
    for (const auto& i : iv_) {
      U lo = i.lo;
      bool left = true;  // part of i at or after lo is still to place
      // Skip what ends before this interval; what overlaps it cuts it.
      while (b < o.iv_.size() && o.iv_[b].hi < lo) ++b;
      std::size_t k = b;
      while (left && k < o.iv_.size() && o.iv_[k].lo <= i.hi) {
        const Interval& cut = o.iv_[k];
        if (cut.lo > lo) out.iv_.push_back({lo, static_cast<U>(cut.lo - 1)});
        if (cut.hi >= i.hi) {
          left = false;
        } else {
          lo = static_cast<U>(cut.hi + 1);
          ++k;
        }
      }
      if (left) out.iv_.push_back({lo, i.hi});
      b = k;
    }
    return out;
  }

  bool subset_of(const IntervalSet& o) const { return subtract(o).empty(); }

  friend bool operator==(const IntervalSet& a, const IntervalSet& b) {
    return a.max_ == b.max_ && a.iv_ == b.iv_;
  }

 private:
  // Appends i, whose lo is not below the last interval's lo, merging with it when they overlap
  // or touch.
  void push_merged(const Interval& i) {
    if (!iv_.empty()) {
      Interval& last = iv_.back();
      if (last.hi == max_ || i.lo <= last.hi + 1) {
        if (i.hi > last.hi) last.hi = i.hi;
        return;
      }
    }
    iv_.push_back(i);
  }

  U max_;
  std::vector<Interval> iv_;
};

}  // namespace mw
