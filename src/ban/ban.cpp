// The ban engine: catalog, allow-list, state file, nft scripts and the add/del/list/flush flow.
#include "ban/ban.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/ports.hpp"
#include "catalog/toml_file.hpp"
#include "core/address_set.hpp"
#include "core/atomic_file.hpp"
#include "policy/policy.hpp"

namespace mw::ban {

namespace {

constexpr std::size_t kMaxStateBytes = 64 << 20;
constexpr std::size_t kMaxRecent = 64;  // recidive needs counts, not a full history
constexpr std::size_t kMaxText = 256;

std::int64_t unix_of(TimePoint t) {
  return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count();
}

// Line and column (1-based) of a byte offset, for JSON syntax errors.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

}  // namespace

Result<CommandOutput> PrefixedRunner::run(const std::vector<std::string>& argv,
                                          const std::string& stdin_data) {
  std::vector<std::string> full = prefix_;
  full.insert(full.end(), argv.begin(), argv.end());
  CommandOptions o;
  o.timeout = timeout_;
  o.stdin_data = stdin_data;
  return run_command(full, o);
}

// ---- durations ------------------------------------------------------------------------------

Result<Seconds> parse_duration(std::string_view text) {
  if (text.size() < 2)
    return Error{fmt::format("'{}': expected a duration like 1h, 30m, 7d", text)};
  const char unit = text.back();
  std::int64_t scale = 0;
  switch (unit) {
    case 's':
      scale = 1;
      break;
    case 'm':
      scale = 60;
      break;
    case 'h':
      scale = 3600;
      break;
    case 'd':
      scale = 86400;
      break;
    case 'w':
      scale = 7 * 86400;
      break;
    default:
      return Error{fmt::format("'{}': unknown unit '{}' (s, m, h, d, w)", text, unit)};
  }
  std::string_view digits = text.substr(0, text.size() - 1);
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || p != digits.data() + digits.size() || n <= 0 || digits[0] == '+')
    return Error{fmt::format("'{}': expected a positive whole number before the unit", text)};
  if (n > 365 * 86400 / scale) return Error{fmt::format("'{}': longer than 365 days", text)};
  return Seconds(n * scale);
}

std::string format_duration(Seconds s) {
  const std::int64_t v = s.count();
  if (v > 0 && v % 604800 == 0) return fmt::format("{}w", v / 604800);
  if (v > 0 && v % 86400 == 0) return fmt::format("{}d", v / 86400);
  if (v > 0 && v % 3600 == 0) return fmt::format("{}h", v / 3600);
  if (v > 0 && v % 60 == 0) return fmt::format("{}m", v / 60);
  return fmt::format("{}s", v);
}

Seconds BanConfig::duration_for(std::size_t offence) const {
  if (steps.empty()) return Seconds(3600);
  const std::size_t i = offence == 0 ? 0 : std::min(offence - 1, steps.size() - 1);
  return steps[i];
}

