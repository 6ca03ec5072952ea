// Postfix main.cf / master.cf listings: logical lines, name = value, service entries.
#include "audit/postconf.hpp"

#include <fmt/format.h>

#include "audit/text_lines.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

using detail::error_at;

// A logical line: its first physical line and the joined text (continuations joined by one
// space, their leading blanks dropped).
struct LogicalLine {
  std::size_t line;
  std::string text;
};

Result<std::vector<LogicalLine>> logical_lines(std::string_view text, std::string_view source) {
  std::vector<LogicalLine> out;
  for (const auto& l : detail::split_lines(text)) {
    const std::string_view t = detail::trim(l.text);
    if (t.empty() || t.front() == '#') continue;
    if (detail::is_space(l.text.front())) {
      if (out.empty()) {
        return error_at(source, l.number, 1,
                        fmt::format("continuation line before any entry: {}", quote_input(t)));
      }
      out.back().text += ' ';
      out.back().text.append(t);
      continue;
    }
    out.push_back(LogicalLine{l.number, std::string(t)});
  }
  return out;
}

bool is_param_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

struct NameValue {
  std::string_view name;
  std::string_view value;
};

// "name = value" with optional spaces around '='. `slash_ok` admits "service/type/name".
Result<NameValue> split_name_value(std::string_view text, std::size_t line, std::string_view source,
                                   bool slash_ok) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return error_at(source, line, 1,
                    fmt::format("expected 'name = value', got {}", quote_input(text)));
  }
  const std::string_view name = detail::trim(text.substr(0, eq));
  if (name.empty()) return error_at(source, line, 1, "empty parameter name");
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_param_char(name[i]) && !(slash_ok && name[i] == '/') && !(slash_ok && name[i] == ':')) {
      return error_at(source, line, i + 1,
                      fmt::format("invalid character in parameter name {}", quote_input(name)));
    }
  }
  return NameValue{name, detail::trim(text.substr(eq + 1))};
}

// master.cf argument splitting: blanks separate; "{ ... }" is one argument (Postfix >= 3.0),
// with the braces and the blanks just inside them removed.
struct Arg {
  std::string text;
  bool braced = false;
};
Result<std::vector<Arg>> split_master_args(std::string_view s, std::size_t line,
                                           std::string_view source) {
  std::vector<Arg> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && detail::is_space(s[i])) ++i;
    if (i >= s.size()) break;
    if (s[i] == '{') {
      int depth = 0;
      std::size_t j = i;
      for (; j < s.size(); ++j) {
        if (s[j] == '{') ++depth;
        if (s[j] == '}' && --depth == 0) break;
      }
      if (j >= s.size()) {
        return error_at(source, line, 1,
                        fmt::format("unbalanced '{{' in {}", quote_input(s.substr(i))));
      }
      out.push_back(Arg{std::string(detail::trim(s.substr(i + 1, j - i - 1))), true});
      i = j + 1;
      continue;
    }
    const std::size_t b = i;
    while (i < s.size() && !detail::is_space(s[i])) ++i;
    out.push_back(Arg{std::string(s.substr(b, i - b)), false});
  }
  return out;
}

bool valid_flag(std::string_view f) {
  return f == "y" || f == "n" || f == "-";
}

bool valid_number(std::string_view f, bool question_ok) {
  if (f == "-") return true;
  if (question_ok && !f.empty() && f.back() == '?') f.remove_suffix(1);
  return detail::all_digits(f) && f.size() <= 9;
}

}  // namespace

const PostconfParam* PostconfMain::find(std::string_view name) const {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

std::optional<std::string_view> MasterService::override_of(std::string_view name) const {
  for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
    if (it->first == name) return std::string_view(it->second);
  }
  return std::nullopt;
}

Result<PostconfMain> parse_postconf(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  auto lines = logical_lines(text, source);
  if (!lines) return lines.error();
  PostconfMain out;
  for (const auto& l : *lines) {
    auto nv = split_name_value(l.text, l.line, source, false);
    if (!nv) return nv.error();
    out.params.push_back(PostconfParam{std::string(nv->name), std::string(nv->value), l.line});
  }
  return out;
}

