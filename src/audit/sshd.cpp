// sshd -T and sshd_config parsers: keywords with their file:line origin, Includes, Match blocks.
#include "audit/sshd.hpp"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "audit/text_lines.hpp"
#include "core/address_set.hpp"
#include "core/ip.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

using detail::error_at;

bool is_keyword(std::string_view k, bool lower_only) {
  if (k.empty()) return false;
  for (char c : k) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!lower_only && c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

// Keyword and arguments: "Keyword args", "Keyword=args", "Keyword = args".
struct Split {
  std::string_view keyword;
  std::string_view args;
  std::size_t args_col;
};
Split split_keyword(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && !detail::is_space(t[i]) && t[i] != '=') ++i;
  Split s{t.substr(0, i), {}, 0};
  while (i < t.size() && detail::is_space(t[i])) ++i;
  if (i < t.size() && t[i] == '=') ++i;
  while (i < t.size() && detail::is_space(t[i])) ++i;
  s.args = t.substr(i);
  s.args_col = i + 1;
  return s;
}

// Drops a "# comment" that starts after a blank outside double quotes.
std::string_view strip_comment(std::string_view args) {
  bool quoted = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == '"') quoted = !quoted;
    if (!quoted && args[i] == '#' && (i == 0 || detail::is_space(args[i - 1]))) {
      return detail::trim(args.substr(0, i));
    }
  }
  return detail::trim(args);
}

class ConfigReader {
 public:
  ConfigReader(const SshdIncludeResolver* resolver, std::string_view config_dir)
      : resolver_(resolver), config_dir_(config_dir) {}

  Status read(std::string_view text, const std::string& path, int enclosing_match, int depth) {
    if (auto st = detail::check_bounds(text, path); !st) return st;
    cfg_.files.push_back(path);
    int match = enclosing_match;
    for (const auto& line : detail::split_lines(text)) {
      const std::string_view t = detail::trim(line.text);
      if (t.empty() || t.front() == '#') continue;
      const std::size_t lead = static_cast<std::size_t>(t.data() - line.text.data());
      const Split s = split_keyword(t);
      if (!is_keyword(s.keyword, false)) {
        return error_at(path, line.number, lead + 1,
                        fmt::format("invalid keyword {}", quote_input(s.keyword)));
      }
      const std::string kw = detail::ascii_lower(s.keyword);
      const std::string_view args = strip_comment(s.args);
      const SshdOrigin origin{path, line.number};
      if (kw == "match") {
        if (args.empty()) return error_at(path, line.number, lead + 1, "Match without criteria");
        cfg_.matches.push_back(SshdMatchBlock{std::string(args), origin});
        match = static_cast<int>(cfg_.matches.size()) - 1;
        continue;
      }
      if (args.empty()) {
        return error_at(path, line.number, lead + s.args_col,
                        fmt::format("{} without an argument", quote_input(s.keyword)));
      }
      if (kw == "include" && resolver_ != nullptr) {
        for (const auto& f : detail::split_fields(args)) {
          std::string pattern(f.text);
          if (pattern.size() >= 2 && pattern.front() == '"' && pattern.back() == '"') {
            pattern = pattern.substr(1, pattern.size() - 2);
          }
          if (pattern.front() != '/' && pattern.front() != '~') {
            pattern = std::string(config_dir_) + "/" + pattern;
          }
          const std::size_t col = lead + s.args_col + f.col - 1;
          for (const auto& file : resolver_->expand(pattern)) {
            if (depth + 1 > kSshdMaxIncludeDepth) {
              return error_at(
                  path, line.number, col,
                  fmt::format("Include nested deeper than {} files", kSshdMaxIncludeDepth));
            }
            if (cfg_.files.size() >= kSshdMaxFiles) {
              return error_at(
                  path, line.number, col,
                  fmt::format("more than {} files read through Include", kSshdMaxFiles));
            }
            auto content = resolver_->read(file);
            if (!content) {
              return error_at(
                  path, line.number, col,
                  fmt::format("Include {}: {}", quote_input(file), content.error().message));
            }
            if (auto st = read(*content, file, match, depth + 1); !st) return st;
          }
        }
        continue;
      }
      cfg_.directives.push_back(
          SshdDirective{kw, std::string(s.keyword), std::string(args), origin, match});
    }
    return {};
  }

