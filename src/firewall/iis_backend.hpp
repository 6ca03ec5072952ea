// iis backend internals shared with its tests: the /ecp allow list and the quoting helpers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "firewall/plan.hpp"

namespace mw::iis {

// The virtual directory of the Exchange admin center under the policy's IIS site.
inline constexpr std::string_view kEcpPath = "/ecp";

// One <add allowed="true"> entry of ipSecurity, in IIS's own spelling.
struct AllowEntry {
  Prefix prefix;
  std::string ip_address;
  // IPv4: the dotted mask (always written). IPv6: the prefix length, empty for a single address
  // (IIS then matches the address exactly).
  std::string subnet_mask;
  std::string why;  // "loopback", "Exchange server", "admin network"
};

// Loopback first (127.0.0.0/8, ::1), then the Exchange servers' own addresses, then the admin
// networks; an entry equal to an earlier one is dropped (IIS refuses duplicate keys).
std::vector<AllowEntry> allow_entries(const FirewallPlan& plan);

// "255.255.255.240" for 28; 0..32.
std::string ipv4_mask(int prefix_len);

// Quoting for the three target languages. The values we embed were validated (addresses, site
// names of letters, digits, ' ', '-', '_', '.'), but a quote must never end a literal.
std::string xml_escape(std::string_view s);
std::string ps_single_quoted(std::string_view s);  // PowerShell '...' literal
std::string xml_comment_text(std::string_view s);  // no "--", no trailing '-'

// The IIS site names the policy accepts (iis.site).
bool is_site_name(std::string_view s);

}  // namespace mw::iis
