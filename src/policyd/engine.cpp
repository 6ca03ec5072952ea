// The policy decision: spoofing check, buckets, one atomic charge, the answer.
#include "policyd/engine.hpp"

#include <algorithm>
#include <atomic>
#include <string>

#include "core/ip.hpp"

namespace mw::policyd {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

const ScopeLimits* limits_of(const Config& c, Scope s) {
  for (const auto& l : c.limits) {
    if (l.scope == s && !l.windows.empty()) return &l;
  }
  return nullptr;
}

// The exception for an address key: the address itself first, then its "@domain".
const Exception* address_exception(const Config& c, std::string_view address) {
  const Exception* by_domain = nullptr;
  const std::string_view domain = domain_of(address);
  for (const auto& e : c.exceptions) {
    if (e.client) continue;
    if (e.match == address) return &e;
    if (!domain.empty() && e.match.size() == domain.size() + 1 && e.match[0] == '@' &&
        std::string_view(e.match).substr(1) == domain) {
      by_domain = &e;
    }
  }
  return by_domain;
}

const Exception* client_exception(const Config& c, const std::optional<Address>& client) {
  if (!client) return nullptr;
  for (const auto& e : c.exceptions) {
    if (!e.client || e.client->addr.family != client->family) continue;
    if (client->value >= e.client->first() && client->value <= e.client->last()) return &e;
  }
  return nullptr;
}

void add_bucket(std::vector<Bucket>& out, const Config& c, Scope scope, std::string key,
                const Exception* exception) {
  const ScopeLimits* limits = limits_of(c, scope);
  if (limits == nullptr) return;
  if (exception != nullptr && exception->exempt) return;
  Bucket b;
  b.key = std::move(key);
  b.windows = exception != nullptr ? exception->windows : limits->windows;
  if (!b.windows.empty()) out.push_back(std::move(b));
}

std::string scope_subject(std::string_view key) {
  return key.size() > 2 ? std::string(key.substr(2)) : std::string(key);
}

Scope scope_of_key(std::string_view key) {
  switch (key.empty() ? 'a' : key[0]) {
    case 's':
      return Scope::sender;
    case 'c':
      return Scope::client;
    case 'd':
      return Scope::domain;
    default:
      return Scope::account;
  }
}

std::string action_text(const Config& c, Verdict v) {
  switch (v) {
    case Verdict::defer:
      return "DEFER_IF_PERMIT " + c.defer_text;
    case Verdict::hold:
      return "HOLD " + c.hold_text;
    case Verdict::reject:
      return "REJECT " + c.reject_text;
    case Verdict::dunno:
      break;
  }
  return "DUNNO";
}

Verdict verdict_of(OverLimitAction a) {
  switch (a) {
    case OverLimitAction::hold:
      return Verdict::hold;
    case OverLimitAction::reject:
      return Verdict::reject;
    case OverLimitAction::defer:
      break;
  }
  return Verdict::defer;
}

Decision dunno(Reason r) {
  Decision d;
  d.reason = r;
  d.action = "DUNNO";
  return d;
}

}  // namespace

Result<std::shared_ptr<const Policy>> load_policy(const std::filesystem::path& file) {
  auto config = load_config(file);
  if (!config) return config.error();
  auto policy = std::make_shared<Policy>();
  policy->config = std::move(*config);
  const auto& sp = policy->config.spoofing;
  if (sp.enabled && !sp.sender_login_maps.empty()) {
    auto map = SenderLoginMap::load(sp.sender_login_maps, sp.recipient_delimiter);
    if (!map) return map.error();
    policy->logins = std::move(*map);
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::dunno:
      return "dunno";
    case Verdict::defer:
      return "defer";
    case Verdict::hold:
      return "hold";
    case Verdict::reject:
      return "reject";
  }
  return "dunno";
}

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::not_counted:
      return "not_counted";
    case Reason::no_limit:
      return "no_limit";
    case Reason::accepted:
      return "accepted";
    case Reason::duplicate:
      return "duplicate";
    case Reason::over_limit:
      return "over_limit";
    case Reason::spoofed:
      return "spoofed";
    case Reason::fail_open:
      return "fail_open";
    case Reason::fail_closed:
      return "fail_closed";
  }
  return "?";
}

std::vector<Bucket> buckets_for(const Config& c, const Request& r) {
  std::vector<Bucket> out;
  const std::string sender = lower(r.sender);
  std::optional<Address> client;
  if (auto a = parse_address(r.client_address)) client = *a;
  bool outbound = false;  // mail a local user submitted: its sender domain is counted too
  if (!r.sasl_username.empty()) {
    const std::string login = lower(r.sasl_username);
    add_bucket(out, c, Scope::account, "a:" + login, address_exception(c, login));
    outbound = true;
  } else if (client && c.mailbox_servers.contains(*client)) {
    // Webmail: the mailbox server relays for every user without SMTP AUTH. The envelope sender
    // is the user (Zimbra enforces it); a null sender here is a bounce or an auto-reply the
    // server generated, not a user's mail.
    if (!sender.empty()) {
      add_bucket(out, c, Scope::sender, "s:" + sender, address_exception(c, sender));
      outbound = true;
    }
  } else if (client) {
    add_bucket(out, c, Scope::client, "c:" + to_string(*client), client_exception(c, client));
  } else if (!r.client_address.empty()) {
    // "unknown" or a form we do not parse: one bucket for all of them rather than none.
    add_bucket(out, c, Scope::client, "c:" + lower(r.client_address), nullptr);
  }
  if (outbound && !sender.empty()) {
    const std::string domain(domain_of(sender));
    if (!domain.empty()) {
      add_bucket(out, c, Scope::domain, "d:" + domain, address_exception(c, "@" + domain));
    }
  }
  return out;
}

