// Loads catalog/detectors.toml with toml++: every table and key known, every value in range.
#include "logs/detector_catalog.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "catalog/ports.hpp"
#include "catalog/toml_file.hpp"
#include "core/duration.hpp"

namespace mw::logs {

namespace {

constexpr std::uintmax_t kMaxCatalogBytes = 256 * 1024;

// Validation stops at the first error; thrown inside the parser, caught at its entry.
struct CatalogError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string_view name) : name_(name) {}

  DetectorCatalog parse(const toml::table& root) {
    DetectorCatalog c;
    c.location = std::string(name_);
    for (auto&& [key, node] : root) {
      const std::string k(key.str());
      if (k == "exceptions") continue;
      if (!detector_from_name(k)) fail(node, fmt::format("unknown table [{}]", k));
      if (!node.is_table()) fail(node, fmt::format("'{}' must be a table", k));
    }
    for (std::size_t i = 0; i < kDetectors; ++i) {
      const auto d = static_cast<Detector>(i);
      if (!root.contains(name_of(d)))
        fail(root,
             fmt::format("table [{}] is missing: every detector is configured here", name_of(d)));
    }
    auto t = [&](Detector d) -> const toml::table& {
      const toml::table& tab = *root.get(name_of(d))->as_table();
      c.severity[static_cast<std::size_t>(d)] = severity(tab, name_of(d));
      return tab;
    };
    {
      const auto& b = t(Detector::brute_force);
      keys(b, "brute_force", {"severity", "window", "failures", "known_address_failures"});
      c.brute_force.window = duration(b, "window");
      c.brute_force.failures = count(b, "failures");
      c.brute_force.known_address_failures = count(b, "known_address_failures");
    }
    {
      const auto& b = t(Detector::password_spray);
      keys(b, "password_spray",
           {"severity", "window", "accounts", "botnet_window", "botnet_accounts",
            "botnet_addresses"});
      c.password_spray.window = duration(b, "window");
      c.password_spray.accounts = count(b, "accounts");
      c.password_spray.botnet_window = duration(b, "botnet_window");
      c.password_spray.botnet_accounts = count(b, "botnet_accounts");
      c.password_spray.botnet_addresses = count(b, "botnet_addresses");
    }
    {
      const auto& b = t(Detector::compromised_login);
      keys(b, "compromised_login", {"severity", "lookback", "min_failures"});
      c.compromised_login.lookback = duration(b, "lookback");
      c.compromised_login.min_failures = count(b, "min_failures");
    }
    {
      const auto& b = t(Detector::impossible_travel);
      keys(b, "impossible_travel", {"severity", "speed_kmh", "min_distance_km", "country_window"});
      c.impossible_travel.speed_kmh = number(b, "speed_kmh", 1, 100000);
      c.impossible_travel.min_distance_km = number(b, "min_distance_km", 0, 20040);
      c.impossible_travel.country_window = duration(b, "country_window");
    }
    {
      const auto& b = t(Detector::outbound_burst);
      keys(b, "outbound_burst", {"severity", "window", "messages", "recipients"});
      c.outbound_burst.window = duration(b, "window");
      c.outbound_burst.messages = count(b, "messages");
      c.outbound_burst.recipients = count(b, "recipients");
    }
    {
      const auto& b = t(Detector::bounce_ratio);
      keys(b, "bounce_ratio", {"severity", "window", "min_messages", "ratio"});
      c.bounce_ratio.window = duration(b, "window");
      c.bounce_ratio.min_messages = count(b, "min_messages");
      c.bounce_ratio.ratio = number(b, "ratio", 0.01, 1);
    }
    {
      const auto& b = t(Detector::baseline_exceeded);
      keys(b, "baseline_exceeded", {"severity", "min_history", "factor", "min_messages"});
      c.baseline_exceeded.min_history = duration(b, "min_history");
      c.baseline_exceeded.factor = number(b, "factor", 1, 1e6);
      c.baseline_exceeded.min_messages = count(b, "min_messages");
    }
    {
      const auto& b = t(Detector::mynetworks_relay);
      keys(b, "mynetworks_relay",
           {"severity", "window", "min_messages", "foreign_sender_ratio", "distinct_senders",
            "bounce_ratio"});
      c.mynetworks_relay.window = duration(b, "window");
      c.mynetworks_relay.min_messages = count(b, "min_messages");
      c.mynetworks_relay.foreign_sender_ratio = number(b, "foreign_sender_ratio", 0.01, 1);
      c.mynetworks_relay.distinct_senders = count(b, "distinct_senders");
      c.mynetworks_relay.bounce_ratio = number(b, "bounce_ratio", 0.01, 1);
    }
    {
      const auto& b = t(Detector::queue_flood);
      keys(b, "queue_flood", {"severity", "min_messages", "share"});
      c.queue_flood.min_messages = count(b, "min_messages");
      c.queue_flood.share = number(b, "share", 0.01, 1);
    }
    if (const auto* ex = root.get("exceptions")) {
      const auto* tab = ex->as_table();
      if (tab == nullptr) fail(*ex, "'exceptions' must be a table");
      keys(*tab, "exceptions", {"senders", "accounts"});
      c.exceptions.senders = strings(*tab, "senders");
      c.exceptions.accounts = strings(*tab, "accounts");
    }
    return c;
  }