  SshdConfig take() { return std::move(cfg_); }

 private:
  const SshdIncludeResolver* resolver_;
  std::string_view config_dir_;
  SshdConfig cfg_;
};

// ---- Match blocks as connections ----

// The words of a Match line as sshd's strdelim() splits them: blanks and '=' separate, a word
// in double quotes is taken whole, without them. nullopt on an unterminated quote.
std::optional<std::vector<std::string>> match_words(std::string_view criteria) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '='; };
  while (i < criteria.size()) {
    while (i < criteria.size() && sep(criteria[i])) ++i;
    if (i >= criteria.size()) break;
    if (criteria[i] == '"') {
      const auto close = criteria.find('"', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      out.emplace_back(criteria.substr(i + 1, close - i - 1));
      i = close + 1;
      continue;
    }
    const std::size_t start = i;
    while (i < criteria.size() && !sep(criteria[i])) ++i;
    out.emplace_back(criteria.substr(start, i - start));
  }
  return out;
}

struct MatchPattern {
  bool negated = false;
  std::string text;
};

std::vector<MatchPattern> split_patterns(std::string_view list) {
  std::vector<MatchPattern> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    std::string_view p =
        list.substr(start, comma == std::string_view::npos ? comma : comma - start);
    const bool negated = !p.empty() && p.front() == '!';
    if (negated) p.remove_prefix(1);
    if (!p.empty()) out.push_back(MatchPattern{negated, std::string(p)});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join_patterns(const std::vector<std::vector<MatchPattern>>& lists) {
  std::string out;
  for (const auto& l : lists) {
    for (const auto& p : l) {
      if (!out.empty()) out += ',';
      out += (p.negated ? "!" : "") + p.text;
    }
  }
  return out;
}

// sshd's match_pattern() (match.c): '*' any run of characters, '?' any one character.
bool sshd_glob(std::string_view s, std::string_view p) {
  std::size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

enum class Criterion { user, host, address };

// As sshd's addr_match_list() (addrmatch.c): a pattern that reads as an address or a CIDR
// prefix compares numerically, any other as a wildcard pattern on the address text.
std::optional<Prefix> address_prefix(std::string_view pattern) {
  auto p = parse_prefix(pattern);
  if (!p) return std::nullopt;
  return *p;
}

bool pattern_matches(Criterion kind, const std::string& value, const std::string& pattern) {
  switch (kind) {
    case Criterion::user:
      return sshd_glob(value, pattern);
    case Criterion::host:  // match_hostname() ignores case
      return sshd_glob(detail::ascii_lower(value), detail::ascii_lower(pattern));
    case Criterion::address:
      if (const auto p = address_prefix(pattern)) {
        const auto a = parse_address(value);
        return a.ok() && a->family == p->addr.family && a->value >= p->first() &&
               a->value <= p->last();
      }
      return sshd_glob(value, pattern);
  }
  return false;
}

// sshd's pattern lists: some positive pattern matches and no negated one does; a repeated
// criterion needs every one of its lists.
bool lists_match(Criterion kind, const std::string& value,
                 const std::vector<std::vector<MatchPattern>>& lists) {
  for (const auto& l : lists) {
    bool hit = false;
    for (const auto& p : l) {
      if (!pattern_matches(kind, value, p.text)) continue;
      if (p.negated) return false;
      hit = true;
    }
    if (!hit) return false;
  }
  return true;
}

// Bounds the work of finding one criterion's value in a hostile sshd_config (a Match line may
// be 1 MiB): candidate values tried x bytes of patterns each one is checked against.
inline constexpr std::size_t kMatchWorkBudget = std::size_t{1} << 22;
inline constexpr std::size_t kMaxCandidates = 4096;
// No pattern longer than this yields a value (values are at most 253 characters).
inline constexpr std::size_t kMaxPatternLength = 1024;

// What `pattern` matches with its wildcards replaced, trying `star` for each '*' and `one` for
// each '?' (every combination, the first wildcard varying slowest), at most `limit` of them.
std::vector<std::string> expansions(std::string_view pattern,
                                    const std::vector<std::string_view>& star,
                                    const std::vector<std::string_view>& one, std::size_t limit) {
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '*' || pattern[i] == '?') at.push_back(i);
  }
  std::vector<std::size_t> pick(at.size(), 0);
  std::vector<std::string> out;
  while (out.size() < limit) {
    std::string s;
    std::size_t from = 0;
    for (std::size_t w = 0; w < at.size(); ++w) {
      s.append(pattern.substr(from, at[w] - from));
      s.append(pattern[at[w]] == '*' ? star[pick[w]] : one[pick[w]]);
      from = at[w] + 1;
    }
    s.append(pattern.substr(from));
    out.push_back(std::move(s));
    std::size_t w = at.size();
    while (w > 0) {
      --w;
      const std::size_t n = pattern[at[w]] == '*' ? star.size() : one.size();
      if (++pick[w] < n) break;
      pick[w] = 0;
      if (w == 0) return out;
    }
    if (at.empty()) break;
  }
  return out;
}

