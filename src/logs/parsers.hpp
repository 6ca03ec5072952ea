// One parser per program: each reads one message (the text after the envelope) into Facts, or
// returns nullopt when it does not recognise the message. None throws, allocates or reads
// outside the views it is given; every loop is bounded by the message length.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "logs/event.hpp"

namespace mw::logs {

// Postfix: `tag` is the syslog tag without pid ("postfix/smtpd", "postfix/submission/smtpd",
// "postfix-incoming/smtpd", "postfix/qmgr"). Daemons: smtpd, postscreen, cleanup, qmgr, pickup,
// smtp, lmtp, local, virtual, pipe, error, retry, discard, bounce, anvil, master,
// postfix-script, tlsmgr.
std::optional<Facts> parse_postfix(std::string_view tag, std::string_view msg);
// The same into `f`, which must be a default-constructed Facts; on false `f` is left
// unspecified. parse_line fills its Event's facts in place through it (no Facts copies).
bool parse_postfix(std::string_view tag, std::string_view msg, Facts& f);
// True for a tag of Postfix ("postfix", "postfix-<instance>", with "/<daemon>").
bool is_postfix_tag(std::string_view tag);

// Dovecot: `tag` is "dovecot", "dovecot-auth", "auth", "auth-worker(N)", "imap-login", ...
// (dovecot's syslog tag or, in its own log file, the process name).
std::optional<Facts> parse_dovecot(std::string_view tag, std::string_view msg);
// The same into a default-constructed `f` (unspecified on false), as parse_postfix's.
bool parse_dovecot(std::string_view tag, std::string_view msg, Facts& f);
bool is_dovecot_tag(std::string_view tag);

// OpenSSH sshd (and sshd-session, OpenSSH 9.8+): Accepted / Failed <method> for [invalid user]
// U from IP port N ssh2, Invalid user U from IP, Connection closed by [invalid user U] IP ...
std::optional<Facts> parse_sshd(std::string_view msg);

// amavis(d-new) result lines: "(NNNNN-NN) Passed CLEAN {RelayedOutbound}, [ip]:port [ip] <from>
// -> <rcpt>,<rcpt>, Queue-ID: X, Message-ID: <..>, mail_id: .., ..., queued_as: Y, N ms".
// A message amavis re-injects into Postfix gets a new queue id: `queue_id` is the one Postfix
// gave before the scan, `next_queue_id` the one after (queued_as), so that an engine counts
// the message once by following next_queue_id.
std::optional<Facts> parse_amavis(std::string_view msg);
// The same into a default-constructed `f` (unspecified on false), as parse_postfix's.
bool parse_amavis(std::string_view msg, Facts& f);

// --- Zimbra ---------------------------------------------------------------------------------

// Addresses of our own proxies (Zimbra's nginx, a load balancer): a client address in this set
// is not the client.
class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<Prefix> prefixes) : prefixes_(std::move(prefixes)) {}
  bool contains(std::string_view address_text) const;
  bool empty() const { return prefixes_.empty(); }

 private:
  std::vector<Prefix> prefixes_;
};

// The pieces of one Zimbra log4j line (log4j.properties in zm-mailbox store-conf/conf:
// `%d %-5p [%t] [%z] %c{1} - %m%n`, the same layout for mailbox.log and audit.log; mailboxd's
// syslog appender prints `mailboxd: %-5p [%t] [%z] %c{1} - %m`).
struct Log4jLine {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::uint32_t nanos = 0;
  std::string_view level;     // INFO, WARN, ...
  std::string_view thread;    // "qtp1234-56:https://host:7071/service/admin/soap/", "ImapServer-3"
  std::string_view context;   // "name=..;ip=..;oip=..;ua=..;" without the brackets
  std::string_view category;  // "security" (audit.log), "imap", "SoapEngine", ...
  std::string_view message;
};
// "2026-11-28 23:55:58,123 INFO  [thread] [ctx] category - message"; nullopt otherwise.
std::optional<Log4jLine> parse_log4j_line(std::string_view line);
// The same without the timestamp: "INFO  [thread] [ctx] category - message".
std::optional<Log4jLine> parse_log4j_body(std::string_view body);

// One `key=value;` of an encoded Zimbra attribute list (ZimbraLog.encodeAttrs and the log
// context: a ';' inside a value is doubled). Returns the raw value (';;' left as is).
std::optional<std::string_view> zimbra_attr(std::string_view attrs, std::string_view key);

// The client of a Zimbra line: `oip` (the originating address Zimbra accepted from a trusted
// peer; a comma-separated chain when a proxy appended X-Forwarded-For) else `ip` (the peer).
// In a chain the client is the rightmost address that is not one of our trusted proxies; when
// every address is trusted, the leftmost.
std::string_view zimbra_client(std::string_view context, const TrustedProxies& trusted);

// audit.log (category security): cmd=Auth / cmd=AdminAuth / other commands, failures with
// error=authentication failed for [..]; mailbox.log: "user U authenticated, mechanism=M" (imap,
// pop) and "authentication failed for [U]" lines of any category.
std::optional<Facts> parse_zimbra(const Log4jLine& line, const TrustedProxies& trusted);

}  // namespace mw::logs
