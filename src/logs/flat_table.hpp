// A hash map from short strings (Postfix queue ids, account names, addresses) to values, for
// the Analyzer's hot paths: millions of lookups and inserts per run where std::unordered_map
// costs a node allocation, a std::string key and a pointer chase per entry.
//
// Layout: the entries (key and value) are dense, in insertion order until an erase moves the
// last entry into the hole, in chunks of doubling size (16, 32, 64, ... entries) so that
// growing never moves an entry nor needs twice the memory; an open-addressing index (linear
// probing, at most half full; a slot holds 32 bits of the hash and the entry's position, and
// optionally a copy of the key: KeysInIndex) finds them. Deleting
// shifts the following index slots back (no tombstones, so a long run of inserts and erases
// never degrades lookups), and walking every entry (watch mode's expiry) is a scan.
//
// Keys of up to FlatKey::kInline bytes are stored inside the entry (no allocation); longer
// keys (a remote server's "queued as" text, a long login name) are stored on the heap: any
// length works, only the common case is fast.
//
// The hash is not keyed: like std::hash, crafted keys (login names, remote queue ids) could
// collide on purpose; they cost time, never correctness.
//
// References and pointers to values stay valid across inserts; an erase moves the last entry.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace mw::logs {

// The n bytes at p (n <= 8) as a little-endian word, zero above them: what memcpy into a zeroed
// word gives, but by whole loads (bytes copied one by one and read back as a word stall store
// forwarding). `before`: how many bytes before p may be read too.
inline std::uint64_t load_le(const char* p, std::size_t n, std::size_t before) {
  std::uint64_t w = 0;
  if (n == 8) {
    std::memcpy(&w, p, 8);
  } else if (n == 0) {
    return 0;
  } else if (before + n >= 8) {
    std::memcpy(&w, p + n - 8, 8);  // ends at the same byte: shift out the ones before p
    w >>= 8 * (8 - n);
  } else if (n >= 4) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    w = lo | (std::uint64_t{hi} << (8 * (n - 4)));
  } else {
    const auto b = [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
    w = b(0) | (b(n / 2) << (8 * (n / 2))) | (b(n - 1) << (8 * (n - 1)));
  }
  return w;
}

// 64-bit hash of a byte string: a multiply-mix over 8-byte words, then a final avalanche
// (MurmurHash3's fmix64 constants), so that keys differing only in their last byte, like
// sequential queue ids, spread over the whole table.
inline std::uint64_t flat_hash(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    const std::uint64_t w = load_le(p, n, s.size() - n);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

// A string key in 24 bytes: inline up to kInline bytes (the last byte holds the length), on
// the heap beyond (the first 16 bytes then hold the pointer and the length).
class FlatKey {
 public:
  static constexpr std::size_t kInline = 23;

  FlatKey() = default;
  explicit FlatKey(std::string_view s) {
    if (s.size() <= kInline) {
      if (!s.empty()) std::memcpy(bytes_, s.data(), s.size());
      bytes_[kInline] = static_cast<char>(s.size());
    } else {
      char* p = new char[s.size()];
      std::memcpy(p, s.data(), s.size());
      const std::size_t n = s.size();
      std::memcpy(bytes_, &p, sizeof p);
      std::memcpy(bytes_ + sizeof p, &n, sizeof n);
      bytes_[kInline] = kLong;
    }
  }
  ~FlatKey() { release(); }
  FlatKey(const FlatKey&) = delete;
  FlatKey& operator=(const FlatKey&) = delete;
  FlatKey(FlatKey&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    o.bytes_[kInline] = 0;  // o no longer owns the heap copy
  }
  FlatKey& operator=(FlatKey&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(bytes_, o.bytes_, sizeof bytes_);
      o.bytes_[kInline] = 0;
    }
    return *this;
  }

  std::string_view view() const {
    if (!is_long()) return {bytes_, static_cast<std::size_t>(bytes_[kInline])};
    const char* p = nullptr;
    std::size_t n = 0;
    std::memcpy(&p, bytes_, sizeof p);
    std::memcpy(&n, bytes_ + sizeof p, sizeof n);
    return {p, n};
  }
  bool operator==(std::string_view s) const { return view() == s; }

 private:
  static constexpr char kLong = static_cast<char>(0x7F);  // no inline length is that large
  static_assert(kInline < 0x7F && 2 * sizeof(void*) <= kInline);
  bool is_long() const { return bytes_[kInline] == kLong; }
  void release() {
    if (!is_long()) return;
    char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    delete[] p;
    bytes_[kInline] = 0;
  }
  alignas(8) char bytes_[kInline + 1] = {};
};

