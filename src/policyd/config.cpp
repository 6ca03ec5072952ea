// Loads policyd's TOML configuration with toml++: every key known, every value typed and in
// range, errors as "file:line:column: key: what is wrong".
#include "policyd/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <variant>

#include "catalog/toml_file.hpp"
#include "core/duration.hpp"
#include "core/ip.hpp"
#include "core/quote.hpp"
#include "policyd/sender_login_map.hpp"

namespace mw::policyd {

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::account:
      return "account";
    case Scope::sender:
      return "sender";
    case Scope::client:
      return "client";
    case Scope::domain:
      return "domain";
  }
  return "?";
}

namespace {

// A configuration is a few kilobytes; anything near this is not one.
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;
constexpr std::int64_t kMaxDurationMs = 365LL * 86400 * 1000;
// Exact sliding windows keep every accepted message of the window: a month is the longest
// window an admin means ("per day" is the usual longest).
constexpr std::int64_t kMaxWindowSeconds = 31LL * 86400;
// A policy reply is one SMTP reply line (RFC 5321: 512 octets with the code).
constexpr std::size_t kMaxReplyText = 400;

// Validation stops at the first error; thrown inside the parser, caught at its entry.
struct ConfigError {
  std::string message;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// A DNS name as it appears in an address or URL: labels of letters, digits, '-' and '_'
// (and UTF-8 bytes, for internationalized domains), dot-separated, none empty.
std::optional<std::string> domain_problem(std::string_view d) {
  if (d.empty()) return "the domain is empty";
  if (d.size() > 253) return "the domain is longer than 253 characters";
  if (d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos)
    return "the domain has an empty label";
  for (unsigned char c : d) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c >= 0x80) continue;
    return fmt::format("character {} is not allowed in a domain", quote_input(std::string(1, c)));
  }
  return std::nullopt;
}

std::optional<std::string> address_problem(std::string_view a) {
  const auto at = a.rfind('@');
  if (at == std::string_view::npos) return "expected user@domain";
  if (at == 0) return "the localpart before '@' is empty";
  if (has_space_or_control(a)) return "whitespace or control characters in an address";
  return domain_problem(a.substr(at + 1));
}

std::optional<int> parse_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return std::nullopt;
  int v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return std::nullopt;
  return v;
}

struct HostPort {
  std::string host;  // without brackets
  int port = 0;
};

// "HOST:PORT" with HOST an IPv4 address, "[IPv6]" or (when allowed) a DNS name.
std::variant<HostPort, std::string> parse_host_port(std::string_view text, bool allow_name) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::string("'[' without ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return std::string("expected ':PORT' after ']'");
    port = text.substr(close + 2);
    auto a = parse_address(host);
    if (!a) return a.error().message;
    if (a->family != Family::v6) return std::string("brackets are for IPv6 addresses only");
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::string("expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return std::string("an IPv6 address needs brackets, as in [::1]:10031");
    if (host.empty()) return std::string("the host is empty");
    const bool numeric = std::all_of(host.begin(), host.end(),
                                     [](unsigned char c) { return std::isdigit(c) || c == '.'; });
    if (numeric || !allow_name) {
      auto a = parse_address(host);
      if (!a) return a.error().message;
    } else if (auto p = domain_problem(host)) {
      return *p;
    }
  }
  const auto n = parse_port(port);
  if (!n) return fmt::format("port {} is not a number from 1 to 65535", quote_input(port));
  return HostPort{std::string(host), *n};
}

