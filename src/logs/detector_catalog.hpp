// The thresholds of the logs detectors: catalog/detectors.toml, checked at load (every key
// known, every value in range), errors naming file:line:column.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "logs/analysis.hpp"

namespace mw::logs {

struct DetectorCatalog {
  std::array<FindingSeverity, kDetectors> severity{};

  struct {
    std::int64_t window = 600;
    std::uint32_t failures = 20, known_address_failures = 200;
  } brute_force;
  struct {
    std::int64_t window = 1800, botnet_window = 3600;
    std::uint32_t accounts = 10, botnet_accounts = 20, botnet_addresses = 10;
  } password_spray;
  struct {
    std::int64_t lookback = 86400;
    std::uint32_t min_failures = 5;
  } compromised_login;
  struct {
    double speed_kmh = 1000, min_distance_km = 500;
    std::int64_t country_window = 7200;
  } impossible_travel;
  struct {
    std::int64_t window = 3600;
    std::uint32_t messages = 200, recipients = 500;
  } outbound_burst;
  struct {
    std::int64_t window = 3600;
    std::uint32_t min_messages = 30;
    double ratio = 0.3;
  } bounce_ratio;
  struct {
    std::int64_t min_history = 86400;
    double factor = 10;
    std::uint32_t min_messages = 30;
  } baseline_exceeded;
  struct {
    std::int64_t window = 3600;
    std::uint32_t min_messages = 50, distinct_senders = 20;
    double foreign_sender_ratio = 0.5, bounce_ratio = 0.3;
  } mynetworks_relay;
  struct {
    std::uint32_t min_messages = 200;
    double share = 0.5;
  } queue_flood;
  struct {
    std::vector<std::string> senders, accounts;  // lower case
  } exceptions;

  std::string location;  // the file it came from
  FindingSeverity severity_of(Detector d) const { return severity[static_cast<std::size_t>(d)]; }
};

Result<DetectorCatalog> parse_detector_catalog(std::string_view text, std::string_view name);
Result<DetectorCatalog> load_detector_catalog(const std::filesystem::path& file);
// catalog_dir()/detectors.toml
Result<DetectorCatalog> load_default_detector_catalog();

}  // namespace mw::logs
