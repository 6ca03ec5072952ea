// IPv4/IPv6 addresses and CIDR prefixes: strict parsing with positioned errors, canonical printing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw {

__extension__ typedef unsigned __int128 u128;

enum class Family : std::uint8_t { v4, v6 };

constexpr int family_bits(Family f) {
  return f == Family::v4 ? 32 : 128;
}
constexpr u128 family_max(Family f) {
  return f == Family::v4 ? u128{0xffffffffu} : ~u128{0};
}
std::string_view family_name(Family f);  // "IPv4" / "IPv6"

// The host part of a /len prefix as a mask (all ones for /0). Spelled out because shifting a
// u128 by 128 is undefined behaviour.
constexpr u128 host_mask(Family f, int len) {
  const int host_bits = family_bits(f) - len;
  return host_bits >= 128 ? ~u128{0} : (u128{1} << host_bits) - 1;
}

// An address as an unsigned integer in its family's space (IPv4 in the low 32 bits).
struct Address {
  Family family = Family::v4;
  u128 value = 0;
  friend bool operator==(const Address&, const Address&) = default;
};

struct Prefix {
  Address addr;  // host bits are always zero
  int len = 0;
  friend bool operator==(const Prefix&, const Prefix&) = default;
  u128 first() const { return addr.value; }
  u128 last() const;
};

// Strict parsers. Errors name the text and what is wrong with it; the caller prefixes the
// position (file:line:column, field). Accepted forms:
//   IPv4: dotted quad, four decimal octets 0-255, no leading zeros ("010.0.0.1" is an error:
//         some tools read it as octal), no shorthand ("10.1").
//   IPv6: RFC 4291 text (what inet_pton accepts), upper or lower case, with an embedded dotted
//         quad (same strict rules) allowed in the last 32 bits. Zone ids ("fe80::1%eth0") are
//         rejected: a firewall set cannot hold them.
//   Never: whitespace anywhere, host names, anything after the address.
// IPv4-mapped IPv6 addresses ("::ffff:1.2.3.4") stay IPv6 (Family::v6, value 0xffff01020304):
// they are a socket-API notation, netfilter sees such a client as plain IPv4, so an IPv6 rule
// for the mapped form never matches it. They are never folded into the IPv4 space.
Result<Address> parse_address(std::string_view text);

// "addr/len" or a bare address (a host prefix, /32 or /128). Host bits set below the prefix
// ("192.168.1.5/24") are cleared, as nft does, and a warning is appended to *warnings if given.
// A prefix inside ::ffff:0:0/96 (IPv4-mapped) parses as IPv6 and also draws a warning, since it
// will not match IPv4 traffic. The length is decimal without sign or leading zero, 0-32 / 0-128.
Result<Prefix> parse_prefix(std::string_view text, std::vector<std::string>* warnings = nullptr);

// Canonical text: dotted quad; RFC 5952 for IPv6: lower case, no leading zeros in a group, the
// longest run (the first one on a tie) of two or more zero groups compressed to "::", a single
// zero group left as "0", and IPv4-mapped addresses in mixed notation ("::ffff:1.2.3.4").
std::string to_string(const Address& a);
// "addr/len"; a host prefix prints with its length too ("192.0.2.1/32").
std::string to_string(const Prefix& p);

}  // namespace mw