Result<BanConfig> parse_ban_config(std::string_view text, std::string_view name) {
  auto parsed = parse_toml(text, name);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  auto at = [&](const toml::node& n) {
    return fmt::format("{}:{}:{}", name, n.source().begin.line, n.source().begin.column);
  };
  BanConfig cfg;
  for (const auto& [k, v] : root) {
    if (k != "recidive" && k != "ipv6")
      return Error{fmt::format("{}: unknown table '{}' (recidive, ipv6)", at(v), k.str())};
  }
  if (const auto* rec = root["recidive"].as_table()) {
    for (const auto& [k, v] : *rec) {
      if (k == "window") {
        const auto* s = v.as_string();
        if (!s)
          return Error{fmt::format("{}: recidive.window: expected a string like \"30d\"", at(v))};
        auto d = parse_duration(s->get());
        if (!d) return Error{fmt::format("{}: recidive.window: {}", at(v), d.error().message)};
        cfg.window = *d;
      } else if (k == "steps") {
        const auto* arr = v.as_array();
        if (!arr || arr->empty())
          return Error{
              fmt::format("{}: recidive.steps: expected a non-empty array of durations", at(v))};
        cfg.steps.clear();
        for (const auto& e : *arr) {
          const auto* s = e.as_string();
          if (!s)
            return Error{fmt::format("{}: recidive.steps: expected a string like \"1h\"", at(e))};
          auto d = parse_duration(s->get());
          if (!d) return Error{fmt::format("{}: recidive.steps: {}", at(e), d.error().message)};
          if (!cfg.steps.empty() && *d < cfg.steps.back())
            return Error{fmt::format("{}: recidive.steps: '{}' is shorter than the step before it",
                                     at(e), s->get())};
          cfg.steps.push_back(*d);
        }
      } else {
        return Error{fmt::format("{}: recidive: unknown key '{}' (window, steps)", at(v), k.str())};
      }
    }
  } else if (root.contains("recidive")) {
    return Error{fmt::format("{}: recidive: expected a table", at(*root.get("recidive")))};
  }
  if (const auto* v6 = root["ipv6"].as_table()) {
    for (const auto& [k, v] : *v6) {
      if (k != "prefix")
        return Error{fmt::format("{}: ipv6: unknown key '{}' (prefix)", at(v), k.str())};
      const auto* i = v.as_integer();
      if (!i || i->get() < 16 || i->get() > 128)
        return Error{fmt::format("{}: ipv6.prefix: expected an integer from 16 to 128", at(v))};
      cfg.ipv6_prefix = static_cast<int>(i->get());
    }
  } else if (root.contains("ipv6")) {
    return Error{fmt::format("{}: ipv6: expected a table", at(*root.get("ipv6")))};
  }
  return cfg;
}

Result<BanConfig> load_ban_config(const std::filesystem::path& file) {
  auto text = read_catalog_file(file, 1 << 20);
  if (!text) return text.error();
  return parse_ban_config(*text, file.string());
}

std::filesystem::path default_ban_config_path() {
  return catalog_dir() / "ban.toml";
}

// ---- allow-list -----------------------------------------------------------------------------

const AllowEntry* AllowList::overlapping(const Prefix& p) const {
  const AddressSet banned = AddressSet::of(p);
  for (const auto& e : entries) {
    if (e.prefix.addr.family != p.addr.family) continue;
    if (!banned.intersect(AddressSet::of(e.prefix)).empty()) return &e;
  }
  return nullptr;
}

Result<std::vector<AllowEntry>> parse_ip_addr_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Error{"`ip -j addr`: not a JSON array"};
  std::vector<AllowEntry> out;
  for (const auto& link : j) {
    if (!link.is_object()) return Error{"`ip -j addr`: an interface is not an object"};
    const std::string ifname = link.value("ifname", std::string("?"));
    auto infos = link.find("addr_info");
    if (infos == link.end() || !infos->is_array()) continue;
    for (const auto& a : *infos) {
      if (!a.is_object() || !a.contains("local") || !a["local"].is_string()) continue;
      auto addr = parse_address(a["local"].get<std::string>());
      if (!addr) return Error{fmt::format("`ip -j addr`: {}: {}", ifname, addr.error().message)};
      const int len = addr->family == Family::v4 ? 32 : 128;
      out.push_back({Prefix{*addr, len}, fmt::format("host address ({})", ifname)});
    }
  }
  return out;
}

