// mailwarden's entry point: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mailwarden: harden, audit and defend mail servers (Zimbra, Postfix, Exchange)",
               "mailwarden"};
  app.set_version_flag("--version", std::string("mailwarden ") + mw::cli::kVersion);
  app.require_subcommand(1);
  int exit_code = mw::cli::kExitOk;
  mw::cli::register_firewall(app, exit_code);
  mw::cli::register_scan(app, exit_code);
  mw::cli::register_audit(app, exit_code);
  mw::cli::register_logs(app, exit_code);
  mw::cli::register_policyd(app, exit_code);
  mw::cli::register_queue(app, exit_code);
  mw::cli::register_dnsbl(app, exit_code);
  mw::cli::register_ban(app, exit_code);
  mw::cli::register_incident(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    if (rc == 0) return 0;
    if (mw::cli::audit_wants_nagios(argc, argv)) return 3;
    // `dnsbl check` keeps 2 for "some answers unknown": its usage errors are 3.
    if (app.get_subcommand("dnsbl")->get_subcommand("check")->parsed()) return 3;
    // `firewall analyze` keeps 2 for "uncertain": its usage errors are 3.
    auto* analyze = app.get_subcommand("firewall")->get_subcommand("analyze");
    return analyze->parsed() ? 3 : mw::cli::kExitInvalid;
  }
  return exit_code;
}
