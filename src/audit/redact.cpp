// Secret redaction per snapshot format, line for line.
#include "audit/redact.hpp"

#include <algorithm>

#include "audit/text_lines.hpp"
#include "audit/zmprov.hpp"

namespace mw::audit {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ASCII case-insensitive equality, without allocating (called for every line of a listing).
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// A line of the input with its terminator, so the output keeps "\n", "\r\n" or none.
struct RawLine {
  std::string_view body;  // without the terminator
  std::string_view end;   // "\n", "\r\n" or ""
};

std::vector<RawLine> raw_lines(std::string_view text) {
  std::vector<RawLine> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    const std::size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::size_t body_end = stop;
    if (body_end > start && text[body_end - 1] == '\r') --body_end;
    out.push_back(
        RawLine{text.substr(start, body_end - start),
                text.substr(body_end, (nl == std::string_view::npos ? stop : nl + 1) - body_end)});
    start = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return out;
}

// Leading blanks of `s` (kept on continuation lines so they stay continuations).
std::string_view leading_blanks(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && detail::is_space(s[i])) ++i;
  return s.substr(0, i);
}

}  // namespace

bool postconf_param_is_secret(std::string_view name) {
  const std::string n = detail::ascii_lower(name);
  return n == "bind_pw" || n == "password" || ends_with(n, "_bind_pw") ||
         ends_with(n, "_password_maps") || ends_with(n, "_passwd_maps") ||
         ends_with(n, "_password");
}

bool zmprov_attr_is_secret(std::string_view attr, const RedactionRules& rules) {
  // zmprov may print an option ("userCertificate;binary"); the base name decides.
  const std::string_view base = attr.substr(0, attr.find(';'));
  for (auto s : kSecretZmprovAttrs) {
    if (iequals(s, base)) return true;
  }
  if (rules.attrs != nullptr && rules.attrs->find(base) != nullptr) return false;
  const std::string l = detail::ascii_lower(base);
  return ends_with(l, "password") || ends_with(l, "secret") || ends_with(l, "key") ||
         contains(l, "bindpassword");
}

bool localconfig_key_is_secret(std::string_view key, const RedactionRules& rules) {
  if (rules.localconfig_keys != nullptr) {
    if (const auto* k = rules.localconfig_keys->find(key);
        k != nullptr && (k->secret || k->masked_without_s)) {
      return true;
    }
  }
  const std::string l = detail::ascii_lower(key);
  return contains(l, "password") || contains(l, "passwd") || contains(l, "secret") ||
         ends_with(l, "_key");
}

Redacted redact_zmprov(std::string_view text, const RedactionRules& rules) {
  Redacted out;
  out.text.reserve(text.size());
  const auto lines = raw_lines(text);
  const auto kinds = classify_zmprov_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& k = kinds[i];
    const bool secret =
        (k.kind == ZmprovLineKind::attribute || k.kind == ZmprovLineKind::continuation) &&
        zmprov_attr_is_secret(k.attr, rules);
    if (!secret) {
      out.text.append(lines[i].body);
    } else if (k.kind == ZmprovLineKind::attribute) {
      out.text.append(k.attr);
      out.text.append(": ");
      out.text.append(kRedacted);
      ++out.values;
    } else {
      out.text.append(kRedacted);
    }
    out.text.append(lines[i].end);
  }
  return out;
}

Redacted redact_localconfig(std::string_view text, const RedactionRules& rules) {
  Redacted out;
  out.text.reserve(text.size());
  for (const auto& l : raw_lines(text)) {
    const std::size_t sep = l.body.find(" =");
    const std::string_view value =
        sep == std::string_view::npos ? std::string_view{} : detail::trim(l.body.substr(sep + 2));
    if (!value.empty() && localconfig_key_is_secret(detail::trim(l.body.substr(0, sep)), rules)) {
      out.text.append(l.body.substr(0, sep));
      out.text.append(" = ");
      out.text.append(kRedacted);
      ++out.values;
    } else {
      out.text.append(l.body);
    }
    out.text.append(l.end);
  }
  return out;
}

