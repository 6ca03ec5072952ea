// Comment wrapping shared by the firewall backends.
#include "firewall/artefact.hpp"

namespace mw {

std::string_view who_may_connect(Exposure e) {
  switch (e) {
    case Exposure::public_:
      return "every address, IPv4 and IPv6";
    case Exposure::admin:
      return "the admin networks only";
    case Exposure::cluster:
      return "the other nodes of this installation only (cluster networks)";
    case Exposure::loopback:
      break;
  }
  return "nobody";
}

std::string wrap_comment(std::string_view text, std::string_view lead, std::size_t width,
                         std::size_t indent) {
  std::string out;
  std::string line(lead);
  bool line_has_word = false;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view word = text.substr(i, j - i);
    i = j;
    if (word.empty()) break;
    if (line_has_word && line.size() + 1 + word.size() > width) {
      out += line + '\n';
      line = std::string(lead) + std::string(indent, ' ');
      line_has_word = false;
    }
    if (line_has_word) line += ' ';
    line += word;
    line_has_word = true;
  }
  out += line + '\n';
  return out;
}

}  // namespace mw
