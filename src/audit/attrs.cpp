// Loads attrs.tsv and localconfig-keys.tsv; Zimbra value syntaxes (durations, booleans, integers).
#include "audit/attrs.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>

#include "audit/text_lines.hpp"
#include "core/duration.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

using detail::error_at;

// Cells of one TSV row (no quoting: tabs never occur inside a cell).
std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

// "\\" -> "\", "\n" -> newline; any other backslash pair is kept as written.
std::string unescape(std::string_view s) {
  if (s.find('\\') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n')) {
      out += s[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_list(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(unescape(s.substr(start)));
      return out;
    }
    out.push_back(unescape(s.substr(start, pos - start)));
    start = pos + sep.size();
  }
}

// The header's columns, by name; a missing required column is an error.
struct Columns {
  std::unordered_map<std::string_view, std::size_t> index;
  std::size_t count = 0;
  std::optional<std::size_t> get(std::string_view name) const {
    const auto it = index.find(name);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
};

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot be read", path)};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Calls row(cells, line) for every data row after checking the header has `required`.
template <class Row>
Status read_tsv(std::string_view text, std::string_view source,
                std::span<const std::string_view> required, Columns& cols, Row&& row) {
  if (auto st = detail::check_bounds(text, source); !st) return st;
  std::size_t start = 0;
  std::size_t number = 0;
  bool header = true;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto cells = split_tabs(line);
    if (header) {
      header = false;
      for (std::size_t i = 0; i < cells.size(); ++i) cols.index.emplace(cells[i], i);
      cols.count = cells.size();
      for (auto r : required) {
        if (!cols.get(r)) {
          return error_at(source, number, 1, fmt::format("header lacks the column {}", r));
        }
      }
      continue;
    }
    if (cells.size() != cols.count) {
      return error_at(source, number, 1,
                      fmt::format("{} cells where the header has {}", cells.size(), cols.count));
    }
    if (auto st = row(cells, number); !st) return st;
  }
  if (header) return Error{fmt::format("{}: empty table", source)};
  return {};
}

std::uint32_t holder_bit(std::string_view cls) {
  if (cls == "account") return kHolderAccount;
  if (cls == "cos") return kHolderCos;
  if (cls == "domain") return kHolderDomain;
  if (cls == "server") return kHolderServer;
  if (cls == "globalConfig") return kHolderGlobalConfig;
  return 0;
}

bool is_string_type(std::string_view t) {
  static constexpr std::array<std::string_view, 9> kStrings = {
      "string", "astring", "ostring", "cstring", "email", "emailp", "cs_emailp", "phone", "regex"};
  for (auto s : kStrings) {
    if (t == s) return true;
  }
  return false;
}

}  // namespace

const AttrInfo* AttrTable::find(std::string_view name) const {
  if (auto it = by_name_.find(std::string(name)); it != by_name_.end()) return &attrs_[it->second];
  if (auto it = by_lower_.find(detail::ascii_lower(name)); it != by_lower_.end()) {
    return &attrs_[it->second];
  }
  return nullptr;
}

