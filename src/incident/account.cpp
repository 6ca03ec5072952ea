// The account snapshot: its parsers (zmmailbox filter rules, sieve, zmprov grants and data
// sources) and the mailbox findings built from them.
#include "incident/account.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "audit/collect.hpp"
#include "core/quote.hpp"

namespace mw::incident {

namespace fs = std::filesystem;

// ---- small helpers --------------------------------------------------------------------------

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string address_domain(std::string_view address) {
  while (!address.empty() && (address.back() == '>' || address.back() == '.' ||
                              address.back() == ' ' || address.back() == '\t'))
    address.remove_suffix(1);
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  return lower_ascii(address.substr(at + 1));
}

namespace {

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_host(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  for (;;) {
    const auto dot = s.find('.', start);
    const auto label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!std::all_of(label.begin(), label.end(), host_char)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Lines without their terminator (and a trailing CR), numbered from 1.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    auto line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = nl + 1;
  }
  return out;
}

// Printable for evidence: control bytes as \xNN, cut after `max` bytes.
std::string printable(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

bool is_account_name(std::string_view s) {
  return audit::is_account_name(s);
}

std::string shell_word(std::string_view s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return host_char(c) || c == '.' || c == '_' || c == '@' || c == '/' || c == ':' ||
               c == '=' || c == '+' || c == ',' || c == '%';
      }))
    return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string shell_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += shell_word(a);
  }
  return out;
}

// ---- zmmailbox getFilterRules ----------------------------------------------------------------

