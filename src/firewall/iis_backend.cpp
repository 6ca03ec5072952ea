// Renders an Exchange FirewallPlan as IIS IP restrictions of the admin center (<site>/ecp): the
// applicationHost.config section, PowerShell and appcmd scripts, and a README of the caveats.
#include "firewall/iis_backend.hpp"
#include "core/join.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <utility>

#include "firewall/backends.hpp"

namespace mw {

namespace {

// Control characters have no place in any of the target files (XML 1.0 forbids most of them,
// a newline would end a comment line).
char printable(char c) {
  return (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
}

}  // namespace

namespace iis {

std::string ipv4_mask(int prefix_len) {
  const auto mask =
      static_cast<std::uint32_t>(~host_mask(Family::v4, prefix_len) & family_max(Family::v4));
  return fmt::format("{}.{}.{}.{}", mask >> 24, (mask >> 16) & 255u, (mask >> 8) & 255u,
                     mask & 255u);
}

std::vector<AllowEntry> allow_entries(const FirewallPlan& plan) {
  std::vector<AllowEntry> out;
  auto add = [&out](const Prefix& p, std::string_view why) {
    for (const auto& e : out) {
      if (e.prefix == p) return;
    }
    AllowEntry e;
    e.prefix = p;
    e.ip_address = to_string(p.addr);
    // IPv4 masks are always spelled out (the documented form). An IPv6 address alone is matched
    // exactly; a shorter IPv6 prefix takes its length (README-ecp.txt: the IPv6 form).
    if (p.addr.family == Family::v4) {
      e.subnet_mask = ipv4_mask(p.len);
    } else if (p.len != 128) {
      e.subnet_mask = std::to_string(p.len);
    }
    e.why = why;
    out.push_back(std::move(e));
  };
  add(Prefix{Address{Family::v4, u128{0x7f000000u}}, 8}, "loopback");
  add(Prefix{Address{Family::v6, u128{1}}, 128}, "loopback");
  for (const Prefix& p : plan.server_addresses) add(p, "Exchange server");
  for (const Prefix& p : plan.admin.to_prefixes()) add(p, "admin network");
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += printable(c);
    }
  }
  return out;
}

std::string ps_single_quoted(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size(); ++i) {
    // PowerShell also reads the typographic single quotes U+2018-U+201B as quotes: doubled,
    // like ', they stay literal.
    if (s.size() - i >= 3 && static_cast<unsigned char>(s[i]) == 0xe2 &&
        static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) >= 0x98 &&
        static_cast<unsigned char>(s[i + 2]) <= 0x9b) {
      out.append(s.substr(i, 3));
      out.append(s.substr(i, 3));
      i += 2;
      continue;
    }
    if (s[i] == '\'') out += '\'';
    out += printable(s[i]);
  }
  return out + "'";
}

std::string xml_comment_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' && !out.empty() && out.back() == '-') out += ' ';
    out += printable(c);
  }
  if (!out.empty() && out.back() == '-') out += ' ';
  return out;
}

bool is_site_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '_' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace iis

namespace {

using iis::AllowEntry;

// Text for a cmd.exe REM or echo line: '%' is expanded even there ("%~" aborts the whole
// script), and the other metacharacters are not worth the risk in a comment.
std::string cmd_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool meta = c == '%' || c == '^' || c == '&' || c == '|' || c == '<' || c == '>' ||
                      c == '"' || c == '!';
    out += meta ? '_' : printable(c);
  }
  return out;
}

std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += printable(c);
  return out;
}

// "25/tcp smtp, 80/tcp http" for the openings of one class.
std::string openings_of(const FirewallPlan& plan, Exposure e) {
  std::vector<std::string> items;
  for (const auto& o : plan.openings) {
    if (o.exposure == e) {
      items.push_back(fmt::format("{}/{} {}", o.port, protocol_name(o.protocol), o.service));
    }
  }
  return join(items);
}

