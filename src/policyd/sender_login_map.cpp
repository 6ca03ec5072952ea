// Reads a Postfix smtpd_sender_login_maps source file and answers "may this login send as
// this address" in Postfix's lookup order.
#include "policyd/sender_login_map.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "catalog/toml_file.hpp"
#include "core/quote.hpp"

namespace mw::policyd {

namespace {

// 100,000 accounts with a few aliases each is a few megabytes.
constexpr std::uintmax_t kMaxMapBytes = 64 << 20;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

struct LogicalLine {
  std::size_t line = 0;  // where it starts, 1-based
  std::string text;
};

// "user+ext" -> "user" as Postfix splits a localpart (postconf(5) recipient_delimiter): at the
// first delimiter character, never for the special addresses, never to an empty localpart.
std::optional<std::string_view> strip_extension(std::string_view localpart,
                                                std::string_view delimiters) {
  if (delimiters.empty()) return std::nullopt;
  if (iequal(localpart, "postmaster") || iequal(localpart, "mailer-daemon") ||
      iequal(localpart, "double-bounce"))
    return std::nullopt;
  // owner_request_special = yes (the default): "owner-list" and "list-request" stay whole.
  if (delimiters.find('-') != std::string_view::npos) {
    if (localpart.size() > 6 && iequal(localpart.substr(0, 6), "owner-")) return std::nullopt;
    if (localpart.size() > 8 && iequal(localpart.substr(localpart.size() - 8), "-request"))
      return std::nullopt;
  }
  const auto cut = localpart.find_first_of(delimiters);
  if (cut == std::string_view::npos || cut == 0) return std::nullopt;
  return localpart.substr(0, cut);
}

}  // namespace

Result<SenderLoginMap> SenderLoginMap::load(const std::filesystem::path& file,
                                            std::string_view recipient_delimiter) {
  auto text = read_catalog_file(file, kMaxMapBytes);
  if (!text) return text.error();
  return parse(*text, file.string(), recipient_delimiter);
}

Result<SenderLoginMap> SenderLoginMap::parse(std::string_view text, std::string_view name,
                                             std::string_view recipient_delimiter) {
  // Physical lines into logical lines (postmap(1) INPUT FILE FORMAT).
  std::vector<LogicalLine> logical;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.find('\0') != std::string_view::npos)
      return Error{fmt::format("{}:{}: a NUL byte: not a text file", name, line_no)};
    const auto body = trim(line);
    if (body.empty() || body.front() == '#') continue;
    if (is_space(line.front())) {
      if (logical.empty())
        return Error{fmt::format(
            "{}:{}: {} starts with whitespace (a continuation line) but no entry precedes it", name,
            line_no, quote_input(body))};
      logical.back().text += ' ';
      logical.back().text += body;
      continue;
    }
    logical.push_back({line_no, std::string(body)});
  }

  SenderLoginMap map;
  map.delimiter_ = std::string(recipient_delimiter);
  for (const auto& l : logical) {
    std::string_view rest = l.text;
    // The key ends at the first whitespace outside double quotes; quotes and backslashes are
    // kept, as postmap(1) stores them ("a b"@example.com is the RFC 5322 form of the address).
    bool quoted = false;
    std::size_t i = 0;
    for (; i < rest.size(); ++i) {
      if (quoted && rest[i] == '\\' && i + 1 < rest.size()) {
        ++i;
      } else if (rest[i] == '"') {
        quoted = !quoted;
      } else if (!quoted && is_space(rest[i])) {
        break;
      }
    }
    if (quoted)
      return Error{fmt::format("{}:{}: {}: a '\"' in the key is not closed", name, l.line,
                               quote_input(rest.substr(0, 40)))};
    const std::string key(rest.substr(0, i));
    rest.remove_prefix(i);
    if (key.empty()) return Error{fmt::format("{}:{}: the key is empty", name, l.line)};
    const auto value = trim(rest);
    if (value.empty())
      return Error{fmt::format("{}:{}: {}: no value (the SASL login names that own it)", name,
                               l.line, quote_input(key))};
    std::vector<std::string> owners;
    for (std::size_t j = 0; j < value.size();) {
      while (j < value.size() && (value[j] == ',' || is_space(value[j]))) ++j;
      const auto start = j;
      while (j < value.size() && value[j] != ',' && !is_space(value[j])) ++j;
      if (j > start) owners.push_back(lower(value.substr(start, j - start)));
    }
    if (owners.empty())
      return Error{
          fmt::format("{}:{}: {}: the value lists no login name", name, l.line, quote_input(key))};
    // As postmap: a duplicate key keeps its first value.
    map.entries_.emplace(lower(key), std::move(owners));
  }
  return map;
}

const std::vector<std::string>* SenderLoginMap::owners(std::string_view sender) const {
  const std::string s = lower(sender);
  if (auto it = entries_.find(s); it != entries_.end()) return &it->second;
  const auto at = s.rfind('@');
  if (at == std::string::npos) return nullptr;
  const std::string_view localpart(s.data(), at);
  const std::string_view domain(s.data() + at, s.size() - at);  // with '@'
  if (auto base = strip_extension(localpart, delimiter_)) {
    if (auto it = entries_.find(std::string(*base) + std::string(domain)); it != entries_.end())
      return &it->second;
  }
  if (auto it = entries_.find(std::string(domain)); it != entries_.end()) return &it->second;
  return nullptr;
}

bool SenderLoginMap::owns(std::string_view login, std::string_view sender) const {
  if (sender.empty()) return true;
  if (iequal(login, sender)) return true;
  if (const auto* list = owners(sender)) {
    const std::string l = lower(login);
    return std::find(list->begin(), list->end(), l) != list->end();
  }
  // No entry: with a delimiter, "alice+news@example.com" is still alice@example.com's own.
  if (const auto at = sender.rfind('@'); at != std::string_view::npos) {
    if (auto base = strip_extension(sender.substr(0, at), delimiter_))
      return iequal(login, std::string(*base) + std::string(sender.substr(at)));
  }
  return false;
}

}  // namespace mw::policyd
