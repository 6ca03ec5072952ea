#include "firewall/apply.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/quote.hpp"
#include "firewall/iptables_backend.hpp"
#include "firewall/nft_backend.hpp"

namespace mw::fw {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Whitespace-separated words, a double-quoted word kept whole (iptables-save quotes comments).
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::size_t start = i;
    if (line[i] == '"') {
      ++i;
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, line.size());
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    }
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool is_owned_chain(std::string_view chain) {
  return chain == kIptablesInputChain || chain == kIptablesOutputChain;
}

// The chain a "-A CHAIN ..." line appends to, or "".
std::string_view appended_chain(std::string_view line) {
  if (!line.starts_with("-A ")) return {};
  auto w = words(line);
  return w.size() >= 2 ? w[1] : std::string_view{};
}

// The chain a ":CHAIN POLICY [p:b]" line declares, or "".
std::string_view declared_chain(std::string_view line) {
  if (!line.starts_with(':')) return {};
  line.remove_prefix(1);
  return line.substr(0, line.find_first_of(" \t"));
}

// The target of -j/-g in a rule line, or "".
std::string_view rule_target(std::string_view line) {
  auto w = words(line);
  for (std::size_t i = 2; i + 1 < w.size(); ++i) {
    if (w[i] == "-j" || w[i] == "-g") return w[i + 1];
  }
  return {};
}

std::string jump_line(std::string_view hook, std::string_view chain) {
  return fmt::format("-A {} -j {}", hook, chain);
}

// One family's filter table in a dump: where it starts and ends, and its lines.
struct FilterBlock {
  std::vector<std::string> decls;  // ":CHAIN ..." lines
  std::vector<std::string> rules;  // "-A ..." lines
  bool found = false;
};

Result<FilterBlock> filter_block(std::string_view dump, std::string_view source) {
  FilterBlock b;
  auto lines = split_lines(dump);
  bool in_filter = false;
  std::size_t lineno = 0;
  for (auto line : lines) {
    ++lineno;
    if (line.starts_with('*')) {
      if (in_filter) {
        return Error{fmt::format("{}:{}: table {} starts before the filter table's COMMIT", source,
                                 lineno, quote_input(line))};
      }
      in_filter = line == "*filter";
      if (in_filter && b.found) {
        return Error{fmt::format("{}:{}: a second filter table", source, lineno)};
      }
      b.found = b.found || in_filter;
      continue;
    }
    if (!in_filter) continue;
    if (line == "COMMIT") {
      in_filter = false;
      continue;
    }
    if (line.starts_with(':')) {
      b.decls.emplace_back(line);
    } else if (line.starts_with("-A ")) {
      b.rules.emplace_back(line);
    } else if (line.starts_with("-F ") || line.starts_with("-N ")) {
      // Flushes and creations in a generated restore file: the declarations say it all.
    } else if (!line.empty() && !line.starts_with('#')) {
      return Error{fmt::format("{}:{}: unexpected line in the filter table: {}", source, lineno,
                               quote_input(line))};
    }
  }
  if (in_filter) return Error{fmt::format("{}: the filter table has no COMMIT", source)};
  return b;
}

// 1-based position in `hook` where a missing jump goes: after the leading jumps to ban chains.
int jump_position(const std::vector<std::string>& rules, std::string_view hook) {
  int n = 0;
  for (const auto& r : rules) {
    if (appended_chain(r) != hook) continue;
    auto t = rule_target(r);
    if (t.starts_with("f2b-") || t == "MAILWARDEN-BAN") {
      ++n;
      continue;
    }
    break;
  }
  return n + 1;
}

int count_jumps(const std::vector<std::string>& rules, std::string_view hook,
                std::string_view chain) {
  auto want = jump_line(hook, chain);
  return static_cast<int>(std::count(rules.begin(), rules.end(), want));
}

