// Fuzz target: IIS's applicationHost.config (iis.hpp), the merge of ipSecurity for every /ecp
// of every site and the locations below it, and the exchange.* checks on the result (which run
// the iis firewall backend for their remediation).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/iis.hpp"

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

void check_effective(const mw::audit::IisConfig& config, const std::string& path) {
  auto e = mw::audit::effective_ip_security(config, path);
  if (!e.ok()) {
    if (!starts_with(e.error().message, "fuzz.config:")) std::abort();
    return;
  }
  for (const auto& x : e->entries) {
    if (x.op != mw::audit::IisIpEntry::Op::add || x.line == 0) std::abort();
  }
  // allowUnlisted="false" with no allow entry lets nobody in.
  bool any_allow = false;
  for (const auto& x : e->entries) any_allow = any_allow || (x.allowed && x.prefix);
  if (!e->allow_unlisted && !any_allow && !e->allowed.empty()) std::abort();
  if (e->lower_files == mw::audit::IisOverride::deny && !e->locked()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mw::audit;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = parse_iis_config(text, "fuzz.config");
  if (!config.ok()) {
    if (!starts_with(config.error().message, "fuzz.config")) std::abort();
    return 0;
  }
  if (config->source != "fuzz.config") std::abort();
  for (const auto& site : config->sites) {
    check_effective(*config, site.name);
    const std::string ecp = site.name + "/ecp";
    check_effective(*config, ecp);
    for (const auto& below : iis_paths_below(*config, ecp)) check_effective(*config, below);
  }

  static const CustomChecks checks = builtin_checks();
  Facts facts;
  facts.iis = std::move(*config);
  facts.iis_file = "fuzz.config";
  for (const char* name : {"ecp-restricted", "ecp-not-world", "ecp-allow-list", "ecp-proxy-mode",
                           "ecp-restriction-locked"}) {
    Control c;
    c.id = std::string("exchange.") + name;
    c.scope = Scope::exchange;
    c.check.kind = CheckKind::custom;
    c.check.name = name;
    c.remediation = "lock {object}";
    const ControlResult r = evaluate(c, facts, checks);
    if (r.detail.empty()) std::abort();
    if (r.status == Status::fail && r.failing.empty()) std::abort();
  }
  return 0;
}
