// Zimbra's attribute table (attrs.tsv, from zimbra-attrs.xml) and localconfig key table
// (localconfig-keys.tsv, from LC.java), plus the value syntaxes checks need.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

enum class Cardinality { single, multi };

// Object classes an attribute may appear on (from requiredIn + optionalIn), as bits.
enum AttrHolder : std::uint32_t {
  kHolderAccount = 1u << 0,
  kHolderCos = 1u << 1,
  kHolderDomain = 1u << 2,
  kHolderServer = 1u << 3,
  kHolderGlobalConfig = 1u << 4,
};

struct AttrInfo {
  std::string name;
  std::string id;
  std::string type;  // boolean, integer, long, duration, enum, string, astring, ostring, port...
  Cardinality cardinality = Cardinality::single;
  std::vector<std::string> required_in, optional_in;  // every class, as listed
  std::uint32_t holders = 0;                          // AttrHolder bits
  std::vector<std::string> flags;                     // as listed
  bool server_inherited = false;   // gs shows the global value unless the server sets one
  bool domain_inherited = false;   // gd shows the global value unless the domain sets one
  bool account_inherited = false;  // an account inherits the COS value
  bool account_cos_domain_inherited = false;  // account, then COS, then domain
  // Defaults the installer loads: globalConfigValue and defaultCOSValue (several values of a
  // multi-valued attribute, split on " | "). Empty when none.
  std::vector<std::string> global_config_value, default_cos_value;
  std::vector<std::string> enum_values;  // type enum: the allowed values
  std::string regex;                     // type regex: the pattern
  // As written: numbers, durations ("30d") for durations; for string types max is the length.
  std::optional<std::string> min, max;
  std::string since, deprecated_since;
  std::string description;  // first sentence
  bool immutable = false;
  std::vector<std::string> requires_restart;  // services to restart after a change: "mta"

  bool may_appear_on(AttrHolder h) const { return (holders & h) != 0; }
  bool deprecated() const { return !deprecated_since.empty(); }
};

class AttrTable {
 public:
  // By exact name; falls back to a case-insensitive match (LDAP names are case-insensitive).
  const AttrInfo* find(std::string_view name) const;
  const std::vector<AttrInfo>& all() const { return attrs_; }
  std::size_t size() const { return attrs_.size(); }

 private:
  friend Result<AttrTable> parse_attrs_tsv(std::string_view, std::string_view);
  std::vector<AttrInfo> attrs_;
  std::unordered_map<std::string, std::size_t> by_name_;   // exact
  std::unordered_map<std::string, std::size_t> by_lower_;  // lower-cased
};

// attrs.tsv: a header row naming the columns (name, id, type, cardinality, requiredIn,
// optionalIn, flags, globalConfigValue, defaultCOSValue, since, deprecatedSince, description,
// enumOrRegexValue, min, max, immutable, requiresRestart, ... in any order; unknown columns are
// ignored), then one row per attribute. In text fields "\\" is a backslash and "\n" a newline.
// Errors: a missing column, a row with another number of cells, a duplicate or empty name, an
// unknown cardinality.
Result<AttrTable> parse_attrs_tsv(std::string_view text, std::string_view source);
// Reads the file (normally catalog/zimbra/attrs.tsv) and parses it.
Result<AttrTable> load_attrs_tsv(const std::string& path);

struct LocalconfigKey {
  std::string name;
  std::optional<std::string> default_value;  // nullopt for "(null)": zmlocalconfig omits it
  bool secret = false;                       // the value is a credential
  bool masked_without_s = false;             // name contains "password": printed as '*' without -s
  bool protected_key = false;                // .protect()
  bool supported = false;                    // @Supported
};

class LocalconfigKeyTable {
 public:
  const LocalconfigKey* find(std::string_view name) const;
  const std::vector<LocalconfigKey>& all() const { return keys_; }
  std::size_t size() const { return keys_.size(); }

 private:
  friend Result<LocalconfigKeyTable> parse_localconfig_keys_tsv(std::string_view, std::string_view);
  std::vector<LocalconfigKey> keys_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

// localconfig-keys.tsv: header row with name, default, secret, masked_without_s, protected,
// supported (yes/no), then one row per key. Same escapes as attrs.tsv.
Result<LocalconfigKeyTable> parse_localconfig_keys_tsv(std::string_view text,
                                                       std::string_view source);
Result<LocalconfigKeyTable> load_localconfig_keys_tsv(const std::string& path);

// ---- value syntaxes ----

// A Zimbra duration (DateUtil.getTimeInterval, the syntax of attributes of type duration):
// digits with an optional unit d, h, m, s or ms; a bare number is SECONDS ("0" = 0). Units are
// lower case, no sign, no blanks, no fraction. Overflow past about 292 million years is an
// error. Errors name the text.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// TRUE / FALSE as Zimbra stores booleans; any case is accepted, as Zimbra's Boolean parsing does.
Result<bool> parse_zimbra_bool(std::string_view text);

// A decimal integer (optional '-'); when `attr` has min/max, the value must lie within them.
Result<std::int64_t> parse_zimbra_integer(std::string_view text, const AttrInfo* attr = nullptr);

// Checks `value` against the attribute's type: boolean, integer/long/port (with bounds),
// duration (with bounds: a bound with a unit is a duration, a bare number is milliseconds, as
// the shipped defaults require: zimbraIndexPollingInterval has min 100 and default 500ms), enum
// (one of the values, exact case), and for string types the maximum length in bytes. Other types
// accept any value. Errors name the attribute and the value.
Status check_attr_value(const AttrInfo& attr, std::string_view value);

}  // namespace mw::audit
