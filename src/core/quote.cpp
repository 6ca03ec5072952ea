// Quoting of untrusted input inside error messages.
#include "core/quote.hpp"

#include <fmt/format.h>

#include <cstddef>

namespace mw {

namespace {
// Long inputs (a whole config line pasted into one field) would drown the message.
constexpr std::size_t kMaxQuoted = 64;

}  // namespace

std::string quote_input(std::string_view text) {
  std::string out = "'";
  for (std::size_t i = 0; i < text.size(); ++i) {
    // Budget the shown text, not the input: an escaped byte takes four characters.
    if (out.size() > kMaxQuoted) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  out += '\'';
  return out;
}

std::string clip_digits(std::string_view digits) {
  constexpr std::size_t kMax = 12;
  return digits.size() <= kMax ? std::string(digits) : std::string(digits.substr(0, kMax)) + "...";
}

}  // namespace mw
