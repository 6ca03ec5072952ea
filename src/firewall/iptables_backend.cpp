// Renders a FirewallPlan as iptables-restore / ip6tables-restore input, in two forms.
// rules.v4|v6 replace the filter table (netfilter-persistent); mailwarden-owned.v4|v6 and
// their loader script touch only the MAILWARDEN-* chains and one jump to each.
#include "firewall/iptables_backend.hpp"
#include "core/join.hpp"

#include <fmt/format.h>

#include <cctype>
#include <string>

#include "firewall/backends.hpp"

namespace mw {

namespace {

// The limit match's clock: XT_LIMIT_SCALE ticks per second (linux/netfilter/xt_limit.h).
constexpr std::uint64_t kLimitScale = 10000;

struct UnitForm {
  std::string_view plan;      // the policy's unit
  std::string_view iptables;  // how iptables-save prints it
  std::uint64_t seconds;
};
constexpr UnitForm kUnits[] = {
    {"second", "sec", 1}, {"minute", "min", 60}, {"hour", "hour", 3600}, {"day", "day", 86400}};

// Strings that end up inside the rules or the script: the policy parser validated them, but a
// plan can be built by hand, and a quote or a newline must never reach iptables-restore.
Status check_word(const FirewallPlan& plan, std::string_view field, std::string_view value,
                  std::size_t max_len, bool quoted) {
  // Unquoted, a leading '-' would read as an option.
  bool ok = !value.empty() && value.size() <= max_len && (quoted || value.front() != '-');
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    ok = ok &&
         (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == ':' || (quoted && c == ' '));
  }
  if (ok) return {};
  return Error{
      fmt::format("{}: {} '{}': not usable in an iptables rule (1-{} characters among "
                  "letters, digits, '-', '_', '.', ':'{})",
                  plan.policy_source, field, value, max_len, quoted ? ", ' '" : "")};
}

class IptablesWriter {
 public:
  IptablesWriter(const FirewallPlan& plan, Family f, std::string log_rate)
      : plan_(plan),
        family_(f),
        v4_(f == Family::v4),
        names_(iptables_file_names(f)),
        log_rate_(std::move(log_rate)) {}

  std::vector<Artefact> render() {
    std::vector<Artefact> out;
    out.push_back({names_.rules, rules_file(),
                   fmt::format("complete filter table for netfilter-persistent: install as "
                               "/etc/iptables/{} or load with `{}-restore {}`",
                               names_.rules, tool(), names_.rules)});
    out.push_back({names_.owned, owned_file(),
                   fmt::format("the {} and {} chains only, for `{}-restore --noflush` (load "
                               "with {})",
                               kIptablesInputChain, kIptablesOutputChain, tool(), names_.loader)});
    out.push_back({names_.loader, loader_file(),
                   fmt::format("`sh {}`: loads {} and ensures exactly one jump to {} from INPUT",
                               names_.loader, names_.owned, kIptablesInputChain)});
    return out;
  }

 private:
  std::string_view tool() const { return v4_ ? "iptables" : "ip6tables"; }
  std::string_view family_label() const { return v4_ ? "IPv4" : "IPv6"; }

  void line(std::string_view text) {
    out_ += text;
    out_ += '\n';
  }
  void comment(std::string_view text) { out_ += wrap_comment(text, "# "); }
  void rule(std::string_view chain, std::string_view spec) {
    line(fmt::format("-A {} {}", chain, spec));
  }

  // First lines of every artefact: what it is, where it came from, how to load it.
  void title(std::string_view what) {
    line(fmt::format("# mailwarden firewall for {} ({}, {} server{}): {}, {}", plan_.hostname,
                     plan_.product, topology_name(plan_.topology),
                     plan_.topology == Topology::multi ? ", roles: " + join(plan_.roles) : "",
                     family_label(), what));
    line(fmt::format("# Generated from {} by `mailwarden firewall generate --backend {}`.",
                     plan_.policy_source, tool()));
    line("# Do not edit: change the policy and generate again.");
  }

