// Port and protocol parsing with positioned errors, and the canonical text of a port set.
#include "core/port_set.hpp"

#include "core/quote.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace mw {
namespace {

std::string quote(std::string_view text) {
  return quote_input(text);
}

Error fail(std::string_view text, std::string_view detail) {
  return Error{fmt::format("{}: {}", quote(text), detail)};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// What is wrong with one port number, or nullopt with *out set. No quoting: callers say where.
std::optional<std::string> port_problem(std::string_view s, std::uint16_t* out) {
  if (s.empty()) return "empty port";
  if (s[0] == '+' || s[0] == '-') return "a sign is not allowed; write a plain number 1-65535";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ' || s[i] == '\t') return "whitespace is allowed only after a comma";
    if (s[i] == '-') return "a range is not accepted here, only a single port";
    if (!is_digit(s[i])) return "not a decimal port number 1-65535";
  }
  if (s.size() > 1 && s[0] == '0') return "leading zero is not allowed";
  unsigned long v = 0;
  for (char c : s.substr(0, 6)) v = v * 10 + static_cast<unsigned long>(c - '0');
  if (s.size() > 5 || v > 65535) return fmt::format("port {} exceeds 65535", clip_digits(s));
  if (v == 0) return "port 0 is not a port one can filter on (ports are 1-65535)";
  *out = static_cast<std::uint16_t>(v);
  return std::nullopt;
}

std::optional<std::string> item_problem(std::string_view item, std::uint16_t* lo,
                                        std::uint16_t* hi) {
  if (item.empty()) return "empty item";
  // A leading '-' is a sign, not a range with no start.
  const std::size_t dash = item.find('-', 1);
  if (dash == std::string_view::npos) {
    if (auto e = port_problem(item, lo)) return e;
    *hi = *lo;
    return std::nullopt;
  }
  const std::string_view a = item.substr(0, dash);
  const std::string_view b = item.substr(dash + 1);
  if (b.empty()) return "range has no end port";
  if (b.find('-') != std::string_view::npos) return "more than one '-' in a range";
  if (auto e = port_problem(a, lo)) return fmt::format("range start: {}", *e);
  if (auto e = port_problem(b, hi)) return fmt::format("range end: {}", *e);
  if (*lo > *hi) return fmt::format("range start {} exceeds range end {}", *lo, *hi);
  return std::nullopt;
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  return p == Protocol::tcp ? "tcp" : "udp";
}

Result<Protocol> parse_protocol(std::string_view text) {
  if (text == "tcp") return Protocol::tcp;
  if (text == "udp") return Protocol::udp;
  if (text.empty()) return fail(text, "empty protocol (expected 'tcp' or 'udp')");
  return fail(text, "unknown protocol (expected 'tcp' or 'udp', lower case)");
}

PortSet PortSet::all() {
  return PortSet(IntervalSet<std::uint16_t>::full(65535));
}

std::size_t PortSet::count() const {
  std::size_t n = 0;
  for (const auto& i : s_.intervals()) n += static_cast<std::size_t>(i.hi - i.lo) + 1;
  return n;
}

std::string PortSet::to_string() const {
  std::string out;
  for (const auto& i : s_.intervals()) {
    if (!out.empty()) out += ", ";
    out += i.lo == i.hi ? fmt::format("{}", i.lo) : fmt::format("{}-{}", i.lo, i.hi);
  }
  return out;
}

Result<std::uint16_t> parse_port(std::string_view text) {
  std::uint16_t p = 0;
  if (auto e = port_problem(text, &p)) return fail(text, *e);
  return p;
}

Result<PortSet> parse_port_set(std::string_view text) {
  if (text.empty()) return fail(text, "empty port list");
  PortSet set;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    std::uint16_t lo = 0, hi = 0;
    if (auto e = item_problem(item, &lo, &hi)) {
      if (item.empty() && pos == text.size()) {
        return fail(text, fmt::format("trailing ',' at character {}", text.rfind(',') + 1));
      }
      if (item.empty()) return fail(text, fmt::format("empty item at character {}", pos + 1));
      return fail(text, fmt::format("item {} at character {}: {}", quote(item), pos + 1, *e));
    }
    set.add(lo, hi);
    if (comma == text.size()) break;
    pos = comma + 1;
    // Spaces are allowed only after a comma, which is how people (and to_string) write lists.
    while (pos < text.size() && text[pos] == ' ') ++pos;
  }
  return set;
}

}  // namespace mw
