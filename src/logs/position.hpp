// Where a line is: the input (its index in the run's list of inputs) and its 1-based number.
#pragma once

#include <cstdint>

namespace mw::logs {

struct Position {
  std::uint32_t input = 0;
  std::uint64_t line = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

}  // namespace mw::logs