Result<AttrTable> parse_attrs_tsv(std::string_view text, std::string_view source) {
  AttrTable table;
  Columns cols;
  static constexpr std::array<std::string_view, 17> kRequired = {"name",
                                                                 "id",
                                                                 "type",
                                                                 "cardinality",
                                                                 "requiredIn",
                                                                 "optionalIn",
                                                                 "flags",
                                                                 "globalConfigValue",
                                                                 "defaultCOSValue",
                                                                 "since",
                                                                 "deprecatedSince",
                                                                 "description",
                                                                 "enumOrRegexValue",
                                                                 "min",
                                                                 "max",
                                                                 "immutable",
                                                                 "requiresRestart"};
  std::array<std::size_t, kRequired.size()> c{};
  bool resolved = false;
  auto row = [&](const std::vector<std::string_view>& cells, std::size_t line) -> Status {
    if (!resolved) {
      for (std::size_t i = 0; i < kRequired.size(); ++i) c[i] = *cols.get(kRequired[i]);
      resolved = true;
    }
    AttrInfo a;
    a.name = std::string(cells[c[0]]);
    if (a.name.empty()) return error_at(source, line, 1, "empty attribute name");
    a.id = std::string(cells[c[1]]);
    a.type = std::string(cells[c[2]]);
    const std::string_view card = cells[c[3]];
    if (card == "multi") {
      a.cardinality = Cardinality::multi;
    } else if (card != "single" && !card.empty()) {
      return error_at(source, line, 1,
                      fmt::format("{}: unknown cardinality {}", a.name, quote_input(card)));
    }
    a.required_in = split_list(cells[c[4]], ",");
    a.optional_in = split_list(cells[c[5]], ",");
    for (const auto& v : a.required_in) a.holders |= holder_bit(v);
    for (const auto& v : a.optional_in) a.holders |= holder_bit(v);
    a.flags = split_list(cells[c[6]], ",");
    for (const auto& f : a.flags) {
      if (f == "serverInherited") a.server_inherited = true;
      if (f == "domainInherited") a.domain_inherited = true;
      if (f == "accountInherited") a.account_inherited = true;
      if (f == "accountCosDomainInherited") a.account_cos_domain_inherited = true;
    }
    const bool multi = a.cardinality == Cardinality::multi;
    auto defaults = [&](std::string_view cell) {
      if (cell.empty()) return std::vector<std::string>{};
      if (multi) return split_list(cell, " | ");
      return std::vector<std::string>{unescape(cell)};
    };
    a.global_config_value = defaults(cells[c[7]]);
    a.default_cos_value = defaults(cells[c[8]]);
    a.since = std::string(cells[c[9]]);
    a.deprecated_since = std::string(cells[c[10]]);
    a.description = unescape(cells[c[11]]);
    if (a.type == "enum") {
      a.enum_values = split_list(cells[c[12]], ",");
    } else {
      a.regex = unescape(cells[c[12]]);
    }
    if (!cells[c[13]].empty()) a.min = std::string(cells[c[13]]);
    if (!cells[c[14]].empty()) a.max = std::string(cells[c[14]]);
    a.immutable = cells[c[15]] == "1" || cells[c[15]] == "true";
    a.requires_restart = split_list(cells[c[16]], ",");
    if (table.by_name_.count(a.name) != 0) {
      return error_at(source, line, 1, fmt::format("attribute {} listed twice", a.name));
    }
    const std::size_t idx = table.attrs_.size();
    table.by_name_.emplace(a.name, idx);
    table.by_lower_.emplace(detail::ascii_lower(a.name), idx);
    table.attrs_.push_back(std::move(a));
    return {};
  };
  if (auto st = read_tsv(text, source, kRequired, cols, row); !st) {
    return st.error();
  }
  return table;
}

Result<AttrTable> load_attrs_tsv(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_attrs_tsv(*text, path);
}

const LocalconfigKey* LocalconfigKeyTable::find(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &keys_[it->second];
}

Result<LocalconfigKeyTable> parse_localconfig_keys_tsv(std::string_view text,
                                                       std::string_view source) {
  LocalconfigKeyTable table;
  Columns cols;
  auto yes = [&](std::string_view cell, std::size_t line, std::string_view what,
                 bool& out) -> Status {
    if (cell == "yes") {
      out = true;
    } else if (cell != "no") {
      return error_at(source, line, 1,
                      fmt::format("{}: expected yes or no, got {}", what, quote_input(cell)));
    }
    return {};
  };
  auto row = [&](const std::vector<std::string_view>& cells, std::size_t line) -> Status {
    LocalconfigKey k;
    k.name = std::string(cells[*cols.get("name")]);
    if (k.name.empty()) return error_at(source, line, 1, "empty key name");
    const std::string_view def = cells[*cols.get("default")];
    if (def != "(null)") k.default_value = unescape(def);
    if (auto st = yes(cells[*cols.get("secret")], line, "secret", k.secret); !st) return st;
    if (auto st =
            yes(cells[*cols.get("masked_without_s")], line, "masked_without_s", k.masked_without_s);
        !st) {
      return st;
    }
    if (auto st = yes(cells[*cols.get("protected")], line, "protected", k.protected_key); !st) {
      return st;
    }
    if (auto st = yes(cells[*cols.get("supported")], line, "supported", k.supported); !st) {
      return st;
    }
    if (table.by_name_.count(k.name) != 0) {
      return error_at(source, line, 1, fmt::format("key {} listed twice", k.name));
    }
    table.by_name_.emplace(k.name, table.keys_.size());
    table.keys_.push_back(std::move(k));
    return {};
  };
  static constexpr std::array<std::string_view, 6> kRequired = {
      "name", "default", "secret", "masked_without_s", "protected", "supported"};
  if (auto st = read_tsv(text, source, kRequired, cols, row); !st) {
    return st.error();
  }
  return table;
}