Result<std::vector<ServiceParam>> parse_postconf_p(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  auto lines = logical_lines(text, source);
  if (!lines) return lines.error();
  std::vector<ServiceParam> out;
  for (const auto& l : *lines) {
    auto nv = split_name_value(l.text, l.line, source, true);
    if (!nv) return nv.error();
    // The service may contain ':' (host) but not '/'; the parameter is after the last '/'.
    const std::string_view full = nv->name;
    const std::size_t s1 = full.find('/');
    const std::size_t s2 = full.rfind('/');
    if (s1 == std::string_view::npos || s1 == s2 || s1 == 0 || s2 == s1 + 1 ||
        s2 + 1 == full.size() || full.substr(s1 + 1, s2 - s1 - 1).find('/') != std::string::npos ||
        full.substr(s2 + 1).find(':') != std::string_view::npos) {
      return error_at(
          source, l.line, 1,
          fmt::format("expected 'service/type/parameter = value', got {}", quote_input(full)));
    }
    out.push_back(ServiceParam{std::string(full.substr(0, s1)),
                               std::string(full.substr(s1 + 1, s2 - s1 - 1)),
                               std::string(full.substr(s2 + 1)), std::string(nv->value), l.line});
  }
  return out;
}

Result<std::vector<MasterService>> parse_master_cf(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  auto lines = logical_lines(text, source);
  if (!lines) return lines.error();
  std::vector<MasterService> out;
  for (const auto& l : *lines) {
    const auto fields = detail::split_fields(l.text);
    if (fields.size() < 8) {
      return error_at(source, l.line, 1,
                      fmt::format("expected 'service type private unpriv chroot wakeup maxproc "
                                  "command [args]', got {}",
                                  quote_input(l.text)));
    }
    MasterService s;
    s.line = l.line;
    s.service = std::string(fields[0].text);
    s.type = std::string(fields[1].text);
    if (s.type != "inet" && s.type != "unix" && s.type != "unix-dgram" && s.type != "fifo" &&
        s.type != "pass") {
      return error_at(source, l.line, fields[1].col,
                      fmt::format("unknown service type {}", quote_input(s.type)));
    }
    for (int k = 2; k <= 4; ++k) {
      if (!valid_flag(fields[k].text)) {
        return error_at(source, l.line, fields[k].col,
                        fmt::format("expected y, n or -, got {}", quote_input(fields[k].text)));
      }
    }
    if (!valid_number(fields[5].text, true) || !valid_number(fields[6].text, false)) {
      const auto& bad = valid_number(fields[5].text, true) ? fields[6] : fields[5];
      return error_at(source, l.line, bad.col,
                      fmt::format("expected a number or -, got {}", quote_input(bad.text)));
    }
    s.private_flag = std::string(fields[2].text);
    s.unprivileged = std::string(fields[3].text);
    s.chroot = std::string(fields[4].text);
    s.wakeup = std::string(fields[5].text);
    s.maxproc = std::string(fields[6].text);
    s.command = std::string(fields[7].text);
    const std::string_view rest =
        std::string_view(l.text).substr(fields[7].col - 1 + fields[7].text.size());
    auto args = split_master_args(rest, l.line, source);
    if (!args) return args.error();
    for (std::size_t i = 0; i < args->size(); ++i) {
      const Arg& a = (*args)[i];
      s.args.push_back(a.text);
      std::string_view ov;
      if (!a.braced && a.text == "-o") {
        if (i + 1 >= args->size()) {
          return error_at(
              source, l.line, 1,
              fmt::format("'-o' without an argument in service {}", quote_input(s.service)));
        }
        ov = (*args)[++i].text;
        s.args.push_back(std::string(ov));
      } else if (!a.braced && a.text.size() > 2 && a.text.compare(0, 2, "-o") == 0) {
        ov = std::string_view(a.text).substr(2);
      } else {
        continue;
      }
      const std::size_t eq = ov.find('=');
      if (eq == std::string_view::npos || detail::trim(ov.substr(0, eq)).empty()) {
        return error_at(source, l.line, 1,
                        fmt::format("expected '-o name=value' in service {}, got {}",
                                    quote_input(s.service), quote_input(ov)));
      }
      s.overrides.emplace_back(std::string(detail::trim(ov.substr(0, eq))),
                               std::string(detail::trim(ov.substr(eq + 1))));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mw::audit
