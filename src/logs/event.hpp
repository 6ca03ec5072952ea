// The one event model of `mailwarden logs`: every line of every supported format becomes one
// Event (or an Event whose line_kind says why it could not be read).
//
// An Event does not own its text: every string_view points into the line it was parsed from,
// so parsing allocates nothing per line and the caller keeps the line (or the chunk of the
// file it came from) alive as long as the Event is used. A chunked parallel reader keeps each
// chunk alive until its events are merged; an engine that stores events copies what it keeps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mw::logs {

// Why a line became the Event it is. Only `parsed` carries facts; every other kind is counted
// by UnparsedCounts, so that no line is lost silently.
enum class LineKind : std::uint8_t {
  parsed,             // envelope, program and message understood
  empty,              // empty or blank line
  envelope_unknown,   // not a syslog / RFC 5424 / ISO / Zimbra log4j line (garbage, other log)
  timestamp_invalid,  // the envelope's shape matched but its date does not exist (Feb 30, 25:00)
  program_unknown,    // a valid envelope from a program we do not parse (cron, kernel, ...)
  message_unknown,    // a program we parse, a message we do not recognise
  too_long,           // longer than kMaxLineBytes: cut there, only the envelope is read
};
inline constexpr std::size_t kLineKinds = 7;

// The lines we accept: a longer line is cut (and counted as too_long).
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;

enum class EnvelopeFormat : std::uint8_t {
  none,
  rfc3164,  // "Nov 28 23:55:58 host prog[pid]: msg" (also journalctl's default short output)
  rfc5424,  // "<34>1 2026-11-28T23:55:58.123Z host prog pid - - msg"
  iso,      // "2026-11-28T23:55:58.123+01:00 host prog[pid]: msg" (rsyslog, journalctl short-iso)
  log4j,    // Zimbra's "2026-11-28 23:55:58,123 INFO  [thread] [ctx] category - msg"
};

enum class Program : std::uint8_t {
  unknown,
  postfix,
  dovecot,
  sshd,
  amavis,
  zimbra_audit,    // audit.log (logger zimbra.security)
  zimbra_mailbox,  // mailbox.log (every other zimbra logger), and mailboxd's syslog lines
};
inline constexpr std::size_t kPrograms = 7;

enum class Protocol : std::uint8_t {
  unknown,
  smtp,        // port 25 (postfix smtpd without a service name, postscreen)
  submission,  // 587 / 465 (postfix submission/smtpd, smtps/smtpd; dovecot submission-login)
  imap,
  pop3,
  http,   // webmail, SOAP, DAV, ActiveSync
  admin,  // an administrator's login (Zimbra cmd=AdminAuth, the admin console)
  ssh,
  sieve,  // managesieve
  lmtp,
};

enum class Outcome : std::uint8_t { none, success, failure };

enum class EventKind : std::uint8_t {
  unparsed,        // line_kind says why
  other,           // a known program's line that carries nothing the analyses use
  connect,         // a client connected (postfix smtpd, postscreen CONNECT)
  disconnect,      // a client went away; `reason` says how ("lost connection after AUTH")
  auth,            // a login attempt: outcome success or failure, account, method, client
  invalid_user,    // sshd "Invalid user U from IP": the account does not exist
  reject,          // an SMTP reject (smtpd, postscreen, cleanup, milter): reason, from, to
  access_action,   // smtpd access actions other than reject: hold, discard, filter, redirect...
  protocol_error,  // improper pipelining, non-SMTP command, too many errors, TLS failures
  screen,          // postscreen verdicts (PREGREET, DNSBL, HANGUP, PASS, ...): reason
  message_client,  // smtpd "QID: client=..." (+ sasl_username: a SASL-authenticated submission)
  message_id,      // cleanup "QID: message-id=<...>"
  message_pickup,  // pickup "QID: uid=N from=<...>" (local submission)
  message_queued,  // qmgr "QID: from=<..>, size=N, nrcpt=N (queue active)"
  delivery,        // smtp/lmtp/local/virtual/pipe/error "QID: to=<..>, relay=.., status=..."
  bounce_notice,   // bounce "QID: sender non-delivery notification: NEWQID"
  removed,         // qmgr "QID: removed"
  content_scan,    // amavis "Passed CLEAN ..." / "Blocked SPAM ...": one per message
  admin_command,   // Zimbra audit.log commands other than logins (cmd=ChangePassword, ...)
  diagnostic,      // postfix "warning:" / "error:" / "fatal:" / "panic:" lines not known above
  service,         // daemon life cycle: started, reload, stopping, statistics
};
inline constexpr std::size_t kEventKinds = 21;

