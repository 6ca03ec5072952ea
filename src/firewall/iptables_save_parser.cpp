// iptables-save parser: tables, chains and rules with matches folded into sets, positioned errors.
#include "firewall/iptables_save_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

#include "core/quote.hpp"

namespace mw::fw {
namespace {

// ---- tokens ----

struct Token {
  std::string text;       // after quote and escape removal
  std::size_t begin = 0;  // byte offsets in the line: [begin, end)
  std::size_t end = 0;
  bool quoted = false;  // a quoted token is always an argument, even "-x" or "!"
  std::size_t col() const { return begin + 1; }
};

struct LineError {
  std::size_t col;
  std::string message;
};

// iptables-restore's splitting (add_param_to_argv): blanks separate arguments; a double quote
// opens a quoted part in which a backslash escapes the next character and the closing quote ends
// the argument; outside quotes a backslash is an ordinary character.
std::variant<std::vector<Token>, LineError> tokenize(std::string_view line) {
  std::vector<Token> out;
  Token cur;
  bool in_token = false;
  out.reserve(16);  // a rule line has a dozen or so
  auto finish = [&](std::size_t end) {
    cur.end = end;
    out.push_back(std::move(cur));
    cur = Token{};
    in_token = false;
  };
  // Runs of ordinary characters are copied at once rather than a character at a time.
  const std::size_t n = line.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = line[i];
    if (c == ' ' || c == '\t') {
      if (in_token) finish(i);
      ++i;
      continue;
    }
    if (!in_token) {
      in_token = true;
      cur.begin = i;
    }
    if (out.size() >= kIptablesSaveMaxArgs) {
      return LineError{i + 1,
                       fmt::format("more than {} arguments on one line", kIptablesSaveMaxArgs)};
    }
    if (c == '"') {
      const std::size_t quote_col = i + 1;
      cur.quoted = true;
      ++i;
      for (;;) {
        const std::size_t stop = line.find_first_of("\\\"", i);
        if (stop == std::string_view::npos)
          return LineError{quote_col, "unterminated double quote"};
        cur.text.append(line.substr(i, stop - i));
        if (line[stop] == '"') {
          finish(stop + 1);
          i = stop + 1;
          break;
        }
        if (stop + 1 == n) return LineError{stop + 1, "backslash at the end of the line"};
        cur.text += line[stop + 1];
        i = stop + 2;
      }
      continue;
    }
    std::size_t stop = i + 1;
    while (stop < n && line[stop] != ' ' && line[stop] != '\t' && line[stop] != '"') ++stop;
    if (cur.begin == i && (stop == n || line[stop] != '"')) {
      // A whole token without quotes, the usual case: built in place.
      Token& t = out.emplace_back();
      t.text.assign(line.data() + i, stop - i);
      t.begin = i;
      t.end = stop;
      in_token = false;
    } else {
      cur.text.append(line.substr(i, stop - i));
    }
    i = stop;
  }
  if (in_token) finish(n);
  return out;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---- tables and their built-in chains ----

struct BuiltinSpec {
  std::string_view chain;
  Hook hook;
  int priority;
};

struct TableSpec {
  std::string_view name;
  std::vector<BuiltinSpec> builtins;
};

// The fixed hook priorities of the x_tables tables (NF_IP_PRI_*), which nft base chains are
// ordered against.
const std::vector<TableSpec>& table_specs() {
  static const std::vector<TableSpec> specs = {
      {"raw", {{"PREROUTING", Hook::prerouting, -300}, {"OUTPUT", Hook::output, -300}}},
      {"mangle",
       {{"PREROUTING", Hook::prerouting, -150},
        {"INPUT", Hook::input, -150},
        {"FORWARD", Hook::forward, -150},
        {"OUTPUT", Hook::output, -150},
        {"POSTROUTING", Hook::postrouting, -150}}},
      {"nat",
       {{"PREROUTING", Hook::prerouting, -100},
        {"INPUT", Hook::input, 100},
        {"OUTPUT", Hook::output, -100},
        {"POSTROUTING", Hook::postrouting, 100}}},
      {"filter",
       {{"INPUT", Hook::input, 0}, {"FORWARD", Hook::forward, 0}, {"OUTPUT", Hook::output, 0}}},
      {"security",
       {{"INPUT", Hook::input, 50}, {"FORWARD", Hook::forward, 50}, {"OUTPUT", Hook::output, 50}}},
  };
  return specs;
}

const BuiltinSpec* builtin_of(const TableSpec& t, std::string_view chain) {
  for (const auto& b : t.builtins) {
    if (b.chain == chain) return &b;
  }
  return nullptr;
}

// ---- values ----

// Protocol names iptables knows without /etc/protocols, plus the common ones from it.
std::optional<int> protocol_number(std::string_view name) {
  static const std::array<std::pair<std::string_view, int>, 17> names = {{
      {"all", 0},
      {"tcp", 6},
      {"udp", 17},
      {"udplite", 136},
      {"icmp", 1},
      {"icmpv6", 58},
      {"ipv6-icmp", 58},
      {"esp", 50},
      {"ah", 51},
      {"sctp", 132},
      {"mh", 135},
      {"ipv6-mh", 135},
      {"gre", 47},
      {"igmp", 2},
      {"dccp", 33},
      {"ipv6", 41},
      {"ipencap", 4},
  }};
  const std::string l = lower(name);
  for (const auto& [n, v] : names) {
    if (n == l) return v;
  }
  if (all_digits(name) && name.size() <= 3) {
    const int v = std::stoi(std::string(name));
    if (v <= 255) return v;
  }
  return std::nullopt;
}

// The match module `-p NAME` loads implicitly, so that "-p tcp --dport 22" works without -m.
std::string_view implicit_module(int proto) {
  switch (proto) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
    case 58:
      return "icmp6";
    case 132:
      return "sctp";
    case 33:
      return "dccp";
    case 136:
      return "udplite";
    case 135:
      return "mh";
    case 50:
      return "esp";
    case 51:
      return "ah";
    default:
      return "";
  }
}

enum class PortOutcome { ok, name };

// One port: decimal 0-65535. A service name is reported as such (the dump's host resolved it
// with its /etc/services, which we do not have); a leading zero is refused because iptables
// reads "022" as octal.
std::variant<std::uint16_t, PortOutcome, std::string> parse_one_port(std::string_view s) {
  if (s.empty()) return std::string("empty port");
  if (!all_digits(s)) {
    const bool name = std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    });
    if (name && !(s[0] >= '0' && s[0] <= '9')) return PortOutcome::name;
    return fmt::format("{}: not a port number", quote_input(s));
  }
  if (s.size() > 1 && s[0] == '0') {
    return fmt::format("{}: leading zero (iptables reads it as octal); write the decimal port",
                       quote_input(s));
  }
  if (s.size() > 5 || std::stoul(std::string(s)) > 65535) {
    return fmt::format("'{}' exceeds 65535", clip_digits(s));
  }
  return static_cast<std::uint16_t>(std::stoul(std::string(s)));
}

