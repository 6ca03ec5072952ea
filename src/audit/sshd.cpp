// sshd -T and sshd_config parsers: keywords with their file:line origin, Includes, Match blocks.
#include "audit/sshd.hpp"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

#include "audit/text_lines.hpp"
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
  std::vector<std::string> out;
  for (const auto& m : config.matches) {
    // "User alice,bob Address 10.0.0.0/8" -> criterion/pattern-list pairs.
    std::vector<std::string> words;
    {
      std::string cur;
      for (char ch : m.criteria) {
        if (ch == ' ' || ch == '\t') {
          if (!cur.empty()) words.push_back(std::move(cur));
          cur.clear();
        } else {
          cur += ch;
        }
      }
      if (!cur.empty()) words.push_back(std::move(cur));
    }
    std::string user = "mailwarden-probe", host = "probe.invalid", addr = "192.0.2.1";
    std::string laddr, lport;
    std::string why;
    for (std::size_t i = 0; i < words.size(); ++i) {
      std::string key = words[i];
      for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (key == "all") continue;
      if (i + 1 >= words.size()) {
        why = "criterion without a value";
        break;
      }
      const std::string& list = words[++i];
      std::string first;
      std::size_t start = 0;
      while (start <= list.size()) {
        auto comma = list.find(',', start);
        std::string p =
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!p.empty() && p[0] != '!') {
          first = p;
          break;
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (first.empty()) {
        why = key + " has negated patterns only";
        break;
      }
      const bool address = key == "address" || key == "localaddress";
      for (auto& ch : first) {
        if (ch == '*' || ch == '?') ch = address ? '0' : 'x';
      }
      if (address) first = first.substr(0, first.find('/'));
      if (key == "user") {
        user = first;
      } else if (key == "host") {
        host = first;
      } else if (key == "address") {
        addr = first;
      } else if (key == "localaddress") {
        laddr = first;
      } else if (key == "localport") {
        lport = first;
      } else {
        why = "Match " + words[i - 1] + " cannot be named in a connection spec";
        break;
      }
    }
    auto valid = [](const std::string& v) {
      if (v.empty() || v.size() > 253) return false;
      for (char ch : v) {
        bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' ||
                  ch == '_' || ch == ':' || ch == '@';
        if (!ok) return false;
      }
      return true;
    };
    if (why.empty()) {
      for (const auto* v : {&user, &host, &addr}) {
        if (!valid(*v)) why = "'" + *v + "' is not a plain name or address";
      }
      if (!laddr.empty() && !valid(laddr)) why = "'" + laddr + "' is not an address";
      if (!lport.empty() && !valid(lport)) why = "'" + lport + "' is not a port";
    }
    if (!why.empty()) {
      if (skipped)
        skipped->push_back(fmt::format("Match {} ({}): {}", m.criteria, m.origin.to_string(), why));
      continue;
    }
    std::string spec = fmt::format("user={},host={},addr={}", user, host, addr);
    if (!laddr.empty()) spec += ",laddr=" + laddr;
    if (!lport.empty()) spec += ",lport=" + lport;
    if (std::find(out.begin(), out.end(), spec) == out.end()) out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace mw::audit
