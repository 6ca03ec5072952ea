// Small string_view scanners shared by the log parsers (internal to src/logs). None of them
// allocates or reads outside the view it is given.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mw::logs::scan {

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The parsers try many literal prefixes per line: comparing the first and last bytes inline
// before the memcmp rejects most of them without a call (", relay=" vs ", delay=").
inline bool starts_with(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  if (p.empty()) return true;
  return s[0] == p[0] && s[p.size() - 1] == p[p.size() - 1] &&
         std::memcmp(s.data(), p.data(), p.size()) == 0;
}

// Byte classes for the per-byte scanners (queue ids): one table load instead of a chain of
// range tests per byte.
enum : std::uint8_t { kClassDigit = 1, kClassUpper = 2, kClassLower = 4 };
inline constexpr auto kByteClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = kClassDigit;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = kClassUpper;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = kClassLower;
  return t;
}();
inline std::uint8_t byte_class(char c) {
  return kByteClass[static_cast<unsigned char>(c)];
}
// [0-9A-Za-z]
inline bool is_alnum(char c) {
  return byte_class(c) != 0;
}

// Removes `prefix` from the front of `s` when it is there.
inline bool consume(std::string_view& s, std::string_view prefix) {
  if (!starts_with(s, prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// The position of the first byte of `s` that is one of `set` (npos when none). Unlike
// string_view::find_first_of, which calls memchr on `set` for every byte of `s`, one memchr
// for a single byte and a plain loop for a few.
inline std::size_t find_first_of(std::string_view s, std::string_view set) {
  if (set.size() == 1) return s.find(set[0]);
  for (std::size_t i = 0; i < s.size(); ++i) {
    for (const char c : set) {
      if (s[i] == c) return i;
    }
  }
  return std::string_view::npos;
}
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
inline bool contains(std::string_view s, std::string_view p) {
  return s.find(p) != std::string_view::npos;
}

// Exactly `n` decimal digits at the front of `s`, consumed.
inline bool fixed_digits(std::string_view& s, std::size_t n, int& out) {
  if (s.size() < n) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  s.remove_prefix(n);
  return true;
}

// 1 to `max_digits` decimal digits at the front of `s`, consumed.
inline bool uint_prefix(std::string_view& s, std::uint64_t& out, std::size_t max_digits = 19) {
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < s.size() && i < max_digits && is_digit(s[i])) {
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  out = v;
  s.remove_prefix(i);
  return true;
}

// The whole of `s` as an unsigned number of at most `max_digits` digits.
inline bool whole_uint(std::string_view s, std::uint64_t& out, std::size_t max_digits = 19) {
  return !s.empty() && s.size() <= max_digits && uint_prefix(s, out, max_digits) && s.empty();
}

// Text up to the first `delim` (all of `s` when absent); `s` keeps what follows the delimiter.
inline std::string_view take_until(std::string_view& s, std::string_view delim) {
  const auto p = s.find(delim);
  if (p == std::string_view::npos) {
    auto all = s;
    s = {};
    return all;
  }
  auto head = s.substr(0, p);
  s.remove_prefix(p + delim.size());
  return head;
}

// The value after `key` (which includes its '=' or ': ') up to the first of `enders`, searched
// from `from`; nullopt-like empty + false when the key is absent.
inline bool value_after(std::string_view s, std::string_view key, std::string_view enders,
                        std::string_view& out, std::size_t from = 0) {
  const auto p = s.find(key, from);
  if (p == std::string_view::npos) return false;
  auto rest = s.substr(p + key.size());
  const auto e = find_first_of(rest, enders);
  out = e == std::string_view::npos ? rest : rest.substr(0, e);
  return true;
}

// "<text>" at the front of `s`: the text up to the first '>' (an address holding '>' is only
// cut short).
inline bool angle_value(std::string_view& s, std::string_view& out) {
  if (s.empty() || s.front() != '<') return false;
  const auto e = s.find('>');
  if (e == std::string_view::npos) return false;
  out = s.substr(1, e - 1);
  s.remove_prefix(e + 1);
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Could this be an IP address as logs print them (hex digits, '.', ':')? A cheap filter
// before the strict parser; it accepts some non-addresses and never rejects an address.
inline bool looks_like_ip(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  bool colon = false, dot = false;
  for (char c : s) {
    if (c == ':') {
      colon = true;
    } else if (c == '.') {
      dot = true;
    } else if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return colon || dot;
}

// A client as Postfix logs it: "name[addr]" optionally followed by ":port". The name never
// holds '[' (Postfix only logs validated host names), so the first '[' opens the address.
struct Client {
  std::string_view name, ip;
  std::uint16_t port = 0;
};
inline bool postfix_client(std::string_view& s, Client& c) {
  const auto open = s.find('[');
  if (open == std::string_view::npos) return false;
  const auto close = s.find(']', open + 1);
  if (close == std::string_view::npos) return false;
  c.name = s.substr(0, open);
  c.ip = s.substr(open + 1, close - open - 1);
  if (c.name.find(' ') != std::string_view::npos || c.ip.empty()) return false;
  // Postfix may prefix an IPv6 address with "IPv6:" in some messages.
  consume(c.ip, "IPv6:");
  s.remove_prefix(close + 1);
  if (s.size() > 1 && s[0] == ':' && is_digit(s[1])) {
    s.remove_prefix(1);
    std::uint64_t port = 0;
    if (uint_prefix(s, port, 5) && port <= 65535) c.port = static_cast<std::uint16_t>(port);
  }
  return true;
}

}  // namespace mw::logs::scan
