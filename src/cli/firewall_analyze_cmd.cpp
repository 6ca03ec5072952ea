// `mailwarden firewall analyze`: wiring from the command line to the exposure analyser.
#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/scan_options.hpp"
#include "firewall/analysis.hpp"
#include "firewall/ruleset_loader.hpp"
#include "policy/policy.hpp"
#include "report/analysis_report.hpp"
#include "report/scan_report.hpp"
#include "scan/scanner.hpp"
#include "scan/verify.hpp"

namespace mw::cli {

namespace {

// analyze has its own exit codes: monitoring scripts tell "exposed" from "cannot say".
constexpr int kAnalyzeClean = 0;
constexpr int kAnalyzeFindings = 1;
constexpr int kAnalyzeUncertain = 2;
constexpr int kAnalyzeError = 3;

struct AnalyzeOptions {
  std::vector<std::string> files;
  std::string policy;
  std::string node;
  std::string product = "zimbra";
  std::string ports;
  std::vector<std::string> queries;
  std::string iface;
  std::vector<std::string> to;
  std::string format = "text";
  // --verify HOST: scan HOST from here and compare with the prediction for this source.
  std::string verify;
  std::vector<std::string> sources;
  std::string timeout = "1s";
  int retries = 1;
};

int fail(const std::string& message) {
  fmt::print(stderr, "mailwarden: {}\n", message);
  return kAnalyzeError;
}

int run_verify(const AnalyzeOptions& o, const fw::Ruleset& ruleset,
               const std::vector<fw::PortQuery>& ports, const fw::ArrivalContext& ctx) {
  scan::ScanOptions so;
  so.ports = ports;
  auto timeout = parse_timeout(o.timeout);
  if (!timeout) return fail(timeout.error().message);
  so.timeout = *timeout;
  so.retries = o.retries;
  if (auto s = add_sources(so, o.sources); !s) return fail(s.error().message);
  auto targets = scan::resolve_host(o.verify);
  if (!targets) return fail("--verify: " + targets.error().message);
  // The prediction is for the address the probes leave from: --source, else the kernel's
  // choice of source for the target.
  std::vector<Address> sources;
  for (const auto& t : *targets) {
    auto given = t.family == Family::v4 ? so.source_v4 : so.source_v6;
    if (given) {
      sources.push_back(*given);
      continue;
    }
    auto local = scan::local_source_for(t);
    if (!local) return fail(fmt::format("--verify {}: {}", to_string(t), local.error().message));
    sources.push_back(*local);
  }
  auto observed = scan::scan_host(o.verify, *targets, so);
  if (!observed) return fail("--verify: " + observed.error().message);
  auto v = scan::verify_scan(ruleset, *observed, sources, ctx);
  if (o.format == "json") {
    std::fputs(report::render_verify_json(v, o.files).c_str(), stdout);
  } else {
    std::fputs(report::render_verify_text(v, o.files, isatty(STDOUT_FILENO)).c_str(), stdout);
  }
  if (v.mismatches > 0) return kAnalyzeFindings;
  return v.uncertain ? kAnalyzeUncertain : kAnalyzeClean;
}

int run_analyze(const AnalyzeOptions& o) {
  if (!o.verify.empty() && !o.queries.empty()) {
    return fail("--verify and --query exclude each other");
  }
  if (o.verify.empty() && !o.sources.empty()) return fail("--source needs --verify");
  auto ruleset = fw::load_dumps(o.files);
  if (!ruleset) return fail(ruleset.error().message);
  for (const auto& w : ruleset->warnings) fmt::print(stderr, "{}\n", w);

  std::optional<LoadedPolicy> loaded;
  std::optional<FirewallPlan> plan;
  PortCatalog catalog;
  if (!o.policy.empty()) {
    auto lp = load_policy(o.policy);
    if (!lp) return fail(lp.error().message);
    auto site = policy_for_node(lp->policy, o.node);
    if (!site) return fail(site.error().message);
    auto p = make_plan(*site, lp->catalog);
    if (!p) return fail(p.error().message);
    plan = std::move(*p);
    catalog = lp->catalog;
  } else {
    auto c = load_product_catalog(o.product);
    if (!c) return fail(fmt::format("--product {}: {}", o.product, c.error().message));
    catalog = std::move(*c);
  }

  fw::ArrivalContext ctx;
  if (!o.iface.empty()) ctx.iface = o.iface;
  for (const auto& t : o.to) {
    auto a = parse_address(t);
    if (!a) return fail(fmt::format("--to: {}", a.error().message));
    (a->family == Family::v4 ? ctx.to_v4 : ctx.to_v6) = *a;
  }

  if (!o.queries.empty()) {
    bool uncertain = false;
    for (const auto& q : o.queries) {
      auto comma = q.find(',');
      if (comma == std::string::npos) {
        return fail(fmt::format("--query '{}': expected SOURCE,PORT[/PROTO]", q));
      }
      auto src = parse_address(q.substr(0, comma));
      if (!src) return fail(fmt::format("--query '{}': {}", q, src.error().message));
      auto ports = fw::parse_port_queries(q.substr(comma + 1), &catalog);
      if (!ports || ports->size() != 1) {
        return fail(fmt::format("--query '{}': {}", q,
                                ports ? "one port per query" : ports.error().message));
      }
      auto r = fw::analyse(*ruleset, fw::make_query(src->family, ports->front(), ctx));
      const fw::Region* reg = r.region_of(*src);
      report::QueryAnswer a{q.substr(0, comma), ports->front(), reg->outcome, reg->rule,
                            reg->reason};
      uncertain = uncertain || reg->outcome == fw::Outcome::uncertain;
      std::fputs(report::render_query_line(a).c_str(), stdout);
    }
    return uncertain ? kAnalyzeUncertain : kAnalyzeClean;
  }

  std::vector<fw::PortQuery> ports;
  if (o.ports.empty()) {
    ports = fw::catalog_ports(catalog);
    if (plan) {
      // The policy's own ports too (its SSH port, extra ports), once each.
      for (const auto& op : plan->openings) {
        bool known = std::any_of(ports.begin(), ports.end(), [&](const fw::PortQuery& p) {
          return p.protocol == op.protocol && p.port == op.port;
        });
        if (!known) ports.push_back({op.protocol, op.port, op.service});
      }
    }
  } else {
    auto parsed = fw::parse_port_queries(o.ports, &catalog);
    if (!parsed) return fail(parsed.error().message);
    ports = std::move(*parsed);
  }

  if (!o.verify.empty()) return run_verify(o, *ruleset, ports, ctx);
  auto report = fw::analyse_ports(*ruleset, ports, ctx, plan ? &*plan : nullptr);
  if (o.format == "json") {
    std::fputs(report::render_analysis_json(report, o.files).c_str(), stdout);
  } else {
    std::fputs(report::render_analysis_text(report, o.files, isatty(STDOUT_FILENO)).c_str(),
               stdout);
  }
  if (!report.findings.empty()) return kAnalyzeFindings;
  return report.uncertain ? kAnalyzeUncertain : kAnalyzeClean;
}

}  // namespace

void register_firewall_analyze(CLI::App& fw, int& exit_code) {
  auto o = std::make_shared<AnalyzeOptions>();
  auto* cmd = fw.add_subcommand(
      "analyze",
      "who can reach which port, from an iptables-save / ip6tables-save / nft -j dump\n"
      "exit codes: 0 no finding, 1 findings (with --policy), 2 uncertain answers, 3 error\n"
      "with --verify: 0 prediction and scan agree, 1 a mismatch, 2 uncertain predictions, 3 error");
  cmd->add_option("files", o->files, "ruleset dumps of one host ('-' reads standard input)")
      ->required();
  cmd->add_option("--policy,-p", o->policy, "site policy: report every port more exposed");
  cmd->add_option("--node,-n", o->node, "node of a multi-server policy");
  cmd->add_option("--product", o->product, "catalog of ports when no policy is given")
      ->capture_default_str();
  cmd->add_option("--ports", o->ports, "ports to analyse: 25,587,7071/tcp,161/udp");
  cmd->add_option("--query,-q", o->queries, "SOURCE,PORT[/PROTO]: one line per query");
  cmd->add_option("--iface", o->iface, "the interface packets arrive on");
  cmd->add_option("--to", o->to, "the host's address packets are sent to (one per family)");
  cmd->add_option("--format", o->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--verify", o->verify,
                  "scan HOST from here and compare with the prediction for this machine's address");
  cmd->add_option("--source", o->sources, "with --verify: the local address to scan from");
  cmd->add_option("--timeout", o->timeout, "with --verify: per scan attempt (500ms, 1s)")
      ->capture_default_str();
  cmd->add_option("--retries", o->retries, "with --verify: more attempts for silent ports")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_analyze(*o); });
}

}  // namespace mw::cli