// --dport/--sport of tcp/udp: "p", "a:b", ":b" (from 0), "a:" (to 65535); or a list of "p" and
// "a:b" for multiport. nullopt with *name set when a service name was used.
std::variant<PortSet, std::string> parse_ports(std::string_view text, bool list, bool* name) {
  PortSet out;
  const auto items = list ? split(text, ',') : std::vector<std::string_view>{text};
  // multiport holds 15 ports, a range taking two (XT_MULTI_PORTS); iptables refuses more.
  std::size_t slots = 0;
  for (auto item : items) slots += item.find(':') == std::string_view::npos ? 1 : 2;
  if (list && slots > 15) {
    return fmt::format("{}: more than 15 ports (a range counts as two)", quote_input(text));
  }
  for (auto item : items) {
    if (item.empty()) return fmt::format("{}: empty item in the port list", quote_input(text));
    const auto colon = item.find(':');
    std::uint16_t lo = 0, hi = 65535;
    auto one = [&](std::string_view s, std::uint16_t* v) -> std::optional<std::string> {
      auto r = parse_one_port(s);
      if (auto* e = std::get_if<std::string>(&r)) return *e;
      if (std::holds_alternative<PortOutcome>(r)) {
        *name = true;
        return std::nullopt;
      }
      *v = std::get<std::uint16_t>(r);
      return std::nullopt;
    };
    if (colon == std::string_view::npos) {
      if (auto e = one(item, &lo)) return *e;
      hi = lo;
    } else {
      const auto a = item.substr(0, colon), b = item.substr(colon + 1);
      if (b.find(':') != std::string_view::npos) {
        return fmt::format("{}: more than one ':' in a port range", quote_input(item));
      }
      // Open ends are iptables' tcp/udp syntax; multiport wants both ends.
      if (list && (a.empty() || b.empty())) {
        return fmt::format("{}: a multiport range needs both ends", quote_input(item));
      }
      if (!a.empty()) {
        if (auto e = one(a, &lo)) return *e;
      }
      if (!b.empty()) {
        if (auto e = one(b, &hi)) return *e;
      }
      if (*name) continue;
      if (lo > hi) return fmt::format("{}: range start exceeds its end", quote_input(item));
    }
    if (!*name) out.add(lo, hi);
  }
  return out;
}

// A mask written as an address ("255.255.255.0"): its prefix length, or nullopt when the ones
// are not contiguous (iptables accepts such masks; no prefix list expresses them cheaply).
std::optional<int> mask_length(const Address& m) {
  const int bits = family_bits(m.family);
  int len = 0;
  while (len < bits && ((m.value >> (bits - 1 - len)) & 1) != 0) ++len;
  const u128 expect = len == 0 ? u128{0} : (family_max(m.family) & ~host_mask(m.family, len));
  if (m.value != expect) return std::nullopt;
  return len;
}

// -s/-d: "a[/mask][,b...]". The result covers only `fam`'s space.
struct AddrOutcome {
  std::optional<AddressSet> set;  // nullopt: a non-contiguous mask, not representable
  std::string error;
};

AddrOutcome parse_addresses(std::string_view text, Family fam) {
  AddressSet out;
  bool representable = true;
  const auto items = split(text, ',');
  if (items.size() > kIptablesSaveMaxListItems) {
    return {std::nullopt,
            fmt::format("more than {} addresses in one list", kIptablesSaveMaxListItems)};
  }
  for (auto item : items) {
    if (item.empty())
      return {std::nullopt, fmt::format("{}: empty item in the address list", quote_input(text))};
    const auto slash = item.find('/');
    auto addr = parse_address(item.substr(0, slash));
    if (!addr.ok()) {
      return {std::nullopt,
              addr.error().message + " (host names are not resolved: write the address)"};
    }
    if (addr->family != fam) {
      return {std::nullopt, fmt::format("{}: an {} address in an {} dump", quote_input(item),
                                        family_name(addr->family), family_name(fam))};
    }
    int len = family_bits(fam);
    if (slash != std::string_view::npos) {
      const auto m = item.substr(slash + 1);
      if (m.find('.') != std::string_view::npos || m.find(':') != std::string_view::npos) {
        auto mask = parse_address(m);
        if (!mask.ok()) return {std::nullopt, "mask " + mask.error().message};
        if (mask->family != fam) {
          return {std::nullopt, fmt::format("{}: mask of another family", quote_input(item))};
        }
        const auto l = mask_length(*mask);
        if (!l) {
          representable = false;
          continue;
        }
        len = *l;
      } else {
        if (!all_digits(m) || (m.size() > 1 && m[0] == '0') || m.size() > 3 ||
            std::stoi(std::string(m)) > family_bits(fam)) {
          return {std::nullopt,
                  fmt::format("{}: bad prefix length (0-{})", quote_input(item), family_bits(fam))};
        }
        len = std::stoi(std::string(m));
      }
    }
    out.add(Prefix{Address{fam, addr->value & ~host_mask(fam, len)}, len});
  }
  if (!representable) return {std::nullopt, ""};
  return {out, ""};
}

// TCP flag names of the tcp match; "ALL" is the six classic flags.
std::optional<unsigned> tcp_flags(std::string_view text) {
  unsigned v = 0;
  for (auto f : split(text, ',')) {
    const std::string u = upper(f);
    if (u == "FIN")
      v |= 0x01;
    else if (u == "SYN")
      v |= 0x02;
    else if (u == "RST")
      v |= 0x04;
    else if (u == "PSH")
      v |= 0x08;
    else if (u == "ACK")
      v |= 0x10;
    else if (u == "URG")
      v |= 0x20;
    else if (u == "ALL")
      v |= 0x3f;
    else if (u == "NONE")
      v |= 0;
    else
      return std::nullopt;
  }
  return v;
}

// --ctstate / --state lists. SNAT and DNAT (conntrack's virtual states) are reported apart:
// the model has no bit for them.
std::optional<std::uint8_t> ct_states(std::string_view text, bool allow_nat, bool* nat) {
  std::uint8_t v = 0;
  for (auto s : split(text, ',')) {
    const std::string u = upper(s);
    if (u == "NEW")
      v |= kCtNew;
    else if (u == "ESTABLISHED")
      v |= kCtEstablished;
    else if (u == "RELATED")
      v |= kCtRelated;
    else if (u == "INVALID")
      v |= kCtInvalid;
    else if (u == "UNTRACKED")
      v |= kCtUntracked;
    else if (allow_nat && (u == "SNAT" || u == "DNAT"))
      *nat = true;
    else
      return std::nullopt;
  }
  return v;
}

constexpr std::uint8_t kCtAll = kCtNew | kCtEstablished | kCtRelated | kCtInvalid | kCtUntracked;