class IisWriter {
 public:
  explicit IisWriter(const FirewallPlan& plan)
      : plan_(plan),
        location_(plan.iis_site + std::string(iis::kEcpPath)),
        entries_(iis::allow_entries(plan)) {}

  std::vector<Artefact> render() const {
    return {
        {"ecp-ipsecurity.xml", xml(),
         "applicationHost.config <location> section restricting " + location_ +
             " (for review; the scripts write it)"},
        {"ecp-ipsecurity.ps1", powershell(),
         "PowerShell (WebAdministration): run elevated on the server; idempotent, allow entries "
         "first, allowUnlisted=false last"},
        {"ecp-ipsecurity.cmd", appcmd(),
         "appcmd.exe equivalent of the PowerShell script, for a first application"},
        {"README-ecp.txt", readme(),
         "what is restricted, how to apply and verify, caveats, Windows Firewall work left to do"},
    };
  }

 private:
  std::string server_desc() const {
    return plan_.hostname.empty() ? std::string("this Exchange server") : one_line(plan_.hostname);
  }
  std::string title() const {
    return fmt::format("mailwarden: IIS IP restriction of the Exchange admin center ({}) on {}",
                       location_, server_desc());
  }
  static std::string bool_text(bool b) { return b ? "true" : "false"; }
  static std::string group_title(const std::string& why) {
    return why == "loopback" ? why : why + "s";
  }

  // ------------------------------------------------------------------ applicationHost.config
  static std::string xml_comment(std::string_view indent, std::string_view text) {
    std::string lead = std::string(indent) + "     ";
    std::string out = wrap_comment(iis::xml_comment_text(text), lead, 96, 0);
    out.replace(indent.size(), 5, "<!-- ");
    out.insert(out.size() - 1, " -->");
    return out;
  }

  std::string xml() const {
    std::string out;
    out += xml_comment("", title() + ". Generated from " + one_line(plan_.policy_source) +
                               " by mailwarden (firewall generate, backend iis); do not edit.");
    out += xml_comment(
        "",
        "The section that ecp-ipsecurity.ps1 (or .cmd) writes into "
        "%windir%\\system32\\inetsrv\\config\\applicationHost.config, for review and for "
        "comparison with Get-WebConfiguration. ipSecurity is locked at server level, so it "
        "lives there and not in the web.config of /ecp. To edit the file by hand instead: install "
        "Web-IP-Security first, keep a copy of the file, and merge the <ipSecurity> element "
        "into the <location path=\"" +
            location_ +
            "\"> that Exchange setup already created, under <system.webServer><security>.");
    out += fmt::format("<location path=\"{}\">\n", iis::xml_escape(location_));
    out += "  <system.webServer>\n";
    out += "    <security>\n";
    out +=
        xml_comment("      ",
                    "Entries are evaluated top to bottom; allowUnlisted is evaluated last: every "
                    "address not listed is refused, and AbortRequest drops the connection "
                    "without an HTTP response.");
    if (plan_.iis_proxy_mode) {
      out += xml_comment("      ",
                         "enableProxyMode: a load balancer or reverse proxy is in front, so IIS "
                         "also checks the addresses of the X-Forwarded-For header "
                         "(README-ecp.txt: the load balancer must set or overwrite it).");
    }
    out += fmt::format(
        "      <ipSecurity allowUnlisted=\"false\" denyAction=\"AbortRequest\" "
        "enableProxyMode=\"{}\">\n",
        bool_text(plan_.iis_proxy_mode));
    std::string group;
    for (const AllowEntry& e : entries_) {
      if (e.why != group) {
        group = e.why;
        out += xml_comment("        ", group_title(group));
      }
      out += fmt::format("        <add ipAddress=\"{}\"", iis::xml_escape(e.ip_address));
      if (!e.subnet_mask.empty()) {
        out += fmt::format(" subnetMask=\"{}\"", iis::xml_escape(e.subnet_mask));
      }
      out += " allowed=\"true\" />\n";
    }
    out += "      </ipSecurity>\n";
    out += "    </security>\n";
    out += "  </system.webServer>\n";
    out += "</location>\n";
    return out;
  }

