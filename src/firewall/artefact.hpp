// What a firewall backend produces: named files, and the comment text they share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/ports.hpp"

namespace mw {

// One file a backend produces: fixed, documented name (for --out DIR) and its content.
struct Artefact {
  std::string filename;
  std::string content;
  std::string description;
};

// Who may connect to a port of this class, in words, for comments in generated files.
std::string_view who_may_connect(Exposure e);

// `text` as comment lines of at most `width` columns, each starting with `lead` ("# ");
// continuation lines are indented by `indent` more spaces. Words longer than a line stay whole.
std::string wrap_comment(std::string_view text, std::string_view lead, std::size_t width = 96,
                         std::size_t indent = 2);

}  // namespace mw
