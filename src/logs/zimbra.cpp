// Zimbra's log4j lines: audit.log (logger zimbra.security) and mailbox.log.
//
// Formats, from Zimbra's source (github.com/Zimbra/zm-mailbox):
// - store-conf/conf/log4j.properties: appenders LOGFILE (mailbox.log) and AUDIT (audit.log)
//   use `%d %-5p [%t] [%z] %c{1} - %m%n` (log4j2's %d: "yyyy-MM-dd HH:mm:ss,SSS" in the
//   server's local zone); the SYSLOG appender `mailboxd: %-5p [%t] [%z] %c{1} - %m`.
// - common/src/java/com/zimbra/common/util/ZimbraLog.java: encodeAttrs writes
//   "name1=value1; name2=value2;" (a ';' in a value doubled, CR/LF made spaces); the context
//   %z is "key=value;" pairs (name, aname, mid, ip, oip, port, oport, via, ua, soapId, ...).
// - store/src/java/com/zimbra/cs/account/ldap/LdapProvisioning.java (authAccount) and
//   store/src/java/com/zimbra/cs/service/admin/Auth.java: ZimbraLog.security.info/warn of
//   {"cmd", "Auth", "account", name, "protocol", proto[, "error", message]} and
//   {"cmd", "AdminAuth", "account", name} logged BEFORE the password is checked, then
//   {"cmd", "AdminAuth", "account", name, "error", message} on failure; AccountServiceException
//   .AuthFailedServiceException's message is "authentication failed for [<name passed in>]"
//   (", <reason>" follows in the logged text, e.g. ", invalid password").
// - store/src/java/com/zimbra/cs/imap/ImapHandler.java and pop/Pop3Handler.java:
//   "user %s authenticated, mechanism=%s%s" on successful IMAP/POP logins (mailbox.log).
#include "core/ip.hpp"
#include "logs/field_scan.hpp"
#include "logs/parsers.hpp"

namespace mw::logs {

using scan::consume;
using scan::starts_with;

bool TrustedProxies::contains(std::string_view text) const {
  if (prefixes_.empty()) return false;
  text = scan::trim(text);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (!scan::looks_like_ip(text)) return false;
  auto a = parse_address(text);
  if (!a.ok()) return false;
  for (const auto& p : prefixes_) {
    if (p.addr.family == a->family && a->value >= p.first() && a->value <= p.last()) return true;
  }
  return false;
}

namespace {

// Scans one "key=value;" at the front of `s` (after optional spaces). A value ends at a ';'
// that is not doubled. False when `s` does not start with a pair.
bool next_attr(std::string_view& s, std::string_view& key, std::string_view& value) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::size_t k = 0;
  while (k < s.size() && s[k] != '=' && s[k] != ';' && s[k] != ' ' && s[k] != ']') ++k;
  if (k == 0 || k >= s.size() || s[k] != '=') return false;
  key = s.substr(0, k);
  std::size_t i = k + 1;
  while (i < s.size()) {
    if (s[i] == ';') {
      if (i + 1 < s.size() && s[i + 1] == ';') {
        i += 2;
        continue;
      }
      break;
    }
    ++i;
  }
  if (i >= s.size()) return false;  // unterminated value
  value = s.substr(k + 1, i - k - 1);
  s.remove_prefix(i + 1);
  return true;
}

// The length of a valid context "k=v;k=v;" followed by ']' at the front of `s`, or npos.
std::size_t context_length(std::string_view s) {
  const auto start = s.size();
  std::string_view key, value;
  for (;;) {
    if (!s.empty() && s.front() == ']') return start - s.size();
    if (!next_attr(s, key, value)) return std::string_view::npos;
  }
}

}  // namespace

