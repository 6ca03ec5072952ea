// The iptables backend, for hosts without nft: bans are elements of the ipsets mailwarden-ban4
// and mailwarden-ban6 (hash:net with timeouts and comments), dropped by chain MAILWARDEN-BAN
// of the filter table, which the first rule of INPUT jumps to (iptables and ip6tables).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "ban/backend.hpp"
#include "core/quote.hpp"

namespace mw::ban {

namespace {

constexpr std::size_t kMaxSaveBytes = 64 << 20;
constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kMaxSetName = 31;  // IPSET_MAXNAMELEN - 1
constexpr std::size_t kMaxComment = 255;
constexpr std::uint64_t kMaxU32 = 0xffffffffu;

std::string_view ipset_of(Family f) {
  return f == Family::v4 ? kIpsetBan4 : kIpsetBan6;
}

std::string jump_rule() {
  return fmt::format("-A INPUT -j {}", kBanChain);
}

// ---- `ipset save` reader ------------------------------------------------------------------

struct Token {
  std::string_view text;  // without the quotes of a quoted token
  std::size_t column = 0;
  bool quoted = false;
};

class SaveParser {
 public:
  SaveParser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  Result<std::vector<IpsetSet>> run() {
    if (text_.size() > kMaxSaveBytes)
      return Error{fmt::format("{}: larger than {} bytes", name_, kMaxSaveBytes)};
    std::size_t pos = 0;
    while (pos < text_.size()) {
      ++line_;
      std::size_t end = text_.find('\n', pos);
      if (end == std::string_view::npos) end = text_.size();
      const std::string_view line = text_.substr(pos, end - pos);
      pos = end + 1;
      if (line.size() > kMaxLine)
        return fail(1, fmt::format("line longer than {} bytes", kMaxLine));
      auto toks = tokenize(line);
      if (!toks) return toks.error();
      if (auto s = statement(*toks); !s) return s.error();
    }
    return std::move(sets_);
  }

 private:
  Error fail(std::size_t column, const std::string& what) const {
    return Error{fmt::format("{}:{}:{}: {}", name_, line_, column, what)};
  }

  Result<std::vector<Token>> tokenize(std::string_view line) const {
    std::vector<Token> out;
    std::size_t i = 0;
    if (line.empty()) return fail(1, "empty line");
    while (i < line.size()) {
      const std::size_t start = i;
      if (line[i] == ' ') return fail(i + 1, "unexpected space");
      if (line[i] == '"') {
        const std::size_t close = line.find('"', i + 1);
        if (close == std::string_view::npos) return fail(i + 1, "unterminated quoted string");
        out.push_back({line.substr(i + 1, close - i - 1), start + 1, true});
        i = close + 1;
      } else {
        while (i < line.size() && line[i] != ' ') {
          const auto u = static_cast<unsigned char>(line[i]);
          if (u < 0x21 || u >= 0x7f || line[i] == '"')
            return fail(i + 1,
                        fmt::format("unexpected character {}", quote_input(line.substr(i, 1))));
          ++i;
        }
        out.push_back({line.substr(start, i - start), start + 1, false});
      }
      if (i < line.size()) {
        if (line[i] != ' ') return fail(i + 1, "expected a space after the quoted string");
        if (i + 1 == line.size()) return fail(i + 1, "trailing space");
        ++i;
      }
    }
    return out;
  }

  Result<std::uint64_t> number(const Token& t, std::uint64_t max, std::string_view what) const {
    std::uint64_t v = 0;
    const char* b = t.text.data();
    const char* e = b + t.text.size();
    const auto [p, ec] = std::from_chars(b, e, v);
    if (t.quoted || t.text.empty() || ec != std::errc{} || p != e || v > max)
      return fail(t.column, fmt::format("{}: expected a whole number up to {}, got {}", what, max,
                                        quote_input(t.text)));
    return v;
  }

  Status statement(const std::vector<Token>& t) {
    if (t[0].text == "create") return create(t);
    if (t[0].text == "add") return add(t);
    return fail(t[0].column,
                fmt::format("expected 'create' or 'add', got {}", quote_input(t[0].text)));
  }

  Status set_name(const Token& t) const {
    if (t.quoted || t.text.empty() || t.text.size() > kMaxSetName)
      return fail(t.column, fmt::format("bad set name {}", quote_input(t.text)));
    return {};
  }

