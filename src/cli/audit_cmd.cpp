// `mailwarden audit`: wiring from the command line to the audit engine and its renderers.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "audit/collect.hpp"
#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/iis.hpp"
#include "audit/snapshot.hpp"
#include "catalog/ports.hpp"
#include "cli/commands.hpp"
#include "firewall/plan.hpp"
#include "policy/policy.hpp"
#include "report/audit_html.hpp"
#include "report/audit_nagios.hpp"
#include "report/audit_report.hpp"
#include "report/audit_sarif.hpp"
#include "report/baseline.hpp"

namespace mw::cli {

namespace {

// audit's exit codes (README.md): 0 nothing fails (or only info), 1 the worst failure is low or
// medium, 2 high, 3 critical, 4 the audit could not run (snapshot or catalog unreadable).
// --format nagios: the plugin's 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN instead.
constexpr int kAuditError = 4;

struct AuditOptions {
  std::string snapshot;
  bool collect = false;
  std::string out;
  std::string format = "text";
  std::string controls;
  std::string baseline;
  std::string iis_config;
  std::string policy;
  std::string node;
  std::string nagios_warning = "low";
  std::string nagios_critical = "high";
  bool nagios_only_new = false;
};

struct Failure {
  std::string message;
};

// Progress of --collect on a terminal: one line rewritten in place ("\r"), never in a pipe.
class CollectProgress {
 public:
  CollectProgress() : started_(std::chrono::steady_clock::now()) {}

  void entry(const audit::ManifestEntry& e) {
    std::lock_guard lock(mu_);
    ++done_;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::string what = e.command.size() > 48 ? e.command.substr(0, 45) + "..." : e.command;
    // \033[K clears the rest of the previous, possibly longer, line.
    fmt::print(stderr, "\rcollect: {} command(s) done, {:.1f} s: {} ({}, {:.1f} s)\033[K", done_,
               elapsed, what, e.status, static_cast<double>(e.duration_ms) / 1000.0);
    std::fflush(stderr);
  }