  // Notes and closed ports: the documentation the nft file carries too.
  void notes_and_closed_ports() {
    for (const auto& note : plan_.notes) comment("NOTE: " + note);
    if (!plan_.closed.empty()) {
      line("#");
      line("# Listening here but closed to every other host:");
      for (const auto& c : plan_.closed) {
        line(fmt::format("#   {}/{} {}: {}", c.port, protocol_name(c.protocol), c.service, c.why));
      }
    }
    line("");
  }

  std::string rules_file() {
    out_.clear();
    title("complete rules file");
    comment(fmt::format(
        "The whole filter table for netfilter-persistent: install as /etc/iptables/{0} (loaded "
        "at boot), or load now with `{1}-restore {0}`. Loading it replaces every chain of the "
        "filter table, fail2ban's and Docker's included (they re-create theirs when they "
        "restart); on a host where other tools keep rules, run {3} (it loads {2}) instead.",
        names_.rules, tool(), names_.owned, names_.loader));
    comment(
        "FORWARD DROP: a mail server is not a router, and the Zimbra wiki's example drops "
        "forwarding too. Docker needs FORWARD: it adds its own chains and rules there when it "
        "starts (after netfilter-persistent at boot) and sets the policy to DROP itself, so "
        "this choice does not break it; reloading this file while Docker runs does, use the "
        "owned form there.");
    notes_and_closed_ports();
    line("*filter");
    line(":INPUT DROP [0:0]");
    line(":FORWARD DROP [0:0]");
    line(":OUTPUT ACCEPT [0:0]");
    input_rules("INPUT");
    if (plan_.egress_smtp_restricted) {
      line("");
      output_rules("OUTPUT", "ACCEPT");
    }
    line("COMMIT");
    return std::move(out_);
  }

  std::string owned_file() {
    out_.clear();
    title("owned chains");
    comment(fmt::format(
        "Load with `sh {0}`: it runs `{1}-restore --noflush {2}` and then makes sure that "
        "INPUT jumps to {3} exactly once{4}. With --noflush only the chains declared here are "
        "emptied and refilled, in one commit: the INPUT policy and every other chain "
        "(fail2ban's f2b-*, Docker's) stay as they are. The last rule of {3} drops, so the "
        "INPUT policy does not matter.",
        names_.loader, tool(), names_.owned, kIptablesInputChain,
        plan_.egress_smtp_restricted
            ? fmt::format(" and OUTPUT to {} exactly once", kIptablesOutputChain)
            : ""));
    if (!plan_.egress_smtp_restricted) {
      comment(
          fmt::format("{0} is declared (and so emptied) although outbound SMTP is not "
                      "restricted: a restriction loaded earlier must not outlive the "
                      "policy that asked for it.",
                      kIptablesOutputChain));
    }
    notes_and_closed_ports();
    line("*filter");
    line(fmt::format(":{} - [0:0]", kIptablesInputChain));
    line(fmt::format(":{} - [0:0]", kIptablesOutputChain));
    line(fmt::format("-F {}", kIptablesInputChain));
    line(fmt::format("-F {}", kIptablesOutputChain));
    input_rules(kIptablesInputChain);
    if (plan_.egress_smtp_restricted) {
      line("");
      // RETURN, not ACCEPT: other tools' OUTPUT rules still see loopback traffic.
      output_rules(kIptablesOutputChain, "RETURN");
    }
    line("COMMIT");
    return std::move(out_);
  }

