// The DNS blacklists as data: catalog/dnsbl.toml (or a --lists file), checked at load, errors
// naming file:line:column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/result.hpp"

namespace mw::dnsbl {

enum class CodeClass : std::uint8_t { listed, refused };
enum class ListStatus : std::uint8_t { active, closed, folded };
enum class UsagePolicy : std::uint8_t { free, free_low_volume, registration, paid, closed };

std::string_view name_of(CodeClass c);
std::string_view name_of(ListStatus s);
std::string_view name_of(UsagePolicy p);

// One A answer value or an inclusive range of them (IPv4, host order).
struct ReturnCode {
  std::uint32_t first = 0, last = 0;
  CodeClass cls = CodeClass::listed;
  std::string meaning;
};

struct DnsblList {
  std::string id, name, zone;
  bool ipv4 = true, ipv6 = false;
  ListStatus status = ListStatus::active;
  UsagePolicy policy = UsagePolicy::free;
  std::string policy_note, delist_url;
  bool enabled_by_default = true;
  double rate = 0;  // queries per second, 0 = unlimited
  std::optional<Address> test_ipv4, test_ipv6;
  std::vector<ReturnCode> codes;

  bool supports(Family f) const { return f == Family::v4 ? ipv4 : ipv6; }
  // The catalog entry for an answer, or nullptr when the list did not document it.
  const ReturnCode* code_for(std::uint32_t answer) const;
};

struct DnsblCatalog {
  std::vector<DnsblList> lists;
  std::string location;
  const DnsblList* find(std::string_view id) const;
};

inline constexpr std::uintmax_t kMaxDnsblCatalogBytes = 256 * 1024;

Result<DnsblCatalog> parse_dnsbl_catalog(std::string_view text, std::string_view name);
Result<DnsblCatalog> load_dnsbl_catalog(const std::filesystem::path& file);
// catalog_dir()/dnsbl.toml
Result<DnsblCatalog> load_default_dnsbl_catalog();

}  // namespace mw::dnsbl
