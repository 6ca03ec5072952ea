// Renders a FirewallPlan for ufw: application profiles, the ufw command script that uses
// them, and the before.rules fragments for what ufw's commands cannot express.
#include "firewall/ufw_backend.hpp"
#include "core/join.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "firewall/backends.hpp"

namespace mw {

namespace {

// Free text from the policy and the catalog (an extra port's comment, a host name) ends up in
// '#' comments of a shell script and in INI values: a newline there would end the comment and
// make the rest a command, so every control character becomes a space.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out;
}

bool is_ssh(const PortOpening& o) {
  return o.protocol == Protocol::tcp && o.service == "ssh";
}

// The ports of one class and protocol that go into profiles: SSH has its own port rules.
PortSet profile_ports(const FirewallPlan& plan, Protocol proto, Exposure e) {
  PortSet ssh;
  for (const auto& o : plan.openings) {
    if (o.exposure == e && is_ssh(o)) ssh.add(o.port);
  }
  return plan.ports(proto, e).subtract(ssh);
}

std::string interval_text(std::uint16_t lo, std::uint16_t hi, char sep) {
  return lo == hi ? fmt::format("{}", lo) : fmt::format("{}{}{}", lo, sep, hi);
}

// The services behind each port or range of a profile ("7071-7074" -> zimbra-admin-console,
// zimbra-extension, ...), for its description and the comments above it.
struct PortServices {
  std::string ports;
  std::vector<std::string> services;
};

std::vector<PortServices> port_services(const FirewallPlan& plan, const UfwProfile& p) {
  std::vector<PortServices> out;
  for (const auto& iv : p.ports.intervals().intervals()) {
    PortServices ps{interval_text(iv.lo, iv.hi, '-'), {}};
    for (const auto& o : plan.openings) {
      if (o.protocol != p.protocol || o.exposure != p.exposure || o.port < iv.lo ||
          o.port > iv.hi) {
        continue;
      }
      std::string name = one_line(o.service);
      if (std::find(ps.services.begin(), ps.services.end(), name) == ps.services.end()) {
        ps.services.push_back(std::move(name));
      }
    }
    out.push_back(std::move(ps));
  }
  return out;
}

// ufw skips a profile whose value is longer than 1024 characters.
std::string clip(std::string text, std::size_t max = 1000) {
  if (text.size() <= max) return text;
  std::size_t cut = text.rfind(' ', max - 4);
  text.resize(cut == std::string::npos ? max - 4 : cut);
  return text + " ...";
}

std::string host_line(const FirewallPlan& plan) {
  return one_line(
      fmt::format("{} ({}, {} server{})", plan.hostname, plan.product, topology_name(plan.topology),
                  plan.topology == Topology::multi ? ", roles: " + join(plan.roles, ", ") : ""));
}

std::string generated_line(const FirewallPlan& plan) {
  return one_line(fmt::format("Generated from {} by `mailwarden firewall generate --backend ufw`.",
                              plan.policy_source));
}

std::string sq(std::string_view name) {
  // Profile names are mailwarden-<class>-<proto>[-N]: nothing to escape inside the quotes.
  return fmt::format("'{}'", name);
}

bool has_egress_rule(const FirewallPlan& plan) {
  return plan.egress_smtp_restricted;
}

// ---------------------------------------------------------------------------------------
// /etc/ufw/applications.d/mailwarden

std::string render_profiles(const FirewallPlan& plan, const std::vector<UfwProfile>& profiles) {
  std::string out;
  out += "# mailwarden ufw application profiles for " + host_line(plan) + "\n";
  out += "# " + generated_line(plan) + "\n";
  out += wrap_comment(
      fmt::format("Install as /etc/ufw/applications.d/{} (mode 0644), then run {}. Each profile "
                  "holds one exposure class: the public ones are allowed from anywhere, the "
                  "admin and cluster ones only from their networks, so no admin or internal "
                  "port can be opened to everyone through a public profile. At most {} ports "
                  "per profile (a range counts as two): ufw's limit.",
                  kUfwProfileFile, kUfwScriptFile, kUfwMaxPortSlots),
      "# ");
  if (profiles.empty()) out += "# No port besides SSH is open: no profile.\n";
  for (const auto& p : profiles) {
    auto services = port_services(plan, p);
    out += "\n";
    out += wrap_comment(
        fmt::format("{}: {}", exposure_name(p.exposure), who_may_connect(p.exposure)), "# ");
    std::vector<std::string> summary;
    for (const auto& s : services) {
      out += wrap_comment(
          fmt::format("{}/{} {}", s.ports, protocol_name(p.protocol), join(s.services, ", ")),
          "#   ");
      summary.push_back(s.ports + " " + join(s.services, "/"));
    }
    out += fmt::format("[{}]\n", p.name);
    out += fmt::format("title=mailwarden: {} {} ports of {}\n", exposure_name(p.exposure),
                       protocol_name(p.protocol), one_line(plan.hostname));
    out += "description=" +
           clip(fmt::format("Open to {}: {}", who_may_connect(p.exposure), join(summary, ", "))) +
           "\n";
    out += fmt::format("ports={}\n", ufw_port_list(p.ports, p.protocol));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// mailwarden-ufw.sh

class ScriptWriter {
 public:
  ScriptWriter(const FirewallPlan& plan, const std::vector<UfwProfile>& profiles)
      : plan_(plan), profiles_(profiles) {}

  std::string render() {
    header();
    preflight();
    commands();
    return std::move(out_);
  }

 private:
  void line(std::string_view text) {
    out_ += text;
    out_ += '\n';
  }
  void comment(std::string_view text) { out_ += wrap_comment(text, "# "); }

  void header() {
    line("#!/bin/sh");
    line("# mailwarden ufw commands for " + host_line(plan_));
    line("# " + generated_line(plan_));
    line("# Do not edit: change the policy and generate again.");
    comment(fmt::format("Before running (as root): install -m 0644 {} /etc/ufw/applications.d/{}",
                        kUfwProfileFile, kUfwProfileFile));
    comment(
        "For a host whose ufw has no rules of its own: these commands add rules and remove "
        "none, and ufw evaluates rules in the order they were added. To apply a changed "
        "policy, start again from `ufw --force reset` (which also restores ufw's stock "
        "before.rules); profiles whose ports changed are refreshed by `ufw app update` below.");
    line("#");
    comment(
        "Already done by ufw's stock /etc/ufw/before.rules and before6.rules, so not repeated "
        "here: loopback accepted, established/related accepted, invalid dropped; ICMP "
        "destination-unreachable, time-exceeded, parameter-problem and echo-request accepted "
        "(echo is not rate limited); ICMPv6 errors including packet-too-big, echo, neighbour "
        "and router discovery (hop limit 255) and MLD from fe80::/10 accepted (RFC 4890). "
        "They also accept DHCP client replies, mDNS (224.0.0.251, ff02::fb) and SSDP "
        "multicast.");
    line("#");
    line("# Not covered by these commands:");
    comment(fmt::format(
        "- spoofed loopback sources and new TCP connections without SYN are not dropped "
        "explicitly, as nothing in ufw's command syntax expresses them: {} and {} do, pasted "
        "into before.rules and before6.rules by hand.",
        kUfwBeforeFragmentFile, kUfwBefore6FragmentFile));
    if (has_egress_rule(plan_)) {
      comment(fmt::format(
          "- OUTBOUND SMTP IS NOT RESTRICTED by this script: only the MTA's user ({}) should "
          "open tcp/25, which needs iptables' owner match, which ufw rules cannot use. The "
          "rule is in {} and {}: paste them by hand.",
          one_line(plan_.egress_mta_user), kUfwBeforeFragmentFile, kUfwBefore6FragmentFile));
    }
    if (plan_.log_drops) {
      comment(fmt::format(
          "- drop logging is ufw's own (`ufw logging low`: prefix \"[UFW BLOCK] \", 3/minute, "
          "burst 10), not the policy's rate ({}) and prefix (\"{}\").",
          one_line(plan_.log_rate), one_line(plan_.log_prefix)));
    }
    for (const auto& note : plan_.notes) comment("NOTE: " + one_line(note));
    if (!plan_.closed.empty()) {
      line("#");
      line("# Listening here but closed to every other host:");
      for (const auto& c : plan_.closed) {
        out_ += wrap_comment(fmt::format("{}/{} {}: {}", c.port, protocol_name(c.protocol),
                                         one_line(c.service), one_line(c.why)),
                             "#   ");
      }
    }
    line("");
    line("set -e");
    line("");
  }

  void preflight() {
    comment(
        "Refuse to start half-way: without IPv6 in ufw, ip6tables is left open, and a missing "
        "profile would stop the script after the default policy changed.");
    line(
        "grep -Eiq '^IPV6=\"?yes\"?[[:space:]]*$' /etc/default/ufw || { echo \"$0: set IPV6=yes in "
        "/etc/default/ufw: IPv6 would not be filtered\" >&2; exit 1; }");
    for (const auto& p : profiles_) {
      line(fmt::format("ufw app info {} >/dev/null", sq(p.name)));
    }
    line("");
  }

  void commands() {
    line("ufw default deny incoming");
    line("ufw default allow outgoing");
    line("");
    never_opened();
    ssh();
    bool first = true;
    for (const auto& p : profiles_) {
      if (p.exposure != Exposure::public_) continue;
      if (first) comment("Public profiles: everyone, IPv4 and IPv6.");
      first = false;
      line(fmt::format("ufw allow {}", sq(p.name)));
    }
    from_sources(Exposure::admin, plan_.admin, "Admin profiles: the admin networks only.");
    from_sources(Exposure::cluster, plan_.cluster,
                 "Cluster profiles: the other nodes of this installation only.");
    line("");
    for (const auto& p : profiles_) line(fmt::format("ufw app update {}", sq(p.name)));
    line(plan_.log_drops ? "ufw logging low" : "ufw logging off");
    line("ufw --force enable");
    line("ufw status verbose");
  }

  void never_opened() {
    if (plan_.never_udp.empty() && plan_.never_tcp.empty()) return;
    comment(
        "Never opened (memcached UDP: amplification). The default policy drops it anyway; "
        "this first rule says so in `ufw status`.");
    for (auto [proto, set] :
         {std::pair{Protocol::udp, &plan_.never_udp}, std::pair{Protocol::tcp, &plan_.never_tcp}}) {
      for (const auto& iv : set->intervals().intervals()) {
        line(fmt::format("ufw deny {}/{}", interval_text(iv.lo, iv.hi, ':'), protocol_name(proto)));
      }
    }
    line("");
  }

  void ssh() {
    std::set<std::tuple<Exposure, std::uint16_t>> rules;
    for (const auto& o : plan_.openings) {
      if (is_ssh(o)) rules.insert({o.exposure, o.port});
    }
    if (rules.empty()) return;
    comment("SSH, by port: it must never depend on the profile file.");
    for (auto [e, port] : rules) {
      if (e == Exposure::public_) {
        line(fmt::format("ufw allow {}/tcp", port));
        continue;
      }
      const AddressSet& from = e == Exposure::admin ? plan_.admin : plan_.cluster;
      for (const Prefix& p : from.to_prefixes()) {
        line(fmt::format("ufw allow from {} to any port {} proto tcp", to_string(p), port));
      }
    }
    line("");
  }

  void from_sources(Exposure e, const AddressSet& from, std::string_view what) {
    bool first = true;
    for (const auto& p : profiles_) {
      if (p.exposure != e) continue;
      if (first) comment(what);
      first = false;
      // to_prefixes() lists IPv4 then IPv6: each family gets its own rule, as ufw needs.
      for (const Prefix& prefix : from.to_prefixes()) {
        line(fmt::format("ufw allow from {} to any app {}", to_string(prefix), sq(p.name)));
      }
    }
  }

  const FirewallPlan& plan_;
  const std::vector<UfwProfile>& profiles_;
  std::string out_;
};

// ---------------------------------------------------------------------------------------
// before.rules / before6.rules fragments

std::string render_fragment(const FirewallPlan& plan, Family f) {
  const bool v4 = f == Family::v4;
  const std::string file = v4 ? "before.rules" : "before6.rules";
  const std::string chain = v4 ? "ufw" : "ufw6";
  std::string out;
  out += fmt::format("# mailwarden additions to /etc/ufw/{} for {}\n", file, host_line(plan));
  out += "# " + generated_line(plan) + "\n";
  out += wrap_comment(
      fmt::format("{} does not apply these: ufw's commands cannot express them. Paste the "
                  "lines below into /etc/ufw/{} just above its last COMMIT line (the end of "
                  "its *filter table, where they follow ufw's own loopback, established and "
                  "ICMP rules), then run `ufw reload`. `ufw --force reset` restores the stock "
                  "file and drops them.",
                  kUfwScriptFile, file),
      "# ");
  out += "\n# Loopback addresses arriving on a real interface are spoofed.\n";
  out += fmt::format("-A {}-before-input -s {} -j DROP\n", chain, v4 ? "127.0.0.0/8" : "::1/128");
  out += "# A new TCP connection starts with a SYN (drops NULL, XMAS and stray ACK scans).\n";
  out +=
      fmt::format("-A {}-before-input -p tcp ! --syn -m conntrack --ctstate NEW -j DROP\n", chain);
  if (has_egress_rule(plan)) {
    out += wrap_comment(
        fmt::format("Only the MTA's user may open outbound SMTP: a web shell or a compromised "
                    "webmail cannot send around the MTA's rate limits. The user ({}) must "
                    "exist when ufw loads this file.",
                    plan.egress_mta_user),
        "# ");
    out += fmt::format(
        "-A {}-before-output -p tcp --dport 25 -m conntrack --ctstate NEW -m owner ! "
        "--uid-owner {} -j REJECT --reject-with tcp-reset\n",
        chain, plan.egress_mta_user);
  }
  return out;
}

// The MTA user lands unquoted in an iptables-restore line: a space would add options.
bool valid_user_name(std::string_view user) {
  if (user.empty() || user.size() > 32) return false;
  for (char c : user) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return user[0] != '-' && !(user[0] >= '0' && user[0] <= '9');
}

}  // namespace

std::size_t ufw_port_slots(const PortSet& ports) {
  std::size_t n = 0;
  for (const auto& iv : ports.intervals().intervals()) n += iv.lo == iv.hi ? 1 : 2;
  return n;
}

std::string ufw_port_list(const PortSet& ports, Protocol proto) {
  std::vector<std::string> parts;
  for (const auto& iv : ports.intervals().intervals()) {
    parts.push_back(interval_text(iv.lo, iv.hi, ':'));
  }
  return join(parts, ",") + "/" + std::string(protocol_name(proto));
}

std::vector<UfwProfile> ufw_profiles(const FirewallPlan& plan) {
  std::vector<UfwProfile> out;
  for (Exposure e : {Exposure::public_, Exposure::admin, Exposure::cluster}) {
    for (Protocol proto : {Protocol::tcp, Protocol::udp}) {
      PortSet ports = profile_ports(plan, proto, e);
      if (ports.empty()) continue;
      // Greedy in port order; a range is never cut, since it takes two slots at any width.
      std::vector<PortSet> chunks(1);
      for (const auto& iv : ports.intervals().intervals()) {
        PortSet next = chunks.back();
        next.add(iv.lo, iv.hi);
        if (ufw_port_slots(next) > kUfwMaxPortSlots) {
          chunks.emplace_back();
          chunks.back().add(iv.lo, iv.hi);
        } else {
          chunks.back() = std::move(next);
        }
      }
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        // The first chunk keeps the plain name, so that a profile that grows past 15 ports
        // keeps its existing rules (refreshed by `ufw app update`) and gains a "-2".
        std::string name = fmt::format("mailwarden-{}-{}", exposure_name(e), protocol_name(proto));
        if (i > 0) name += fmt::format("-{}", i + 1);
        out.push_back({std::move(name), e, proto, std::move(chunks[i])});
      }
    }
  }
  return out;
}

Result<std::vector<Artefact>> render_ufw(const FirewallPlan& plan) {
  if (auto st = require_linux_host(plan, "ufw"); !st) return st.error();
  if (plan.egress_smtp_restricted && !valid_user_name(plan.egress_mta_user)) {
    return Error{fmt::format("{}: --backend ufw: egress MTA user '{}' is not a user name",
                             plan.policy_source, one_line(plan.egress_mta_user))};
  }
  auto profiles = ufw_profiles(plan);
  std::string egress = plan.egress_smtp_restricted ? " and outbound SMTP only from the MTA" : "";
  return std::vector<Artefact>{
      {std::string(kUfwProfileFile), render_profiles(plan, profiles),
       "ufw application profiles: install into /etc/ufw/applications.d/ before running " +
           std::string(kUfwScriptFile)},
      {std::string(kUfwScriptFile), ScriptWriter(plan, profiles).render(),
       "ufw command sequence (sh, as root): default deny, SSH, the profiles, enable"},
      {std::string(kUfwBeforeFragmentFile), render_fragment(plan, Family::v4),
       "NOT applied by " + std::string(kUfwScriptFile) +
           ": paste into /etc/ufw/before.rules above its last COMMIT, then ufw reload "
           "(spoofed loopback and non-SYN drops" +
           egress + ")"},
      {std::string(kUfwBefore6FragmentFile), render_fragment(plan, Family::v6),
       "NOT applied by " + std::string(kUfwScriptFile) +
           ": paste into /etc/ufw/before6.rules above its last COMMIT, then ufw reload "
           "(spoofed ::1 and non-SYN drops" +
           egress + ")"},
  };
}

}  // namespace mw