  std::string loader_file() {
    out_.clear();
    const std::string_view var = v4_ ? "IPTABLES" : "IP6TABLES";
    line("#!/bin/sh");
    title("loader of the owned chains");
    comment(fmt::format(
        "Run as root: `sh {0}` ({1}={2}-legacy or {1}={2}-nft picks a variant; the "
        "default is whatever `{2}` is). It loads {3}, found beside this script, with "
        "`{2}-restore --noflush`, then makes sure that INPUT jumps to {4} exactly once{5}. "
        "Running it again is harmless.",
        names_.loader, var, tool(), names_.owned, kIptablesInputChain,
        plan_.egress_smtp_restricted
            ? fmt::format(" and OUTPUT to {} exactly once", kIptablesOutputChain)
            : ""));
    comment(
        "Why a script: the restore format has no 'add unless present'. An -I in the restore "
        "file would add a second jump on every reload, and -D of an absent rule fails the "
        "whole load, so the jump is checked here. A jump already in place stays where it is; "
        "extra copies are deleted; a missing one goes after the ban chains (fail2ban's f2b-*, "
        "MAILWARDEN-BAN) at the head of the chain, so that bans keep coming first.");
    line("set -eu");
    line(fmt::format("ipt=${{{}:-{}}}", var, tool()));
    line("dir=$(dirname -- \"$0\")");
    line("");
    line(fmt::format("\"$ipt-restore\" -w --noflush \"$dir/{}\"", names_.owned));
    line("");
    line("# ensure_jump CHAIN TARGET: exactly one `-A CHAIN -j TARGET`.");
    line("ensure_jump() {");
    line("  n=$(\"$ipt\" -w -S \"$1\" | grep -c -x -e \"-A $1 -j $2\" || true)");
    line("  while [ \"$n\" -gt 1 ]; do");
    line("    \"$ipt\" -w -D \"$1\" -j \"$2\"");
    line("    n=$((n - 1))");
    line("  done");
    line("  [ \"$n\" -eq 1 ] && return 0");
    line("  pos=$(\"$ipt\" -w -S \"$1\" | awk '");
    line("    $1 != \"-A\" { next }");
    line(
        "    { t = \"\"; for (i = 3; i < NF; i++) if ($i == \"-j\" || $i == \"-g\") t = $(i + 1) "
        "}");
    line("    t ~ /^f2b-/ || t == \"MAILWARDEN-BAN\" { n++; next }");
    line("    { exit }");
    line("    END { print n + 1 }')");
    line("  \"$ipt\" -w -I \"$1\" \"$pos\" -j \"$2\"");
    line("}");
    line("");
    line(fmt::format("ensure_jump INPUT {}", kIptablesInputChain));
    if (plan_.egress_smtp_restricted) {
      line(fmt::format("ensure_jump OUTPUT {}", kIptablesOutputChain));
    }
    return std::move(out_);
  }

