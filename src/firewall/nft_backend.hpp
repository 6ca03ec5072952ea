// nftables backend: renders a FirewallPlan as one `nft -f` file that replaces
// `table inet mailwarden` atomically and touches nothing else on the host.
#pragma once

#include <string>
#include <vector>

#include "firewall/artefact.hpp"
#include "firewall/plan.hpp"

namespace mw {

inline constexpr const char* kNftTable = "mailwarden";         // inet table of the policy
inline constexpr const char* kNftBanTable = "mailwarden_ban";  // inet table of bans (later)

// mailwarden.nft: `table inet mailwarden {}` + `delete table inet mailwarden` + the table, so
// that loading it with `nft -f` is one transaction whether or not the table existed.
std::vector<Artefact> render_nft(const FirewallPlan& plan);

}  // namespace mw
