// Parses `zmlocalconfig -s` output (key = value) into an ordered key table.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

struct LocalconfigEntry {
  std::string key;
  std::string value;  // as printed: "${zimbra_home}/log" stays unexpanded; may be empty
  std::size_t line = 0;
};

struct Localconfig {
  std::vector<LocalconfigEntry> entries;  // in file order (zmlocalconfig sorts by key)
  // The entry for `key`, or nullptr. An absent key has its LC.java default (see attrs.hpp,
  // LocalconfigKeyTable); keys with a null default are never printed.
  const LocalconfigEntry* find(std::string_view key) const;
};

// One "key = value" per line (ConfigWriter): the separator is " = "; an empty value prints as
// "key = " (trailing space) and "key =" is accepted too. Blank lines are skipped. Errors
// ("source:line:column: ...") for a line without " = ", an empty or malformed key, or a key
// given twice.
Result<Localconfig> parse_localconfig(std::string_view text, std::string_view source);

}  // namespace mw::audit
