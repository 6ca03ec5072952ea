// The parser of `postcat -e -q ID` output (envelope records of one queue file): the queue file
// is written by Postfix from what a client sent, so its text is untrusted input.
#pragma once

#include <string>
#include <string_view>

namespace mw::queue {

struct QueueFileEnvelope {
  std::string queue_id;    // from "*** ENVELOPE RECORDS deferred/ID ***", "" if absent
  std::string queue_name;  // the directory part of that header ("deferred")
  std::string sender;      // "sender: ..." ("" for the null sender)
  bool has_sender = false;
  std::string sasl_username;  // "named_attribute: sasl_username=..." (smtpd's SASL login)
  std::string sasl_method;
  std::string client_address;  // "named_attribute: client_address=..." or "client_address: ..."
};

// Lines longer than this are ignored (a header or body line cannot change an envelope record).
inline constexpr std::size_t kMaxPostcatLineBytes = 64 * 1024;

// Reads the envelope records of postcat's output; records after "*** MESSAGE CONTENTS" (the
// message itself, which a sender controls) are never read as envelope records.
QueueFileEnvelope parse_postcat(std::string_view text);

}  // namespace mw::queue
