// Joining words for messages and generated comments.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <string_view>
#include <vector>

namespace mw {

inline std::string join(const std::vector<std::string>& parts, std::string_view sep = ", ") {
  return fmt::format("{}", fmt::join(parts, sep));
}

}  // namespace mw
