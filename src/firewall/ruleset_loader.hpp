// Reads the ruleset dumps of one host (iptables-save, ip6tables-save, nft -j), detecting each
// file's format, into one Ruleset.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "firewall/ruleset.hpp"

namespace mw::fw {

enum class DumpFormat : std::uint8_t { iptables_save, nft_json };

// JSON (first non-blank byte '{') is `nft -j list ruleset`; anything else is iptables-save text.
DumpFormat detect_dump_format(std::string_view text);

// Parses one dump already in memory; `source` names it in messages and rule origins.
Status add_dump(Ruleset& ruleset, std::string_view text, std::string_view source);

// Reads every file ("-" is standard input, read once) and adds it. The first error stops.
Result<Ruleset> load_dumps(const std::vector<std::string>& paths);

}  // namespace mw::fw
