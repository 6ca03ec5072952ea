// iptables / ip6tables backends: a FirewallPlan as iptables-restore input, one family per backend.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/port_set.hpp"
#include "core/result.hpp"
#include "firewall/artefact.hpp"
#include "firewall/plan.hpp"

namespace mw {

// The chains mailwarden owns in the filter table (the owned form); nothing else is flushed.
inline constexpr const char* kIptablesInputChain = "MAILWARDEN-INPUT";
inline constexpr const char* kIptablesOutputChain = "MAILWARDEN-OUTPUT";

// Artefact names of one family: "rules.v4", "mailwarden-owned.v4", "mailwarden-load.v4.sh".
struct IptablesFileNames {
  std::string rules;   // the complete filter table, for netfilter-persistent
  std::string owned;   // the owned chains, for `iptables-restore --noflush`
  std::string loader;  // sh script: loads `owned`, then ensures one jump from INPUT (and OUTPUT)
};
IptablesFileNames iptables_file_names(Family f);

// The port half of a rule for a set of destination ports: "--dport 25", "--dport 10024:10032"
// for a lone entry, else "-m multiport --dports 25,80,10024:10032". The multiport match holds
// at most 15 ports, a range counting as two, so a large set becomes several matches.
std::vector<std::string> iptables_port_matches(const PortSet& ports);
inline constexpr std::size_t kMultiportMaxSlots = 15;

// The plan's "N/second|minute|hour|day" as the limit match writes it ("5/min"); an Error when
// the text is no such rate or is faster than the limit match can count (10000/second).
Result<std::string> iptables_rate(std::string_view plan_rate);

// Both backends' work: the three artefacts of family f (rules, owned, loader).
Result<std::vector<Artefact>> render_iptables_family(const FirewallPlan& plan, Family f);

}  // namespace mw
