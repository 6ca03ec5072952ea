// Prometheus text rendering of policyd's counters.
#include "policyd/metrics.hpp"

#include <fmt/format.h>

namespace mw::policyd {

void Metrics::request(const Decision& d, double seconds) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  decisions_[static_cast<std::size_t>(d.verdict)].fetch_add(1, std::memory_order_relaxed);
  reasons_[static_cast<std::size_t>(d.reason)].fetch_add(1, std::memory_order_relaxed);
  if (d.reason == Reason::fail_open || d.reason == Reason::fail_closed) {
    store_errors_.fetch_add(1, std::memory_order_relaxed);
  }
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  latency_[i].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

std::string Metrics::render(const Gauges& g) const {
  auto v = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
    fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name,
                   help, value);
  };
  auto gauge = [&](std::string_view name, std::string_view help, std::int64_t value) {
    fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name,
                   help, value);
  };
  counter("mailwarden_policyd_requests_total", "Policy requests answered.", v(requests_));
  counter("mailwarden_policyd_malformed_total",
          "Malformed requests (connection closed without an answer).", v(malformed_));
  counter("mailwarden_policyd_timeouts_total", "Connections closed on an idle or request timeout.",
          v(timeouts_));
  out +=
      "# HELP mailwarden_policyd_decisions_total Answers by action.\n"
      "# TYPE mailwarden_policyd_decisions_total counter\n";
  for (std::size_t i = 0; i < decisions_.size(); ++i) {
    fmt::format_to(std::back_inserter(out),
                   "mailwarden_policyd_decisions_total{{action=\"{}\"}} {}\n",
                   verdict_name(static_cast<Verdict>(i)), v(decisions_[i]));
  }
  out +=
      "# HELP mailwarden_policyd_reasons_total Answers by reason.\n"
      "# TYPE mailwarden_policyd_reasons_total counter\n";
  for (std::size_t i = 0; i < reasons_.size(); ++i) {
    fmt::format_to(std::back_inserter(out),
                   "mailwarden_policyd_reasons_total{{reason=\"{}\"}} {}\n",
                   reason_name(static_cast<Reason>(i)), v(reasons_[i]));
  }
  auto reason = [&](Reason r) { return v(reasons_[static_cast<std::size_t>(r)]); };
  counter("mailwarden_policyd_over_limit_total", "Messages over a rate limit.",
          reason(Reason::over_limit));
  counter("mailwarden_policyd_spoofed_total", "Envelope senders not owned by the login.",
          reason(Reason::spoofed));
  counter("mailwarden_policyd_duplicates_total", "Repeated requests answered without counting.",
          reason(Reason::duplicate));
  counter("mailwarden_policyd_store_errors_total", "Decisions the counter store could not make.",
          v(store_errors_));
  counter("mailwarden_policyd_fail_open_total", "Store failures answered DUNNO (fail open).",
          reason(Reason::fail_open));
  counter("mailwarden_policyd_fail_closed_total",
          "Store failures answered DEFER_IF_PERMIT (fail closed).", reason(Reason::fail_closed));
  counter("mailwarden_policyd_alerts_total", "Rate-limit alerts raised.", v(alerts_));
  counter("mailwarden_policyd_alerts_failed_total", "Alert deliveries that failed.",
          g.alerts_failed);
  counter("mailwarden_policyd_alerts_dropped_total", "Alerts dropped on a full queue.",
          g.alerts_dropped);
  counter("mailwarden_policyd_flush_errors_total", "Failed writes of the persisted state.",
          v(flush_errors_));
  out +=
      "# HELP mailwarden_policyd_config_reloads_total Configuration reloads (SIGHUP).\n"
      "# TYPE mailwarden_policyd_config_reloads_total counter\n";
  fmt::format_to(std::back_inserter(out),
                 "mailwarden_policyd_config_reloads_total{{result=\"ok\"}} {}\n"
                 "mailwarden_policyd_config_reloads_total{{result=\"error\"}} {}\n",
                 v(reloads_ok_), v(reloads_error_));
  gauge("mailwarden_policyd_connections", "Open policy connections.",
        connections_.load(std::memory_order_relaxed));
  gauge("mailwarden_policyd_active_keys", "Keys with counter state.",
        static_cast<std::int64_t>(g.active_keys));
  out +=
      "# HELP mailwarden_policyd_request_seconds Time to answer a request.\n"
      "# TYPE mailwarden_policyd_request_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += v(latency_[i]);
    fmt::format_to(std::back_inserter(out),
                   "mailwarden_policyd_request_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                   cumulative);
  }
  cumulative += v(latency_.back());
  fmt::format_to(std::back_inserter(out),
                 "mailwarden_policyd_request_seconds_bucket{{le=\"+Inf\"}} {}\n"
                 "mailwarden_policyd_request_seconds_sum {:.9f}\n"
                 "mailwarden_policyd_request_seconds_count {}\n",
                 cumulative,
                 static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9,
                 cumulative);
  return out;
}

}  // namespace mw::policyd
