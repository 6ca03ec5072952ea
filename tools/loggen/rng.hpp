// The generator's random numbers: splitmix64 with our own integer -> range mapping, so that one
// seed gives the same logs on every machine and standard library (the std distributions are
// implementation-defined, and libm's transcendental functions may round differently).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loggen {

__extension__ typedef unsigned __int128 u128;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) for n > 0 (multiply-shift: the bias is below n / 2^64).
  std::uint64_t below(std::uint64_t n) {
    return n == 0 ? 0 : static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  // Uniform in [lo, hi], both included.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  // True with probability ppm / 1,000,000.
  bool ppm(std::uint32_t p) { return below(1000000) < p; }
  bool percent(std::uint32_t p) { return below(100) < p; }

  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  template <typename T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }

  // Letters and digits, as in session ids and mail ids.
  std::string token(std::size_t n) {
    static constexpr std::string_view kChars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(n, 'x');
    for (auto& c : s) c = kChars[below(kChars.size())];
    return s;
  }

  // Fisher-Yates with our own mapping (std::shuffle's use of the generator is unspecified).
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      const auto j = below(i);
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  std::uint64_t state_;
};

}  // namespace loggen
