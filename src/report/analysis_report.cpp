// Text and JSON renderings of the exposure matrix and its findings.
#include "report/analysis_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace mw::report {

namespace {

// A cell of the matrix: everyone / nobody / the prefixes, shortened past a few.
std::string cell(const fw::ExposureResult& r, Family f) {
  AddressSet acc = r.sources(fw::Outcome::accept);
  AddressSet unc = r.sources(fw::Outcome::uncertain);
  std::string text;
  if (acc == AddressSet::any_of(f)) {
    text = "everyone";
  } else if (acc.empty()) {
    text = "nobody";
  } else if (auto but = AddressSet::any_of(f).subtract(acc).to_prefixes(f); but.size() <= 2) {
    // Everyone but a few prefixes (a spoofing rule for 127.0.0.0/8, one banned address).
    text = "everyone but ";
    for (std::size_t i = 0; i < but.size(); ++i) text += (i ? ", " : "") + to_string(but[i]);
  } else {
    auto ps = acc.to_prefixes(f);
    for (std::size_t i = 0; i < ps.size() && i < 3; ++i) {
      text += (i ? ", " : "") + to_string(ps[i]);
    }
    if (ps.size() > 3) text += fmt::format(" +{} more", ps.size() - 3);
  }
  if (!unc.empty()) {
    text += unc == AddressSet::any_of(f) ? " (uncertain: all)"
                                         : fmt::format(" (uncertain: {})", unc.to_string());
  }
  return text;
}

nlohmann::json regions_json(const fw::ExposureResult& r) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& reg : r.regions) {
    nlohmann::json prefixes = nlohmann::json::array();
    for (const auto& p : reg.sources.to_prefixes()) prefixes.push_back(to_string(p));
    nlohmann::json j = {
        {"outcome", fw::outcome_name(reg.outcome)}, {"sources", prefixes}, {"rule", reg.rule}};
    if (!reg.reason.empty()) j["reason"] = reg.reason;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::string render_analysis_text(const fw::AnalysisReport& r,
                                 const std::vector<std::string>& inputs, bool color) {
  const char* red = color ? "\033[31m" : "";
  const char* yellow = color ? "\033[33m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::string out;
  std::string names;
  for (const auto& i : inputs) names += (names.empty() ? "" : ", ") + i;
  out += fmt::format("Who can open a new connection to each port, from outside ({})\n\n", names);
  out += fmt::format("{:<11} {:<26} {:<36} {}\n", "port", "service", "IPv4", "IPv6");
  for (const auto& pe : r.ports) {
    out += fmt::format("{:<11} {:<26} {:<36} {}\n",
                       fmt::format("{}/{}", pe.port.port, protocol_name(pe.port.protocol)),
                       pe.port.service.empty() ? "-" : pe.port.service, cell(pe.v4, Family::v4),
                       cell(pe.v6, Family::v6));
  }
  bool header = false;
  for (const auto& pe : r.ports) {
    for (const auto* res : {&pe.v4, &pe.v6}) {
      for (const auto& reg : res->regions) {
        if (reg.outcome != fw::Outcome::uncertain) continue;
        if (!header) {
          out += fmt::format("\n{}Uncertain{} (a match the model does not know; never guessed):\n",
                             yellow, reset);
          header = true;
        }
        out +=
            fmt::format("  {}/{} from {}: {} — {}\n", pe.port.port, protocol_name(pe.port.protocol),
                        reg.sources.to_string(), reg.rule, reg.reason);
      }
    }
  }
  if (!r.findings.empty()) {
    out += fmt::format("\n{}Findings{} (more exposed than the policy allows):\n", red, reset);
    for (const auto& f : r.findings) {
      std::string rules;
      for (const auto& x : f.rules) rules += (rules.empty() ? "" : ", ") + x;
      out += fmt::format("  [{}] {} (accepted by {})\n", fw::severity_name(f.severity), f.message,
                         rules);
    }
  }
  return out;
}

std::string render_analysis_json(const fw::AnalysisReport& r,
                                 const std::vector<std::string>& inputs) {
  nlohmann::json j;
  j["inputs"] = inputs;
  j["uncertain"] = r.uncertain;
  j["ports"] = nlohmann::json::array();
  for (const auto& pe : r.ports) {
    j["ports"].push_back({{"port", pe.port.port},
                          {"protocol", protocol_name(pe.port.protocol)},
                          {"service", pe.port.service},
                          {"ipv4", regions_json(pe.v4)},
                          {"ipv6", regions_json(pe.v6)}});
  }
  j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings) {
    nlohmann::json extra = nlohmann::json::array();
    for (const auto& p : f.extra.to_prefixes()) extra.push_back(to_string(p));
    j["findings"].push_back({{"severity", fw::severity_name(f.severity)},
                             {"port", f.port.port},
                             {"protocol", protocol_name(f.port.protocol)},
                             {"service", f.port.service},
                             {"family", family_name(f.family)},
                             {"extra_sources", extra},
                             {"policy_allows", f.allowed},
                             {"rules", f.rules},
                             {"message", f.message}});
  }
  return j.dump(2) + "\n";
}

std::string render_query_line(const QueryAnswer& a) {
  std::string line =
      fmt::format("{} {}/{} {} {}", a.source_text, a.port.port, protocol_name(a.port.protocol),
                  fw::outcome_name(a.outcome), a.rule);
  if (!a.reason.empty()) line += " (" + a.reason + ")";
  return line + "\n";
}

}  // namespace mw::report
