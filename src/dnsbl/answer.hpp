// DNSBL queries and answers: the reversed query name, a DNS response decoded into the few facts
// a DNSBL answer carries, and the verdict for one address on one list.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/result.hpp"
#include "dnsbl/catalog.hpp"

namespace mw::dnsbl {

// "d.c.b.a.ZONE" for IPv4; the 32 nibbles of an IPv6 address, least significant first, then
// ZONE (RFC 5782 sections 2.1 and 2.4).
std::string query_name(const Address& ip, std::string_view zone);

// What came back for one lookup, as the resolver saw it.
enum class Rcode : std::uint8_t {
  noerror,   // answer section read (a / txt may still be empty: NODATA)
  nxdomain,  // the name does not exist: the list does not list the address
  servfail,
  refused,
  timeout,  // no answer after every try
  error,    // anything else: bad packet, socket error, resolver misconfigured
};
std::string_view name_of(Rcode r);

struct DnsAnswer {
  Rcode rcode = Rcode::error;
  std::vector<std::uint32_t> a;  // IPv4 answers, host order
  std::vector<std::string> txt;
  std::string detail;  // why, for error / servfail / refused
};

enum class QueryType : std::uint8_t { a, txt };

// A DNS response message (the bytes a resolver returned) for `type`: the header's rcode, and for
// NOERROR the A or TXT records of the answer section. Bounded: at most 64 records, TXT strings
// truncated to 512 bytes. Malformed input is Rcode::error with a detail, never a crash.
DnsAnswer parse_dns_response(std::span<const std::uint8_t> message, QueryType type);

// The verdict for one address on one list.
enum class Verdict : std::uint8_t {
  listed,
  not_listed,
  refused,  // the list (or the resolver) refused: says nothing about the address
  timeout,
  error,
  skipped,  // not asked: the list has no data for the address family, or is closed
};
std::string_view name_of(Verdict v);
// True for the verdicts that leave the question open (never reported as clean).
constexpr bool is_unknown(Verdict v) {
  return v == Verdict::refused || v == Verdict::timeout || v == Verdict::error;
}

struct DecodedCode {
  std::uint32_t code = 0;
  std::string meaning;  // from the catalog, or a note that the list did not document it
};

struct Decoded {
  Verdict verdict = Verdict::error;
  std::vector<DecodedCode> codes;
  std::string detail;
};

// An A answer judged against the list's return codes: any refusal code makes the answer a
// refusal; a code in 127.0.0.0/8 is a listing (documented or not); an answer outside
// 127.0.0.0/8 is an error (a resolver that rewrites NXDOMAIN, or a list that lists the world).
// NXDOMAIN and NODATA are "not listed"; timeout stays timeout; SERVFAIL/REFUSED are refusals.
Decoded decode_answer(const DnsblList& list, const DnsAnswer& answer);

// A warning for addresses no public DNSBL lists (private, loopback, documentation, ...), or
// nullopt. Tests use documentation ranges, so such addresses are still checked.
std::optional<std::string> special_range(const Address& ip);

}  // namespace mw::dnsbl