Redacted redact_postconf(std::string_view text) {
  Redacted out;
  out.text.reserve(text.size());
  bool in_secret = false;  // the current logical line is a secret parameter
  for (const auto& l : raw_lines(text)) {
    const std::string_view t = detail::trim(l.body);
    const bool continuation = !l.body.empty() && detail::is_space(l.body.front());
    if (t.empty() || t.front() == '#') {
      out.text.append(l.body);
    } else if (continuation) {
      if (in_secret) {
        out.text.append(leading_blanks(l.body));
        out.text.append(kRedacted);
      } else {
        out.text.append(l.body);
      }
    } else {
      const std::size_t eq = l.body.find('=');
      std::string_view name =
          eq == std::string_view::npos ? std::string_view{} : detail::trim(l.body.substr(0, eq));
      name = name.substr(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
      in_secret = eq != std::string_view::npos && postconf_param_is_secret(name);
      if (in_secret && !detail::trim(l.body.substr(eq + 1)).empty()) {
        out.text.append(l.body.substr(0, eq));
        out.text.append("= ");
        out.text.append(kRedacted);
        ++out.values;
      } else {
        out.text.append(l.body);
      }
    }
    out.text.append(l.end);
  }
  return out;
}

Redacted redact_master_cf(std::string_view text) {
  Redacted out;
  out.text.reserve(text.size());
  for (const auto& l : raw_lines(text)) {
    const std::string_view t = detail::trim(l.body);
    if (t.empty() || t.front() == '#') {
      out.text.append(l.body);
      out.text.append(l.end);
      continue;
    }
    // Rewrites "name=value" / "-oname=value" tokens and "{ name = value }" groups of secret
    // parameters; a replaced value is braced so its blanks keep it one argument.
    std::string line;
    std::size_t i = 0;
    const std::string_view b = l.body;
    while (i < b.size()) {
      if (detail::is_space(b[i])) {
        line += b[i++];
        continue;
      }
      if (b[i] == '{') {
        const std::size_t close = b.find('}', i);
        const std::size_t stop = close == std::string_view::npos ? b.size() : close + 1;
        const std::string_view group = b.substr(i, stop - i);
        const std::size_t eq = group.find('=');
        const std::string_view name = eq == std::string_view::npos
                                          ? std::string_view{}
                                          : detail::trim(group.substr(1, eq - 1));
        if (!name.empty() && postconf_param_is_secret(name)) {
          line += "{ ";
          line.append(name);
          line += " = ";
          line.append(kRedacted);
          line += " }";
          ++out.values;
        } else {
          line.append(group);
        }
        i = stop;
        continue;
      }
      std::size_t stop = i;
      while (stop < b.size() && !detail::is_space(b[stop])) ++stop;
      std::string_view token = b.substr(i, stop - i);
      std::string_view prefix;
      if (token.size() > 2 && token.substr(0, 2) == "-o") {
        prefix = token.substr(0, 2);
        token.remove_prefix(2);
      }
      const std::size_t eq = token.find('=');
      if (eq != std::string_view::npos && eq > 0 && postconf_param_is_secret(token.substr(0, eq))) {
        if (!prefix.empty()) line += "-o ";
        line += "{ ";
        line.append(token.substr(0, eq));
        line += " = ";
        line.append(kRedacted);
        line += " }";
        ++out.values;
      } else {
        line.append(b.substr(i, stop - i));
      }
      i = stop;
    }
    out.text += line;
    out.text.append(l.end);
  }
  return out;
}

Redacted redact_snapshot_file(std::string_view file_name, std::string_view text,
                              const RedactionRules& rules) {
  const std::size_t slash = file_name.rfind('/');
  const std::string_view base =
      slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  auto starts = [&](std::string_view p) { return base.substr(0, p.size()) == p; };
  if (starts("zmprov-")) return redact_zmprov(text, rules);
  if (starts("zmlocalconfig")) return redact_localconfig(text, rules);
  if (starts("postconf-M") || ends_with(base, "master.cf")) return redact_master_cf(text);
  if (starts("postconf-") || ends_with(base, ".cf")) return redact_postconf(text);
  return Redacted{std::string(text), 0};
}

}  // namespace mw::audit
