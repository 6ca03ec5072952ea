// Prediction versus observation for `firewall analyze --verify`.
#include "scan/verify.hpp"

#include <algorithm>

namespace mw::scan {

namespace {

// The rule whose origin the analyser named, to tell a REJECT from a DROP.
const fw::Rule* find_rule(const fw::Ruleset& rs, const std::string& origin) {
  for (const auto& t : rs.tables) {
    for (const auto& c : t.chains) {
      for (const auto& r : c.rules) {
        if (r.origin == origin) return &r;
      }
    }
  }
  return nullptr;
}

std::string observed_text(const Observation& o) {
  std::string s(port_state_name(o.state));
  if (!o.detail.empty()) s += " (" + o.detail + ")";
  return s;
}

}  // namespace

std::string_view agreement_name(Agreement a) {
  switch (a) {
    case Agreement::agree:
      return "agree";
    case Agreement::mismatch:
      return "MISMATCH";
    case Agreement::unverifiable:
      return "unverifiable";
  }
  return "?";
}

Refusal refusal_of(const fw::Rule* r) {
  if (!r || r->verdict != fw::Verdict::reject) return Refusal::silent;
  const std::string& t = r->text;
  if (t.empty()) return Refusal::any_reject;
  if (t.find("tcp reset") != std::string::npos || t.find("tcp-reset") != std::string::npos ||
      t.find("port-unreach") != std::string::npos) {
    return Refusal::closes;
  }
  // Without a kind, nft and iptables send an ICMP port unreachable.
  if (t.find(" with ") == std::string::npos && t.find("--reject-with") == std::string::npos) {
    return Refusal::closes;
  }
  return Refusal::icmp;
}

Comparison compare(fw::Outcome predicted, Refusal refusal, const Observation& observed,
                   Protocol protocol) {
  const std::string seen = observed_text(observed);
  if (predicted == fw::Outcome::uncertain) {
    return {Agreement::unverifiable, "unverifiable by prediction, observed " + seen};
  }
  switch (observed.state) {
    case PortState::unreachable:
      return {Agreement::unverifiable, "not reached from here: " + observed.detail};
    case PortState::not_checkable:
      return {Agreement::unverifiable, "not checkable: " + observed.detail};
    default:
      break;
  }
  const bool tcp = protocol == Protocol::tcp;
  if (predicted == fw::Outcome::accept) {
    switch (observed.state) {
      case PortState::open:
        return {Agreement::agree, ""};
      case PortState::closed:
        return {Agreement::agree, tcp ? "nothing listening (" + observed.detail + ")"
                                      : std::string("nothing listening (ICMP port unreachable)")};
      default:
        return {Agreement::mismatch, "predicted accept, observed " + seen +
                                         ": something between here and the host, or a rule "
                                         "the dump does not show, stops it"};
    }
  }
  // Predicted drop.
  if (observed.state == PortState::open) {
    return {Agreement::mismatch, "predicted drop, observed " + seen};
  }
  const bool closed = observed.state == PortState::closed;
  const bool icmp_answer = observed.state == PortState::filtered && observed.error != 0;
  switch (refusal) {
    case Refusal::silent:
      if (closed) {
        return {Agreement::mismatch,
                "predicted drop, observed " + seen +
                    ": consistent only with a REJECT with tcp reset (or ICMP port unreachable), "
                    "not with the DROP the ruleset file has"};
      }
      return {Agreement::agree,
              icmp_answer ? "dropped here, " + observed.detail + " on the way" : ""};
    case Refusal::closes:
      if (closed) return {Agreement::agree, "rejected (" + observed.detail + ")"};
      return {Agreement::mismatch,
              "predicted a REJECT that answers with a reset or port unreachable, observed " + seen};
    case Refusal::icmp:
      if (icmp_answer) return {Agreement::agree, "rejected (" + observed.detail + ")"};
      return {Agreement::mismatch, "predicted a REJECT with an ICMP unreachable, observed " + seen};
    case Refusal::any_reject:
      if (closed || icmp_answer) return {Agreement::agree, "rejected (" + observed.detail + ")"};
      return {Agreement::mismatch, "predicted a REJECT, observed " + seen};
  }
  return {Agreement::unverifiable, ""};
}

VerifyReport verify_scan(const fw::Ruleset& ruleset, const ScanReport& scan,
                         const std::vector<Address>& sources, const fw::ArrivalContext& ctx) {
  VerifyReport out;
  out.host = scan.host;
  out.targets = scan.addresses;
  out.sources = sources;
  for (const auto& po : scan.ports) {
    for (Family f : {Family::v4, Family::v6}) {
      const auto& obs = f == Family::v4 ? po.v4 : po.v6;
      if (!obs) continue;
      auto src = std::find_if(sources.begin(), sources.end(),
                              [&](const Address& a) { return a.family == f; });
      auto target = std::find_if(scan.addresses.begin(), scan.addresses.end(),
                                 [&](const Address& a) { return a.family == f; });
      if (src == sources.end()) continue;
      fw::Query q = fw::make_query(f, po.port, ctx);
      if (!q.to && target != scan.addresses.end()) q.to = *target;
      const fw::ExposureResult r = fw::analyse(ruleset, q);
      const fw::Region* reg = r.region_of(*src);
      VerifyRow row;
      row.port = po.port;
      row.family = f;
      row.observed = *obs;
      if (reg) {
        row.predicted = reg->outcome;
        row.rule = reg->rule;
        row.reason = reg->reason;
        if (reg->outcome == fw::Outcome::drop)
          row.refusal = refusal_of(find_rule(ruleset, reg->rule));
      } else {
        row.predicted = fw::Outcome::uncertain;
        row.reason = "no region for the source address";
      }
      row.comparison = compare(row.predicted, row.refusal, row.observed, po.port.protocol);
      if (row.comparison.agreement == Agreement::mismatch) ++out.mismatches;
      if (row.comparison.agreement == Agreement::unverifiable) ++out.unverifiable;
      if (row.predicted == fw::Outcome::uncertain) out.uncertain = true;
      out.rows.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace mw::scan
