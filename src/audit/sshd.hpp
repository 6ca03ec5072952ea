// Parses `sshd -T` output and the raw sshd_config (with Include and Match blocks).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

// Where a value was read: "sshd_config.d/50-cloud.conf:3".
struct SshdOrigin {
  std::string file;
  std::size_t line = 0;
  std::string to_string() const;
};

// ---- sshd -T: the effective configuration, lower-case keywords ----
struct SshdValue {
  std::string value;  // everything after the keyword, as printed
  SshdOrigin origin;
};

struct SshdEffective {
  // Keyword (lower case) -> its values in output order; multi-valued keywords (listenaddress,
  // hostkey, acceptenv, subsystem, ...) are printed once per value.
  std::map<std::string, std::vector<SshdValue>, std::less<>> options;
  // The value of `keyword` (any case), or nullptr when sshd -T did not print it.
  const SshdValue* find(std::string_view keyword) const;
  std::vector<std::string_view> values(std::string_view keyword) const;
};

// "keyword value..." per line; blank lines skipped. Errors: an upper-case or non-alphanumeric
// keyword (sshd -T prints lower case only), a keyword without a value.
Result<SshdEffective> parse_sshd_t(std::string_view text, std::string_view source);

// ---- the raw sshd_config ----
struct SshdMatchBlock {
  std::string criteria;  // "Address 10.0.0.0/8", "User backup", "all"
  SshdOrigin origin;     // the Match line
};

struct SshdDirective {
  std::string keyword;  // lower-cased (keywords are case-insensitive)
  std::string written;  // the keyword as written
  std::string args;     // the rest of the line, trimmed, trailing "# comment" removed
  SshdOrigin origin;
  int match = -1;  // index into SshdConfig::matches, -1 outside any Match block
};

struct SshdConfig {
  std::vector<SshdDirective> directives;  // in the order sshd reads them, Includes expanded
  std::vector<SshdMatchBlock> matches;
  std::vector<std::string> files;  // every file read, in order (the main file first)

  // The directive sshd uses for connections no Match block selects: for most keywords sshd
  // keeps the first value it reads, so this is the first occurrence outside Match blocks, or
  // nullptr. For keywords that accumulate (see sshd_keyword_accumulates) use global_all().
  const SshdDirective* global_first(std::string_view keyword) const;
  std::vector<const SshdDirective*> global_all(std::string_view keyword) const;
  // Every occurrence inside Match blocks (d->match says which block).
  std::vector<const SshdDirective*> in_matches(std::string_view keyword) const;
};

// True for the keywords whose occurrences add up instead of the first one winning (ListenAddress,
// Port, HostKey, HostCertificate, AcceptEnv, Allow/DenyUsers/Groups, Subsystem). Any case.
bool sshd_keyword_accumulates(std::string_view keyword);

// How Include directives reach files. `expand` turns a pattern (absolute, after relative paths
// were resolved against the config directory) into the matching paths in lexical order, none
// when nothing matches (not an error: sshd ignores it). `read` returns a file's text.
struct SshdIncludeResolver {
  std::function<std::vector<std::string>(const std::string& pattern)> expand;
  std::function<Result<std::string>(const std::string& path)> read;
};
// Reads the file system under `root`: "/etc/ssh/x.conf" is read as root + "/etc/ssh/x.conf"
// ("" for the live system); patterns use glob(3) semantics.
SshdIncludeResolver filesystem_include_resolver(std::string root);

inline constexpr int kSshdMaxIncludeDepth = 16;  // OpenSSH's SERVCONF_MAX_DEPTH
// Files read in one parse: a file that includes itself twice must not make the work explode.
inline constexpr std::size_t kSshdMaxFiles = 256;

// Parses `text`, read from `path` (used in origins; the main file is normally
// "/etc/ssh/sshd_config"). Include arguments may be several paths with globs; a relative one is
// resolved against `config_dir`. As in sshd, a Match block runs to the next Match or the end of
// its file, an Include inside a Match puts the included directives under that Match, and a
// Match inside an included file ends with that file. Without a resolver, Include is recorded as
// a directive and not followed. Errors: Match without criteria, a missing keyword argument,
// an unreadable included file, includes nested deeper than kSshdMaxIncludeDepth.
Result<SshdConfig> parse_sshd_config(std::string_view text, std::string_view path,
                                     const SshdIncludeResolver* resolver = nullptr,
                                     std::string_view config_dir = "/etc/ssh");

// ---- Match blocks as sshd -T -C connections ----
// For each Match block, a connection spec for `sshd -T -C` that the block selects:
// "user=U,host=H,addr=A" (sshd needs all three), plus laddr=/lport= when the block tests them.
// Each criterion gets a value that matches one of its positive patterns and none of its negated
// ones, by sshd's own rules (CIDR compared as numbers, other patterns as text): wildcards become
// a letter ('x') in names and a real canonical address in addresses (10.20.* -> 10.20.0.0,
// fd00:* -> fd00::), a range its first address that no negation excludes. `User=x` and quoted
// criteria are split as sshd splits them. When any block tests LocalPort, every spec carries
// lport= (the first global Port, or 22): sshd 9.2 refuses -C without it. Criteria a connection
// spec cannot express (Group, negations only) leave the block out, named in `skipped`. Specs
// repeat only once. Checked against Debian 12's real sshd (tests/audit/sshd_real_test.cpp).
std::vector<std::string> sshd_match_specs(const SshdConfig& config,
                                          std::vector<std::string>* skipped = nullptr);

}  // namespace mw::audit
