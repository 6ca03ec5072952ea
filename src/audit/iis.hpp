// IIS's applicationHost.config, the Exchange half of the audit: the sites, the IP and Domain
// Restrictions module, every <ipSecurity> and <modules> element as written, and the effective
// ipSecurity of one path ("Default Web Site/ecp") under IIS's configuration merge rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address_set.hpp"
#include "core/ip.hpp"
#include "core/result.hpp"

namespace mw::audit {

// applicationHost.config of an Exchange server is a few hundred kilobytes; anything beyond
// this is refused unread.
inline constexpr std::size_t kIisMaxBytes = std::size_t{16} << 20;
// Exchange's front-end site (where clients and the EAC arrive, 80/443) and its back-end site
// (81/444, reached by the front ends only).
inline constexpr std::string_view kIisFrontEndSite = "Default Web Site";
inline constexpr std::string_view kIisBackEndSite = "Exchange Back End";
// The native module that enforces ipSecurity ("IP and Domain Restrictions" role service).
inline constexpr std::string_view kIisRestrictionModule = "IpRestrictionModule";

// overrideMode of a <location> (allowOverride="true"/"false" is the older spelling of
// Allow/Deny), or overrideModeDefault of a section declaration.
enum class IisOverride : std::uint8_t { inherit, allow, deny };
std::string_view iis_override_name(IisOverride o);  // "Inherit", "Allow", "Deny"

struct IisBinding {
  std::string protocol;     // "https"
  std::string information;  // "*:443:"
};

struct IisSite {
  std::string name;  // "Default Web Site"
  std::string id;
  std::vector<IisBinding> bindings;
  std::vector<std::string> applications;  // application paths: "/", "/owa", "/ecp"
  std::size_t line = 0;
};

// Where an element is written: outside any <location> (path "", line 0) or in one.
struct IisLevel {
  std::string path;  // the location path, trimmed of '/' at both ends; "" and "." = server level
  IisOverride override_mode = IisOverride::inherit;
  bool inherit_in_child_applications = true;
  std::size_t line = 0;  // of the <location>
};

// The lock attributes any element may carry ("General Attributes Inherited by IIS
// Configuration"): they stop the web.config files below from changing what they name.
struct IisLocks {
  bool lock_item = false;
  std::vector<std::string> attributes;                            // lockAttributes ("*": all)
  std::vector<std::string> elements;                              // lockElements ("*": all)
  std::optional<std::vector<std::string>> all_attributes_except;  // lockAllAttributesExcept
  std::optional<std::vector<std::string>> all_elements_except;    // lockAllElementsExcept
  bool attribute_locked(std::string_view name) const;
  bool element_locked(std::string_view name) const;
};

// One directive of the ipSecurity collection.
struct IisIpEntry {
  enum class Op : std::uint8_t { add, remove, clear };
  Op op = Op::add;
  // ipAddress with subnetMask (IPv4: a dotted mask or a prefix length, default
  // 255.255.255.255; IPv6: a prefix length, default 128). nullopt for a domainName entry and a
  // <clear/>.
  std::optional<Prefix> prefix;
  std::string ip_address, subnet_mask, domain_name;  // as written
  bool allowed = false;                              // <add allowed="true">
  std::string key;  // the collection key (address as written, mask, domain): duplicates clash
  std::size_t line = 0;
  // "10.0.0.0/8", "*.example.org" (domain), or "clear".
  std::string describe() const;
};

// One <ipSecurity> element as written.
struct IisIpSecurity {
  IisLevel level;
  std::size_t line = 0;
  std::optional<bool> allow_unlisted, enable_proxy_mode, enable_reverse_dns;
  std::optional<std::string>
      deny_action;            // "AbortRequest", "Unauthorized", "Forbidden", "NotFound"
  std::string config_source;  // configSource: the content lives in another file
  IisLocks locks;
  std::vector<IisIpEntry> entries;  // add, remove and clear in file order
};

// One directive of <modules> (enabling native and managed modules per path).
struct IisModuleEntry {
  IisIpEntry::Op op = IisIpEntry::Op::add;
  std::string name;
  bool lock_item = false;
  std::size_t line = 0;
};

struct IisModules {
  IisLevel level;
  std::size_t line = 0;
  std::string config_source;
  IisLocks locks;
  std::vector<IisModuleEntry> entries;
};

// A section declared in <configSections>.
struct IisSectionDecl {
  std::string name;                                   // "system.webServer/security/ipSecurity"
  IisOverride override_default = IisOverride::allow;  // overrideModeDefault; absent: Allow
  std::size_t line = 0;
};

struct IisConfig {
  std::string source;  // the file name origins use: "applicationHost.config"
  std::vector<IisSite> sites;
  std::vector<IisSectionDecl> sections;
  // <globalModules>: the IpRestrictionModule's entry; line 0 when it is not installed.
  std::size_t restriction_module_line = 0;
  std::string restriction_module_image;
  std::vector<IisIpSecurity> ip_security;  // file order
  std::vector<IisModules> modules;         // file order