Result<std::vector<Prefix>> parse_mynetworks(std::string_view value,
                                             std::vector<std::string>* skipped) {
  std::vector<Prefix> out;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() &&
           (value[i] == ' ' || value[i] == ',' || value[i] == '\t' || value[i] == '\n'))
      ++i;
    std::size_t j = i;
    while (j < value.size() && value[j] != ' ' && value[j] != ',' && value[j] != '\t' &&
           value[j] != '\n')
      ++j;
    if (j == i) break;
    std::string tok(value.substr(i, j - i));
    i = j;
    if (tok.find(':') != std::string::npos && tok.front() != '[' &&
        tok.find('/') != std::string::npos && tok.find(":/") != std::string::npos) {
      if (skipped) skipped->push_back(tok);  // "hash:/etc/postfix/network_table"
      continue;
    }
    if (tok.front() == '/') {
      if (skipped) skipped->push_back(tok);  // a file of networks
      continue;
    }
    if (tok.front() == '[') {  // Postfix writes IPv6 as [addr]/len
      const auto close = tok.find(']');
      if (close == std::string::npos)
        return Error{fmt::format("mynetworks: '{}': missing ']'", tok)};
      tok = tok.substr(1, close - 1) + tok.substr(close + 1);
    }
    auto p = parse_prefix(tok);
    if (!p) return Error{fmt::format("mynetworks: {}", p.error().message)};
    out.push_back(*p);
  }
  return out;
}

Result<AllowList> build_allow_list(const AllowSources& s, CommandRunner& runner) {
  AllowList al;
  al.entries.push_back({*parse_prefix("127.0.0.0/8"), "loopback"});
  al.entries.push_back({*parse_prefix("::1/128"), "loopback"});
  if (s.host_addresses) {
    auto r = runner.run({"ip", "-j", "addr"});
    if (!r) return Error{"cannot list the host's addresses: " + r.error().message};
    if (!r->success()) return Error{"`ip -j addr` failed: " + r->err};
    auto own = parse_ip_addr_json(r->out);
    if (!own) return own.error();
    al.entries.insert(al.entries.end(), own->begin(), own->end());
  }
  if (s.policy_file) {
    auto loaded = load_policy(*s.policy_file);
    if (!loaded) return loaded.error();
    for (const auto& p : loaded->policy.admin_networks)
      al.entries.push_back({p, fmt::format("admin network ({})", *s.policy_file)});
    for (const auto& p : loaded->policy.cluster_networks)
      al.entries.push_back({p, fmt::format("cluster network ({})", *s.policy_file)});
    for (const auto& n : loaded->policy.nodes)
      for (const auto& p : n.addresses)
        al.entries.push_back({p, fmt::format("cluster node {} ({})", n.name, *s.policy_file)});
  }
  std::vector<std::string> skipped;
  if (s.mynetworks) {
    for (const auto& m : *s.mynetworks) {
      auto ps = parse_mynetworks(m, &skipped);
      if (!ps) return Error{"--mynetworks: " + ps.error().message};
      for (const auto& p : *ps) al.entries.push_back({p, "mynetworks"});
    }
  } else if (!s.postconf.empty()) {
    auto r = runner.run({s.postconf, "-h", "mynetworks"});
    if (r && r->success()) {
      auto ps = parse_mynetworks(r->out, &skipped);
      if (!ps) return Error{"`postconf -h mynetworks`: " + ps.error().message};
      for (const auto& p : *ps) al.entries.push_back({p, "mynetworks (postconf)"});
    } else {
      al.notes.push_back("mynetworks not read: postconf unavailable");
    }
  }
  for (const auto& t : skipped)
    al.notes.push_back(fmt::format("mynetworks entry '{}' is a lookup table: not checked", t));
  for (const auto& e : s.extra) {
    auto p = parse_prefix(e);
    if (!p) return Error{"--allow: " + p.error().message};
    al.entries.push_back({*p, "--allow"});
  }
  return al;
}

// ---- state file -----------------------------------------------------------------------------

BanRecord* BanState::find(const Prefix& p) {
  for (auto& b : bans)
    if (b.prefix == p) return &b;
  return nullptr;
}