  // The same order as the nft input chain, so that both backends decide alike.
  void input_rules(std::string_view c) {
    rule(c, "-i lo -j ACCEPT");
    line("# Loopback addresses arriving on a real interface are spoofed.");
    rule(c, v4_ ? "-s 127.0.0.0/8 -j DROP" : "-s ::1/128 -j DROP");
    line("# NULL and XMAS scans (the Zimbra wiki's iptables example).");
    rule(c, "-p tcp --tcp-flags ALL NONE -j DROP");
    rule(c, "-p tcp --tcp-flags ALL ALL -j DROP");
    rule(c, "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    rule(c, "-m conntrack --ctstate INVALID -j DROP");
    line("# A new TCP connection starts with a SYN (drops stray ACK scans too).");
    rule(c, "-p tcp ! --syn -m conntrack --ctstate NEW -j DROP");
    for (const auto& m : iptables_port_matches(plan_.never_udp)) {
      rule(c, fmt::format("-p udp {} -m comment --comment \"never opened (memcached UDP: "
                          "amplification)\" -j DROP",
                          m));
    }
    for (const auto& m : iptables_port_matches(plan_.never_tcp)) {
      rule(c, fmt::format("-p tcp {} -m comment --comment \"never opened\" -j DROP", m));
    }
    line("");
    if (v4_) {
      line("# ICMP errors keep path MTU discovery working; echo is rate limited.");
      for (const char* t : {"destination-unreachable", "time-exceeded", "parameter-problem"}) {
        rule(c, fmt::format("-p icmp --icmp-type {} -j ACCEPT", t));
      }
      rule(c,
           "-p icmp --icmp-type echo-request -m limit --limit 10/sec --limit-burst 20 -j ACCEPT");
    } else {
      line("# IPv6 cannot work without neighbour discovery and packet-too-big (RFC 4890).");
      for (const char* t :
           {"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"}) {
        rule(c, fmt::format("-p ipv6-icmp --icmpv6-type {} -j ACCEPT", t));
      }
      line("# Neighbour discovery only from the link itself (hop limit 255, RFC 4861).");
      for (const char* t : {"router-solicitation", "router-advertisement", "neighbour-solicitation",
                            "neighbour-advertisement"}) {
        rule(c, fmt::format("-p ipv6-icmp --icmpv6-type {} -m hl --hl-eq 255 -j ACCEPT", t));
      }
      line("# MLD listener query (130), report (131) and MLDv2 report (143), link-local only.");
      for (int t : {130, 131, 143}) {
        rule(c, fmt::format("-s fe80::/10 -p ipv6-icmp --icmpv6-type {} -j ACCEPT", t));
      }
      rule(c,
           "-p ipv6-icmp --icmpv6-type echo-request -m limit --limit 10/sec --limit-burst 20 "
           "-j ACCEPT");
    }
    line("");
    if (has_class(Exposure::public_)) {
      line("# Public ports: everyone.");
      accept_class(c, Exposure::public_, AddressSet::any());
    }
    if (has_class(Exposure::admin)) {
      class_comment("Admin ports: the admin networks only", "admin network", plan_.admin);
      accept_class(c, Exposure::admin, plan_.admin);
    }
    if (has_class(Exposure::cluster)) {
      class_comment("Cluster ports: the other nodes of this installation only", "cluster network",
                    plan_.cluster);
      accept_class(c, Exposure::cluster, plan_.cluster);
    }
    line("");
    if (plan_.log_drops) {
      rule(c, fmt::format("-m limit --limit {} --limit-burst 10 -j LOG --log-prefix \"{}\" "
                          "--log-level 6",
                          log_rate_, plan_.log_prefix));
    }
    rule(c, "-j DROP");
  }

  void class_comment(std::string_view what, std::string_view network, const AddressSet& set) {
    if (set.empty(family_)) {
      comment(fmt::format("{}; there is no {} {}, so they stay closed to {}.", what, family_label(),
                          network, family_label()));
    } else {
      comment(fmt::format("{} (no ipset: one rule per prefix).", what));
    }
  }

  // One rule per (source prefix, port match): without ipset, a set of sources is a list of
  // rules; public ports need no source match.
  void accept_class(std::string_view c, Exposure e, const AddressSet& sources) {
    std::vector<std::string> source_matches;
    if (e == Exposure::public_) {
      source_matches.emplace_back();
    } else {
      for (const Prefix& p : sources.to_prefixes(family_)) {
        source_matches.push_back(fmt::format("-s {} ", to_string(p)));
      }
    }
    for (Protocol proto : {Protocol::tcp, Protocol::udp}) {
      auto matches = iptables_port_matches(plan_.ports(proto, e));
      for (const auto& src : source_matches) {
        for (const auto& m : matches) {
          rule(c, fmt::format("{}-p {} {} -j ACCEPT", src, protocol_name(proto), m));
        }
      }
    }
  }

  bool has_class(Exposure e) const {
    for (const auto& o : plan_.openings) {
      if (o.exposure == e) return true;
    }
    return false;
  }

  // Outbound SMTP only from the MTA's user; the owner match exists in OUTPUT only.
  void output_rules(std::string_view c, std::string_view loopback_verdict) {
    line("# Only the MTA's user may open outbound SMTP: a web shell or a compromised");
    line("# webmail cannot send around the MTA's rate limits.");
    rule(c, fmt::format("-o lo -j {}", loopback_verdict));
    rule(c, fmt::format("-p tcp --dport 25 -m conntrack --ctstate NEW -m owner ! --uid-owner {} "
                        "-m comment --comment \"outbound SMTP only from the MTA\" -j REJECT "
                        "--reject-with tcp-reset",
                        plan_.egress_mta_user));
  }

  const FirewallPlan& plan_;
  Family family_;
  bool v4_;
  IptablesFileNames names_;
  std::string log_rate_;
  std::string out_;
};

}  // namespace

IptablesFileNames iptables_file_names(Family f) {
  std::string_view v = f == Family::v4 ? "v4" : "v6";
  return {fmt::format("rules.{}", v), fmt::format("mailwarden-owned.{}", v),
          fmt::format("mailwarden-load.{}.sh", v)};
}

std::vector<std::string> iptables_port_matches(const PortSet& ports) {
  std::vector<std::vector<std::string>> chunks;
  std::size_t used = kMultiportMaxSlots;  // forces a first chunk
  for (const auto& iv : ports.intervals().intervals()) {
    const bool range = iv.lo != iv.hi;
    const std::size_t cost = range ? 2 : 1;
    if (used + cost > kMultiportMaxSlots) {
      chunks.emplace_back();
      used = 0;
    }
    chunks.back().push_back(range ? fmt::format("{}:{}", iv.lo, iv.hi) : fmt::format("{}", iv.lo));
    used += cost;
  }
  std::vector<std::string> out;
  for (const auto& chunk : chunks) {
    if (chunk.size() == 1) {
      out.push_back("--dport " + chunk.front());
      continue;
    }
    std::string list;
    for (const auto& e : chunk) list += (list.empty() ? "" : ",") + e;
    out.push_back("-m multiport --dports " + list);
  }
  return out;
}

Result<std::string> iptables_rate(std::string_view plan_rate) {
  auto slash = plan_rate.find('/');
  std::uint64_t n = 0;
  bool ok = slash != std::string_view::npos && slash > 0 && slash <= 9 && plan_rate[0] != '0';
  for (std::size_t i = 0; ok && i < slash; ++i) {
    ok = std::isdigit(static_cast<unsigned char>(plan_rate[i])) != 0;
    n = n * 10 + static_cast<std::uint64_t>(plan_rate[i] - '0');
  }
  const UnitForm* unit = nullptr;
  if (ok) {
    for (const auto& u : kUnits) {
      if (plan_rate.substr(slash + 1) == u.plan) unit = &u;
    }
  }
  if (!unit) {
    return Error{fmt::format("'{}' is not a rate (expected N/second, N/minute, N/hour or N/day)",
                             plan_rate)};
  }
  // The match keeps one packet's cost in ticks: a rate above one packet per tick is refused.
  if (kLimitScale * unit->seconds / n == 0) {
    return Error{
        fmt::format("'{}' is faster than iptables' limit match can count (at most "
                    "{}/second)",
                    plan_rate, kLimitScale)};
  }
  return fmt::format("{}/{}", n, unit->iptables);
}

Result<std::vector<Artefact>> render_iptables_family(const FirewallPlan& plan, Family f) {
  std::string_view backend = f == Family::v4 ? "iptables" : "ip6tables";
  if (auto st = require_linux_host(plan, backend); !st) return st.error();
  std::string rate;
  if (plan.log_drops) {
    auto r = iptables_rate(plan.log_rate);
    if (!r) {
      return Error{fmt::format("{}: logging.rate: {}", plan.policy_source, r.error().message)};
    }
    rate = *r;
    // --log-prefix holds 29 characters.
    if (auto st = check_word(plan, "logging.prefix", plan.log_prefix, 29, true); !st) {
      return st.error();
    }
  }
  if (plan.egress_smtp_restricted) {
    if (auto st = check_word(plan, "egress.mta_user", plan.egress_mta_user, 32, false); !st) {
      return st.error();
    }
  }
  return IptablesWriter(plan, f, std::move(rate)).render();
}

Result<std::vector<Artefact>> render_iptables(const FirewallPlan& plan) {
  return render_iptables_family(plan, Family::v4);
}

Result<std::vector<Artefact>> render_ip6tables(const FirewallPlan& plan) {
  return render_iptables_family(plan, Family::v6);
}

}  // namespace mw