std::optional<std::string_view> zimbra_attr(std::string_view attrs, std::string_view key) {
  std::string_view k, v;
  while (next_attr(attrs, k, v)) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<Log4jLine> parse_log4j_body(std::string_view s) {
  Log4jLine l;
  std::size_t n = 0;
  while (n < s.size() && n < 8 && s[n] >= 'A' && s[n] <= 'Z') ++n;
  if (n < 4 || n >= s.size() || s[n] != ' ') return std::nullopt;
  l.level = s.substr(0, n);
  s.remove_prefix(n);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (!consume(s, "[")) return std::nullopt;
  // The thread name may hold "] [" itself (a request URL); the context is the first "[...]"
  // after it that parses as key=value; pairs and is followed by " category - ".
  std::size_t from = 0;
  for (int guard = 0; guard < 8; ++guard) {
    const auto p = s.find("] [", from);
    if (p == std::string_view::npos) return std::nullopt;
    from = p + 1;
    auto ctx = s.substr(p + 3);
    const auto len = context_length(ctx);
    if (len == std::string_view::npos) continue;
    auto rest = ctx.substr(len + 1);
    if (!consume(rest, " ")) continue;
    const auto dash = rest.find(" - ");
    if (dash == std::string_view::npos || dash == 0) continue;
    const auto category = rest.substr(0, dash);
    if (category.find(' ') != std::string_view::npos) continue;
    l.thread = s.substr(0, p);
    l.context = ctx.substr(0, len);
    l.category = category;
    l.message = rest.substr(dash + 3);
    return l;
  }
  return std::nullopt;
}

std::optional<Log4jLine> parse_log4j_line(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (!scan::fixed_digits(s, 4, y) || !consume(s, "-") || !scan::fixed_digits(s, 2, mo) ||
      !consume(s, "-") || !scan::fixed_digits(s, 2, d) || !consume(s, " ") ||
      !scan::fixed_digits(s, 2, h) || !consume(s, ":") || !scan::fixed_digits(s, 2, mi) ||
      !consume(s, ":") || !scan::fixed_digits(s, 2, sec) || !consume(s, ",") ||
      !scan::fixed_digits(s, 3, ms) || !consume(s, " ")) {
    return std::nullopt;
  }
  auto l = parse_log4j_body(s);
  if (!l) return std::nullopt;
  l->year = y;
  l->month = mo;
  l->day = d;
  l->hour = h;
  l->minute = mi;
  l->second = sec;
  l->nanos = static_cast<std::uint32_t>(ms) * 1000000u;
  return l;
}

std::string_view zimbra_client(std::string_view context, const TrustedProxies& trusted) {
  auto chain = zimbra_attr(context, "oip");
  if (!chain || chain->empty()) chain = zimbra_attr(context, "ip");
  if (!chain) return {};
  // Rightmost untrusted entry; when all are trusted, the leftmost.
  std::string_view s = *chain;
  std::string_view leftmost;
  std::size_t end = s.size();
  for (int guard = 0; guard < 64; ++guard) {
    const auto comma = end == 0 ? std::string_view::npos : s.rfind(',', end - 1);
    const auto begin = comma == std::string_view::npos ? 0 : comma + 1;
    auto entry = scan::trim(s.substr(begin, end - begin));
    if (entry.size() > 2 && entry.front() == '[' && entry.back() == ']') {
      entry = entry.substr(1, entry.size() - 2);
    }
    if (!entry.empty()) {
      if (!trusted.contains(entry)) return entry;
      leftmost = entry;
    }
    if (comma == std::string_view::npos) break;
    end = comma;
  }
  return leftmost;
}

namespace {

Protocol protocol_of_thread(std::string_view thread, std::string_view category) {
  if (starts_with(thread, "Imap") || category == "imap") return Protocol::imap;
  if (starts_with(thread, "Pop3") || category == "pop") return Protocol::pop3;
  if (starts_with(thread, "Lmtp") || category == "lmtp") return Protocol::lmtp;
  if (scan::contains(thread, "/service/admin/") || scan::contains(thread, ":7071/")) {
    return Protocol::admin;
  }
  if (starts_with(thread, "qtp") || starts_with(thread, "btpool")) return Protocol::http;
  return Protocol::unknown;
}

Protocol protocol_of_attr(std::string_view p) {
  if (p == "imap") return Protocol::imap;
  if (p == "pop3") return Protocol::pop3;
  if (p == "soap" || p == "http_basic" || p == "http_dav" || p == "zsync" || p == "activesync") {
    return Protocol::http;
  }
  return Protocol::unknown;
}

// "authentication failed for [NAME], REASON" -> NAME; `reason` gets what follows.
std::string_view failed_name(std::string_view text, std::string_view& reason) {
  constexpr std::string_view kMark = "authentication failed for [";
  const auto p = text.find(kMark);
  if (p == std::string_view::npos) return {};
  auto rest = text.substr(p + kMark.size());
  const auto close = rest.find(']');
  if (close == std::string_view::npos) return {};
  auto tail = rest.substr(close + 1);
  consume(tail, ",");
  reason = scan::trim(tail);
  return rest.substr(0, close);
}

}  // namespace

std::optional<Facts> parse_zimbra(const Log4jLine& line, const TrustedProxies& trusted) {
  Facts f;
  f.client_ip = zimbra_client(line.context, trusted);
  f.protocol = protocol_of_thread(line.thread, line.category);
  if (line.category == "security") {
    const auto cmd = zimbra_attr(line.message, "cmd");
    if (!cmd) return std::nullopt;
    const auto account = zimbra_attr(line.message, "account");
    if (account) f.account = *account;
    if (*cmd == "Auth" || *cmd == "AdminAuth" || *cmd == "PreAuth") {
      f.kind = EventKind::auth;
      f.method = *cmd;
      if (*cmd == "AdminAuth") {
        f.protocol = Protocol::admin;
      } else if (f.protocol != Protocol::admin) {
        if (auto p = zimbra_attr(line.message, "protocol")) {
          const auto proto = protocol_of_attr(*p);
          if (proto != Protocol::unknown) f.protocol = proto;
        }
      }
      if (auto err = zimbra_attr(line.message, "error")) {
        f.outcome = Outcome::failure;
        f.reason = *err;
        std::string_view why;
        const auto name = failed_name(*err, why);
        if (f.account.empty()) f.account = name;
        if (!why.empty()) f.reason = why;
      } else if (*cmd == "AdminAuth") {
        // Auth.java logs cmd=AdminAuth before it checks the password: an attempt. Its result
        // is the cmd=Auth line that follows (and a second cmd=AdminAuth line with error=).
        f.outcome = Outcome::none;
      } else {
        f.outcome = Outcome::success;
      }
    } else {
      f.kind = EventKind::admin_command;
      f.reason = *cmd;
    }
    if (f.account.empty()) {
      if (auto n = zimbra_attr(line.context, "name")) f.account = *n;
    }
    return f;
  }
  // mailbox.log
  auto msg = line.message;
  if (consume(msg, "user ")) {
    const auto p = msg.find(" authenticated, mechanism=");
    if (p != std::string_view::npos) {
      f.kind = EventKind::auth;
      f.outcome = Outcome::success;
      f.account = msg.substr(0, p);
      auto m = msg.substr(p + 26);
      f.method = m.substr(0, m.find(' '));
      return f;
    }
  }
  std::string_view why;
  const auto name = failed_name(line.message, why);
  if (!name.empty() || scan::contains(line.message, "authentication failed for [")) {
    f.kind = EventKind::auth;
    f.outcome = Outcome::failure;
    f.account = name;
    f.reason = why.empty() ? std::string_view("authentication failed") : why;
    return f;
  }
  f.kind = EventKind::other;
  if (auto n = zimbra_attr(line.context, "name")) f.account = *n;
  return f;
}

}  // namespace mw::logs
