// The UDP requests whose answers prove a port open (memcached `stats`, SNMP v2c GetRequest) and
// the bounds-checked recognition of those answers: the only untrusted input the scanner parses.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace mw::scan {

// memcached's UDP frame header (8 bytes, big endian): request id, sequence number, total number
// of datagrams in the message, reserved (0); then the text protocol ("stats\r\n").
std::vector<std::uint8_t> memcached_stats_request(std::uint16_t request_id);

struct MemcachedAnswer {
  std::uint16_t request_id = 0;
  std::uint16_t sequence = 0;
  std::uint16_t total = 0;
  std::string_view payload;  // points into the datagram
};
// A datagram is a memcached answer when its header is well formed (sequence < total, reserved 0)
// and, for the first datagram, the text starts as a reply to `stats` does ("STAT ", "END\r\n")
// or as an error line ("ERROR", "CLIENT_ERROR ", "SERVER_ERROR ").
std::optional<MemcachedAnswer> parse_memcached_answer(std::span<const std::uint8_t> datagram);

// An SNMP v2c GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0). request_id must be >= 0.
std::vector<std::uint8_t> snmp_get_sysdescr_request(std::int32_t request_id,
                                                    std::string_view community = "public");

struct SnmpAnswer {
  int version = 0;               // 0 = v1, 1 = v2c, 3 = v3
  std::uint8_t pdu_type = 0;     // BER tag: 0xa2 Response, 0xa8 Report, ...
  std::int64_t request_id = -1;  // -1 for v3 (the scoped PDU is usually encrypted)
  std::int64_t error_status = 0;
};
// Any well-formed SNMP message (DER/BER definite lengths, every length inside the datagram):
// SEQUENCE { INTEGER version, ... }. For v1/v2c: community OCTET STRING and a PDU whose first
// fields are INTEGER request-id and INTEGER error-status. An error answer is still an answer.
std::optional<SnmpAnswer> parse_snmp_answer(std::span<const std::uint8_t> datagram);

}  // namespace mw::scan
