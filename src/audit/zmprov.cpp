// zmprov output parser: entries of attribute values, raw multi-line and base64 values.
#include "audit/zmprov.hpp"

#include <fmt/format.h>

#include "audit/text_lines.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

using detail::error_at;

bool is_attr_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == ';' || c == '.';
}

// "name: value" / "name:: value" (also "name:" alone). Returns the length of the name, 0 if the
// line is not an attribute line.
std::size_t attr_name_length(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_attr_char(line[i])) ++i;
  if (i == 0 || i >= line.size() || line[i] != ':') return 0;
  const char first = line[0];
  if (first == '-' || first == ';' || first == '.') return 0;
  std::size_t j = i + 1;
  if (j < line.size() && line[j] == ':') ++j;
  if (j == line.size() || line[j] == ' ') return i;
  return 0;
}

bool is_base64_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

bool is_base64_chunk(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_base64_char(c)) return false;
  }
  return true;
}

constexpr std::size_t kBase64Wrap = 76;
constexpr std::string_view kHeader = "# name ";

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

std::vector<std::string_view> ZmprovEntry::values(std::string_view attr) const {
  std::vector<std::string_view> out;
  const auto it = attrs.find(attr);
  if (it == attrs.end()) return out;
  for (const auto& v : it->second) out.emplace_back(v.value);
  return out;
}

std::optional<std::string_view> ZmprovEntry::first(std::string_view attr) const {
  const ZmprovValue* v = find(attr);
  if (v == nullptr) return std::nullopt;
  return std::string_view(v->value);
}

const ZmprovValue* ZmprovEntry::find(std::string_view attr) const {
  const auto it = attrs.find(attr);
  if (it == attrs.end() || it->second.empty()) return nullptr;
  return &it->second.front();
}