// ---- rule options ----

// One option of a match module or target as written: "! --dport 22".
struct Opt {
  bool negate = false;
  std::string_view name;  // the option's token's text
  std::vector<const Token*> args;
  std::size_t begin = 0, end = 0;  // span in the line, the '!' included
  std::size_t col = 0;             // of the option name
};

struct Module {
  std::string name;
  bool implicit = false;  // loaded by -p, not written with -m
  std::size_t begin = 0, end = 0;
  std::vector<Opt> opts;
};

enum class Basic { none, src, dst, proto, iif, oif, frag, match, jump, goto_, counters };

Basic basic_option(const Token& t) {
  const std::string_view s = t.text;
  if (t.quoted || s.size() < 2 || s[0] != '-') return Basic::none;
  if (s == "-s" || s == "--source" || s == "--src") return Basic::src;
  if (s == "-d" || s == "--destination" || s == "--dst") return Basic::dst;
  if (s == "-p" || s == "--protocol") return Basic::proto;
  if (s == "-i" || s == "--in-interface") return Basic::iif;
  if (s == "-o" || s == "--out-interface") return Basic::oif;
  if (s == "-f" || s == "--fragment") return Basic::frag;
  if (s == "-m" || s == "--match") return Basic::match;
  if (s == "-j" || s == "--jump") return Basic::jump;
  if (s == "-g" || s == "--goto") return Basic::goto_;
  if (s == "-c" || s == "--set-counters") return Basic::counters;
  return Basic::none;
}

bool is_option(const Token& t) {
  return !t.quoted && t.text.size() > 1 && t.text[0] == '-';
}

bool is_bang(const Token& t) {
  return !t.quoted && t.text == "!";
}

// The options each understood module interprets; any other option of such a module makes the
// whole module uncertain.
const std::vector<std::string_view>* known_options(std::string_view module) {
  static const std::unordered_map<std::string_view, std::vector<std::string_view>> k = {
      {"tcp",
       {"--sport", "--source-port", "--dport", "--destination-port", "--tcp-flags", "--syn"}},
      {"udp", {"--sport", "--source-port", "--dport", "--destination-port"}},
      {"multiport", {"--dports", "--destination-ports", "--sports", "--source-ports", "--ports"}},
      {"icmp", {"--icmp-type"}},
      {"icmp6", {"--icmpv6-type"}},
      {"conntrack", {"--ctstate"}},
      {"state", {"--state"}},
      {"comment", {"--comment"}},
      {"limit", {"--limit", "--limit-burst"}},
      {"addrtype", {"--src-type", "--dst-type"}},
      // IPv6 extension headers: a first SYN or datagram carries none, so these never match it.
      {"rt",
       {"--rt-type", "--rt-segsleft", "--rt-len", "--rt-0-res", "--rt-0-addrs",
        "--rt-0-not-strict"}},
      {"frag", {"--fragid", "--fraglen", "--fragres", "--fragfirst", "--fragmore", "--fraglast"}},
      {"hbh", {"--hbh-len", "--hbh-opts"}},
      {"dst", {"--dst-len", "--dst-opts"}},
  };
  const auto it = k.find(module);
  return it == k.end() ? nullptr : &it->second;
}

bool knows(std::string_view module, std::string_view opt) {
  const auto* k = known_options(module);
  return k != nullptr && std::find(k->begin(), k->end(), opt) != k->end();
}

