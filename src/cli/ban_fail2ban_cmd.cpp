// `mailwarden ban fail2ban-config`: writes fail2ban filters and jails whose ignoreip is
// mailwarden's allow-list. Exit codes: 0 written (or unchanged), 1 a file could not be
// written or differs (without --force), 2 bad options or input (policy, allow-list).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ban/ban.hpp"
#include "ban/fail2ban.hpp"
#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/duration.hpp"

namespace mw::cli {

namespace {

struct Fail2banOptions {
  std::string out, flavour = "zimbra", action = "nftables", policy, config, postconf = "postconf",
                   fail2ban_dir = "/etc/fail2ban";
  std::string zimbra_log, audit_log, mailbox_log, maillog, findtime = "10m";
  std::vector<std::string> allow, mynetworks;
  int maxretry = 5, admin_maxretry = 3;
  bool to_stdout = false, force = false, host_addresses = false;
};

void error(const std::string& m) {
  std::fprintf(stderr, "mailwarden ban fail2ban-config: %s\n", m.c_str());
}

std::optional<std::string> given(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// Writes every file, or none when one that exists differs and --force is not given: the
// check comes first so that a refusal leaves the directory as it was.
int write_files(const ban::fail2ban::Generated& g, const std::filesystem::path& dir, bool force) {
  std::vector<std::string> differing;
  std::vector<bool> same(g.files.size(), false);
  for (std::size_t i = 0; i < g.files.size(); ++i) {
    const auto path = dir / g.files[i].path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    auto old = read_file(path, std::size_t{1} << 20);
    if (old && *old == g.files[i].content) {
      same[i] = true;
    } else {
      differing.push_back(path.string());
    }
  }
  if (!differing.empty() && !force) {
    for (const auto& p : differing)
      error(fmt::format("{} exists and differs; not overwritten (use --force)", p));
    return kExitFailure;
  }
  for (std::size_t i = 0; i < g.files.size(); ++i) {
    const auto path = dir / g.files[i].path;
    if (same[i]) {
      std::printf("unchanged %s\n", path.string().c_str());
      continue;
    }
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      error(fmt::format("{}: cannot create: {}", path.parent_path().string(), ec.message()));
      return kExitFailure;
    }
    if (auto s = write_file_atomic(path, g.files[i].content); !s) {
      error(s.error().message);
      return kExitFailure;
    }
    std::printf("wrote %s\n", path.string().c_str());
  }
  return kExitOk;
}

int run(const Fail2banOptions& o) {
  if (o.out.empty() == !o.to_stdout)
    return error("give either --out DIR or --stdout"), kExitInvalid;
  ban::fail2ban::Options fo;
  auto flavour = ban::fail2ban::parse_flavour(o.flavour);
  if (!flavour) return error(flavour.error().message), kExitInvalid;
  fo.flavour = *flavour;
  auto action = ban::fail2ban::parse_ban_action(o.action);
  if (!action) return error(action.error().message), kExitInvalid;
  fo.action = *action;
  fo.zimbra_log = given(o.zimbra_log);
  fo.audit_log = given(o.audit_log);
  fo.mailbox_log = given(o.mailbox_log);
  fo.maillog = given(o.maillog);
  fo.maxretry = o.maxretry;
  fo.admin_maxretry = o.admin_maxretry;
  DurationSyntax syntax;
  syntax.min = std::chrono::seconds(1);
  syntax.max = std::chrono::hours(24 * 30);
  auto findtime = parse_duration(o.findtime, syntax);
  if (!findtime) return error("--findtime " + findtime.error().message), kExitInvalid;
  fo.findtime = std::chrono::duration_cast<std::chrono::seconds>(*findtime);
  auto cfg = ban::load_ban_config(o.config.empty() ? ban::default_ban_config_path()
                                                   : std::filesystem::path(o.config));
  if (!cfg) return error(cfg.error().message), kExitInvalid;
  fo.recidive = *cfg;
  std::error_code ec;
  fo.have_route_action =
      std::filesystem::exists(std::filesystem::path(o.fail2ban_dir) / "action.d/route.conf", ec);

  const auto src =
      ban::allow_sources(o.host_addresses, o.policy, o.mynetworks, o.postconf, o.allow);
  ban::PrefixedRunner runner;
  auto allow = ban::build_allow_list(src, runner);
  if (!allow) return error(allow.error().message), kExitInvalid;
  for (const auto& n : allow->notes) std::fprintf(stderr, "note: %s\n", n.c_str());

  auto g = ban::fail2ban::generate(fo, *allow);
  if (!g) return error(g.error().message), kExitInvalid;
  for (const auto& n : g->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  if (fo.action == ban::fail2ban::BanAction::route && !fo.have_route_action)
    std::fprintf(stderr, "note: %s/action.d/route.conf not found: writing action.d/%s.conf\n",
                 o.fail2ban_dir.c_str(), std::string(ban::fail2ban::kRouteAction).c_str());
  if (o.to_stdout) {
    for (const auto& f : g->files) std::printf("### %s\n%s\n", f.path.c_str(), f.content.c_str());
    return kExitOk;
  }
  return write_files(*g, o.out, o.force);
}

}  // namespace

void register_ban_fail2ban(CLI::App& ban, int& exit_code) {
  auto o = std::make_shared<Fail2banOptions>();
  auto* c = ban.add_subcommand(
      "fail2ban-config",
      "fail2ban filters and jails whose ignoreip is mailwarden's allow-list (exit 0 written, "
      "1 not written, 2 bad input)");
  c->add_option("--out", o->out,
                "directory to write filter.d/, action.d/ and jail.d/ into (e.g. /etc/fail2ban)");
  c->add_flag("--stdout", o->to_stdout, "print the files instead of writing them");
  c->add_flag("--force", o->force, "overwrite files that differ");
  c->add_option("--flavour", o->flavour,
                "zimbra (default: zimbra.log, audit.log, mailbox.log, admin console) or postfix "
                "(mail.log only)");
  c->add_option("--action", o->action,
                "nftables (default), iptables, or route (the Zimbra wiki's unreachable routes)");
  c->add_option("--policy", o->policy, "site policy: its admin and cluster networks are ignored");
  c->add_option("--allow", o->allow, "never ban this CIDR (repeatable)");
  c->add_option("--mynetworks", o->mynetworks,
                "Postfix mynetworks (default: `postconf -h mynetworks` if available)");
  c->add_option("--postconf", o->postconf, "postconf binary; empty: do not ask Postfix");
  c->add_flag("--host-addresses", o->host_addresses,
              "also list this host's addresses (ip -j addr); fail2ban's ignoreself covers the "
              "host it runs on");
  c->add_option("--zimbra-log", o->zimbra_log, "Postfix log on Zimbra (/var/log/zimbra.log)");
  c->add_option("--audit-log", o->audit_log, "Zimbra audit log (/opt/zimbra/log/audit.log)");
  c->add_option("--mailbox-log", o->mailbox_log,
                "Zimbra mailbox log (/opt/zimbra/log/mailbox.log)");
  c->add_option("--maillog", o->maillog, "Postfix log on plain Postfix (/var/log/mail.log)");
  c->add_option("--maxretry", o->maxretry, "failures within findtime before a ban (default 5)");
  c->add_option("--admin-maxretry", o->admin_maxretry,
                "the same for the admin console (default 3)");
  c->add_option("--findtime", o->findtime, "window in which failures count (default 10m)");
  c->add_option("--config", o->config, "recidive catalog (default catalog/ban.toml)");
  c->add_option("--fail2ban-dir", o->fail2ban_dir,
                "installed fail2ban configuration, checked for action.d/route.conf "
                "(default /etc/fail2ban)");
  c->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace mw::cli
