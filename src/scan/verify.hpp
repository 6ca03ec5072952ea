// `firewall analyze --verify HOST`: the analyser's prediction for this machine's source address
// next to what a scan from here observed, port by port, and whether they agree.
#pragma once

#include <string>
#include <vector>

#include "firewall/analysis.hpp"
#include "firewall/ruleset.hpp"
#include "scan/scanner.hpp"

namespace mw::scan {

enum class Agreement : std::uint8_t { agree, mismatch, unverifiable };
std::string_view agreement_name(Agreement a);  // "agree", "MISMATCH", "unverifiable"

struct Comparison {
  Agreement agreement = Agreement::unverifiable;
  std::string note;  // why, in words ("nothing listening (RST)", ...); "" when plain
};

// How the deciding rule of a "drop" answers the probe.
enum class Refusal : std::uint8_t {
  silent,      // DROP, a chain's drop policy: no answer
  closes,      // REJECT with tcp reset or ICMP port unreachable (the default): seen as closed
  icmp,        // REJECT with another ICMP unreachable (admin-prohibited...): filtered, answered
  any_reject,  // a REJECT whose kind the rule text does not say
};
// From the deciding rule's text (nft: "reject with icmpx admin-prohibited", iptables:
// "-j REJECT --reject-with tcp-reset").
Refusal refusal_of(const fw::Rule* deciding);

// accept <=> open, or closed (nothing listening); drop <=> filtered without an answer; a REJECT
// <=> the answer it sends (closed for a reset or port unreachable, an ICMP error otherwise); a
// plain drop observed closed is a mismatch (only a REJECT answers). Uncertain predictions,
// unroutable targets and UDP ports nobody answered cannot be verified.
Comparison compare(fw::Outcome predicted, Refusal refusal, const Observation& observed,
                   Protocol protocol);

struct VerifyRow {
  fw::PortQuery port;
  Family family = Family::v4;
  fw::Outcome predicted = fw::Outcome::drop;
  std::string rule;    // the deciding rule's origin
  std::string reason;  // for uncertain
  Refusal refusal = Refusal::silent;
  Observation observed;
  Comparison comparison;
};

struct VerifyReport {
  std::string host;
  std::vector<Address> targets;  // scanned
  std::vector<Address> sources;  // the source address the prediction is for, per family
  std::vector<VerifyRow> rows;
  int mismatches = 0;
  int unverifiable = 0;
  bool uncertain = false;  // some prediction is uncertain
};

// Analyses `ruleset` for each scanned (family, port) from the source address of that family
// (sources: one per family scanned), sent to the scanned address unless ctx names one.
VerifyReport verify_scan(const fw::Ruleset& ruleset, const ScanReport& scan,
                         const std::vector<Address>& sources, const fw::ArrivalContext& ctx);

}  // namespace mw::scan
