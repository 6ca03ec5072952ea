// Parses package listings: `dpkg -l` and `rpm -qa`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

struct Package {
  std::string name;         // without the ":arch" qualifier
  std::string version;      // dpkg: "1:8.9p1-3ubuntu0.10"; rpm: "8.7p1-34.el9" (version-release)
  std::string arch;         // "amd64", "x86_64", "all", "noarch"; may be empty (rpm gpg-pubkey)
  std::string description;  // dpkg only (truncated by dpkg to the column width)
  // dpkg's three status letters: desired (u i h r p), status (n c H U F W t i), error (' ' or
  // R); "ii " for an installed package. rpm -qa lists installed packages only: "ii ".
  char desired = 'u', status = 'n', error = ' ';
  std::size_t line = 0;

  // Installed and configured: status i, or W / t (installed, triggers awaited / pending).
  // "rc" (removed, configuration files left) is not installed.
  bool installed() const { return status == 'i' || status == 'W' || status == 't'; }
};

struct PackageList {
  std::vector<Package> packages;  // in file order
  // The first package called `name` (":arch" ignored), or nullptr.
  const Package* find(std::string_view name) const;
  // True when some package called `name` is installed (see Package::installed).
  bool installed(std::string_view name) const;
};

// `dpkg -l [patterns]`: the header lines ("Desired=...", "| Status=...", "|/ Err?=...",
// "||/ Name Version Architecture Description", "+++-===...") are skipped; each package line is
// "SSE name[:arch] version arch description" split at blanks (older dpkg without an
// Architecture column is recognised by its header). Lines like "dpkg-query: no packages found
// matching pax" (stderr mixed in) are skipped. Errors: an unknown status letter, missing
// columns.
Result<PackageList> parse_dpkg_l(std::string_view text, std::string_view source);

// `rpm -qa`: one "name-version-release.arch" per line ("gpg-pubkey-<v>-<r>" has no arch).
// Errors: a line with blanks or fewer than two '-'.
Result<PackageList> parse_rpm_qa(std::string_view text, std::string_view source);

}  // namespace mw::audit