  // ------------------------------------------------------------------------------ PowerShell
  std::string powershell() const {
    std::string out;
    auto c = [&out](std::string_view text) { out += wrap_comment(text, "# "); };
    auto l = [&out](std::string_view text) {
      out += text;
      out += '\n';
    };
    c(title());
    c("Generated from " + one_line(plan_.policy_source) +
      " by `mailwarden firewall generate --backend iis`. Do not edit: change the policy and "
      "generate again.");
    c("Run in an elevated Windows PowerShell on " + server_desc() +
      ". Running it again is safe: it adds the entries that are missing and removes those the "
      "policy no longer lists. README-ecp.txt has the caveats (OWA options, load balancer, "
      "IPv6).");
    c("Order matters: every allow entry is in, and checked, before allowUnlisted becomes false, so "
      "that a failure half-way never locks the administrators out of /ecp.");
    l("#Requires -RunAsAdministrator");
    l("$ErrorActionPreference = 'Stop'");
    l("");
    c("ipSecurity is locked at server level (overrideModeDefault=\"Deny\"): it is written in "
      "applicationHost.config (APPHOST) under a location for the path, not in the web.config of "
      "/ecp.");
    l("$psPath = 'MACHINE/WEBROOT/APPHOST'");
    l("$location = " + iis::ps_single_quoted(location_));
    l("$section = 'system.webServer/security/ipSecurity'");
    l("");
    c("1. The IP and Domain Restrictions role service: IIS enforces ipSecurity only with it "
      "installed.");
    l("Install-WindowsFeature -Name Web-IP-Security | Out-Null");
    l("Import-Module WebAdministration");
    l("");
    c("2. A backup to return to.");
    l("$backup = 'mailwarden-ecp-' + (Get-Date -Format 'yyyyMMdd-HHmmss')");
    l("Backup-WebConfiguration -Name $backup | Out-Null");
    l("Write-Host \"IIS configuration saved; to undo: Restore-WebConfiguration -Name $backup\"");
    l("");
    c("3. The allow list of the policy.");
    l("$entries = @(");
    for (const AllowEntry& e : entries_) {
      std::string item = "  @{ ipAddress = " + iis::ps_single_quoted(e.ip_address);
      if (!e.subnet_mask.empty()) item += "; subnetMask = " + iis::ps_single_quoted(e.subnet_mask);
      item += " }  # " + e.why;
      l(item);
    }
    l(")");
    l("");
    c("IIS keys an entry by ipAddress, subnetMask and domainName; an entry written without "
      "subnetMask reads back with the default, 255.255.255.255.");
    l("function Get-EntryKey([string]$ip, [string]$mask) {");
    l("  if ([string]::IsNullOrEmpty($mask)) { $mask = '255.255.255.255' }");
    l("  return ($ip + '/' + $mask).ToLowerInvariant()");
    l("}");
    l("function Get-Entries {");
    l("  @(Get-WebConfiguration -PSPath $psPath -Location $location -Filter \"$section/add\")");
    l("}");
    l("function Remove-Entry($el) {");
    l("  if ($el.ipAddress) { $at = @{ ipAddress = $el.ipAddress; subnetMask = $el.subnetMask } "
      "} else { $at = @{ domainName = $el.domainName } }");
    l("  Remove-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section "
      "-Name '.' -AtElement $at");
    l("}");
    l("$wanted = @{}");
    l("foreach ($e in $entries) { $wanted[(Get-EntryKey $e.ipAddress $e.subnetMask)] = $true }");
    l("");
    c("4. A deny entry with the key of one of ours would make its add fail: remove it first "
      "(this only widens access).");
    l("foreach ($el in Get-Entries) {");
    l("  if (-not $el.allowed -and $wanted.ContainsKey((Get-EntryKey $el.ipAddress "
      "$el.subnetMask))) {");
    l("    Remove-Entry $el");
    l("  }");
    l("}");
    l("");
    c("5. The allow entries, FIRST.");
    l("$present = @{}");
    l("foreach ($el in Get-Entries) { $present[(Get-EntryKey $el.ipAddress $el.subnetMask)] = "
      "$true }");
    l("foreach ($e in $entries) {");
    l("  if ($present.ContainsKey((Get-EntryKey $e.ipAddress $e.subnetMask))) { continue }");
    l("  Add-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section "
      "-Name '.' -Value ($e + @{ allowed = $true })");
    l("  Write-Host \"allowed $($e.ipAddress) $($e.subnetMask)\"");
    l("}");
    l("");
    c("6. Entries the policy does not list (an old admin network, a hand-made exception) go.");
    l("foreach ($el in Get-Entries) {");
    l("  if ($el.allowed -and $wanted.ContainsKey((Get-EntryKey $el.ipAddress $el.subnetMask))) "
      "{ continue }");
    l("  Write-Host \"removed $($el.ipAddress) $($el.subnetMask) $($el.domainName) "
      "(allowed=$($el.allowed)): not in the policy\"");
    l("  Remove-Entry $el");
    l("}");
    l("");
    c("7. Every allow entry must be there before unlisted addresses are refused.");
    l("$have = @{}");
    l("foreach ($el in Get-Entries) {");
    l("  if ($el.allowed) { $have[(Get-EntryKey $el.ipAddress $el.subnetMask)] = $true }");
    l("}");
    l("foreach ($k in $wanted.Keys) {");
    l("  if (-not $have.ContainsKey($k)) {");
    l("    throw \"allow entry $k is missing under ${location}; allowUnlisted left as it was\"");
    l("  }");
    l("}");
    l("");
    c("8. The settings, then allowUnlisted=false LAST.");
    l("Set-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section "
      "-Name 'denyAction' -Value 'AbortRequest'");
    l(
        fmt::format("Set-WebConfigurationProperty -PSPath $psPath -Location $location -Filter "
                    "$section -Name 'enableProxyMode' -Value ${}",
                    bool_text(plan_.iis_proxy_mode)));
    l("Set-WebConfigurationProperty -PSPath $psPath -Location $location -Filter $section "
      "-Name 'allowUnlisted' -Value $false");
    l("");
    c("9. IIS applies applicationHost.config changes by itself; recycling the admin center's "
      "pool makes sure, without interrupting OWA, ActiveSync or Outlook (iisreset /noforce "
      "would, for every user).");
    l("Restart-WebAppPool -Name 'MSExchangeECPAppPool'");
    l("");
    c("10. Verification: the settings and the entries as IIS reads them.");
    l("Get-WebConfiguration -PSPath $psPath -Location $location -Filter $section | "
      "Format-List allowUnlisted, denyAction, enableProxyMode");
    l("Get-Entries | Format-Table ipAddress, subnetMask, allowed -AutoSize");
    c("Then by hand (README-ecp.txt, Verify): on this server https://localhost/ecp shows the "
      "sign-in page; from an admin network https://<server>/ecp does too; from any other "
      "address the connection is closed without a response.");
    return out;
  }