Result<BanState> parse_state(std::string_view text, std::string_view name) {
  using nlohmann::json;
  if (text.size() > kMaxStateBytes)
    return Error{fmt::format("{}: larger than {} bytes", name, kMaxStateBytes)};
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    const auto [l, c] = line_col(text, e.byte == 0 ? 0 : e.byte - 1);
    return Error{
        fmt::format("{}:{}:{}: not valid JSON (truncated or damaged state file?)", name, l, c)};
  }
  auto fail = [&](const std::string& where, const std::string& what) {
    return Error{fmt::format("{}: {}: {}", name, where, what)};
  };
  if (!j.is_object()) return fail("top level", "expected an object");
  for (const auto& [k, v] : j.items())
    if (k != "version" && k != "bans") return fail(k, "unknown key (version, bans)");
  if (!j.contains("version") || !j["version"].is_number_unsigned() || j["version"] != 1)
    return fail("version", "expected 1");
  if (!j.contains("bans") || !j["bans"].is_array()) return fail("bans", "expected an array");
  BanState st;
  std::set<std::pair<int, u128>> seen;
  std::size_t idx = 0;
  for (const auto& b : j["bans"]) {
    const std::string w = fmt::format("bans[{}]", idx++);
    if (!b.is_object()) return fail(w, "expected an object");
    BanRecord r;
    static const std::set<std::string> kKeys{"prefix",  "offences", "recent", "reason",
                                             "account", "first",    "last",   "expires"};
    for (const auto& [k, v] : b.items())
      if (!kKeys.count(k)) return fail(w + "." + k, "unknown key");
    for (const char* k :
         {"prefix", "offences", "recent", "reason", "account", "first", "last", "expires"})
      if (!b.contains(k)) return fail(w, fmt::format("missing '{}'", k));
    if (!b["prefix"].is_string()) return fail(w + ".prefix", "expected a string");
    auto p = parse_prefix(b["prefix"].get<std::string>());
    if (!p) return fail(w + ".prefix", p.error().message);
    if (to_string(*p) != b["prefix"].get<std::string>())
      return fail(w + ".prefix", "not in canonical form");
    r.prefix = *p;
    if (!seen.insert({p->len + (p->addr.family == Family::v6 ? 1000 : 0), p->addr.value}).second)
      return fail(w + ".prefix", "duplicate " + to_string(*p));
    if (!b["offences"].is_number_unsigned()) return fail(w + ".offences", "expected a count");
    r.offences = b["offences"].get<std::uint64_t>();
    for (const char* k : {"first", "last", "expires"})
      if (!b[k].is_number_integer()) return fail(w + "." + k, "expected a unix time");
    r.first = b["first"].get<std::int64_t>();
    r.last = b["last"].get<std::int64_t>();
    r.expires = b["expires"].get<std::int64_t>();
    if (r.first > r.last) return fail(w, "'first' is after 'last'");
    for (const char* k : {"reason", "account"}) {
      if (!b[k].is_string() || b[k].get<std::string>().size() > kMaxText)
        return fail(w + "." + k, fmt::format("expected a string of at most {} bytes", kMaxText));
    }
    r.reason = b["reason"].get<std::string>();
    r.account = b["account"].get<std::string>();
    if (!b["recent"].is_array() || b["recent"].size() > kMaxRecent)
      return fail(w + ".recent",
                  fmt::format("expected an array of at most {} unix times", kMaxRecent));
    for (const auto& t : b["recent"]) {
      if (!t.is_number_integer()) return fail(w + ".recent", "expected unix times");
      r.recent.push_back(t.get<std::int64_t>());
    }
    if (r.recent.size() > r.offences) return fail(w + ".recent", "more entries than offences");
    st.bans.push_back(std::move(r));
  }
  return st;
}

std::string serialize_state(const BanState& st) {
  nlohmann::json bans = nlohmann::json::array();
  for (const auto& b : st.bans) {
    bans.push_back({{"prefix", to_string(b.prefix)},
                    {"offences", b.offences},
                    {"recent", b.recent},
                    {"reason", b.reason},
                    {"account", b.account},
                    {"first", b.first},
                    {"last", b.last},
                    {"expires", b.expires}});
  }
  nlohmann::json j{{"version", 1}, {"bans", std::move(bans)}};
  return j.dump(2) + "\n";
}