IptablesOwned owned_of(const FilterBlock& b) {
  IptablesOwned o;
  for (const auto& d : b.decls) {
    if (is_owned_chain(declared_chain(d))) o.chains.emplace_back(declared_chain(d));
  }
  for (const auto& r : b.rules) {
    if (is_owned_chain(appended_chain(r))) o.rules.push_back(r);
  }
  o.input_jumps = count_jumps(b.rules, "INPUT", kIptablesInputChain);
  o.output_jumps = count_jumps(b.rules, "OUTPUT", kIptablesOutputChain);
  return o;
}

// The lines that make the jumps from INPUT and OUTPUT exactly `want` (0 or 1) each.
std::vector<std::string> jump_fixups(const FilterBlock& today, int want) {
  std::vector<std::string> out;
  for (auto [hook, chain] :
       {std::pair<std::string_view, std::string_view>{"INPUT", kIptablesInputChain},
        {"OUTPUT", kIptablesOutputChain}}) {
    int have = count_jumps(today.rules, hook, chain);
    for (int i = want; i < have; ++i) out.push_back(fmt::format("-D {} -j {}", hook, chain));
    if (want == 1 && have == 0) {
      out.push_back(fmt::format("-I {} {} -j {}", hook, jump_position(today.rules, hook), chain));
    }
  }
  return out;
}

}  // namespace

Result<SshConnection> parse_ssh_connection(std::string_view text) {
  auto w = words(text);
  auto bad = [&](std::string_view why) {
    return Error{
        fmt::format("SSH_CONNECTION {}: {} (expected \"CLIENT_IP CLIENT_PORT SERVER_IP "
                    "SERVER_PORT\")",
                    quote_input(text), why)};
  };
  if (w.size() != 4) return bad(fmt::format("{} fields", w.size()));
  auto port = [](std::string_view s) -> std::optional<std::uint16_t> {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  };
  SshConnection c;
  auto client = parse_address(w[0]);
  if (!client) return bad(client.error().message);
  auto server = parse_address(w[2]);
  if (!server) return bad(server.error().message);
  auto cp = port(w[1]);
  auto sp = port(w[3]);
  if (!cp || !sp) return bad("a port is not a number from 1 to 65535");
  // A dual-stack socket shows an IPv4 client as ::ffff:a.b.c.d; netfilter sees plain IPv4.
  auto unmap = [](Address a) {
    if (a.family == Family::v6 && (a.value >> 32) == 0xffff)
      a = {Family::v4, a.value & 0xffffffffu};
    return a;
  };
  *client = unmap(*client);
  *server = unmap(*server);
  if (client->family != server->family) return bad("client and server of different families");
  c.client = *client;
  c.client_port = *cp;
  c.server = *server;
  c.server_port = *sp;
  return c;
}

Result<IptablesOwned> iptables_owned_part(std::string_view save_dump, std::string_view source) {
  auto b = filter_block(save_dump, source);
  if (!b) return b.error();
  return owned_of(*b);
}

std::string serialise(const IptablesOwned& owned) {
  std::string out;
  for (const auto& c : owned.chains) out += fmt::format("chain\t{}\n", c);
  for (const auto& r : owned.rules) out += fmt::format("rule\t{}\n", r);
  out += fmt::format("jumps\t{}\t{}\n", owned.input_jumps, owned.output_jumps);
  return out;
}