bool valid_spec_value(std::string_view v) {
  if (v.empty() || v.size() > 253) return false;
  for (char ch : v) {
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' ||
                    ch == '_' || ch == ':' || ch == '@';
    if (!ok) return false;
  }
  return true;
}

// At most `limit` values a connection could have that `pattern` matches: names with wildcards
// replaced by letters; for addresses only text a real connection shows (canonical, as sshd
// prints the peer's address), from an address range addresses outside `excluded` (the
// negated ranges), the lowest first.
std::vector<std::string> candidates(Criterion kind, const std::string& pattern,
                                    const AddressSet& excluded, std::size_t limit) {
  std::vector<std::string> out;
  if (pattern.size() > kMaxPatternLength) return out;
  if (kind != Criterion::address) {
    for (auto& c : expansions(pattern, {"x", "y", "z", "xx", ""}, {"x", "y", "z", "0"}, limit)) {
      out.push_back(kind == Criterion::host ? detail::ascii_lower(c) : std::move(c));
    }
    return out;
  }
  if (const auto p = address_prefix(pattern)) {
    const Family f = p->addr.family;
    const AddressSet allowed = AddressSet::of(*p).subtract(excluded);
    // Per stretch of allowed addresses: its first, then ones a byte (IPv4) or a group (IPv6)
    // further on, which step past wildcard negations ("!10.0.0.*"), then its last.
    for (const auto& iv : allowed.intervals(f).intervals()) {
      for (int b = 0; b < family_bits(f) && out.size() < limit; b += f == Family::v4 ? 8 : 16) {
        const u128 offset = b == 0 ? 0 : u128{1} << b;
        if (offset > iv.hi - iv.lo) break;
        out.push_back(to_string(Address{f, iv.lo + offset}));
      }
      if (out.size() >= limit) break;
      out.push_back(to_string(Address{f, iv.hi}));
    }
    return out;
  }
  for (auto& c : expansions(pattern, {"0", "0.0", "0.0.0", "0.0.0.0", "", ":", "1"},
                            {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d",
                             "e", "f", ":", "."},
                            limit)) {
    const auto a = parse_address(c);
    if (a.ok() && to_string(*a) == c) out.push_back(std::move(c));
  }
  return out;
}