Result<BanState> load_state(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return BanState{};
  auto text = read_file(file, kMaxStateBytes);
  if (!text) return Error{fmt::format("{}: {}", file.string(), text.error().message)};
  return parse_state(*text, file.string());
}

Status save_state(const std::filesystem::path& file, const BanState& st) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec)
    return Error{fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message())};
  return write_file_atomic(file, serialize_state(st), 0600);
}

// ---- nft ------------------------------------------------------------------------------------

std::string nft_ensure_script() {
  // `add` is a no-op on what exists, so existing elements survive; the chain's two rules are
  // rewritten (flush chain) so that running this twice never duplicates them. No auto-merge:
  // it would join bans with different timeouts into one wider element.
  return fmt::format(
      "add table inet {0}\n"
      "add set inet {0} ban4 {{ type ipv4_addr; flags interval, timeout; }}\n"
      "add set inet {0} ban6 {{ type ipv6_addr; flags interval, timeout; }}\n"
      "add chain inet {0} input {{ type filter hook input priority filter - 10; policy accept; }}\n"
      "flush chain inet {0} input\n"
      "add rule inet {0} input ip saddr @ban4 drop\n"
      "add rule inet {0} input ip6 saddr @ban6 drop\n",
      kBanTable);
}

std::string element_comment(std::string_view reason, std::string_view account,
                            std::uint64_t offence) {
  std::string c =
      fmt::format("{}; {}; offence {}", reason, account.empty() ? "-" : account, offence);
  for (char& ch : c) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u >= 0x7f || ch == '"' || ch == '\\') ch = '_';
  }
  if (c.size() > 128) c.resize(128);  // NFT_USERDATA_MAXLEN
  return c;
}

Result<std::vector<KernelBan>> parse_nft_set_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array())
    return Error{"nft -j list set: not nft JSON"};
  std::vector<KernelBan> out;
  auto value_prefix = [](const nlohmann::json& v) -> Result<Prefix> {
    if (v.is_string()) return parse_prefix(v.get<std::string>());
    if (v.is_object() && v.contains("prefix") && v["prefix"].is_object()) {
      const auto& p = v["prefix"];
      if (!p.contains("addr") || !p["addr"].is_string() || !p.contains("len") ||
          !p["len"].is_number_unsigned())
        return Error{"nft -j list set: malformed prefix element"};
      return parse_prefix(
          fmt::format("{}/{}", p["addr"].get<std::string>(), p["len"].get<unsigned>()));
    }
    return Error{"nft -j list set: an element is neither an address nor a prefix"};
  };
  for (const auto& item : j["nftables"]) {
    if (!item.is_object() || !item.contains("set")) continue;
    const auto& set = item["set"];
    if (!set.is_object() || !set.contains("elem")) continue;
    if (!set["elem"].is_array()) return Error{"nft -j list set: elem is not an array"};
    for (const auto& e : set["elem"]) {
      KernelBan kb;
      const nlohmann::json* val = &e;
      if (e.is_object() && e.contains("elem") && e["elem"].is_object()) {
        const auto& d = e["elem"];
        if (!d.contains("val")) return Error{"nft -j list set: element without val"};
        val = &d["val"];
        if (d.contains("timeout") && d["timeout"].is_number_integer())
          kb.timeout = Seconds(d["timeout"].get<std::int64_t>());
        if (d.contains("expires") && d["expires"].is_number_integer())
          kb.expires = Seconds(d["expires"].get<std::int64_t>());
        if (d.contains("comment") && d["comment"].is_string())
          kb.comment = d["comment"].get<std::string>();
      }
      auto p = value_prefix(*val);
      if (!p) return p.error();
      kb.prefix = *p;
      out.push_back(std::move(kb));
    }
  }
  return out;
}

// ---- engine ---------------------------------------------------------------------------------

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::banned:
      return "banned";
    case Outcome::refused:
      return "refused";
    case Outcome::already_covered:
      return "already-covered";
    case Outcome::dry_run:
      return "dry-run";
  }
  return "?";
}

