// postcat's envelope section: "record_name: value" lines between the ENVELOPE RECORDS header
// and the MESSAGE CONTENTS header.
#include "queue/postcat.hpp"

namespace mw::queue {

namespace {
bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
}  // namespace

QueueFileEnvelope parse_postcat(std::string_view text) {
  QueueFileEnvelope out;
  bool in_envelope = false;
  // Only the first envelope section counts: a body line that imitates postcat's header
  // (the sender controls the body) must not open a second one.
  bool envelope_seen = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxPostcatLineBytes) continue;
    if (starts_with(line, "*** ")) {
      // "*** ENVELOPE RECORDS deferred/4XyZ ***": the envelope starts (postcat -q names the
      // file by queue/ID). Any other "*** ... ***" header ends it.
      constexpr std::string_view kEnvelope = "*** ENVELOPE RECORDS ";
      if (starts_with(line, kEnvelope) && !envelope_seen) {
        in_envelope = envelope_seen = true;
        // "deferred/ABC" or, with hashed queue directories, "deferred/A/ABC".
        std::string_view name = line.substr(kEnvelope.size());
        if (const auto sp = name.find(' '); sp != std::string_view::npos) name = name.substr(0, sp);
        if (const auto slash = name.rfind('/'); slash != std::string_view::npos) {
          out.queue_name = name.substr(0, name.find('/'));
          out.queue_id = name.substr(slash + 1);
        } else {
          out.queue_id = name;
        }
      } else {
        in_envelope = false;
      }
      continue;
    }
    if (!in_envelope) continue;
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 2);
    if (key == "sender") {
      if (!out.has_sender) {
        out.sender = value;
        out.has_sender = true;
      }
    } else if (key == "named_attribute") {
      const auto eq = value.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view name = value.substr(0, eq), v = value.substr(eq + 1);
      if (name == "sasl_username" && out.sasl_username.empty())
        out.sasl_username = v;
      else if (name == "sasl_method" && out.sasl_method.empty())
        out.sasl_method = v;
      else if (name == "client_address" && out.client_address.empty())
        out.client_address = v;
    } else if (key == "client_address" && out.client_address.empty()) {
      out.client_address = value;
    }
  }
  return out;
}

}  // namespace mw::queue
