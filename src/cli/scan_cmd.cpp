// `mailwarden scan HOST`: wiring from the command line to the scanner and its renderers.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "catalog/ports.hpp"
#include "cli/commands.hpp"
#include "cli/scan_options.hpp"
#include "firewall/analysis.hpp"
#include "report/scan_report.hpp"
#include "scan/scanner.hpp"

namespace mw::cli {

Result<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  std::string_view number = text;
  double scale = 0;
  if (number.size() > 2 && number.substr(number.size() - 2) == "ms") {
    number.remove_suffix(2);
    scale = 1;
  } else if (number.size() > 1 && number.back() == 's') {
    number.remove_suffix(1);
    scale = 1000;
  }
  if (scale == 0) {
    return Error{fmt::format("--timeout '{}': give a unit, as in 500ms or 1s", text)};
  }
  double value = 0;
  try {
    std::size_t used = 0;
    value = std::stod(std::string(number), &used);
    if (used != number.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Error{fmt::format("--timeout '{}': not a duration", text)};
  }
  const double ms = value * scale;
  if (!(ms >= 1 && ms <= 60000)) {
    return Error{fmt::format("--timeout '{}': must be between 1ms and 60s", text)};
  }
  return std::chrono::milliseconds(static_cast<long>(ms));
}

Status add_sources(scan::ScanOptions& o, const std::vector<std::string>& sources) {
  for (const auto& s : sources) {
    auto a = parse_address(s);
    if (!a) return Error{fmt::format("--source: {}", a.error().message)};
    auto& slot = a->family == Family::v4 ? o.source_v4 : o.source_v6;
    if (slot) return Error{fmt::format("--source: two {} addresses", family_name(a->family))};
    slot = *a;
  }
  return {};
}

namespace {

struct ScanCmdOptions {
  std::string host;
  std::string ports = "catalog";
  std::string product = "zimbra";
  std::vector<std::string> sources;
  std::string timeout = "1s";
  int retries = 1;
  int max_in_flight = 256;
  std::string format = "text";
};

int fail(int code, const std::string& message) {
  fmt::print(stderr, "mailwarden: {}\n", message);
  return code;
}

int run_scan(const ScanCmdOptions& c) {
  scan::ScanOptions o;
  auto timeout = parse_timeout(c.timeout);
  if (!timeout) return fail(kExitInvalid, timeout.error().message);
  o.timeout = *timeout;
  o.retries = c.retries;
  o.max_in_flight = c.max_in_flight;
  if (auto s = add_sources(o, c.sources); !s) return fail(kExitInvalid, s.error().message);

  auto catalog = load_product_catalog(c.product);
  if (!catalog) {
    return fail(kExitInvalid, fmt::format("--product {}: {}", c.product, catalog.error().message));
  }
  if (c.ports == "catalog") {
    o.ports = fw::catalog_ports(*catalog);
  } else {
    auto parsed = fw::parse_port_queries(c.ports, &*catalog);
    if (!parsed) return fail(kExitInvalid, "--ports: " + parsed.error().message);
    o.ports = std::move(*parsed);
  }

  auto addresses = scan::resolve_host(c.host);
  if (!addresses) {
    // A range or a malformed literal is bad usage; a name that does not resolve is a failure.
    const bool usage = addresses.error().message.rfind("cannot resolve", 0) != 0;
    return fail(usage ? kExitInvalid : kExitFailure, addresses.error().message);
  }
  for (const auto& src : {o.source_v4, o.source_v6}) {
    if (!src) continue;
    bool used = false;
    for (const auto& a : *addresses) used = used || a.family == src->family;
    if (!used) {
      return fail(kExitInvalid, fmt::format("--source {}: {} has no {} address", to_string(*src),
                                            c.host, family_name(src->family)));
    }
  }
  auto report = scan::scan_host(c.host, *addresses, o);
  if (!report) return fail(kExitFailure, report.error().message);
  std::fputs(c.format == "json" ? report::render_scan_json(*report).c_str()
                                : report::render_scan_text(*report).c_str(),
             stdout);
  return kExitOk;
}

}  // namespace

void register_scan(CLI::App& app, int& exit_code) {
  auto c = std::make_shared<ScanCmdOptions>();
  auto* cmd = app.add_subcommand(
      "scan",
      "TCP connect scan of one host (open / closed / filtered, as nmap -sT), memcached and SNMP "
      "over UDP\nexit codes: 0 scanned, 1 the scan could not be done, 2 bad usage");
  cmd->add_option("host", c->host, "one address or host name (never a range)")->required();
  cmd->add_option("--ports", c->ports, "'catalog' or a list: 25,443,7071/tcp,11211/udp")
      ->capture_default_str();
  cmd->add_option("--product", c->product, "catalog of ports for --ports catalog")
      ->capture_default_str();
  cmd->add_option("--source", c->sources, "local address to scan from (one per family)");
  cmd->add_option("--timeout", c->timeout, "per attempt: 500ms, 1s")->capture_default_str();
  cmd->add_option("--retries", c->retries, "more attempts for ports that gave no answer")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_option("--max-in-flight", c->max_in_flight, "connections at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--format", c->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([c, &exit_code] { exit_code = run_scan(*c); });
}

}  // namespace mw::cli
