// `mailwarden audit --snapshot DIR`: wiring from the command line to the audit engine.
#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "audit/collect.hpp"
#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/snapshot.hpp"
#include "catalog/ports.hpp"
#include "cli/commands.hpp"
#include "report/audit_report.hpp"

namespace mw::cli {

namespace {

// audit's exit codes (README.md): 0 nothing fails (or only info), 1 the worst failure is low or
// medium, 2 high, 3 critical, 4 the audit could not run (snapshot or catalog unreadable).
constexpr int kAuditError = 4;

struct AuditOptions {
  std::string snapshot;
  bool collect = false;
  std::string out;
  std::string format = "text";
  std::string controls;
};

int fail(const std::string& message) {
  fmt::print(stderr, "mailwarden: {}\n", message);
  return kAuditError;
}

int run_audit(const AuditOptions& o) {
  auto dir = catalog_dir();
  auto attrs = audit::load_attrs_tsv((dir / "zimbra" / "attrs.tsv").string());
  if (!attrs) return fail(attrs.error().message);
  auto keys = audit::load_localconfig_keys_tsv((dir / "zimbra" / "localconfig-keys.tsv").string());
  if (!keys) return fail(keys.error().message);
  auto controls = audit::load_controls(o.controls.empty() ? dir / "controls"
                                                          : std::filesystem::path(o.controls));
  if (!controls) return fail(controls.error().message);

  auto ports = load_product_catalog("zimbra");
  if (!ports) return fail(ports.error().message);

  // A live audit collects a snapshot first, then audits it like a saved one.
  std::string snapshot = o.snapshot;
  if (o.collect) {
    audit::CollectOptions co;
    co.out_dir = o.out;
    co.rules = audit::RedactionRules{&*attrs, &*keys};
    auto collected = audit::collect_snapshot(co);
    if (!collected) return fail(collected.error().message);
    for (const auto& e : collected->manifest.files) {
      if (e.status == "ok") continue;
      fmt::print(stderr, "collect: {}: {}{}{}\n", e.file, e.status,
                 e.note.empty() ? "" : " (" + e.note + ")",
                 e.stderr_head.empty() ? "" : ": " + e.stderr_head);
    }
    fmt::print(stderr, "collect: snapshot written to {}\n", collected->dir.string());
    snapshot = collected->dir.string();
  }

  std::vector<std::string> warnings;
  auto facts = audit::load_snapshot(snapshot, *attrs, *keys, warnings);
  if (!facts) return fail(facts.error().message);
  facts->ports = &*ports;
  for (const auto& w : warnings) fmt::print(stderr, "{}\n", w);

  auto results = audit::evaluate_all(*controls, *facts, audit::builtin_checks());
  std::string out = o.format == "json"
                        ? report::render_audit_json(results, snapshot)
                        : report::render_audit_text(results, snapshot, isatty(STDOUT_FILENO));
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return kAuditError;

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

}  // namespace

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
    if (o->snapshot.empty() && !o->collect) {
      fmt::print(stderr, "mailwarden audit: give --snapshot DIR or --collect\n");
      exit_code = kExitInvalid;
      return;
    }
    exit_code = run_audit(*o);
  });
  cmd->add_option("--format,-f", o->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--controls", o->controls, "control catalog directory (default: the catalog's)");
}

}  // namespace mw::cli
