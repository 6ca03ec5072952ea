// read_catalog_file and parse_toml: the shared front of the catalog loaders.
#include "catalog/toml_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mw {

Result<std::string> read_catalog_file(const std::filesystem::path& file, std::uintmax_t max_bytes) {
  const std::string name = file.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return Error{fmt::format("{}: cannot read: {}", name, ec.message())};
  if (size > max_bytes)
    return Error{fmt::format("{}: {} bytes is more than a catalog may hold ({} bytes)", name, size,
                             max_bytes)};
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open: {}", name, std::strerror(errno))};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{fmt::format("{}: read error", name)};
  return text.str();
}

Result<toml::table> parse_toml(std::string_view text, std::string_view name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return Error{fmt::format("{}:{}:{}: TOML syntax error: {}", name, at.line > 0 ? at.line : 1,
                             at.column > 0 ? at.column : 1, e.description())};
  }
}

}  // namespace mw