  const IisSite* site(std::string_view name) const;  // case-insensitive, as IIS compares
  const IisSectionDecl* section(std::string_view name) const;
};

// What IIS enforces at one path, and what the web.config files there may still change.
struct IisEffective {
  std::string path;                     // "Default Web Site/ecp" (as asked)
  std::vector<std::size_t> elements;    // lines of the <ipSecurity> elements merged, in order
  bool allow_unlisted = true;           // IIS's defaults until an element sets them
  std::size_t allow_unlisted_line = 0;  // 0: the default
  bool enable_proxy_mode = false;
  std::size_t enable_proxy_mode_line = 0;
  std::string deny_action = "Forbidden";
  std::size_t deny_action_line = 0;
  bool enable_reverse_dns = false;
  std::vector<IisIpEntry> entries;  // the <add>s left after every add/remove/clear, in order
  // Every address IIS lets through by the section alone: the first entry that matches decides
  // (rules are processed top to bottom), then allowUnlisted. Domain entries are not in it.
  AddressSet allowed;

  // The module: installed in <globalModules> and enabled at this path by <modules>.
  bool module_installed = false;
  std::size_t module_installed_line = 0;
  bool module_enabled = false;
  std::size_t module_line = 0;  // the <add> that enables it, or the <remove>/<clear> that ends it
  bool module_entry_locked = false;  // that <add> has lockItem="true", or <modules> is locked here

  // Whether web.config files at this path may change ipSecurity: the overrideMode of the most
  // specific <location> on the path that holds an <ipSecurity>, else overrideModeDefault.
  IisOverride lower_files = IisOverride::allow;
  std::string lower_files_from;  // "overrideModeDefault (line 40)", "location 'X' (line 200)"
  bool section_declared = false;
  // What a web.config may still change although the section may be overridden: among
  // allowUnlisted, enableProxyMode, add, remove, clear, those no lock attribute covers.
  std::vector<std::string> open_to_web_config;

  // Set when the section's content is elsewhere (configSource): nothing above can be trusted.
  std::string unreadable;
  std::vector<std::string> notes;  // merge details worth a reader's attention

  // IIS applies the section: the module is installed and enabled.
  bool enforced() const { return module_installed && module_enabled; }
  // A web.config below cannot change ipSecurity at this path.
  bool locked() const { return lower_files == IisOverride::deny || open_to_web_config.empty(); }
};

// Parses applicationHost.config (UTF-8, as IIS writes it). `name` prefixes errors
// ("name:line:column: ...") and becomes IisConfig::source. Malformed XML, a value IIS would
// refuse (boolean, denyAction, address, mask), a duplicate collection key within one element or
// an input over kIisMaxBytes is an Error; nothing is evaluated.
Result<IisConfig> parse_iis_config(std::string_view text, std::string_view name);
// Reads and parses the file; IisConfig::source is its file name.
Result<IisConfig> load_iis_config(const std::filesystem::path& path);

// The effective ipSecurity at `path` ("Default Web Site/ecp"): server level first (outside any
// <location>, or path "" or "."), then every <location> whose path is a prefix of `path`,
// segment by segment and case-insensitively, most general first. A more specific level wins
// for attributes; the collection inherits the parent's entries and applies each level's
// <clear/>, <remove> and <add> in order. A <location inheritInChildApplications="false"> does not
// reach into an application below it (/ecp is one). An <add> whose key is already in the
// collection is an Error, as IIS refuses it.
Result<IisEffective> effective_ip_security(const IisConfig& config, std::string_view path);

// The location paths strictly below `path` that write ipSecurity or modules (a sub-directory of
// /ecp may re-open it), without duplicates: those of ipSecurity in file order, then of modules.
std::vector<std::string> iis_paths_below(const IisConfig& config, std::string_view path);

}  // namespace mw::audit
