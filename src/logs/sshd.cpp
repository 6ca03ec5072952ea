// OpenSSH sshd authentication lines (auth2.c auth_log: "%s %s%s for %s%.100s from %.200s port
// %d ssh2%s%s"), as in fail2ban 1.0.2's sshd test file.
#include "logs/field_scan.hpp"
#include "logs/parsers.hpp"

namespace mw::logs {

using scan::consume;
using scan::starts_with;

namespace {

// Where " from ADDR[ port N][ ssh2][: info| [preauth]]" starts. The user name before it is the
// client's and may itself hold " from x port y ssh2": the first candidate whose tail has the
// shape above to the end of the line (or to ": " auth info) is taken, which defeats a name
// holding " from ADDR port N ssh2 from ..." (fail2ban's injection cases).
struct FromTail {
  std::size_t at = std::string_view::npos;
  std::string_view addr;
  std::uint16_t port = 0;
};

bool tail_ok(std::string_view t) {
  return t.empty() || starts_with(t, ": ") || t == " [preauth]" || t == ":";
}

FromTail find_from(std::string_view s) {
  std::size_t pos = 0;
  for (int guard = 0; guard < 64; ++guard) {
    const auto p = s.find(" from ", pos);
    if (p == std::string_view::npos) return {};
    pos = p + 1;
    auto rest = s.substr(p + 6);
    const auto sp = rest.find(' ');
    FromTail ft;
    ft.at = p;
    ft.addr = rest.substr(0, sp);
    if (ft.addr.empty()) continue;
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp);
    if (consume(rest, " port ")) {
      std::uint64_t port = 0;
      if (!scan::uint_prefix(rest, port, 5) || port > 65535) continue;
      ft.port = static_cast<std::uint16_t>(port);
      if (!consume(rest, " ssh2")) consume(rest, " ssh1");
    }
    if (tail_ok(rest)) return ft;
  }
  return {};
}

void set_addr(Facts& f, std::string_view addr) {
  addr = addr.substr(0, addr.find('%'));  // "fe80::1%eth0": the zone is not part of the address
  if (scan::looks_like_ip(addr)) {
    f.client_ip = addr;
  } else {
    f.client_name = addr;  // UseDNS yes: a host name
  }
}

// "METHOD for [invalid user ]USER from ADDR port N ssh2[: info]".
bool method_for(std::string_view s, Outcome outcome, Facts& f) {
  const auto sp = s.find(" for ");
  if (sp == std::string_view::npos || sp == 0) return false;
  f.method = s.substr(0, sp);
  if (f.method.find(' ') != std::string_view::npos) return false;
  auto rest = s.substr(sp + 5);
  bool invalid = consume(rest, "invalid user ") || consume(rest, "illegal user ");
  const auto ft = find_from(rest);
  if (ft.at == std::string_view::npos) return false;
  f.account = rest.substr(0, ft.at);
  set_addr(f, ft.addr);
  f.client_port = ft.port;
  f.kind = EventKind::auth;
  f.outcome = outcome;
  if (invalid) f.reason = "invalid user";
  return true;
}

// "[invalid user U |authenticating user U |user U ]ADDR port N[ [preauth]]".
void user_addr_port(std::string_view s, Facts& f) {
  for (std::string_view p : {"invalid user ", "authenticating user ", "user "}) {
    if (consume(s, p)) {
      // The address is the last token before " port ".
      const auto port = s.rfind(" port ");
      const auto end = port == std::string_view::npos ? s.size() : port;
      const auto sp = s.rfind(' ', end == 0 ? 0 : end - 1);
      if (sp != std::string_view::npos && sp < end) {
        f.account = s.substr(0, sp);
        s.remove_prefix(sp + 1);
      }
      break;
    }
  }
  const auto sp = s.find(' ');
  set_addr(f, s.substr(0, sp));
  if (sp != std::string_view::npos) {
    auto rest = s.substr(sp);
    std::uint64_t port = 0;
    if (consume(rest, " port ") && scan::uint_prefix(rest, port, 5) && port <= 65535) {
      f.client_port = static_cast<std::uint16_t>(port);
    }
  }
}

}  // namespace