Result<IptablesOwned> parse_iptables_owned(std::string_view text, std::string_view source) {
  IptablesOwned o;
  std::size_t lineno = 0;
  bool jumps = false;
  for (auto line : split_lines(text)) {
    ++lineno;
    if (line.empty()) continue;
    auto tab = line.find('\t');
    auto key = line.substr(0, tab);
    auto value = tab == std::string_view::npos ? std::string_view{} : line.substr(tab + 1);
    if (key == "chain" && is_owned_chain(value)) {
      o.chains.emplace_back(value);
    } else if (key == "rule" && is_owned_chain(appended_chain(value))) {
      o.rules.emplace_back(value);
    } else if (key == "jumps" && value.size() == 3 && value[1] == '\t' &&
               (value[0] == '0' || value[0] == '1') && (value[2] == '0' || value[2] == '1')) {
      o.input_jumps = value[0] - '0';
      o.output_jumps = value[2] - '0';
      jumps = true;
    } else {
      return Error{
          fmt::format("{}:{}: not a saved iptables entry: {}", source, lineno, quote_input(line))};
    }
  }
  if (!jumps) return Error{fmt::format("{}: truncated (no jumps line)", source)};
  return o;
}

Result<std::string> iptables_install_script(std::string_view today_dump,
                                            std::string_view owned_restore) {
  auto today = filter_block(today_dump, "current ruleset");
  if (!today) return today.error();
  auto lines = split_lines(owned_restore);
  auto commit = std::find(lines.rbegin(), lines.rend(), std::string_view("COMMIT"));
  if (commit == lines.rend()) return Error{"the generated owned chains have no COMMIT"};
  auto commit_at = static_cast<std::size_t>(lines.rend() - commit - 1);
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == commit_at) {
      for (const auto& fix : jump_fixups(*today, 1)) out += fix + "\n";
    }
    out += fmt::format("{}\n", lines[i]);
  }
  return out;
}

Result<std::string> iptables_restore_script(std::string_view today_dump,
                                            const IptablesOwned& saved) {
  auto today = filter_block(today_dump, "current ruleset");
  if (!today) return today.error();
  auto now = owned_of(*today);
  std::string out = "*filter\n";
  if (saved.present()) {
    for (const auto& c : saved.chains) out += fmt::format(":{} - [0:0]\n", c);
    for (const auto& c : saved.chains) out += fmt::format("-F {}\n", c);
    for (const auto& r : saved.rules) out += r + "\n";
    // A chain created by the apply that did not exist before goes, with its jump.
    for (const auto& c : now.chains) {
      if (std::find(saved.chains.begin(), saved.chains.end(), c) != saved.chains.end()) continue;
      std::string_view hook = c == kIptablesInputChain ? "INPUT" : "OUTPUT";
      for (int i = 0; i < count_jumps(today->rules, hook, c); ++i) {
        out += fmt::format("-D {} -j {}\n", hook, c);
      }
      out += fmt::format("-F {}\n-X {}\n", c, c);
    }
    // Jumps: as many as there were (0 or 1: apply leaves one).
    for (auto [hook, chain, want] : {std::tuple<std::string_view, std::string_view, int>{
                                         "INPUT", kIptablesInputChain, saved.input_jumps},
                                     {"OUTPUT", kIptablesOutputChain, saved.output_jumps}}) {
      if (std::find(saved.chains.begin(), saved.chains.end(), chain) == saved.chains.end()) {
        continue;
      }
      int have = count_jumps(today->rules, hook, chain);
      for (int i = std::max(want, 0); i < have; ++i) {
        out += fmt::format("-D {} -j {}\n", hook, chain);
      }
      if (want >= 1 && have == 0) {
        out += fmt::format("-I {} {} -j {}\n", hook, jump_position(today->rules, hook), chain);
      }
    }
  } else {
    for (const auto& fix : jump_fixups(*today, 0)) out += fix + "\n";
    for (const auto& c : now.chains) out += fmt::format("-F {}\n-X {}\n", c, c);
  }
  out += "COMMIT\n";
  return out;
}

