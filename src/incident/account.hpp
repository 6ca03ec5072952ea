// What an attacker leaves behind in a Zimbra mailbox, read from an account snapshot (the files
// `mailwarden incident ACCOUNT --collect` writes): forwarding, filter rules that redirect, sieve
// scripts, app-specific passwords, data sources, send-as grants. The parsers of the zmmailbox
// and zmprov outputs here read untrusted text (a user writes filter rules): bounded, exact
// positions, never a crash.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/zmprov.hpp"
#include "core/result.hpp"

namespace mw::incident {

// The snapshot files of the account mode (see collect.cpp, docs/incident.md).
inline constexpr std::string_view kAccountFile = "zmprov-ga-account.txt";
inline constexpr std::string_view kDataSourcesFile = "zmprov-gds-account.txt";
inline constexpr std::string_view kGrantsFile = "zmprov-getGrants-account.txt";
inline constexpr std::string_view kFilterRulesFile = "zmmailbox-getFilterRules.txt";
inline constexpr std::string_view kOutgoingFilterRulesFile = "zmmailbox-getOutgoingFilterRules.txt";
inline constexpr std::string_view kMailboxServersFile = "zmprov-gas-mailbox.txt";
inline constexpr std::string_view kDomainsFile = "zmprov-gad.txt";

// Inputs larger than this are not what we think they are.
inline constexpr std::size_t kMaxInputBytes = std::size_t{16} << 20;

// ---- zmmailbox getFilterRules ----------------------------------------------------------------
// One rule per line, as ZFilterRule.generateFilterRule() prints it:
//   "NAME" active|inactive all|any CONDITION... ACTION...
// where every argument is a word or a double-quoted string. Zimbra does not escape a quote
// inside a name (quotedString's replaceAll turns \" back into "), so a quote is taken to end a
// string only when followed by a blank or the end of the line.
struct FilterAction {
  std::string verb;               // keep, discard, fileinto, tag, flag, mark, redirect, reply,
                                  // notify, stop, ...
  std::vector<std::string> args;  // the words and strings after it, up to the next action
};
struct FilterRule {
  std::string name;
  bool active = true;
  bool all = true;         // all conditions, or any
  std::string conditions;  // the condition part as printed (for evidence)
  std::vector<FilterAction> actions;
  std::size_t line = 0;
  std::string text;  // the line as printed
};
// Errors: "SOURCE:LINE:COL: ..." (an unterminated string, a line without a name or flags).
Result<std::vector<FilterRule>> parse_filter_rules(std::string_view text, std::string_view source);

// ---- sieve (RFC 5228) -----------------------------------------------------------------------
// The actions of a sieve script that send mail elsewhere or hide it, found by a tokenizer
// (comments, strings, multi-line text:, string lists, tags) rather than a full grammar: a
// script that does not parse still yields what could be read, and the error.
struct SieveAction {
  std::string command;                 // redirect, notify, discard, vacation, reject, ereject
  std::vector<std::string> tags;       // ":copy", ":method", ...
  std::vector<std::string> arguments;  // string arguments (lists flattened)
  std::size_t line = 0, column = 0;
};
struct SieveScan {
  std::vector<SieveAction> actions;
  std::string error;  // "" when the whole script was read; else "SOURCE:LINE:COL: ..."
};
SieveScan scan_sieve(std::string_view script, std::string_view source);
// The addresses a sieve action sends to: redirect's address, notify's mailto: targets.
std::vector<std::string> sieve_targets(const SieveAction& a);

// ---- zmprov getGrants -t account ACCOUNT --------------------------------------------------
// Fixed columns (GetGrantsCommandHandler: "%-12.12s %-36.36s %-30.30s %-12.12s %-36.36s
// %-30.30s %s"): target type, target id, target name, grantee type, grantee id, grantee name,
// right (prefixed by its modifier: '-' deny, '+' can delegate, '^' subdomain, '*').
// Names longer than 30 characters are cut by zmprov: use the grantee id to act.
struct Grant {
  std::string target_type, target_id, target_name;
  std::string grantee_type, grantee_id, grantee_name;
  std::string right;      // without modifier
  char modifier = 0;      // 0 none
  bool name_cut = false;  // grantee_name is 30 characters long: maybe cut
  std::size_t line = 0;
};
Result<std::vector<Grant>> parse_grants(std::string_view text, std::string_view source);

// ---- zmprov gds ACCOUNT ---------------------------------------------------------------------
// "# name NAME", "# type imap|pop3|caldav|...", then attributes, a blank line after each.
struct DataSource {
  std::string name, type;
  audit::ZmprovEntry entry;
  std::size_t line = 0;
};
Result<std::vector<DataSource>> parse_data_sources(std::string_view text, std::string_view source);

// ---- the account snapshot -------------------------------------------------------------------
struct AccountSnapshot {
  std::filesystem::path dir;
  std::string account;                      // as asked (lower case)
  std::optional<audit::ZmprovEntry> attrs;  // zmprov ga
  std::optional<std::vector<DataSource>> data_sources;
  std::optional<std::vector<Grant>> grants;
  std::optional<std::vector<FilterRule>> incoming_rules, outgoing_rules;
  std::vector<std::string> mailbox_servers;  // zmprov gas mailbox
  std::set<std::string> local_domains;       // zmprov gad, plus the account's own domain
  std::vector<std::string> warnings;         // files missing or unreadable, by name
};
// Reads what is there; an Error only when `dir` is not a readable directory. A missing or
// broken file is a warning, and its part of the report says "not collected".
Result<AccountSnapshot> load_account_snapshot(const std::filesystem::path& dir,
                                              std::string_view account);

// ---- findings -------------------------------------------------------------------------------
struct MailboxFinding {
  std::string kind;                  // forwarding, filter_redirect, filter_notify, filter_discard,
                                     // sieve_redirect, sieve_discard, app_password, data_source,
                                     // send_grant, allow_from
  std::string severity;              // critical, high, medium, low
  std::string summary;               // one line for people
  std::vector<std::string> targets;  // addresses / hosts it sends to or reads from
  bool external = false;             // some target outside the local domains
  std::string evidence;              // "zmprov-ga-account.txt:12: zimbraPrefMail...: x@y"
  std::vector<std::string> revoke;   // the commands that undo it (printed, never run)
};
// `local_domains` (lower case) decide what is external; the account's domain is always local.
// Sieve scripts that do not parse add their error to *warnings (what was read still counts).
std::vector<MailboxFinding> mailbox_findings(const AccountSnapshot& snapshot,
                                             std::vector<std::string>* warnings = nullptr);

// Postfix + Dovecot: the user's sieve scripts (Pigeonhole's sieve directory, e.g.
// ~/sieve or /var/vmail/DOMAIN/USER/sieve: every regular file ending in .sieve), read with
// scan_sieve. `local_domains` (lower case) decide what is external; the account's domain is
// always local. Unreadable files and parse errors go to *warnings.
std::vector<MailboxFinding> sieve_dir_findings(const std::filesystem::path& dir,
                                               std::string_view account,
                                               std::set<std::string> local_domains,
                                               std::vector<std::string>* warnings);

// Helpers shared with the rest of the incident module.
std::string lower_ascii(std::string_view s);
// The domain of an address (after the last '@', lower case, trailing '.' and '>' removed), ""
// when there is none.
std::string address_domain(std::string_view address);
// A Zimbra account name we pass as an argument: local@domain of [A-Za-z0-9._%+=-], no leading
// '-', a host-name domain.
bool is_account_name(std::string_view s);
// Single-quotes a shell word when it needs it: commands are printed to be pasted.
std::string shell_word(std::string_view s);
std::string shell_line(const std::vector<std::string>& argv);

}  // namespace mw::incident
