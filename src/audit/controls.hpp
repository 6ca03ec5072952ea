// The audit's controls as data: catalog/controls/*.toml, one [[control]] each. A control says
// what the guides demand (id, title, severity, guides, rationale), which facts it reads, the
// condition, and the remediation commands to paste. Generic checks (an attribute at a Zimbra
// level, a localconfig key, a Postfix parameter, an sshd keyword, a package) are evaluated by
// the engine from the data alone; the few that need logic name a `custom` check in C++.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

enum class Severity : std::uint8_t { critical, high, medium, low, info };
std::string_view severity_name(Severity s);
// Weight in the score: critical 10, high 5, medium 3, low 1, info 0.
int severity_weight(Severity s);

// Where a Zimbra attribute is read. The effective value: the object's own value, else the
// inherited one (server and domain inherit the global config's, as `gs`/`gd` already print),
// else the attribute's default from attrs.tsv (COS default at cos/admin level, global config
// value at global/server/domain level).
enum class Level : std::uint8_t { global, server, cos, domain, admin };
std::string_view level_name(Level l);

// How a value is compared. Numbers are integers; durations are Zimbra durations ("1h", "30m",
// "2d"; a bare number is in the attribute's own unit); strings compare exactly except booleans
// (TRUE/FALSE, yes/no), which compare case-insensitively.
enum class Op : std::uint8_t {
  eq,            // value == expected
  ne,            // value != expected
  ge,            // number >= expected
  le,            // number <= expected
  between,       // min <= number <= max
  duration_ge,   // duration >= expected
  duration_le,   // duration <= expected
  contains,      // some value (or word of a list value) equals expected
  not_contains,  // no value (or word) equals expected
  empty,         // no value at all (or only empty strings)
  not_empty,     // at least one non-empty value
  in,            // every value is one of `values`
};

enum class CheckKind : std::uint8_t { attr, localconfig, postconf, sshd, package, custom };

struct Check {
  CheckKind kind = CheckKind::attr;
  Level level = Level::global;  // attr
  std::string name;             // attribute, key, parameter, keyword, package or custom check
  Op op = Op::eq;
  std::string expected;                  // eq, ne, ge, le, duration_*, contains, not_contains
  std::vector<std::string> values;       // in
  std::optional<std::int64_t> min, max;  // between
  bool installed = true;                 // package: must be (or must not be) installed
  // Durations and numbers: 0 means "never" / "off" / "forever" (zimbraPasswordLockoutDuration
  // 0 = locked until an admin unlocks, zimbraMailIdleSessionTimeout 0 = no timeout): compare it
  // as infinite.
  bool zero_is_infinite = false;
};

// Which product's facts a control reads: a Zimbra snapshot (--snapshot) or an Exchange server's
// IIS configuration (--iis-config). The command runs a scope's controls only when its facts
// were given.
enum class Scope : std::uint8_t { zimbra, exchange };
std::string_view scope_name(Scope s);  // "zimbra", "exchange"

// When a control applies; otherwise it is not_applicable with `reason`.
struct Applicability {
  std::optional<std::string> topology;  // "single" or "multi"
  std::optional<std::string> edition;   // "network": not on the Open Source edition
};

struct Control {
  std::string id;  // "zimbra.password.min-length"
  std::string title;
  Scope scope = Scope::zimbra;  // `scope`; "zimbra" when absent
  Severity severity = Severity::medium;
  std::vector<std::string> guides;  // which guide(s) demand it, with the section
  std::string rationale;            // one or two sentences
  std::string notes;                // where the guides are wrong, and what is followed instead
  Check check;
  Applicability applies;
  // Commands to paste, one per line. Placeholders: {object} (the failing COS, domain, server,
  // account), {value} (the value to set, = `fix_value`).
  std::string remediation;
  std::string fix_value;
  std::string origin;  // "catalog/controls/accounts.toml:12"
};

// Loads every *.toml of `dir` (sorted by name) into one list; ids must be unique. Errors name
// file:line:column and the field.
Result<std::vector<Control>> load_controls(const std::filesystem::path& dir);
// One file's controls (for tests and tools).
Result<std::vector<Control>> parse_controls(std::string_view text, std::string_view source);

}  // namespace mw::audit
