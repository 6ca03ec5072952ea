// `mailwarden dnsbl check IP...`: the blacklists of the incident guide, queried concurrently,
// rendered as text, JSON or a Nagios plugin line. Exit codes: 0 not listed anywhere, 1 listed
// somewhere, 2 some answers unknown (timeout, refused, unreliable list) and none listed,
// 3 usage or setup error. With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/ip.hpp"
#include "dnsbl/check.hpp"

namespace mw::cli {

namespace {

constexpr int kClean = 0, kListed = 1, kUnknown = 2, kUsage = 3;
constexpr int kNagiosOk = 0, kNagiosWarning = 1, kNagiosCritical = 2, kNagiosUnknown = 3;

struct DnsblOptions {
  std::vector<std::string> ips;
  std::string lists, resolver, timeout = "2s", format = "text", only;
  int retries = 2;
  bool txt = false, no_health = false;
};

// "2s", "500ms", "1.5s" -> milliseconds (1 ms .. 60 s).
std::optional<std::chrono::milliseconds> parse_timeout(std::string_view s) {
  double scale = 1000;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    scale = 1;
    s.remove_suffix(2);
  } else if (s.size() > 1 && s.back() == 's') {
    s.remove_suffix(1);
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || !(v > 0)) return std::nullopt;
  const double ms = v * scale;
  if (ms < 1 || ms > 60000) return std::nullopt;
  return std::chrono::milliseconds{static_cast<std::int64_t>(ms)};
}

std::string codes_text(const dnsbl::ListResult& r) {
  std::string out;
  for (const auto& c : r.decoded.codes) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} {}", to_string(Address{Family::v4, c.code}), c.meaning);
  }
  return out;
}

std::string verdict_word(const dnsbl::ListResult& r) {
  using dnsbl::Verdict;
  switch (r.decoded.verdict) {
    case Verdict::listed:
      return r.reliable ? "LISTED" : "listed?";
    case Verdict::not_listed:
      return r.reliable ? "not listed" : "unknown";
    case Verdict::refused:
      return "REFUSED";
    case Verdict::timeout:
      return "TIMEOUT";
    case Verdict::error:
      return "ERROR";
    case Verdict::skipped:
      return "skipped";
  }
  return "?";
}

// Per address: nothing checked at all (every list skipped) is unknown, not clean.
std::size_t unchecked_addresses(const dnsbl::CheckReport& rep) {
  std::size_t n = 0;
  for (const auto& a : rep.addresses) {
    bool any = false;
    for (const auto& r : a.results) any = any || r.decoded.verdict != dnsbl::Verdict::skipped;
    if (!any) ++n;
  }
  return n;
}

int exit_code_of(const dnsbl::CheckReport& rep) {
  if (rep.listed > 0) return kListed;
  if (rep.unknown > 0 || unchecked_addresses(rep) > 0) return kUnknown;
  return kClean;
}

// One row of the text table, without trailing blanks.
void print_row(std::string_view id, std::string_view word, std::string_view detail) {
  std::string line = fmt::format("  {:<16} {:<11} {}", id, word, detail);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  std::printf("%s\n", line.c_str());
}

void print_text(const dnsbl::CheckReport& rep) {
  for (const auto& a : rep.addresses) {
    std::printf("%s\n", to_string(a.ip).c_str());
    for (const auto& r : a.results) {
      std::string detail;
      if (r.decoded.verdict == dnsbl::Verdict::listed) {
        detail = codes_text(r);
        for (const auto& t : r.reasons) detail += fmt::format(" [{}]", t);
        detail += fmt::format(" (delist: {})", r.list->delist_url);
      } else {
        detail = r.decoded.detail;
      }
      if (!r.reliable) detail += " (list failed its health check: not trusted)";
      print_row(r.list->id, verdict_word(r), detail);
    }
  }
  std::printf("lists:\n");
  for (const auto& h : rep.health) {
    print_row(h.list->id, name_of(h.health), h.detail);
  }
  std::printf(
      "summary: %zu listed, %zu not listed, %zu unknown, %zu skipped (%zu queries in %lld ms)\n",
      rep.listed, rep.clean, rep.unknown, rep.skipped, rep.queries,
      static_cast<long long>(rep.elapsed.count()));
}