Result<std::string> iptables_splice(std::string_view today_dump, std::string_view owned_restore) {
  auto today = filter_block(today_dump, "current ruleset");
  if (!today) return today.error();
  auto owned = filter_block(owned_restore, "generated owned chains");
  if (!owned) return owned.error();
  if (!owned->found) return Error{"the generated owned chains have no filter table"};

  FilterBlock b;
  for (const auto& d : today->decls) {
    if (!is_owned_chain(declared_chain(d))) b.decls.push_back(d);
  }
  if (!today->found) {
    b.decls = {":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"};
  }
  for (const auto& d : owned->decls) b.decls.push_back(d);
  // Rules: today's without the owned chains' and with the jumps fixed as the install does.
  for (const auto& r : today->rules) {
    if (!is_owned_chain(appended_chain(r))) b.rules.push_back(r);
  }
  for (auto [hook, chain] :
       {std::pair<std::string_view, std::string_view>{"INPUT", kIptablesInputChain},
        {"OUTPUT", kIptablesOutputChain}}) {
    auto want = jump_line(hook, chain);
    int have = count_jumps(b.rules, hook, chain);
    if (have == 0) {
      int pos = jump_position(b.rules, hook);
      int seen = 0;
      auto at = b.rules.end();
      for (auto it = b.rules.begin(); it != b.rules.end(); ++it) {
        if (appended_chain(*it) != hook) continue;
        if (++seen == pos) {
          at = it;
          break;
        }
        at = std::next(it);
      }
      b.rules.insert(at, want);
    } else {
      bool first = true;
      std::erase_if(b.rules, [&](const std::string& r) {
        if (r != want) return false;
        if (first) {
          first = false;
          return false;
        }
        return true;
      });
    }
  }
  for (const auto& r : owned->rules) b.rules.push_back(r);

  // Today's dump with its filter table replaced (or added at the end).
  std::string out;
  bool in_filter = false;
  auto emit_filter = [&] {
    out += "*filter\n";
    for (const auto& d : b.decls) out += d + "\n";
    for (const auto& r : b.rules) out += r + "\n";
    out += "COMMIT\n";
  };
  for (auto line : split_lines(today_dump)) {
    if (line == "*filter") {
      in_filter = true;
      emit_filter();
      continue;
    }
    if (in_filter) {
      if (line == "COMMIT") in_filter = false;
      continue;
    }
    out += fmt::format("{}\n", line);
  }
  if (!today->found) emit_filter();
  return out;
}

std::string nft_restore_script(const std::optional<std::string>& saved) {
  // `table ... {}` first so that the delete cannot fail when the table is already gone.
  std::string out = fmt::format("table inet {0} {{}}\ndelete table inet {0}\n", kNftTable);
  if (saved) {
    out += *saved;
    if (!saved->empty() && saved->back() != '\n') out += '\n';
  }
  return out;
}

Result<std::string> nft_json_splice(std::string_view today_json, std::string_view new_table_json) {
  using nlohmann::json;
  auto parse = [](std::string_view text, std::string_view what) -> Result<json> {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("nftables") ||
        !j["nftables"].is_array()) {
      return Error{fmt::format("{}: not the JSON of `nft -j list ruleset`", what)};
    }
    return j;
  };
  auto today = parse(today_json, "current ruleset");
  if (!today) return today.error();
  auto added = parse(new_table_json, "new table");
  if (!added) return added.error();

  auto owned = [](const json& obj) {
    if (!obj.is_object() || obj.size() != 1) return false;
    auto it = obj.begin();
    const std::string& key = it.key();
    const json& val = it.value();
    if (!val.is_object() || val.value("family", "") != "inet") return false;
    const char* field = key == "table" ? "name" : "table";
    return val.value(field, "") == kNftTable;
  };
  json out = json::array();
  for (const auto& obj : (*today)["nftables"]) {
    if (!owned(obj)) out.push_back(obj);
  }
  for (const auto& obj : (*added)["nftables"]) {
    if (obj.is_object() && obj.contains("metainfo")) continue;
    if (!owned(obj)) {
      return Error{"new table: the generated ruleset holds more than table inet mailwarden"};
    }
    out.push_back(obj);
  }
  return json{{"nftables", out}}.dump();
}