Result<LocalconfigKeyTable> load_localconfig_keys_tsv(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_localconfig_keys_tsv(*text, path);
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // Zimbra's DateUtil.getTimeInterval: a bare number is seconds; d, h, m, s, ms; no weeks.
  DurationSyntax syntax;
  syntax.units |= DurationSyntax::ms;
  syntax.bare_is_seconds = true;
  syntax.min = Millis(0);
  syntax.max = Millis::max();
  return mw::parse_duration(text, syntax);
}

Result<bool> parse_zimbra_bool(std::string_view text) {
  const std::string l = detail::ascii_lower(text);
  if (l == "true") return true;
  if (l == "false") return false;
  return Error{fmt::format("{}: expected TRUE or FALSE", quote_input(text))};
}

Result<std::int64_t> parse_zimbra_integer(std::string_view text, const AttrInfo* attr) {
  std::int64_t n = 0;
  const std::string_view digits = !text.empty() && text[0] == '-' ? text.substr(1) : text;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (!detail::all_digits(digits) || r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return Error{fmt::format("{}: expected an integer", quote_input(text))};
  }
  if (attr != nullptr) {
    std::int64_t bound = 0;
    if (attr->min) {
      const auto b =
          std::from_chars(attr->min->data(), attr->min->data() + attr->min->size(), bound);
      if (b.ec == std::errc() && n < bound) {
        return Error{fmt::format("{}: {} is below the minimum {}", attr->name, n, bound)};
      }
    }
    if (attr->max) {
      const auto b =
          std::from_chars(attr->max->data(), attr->max->data() + attr->max->size(), bound);
      if (b.ec == std::errc() && n > bound) {
        return Error{fmt::format("{}: {} is above the maximum {}", attr->name, n, bound)};
      }
    }
  }
  return n;
}

Status check_attr_value(const AttrInfo& attr, std::string_view value) {
  const std::string_view t = attr.type;
  if (t == "boolean") {
    auto b = parse_zimbra_bool(value);
    if (!b) return Error{fmt::format("{}: {}", attr.name, b.error().message)};
    return {};
  }
  if (t == "integer" || t == "long" || t == "port") {
    auto n = parse_zimbra_integer(value, &attr);
    if (!n) {
      return Error{n.error().message.rfind(attr.name, 0) == 0
                       ? n.error().message
                       : fmt::format("{}: {}", attr.name, n.error().message)};
    }
    if (t == "port" && (*n < 0 || *n > 65535)) {
      return Error{fmt::format("{}: port {} out of range", attr.name, *n)};
    }
    return {};
  }
  if (t == "duration") {
    auto d = parse_duration(value);
    if (!d) return Error{fmt::format("{}: {}", attr.name, d.error().message)};
    // A bare-number bound of a duration is milliseconds: attrs.xml gives
    // zimbraIndexPollingInterval min 100 with the default 500ms, which only holds that way.
    auto bound = [](const std::string& b) -> Result<std::chrono::milliseconds> {
      if (detail::all_digits(b)) {
        std::int64_t n = 0;
        const auto r = std::from_chars(b.data(), b.data() + b.size(), n);
        if (r.ec != std::errc()) return Error{"bound too large"};
        return std::chrono::milliseconds(n);
      }
      return parse_duration(b);
    };
    if (attr.min) {
      if (auto lo = bound(*attr.min); lo && *d < *lo) {
        return Error{fmt::format("{}: {} is below the minimum {}", attr.name, quote_input(value),
                                 *attr.min)};
      }
    }
    if (attr.max) {
      if (auto hi = bound(*attr.max); hi && *d > *hi) {
        return Error{fmt::format("{}: {} is above the maximum {}", attr.name, quote_input(value),
                                 *attr.max)};
      }
    }
    return {};
  }
  if (t == "enum") {
    for (const auto& e : attr.enum_values) {
      if (e == value) return {};
    }
    return Error{fmt::format("{}: {} is not one of its values", attr.name, quote_input(value))};
  }
  if (is_string_type(t) && attr.max) {
    std::size_t max = 0;
    const auto b = std::from_chars(attr.max->data(), attr.max->data() + attr.max->size(), max);
    if (b.ec == std::errc() && value.size() > max) {
      return Error{fmt::format("{}: value of {} bytes exceeds the maximum length {}", attr.name,
                               value.size(), max)};
    }
  }
  return {};
}

}  // namespace mw::audit
