// Reader of `nft -j list ruleset` output (JSON schema 1, nftables 1.0.x) into the analysis model.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "firewall/ruleset.hpp"

namespace mw::fw {

// Parses `nft -j list ruleset` output (json_schema_version 1, nftables 1.0.x): every table, chain
// (base chains with hook, priority (numbers or names: raw -300, mangle -150, dstnat -100,
// filter 0, security 50, srcnat 100, "filter + 10" style offsets), policy, type), named set and
// map, and rule. Returns the tables in input order with origin nft_json; a table whose rules
// carry `xt` expressions (iptables-nft) is flagged iptables_nft_compat and those rules'
// Match::unknown names the xt match.
//
// What the model cannot express is not an error: it goes to Match::unknown (or
// Verdict::unknown) with a readable rendering, so the analyser answers "uncertain". Errors are
// malformed JSON and structural faults (a rule in an unknown chain, an unknown named set, a bad
// prefix or port), each as "SOURCE:LINE:COLUMN: what is wrong", LINE and COLUMN (bytes, from 1)
// computed from the byte offset of the faulty value.
//
// Bounds: at most 64 MiB of input, 2 million JSON values, 64 levels of nesting and 256 members
// per object.
Result<std::vector<Table>> parse_nft_json(std::string_view json, std::string_view source);

}  // namespace mw::fw
