// The analysis: attribution of mail to accounts (through amavis' re-injection), per-account
// figures, and the detectors of catalog/detectors.toml, evaluated incrementally as events
// arrive so that `logs report` and `logs watch` share one implementation.
//
// Windows are sliding at one-minute resolution: counts live in per-minute buckets and a
// window of W seconds holds the buckets of the last ceil(W/60) minutes.
#include "logs/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <iterator>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "logs/detector_catalog.hpp"
#include "logs/flat_table.hpp"

namespace mw::logs {

std::string_view name_of(FindingSeverity s) {
  switch (s) {
    case FindingSeverity::critical:
      return "critical";
    case FindingSeverity::high:
      return "high";
    case FindingSeverity::medium:
      return "medium";
    case FindingSeverity::low:
      return "low";
  }
  return "low";
}

namespace {
constexpr std::array<std::string_view, kDetectors> kDetectorNames = {
    "brute_force",  "password_spray",    "compromised_login", "impossible_travel", "outbound_burst",
    "bounce_ratio", "baseline_exceeded", "mynetworks_relay",  "queue_flood"};
}  // namespace

std::string_view name_of(Detector d) {
  return kDetectorNames[static_cast<std::size_t>(d)];
}

std::optional<Detector> detector_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kDetectors; ++i)
    if (kDetectorNames[i] == name) return static_cast<Detector>(i);
  return std::nullopt;
}

bool means_compromise(Detector d) {
  switch (d) {
    case Detector::compromised_login:
    case Detector::impossible_travel:
    case Detector::outbound_burst:
    case Detector::bounce_ratio:
    case Detector::baseline_exceeded:
      return true;
    default:
      return false;
  }
}

namespace {

// Hashing that finds std::string keys from a string_view without building a string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// `s` in lower case: `s` itself when it has no upper-case letter (the usual case: no copy),
// else a copy in `buf` (reused: no allocation once it is large enough).
std::string_view lower_into(std::string_view s, std::string& buf) {
  std::size_t i = 0;
  while (i < s.size() && !(s[i] >= 'A' && s[i] <= 'Z')) ++i;
  if (i == s.size()) return s;
  buf.assign(s);
  for (std::size_t j = i; j < buf.size(); ++j)
    if (buf[j] >= 'A' && buf[j] <= 'Z') buf[j] = static_cast<char>(buf[j] - 'A' + 'a');
  return buf;
}

// A set of strings with the flat table's cheap lookups (see flat_table.hpp).
class FlatStringSet {
 public:
  bool contains(std::string_view s) const { return map_.contains(s); }
  void insert(std::string_view s) { map_.try_emplace(s); }
  std::size_t size() const { return map_.size(); }

 private:
  struct None {};
  FlatStringMap<None, true> map_;  // the keys in the index: a lookup reads one cache line
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

std::int64_t minute_of(const Timestamp& t) {
  return t.seconds >= 0 ? t.seconds / 60 : (t.seconds - 59) / 60;
}
std::int64_t hour_of(const Timestamp& t) {
  return t.seconds >= 0 ? t.seconds / 3600 : (t.seconds - 3599) / 3600;
}

// A vector used as a queue: the elements before `head` are dropped. They are erased in bulk,
// once they are most of the vector (amortised O(1) each), instead of one by one.
template <class T>
void erase_dropped(std::vector<T>& v, std::size_t& head) {
  if (head == v.size()) {
    v.clear();
    head = 0;
  } else if (head >= 16 && head * 2 >= v.size()) {
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(head));
    head = 0;
  }
}

// N counters summed over a sliding window of whole minutes.
template <std::size_t N>
class MinuteWindow {
 public:
  using Values = std::array<std::uint32_t, N>;
  explicit MinuteWindow(std::int64_t window_seconds = 3600)
      : minutes_(std::max<std::int64_t>(1, (window_seconds + 59) / 60)) {}

  void add(std::int64_t minute, const Values& v) {
    advance(minute);
    // Older than the window (a late, pending message): outside, not counted.
    if (minute <= newest_ - minutes_) return;
    // The buckets are in minute order; the current minute is almost always the last one.
    auto it = buckets_.end();
    while (it != buckets_.begin() + static_cast<std::ptrdiff_t>(head_) && (it - 1)->first > minute)
      --it;
    if (it != buckets_.begin() + static_cast<std::ptrdiff_t>(head_) && (it - 1)->first == minute) {
      for (std::size_t i = 0; i < N; ++i) (it - 1)->second[i] += v[i];
    } else {
      buckets_.insert(it, {minute, v});
    }
    for (std::size_t i = 0; i < N; ++i) sum_[i] += v[i];
  }

  // Drops the minutes that fell out of the window ending at `minute`.
  void advance(std::int64_t minute) {
    newest_ = std::max(newest_, minute);
    while (head_ < buckets_.size() && buckets_[head_].first <= newest_ - minutes_) {
      for (std::size_t i = 0; i < N; ++i) sum_[i] -= buckets_[head_].second[i];
      ++head_;
    }
    erase_dropped(buckets_, head_);
  }

  std::uint64_t sum(std::size_t i) const { return sum_[i]; }
  bool empty() const { return head_ == buckets_.size(); }

 private:
  std::int64_t minutes_;
  std::int64_t newest_ = INT64_MIN / 2;
  // A vector rather than a deque: an empty one allocates nothing (accounts have five windows).
  std::vector<std::pair<std::int64_t, Values>> buckets_;  // live from head_
  std::size_t head_ = 0;
  std::array<std::uint64_t, N> sum_{};
};

// A count per key, for the few keys that most holders have (an address that fails on one or
// two accounts): a vector searched in place, no allocation per key; past kSmall keys (a spray
// across hundreds of accounts) a hash map.
class KeyCounts {
 public:
  void increment(std::uint32_t key) {
    if (big_) {
      ++(*big_)[key];
      return;
    }
    for (auto& kv : small_) {
      if (kv.first == key) {
        ++kv.second;
        return;
      }
    }
    if (small_.size() < kSmall) {
      small_.emplace_back(key, 1u);
      return;
    }
    big_ = std::make_unique<std::unordered_map<std::uint32_t, std::uint32_t>>(small_.begin(),
                                                                              small_.end());
    small_.clear();
    small_.shrink_to_fit();
    ++(*big_)[key];
  }
  void decrement(std::uint32_t key) {
    if (big_) {
      auto it = big_->find(key);
      if (it != big_->end() && --it->second == 0) big_->erase(it);
      return;
    }
    for (std::size_t i = 0; i < small_.size(); ++i) {
      if (small_[i].first != key) continue;
      if (--small_[i].second == 0) {
        small_[i] = small_.back();
        small_.pop_back();
      }
      return;
    }
  }
  std::size_t size() const { return big_ ? big_->size() : small_.size(); }
  // f(key, count) for every key, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    if (big_) {
      for (const auto& [k, n] : *big_) f(k, n);
    } else {
      for (const auto& [k, n] : small_) f(k, n);
    }
  }

 private:
  static constexpr std::size_t kSmall = 16;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> small_;
  std::unique_ptr<std::unordered_map<std::uint32_t, std::uint32_t>> big_;
};

// Distinct keys seen within a sliding window (of seconds), with a count per key.
class DistinctWindow {
 public:
  explicit DistinctWindow(std::int64_t window_seconds) : window_(window_seconds) {}
  void add(std::int64_t t, std::uint32_t key) {
    advance(t);
    entries_.emplace_back(t, key);
    counts_.increment(key);
    if (entries_.size() - head_ > kCap) pop();
  }
  void advance(std::int64_t t) {
    while (head_ < entries_.size() && entries_[head_].first <= t - window_) pop();
    erase_dropped(entries_, head_);
  }
  std::size_t distinct() const { return counts_.size(); }
  const KeyCounts& counts() const { return counts_; }
  bool empty() const { return head_ == entries_.size(); }

 private:
  // A flood from one address keeps at most this many entries (the threshold is far lower).
  static constexpr std::size_t kCap = 20000;
  void pop() { counts_.decrement(entries_[head_++].second); }
  std::int64_t window_;
  // A vector rather than a deque: a deque allocates more than half a KiB as it is made, and
  // there are two windows per address that ever failed (hundreds of thousands in an attack).
  std::vector<std::pair<std::int64_t, std::uint32_t>> entries_;  // live from head_
  std::size_t head_ = 0;
  KeyCounts counts_;
};

// The last few positions (and times) of something, to prove a finding when it opens. It grows
// to kSize lines and then overwrites the oldest: most holders (an account with one typo, a
// sender with one message) keep one or two lines, not room for twenty.
class Recent {
 public:
  static constexpr std::size_t kSize = kMaxEvidence;
  void add(Position p, Timestamp t) {
    const Line l{p.line, t.seconds, p.input, t.nanos};
    if (lines_.size() < kSize) {
      lines_.push_back(l);
      return;
    }
    lines_[next_] = l;
    next_ = static_cast<std::uint8_t>((next_ + 1) % kSize);
  }
  // Oldest first.
  template <class F>
  void each(F&& f) const {
    const std::size_t n = lines_.size();
    for (std::size_t i = 0; i < n; ++i) {
      const Line& l = lines_[(next_ + i) % n];
      f(Position{l.input, l.line}, Timestamp{l.seconds, l.nanos});
    }
  }