// A value for one criterion that its lists select, trying their positive patterns in order.
std::optional<std::string> connection_value(Criterion kind,
                                            const std::vector<std::vector<MatchPattern>>& lists) {
  std::size_t bytes = 1;
  std::vector<Prefix> negated;
  for (const auto& l : lists) {
    for (const auto& p : l) {
      bytes += p.text.size() + 1;
      if (!p.negated || kind != Criterion::address) continue;
      if (const auto np = address_prefix(p.text)) negated.push_back(*np);
    }
  }
  const AddressSet excluded = AddressSet::of(negated);
  std::size_t tries = std::clamp<std::size_t>(kMatchWorkBudget / bytes, 1, kMaxCandidates);
  for (const auto& p : lists.front()) {
    if (p.negated) continue;
    for (const auto& c : candidates(kind, p.text, excluded, tries)) {
      if (valid_spec_value(c) && lists_match(kind, c, lists)) return c;
      if (--tries == 0) return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SshdOrigin::to_string() const {
  return fmt::format("{}:{}", file, line);
}

const SshdValue* SshdEffective::find(std::string_view keyword) const {
  const auto it = options.find(detail::ascii_lower(keyword));
  if (it == options.end() || it->second.empty()) return nullptr;
  return &it->second.front();
}

std::vector<std::string_view> SshdEffective::values(std::string_view keyword) const {
  std::vector<std::string_view> out;
  const auto it = options.find(detail::ascii_lower(keyword));
  if (it == options.end()) return out;
  for (const auto& v : it->second) out.emplace_back(v.value);
  return out;
}

Result<SshdEffective> parse_sshd_t(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  SshdEffective out;
  for (const auto& line : detail::split_lines(text)) {
    if (detail::trim(line.text).empty()) continue;
    const std::size_t sp = line.text.find(' ');
    const std::string_view kw = line.text.substr(0, sp);
    if (!is_keyword(kw, true)) {
      return error_at(source, line.number, 1,
                      fmt::format("expected a lower-case keyword, got {}", quote_input(kw)));
    }
    if (sp == std::string_view::npos || detail::trim(line.text.substr(sp)).empty()) {
      return error_at(source, line.number, kw.size() + 1,
                      fmt::format("keyword {} without a value", quote_input(kw)));
    }
    out.options[std::string(kw)].push_back(SshdValue{
        std::string(detail::trim(line.text.substr(sp + 1))), {std::string(source), line.number}});
  }
  return out;
}

bool sshd_keyword_accumulates(std::string_view keyword) {
  static constexpr std::array<std::string_view, 10> kAccumulate = {
      "acceptenv", "allowgroups",     "allowusers",    "denygroups", "denyusers",
      "hostkey",   "hostcertificate", "listenaddress", "port",       "subsystem"};
  const std::string k = detail::ascii_lower(keyword);
  return std::find(kAccumulate.begin(), kAccumulate.end(), k) != kAccumulate.end();
}

const SshdDirective* SshdConfig::global_first(std::string_view keyword) const {
  const std::string k = detail::ascii_lower(keyword);
  for (const auto& d : directives) {
    if (d.match < 0 && d.keyword == k) return &d;
  }
  return nullptr;
}

std::vector<const SshdDirective*> SshdConfig::global_all(std::string_view keyword) const {
  const std::string k = detail::ascii_lower(keyword);
  std::vector<const SshdDirective*> out;
  for (const auto& d : directives) {
    if (d.match < 0 && d.keyword == k) out.push_back(&d);
  }
  return out;
}

std::vector<const SshdDirective*> SshdConfig::in_matches(std::string_view keyword) const {
  const std::string k = detail::ascii_lower(keyword);
  std::vector<const SshdDirective*> out;
  for (const auto& d : directives) {
    if (d.match >= 0 && d.keyword == k) out.push_back(&d);
  }
  return out;
}

SshdIncludeResolver filesystem_include_resolver(std::string root) {
  SshdIncludeResolver r;
  r.expand = [root](const std::string& pattern) {
    std::vector<std::string> out;
    glob_t g{};
    if (::glob((root + pattern).c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        std::string p = g.gl_pathv[i];
        out.push_back(p.substr(root.size()));  // glob(3) sorts; origins name the real path
      }
    }
    ::globfree(&g);
    return out;
  };
  r.read = [root](const std::string& path) -> Result<std::string> {
    std::ifstream in(root + path, std::ios::binary);
    if (!in) return Error{"cannot be read"};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return r;
}

Result<SshdConfig> parse_sshd_config(std::string_view text, std::string_view path,
                                     const SshdIncludeResolver* resolver,
                                     std::string_view config_dir) {
  ConfigReader reader(resolver, config_dir);
  if (auto st = reader.read(text, std::string(path), -1, 0); !st) return st.error();
  return reader.take();
}

std::vector<std::string> sshd_match_specs(const SshdConfig& config,
                                          std::vector<std::string>* skipped) {
  struct Block {
    const SshdMatchBlock* match;
    std::optional<std::vector<std::string>> words;
  };
  std::vector<Block> blocks;
  bool any_local_port = false;
  for (const auto& m : config.matches) {
    blocks.push_back(Block{&m, match_words(m.criteria)});
    if (!blocks.back().words) continue;
    const auto& w = *blocks.back().words;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::string key = detail::ascii_lower(w[i]);
      if (key == "all") continue;
      if (key == "localport") any_local_port = true;
      ++i;  // its patterns
    }
  }
  // sshd 9.2 refuses any -C spec without lport= once a Match line names LocalPort, even a line
  // the spec does not select: such specs get the port a real connection would have.
  std::string default_lport = "22";
  if (const auto* port = config.global_first("port");
      port != nullptr && detail::all_digits(port->args)) {
    default_lport = port->args;
  }

  std::vector<std::string> out;
  for (const auto& b : blocks) {
    const auto& m = *b.match;
    std::string why;
    if (!b.words) why = "unterminated quote";
    // Criterion -> its pattern lists (sshd requires every one when a criterion repeats).
    std::map<std::string, std::vector<std::vector<MatchPattern>>> lists;
    std::vector<std::string> order;
    static const std::vector<std::string> kNoWords;
    const auto& words = b.words ? *b.words : kNoWords;
    for (std::size_t i = 0; why.empty() && i < words.size(); ++i) {
      const std::string key = detail::ascii_lower(words[i]);
      if (key == "all") continue;
      if (key != "user" && key != "host" && key != "address" && key != "localaddress" &&
          key != "localport") {
        why = "Match " + words[i] + " cannot be named in a connection spec";
        break;
      }
      if (i + 1 >= words.size()) {
        why = "criterion without a value";
        break;
      }
      auto patterns = split_patterns(words[++i]);
      bool positive = false;
      for (const auto& p : patterns) positive = positive || !p.negated;
      if (!positive) {
        why = key + " has negated patterns only";
        break;
      }
      if (lists.find(key) == lists.end()) order.push_back(key);
      lists[key].push_back(std::move(patterns));
    }
    std::string user = "mailwarden-probe", host = "probe.invalid", addr = "192.0.2.1";
    std::string laddr, lport;
    for (const auto& key : order) {
      if (!why.empty()) break;
      const auto& l = lists[key];
      if (key == "localport") {
        // sshd reads one port number here, not a list.
        if (l.size() != 1 || l[0].size() != 1 || !detail::all_digits(l[0][0].text)) {
          why = "LocalPort is not one port number";
        } else {
          lport = l[0][0].text;
        }
        continue;
      }
      const Criterion kind = key == "user"   ? Criterion::user
                             : key == "host" ? Criterion::host
                                             : Criterion::address;
      auto value = connection_value(kind, l);
      if (!value) {
        why = fmt::format("no {} matching '{}' can be named in a connection spec", key,
                          join_patterns(l));
        continue;
      }
      if (key == "user") user = *value;
      if (key == "host") host = *value;
      if (key == "address") addr = *value;
      if (key == "localaddress") laddr = *value;
    }
    if (!why.empty()) {
      if (skipped)
        skipped->push_back(fmt::format("Match {} ({}): {}", m.criteria, m.origin.to_string(), why));
      continue;
    }
    if (lport.empty() && any_local_port) lport = default_lport;
    std::string spec = fmt::format("user={},host={},addr={}", user, host, addr);
    if (!laddr.empty()) spec += ",laddr=" + laddr;
    if (!lport.empty()) spec += ",lport=" + lport;
    if (std::find(out.begin(), out.end(), spec) == out.end()) out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace mw::audit
