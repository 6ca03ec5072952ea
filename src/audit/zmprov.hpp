// Parses zmprov listings (gacf, gs, gc, gd, ga, gac -v, gaaa -v) and name lists (gad, gas).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

// One value of one attribute, as zmprov printed it.
struct ZmprovValue {
  std::string value;          // raw text (several lines joined by '\n'), or the decoded bytes
  bool base64 = false;        // printed as "name:: <base64>" (binary attributes only)
  std::size_t line = 0;       // the "name: value" line
  std::size_t last_line = 0;  // the last line of a multi-line value (== line otherwise)
};

// One object (the global config, a server, a COS, a domain, an account).
struct ZmprovEntry {
  std::string name;      // from "# name X"; empty for gacf, which prints no header
  std::size_t line = 0;  // the header line, or the first attribute line
  // Attribute -> its values in output order. zmprov repeats the name once per value of a
  // multi-valued attribute. Names are as printed (zmprov prints the canonical spelling);
  // lookups are exact.
  std::map<std::string, std::vector<ZmprovValue>, std::less<>> attrs;

  bool has(std::string_view attr) const { return attrs.find(attr) != attrs.end(); }
  // Every value of `attr` in output order; empty when the attribute is absent.
  std::vector<std::string_view> values(std::string_view attr) const;
  // The first value, or nullopt when absent (an absent attribute has its default: see attrs.hpp).
  std::optional<std::string_view> first(std::string_view attr) const;
  // The full record of the first value (origin line, base64 or not), or nullptr.
  const ZmprovValue* find(std::string_view attr) const;
};

struct ZmprovOutput {
  std::vector<ZmprovEntry> entries;  // in file order; gacf gives exactly one, unnamed
  const ZmprovEntry* find(std::string_view name) const;  // by "# name", exact
};

// Parses the output of zmprov's dumpAttrs (ProvUtil.java): gacf (no header), gs/gc/gd/ga
// ("# name X" header, a blank line after each entry), and -v listings (several entries).
// Line rules, in this order:
//  - inside a value that opened a PEM block ("-----BEGIN ..."), every line up to and including
//    "-----END ..." belongs to that value, even one that looks like "Name: value" (PEM headers
//    such as "Proc-Type: 4,ENCRYPTED") or a blank line;
//  - after "name:: <base64>", lines of base64 characters continue it while each previous chunk
//    was 76 characters long (Java's MIME wrapping, CR LF line ends); the value is decoded;
//  - "# name X" starts an entry; "attr: value" (or "attr:: base64") starts a value;
//  - any other line continues the previous raw value (values with newlines are printed raw),
//    blank lines between it and the previous line included; blank lines before the next
//    attribute, header or the end separate entries and are dropped.
// A trailing CR is removed from every line. Errors: "source:line:column: ...", e.g. text before
// the first attribute, an empty "# name", invalid base64.
Result<ZmprovOutput> parse_zmprov(std::string_view text, std::string_view source);

// One name of a plain listing (`zmprov gad`, `zmprov gas`: one name per line).
struct ZmprovListedName {
  std::string name;
  std::size_t line = 0;
};
// Blank lines are skipped and surrounding blanks trimmed; a line with blanks inside is an error.
Result<std::vector<ZmprovListedName>> parse_zmprov_list(std::string_view text,
                                                        std::string_view source);

// ---- lower level: what each line is (shared with the redactor, which must agree with the
// parser about which lines belong to which attribute) ----
enum class ZmprovLineKind { header, blank, attribute, continuation, other };
struct ZmprovLineInfo {
  ZmprovLineKind kind = ZmprovLineKind::other;
  std::string_view attr;      // attribute / continuation: the attribute the line belongs to
  std::size_t value_col = 0;  // attribute: 0-based offset of the value in the line
  bool base64 = false;        // attribute / continuation: part of a "name:: " value
};
// One entry per line of `text` (same numbering as the parser: line i+1).
std::vector<ZmprovLineInfo> classify_zmprov_lines(std::string_view text);

// Standard base64 (RFC 4648 alphabet, '=' padding). nullopt on any other character or bad
// padding.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace mw::audit