 private:
  struct Line {  // a Position and a Timestamp in 24 bytes instead of 32
    std::uint64_t line;
    std::int64_t seconds;
    std::uint32_t input;
    std::uint32_t nanos;
  };
  static_assert(kSize < 256);
  std::vector<Line> lines_;
  std::uint8_t next_ = 0;  // once full: the oldest line
};

// Interned strings: accounts and addresses become small ids (dense: 0, 1, 2, ...), so that
// per-account and per-address state lives in vectors indexed by id.
class Interner {
 public:
  std::uint32_t id(std::string_view s) {
    const auto [index, inserted] = ids_.try_emplace_index(s);
    if (inserted) names_.emplace_back(s);
    return static_cast<std::uint32_t>(index);  // nothing is ever erased: positions are ids
  }
  std::optional<std::uint32_t> find(std::string_view s) const {
    const auto index = ids_.find_index(s);
    if (index == decltype(ids_)::npos) return std::nullopt;
    return static_cast<std::uint32_t>(index);
  }
  // A deque: the names' references stay valid while new names are interned.
  const std::string& name(std::uint32_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

 private:
  struct None {};
  FlatStringMap<None, true> ids_;  // the keys in the index: a lookup reads one cache line
  std::deque<std::string> names_;
};

// State per interned id (accounts, addresses), created on first use, erasable (watch mode's
// expiry): a vector indexed by id instead of a hash map, since ids are dense.
template <class T>
class IdTable {
 public:
  // The state of `id`, made by make() when there is none.
  template <class Make>
  T& get(std::uint32_t id, Make&& make) {
    if (id >= items_.size()) items_.resize(std::size_t{id} + 1);
    auto& p = items_[id];
    if (!p) {
      p = std::make_unique<T>(make());
      ++size_;
    }
    return *p;
  }
  // f(id, state) for every state, by id.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < items_.size(); ++i)
      if (items_[i]) f(static_cast<std::uint32_t>(i), *items_[i]);
  }
  template <class Pred>
  void erase_if(Pred&& pred) {
    for (auto& p : items_) {
      if (p && pred(*p)) {
        p.reset();
        --size_;
      }
    }
  }
  std::size_t size() const { return size_; }

 private:
  std::vector<std::unique_ptr<T>> items_;
  std::size_t size_ = 0;
};

struct Located {
  bool valid = false;
  Timestamp time;
  std::uint32_t ip = 0;
  GeoLocation where;
};

struct AccountState {
  // What every message, delivery and login of the account touches comes first, so that it
  // shares a few cache lines (millions of events, thousands of accounts: memory-bound).
  bool seen = false;
  Timestamp first_seen, last_seen;
  std::uint64_t logins = 0, failures = 0;
  std::uint64_t messages = 0, recipients = 0, bounced = 0, deferred = 0;
  std::uint64_t messages_before_hour = 0;  // for the baseline
  std::int64_t current_hour = INT64_MIN;
  std::uint32_t current_hour_messages = 0;
  std::vector<HourCount> timeline;
  MinuteWindow<2> outbound{3600};              // messages, recipients
  MinuteWindow<2> bounces{3600};               // messages' recipients tried, failed
  std::uint64_t external_domains = 0;          // set by finish() (Impl::account_domains)
  FlatStringMap<Timestamp, true> success_ips;  // IntKey(ip) -> first success
  std::array<std::uint64_t, 10> logins_by_protocol{}, failures_by_protocol{};
  Recent message_lines;
  MinuteWindow<2> brute{600};       // [0] unknown-address failures, [1] known-address ones
  MinuteWindow<1> lookback{86400};  // unknown-address failures for compromised_login
  // The addresses of the unknown-address failures: sorted, capped.
  std::vector<std::uint32_t> brute_ips;
  Recent failure_lines;
  Located last_located;
};

struct IpState {
  DistinctWindow spray;   // accounts failing from this address (password_spray window)
  DistinctWindow botnet;  // the same over the botnet window
  Recent failure_lines;
  bool in_botnet = false;
  std::uint64_t failures = 0;
  Timestamp last_seen;
  IpState(std::int64_t w, std::int64_t bw) : spray(w), botnet(bw) {}
};

enum class OwnerKind : std::uint8_t { unknown, pending, account, relay, inbound, system };

struct Delivery {
  Timestamp time;
  DeliveryStatus status;
  std::string domain;
  Position where;
};

// What few messages need: apart from Message, so that the table of messages stays small (one
// entry per message of the log, in the cache as long as possible).
struct MessageExtra {
  std::string sender_text;
  std::vector<Delivery> pending;           // deliveries before the owner is known
  std::vector<std::uint32_t> deferred_to;  // hashes of recipients deferred once already
};

struct Message {
  OwnerKind owner = OwnerKind::unknown;
  std::uint32_t owner_id = 0;  // account id (account) or client ip id (relay)
  std::uint32_t client_ip = 0;
  bool has_client = false;
  bool mynetworks = false, mailbox_server = false, loopback = false;
  bool child = false;    // re-injected copy of a parent message
  bool counted = false;  // counted as a message of its owner
  bool in_queue = false;
  bool sender_known = false;
  bool sender_exempt = false;  // an [exceptions] sender
  // The sender as a hash (the queue's per-sender counts); its text only where it may be needed
  // later (mail from trusted clients: webmail or relay), so that millions of inbound senders
  // cost no memory.
  std::uint64_t sender = 0;
  std::uint32_t nrcpt = 0;
  Timestamp time;
  Position where;
  std::unique_ptr<MessageExtra> extra;  // the sender's text, pending deliveries, deferrals

  MessageExtra& more() {
    if (!extra) extra = std::make_unique<MessageExtra>();
    return *extra;
  }
  const std::string& sender_text() const {
    static const std::string kNone;
    return extra ? extra->sender_text : kNone;
  }
};

struct RelayState {
  MinuteWindow<4> window{3600};  // messages, foreign-sender messages, tried, failed
  DistinctWindow senders{3600};
  Recent lines;
  std::uint64_t messages = 0;
};

struct SenderQueue {
  std::uint32_t in_queue = 0;
  std::string name;  // set once it holds a fair part of a flood (a finding's key)
  Recent lines;
};

// The lines of one Zimbra login key (see Impl::duplicate_zimbra_login).
struct ZimbraSeen {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> classes;  // class -> lines
  std::uint32_t logins = 0;
};

// An integer as the key of a FlatStringMap: its 8 bytes.
struct IntKey {
  char bytes[8];
  explicit IntKey(std::uint64_t v) { std::memcpy(bytes, &v, sizeof bytes); }
  std::string_view view() const { return {bytes, sizeof bytes}; }
  static std::uint64_t value_of(std::string_view key) {
    std::uint64_t v = 0;
    std::memcpy(&v, key.data(), std::min(key.size(), sizeof v));
    return v;
  }
};

