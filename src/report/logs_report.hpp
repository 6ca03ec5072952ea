// `mailwarden logs report` as text (what an admin reads first), as JSON (schema:
// docs/logs-report.schema.json) and the follow-up commands of a compromised account; also the
// pieces the HTML page (logs_html.hpp) shares with them, so both say the same thing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logs/analysis.hpp"

namespace mw::report {

struct TextOptions {
  bool color = false;             // ANSI colours (the CLI sets it when stdout is a terminal)
  std::size_t top_accounts = 20;  // rows of each "top accounts" table
};

std::string render_logs_text(const logs::LogReport& report, const TextOptions& options);

// Deterministic, valid UTF-8 (invalid bytes of log text become U+FFFD).
std::string render_logs_json(const logs::LogReport& report, std::string_view tool_version);

// What to run after `account` was compromised, one shell line each, in order; a line starting
// with '#' is an explanation. Zimbra commands when report.saw_zimbra, else Postfix + Dovecot.
// Printed, never run: every value from the logs is quoted for a POSIX shell. An account whose
// name holds control characters or invalid UTF-8 gets only a comment saying why no command is
// given (a terminal would not show the name as the shell reads it).
std::vector<std::string> follow_up_commands(const logs::LogReport& report,
                                            const std::string& account);

// ---------------------------------------------------------------------------------------------
// Shared with the HTML renderer.

// "2026-11-28T03:12:00Z" (seconds; out-of-range years give "invalid-time(SECONDS)").
std::string iso_time(logs::Timestamp t);
// The start of an hour of a timeline (seconds since the epoch / 3600).
std::string iso_hour(std::int64_t hour);
// `s` as valid UTF-8: each invalid byte becomes U+FFFD, everything else is kept.
std::string valid_utf8(std::string_view s);
// True when `s` is valid UTF-8 without C0, DEL or C1 control characters.
bool printable_utf8(std::string_view s);
// 1830 -> "1,830".
std::string grouped(std::uint64_t n);
// "mail.log:123" (the input's name as given; "input#N" when the index is not an input).
std::string evidence_text(const logs::LogReport& report, const logs::Position& p);

// One compromised account: its findings whose detector means_compromise, in report order.
struct Incident {
  std::string account;
  std::vector<const logs::Finding*> findings;
  const logs::AccountSummary* summary = nullptr;  // null when the report has none
  logs::Timestamp first_seen;                     // of the earliest of the findings
};
// In the order of their earliest finding, then by account name.
std::vector<Incident> incidents(const logs::LogReport& report);
// "account alice@example.com compromised at ... from 203.0.113.9 (AU) after 45 failures; sent
// 1,830 messages to 4,211 recipients (312 external domains) from ... to ..." (raw log text
// inside: escape it for the output).
std::string incident_sentence(const logs::LogReport& report, const Incident& incident);
// The addresses of an incident's findings, sorted and distinct.
std::vector<std::string> incident_ips(const Incident& incident);

}  // namespace mw::report
