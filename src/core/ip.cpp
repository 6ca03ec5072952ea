// Strict IPv4/IPv6 address and prefix parsing with errors a person can act on; RFC 5952 printing.
#include "core/ip.hpp"

#include "core/quote.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>

namespace mw {
namespace {

std::string quote(std::string_view text) {
  return quote_input(text);
}

std::string show_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (c == '\'') return "\"'\"";
  if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", ch);
  return fmt::format("byte 0x{:02x}", c);
}

Error fail(std::string_view text, std::string_view detail) {
  return Error{fmt::format("{}: {}", quote(text), detail)};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Positions in messages are 1-based characters of the whole text the user gave, so every helper
// takes `at`, the 0-based offset of its piece within that text.
std::optional<std::string> find_space(std::string_view s, std::size_t at) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_space(s[i])) return fmt::format("whitespace at character {}", at + i + 1);
  }
  return std::nullopt;
}

// `dotted` is true where only a dotted quad may stand, so that a letter suggests a host name.
std::string unexpected(char c, std::size_t pos, bool dotted) {
  std::string msg = fmt::format("unexpected character {} at character {}", show_char(c), pos + 1);
  if (dotted && is_alpha(c)) msg += " (host names are not accepted, only numeric addresses)";
  if (c == '/') msg += " (a prefix length is not accepted here, only a single address)";
  return msg;
}

std::optional<std::string> parse_v4(std::string_view s, std::size_t at, bool standalone,
                                    std::uint32_t& out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_digit(s[i]) && s[i] != '.') return unexpected(s[i], at + i, standalone);
  }
  std::array<std::string_view, 4> parts;
  std::array<std::size_t, 4> starts{};
  std::size_t count = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i != s.size() && s[i] != '.') continue;
    if (count < 4) {
      parts[count] = s.substr(start, i - start);
      starts[count] = start;
    }
    ++count;
    start = i + 1;
  }
  if (count != 4) {
    return fmt::format("expected 4 dot-separated octets, found {}{}", count,
                       count < 4 ? " (shorthand like '10.1' is not accepted)" : "");
  }
  std::uint32_t value = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const std::string_view p = parts[k];
    if (p.empty()) {
      return fmt::format("octet {} is empty (character {})", k + 1, at + starts[k] + 1);
    }
    if (p.size() > 1 && p[0] == '0') {
      return fmt::format("octet {} has a leading zero (ambiguous: some tools read it as octal)",
                         k + 1);
    }
    unsigned octet = 0;
    for (char c : p.substr(0, 4)) octet = octet * 10 + static_cast<unsigned>(c - '0');
    if (p.size() > 3 || octet > 255) {
      return fmt::format("octet {} is {}, above 255", k + 1, clip_digits(p));
    }
    value = (value << 8) | octet;
  }
  out = value;
  return std::nullopt;
}

std::optional<std::string> parse_v6(std::string_view s, std::size_t at, u128& out) {
  std::array<std::uint16_t, 8> groups{};
  std::size_t n = 0;
  std::optional<std::size_t> gap;  // index in groups where "::" stands
  std::size_t i = 0;
  if (s.starts_with("::")) {
    gap = 0;
    i = 2;
  } else if (s.starts_with(":")) {
    return "starts with a single ':' (write '::' for leading zero groups)";
  }
  while (i < s.size()) {
    const std::size_t start = i;
    while (i < s.size() && hex_value(s[i]) >= 0) ++i;
    if (i < s.size() && s[i] == '.') {
      if (n > 6) return "more than 8 groups (an embedded IPv4 part counts as 2)";
      std::uint32_t v4 = 0;
      if (auto e = parse_v4(s.substr(start), at + start, false, v4)) {
        return fmt::format("embedded IPv4 part {}: {}", quote(s.substr(start)), *e);
      }
      groups[n++] = static_cast<std::uint16_t>(v4 >> 16);
      groups[n++] = static_cast<std::uint16_t>(v4 & 0xffff);
      i = s.size();
      break;
    }
    if (i == start) {
      if (s[i] == ':') return fmt::format("unexpected ':' at character {}", at + i + 1);
      return unexpected(s[i], at + i, false);
    }
    if (i - start > 4) {
      return fmt::format("group '{}' at character {} has more than 4 hex digits",
                         clip_digits(s.substr(start, i - start)), at + start + 1);
    }
    if (n == 8) return fmt::format("more than 8 groups (character {})", at + start + 1);
    unsigned g = 0;
    for (std::size_t k = start; k < i; ++k) g = g * 16 + static_cast<unsigned>(hex_value(s[k]));
    groups[n++] = static_cast<std::uint16_t>(g);
    if (i == s.size()) break;
    if (s[i] != ':') return unexpected(s[i], at + i, false);
    if (i + 1 < s.size() && s[i + 1] == ':') {
      if (gap) {
        return fmt::format("second '::' at character {} (only one run of zeros may be compressed)",
                           at + i + 1);
      }
      gap = n;
      i += 2;
    } else {
      ++i;
      if (i == s.size()) return fmt::format("ends with a single ':' (character {})", at + i);
    }
  }
  if (!gap && n != 8) {
    return fmt::format("has {} groups, expected 8 (or '::' for a run of zero groups)", n);
  }
  if (gap && n == 8) {
    return "has 8 groups besides '::', which must stand for at least one zero group";
  }
  std::array<std::uint16_t, 8> full{};
  const std::size_t head = gap ? *gap : n;
  for (std::size_t k = 0; k < head; ++k) full[k] = groups[k];
  for (std::size_t k = head; k < n; ++k) full[8 - (n - k)] = groups[k];
  u128 value = 0;
  for (std::uint16_t g : full) value = (value << 16) | g;
  out = value;
  return std::nullopt;
}

