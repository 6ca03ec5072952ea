// summarize(): one pass over the listing into hash maps, then the top-N cuts.
#include "queue/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "queue/selection.hpp"

namespace mw::queue {

namespace {

// Heterogeneous lookup: counting an existing key allocates nothing (100,000 messages, a few
// hundred thousand recipients).
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TallyMap = std::unordered_map<std::string, Tally, KeyHash, std::equal_to<>>;

// Counts under the lower-cased key (addresses and domains compare case-insensitively).
void count(TallyMap& map, std::string_view key, std::uint64_t bytes, std::string& scratch) {
  scratch.assign(key);
  for (char& c : scratch)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  auto it = map.find(std::string_view(scratch));
  if (it == map.end()) it = map.emplace(scratch, Tally{scratch, 0, 0}).first;
  ++it->second.messages;
  it->second.bytes += bytes;
}

std::vector<Tally> top_of(TallyMap& map, std::size_t top) {
  std::vector<Tally> v;
  v.reserve(map.size());
  for (auto& [k, t] : map) v.push_back(std::move(t));
  // Most messages first; ties by key, so that the output does not depend on hashing.
  auto order = [](const Tally& a, const Tally& b) {
    return a.messages != b.messages ? a.messages > b.messages : a.key < b.key;
  };
  if (v.size() > top) {
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(), order);
    v.resize(top);
  } else {
    std::sort(v.begin(), v.end(), order);
  }
  return v;
}

}  // namespace

QueueSummary summarize(const QueueListing& listing, const AccountMap* accounts, std::int64_t now,
                       std::size_t top) {
  QueueSummary s;
  s.bad_lines = listing.bad_line_count;
  s.accounts_resolved = accounts != nullptr;
  for (std::size_t q = 0; q < kQueueNames; ++q)
    s.by_queue[q].key = name_of(static_cast<QueueName>(q));
  s.by_age = {{"<1h", 3600},        {"1h-6h", 6 * 3600},  {"6h-24h", 86400},
              {"1d-3d", 3 * 86400}, {"3d-7d", 7 * 86400}, {">7d", 0}};
  TallyMap senders, accts, domains;
  std::string scratch;
  for (const auto& m : listing.messages) {
    ++s.messages;
    s.bytes += m.size;
    s.recipients += m.recipients.size();
    auto& q = s.by_queue[static_cast<std::size_t>(m.queue)];
    ++q.messages;
    q.bytes += m.size;
    count(senders, m.sender.empty() ? std::string_view("<>") : std::string_view(m.sender), m.size,
          scratch);
    if (accounts != nullptr) {
      if (auto it = accounts->find(m.queue_id); it != accounts->end()) {
        ++s.account_known;
        switch (it->second.source) {
          case AccountSource::queue_file:
            ++s.account_from_queue_file;
            break;
          case AccountSource::logs:
            ++s.account_from_logs;
            break;
          case AccountSource::webmail:
            ++s.account_from_webmail;
            break;
        }
        count(accts, it->second.account, m.size, scratch);
      } else {
        ++s.account_unknown;
      }
    }
    for (const auto& r : m.recipients) {
      const auto d = domain_of(r.address);
      count(domains, d.empty() ? std::string_view("(no domain)") : d, 0, scratch);
    }
    const std::int64_t age = std::max<std::int64_t>(0, now - m.arrival_time);
    if (s.oldest_id.empty() || age > s.oldest_age) {
      s.oldest_age = age;
      s.oldest_id = m.queue_id;
    }
    for (auto& b : s.by_age)
      if (b.upper == 0 || age < b.upper) {
        ++b.messages;
        b.bytes += m.size;
        break;
      }
  }
  s.senders = senders.size();
  s.accounts = accts.size();
  s.domains = domains.size();
  s.by_sender = top_of(senders, top);
  s.by_account = top_of(accts, top);
  s.by_domain = top_of(domains, top);
  return s;
}

Result<Threshold> parse_threshold(std::string_view text) {
  Threshold t;
  t.text = text;
  std::uint64_t n = 0;
  const char* b = text.data();
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, n);
  if (ec != std::errc() || p == b)
    return Error{
        fmt::format("threshold '{}': expected a number of messages (125), a size "
                    "(450MB) or an age (6h)",
                    text)};
  const std::string unit = lower(std::string_view(p, static_cast<std::size_t>(e - p)));
  if (unit.empty()) {
    t.kind = Threshold::messages;
    t.value = n;
    return t;
  }
  static const std::pair<const char*, std::uint64_t> kSizes[] = {
      {"b", 1},           {"kb", 1000},        {"mb", 1000000},
      {"gb", 1000000000}, {"kib", 1ULL << 10}, {"mib", 1ULL << 20},
      {"gib", 1ULL << 30}};
  for (const auto& [name, mult] : kSizes)
    if (unit == name) {
      if (n > UINT64_MAX / mult) return Error{fmt::format("threshold '{}': too large", text)};
      t.kind = Threshold::bytes;
      t.value = n * mult;
      return t;
    }
  auto age = parse_duration(text);
  if (!age)
    return Error{
        fmt::format("threshold '{}': unknown unit '{}' (sizes: B, KB, MB, GB, KiB, MiB, "
                    "GiB; ages: s, m, h, d, w)",
                    text, std::string_view(p, static_cast<std::size_t>(e - p)))};
  t.kind = Threshold::age;
  t.value = static_cast<std::uint64_t>(*age);
  return t;
}

NagiosVerdict evaluate(const QueueSummary& s, const std::vector<Threshold>& warning,
                       const std::vector<Threshold>& critical) {
  NagiosVerdict v;
  auto check = [&](const std::vector<Threshold>& list, int state, std::string_view level) {
    for (const auto& t : list) {
      std::uint64_t have = 0;
      std::string what;
      switch (t.kind) {
        case Threshold::messages:
          have = s.messages;
          what = fmt::format("{} messages", have);
          break;
        case Threshold::bytes:
          have = s.bytes;
          what = fmt::format("{} bytes", have);
          break;
        case Threshold::age:
          have = static_cast<std::uint64_t>(s.oldest_age);
          what = fmt::format("oldest message {}s old", have);
          break;
      }
      if (have >= t.value) {
        v.state = std::max(v.state, state);
        v.reasons.push_back(fmt::format("{} >= {} ({})", what, t.text, level));
      }
    }
  };
  check(critical, 2, "critical");
  check(warning, 1, "warning");
  return v;
}

}  // namespace mw::queue