// A policy reply text: one line, printable, and when it starts with an enhanced status code
// (RFC 3463 "X.Y.Z") its class must match the action (Postfix sends the code as written).
std::optional<std::string> reply_text_problem(std::string_view text, char expected_class) {
  if (text.empty()) return "the text is empty";
  if (text.size() > kMaxReplyText)
    return fmt::format("the text is longer than {} characters (one SMTP reply line)",
                       kMaxReplyText);
  if (has_control(text)) return "control characters (a newline?) in a reply text";
  if (expected_class != 0 && text.size() >= 5 &&
      std::isdigit(static_cast<unsigned char>(text[0])) && text[1] == '.') {
    if (text[0] != expected_class)
      return fmt::format("the status code {} must start with {}.", quote_input(text.substr(0, 5)),
                         expected_class);
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(std::string_view name) : name_(name) {}

  Config parse(const toml::table& root) {
    Config c;
    c.file = std::string(name_);
    known(root, "",
          {"server", "counting", "action", "limit", "exception", "alerts", "spoofing", "state"});
    server(root, c);
    counting(root, c);
    action(root, c);
    limits(root, c);
    exceptions(root, c);
    alerts(root, c);
    spoofing(root, c);
    state(root, c);
    return c;
  }

 private:
  [[noreturn]] void fail(const toml::node& at, std::string_view key, std::string_view what) const {
    const auto& b = at.source().begin;
    throw ConfigError{fmt::format("{}:{}:{}: {}{}{}", name_, b.line > 0 ? b.line : 1,
                                  b.column > 0 ? b.column : 1, key, key.empty() ? "" : ": ", what)};
  }

  static std::string join_key(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }

  // Typo protection: a misspelt key would otherwise silently keep its default.
  void known(const toml::table& t, std::string_view path,
             std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        fail(node, join_key(path, key.str()),
             fmt::format("unknown key (known here: {})", fmt::join(names, ", ")));
      }
    }
  }

  const toml::table* section(const toml::table& root, std::string_view key) const {
    const auto* n = root.get(key);
    if (n == nullptr) return nullptr;
    const auto* t = n->as_table();
    if (t == nullptr) fail(*n, key, fmt::format("must be a table [{}]", key));
    return t;
  }

  std::optional<std::string> string(const toml::table& t, std::string_view key,
                                    std::string_view path) const {
    const auto* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto* s = n->as_string();
    if (s == nullptr) fail(*n, join_key(path, key), "must be a string");
    return s->get();
  }

  std::optional<bool> boolean(const toml::table& t, std::string_view key,
                              std::string_view path) const {
    const auto* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto* b = n->as_boolean();
    if (b == nullptr) fail(*n, join_key(path, key), "must be true or false");
    return b->get();
  }

  std::optional<std::int64_t> integer(const toml::table& t, std::string_view key,
                                      std::string_view path, std::int64_t lo,
                                      std::int64_t hi) const {
    const auto* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto* i = n->as_integer();
    if (i == nullptr) fail(*n, join_key(path, key), "must be an integer");
    if (i->get() < lo || i->get() > hi)
      fail(*n, join_key(path, key), fmt::format("{} is out of range {}..{}", i->get(), lo, hi));
    return i->get();
  }

  template <class E>
  std::optional<E> choice(const toml::table& t, std::string_view key, std::string_view path,
                          std::initializer_list<std::pair<std::string_view, E>> names) const {
    const auto s = string(t, key, path);
    if (!s) return std::nullopt;
    std::vector<std::string_view> list;
    for (const auto& [text, value] : names) {
      if (*s == text) return value;
      list.push_back(text);
    }
    fail(*t.get(key), join_key(path, key),
         fmt::format("{} is not one of {}", quote_input(*s), fmt::join(list, ", ")));
  }

  // "250ms", "90s", "15m", "1h", "1d", or an integer number of seconds; > 0. In milliseconds.
  std::optional<std::int64_t> duration_ms(const toml::table& t, std::string_view key,
                                          std::string_view path, std::int64_t min_ms,
                                          std::int64_t max_ms) const {
    const auto* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const std::string k = join_key(path, key);
    std::int64_t ms = 0;
    if (const auto* i = n->as_integer()) {
      if (i->get() <= 0 || i->get() > kMaxDurationMs / 1000)
        fail(*n, k,
             fmt::format("{} seconds is out of range 1..{}", i->get(), kMaxDurationMs / 1000));
      ms = i->get() * 1000;
    } else if (const auto* s = n->as_string()) {
      DurationSyntax syntax;
      syntax.units |= DurationSyntax::ms;
      syntax.min = Millis(1);
      syntax.max = Millis(kMaxDurationMs);
      const auto parsed = mw::parse_duration(s->get(), syntax);
      if (!parsed) fail(*n, k, parsed.error().message);
      ms = parsed->count();
    } else {
      fail(*n, k, "must be a duration string like \"90s\" or an integer number of seconds");
    }
    if (ms < min_ms || ms > max_ms)
      fail(*n, k,
           fmt::format("{} is out of range {}..{}", format_ms(ms), format_ms(min_ms),
                       format_ms(max_ms)));
    return ms;
  }

  static std::string format_ms(std::int64_t ms) { return format_duration(Millis(ms)); }

  // An array of strings, each reported at its own position when wrong.
  const toml::array* string_array(const toml::table& t, std::string_view key,
                                  std::string_view path) const {
    const auto* n = t.get(key);
    if (n == nullptr) return nullptr;
    const auto* a = n->as_array();
    if (a == nullptr) fail(*n, join_key(path, key), "must be an array of strings");
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_string())
        fail((*a)[i], fmt::format("{}[{}]", join_key(path, key), i), "must be a string");
    }
    return a;
  }

  Prefix prefix(const toml::node& n, std::string_view key, std::string_view text) const {
    std::vector<std::string> warnings;
    auto p = parse_prefix(text, &warnings);
    if (!p) fail(n, key, p.error().message);
    // Strict: a prefix with host bits or an IPv4-mapped one is almost always a typo here.
    if (!warnings.empty()) fail(n, key, warnings.front());
    return *p;
  }

  std::string absolute_path(const toml::node& n, std::string_view key,
                            std::string_view text) const {
    if (text.empty() || text.front() != '/')
      fail(n, key, fmt::format("{} must be an absolute path", quote_input(text)));
    if (has_control(text)) fail(n, key, "control characters in a path");
    return std::string(text);
  }

  // A hook command: words split at whitespace (no shell), the program an absolute path.
  std::string command(const toml::table& t, std::string_view key, std::string_view path) const {
    auto s = string(t, key, path);
    if (!s || s->empty()) return {};
    const auto& n = *t.get(key);
    if (has_control(*s)) fail(n, join_key(path, key), "control characters in a command");
    const auto start = s->find_first_not_of(' ');
    if (start == std::string::npos || (*s)[start] != '/')
      fail(n, join_key(path, key),
           "the program must be an absolute path (the command runs without a shell)");
    return *s;
  }

  void server(const toml::table& root, Config& c) const {
    auto& s = c.server;
    const auto* t = section(root, "server");
    if (t == nullptr) {
      s.listen = {"inet:127.0.0.1:10031"};
      return;
    }
    const std::string p = "server";
    known(*t, p,
          {"listen", "node_id", "threads", "user", "idle_timeout", "request_timeout", "max_ttl",
           "max_request_bytes", "max_attributes", "metrics"});
    if (const auto* a = string_array(*t, "listen", p)) {
      if (a->empty()) fail(*a, "server.listen", "needs at least one address to listen on");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < a->size(); ++i) {
        const auto& n = (*a)[i];
        const std::string text = *n.value<std::string>();
        const std::string key = fmt::format("server.listen[{}]", i);
        if (auto problem = listen_problem(text)) fail(n, key, *problem);
        if (!seen.insert(text).second)
          fail(n, key, fmt::format("{} is listed twice", quote_input(text)));
        s.listen.push_back(text);
      }
    } else {
      s.listen = {"inet:127.0.0.1:10031"};
    }
    if (auto v = string(*t, "node_id", p)) {
      if (v->size() > 255 || has_space_or_control(*v))
        fail(*t->get("node_id"), "server.node_id",
             "must be at most 255 printable characters without whitespace");
      s.node_id = *v;
    }
    if (auto v = integer(*t, "threads", p, 0, 1024)) s.threads = static_cast<std::uint32_t>(*v);
    if (auto v = string(*t, "user", p)) {
      if (has_space_or_control(*v) || v->find(':') != std::string::npos || v->size() > 64)
        fail(*t->get("user"), "server.user", fmt::format("{} is not a user name", quote_input(*v)));
      s.user = *v;
    }
    constexpr std::int64_t day = 86'400'000;
    if (auto v = duration_ms(*t, "idle_timeout", p, 1, day)) s.idle_timeout_ms = *v;
    if (auto v = duration_ms(*t, "request_timeout", p, 1, day)) s.request_timeout_ms = *v;
    if (auto v = duration_ms(*t, "max_ttl", p, 1, 7 * day)) s.max_ttl_ms = *v;
    // A Postfix request is 1-2 KB with about 30 attributes: smaller limits break every request.
    if (auto v = integer(*t, "max_request_bytes", p, 1024, 1 << 20))
      s.max_request_bytes = static_cast<std::uint32_t>(*v);
    if (auto v = integer(*t, "max_attributes", p, 32, 10000))
      s.max_attributes = static_cast<std::uint32_t>(*v);
    if (auto v = string(*t, "metrics", p)) {
      if (!v->empty()) {
        auto hp = parse_host_port(*v, false);
        if (auto* e = std::get_if<std::string>(&hp))
          fail(
              *t->get("metrics"), "server.metrics",
              fmt::format("{}: {} (expected HOST:PORT, e.g. 127.0.0.1:9464)", quote_input(*v), *e));
      }
      s.metrics = *v;
    }
  }

  static std::optional<std::string> listen_problem(std::string_view text) {
    if (text.starts_with("inet:")) {
      auto hp = parse_host_port(text.substr(5), false);
      if (auto* e = std::get_if<std::string>(&hp))
        return fmt::format("{}: {}", quote_input(text), *e);
      return std::nullopt;
    }
    if (text.starts_with("unix:")) {
      const auto path = text.substr(5);
      if (path.empty() || path.front() != '/')
        return fmt::format("{}: the socket path must be absolute", quote_input(text));
      if (path.back() == '/')
        return fmt::format("{}: the path names a directory", quote_input(text));
      // sun_path holds 108 bytes with the terminating NUL.
      if (path.size() > 107)
        return fmt::format("{}: a socket path is at most 107 bytes", quote_input(text));
      if (has_space_or_control(path))
        return fmt::format("{}: whitespace or control characters in the path", quote_input(text));
      return std::nullopt;
    }
    return fmt::format("{} is not \"inet:HOST:PORT\" or \"unix:/path\"", quote_input(text));
  }

  void counting(const toml::table& root, Config& c) const {
    std::vector<Prefix> servers;
    const auto* t = section(root, "counting");
    const toml::array* a = nullptr;
    if (t != nullptr) {
      known(*t, "counting", {"stage", "mailbox_servers"});
      if (auto v = choice<CountStage>(
              *t, "stage", "counting",
              {{"end-of-message", CountStage::end_of_message}, {"rcpt", CountStage::rcpt}}))
        c.stage = *v;
      a = string_array(*t, "mailbox_servers", "counting");
    }
    if (a == nullptr) {
      c.mailbox_servers.add(*parse_prefix("127.0.0.0/8"));
      c.mailbox_servers.add(*parse_prefix("::1"));
      return;
    }
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto& n = (*a)[i];
      servers.push_back(
          prefix(n, fmt::format("counting.mailbox_servers[{}]", i), *n.value<std::string>()));
    }
    c.mailbox_servers = AddressSet::of(servers);
  }

  void action(const toml::table& root, Config& c) const {
    const auto* t = section(root, "action");
    if (t == nullptr) return;
    const std::string p = "action";
    known(*t, p, {"over_limit", "defer_text", "hold_text", "reject_text"});
    if (auto v = choice<OverLimitAction>(*t, "over_limit", p,
                                         {{"defer", OverLimitAction::defer},
                                          {"hold", OverLimitAction::hold},
                                          {"reject", OverLimitAction::reject}}))
      c.action = *v;
    reply_text(*t, "defer_text", p, '4', c.defer_text);
    reply_text(*t, "hold_text", p, 0, c.hold_text);
    reply_text(*t, "reject_text", p, '5', c.reject_text);
  }

  void reply_text(const toml::table& t, std::string_view key, std::string_view path,
                  char expected_class, std::string& out) const {
    auto v = string(t, key, path);
    if (!v) return;
    if (auto problem = reply_text_problem(*v, expected_class))
      fail(*t.get(key), join_key(path, key), *problem);
    out = *v;
  }

  // One window of a [[limit]] or an exception's limit: window required, messages and/or
  // recipients > 0.
  WindowLimit window_limit(const toml::table& t, std::string_view path) const {
    WindowLimit w;
    const auto ms = duration_ms(t, "window", path, 1000, kMaxWindowSeconds * 1000);
    if (!ms) fail(t, path, "'window' is missing (e.g. window = \"1h\")");
    if (*ms % 1000 != 0)
      fail(*t.get("window"), join_key(path, "window"),
           "a window is a whole number of seconds (counters have 1-second resolution)");
    w.window = *ms / 1000;
    constexpr std::int64_t max = std::numeric_limits<std::uint32_t>::max();
    w.messages = static_cast<std::uint32_t>(integer(t, "messages", path, 0, max).value_or(0));
    w.recipients = static_cast<std::uint32_t>(integer(t, "recipients", path, 0, max).value_or(0));
    if (w.messages == 0 && w.recipients == 0)
      fail(t, path, "limits nothing: set messages and/or recipients above 0");
    return w;
  }

  // Windows sorted by length, one per length; `nodes` gives each window's table for errors.
  void add_window(std::vector<WindowLimit>& windows, const WindowLimit& w, const toml::node& at,
                  std::string_view path, std::string_view owner) const {
    for (const auto& other : windows) {
      if (other.window == w.window)
        fail(at, path,
             fmt::format("a second limit with window {} for {} (merge them into one)",
                         format_ms(w.window * 1000), owner));
    }
    windows.push_back(w);
    std::sort(windows.begin(), windows.end(),
              [](const WindowLimit& a, const WindowLimit& b) { return a.window < b.window; });
  }

  const toml::array* table_array(const toml::table& t, std::string_view key,
                                 std::string_view path) const {
    const auto* n = t.get(key);
    if (n == nullptr) return nullptr;
    const auto* a = n->as_array();
    if (a == nullptr) fail(*n, join_key(path, key), fmt::format("must be [[{}]] tables", key));
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_table())
        fail((*a)[i], fmt::format("{}[{}]", join_key(path, key), i), "must be a table");
    }
    return a;
  }

  void limits(const toml::table& root, Config& c) const {
    const auto* a = table_array(root, "limit", "");
    if (a == nullptr) return;
    std::array<std::optional<ScopeLimits>, 4> by_scope;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto& t = *(*a)[i].as_table();
      const std::string p = fmt::format("limit[{}]", i);
      known(t, p, {"scope", "window", "messages", "recipients"});
      const auto scope = choice<Scope>(t, "scope", p,
                                       {{"account", Scope::account},
                                        {"sender", Scope::sender},
                                        {"client", Scope::client},
                                        {"domain", Scope::domain}});
      if (!scope) fail(t, p, "'scope' is missing (account, sender, client or domain)");
      const auto w = window_limit(t, p);
      auto& slot = by_scope[static_cast<std::size_t>(*scope)];
      if (!slot) slot = ScopeLimits{*scope, {}};
      add_window(slot->windows, w, *t.get("window"), join_key(p, "window"),
                 fmt::format("scope {}", scope_name(*scope)));
    }
    for (auto& s : by_scope)
      if (s) c.limits.push_back(std::move(*s));
  }

  void exceptions(const toml::table& root, Config& c) const {
    const auto* a = table_array(root, "exception", "");
    if (a == nullptr) return;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto& t = *(*a)[i].as_table();
      const std::string p = fmt::format("exception[{}]", i);
      known(t, p, {"match", "exempt", "limit"});
      const auto match = string(t, "match", p);
      if (!match) fail(t, p, "'match' is missing (an address, \"@domain\" or a client address)");
      const auto& mn = *t.get("match");
      const std::string mk = join_key(p, "match");
      Exception e;
      if (match->find('@') != std::string::npos) {
        e.match = lower(*match);
        const auto problem =
            e.match.front() == '@' ? domain_problem(e.match.substr(1)) : address_problem(e.match);
        if (problem) fail(mn, mk, fmt::format("{}: {}", quote_input(*match), *problem));
      } else {
        std::vector<std::string> warnings;
        auto pr = parse_prefix(*match, &warnings);
        if (!pr)
          fail(mn, mk,
               fmt::format("expected an address \"user@domain\", a domain \"@domain\" or a "
                           "client address or prefix ({})",
                           pr.error().message));
        if (!warnings.empty()) fail(mn, mk, warnings.front());
        e.client = *pr;
        const int host_len = family_bits(pr->addr.family);
        e.match = pr->len == host_len ? to_string(pr->addr) : to_string(*pr);
      }
      if (!seen.insert(e.match).second)
        fail(mn, mk, fmt::format("{} has a second exception", quote_input(e.match)));
      const auto exempt = boolean(t, "exempt", p);
      const auto* limit = table_array(t, "limit", p);
      if (exempt.value_or(false) && limit != nullptr)
        fail(*t.get("limit"), join_key(p, "limit"),
             "an exception is either exempt = true or has its own limits, not both");
      if (!exempt.value_or(false) && limit == nullptr)
        fail(t, p, "needs exempt = true or its own limit = [{ window = \"1h\", messages = N }]");
      e.exempt = exempt.value_or(false);
      if (limit != nullptr) {
        if (limit->empty()) fail(*limit, join_key(p, "limit"), "is empty");
        for (std::size_t j = 0; j < limit->size(); ++j) {
          const auto& lt = *(*limit)[j].as_table();
          const std::string lp = fmt::format("{}.limit[{}]", p, j);
          known(lt, lp, {"window", "messages", "recipients"});
          const auto w = window_limit(lt, lp);
          add_window(e.windows, w, *lt.get("window"), join_key(lp, "window"), quote_input(e.match));
        }
      }
      c.exceptions.push_back(std::move(e));
    }
  }

  void alerts(const toml::table& root, Config& c) const {
    auto& a = c.alerts;
    const auto* t = section(root, "alerts");
    if (t == nullptr) return;
    const std::string p = "alerts";
    known(*t, p,
          {"syslog", "postmaster", "sendmail", "command", "webhook", "lock_after", "lock_command",
           "timeout"});
    if (auto v = boolean(*t, "syslog", p)) a.syslog = *v;
    if (auto v = string(*t, "postmaster", p)) {
      // Goes into a To: header: no whitespace (header injection), no list, no option.
      if (!v->empty() && (has_space_or_control(*v) || v->front() == '-' ||
                          v->find_first_of(",;<>\"") != std::string::npos))
        fail(*t->get("postmaster"), "alerts.postmaster",
             fmt::format("{} is not one mail address", quote_input(*v)));
      a.postmaster = *v;
    }
    if (auto v = string(*t, "sendmail", p))
      a.sendmail = absolute_path(*t->get("sendmail"), "alerts.sendmail", *v);
    a.command = command(*t, "command", p);
    if (auto v = string(*t, "webhook", p)) {
      if (!v->empty())
        if (auto problem = webhook_problem(*v))
          fail(*t->get("webhook"), "alerts.webhook",
               fmt::format("{}: {}", quote_input(*v), *problem));
      a.webhook = *v;
    }
    if (auto v = integer(*t, "lock_after", p, 0, 1000))
      a.lock_after = static_cast<std::uint32_t>(*v);
    a.lock_command = command(*t, "lock_command", p);
    if (a.lock_after > 0 && a.lock_command.empty())
      fail(*t->get("lock_after"), "alerts.lock_after",
           "auto-lock needs lock_command (the command that locks the account)");
    if (a.lock_after == 0 && !a.lock_command.empty())
      fail(*t->get("lock_command"), "alerts.lock_command",
           "is set but lock_after = 0 (never): set lock_after to the alert count that locks");
    if (auto v = duration_ms(*t, "timeout", p, 1, 600'000)) a.timeout_ms = *v;
  }

  static std::optional<std::string> webhook_problem(std::string_view url) {
    std::string_view rest;
    if (url.starts_with("http://")) {
      rest = url.substr(7);
    } else if (url.starts_with("https://")) {
      rest = url.substr(8);
    } else {
      return "expected http://HOST[:PORT]/PATH or https://...";
    }
    if (has_space_or_control(url)) return "whitespace or control characters in the URL";
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    if (authority.find('@') != std::string_view::npos)
      return "credentials in the URL are not supported";
    if (authority.empty()) return "the host is empty";
    // With no port, check the host alone.
    const bool bracket = authority.front() == '[';
    const bool has_port = bracket ? authority.find("]:") != std::string_view::npos
                                  : authority.find(':') != std::string_view::npos;
    const std::string hp = has_port ? std::string(authority) : std::string(authority) + ":80";
    auto parsed = parse_host_port(hp, true);
    if (auto* e = std::get_if<std::string>(&parsed)) return *e;
    return std::nullopt;
  }

  void spoofing(const toml::table& root, Config& c) const {
    auto& s = c.spoofing;
    const auto* t = section(root, "spoofing");
    if (t == nullptr) return;
    const std::string p = "spoofing";
    known(*t, p,
          {"enabled", "sender_login_maps", "domains", "action", "text", "recipient_delimiter"});
    if (auto v = string(*t, "recipient_delimiter", p)) {
      for (char ch : *v) {
        if (ch == '@' || static_cast<unsigned char>(ch) <= ' ' ||
            static_cast<unsigned char>(ch) >= 0x7f)
          fail(*t->get("recipient_delimiter"), "spoofing.recipient_delimiter",
               fmt::format("{}: delimiter characters are printable, not '@' or a space",
                           quote_input(*v)));
      }
      s.recipient_delimiter = *v;
    }
    if (auto v = boolean(*t, "enabled", p)) s.enabled = *v;
    if (auto v = choice<OverLimitAction>(
            *t, "action", p,
            {{"reject", OverLimitAction::reject}, {"defer", OverLimitAction::defer}}))
      s.action = *v;
    if (const auto* a = string_array(*t, "domains", p)) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const auto& n = (*a)[i];
        const std::string d = lower(*n.value<std::string>());
        if (auto problem = domain_problem(d))
          fail(n, fmt::format("spoofing.domains[{}]", i),
               fmt::format("{}: {} (write the domain alone: example.com)", quote_input(d),
                           *problem));
        s.domains.push_back(d);
      }
    }
    const char code_class = s.action == OverLimitAction::reject ? '5' : '4';
    if (t->contains("text")) {
      reply_text(*t, "text", p, code_class, c.spoof_text);
    } else if (s.action == OverLimitAction::defer) {
      // The default text carries 5.7.1; a temporary answer needs a 4.x.x code.
      c.spoof_text = "4.7.1 Sender address not owned by the authenticated user";
    }
    if (auto v = string(*t, "sender_login_maps", p); v && !v->empty()) {
      const auto& n = *t->get("sender_login_maps");
      s.sender_login_maps = login_map_path(n, *v);
    }
  }

  // Accepts the file name or main.cf's "type:name" for the indexed-file types, whose source
  // file is `name`; tables without a source file (ldap:, mysql:, pcre:...) cannot be read.
  std::filesystem::path login_map_path(const toml::node& n, std::string_view text) const {
    const std::string key = "spoofing.sender_login_maps";
    std::string_view path = text;
    if (const auto colon = text.find(':'); colon != std::string_view::npos && text.front() != '/') {
      const auto type = text.substr(0, colon);
      static constexpr std::array<std::string_view, 7> file_types = {
          "hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash"};
      if (std::find(file_types.begin(), file_types.end(), type) == file_types.end())
        fail(n, key,
             fmt::format("{}: only a table source file is read (hash:, texthash:, lmdb:... or a "
                         "plain path), not a {}: table",
                         quote_input(text), type));
      path = text.substr(colon + 1);
    }
    const std::string file = absolute_path(n, key, path);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      fail(n, key, fmt::format("{}: no such file", quote_input(file)));
    // Checked now so that check-config and a reload refuse a broken map.
    auto map = SenderLoginMap::load(file);
    if (!map) fail(n, key, map.error().message);
    return file;
  }

  void state(const toml::table& root, Config& c) const {
    auto& s = c.state;
    const auto* t = section(root, "state");
    if (t == nullptr) return;
    const std::string p = "state";
    known(*t, p, {"backend", "path", "flush_interval", "redis"});
    if (auto v = choice<StoreBackend>(
            *t, "backend", p, {{"memory", StoreBackend::memory}, {"redis", StoreBackend::redis}}))
      s.backend = *v;
    if (auto v = string(*t, "path", p); v && !v->empty())
      s.path = absolute_path(*t->get("path"), "state.path", *v);
    if (auto v = duration_ms(*t, "flush_interval", p, 10, 3'600'000)) s.flush_interval_ms = *v;
    const auto* rt = section(*t, "redis");
    if (rt == nullptr) {
      if (s.backend == StoreBackend::redis)
        fail(*t->get("backend"), "state.backend",
             "\"redis\" needs a [state.redis] table (at least address = \"HOST:PORT\")");
      return;
    }
    redis(*rt, s.redis);
  }

  void redis(const toml::table& t, RedisConfig& r) const {
    const std::string p = "state.redis";
    known(t, p, {"address", "password", "database", "pool", "timeout", "on_failure", "prefix"});
    if (auto v = string(t, "address", p)) {
      const auto& n = *t.get("address");
      if (v->starts_with("unix:")) {
        r.unix_socket = absolute_path(n, "state.redis.address", v->substr(5));
      } else {
        auto hp = parse_host_port(*v, true);
        if (auto* e = std::get_if<std::string>(&hp))
          fail(n, "state.redis.address",
               fmt::format("{}: {} (expected HOST:PORT or unix:/path)", quote_input(*v), *e));
        r.host = std::get<HostPort>(hp).host;
        r.port = std::get<HostPort>(hp).port;
      }
    }
    if (auto v = string(t, "password", p)) {
      if (has_control(*v)) fail(*t.get("password"), "state.redis.password", "control characters");
      r.password = *v;
    }
    if (auto v = integer(t, "database", p, 0, 65535)) r.database = static_cast<int>(*v);
    if (auto v = integer(t, "pool", p, 1, 1024)) r.pool = static_cast<std::uint32_t>(*v);
    if (auto v = duration_ms(t, "timeout", p, 1, 60'000)) r.timeout_ms = *v;
    if (auto v = choice<FailMode>(t, "on_failure", p,
                                  {{"open", FailMode::open}, {"closed", FailMode::closed}}))
      r.on_failure = *v;
    if (auto v = string(t, "prefix", p)) {
      if (v->size() > 128 || has_space_or_control(*v))
        fail(*t.get("prefix"), "state.redis.prefix",
             "must be at most 128 printable characters without whitespace");
      r.prefix = *v;
    }
  }

  std::string_view name_;
};

}  // namespace

Result<Config> parse_config(std::string_view text, std::string_view name) {
  auto root = parse_toml(text, name);
  if (!root) return root.error();
  try {
    return Parser(name).parse(*root);
  } catch (const ConfigError& e) {
    return Error{e.message};
  }
}

Result<Config> load_config(const std::filesystem::path& file) {
  auto text = read_catalog_file(file, kMaxConfigBytes);
  if (!text) return text.error();
  return parse_config(*text, file.string());
}

}  // namespace mw::policyd
