// What a firewall backend produces: named files, and the comment text they share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mw {

// One file a backend produces: fixed, documented name (for --out DIR) and its content.
struct Artefact {
  std::string filename;
  std::string content;
  std::string description;
};

// `text` as comment lines of at most `width` columns, each starting with `lead` ("# ");
// continuation lines are indented by `indent` more spaces. Words longer than a line stay whole.
std::string wrap_comment(std::string_view text, std::string_view lead, std::size_t width = 96,
                         std::size_t indent = 2);

}  // namespace mw