// A vector whose elements never move when it grows: chunk k holds 16 << k elements.
template <class T>
class ChunkedVector {
 public:
  ChunkedVector() = default;
  ChunkedVector(const ChunkedVector&) = delete;
  ChunkedVector& operator=(const ChunkedVector&) = delete;
  ChunkedVector(ChunkedVector&& o) noexcept
      : chunks_(std::move(o.chunks_)), size_(std::exchange(o.size_, 0)) {}
  ChunkedVector& operator=(ChunkedVector&& o) noexcept {
    if (this != &o) {
      clear();
      chunks_ = std::move(o.chunks_);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~ChunkedVector() { clear(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return *slot(i); }
  const T& operator[](std::size_t i) const { return *slot(i); }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    const std::size_t k = chunk_of(size_);
    // Not value-initialised: the pages of a large chunk are touched only as it fills.
    if (k == chunks_.size()) chunks_.emplace_back(new Storage[kFirst << k]);
    T* p = ::new (static_cast<void*>(raw(size_))) T(std::forward<Args>(args)...);
    ++size_;
    return *p;
  }
  void pop_back() {
    --size_;
    slot(size_)->~T();
  }
  void clear() {
    while (size_ > 0) pop_back();
  }

 private:
  static constexpr std::size_t kFirst = 16;
  struct Storage {
    alignas(T) unsigned char bytes[sizeof(T)];
  };
  // Element i is in chunk k when 16 * (2^k - 1) <= i < 16 * (2^(k+1) - 1).
  static std::size_t chunk_of(std::size_t i) {
    return static_cast<std::size_t>(std::bit_width(i / kFirst + 1)) - 1;
  }
  unsigned char* raw(std::size_t i) const {
    const std::size_t k = chunk_of(i);
    return chunks_[k][i - kFirst * ((std::size_t{1} << k) - 1)].bytes;
  }
  T* slot(std::size_t i) const { return std::launder(reinterpret_cast<T*>(raw(i))); }

  std::vector<std::unique_ptr<Storage[]>> chunks_;
  std::size_t size_ = 0;
};

// KeysInIndex: the index slots also hold a copy of short keys (32 bytes a slot instead of 8),
// so that a lookup that only needs the answer or the position (interned names, sets) reads
// one cache line instead of two. Worth it for tables looked up far more often than they grow.
template <class V, bool KeysInIndex = false>
class FlatStringMap {
 public:
  struct Entry {
    FlatKey key;
    V value{};
    std::uint64_t hash = 0;
    Entry(std::string_view k, std::uint64_t h) : key(k), hash(h) {}
  };
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  FlatStringMap() = default;

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // The position of `key`'s entry, or npos. Positions change when an entry is erased.
  std::size_t find_index(std::string_view key) const {
    if (entries_.empty()) return npos;
    const std::uint64_t h = flat_hash(key);
    const std::uint32_t fp = fingerprint(h);
    const Packed packed(key);
    for (std::size_t i = home(fp);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry == 0) return npos;
      if (matches(s, fp, key, packed)) return s.entry - 1;
    }
  }
  V* find(std::string_view key) {
    const auto i = find_index(key);
    return i == npos ? nullptr : &entries_[i].value;
  }
  const V* find(std::string_view key) const {
    const auto i = find_index(key);
    return i == npos ? nullptr : &entries_[i].value;
  }
  bool contains(std::string_view key) const { return find_index(key) != npos; }

  // The entry of `key`, value-initialised when it is new; second: whether it is new.
  std::pair<std::size_t, bool> try_emplace_index(std::string_view key) {
    // At most half full: a miss (a new queue id) then stops within a probe or two.
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = flat_hash(key);
    const std::uint32_t fp = fingerprint(h);
    const Packed packed(key);
    std::size_t i = home(fp);
    for (;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry == 0) break;
      if (matches(s, fp, key, packed)) return {s.entry - 1, false};
    }
    if (entries_.size() >= kMaxEntries) throw std::length_error("FlatStringMap: too many entries");
    entries_.emplace_back(key, h);
    slots_[i] = make_slot(fp, static_cast<std::uint32_t>(entries_.size()), packed);
    return {entries_.size() - 1, true};
  }
  std::pair<V*, bool> try_emplace(std::string_view key) {
    const auto [i, inserted] = try_emplace_index(key);
    return {&entries_[i].value, inserted};
  }
  V& operator[](std::string_view key) { return *try_emplace(key).first; }

  Entry& entry(std::size_t index) { return entries_[index]; }
  const Entry& entry(std::size_t index) const { return entries_[index]; }

  bool erase(std::string_view key) {
    const auto i = find_index(key);
    if (i == npos) return false;
    erase_index(i);
    return true;
  }

  // Erases the entry at `index`: the last entry moves into its place.
  void erase_index(std::size_t index) {
    remove_slot(slot_of(index));
    const std::size_t last = entries_.size() - 1;
    if (index != last) {
      slots_[slot_of(last)].entry = static_cast<std::uint32_t>(index + 1);
      entries_[index] = std::move(entries_[last]);
    }
    entries_.pop_back();
  }