namespace {

struct Token {
  std::string text;
  bool quoted = false;
  std::size_t column = 0;  // 1-based
};

// Splits one printed rule into words and strings (see the header for the quote rule).
Result<std::vector<Token>> tokenize_rule(std::string_view line, std::string_view where) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    Token t;
    t.column = i + 1;
    if (line[i] == '"') {
      t.quoted = true;
      std::size_t j = i + 1;
      for (;;) {
        const auto q = line.find('"', j);
        if (q == std::string_view::npos)
          return Error{fmt::format("{}:{}: unterminated string", where, t.column)};
        if (q + 1 == line.size() || line[q + 1] == ' ' || line[q + 1] == '\t') {
          t.text = std::string(line.substr(i + 1, q - i - 1));
          i = q + 1;
          break;
        }
        j = q + 1;
      }
    } else {
      auto end = line.find_first_of(" \t", i);
      if (end == std::string_view::npos) end = line.size();
      t.text = std::string(line.substr(i, end - i));
      i = end;
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool is_action_verb(std::string_view w) {
  static const std::set<std::string, std::less<>> verbs = {
      "keep",   "discard",  "fileinto",  "tag",          "flag",
      "mark",   "redirect", "reply",     "notify",       "stop",
      "reject", "ereject",  "addheader", "deleteheader", "replaceheader"};
  return verbs.count(w) > 0;
}

}  // namespace

Result<std::vector<FilterRule>> parse_filter_rules(std::string_view text, std::string_view source) {
  if (text.size() > kMaxInputBytes)
    return Error{fmt::format("{}: larger than {} bytes", source, kMaxInputBytes)};
  std::vector<FilterRule> rules;
  const auto lines = lines_of(text);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    const auto line = lines[n];
    if (trim(line).empty()) continue;
    const std::string where = fmt::format("{}:{}", source, n + 1);
    auto tokens = tokenize_rule(line, where);
    if (!tokens) return tokens.error();
    const auto& t = *tokens;
    if (t.empty() || !t[0].quoted)
      return Error{fmt::format("{}:{}: a rule starts with its name in double quotes", where,
                               t.empty() ? 1 : t[0].column)};
    FilterRule r;
    r.name = t[0].text;
    r.line = n + 1;
    r.text = printable(line, 400);
    std::size_t i = 1;
    if (i < t.size() && !t[i].quoted && (t[i].text == "active" || t[i].text == "inactive")) {
      r.active = t[i].text == "active";
      ++i;
    }
    if (i < t.size() && !t[i].quoted && (t[i].text == "all" || t[i].text == "any")) {
      r.all = t[i].text == "all";
      ++i;
    }
    std::size_t cond_start = i < t.size() ? t[i].column - 1 : line.size();
    while (i < t.size() && (t[i].quoted || !is_action_verb(t[i].text))) ++i;
    const std::size_t cond_end = i < t.size() ? t[i].column - 1 : line.size();
    r.conditions = printable(trim(line.substr(cond_start, cond_end - cond_start)), 300);
    for (; i < t.size(); ++i) {
      if (!t[i].quoted && is_action_verb(t[i].text)) {
        r.actions.push_back(FilterAction{t[i].text, {}});
      } else if (!r.actions.empty()) {
        r.actions.back().args.push_back(t[i].text);
      }
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

// ---- sieve ----------------------------------------------------------------------------------

namespace {

class SieveLexer {
 public:
  SieveLexer(std::string_view s, std::string_view source) : s_(s), source_(source) {}

  enum class Kind { end, identifier, tag, string, number, punct, error };
  struct Tok {
    Kind kind = Kind::end;
    std::string text;
    std::size_t line = 1, column = 1;
  };

  Tok next() {
    skip_blanks();
    Tok t;
    t.line = line_;
    t.column = column();
    if (pos_ >= s_.size()) return t;
    const char c = s_[pos_];
    if (ident_start(c)) {
      t.kind = Kind::identifier;
      t.text = take_word();
      // "text:" starts a multi-line string.
      if (t.text == "text" && pos_ < s_.size() && s_[pos_] == ':') return multiline(t);
      return t;
    }
    if (c == ':') {
      ++pos_;
      t.kind = Kind::tag;
      t.text = ":" + take_word();
      return t;
    }
    if (c == '"') return quoted(t);
    if (c >= '0' && c <= '9') {
      t.kind = Kind::number;
      while (pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == 'K' ||
                                  s_[pos_] == 'M' || s_[pos_] == 'G'))
        t.text += s_[pos_++];
      return t;
    }
    if (std::string_view("[](){},;").find(c) != std::string_view::npos) {
      ++pos_;
      t.kind = Kind::punct;
      t.text = std::string(1, c);
      return t;
    }
    return fail(t, fmt::format("unexpected character {}", quote_input(std::string(1, c))));
  }

 private:
  static bool ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  std::size_t column() const { return pos_ - line_start_ + 1; }
  void newline() {
    ++line_;
    line_start_ = pos_ + 1;
  }
  void skip_blanks() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\n') {
        newline();
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        pos_ += 2;
        while (pos_ + 1 < s_.size() && !(s_[pos_] == '*' && s_[pos_ + 1] == '/')) {
          if (s_[pos_] == '\n') newline();
          ++pos_;
        }
        pos_ = std::min(s_.size(), pos_ + 2);
      } else {
        return;
      }
    }
  }
  std::string take_word() {
    std::string w;
    while (pos_ < s_.size() && (ident_start(s_[pos_]) || (s_[pos_] >= '0' && s_[pos_] <= '9')))
      w += s_[pos_++];
    return w;
  }
  Tok quoted(Tok t) {
    ++pos_;
    t.kind = Kind::string;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_];
      if (c == '\\' && pos_ + 1 < s_.size()) c = s_[++pos_];
      if (c == '\n') newline();
      t.text += c;
      ++pos_;
    }
    if (pos_ >= s_.size()) return fail(t, "unterminated string");
    ++pos_;
    return t;
  }
  // RFC 5228 2.4.2: "text:" to end of line, then lines up to a lone ".", dot-stuffed.
  Tok multiline(Tok t) {
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    if (pos_ >= s_.size()) return fail(t, "text: without its lines");
    t.kind = Kind::string;
    t.text.clear();
    for (;;) {
      newline();
      ++pos_;
      auto nl = s_.find('\n', pos_);
      if (nl == std::string_view::npos) nl = s_.size();
      auto line = s_.substr(pos_, nl - pos_);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos_ = nl;
      if (line == ".") return t;
      if (!line.empty() && line.front() == '.') line.remove_prefix(1);
      t.text += std::string(line) + "\n";
      if (pos_ >= s_.size()) return fail(t, "text: not ended by a line with a single '.'");
    }
  }
  Tok fail(Tok t, const std::string& why) {
    t.kind = Kind::error;
    t.text = fmt::format("{}:{}:{}: {}", source_, t.line, t.column, why);
    pos_ = s_.size();
    return t;
  }

  std::string_view s_;
  std::string_view source_;
  std::size_t pos_ = 0, line_ = 1, line_start_ = 0;
};