  IpsetSet* find(std::string_view name) {
    for (auto& s : sets_)
      if (s.name == name) return &s;
    return nullptr;
  }

  Status create(const std::vector<Token>& t) {
    if (t.size() < 3) return fail(t[0].column, "create: expected a set name and a type");
    if (auto s = set_name(t[1]); !s) return s;
    if (find(t[1].text)) return fail(t[1].column, fmt::format("set {} created twice", t[1].text));
    if (t[2].text != "hash:net" && t[2].text != "hash:ip")
      return fail(t[2].column, fmt::format("set type {} not supported (hash:net, hash:ip)",
                                           quote_input(t[2].text)));
    IpsetSet set{std::string(t[1].text), std::string(t[2].text), Family::v4, {}};
    static const std::set<std::string_view> kValued{"hashsize", "maxelem", "timeout", "bucketsize",
                                                    "netmask"};
    static const std::set<std::string_view> kFlags{"comment", "counters", "skbinfo", "forceadd"};
    std::set<std::string_view> seen;
    for (std::size_t i = 3; i < t.size(); ++i) {
      const Token& k = t[i];
      if (!seen.insert(k.text).second)
        return fail(k.column, fmt::format("create option {} given twice", quote_input(k.text)));
      if (kFlags.count(k.text)) continue;
      if (k.text != "family" && k.text != "initval" && !kValued.count(k.text))
        return fail(k.column, fmt::format("unknown create option {}", quote_input(k.text)));
      if (i + 1 >= t.size()) return fail(k.column, fmt::format("{}: missing value", k.text));
      const Token& v = t[++i];
      if (k.text == "family") {
        if (v.text == "inet")
          set.family = Family::v4;
        else if (v.text == "inet6")
          set.family = Family::v6;
        else
          return fail(v.column,
                      fmt::format("family: expected inet or inet6, got {}", quote_input(v.text)));
      } else if (k.text == "initval") {
        const bool hex = v.text.size() > 2 && v.text.size() <= 10 && v.text.substr(0, 2) == "0x" &&
                         v.text.find_first_not_of("0123456789abcdef", 2) == std::string_view::npos;
        if (!hex)
          return fail(v.column, fmt::format("initval: expected 0x and up to 8 hex digits, got {}",
                                            quote_input(v.text)));
      } else {
        auto n = number(v, kMaxU32, k.text);
        if (!n) return n.error();
      }
    }
    sets_.push_back(std::move(set));
    return {};
  }

  Status add(const std::vector<Token>& t) {
    if (t.size() < 3) return fail(t[0].column, "add: expected a set name and an element");
    if (auto s = set_name(t[1]); !s) return s;
    IpsetSet* set = find(t[1].text);
    if (!set)
      return fail(t[1].column, fmt::format("add to set {} before its create line", t[1].text));
    if (t[2].quoted) return fail(t[2].column, "expected an address or prefix");
    auto p = parse_prefix(t[2].text);
    if (!p) return fail(t[2].column, p.error().message);
    if (p->addr.family != set->family)
      return fail(t[2].column, fmt::format("{} address in {} set {}", family_name(p->addr.family),
                                           family_name(set->family), set->name));
    if (set->type == "hash:ip" && p->len != family_bits(p->addr.family))
      return fail(t[2].column, "a hash:ip set holds addresses, not prefixes");
    KernelBan kb;
    kb.prefix = *p;
    std::set<std::string_view> seen;
    for (std::size_t i = 3; i < t.size(); ++i) {
      const Token& k = t[i];
      if (k.quoted) return fail(k.column, "expected an element option");
      if (!seen.insert(k.text).second)
        return fail(k.column, fmt::format("element option {} given twice", quote_input(k.text)));
      if (k.text == "nomatch") continue;
      if (k.text != "timeout" && k.text != "comment" && k.text != "packets" && k.text != "bytes")
        return fail(k.column, fmt::format("unknown element option {}", quote_input(k.text)));
      if (i + 1 >= t.size()) return fail(k.column, fmt::format("{}: missing value", k.text));
      const Token& v = t[++i];
      if (k.text == "comment") {
        if (!v.quoted) return fail(v.column, "comment: expected a quoted string");
        if (v.text.size() > kMaxComment)
          return fail(v.column, fmt::format("comment longer than {} bytes", kMaxComment));
        kb.comment = std::string(v.text);
      } else if (k.text == "timeout") {
        auto n = number(v, static_cast<std::uint64_t>(kIpsetMaxTimeout.count()), "timeout");
        if (!n) return n.error();
        // 0 is a permanent element; anything else is the time left.
        if (*n > 0) kb.expires = Seconds(static_cast<std::int64_t>(*n));
      } else {
        auto n = number(v, ~std::uint64_t{0}, k.text);
        if (!n) return n.error();
      }
    }
    for (const auto& m : set->members)
      if (m.prefix == kb.prefix)
        return fail(t[2].column,
                    fmt::format("{} listed twice in {}", to_string(kb.prefix), set->name));
    set->members.push_back(std::move(kb));
    return {};
  }

