// Text and JSON renderings of scan results and of their comparison with the analyser.
#include "report/scan_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace mw::report {

namespace {

std::string address_list(const std::vector<Address>& as) {
  std::string out;
  for (const auto& a : as) out += (out.empty() ? "" : ", ") + to_string(a);
  return out;
}

std::string port_text(const fw::PortQuery& p) {
  return fmt::format("{}/{}", p.port, protocol_name(p.protocol));
}

nlohmann::json observation_json(const std::optional<scan::Observation>& o) {
  if (!o) return nullptr;
  nlohmann::json j = {
      {"state", scan::port_state_name(o->state)}, {"attempts", o->attempts}, {"detail", o->detail}};
  j["rtt_ms"] = o->rtt ? nlohmann::json(static_cast<double>(o->rtt->count()) / 1000.0)
                       : nlohmann::json(nullptr);
  return j;
}

std::string agreement_key(scan::Agreement a) {
  switch (a) {
    case scan::Agreement::agree:
      return "agree";
    case scan::Agreement::mismatch:
      return "mismatch";
    case scan::Agreement::unverifiable:
      return "unverifiable";
  }
  return "?";
}

}  // namespace

std::string scan_cell(const std::optional<scan::Observation>& o) {
  if (!o) return "-";
  std::string text(scan::port_state_name(o->state));
  if (o->state != scan::PortState::open && !o->detail.empty()) text += " (" + o->detail + ")";
  return text;
}

std::string render_scan_text(const scan::ScanReport& r) {
  std::string out = fmt::format("What answers on each port of {} ({}), scanned from this machine",
                                r.host, address_list(r.addresses));
  if (!r.sources.empty()) out += fmt::format(" (from {})", address_list(r.sources));
  out += "\n\n";
  out += fmt::format("{:<11} {:<26} {:<36} {}\n", "port", "service", "IPv4", "IPv6");
  for (const auto& po : r.ports) {
    out += fmt::format("{:<11} {:<26} {:<36} {}\n", port_text(po.port),
                       po.port.service.empty() ? "-" : po.port.service, scan_cell(po.v4),
                       scan_cell(po.v6));
  }
  out +=
      fmt::format("\n{} port{} scanned in {:.2f} s\n", r.ports.size(),
                  r.ports.size() == 1 ? "" : "s", static_cast<double>(r.elapsed.count()) / 1000.0);
  return out;
}

std::string render_scan_json(const scan::ScanReport& r) {
  nlohmann::json j;
  j["host"] = r.host;
  j["addresses"] = nlohmann::json::array();
  for (const auto& a : r.addresses) j["addresses"].push_back(to_string(a));
  j["sources"] = nlohmann::json::array();
  for (const auto& a : r.sources) j["sources"].push_back(to_string(a));
  j["elapsed_ms"] = r.elapsed.count();
  j["ports"] = nlohmann::json::array();
  for (const auto& po : r.ports) {
    j["ports"].push_back({{"port", po.port.port},
                          {"protocol", protocol_name(po.port.protocol)},
                          {"service", po.port.service},
                          {"ipv4", observation_json(po.v4)},
                          {"ipv6", observation_json(po.v6)}});
  }
  return j.dump(2) + "\n";
}

std::string render_verify_text(const scan::VerifyReport& r, const std::vector<std::string>& inputs,
                               bool color) {
  const char* red = color ? "\033[31m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::string names;
  for (const auto& i : inputs) names += (names.empty() ? "" : ", ") + i;
  std::string out = fmt::format("Predicted ({}) versus observed: {} ({}) scanned from {}\n\n",
                                names, r.host, address_list(r.targets), address_list(r.sources));
  out += fmt::format("{:<11} {:<26} {:<6} {:<10} {:<36} {}\n", "port", "service", "family",
                     "predicted", "observed", "verdict");
  for (const auto& row : r.rows) {
    const bool bad = row.comparison.agreement == scan::Agreement::mismatch;
    std::string verdict(scan::agreement_name(row.comparison.agreement));
    if (bad) {
      verdict = red + verdict + reset;
    } else if (!row.comparison.note.empty()) {
      verdict += ": " + row.comparison.note;
    }
    out += fmt::format("{:<11} {:<26} {:<6} {:<10} {:<36} {}\n", port_text(row.port),
                       row.port.service.empty() ? "-" : row.port.service,
                       row.family == Family::v4 ? "IPv4" : "IPv6", fw::outcome_name(row.predicted),
                       scan_cell(row.observed), verdict);
  }
  if (r.mismatches > 0) {
    out += fmt::format("\n{}Mismatches{} (the ruleset given is not what answers):\n", red, reset);
    for (const auto& row : r.rows) {
      if (row.comparison.agreement != scan::Agreement::mismatch) continue;
      out += fmt::format("  {} {}: {} (deciding rule: {})\n", port_text(row.port),
                         row.family == Family::v4 ? "IPv4" : "IPv6", row.comparison.note,
                         row.rule.empty() ? "-" : row.rule);
    }
  }
  out += fmt::format("\n{} checked: {} agree, {} mismatch, {} unverifiable\n", r.rows.size(),
                     r.rows.size() - static_cast<std::size_t>(r.mismatches + r.unverifiable),
                     r.mismatches, r.unverifiable);
  return out;
}

std::string render_verify_json(const scan::VerifyReport& r,
                               const std::vector<std::string>& inputs) {
  nlohmann::json j;
  j["inputs"] = inputs;
  j["host"] = r.host;
  j["targets"] = nlohmann::json::array();
  for (const auto& a : r.targets) j["targets"].push_back(to_string(a));
  j["sources"] = nlohmann::json::array();
  for (const auto& a : r.sources) j["sources"].push_back(to_string(a));
  j["mismatches"] = r.mismatches;
  j["unverifiable"] = r.unverifiable;
  j["rows"] = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json x = {{"port", row.port.port},
                        {"protocol", protocol_name(row.port.protocol)},
                        {"service", row.port.service},
                        {"family", family_name(row.family)},
                        {"predicted", fw::outcome_name(row.predicted)},
                        {"rule", row.rule},
                        {"observed", observation_json(row.observed)},
                        {"agreement", agreement_key(row.comparison.agreement)},
                        {"note", row.comparison.note}};
    if (!row.reason.empty()) x["reason"] = row.reason;
    j["rows"].push_back(std::move(x));
  }
  return j.dump(2) + "\n";
}

}  // namespace mw::report
