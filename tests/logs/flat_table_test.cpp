// FlatStringMap (src/logs/flat_table.hpp), the Analyzer's table of messages and interned
// names: the same answers as std::unordered_map under any mix of inserts, lookups and erases,
// with keys inline and on the heap, and through growth and backward-shift deletion.
#include "logs/flat_table.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace mw::logs {
namespace {

TEST(FlatKey, InlineAndHeapKeysKeepTheirText) {
  const std::string long_key(200, 'q');
  for (const std::string& s :
       {std::string(), std::string("4F2A91C3D0"), std::string(FlatKey::kInline, 'x'),
        std::string(FlatKey::kInline + 1, 'y'), long_key}) {
    FlatKey k(s);
    EXPECT_EQ(k.view(), s);
    FlatKey moved(std::move(k));
    EXPECT_EQ(moved.view(), s);
    FlatKey assigned("other");
    assigned = std::move(moved);
    EXPECT_EQ(assigned.view(), s);
  }
}

TEST(FlatKey, KeysThatShareAPrefixDiffer) {
  // Zero padding must not make "AB" equal to "AB\0".
  FlatKey k(std::string_view("AB"));
  EXPECT_TRUE(k == std::string_view("AB"));
  EXPECT_FALSE(k == std::string_view("AB\0", 3));
  EXPECT_FALSE(k == std::string_view("A"));
}

TEST(FlatHash, SequentialQueueIdsSpread) {
  // Postfix's queue ids differ in their last characters: their home slots must not cluster.
  std::map<std::uint64_t, int> top_bits;
  for (int i = 0; i < 4096; ++i) ++top_bits[flat_hash(std::to_string(1000000000 + i)) >> 56];
  EXPECT_GT(top_bits.size(), 240u);  // 256 buckets, 16 keys each on average
  for (const auto& [bucket, n] : top_bits) EXPECT_LT(n, 48) << bucket;
}

// The definition the word loads of flat_hash must reproduce: the tail copied byte by byte
// into a zeroed word.
std::uint64_t reference_hash(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  for (std::size_t i = 0; i < s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, std::min<std::size_t>(8, s.size() - i));
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

TEST(FlatHash, TailOfEveryLengthHashesItsBytes) {
  // Every tail length (0-7) after 0-4 whole words, at every offset of a buffer of distinct
  // bytes, so that a load reading one byte too many or too few changes the result.
  std::string buf;
  for (int i = 0; i < 64; ++i) buf.push_back(static_cast<char>(0x80 + i * 37));
  for (std::size_t n = 0; n <= 40; ++n)
    for (std::size_t off = 0; off + n <= buf.size(); off += 3) {
      const std::string_view s(buf.data() + off, n);
      EXPECT_EQ(flat_hash(s), reference_hash(s)) << "length " << n << " offset " << off;
    }
}

TEST(FlatStringMap, KeysInTheIndexOfEveryLength) {
  // Keys of every length up to past the inline limit, that differ only in their last byte or
  // only in their length, at every alignment: each is found, and none finds another.
  std::string buf(64, '\0');
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>('a' + i % 26);
  for (std::size_t off = 0; off < 9; ++off) {
    FlatStringMap<int, true> m;
    std::vector<std::string> keys;
    for (std::size_t n = 0; n <= FlatKey::kInline + 3; ++n) {
      keys.emplace_back(buf.data() + off, n);
      std::string other(buf.data() + off, n);
      if (n > 0) {
        other.back() = '#';
        keys.push_back(other);
      }
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto [v, inserted] = m.try_emplace(keys[i]);
      ASSERT_TRUE(inserted) << "offset " << off << " key " << keys[i];
      *v = static_cast<int>(i);
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const int* v = m.find(keys[i]);
      ASSERT_NE(v, nullptr) << keys[i];
      EXPECT_EQ(*v, static_cast<int>(i)) << keys[i];
    }
    EXPECT_EQ(m.find(std::string(buf.data() + off, 40)), nullptr);
  }
}

TEST(FlatStringMap, InsertFindEraseThroughGrowth) {
  FlatStringMap<int> m;
  EXPECT_EQ(m.find("none"), nullptr);
  EXPECT_FALSE(m.erase("none"));
  for (int i = 0; i < 10000; ++i) {
    auto [v, inserted] = m.try_emplace("Q" + std::to_string(i));
    ASSERT_TRUE(inserted);
    EXPECT_EQ(*v, 0);  // value-initialised
    *v = i;
  }
  EXPECT_EQ(m.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    const int* v = m.find("Q" + std::to_string(i));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
  for (int i = 0; i < 10000; i += 2) EXPECT_TRUE(m.erase("Q" + std::to_string(i)));
  EXPECT_EQ(m.size(), 5000u);
  for (int i = 0; i < 10000; ++i) {
    const int* v = m.find("Q" + std::to_string(i));
    if (i % 2 == 0) {
      EXPECT_EQ(v, nullptr) << i;
    } else {
      ASSERT_NE(v, nullptr) << i;
      EXPECT_EQ(*v, i);
    }
  }
  auto [v, inserted] = m.try_emplace("Q1");
  EXPECT_FALSE(inserted);
  EXPECT_EQ(*v, 1);
}

TEST(FlatStringMap, LongKeysAndValuesThatOwnMemory) {
  // Values with heap memory (like Message's vectors) must survive moves on erase and growth.
  FlatStringMap<std::string> m;
  for (int i = 0; i < 500; ++i)
    m[std::string(30 + i % 40, 'k') + std::to_string(i)] =
        std::string(100, 'v') + std::to_string(i);
  for (int i = 0; i < 500; i += 3)
    EXPECT_TRUE(m.erase(std::string(30 + i % 40, 'k') + std::to_string(i)));
  for (int i = 0; i < 500; ++i) {
    const std::string* v = m.find(std::string(30 + i % 40, 'k') + std::to_string(i));
    if (i % 3 == 0) {
      EXPECT_EQ(v, nullptr);
    } else {
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(*v, std::string(100, 'v') + std::to_string(i));
    }
  }
}

TEST(FlatStringMap, EraseIfVisitsEveryEntryOnce) {
  FlatStringMap<int> m;
  for (int i = 0; i < 1000; ++i) m[std::to_string(i)] = i;
  int visited = 0;
  m.erase_if([&](std::string_view, int v) {
    ++visited;
    return v % 3 != 0;
  });
  EXPECT_EQ(visited, 1000);
  EXPECT_EQ(m.size(), 334u);
  int sum = 0, seen = 0;
  m.for_each([&](std::string_view k, int v) {
    EXPECT_EQ(k, std::to_string(v));
    EXPECT_EQ(v % 3, 0);
    sum += v;
    ++seen;
  });
  EXPECT_EQ(seen, 334);
  EXPECT_EQ(sum, 3 * (333 * 334 / 2));
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find("3"), nullptr);
  m["3"] = 3;
  EXPECT_EQ(*m.find("3"), 3);
}

TEST(FlatStringMap, IndexesAreEntryPositions) {
  // The Interner uses an entry's position as the id of a name that is never erased.
  FlatStringMap<char> m;
  for (std::size_t i = 0; i < 100; ++i) {
    const auto [index, inserted] = m.try_emplace_index("name" + std::to_string(i));
    EXPECT_TRUE(inserted);
    EXPECT_EQ(index, i);
  }
  EXPECT_EQ(m.find_index("name42"), 42u);
  EXPECT_EQ(m.entry(42).key.view(), "name42");
  EXPECT_EQ(m.find_index("name100"), FlatStringMap<char>::npos);
}

// Any sequence of operations on a small key space (so that probe runs collide, wrap around
// the end of the index and shift back on erase) answers like std::unordered_map.
template <class Map>
void behaves_like_unordered_map() {
  Map flat;
  std::unordered_map<std::string, int> model;
  const auto ops = *rc::gen::inRange(1, 3000);
  const auto keys = *rc::gen::inRange(1, 300);
  for (int n = 0; n < ops; ++n) {
    const int k = *rc::gen::inRange(0, keys);
    // Some keys long enough to live on the heap.
    const std::string key =
        k % 7 == 0 ? std::string(40, 'L') + std::to_string(k) : std::to_string(k);
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
      case 1: {
        auto [v, inserted] = flat.try_emplace(key);
        auto [it, model_inserted] = model.try_emplace(key, 0);
        RC_ASSERT(inserted == model_inserted);
        *v = it->second = n;
        break;
      }
      case 2:
        RC_ASSERT(flat.erase(key) == (model.erase(key) == 1));
        break;
      case 3:
        if (*rc::gen::inRange(0, 50) == 0) {
          const int m = *rc::gen::inRange(2, 5);
          flat.erase_if([&](std::string_view, int v) { return v % m == 0; });
          std::erase_if(model, [&](const auto& kv) { return kv.second % m == 0; });
        }
        break;
      default: {
        const int* v = flat.find(key);
        auto it = model.find(key);
        const bool same = v == nullptr ? it == model.end() : it != model.end() && *v == it->second;
        RC_ASSERT(same);
      }
    }
    RC_ASSERT(flat.size() == model.size());
  }
  for (const auto& [k, v] : model) {
    const int* f = flat.find(k);
    const bool same = f != nullptr && *f == v;
    RC_ASSERT(same);
  }
}

RC_GTEST_PROP(FlatStringMap, BehavesLikeUnorderedMap, ()) {
  behaves_like_unordered_map<FlatStringMap<int>>();
}

// The same with the keys copied into the index (the Interner's and the sets' variant).
RC_GTEST_PROP(FlatStringMap, WithKeysInIndexBehavesLikeUnorderedMap, ()) {
  behaves_like_unordered_map<FlatStringMap<int, true>>();
}

TEST(FlatStringMap, WithKeysInIndexTellsLongKeysApart) {
  // Long keys share one marker in the index: the entry's copy decides.
  FlatStringMap<int, true> m;
  const std::string a(40, 'a'), b = std::string(39, 'a') + "b";
  m[a] = 1;
  m[b] = 2;
  EXPECT_EQ(*m.find(a), 1);
  EXPECT_EQ(*m.find(b), 2);
  EXPECT_EQ(m.find(std::string(41, 'a')), nullptr);
  m[std::string(23, 'x')] = 3;  // the longest inline key
  EXPECT_EQ(*m.find(std::string(23, 'x')), 3);
  EXPECT_EQ(m.find(std::string(22, 'x')), nullptr);
  EXPECT_EQ(m.find(std::string(24, 'x')), nullptr);
}

}  // namespace
}  // namespace mw::logs