  void finish() {
    std::lock_guard lock(mu_);
    if (done_ > 0) fmt::print(stderr, "\r\033[K");
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point started_;
  int done_ = 0;
};

audit::Severity severity_option(const std::string& s) {
  for (auto sev : {audit::Severity::critical, audit::Severity::high, audit::Severity::medium,
                   audit::Severity::low, audit::Severity::info}) {
    if (audit::severity_name(sev) == s) return sev;
  }
  return audit::Severity::low;  // unreachable: CLI11 checks the values
}

int worst_exit(const std::vector<audit::ControlResult>& results) {
  int worst = 0;
  for (const auto& r : results) {
    if (r.status != audit::Status::fail) continue;
    switch (r.control->severity) {
      case audit::Severity::critical:
        worst = std::max(worst, 3);
        break;
      case audit::Severity::high:
        worst = std::max(worst, 2);
        break;
      case audit::Severity::medium:
      case audit::Severity::low:
        worst = std::max(worst, 1);
        break;
      case audit::Severity::info:
        break;
    }
  }
  return worst;
}

template <typename T>
T value_or_fail(Result<T> r) {
  if (!r) throw Failure{r.error().message};
  return std::move(*r);
}

int run_audit(const AuditOptions& o) {
  const bool nagios = o.format == "nagios";
  try {
    auto dir = catalog_dir();
    auto attrs = value_or_fail(audit::load_attrs_tsv((dir / "zimbra" / "attrs.tsv").string()));
    auto keys = value_or_fail(
        audit::load_localconfig_keys_tsv((dir / "zimbra" / "localconfig-keys.tsv").string()));
    auto controls = value_or_fail(audit::load_controls(
        o.controls.empty() ? dir / "controls" : std::filesystem::path(o.controls)));
    auto ports = value_or_fail(load_product_catalog("zimbra"));

    // A live audit collects a snapshot first, then audits it like a saved one.
    std::string snapshot = o.snapshot;
    if (o.collect) {
      audit::CollectOptions co;
      co.out_dir = o.out;
      co.rules = audit::RedactionRules{&attrs, &keys};
      co.tool_version = kVersion;
      std::unique_ptr<CollectProgress> progress;
      if (o.format == "text" && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {
        progress = std::make_unique<CollectProgress>();
        co.on_entry = [p = progress.get()](const audit::ManifestEntry& e) { p->entry(e); };
      }
      auto collected = audit::collect_snapshot(co);
      if (progress) progress->finish();
      if (!collected) throw Failure{collected.error().message};
      for (const auto& e : collected->manifest.files) {
        if (e.status == "ok") continue;
        fmt::print(stderr, "collect: {}: {}{}{}\n", e.file, e.status,
                   e.note.empty() ? "" : " (" + e.note + ")",
                   e.stderr_head.empty() ? "" : ": " + e.stderr_head);
      }
      fmt::print(stderr, "collect: snapshot written to {}\n", collected->dir.string());
      snapshot = collected->dir.string();
    }

    audit::Facts facts;
    if (!snapshot.empty()) {
      std::vector<std::string> warnings;
      facts = value_or_fail(audit::load_snapshot(snapshot, attrs, keys, warnings));
      for (const auto& w : warnings) fmt::print(stderr, "{}\n", w);
    } else {
      facts.attrs = &attrs;
      facts.localconfig_keys = &keys;
    }
    facts.ports = &ports;

    // Exchange: the IIS configuration, and the site's policy for its admin networks.
    std::optional<FirewallPlan> plan;
    if (!o.iis_config.empty()) {
      facts.iis = value_or_fail(audit::load_iis_config(o.iis_config));
      facts.iis_file = facts.iis->source;
      facts.missing.erase("iis");
    }
    if (!o.policy.empty()) {
      auto loaded = value_or_fail(load_policy(o.policy));
      auto site = value_or_fail(policy_for_node(loaded.policy, o.node));
      plan = value_or_fail(make_plan(site, loaded.catalog));
      facts.site_plan = &*plan;
    }

    // Each product's controls run only when its facts were given.
    std::erase_if(controls, [&](const audit::Control& c) {
      return c.scope == audit::Scope::zimbra ? snapshot.empty() : o.iis_config.empty();
    });
    auto results = audit::evaluate_all(controls, facts, audit::builtin_checks());

    report::AuditView view;
    view.results = &results;
    view.score = audit::score(results);
    view.snapshot = snapshot;
    view.tool = std::string("mailwarden ") + kVersion;
    view.iis_config = o.iis_config;
    if (!snapshot.empty()) view.manifest = value_or_fail(audit::read_manifest(snapshot));
    view.exposure = report::exposure_of(facts);
    view.exposure_v4 = facts.ruleset_v4;
    view.exposure_v6 = facts.ruleset_v6;
    if (!o.baseline.empty()) {
      auto before = value_or_fail(report::load_baseline(o.baseline));
      view.baseline = report::diff_baseline(before, results, o.baseline);
    }

    std::string out;
    int rc = worst_exit(results);
    if (o.format == "json") {
      out = report::render_audit_json(view);
    } else if (o.format == "html") {
      out = report::render_audit_html(view);
    } else if (o.format == "sarif") {
      out = report::render_audit_sarif(view);
    } else if (nagios) {
      report::NagiosThresholds t;
      t.warning = severity_option(o.nagios_warning);
      t.critical = severity_option(o.nagios_critical);
      t.only_new = o.nagios_only_new;
      auto n = report::render_audit_nagios(view, t);
      out = std::move(n.text);
      rc = static_cast<int>(n.state);
    } else {
      out = report::render_audit_text(view, isatty(STDOUT_FILENO));
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (std::fflush(stdout) != 0) {
      fmt::print(stderr, "mailwarden: writing the report: {}\n", std::strerror(errno));
      return nagios ? static_cast<int>(report::NagiosState::unknown) : kAuditError;
    }
    return rc;
  } catch (const Failure& f) {
    fmt::print(stderr, "mailwarden: {}\n", f.message);
    if (nagios) {
      std::string line = report::nagios_unknown(f.message);
      std::fwrite(line.data(), 1, line.size(), stdout);
      return static_cast<int>(report::NagiosState::unknown);
    }
    return kAuditError;
  }
}

}  // namespace

bool audit_wants_nagios(int argc, char** argv) {
  bool in_audit = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "audit") in_audit = true;
    if (!in_audit) continue;
    if (a == "--format=nagios" || a == "-fnagios") return true;
    if ((a == "--format" || a == "-f") && i + 1 < argc && std::string_view(argv[i + 1]) == "nagios")
      return true;
  }
  return false;
}

void register_audit(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AuditOptions>();
  auto* cmd = app.add_subcommand(
      "audit", "check a server's configuration against the hardening guides' controls");
  auto* snap = cmd->add_option("--snapshot,-s", o->snapshot,
                               "audit a saved snapshot directory (one file per command output)");
  auto* collect = cmd->add_flag("--collect", o->collect,
                                "collect a snapshot of this host (run as root), then audit it");
  snap->excludes(collect);
  cmd->add_option("--out,-o", o->out,
                  "with --collect: the snapshot directory to create (default "
                  "./mailwarden-snapshot-HOST-TIME)")
      ->needs(collect);
  cmd->callback([o, &exit_code] {
    if (o->snapshot.empty() && !o->collect && o->iis_config.empty()) {
      fmt::print(stderr,
                 "mailwarden audit: give --snapshot DIR or --collect (Zimbra), or --iis-config "
                 "FILE (Exchange)\n");
      exit_code = o->format == "nagios" ? 3 : kExitInvalid;
      return;
    }
    exit_code = run_audit(*o);
  });
  cmd->add_option("--format,-f", o->format,
                  "text, json, html (one self-contained file), nagios (status line, perfdata, "
                  "plugin exit codes) or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "html", "nagios", "sarif"}))
      ->capture_default_str();
  cmd->add_option("--baseline", o->baseline,
                  "an earlier `--format json` report: show what changed since (new failures, "
                  "fixed, changed facts)");
  const auto severities = CLI::IsMember({"critical", "high", "medium", "low"});
  cmd->add_option("--nagios-warning", o->nagios_warning,
                  "nagios: WARNING when a failing control is at least this severe")
      ->check(severities)
      ->capture_default_str();
  cmd->add_option("--nagios-critical", o->nagios_critical,
                  "nagios: CRITICAL when a failing control is at least this severe")
      ->check(severities)
      ->capture_default_str();
  cmd->add_flag("--nagios-only-new", o->nagios_only_new,
                "nagios, with --baseline: alert only on failures that are new since the baseline");
  cmd->add_option(
         "--iis-config", o->iis_config,
         "Exchange: audit IIS's applicationHost.config (%windir%\\system32\\inetsrv\\config): is "
         "the admin center (/ecp) restricted to trusted addresses")
      ->check(CLI::ExistingFile);
  cmd->add_option("--policy", o->policy,
                  "the site's firewall policy (as for `firewall generate`): with --iis-config, its "
                  "admin networks and servers judge /ecp's allow list and make the fix")
      ->check(CLI::ExistingFile);
  cmd->add_option("--node", o->node, "with --policy: this server's name in a multi-server policy");
  cmd->add_option("--controls", o->controls, "control catalog directory (default: the catalog's)");
}

}  // namespace mw::cli