  std::string_view text_, name_;
  std::size_t line_ = 0;
  std::vector<IpsetSet> sets_;
};

// ---- the backend ---------------------------------------------------------------------------

class IptablesBackend final : public BanBackend {
 public:
  IptablesBackend(CommandRunner& runner, IptablesTools tools)
      : runner_(runner), tools_(std::move(tools)) {}

  std::string_view name() const override { return "iptables"; }
  Seconds max_timeout() const override { return kIpsetMaxTimeout; }

  Result<std::vector<KernelBan>> elements(Family f) override {
    const std::string set(ipset_of(f));
    auto r = runner_.run({tools_.ipset, "save", set});
    if (!r) return r.error();
    if (!r->success()) {
      // No set yet: nothing is banned. Any other failure is an error.
      if (r->err.find("does not exist") != std::string::npos) return std::vector<KernelBan>{};
      return Error{fmt::format("`{} save {}` failed: {}", tools_.ipset, set, r->err)};
    }
    auto sets = parse_ipset_save(r->out, fmt::format("`ipset save {}`", set));
    if (!sets) return sets.error();
    for (auto& s : *sets) {
      if (s.name != set) continue;
      if (s.type != "hash:net" || s.family != f)
        return Error{fmt::format("ipset {} exists but is a {} {} set, not hash:net {}: not ours?",
                                 set, s.type, family_name(s.family), family_name(f))};
      return std::move(s.members);
    }
    return Error{fmt::format("`ipset save {}` did not list the set", set)};
  }

  std::string describe(const BanChange& c) const override {
    std::string out = fmt::format("{} -exist restore <<EOF\n{}EOF\n", tools_.ipset, ipset_input(c));
    for (Family f : {Family::v4, Family::v6})
      out += fmt::format(
          "{}-restore -w --noflush <<EOF   # only if the chain or jump is not right\n{}EOF\n",
          binary(f), full_fix(f));
    return out;
  }

  Status apply(const BanChange& c) override { return apply_all({c}); }

  Status apply_all(const std::vector<BanChange>& changes) override {
    if (changes.empty()) return {};
    // Sets first: the chain's rules refer to them.
    std::string input = ipset_ensure_script();
    for (const auto& c : changes) input += element_lines(c);
    if (auto s = ipset_restore(input); !s) return s;
    for (Family f : {Family::v4, Family::v6})
      if (auto s = ensure_chain(f); !s) return s;
    return {};
  }

  Status remove(const Prefix& p) override {
    auto r = runner_.run({tools_.ipset, "del", std::string(ipset_of(p.addr.family)), to_string(p)});
    if (!r) return r.error();
    if (!r->success())
      return Error{fmt::format("`ipset del` refused {}: {}", to_string(p), r->err)};
    return {};
  }

  Status flush() override {
    return ipset_restore(ipset_ensure_script() +
                         fmt::format("flush {}\nflush {}\n", kIpsetBan4, kIpsetBan6));
  }

 private:
  const std::string& binary(Family f) const {
    return f == Family::v4 ? tools_.iptables : tools_.ip6tables;
  }

  static std::string ipset_input(const BanChange& c) {
    return ipset_ensure_script() + element_lines(c);
  }

  static std::string element_lines(const BanChange& c) {
    const std::string_view set = ipset_of(c.prefix.addr.family);
    std::string in;
    for (const auto& r : c.replaced) in += fmt::format("del {} {}\n", set, to_string(r));
    // With -exist an existing element gets the new timeout and comment: a repeat offence
    // restarts its ban.
    in += fmt::format("add {} {} timeout {} comment \"{}\"\n", set, to_string(c.prefix),
                      c.timeout.count(), c.comment);
    return in;
  }