 private:
  [[noreturn]] void fail(const toml::node& at, std::string_view what) const {
    const auto& b = at.source().begin;
    throw CatalogError{fmt::format("{}:{}:{}: {}", name_, b.line > 0 ? b.line : 1,
                                   b.column > 0 ? b.column : 1, what)};
  }

  void keys(const toml::table& t, std::string_view table,
            std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end())
        fail(node, fmt::format("[{}]: unknown key '{}'", table, key.str()));
    }
    for (auto k : allowed) {
      if (k != "senders" && k != "accounts" && !t.contains(k))
        fail(t, fmt::format("[{}]: key '{}' is missing", table, k));
    }
  }

  const toml::node& get(const toml::table& t, std::string_view key) const {
    const auto* n = t.get(key);
    if (n == nullptr) fail(t, fmt::format("key '{}' is missing", key));
    return *n;
  }

  FindingSeverity severity(const toml::table& t, std::string_view table) const {
    const auto& n = get(t, "severity");
    const auto s = n.value<std::string>();
    if (!s) fail(n, fmt::format("[{}].severity must be a string", table));
    for (auto v : {FindingSeverity::critical, FindingSeverity::high, FindingSeverity::medium,
                   FindingSeverity::low})
      if (*s == name_of(v)) return v;
    fail(n, fmt::format("[{}].severity '{}' is not one of critical, high, medium, low", table, *s));
  }

  std::int64_t duration(const toml::table& t, std::string_view key) const {
    const auto& n = get(t, key);
    const auto s = n.value<std::string>();
    if (!s) fail(n, fmt::format("'{}' must be a duration string like \"10m\"", key));
    // s, m, h, d; from 1 s to 365 days.
    const auto d = mw::parse_duration(*s);
    if (!d) fail(n, fmt::format("'{}': {}", key, d.error().message));
    return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  }

  std::uint32_t count(const toml::table& t, std::string_view key) const {
    const auto& n = get(t, key);
    const auto* v = n.as_integer();
    if (v == nullptr) fail(n, fmt::format("'{}' must be an integer", key));
    if (v->get() < 1 || v->get() > 100'000'000)
      fail(n, fmt::format("'{}' = {} is out of range 1..100000000", key, v->get()));
    return static_cast<std::uint32_t>(v->get());
  }

  double number(const toml::table& t, std::string_view key, double lo, double hi) const {
    const auto& n = get(t, key);
    const auto v = n.value<double>();  // integers convert too
    if (!v) fail(n, fmt::format("'{}' must be a number", key));
    if (!(*v >= lo && *v <= hi))
      fail(n, fmt::format("'{}' = {} is out of range {}..{}", key, *v, lo, hi));
    return *v;
  }

  std::vector<std::string> strings(const toml::table& t, std::string_view key) const {
    std::vector<std::string> out;
    const auto* n = t.get(key);
    if (n == nullptr) return out;
    const auto* arr = n->as_array();
    if (arr == nullptr) fail(*n, fmt::format("'{}' must be an array of strings", key));
    for (const auto& item : *arr) {
      const auto s = item.value<std::string>();
      if (!s || s->empty()) fail(item, fmt::format("'{}': every entry must be a string", key));
      std::string lower = *s;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      out.push_back(std::move(lower));
    }
    return out;
  }

  std::string_view name_;
};

}  // namespace

Result<DetectorCatalog> parse_detector_catalog(std::string_view text, std::string_view name) {
  auto root = parse_toml(text, name);
  if (!root) return root.error();
  try {
    return Parser(name).parse(*root);
  } catch (const CatalogError& e) {
    return Error{e.message};
  }
}

Result<DetectorCatalog> load_detector_catalog(const std::filesystem::path& file) {
  auto text = read_catalog_file(file, kMaxCatalogBytes);
  if (!text) return text.error();
  return parse_detector_catalog(*text, file.string());
}

Result<DetectorCatalog> load_default_detector_catalog() {
  return load_detector_catalog(mw::catalog_dir() / "detectors.toml");
}

}  // namespace mw::logs
