// Format detection and loading of ruleset dumps.
#include "firewall/ruleset_loader.hpp"

#include <fmt/format.h>

#include <iostream>

#include "core/atomic_file.hpp"
#include "firewall/iptables_save_parser.hpp"
#include "firewall/nft_json_parser.hpp"

namespace mw::fw {

DumpFormat detect_dump_format(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' ? DumpFormat::nft_json : DumpFormat::iptables_save;
  }
  return DumpFormat::iptables_save;
}

Status add_dump(Ruleset& ruleset, std::string_view text, std::string_view source) {
  auto tables = detect_dump_format(text) == DumpFormat::nft_json
                    ? parse_nft_json(text, source)
                    : parse_iptables_save(text, source);
  if (!tables) return tables.error();
  for (auto& t : *tables) ruleset.tables.push_back(std::move(t));
  return {};
}

Result<Ruleset> load_dumps(const std::vector<std::string>& paths) {
  Ruleset rs;
  bool stdin_read = false;
  for (const auto& path : paths) {
    std::string text;
    if (path == "-") {
      if (stdin_read) return Error{"-: standard input can be read only once"};
      stdin_read = true;
      // Bounded like a file: stop reading past the limit instead of buffering it all.
      char buf[1 << 16];
      while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(std::cin.gcount()));
        if (text.size() > kIptablesSaveMaxBytes) {
          return Error{fmt::format("-: more than {} bytes", kIptablesSaveMaxBytes)};
        }
      }
    } else {
      auto read = read_file(path, kIptablesSaveMaxBytes);
      if (!read) return read.error();
      text = std::move(*read);
    }
    if (auto st = add_dump(rs, text, path == "-" ? "stdin" : path); !st) return st.error();
  }
  return rs;
}

}  // namespace mw::fw
