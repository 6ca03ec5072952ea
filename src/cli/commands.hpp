// The subcommands' registration functions: each adds itself to the CLI11 application.
#pragma once

namespace CLI {
class App;
}

namespace mw::cli {

// Exit codes shared by every subcommand (documented in README.md and the man page).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the job could not be done (I/O, a command failed)
inline constexpr int kExitInvalid = 2;  // bad usage or invalid input (policy, catalog)

inline constexpr const char* kVersion = "0.1.0";

void register_firewall(CLI::App& app, int& exit_code);
// `scan HOST`: the TCP connect / UDP probe scanner.
void register_scan(CLI::App& app, int& exit_code);
// `audit --snapshot DIR`: the controls of the hardening guides.
void register_audit(CLI::App& app, int& exit_code);
// After a usage error: whether the command line asked audit for --format nagios (a monitoring
// plugin's usage errors are UNKNOWN, 3, not 2).
bool audit_wants_nagios(int argc, char** argv);
// `logs report FILES...` and `logs watch FILES...`: compromised accounts, brute force, spray.
void register_logs(CLI::App& app, int& exit_code);
// `policyd run|check-config|status|lua-script`: the Postfix policy service.
void register_policyd(CLI::App& app, int& exit_code);
// `queue summary|hold|release|delete`: the Postfix queue, selectively, dry run by default.
void register_queue(CLI::App& app, int& exit_code);
// `dnsbl check IP...`: the blacklists of the incident guide, concurrently (c-ares).
void register_dnsbl(CLI::App& app, int& exit_code);
// `ban add|del|list|flush`: kernel bans (nft set with timeouts) that never hit an allowed address.
void register_ban(CLI::App& app, int& exit_code);
// `ban fail2ban-config`, added under the ban subcommand.
void register_ban_fail2ban(CLI::App& ban, int& exit_code);
// `incident ACCOUNT`: the compromised-account playbook, read-only unless --act.
void register_incident(CLI::App& app, int& exit_code);
// `firewall analyze`, added under the firewall subcommand.
void register_firewall_analyze(CLI::App& firewall, int& exit_code);
// `firewall apply`, `confirm`, `rollback`, `status` (and the internal `watchdog`).
void register_firewall_apply(CLI::App& firewall, int& exit_code);

}  // namespace mw::cli