bool watched_sieve_command(std::string_view c) {
  return c == "redirect" || c == "notify" || c == "discard" || c == "vacation" || c == "reject" ||
         c == "ereject";
}

}  // namespace

SieveScan scan_sieve(std::string_view script, std::string_view source) {
  SieveScan out;
  if (script.size() > kMaxInputBytes) {
    out.error = fmt::format("{}: larger than {} bytes", source, kMaxInputBytes);
    return out;
  }
  using K = SieveLexer::Kind;
  SieveLexer lex(script, source);
  bool statement_start = true;
  SieveAction* current = nullptr;
  for (std::size_t guard = 0; guard < script.size() + 2; ++guard) {
    auto t = lex.next();
    if (t.kind == K::end) break;
    if (t.kind == K::error) {
      out.error = t.text;
      break;
    }
    if (t.kind == K::identifier && statement_start) {
      current = nullptr;
      if (watched_sieve_command(lower_ascii(t.text))) {
        out.actions.push_back(SieveAction{lower_ascii(t.text), {}, {}, t.line, t.column});
        current = &out.actions.back();
      }
      statement_start = false;
      continue;
    }
    if (t.kind == K::punct && (t.text == ";" || t.text == "{" || t.text == "}")) {
      statement_start = true;
      current = nullptr;
      continue;
    }
    statement_start = false;
    if (current == nullptr) continue;
    if (t.kind == K::tag)
      current->tags.push_back(lower_ascii(t.text));
    else if (t.kind == K::string)
      current->arguments.push_back(t.text);
  }
  return out;
}

std::vector<std::string> sieve_targets(const SieveAction& a) {
  std::vector<std::string> out;
  if (a.command != "redirect" && a.command != "notify") return out;
  for (std::string_view arg : a.arguments) {
    if (arg.size() > 7 && lower_ascii(arg.substr(0, 7)) == "mailto:") {
      arg.remove_prefix(7);
      arg = arg.substr(0, arg.find('?'));
    }
    arg = trim(arg);
    if (arg.find('@') != std::string_view::npos && arg.find(' ') == std::string_view::npos &&
        arg.find('\n') == std::string_view::npos)
      out.emplace_back(arg);
  }
  return out;
}

// ---- zmprov getGrants ----------------------------------------------------------------------

Result<std::vector<Grant>> parse_grants(std::string_view text, std::string_view source) {
  if (text.size() > kMaxInputBytes)
    return Error{fmt::format("{}: larger than {} bytes", source, kMaxInputBytes)};
  // Column starts of "%-12.12s %-36.36s %-30.30s %-12.12s %-36.36s %-30.30s %s".
  static constexpr std::size_t kWidth[] = {12, 36, 30, 12, 36, 30};
  std::vector<Grant> out;
  const auto lines = lines_of(text);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    const auto line = lines[n];
    const auto t = trim(line);
    if (t.empty() || t.starts_with("target type") || t.starts_with("------------")) continue;
    std::vector<std::string> f;
    std::size_t at = 0;
    for (std::size_t w : kWidth) {
      if (line.size() < at + w + 1)
        return Error{fmt::format("{}:{}:{}: a grant line ends before its right (column {})", source,
                                 n + 1, line.size() + 1, 12 + 36 + 30 + 12 + 36 + 30 + 7)};
      if (line[at + w] != ' ')
        return Error{
            fmt::format("{}:{}:{}: expected a blank between columns", source, n + 1, at + w + 1)};
      f.emplace_back(trim(line.substr(at, w)));
      at += w + 1;
    }
    Grant g;
    g.target_type = f[0];
    g.target_id = f[1];
    g.target_name = f[2];
    g.grantee_type = f[3];
    g.grantee_id = f[4];
    g.grantee_name = f[5];
    g.name_cut = line.substr(12 + 36 + 30 + 12 + 36 + 5, 30).find(' ') == std::string_view::npos &&
                 g.grantee_name.size() == 30;
    std::string_view right = trim(line.substr(at));
    if (!right.empty() && std::string_view("-+^*").find(right.front()) != std::string_view::npos) {
      g.modifier = right.front();
      right.remove_prefix(1);
    }
    if (right.empty()) return Error{fmt::format("{}:{}:{}: no right", source, n + 1, at + 1)};
    g.right = std::string(right);
    g.line = n + 1;
    out.push_back(std::move(g));
  }
  return out;
}

