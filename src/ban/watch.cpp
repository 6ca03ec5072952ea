// The ban driver of `logs watch --ban`, its counters and its /metrics endpoint.
#include "ban/watch.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <set>
#include <thread>

namespace mw::ban {

// ---- which detectors ban -------------------------------------------------------------------

BanSelection BanSelection::defaults() {
  BanSelection s;
  for (auto d : kDefaultBanningDetectors) s.bans[static_cast<std::size_t>(d)] = true;
  return s;
}

Result<BanSelection> BanSelection::parse(std::string_view list) {
  BanSelection s;
  if (list == "none") return s;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = list.find(',', pos);
    const std::string_view name =
        list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (name.empty())
      return Error{fmt::format("'{}': empty detector name at position {}", list, pos + 1)};
    const auto d = logs::detector_from_name(name);
    if (!d)
      return Error{fmt::format("'{}': unknown detector '{}' at position {} (see detectors.toml)",
                               list, name, pos + 1)};
    s.bans[static_cast<std::size_t>(*d)] = true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return s;
}

std::string BanSelection::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < bans.size(); ++i) {
    if (!bans[i]) continue;
    // Appended piece by piece: `"," + std::string(...)` made GCC 12 warn (-Wrestrict, a
    // false positive of its inlined std::string::insert).
    if (!out.empty()) out += ',';
    out += logs::name_of(static_cast<logs::Detector>(i));
  }
  return out.empty() ? "none" : out;
}

// ---- metrics --------------------------------------------------------------------------------

