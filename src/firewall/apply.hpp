// `firewall apply`, the parts without side effects: what mailwarden owns in a ruleset dump, the
// scripts that replace or restore exactly that part in one kernel transaction, tomorrow's
// ruleset as the analyser should see it, the SSH lockout check and the exposure diff.
//
// Ownership (ARCHITECTURE.md): with nft, the table `inet mailwarden`; with iptables, the chains
// MAILWARDEN-INPUT and MAILWARDEN-OUTPUT of the filter table and one jump to each from INPUT
// and OUTPUT. Nothing here touches another table, chain or rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/result.hpp"
#include "firewall/analysis.hpp"
#include "firewall/exposure.hpp"
#include "firewall/ruleset.hpp"

namespace mw::fw {

// $SSH_CONNECTION: "CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT", set by sshd for the session.
struct SshConnection {
  Address client;
  std::uint16_t client_port = 0;
  Address server;
  std::uint16_t server_port = 0;
};
Result<SshConnection> parse_ssh_connection(std::string_view text);

// ---- iptables -------------------------------------------------------------------------------

// The owned part of one family's filter table, as iptables-save prints it.
struct IptablesOwned {
  std::vector<std::string> chains;  // owned chains that exist ("MAILWARDEN-INPUT", ...)
  std::vector<std::string> rules;   // their "-A MAILWARDEN-..." lines, in order
  int input_jumps = 0;              // "-A INPUT -j MAILWARDEN-INPUT" lines
  int output_jumps = 0;             // "-A OUTPUT -j MAILWARDEN-OUTPUT" lines
  bool present() const { return !chains.empty(); }
  friend bool operator==(const IptablesOwned&, const IptablesOwned&) = default;
};
// From `iptables-save` (or ip6tables-save) text; `source` names it in errors.
Result<IptablesOwned> iptables_owned_part(std::string_view save_dump, std::string_view source);

// Serialised for the state directory and back (one line per entry, tab-separated).
std::string serialise(const IptablesOwned& owned);
Result<IptablesOwned> parse_iptables_owned(std::string_view text, std::string_view source);

// The `iptables-restore --noflush` input that installs `owned_restore` (a generated
// mailwarden-owned.v4/.v6) and leaves exactly one jump from INPUT and OUTPUT, placed after the
// ban chains' jumps (fail2ban's f2b-*, MAILWARDEN-BAN) when it has to be added: one transaction.
Result<std::string> iptables_install_script(std::string_view today_dump,
                                            std::string_view owned_restore);

// The `iptables-restore --noflush` input that brings the owned part of `today_dump` back to
// `saved` (absent: the chains and jumps are deleted): one transaction.
Result<std::string> iptables_restore_script(std::string_view today_dump,
                                            const IptablesOwned& saved);

// Tomorrow's iptables-save dump: `today_dump` after iptables_install_script(owned_restore).
Result<std::string> iptables_splice(std::string_view today_dump, std::string_view owned_restore);

// ---- nftables -------------------------------------------------------------------------------

// The `nft -f` input that puts table inet mailwarden back as `saved` (the text of
// `nft -s list table inet mailwarden`), or deletes it when it did not exist: one transaction.
std::string nft_restore_script(const std::optional<std::string>& saved);

// Tomorrow's `nft -j list ruleset`: `today_json` with table inet mailwarden replaced by the
// objects of `new_table_json` (the JSON dump of a ruleset holding only the new table).
Result<std::string> nft_json_splice(std::string_view today_json, std::string_view new_table_json);

// The ports an exposure comparison covers: the catalog's, and the plan's own (its SSH port,
// extra ports) once each.
std::vector<PortQuery> ports_to_compare(const PortCatalog& catalog, const FirewallPlan* plan);

// ---- checks ---------------------------------------------------------------------------------

// Whether a NEW connection from the SSH session's client still reaches sshd under `ruleset`.
struct LockoutCheck {
  Outcome outcome = Outcome::drop;
  std::string rule;     // the deciding rule
  std::string reason;   // for uncertain
  std::string message;  // one line for the operator
};
LockoutCheck check_ssh_reachable(const Ruleset& ruleset, const SshConnection& ssh,
                                 const std::optional<std::string>& iface);

// The ports whose exposure differs between two analyses of the same port list, one line each
// ("7071/tcp zimbra-admin-console IPv4: 0.0.0.0/0 -> 198.51.100.0/28"); "" when none does.
std::string exposure_diff(const AnalysisReport& today, const AnalysisReport& tomorrow);

}  // namespace mw::fw
