// Ports, port ranges and port sets (0-65535), and the transport protocols we filter on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/interval_set.hpp"
#include "core/result.hpp"

namespace mw {

enum class Protocol : std::uint8_t { tcp, udp };
std::string_view protocol_name(Protocol p);  // "tcp" / "udp"
Result<Protocol> parse_protocol(std::string_view text);

class PortSet {
 public:
  PortSet() : s_(65535) {}
  // 0-65535, so that all() == PortSet().complement(). Port 0 is in the universe for the set
  // algebra only: parse_port_set never yields it, and text with it ("0-65535") does not parse.
  static PortSet all();

  void add(std::uint16_t p) { s_.add(p); }
  void add(std::uint16_t lo, std::uint16_t hi) { s_.add(lo, hi); }
  bool contains(std::uint16_t p) const { return s_.contains(p); }
  bool empty() const { return s_.empty(); }
  std::size_t count() const;

  PortSet unite(const PortSet& o) const { return PortSet(s_.unite(o.s_)); }
  PortSet intersect(const PortSet& o) const { return PortSet(s_.intersect(o.s_)); }
  PortSet subtract(const PortSet& o) const { return PortSet(s_.subtract(o.s_)); }
  PortSet complement() const { return PortSet(s_.complement()); }

  const IntervalSet<std::uint16_t>& intervals() const { return s_; }

  // "25, 80, 10024-10032" (ascending); "" when empty. Same syntax parse_port_set accepts.
  std::string to_string() const;

  friend bool operator==(const PortSet&, const PortSet&) = default;

 private:
  explicit PortSet(IntervalSet<std::uint16_t> s) : s_(std::move(s)) {}
  IntervalSet<std::uint16_t> s_;
};

// "25", "10024-10032", "25,587, 10024-10032". Ports 1-65535 (0 is not a port one filters on),
// decimal without leading zeros or sign; a range's low end must not exceed its high end.
Result<std::uint16_t> parse_port(std::string_view text);
Result<PortSet> parse_port_set(std::string_view text);

}  // namespace mw