std::optional<Facts> parse_sshd(std::string_view msg) {
  Facts f;
  f.protocol = Protocol::ssh;
  // Solaris' syslog puts a message id first: "[ID 800047 auth.info] Failed ...".
  if (starts_with(msg, "[ID ")) {
    const auto close = msg.find("] ");
    if (close != std::string_view::npos && close < 40) msg.remove_prefix(close + 2);
  }
  if (consume(msg, "Accepted ")) {
    if (method_for(msg, Outcome::success, f)) return f;
    return std::nullopt;
  }
  if (consume(msg, "Failed ")) {
    if (method_for(msg, Outcome::failure, f)) return f;
    return std::nullopt;
  }
  if (consume(msg, "Invalid user ") || consume(msg, "Illegal user ")) {
    const auto ft = find_from(msg);
    if (ft.at == std::string_view::npos) return std::nullopt;
    f.account = msg.substr(0, ft.at);
    set_addr(f, ft.addr);
    f.client_port = ft.port;
    f.kind = EventKind::invalid_user;
    f.outcome = Outcome::failure;
    return f;
  }
  for (std::string_view p :
       {"Connection closed by ", "Disconnected from ", "Connection reset by "}) {
    if (consume(msg, p)) {
      user_addr_port(msg, f);
      f.kind = EventKind::disconnect;
      f.reason = p.substr(0, p.size() - 1);
      return f;
    }
  }
  if (consume(msg, "Disconnecting ")) {  // "Disconnecting invalid user U ADDR port N: why"
    const auto colon = msg.find(": ");
    user_addr_port(msg.substr(0, colon), f);
    f.kind = EventKind::disconnect;
    f.reason = colon == std::string_view::npos ? msg : msg.substr(colon + 2);
    return f;
  }
  if (consume(msg, "Received disconnect from ")) {
    user_addr_port(msg.substr(0, msg.find(": ")), f);
    f.kind = EventKind::disconnect;
    f.reason = "Received disconnect";
    return f;
  }
  if (consume(msg, "Connection from ")) {
    user_addr_port(msg.substr(0, msg.find(" on ")), f);
    f.kind = EventKind::connect;
    return f;
  }
  // The same attempts again, through PAM: kept as `other` so that an attempt counts once (the
  // "Failed ..." line above is the one that counts).
  if (starts_with(msg, "pam_unix(sshd:auth): authentication failure;") ||
      starts_with(msg, "error: PAM: ") || starts_with(msg, "PAM: ")) {
    std::string_view v;
    if (scan::value_after(msg, " rhost=", " ", v)) set_addr(f, v);
    if (scan::value_after(msg, " user=", " ", v)) f.account = v;
    // "error: PAM: authentication failure for [illegal user ]U from ADDR[ via ADDR]"
    const auto from = msg.rfind(" from ");
    if (from != std::string_view::npos && f.client_ip.empty() && f.client_name.empty()) {
      auto a = scan::trim(msg.substr(from + 6));
      set_addr(f, a.substr(0, a.find(' ')));
    }
    f.kind = EventKind::other;
    f.outcome = Outcome::failure;
    f.method = "pam";
    return f;
  }
  if (starts_with(msg, "error: maximum authentication attempts exceeded for ") ||
      starts_with(msg, "Disconnecting: Too many authentication failures")) {
    const auto ft = find_from(msg);
    if (ft.at != std::string_view::npos) {
      set_addr(f, ft.addr);
      f.client_port = ft.port;
    }
    f.kind = EventKind::disconnect;
    f.reason = "maximum authentication attempts exceeded";
    return f;
  }
  // Refused before any password check (AllowUsers, DenyUsers, groups, root login): like
  // "Invalid user", a "Failed ..." line for the same attempt follows.
  if (starts_with(msg, "User ") && scan::contains(msg, " not allowed because ")) {
    auto rest = msg.substr(5, msg.find(" not allowed because ") - 5);
    const auto from = rest.rfind(" from ");
    if (from != std::string_view::npos) {
      set_addr(f, rest.substr(from + 6));
      rest = rest.substr(0, from);
    }
    f.account = rest;
    f.kind = EventKind::invalid_user;
    f.outcome = Outcome::failure;
    f.reason = "not allowed";
    return f;
  }
  if (consume(msg, "ROOT LOGIN REFUSED FROM ")) {
    set_addr(f, msg.substr(0, msg.find(' ')));
    f.account = "root";
    f.kind = EventKind::invalid_user;
    f.outcome = Outcome::failure;
    f.reason = "root login refused";
    return f;
  }
  if (consume(msg, "error: Received disconnect from ")) {
    user_addr_port(msg.substr(0, msg.find(": ")), f);
    f.kind = EventKind::disconnect;
    f.reason = "Received disconnect";
    return f;
  }
  // Scanners and old clients: no authentication was attempted.
  for (std::string_view w :
       {"Did not receive identification string from ", "Bad protocol version identification ",
        "banner exchange: Connection from ", "Unable to negotiate with ",
        "fatal: Unable to negotiate with "}) {
    if (consume(msg, w)) {
      if (scan::starts_with(w, "Bad protocol")) {
        const auto from = msg.rfind(" from ");
        msg = from == std::string_view::npos ? std::string_view{} : msg.substr(from + 6);
      }
      user_addr_port(msg.substr(0, msg.find(": ")), f);
      f.kind = EventKind::protocol_error;
      f.reason = w.substr(0, w.size() - 1);
      return f;
    }
  }
  for (std::string_view w : {"error: kex_exchange_identification: ", "fatal: ", "SSH: Server;",
                             "Postponed ", "input_userauth_request: "}) {
    if (starts_with(msg, w)) {
      f.kind = EventKind::other;
      f.reason = msg;
      return f;
    }
  }
  for (std::string_view w : {"Server listening on ", "Received signal ", "Received SIGHUP",
                             "pam_unix(sshd:session): ", "Starting session: "}) {
    if (starts_with(msg, w)) {
      f.kind = starts_with(w, "pam_unix") || starts_with(w, "Starting") ? EventKind::other
                                                                        : EventKind::service;
      f.reason = msg;
      return f;
    }
  }
  return std::nullopt;
}

}  // namespace mw::logs