void print_json(const dnsbl::CheckReport& rep, int exit_code) {
  using nlohmann::json;
  json out;
  out["version"] = kVersion;
  json addrs = json::array();
  for (const auto& a : rep.addresses) {
    json results = json::array();
    for (const auto& r : a.results) {
      json codes = json::array();
      for (const auto& c : r.decoded.codes)
        codes.push_back({{"code", to_string(Address{Family::v4, c.code})}, {"meaning", c.meaning}});
      json j = {{"list", r.list->id},
                {"zone", r.list->zone},
                {"status", std::string(name_of(r.decoded.verdict))},
                {"reliable", r.reliable},
                {"codes", codes},
                {"detail", r.decoded.detail}};
      if (!r.query.empty()) j["query"] = r.query;
      if (!r.reasons.empty()) j["reasons"] = r.reasons;
      if (r.decoded.verdict == dnsbl::Verdict::listed) j["delist_url"] = r.list->delist_url;
      results.push_back(std::move(j));
    }
    addrs.push_back({{"ip", to_string(a.ip)}, {"results", std::move(results)}});
  }
  out["addresses"] = std::move(addrs);
  json lists = json::array();
  for (const auto& h : rep.health) {
    lists.push_back({{"id", h.list->id},
                     {"name", h.list->name},
                     {"zone", h.list->zone},
                     {"health", std::string(name_of(h.health))},
                     {"detail", h.detail},
                     {"status", std::string(dnsbl::name_of(h.list->status))},
                     {"policy", std::string(dnsbl::name_of(h.list->policy))}});
  }
  out["lists"] = std::move(lists);
  out["summary"] = {{"listed", rep.listed},   {"not_listed", rep.clean},
                    {"unknown", rep.unknown}, {"skipped", rep.skipped},
                    {"queries", rep.queries}, {"elapsed_ms", rep.elapsed.count()},
                    {"exit_code", exit_code}};
  std::printf("%s\n", out.dump(2).c_str());
}