  // --------------------------------------------------------------------------------- appcmd
  std::string appcmd() const {
    std::string out;
    auto c = [&out](std::string_view text) { out += wrap_comment(cmd_text(text), "REM "); };
    auto l = [&out](std::string_view text) {
      out += text;
      out += '\n';
    };
    const std::string appcmd_exe = "\"%windir%\\system32\\inetsrv\\appcmd.exe\"";
    // The location path is a validated site name plus /ecp: no quote, no '%'.
    const std::string set_config = appcmd_exe + " set config \"" + location_ +
                                   "\" -section:system.webServer/security/ipSecurity";
    const std::string fail = " || exit /b 1";
    l("@echo off");
    c(title());
    c("Generated from " + one_line(plan_.policy_source) +
      " by mailwarden firewall generate, backend iis. Do not edit: change the policy and "
      "generate again.");
    c("The appcmd.exe equivalent of ecp-ipsecurity.ps1, for a FIRST application from an elevated "
      "Command Prompt on " +
      server_desc() +
      ". It stops at the first error: run again, it stops at the first entry already present. "
      "To re-apply after a policy change, use ecp-ipsecurity.ps1.");
    c("Order matters: every allow entry goes in before allowUnlisted becomes false, so that a "
      "failure half-way never locks the administrators out of /ecp. /commit:apphost, because "
      "ipSecurity is locked at server level.");
    l("setlocal");
    l("");
    l("echo Installing IP and Domain Restrictions (Web-IP-Security)");
    l("powershell.exe -NoProfile -Command \"Install-WindowsFeature -Name Web-IP-Security\"" + fail);
    l("");
    l("echo Saving applicationHost.config.mailwarden-ecp.bak");
    const std::string config = "%windir%\\system32\\inetsrv\\config\\applicationHost.config";
    l("if not exist \"" + config + ".mailwarden-ecp.bak\" copy \"" + config + "\" \"" + config +
      ".mailwarden-ecp.bak\"" + fail);
    l("");
    l("echo Allow entries first");
    std::string group;
    for (const AllowEntry& e : entries_) {
      if (e.why != group) {
        group = e.why;
        c(group_title(group));
      }
      std::string item = "ipAddress='" + e.ip_address + "'";
      if (!e.subnet_mask.empty()) item += ",subnetMask='" + e.subnet_mask + "'";
      l(set_config + " /+\"[" + item + ",allowed='True']\" /commit:apphost" + fail);
    }
    l("");
    l("echo Settings");
    l(set_config + " /denyAction:AbortRequest /commit:apphost" + fail);
    l(set_config + " /enableProxyMode:" + bool_text(plan_.iis_proxy_mode) + " /commit:apphost" +
      fail);
    l("");
    l("echo Last: refusing every address not listed");
    l(set_config + " /allowUnlisted:false /commit:apphost" + fail);
    l("");
    c("IIS applies the change by itself; recycling the admin center's pool makes sure without "
      "interrupting the other protocols.");
    l(appcmd_exe + " recycle apppool /apppool.name:MSExchangeECPAppPool");
    l("");
    l("echo The section as IIS reads it:");
    l(appcmd_exe + " list config \"" + location_ +
      "\" -section:system.webServer/security/ipSecurity");
    l("endlocal");
    return out;
  }

