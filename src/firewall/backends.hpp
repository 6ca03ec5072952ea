// The firewall backends by name: what `--backend B` selects and the tests iterate over.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "firewall/artefact.hpp"
#include "firewall/plan.hpp"

namespace mw {

struct Backend {
  std::string_view name;     // "nft", "iptables", ...
  std::string_view summary;  // one line for --help
  // Renders the plan; an Error when the backend does not fit the plan (IIS for a Zimbra host,
  // a Linux firewall for Exchange).
  Result<std::vector<Artefact>> (*render)(const FirewallPlan& plan);
  // Printed to the operator with every generation ("" when none): what can go wrong applying.
  std::string_view caution;
};

std::span<const Backend> backends();
const Backend* find_backend(std::string_view name);

// The backends that fit a product: Linux firewalls for Zimbra and Postfix hosts, IIS for
// Exchange. Golden tests run every example against each of these.
std::vector<std::string_view> backends_for_product(std::string_view product);

// Each backend's entry point (one file each: <name>_backend.cpp).
Result<std::vector<Artefact>> render_nft_backend(const FirewallPlan& plan);
Result<std::vector<Artefact>> render_iptables(const FirewallPlan& plan);
Result<std::vector<Artefact>> render_ip6tables(const FirewallPlan& plan);
Result<std::vector<Artefact>> render_ufw(const FirewallPlan& plan);
Result<std::vector<Artefact>> render_firewalld(const FirewallPlan& plan);
Result<std::vector<Artefact>> render_iis(const FirewallPlan& plan);

// For Linux backends: an Error when the plan is for Exchange (Windows).
Status require_linux_host(const FirewallPlan& plan, std::string_view backend);

}  // namespace mw