  static std::string full_fix(Family f) { return iptables_fix_script(f, ""); }

  Status ipset_restore(const std::string& input) {
    auto r = runner_.run({tools_.ipset, "-exist", "restore"}, input);
    if (!r) return r.error();
    if (!r->success())
      return Error{
          fmt::format("ipset refused the ban: {}{}", r->err, r->timed_out ? " (timed out)" : "")};
    return {};
  }

  // One `-S` to look; an `-restore --noflush` (one commit) only when something is off.
  Status ensure_chain(Family f) {
    auto listing = runner_.run({binary(f), "-w", "-S"});
    if (!listing) return listing.error();
    if (!listing->success())
      return Error{fmt::format("`{} -S` failed: {}", binary(f), listing->err)};
    const std::string fix = iptables_fix_script(f, listing->out);
    if (fix.empty()) return {};
    auto r = runner_.run({binary(f) + "-restore", "-w", "--noflush"}, fix);
    if (!r) return r.error();
    if (!r->success())
      return Error{
          fmt::format("{}-restore refused the MAILWARDEN-BAN chain: {}", binary(f), r->err)};
    return {};
  }

  CommandRunner& runner_;
  IptablesTools tools_;
};

}  // namespace

std::string ipset_ensure_script() {
  // `timeout 0` in the header enables per-element timeouts; `comment` keeps reason, account
  // and offence with each ban. With -exist these are no-ops when the sets exist.
  return fmt::format(
      "create {} hash:net family inet timeout 0 comment\n"
      "create {} hash:net family inet6 timeout 0 comment\n",
      kIpsetBan4, kIpsetBan6);
}

std::vector<std::string> ban_chain_rules(Family f) {
  std::vector<std::string> rules;
  if (f == Family::v6) {
    // Router and neighbour solicitation/advertisement (133-136) leave the chain before the
    // drop: a banned /64 may hold the router or a neighbour, and the host must keep its link.
    // RETURN, not ACCEPT: this chain only drops, the rest of INPUT still judges the packet.
    for (int type : {133, 134, 135, 136})
      rules.push_back(
          fmt::format("-A {} -p ipv6-icmp -m icmp6 --icmpv6-type {} -j RETURN", kBanChain, type));
  }
  rules.push_back(fmt::format("-A {} -m set --match-set {} src -j DROP", kBanChain, ipset_of(f)));
  return rules;
}

std::string iptables_fix_script(Family f, std::string_view listing) {
  const std::string jump = jump_rule();
  const std::string chain_prefix = fmt::format("-A {} ", kBanChain);
  std::vector<std::string> input, chain;
  std::size_t pos = 0;
  while (pos < listing.size()) {
    std::size_t end = listing.find('\n', pos);
    if (end == std::string_view::npos) end = listing.size();
    std::string line(listing.substr(pos, end - pos));
    pos = end + 1;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.rfind("-A INPUT ", 0) == 0) input.push_back(line);
    if (line.rfind(chain_prefix, 0) == 0) chain.push_back(line);
  }
  const auto jumps = static_cast<std::size_t>(std::count(input.begin(), input.end(), jump));
  const bool jump_ok = jumps == 1 && input.front() == jump;
  if (jump_ok && chain == ban_chain_rules(f)) return "";
  // Declaring the chain creates it, or flushes it if it exists (also with --noflush), so its
  // rules are rewritten whole, in the same commit as the jump.
  std::string out = fmt::format("*filter\n:{} - [0:0]\n", kBanChain);
  for (const auto& r : ban_chain_rules(f)) out += r + "\n";
  if (!jump_ok) {
    for (std::size_t i = 0; i < jumps; ++i) out += fmt::format("-D INPUT -j {}\n", kBanChain);
    out += fmt::format("-I INPUT 1 -j {}\n", kBanChain);
  }
  out += "COMMIT\n";
  return out;
}

Result<std::vector<IpsetSet>> parse_ipset_save(std::string_view text, std::string_view name) {
  return SaveParser(text, name).run();
}

std::unique_ptr<BanBackend> make_iptables_backend(CommandRunner& runner, IptablesTools tools) {
  return std::make_unique<IptablesBackend>(runner, std::move(tools));
}

}  // namespace mw::ban