// ---- zmprov gds ----------------------------------------------------------------------------

Result<std::vector<DataSource>> parse_data_sources(std::string_view text, std::string_view source) {
  if (text.size() > kMaxInputBytes)
    return Error{fmt::format("{}: larger than {} bytes", source, kMaxInputBytes)};
  // "# type X" is not part of zmprov's attribute syntax: it becomes an empty line (same line
  // numbers) and its type goes with the "# name" header just above it.
  std::string copy;
  copy.reserve(text.size());
  std::map<std::size_t, std::string> type_after_header;  // header line -> type
  std::size_t line = 1, start = 0, last_header = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const auto l = text.substr(start, nl - start);
    if (l.starts_with("# name ")) last_header = line;
    if (l.starts_with("# type ")) {
      if (last_header == 0 || last_header + 1 != line)
        return Error{
            fmt::format("{}:{}:1: '# type' not right after a '# name' line", source, line)};
      type_after_header[last_header] = std::string(trim(l.substr(7)));
    } else {
      copy += l;
    }
    if (nl < text.size()) copy += '\n';
    start = nl + 1;
    ++line;
  }
  auto parsed = audit::parse_zmprov(copy, source);
  if (!parsed) return parsed.error();
  std::vector<DataSource> out;
  for (auto& e : parsed->entries) {
    DataSource d;
    d.name = e.name;
    d.line = e.line;
    if (auto it = type_after_header.find(e.line); it != type_after_header.end())
      d.type = it->second;
    if (d.type.empty())
      if (auto t = e.first("zimbraDataSourceType")) d.type = std::string(*t);
    d.entry = std::move(e);
    out.push_back(std::move(d));
  }
  return out;
}

// ---- the snapshot ---------------------------------------------------------------------------

namespace {

Result<std::optional<std::string>> read_optional(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::optional<std::string>();
  if (fs::file_size(p, ec) > kMaxInputBytes)
    return Error{fmt::format("{}: larger than {} bytes", p.string(), kMaxInputBytes)};
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{p.string() + ": cannot be read"};
  std::ostringstream s;
  s << in.rdbuf();
  return std::optional<std::string>(s.str());
}

}  // namespace

