// plan_action() decides, execute() re-checks against a fresh listing and runs postsuper.
#include "queue/actions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "queue/postqueue_json.hpp"

namespace mw::queue {

namespace {

PlannedMessage planned(const QueuedMessage& m) {
  return {m.queue_id, m.queue_name, m.sender, m.arrival_time, m.size};
}

}  // namespace

ActionPlan plan_action(const QueueListing& listing, const std::vector<std::size_t>& selected,
                       const ActionOptions& options) {
  ActionPlan plan;
  plan.action = options.action;
  switch (options.action) {
    case Action::hold:
      break;  // postsuper's default: incoming, active, deferred
    case Action::release:
      plan.queues = {"hold"};
      break;
    case Action::remove:
      if (!options.no_hold_first) plan.queues = {"hold"};  // postsuper looks nowhere else
      break;
  }
  for (const auto i : selected) {
    const QueuedMessage& m = listing.messages.at(i);
    const bool held = m.queue == QueueName::hold;
    switch (options.action) {
      case Action::hold:
        if (held) {
          plan.skipped.push_back({planned(m), "already on hold"});
          continue;
        }
        if (m.queue == QueueName::maildrop || m.queue == QueueName::corrupt) {
          plan.skipped.push_back(
              {planned(m), fmt::format("in {}: postsuper -h does not look there", m.queue_name)});
          continue;
        }
        break;
      case Action::release:
        if (!held) {
          plan.skipped.push_back({planned(m), "not on hold"});
          continue;
        }
        break;
      case Action::remove:
        if (!held && !options.no_hold_first) {
          plan.refused.push_back({planned(m), fmt::format("in {}, not on hold: hold it and review "
                                                          "first (or --no-hold-first)",
                                                          m.queue_name)});
          continue;
        }
        if (m.queue == QueueName::maildrop || m.queue == QueueName::corrupt) {
          plan.skipped.push_back(
              {planned(m), fmt::format("in {}: postsuper -d does not look there", m.queue_name)});
          continue;
        }
        break;
    }
    plan.bytes += m.size;
    plan.act.push_back(planned(m));
  }
  return plan;
}

std::size_t parse_postsuper_count(std::string_view err) {
  // "postsuper: Deleted: 3 messages", "postsuper: Placed on hold: 1 message",
  // "postsuper: Released from hold: 2 messages"
  static constexpr std::string_view kVerbs[] = {
      "Deleted: ", "Placed on hold: ", "Released from hold: ", "Requeued: "};
  std::size_t total = 0;
  std::size_t pos = 0;
  while (pos < err.size()) {
    std::size_t end = err.find('\n', pos);
    if (end == std::string_view::npos) end = err.size();
    std::string_view line = err.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 11) != "postsuper: ") continue;
    line.remove_prefix(11);
    for (auto verb : kVerbs) {
      if (line.substr(0, verb.size()) != verb) continue;
      std::size_t n = 0;
      auto rest = line.substr(verb.size());
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
      if (ec == std::errc() && p != rest.data()) total += n;
    }
  }
  return total;
}

ActionOutcome execute(const ActionPlan& plan, QueueTools& tools, const ActionOptions& options,
                      const ActionLog& log) {
  ActionOutcome out;
  const std::string verb(name_of(plan.action));
  if (plan.act.empty()) return out;
  auto fresh = tools.list_queue();
  if (!fresh) {
    out.errors.push_back("re-listing the queue before acting: " + fresh.error().message);
    log(fmt::format("queue {}: not done: {}", verb, out.errors.back()));
    return out;
  }
  const QueueListing now = parse_postqueue_json(*fresh);
  std::unordered_map<std::string_view, const QueuedMessage*> by_id;
  for (const auto& m : now.messages) by_id.emplace(m.queue_id, &m);
  std::vector<std::string> ids;
  for (const auto& p : plan.act) {
    auto it = by_id.find(p.queue_id);
    const bool same =
        it != by_id.end() && it->second->arrival_time == p.arrival_time &&
        it->second->sender == p.sender &&
        (plan.queues.empty() || std::find(plan.queues.begin(), plan.queues.end(),
                                          it->second->queue_name) != plan.queues.end());
    if (!same) {
      ++out.changed_since;
      log(fmt::format("queue {}: skipped {}: gone or changed since it was selected", verb,
                      p.queue_id));
      continue;
    }
    ids.push_back(p.queue_id);
  }
  const std::size_t batch = std::max<std::size_t>(1, options.batch_size);
  const std::size_t nbatches = (ids.size() + batch - 1) / batch;
  for (std::size_t b = 0; b < nbatches; ++b) {
    const auto first = ids.begin() + static_cast<std::ptrdiff_t>(b * batch);
    const auto last =
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), (b + 1) * batch));
    std::vector<std::string> chunk(first, last);
    // The audit trail names every id, a bounded number per line (syslog truncates long lines).
    for (std::size_t i = 0; i < chunk.size(); i += 40) {
      std::string list;
      for (std::size_t j = i; j < std::min(chunk.size(), i + 40); ++j) {
        if (!list.empty()) list += ' ';
        list += chunk[j];
      }
      log(fmt::format("queue {}: batch {}/{}: postsuper -{} - {}: {}", verb, b + 1, nbatches,
                      postsuper_flag(plan.action),
                      plan.queues.empty() ? std::string("(default queues)") : plan.queues.front(),
                      list));
    }
    ++out.batches;
    out.requested += chunk.size();
    auto r = tools.super(plan.action, chunk, plan.queues);
    if (!r) {
      ++out.batches_failed;
      out.errors.push_back(fmt::format("batch {}/{}: {}", b + 1, nbatches, r.error().message));
      log(fmt::format("queue {}: batch {}/{} failed: {}", verb, b + 1, nbatches,
                      r.error().message));
      continue;
    }
    const std::size_t n = parse_postsuper_count(r->err);
    out.affected += n;
    if (!r->success()) {
      ++out.batches_failed;
      std::string err = r->err;
      while (!err.empty() && err.back() == '\n') err.pop_back();
      out.errors.push_back(
          fmt::format("batch {}/{}: postsuper exit {}: {}", b + 1, nbatches, r->exit_code, err));
      log(fmt::format("queue {}: batch {}/{} failed: postsuper exit {}: {}", verb, b + 1, nbatches,
                      r->exit_code, err));
    } else {
      log(fmt::format("queue {}: batch {}/{}: postsuper reports {} of {} message(s)", verb, b + 1,
                      nbatches, n, chunk.size()));
    }
  }
  return out;
}

}  // namespace mw::queue