const ZmprovEntry* ZmprovOutput::find(std::string_view name) const {
  for (const auto& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::optional<std::string> decode_base64(std::string_view text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=') {
        // Padding only in the last group, only at its end.
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        ++pad;
        v[k] = 0;
        continue;
      }
      if (pad > 0) return std::nullopt;
      v[k] = val(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::vector<ZmprovLineInfo> classify_zmprov_lines(std::string_view text) {
  const auto lines = detail::split_lines(text);
  std::vector<ZmprovLineInfo> out(lines.size());
  std::string_view cur;  // attribute the next continuation belongs to; empty when none
  bool cur_base64 = false;
  bool in_pem = false;
  bool b64_open = false;
  std::vector<std::size_t> pending_blanks;
  auto settle_blanks = [&](ZmprovLineKind kind) {
    for (std::size_t i : pending_blanks) {
      out[i].kind = kind;
      if (kind == ZmprovLineKind::continuation) {
        out[i].attr = cur;
        out[i].base64 = cur_base64;
      }
    }
    pending_blanks.clear();
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i].text;
    auto& info = out[i];
    if (in_pem && !cur.empty()) {
      info = {ZmprovLineKind::continuation, cur, 0, cur_base64};
      if (starts_with(line, "-----END")) in_pem = false;
      continue;
    }
    if (b64_open) {
      if (is_base64_chunk(line)) {
        info = {ZmprovLineKind::continuation, cur, 0, true};
        b64_open = line.size() == kBase64Wrap;
        continue;
      }
      b64_open = false;
    }
    if (line.empty()) {
      pending_blanks.push_back(i);
      continue;
    }
    if (starts_with(line, kHeader) || line == "# name") {
      settle_blanks(ZmprovLineKind::blank);
      info.kind = ZmprovLineKind::header;
      cur = {};
      continue;
    }
    if (const std::size_t n = attr_name_length(line); n > 0) {
      settle_blanks(ZmprovLineKind::blank);
      const bool b64 = n + 1 < line.size() && line[n + 1] == ':';
      std::size_t col = n + (b64 ? 2 : 1);
      if (col < line.size()) ++col;  // the space after the colon(s)
      cur = line.substr(0, n);
      cur_base64 = b64;
      info = {ZmprovLineKind::attribute, cur, col, b64};
      const std::string_view value = line.substr(col);
      if (b64) {
        b64_open = value.size() == kBase64Wrap;
      } else if (starts_with(value, "-----BEGIN")) {
        in_pem = value.find("-----END") == std::string_view::npos;
      }
      continue;
    }
    if (!cur.empty()) {
      settle_blanks(ZmprovLineKind::continuation);
      info = {ZmprovLineKind::continuation, cur, 0, cur_base64};
      if (starts_with(line, "-----BEGIN")) in_pem = true;
      continue;
    }
    settle_blanks(ZmprovLineKind::blank);
    info.kind = ZmprovLineKind::other;
  }
  settle_blanks(ZmprovLineKind::blank);
  return out;
}

Result<ZmprovOutput> parse_zmprov(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  const auto lines = detail::split_lines(text);
  const auto kinds = classify_zmprov_lines(text);
  ZmprovOutput out;
  ZmprovValue* value = nullptr;  // the value continuation lines extend
  std::string b64;               // base64 text of `value` while it is being read
  auto finish_value = [&]() -> Status {
    if (value != nullptr && value->base64) {
      auto decoded = decode_base64(b64);
      if (!decoded) {
        return error_at(source, value->line, 1,
                        fmt::format("invalid base64 in the value of {} (lines {}-{})",
                                    quote_input(b64.substr(0, 16)), value->line, value->last_line));
      }
      value->value = std::move(*decoded);
    }
    value = nullptr;
    b64.clear();
    return {};
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    const auto& k = kinds[i];
    switch (k.kind) {
      case ZmprovLineKind::blank:
        break;
      case ZmprovLineKind::header: {
        if (auto st = finish_value(); !st) return st.error();
        const std::string_view name =
            line.text.size() > kHeader.size() ? line.text.substr(kHeader.size()) : "";
        if (detail::trim(name).empty()) {
          return error_at(source, line.number, 1, "'# name' without a name");
        }
        ZmprovEntry e;
        e.name = std::string(name);
        e.line = line.number;
        out.entries.push_back(std::move(e));
        break;
      }
      case ZmprovLineKind::attribute: {
        if (auto st = finish_value(); !st) return st.error();
        if (out.entries.empty()) {
          ZmprovEntry e;
          e.line = line.number;
          out.entries.push_back(std::move(e));
        }
        auto& vec = out.entries.back().attrs[std::string(k.attr)];
        ZmprovValue v;
        v.base64 = k.base64;
        v.line = v.last_line = line.number;
        const std::string_view rest = line.text.substr(k.value_col);
        if (k.base64) {
          b64.assign(rest);
        } else {
          v.value.assign(rest);
        }
        vec.push_back(std::move(v));
        value = &vec.back();
        break;
      }
      case ZmprovLineKind::continuation:
        if (value == nullptr) {
          return error_at(source, line.number, 1, "continuation line without a value");
        }
        if (value->base64) {
          b64.append(line.text);
        } else {
          value->value += '\n';
          value->value.append(line.text);
        }
        value->last_line = line.number;
        break;
      case ZmprovLineKind::other:
        return error_at(
            source, line.number, 1,
            fmt::format("expected 'name: value' or '# name X', got {}", quote_input(line.text)));
    }
  }
  if (auto st = finish_value(); !st) return st.error();
  return out;
}

Result<std::vector<ZmprovListedName>> parse_zmprov_list(std::string_view text,
                                                        std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  std::vector<ZmprovListedName> out;
  for (const auto& line : detail::split_lines(text)) {
    const auto fields = detail::split_fields(line.text);
    if (fields.empty()) continue;
    if (fields.size() > 1) {
      return error_at(source, line.number, fields[1].col,
                      fmt::format("expected one name per line, got {}", quote_input(line.text)));
    }
    out.push_back(ZmprovListedName{std::string(fields[0].text), line.number});
  }
  return out;
}

}  // namespace mw::audit