Result<AccountSnapshot> load_account_snapshot(const fs::path& dir, std::string_view account) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir.string() + ": not a directory"};
  AccountSnapshot s;
  s.dir = dir;
  s.account = lower_ascii(account);
  auto file = [&](std::string_view name) -> std::optional<std::string> {
    auto r = read_optional(dir / name);
    if (!r) {
      s.warnings.push_back(r.error().message);
      return std::nullopt;
    }
    if (!*r) s.warnings.push_back(fmt::format("{}: not in the snapshot", name));
    return std::move(*r);
  };
  if (auto t = file(kAccountFile)) {
    auto p = audit::parse_zmprov(*t, kAccountFile);
    if (!p) {
      s.warnings.push_back(p.error().message);
    } else if (p->entries.empty()) {
      s.warnings.push_back(fmt::format("{}: no account in it", kAccountFile));
    } else {
      const auto& e = p->entries.front();
      if (!e.name.empty() && lower_ascii(e.name) != s.account)
        s.warnings.push_back(fmt::format("{}: is the account {}, not {}", kAccountFile,
                                         quote_input(e.name), s.account));
      else
        s.attrs = e;
    }
  }
  if (auto t = file(kDataSourcesFile)) {
    auto p = parse_data_sources(*t, kDataSourcesFile);
    if (p)
      s.data_sources = std::move(*p);
    else
      s.warnings.push_back(p.error().message);
  }
  if (auto t = file(kGrantsFile)) {
    auto p = parse_grants(*t, kGrantsFile);
    if (p)
      s.grants = std::move(*p);
    else
      s.warnings.push_back(p.error().message);
  }
  if (auto t = file(kFilterRulesFile)) {
    auto p = parse_filter_rules(*t, kFilterRulesFile);
    if (p)
      s.incoming_rules = std::move(*p);
    else
      s.warnings.push_back(p.error().message);
  }
  if (auto t = file(kOutgoingFilterRulesFile)) {
    auto p = parse_filter_rules(*t, kOutgoingFilterRulesFile);
    if (p)
      s.outgoing_rules = std::move(*p);
    else
      s.warnings.push_back(p.error().message);
  }
  if (auto t = file(kMailboxServersFile)) {
    auto p = audit::parse_zmprov_list(*t, kMailboxServersFile);
    if (p) {
      for (const auto& n : *p) {
        if (is_host(n.name))
          s.mailbox_servers.push_back(lower_ascii(n.name));
        else
          s.warnings.push_back(fmt::format("{}:{}: {} is not a host name: left out",
                                           kMailboxServersFile, n.line, quote_input(n.name)));
      }
    } else {
      s.warnings.push_back(p.error().message);
    }
  }
  {
    auto r = read_optional(dir / kDomainsFile);
    if (r && *r) {
      if (auto p = audit::parse_zmprov_list(**r, kDomainsFile))
        for (const auto& n : *p) s.local_domains.insert(lower_ascii(n.name));
    }
  }
  if (auto d = address_domain(s.account); !d.empty()) s.local_domains.insert(d);
  return s;
}

// ---- findings -------------------------------------------------------------------------------

namespace {

class FindingBuilder {
 public:
  explicit FindingBuilder(const AccountSnapshot& s) : s_(s) {}

  bool external(std::string_view address) const {
    const auto d = address_domain(address);
    if (d.empty()) return false;  // a local part only: delivered locally
    for (const auto& local : s_.local_domains)
      if (d == local || (d.size() > local.size() && d.ends_with("." + local))) return false;
    return true;
  }
  bool external_host(std::string_view host) const {
    const auto h = lower_ascii(host);
    for (const auto& local : s_.local_domains)
      if (h == local || (h.size() > local.size() && h.ends_with("." + local))) return false;
    return true;
  }