  // --------------------------------------------------------------------------------- README
  std::string readme() const {
    std::string out;
    auto para = [&out](std::string_view text) { out += wrap_comment(text, "  ", 96, 0); };
    auto item = [&out](std::string_view text) {
      std::string lines = wrap_comment(text, "    ", 96, 0);
      out += lines.replace(0, 4, "  - ");
    };
    auto head = [&out](std::string_view text) {
      out += '\n';
      out += text;
      out += '\n';
    };
    out += wrap_comment(title(), "", 96, 2);
    out += wrap_comment("Generated from " + one_line(plan_.policy_source) +
                            " by `mailwarden firewall generate --backend iis`. Do not edit: "
                            "change the policy and generate again.",
                        "", 96, 0);

    head("What is restricted");
    para("Only " + location_ +
         ", where the Exchange admin center (EAC) lives: OWA, ActiveSync, EWS, MAPI, "
         "Autodiscover and the other virtual directories on 443 stay open to everyone. IIS "
         "allows these sources and refuses every other (allowUnlisted=false), aborting the "
         "connection without an HTTP response (denyAction=AbortRequest):");
    for (const AllowEntry& e : entries_) {
      item(fmt::format("{} ({})", to_string(e.prefix), e.why));
    }
    para(fmt::format("enableProxyMode={}: {}", bool_text(plan_.iis_proxy_mode),
                     plan_.iis_proxy_mode
                         ? "a load balancer or reverse proxy is in front; IIS also checks the "
                           "addresses of X-Forwarded-For (caveats below)."
                         : "no load balancer in front; IIS checks the connecting address only."));
    para(
        "Loopback is listed so that the EAC works on the server itself. The Exchange servers' "
        "own addresses are listed because a server that opens /ecp through its own name or "
        "address arrives from that address, not from loopback, and an administrator signed in "
        "on one server may open the EAC of another.");
    for (const auto& w : warnings()) item("WARNING: " + w);

    head("Files");
    item(
        "ecp-ipsecurity.ps1: applies the restriction (elevated Windows PowerShell, "
        "WebAdministration module). Idempotent: run it again after every policy change.");
    item(
        "ecp-ipsecurity.cmd: the same with appcmd.exe, for a first application; it stops at the "
        "first error, so a second run stops at the first entry already present.");
    item(
        "ecp-ipsecurity.xml: the resulting <location> section of applicationHost.config, to "
        "review and to compare with what IIS reports.");
    para(
        "Both scripts put every allow entry in before they set allowUnlisted=false (the "
        "PowerShell script also checks that they are all there first): a failure half-way "
        "leaves /ecp open as before, never closed to its administrators. The PowerShell script "
        "saves the IIS configuration first (Backup-WebConfiguration; it prints the name to give "
        "Restore-WebConfiguration to undo), the appcmd script copies applicationHost.config to "
        "applicationHost.config.mailwarden-ecp.bak.");

    head("Verify");
    item("Get-WebConfiguration -PSPath 'MACHINE/WEBROOT/APPHOST' -Location " +
         iis::ps_single_quoted(location_) +
         " -Filter 'system.webServer/security/ipSecurity/add' lists exactly the entries above, "
         "and the section shows allowUnlisted False, denyAction AbortRequest, enableProxyMode " +
         (plan_.iis_proxy_mode ? std::string("True") : std::string("False")) +
         " (the PowerShell script prints both at the end).");
    item(
        "On the server: https://localhost/ecp shows the EAC sign-in page (a certificate warning "
        "for the name localhost is expected).");
    item("From an admin network: https://<server or published name>/ecp shows the sign-in page.");
    item(
        "From any other address (a phone on mobile data will do): the same URL gets no HTTP "
        "response, the connection is closed (curl: \"Empty reply from server\" or \"Connection "
        "reset\"), while /owa still works. If /ecp answers there, check that the IP and Domain "
        "Restrictions role service is installed (Get-WindowsFeature Web-IP-Security): Microsoft's "
        "reference says IP security needs it.");

    head("Caveats");
    item(
        "Outside users also lose the Outlook on the web options pages that /ecp serves "
        "(Settings > Options): from outside the allowed sources those requests are refused like "
        "the EAC's. Users on the admin networks are not affected.");
    item(
        "The alternative Microsoft documents for Internet-facing servers: "
        "Set-EcpVirtualDirectory -Identity \"<Server>\\ecp (Default Web Site)\" -AdminEnabled "
        "$false turns the EAC off on that server while OWA's options keep working; the "
        "administrators then use the EAC of a second, internal-only Exchange server, or of a "
        "second web site with its own EAC and OWA virtual directories reachable from the "
        "internal network only (\"Turn off access to the Exchange admin center\", Microsoft "
        "Learn). Choose one of the two approaches per server.");
    if (plan_.iis_proxy_mode) {
      item(
          "Load balancer: with enableProxyMode IIS trusts X-Forwarded-For. The load balancer "
          "must set that header itself and overwrite any value the client sent; a balancer that "
          "passes or appends a client's header lets anyone claim an admin address.");
      item(
          "Microsoft describes proxy mode as blocking by the connecting address as well as by "
          "the addresses in X-Forwarded-For. If the load balancer connects from its own "
          "address (source NAT), that address is not in the list above; test /ecp through the "
          "balancer from an admin network before relying on it, and add the balancer's "
          "address to the policy's admin networks only if IIS refuses it.");
    }
    item(
        "A load balancer that probes /ecp/healthcheck.htm does so from its own address: once "
        "/ecp is restricted the probes are aborted and the balancer marks the EAC down. Probe "
        "another virtual directory (/owa/healthcheck.htm) or allow the balancer's address.");
    item(
        "IPv6: Microsoft's ipSecurity reference documents IPv4 only (ipAddress is \"the IP "
        "version 4 address\", subnetMask a dotted mask). IPv6 entries follow the form that "
        "third-party material reports for the \"Mask or Prefix\" field of IIS Manager: an "
        "address alone for one host, or the network's first address with the prefix length as "
        "subnetMask (ipAddress=\"2001:db8::\" subnetMask=\"48\"). No Microsoft document read "
        "for this backend states that form: check the entries with Get-WebConfiguration and "
        "test from an IPv6 admin host before relying on IPv6 access.");
    item(
        "This is not a network firewall: it restricts one URL path of one web site. The ports "
        "below are for Windows Firewall (or the network's firewall), which this backend does "
        "not configure. The Exchange Back End site (81, 444) also serves /ecp and is not "
        "restricted here: keep its ports closed to all but the Exchange servers, as below.");

    head("Windows Firewall: the work left to do");
    para("What the plan asks for on " + server_desc() +
         " (nothing below is applied by the iis "
         "backend):");
    auto cls = [&](Exposure e, const std::string& who) {
      std::string list = openings_of(plan_, e);
      if (!list.empty()) item(who + ": " + list);
    };
    cls(Exposure::public_, "open to everyone");
    cls(Exposure::admin, "admin networks only (" + plan_.admin.to_string() + ")");
    cls(Exposure::cluster,
        "the other Exchange servers only (cluster: " + plan_.cluster.to_string() + ")");
    if (!plan_.closed.empty()) {
      std::vector<std::string> closed;
      for (const auto& cp : plan_.closed) {
        closed.push_back(
            fmt::format("{}/{} {} ({})", cp.port, protocol_name(cp.protocol), cp.service, cp.why));
      }
      item("closed to every other host: " + join(closed, "; "));
    }
    item(
        "everything else: refused (Windows Firewall's inbound default is block; check that no "
        "broader allow rule opens these ports anyway).");
    for (const auto& note : plan_.notes) item("NOTE: " + one_line(note));

    head("Not covered");
    item(
        "Running on a real IIS: these files were generated and checked for well-formedness, not "
        "applied to an Exchange server by mailwarden's tests.");
    item(
        "Exchange's remote PowerShell (/PowerShell on 80, Kerberos) and the other virtual "
        "directories are not restricted; authentication, MFA and Exchange's own role-based "
        "access are left as they are.");
    return out;
  }