  // Erases every entry for which pred(key, value) is true (the others keep their order only
  // up to the moves that fill the holes).
  template <class Pred>
  void erase_if(Pred&& pred) {
    for (std::size_t i = 0; i < entries_.size();) {
      if (pred(entries_[i].key.view(), entries_[i].value))
        erase_index(i);  // the last entry moved to i: look at i again
      else
        ++i;
    }
  }

  // f(key, value) for every entry; f must not insert or erase.
  template <class F>
  void for_each(F&& f) {
    for (std::size_t i = 0; i < entries_.size(); ++i) f(entries_[i].key.view(), entries_[i].value);
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) f(entries_[i].key.view(), entries_[i].value);
  }

  void clear() {
    entries_.clear();
    slots_.assign(slots_.size(), Slot{});
  }

 private:
  // An index slot: the hash's top 32 bits and the entry's position + 1 (0: empty), and with
  // KeysInIndex the key packed as FlatKey packs it (a long key: only its marker).
  struct ShortSlot {
    std::uint32_t fp = 0;
    std::uint32_t entry = 0;
  };
  struct KeySlot {
    std::uint32_t fp = 0;
    std::uint32_t entry = 0;
    std::uint64_t words[3] = {};
  };
  using Slot = std::conditional_t<KeysInIndex, KeySlot, ShortSlot>;

  // A key as three words: up to 23 bytes zero-padded, the length in the last byte; a longer
  // key is only marked long (it is compared with the entry's copy).
  struct Packed {
    std::uint64_t words[3] = {};
    explicit Packed(std::string_view key) {
      if constexpr (KeysInIndex) {
        // Bytes 0-22 the key, zero-padded; byte 23 its length (0xFF: a long key). Made by
        // whole loads (load_le): a memcpy into the words read back stalled every lookup.
        static_assert(FlatKey::kInline == 23);
        const std::size_t n = key.size();
        if (n <= FlatKey::kInline) {
          const char* p = key.data();
          for (std::size_t w = 0; w < 3 && 8 * w < n; ++w)
            words[w] = load_le(p + 8 * w, std::min<std::size_t>(8, n - 8 * w), 8 * w);
          words[2] |= std::uint64_t{n} << 56;
        } else {
          words[2] = std::uint64_t{0xFF} << 56;
        }
      }
    }
  };
  static Slot make_slot(std::uint32_t fp, std::uint32_t entry, const Packed& packed) {
    Slot s;
    s.fp = fp;
    s.entry = entry;
    if constexpr (KeysInIndex)
      for (int w = 0; w < 3; ++w) s.words[w] = packed.words[w];
    return s;
  }
  bool matches(const Slot& s, std::uint32_t fp, std::string_view key, const Packed& packed) const {
    if (s.fp != fp) return false;
    if constexpr (KeysInIndex) {
      if (s.words[0] != packed.words[0] || s.words[1] != packed.words[1] ||
          s.words[2] != packed.words[2])
        return false;
      if (key.size() <= FlatKey::kInline) return true;  // every byte and the length compared
    }
    return entries_[s.entry - 1].key == key;
  }
  static constexpr std::size_t kMaxEntries = std::numeric_limits<std::uint32_t>::max() - 1;

  static std::uint32_t fingerprint(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }
  // The slot where probing for a fingerprint starts: its top bits (the table has at most 2^32
  // slots, so they are enough).
  std::size_t home(std::uint32_t fp) const { return shift_ >= 32 ? 0 : fp >> shift_; }

  // The index slot that points at entry `index` (it exists).
  std::size_t slot_of(std::size_t index) const {
    const std::uint32_t fp = fingerprint(entries_[index].hash);
    const auto want = static_cast<std::uint32_t>(index + 1);
    std::size_t i = home(fp);
    while (slots_[i].entry != want) i = (i + 1) & mask_;
    return i;
  }

  // Backward-shift deletion: later slots of the same probe run move up into the hole, so
  // every remaining key stays reachable from its home slot without tombstones.
  void remove_slot(std::size_t hole) {
    for (std::size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      const Slot s = slots_[j];
      if (s.entry == 0) break;
      const std::size_t h = home(s.fp);
      // s may fill the hole when the hole lies between its home and j (cyclically).
      if (((j - h) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = s;
        hole = j;
      }
    }
    slots_[hole] = Slot{};
  }

  void grow() {
    const std::size_t cap = slots_.empty() ? 16 : slots_.size() * 2;
    if (cap > (std::size_t{1} << 32)) throw std::length_error("FlatStringMap: too many entries");
    // The old slots hold all a slot needs (its home is in the fingerprint): rebuilding from
    // them reads no entry.
    const std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(cap));
    mask_ = cap - 1;
    shift_ = 32;
    for (std::size_t c = cap; c > 1; c >>= 1) --shift_;
    for (const Slot& s : old) {
      if (s.entry == 0) continue;
      std::size_t i = home(s.fp);
      while (slots_[i].entry != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  ChunkedVector<Entry> entries_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 32;
};

}  // namespace mw::logs
