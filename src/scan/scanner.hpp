// `mailwarden scan`: an asynchronous TCP connect scan of one host (open / closed / filtered, as
// nmap -sT says them) and UDP probes where a protocol answer proves a port open (memcached,
// SNMP). asio stays in scanner.cpp: this header is plain data.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/result.hpp"
#include "firewall/analysis.hpp"

namespace mw::scan {

enum class PortState : std::uint8_t {
  open,           // TCP connected; UDP: the service answered
  closed,         // TCP RST (or ICMP port unreachable); UDP: ICMP port unreachable
  filtered,       // no answer after every try, or an ICMP unreachable other than "port"
  unreachable,    // no route from here: connect() failed at once, nothing was sent
  not_checkable,  // UDP without a protocol probe, or a UDP probe nobody answered
};
std::string_view port_state_name(PortState s);  // "open", ..., "not checkable"

struct Observation {
  PortState state = PortState::not_checkable;
  int attempts = 0;                              // probes sent (0 when nothing could be sent)
  std::optional<std::chrono::microseconds> rtt;  // of the answer that decided, if any
  int error = 0;                                 // the errno that decided (0: none)
  std::string detail;  // "RST", "no answer", "ICMP: No route to host", "memcached answered"
};

struct PortObservation {
  fw::PortQuery port;
  std::optional<Observation> v4, v6;  // nullopt: the host has no address of that family
};

struct ScanOptions {
  std::vector<fw::PortQuery> ports;
  std::chrono::milliseconds timeout{1000};      // per attempt
  int retries = 1;                              // more attempts for ports that gave no answer
  int max_in_flight = 256;                      // sockets open at once
  std::optional<Address> source_v4, source_v6;  // bind here (--source)
};

struct ScanReport {
  std::string host;                // as given
  std::vector<Address> addresses;  // scanned: at most one per family
  std::vector<Address> sources;    // bound source addresses, when given
  std::vector<PortObservation> ports;
  std::chrono::milliseconds elapsed{0};
};

// HOST as given on the command line: a literal IPv4/IPv6 address, or a name resolved with
// getaddrinfo (the first address of each family). Ranges, CIDR prefixes, lists and wildcards
// are refused: the scanner scans only the one host it was named.
Result<std::vector<Address>> resolve_host(std::string_view host);

// The local address the kernel would send from to reach `target` (a UDP connect, no packet).
Result<Address> local_source_for(const Address& target);

// Scans every port of o.ports on each address (one per family). Errors: a socket that cannot be
// created or bound (a --source not on this host).
Result<ScanReport> scan_host(std::string host, const std::vector<Address>& addresses,
                             const ScanOptions& o);

// The pure part of a TCP connect's outcome, from the errno (0: connected). `at_once`: connect()
// itself failed, before any packet left (no route, no such source address). `icmp`: the error
// came from an ICMP message (the socket's error queue), not from a RST.
struct Verdict {
  PortState state = PortState::filtered;
  std::string detail;
};
Verdict classify_tcp(int err, bool at_once, bool icmp = false);
// A connected UDP socket's receive error (an ICMP error the kernel queued on it).
Verdict classify_udp_error(int err, bool at_once);
// Whether a UDP port has a protocol probe here (11211: memcached, 161: SNMP).
bool udp_checkable(std::uint16_t port);

}  // namespace mw::scan