  std::vector<std::string> zmprov(std::vector<std::string> args) const {
    std::vector<std::string> out = {"zmprov"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
  std::string cmd(std::vector<std::string> argv) const { return shell_line(argv); }
  const std::string& account() const { return s_.account; }

 private:
  const AccountSnapshot& s_;
};

std::vector<std::string> split_addresses(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    const auto comma = v.find_first_of(",;");
    auto one = trim(v.substr(0, comma));
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

std::string evidence_of(std::string_view file, const audit::ZmprovEntry& e, std::string_view attr) {
  const auto* v = e.find(attr);
  if (v == nullptr) return std::string(file);
  return fmt::format("{}:{}: {}: {}", file, v->line, attr, printable(v->value, 160));
}

void filter_findings(const FindingBuilder& b, const std::vector<FilterRule>& rules,
                     std::string_view file, bool outgoing, std::vector<MailboxFinding>& out) {
  const std::string del = outgoing ? "deleteOutgoingFilterRule" : "deleteFilterRule";
  const std::string what = outgoing ? "outgoing filter rule" : "filter rule";
  for (const auto& r : rules) {
    for (const auto& a : r.actions) {
      MailboxFinding f;
      f.evidence = fmt::format("{}:{}: {}", file, r.line, r.text);
      f.revoke = {b.cmd({"zmmailbox", "-z", "-m", b.account(), del, r.name})};
      const std::string state = r.active ? "" : " (inactive)";
      if (a.verb == "redirect" && !a.args.empty()) {
        f.kind = "filter_redirect";
        f.targets = {a.args.back()};
        f.external = b.external(a.args.back());
        f.severity = f.external ? (r.active ? "high" : "medium") : "medium";
        f.summary = fmt::format("{} {}{} redirects mail to {}{}", what, quote_input(r.name), state,
                                a.args.back(), f.external ? " (external)" : "");
      } else if (a.verb == "notify" && !a.args.empty()) {
        f.kind = "filter_notify";
        for (const auto& arg : a.args)
          if (arg.find('@') != std::string::npos && arg.find(' ') == std::string::npos)
            f.targets.push_back(arg);
        if (f.targets.empty()) continue;
        f.external = std::any_of(f.targets.begin(), f.targets.end(),
                                 [&](const std::string& t) { return b.external(t); });
        f.severity = f.external ? "high" : "medium";
        f.summary = fmt::format("{} {}{} sends a notification of each message to {}{}", what,
                                quote_input(r.name), state, f.targets.front(),
                                f.external ? " (external)" : "");
      } else if (a.verb == "discard") {
        f.kind = "filter_discard";
        f.severity = "medium";
        f.summary = fmt::format(
            "{} {}{} silently discards matching mail (when {}): attackers "
            "hide replies and bounce notices this way",
            what, quote_input(r.name), state, r.conditions);
      } else {
        continue;
      }
      out.push_back(std::move(f));
    }
  }
}

void sieve_findings(const FindingBuilder& b, const audit::ZmprovEntry& e, std::string_view attr,
                    std::vector<MailboxFinding>& out, std::vector<std::string>& warnings) {
  const auto* v = e.find(attr);
  if (v == nullptr) return;
  const std::string source = fmt::format("{} {}", kAccountFile, attr);
  auto scan = scan_sieve(v->value, source);
  if (!scan.error.empty()) warnings.push_back(scan.error);
  for (const auto& a : scan.actions) {
    MailboxFinding f;
    // The script's line N is the file's line v->line + N - 1.
    f.evidence = fmt::format("{}:{}: {} ({} line {})", kAccountFile, v->line + a.line - 1,
                             a.command, attr, a.line);
    f.revoke = {b.cmd(b.zmprov({"ma", b.account(), std::string(attr), ""}))};
    if (a.command == "redirect" || a.command == "notify") {
      f.kind = "sieve_redirect";
      f.targets = sieve_targets(a);
      if (f.targets.empty()) continue;
      f.external = std::any_of(f.targets.begin(), f.targets.end(),
                               [&](const std::string& t) { return b.external(t); });
      f.severity = f.external ? "high" : "medium";
      f.summary = fmt::format("{} {}s mail to {}{}", attr, a.command, f.targets.front(),
                              f.external ? " (external)" : "");
    } else if (a.command == "discard") {
      f.kind = "sieve_discard";
      f.severity = "medium";
      f.summary = fmt::format("{} discards mail silently", attr);
    } else {
      continue;
    }
    if (attr.starts_with("zimbraAdminSieve"))
      f.summary += " (an admin script: it may be inherited from the COS or domain)";
    out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<MailboxFinding> mailbox_findings(const AccountSnapshot& s,
                                             std::vector<std::string>* warnings) {
  std::vector<MailboxFinding> out;
  std::vector<std::string> local_warnings;
  auto& ignored = warnings != nullptr ? *warnings : local_warnings;
  FindingBuilder b(s);
  const std::string& acct = s.account;
  if (s.attrs) {
    const auto& e = *s.attrs;
    const bool no_local_copy =
        lower_ascii(e.first("zimbraPrefMailLocalDeliveryDisabled").value_or("")) == "true";
    for (const char* attr : {"zimbraPrefMailForwardingAddress", "zimbraMailForwardingAddress"}) {
      const bool pref = std::string_view(attr) == "zimbraPrefMailForwardingAddress";
      for (auto value : e.values(attr)) {
        for (const auto& addr : split_addresses(value)) {
          MailboxFinding f;
          f.kind = "forwarding";
          f.targets = {addr};
          f.external = b.external(addr);
          f.severity = f.external ? "high" : "medium";
          f.summary = fmt::format("{} forwards every message to {}{}{}", attr, addr,
                                  f.external ? " (external)" : "",
                                  no_local_copy ? ", keeping no local copy" : "");
          f.evidence = evidence_of(kAccountFile, e, attr);
          f.revoke = {pref ? b.cmd(b.zmprov({"ma", acct, attr, ""}))
                           : b.cmd(b.zmprov({"ma", acct, std::string("-") + attr, addr}))};
          if (no_local_copy)
            f.revoke.push_back(
                b.cmd(b.zmprov({"ma", acct, "zimbraPrefMailLocalDeliveryDisabled", "FALSE"})));
          out.push_back(std::move(f));
        }
      }
    }
    if (!s.incoming_rules) sieve_findings(b, e, "zimbraMailSieveScript", out, ignored);
    if (!s.outgoing_rules) sieve_findings(b, e, "zimbraMailOutgoingSieveScript", out, ignored);
    sieve_findings(b, e, "zimbraAdminSieveScriptBefore", out, ignored);
    sieve_findings(b, e, "zimbraAdminSieveScriptAfter", out, ignored);
    if (const auto n = e.values("zimbraAppSpecificPassword").size(); n > 0) {
      MailboxFinding f;
      f.kind = "app_password";
      f.severity = "high";
      f.summary = fmt::format(
          "{} app-specific password(s): IMAP/POP/SMTP access that does not need the account "
          "password (and survives its change)",
          n);
      f.evidence = fmt::format("{}:{}: zimbraAppSpecificPassword ({} value(s))", kAccountFile,
                               e.find("zimbraAppSpecificPassword")->line, n);
      f.revoke = {b.cmd(b.zmprov({"ma", acct, "zimbraAppSpecificPassword", ""}))};
      out.push_back(std::move(f));
    }
    for (const char* attr :
         {"zimbraAllowFromAddress", "zimbraPrefAllowAddressForDelegatedSender"}) {
      for (auto value : e.values(attr)) {
        MailboxFinding f;
        f.kind = "allow_from";
        f.targets = {std::string(value)};
        f.external = b.external(value);
        f.severity = f.external ? "medium" : "low";
        f.summary = fmt::format("{}: the account may send as {}", attr, printable(value, 100));
        f.evidence = evidence_of(kAccountFile, e, attr);
        f.revoke = {b.cmd(b.zmprov({"ma", acct, std::string("-") + attr, std::string(value)}))};
        out.push_back(std::move(f));
      }
    }
  }
  if (s.incoming_rules) filter_findings(b, *s.incoming_rules, kFilterRulesFile, false, out);
  if (s.outgoing_rules) filter_findings(b, *s.outgoing_rules, kOutgoingFilterRulesFile, true, out);
  if (s.data_sources) {
    for (const auto& d : *s.data_sources) {
      const std::string host(d.entry.first("zimbraDataSourceHost").value_or(""));
      const std::string user(d.entry.first("zimbraDataSourceUsername").value_or(""));
      const bool enabled =
          lower_ascii(d.entry.first("zimbraDataSourceEnabled").value_or("TRUE")) == "true";
      MailboxFinding f;
      f.kind = "data_source";
      if (!host.empty()) f.targets = {host};
      f.external = !host.empty() && b.external_host(host);
      f.severity = enabled && f.external ? "high" : "medium";
      f.summary = fmt::format("data source {} ({}{}{}){}{}", quote_input(d.name),
                              d.type.empty() ? "?" : d.type, host.empty() ? "" : ", " + host,
                              user.empty() ? "" : ", user " + user, enabled ? "" : ", disabled",
                              f.external ? ": mail pulled from/pushed to an external server" : "");
      f.evidence = fmt::format("{}:{}: # name {}", kDataSourcesFile, d.line, printable(d.name));
      f.revoke = {b.cmd(b.zmprov({"mds", acct, d.name, "zimbraDataSourceEnabled", "FALSE"})),
                  b.cmd(b.zmprov({"dds", acct, d.name}))};
      out.push_back(std::move(f));
    }
  }
  if (s.grants) {
    for (const auto& g : *s.grants) {
      if (g.modifier == '-') continue;  // a denial grants nothing
      const bool send = g.right == "sendAs" || g.right == "sendOnBehalfOf" ||
                        g.right == "sendAsDistList" || g.right == "sendOnBehalfOfDistList";
      MailboxFinding f;
      f.kind = send ? "send_grant" : "grant";
      const std::string who = g.grantee_name.empty() ? g.grantee_type : g.grantee_name;
      const bool wide = g.grantee_type == "pub" || g.grantee_type == "all" ||
                        g.grantee_type == "gst" || g.grantee_type == "key";
      f.targets = {who};
      f.external = wide || (g.grantee_type == "gst" || b.external(g.grantee_name));
      f.severity = send ? (f.external ? "high" : "medium") : "low";
      f.summary = fmt::format("{} ({}) holds the right {} on the account{}", who, g.grantee_type,
                              g.right, g.name_cut ? " (name cut by zmprov)" : "");
      f.evidence =
          fmt::format("{}:{}: {} {} {}", kGrantsFile, g.line, g.grantee_type, who, g.right);
      std::vector<std::string> argv = {"zmprov", "rvr", "account", acct, g.grantee_type};
      if (g.grantee_type != "pub" && g.grantee_type != "all")
        argv.push_back(!g.grantee_id.empty() ? g.grantee_id : g.grantee_name);
      argv.push_back(g.right);
      f.revoke = {shell_line(argv)};
      out.push_back(std::move(f));
    }
  }
  static const std::map<std::string, int, std::less<>> rank = {
      {"critical", 0}, {"high", 1}, {"medium", 2}, {"low", 3}};
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return rank.at(a.severity) < rank.at(b.severity);
  });
  return out;
}

std::vector<MailboxFinding> sieve_dir_findings(const fs::path& dir, std::string_view account,
                                               std::set<std::string> local_domains,
                                               std::vector<std::string>* warnings) {
  std::vector<MailboxFinding> out;
  AccountSnapshot s;
  s.account = lower_ascii(account);
  s.local_domains = std::move(local_domains);
  if (auto d = address_domain(s.account); !d.empty()) s.local_domains.insert(d);
  FindingBuilder b(s);
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->path().extension() == ".sieve" && fs::is_regular_file(it->path(), ec2))
      files.push_back(it->path());
  }
  if (ec && warnings != nullptr)
    warnings->push_back(fmt::format("{}: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = read_optional(f);
    if (!text || !*text) {
      if (warnings != nullptr)
        warnings->push_back(text ? f.string() + ": gone" : text.error().message);
      continue;
    }
    const std::string name = f.filename().string();
    auto scan = scan_sieve(**text, f.string());
    if (!scan.error.empty() && warnings != nullptr) warnings->push_back(scan.error);
    for (const auto& a : scan.actions) {
      MailboxFinding m;
      m.evidence = fmt::format("{}:{}:{}: {}", f.string(), a.line, a.column, a.command);
      m.revoke = {shell_line({"doveadm", "sieve", "deactivate", "-u", s.account}),
                  shell_line({"doveadm", "sieve", "delete", "-u", s.account, f.stem().string()})};
      if (a.command == "redirect" || a.command == "notify") {
        m.kind = "sieve_redirect";
        m.targets = sieve_targets(a);
        if (m.targets.empty()) continue;
        m.external = std::any_of(m.targets.begin(), m.targets.end(),
                                 [&](const std::string& t) { return b.external(t); });
        m.severity = m.external ? "high" : "medium";
        m.summary = fmt::format("sieve script {} {}s mail to {}{}", quote_input(name), a.command,
                                m.targets.front(), m.external ? " (external)" : "");
      } else if (a.command == "discard") {
        m.kind = "sieve_discard";
        m.severity = "medium";
        m.summary = fmt::format("sieve script {} discards mail silently", quote_input(name));
      } else {
        continue;
      }
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace mw::incident
