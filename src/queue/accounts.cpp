// The submitting account of queued messages: postcat in a small pool of threads, then the
// queue-id chain of the logs.
#include "queue/accounts.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "logs/merge.hpp"
#include "queue/postcat.hpp"

namespace mw::queue {

std::string_view name_of(AccountSource s) {
  switch (s) {
    case AccountSource::queue_file:
      return "queue_file";
    case AccountSource::logs:
      return "logs";
    case AccountSource::webmail:
      return "webmail";
  }
  return "?";
}

namespace {

// "127.0.0.1[127.0.0.1]:10024", "localhost[::1]:10025": a hand-off to a filter on this host.
bool loopback_relay(std::string_view relay) {
  std::string_view host = relay;
  if (const auto lb = relay.find('['); lb != std::string_view::npos) {
    const auto rb = relay.find(']', lb);
    host =
        relay.substr(lb + 1, rb == std::string_view::npos ? std::string_view::npos : rb - lb - 1);
  }
  return host.substr(0, 4) == "127." || host == "::1" || host.substr(0, 9) == "localhost";
}

bool inside(const Address& a, const std::vector<Prefix>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const Prefix& p) {
    return p.addr.family == a.family && a.value >= p.first() && a.value <= p.last();
  });
}

std::vector<Prefix> loopback() {
  return {*parse_prefix("127.0.0.0/8"), *parse_prefix("::1/128")};
}

}  // namespace

QueueIdChain::QueueIdChain() : mailbox_servers_(loopback()) {}

void QueueIdChain::link(std::string_view parent, std::string_view child) {
  if (parent.empty() || child.empty() || parent == child) return;
  std::string c(child);
  std::string p(parent);
  // A content filter's re-injection also comes unauthenticated from loopback: it is the
  // parent's message, not webmail of its own.
  webmail_.erase(c);
  if (webmail_.count(p) != 0) webmail_.insert(c);
  if (auto it = account_.find(p); it != account_.end())
    account_[c] = it->second;
  else
    links_.emplace_back(std::move(p), std::move(c));
}

void QueueIdChain::add(const logs::Event& e) {
  if (e.line_kind != logs::LineKind::parsed) return;
  const auto& f = e.facts;
  switch (f.kind) {
    case logs::EventKind::message_client:
      // A queue id is reused once its file is gone: a new client line starts afresh.
      if (f.queue_id.empty()) break;
      if (!f.account.empty()) {
        account_[std::string(f.queue_id)] = std::string(f.account);
        webmail_.erase(std::string(f.queue_id));
      } else {
        account_.erase(std::string(f.queue_id));
        const auto a = parse_address(f.client_ip);
        if (a && inside(*a, mailbox_servers_))
          webmail_.insert(std::string(f.queue_id));
        else
          webmail_.erase(std::string(f.queue_id));
      }
      break;
    case logs::EventKind::delivery:
      if (!f.next_queue_id.empty() && loopback_relay(f.relay)) link(f.queue_id, f.next_queue_id);
      break;
    case logs::EventKind::content_scan:
      link(f.queue_id, f.next_queue_id);
      break;
    default:
      break;
  }
}

void QueueIdChain::finish() {
  // Chains are short (smtpd -> amavis -> re-injection); a few passes settle them.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [parent, child] : links_) {
      if (webmail_.count(parent) != 0 && webmail_.insert(child).second) changed = true;
      auto p = account_.find(parent);
      if (p == account_.end()) continue;
      auto [c, inserted] = account_.try_emplace(child, p->second);
      if (inserted) changed = true;
    }
  }
  links_.clear();
}

const std::string* QueueIdChain::account(const std::string& queue_id) const {
  auto it = account_.find(queue_id);
  return it == account_.end() ? nullptr : &it->second;
}

LogAttribution attribute_from_logs(const std::vector<std::string>& files,
                                   const logs::ReadOptions& options,
                                   std::vector<Prefix> mailbox_servers) {
  LogAttribution out;
  if (!mailbox_servers.empty()) out.chain = QueueIdChain(std::move(mailbox_servers));
  logs::ReadOptions ro = options;
  ro.keep = [](const logs::Event& e) {
    return e.facts.kind == logs::EventKind::message_client ||
           e.facts.kind == logs::EventKind::delivery ||
           e.facts.kind == logs::EventKind::content_scan;
  };
  auto merged =
      logs::read_merged(files, ro, [&](const logs::Event& e, logs::Position) { out.chain.add(e); });
  for (const auto& r : merged.results) {
    out.lines += r.lines;
    if (!r.error.empty()) out.errors.push_back(r.name + ": " + r.error);
  }
  out.chain.finish();
  return out;
}

AccountLookup lookup_accounts(QueueTools& tools, const std::vector<const QueuedMessage*>& messages,
                              const QueueIdChain* logs, bool use_postcat, unsigned jobs) {
  AccountLookup out;
  std::vector<std::string> found(messages.size());
  if (use_postcat && !messages.empty()) {
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    auto worker = [&] {
      for (std::size_t i = next++; i < messages.size(); i = next++) {
        auto text = tools.read_envelope(messages[i]->queue_id);
        if (text) {
          found[i] = parse_postcat(*text).sasl_username;
        } else {
          std::lock_guard lock(mu);
          if (out.postcat_failures++ == 0) out.first_error = text.error().message;
        }
      }
    };
    const unsigned n = std::clamp<unsigned>(jobs, 1, 64);
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::min<std::size_t>(n, messages.size()); ++t)
      pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    out.looked_up = messages.size();
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string& id = messages[i]->queue_id;
    if (!found[i].empty()) {
      out.accounts[id] = {std::move(found[i]), AccountSource::queue_file};
    } else if (logs != nullptr) {
      if (const std::string* a = logs->account(id))
        out.accounts[id] = {*a, AccountSource::logs};
      else if (logs->webmail(id) && !messages[i]->sender.empty())
        out.accounts[id] = {messages[i]->sender, AccountSource::webmail};
    }
  }
  return out;
}

}  // namespace mw::queue
