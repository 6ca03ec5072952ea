// Postfix messages, one daemon at a time. Formats as Postfix 3.x logs them (smtpd.c,
// smtpd_check.c, smtpd_sasl_glue.c, postscreen*.c, cleanup, qmgr, the delivery agents' "log
// delivered/deferred/bounced" lines, bounce); checked against the fail2ban 1.0.2 and
// sshguard 2.4.2 test lines in tests/data/logs/public/.
#include <algorithm>
#include <array>

#include "logs/field_scan.hpp"
#include "logs/parsers.hpp"

namespace mw::logs {

using scan::consume;
using scan::starts_with;

namespace {

constexpr std::string_view kSmtpdSubmissionServices[] = {"submission", "submissions", "smtps"};

// "QID: " at the front of a message: NOQUEUE, a short (hex) or long (base-52ish) queue id.
bool queue_id_prefix(std::string_view& msg, std::string_view& qid) {
  const std::size_t limit = std::min<std::size_t>(msg.size(), 24);
  std::size_t n = 0;
  std::uint8_t seen = 0;  // the classes of the id's bytes
  for (; n < limit; ++n) {
    const std::uint8_t k = scan::byte_class(msg[n]);
    if (k == 0) break;
    seen |= k;
  }
  if (n < 5 || n + 1 >= msg.size() || msg[n] != ':' || msg[n + 1] != ' ') return false;
  // A lower-case word is a log level ("warning: "), never a queue id.
  if (seen == scan::kClassLower) return false;
  qid = msg.substr(0, n);
  msg.remove_prefix(n + 2);
  return true;
}

void set_client(Facts& f, const scan::Client& c) {
  f.client_name = c.name;
  f.client_ip = c.ip;
  f.client_port = c.port;
}

// "from=<a> to=<b> proto=ESMTP helo=<h>" (smtpd; postscreen separates them with ", ").
void envelope_fields(std::string_view s, Facts& f) {
  auto skip_sep = [&s] {
    consume(s, ",");
    consume(s, " ");
  };
  if (consume(s, "from=")) {
    if (scan::angle_value(s, f.from)) f.has_from = true;
    skip_sep();
  }
  if (consume(s, "to=")) {
    if (scan::angle_value(s, f.recipients)) f.nrcpt = 1;
    skip_sep();
  }
}

// "STAGE from CLIENT: REASON; from=<..> to=<..> proto=.. helo=<..>": the tail of smtpd's and
// postscreen's access decisions (reject, hold, discard, milter-reject, ...).
bool access_decision(std::string_view s, Facts& f) {
  const auto stage_end = s.find(' ');
  if (stage_end == std::string_view::npos) return false;
  s.remove_prefix(stage_end);
  if (!consume(s, " from ")) return false;
  scan::Client c;
  if (!scan::postfix_client(s, c)) return false;
  set_client(f, c);
  if (!consume(s, ": ")) return consume(s, ";") || s.empty();
  // The reason is Postfix's reply text; the first "; from=<" ends it (addresses in the reason
  // come from the client, so an address holding "; from=<" cuts the reason short, no more).
  auto p = s.find("; from=<");
  if (p == std::string_view::npos) p = s.find("; proto=");
  if (p == std::string_view::npos) {
    f.reason = s;
    return true;
  }
  f.reason = s.substr(0, p);
  envelope_fields(s.substr(p + 2), f);
  return true;
}

// "QID: ACTION: ..." where ACTION is one of smtpd_check's log words.
bool action_line(std::string_view qid, std::string_view s, Facts& f) {
  struct Action {
    std::string_view word;
    EventKind kind;
    Outcome outcome;
  };
  static constexpr std::array<Action, 11> kActions = {{
      {"reject: ", EventKind::reject, Outcome::failure},
      {"milter-reject: ", EventKind::reject, Outcome::failure},
      {"reject_warning: ", EventKind::reject, Outcome::none},
      {"milter-reject-warning: ", EventKind::reject, Outcome::none},
      {"hold: ", EventKind::access_action, Outcome::none},
      {"milter-hold: ", EventKind::access_action, Outcome::none},
      {"discard: ", EventKind::access_action, Outcome::none},
      {"milter-discard: ", EventKind::access_action, Outcome::none},
      {"filter: ", EventKind::access_action, Outcome::none},
      {"redirect: ", EventKind::access_action, Outcome::none},
      {"warn: ", EventKind::access_action, Outcome::none},
  }};
  for (const auto& a : kActions) {
    auto rest = s;
    if (!consume(rest, a.word)) continue;
    f.queue_id = qid;
    f.kind = a.kind;
    f.outcome = a.outcome;
    if (f.kind == EventKind::access_action) f.method = a.word.substr(0, a.word.size() - 2);
    // cleanup's header/body checks: "header Subject: x from CLIENT; from=<> to=<> proto=ESMTP
    // helo=<h>: 5.7.1 text" — the reason is the text after the envelope fields.
    if (starts_with(rest, "header ") || starts_with(rest, "body ")) {
      const auto from = rest.find(" from ");
      if (from != std::string_view::npos) {
        auto cl = rest.substr(from + 6);
        scan::Client c;
        if (scan::postfix_client(cl, c)) set_client(f, c);
        if (consume(cl, "; ")) envelope_fields(cl, f);
      }
      const auto r = rest.rfind(">: ");
      f.reason = r == std::string_view::npos ? rest : rest.substr(r + 3);
      return true;
    }
    return access_decision(rest, f) || (f.reason = rest, true);
  }
  return false;
}

// "warning: CLIENT: SASL METHOD authentication failed: REASON[, sasl_username=USER]".
// Postfix 3.5.22, 3.6.12, 3.7.8, 3.8.3 and later append sasl_username (smtpd_sasl_glue.c:
// "%s: SASL %.100s authentication failed: %s, sasl_username=%.100s", "(unavailable)" when the
// SASL server did not say); older versions end after the reason, which may be empty.
bool sasl_failure(std::string_view s, Facts& f) {
  scan::Client c;
  if (!scan::postfix_client(s, c) || !consume(s, ": SASL ")) return false;
  const auto sp = s.find(' ');
  if (sp == std::string_view::npos) return false;
  f.method = s.substr(0, sp);
  s.remove_prefix(sp + 1);
  set_client(f, c);
  f.kind = EventKind::auth;
  f.outcome = Outcome::failure;
  if (consume(s, "authentication aborted")) {
    f.reason = "authentication aborted";
    return true;
  }
  if (!consume(s, "authentication failed")) return false;
  consume(s, ":");
  consume(s, " ");
  // The reason comes from the SASL server (Cyrus, Dovecot), the user name from the client:
  // the first ", sasl_username=" is Postfix's own.
  const auto u = s.find(", sasl_username=");
  if (u == std::string_view::npos) {
    f.reason = s;
  } else {
    f.reason = s.substr(0, u);
    auto user = s.substr(u + 16);
    if (user != "(unavailable)") f.account = user;
  }
  return true;
}

// "CAUSE from CLIENT[: detail]": lost connection / timeout / too many errors / pipelining.
bool after_from(std::string_view s, std::string_view cause_prefix, EventKind kind, Facts& f) {
  if (!starts_with(s, cause_prefix)) return false;
  const auto p = s.find(" from ");
  if (p == std::string_view::npos) return false;
  auto rest = s.substr(p + 6);
  scan::Client c;
  if (!scan::postfix_client(rest, c)) return false;
  set_client(f, c);
  f.kind = kind;
  f.reason = s.substr(0, p);
  return true;
}

bool smtpd(std::string_view msg, Facts& f) {
  if (consume(msg, "connect from ")) {
    scan::Client c;
    if (!scan::postfix_client(msg, c)) return false;
    set_client(f, c);
    f.kind = EventKind::connect;
    return true;
  }
  if (consume(msg, "disconnect from ")) {
    scan::Client c;
    if (!scan::postfix_client(msg, c)) return false;
    set_client(f, c);
    f.kind = EventKind::disconnect;
    f.reason = scan::trim(msg);  // "ehlo=1 auth=0/1 quit=1 commands=2/3"
    return true;
  }
  if (after_from(msg, "lost connection after ", EventKind::disconnect, f) ||
      after_from(msg, "timeout after ", EventKind::disconnect, f) ||
      after_from(msg, "too many errors after ", EventKind::protocol_error, f) ||
      after_from(msg, "improper command pipelining after ", EventKind::protocol_error, f) ||
      after_from(msg, "SSL_accept error from ", EventKind::protocol_error, f) ||
      after_from(msg, "warning: non-SMTP command from ", EventKind::protocol_error, f)) {
    return true;
  }
  for (std::string_view tls :
       {"Anonymous TLS connection established from ", "Untrusted TLS connection established from ",
        "Trusted TLS connection established from ", "Verified TLS connection established from "}) {
    auto rest = msg;
    if (consume(rest, tls)) {
      scan::Client c;
      if (!scan::postfix_client(rest, c)) return false;
      set_client(f, c);
      f.kind = EventKind::other;
      return true;
    }
  }
  if (starts_with(msg, "warning: ")) {
    auto w = msg.substr(9);
    if (sasl_failure(w, f)) return true;
    f.kind = EventKind::diagnostic;
    f.reason = w;
    // "hostname H does not resolve to address A[: ...]" and "CLIENT: ..." name a client.
    const auto addr = w.find(" does not resolve to address ");
    if (addr != std::string_view::npos) {
      auto a = w.substr(addr + 29);
      f.client_ip = a.substr(0, a.find(": "));  // "...address 2001:db8::1: Name or..."
      if (!scan::looks_like_ip(f.client_ip)) f.client_ip = {};
    } else {
      auto cl = w;
      scan::Client c;
      if (scan::postfix_client(cl, c) && starts_with(cl, ": ")) set_client(f, c);
    }
    return true;
  }
  std::string_view qid;
  if (queue_id_prefix(msg, qid)) {
    if (consume(msg, "client=")) {
      scan::Client c;
      if (!scan::postfix_client(msg, c)) return false;
      set_client(f, c);
      f.queue_id = qid;
      f.kind = EventKind::message_client;
      std::string_view v;
      if (scan::value_after(msg, ", sasl_method=", ",", v)) f.method = v;
      const auto u = msg.find(", sasl_username=");
      if (u != std::string_view::npos) {
        auto user = msg.substr(u + 16);
        const auto e = user.find(", sasl_sender=");
        f.account = e == std::string_view::npos ? user : user.substr(0, e);
        f.outcome = Outcome::success;
      }
      return true;
    }
    return action_line(qid, msg, f);
  }
  return false;
}

bool postscreen(std::string_view msg, Facts& f) {
  if (consume(msg, "CONNECT from ")) {
    scan::Client c;
    if (!scan::postfix_client(msg, c)) return false;
    set_client(f, c);
    f.kind = EventKind::connect;
    return true;
  }
  if (consume(msg, "DISCONNECT ")) {
    scan::Client c;
    if (!scan::postfix_client(msg, c)) return false;
    set_client(f, c);
    f.kind = EventKind::disconnect;
    return true;
  }
  struct Verdict {
    std::string_view word;
    Outcome outcome;
  };
  static constexpr std::array<Verdict, 18> kVerdicts = {{
      {"PASS NEW ", Outcome::success},
      {"PASS OLD ", Outcome::success},
      {"WHITELISTED ", Outcome::success},
      {"ALLOWLISTED ", Outcome::success},
      {"WHITELIST VETO ", Outcome::none},
      {"ALLOWLIST VETO ", Outcome::none},
      {"BLACKLISTED ", Outcome::failure},
      {"DENYLISTED ", Outcome::failure},
      {"PREGREET ", Outcome::failure},
      {"DNSBL rank ", Outcome::failure},
      {"HANGUP ", Outcome::failure},
      {"COMMAND TIME LIMIT ", Outcome::failure},
      {"COMMAND COUNT LIMIT ", Outcome::failure},
      {"COMMAND LENGTH LIMIT ", Outcome::failure},
      {"COMMAND PIPELINING ", Outcome::failure},
      {"NON-SMTP COMMAND ", Outcome::failure},
      {"BARE NEWLINE ", Outcome::failure},
      {"BDAT ", Outcome::failure},
  }};
  for (const auto& v : kVerdicts) {
    if (!starts_with(msg, v.word)) continue;
    const auto open = msg.find('[');
    if (open == std::string_view::npos) return false;
    auto rest = msg.substr(open);
    scan::Client c;
    if (!scan::postfix_client(rest, c)) return false;
    set_client(f, c);
    f.kind = EventKind::screen;
    f.outcome = v.outcome;
    f.reason = scan::trim(v.word);
    return true;
  }
  std::string_view qid;
  auto rest = msg;
  if (queue_id_prefix(rest, qid) && action_line(qid, rest, f)) return true;
  if (starts_with(msg, "cache ") || starts_with(msg, "warning: ")) {
    f.kind = starts_with(msg, "warning: ") ? EventKind::diagnostic : EventKind::service;
    f.reason = msg;
    return true;
  }
  return false;
}

// "to=<x>, orig_to=<y>, relay=R, conn_use=N, delay=D, delays=a/b/c/d, dsn=X, status=S (text)".
// Fills `f` only on success: queue_line goes on with `f` as it was when this fails.
bool delivery(std::string_view qid, std::string_view msg, Facts& f) {
  if (!consume(msg, "to=")) return false;
  std::string_view recipient;
  if (!scan::angle_value(msg, recipient)) return false;
  // The first ", relay=", ", dsn=" and ", status=" in one pass over the commas (three finds
  // walked the same commas three times). Normally relay and dsn come before status, where the
  // pass stops; a line without them is searched to its end, as a find would.
  constexpr auto npos = std::string_view::npos;
  std::size_t relay_at = npos, dsn_at = npos, st = npos;
  for (auto p = msg.find(','); p != npos; p = msg.find(',', p + 1)) {
    const auto rest = msg.substr(p);
    if (relay_at == npos && starts_with(rest, ", relay=")) {
      relay_at = p;
    } else if (dsn_at == npos && starts_with(rest, ", dsn=")) {
      dsn_at = p;
    } else if (st == npos && starts_with(rest, ", status=")) {
      st = p;
    }
    if (relay_at != npos && dsn_at != npos && st != npos) break;
  }
  if (st == npos) return false;
  f.recipients = recipient;
  f.nrcpt = 1;
  f.queue_id = qid;
  f.kind = EventKind::delivery;
  // Each value ends at the next ',' (or the end of the message).
  if (relay_at != npos) {
    const auto v = msg.substr(relay_at + 8);
    f.relay = v.substr(0, v.find(','));
  }
  if (dsn_at != npos) {
    const auto v = msg.substr(dsn_at + 6);
    f.dsn = v.substr(0, v.find(','));
  }
  auto status = msg.substr(st + 9);
  const auto sp = status.find(' ');
  const auto word = status.substr(0, sp);
  if (word == "sent") {
    f.status = DeliveryStatus::sent;
  } else if (word == "deferred") {
    f.status = DeliveryStatus::deferred;
  } else if (word == "bounced") {
    f.status = DeliveryStatus::bounced;
  } else if (word == "expired") {
    f.status = DeliveryStatus::expired;
  }
  if (sp != std::string_view::npos) {
    auto text = status.substr(sp + 1);
    if (!text.empty() && text.front() == '(' && text.back() == ')') {
      text = text.substr(1, text.size() - 2);
    }
    f.reason = text;
    // "250 2.0.0 Ok: queued as 4XyZ" (a content filter or relay took it under a new id).
    const auto q = text.rfind("queued as ");
    if (q != std::string_view::npos) {
      auto id = text.substr(q + 10);
      std::size_t n = 0;
      while (n < id.size() && n < 24 && scan::is_alnum(id[n])) ++n;
      if (n > 0) f.next_queue_id = id.substr(0, n);
    }
  }
  return true;
}

// The daemons parse_postfix tells apart. Found once per line by length and then name (a chain
// of string compares per question showed in profiles).
enum class Daemon : std::uint8_t {
  smtpd,
  postscreen,
  cleanup,
  qmgr,
  pickup,
  bounce,
  postsuper,
  smtp,
  lmtp,
  other_delivery_agent,  // local, virtual, pipe, error, retry, discard
  other,
};

Daemon daemon_of(std::string_view d) {
  switch (d.size()) {
    case 4:
      if (d == "smtp") return Daemon::smtp;
      if (d == "lmtp") return Daemon::lmtp;
      if (d == "qmgr") return Daemon::qmgr;
      if (d == "pipe") return Daemon::other_delivery_agent;
      break;
    case 5:
      if (d == "smtpd") return Daemon::smtpd;
      if (d == "local" || d == "error" || d == "retry") return Daemon::other_delivery_agent;
      break;
    case 6:
      if (d == "pickup") return Daemon::pickup;
      if (d == "bounce") return Daemon::bounce;
      break;
    case 7:
      if (d == "cleanup") return Daemon::cleanup;
      if (d == "virtual" || d == "discard") return Daemon::other_delivery_agent;
      break;
    case 9:
      if (d == "postsuper") return Daemon::postsuper;
      break;
    case 10:
      if (d == "postscreen") return Daemon::postscreen;
      break;
    default:
      break;
  }
  return Daemon::other;
}

// On failure `f` is left part-filled: the caller starts again from a fresh Facts.
bool queue_line(Daemon daemon, std::string_view msg, Facts& f) {
  std::string_view qid;
  if (!queue_id_prefix(msg, qid)) return false;
  f.queue_id = qid;
  if (daemon == Daemon::cleanup) {
    if (consume(msg, "message-id=")) {
      f.kind = EventKind::message_id;
      f.message_id = msg;
      return true;
    }
    if (consume(msg, "resent-message-id=")) {
      f.kind = EventKind::other;
      f.message_id = msg;
      return true;
    }
    if (action_line(qid, msg, f)) return true;
    for (std::string_view w : {"warning: ", "info: ", "replace: ", "prepend: ", "strip: "}) {
      if (starts_with(msg, w)) {
        f.kind = EventKind::other;
        f.reason = msg;
        return true;
      }
    }
    return false;
  }
  if (daemon == Daemon::qmgr) {
    if (msg == "removed") {
      f.kind = EventKind::removed;
      return true;
    }
    if (consume(msg, "from=")) {
      if (!scan::angle_value(msg, f.from)) return false;
      f.has_from = true;
      if (consume(msg, ", status=expired")) {
        f.kind = EventKind::delivery;
        f.status = DeliveryStatus::expired;
        return true;
      }
      f.kind = EventKind::message_queued;
      std::string_view v;
      std::uint64_t n = 0;
      if (scan::value_after(msg, ", size=", ",", v) && scan::whole_uint(v, n)) f.size = n;
      if (scan::value_after(msg, ", nrcpt=", " ,", v) && scan::whole_uint(v, n, 9)) {
        f.nrcpt = static_cast<std::uint32_t>(n);
      }
      return true;
    }
    if (starts_with(msg, "skipped, ")) {
      f.kind = EventKind::other;
      return true;
    }
    return delivery(qid, msg, f);
  }
  if (daemon == Daemon::postsuper) {  // an administrator's queue operation
    if (msg == "removed") {
      f.kind = EventKind::removed;
      f.reason = "postsuper";
      return true;
    }
    if (msg == "placed on hold" || msg == "released from hold" || msg == "requeued") {
      f.kind = EventKind::other;
      f.reason = msg;
      return true;
    }
    return false;
  }
  if (daemon == Daemon::pickup) {
    // "uid=1000 from=<user>": account is the local uid.
    if (!consume(msg, "uid=")) return false;
    const auto sp = msg.find(' ');
    if (sp == std::string_view::npos) return false;
    f.account = msg.substr(0, sp);
    msg.remove_prefix(sp + 1);
    if (!consume(msg, "from=") || !scan::angle_value(msg, f.from)) return false;
    f.has_from = true;
    f.kind = EventKind::message_pickup;
    return true;
  }
  if (daemon == Daemon::bounce) {
    for (std::string_view w :
         {"sender non-delivery notification: ", "sender delivery status notification: ",
          "postmaster non-delivery notification: ", "sender delay notification: "}) {
      auto rest = msg;
      if (consume(rest, w)) {
        f.kind = EventKind::bounce_notice;
        f.next_queue_id = rest;
        f.reason = w.substr(0, w.size() - 2);
        return true;
      }
    }
    return false;
  }
  // Delivery agents.
  if (delivery(qid, msg, f)) return true;
  for (std::string_view w : {"host ", "lost connection with ", "conversation with ",
                             "enabling PIX workarounds", "warning: "}) {
    if (starts_with(msg, w)) {
      f.kind = EventKind::other;
      f.reason = msg;
      return true;
    }
  }
  return false;
}

}  // namespace

bool is_postfix_tag(std::string_view tag) {
  if (!starts_with(tag, "postfix")) return false;
  return tag.size() == 7 || tag[7] == '/' || tag[7] == '-';
}

bool parse_postfix(std::string_view tag, std::string_view msg, Facts& f) {
  const auto last = tag.rfind('/');
  const auto first = tag.find('/');
  const Daemon daemon = daemon_of(last == std::string_view::npos ? tag : tag.substr(last + 1));
  const std::string_view service =
      first != last ? tag.substr(first + 1, last - first - 1) : std::string_view{};
  if (daemon == Daemon::smtpd) {
    f.protocol = Protocol::smtp;
    for (auto s : kSmtpdSubmissionServices) {
      if (service == s) f.protocol = Protocol::submission;
    }
    return smtpd(msg, f);
  }
  if (daemon == Daemon::postscreen) {
    f.protocol = Protocol::smtp;
    return postscreen(msg, f);
  }
  if (daemon == Daemon::lmtp) f.protocol = Protocol::lmtp;
  if (daemon != Daemon::other) {
    if (queue_line(daemon, msg, f)) return true;
    const Protocol protocol = f.protocol;
    f = Facts{};
    f.protocol = protocol;
  }
  // Any daemon: life cycle and generic diagnostics.
  for (std::string_view w : {"statistics: ", "daemon started", "reload ", "terminating on signal",
                             "Deleted: ", "Requeued: ", "Placed on hold: ", "Released from hold: ",
                             "starting the Postfix mail system", "stopping the Postfix mail system",
                             "refreshing the Postfix mail system", "daemon started --"}) {
    if (starts_with(msg, w)) {
      f.kind = EventKind::service;
      f.reason = msg;
      return true;
    }
  }
  for (std::string_view w : {"warning: ", "error: ", "fatal: ", "panic: "}) {
    if (starts_with(msg, w)) {
      f.kind = EventKind::diagnostic;
      f.reason = msg.substr(w.size());
      return true;
    }
  }
  if (daemon == Daemon::smtp || daemon == Daemon::lmtp) {
    for (std::string_view w :
         {"connect to ", "Untrusted TLS connection established to ",
          "Trusted TLS connection established to ", "Verified TLS connection established to ",
          "Anonymous TLS connection established to "}) {
      if (starts_with(msg, w)) {
        f.kind = EventKind::other;
        f.reason = msg;
        return true;
      }
    }
  }
  return false;
}

std::optional<Facts> parse_postfix(std::string_view tag, std::string_view msg) {
  Facts f;
  if (!parse_postfix(tag, msg, f)) return std::nullopt;
  return f;
}

}  // namespace mw::logs