// Targets whose only effect on a NEW inbound connection is to let it go on to the next rule:
// they log, mark, rewrite the source (SNAT/MASQUERADE on the way out) or clamp the MSS. None
// changes whether the connection is accepted.
bool is_passive_target(std::string_view t) {
  static const std::array<std::string_view, 9> names = {
      "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "MASQUERADE", "SNAT", "TRACE"};
  return std::find(names.begin(), names.end(), t) != names.end();
}

// Extension targets are upper-case by convention (TPROXY, NFQUEUE, SET...): an undeclared
// upper-case name is an extension we do not model, anything else a jump to a missing chain.
bool looks_like_extension(std::string_view t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// ---- the parser ----

struct Section {
  const TableSpec* spec = nullptr;
  Table table;
  std::size_t line = 0;
  std::unordered_map<std::string, std::size_t> index;  // chain name -> position in chains
};

class Parser {
 public:
  Parser(std::string_view source, Family family) : source_(source), family_(family) {}

  Result<std::vector<Table>> run(std::string_view text) {
    std::size_t line_no = 0;
    std::size_t start = 0;
    while (start < text.size()) {
      auto nl = text.find('\n', start);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(start, nl - start);
      start = nl + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (auto e = do_line(line, line_no)) return *e;
    }
    if (open_) {
      return err(line_no + 1, 1,
                 fmt::format("missing COMMIT: table '{}' (from line {}) ends with the input",
                             section_.table.name, section_.line));
    }
    return std::move(tables_);
  }

 private:
  Error err(std::size_t line, std::size_t col, std::string_view msg) const {
    return Error{fmt::format("{}:{}:{}: {}", source_, line, col, msg)};
  }

  std::optional<Error> do_line(std::string_view line, std::size_t no) {
    if (line.size() > kIptablesSaveMaxLine) {
      return err(no, 1, fmt::format("line longer than {} bytes", kIptablesSaveMaxLine));
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return err(no, i + 1, fmt::format("control character \\x{:02x}", c));
      }
    }
    std::size_t lead = 0;
    while (lead < line.size() && (line[lead] == ' ' || line[lead] == '\t')) ++lead;
    if (lead == line.size() || line[lead] == '#') return std::nullopt;
    if (line[lead] == '*') return table_header(line, lead, no);
    if (!open_) {
      return err(no, lead + 1, "a line outside a table: a '*table' line must come first");
    }
    if (line[lead] == ':') return chain_decl(line, no);
    auto toks = tokenize(line);
    if (auto* le = std::get_if<LineError>(&toks)) return err(no, le->col, le->message);
    auto& t = std::get<std::vector<Token>>(toks);
    if (t.size() == 1 && t[0].text == "COMMIT" && !t[0].quoted) {
      tables_.push_back(std::move(section_.table));
      open_ = false;
      return std::nullopt;
    }
    return command(line, t, no);
  }

  std::optional<Error> table_header(std::string_view line, std::size_t at, std::size_t no) {
    if (open_) {
      return err(no, at + 1,
                 fmt::format("table '{}' (from line {}) has no COMMIT before this table",
                             section_.table.name, section_.line));
    }
    std::string_view name = line.substr(at + 1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    const TableSpec* spec = nullptr;
    for (const auto& s : table_specs()) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return err(no, at + 2,
                 fmt::format("unknown table {} (expected filter, nat, mangle, raw or security)",
                             quote_input(name)));
    }
    for (const auto& t : tables_) {
      if (t.name == name) {
        return err(no, at + 2, fmt::format("table '{}' appears a second time", name));
      }
    }
    section_ = Section{};
    section_.spec = spec;
    section_.line = no;
    section_.table.origin = TableOrigin::iptables_save;
    section_.table.family = family_ == Family::v4 ? TableFamily::ip : TableFamily::ip6;
    section_.table.name = std::string(name);
    section_.table.source = std::string(source_);
    open_ = true;
    return std::nullopt;
  }

  std::optional<Verdict> policy_of(std::string_view p) const {
    if (p == "ACCEPT") return Verdict::accept;
    if (p == "DROP") return Verdict::drop;
    return std::nullopt;
  }

  std::optional<Error> check_chain_name(const Token& t, std::size_t no) const {
    if (t.text.empty() || t.text[0] == '-' || t.text[0] == '!') {
      return err(no, t.col(), fmt::format("{}: not a chain name", quote_input(t.text)));
    }
    return std::nullopt;
  }

  // Adds a chain; for a built-in one, its base with the table's hook and priority.
  Chain& add_chain(const std::string& name, std::optional<Verdict> policy, std::size_t no) {
    Chain c;
    c.name = name;
    c.origin = fmt::format("{}:{}", source_, no);
    if (policy) {
      const auto* b = builtin_of(*section_.spec, name);
      c.base = BaseChain{b->hook, b->priority, *policy, section_.table.name};
    }
    section_.index.emplace(name, section_.table.chains.size());
    section_.table.chains.push_back(std::move(c));
    return section_.table.chains.back();
  }

  // ":NAME POLICY [packets:bytes]"
  std::optional<Error> chain_decl(std::string_view line, std::size_t no) {
    auto toks = tokenize(line);
    if (auto* le = std::get_if<LineError>(&toks)) return err(no, le->col, le->message);
    auto t = std::get<std::vector<Token>>(std::move(toks));
    // The first token is ":NAME"; drop the colon.
    Token name = t[0];
    name.text = name.text.substr(1);
    name.begin += 1;
    if (name.text.empty()) return err(no, name.col(), "chain declaration without a name");
    if (auto e = check_chain_name(name, no)) return e;
    if (t.size() < 2) {
      return err(no, t[0].end + 1,
                 fmt::format("chain '{}': missing policy (ACCEPT, DROP, or '-' for a user chain)",
                             name.text));
    }
    if (t.size() > 3) return err(no, t[3].col(), "unexpected text after the chain counters");
    if (t.size() == 3 && !counters_ok(t[2].text)) {
      return err(no, t[2].col(),
                 fmt::format("{}: counters must read [packets:bytes]", quote_input(t[2].text)));
    }
    if (section_.index.count(name.text) != 0) {
      return err(no, name.col(), fmt::format("chain '{}' is declared twice", name.text));
    }
    const auto* b = builtin_of(*section_.spec, name.text);
    if (t[1].text == "-") {
      if (b != nullptr) {
        return err(
            no, t[1].col(),
            fmt::format("built-in chain '{}' needs a policy ACCEPT or DROP, not '-'", name.text));
      }
      add_chain(name.text, std::nullopt, no);
      return std::nullopt;
    }
    const auto p = policy_of(t[1].text);
    if (!p) {
      return err(no, t[1].col(),
                 fmt::format("{}: a policy is ACCEPT or DROP (or '-')", quote_input(t[1].text)));
    }
    if (b == nullptr) {
      return err(no, t[1].col(),
                 fmt::format("'{}' is not a built-in chain of table '{}': a user chain's "
                             "policy is '-'",
                             name.text, section_.table.name));
    }
    add_chain(name.text, p, no);
    return std::nullopt;
  }

  static bool counters_ok(std::string_view s) {
    if (s.size() < 5 || s.front() != '[' || s.back() != ']') return false;
    const auto inner = s.substr(1, s.size() - 2);
    const auto colon = inner.find(':');
    return colon != std::string_view::npos && all_digits(inner.substr(0, colon)) &&
           all_digits(inner.substr(colon + 1));
  }

  Chain* chain_at(const Token& t) {
    const auto it = section_.index.find(t.text);
    return it == section_.index.end() ? nullptr : &section_.table.chains[it->second];
  }

  std::optional<Error> command(std::string_view line, const std::vector<Token>& all,
                               std::size_t no) {
    std::size_t i = 0;
    if (!all[0].quoted && !all[0].text.empty() && all[0].text[0] == '[') {
      if (!counters_ok(all[0].text)) {
        return err(no, all[0].col(),
                   fmt::format("{}: counters must read [packets:bytes]", quote_input(all[0].text)));
      }
      i = 1;
      if (all.size() == 1) return err(no, all[0].end + 1, "counters without a rule");
    }
    const Token& cmd = all[i];
    const std::string_view c = cmd.quoted ? std::string_view{} : std::string_view(cmd.text);
    auto need_chain = [&](std::size_t k) -> std::optional<Error> {
      if (k >= all.size()) {
        return err(no, all.back().end + 1, fmt::format("{}: missing chain name", cmd.text));
      }
      return std::nullopt;
    };
    if (c == "-A" || c == "--append" || c == "-I" || c == "--insert") {
      if (auto e = need_chain(i + 1)) return e;
      const Token& ct = all[i + 1];
      Chain* chain = chain_at(ct);
      if (chain == nullptr) {
        return err(no, ct.col(),
                   fmt::format("chain {} is not declared in table '{}'", quote_input(ct.text),
                               section_.table.name));
      }
      if (++rules_ > kIptablesSaveMaxRules) {
        return err(no, cmd.col(), fmt::format("more than {} rules", kIptablesSaveMaxRules));
      }
      const bool insert = c == "-I" || c == "--insert";
      if (insert && ++reworks_ > kIptablesSaveMaxReworks) {
        return err(no, cmd.col(),
                   fmt::format("more than {} -I/-F commands: not a ruleset dump",
                               kIptablesSaveMaxReworks));
      }
      std::size_t k = i + 2;
      std::size_t pos = insert ? 0 : chain->rules.size();
      if (insert && k < all.size() && all_digits(all[k].text)) {
        const auto& nt = all[k];
        if (nt.text.size() > 9 || std::stoul(nt.text) == 0 ||
            std::stoul(nt.text) > chain->rules.size() + 1) {
          return err(no, nt.col(),
                     fmt::format("-I {}: position {} is out of range 1-{}", ct.text,
                                 clip_digits(nt.text), chain->rules.size() + 1));
        }
        pos = std::stoul(nt.text) - 1;
        ++k;
      }
      // Text for reports: the rule as written, without the counters prefix.
      std::string_view text = line.substr(cmd.begin);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
      auto rule = parse_rule(line, all, k, no);
      if (auto* e = std::get_if<Error>(&rule)) return *e;
      Rule r = std::get<Rule>(std::move(rule));
      r.origin.reserve(source_.size() + 8);
      r.origin.append(source_).append(1, ':').append(std::to_string(no));
      r.text = std::string(text);
      // parse_rule may not add chains, so `chain` is still valid.
      chain->rules.insert(chain->rules.begin() + static_cast<std::ptrdiff_t>(pos), std::move(r));
      return std::nullopt;
    }
    if (c == "-N" || c == "--new-chain") {
      if (auto e = need_chain(i + 1)) return e;
      const Token& ct = all[i + 1];
      if (auto e = check_chain_name(ct, no)) return e;
      if (all.size() > i + 2) return err(no, all[i + 2].col(), "unexpected text after -N CHAIN");
      if (chain_at(ct) != nullptr) {
        return err(no, ct.col(), fmt::format("chain '{}' already exists", ct.text));
      }
      if (builtin_of(*section_.spec, ct.text) != nullptr) {
        return err(
            no, ct.col(),
            fmt::format("'{}' is a built-in chain of table '{}'", ct.text, section_.table.name));
      }
      add_chain(ct.text, std::nullopt, no);
      return std::nullopt;
    }
    if (c == "-P" || c == "--policy") {
      if (auto e = need_chain(i + 1)) return e;
      const Token& ct = all[i + 1];
      if (i + 2 >= all.size()) return err(no, ct.end + 1, "-P: missing policy");
      if (all.size() > i + 3) return err(no, all[i + 3].col(), "unexpected text after -P");
      const Token& pt = all[i + 2];
      const auto p = policy_of(pt.text);
      if (!p) {
        return err(no, pt.col(),
                   fmt::format("{}: a policy is ACCEPT or DROP", quote_input(pt.text)));
      }
      if (builtin_of(*section_.spec, ct.text) == nullptr) {
        return err(no, ct.col(),
                   fmt::format("'{}' is not a built-in chain of table '{}'", ct.text,
                               section_.table.name));
      }
      if (Chain* ch = chain_at(ct)) {
        ch->base->policy = *p;
      } else {
        add_chain(ct.text, p, no);
      }
      return std::nullopt;
    }
    if (c == "-F" || c == "--flush" || c == "-Z" || c == "--zero") {
      Chain* only = nullptr;
      if (i + 1 < all.size()) {
        only = chain_at(all[i + 1]);
        if (only == nullptr) {
          return err(no, all[i + 1].col(),
                     fmt::format("chain {} is not declared", quote_input(all[i + 1].text)));
        }
        if (all.size() > i + 2) return err(no, all[i + 2].col(), "unexpected text");
      }
      if (c == "-Z" || c == "--zero") return std::nullopt;  // counters only
      if (++reworks_ > kIptablesSaveMaxReworks) {
        return err(no, cmd.col(),
                   fmt::format("more than {} -I/-F commands: not a ruleset dump",
                               kIptablesSaveMaxReworks));
      }
      for (auto& ch : section_.table.chains) {
        if (only == nullptr || only == &ch) ch.rules.clear();
      }
      return std::nullopt;
    }
    return err(no, cmd.col(),
               fmt::format("{}: not a command of a ruleset dump (expected -A, -I, -N, -P, -F, "
                           ":CHAIN, COMMIT)",
                           quote_input(cmd.text)));
  }

  // ---- one rule ----

  std::variant<Rule, Error> parse_rule(std::string_view line, const std::vector<Token>& t,
                                       std::size_t k, std::size_t no) {
    Rule rule;
    Match& m = rule.match;
    std::vector<Module> modules;
    modules.reserve(4);  // -m MODULE and the implicit one of -p, usually
    Module target;       // name empty: no -j/-g
    bool is_goto = false;
    const Token* target_tok = nullptr;
    int context = -1;          // index in modules of the module options attach to; -2: the target
    std::optional<int> proto;  // -p value when not negated, for the implicit module
    std::array<bool, 11> seen{};
    const Family fam = family_;

    auto fail = [&](std::size_t col, std::string msg) { return err(no, col, msg); };

    while (k < t.size()) {
      bool neg = false;
      std::size_t span_begin = t[k].begin;
      if (is_bang(t[k])) {
        neg = true;
        ++k;
        if (k >= t.size()) return fail(t[k - 1].col(), "'!' at the end of the rule");
        if (is_bang(t[k])) return fail(t[k].col(), "'!' twice");
      }
      const Token& o = t[k];
      const Basic b = basic_option(o);
      if (b != Basic::none) {
        const auto bi = static_cast<std::size_t>(b);
        const std::size_t arity = b == Basic::frag ? 0 : (b == Basic::counters ? 2 : 1);
        if (arity > 0 && k + arity >= t.size()) {
          return fail(o.end + 1, fmt::format("{}: missing argument", o.text));
        }
        std::array<const Token*, 2> args{};  // arity is at most 2
        for (std::size_t a = 1; a <= arity; ++a) args[a - 1] = &t[k + a];
        // Intrapositioned negation, "-s ! 10.0.0.0/8", of old iptables versions.
        if (arity == 1 && is_bang(*args[0]) && b != Basic::match && b != Basic::jump &&
            b != Basic::goto_) {
          if (neg) return fail(args[0]->col(), "'!' twice");
          if (k + 2 >= t.size()) return fail(args[0]->end + 1, o.text + ": missing argument");
          neg = true;
          ++k;
          args[0] = &t[k + 1];
        }
        if (arity == 1 && is_option(*args[0])) {
          return fail(args[0]->col(), fmt::format("{}: missing argument", o.text));
        }
        if (neg &&
            (b == Basic::match || b == Basic::jump || b == Basic::goto_ || b == Basic::counters)) {
          return fail(o.col(), fmt::format("'!' cannot negate {}", o.text));
        }
        if (b != Basic::match && seen[bi]) {
          return fail(o.col(), fmt::format("{} given twice", o.text));
        }
        seen[bi] = true;
        k += arity + 1;
        const Token* arg = arity >= 1 ? args[0] : nullptr;
        switch (b) {
          case Basic::src:
          case Basic::dst: {
            auto a = parse_addresses(arg->text, fam);
            if (!a.error.empty()) return fail(arg->col(), o.text + ": " + a.error);
            if (neg && arg->text.find(',') != std::string::npos) {
              return fail(o.col(), "'!' cannot negate a list of addresses");
            }
            if (!a.set) {
              m.unknown.push_back(std::string(line.substr(span_begin, arg->end - span_begin)));
              break;
            }
            AddressSet s = neg ? AddressSet::any_of(fam).subtract(*a.set) : std::move(*a.set);
            auto& slot = b == Basic::src ? m.src : m.dst;
            slot = slot ? slot->intersect(s) : std::move(s);
            break;
          }
          case Basic::proto: {
            const auto p = protocol_number(arg->text);
            if (!p) {
              return fail(arg->col(), fmt::format("-p: {}: unknown protocol (use its number)",
                                                  quote_input(arg->text)));
            }
            std::bitset<256> bits;
            if (*p == 0) {
              bits.set();
            } else {
              bits.set(static_cast<std::size_t>(*p));
            }
            if (neg) bits.flip();
            m.l4proto = m.l4proto ? (*m.l4proto & bits) : bits;
            if (!neg && *p != 0) proto = *p;
            break;
          }
          case Basic::iif:
          case Basic::oif: {
            if (arg->text.empty() || arg->text.size() > 15) {
              return fail(arg->col(), fmt::format("{}: interface name {} is empty or longer "
                                                  "than 15 characters",
                                                  o.text, quote_input(arg->text)));
            }
            (b == Basic::iif ? m.iif : m.oif) = IfaceMatch{{arg->text}, neg};
            break;
          }
          case Basic::frag:
            // A first SYN is never a second or later fragment: "! -f" always holds for it.
            if (!neg) m.unknown.push_back(std::string(line.substr(span_begin, o.end - span_begin)));
            break;
          case Basic::counters:
            if (!all_digits(args[0]->text) || !all_digits(args[1]->text)) {
              return fail(args[0]->col(), "-c: counters are two numbers");
            }
            break;
          case Basic::match: {
            Module mod;
            mod.name = arg->text;
            mod.begin = o.begin;
            mod.end = arg->end;
            modules.push_back(std::move(mod));
            context = static_cast<int>(modules.size()) - 1;
            break;
          }
          case Basic::jump:
          case Basic::goto_: {
            if (!target.name.empty()) return fail(o.col(), "a rule has one -j or -g");
            target.name = arg->text;
            target.begin = o.begin;
            target.end = arg->end;
            target_tok = arg;
            is_goto = b == Basic::goto_;
            context = -2;
            break;
          }
          case Basic::none:
            break;
        }
        continue;
      }
      if (!is_option(o) || !starts_with(o.text, "--")) {
        return fail(o.col(),
                    fmt::format("{}: unexpected here (expected an option)", quote_input(o.text)));
      }
      // A module or target option: "--name args...", args up to the next option or '!'.
      Opt opt;
      opt.negate = neg;
      opt.name = o.text;
      opt.begin = span_begin;
      opt.col = o.col();
      ++k;
      while (k < t.size() && !is_option(t[k]) &&
             !(is_bang(t[k]) && (k + 1 >= t.size() || is_option(t[k + 1])))) {
        opt.args.push_back(&t[k]);
        ++k;
      }
      opt.end = opt.args.empty() ? o.end : opt.args.back()->end;
      // Whom it belongs to: the current module or target if it knows it, else the module -p
      // loaded, else the current context as an option we do not model.
      const std::string_view imp = proto ? implicit_module(*proto) : std::string_view();
      Module* owner = nullptr;
      if (context >= 0 &&
          (knows(modules[static_cast<std::size_t>(context)].name, opt.name) ||
           known_options(modules[static_cast<std::size_t>(context)].name) == nullptr)) {
        owner = &modules[static_cast<std::size_t>(context)];
      } else if (!imp.empty() && knows(imp, opt.name)) {
        Module mod;
        mod.name = imp;
        mod.implicit = true;
        modules.push_back(std::move(mod));
        // The context stays: a later option of the -m module still goes to it.
        owner = &modules.back();
      } else if (context == -2) {
        owner = &target;
      } else if (context >= 0) {
        owner = &modules[static_cast<std::size_t>(context)];
      } else if (!imp.empty()) {
        Module mod;
        mod.name = imp;
        mod.implicit = true;
        modules.push_back(std::move(mod));
        owner = &modules.back();
      } else {
        return fail(opt.col, fmt::format("{}: no match module (-m) or protocol (-p) before this "
                                         "option",
                                         opt.name));
      }
      // Intrapositioned negation, "--dport ! 22".
      if (!opt.args.empty() && is_bang(*opt.args.front())) {
        if (opt.negate) return fail(opt.args.front()->col(), "'!' twice");
        opt.negate = true;
        opt.args.erase(opt.args.begin());
      }
      owner->opts.push_back(std::move(opt));
      // Implicit modules (pushed above) must not keep attracting a later -m module's options.
    }

    // ---- target ----
    if (!target.name.empty()) {
      if (auto e = apply_target(rule, target, *target_tok, is_goto, no)) return *e;
    }

    // ---- modules ----
    for (const auto& mod : modules) {
      if (auto e = apply_module(rule, mod, line, no)) return *e;
    }
    return rule;
  }

  // The text of a module or target as written: "-m recent --update --seconds 60".
  static std::string module_text(std::string_view line, const Module& mod) {
    std::string s;
    if (!mod.implicit) s = std::string(line.substr(mod.begin, mod.end - mod.begin));
    for (const auto& o : mod.opts) {
      if (!s.empty()) s += ' ';
      s += line.substr(o.begin, o.end - o.begin);
    }
    return s;
  }

  std::optional<Error> need_args(const Opt& o, std::size_t n, std::size_t no) const {
    if (o.args.size() == n) return std::nullopt;
    if (o.args.size() < n) {
      return err(no, o.col, fmt::format("{}: needs {} argument{}", o.name, n, n == 1 ? "" : "s"));
    }
    return err(no, o.args[n]->col(),
               fmt::format("{}: unexpected argument {}", o.name, quote_input(o.args[n]->text)));
  }

  std::optional<Error> apply_module(Rule& rule, const Module& mod, std::string_view line,
                                    std::size_t no) {
    Match& m = rule.match;
    const std::string& n = mod.name;
    bool uncertain = known_options(n) == nullptr;
    if (n == "tcp" || n == "udp") {
      std::bitset<256> p;
      p.set(n == "tcp" ? 6 : 17);
      m.l4proto = m.l4proto ? (*m.l4proto & p) : p;
    } else if (n == "icmp" || n == "icmp6") {
      std::bitset<256> p;
      p.set(n == "icmp" ? 1 : 58);
      m.l4proto = m.l4proto ? (*m.l4proto & p) : p;
    }
    for (const auto& o : mod.opts) {
      if (!knows(n, o.name)) {
        uncertain = true;
        continue;
      }
      const bool ports = o.name == "--sport" || o.name == "--source-port" || o.name == "--dport" ||
                         o.name == "--destination-port" || o.name == "--dports" ||
                         o.name == "--destination-ports" || o.name == "--sports" ||
                         o.name == "--source-ports" || o.name == "--ports";
      if (ports) {
        if (auto e = need_args(o, 1, no)) return e;
        bool name = false;
        auto r = parse_ports(o.args[0]->text, n == "multiport", &name);
        if (auto* e = std::get_if<std::string>(&r)) {
          return err(no, o.args[0]->col(), fmt::format("{}: {}", o.name, *e));
        }
        // --ports matches when either port is in the list: not a conjunction the model holds.
        if (name || o.name == "--ports") {
          uncertain = true;
          continue;
        }
        PortSet s = std::get<PortSet>(std::move(r));
        if (o.negate) s = s.complement();
        const bool dst = o.name == "--dport" || o.name == "--destination-port" ||
                         o.name == "--dports" || o.name == "--destination-ports";
        auto& slot = dst ? m.dport : m.sport;
        slot = slot ? slot->intersect(s) : std::move(s);
      } else if (o.name == "--tcp-flags" || o.name == "--syn") {
        unsigned mask = 0x17, comp = 0x02;  // --syn: SYN,RST,ACK,FIN SYN
        if (o.name == "--tcp-flags") {
          if (auto e = need_args(o, 2, no)) return e;
          const auto a = tcp_flags(o.args[0]->text), b = tcp_flags(o.args[1]->text);
          if (!a || !b) {
            const Token* bad = !a ? o.args[0] : o.args[1];
            return err(no, bad->col(),
                       fmt::format("--tcp-flags: {}: flags are FIN, SYN, RST, PSH, ACK, URG, "
                                   "ALL or NONE",
                                   quote_input(bad->text)));
          }
          mask = *a;
          comp = *b;
        } else if (auto e = need_args(o, 0, no)) {
          return e;
        }
        // The packet followed is a first SYN: flags == SYN alone.
        bool holds = (0x02u & mask) == comp;
        if (o.negate) holds = !holds;
        m.tcp_syn_matches = m.tcp_syn_matches ? (*m.tcp_syn_matches && holds) : holds;
      } else if (o.name == "--icmp-type" || o.name == "--icmpv6-type") {
        if (auto e = need_args(o, 1, no)) return e;
        m.icmp_type_test = true;
      } else if (o.name == "--ctstate" || o.name == "--state") {
        if (auto e = need_args(o, 1, no)) return e;
        bool nat = false;
        auto s = ct_states(o.args[0]->text, o.name == "--ctstate", &nat);
        if (!s) {
          return err(no, o.args[0]->col(),
                     fmt::format("{}: {}: states are NEW, ESTABLISHED, RELATED, INVALID, "
                                 "UNTRACKED{}",
                                 o.name, quote_input(o.args[0]->text),
                                 o.name == "--ctstate" ? ", SNAT, DNAT" : ""));
        }
        if (nat) {
          uncertain = true;
          continue;
        }
        std::uint8_t bits = o.negate ? static_cast<std::uint8_t>(kCtAll & ~*s) : *s;
        m.ct_state = m.ct_state ? static_cast<std::uint8_t>(*m.ct_state & bits) : bits;
      } else if (o.name == "--src-type" || o.name == "--dst-type") {
        if (auto e = need_args(o, 1, no)) return e;
        Match::AddrType t;
        t.negate = o.negate;
        std::string_view list = o.args[0]->text;
        while (!list.empty()) {
          auto comma = list.find(',');
          std::string type(list.substr(0, comma));
          std::transform(type.begin(), type.end(), type.begin(),
                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
          t.types.push_back(std::move(type));
          list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        (o.name == "--src-type" ? m.src_type : m.dst_type) = std::move(t);
      } else if (n == "rt" || n == "frag" || n == "hbh" || n == "dst") {
        m.needs_ipv6_extension_header = true;
      } else if (o.name == "--comment" || o.name == "--limit" || o.name == "--limit-burst") {
        if (auto e = need_args(o, 1, no)) return e;
        if (o.negate) return err(no, o.col, fmt::format("'!' cannot negate {}", o.name));
      }
    }
    // A rate limit decides nothing when the rule has no verdict (LOG); before a verdict it
    // makes the verdict depend on the traffic rate.
    if (n == "limit" && rule.verdict != Verdict::none) uncertain = true;
    if (uncertain) rule.match.unknown.push_back(module_text(line, mod));
    return std::nullopt;
  }

  std::optional<Error> apply_target(Rule& rule, const Module& tg, const Token& name_tok,
                                    bool is_goto, std::size_t no) {
    const std::string& n = tg.name;
    rule.target = n;
    auto no_options = [&]() -> std::optional<Error> {
      if (!tg.opts.empty()) {
        return err(no, tg.opts[0].col,
                   fmt::format("{}: unknown option of target {}", tg.opts[0].name, n));
      }
      return std::nullopt;
    };
    if (const Chain* c = chain_at(name_tok)) {
      if (c->base) {
        return err(no, name_tok.col(),
                   fmt::format("cannot {} to built-in chain '{}'", is_goto ? "go" : "jump", n));
      }
      rule.verdict = is_goto ? Verdict::goto_ : Verdict::jump;
      return no_options();
    }
    if (is_goto) {
      return err(no, name_tok.col(),
                 fmt::format("-g: no chain {} in table '{}'", quote_input(n), section_.table.name));
    }
    if (n == "ACCEPT" || n == "DROP" || n == "RETURN") {
      rule.verdict = n == "ACCEPT" ? Verdict::accept
                     : n == "DROP" ? Verdict::drop
                                   : Verdict::return_;
      rule.target.clear();
      return no_options();
    }
    auto unknown = [&]() {
      rule.verdict = Verdict::unknown;
      rule.target = n;
      rule.to_port.reset();
      return std::optional<Error>{};
    };
    if (n == "REJECT") {
      rule.verdict = Verdict::reject;
      rule.target.clear();
      for (const auto& o : tg.opts) {
        if (o.name != "--reject-with" || o.negate) return unknown();
        if (auto e = need_args(o, 1, no)) return e;
      }
      return std::nullopt;
    }
    // Rule::target names only a chain or a target we do not model.
    if (is_passive_target(n)) {
      rule.verdict = Verdict::none;
      rule.target.clear();
      return std::nullopt;
    }
    if (n == "NOTRACK") {
      rule.verdict = Verdict::notrack;
      rule.target.clear();
      return no_options();
    }
    if (n == "CT") {
      // CT --notrack skips conntrack; a helper or event mask leaves the verdict alone; zones
      // and timeouts change which connection a packet belongs to: not modelled.
      rule.verdict = Verdict::none;
      rule.target.clear();
      for (const auto& o : tg.opts) {
        if (o.name == "--notrack" && o.args.empty()) {
          rule.verdict = Verdict::notrack;
        } else if (o.name != "--helper" && o.name != "--ctevents" && o.name != "--expevents") {
          return unknown();
        }
      }
      return std::nullopt;
    }
    if (n == "REDIRECT" || n == "DNAT") {
      rule.verdict = Verdict::redirect;
      bool have_dest = n == "REDIRECT";
      for (const auto& o : tg.opts) {
        if (o.name == "--random" || o.name == "--persistent" || o.name == "--random-fully") {
          continue;
        }
        const bool to_ports = n == "REDIRECT" && o.name == "--to-ports";
        const bool to_dest = n == "DNAT" && o.name == "--to-destination";
        if ((!to_ports && !to_dest) || o.negate) return unknown();
        if (auto e = need_args(o, 1, no)) return e;
        if (to_dest && have_dest) return unknown();  // several destinations: round robin
        std::string_view spec = o.args[0]->text;
        std::string_view port_part;
        bool has_port = false;
        if (to_ports) {
          port_part = spec;
          has_port = true;
        } else {
          have_dest = true;
          // "addr", "addr:port", "[v6]:port", ":port", ranges "a-b".
          std::string_view addr_part = spec;
          if (!spec.empty() && spec[0] == '[') {
            const auto close = spec.find(']');
            if (close == std::string_view::npos) {
              return err(no, o.args[0]->col(), "--to-destination: missing ']'");
            }
            addr_part = spec.substr(1, close - 1);
            if (close + 1 < spec.size()) {
              if (spec[close + 1] != ':') {
                return err(no, o.args[0]->col(), "--to-destination: ':' expected after ']'");
              }
              port_part = spec.substr(close + 2);
              has_port = true;
            }
          } else if (family_ == Family::v4 || spec.find(':') == spec.rfind(':')) {
            const auto colon = spec.find(':');
            if (colon != std::string_view::npos) {
              addr_part = spec.substr(0, colon);
              port_part = spec.substr(colon + 1);
              has_port = true;
            }
          }
          if (!addr_part.empty()) {
            if (addr_part.find('-') != std::string_view::npos) return unknown();
            auto a = parse_address(addr_part);
            if (!a.ok()) return err(no, o.args[0]->col(), "--to-destination: " + a.error().message);
            // Any address: we do not know the host's own addresses, and a loopback one only
            // works with the route_localnet sysctl (IPv4) or never (IPv6, ::1 from outside).
            // Only a port-only DNAT (":2525") certainly keeps the connection on this host.
            return unknown();
          }
        }
        if (has_port) {
          if (port_part.find_first_of("-:,") != std::string_view::npos) return unknown();
          auto p = parse_one_port(port_part);
          if (auto* e = std::get_if<std::string>(&p)) {
            return err(no, o.args[0]->col(), fmt::format("{}: {}", o.name, *e));
          }
          if (std::holds_alternative<PortOutcome>(p)) return unknown();
          rule.to_port = std::get<std::uint16_t>(p);
        }
      }
      if (!have_dest) return unknown();
      rule.target.clear();
      return std::nullopt;
    }
    if (looks_like_extension(n)) return unknown();
    return err(no, name_tok.col(),
               fmt::format("-j: no chain or target {} in table '{}'", quote_input(n),
                           section_.table.name));
  }

  std::string_view source_;
  Family family_;
  std::vector<Table> tables_;
  Section section_;
  bool open_ = false;
  std::size_t rules_ = 0;    // -A/-I lines, against kIptablesSaveMaxRules
  std::size_t reworks_ = 0;  // -I/-F lines, against kIptablesSaveMaxReworks
};

// Which family a dump without an explicit one is: the "# Generated by ip6tables-save" header,
// else the addresses and ICMP flavours in its rules.
struct FamilyGuess {
  std::optional<Family> header;
  std::size_t header_line = 0;
  std::optional<std::size_t> v4_line, v6_line;
  bool has_table = false;
};

FamilyGuess guess_family(std::string_view text) {
  FamilyGuess g;
  std::size_t start = 0, no = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    ++no;
    if (line.size() > kIptablesSaveMaxLine) continue;
    std::size_t lead = line.find_first_not_of(" \t");
    if (lead == std::string_view::npos) continue;
    line.remove_prefix(lead);
    if (line[0] == '*') g.has_table = true;
    if (starts_with(line, "# Generated by ")) {
      if (!g.header) {
        const auto tool = line.substr(15);
        if (starts_with(tool, "ip6tables"))
          g.header = Family::v6;
        else if (starts_with(tool, "iptables"))
          g.header = Family::v4;
        // Nothing else the guess gathers is used when the header names the tool.
        if (g.header) {
          g.header_line = no;
          return g;
        }
      }
      continue;
    }
    if (line[0] != '-' && line[0] != '[') continue;
    auto toks = tokenize(line);
    if (!std::holds_alternative<std::vector<Token>>(toks)) continue;
    const auto& t = std::get<std::vector<Token>>(toks);
    auto note = [&](Family f) {
      auto& slot = f == Family::v4 ? g.v4_line : g.v6_line;
      if (!slot) slot = no;
    };
    for (std::size_t i = 0; i + 1 < t.size(); ++i) {
      const Basic b = basic_option(t[i]);
      const std::string& a =
          t[i + 1].text == "!" && i + 2 < t.size() ? t[i + 2].text : t[i + 1].text;
      if (b == Basic::src || b == Basic::dst) {
        const auto first = a.substr(0, a.find_first_of(",/"));
        auto addr = parse_address(first);
        if (addr.ok()) note(addr->family);
      } else if (b == Basic::match && (a == "icmp6" || a == "icmp")) {
        note(a == "icmp6" ? Family::v6 : Family::v4);
      } else if (b == Basic::proto && (a == "ipv6-icmp" || a == "icmpv6")) {
        note(Family::v6);
      } else if (t[i].text == "--reject-with") {
        if (starts_with(a, "icmp6-"))
          note(Family::v6);
        else if (starts_with(a, "icmp-"))
          note(Family::v4);
      }
    }
  }
  return g;
}

}  // namespace

Result<std::vector<Table>> parse_iptables_save(std::string_view text, std::string_view source,
                                               std::optional<Family> family) {
  if (text.size() > kIptablesSaveMaxBytes) {
    return Error{fmt::format("{}: {} bytes: larger than the {} bytes a ruleset dump may have",
                             source, text.size(), kIptablesSaveMaxBytes)};
  }
  const FamilyGuess g = guess_family(text);
  if (family && g.header && *family != *g.header) {
    return Error{fmt::format("{}:{}:1: the header says an {} dump, but {} was asked for", source,
                             g.header_line, family_name(*g.header), family_name(*family))};
  }
  if (!family) family = g.header;
  if (!family) {
    if (g.v4_line && g.v6_line) {
      return Error{
          fmt::format("{}:{}:1: IPv6 here but IPv4 at line {}: cannot tell "
                      "iptables-save from ip6tables-save; give the family",
                      source, *g.v6_line, *g.v4_line)};
    }
    if (g.v4_line)
      family = Family::v4;
    else if (g.v6_line)
      family = Family::v6;
    else if (g.has_table) {
      return Error{
          fmt::format("{}: no '# Generated by' header and no address: cannot tell "
                      "iptables-save (IPv4) from ip6tables-save (IPv6); give the family",
                      source)};
    } else {
      family = Family::v4;  // no table at all: the family does not matter
    }
  }
  Parser p(source, *family);
  return p.run(text);
}

}  // namespace mw::fw