// Sorts `v` and drops its duplicates: an LSD radix sort over the bits in use (11 bits a pass;
// ids are dense, so account and domain ids take few bits), several times faster than
// std::sort on the hundreds of thousands of (account, domain) pairs of a large log.
void sort_unique(std::vector<std::uint64_t>& v) {
  if (v.size() < 2) return;
  std::uint64_t all = 0;
  for (auto x : v) all |= x;
  constexpr unsigned kBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::vector<std::uint64_t> tmp(v.size());
  std::vector<std::size_t> count(kBuckets);
  for (unsigned shift = 0; shift < 64 && (all >> shift) != 0; shift += kBits) {
    if (((all >> shift) & (kBuckets - 1)) == 0) continue;  // no key has a bit here
    std::fill(count.begin(), count.end(), 0);
    for (auto x : v) ++count[(x >> shift) & (kBuckets - 1)];
    std::size_t sum = 0;
    for (auto& c : count) sum += std::exchange(c, sum);
    for (auto x : v) tmp[count[(x >> shift) & (kBuckets - 1)]++] = x;
    v.swap(tmp);
  }
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::uint32_t hash32(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

struct Analyzer::Impl {
  const DetectorCatalog& cat;
  AnalyzerOptions opt;
  Interner accounts, ips;
  IdTable<AccountState> account_state;  // by account id
  IdTable<IpState> ip_state;            // by address id
  std::unordered_map<std::uint32_t, RelayState> relay_state;
  // By sender hash, while queued: one entry per message's sender, made and erased as mail
  // comes and goes, so a flat table (no node allocation) rather than a hash map.
  FlatStringMap<SenderQueue> sender_queue;
  // By queue id. Every message of the log passes through it (often three lookups each): a flat
  // table with the id inline costs no allocation per message.
  FlatStringMap<Message> messages;
  std::deque<std::pair<Timestamp, std::string>> pending_order;  // pending qids by time
  std::uint64_t queue_total = 0;
  FlatStringSet local_domains;
  // Report mode: the distinct external recipient domains of each account, as (account id,
  // domain id) pairs appended per delivery and made distinct in bulk (sort_unique): a set per
  // account made every delivery a cache miss (hundreds of thousands of pairs, tens of MB of
  // sets), an append costs none. Watch mode reports no per-account figures: it keeps none.
  Interner recipient_domains;
  std::vector<std::uint64_t> account_domains;
  std::size_t account_domains_compact_at = std::size_t{1} << 22;
  std::unordered_map<std::uint32_t, std::optional<GeoLocation>> geo_cache;
  // Zimbra logins already counted (audit.log and mailbox.log write the same login).
  std::deque<std::pair<std::int64_t, std::string>> zimbra_recent;
  std::unordered_map<std::string, ZimbraSeen> zimbra_recent_set;
  std::unordered_set<std::uint32_t> botnet_ips;
  std::int64_t botnet_checked_minute = INT64_MIN;
  std::map<std::pair<Detector, std::string>, Finding> findings;
  std::vector<std::pair<Detector, std::string>> alerts;
  std::unordered_set<std::uint64_t> finding_hashes;
  StringSet exception_senders, exception_accounts;
  Timestamp now;
  bool has_time = false;
  Timestamp first, last;
  std::uint64_t total_messages = 0, total_logins = 0, total_failures = 0;
  bool saw_zimbra = false;

  Impl(const DetectorCatalog& c, AnalyzerOptions o) : cat(c), opt(std::move(o)) {
    for (const auto& d : opt.local_domains) local_domains.insert(lower(d));
    for (const auto& s : cat.exceptions.senders) exception_senders.insert(s);
    for (const auto& s : cat.exceptions.accounts) exception_accounts.insert(s);
    if (opt.mynetworks.empty()) {
      for (const char* p : {"127.0.0.0/8", "::1/128"})
        if (auto pr = parse_prefix(p)) opt.mynetworks.push_back(*pr);
    }
    if (opt.mailbox_servers.empty()) {
      for (const char* p : {"127.0.0.0/8", "::1/128"})
        if (auto pr = parse_prefix(p)) opt.mailbox_servers.push_back(*pr);
    }
  }

  AccountState& account(std::uint32_t id) {
    return account_state.get(id, [&] {
      AccountState a;
      a.brute = MinuteWindow<2>(cat.brute_force.window);
      a.lookback = MinuteWindow<1>(cat.compromised_login.lookback);
      a.outbound = MinuteWindow<2>(cat.outbound_burst.window);
      a.bounces = MinuteWindow<2>(cat.bounce_ratio.window);
      return a;
    });
  }

  IpState& ip(std::uint32_t id) {
    return ip_state.get(
        id, [&] { return IpState(cat.password_spray.window, cat.password_spray.botnet_window); });
  }

  static bool in(const std::vector<Prefix>& set, std::string_view ip_text) {
    if (set.empty() || ip_text.empty()) return false;
    const auto addr = parse_address(ip_text);
    if (!addr) return false;
    return std::any_of(set.begin(), set.end(), [&](const Prefix& p) {
      return p.addr.family == addr->family && addr->value >= p.first() && addr->value <= p.last();
    });
  }

  // Whether an interned address is in mynetworks / a mailbox server, decided once per address.
  static constexpr std::uint8_t kKnown = 1, kMynetworks = 2, kMailboxServer = 4;
  std::vector<std::uint8_t> ip_trust;
  std::uint8_t trust_of(std::uint32_t ip_id) {
    if (ip_trust.size() <= ip_id) ip_trust.resize(ip_id + 1, 0);
    std::uint8_t& t = ip_trust[ip_id];
    if ((t & kKnown) == 0) {
      const std::string& text = ips.name(ip_id);
      t = kKnown | (in(opt.mynetworks, text) ? kMynetworks : 0) |
          (in(opt.mailbox_servers, text) ? kMailboxServer : 0);
    }
    return t;
  }

  bool is_local_domain(std::string_view domain) const {
    thread_local std::string buf;
    return !domain.empty() && local_domains.contains(lower_into(domain, buf));
  }

  const std::optional<GeoLocation>& geo(std::uint32_t ip_id) {
    static const std::optional<GeoLocation> kNowhere;
    if (opt.geoip == nullptr) return kNowhere;  // no database: no lookup to cache
    auto it = geo_cache.find(ip_id);
    if (it != geo_cache.end()) return it->second;
    std::optional<GeoLocation> loc;
    if (opt.geoip != nullptr) loc = opt.geoip->lookup(ips.name(ip_id));
    return geo_cache.emplace(ip_id, std::move(loc)).first->second;
  }

  void touch(AccountState& a, const Timestamp& t) {
    if (!a.seen) {
      a.seen = true;
      a.first_seen = t;
    }
    if (t > a.last_seen) a.last_seen = t;
  }

  HourCount scratch_hour;
  HourCount& hour(AccountState& a, const Timestamp& t) {
    // Watch mode reports no timelines: counts go to a scratch hour.
    if (opt.watch) {
      scratch_hour = HourCount{};
      return scratch_hour;
    }
    const auto h = hour_of(t);
    if (!a.timeline.empty() && a.timeline.back().hour == h) return a.timeline.back();
    auto it = std::lower_bound(a.timeline.begin(), a.timeline.end(), h,
                               [](const HourCount& c, std::int64_t v) { return c.hour < v; });
    if (it != a.timeline.end() && it->hour == h) return *it;
    HourCount c;
    c.hour = h;
    return *a.timeline.insert(it, c);
  }

  // --- findings ---------------------------------------------------------------------------

  Finding& open(Detector d, const std::string& key, const Timestamp& t, bool* created) {
    auto [it, inserted] = findings.try_emplace({d, key});
    Finding& f = it->second;
    if (inserted) {
      f.detector = d;
      f.severity = cat.severity_of(d);
      f.key = key;
      f.first_seen = t;
      f.last_seen = t;
      alerts.emplace_back(d, key);
      finding_hashes.insert(finding_hash(d, key));
    }
    if (created != nullptr) *created = inserted;
    if (t > f.last_seen) f.last_seen = t;
    if (t < f.first_seen) f.first_seen = t;
    return f;
  }

  static void evidence(Finding& f, Position p) {
    if (f.evidence.size() < kMaxEvidence) {
      if (std::find(f.evidence.begin(), f.evidence.end(), p) == f.evidence.end())
        f.evidence.push_back(p);
    } else if (!(f.evidence.back() == p)) {
      if (f.evidence.size() == kMaxEvidence)
        f.evidence.push_back(p);
      else
        f.evidence.back() = p;
    }
  }
  static void evidence(Finding& f, const Recent& r) {
    r.each([&](Position p, Timestamp t) {
      evidence(f, p);
      if (t < f.first_seen && t.seconds > 0) f.first_seen = t;
    });
  }
  void source(Finding& f, std::uint32_t ip_id) {
    const std::string& s = ips.name(ip_id);
    if (std::find(f.source_ips.begin(), f.source_ips.end(), s) != f.source_ips.end()) return;
    ++f.source_ip_count;
    if (f.source_ips.size() < kMaxListed) f.source_ips.push_back(s);
    if (opt.watch) {
      // A finding already reported that gains a source is reported again, with the newcomers.
      if (f.new_source_ips.size() < kMaxNewSources) f.new_source_ips.push_back(s);
      if (f.alerted) {
        f.alerted = false;
        alerts.emplace_back(f.detector, f.key);
      }
    }
  }
  static void listed_account(Finding& f, const std::string& a) {
    if (std::find(f.accounts.begin(), f.accounts.end(), a) != f.accounts.end()) return;
    ++f.account_count;
    if (f.accounts.size() < kMaxListed) f.accounts.push_back(a);
  }
  static void raise(Finding& f, const char* name, std::uint64_t v) {
    auto& c = f.counts[name];
    c = std::max(c, v);
  }
  // Most events concern keys without a finding: a hash set answers those without building
  // the map's key.
  static std::uint64_t finding_hash(Detector d, std::string_view key) {
    return flat_hash(key) * kDetectors + static_cast<std::uint64_t>(d);
  }
  Finding* existing(Detector d, const std::string& key) {
    if (finding_hashes.count(finding_hash(d, key)) == 0) return nullptr;
    auto it = findings.find({d, key});
    return it == findings.end() ? nullptr : &it->second;
  }

  // --- logins -----------------------------------------------------------------------------

  // Where a failure is seen twice: Dovecot's auth process (the "backend", with
  // auth_verbose) logs the attempt that Postfix's SASL warning or Dovecot's login process (the
  // "frontend", which knows the protocol) logs again, about two seconds later (Dovecot's
  // auth_failure_delay). One attempt, one failure.
  enum class Echo : std::uint8_t { none, backend, frontend };
  struct EchoEntry {
    std::int64_t time;
    std::string account;
    Echo side;
    std::uint32_t ip;
  };
  static constexpr std::int64_t kEchoSeconds = 5;
  std::deque<EchoEntry> echoes;
  // How many of `echoes` each address has: most failures have no echo waiting (a frontend
  // that logs alone, an attack's new addresses), and need no walk through the others.
  FlatStringMap<std::uint32_t> echoes_per_ip;
  void count_echo(std::uint32_t ip_id, int delta) {
    const IntKey key(ip_id);
    std::uint32_t& n = echoes_per_ip[key.view()];
    n += static_cast<std::uint32_t>(delta);
    if (n == 0) echoes_per_ip.erase(key.view());
  }

  static Echo echo_side(const Event& e) {
    if (e.program_kind == Program::postfix) return Echo::frontend;
    if (e.program_kind != Program::dovecot) return Echo::none;
    return e.facts.protocol == Protocol::unknown ? Echo::backend : Echo::frontend;
  }

  void on_login(const Event& e, Position where) {
    const Facts& f = e.facts;
    const bool success = f.kind == EventKind::auth && f.outcome == Outcome::success;
    const bool failure = (f.kind == EventKind::auth && f.outcome == Outcome::failure) ||
                         f.kind == EventKind::invalid_user;
    if (!success && !failure) return;
    if (e.program_kind == Program::zimbra_audit || e.program_kind == Program::zimbra_mailbox) {
      saw_zimbra = true;
      if (duplicate_zimbra_login(e, where)) return;
    }
    login_name.assign(lower_into(f.account, scratch));
    const std::string& name = login_name;
    const bool has_ip = !f.client_ip.empty();
    const std::uint32_t ip_id = has_ip ? ips.id(f.client_ip) : 0;
    if (e.program_kind == Program::sshd && sshd_announced(e, name)) return;
    if (success) {
      login_success(name, has_ip, ip_id, f.protocol, e.time, where);
      return;
    }
    const Echo side = echo_side(e);
    if (side != Echo::none && has_ip) {
      while (!echoes.empty() && echoes.front().time < e.time.seconds - kEchoSeconds) {
        count_echo(echoes.front().ip, -1);
        echoes.pop_front();
      }
      const bool waiting = echoes_per_ip.contains(IntKey(ip_id).view());
      for (auto it = waiting ? echoes.begin() : echoes.end(); it != echoes.end(); ++it) {
        if (it->side == side || it->ip != ip_id) continue;
        if (it->time < e.time.seconds - kEchoSeconds || it->time > e.time.seconds + kEchoSeconds)
          continue;
        if (!(it->account == name || it->account.empty() || name.empty())) continue;
        const std::string counted = it->account;
        echoes.erase(it);
        count_echo(ip_id, -1);
        if (side == Echo::frontend && !name.empty()) {
          // The backend line was counted without the protocol: move its count.
          if (auto id = accounts.find(name)) {
            AccountState& a = account(*id);
            if (a.failures_by_protocol[0] > 0) {
              --a.failures_by_protocol[0];
              ++a.failures_by_protocol[static_cast<std::size_t>(f.protocol)];
            }
          }
        } else if (counted.empty() && !name.empty()) {
          // The frontend (Postfix before 3.7.8) did not name the account; the backend does.
          account_failure(name, has_ip, ip_id, Protocol::submission, e.time, where);
        }
        return;
      }
      if (echoes.size() < 100000) {
        echoes.push_back(EchoEntry{e.time.seconds, name, side, ip_id});
        count_echo(ip_id, +1);
      }
    }
    ++total_failures;
    if (has_ip) {
      IpState& st = ip(ip_id);
      ++st.failures;
      st.last_seen = e.time;
      st.failure_lines.add(where, e.time);
    }
    if (!name.empty()) account_failure(name, has_ip, ip_id, f.protocol, e.time, where);
  }

  void login_success(const std::string& name, bool has_ip, std::uint32_t ip_id, Protocol protocol,
                     const Timestamp& t, Position where) {
    ++total_logins;
    if (name.empty()) return;
    account_login(accounts.id(name), has_ip, ip_id, protocol, t, where);
  }

  void account_login(std::uint32_t acc_id, bool has_ip, std::uint32_t ip_id, Protocol protocol,
                     const Timestamp& t, Position where) {
    const std::string& name = accounts.name(acc_id);
    AccountState& a = account(acc_id);
    touch(a, t);
    ++a.logins;
    ++a.logins_by_protocol[static_cast<std::size_t>(protocol)];
    ++hour(a, t).logins;
    if (!has_ip) return;
    const bool new_ip = !a.success_ips.contains(IntKey(ip_id).view());
    if (new_ip) check_compromised_login(name, a, ip_id, t, where);
    if (new_ip && (opt.watch ? a.success_ips.size() < 1024 : true))
      *a.success_ips.try_emplace(IntKey(ip_id).view()).first = t;
    check_travel(name, a, ip_id, t, where);
  }

  void account_failure(const std::string& name, bool has_ip, std::uint32_t ip_id, Protocol protocol,
                       const Timestamp& t, Position where) {
    const auto acc_id = accounts.id(name);
    AccountState& a = account(acc_id);
    touch(a, t);
    ++a.failures;
    ++a.failures_by_protocol[static_cast<std::size_t>(protocol)];
    ++hour(a, t).failures;
    a.failure_lines.add(where, t);
    const bool known = has_ip && a.success_ips.contains(IntKey(ip_id).view());
    const auto minute = minute_of(t);
    a.brute.add(minute, {known ? 0u : 1u, known ? 1u : 0u});
    if (!known) {
      a.lookback.add(minute, {1});
      if (has_ip && a.brute_ips.size() < 4096) {
        const auto it = std::lower_bound(a.brute_ips.begin(), a.brute_ips.end(), ip_id);
        if (it == a.brute_ips.end() || *it != ip_id) a.brute_ips.insert(it, ip_id);
      }
    }
    check_brute_force(name, a, has_ip ? std::optional<std::uint32_t>(ip_id) : std::nullopt, t,
                      where);
    if (has_ip && !known) check_spray(ip_id, acc_id, t, where);
  }

  // sshd announces a connection for an unknown user ("Invalid user U from IP") and then logs
  // its first attempt ("Failed password for invalid user U ..."): one attempt, two lines. The
  // announcement counts (a probe that never tries a password is still one), the attempt that
  // follows it in the same process does not; later attempts do.
  std::unordered_map<std::string, std::string> sshd_invalid;  // pid -> user announced

  bool sshd_announced(const Event& e, const std::string& name) {
    const std::string pid(e.pid);
    if (e.facts.kind == EventKind::invalid_user) {
      if (sshd_invalid.size() > 65536) sshd_invalid.clear();
      sshd_invalid[pid] = name;
      return false;
    }
    auto it = sshd_invalid.find(pid);
    if (it == sshd_invalid.end()) return false;
    const bool same = it->second == name && e.facts.outcome == Outcome::failure;
    sshd_invalid.erase(it);
    return same;
  }

  // SMTP AUTH successes are logged only as smtpd's "QID: client=..., sasl_username=U", once per
  // message: the first message of a session (the same smtpd process, account and client in a
  // row) is the login.
  // By the process's hash: the flat table keyed by the hash's 8 bytes (no division by a prime
  // bucket count, no node per process). A session is over once its process has been quiet for
  // longer than any SMTP session can be (smtpd_timeout, 300 s by default, between commands):
  // the next message of that process, even from the same account and client, comes from a new
  // connection, a new login. Quiet processes are forgotten, so the table holds the processes
  // of the last minutes, not of the whole log: it stays in the cache.
  struct SmtpdSession {
    std::uint32_t account = 0, ip = 0;
    std::int64_t last = 0;
  };
  static constexpr std::int64_t kSessionQuietSeconds = 900;
  FlatStringMap<SmtpdSession> smtpd_sessions;
  std::size_t smtpd_sessions_prune_at = 4096;
  std::string scratch;     // lower_into's buffer for the current event
  std::string login_name;  // on_login's account in lower case (reused: no allocation a login)
  std::string zimbra_key;  // duplicate_zimbra_login's key (reused)

  void sasl_login(const Event& e, std::uint32_t acc_id, std::uint32_t ip_id, Position where) {
    // The process: its syslog tag and pid (a hash: sessions are a heuristic, not evidence).
    const std::uint64_t key =
        std::hash<std::string_view>{}(e.program) * 31 + std::hash<std::string_view>{}(e.pid);
    const std::int64_t t = e.time.seconds;
    auto [session, inserted] = smtpd_sessions.try_emplace(IntKey(key).view());
    const bool same = !inserted && session->account == acc_id && session->ip == ip_id &&
                      t - session->last <= kSessionQuietSeconds;
    *session = SmtpdSession{acc_id, ip_id, std::max(t, session->last)};
    if (same) return;
    if (smtpd_sessions.size() > smtpd_sessions_prune_at) {
      smtpd_sessions.erase_if([&](std::string_view, const SmtpdSession& s) {
        return s.last < t - kSessionQuietSeconds;
      });
      smtpd_sessions_prune_at = std::max<std::size_t>(4096, smtpd_sessions.size() * 2);
    }
    ++total_logins;
    account_login(acc_id, true, ip_id,
                  e.facts.protocol == Protocol::unknown ? Protocol::submission : e.facts.protocol,
                  e.time, where);
  }

  // Zimbra writes one login more than once: the security line in audit.log and again in
  // mailbox.log, and an IMAP login also as mailbox.log's "user X authenticated". Each login
  // gives at most one line per (input, kind of line), so the logins behind the lines of one
  // (second, account, client, outcome) are as many as the largest count of one such class: a
  // client opening three connections in one second is still three logins.
  bool duplicate_zimbra_login(const Event& e, Position where) {
    const std::int64_t sec = e.time.seconds;
    while (!zimbra_recent.empty() && zimbra_recent.front().first < sec - 2) {
      zimbra_recent_set.erase(zimbra_recent.front().second);
      zimbra_recent.pop_front();
    }
    // The key in a reused buffer: most lines repeat a key already held (no allocation then).
    zimbra_key.clear();
    fmt::format_to(std::back_inserter(zimbra_key), "{}|{}|{}|{}", sec,
                   lower_into(e.facts.account, scratch), e.facts.client_ip,
                   static_cast<int>(e.facts.outcome));
    const std::uint32_t cls = where.input * 2 + (e.program_kind == Program::zimbra_audit ? 1u : 0u);
    auto it = zimbra_recent_set.find(zimbra_key);
    if (it == zimbra_recent_set.end()) {
      it = zimbra_recent_set.try_emplace(zimbra_key).first;
      zimbra_recent.emplace_back(sec, zimbra_key);
    }
    ZimbraSeen& seen = it->second;
    auto c = std::find_if(seen.classes.begin(), seen.classes.end(),
                          [&](const auto& x) { return x.first == cls; });
    if (c == seen.classes.end()) {
      seen.classes.emplace_back(cls, 0u);
      c = seen.classes.end() - 1;
    }
    if (++c->second <= seen.logins) return true;
    ++seen.logins;
    return false;
  }

  void check_brute_force(const std::string& name, AccountState& a,
                         std::optional<std::uint32_t> ip_id, const Timestamp& t, Position where) {
    a.brute.advance(minute_of(t));
    Finding* f = existing(Detector::brute_force, name);
    const bool over = a.brute.sum(0) >= cat.brute_force.failures ||
                      a.brute.sum(1) >= cat.brute_force.known_address_failures;
    if (f == nullptr && !over) return;
    bool created = false;
    Finding& g = open(Detector::brute_force, name, t, &created);
    g.account = name;
    if (created) {
      evidence(g, a.failure_lines);
      for (auto id : a.brute_ips) source(g, id);
    } else {
      evidence(g, where);
    }
    if (ip_id && !a.success_ips.contains(IntKey(*ip_id).view())) source(g, *ip_id);
    ++g.counts["failures"];
    if (created) g.counts["failures"] = std::max<std::uint64_t>(a.brute.sum(0) + a.brute.sum(1), 1);
    raise(g, "failures_in_window", a.brute.sum(0) + a.brute.sum(1));
    g.summary = fmt::format("{} failed logins on {} from {} address(es)", g.counts["failures"],
                            name, g.source_ip_count);
  }

  void check_spray(std::uint32_t ip_id, std::uint32_t acc_id, const Timestamp& t, Position where) {
    IpState& s = ip(ip_id);
    s.spray.add(t.seconds, acc_id);
    s.botnet.add(t.seconds, acc_id);
    const std::string& ip_text = ips.name(ip_id);
    const std::string& acc = accounts.name(acc_id);
    if (Finding* f = existing(Detector::password_spray, ip_text)) {
      open(Detector::password_spray, ip_text, t, nullptr);
      evidence(*f, where);
      ++f->counts["failures"];
      listed_account(*f, acc);
      raise(*f, "accounts_in_window", s.spray.distinct());
      f->summary = fmt::format("{} failed logins from {} across {} accounts", f->counts["failures"],
                               ip_text, f->account_count);
      return;
    }
    if (s.spray.distinct() >= cat.password_spray.accounts) {
      bool created = false;
      Finding& g = open(Detector::password_spray, ip_text, t, &created);
      source(g, ip_id);
      evidence(g, s.failure_lines);
      // The accounts listed (at most kMaxListed) are the first by name: not whichever a hash
      // map happens to hold first.
      std::vector<std::string> names;
      std::uint64_t failures = 0;
      s.spray.counts().for_each([&](std::uint32_t id, std::uint32_t n) {
        names.push_back(accounts.name(id));
        failures += n;
      });
      std::sort(names.begin(), names.end());
      for (const auto& n : names) listed_account(g, n);
      g.counts["failures"] = failures;
      raise(g, "accounts_in_window", s.spray.distinct());
      g.summary = fmt::format("{} failed logins from {} across {} accounts", g.counts["failures"],
                              ip_text, g.account_count);
      return;
    }
    // A botnet: many addresses each failing on several accounts.
    const bool multi = s.botnet.distinct() >= 2;
    if (multi && !s.in_botnet) {
      s.in_botnet = true;
      botnet_ips.insert(ip_id);
    }
    // A botnet finding grows while its wave goes on; a failure long after it must qualify again.
    if (Finding* f = existing(Detector::password_spray, "botnet");
        f != nullptr && s.in_botnet &&
        t.seconds - f->last_seen.seconds <= cat.password_spray.botnet_window) {
      open(Detector::password_spray, "botnet", t, nullptr);
      source(*f, ip_id);
      listed_account(*f, acc);
      evidence(*f, where);
      ++f->counts["failures"];
      f->summary = fmt::format("{} failed logins from {} addresses across {} accounts",
                               f->counts["failures"], f->source_ip_count, f->account_count);
      return;
    }
    const auto minute = minute_of(t);
    if (botnet_ips.size() < cat.password_spray.botnet_addresses || minute == botnet_checked_minute)
      return;
    botnet_checked_minute = minute;
    // Forget addresses whose failures left the window or that have their own spray finding.
    std::set<std::uint32_t> hit;
    std::vector<std::uint32_t> members;
    for (auto it = botnet_ips.begin(); it != botnet_ips.end();) {
      IpState& m = ip(*it);
      m.botnet.advance(t.seconds);
      if (m.botnet.distinct() < 2 || existing(Detector::password_spray, ips.name(*it))) {
        m.in_botnet = false;
        it = botnet_ips.erase(it);
        continue;
      }
      members.push_back(*it);
      m.botnet.counts().for_each([&](std::uint32_t id, std::uint32_t) { hit.insert(id); });
      ++it;
    }
    if (members.size() < cat.password_spray.botnet_addresses ||
        hit.size() < cat.password_spray.botnet_accounts)
      return;
    Finding& g = open(Detector::password_spray, "botnet", t, nullptr);
    std::sort(members.begin(), members.end(),
              [&](auto x, auto y) { return ips.name(x) < ips.name(y); });
    std::uint64_t failures = 0;
    for (auto id : members) {
      source(g, id);
      IpState& m = ip(id);
      evidence(g, m.failure_lines);
      m.botnet.counts().for_each([&](std::uint32_t, std::uint32_t n) { failures += n; });
    }
    std::vector<std::string> names;
    for (auto id : hit) names.push_back(accounts.name(id));
    std::sort(names.begin(), names.end());
    for (const auto& n : names) listed_account(g, n);
    g.counts["failures"] = failures;
    raise(g, "addresses_in_window", members.size());
    raise(g, "accounts_in_window", hit.size());
    g.summary = fmt::format("{} failed logins from {} addresses across {} accounts", failures,
                            g.source_ip_count, g.account_count);
  }

  bool in_spray(std::uint32_t ip_id, const Timestamp& t) {
    const std::string& ip_text = ips.name(ip_id);
    for (const std::string* key : {&ip_text, static_cast<const std::string*>(nullptr)}) {
      const Finding* f = key != nullptr ? existing(Detector::password_spray, *key) : nullptr;
      if (key == nullptr) {
        f = existing(Detector::password_spray, "botnet");
        if (f != nullptr &&
            std::find(f->source_ips.begin(), f->source_ips.end(), ip_text) == f->source_ips.end())
          f = nullptr;
      }
      if (f != nullptr && t.seconds - f->last_seen.seconds <= cat.compromised_login.lookback)
        return true;
    }
    return false;
  }

  void check_compromised_login(const std::string& name, AccountState& a, std::uint32_t ip_id,
                               const Timestamp& t, Position where) {
    a.lookback.advance(minute_of(t));
    const auto failures = a.lookback.sum(0);
    const bool sprayed = in_spray(ip_id, t);
    if (failures < cat.compromised_login.min_failures && !sprayed) return;
    bool created = false;
    Finding& g = open(Detector::compromised_login, name, t, &created);
    g.account = name;
    if (created) {
      evidence(g, a.failure_lines);
      g.first_seen = t;
    }
    evidence(g, where);
    source(g, ip_id);
    raise(g, "failures_before", failures);
    ++g.counts["successes"];
    g.summary = fmt::format("{} logged in from new address {} after {} failed logins{}", name,
                            ips.name(ip_id), failures, sprayed ? " (a password spray source)" : "");
  }

  void check_travel(const std::string& name, AccountState& a, std::uint32_t ip_id,
                    const Timestamp& t, Position where) {
    const auto& loc = geo(ip_id);
    if (!loc || loc->country.empty()) return;
    const Located prev = a.last_located;
    a.last_located = Located{true, t, ip_id, *loc};
    if (!prev.valid || prev.ip == ip_id) return;
    const double hours =
        std::max(1.0 / 60, static_cast<double>(t.seconds - prev.time.seconds) / 3600);
    bool impossible = false;
    std::uint64_t km = 0, kmh = 0;
    if (prev.where.has_coordinates && loc->has_coordinates) {
      const double d =
          distance_km(prev.where.latitude, prev.where.longitude, loc->latitude, loc->longitude);
      km = static_cast<std::uint64_t>(d);
      kmh = static_cast<std::uint64_t>(d / hours);
      impossible =
          d >= cat.impossible_travel.min_distance_km && d / hours > cat.impossible_travel.speed_kmh;
    } else {
      impossible = prev.where.country != loc->country &&
                   t.seconds - prev.time.seconds <= cat.impossible_travel.country_window;
    }
    if (!impossible) return;
    bool created = false;
    Finding& g = open(Detector::impossible_travel, name, t, &created);
    g.account = name;
    if (created) g.first_seen = prev.time;
    source(g, prev.ip);
    source(g, ip_id);
    for (const auto& c : {prev.where.country, loc->country})
      if (std::find(g.countries.begin(), g.countries.end(), c) == g.countries.end())
        g.countries.push_back(c);
    evidence(g, where);
    if (km > 0) {
      raise(g, "distance_km", km);
      raise(g, "speed_kmh", kmh);
    }
    raise(g, "minutes_between", static_cast<std::uint64_t>(t.seconds - prev.time.seconds) / 60);
    if (!created) return;  // the first pair tells the story; counts keep the worst
    g.summary = fmt::format("{} logged in from {} ({}) and {} ({}) {} minutes apart{}", name,
                            ips.name(prev.ip), prev.where.country, ips.name(ip_id), loc->country,
                            (t.seconds - prev.time.seconds) / 60,
                            km > 0 ? fmt::format(", {} km: {} km/h", km, kmh) : std::string());
  }

  // --- messages ---------------------------------------------------------------------------

  // The message of `qid`, new when unknown. The reference dies at the next erase.
  Message& message(std::string_view qid) { return *messages.try_emplace(qid).first; }

  void on_client(const Event& e, Position where) {
    const Facts& f = e.facts;
    if (f.queue_id.empty() || f.queue_id == "NOQUEUE") return;
    Message& m = message(f.queue_id);
    m.time = e.time;
    m.where = where;
    if (!f.client_ip.empty()) {
      m.has_client = true;
      m.client_ip = ips.id(f.client_ip);
      const std::uint8_t trust = trust_of(m.client_ip);
      m.mynetworks = (trust & kMynetworks) != 0;
      m.mailbox_server = (trust & kMailboxServer) != 0;
    }
    if (m.child) return;  // already linked to its parent
    if (!f.account.empty()) {
      m.owner = OwnerKind::account;
      m.owner_id = accounts.id(lower_into(f.account, scratch));
      if (m.has_client) sasl_login(e, m.owner_id, m.client_ip, where);
      AccountState& a = account(m.owner_id);
      touch(a, e.time);
      a.message_lines.add(where, e.time);
      if (const auto d = domain_of(f.account); !d.empty() && !is_local_domain(d))
        local_domains.insert(lower(d));
    } else if (m.mynetworks || m.mailbox_server) {
      // Loopback / trusted clients without SASL: amavis' re-injection, webmail, or a relay.
      // Which one is known when the parent names it ("queued as") or when it leaves the queue.
      m.owner = OwnerKind::pending;
      pending_order.emplace_back(e.time, std::string(f.queue_id));
    } else {
      m.owner = OwnerKind::inbound;
    }
  }

  void on_pickup(const Event& e, Position where) {
    const Facts& f = e.facts;
    if (f.queue_id.empty()) return;
    Message& m = message(f.queue_id);
    m.time = e.time;
    m.where = where;
    if (m.child) return;
    m.owner = OwnerKind::pending;  // local submission: its sender, unless it is a re-injection
    m.mailbox_server = true;
    pending_order.emplace_back(e.time, std::string(f.queue_id));
  }

  void on_queued(const Event& e, Position where) {
    const Facts& f = e.facts;
    if (f.queue_id.empty()) return;
    Message& m = message(f.queue_id);
    if (!m.in_queue) {
      m.in_queue = true;
      m.sender_known = true;
      const std::string_view from = lower_into(f.from, scratch);
      m.sender = std::hash<std::string_view>{}(from);
      m.sender_exempt = exception_senders.count(from) != 0;
      if (m.owner == OwnerKind::pending || m.mynetworks || m.mailbox_server)
        if (!from.empty() || m.extra) m.more().sender_text.assign(from);
      m.nrcpt = f.nrcpt;
      if (m.time.seconds == 0) {
        m.time = e.time;
        m.where = where;
      }
      ++queue_total;
      SenderQueue& q = sender_queue[IntKey(m.sender).view()];
      if (q.name.empty() && q.in_queue + 1 >= cat.queue_flood.min_messages / 2)
        q.name = from.empty() ? "<>" : std::string(from);
      ++q.in_queue;
      q.lines.add(where, e.time);
      if (!m.sender_exempt) check_queue_flood(q, e.time, where);
      if (!m.child) ++total_messages;
    }
    if (m.owner == OwnerKind::account && !m.counted) count_message(m);
    if (m.owner == OwnerKind::unknown && !m.child) m.owner = OwnerKind::inbound;
  }

  void count_message(Message& m) {
    m.counted = true;
    if (m.owner == OwnerKind::account) {
      const std::string& name = accounts.name(m.owner_id);
      AccountState& a = account(m.owner_id);
      ++a.messages;
      a.recipients += m.nrcpt;
      HourCount& h = hour(a, m.time);
      ++h.messages;
      h.recipients += m.nrcpt;
      if (exception_accounts.count(name) != 0) return;
      a.outbound.add(minute_of(m.time), {1u, m.nrcpt});
      check_burst(name, a, m);
      check_baseline(name, a, m);
    } else if (m.owner == OwnerKind::relay) {
      RelayState& r = relay_state[m.owner_id];
      ++r.messages;
      r.lines.add(m.where, m.time);
      const std::string& sender = m.sender_text();
      if (m.sender_exempt) return;
      const bool foreign = !sender.empty() && !is_local_domain(domain_of(sender));
      r.window.add(minute_of(m.time), {1u, foreign ? 1u : 0u, 0u, 0u});
      r.senders.add(m.time.seconds, static_cast<std::uint32_t>(m.sender));
      check_relay(m.owner_id, r, m.time, m.where);
    }
  }

  void check_burst(const std::string& name, AccountState& a, const Message& m) {
    const auto msgs = a.outbound.sum(0), rcpts = a.outbound.sum(1);
    Finding* f = existing(Detector::outbound_burst, name);
    if (f == nullptr && msgs < cat.outbound_burst.messages && rcpts < cat.outbound_burst.recipients)
      return;
    bool created = false;
    Finding& g = open(Detector::outbound_burst, name, m.time, &created);
    g.account = name;
    if (created) {
      evidence(g, a.message_lines);
      g.counts["messages"] = msgs;
      g.counts["recipients"] = rcpts;
    } else {
      evidence(g, m.where);
      ++g.counts["messages"];
      g.counts["recipients"] += m.nrcpt;
    }
    if (m.has_client) source(g, m.client_ip);
    raise(g, "messages_in_window", msgs);
    raise(g, "recipients_in_window", rcpts);
    g.summary =
        fmt::format("{} sent {} messages to {} recipients (up to {} messages in {} minutes)", name,
                    g.counts["messages"], g.counts["recipients"], g.counts["messages_in_window"],
                    cat.outbound_burst.window / 60);
  }

  void check_baseline(const std::string& name, AccountState& a, const Message& m) {
    const auto h = hour_of(m.time);
    if (h != a.current_hour) {
      if (h > a.current_hour) {
        a.messages_before_hour += a.current_hour_messages;
        a.current_hour = h;
        a.current_hour_messages = 0;
      } else {
        return;  // a late message of an earlier hour: counted in figures, not here
      }
    }
    ++a.current_hour_messages;
    const std::int64_t history = h * 3600 - a.first_seen.seconds;
    if (history < cat.baseline_exceeded.min_history) return;
    const double hours = static_cast<double>(history) / 3600;
    const double mean = static_cast<double>(a.messages_before_hour) / hours;
    const double n = a.current_hour_messages;
    if (n < cat.baseline_exceeded.min_messages || n < cat.baseline_exceeded.factor * mean) {
      if (Finding* f = existing(Detector::baseline_exceeded, name);
          f != nullptr && f->last_seen.seconds / 3600 == h) {
        evidence(*f, m.where);
        f->last_seen = m.time;
        raise(*f, "messages_in_hour", a.current_hour_messages);
      }
      return;
    }
    bool created = false;
    Finding& g = open(Detector::baseline_exceeded, name, m.time, &created);
    g.account = name;
    if (created)
      evidence(g, a.message_lines);
    else
      evidence(g, m.where);
    if (m.has_client) source(g, m.client_ip);
    raise(g, "messages_in_hour", a.current_hour_messages);
    g.counts["baseline_per_hour_x100"] = static_cast<std::uint64_t>(mean * 100);
    g.summary = fmt::format("{} sent {} messages in one hour; its own mean is {:.2f} per hour",
                            name, g.counts["messages_in_hour"], mean);
  }

  void check_relay(std::uint32_t ip_id, RelayState& r, const Timestamp& t, Position where) {
    r.window.advance(minute_of(t));
    r.senders.advance(t.seconds);
    const std::string& ip_text = ips.name(ip_id);
    Finding* f = existing(Detector::mynetworks_relay, ip_text);
    const auto msgs = r.window.sum(0);
    const bool abuse =
        msgs >= cat.mynetworks_relay.min_messages &&
        (static_cast<double>(r.window.sum(1)) >= cat.mynetworks_relay.foreign_sender_ratio * msgs ||
         r.senders.distinct() >= cat.mynetworks_relay.distinct_senders ||
         (r.window.sum(2) > 0 && static_cast<double>(r.window.sum(3)) >=
                                     cat.mynetworks_relay.bounce_ratio * r.window.sum(2)));
    if (f == nullptr && !abuse) return;
    bool created = false;
    Finding& g = open(Detector::mynetworks_relay, ip_text, t, &created);
    if (created) {
      evidence(g, r.lines);
      source(g, ip_id);
    } else {
      evidence(g, where);
    }
    raise(g, "messages_in_window", msgs);
    raise(g, "foreign_senders_in_window", r.window.sum(1));
    raise(g, "senders_in_window", r.senders.distinct());
    raise(g, "recipients_failed_in_window", r.window.sum(3));
    g.counts["messages"] = r.messages;
    g.summary = fmt::format(
        "{} (mynetworks) relayed {} unauthenticated messages, up to {} in {} minutes "
        "({} with a foreign sender, {} distinct senders)",
        ip_text, r.messages, g.counts["messages_in_window"], cat.mynetworks_relay.window / 60,
        g.counts["foreign_senders_in_window"], g.counts["senders_in_window"]);
  }

  void check_queue_flood(const SenderQueue& q, const Timestamp& t, Position where) {
    if (q.in_queue < cat.queue_flood.min_messages) return;
    const std::string& key = q.name;
    const bool over = q.in_queue >= cat.queue_flood.min_messages &&
                      static_cast<double>(q.in_queue) >= cat.queue_flood.share * queue_total;
    // A finding grows only while the sender still holds the queue.
    if (!over) return;
    bool created = false;
    Finding& g = open(Detector::queue_flood, key, t, &created);
    if (created)
      evidence(g, q.lines);
    else
      evidence(g, where);
    raise(g, "in_queue", q.in_queue);
    raise(g, "queue_total", queue_total);
    g.summary = fmt::format("{} holds {} of the {} messages in the queue", key,
                            g.counts["in_queue"], g.counts["queue_total"]);
  }

  void resolve_pending(Message& m) {
    if (m.owner != OwnerKind::pending) return;
    // Not a re-injection: mail from a mailbox server is its sender's (webmail); other trusted
    // clients relay.
    const std::string sender = m.sender_text();
    if (m.mailbox_server && !sender.empty() && is_local_domain(domain_of(sender))) {
      m.owner = OwnerKind::account;
      m.owner_id = accounts.id(sender);
      AccountState& a = account(m.owner_id);
      touch(a, m.time);
      a.message_lines.add(m.where, m.time);
    } else if (m.mynetworks || m.mailbox_server) {
      if (sender.empty() && !m.sender_known) {
        m.owner = OwnerKind::system;
      } else {
        m.owner = OwnerKind::relay;
        m.owner_id = m.client_ip;
      }
    } else {
      m.owner = OwnerKind::inbound;
    }
    if (m.in_queue && !m.counted) count_message(m);
    replay_deliveries(m);
  }

  void replay_deliveries(Message& m) {
    if (!m.extra || m.extra->pending.empty()) return;
    auto pending = std::move(m.extra->pending);
    m.extra->pending.clear();
    for (const auto& d : pending) apply_delivery(m, d.time, d.status, d.domain, d.where);
  }

  void resolve_due(const Timestamp& t) {
    while (!pending_order.empty() && pending_order.front().first.seconds + 60 < t.seconds) {
      Message* m = messages.find(pending_order.front().second);
      pending_order.pop_front();
      if (m != nullptr) resolve_pending(*m);
    }
  }

  void link(std::string_view parent_qid, std::string_view child_qid) {
    if (child_qid.empty() || parent_qid == child_qid) return;
    const auto parent_index = messages.find_index(parent_qid);
    if (parent_index == messages.npos) return;
    if (Message& p = messages.entry(parent_index).value; p.owner == OwnerKind::pending)
      resolve_pending(p);
    // Found by position after the child's insert (an insert moves no entry; only an erase
    // does, and there is none here).
    const auto child_index = messages.try_emplace_index(child_qid).first;
    const Message& parent = messages.entry(parent_index).value;
    Message& child = messages.entry(child_index).value;
    if (child.child) return;
    child.child = true;
    // Not seen yet (its lines come later, or were before the log): it ages with its parent,
    // so that `logs watch` forgets it if its lines never come.
    if (child.time.seconds == 0) child.time = parent.time;
    if (child.in_queue && !parent.child) --total_messages;  // counted once, as the parent
    child.owner = parent.owner;
    child.owner_id = parent.owner_id;
    child.counted = true;
    if (!child.sender_known && parent.sender_known) {
      child.sender_known = true;
      child.sender = parent.sender;
      if (parent.extra || child.extra) child.more().sender_text = parent.sender_text();
    }
    replay_deliveries(child);
  }

  void on_delivery(const Event& e, Position where) {
    const Facts& f = e.facts;
    if (f.queue_id.empty()) return;
    const std::string_view to = f.recipients;
    std::string_view domain = domain_of(to);
    const std::string_view relay = f.relay;
    const bool local_transport = relay.rfind("local", 0) == 0 || relay.rfind("virtual", 0) == 0 ||
                                 relay.find("lmtp") != std::string_view::npos ||
                                 relay.find("dovecot") != std::string_view::npos ||
                                 e.program.find("lmtp") != std::string_view::npos ||
                                 e.program.find("/local") != std::string_view::npos ||
                                 e.program.find("/virtual") != std::string_view::npos;
    if (local_transport && !domain.empty() && f.status == DeliveryStatus::sent &&
        local_domains.size() < 4096)
      if (!is_local_domain(domain)) local_domains.insert(lower(domain));
    // A hand-off to a content filter on this host (amavis re-injects the message under
    // NEXT), not a delivery. A remote server's "queued as X" names its own queue: a delivery.
    if (!f.next_queue_id.empty() && (loopback_relay(relay) || messages.contains(f.next_queue_id))) {
      link(f.queue_id, f.next_queue_id);
      return;
    }
    Message* found = messages.find(f.queue_id);
    if (found == nullptr) return;
    Message& m = *found;
    if (m.owner == OwnerKind::pending) {
      if (auto& pending = m.more().pending; pending.size() < 10000)
        pending.push_back(Delivery{e.time, f.status, lower(domain), where});
      return;
    }
    if (f.status == DeliveryStatus::deferred) {
      const auto h = hash32(to);
      auto& deferred_to = m.more().deferred_to;
      if (std::find(deferred_to.begin(), deferred_to.end(), h) != deferred_to.end()) return;
      if (deferred_to.size() < 1000) deferred_to.push_back(h);
    }
    apply_delivery(m, e.time, f.status, lower_into(domain, scratch), where);
  }

  // "127.0.0.1[127.0.0.1]:10032", "localhost[::1]:10024", "[127.0.0.1]:10025".
  static bool loopback_relay(std::string_view relay) {
    const auto open = relay.find('[');
    if (open == std::string_view::npos) return false;
    const auto close = relay.find(']', open);
    if (close == std::string_view::npos) return false;
    const auto ip = relay.substr(open + 1, close - open - 1);
    return ip.rfind("127.", 0) == 0 || ip == "::1";
  }

  void apply_delivery(Message& m, const Timestamp& t, DeliveryStatus status,
                      std::string_view domain, Position where) {
    const bool failed = status == DeliveryStatus::deferred || status == DeliveryStatus::bounced ||
                        status == DeliveryStatus::expired;
    if (m.owner == OwnerKind::account) {
      const std::string& name = accounts.name(m.owner_id);
      AccountState& a = account(m.owner_id);
      if (status == DeliveryStatus::bounced || status == DeliveryStatus::expired) ++a.bounced;
      if (status == DeliveryStatus::deferred) ++a.deferred;
      if (!opt.watch && !domain.empty() && !is_local_domain(domain))
        add_account_domain(m.owner_id, domain);
      a.bounces.add(minute_of(t), {1u, failed ? 1u : 0u});
      check_bounce_ratio(name, a, t, where);
    } else if (m.owner == OwnerKind::relay) {
      RelayState& r = relay_state[m.owner_id];
      r.window.add(minute_of(t), {0u, 0u, 1u, failed ? 1u : 0u});
      if (failed) check_relay(m.owner_id, r, t, where);
    }
  }

  void add_account_domain(std::uint32_t acc_id, std::string_view domain) {
    const std::uint64_t pair = (std::uint64_t{acc_id} << 32) | recipient_domains.id(domain);
    // A message to several recipients of one domain: the same pair again, skipped here.
    if (!account_domains.empty() && account_domains.back() == pair) return;
    account_domains.push_back(pair);
    if (account_domains.size() >= account_domains_compact_at) {
      sort_unique(account_domains);
      account_domains_compact_at = std::max(account_domains_compact_at, account_domains.size() * 2);
    }
  }

  void check_bounce_ratio(const std::string& name, AccountState& a, const Timestamp& t,
                          Position where) {
    a.outbound.advance(minute_of(t));
    a.bounces.advance(minute_of(t));
    const auto tried = a.bounces.sum(0), failed = a.bounces.sum(1);
    const bool over = a.outbound.sum(0) >= cat.bounce_ratio.min_messages && tried > 0 &&
                      static_cast<double>(failed) >= cat.bounce_ratio.ratio * tried;
    // A finding grows only while the ratio stays above the threshold.
    if (!over) return;
    bool created = false;
    Finding& g = open(Detector::bounce_ratio, name, t, &created);
    g.account = name;
    if (created)
      evidence(g, a.message_lines);
    else
      evidence(g, where);
    raise(g, "recipients_tried_in_window", tried);
    raise(g, "recipients_failed_in_window", failed);
    const auto pct = tried == 0 ? 0 : failed * 100 / tried;
    raise(g, "failed_percent", pct);
    g.summary = fmt::format("{}: {} of {} recipients bounced or deferred within {} minutes", name,
                            g.counts["recipients_failed_in_window"],
                            g.counts["recipients_tried_in_window"], cat.bounce_ratio.window / 60);
  }

  void on_removed(const Event& e) {
    const auto index = messages.find_index(e.facts.queue_id);
    if (index == messages.npos) return;
    Message& m = messages.entry(index).value;
    if (m.owner == OwnerKind::pending) resolve_pending(m);
    if (m.in_queue) {
      --queue_total;
      const IntKey key(m.sender);
      if (SenderQueue* q = sender_queue.find(key.view()); q != nullptr && --q->in_queue == 0)
        sender_queue.erase(key.view());
    }
    // A re-injected copy may still be named by a late "queued as" line of its parent: keep
    // a tombstone only for parents whose child is not linked yet.
    messages.erase_index(index);
  }

  void on_bounce_notice(const Event& e) {
    if (e.facts.next_queue_id.empty()) return;
    Message& m = message(e.facts.next_queue_id);
    m.owner = OwnerKind::system;
    m.counted = true;
  }

  void on_scan(const Event& e) {
    // amavis: Queue-ID before the scan, queued_as after the re-injection.
    if (!e.facts.queue_id.empty() && !e.facts.next_queue_id.empty())
      link(e.facts.queue_id, e.facts.next_queue_id);
  }

  void add(const Event& e, Position where) {
    if (e.line_kind != LineKind::parsed) return;
    if (e.has_time) {
      if (!has_time) {
        has_time = true;
        first = last = e.time;
      }
      if (e.time < first) first = e.time;
      if (e.time > last) last = e.time;
      if (e.time > now) now = e.time;
      resolve_due(now);
    }
    switch (e.facts.kind) {
      case EventKind::auth:
      case EventKind::invalid_user:
        on_login(e, where);
        break;
      case EventKind::message_client:
        on_client(e, where);
        break;
      case EventKind::message_pickup:
        on_pickup(e, where);
        break;
      case EventKind::message_queued:
        on_queued(e, where);
        break;
      case EventKind::delivery:
        on_delivery(e, where);
        break;
      case EventKind::removed:
        on_removed(e);
        break;
      case EventKind::bounce_notice:
        on_bounce_notice(e);
        break;
      case EventKind::content_scan:
        on_scan(e);
        break;
      default:
        if (e.program_kind == Program::zimbra_audit || e.program_kind == Program::zimbra_mailbox)
          saw_zimbra = true;
        break;
    }
  }

  AccountSummary summary(const std::string& name, const AccountState& a) {
    AccountSummary s;
    s.account = name;
    s.logins_by_protocol = a.logins_by_protocol;
    s.failures_by_protocol = a.failures_by_protocol;
    s.logins = a.logins;
    s.failures = a.failures;
    std::vector<std::string> ipv;
    std::set<std::string> countries;
    a.success_ips.for_each([&](std::string_view key, const Timestamp&) {
      const auto id = static_cast<std::uint32_t>(IntKey::value_of(key));
      ipv.push_back(ips.name(id));
      if (const auto& g = geo(id); g && !g->country.empty()) countries.insert(g->country);
    });
    std::sort(ipv.begin(), ipv.end());
    s.client_ip_count = ipv.size();
    if (ipv.size() > kMaxListed) ipv.resize(kMaxListed);
    s.client_ips = std::move(ipv);
    s.countries.assign(countries.begin(), countries.end());
    s.messages = a.messages;
    s.recipients = a.recipients;
    s.external_domains = a.external_domains;
    s.bounced = a.bounced;
    s.deferred = a.deferred;
    for (const auto& h : a.timeline) {
      if (h.messages > s.peak_per_hour) {
        s.peak_per_hour = h.messages;
        s.peak_hour = h.hour;
      }
    }
    s.first_seen = a.first_seen;
    s.last_seen = a.last_seen;
    return s;
  }
};

Analyzer::Analyzer(const DetectorCatalog& catalog, AnalyzerOptions options)
    : impl_(std::make_unique<Impl>(catalog, std::move(options))) {}
Analyzer::~Analyzer() = default;

bool Analyzer::wants(const Event& e) {
  if (e.line_kind != LineKind::parsed) return false;
  switch (e.facts.kind) {
    case EventKind::auth:
    case EventKind::invalid_user:
    case EventKind::message_client:
    case EventKind::message_pickup:
    case EventKind::message_queued:
    case EventKind::delivery:
    case EventKind::removed:
    case EventKind::bounce_notice:
    case EventKind::content_scan:
      return true;
    default:
      // Zimbra's other lines only tell that this is a Zimbra server (the follow-up commands).
      return e.program_kind == Program::zimbra_audit;
  }
}

void Analyzer::add(const Event& e, Position where) {
  impl_->add(e, where);
}

std::vector<Finding> Analyzer::take_alerts() {
  std::vector<Finding> out;
  for (const auto& key : impl_->alerts) {
    auto it = impl_->findings.find(key);
    if (it == impl_->findings.end() || it->second.alerted) continue;
    it->second.alerted = true;
    ++it->second.alert_count;
    out.push_back(it->second);
    it->second.new_source_ips.clear();
  }
  impl_->alerts.clear();
  return out;
}

void Analyzer::expire(Timestamp now) {
  Impl& m = *impl_;
  const std::int64_t keep = std::max<std::int64_t>(
      {m.cat.brute_force.window, m.cat.password_spray.botnet_window,
       m.cat.compromised_login.lookback, m.cat.outbound_burst.window, m.cat.bounce_ratio.window,
       m.cat.mynetworks_relay.window, m.cat.impossible_travel.country_window, 86400});
  const std::int64_t horizon = now.seconds - keep;
  // (Watch mode keeps no timelines: see Impl::hour.)
  m.account_state.erase_if([&](const AccountState& a) { return a.last_seen.seconds < horizon; });
  m.ip_state.erase_if(
      [&](const IpState& s) { return s.last_seen.seconds < horizon && !s.in_botnet; });
  // Messages whose "removed" line never came (Postfix keeps mail 5 days at most).
  m.messages.erase_if([&](std::string_view, const Message& msg) {
    if (msg.time.seconds == 0 || msg.time.seconds >= now.seconds - 5 * 86400) return false;
    if (msg.in_queue) {
      --m.queue_total;
      const IntKey key(msg.sender);
      if (SenderQueue* q = m.sender_queue.find(key.view()); q != nullptr && --q->in_queue == 0)
        m.sender_queue.erase(key.view());
    }
    return true;
  });
  for (auto it = m.findings.begin(); it != m.findings.end();) {
    if (it->second.alerted && it->second.last_seen.seconds < horizon) {
      m.finding_hashes.erase(Impl::finding_hash(it->first.first, it->first.second));
      it = m.findings.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = m.relay_state.begin(); it != m.relay_state.end();) {
    it->second.window.advance(now.seconds / 60);
    if (it->second.window.empty())
      it = m.relay_state.erase(it);
    else
      ++it;
  }
  if (m.geo_cache.size() > 100000) m.geo_cache.clear();
}

std::size_t Analyzer::state_size() const {
  return impl_->account_state.size() + impl_->ip_state.size() + impl_->messages.size() +
         impl_->relay_state.size() + impl_->findings.size();
}

LogReport Analyzer::finish(std::vector<InputSummary> inputs) {
  Impl& m = *impl_;
  // Whatever is still pending is not a re-injection any more.
  while (!m.pending_order.empty()) {
    Message* msg = m.messages.find(m.pending_order.front().second);
    m.pending_order.pop_front();
    if (msg != nullptr) m.resolve_pending(*msg);
  }
  LogReport r;
  for (const auto& in : inputs) r.totals.merge(in.counts);
  r.inputs = std::move(inputs);
  r.has_time = m.has_time;
  r.first = m.first;
  r.last = m.last;
  r.messages = m.total_messages;
  r.logins = m.total_logins;
  r.failures = m.total_failures;
  r.saw_zimbra = m.saw_zimbra;
  std::set<std::string> suspicious;
  for (auto& [key, f] : m.findings) {
    std::sort(f.source_ips.begin(), f.source_ips.end());
    if (m.opt.geoip != nullptr) {
      std::set<std::string> cs(f.countries.begin(), f.countries.end());
      for (const auto& ip : f.source_ips) {
        if (auto id = m.ips.find(ip)) {
          if (const auto& g = m.geo(*id); g && !g->country.empty()) cs.insert(g->country);
        }
      }
      f.countries.assign(cs.begin(), cs.end());
    }
    if (!f.account.empty()) suspicious.insert(f.account);
    r.findings.push_back(f);
  }
  std::stable_sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity < b.severity;
    if (a.first_seen != b.first_seen) return a.first_seen < b.first_seen;
    if (a.detector != b.detector) return a.detector < b.detector;
    return a.key < b.key;
  });
  sort_unique(m.account_domains);
  for (std::size_t i = 0; i < m.account_domains.size();) {
    const auto acc_id = static_cast<std::uint32_t>(m.account_domains[i] >> 32);
    std::size_t j = i + 1;
    while (j < m.account_domains.size() && (m.account_domains[j] >> 32) == acc_id) ++j;
    m.account(acc_id).external_domains = j - i;
    i = j;
  }
  m.account_state.for_each([&](std::uint32_t id, const AccountState& a) {
    AccountSummary s = m.summary(m.accounts.name(id), a);
    s.suspicious = suspicious.count(s.account) != 0;
    if (s.suspicious) s.timeline = a.timeline;
    r.accounts.push_back(std::move(s));
  });
  std::sort(r.accounts.begin(), r.accounts.end(),
            [](const AccountSummary& a, const AccountSummary& b) { return a.account < b.account; });
  return r;
}

}  // namespace mw::logs