std::vector<PortQuery> ports_to_compare(const PortCatalog& catalog, const FirewallPlan* plan) {
  auto ports = catalog_ports(catalog);
  if (!plan) return ports;
  for (const auto& op : plan->openings) {
    bool known = std::any_of(ports.begin(), ports.end(), [&](const PortQuery& p) {
      return p.protocol == op.protocol && p.port == op.port;
    });
    if (!known) ports.push_back({op.protocol, op.port, op.service});
  }
  return ports;
}

LockoutCheck check_ssh_reachable(const Ruleset& ruleset, const SshConnection& ssh,
                                 const std::optional<std::string>& iface) {
  Query q;
  q.family = ssh.client.family;
  q.protocol = Protocol::tcp;
  q.port = ssh.server_port;
  q.iface = iface;
  q.to = ssh.server;
  auto result = analyse(ruleset, q);
  LockoutCheck c;
  const Region* r = result.region_of(ssh.client);
  if (!r) {
    c.outcome = Outcome::uncertain;
    c.message = "the analysis does not cover the SSH client's address";
    return c;
  }
  c.outcome = r->outcome;
  c.rule = r->rule;
  c.reason = r->reason;
  auto who = fmt::format("{} (this SSH session's client) to sshd on {} port {}",
                         to_string(ssh.client), to_string(ssh.server), ssh.server_port);
  switch (r->outcome) {
    case Outcome::accept:
      c.message = fmt::format("{}: still accepted ({})", who, r->rule);
      break;
    case Outcome::drop:
      c.message = fmt::format("{}: DROPPED by the new ruleset ({})", who, r->rule);
      break;
    case Outcome::uncertain:
      c.message = fmt::format("{}: cannot be proven reachable: {} ({})", who, r->reason, r->rule);
      break;
  }
  return c;
}

std::string exposure_diff(const AnalysisReport& today, const AnalysisReport& tomorrow) {
  std::string out;
  // "everyone", "nobody", "everyone except 127.0.0.0/8", or the prefixes: whichever is shorter.
  auto sources = [](const AddressSet& set, Family f) {
    auto only = set.only(f);
    if (only.empty()) return std::string("nobody");
    auto rest = AddressSet::any_of(f).subtract(only);
    if (rest.empty()) return std::string("everyone");
    if (rest.to_prefixes(f).size() < only.to_prefixes(f).size()) {
      return "everyone except " + rest.to_string();
    }
    return only.to_string();
  };
  auto describe = [&](const ExposureResult& e, Family f) {
    std::string s = sources(e.sources(Outcome::accept), f);
    auto uncertain = e.sources(Outcome::uncertain);
    if (!uncertain.empty()) s += fmt::format(" (uncertain: {})", sources(uncertain, f));
    return s;
  };
  for (const auto& t : tomorrow.ports) {
    auto same_port = [&](const PortExposure& p) {
      return p.port.port == t.port.port && p.port.protocol == t.port.protocol;
    };
    auto it = std::find_if(today.ports.begin(), today.ports.end(), same_port);
    for (Family f : {Family::v4, Family::v6}) {
      const ExposureResult& after = f == Family::v4 ? t.v4 : t.v6;
      std::string before_text = "(not analysed)";
      if (it != today.ports.end()) {
        const ExposureResult& before = f == Family::v4 ? it->v4 : it->v6;
        if (before.sources(Outcome::accept) == after.sources(Outcome::accept) &&
            before.sources(Outcome::uncertain) == after.sources(Outcome::uncertain)) {
          continue;
        }
        before_text = describe(before, f);
      }
      auto name = t.port.service.empty() ? std::string() : " " + t.port.service;
      out += fmt::format("{}/{}{} {}: {} -> {}\n", t.port.port, protocol_name(t.port.protocol),
                         name, family_name(f), before_text, describe(after, f));
    }
  }
  return out;
}

}  // namespace mw::fw
