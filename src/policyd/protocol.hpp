// Postfix's policy delegation protocol (SMTPD_POLICY_README): a request is "name=value" lines
// ended by an empty line; the answer is "action=..." and an empty line. A malformed request
// gets no answer at all: the service logs it and closes the connection, and Postfix applies
// its own default_action. Parsing is bounded (request bytes, attribute count) and allocation
// free: a Request's views point into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace mw::policyd {

struct ProtocolLimits {
  std::uint32_t max_request_bytes = 16384;
  std::uint32_t max_attributes = 100;
};

// The attributes the service reads; every other one is accepted and ignored, as the protocol
// asks (Postfix adds attributes over time).
struct Request {
  std::string_view request;  // "smtpd_access_policy"
  std::string_view
      protocol_state;  // CONNECT, EHLO, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE, VRFY, ETRN
  std::string_view protocol_name;  // SMTP, ESMTP, LMTP
  std::string_view instance;
  std::string_view queue_id;
  std::string_view sender;  // empty: the null sender <>
  std::string_view recipient;
  std::string_view client_address;
  std::string_view client_name;
  std::string_view sasl_username;
  std::string_view sasl_method;
  std::string_view server_address;
  std::string_view server_port;
  std::uint32_t recipient_count = 0;
  bool has_recipient_count = false;
  std::uint32_t attributes = 0;
};

// Where the request that starts at buffer[0] ends: the offset just past its empty line, or
// npos while it is incomplete. `scanned` (in/out) is how far an earlier call already looked,
// so that a request arriving in many small reads is scanned once. Lines end with "\n"; a
// "\r\n" is accepted too (people test with telnet).
std::size_t find_request_end(std::string_view buffer, std::size_t& scanned);

// Parses one complete request (the bytes find_request_end delimited, empty line included).
// Errors say what is wrong and where ("line 3: no '=' in 'foo'"); the caller names the peer.
Result<Request> parse_request(std::string_view text, const ProtocolLimits& limits);

// "action=TEXT\n\n". TEXT must not contain a newline (checked: newlines become spaces).
std::string format_reply(std::string_view action);

}  // namespace mw::policyd
