// The backend table.
#include "firewall/backends.hpp"

#include <fmt/format.h>

#include <array>

#include "firewall/nft_backend.hpp"

namespace mw {

namespace {

constexpr std::array<Backend, 6> kBackends = {{
    {"nft", "nftables: one `nft -f` file replacing table inet mailwarden", render_nft_backend, ""},
    {"iptables", "iptables-restore: rules.v4 (netfilter-persistent) and the owned chain",
     render_iptables, ""},
    {"ip6tables", "ip6tables-restore: rules.v6 (netfilter-persistent) and the owned chain",
     render_ip6tables, ""},
    {"ufw", "ufw: application profiles and the ufw command sequence", render_ufw,
     "mailwarden-ufw.sh adds rules and never removes old ones (ufw --force reset first when the "
     "policy changed); the spoofing, non-SYN and outbound-SMTP rules are in the before.rules "
     "fragments, to paste by hand"},
    {"firewalld", "firewalld: services, zone with rich rules, firewall-cmd commands",
     render_firewalld,
     "firewalld has no fail-safe: a wrong --reload over SSH locks you out. Keep a console open "
     "and try rules with --timeout first (see the script's header)"},
    {"iis", "Exchange: IIS IP restrictions of /ecp (applicationHost.config, PowerShell, appcmd)",
     render_iis,
     "test from an admin address and from outside after applying: IIS accepts entries it "
     "cannot match (see README-ecp.txt, IPv6 entries above all)"},
}};

}  // namespace

std::span<const Backend> backends() {
  return kBackends;
}

const Backend* find_backend(std::string_view name) {
  for (const auto& b : kBackends) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::vector<std::string_view> backends_for_product(std::string_view product) {
  if (product == "exchange") return {"iis"};
  return {"nft", "iptables", "ip6tables", "ufw", "firewalld"};
}

Status require_linux_host(const FirewallPlan& plan, std::string_view backend) {
  if (plan.product == "exchange") {
    return Error{
        fmt::format("{}: --backend {}: Exchange runs on Windows; use --backend iis "
                    "for /ecp and Windows Firewall for the ports",
                    plan.policy_source, backend)};
  }
  return {};
}

Result<std::vector<Artefact>> render_nft_backend(const FirewallPlan& plan) {
  if (auto st = require_linux_host(plan, "nft"); !st) return st.error();
  return render_nft(plan);
}

}  // namespace mw
