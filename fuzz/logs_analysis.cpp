// Fuzz target: whole log texts through parse_line and the Analyzer (attribution chains,
// detectors, finish). Its state must stay consistent whatever order or garbage the lines come
// in: no crash, no sanitizer report, a report whose counts add up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logs/analysis.hpp"
#include "logs/detector_catalog.hpp"
#include "logs/parse_line.hpp"
#include "logs_fuzz.hpp"

namespace {

// Low thresholds so that short inputs reach every detector.
const mw::logs::DetectorCatalog& catalog() {
  static const mw::logs::DetectorCatalog c = [] {
    mw::logs::DetectorCatalog d;
    d.brute_force.failures = 2;
    d.brute_force.known_address_failures = 3;
    d.password_spray.accounts = 2;
    d.password_spray.botnet_accounts = 2;
    d.password_spray.botnet_addresses = 2;
    d.compromised_login.min_failures = 1;
    d.outbound_burst.messages = 2;
    d.outbound_burst.recipients = 2;
    d.bounce_ratio.min_messages = 1;
    d.baseline_exceeded.min_history = 60;
    d.baseline_exceeded.min_messages = 1;
    d.mynetworks_relay.min_messages = 1;
    d.mynetworks_relay.distinct_senders = 2;
    d.queue_flood.min_messages = 1;
    return d;
  }();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mw::logs::FixedOffsetZone utc(0);
  mw::logs::ParseContext ctx(utc, mw::logs::YearInference(2026, 11));
  mw::logs::AnalyzerOptions opt;
  opt.local_domains = {"example.com"};
  mw::logs::Analyzer analyzer(catalog(), opt);
  std::uint64_t n = 0;
  mw::logs::fuzz::for_each_line(data, size, [&](std::string_view line) {
    const auto e = mw::logs::parse_line(line, ctx);
    ++n;
    if (mw::logs::Analyzer::wants(e)) analyzer.add(e, mw::logs::Position{0, n});
    if (n % 64 == 0) (void)analyzer.take_alerts();
  });
  const auto r = analyzer.finish({});
  for (const auto& f : r.findings) {
    if (f.source_ips.size() > f.source_ip_count) std::abort();
    if (f.accounts.size() > f.account_count) std::abort();
    if (f.evidence.size() > mw::logs::kMaxEvidence + 1) std::abort();
    if (f.last_seen < f.first_seen) std::abort();
  }
  for (const auto& a : r.accounts) {
    if (a.client_ips.size() > a.client_ip_count) std::abort();
  }
  return 0;
}
