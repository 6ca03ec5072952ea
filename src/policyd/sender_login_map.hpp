// Anti-spoofing data: which SASL logins own which envelope sender addresses, read from the
// source file of a Postfix smtpd_sender_login_maps table (the text that postmap(1) indexes).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace mw::policyd {

// Postfix table source format (postmap(1) "INPUT FILE FORMAT"): "key whitespace value";
// '#' comment lines and blank lines are ignored; a line starting with whitespace continues
// the previous logical line; whitespace inside double quotes belongs to the key (Postfix 3.2+),
// the quotes are part of it as postmap stores them. Keys are lower-cased (hash: tables fold case).
// A value lists owners (SASL login names) separated by commas and/or whitespace.
//
// Lookup order (postconf(5) smtpd_sender_login_maps, for indexed files), first entry found
// wins, as in Postfix:
//   1. user+ext@domain  (the address as sent)
//   2. user@domain      (only with a recipient delimiter, when the address had an extension)
//   3. @domain
// Postfix's bare "user" lookup (done only for the local domains $myorigin, $mydestination...)
// is not done: the policy service does not know those domains.
class SenderLoginMap {
 public:
  SenderLoginMap() = default;

  // `recipient_delimiter`: Postfix's recipient_delimiter, a set of characters any of which
  // separates the localpart from its extension ("+" or "+-"). Empty (the default, as in
  // Postfix): no extension handling, "user+ext@domain" is looked up only as itself and as
  // "@domain".
  static Result<SenderLoginMap> load(const std::filesystem::path& file,
                                     std::string_view recipient_delimiter = {});
  // Errors name `name` and the line: "sender_login_maps:3: 'alice@example.com': no value".
  static Result<SenderLoginMap> parse(std::string_view text, std::string_view name,
                                      std::string_view recipient_delimiter = {});

  // Whether `login` (a sasl_username) may use the envelope sender `sender`: equal (case-
  // insensitive), or listed as an owner of the first entry found in the lookup order above,
  // or (no entry found, delimiter set) equal once the extension is removed.
  // The null sender (empty) is always allowed: bounces are not spoofing.
  bool owns(std::string_view login, std::string_view sender) const;

  // The owners of the first entry found for `sender`, or nullptr when none matches.
  const std::vector<std::string>* owners(std::string_view sender) const;

  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::string>> entries_;
  std::string delimiter_;
};

}  // namespace mw::policyd
