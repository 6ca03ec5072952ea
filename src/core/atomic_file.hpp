// Writes a file so that a reader sees either the old content or the new, never a half:
// temporary file in the same directory, fsync, rename, fsync of the directory.
#pragma once

#include <filesystem>
#include <string_view>

#include <sys/types.h>

#include "core/result.hpp"

namespace mw {

Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         mode_t mode = 0644);

// Reads a whole file, refusing one larger than max_bytes (untrusted input stays bounded).
Result<std::string> read_file(const std::filesystem::path& path,
                              std::size_t max_bytes = std::size_t{256} << 20);

}  // namespace mw
