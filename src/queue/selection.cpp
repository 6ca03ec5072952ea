// Selection: cheap envelope tests first, the account (a postcat per message) last.
#include "queue/selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/duration.hpp"
#include "queue/postqueue_json.hpp"

namespace mw::queue {

namespace {

bool any_equal_ci(const std::vector<std::string>& wanted, std::string_view value) {
  const std::string v = lower(value);
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return lower(w) == v; });
}

}  // namespace

Result<std::int64_t> parse_duration(std::string_view text) {
  DurationSyntax syntax;
  syntax.units = DurationSyntax::s | DurationSyntax::m | DurationSyntax::h | DurationSyntax::d |
                 DurationSyntax::w;
  syntax.compound = true;
  syntax.min = Millis(0);
  syntax.max = std::chrono::hours(24 * 3650);
  auto d = mw::parse_duration(text, syntax);
  if (!d) return Error{"duration " + d.error().message};
  return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
}

Result<QueueName> parse_queue_name(std::string_view text) {
  const QueueName q = queue_from_name(text);
  if (q == QueueName::other)
    return Error{
        fmt::format("queue '{}': expected maildrop, incoming, active, deferred, hold or "
                    "corrupt",
                    text)};
  return q;
}

std::string Selector::describe() const {
  std::string out;
  auto add = [&](std::string_view flag, const std::string& v) {
    if (!out.empty()) out += ' ';
    out += fmt::format("--{} {}", flag, v);
  };
  for (const auto& v : senders) add("sender", v.empty() ? "<>" : v);
  for (const auto& v : sasl_users) add("sasl-user", v);
  for (const auto& v : queue_ids) add("queue-id", v);
  for (const auto& v : to_domains) add("to-domain", v);
  for (const auto q : queues) add("queue", std::string(name_of(q)));
  if (older_than) add("older-than", fmt::format("{}s", *older_than));
  return out;
}

Status validate(const Selector& s) {
  if (s.empty())
    return Error{
        "no selector: give at least one of --sender, --sasl-user, --queue-id, "
        "--older-than, --to-domain, --queue (there is no 'ALL')"};
  for (const auto& id : s.queue_ids)
    if (!valid_queue_id(id))
      return Error{fmt::format("--queue-id '{}': not a Postfix queue id", id)};
  for (const auto& d : s.to_domains)
    if (d.empty() || d.find('@') != std::string::npos)
      return Error{fmt::format("--to-domain '{}': expected a domain (example.com)", d)};
  for (const auto& u : s.sasl_users)
    if (u.empty()) return Error{"--sasl-user: empty account name"};
  return {};
}

bool matches_envelope(const QueuedMessage& m, const Selector& s, std::int64_t now) {
  if (!s.queue_ids.empty() &&
      std::find(s.queue_ids.begin(), s.queue_ids.end(), m.queue_id) == s.queue_ids.end())
    return false;
  if (!s.queues.empty() && std::find(s.queues.begin(), s.queues.end(), m.queue) == s.queues.end())
    return false;
  if (!s.senders.empty() && !any_equal_ci(s.senders, m.sender)) return false;
  if (s.older_than && !(now - m.arrival_time > *s.older_than)) return false;
  if (!s.to_domains.empty() &&
      std::none_of(m.recipients.begin(), m.recipients.end(), [&](const Recipient& r) {
        return any_equal_ci(s.to_domains, domain_of(r.address));
      }))
    return false;
  return true;
}

Selection select(const QueueListing& listing, const Selector& s, std::int64_t now,
                 QueueTools& tools, const QueueIdChain* logs, bool use_postcat, unsigned jobs) {
  Selection out;
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < listing.messages.size(); ++i)
    if (matches_envelope(listing.messages[i], s, now)) candidates.push_back(i);
  if (!s.needs_accounts()) {
    out.indices = std::move(candidates);
    return out;
  }
  std::vector<const QueuedMessage*> need;
  need.reserve(candidates.size());
  for (auto i : candidates) need.push_back(&listing.messages[i]);
  out.lookup = lookup_accounts(tools, need, logs, use_postcat, jobs);
  for (auto i : candidates) {
    auto it = out.lookup.accounts.find(listing.messages[i].queue_id);
    if (it == out.lookup.accounts.end()) {
      ++out.unknown_account;
      continue;
    }
    if (any_equal_ci(s.sasl_users, it->second.account)) out.indices.push_back(i);
  }
  return out;
}

}  // namespace mw::queue
