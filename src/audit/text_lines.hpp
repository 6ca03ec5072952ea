// Line splitting, bounds and positioned errors shared by the snapshot parsers (internal header).
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

// Limits on one snapshot file: the largest real one (zmprov gacf with certificates) is well under
// a megabyte; a longer line or a bigger file is refused rather than read.
inline constexpr std::size_t kSnapshotMaxBytes = 64u << 20;
inline constexpr std::size_t kSnapshotMaxLine = 1u << 20;

namespace detail {

struct Line {
  std::string_view text;  // without the line break; a CR before the LF is removed too
  std::size_t number;     // 1-based
  bool had_cr;            // the line ended in CR LF (zmprov's wrapped base64 does)
};

// Every line of `text`; a final line without a newline counts, an empty tail does not.
inline std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> out;
  std::size_t start = 0;
  std::size_t number = 1;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    bool cr = false;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
      cr = true;
    }
    out.push_back(Line{line, number++, cr});
    start = end + 1;
  }
  return out;
}

inline Error error_at(std::string_view source, std::size_t line, std::size_t col,
                      std::string_view message) {
  return Error{fmt::format("{}:{}:{}: {}", source, line, col, message)};
}

// Refuses oversized input; every parser calls it first.
inline mw::Status check_bounds(std::string_view text, std::string_view source) {
  if (text.size() > kSnapshotMaxBytes) {
    return Error{fmt::format("{}: {} bytes exceeds the limit of {}", source, text.size(),
                             kSnapshotMaxBytes)};
  }
  std::size_t start = 0;
  std::size_t number = 1;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end - start > kSnapshotMaxLine) {
      return error_at(source, number, kSnapshotMaxLine + 1,
                      fmt::format("line longer than {} bytes", kSnapshotMaxLine));
    }
    start = end + 1;
    ++number;
  }
  return {};
}

inline bool is_space(char c) {
  return c == ' ' || c == '\t';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Whitespace-separated fields with their 1-based columns.
struct Field {
  std::string_view text;
  std::size_t col;
};
inline std::vector<Field> split_fields(std::string_view line) {
  std::vector<Field> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) break;
    const std::size_t b = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    out.push_back(Field{line.substr(b, i - b), b + 1});
  }
  return out;
}

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace detail
// The items of a list value: Postfix and Zimbra lists, fail2ban's jail list, separated by
// blanks and commas.
inline std::vector<std::string_view> split_list(std::string_view v) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == ',' || c == '\t'; };
  while (i < v.size()) {
    while (i < v.size() && sep(v[i])) ++i;
    std::size_t start = i;
    while (i < v.size() && !sep(v[i])) ++i;
    if (i > start) out.push_back(v.substr(start, i - start));
  }
  return out;
}

}  // namespace mw::audit