Prefix BanEngine::effective_prefix(const Prefix& p) const {
  if (p.addr.family != Family::v6 || p.len <= o_.config.ipv6_prefix) return p;
  Prefix w = p;
  w.len = o_.config.ipv6_prefix;
  w.addr.value &= ~host_mask(Family::v6, w.len);
  return w;
}

Result<CommandOutput> BanEngine::nft(const std::vector<std::string>& args,
                                     const std::string& script) {
  std::vector<std::string> argv{o_.nft};
  argv.insert(argv.end(), args.begin(), args.end());
  return runner_.run(argv, script);
}

Status BanEngine::nft_script(const std::string& script) {
  auto r = nft({"-f", "-"}, script);
  if (!r) return r.error();
  if (!r->success())
    return Error{fmt::format("nft refused the ban script: {}{}", r->err,
                             r->timed_out ? " (timed out)" : "")};
  return {};
}

Result<std::vector<KernelBan>> BanEngine::kernel_set(Family f, bool* table_exists) {
  auto r =
      nft({"-j", "list", "set", "inet", std::string(kBanTable), f == Family::v4 ? "ban4" : "ban6"});
  if (!r) return r.error();
  if (!r->success()) {
    // No table yet: nothing is banned. Any other failure is an error.
    if (r->err.find("No such file or directory") != std::string::npos) {
      if (table_exists) *table_exists = false;
      return std::vector<KernelBan>{};
    }
    return Error{"`nft -j list set` failed: " + r->err};
  }
  if (table_exists) *table_exists = true;
  return parse_nft_set_json(r->out);
}

void BanEngine::log_event(std::string_view what, const Prefix& p, std::string_view detail) {
  std::error_code ec;
  std::filesystem::create_directories(o_.state_dir, ec);
  std::ofstream f(log_file(), std::ios::app);
  if (!f) return;  // the log is a record, not a precondition of banning
  nlohmann::json j{{"time", unix_of(clock_.now())},
                   {"event", std::string(what)},
                   {"prefix", to_string(p)},
                   {"detail", std::string(detail)}};
  f << j.dump() << "\n";
}