enum class DeliveryStatus : std::uint8_t { none, sent, deferred, bounced, expired };

// UTC time. `nanos` is the sub-second part when the line has one.
struct Timestamp {
  std::int64_t seconds = 0;
  std::uint32_t nanos = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// What one program's parser read from a message: the part of an Event below the envelope.
// Every field is optional (empty / zero) unless the kind says otherwise.
struct Facts {
  EventKind kind = EventKind::unparsed;
  Protocol protocol = Protocol::unknown;
  Outcome outcome = Outcome::none;
  DeliveryStatus status = DeliveryStatus::none;

  std::string_view client_ip;    // as written, without brackets: "192.0.2.1", "2001:db8::5"
  std::string_view client_name;  // the reverse name Postfix logs ("unknown" when none)
  std::uint16_t client_port = 0;
  std::string_view account;        // login name as the client gave it (sasl_username, user=<>)
  std::string_view method;         // PLAIN, LOGIN, password, publickey, ...
  std::string_view reason;         // reject text, auth error, disconnect cause, amavis category
  std::string_view queue_id;       // Postfix queue id ("NOQUEUE" for rejects before queueing)
  std::string_view next_queue_id;  // "queued as X" / amavis queued_as / bounce's new queue id
  std::string_view from;           // envelope sender without <> ("" is the null sender)
  std::string_view recipients;     // one address (postfix) or amavis' list "<a>,<b>" as written
  std::string_view relay;          // delivery relay "mx.example.com[192.0.2.7]:25", "local"
  std::string_view dsn;            // "2.0.0"
  std::string_view message_id;     // <...> included
  std::uint64_t size = 0;
  std::uint32_t nrcpt = 0;
  bool has_from = false;  // from= was present (the null sender is an empty `from`)
};

struct Event {
  LineKind line_kind = LineKind::envelope_unknown;
  EnvelopeFormat envelope = EnvelopeFormat::none;
  Program program_kind = Program::unknown;
  bool has_time = false;
  bool year_inferred = false;  // RFC 3164: the year came from YearInference
  Timestamp time;
  std::string_view host;     // empty when the line has none (dovecot's own log file)
  std::string_view program;  // syslog tag without pid: "postfix/submission/smtpd", "sshd"
  std::string_view pid;      // "1234" or empty
  std::string_view message;  // the message after the envelope
  Facts facts;
};

// Asks the CPU to load the start of an event's line (its first two cache lines, where the
// message's queue id, client and account are) ahead of its use. A thread that analyses events
// another thread parsed finds their text in the other core's cache: the analysis loops fetch
// kPrefetchAhead events ahead (3-5% of `logs watch`'s time on two cores). A prefetch never
// faults, whatever the address.
inline constexpr std::size_t kPrefetchAhead = 8;
inline void prefetch_text(const Event& e) {
  __builtin_prefetch(e.message.data());
  __builtin_prefetch(e.message.data() + 64);
}

// Counts of the lines that did not become facts, by kind, and of the oddities of lines that
// did. Invalid UTF-8 is not an error (the bytes are kept): it is only counted.
struct UnparsedCounts {
  std::array<std::uint64_t, kLineKinds> by_kind{};
  std::array<std::uint64_t, kPrograms> message_unknown_by_program{};
  std::uint64_t lines = 0;
  std::uint64_t invalid_utf8 = 0;
  std::uint64_t time_backwards = 0;  // a line earlier than the one before it
  std::uint64_t year_rollovers = 0;  // RFC 3164 Dec -> Jan steps that advanced the year

  std::uint64_t count(LineKind k) const { return by_kind[static_cast<std::size_t>(k)]; }
  // Lines that carry no facts (every kind but `parsed`).
  std::uint64_t unparsed() const { return lines - count(LineKind::parsed); }
  void merge(const UnparsedCounts& other);
};

std::string_view name_of(LineKind k);
std::string_view name_of(EnvelopeFormat f);
std::string_view name_of(Program p);
std::string_view name_of(Protocol p);
std::string_view name_of(Outcome o);
std::string_view name_of(EventKind k);
std::string_view name_of(DeliveryStatus s);

}  // namespace mw::logs
