// Parses `ss -Htlnup` (listening TCP and UDP sockets with their processes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/result.hpp"

namespace mw::audit {

enum class SocketProto { tcp, udp };

// "0.0.0.0:11211", "[::]:22", "*:7780", "127.0.0.53%lo:53", "[fe80::1]%eth0:546".
struct SocketEndpoint {
  std::string text;                   // as printed
  std::optional<Address> address;     // nullopt for "*" (every address of both families)
  std::string iface;                  // the "%iface" scope, empty when none
  std::optional<std::uint16_t> port;  // nullopt for "*" (peers of a listening socket)

  bool any_address() const;  // "*", 0.0.0.0 or ::
  bool loopback() const;     // 127.0.0.0/8 or ::1 (an IPv4-mapped loopback counts too)
};

struct SocketProcess {
  std::string name;  // "memcached"
  long pid = 0;
  int fd = 0;
};

struct ListeningSocket {
  SocketProto proto = SocketProto::tcp;
  std::string state;  // LISTEN for tcp, UNCONN for udp
  std::uint64_t recv_q = 0, send_q = 0;
  SocketEndpoint local, peer;
  std::vector<SocketProcess> processes;  // empty without -p or for kernel sockets
  std::size_t line = 0;
};

// Columns: [Netid] State Recv-Q Send-Q Local Peer [users:((...),...)]. A header line
// ("Netid State ..." / "State Recv-Q ...", printed without -H) is skipped. Without a Netid column
// (`ss -tlnp`, no -u) every socket is tcp. Addresses are read with mw::parse_address; ports must
// be numeric (-n). Errors: too few columns, an unknown netid, an address or port that does not
// parse, a malformed users:(...) list.
Result<std::vector<ListeningSocket>> parse_ss(std::string_view text, std::string_view source);

}  // namespace mw::audit