Result<BanResult> BanEngine::add(const BanRequest& req, const AllowList& allow) {
  BanResult res;
  res.prefix = effective_prefix(req.prefix);
  if (const AllowEntry* e = allow.overlapping(res.prefix)) {
    res.outcome = Outcome::refused;
    res.message = fmt::format("refused: {} overlaps the allow-list entry {} ({})",
                              to_string(res.prefix), to_string(e->prefix), e->why);
    if (!req.dry_run) log_event("refused", res.prefix, res.message);
    return res;
  }
  auto state = load_state(state_file());
  if (!state) return state.error();
  const std::int64_t now = unix_of(clock_.now());
  BanRecord* rec = state->find(res.prefix);
  std::vector<std::int64_t> recent;
  if (rec)
    for (auto t : rec->recent)
      if (t > now - o_.config.window.count()) recent.push_back(t);
  res.offence = recent.size() + 1;
  res.duration = req.duration ? *req.duration : o_.config.duration_for(res.offence);

  // The interval sets refuse overlapping elements: a wider existing ban already covers this
  // one; narrower ones are replaced by it in the same transaction.
  const Family fam = res.prefix.addr.family;
  auto current = kernel_set(fam, nullptr);
  if (!current) return current.error();
  const AddressSet mine = AddressSet::of(res.prefix);
  const std::string set = fam == Family::v4 ? "ban4" : "ban6";
  for (const auto& k : *current) {
    if (k.prefix == res.prefix) continue;
    if (AddressSet::of(k.prefix).contains(res.prefix)) {
      res.outcome = Outcome::already_covered;
      res.message = fmt::format("{} is already inside the active ban {}", to_string(res.prefix),
                                to_string(k.prefix));
      return res;
    }
    if (mine.contains(k.prefix)) res.replaced.push_back(k.prefix);
  }
  std::string script = nft_ensure_script();
  const std::string elem = to_string(res.prefix);
  for (const auto& r : res.replaced)
    script += fmt::format("delete element inet {} {} {{ {} }}\n", kBanTable, set, to_string(r));
  // add (no-op if present) + delete + add: a repeat offence restarts the timeout and comment.
  script += fmt::format("add element inet {0} {1} {{ {2} }}\n", kBanTable, set, elem);
  script += fmt::format("delete element inet {0} {1} {{ {2} }}\n", kBanTable, set, elem);
  script += fmt::format("add element inet {0} {1} {{ {2} timeout {3}s comment \"{4}\" }}\n",
                        kBanTable, set, elem, res.duration.count(),
                        element_comment(req.reason, req.account, res.offence));
  if (req.dry_run) {
    res.outcome = Outcome::dry_run;
    res.message = script;
    return res;
  }
  if (auto s = nft_script(script); !s) return s.error();

  if (!rec) {
    state->bans.push_back(BanRecord{res.prefix, 0, {}, "", "", now, now, now});
    rec = &state->bans.back();
  }
  recent.push_back(now);
  if (recent.size() > kMaxRecent) recent.erase(recent.begin(), recent.end() - kMaxRecent);
  rec->recent = std::move(recent);
  rec->offences += 1;
  rec->reason = req.reason.substr(0, kMaxText);
  rec->account = req.account.substr(0, kMaxText);
  rec->last = now;
  rec->expires = now + res.duration.count();
  if (auto s = save_state(state_file(), *state); !s) return s.error();
  log_event("banned", res.prefix,
            fmt::format("{} for {}; {}", element_comment(req.reason, req.account, res.offence),
                        format_duration(res.duration),
                        res.replaced.empty() ? "" : "replaced narrower bans"));
  res.outcome = Outcome::banned;
  return res;
}

Status BanEngine::del(const Prefix& given) {
  const Prefix p = effective_prefix(given);
  auto current = kernel_set(p.addr.family, nullptr);
  if (!current) return current.error();
  const bool present = std::any_of(current->begin(), current->end(),
                                   [&](const KernelBan& k) { return k.prefix == p; });
  if (!present) return Error{fmt::format("{} is not banned", to_string(p))};
  auto state = load_state(state_file());
  if (!state) return state.error();
  if (auto s = nft_script(fmt::format("delete element inet {} {} {{ {} }}\n", kBanTable,
                                      p.addr.family == Family::v4 ? "ban4" : "ban6", to_string(p)));
      !s)
    return s;
  if (BanRecord* r = state->find(p)) {
    r->expires = std::min(r->expires, unix_of(clock_.now()));  // lifted; the history stays
    if (auto s = save_state(state_file(), *state); !s) return s;
  }
  log_event("deleted", p, "");
  return {};
}

Result<std::vector<ListedBan>> BanEngine::list() {
  auto state = load_state(state_file());
  if (!state) return state.error();
  std::vector<ListedBan> out;
  for (Family f : {Family::v4, Family::v6}) {
    auto ks = kernel_set(f, nullptr);
    if (!ks) return ks.error();
    for (auto& k : *ks) {
      ListedBan lb{std::move(k), std::nullopt};
      if (const BanRecord* r = state->find(lb.kernel.prefix)) lb.record = *r;
      out.push_back(std::move(lb));
    }
  }
  return out;
}

Status BanEngine::flush() {
  auto state = load_state(state_file());
  if (!state) return state.error();
  if (auto s =
          nft_script(nft_ensure_script() +
                     fmt::format("flush set inet {0} ban4\nflush set inet {0} ban6\n", kBanTable));
      !s)
    return s;
  const std::int64_t now = unix_of(clock_.now());
  for (auto& r : state->bans) r.expires = std::min(r.expires, now);
  if (auto s = save_state(state_file(), *state); !s) return s;
  log_event("flushed", Prefix{}, "");
  return {};
}

}  // namespace mw::ban
