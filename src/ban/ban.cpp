// The ban engine: catalog, allow-list, state file and the add/del/list/flush flow shared by the
// nft and iptables backends (backend_nft.cpp, backend_iptables.cpp).
#include "ban/ban.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "ban/backend.hpp"
#include "catalog/ports.hpp"
#include "catalog/toml_file.hpp"
#include "core/address_set.hpp"
#include "core/atomic_file.hpp"
#include "core/duration.hpp"
#include "core/quote.hpp"
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

// One syntax for --for and the catalog: a whole number and one unit, 1s..365d (core's parser).
Result<Seconds> parse_duration(std::string_view text) {
  DurationSyntax syntax;
  syntax.units = DurationSyntax::s | DurationSyntax::m | DurationSyntax::h | DurationSyntax::d |
                 DurationSyntax::w;
  syntax.min = std::chrono::seconds(1);
  syntax.max = std::chrono::hours(24 * 365);
  auto d = mw::parse_duration(text, syntax);
  if (!d) return d.error();
  return std::chrono::duration_cast<Seconds>(*d);
}

std::string format_duration(Seconds s) {
  return mw::format_duration(std::chrono::duration_cast<Millis>(s));
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

AllowSources allow_sources(bool host_addresses, const std::string& policy,
                           const std::vector<std::string>& mynetworks, std::string postconf,
                           std::vector<std::string> allow) {
  AllowSources src;
  src.host_addresses = host_addresses;
  if (!policy.empty()) src.policy_file = policy;
  if (!mynetworks.empty()) src.mynetworks = mynetworks;
  src.postconf = std::move(postconf);
  src.extra = std::move(allow);
  return src;
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

std::uint64_t BanState::added() const {
  std::uint64_t n = 0;
  for (const auto& b : bans) n += b.offences;
  return n;
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
    if (k != "version" && k != "bans" && k != "refused")
      return fail(k, "unknown key (version, bans, refused)");
  if (!j.contains("version") || !j["version"].is_number_unsigned() || j["version"] != 1)
    return fail("version", "expected 1");
  if (!j.contains("bans") || !j["bans"].is_array()) return fail("bans", "expected an array");
  BanState st;
  if (j.contains("refused")) {
    if (!j["refused"].is_number_unsigned()) return fail("refused", "expected a count");
    st.refused = j["refused"].get<std::uint64_t>();
  }
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
  if (st.refused) j["refused"] = *st.refused;
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

// ---- the element comment ------------------------------------------------------------------

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

Result<BackendChoice> parse_backend_choice(std::string_view text) {
  if (text == "nft") return BackendChoice::nft;
  if (text == "iptables") return BackendChoice::iptables;
  if (text == "auto") return BackendChoice::automatic;
  return Error{fmt::format("backend {}: expected nft, iptables or auto", quote_input(text))};
}

std::string_view backend_choice_name(BackendChoice c) {
  switch (c) {
    case BackendChoice::nft:
      return "nft";
    case BackendChoice::iptables:
      return "iptables";
    case BackendChoice::automatic:
      return "auto";
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

Result<BanBackend*> BanEngine::backend() {
  if (!backend_) {
    BackendChoice c = o_.backend;
    if (c == BackendChoice::automatic) c = detect_backend(runner_, o_.nft);
    if (c == BackendChoice::nft)
      backend_ = make_nft_backend(runner_, o_.nft);
    else
      backend_ = make_iptables_backend(runner_, o_.iptables);
  }
  return backend_.get();
}

Result<std::string> BanEngine::backend_name() {
  auto b = backend();
  if (!b) return b.error();
  return std::string((*b)->name());
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

void BanEngine::count_refusal() {
  // For `ban list --format nagios`. A state file that cannot be read is left alone: the
  // refusal itself must not depend on it, and the next add reports the damage.
  auto state = load_state(state_file());
  if (!state) return;
  state->refused = state->refused.value_or(0) + 1;
  (void)save_state(state_file(), *state);
}

Result<BanResult> BanEngine::add(const BanRequest& req, const AllowList& allow) {
  return std::move(add_all({req}, allow).front());
}

namespace {

bool overlaps(const Prefix& a, const Prefix& b) {
  return AddressSet::of(a).contains(b) || AddressSet::of(b).contains(a);
}

}  // namespace

std::vector<Result<BanResult>> BanEngine::add_all(const std::vector<BanRequest>& reqs,
                                                  const AllowList& allow) {
  std::vector<std::optional<Result<BanResult>>> out(reqs.size());
  auto finish = [&] {
    std::vector<Result<BanResult>> r;
    r.reserve(out.size());
    for (auto& o : out) r.push_back(std::move(*o));
    return r;
  };
  // The allow-list first: a refusal never depends on the state file or the kernel.
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    BanResult res;
    res.prefix = effective_prefix(reqs[i].prefix);
    if (const AllowEntry* e = allow.overlapping(res.prefix)) {
      res.outcome = Outcome::refused;
      res.message = fmt::format("refused: {} overlaps the allow-list entry {} ({})",
                                to_string(res.prefix), to_string(e->prefix), e->why);
      if (!reqs[i].dry_run) {
        log_event("refused", res.prefix, res.message);
        count_refusal();
      }
      out[i] = std::move(res);
    } else {
      todo.push_back(i);
    }
  }
  if (todo.empty()) return finish();
  auto fail_rest = [&](const Error& e) {
    for (auto i : todo)
      if (!out[i]) out[i] = e;
  };
  auto state = load_state(state_file());
  if (!state) {
    fail_rest(state.error());
    return finish();
  }
  auto be = backend();
  if (!be) {
    fail_rest(be.error());
    return finish();
  }
  BanBackend& kernel = **be;
  const std::int64_t now = unix_of(clock_.now());
  // The kernel's elements of each family, read once and kept up to date with what this call
  // writes.
  std::optional<std::vector<KernelBan>> current[2];
  struct Pending {
    std::size_t index;
    BanResult res;
    BanChange change;
    std::vector<std::int64_t> recent;
  };
  std::vector<Pending> pending;
  // Writes the pending bans in one transaction, then their records in one state save.
  auto commit = [&]() -> void {
    if (pending.empty()) return;
    std::vector<BanChange> changes;
    for (const auto& p : pending) changes.push_back(p.change);
    Status applied = kernel.apply_all(changes);
    if (applied) {
      for (auto& p : pending) {
        BanRecord* rec = state->find(p.res.prefix);
        if (!rec) {
          state->bans.push_back(BanRecord{p.res.prefix, 0, {}, "", "", now, now, now});
          rec = &state->bans.back();
        }
        const BanRequest& req = reqs[p.index];
        p.recent.push_back(now);
        if (p.recent.size() > kMaxRecent)
          p.recent.erase(p.recent.begin(), p.recent.end() - kMaxRecent);
        rec->recent = std::move(p.recent);
        rec->offences += 1;
        rec->reason = req.reason.substr(0, kMaxText);
        rec->account = req.account.substr(0, kMaxText);
        rec->last = now;
        rec->expires = now + p.res.duration.count();
      }
      applied = save_state(state_file(), *state);
    }
    for (auto& p : pending) {
      if (!applied) {
        out[p.index] = applied.error();
        continue;
      }
      log_event(
          "banned", p.res.prefix,
          fmt::format("{} for {} ({}){}", p.change.comment, format_duration(p.res.duration),
                      kernel.name(), p.res.replaced.empty() ? "" : "; replaced narrower bans"));
      p.res.outcome = Outcome::banned;
      out[p.index] = std::move(p.res);
    }
    pending.clear();
    // What was written changes the kernel's view: read it again when next needed.
    current[0].reset();
    current[1].reset();
  };

  for (const std::size_t i : todo) {
    const BanRequest& req = reqs[i];
    BanResult res;
    res.prefix = effective_prefix(req.prefix);
    // A ban overlapping one written in this call waits for that one to be in the kernel, so
    // that each is decided against the other exactly as two separate calls would be.
    if (std::any_of(pending.begin(), pending.end(),
                    [&](const Pending& p) { return overlaps(p.res.prefix, res.prefix); }))
      commit();
    const Family fam = res.prefix.addr.family;
    auto& cur = current[fam == Family::v4 ? 0 : 1];
    if (!cur) {
      auto listed = kernel.elements(fam);
      if (!listed) {
        out[i] = listed.error();
        continue;
      }
      cur = std::move(*listed);
    }
    const BanRecord* rec = state->find(res.prefix);
    std::vector<std::int64_t> recent;
    if (rec)
      for (auto t : rec->recent)
        if (t > now - o_.config.window.count()) recent.push_back(t);
    res.offence = recent.size() + 1;
    res.duration = req.duration ? *req.duration : o_.config.duration_for(res.offence);
    if (res.duration > kernel.max_timeout()) {
      res.message = fmt::format("{} is longer than the {} backend allows: banned for {}",
                                format_duration(res.duration), kernel.name(),
                                format_duration(kernel.max_timeout()));
      res.duration = kernel.max_timeout();
    }
    // nft interval sets refuse overlapping elements, and with ipset a narrower ban inside a
    // wider one would be dead weight: a wider existing ban already covers this one; narrower
    // ones are replaced by it in the same change.
    const AddressSet mine = AddressSet::of(res.prefix);
    bool covered = false;
    for (const auto& k : *cur) {
      if (k.prefix == res.prefix) continue;
      if (AddressSet::of(k.prefix).contains(res.prefix)) {
        res.outcome = Outcome::already_covered;
        res.message = fmt::format("{} is already inside the active ban {}", to_string(res.prefix),
                                  to_string(k.prefix));
        covered = true;
        break;
      }
      if (mine.contains(k.prefix)) res.replaced.push_back(k.prefix);
    }
    if (covered) {
      out[i] = std::move(res);
      continue;
    }
    BanChange change{res.prefix, res.duration,
                     element_comment(req.reason, req.account, res.offence), res.replaced};
    if (req.dry_run) {
      res.outcome = Outcome::dry_run;
      if (!res.message.empty()) res.message = "# " + res.message + "\n";
      res.message += kernel.describe(change);
      out[i] = std::move(res);
      continue;
    }
    pending.push_back(Pending{i, std::move(res), std::move(change), std::move(recent)});
  }
  commit();
  return finish();
}

Status BanEngine::del(const Prefix& given) {
  const Prefix p = effective_prefix(given);
  // The state first: a damaged file stops here, before the kernel is asked anything.
  auto state = load_state(state_file());
  if (!state) return state.error();
  auto be = backend();
  if (!be) return be.error();
  auto current = (*be)->elements(p.addr.family);
  if (!current) return current.error();
  const bool present = std::any_of(current->begin(), current->end(),
                                   [&](const KernelBan& k) { return k.prefix == p; });
  if (!present) return Error{fmt::format("{} is not banned", to_string(p))};
  if (auto s = (*be)->remove(p); !s) return s;
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
  auto be = backend();
  if (!be) return be.error();
  std::vector<ListedBan> out;
  for (Family f : {Family::v4, Family::v6}) {
    auto ks = (*be)->elements(f);
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
  auto be = backend();
  if (!be) return be.error();
  if (auto s = (*be)->flush(); !s) return s;
  const std::int64_t now = unix_of(clock_.now());
  for (auto& r : state->bans) r.expires = std::min(r.expires, now);
  if (auto s = save_state(state_file(), *state); !s) return s;
  log_event("flushed", Prefix{}, "");
  return {};
}

}  // namespace mw::ban