Decision decide(const Policy& policy, CounterStore& store, const Request& r, std::int64_t now) {
  const Config& c = policy.config;

  // Anti-spoofing: an authenticated client may only use its own envelope senders.
  if (c.spoofing.enabled && !r.sasl_username.empty() && !r.sender.empty()) {
    const std::string sender = lower(r.sender);
    const std::string domain(domain_of(sender));
    const auto& domains = c.spoofing.domains;
    const bool checked =
        domains.empty() || std::find(domains.begin(), domains.end(), domain) != domains.end();
    bool owns = lower(r.sasl_username) == sender;
    if (!owns && policy.logins) owns = policy.logins->owns(r.sasl_username, r.sender);
    if (checked && !owns) {
      Decision d;
      d.reason = Reason::spoofed;
      if (c.spoofing.action == OverLimitAction::defer) {
        d.verdict = Verdict::defer;
        d.action = "DEFER_IF_PERMIT " + c.spoof_text;
      } else {
        d.verdict = Verdict::reject;
        d.action = "REJECT " + c.spoof_text;
      }
      d.detail = "sender " + std::string(r.sender) + " not owned by " +
                 std::string(r.sasl_username) + " (client " + std::string(r.client_address) + ")";
      return d;
    }
  }

  const bool eom = r.protocol_state == "END-OF-MESSAGE";
  const bool rcpt = r.protocol_state == "RCPT";
  if (c.stage == CountStage::end_of_message ? !eom : !rcpt) return dunno(Reason::not_counted);

  const auto buckets = buckets_for(c, r);
  if (buckets.empty()) return dunno(Reason::no_limit);

  // Postfix's instance is unique only within one smtpd process: the MTA's identity makes it
  // unique across the MTAs sharing a Redis.
  std::string node = c.server.node_id.empty() ? std::string(r.server_address) : c.server.node_id;
  ChargeRequest q;
  q.now = now;
  if (r.instance.empty()) {
    // No instance (not Postfix?): nothing to de-duplicate with; every request is new.
    static std::atomic<std::uint64_t> serial{0};
    q.message_key = "-|" + std::to_string(serial.fetch_add(1, std::memory_order_relaxed));
  } else {
    q.message_key = node + "|" + std::string(r.instance);
  }
  if (rcpt) {
    q.dedupe_key = q.message_key + "|" + lower(r.recipient);
    q.recipients = 1;
  } else {
    q.dedupe_key = q.message_key;
    q.recipients = r.has_recipient_count ? r.recipient_count : 1;
  }

  auto result = store.charge(q, buckets);
  if (!result) {
    Decision d;
    if (c.state.redis.on_failure == FailMode::closed) {
      d.verdict = Verdict::defer;
      d.reason = Reason::fail_closed;
      d.action = "DEFER_IF_PERMIT 4.3.0 Rate limit service unavailable, try again later";
    } else {
      d.reason = Reason::fail_open;
      d.action = "DUNNO";
    }
    d.detail = "store error: " + result.error().message;
    return d;
  }
  const ChargeResult& res = *result;
  if (res.allowed) return dunno(res.duplicate ? Reason::duplicate : Reason::accepted);

  Decision d;
  d.verdict = verdict_of(c.action);
  d.reason = res.duplicate ? Reason::duplicate : Reason::over_limit;
  d.action = action_text(c, d.verdict);
  const Bucket* b = res.bucket >= 0 && static_cast<std::size_t>(res.bucket) < buckets.size()
                        ? &buckets[res.bucket]
                        : &buckets.front();
  const WindowLimit w = res.window >= 0 && static_cast<std::size_t>(res.window) < b->windows.size()
                            ? b->windows[res.window]
                            : b->windows.front();
  const Scope scope = scope_of_key(b->key);
  // What the window would hold with this message: "11/10 messages" reads as what was tried.
  // In RCPT mode a refusal on messages is a new message; one on recipients may be a later
  // recipient of a message already counted, which adds none.
  const bool new_message = eom || (w.messages != 0 && res.used_messages >= w.messages);
  const std::uint64_t messages = res.used_messages + (new_message ? 1 : 0);
  const std::uint64_t recipients = res.used_recipients + q.recipients;
  d.detail = std::string(scope_name(scope)) + " " + scope_subject(b->key) + ": " +
             std::to_string(messages) + " messages" +
             (w.messages ? "/" + std::to_string(w.messages) : std::string()) + ", " +
             std::to_string(recipients) + " recipients" +
             (w.recipients ? "/" + std::to_string(w.recipients) : std::string()) + " in " +
             format_window(w.window) + " (client " + std::string(r.client_address) + ", sender <" +
             std::string(r.sender) + ">)";
  if (res.alert && !res.duplicate) {
    Alert a;
    a.time = now;
    a.kind = "rate_limit";
    a.key = b->key;
    a.scope = std::string(scope_name(scope));
    a.subject = scope_subject(b->key);
    a.client_address = std::string(r.client_address);
    a.sender = std::string(r.sender);
    a.instance = std::string(r.instance);
    a.queue_id = std::string(r.queue_id);
    a.window = w.window;
    a.used_messages = messages;
    a.used_recipients = recipients;
    a.limit_messages = w.messages;
    a.limit_recipients = w.recipients;
    a.alerts = res.alerts;
    a.action = d.action.substr(0, d.action.find(' '));
    d.alert = std::move(a);
  }
  return d;
}

}  // namespace mw::policyd
