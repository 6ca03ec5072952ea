// The DNS behind the checks, as an interface: the c-ares resolver for real use, fakes in unit
// tests.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "dnsbl/answer.hpp"

namespace mw::dnsbl {

struct Lookup {
  std::string name;
  QueryType type = QueryType::a;
  // Sent no earlier than this after the batch starts: how per-list rates are kept.
  std::chrono::milliseconds not_before{0};
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // One answer per lookup, in order. Lookups run concurrently; a lookup that gets no answer
  // after every try is Rcode::timeout, never a missing answer.
  virtual std::vector<DnsAnswer> resolve(std::span<const Lookup> lookups) = 0;
};

struct ResolverOptions {
  // "IP", "IP:PORT", "[IPv6]:PORT"; empty: the system's resolvers (/etc/resolv.conf).
  std::string server;
  std::chrono::milliseconds timeout{2000};  // per try
  int tries = 3;                            // first try + retries
  // Bounded: a resolver drops queries beyond its own per-thread limit (unbound: 512 or 1024)
  // and a dropped query costs a whole timeout.
  std::size_t max_in_flight = 128;
};

// Checks `server` (an address with an optional port) and returns the c-ares form of it.
Result<std::string> parse_resolver_address(std::string_view server);

// A c-ares channel (ares_init_options: timeout, tries; the server from options or the system).
Result<std::unique_ptr<Resolver>> make_cares_resolver(const ResolverOptions& options);

}  // namespace mw::dnsbl