  std::vector<std::string> warnings() const {
    std::vector<std::string> w;
    if (plan_.admin.empty()) {
      w.push_back(
          "the policy lists no admin networks: /ecp is reachable from the servers "
          "themselves only.");
    }
    for (Family f : {Family::v4, Family::v6}) {
      if (plan_.admin.is_any(f)) {
        w.push_back(
            fmt::format("the admin networks include every {} address: for {} the "
                        "restriction restricts nothing.",
                        family_name(f), family_name(f)));
      }
    }
    if (plan_.server_addresses.empty()) {
      w.push_back(
          "the policy gives no server addresses ([host] ipv4/ipv6 or [[node]] "
          "addresses): the server reaching its own /ecp through its public address "
          "will be refused.");
    }
    return w;
  }

  const FirewallPlan& plan_;
  std::string location_;
  std::vector<AllowEntry> entries_;
};

}  // namespace

Result<std::vector<Artefact>> render_iis(const FirewallPlan& plan) {
  if (plan.product != "exchange") {
    return Error{fmt::format(
        "{}: --backend iis is for Exchange (it restricts the admin center, /ecp, in IIS); this "
        "policy's product is '{}': use a Linux firewall backend (nft, iptables, ip6tables, ufw, "
        "firewalld)",
        plan.policy_source, plan.product)};
  }
  if (!iis::is_site_name(plan.iis_site)) {
    return Error{fmt::format(
        "{}: iis.site: '{}' is not an IIS site name (letters, digits, ' ', '-', '_', '.')",
        plan.policy_source, one_line(plan.iis_site))};
  }
  return IisWriter(plan).render();
}

}  // namespace mw
