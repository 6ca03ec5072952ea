// Dovecot authentication lines: the login processes' "Login:" / "Aborted login (auth failed,
// N attempts ...)" / "Disconnected (...)" lines with user=<>, method=, rip=, lip= fields, and the
// auth processes' passdb failures ("pam(user,ip): unknown user", "sql(user,ip,<session>):
// Password mismatch") and pam_unix failures. Formats of Dovecot 2.x (src/login-common's
// client_get_log_str, src/auth's passdb logging), as in fail2ban 1.0.2's test file.
#include "logs/field_scan.hpp"
#include "logs/parsers.hpp"

namespace mw::logs {

using scan::consume;
using scan::starts_with;

namespace {

// A field "key=value" that starts `fields` or follows ", "; the last such occurrence (the user
// name comes first and is the client's: a fake ", rip=" inside it precedes the real one).
std::size_t last_field(std::string_view fields, std::string_view key, std::size_t before) {
  auto pos = before;
  while (pos != std::string_view::npos && pos > 0) {
    const auto p = fields.rfind(key, pos - 1);
    if (p == std::string_view::npos) return std::string_view::npos;
    if (p == 0 || (p >= 2 && fields.substr(p - 2, 2) == ", ")) return p;
    pos = p;
  }
  return std::string_view::npos;
}

std::string_view field_value(std::string_view fields, std::size_t p, std::size_t key_len) {
  auto v = fields.substr(p + key_len);
  return v.substr(0, v.find(','));
}

Protocol login_protocol(std::string_view process) {
  if (starts_with(process, "imap")) return Protocol::imap;
  if (starts_with(process, "pop3")) return Protocol::pop3;
  if (starts_with(process, "submission")) return Protocol::submission;
  if (starts_with(process, "managesieve")) return Protocol::sieve;
  if (starts_with(process, "lmtp")) return Protocol::lmtp;
  return Protocol::unknown;
}

bool login_line(std::string_view msg, Facts& f) {
  const bool login = consume(msg, "Login: ");
  std::size_t start = std::string_view::npos;
  for (std::string_view k : {"user=<", "method=", "rip="}) {
    const auto p = msg.find(k);
    if (p < start) start = p;
  }
  if (start == std::string_view::npos) {
    f.kind = EventKind::other;
    f.reason = msg;
    return true;
  }
  const auto prefix = msg.substr(0, start);
  const auto fields = msg.substr(start);
  const auto rip = last_field(fields, "rip=", fields.size());
  const auto method =
      last_field(fields, "method=", rip == std::string_view::npos ? fields.size() : rip);
  if (rip != std::string_view::npos) f.client_ip = field_value(fields, rip, 4);
  if (method != std::string_view::npos) f.method = field_value(fields, method, 7);
  if (starts_with(fields, "user=<")) {
    auto end = std::min(rip, method);
    if (end == std::string_view::npos) end = fields.size();
    auto user = fields.substr(6, end > 6 ? end - 6 : 0);
    if (scan::ends_with(user, ", ")) user.remove_suffix(2);
    if (scan::ends_with(user, ">")) user.remove_suffix(1);
    f.account = user;
  }
  if (login) {
    f.kind = EventKind::auth;
    f.outcome = Outcome::success;
    return true;
  }
  auto reason = prefix;
  if (scan::ends_with(reason, ": ")) reason.remove_suffix(2);
  f.reason = reason;
  if (scan::contains(prefix, "auth failed")) {
    f.kind = EventKind::auth;
    f.outcome = Outcome::failure;
  } else {
    f.kind = EventKind::disconnect;  // no attempt, plaintext refused, client gave up
  }
  return true;
}

// "... DRIVER(user,ip[,<session>]): PHRASE" for the passdb failure phrases. `f` is only
// written on success.
bool passdb_failure(std::string_view msg, Facts& f) {
  static constexpr std::string_view kPhrases[] = {
      "unknown user",        "Password mismatch", "password mismatch", "pam_authenticate() failed",
      "invalid credentials", "User not known"};
  std::size_t from = 0;
  for (int guard = 0; guard < 16; ++guard) {
    const auto p = msg.find("): ", from);
    if (p == std::string_view::npos) return false;
    from = p + 3;
    const auto after = msg.substr(p + 3);
    bool failure = false;
    for (auto ph : kPhrases) failure = failure || starts_with(after, ph);
    if (!failure) continue;
    const auto open = msg.rfind('(', p);
    if (open == std::string_view::npos) return false;
    auto args = msg.substr(open + 1, p - open - 1);
    // From the right: an optional "<session>" or empty part, then the address, then the user
    // (which may itself hold commas).
    auto comma = args.rfind(',');
    if (comma != std::string_view::npos &&
        (args.substr(comma + 1).empty() || starts_with(args.substr(comma + 1), "<"))) {
      args = args.substr(0, comma);
      comma = args.rfind(',');
    }
    if (comma != std::string_view::npos && scan::looks_like_ip(args.substr(comma + 1))) {
      f.client_ip = args.substr(comma + 1);
      f.account = args.substr(0, comma);
    } else {
      f.account = args;
    }
    std::size_t d = open;
    while (d > 0 && msg[d - 1] != ' ' && msg[d - 1] != ':') --d;
    f.method = msg.substr(d, open - d);  // the passdb driver: pam, sql, ldap, passwd-file
    f.kind = EventKind::auth;
    f.outcome = Outcome::failure;
    f.reason = after;
    return true;
  }
  return false;
}

// "pam_unix(dovecot:auth): authentication failure; logname= uid=0 ... rhost=IP  user=U".
bool pam_unix_failure(std::string_view msg, Facts& f) {
  if (!starts_with(msg, "pam_unix(") || !scan::contains(msg, "authentication failure;")) {
    return false;
  }
  std::string_view v;
  if (scan::value_after(msg, " rhost=", " ", v) && scan::looks_like_ip(v)) f.client_ip = v;
  if (scan::value_after(msg, " user=", " ", v)) f.account = v;
  f.kind = EventKind::auth;
  f.outcome = Outcome::failure;
  f.method = "pam";
  f.reason = "authentication failure";
  return true;
}

}  // namespace

bool is_dovecot_tag(std::string_view tag) {
  return starts_with(tag, "dovecot") || scan::ends_with(tag, "-login") || tag == "auth" ||
         starts_with(tag, "auth-worker") || starts_with(tag, "auth(") ||
         starts_with(tag, "imap(") || starts_with(tag, "pop3(");
}

bool parse_dovecot(std::string_view tag, std::string_view msg, Facts& f) {
  std::string_view process = tag;
  // Under syslog the tag is "dovecot" and the process name leads the message; old versions
  // even repeat "dovecot: ".
  for (int i = 0; i < 2 && starts_with(process, "dovecot") && process != "dovecot-auth"; ++i) {
    const auto p = msg.find(": ");
    if (p == std::string_view::npos || p == 0 ||
        msg.substr(0, p).find(' ') != std::string_view::npos) {
      break;
    }
    process = msg.substr(0, p);
    msg.remove_prefix(p + 2);
  }
  for (std::string_view level :
       {"Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: ", "Debug: "}) {
    if (consume(msg, level)) break;
  }
  if (scan::ends_with(process, "-login")) {
    f.protocol = login_protocol(process);
    return login_line(msg, f);
  }
  if (starts_with(process, "auth") || process == "dovecot-auth") {
    if (pam_unix_failure(msg, f)) return true;
    if (passdb_failure(msg, f)) return true;
    f.kind = EventKind::other;
    f.reason = msg;
    return true;
  }
  if (process == "master") {
    f.kind = EventKind::service;
    f.reason = msg;
    return true;
  }
  // A mail process of a logged-in user: "imap(user)<pid><session>: Logged out in=.. out=..".
  const auto open = process.find('(');
  if (open != std::string_view::npos) {
    const auto close = process.find(')', open);
    if (close != std::string_view::npos) {
      f.protocol = login_protocol(process.substr(0, open));
      f.account = process.substr(open + 1, close - open - 1);
      f.kind = EventKind::other;
      f.reason = msg;
      return true;
    }
  }
  return false;
}

std::optional<Facts> parse_dovecot(std::string_view tag, std::string_view msg) {
  Facts f;
  if (!parse_dovecot(tag, msg, f)) return std::nullopt;
  return f;
}

}  // namespace mw::logs
