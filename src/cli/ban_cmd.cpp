// `mailwarden ban add|del|list|flush`: kernel bans (nft table inet mailwarden_ban, or iptables
// chain MAILWARDEN-BAN + ipset) that never hit an allowed address. Exit codes: 0 done,
// 1 failed (nft/iptables/ipset, state file), 2 bad input, 3 refused by the allow-list.
// `list --format nagios`: 0 OK, 3 UNKNOWN when the kernel or state cannot be read.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ban/ban.hpp"
#include "cli/commands.hpp"

namespace mw::cli {

namespace {

constexpr int kRefused = 3;

struct BanOptions {
  std::string target, duration, reason = "manual", account, policy,
                                state_dir = "/var/lib/mailwarden";
  std::string config, nft = "nft", netns, format = "text", postconf = "postconf";
  std::string backend = "nft", iptables = "iptables", ip6tables = "ip6tables", ipset = "ipset";
  std::vector<std::string> allow, mynetworks;
  int ipv6_prefix = 0;
  bool dry_run = false, yes = false, no_host_addresses = false;
};

void error(const std::string& m) {
  std::fprintf(stderr, "mailwarden ban: %s\n", m.c_str());
}

std::unique_ptr<ban::PrefixedRunner> make_runner(const BanOptions& o) {
  std::vector<std::string> prefix;
  if (!o.netns.empty()) prefix = {"ip", "netns", "exec", o.netns};
  return std::make_unique<ban::PrefixedRunner>(std::move(prefix));
}

// The engine's options from the command line; an Error is bad input (exit 2).
Result<ban::EngineOptions> engine_options(const BanOptions& o) {
  ban::EngineOptions e;
  e.state_dir = o.state_dir;
  e.nft = o.nft;
  auto backend = ban::parse_backend_choice(o.backend);
  if (!backend) return Error{"--backend " + backend.error().message};
  e.backend = *backend;
  e.iptables = {o.iptables, o.ip6tables, o.ipset};
  auto cfg = ban::load_ban_config(o.config.empty() ? ban::default_ban_config_path()
                                                   : std::filesystem::path(o.config));
  if (!cfg) return cfg.error();
  e.config = *cfg;
  if (o.ipv6_prefix != 0) {
    if (o.ipv6_prefix < 16 || o.ipv6_prefix > 128)
      return Error{fmt::format("--ipv6-prefix {}: expected 16 to 128", o.ipv6_prefix)};
    e.config.ipv6_prefix = o.ipv6_prefix;
  }
  return e;
}

int run_add(const BanOptions& o) {
  auto target = parse_prefix(o.target);
  if (!target) return error("target: " + target.error().message), kExitInvalid;
  ban::BanRequest req;
  req.prefix = *target;
  req.reason = o.reason;
  req.account = o.account;
  req.dry_run = o.dry_run;
  if (!o.duration.empty()) {
    auto d = ban::parse_duration(o.duration);
    if (!d) return error("--for: " + d.error().message), kExitInvalid;
    req.duration = *d;
  }
  auto eo = engine_options(o);
  if (!eo) return error(eo.error().message), kExitInvalid;
  auto runner = make_runner(o);
  const auto src =
      ban::allow_sources(!o.no_host_addresses, o.policy, o.mynetworks, o.postconf, o.allow);
  auto allow = ban::build_allow_list(src, *runner);
  if (!allow) return error(allow.error().message), kExitInvalid;
  for (const auto& n : allow->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  SystemClock clock;
  ban::BanEngine engine(*eo, *runner, clock);
  auto r = engine.add(req, *allow);
  if (!r) return error(r.error().message), kExitFailure;
  switch (r->outcome) {
    case ban::Outcome::refused:
      error(r->message);
      return kRefused;
    case ban::Outcome::already_covered:
      std::printf("%s\n", r->message.c_str());
      return kExitOk;
    case ban::Outcome::dry_run: {
      auto name = engine.backend_name();
      std::printf("dry run: would ban %s for %s (offence %llu); %s commands:\n%s",
                  to_string(r->prefix).c_str(), ban::format_duration(r->duration).c_str(),
                  static_cast<unsigned long long>(r->offence), name ? name->c_str() : "?",
                  r->message.c_str());
      return kExitOk;
    }
    case ban::Outcome::banned:
      std::printf("banned %s for %s (offence %llu)\n", to_string(r->prefix).c_str(),
                  ban::format_duration(r->duration).c_str(),
                  static_cast<unsigned long long>(r->offence));
      if (!r->message.empty()) std::printf("  note: %s\n", r->message.c_str());
      for (const auto& p : r->replaced)
        std::printf("  replaces the narrower ban %s\n", to_string(p).c_str());
      return kExitOk;
  }
  return kExitFailure;
}

int run_del(const BanOptions& o) {
  auto target = parse_prefix(o.target);
  if (!target) return error("target: " + target.error().message), kExitInvalid;
  auto eo = engine_options(o);
  if (!eo) return error(eo.error().message), kExitInvalid;
  auto runner = make_runner(o);
  SystemClock clock;
  ban::BanEngine engine(*eo, *runner, clock);
  if (auto s = engine.del(*target); !s) return error(s.error().message), kExitFailure;
  std::printf("unbanned %s\n", to_string(engine.effective_prefix(*target)).c_str());
  return kExitOk;
}

int run_list(const BanOptions& o) {
  const bool nagios = o.format == "nagios";
  if (o.format != "text" && o.format != "json" && !nagios)
    return error("--format: expected text, json or nagios"), kExitInvalid;
  auto eo = engine_options(o);
  if (!eo) return error(eo.error().message), nagios ? 3 : kExitInvalid;
  auto runner = make_runner(o);
  SystemClock clock;
  ban::BanEngine engine(*eo, *runner, clock);
  auto bans = engine.list();
  if (!bans) {
    if (nagios) {
      std::printf("BAN UNKNOWN - %s\n", bans.error().message.c_str());
      return 3;
    }
    return error(bans.error().message), kExitFailure;
  }
  if (nagios) {
    std::size_t v4 = 0;
    for (const auto& b : *bans) v4 += b.kernel.prefix.addr.family == Family::v4;
    // Counters from the state (list() has just read it); `refused` only once it is counted.
    auto state = ban::load_state(engine.state_file());
    if (!state) {
      std::printf("BAN UNKNOWN - %s\n", state.error().message.c_str());
      return 3;
    }
    std::string perf = fmt::format("active={} active_ipv4={} active_ipv6={} added={}c",
                                   bans->size(), v4, bans->size() - v4, state->added());
    if (state->refused) perf += fmt::format(" refused={}c", *state->refused);
    std::printf("BAN OK - %zu active | %s\n", bans->size(), perf.c_str());
    return 0;
  }
  if (o.format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& b : *bans) {
      nlohmann::json j{{"prefix", to_string(b.kernel.prefix)}, {"comment", b.kernel.comment}};
      if (b.kernel.timeout) j["timeout"] = b.kernel.timeout->count();
      if (b.kernel.expires) j["expires_in"] = b.kernel.expires->count();
      if (b.record) {
        j["reason"] = b.record->reason;
        j["account"] = b.record->account;
        j["offences"] = b.record->offences;
        j["first"] = b.record->first;
        j["last"] = b.record->last;
      }
      arr.push_back(std::move(j));
    }
    std::printf("%s\n", nlohmann::json{{"version", kVersion}, {"bans", arr}}.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-28s %-10s %-8s %-20s %s\n", "PREFIX", "EXPIRES", "OFFENCES", "ACCOUNT", "REASON");
  for (const auto& b : *bans) {
    const std::string exp = b.kernel.expires ? ban::format_duration(*b.kernel.expires) : "never";
    std::string line = fmt::format("{:<28} {:<10} {:<8} {:<20} {}", to_string(b.kernel.prefix), exp,
                                   b.record ? std::to_string(b.record->offences) : "?",
                                   b.record && !b.record->account.empty() ? b.record->account : "-",
                                   b.record ? b.record->reason : b.kernel.comment);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
  std::printf("%zu active ban(s)\n", bans->size());
  return kExitOk;
}

int run_flush(const BanOptions& o) {
  auto eo = engine_options(o);
  if (!eo) return error(eo.error().message), kExitInvalid;
  auto runner = make_runner(o);
  SystemClock clock;
  ban::BanEngine engine(*eo, *runner, clock);
  if (!o.yes) {
    auto bans = engine.list();
    if (!bans) return error(bans.error().message), kExitFailure;
    std::printf("dry run: would lift %zu ban(s); add --yes to flush\n", bans->size());
    return kExitOk;
  }
  if (auto s = engine.flush(); !s) return error(s.error().message), kExitFailure;
  std::printf("flushed every ban (offence history kept for recidive)\n");
  return kExitOk;
}

void common(CLI::App* c, BanOptions& o) {
  c->add_option("--state-dir", o.state_dir, "state directory (default /var/lib/mailwarden)");
  c->add_option("--config", o.config, "recidive catalog (default catalog/ban.toml)");
  c->add_option("--ipv6-prefix", o.ipv6_prefix, "IPv6 bans widen to this prefix (default 64)");
  c->add_option("--backend", o.backend,
                "nft, iptables (iptables + ipset) or auto (nft if `nft list tables` works)");
  c->add_option("--nft", o.nft, "nft binary (default nft)");
  c->add_option("--iptables", o.iptables, "iptables binary (its -restore beside it)");
  c->add_option("--ip6tables", o.ip6tables, "ip6tables binary (its -restore beside it)");
  c->add_option("--ipset", o.ipset, "ipset binary");
  c->add_option("--netns", o.netns, "run nft/iptables/ipset and ip inside this network namespace");
}

}  // namespace

void register_ban(CLI::App& app, int& exit_code) {
  auto* ban = app.add_subcommand(
      "ban", "kernel bans with an allow-list (exit 0 ok, 1 failed, 2 bad input, 3 refused)");
  ban->require_subcommand(1);
  auto o = std::make_shared<BanOptions>();

  auto* add = ban->add_subcommand("add", "ban an address or prefix (IPv6: its /64)");
  add->add_option("target", o->target, "IP or CIDR")->required();
  add->add_option("--for", o->duration, "duration (1h, 6h, 1d...); default: by recidive");
  add->add_option("--reason", o->reason, "why (kept in the element comment and state)");
  add->add_option("--account", o->account, "the account attacked");
  add->add_option("--policy", o->policy, "site policy: its admin and cluster networks are allowed");
  add->add_option("--allow", o->allow, "never ban this CIDR (repeatable)");
  add->add_option("--mynetworks", o->mynetworks,
                  "Postfix mynetworks (default: `postconf -h mynetworks` if available)");
  add->add_option("--postconf", o->postconf, "postconf binary; empty: do not ask Postfix");
  add->add_flag("--no-host-addresses", o->no_host_addresses,
                "do not add the host's own addresses (ip -j addr) to the allow-list");
  add->add_flag("--dry-run", o->dry_run, "print the nft script or commands, change nothing");
  common(add, *o);
  add->callback([o, &exit_code] { exit_code = run_add(*o); });

  auto* del = ban->add_subcommand("del", "lift one ban");
  del->add_option("target", o->target, "IP or CIDR")->required();
  common(del, *o);
  del->callback([o, &exit_code] { exit_code = run_del(*o); });

  auto* list = ban->add_subcommand("list", "active bans from the kernel, with reason and account");
  list->add_option("--format,-f", o->format, "text, json or nagios");
  common(list, *o);
  list->callback([o, &exit_code] { exit_code = run_list(*o); });

  auto* flush = ban->add_subcommand("flush", "lift every ban (dry run unless --yes)");
  flush->add_flag("--yes", o->yes, "really flush");
  common(flush, *o);
  flush->callback([o, &exit_code] { exit_code = run_flush(*o); });

  register_ban_fail2ban(*ban, exit_code);
}

}  // namespace mw::cli
