// The first steps every catalog loader shares: read a bounded file, parse it as TOML with
// errors as "file:line:column: TOML syntax error: ...". The schema checks stay with each
// catalog.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace mw {

// The file's text; an error names the file (cannot read, larger than `max_bytes`).
Result<std::string> read_catalog_file(const std::filesystem::path& file, std::uintmax_t max_bytes);

// `text` parsed; a syntax error names `name`, line and column.
Result<toml::table> parse_toml(std::string_view text, std::string_view name);

}  // namespace mw
