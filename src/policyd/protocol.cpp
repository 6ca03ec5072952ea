// Postfix policy delegation protocol: request framing and parsing, reply formatting.
#include "policyd/protocol.hpp"

#include <charconv>
#include <cstring>
#include <string>

namespace mw::policyd {

std::size_t find_request_end(std::string_view buffer, std::size_t& scanned) {
  // A request ends at an empty line: "\n\n" or "\n\r\n" (or the buffer starting with one, which
  // is an empty request: malformed, but framed so that the caller can say so). Resume one byte
  // before where the last scan stopped, so that a terminator split across reads is found.
  std::size_t pos = scanned == 0 ? 0 : scanned - 1;
  const char* data = buffer.data();
  const std::size_t n = buffer.size();
  if (pos == 0 && n > 0) {
    if (data[0] == '\n') return scanned = 1, 1;
    if (n > 1 && data[0] == '\r' && data[1] == '\n') return scanned = 2, 2;
  }
  while (pos < n) {
    const void* hit = std::memchr(data + pos, '\n', n - pos);
    if (hit == nullptr) break;
    const std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
    if (nl + 1 < n && data[nl + 1] == '\n') return scanned = nl + 2, nl + 2;
    if (nl + 2 < n && data[nl + 1] == '\r' && data[nl + 2] == '\n') {
      return scanned = nl + 3, nl + 3;
    }
    // Not decidable yet when the newline is one of the last bytes: rescan it next time.
    if (nl + 2 >= n) {
      scanned = nl + 1;
      return std::string_view::npos;
    }
    pos = nl + 1;
  }
  scanned = n;
  return std::string_view::npos;
}

namespace {

struct Field {
  std::string_view name;
  std::string_view Request::*member;
};

// The attributes the engine reads. Each may appear once: Postfix never repeats one, and a
// repeated sasl_username or sender would make the answer depend on which copy we believe.
constexpr Field kFields[] = {
    {"request", &Request::request},
    {"protocol_state", &Request::protocol_state},
    {"protocol_name", &Request::protocol_name},
    {"instance", &Request::instance},
    {"queue_id", &Request::queue_id},
    {"sender", &Request::sender},
    {"recipient", &Request::recipient},
    {"client_address", &Request::client_address},
    {"client_name", &Request::client_name},
    {"sasl_username", &Request::sasl_username},
    {"sasl_method", &Request::sasl_method},
    {"server_address", &Request::server_address},
    {"server_port", &Request::server_port},
};

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 60) out += "...";
  return out;
}

Error line_error(std::size_t line, std::string message) {
  return Error{"line " + std::to_string(line) + ": " + std::move(message)};
}

}  // namespace

Result<Request> parse_request(std::string_view text, const ProtocolLimits& limits) {
  if (text.size() > limits.max_request_bytes) {
    return Error{"request of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                 std::to_string(limits.max_request_bytes)};
  }
  Request r;
  std::uint32_t seen = 0;  // bit per kFields entry
  bool has_count_seen = false;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool terminated = false;
  while (pos < text.size()) {
    ++line_no;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      return line_error(line_no, "no newline at the end of '" + printable(text.substr(pos)) + "'");
    }
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      terminated = true;
      break;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return line_error(line_no, "no '=' in '" + printable(line) + "'");
    }
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (name.empty()) return line_error(line_no, "empty attribute name");
    for (unsigned char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-' || c == '.')) {
        return line_error(line_no, "invalid attribute name '" + printable(name) + "'");
      }
    }
    if (value.find('\0') != std::string_view::npos) {
      return line_error(line_no, "NUL byte in the value of '" + std::string(name) + "'");
    }
    if (++r.attributes > limits.max_attributes) {
      return line_error(line_no,
                        "more than " + std::to_string(limits.max_attributes) + " attributes");
    }
    if (name == "recipient_count") {
      if (has_count_seen) return line_error(line_no, "attribute 'recipient_count' repeated");
      has_count_seen = true;
      // Postfix sends "0" before DATA; an empty value is treated like it.
      if (!value.empty()) {
        const auto [end, ec] =
            std::from_chars(value.data(), value.data() + value.size(), r.recipient_count);
        if (ec != std::errc{} || end != value.data() + value.size()) {
          return line_error(line_no, "recipient_count '" + printable(value) + "' is not a number");
        }
        r.has_recipient_count = true;
      }
      continue;
    }
    for (std::size_t i = 0; i < std::size(kFields); ++i) {
      if (kFields[i].name != name) continue;
      if (seen & (1u << i)) {
        return line_error(line_no, "attribute '" + std::string(name) + "' repeated");
      }
      seen |= 1u << i;
      r.*(kFields[i].member) = value;
      break;
    }
  }
  if (!terminated) return Error{"request not ended by an empty line"};
  if (pos != text.size()) return Error{"bytes after the end of the request"};
  if (r.attributes == 0) return Error{"empty request"};
  if (!(seen & 1u)) return Error{"no 'request' attribute"};
  if (r.request != "smtpd_access_policy") {
    return Error{"unknown request type '" + printable(r.request) + "'"};
  }
  return r;
}

std::string format_reply(std::string_view action) {
  std::string out;
  out.reserve(action.size() + 9);
  out += "action=";
  for (char c : action) out += (c == '\n' || c == '\r') ? ' ' : c;
  out += "\n\n";
  return out;
}

}  // namespace mw::policyd
