// The exposure analyser: follows a NEW inbound connection to one port through every hook and
// base chain of a Ruleset, over the whole source address space at once, and says which sources
// are accepted, dropped, or uncertain (a match the model does not know), naming the deciding rule.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/address_set.hpp"
#include "core/port_set.hpp"
#include "firewall/ruleset.hpp"

namespace mw::fw {

// The connection the analysis follows: a first TCP SYN (or UDP datagram) to `port`, arriving
// from any source of `family` on a non-loopback interface.
struct Query {
  Family family = Family::v4;
  Protocol protocol = Protocol::tcp;
  std::uint16_t port = 0;
  // The input interface, when known (--iface). Unknown: rules that test a named interface
  // make the answer uncertain; `-i lo` never matches (the packet comes from outside).
  std::optional<std::string> iface;
  // The host's address the packet is sent to (--to), when known. Unknown: rules that test a
  // destination narrower than the whole space make the answer uncertain.
  std::optional<Address> to;
};

enum class Outcome : std::uint8_t { accept, drop, uncertain };
std::string_view outcome_name(Outcome o);  // "accept", "drop", "uncertain"

// Sources sharing one outcome and one deciding rule.
struct Region {
  AddressSet sources;
  Outcome outcome = Outcome::drop;
  std::string rule;    // origin of the deciding rule, or "policy of <chain> (<origin>)"
  std::string reason;  // for uncertain: the match or target the model does not know
};

struct ExposureResult {
  std::vector<Region> regions;  // disjoint; together they cover the family's whole space

  AddressSet sources(Outcome o) const;  // union of the regions with that outcome
  // The region containing `a` (nullptr if `a` is of the other family).
  const Region* region_of(const Address& a) const;
};

// Analyses one (family, protocol, port). Tables are taken per family (ip: IPv4, ip6: IPv6,
// inet: both, netdev ingress: both); an nft table written by iptables-nft is skipped when the
// same table was given as an iptables-save dump (the same rules, read without xt opacity).
ExposureResult analyse(const Ruleset& ruleset, const Query& query);

// analyse() for many ports of one family and protocol: the work that does not depend on the
// port (which base chains, in which order; what each rule can match given the family, protocol,
// --iface and --to; which jumps lead nowhere) is done once, and each port's walk only tests
// ports and conntrack states. analyse(port) == fw::analyse(ruleset, query with that port).
// Keeps references to `ruleset`, which must outlive it.
class ExposureAnalyser {
 public:
  ExposureAnalyser(const Ruleset& ruleset, const Query& query);  // query.port is not used
  ~ExposureAnalyser();
  ExposureAnalyser(ExposureAnalyser&&) noexcept;
  ExposureAnalyser& operator=(ExposureAnalyser&&) noexcept;

  ExposureResult analyse(std::uint16_t port) const;

  struct Prepared;

 private:
  std::unique_ptr<const Prepared> prepared_;
};

}  // namespace mw::fw