std::string WatchMetrics::render() const {
  auto v = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  std::string out;
  auto head = [&](std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
  };
  auto per_detector = [&](std::string_view name, std::string_view help,
                          const std::array<Counter, logs::kDetectors>& a) {
    head(name, "counter", help);
    for (std::size_t i = 0; i < a.size(); ++i)
      fmt::format_to(std::back_inserter(out), "{}{{detector=\"{}\"}} {}\n", name,
                     logs::name_of(static_cast<logs::Detector>(i)), v(a[i]));
  };
  auto single = [&](std::string_view name, std::string_view type, std::string_view help,
                    std::uint64_t value) {
    head(name, type, help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  };
  single("mailwarden_lines_read_total", "counter", "Log lines read by logs watch.", v(lines_));
  per_detector("mailwarden_findings_total", "Findings reported, by detector.", findings_);
  per_detector("mailwarden_bans_added_total", "Addresses banned in the kernel, by detector.",
               added_);
  single("mailwarden_bans_refused_total", "counter",
         "Bans refused by the allow-list (each address counted once).", v(refused_));
  single("mailwarden_bans_rate_limited_total", "counter",
         "Bans dropped because the per-minute limit was reached.", v(rate_limited_));
  single("mailwarden_ban_errors_total", "counter", "Bans that failed (nft, state file).",
         v(errors_));
  single("mailwarden_bans_active", "gauge",
         "Addresses banned by this watcher whose ban has not ended.", v(active_));
  return out;
}

// ---- actions --------------------------------------------------------------------------------

std::string_view kind_name(BanAction::Kind k) {
  switch (k) {
    case BanAction::Kind::banned:
      return "banned";
    case BanAction::Kind::would_ban:
      return "would-ban";
    case BanAction::Kind::covered:
      return "covered";
    case BanAction::Kind::refused:
      return "refused";
    case BanAction::Kind::rate_limited:
      return "rate-limited";
    case BanAction::Kind::error:
      return "error";
    case BanAction::Kind::invalid:
      return "invalid";
  }
  return "?";
}

std::string describe(const BanAction& a, std::uint32_t per_minute) {
  const std::string who = fmt::format("{}{}", logs::name_of(a.detector),
                                      a.account.empty() ? "" : ", account " + a.account);
  const std::string what = to_string(a.prefix);
  switch (a.kind) {
    case BanAction::Kind::banned:
      return fmt::format("banned {} for {} ({}, offence {})", what, format_duration(a.duration),
                         who, a.offence);
    case BanAction::Kind::would_ban:
      return fmt::format("would ban {} for {} ({}, offence {}) [dry run]", what,
                         format_duration(a.duration), who, a.offence);
    case BanAction::Kind::covered:
      return fmt::format("not banned {} ({}): {}", what, who, a.message);
    case BanAction::Kind::refused:
      return fmt::format("refused to ban {} ({}): {}", what, who, a.message);
    case BanAction::Kind::rate_limited:
      return fmt::format("dropped the ban of {} ({}): over the limit of {} bans per minute", what,
                         who, per_minute);
    case BanAction::Kind::error:
      return fmt::format("failed to ban {} ({}): {}", what, who, a.message);
    case BanAction::Kind::invalid:
      return fmt::format("cannot ban '{}' ({}): {}", a.address, who, a.message);
  }
  return "?";
}

// ---- rate limit -----------------------------------------------------------------------------

TokenBucket::TokenBucket(std::uint32_t per_minute, const Clock& clock)
    : capacity_(std::max<std::uint32_t>(per_minute, 1)),
      tokens_(capacity_),
      clock_(clock),
      last_(clock.now()) {}

bool TokenBucket::take() {
  const auto now = clock_.now();
  if (now > last_) {
    const double minutes = std::chrono::duration<double>(now - last_).count() / 60.0;
    tokens_ = std::min(capacity_, tokens_ + minutes * capacity_);
  }
  last_ = std::max(last_, now);  // a wall clock stepped back refills nothing
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

// ---- the driver ------------------------------------------------------------------------------

BanDriver::BanDriver(BanEngine& engine, AllowList allow, Clock& clock, WatchBanOptions options,
                     WatchMetrics& metrics)
    : engine_(engine),
      allow_(std::move(allow)),
      clock_(clock),
      o_(std::move(options)),
      metrics_(metrics),
      bucket_(o_.bans_per_minute, clock) {}

void BanDriver::remember(const Prefix& p, BanAction::Kind kind, Clock::time_point until) {
  if (seen_.size() >= o_.max_remembered) tick();
  // Still full: forget the entry that ends first rather than grow without bound.
  if (seen_.size() >= o_.max_remembered && !seen_.empty()) {
    auto first = std::min_element(seen_.begin(), seen_.end(), [](const auto& a, const auto& b) {
      return a.second.until < b.second.until;
    });
    seen_.erase(first);
  }
  seen_[to_string(p)] = Remembered{kind, until};
}

void BanDriver::tick() {
  const auto now = clock_.now();
  std::size_t active = 0;
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (it->second.until <= now) {
      it = seen_.erase(it);
      continue;
    }
    active += it->second.kind == BanAction::Kind::banned;
    ++it;
  }
  metrics_.set_active(active);
}

std::size_t BanDriver::active() const {
  const auto now = clock_.now();
  return static_cast<std::size_t>(std::count_if(seen_.begin(), seen_.end(), [&](const auto& e) {
    return e.second.kind == BanAction::Kind::banned && e.second.until > now;
  }));
}

std::optional<BanRequest> BanDriver::prepare(const logs::Finding& f, const std::string& address,
                                             BanAction& a) {
  a.detector = f.detector;
  a.address = address;
  a.account = f.account;
  auto parsed = parse_address(address);
  if (!parsed) {
    a.kind = BanAction::Kind::invalid;
    a.message = parsed.error().message;
    metrics_.error();
    return std::nullopt;
  }
  const Prefix host{*parsed, parsed->family == Family::v4 ? 32 : 128};
  a.prefix = engine_.effective_prefix(host);
  // The allow-list is the engine's to enforce; asking it first keeps a refused address from
  // using up the rate limit. The engine checks again in add_all().
  if (const AllowEntry* e = allow_.overlapping(a.prefix)) {
    a.kind = BanAction::Kind::refused;
    a.message =
        fmt::format("it overlaps the allow-list entry {} ({})", to_string(e->prefix), e->why);
    metrics_.refused();
    remember(a.prefix, a.kind, Clock::time_point::max());
    return std::nullopt;
  }
  if (!bucket_.take()) {
    a.kind = BanAction::Kind::rate_limited;
    metrics_.rate_limited();
    return std::nullopt;
  }
  BanRequest req;
  req.prefix = host;
  req.duration = o_.duration;
  req.reason = std::string(logs::name_of(f.detector));
  req.account = f.account;
  req.dry_run = o_.dry_run;
  return req;
}

void BanDriver::conclude(const logs::Finding& f, const Result<BanResult>& r, BanAction& a) {
  const auto now = clock_.now();
  const auto until = [&](Seconds s) { return now + s; };
  if (!r) {
    a.kind = BanAction::Kind::error;
    a.message = r.error().message;
    metrics_.error();
    remember(a.prefix, a.kind, until(o_.error_backoff));
    return;
  }
  a.prefix = r->prefix;
  a.duration = r->duration;
  a.offence = r->offence;
  switch (r->outcome) {
    case Outcome::banned:
      a.kind = BanAction::Kind::banned;
      metrics_.ban_added(f.detector);
      remember(a.prefix, a.kind, until(r->duration));
      break;
    case Outcome::dry_run:
      a.kind = BanAction::Kind::would_ban;
      remember(a.prefix, a.kind, until(r->duration));
      break;
    case Outcome::already_covered:
      a.kind = BanAction::Kind::covered;
      a.message = r->message;
      remember(a.prefix, a.kind, until(o_.covered_backoff));
      break;
    case Outcome::refused:
      a.kind = BanAction::Kind::refused;
      a.message = r->message;
      metrics_.refused();
      remember(a.prefix, a.kind, Clock::time_point::max());
      break;
  }
}

std::vector<BanAction> BanDriver::on_finding(const logs::Finding& f) {
  return on_findings({f});
}

std::vector<BanAction> BanDriver::on_findings(const std::vector<logs::Finding>& findings) {
  std::vector<BanAction> out;
  tick();
  const auto now = clock_.now();
  std::vector<BanRequest> requests;
  std::vector<std::pair<std::size_t, const logs::Finding*>> asked;  // action index, finding
  std::set<std::string> this_call;  // effective prefixes already handled in this call
  for (const auto& f : findings) {
    if (f.alert_count <= 1) metrics_.finding(f.detector);  // not again when it grows
    if (!o_.detectors[f.detector]) continue;
    // The first kMaxListed sources, then any added since the last report (a grown botnet).
    std::vector<std::string> addresses = f.source_ips;
    for (const auto& a : f.new_source_ips)
      if (std::find(addresses.begin(), addresses.end(), a) == addresses.end())
        addresses.push_back(a);
    for (const auto& address : addresses) {
      // One /64 for several addresses of one finding, and findings repeating an address that
      // is banned (or refused, or failing) already: nothing new to do.
      if (auto parsed = parse_address(address)) {
        const Prefix host{*parsed, parsed->family == Family::v4 ? 32 : 128};
        const std::string key = to_string(engine_.effective_prefix(host));
        auto it = seen_.find(key);
        if (it != seen_.end() && it->second.until > now) continue;
        if (!this_call.insert(key).second) continue;
      }
      BanAction a;
      if (auto req = prepare(f, address, a)) {
        requests.push_back(std::move(*req));
        asked.emplace_back(out.size(), &f);
      }
      out.push_back(std::move(a));
    }
  }
  if (!requests.empty()) {
    const auto results = engine_.add_all(requests, allow_);
    for (std::size_t k = 0; k < asked.size(); ++k)
      conclude(*asked[k].second, results[k], out[asked[k].first]);
  }
  metrics_.set_active(active());
  return out;
}

// ---- /metrics ------------------------------------------------------------------------------

struct MetricsServer::Impl {
  httplib::Server http;
  std::thread thread;
  int port = 0;
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            const WatchMetrics& metrics) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return Error{fmt::format("--metrics-listen '{}': expected HOST:PORT (127.0.0.1:9155)", listen)};
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  for (std::size_t i = colon + 1; i < listen.size(); ++i) {
    const char c = listen[i];
    if (c < '0' || c > '9' || port > 65535)
      return Error{fmt::format("--metrics-listen '{}': bad port at position {}", listen, i + 1)};
    port = port * 10 + (c - '0');
  }
  if (port > 65535)
    return Error{fmt::format("--metrics-listen '{}': port out of range 0..65535", listen)};
  auto s = std::unique_ptr<MetricsServer>(new MetricsServer());
  s->impl_ = std::make_unique<Impl>();
  auto& im = *s->impl_;
  im.http.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(), "text/plain; version=0.0.4");
  });
  const bool ok =
      port == 0 ? (im.port = im.http.bind_to_any_port(host)) > 0 : im.http.bind_to_port(host, port);
  if (!ok) return Error{fmt::format("--metrics-listen '{}': cannot listen there", listen)};
  if (port > 0) im.port = port;
  im.thread = std::thread([&im] { im.http.listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (!impl_) return;
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsServer::port() const {
  return impl_->port;
}

}  // namespace mw::ban