std::optional<std::string> parse_address_at(std::string_view s, std::size_t at, Address& out) {
  if (s.empty()) return "empty address";
  if (auto e = find_space(s, at)) return e;
  if (s.find(':') == std::string_view::npos) {
    std::uint32_t v4 = 0;
    if (auto e = parse_v4(s, at, true, v4)) return e;
    out = Address{Family::v4, v4};
    return std::nullopt;
  }
  // Every IPv6 text has a ':' before any '.', so a dot first means "address:port".
  if (const std::size_t dot = s.find('.'); dot < s.find(':')) {
    return fmt::format(
        "unexpected ':' at character {} (a port is not accepted here, only an address)",
        at + s.find(':') + 1);
  }
  if (auto pct = s.find('%'); pct != std::string_view::npos) {
    return fmt::format(
        "zone id {} at character {} is not accepted (an address in a firewall set cannot name an "
        "interface)",
        quote(s.substr(pct)), at + pct + 1);
  }
  u128 v6 = 0;
  if (auto e = parse_v6(s, at, v6)) return e;
  out = Address{Family::v6, v6};
  return std::nullopt;
}

constexpr u128 kMappedPrefix = u128{0xffff} << 32;  // ::ffff:0:0/96

std::string v4_text(std::uint32_t v) {
  return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

}  // namespace

std::string_view family_name(Family f) {
  return f == Family::v4 ? "IPv4" : "IPv6";
}

u128 Prefix::last() const {
  return addr.value | host_mask(addr.family, len);
}

Result<Address> parse_address(std::string_view text) {
  Address a;
  if (auto e = parse_address_at(text, 0, a)) return fail(text, *e);
  return a;
}

Result<Prefix> parse_prefix(std::string_view text, std::vector<std::string>* warnings) {
  if (text.empty()) return fail(text, "empty address");
  // Before splitting at '/', so that "10.0.0.0/ 8" is reported as whitespace, not a bad length.
  if (auto e = find_space(text, 0)) return fail(text, *e);
  const std::size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  if (slash != std::string_view::npos && addr_text.empty()) {
    return fail(text, "empty address before '/'");
  }
  Prefix p;
  if (auto e = parse_address_at(addr_text, 0, p.addr)) return fail(text, *e);
  const int bits = family_bits(p.addr.family);
  p.len = bits;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    if (len_text.empty()) return fail(text, "missing prefix length after '/'");
    if (auto second = len_text.find('/'); second != std::string_view::npos) {
      return fail(text, fmt::format("more than one '/' (character {})", slash + second + 2));
    }
    if (len_text[0] == '+' || len_text[0] == '-') {
      return fail(text, fmt::format("prefix length {} has a sign; write a plain number 0-{}",
                                    quote(len_text), bits));
    }
    for (std::size_t i = 0; i < len_text.size(); ++i) {
      if (!is_digit(len_text[i])) {
        return fail(text, fmt::format("prefix length {} is not a decimal number ({} at "
                                      "character {})",
                                      quote(len_text), show_char(len_text[i]), slash + i + 2));
      }
    }
    if (len_text.size() > 1 && len_text[0] == '0') {
      return fail(text, fmt::format("prefix length '{}' has a leading zero", len_text));
    }
    int len = 0;
    for (char c : len_text.substr(0, 4)) len = len * 10 + (c - '0');
    if (len_text.size() > 3 || len > bits) {
      return fail(text,
                  p.addr.family == Family::v4
                      ? fmt::format("prefix length {} exceeds 32 for IPv4", clip_digits(len_text))
                      : fmt::format("prefix length {} exceeds 128", clip_digits(len_text)));
    }
    p.len = len;
  }
  const u128 host = host_mask(p.addr.family, p.len);
  if ((p.addr.value & host) != 0) {
    p.addr.value &= ~host;
    if (warnings) {
      warnings->push_back(
          fmt::format("{}: host bits set, using {} (as nft does)", quote(text), to_string(p)));
    }
  }
  if (warnings && p.addr.family == Family::v6 && p.len >= 96 &&
      (p.addr.value >> 32) == (kMappedPrefix >> 32)) {
    const Prefix v4{Address{Family::v4, p.addr.value & 0xffffffffu}, p.len - 96};
    warnings->push_back(fmt::format(
        "{}: IPv4-mapped IPv6 address, kept as IPv6: it matches no IPv4 packet (write {} to "
        "filter IPv4)",
        quote(text), p.len == 128 ? to_string(v4.addr) : to_string(v4)));
  }
  return p;
}

std::string to_string(const Address& a) {
  if (a.family == Family::v4) return v4_text(static_cast<std::uint32_t>(a.value));
  // RFC 5952 section 5: the mapped form is recognisable only in mixed notation.
  if ((a.value >> 32) == (kMappedPrefix >> 32)) {
    return "::ffff:" + v4_text(static_cast<std::uint32_t>(a.value));
  }
  std::array<std::uint16_t, 8> g{};
  for (int k = 0; k < 8; ++k) g[k] = static_cast<std::uint16_t>(a.value >> (112 - 16 * k));
  // Longest run of zero groups, the first one on a tie; a lone zero group stays "0".
  int best = -1, best_len = 1;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int end = k;
    while (end < 8 && g[end] == 0) ++end;
    if (end - k > best_len) {
      best = k;
      best_len = end - k;
    }
    k = end;
  }
  std::string out;
  for (int k = 0; k < 8;) {
    if (k == best) {
      out += "::";
      k += best_len;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", g[k]);
    ++k;
  }
  return out;
}

std::string to_string(const Prefix& p) {
  return fmt::format("{}/{}", to_string(p.addr), p.len);
}

}  // namespace mw