int print_nagios(const dnsbl::CheckReport& rep) {
  std::vector<std::string> listed, unknown;
  for (const auto& a : rep.addresses) {
    for (const auto& r : a.results) {
      if (r.counts_listed())
        listed.push_back(fmt::format("{} on {} ({})", to_string(a.ip), r.list->id, codes_text(r)));
      else if (r.counts_unknown())
        unknown.push_back(fmt::format("{} on {}: {}", to_string(a.ip), r.list->id,
                                      r.reliable || dnsbl::is_unknown(r.decoded.verdict)
                                          ? std::string(name_of(r.decoded.verdict))
                                          : "list unreliable"));
    }
  }
  int code = kNagiosOk;
  std::string text;
  if (!listed.empty()) {
    code = kNagiosCritical;
    text = "listed: " + fmt::format("{}", fmt::join(listed, ", "));
  } else if (rep.clean == 0) {
    code = kNagiosUnknown;
    text = "no list gave a usable answer";
    if (!unknown.empty()) text += ": " + fmt::format("{}", fmt::join(unknown, ", "));
  } else if (!unknown.empty() || unchecked_addresses(rep) > 0) {
    code = kNagiosWarning;
    text = "not listed where checked, unknown: " + fmt::format("{}", fmt::join(unknown, ", "));
  } else {
    text = fmt::format("{} address(es) not listed on {} list(s)", rep.addresses.size(),
                       rep.health.size());
  }
  static constexpr const char* kWords[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  const std::size_t total = rep.listed + rep.clean + rep.unknown;
  std::printf(
      "DNSBL %s - %s | listed=%zu;;1;0;%zu not_listed=%zu;;;0;%zu unknown=%zu;1;;0;%zu "
      "time=%.3fs;;;0\n",
      kWords[code], text.c_str(), rep.listed, total, rep.clean, total, rep.unknown, total,
      static_cast<double>(rep.elapsed.count()) / 1000.0);
  return code;
}

int usage_error(const DnsblOptions& o, const std::string& message) {
  if (o.format == "nagios") {
    std::printf("DNSBL UNKNOWN - %s\n", message.c_str());
    return kNagiosUnknown;
  }
  std::fprintf(stderr, "mailwarden dnsbl check: %s\n", message.c_str());
  return kUsage;
}

int run_dnsbl_check(const DnsblOptions& o, const std::vector<std::string>& extras) {
  if (o.format != "text" && o.format != "json" && o.format != "nagios")
    return usage_error(o, fmt::format("--format '{}': expected text, json or nagios", o.format));
  if (!extras.empty()) return usage_error(o, fmt::format("unknown argument '{}'", extras.front()));
  if (o.ips.empty()) return usage_error(o, "no IP address given");
  if (o.retries < 0 || o.retries > 10)
    return usage_error(o, fmt::format("--retries {}: expected 0..10", o.retries));
  const auto timeout = parse_timeout(o.timeout);
  if (!timeout)
    return usage_error(
        o, fmt::format("--timeout '{}': expected e.g. 2s or 500ms (1ms..60s)", o.timeout));

  dnsbl::CheckRequest req;
  for (const auto& text : o.ips) {
    auto a = parse_address(text);
    if (!a) return usage_error(o, fmt::format("'{}': {}", text, a.error().message));
    if (auto w = dnsbl::special_range(*a)) std::fprintf(stderr, "warning: %s\n", w->c_str());
    req.ips.push_back(*a);
  }
  auto catalog =
      o.lists.empty() ? dnsbl::load_default_dnsbl_catalog() : dnsbl::load_dnsbl_catalog(o.lists);
  if (!catalog) return usage_error(o, catalog.error().message);
  if (o.only.empty()) {
    for (const auto& l : catalog->lists)
      if (l.enabled_by_default) req.lists.push_back(&l);
  } else {
    std::string_view rest = o.only;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto id = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const auto* l = catalog->find(id);
      if (l == nullptr) {
        std::string known;
        for (const auto& k : catalog->lists) known += (known.empty() ? "" : ", ") + k.id;
        return usage_error(
            o, fmt::format("--only: no list '{}' in {} (lists: {})", id, catalog->location, known));
      }
      if (l->status == dnsbl::ListStatus::closed)
        std::fprintf(stderr, "warning: %s is closed (%s): not queried\n", l->id.c_str(),
                     l->policy_note.c_str());
      req.lists.push_back(l);
    }
  }
  if (req.lists.empty()) return usage_error(o, "no list selected");
  req.fetch_reasons = o.txt;
  req.health_check = !o.no_health;

  dnsbl::ResolverOptions ro;
  ro.server = o.resolver;
  ro.timeout = *timeout;
  ro.tries = o.retries + 1;
  auto resolver = dnsbl::make_cares_resolver(ro);
  if (!resolver) return usage_error(o, resolver.error().message);

  const auto rep = dnsbl::run_check(req, **resolver);
  const int code = exit_code_of(rep);
  if (o.format == "nagios") return print_nagios(rep);
  if (o.format == "json")
    print_json(rep, code);
  else
    print_text(rep);
  return code;
}

}  // namespace

void register_dnsbl(CLI::App& app, int& exit_code) {
  auto* dnsbl = app.add_subcommand("dnsbl", "DNS blacklists: is this address listed?");
  dnsbl->require_subcommand(1);
  auto o = std::make_shared<DnsblOptions>();
  auto* check = dnsbl->add_subcommand(
      "check",
      "check addresses against the DNSBLs of the catalog (exit 0 clean, 1 listed, 2 unknown, "
      "3 usage; nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)");
  // Usage errors are ours to report (exit 3, or UNKNOWN for nagios), so unknown options and a
  // missing address are collected rather than failing the parse.
  check->allow_extras();
  check->add_option("ips", o->ips, "IPv4 or IPv6 addresses");
  check->add_option("--lists", o->lists, "catalog file (default: catalog/dnsbl.toml)");
  check->add_option("--resolver", o->resolver,
                    "resolver IP[:PORT] or [IPv6]:PORT (default: the system's resolvers)");
  check->add_option("--timeout", o->timeout, "per try, e.g. 2s or 500ms (default 2s)");
  check->add_option("--retries", o->retries, "retries after the first try (default 2)");
  check->add_option("--format,-f", o->format, "text, json or nagios");
  check->add_option("--only", o->only,
                    "comma-separated list ids (default: the catalog's default lists)");
  check->add_flag("--txt", o->txt, "also fetch the TXT reason of each listing");
  check->add_flag("--no-health-check", o->no_health,
                  "skip the test-entry queries (results are then not verified)");
  check->callback([o, check, &exit_code] { exit_code = run_dnsbl_check(*o, check->remaining()); });
}

}  // namespace mw::cli
