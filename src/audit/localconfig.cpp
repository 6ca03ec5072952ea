// zmlocalconfig -s parser.
#include "audit/localconfig.hpp"

#include <fmt/format.h>

#include <unordered_map>

#include "audit/text_lines.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

const LocalconfigEntry* Localconfig::find(std::string_view key) const {
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

Result<Localconfig> parse_localconfig(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  Localconfig out;
  std::unordered_map<std::string_view, std::size_t> seen;
  for (const auto& line : detail::split_lines(text)) {
    if (detail::trim(line.text).empty()) continue;
    std::size_t sep = line.text.find(" =");
    if (sep == std::string_view::npos) {
      return detail::error_at(
          source, line.number, 1,
          fmt::format("expected 'key = value', got {}", quote_input(line.text)));
    }
    const std::string_view key = line.text.substr(0, sep);
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (!is_key_char(key[i])) {
        return detail::error_at(source, line.number, i + 1,
                                fmt::format("invalid character in key {}", quote_input(key)));
      }
    }
    if (key.empty()) return detail::error_at(source, line.number, 1, "empty key");
    std::string_view value = line.text.substr(sep + 2);
    if (!value.empty()) {
      if (value.front() != ' ') {
        return detail::error_at(
            source, line.number, sep + 3,
            fmt::format("expected a space after '=' in {}", quote_input(line.text)));
      }
      value.remove_prefix(1);
    }
    if (auto it = seen.find(key); it != seen.end()) {
      return detail::error_at(
          source, line.number, 1,
          fmt::format("key {} given twice (first on line {})", quote_input(key), it->second));
    }
    seen.emplace(key, line.number);
    out.entries.push_back(LocalconfigEntry{std::string(key), std::string(value), line.number});
  }
  return out;
}

}  // namespace mw::audit
