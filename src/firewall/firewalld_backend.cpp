// Renders a FirewallPlan for firewalld: one service definition per (class, service), the zone
// `mailwarden` (target DROP; admin and cluster access only as source-bound rich rules), direct
// rules for the egress restriction, and the same configuration as a firewall-cmd script.
#include "firewall/firewalld_backend.hpp"
#include "core/join.hpp"

#include <fmt/format.h>

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "firewall/backends.hpp"

namespace mw {

namespace {

using Rule = FirewalldRichRule;

// The ICMP echo rate of the nft backend (10/second); firewalld's limit has no burst.
constexpr const char* kEchoLimit = "10/s";
// Positive priorities go after every accept of the zone and before its DROP target: the one
// place where a log rule sees exactly the packets about to be dropped.
constexpr int kLogPriority = 32767;

constexpr const char* kCaution =
    "CAUTION (Zimbra wiki): firewalld has no fail-safe. A wrong reload or default-zone change "
    "over SSH locks you out, and nothing brings the old rules back by itself. Keep a console "
    "(out-of-band) session open while applying this; check that the address you connect from "
    "is in the admin networks of the policy; try a single rule at runtime first with --timeout "
    "(firewall-cmd --zone=public --add-rich-rule=RULE --timeout=300 expires by itself), since "
    "permanent changes and --reload have no such undo.";

// Text for XML character data and attributes: pugixml escapes markup, but XML 1.0 has no way
// to carry control characters at all, so they become spaces.
std::string xml_text(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  return out;
}

// XML comments may not contain "--" nor end with '-' (the text we put there avoids both; this
// guards the catalog's and the policy's text).
std::string xml_comment(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 && c != '\n' ? ' ' : c;
  for (std::size_t i; (i = out.find("--")) != std::string::npos;) out.replace(i, 2, "- -");
  if (!out.empty() && out.back() == '-') out += ' ';
  return out;
}

// POSIX shell single quoting, left bare when every character is one shlex.quote() leaves bare:
// firewalld prints direct rules with shlex.quote, and direct.xml holds them that way.
std::string shell_quote(std::string_view s) {
  bool bare = !s.empty();
  for (char c : s) {
    bare = bare && (std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("@%+=:,./-_").find(c) != std::string_view::npos);
  }
  if (bare) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string port_range(unsigned lo, unsigned hi) {
  return lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
}

// One firewalld service: the ports of one class that share a (sanitised) service name.
struct ServiceDef {
  std::string name;
  Exposure exposure = Exposure::public_;
  std::vector<std::string> labels;  // the plan's service names, in port order
  PortSet tcp;
  PortSet udp;
  std::vector<std::string> reasons;  // "25/tcp smtp: <why>"

  std::vector<std::string> port_ids() const {
    std::vector<std::string> out;
    for (auto [set, proto] : {std::pair{&tcp, "tcp"}, std::pair{&udp, "udp"}}) {
      for (const auto& iv : set->intervals().intervals()) {
        out.push_back(port_range(iv.lo, iv.hi) + "/" + proto);
      }
    }
    return out;
  }
  std::string short_text() const { return join(labels, ", "); }
  std::string description() const {
    return fmt::format("mailwarden: open to {}. {}", who_may_connect(exposure),
                       join(reasons, "; "));
  }
};

// A titled run of rich rules: one comment in the zone file, one command in the script.
struct RuleGroup {
  std::string title;
  std::vector<Rule> rules;
};

struct Model {
  std::vector<ServiceDef> services;  // in the order of their first port
  std::vector<std::string> public_services;
  std::vector<RuleGroup> groups;
  std::vector<std::vector<std::string>> direct_rules;  // per family: iptables arguments
  std::vector<std::string> notes;
};

Rule icmp(std::string family, std::string type, std::string limit = "") {
  Rule r;
  r.family = std::move(family);
  r.element = Rule::Element::icmp_type;
  r.value = std::move(type);
  r.action = Rule::Action::accept;
  r.action_limit = std::move(limit);
  return r;
}

Rule drop_port(Protocol proto, unsigned lo, unsigned hi) {
  Rule r;
  r.element = Rule::Element::port;
  r.value = port_range(lo, hi);
  r.protocol = proto;
  r.action = Rule::Action::drop;
  return r;
}

class ModelBuilder {
 public:
  explicit ModelBuilder(const FirewallPlan& plan) : plan_(plan) {}

  Result<Model> build() {
    services();
    spoofed_loopback();
    never_opened();
    icmp_rules();
    source_bound(Exposure::admin, plan_.admin,
                 "Admin ports: the admin networks only. A rich rule per source network; never "
                 "a plain service or port, which would open them to everyone.");
    source_bound(Exposure::cluster, plan_.cluster,
                 "Cluster ports: the other nodes of this installation only.");
    if (auto st = log_rule(); !st) return st.error();
    egress();
    notes();
    return std::move(m_);
  }

 private:
  void services() {
    for (const auto& o : plan_.openings) {
      std::string name = firewalld_service_name(o.exposure, o.service);
      auto it = std::find_if(m_.services.begin(), m_.services.end(),
                             [&](const ServiceDef& s) { return s.name == name; });
      if (it == m_.services.end()) {
        m_.services.push_back({name, o.exposure, {}, {}, {}, {}});
        it = std::prev(m_.services.end());
        if (o.exposure == Exposure::public_) m_.public_services.push_back(name);
      }
      if (std::find(it->labels.begin(), it->labels.end(), o.service) == it->labels.end()) {
        it->labels.push_back(o.service);
      }
      (o.protocol == Protocol::tcp ? it->tcp : it->udp).add(o.port);
      it->reasons.push_back(
          fmt::format("{}/{} {}: {}", o.port, protocol_name(o.protocol), o.service, o.why));
    }
  }

  void spoofed_loopback() {
    RuleGroup g{
        "Loopback addresses arriving on a real interface are spoofed (firewalld accepts "
        "the loopback interface itself before any zone).",
        {}};
    for (auto [family, source] : {std::pair{"ipv4", "127.0.0.0/8"}, std::pair{"ipv6", "::1"}}) {
      Rule r;
      r.family = family;
      r.source = source;
      r.action = Rule::Action::drop;
      g.rules.push_back(r);
    }
    m_.groups.push_back(std::move(g));
  }

  void never_opened() {
    RuleGroup g{
        "Never opened, whatever else is allowed (memcached over UDP: amplification). "
        "Drop rules sit in the zone's deny chain, before every accept.",
        {}};
    for (auto [set, proto] :
         {std::pair{&plan_.never_udp, Protocol::udp}, std::pair{&plan_.never_tcp, Protocol::tcp}}) {
      for (const auto& iv : set->intervals().intervals()) {
        g.rules.push_back(drop_port(proto, iv.lo, iv.hi));
      }
    }
    if (!g.rules.empty()) m_.groups.push_back(std::move(g));
  }

  void icmp_rules() {
    RuleGroup v4{
        "ICMP: target DROP drops ICMP too. Errors keep path MTU discovery working "
        "(destination-unreachable includes fragmentation-needed); echo is rate limited.",
        {}};
    for (const char* t : {"destination-unreachable", "time-exceeded", "parameter-problem"}) {
      v4.rules.push_back(icmp("ipv4", t));
    }
    v4.rules.push_back(icmp("ipv4", "echo-request", kEchoLimit));
    m_.groups.push_back(std::move(v4));

    RuleGroup v6{
        "ICMPv6: IPv6 cannot work without packet-too-big and neighbour discovery "
        "(RFC 4890; the kernel itself discards ND messages whose hop limit is not 255). "
        "firewalld has no ICMP type for MLD: ICMPv6 from link-local sources to multicast "
        "addresses is accepted instead, so that MLD queries keep this host's multicast "
        "groups alive on snooping switches.",
        {}};
    for (const char* t : {"destination-unreachable", "packet-too-big", "time-exceeded",
                          "parameter-problem", "router-solicitation", "router-advertisement",
                          "neighbour-solicitation", "neighbour-advertisement"}) {
      v6.rules.push_back(icmp("ipv6", t));
    }
    Rule mld;
    mld.family = "ipv6";
    mld.source = "fe80::/10";
    mld.destination = "ff00::/8";
    mld.element = Rule::Element::protocol;
    mld.value = "ipv6-icmp";
    mld.action = Rule::Action::accept;
    v6.rules.push_back(mld);
    v6.rules.push_back(icmp("ipv6", "echo-request", kEchoLimit));
    m_.groups.push_back(std::move(v6));
  }

  void source_bound(Exposure e, const AddressSet& sources, std::string title) {
    RuleGroup g{std::move(title), {}};
    for (const auto& s : m_.services) {
      if (s.exposure != e) continue;
      for (auto [family, f] : {std::pair{"ipv4", Family::v4}, std::pair{"ipv6", Family::v6}}) {
        for (const Prefix& p : sources.to_prefixes(f)) {
          Rule r;
          r.family = family;
          r.source = to_string(p);
          r.element = Rule::Element::service;
          r.value = s.name;
          r.action = Rule::Action::accept;
          g.rules.push_back(r);
        }
      }
    }
    if (!g.rules.empty()) m_.groups.push_back(std::move(g));
  }

  Status log_rule() {
    if (!plan_.log_drops) return {};
    auto limit = firewalld_limit(plan_.log_rate);
    if (!limit) {
      return Error{fmt::format("{}: --backend firewalld: logging.rate: {}", plan_.policy_source,
                               limit.error().message)};
    }
    Rule r;
    r.priority = kLogPriority;
    r.log_prefix = plan_.log_prefix;
    r.log_level = "info";
    r.log_limit = *limit;
    m_.groups.push_back(
        {"Log what is about to be dropped, rate limited: priority 32767 puts "
         "the rule after every accept of the zone, before its DROP target.",
         {r}});
    return {};
  }

  void egress() {
    if (!plan_.egress_smtp_restricted) return;
    for (const char* family : {"ipv4", "ipv6"}) {
      m_.direct_rules.push_back({family,
                                 "filter",
                                 "OUTPUT",
                                 "0",
                                 "!",
                                 "-o",
                                 "lo",
                                 "-p",
                                 "tcp",
                                 "--dport",
                                 "25",
                                 "-m",
                                 "conntrack",
                                 "--ctstate",
                                 "NEW",
                                 "-m",
                                 "owner",
                                 "!",
                                 "--uid-owner",
                                 plan_.egress_mta_user,
                                 "-m",
                                 "comment",
                                 "--comment",
                                 kFirewalldDirectTag,
                                 "-j",
                                 "REJECT",
                                 "--reject-with",
                                 "tcp-reset"});
    }
  }

  void notes() {
    auto& n = m_.notes;
    n.push_back(kCaution);
    n.push_back(fmt::format(
        "Zone {0} becomes the default zone and binds no interface. firewalld picks a packet's "
        "zone by source binding first, then interface binding, then the default zone: an "
        "interface bound to another zone (NetworkManager connection.zone, or <interface> in "
        "another zone file) or a source bound to another zone bypasses this policy. Check "
        "`firewall-cmd --get-active-zones` lists every interface under {0} only.",
        kFirewalldZone));
    n.push_back(
        "ICMP: with target DROP firewalld accepts no ICMP by itself (only the default target "
        "accepts it at the end of a zone), so rich rules accept what the nft backend accepts. "
        "Differences: no burst on the echo limit, ND accepted without the hop-limit-255 match "
        "(the kernel checks it), and every ICMPv6 message from fe80::/10 to ff00::/8 instead of "
        "MLD alone. firewalld's built-in policy allow-host-ipv6 also accepts ND and redirects.");
    n.push_back(
        "Not expressible in firewalld: dropping NEW TCP packets without SYN (rich rules cannot "
        "match TCP flags). They only reach ports that are open anyway; sysctl "
        "net.netfilter.nf_conntrack_tcp_loose=0 makes conntrack classify them INVALID, which "
        "firewalld drops.");
    if (plan_.log_drops) {
      n.push_back(fmt::format(
          "Drops are logged by the zone's priority-{} rich rule (prefix '{}', level info, {}). "
          "firewalld's LogDenied setting is left alone: it is global to every zone, has no rate "
          "limit and fixed prefixes (firewall-cmd --set-log-denied=unicast).",
          kLogPriority, plan_.log_prefix, plan_.log_rate));
    } else {
      n.push_back(
          "Drop logging is off in the policy: no log rule; firewalld's LogDenied is left alone.");
    }
    if (plan_.egress_smtp_restricted) {
      n.push_back(fmt::format(
          "Outbound SMTP: rich rules and policies cannot match the sending user, so only a "
          "direct rule (iptables OUTPUT, tagged {}) restricts new tcp/25 connections to user "
          "'{}'. firewalld deprecates direct rules but still applies them; with "
          "FirewallBackend=nftables a direct REJECT applies before firewalld's own rules. "
          "iptables resolves the user when the rule loads: a missing user makes the reload "
          "fail. direct.xml replaces /etc/firewalld/direct.xml whole: merge it by hand if the "
          "host has direct rules of its own (the script adds and removes only tagged rules).",
          kFirewalldDirectTag, plan_.egress_mta_user));
    }
    n.insert(n.end(), plan_.notes.begin(), plan_.notes.end());
  }

  const FirewallPlan& plan_;
  Model m_;
};

std::string title(const FirewallPlan& plan) {
  return fmt::format("mailwarden firewall for {} ({}, {} server{})", plan.hostname, plan.product,
                     topology_name(plan.topology),
                     plan.topology == Topology::multi ? ", roles: " + join(plan.roles, ", ") : "");
}

// XML comments cannot hold "--": the command line is spelt out in the script only.
std::string xml_generated(const FirewallPlan& plan) {
  return fmt::format(
      "Generated by mailwarden (firewall generate, backend firewalld) from {}. "
      "Do not edit: change the policy and generate again.",
      plan.policy_source);
}

std::string generated_from(const FirewallPlan& plan) {
  return fmt::format(
      "Generated from {} by `mailwarden firewall generate --backend firewalld`. "
      "Do not edit: change the policy and generate again.",
      plan.policy_source);
}

// The closed ports as comment lines: `blank` separates them from what precedes, `lead` starts
// each line ("# " in the script, "  " in XML comments).
std::string closed_ports(const FirewallPlan& plan, std::string_view blank, std::string_view lead) {
  if (plan.closed.empty()) return "";
  std::string out =
      fmt::format("{}\n{}Listening here but closed to every other host:\n", blank, lead);
  for (const auto& c : plan.closed) {
    out += wrap_comment(
        fmt::format("{}/{} {}: {}", c.port, protocol_name(c.protocol), c.service, c.why),
        std::string(lead) + "  ", 96, 2);
  }
  return out;
}

// ---- XML -----------------------------------------------------------------------------------

pugi::xml_document new_document(const std::string& comment) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  doc.append_child(pugi::node_comment).set_value(xml_comment(comment).c_str());
  return doc;
}

std::string save(const pugi::xml_document& doc) {
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_indent, pugi::encoding_utf8);
  return os.str();
}

// The comment heading each XML file: lines of `text` wrapped for reading in an editor.
std::string file_comment(const std::vector<std::string>& paragraphs) {
  std::string out = "\n";
  for (const auto& p : paragraphs) out += wrap_comment(p, "  ", 96, 2);
  return out;
}

void append_limit(pugi::xml_node parent, const std::string& limit) {
  if (limit.empty()) return;
  parent.append_child("limit").append_attribute("value") = limit.c_str();
}

void append_rule(pugi::xml_node zone, const Rule& r) {
  auto rule = zone.append_child("rule");
  if (!r.family.empty()) rule.append_attribute("family") = r.family.c_str();
  if (r.priority != 0) rule.append_attribute("priority") = r.priority;
  if (!r.source.empty()) {
    rule.append_child("source").append_attribute("address") = xml_text(r.source).c_str();
  }
  if (!r.destination.empty()) {
    rule.append_child("destination").append_attribute("address") = xml_text(r.destination).c_str();
  }
  switch (r.element) {
    case Rule::Element::none:
      break;
    case Rule::Element::service:
      rule.append_child("service").append_attribute("name") = xml_text(r.value).c_str();
      break;
    case Rule::Element::port: {
      auto port = rule.append_child("port");
      port.append_attribute("port") = r.value.c_str();
      port.append_attribute("protocol") = std::string(protocol_name(r.protocol)).c_str();
      break;
    }
    case Rule::Element::protocol:
      rule.append_child("protocol").append_attribute("value") = xml_text(r.value).c_str();
      break;
    case Rule::Element::icmp_type:
      rule.append_child("icmp-type").append_attribute("name") = xml_text(r.value).c_str();
      break;
  }
  if (!r.log_level.empty()) {
    auto log = rule.append_child("log");
    log.append_attribute("prefix") = xml_text(r.log_prefix).c_str();
    log.append_attribute("level") = r.log_level.c_str();
    append_limit(log, r.log_limit);
  }
  switch (r.action) {
    case Rule::Action::none:
      break;
    case Rule::Action::accept:
      append_limit(rule.append_child("accept"), r.action_limit);
      break;
    case Rule::Action::drop:
      append_limit(rule.append_child("drop"), r.action_limit);
      break;
  }
}

std::string zone_short() {
  return "mailwarden";
}

std::string zone_description(const FirewallPlan& plan) {
  return xml_text(fmt::format(
      "Mail server firewall of {} from {}: public mail ports open to everyone, admin and "
      "cluster ports only from their networks (rich rules), everything else dropped.",
      plan.hostname, plan.policy_source));
}

std::string render_zone(const FirewallPlan& plan, const Model& m) {
  auto doc = new_document(
      file_comment({title(plan) + ": firewalld zone " + kFirewalldZone + ".", xml_generated(plan),
                    fmt::format("Install as /etc/firewalld/zones/{}, with the mailwarden-*.xml "
                                "services in /etc/firewalld/services/, then check, reload and "
                                "make {} the default zone: the header of {} says how, what "
                                "firewalld cannot express, and why to keep a console open.",
                                kFirewalldZoneFile, kFirewalldZone, kFirewalldScript)}) +
      closed_ports(plan, "", "  "));
  auto zone = doc.append_child("zone");
  zone.append_attribute("target") = "DROP";
  zone.append_child("short").text() = zone_short().c_str();
  zone.append_child("description").text() = zone_description(plan).c_str();
  if (!m.public_services.empty()) {
    zone.append_child(pugi::node_comment).set_value(" Public ports: everyone, IPv4 and IPv6. ");
  }
  for (const auto& s : m.public_services) {
    zone.append_child("service").append_attribute("name") = s.c_str();
  }
  for (const auto& g : m.groups) {
    zone.append_child(pugi::node_comment).set_value(xml_comment(" " + g.title + " ").c_str());
    for (const auto& r : g.rules) append_rule(zone, r);
  }
  return save(doc);
}

std::string render_service(const FirewallPlan& plan, const ServiceDef& s) {
  auto doc = new_document(file_comment(
      {fmt::format("{}: firewalld service {}.", title(plan), s.name), xml_generated(plan),
       fmt::format("Install as /etc/firewalld/services/{}.xml (see {}).", s.name,
                   kFirewalldZoneFile)}));
  auto service = doc.append_child("service");
  service.append_child("short").text() = xml_text(s.short_text()).c_str();
  service.append_child("description").text() = xml_text(s.description()).c_str();
  for (const auto& id : s.port_ids()) {
    auto slash = id.find('/');
    auto port = service.append_child("port");
    port.append_attribute("port") = id.substr(0, slash).c_str();
    port.append_attribute("protocol") = id.substr(slash + 1).c_str();
  }
  return save(doc);
}

// direct.xml holds each rule's arguments joined the way firewalld joins them (shlex.quote).
std::string render_direct(const FirewallPlan& plan, const Model& m) {
  auto doc = new_document(file_comment(
      {title(plan) + ": firewalld direct rules (outbound SMTP only from the MTA's user).",
       xml_generated(plan),
       "Install as /etc/firewalld/direct.xml: it replaces the whole file, so merge it by hand "
       "if the host has direct rules of its own."}));
  auto direct = doc.append_child("direct");
  for (const auto& args : m.direct_rules) {
    auto rule = direct.append_child("rule");
    rule.append_attribute("ipv") = args[0].c_str();
    rule.append_attribute("table") = args[1].c_str();
    rule.append_attribute("chain") = args[2].c_str();
    rule.append_attribute("priority") = args[3].c_str();
    std::vector<std::string> rest;
    for (std::size_t i = 4; i < args.size(); ++i) rest.push_back(shell_quote(args[i]));
    rule.text() = xml_text(join(rest, " ")).c_str();
  }
  return save(doc);
}

// ---- firewall-cmd script --------------------------------------------------------------------

class ScriptWriter {
 public:
  ScriptWriter(const FirewallPlan& plan, const Model& m) : plan_(plan), m_(m) {}

  std::string render() {
    header();
    preamble();
    reset_zone();
    define_services();
    configure_zone();
    direct_rules();
    apply();
    return std::move(out_);
  }

 private:
  void line(std::string_view text = "") {
    out_ += text;
    out_ += '\n';
  }
  void comment(std::string_view text) { out_ += wrap_comment(text, "# "); }
  // One firewall-cmd command, with its arguments one per continuation line when there are many.
  void command(const std::string& fixed, const std::vector<std::string>& args) {
    if (args.size() <= 1) {
      line(args.empty() ? fixed : fixed + " " + args[0]);
      return;
    }
    line(fixed + " \\");
    for (std::size_t i = 0; i < args.size(); ++i) {
      line("  " + args[i] + (i + 1 < args.size() ? " \\" : ""));
    }
  }

  void header() {
    line("#!/bin/bash");
    comment(title(plan_));
    comment(generated_from(plan_));
    line("#");
    comment(kCaution);
    line("#");
    comment(fmt::format(
        "What it does, in firewalld's permanent configuration: (1) zone {0}: created, or emptied "
        "of its services, ports and rich rules (its interface and source bindings stay); (2) "
        "services mailwarden-*: deleted and defined again; (3) zone {0}: target DROP, public "
        "services, rich rules; (4) direct rules tagged {1}: removed, and added again when the "
        "policy restricts outbound SMTP; then firewall-cmd --check-config, --reload, and zone {0} "
        "becomes the default zone: the cut-over, undone from a console with firewall-cmd "
        "--set-default-zone=<the zone this script prints first>.",
        kFirewalldZone, kFirewalldDirectTag));
    comment(fmt::format(
        "The XML files generated beside this script ({}, mailwarden-*.xml{}) are the same "
        "configuration as firewalld writes it, for installing by copying instead.",
        kFirewalldZoneFile, m_.direct_rules.empty() ? "" : ", direct.xml"));
    for (const auto& n : m_.notes) {
      if (n != kCaution) comment("NOTE: " + n);
    }
    out_ += closed_ports(plan_, "#", "# ");
    line();
  }

  void preamble() {
    line("set -euo pipefail");
    line();
    line(fmt::format("echo {} >&2", shell_quote(std::string("mailwarden: ") + kCaution)));
    line("firewall-cmd --state >/dev/null");
    line("previous_zone=$(firewall-cmd --get-default-zone)");
    line(
        "echo \"mailwarden: default zone before this run: ${previous_zone} (undo the cut-over: "
        "firewall-cmd --set-default-zone=${previous_zone})\" >&2");
    line();
  }

  // Lists are read into variables first: `var=$(cmd)` stops the script (set -e) when cmd
  // fails, a loop over `$(cmd)` would not. firewall-cmd takes one option many times in one
  // command, but never two kinds of option at once: one command per kind.
  void reset_zone() {
    const std::string z = kFirewalldZone;
    comment("1. Zone " + z + ": emptied when an earlier run created it, else created.");
    line("zones=\" $(firewall-cmd --permanent --get-zones) \"");
    line(fmt::format("if [[ $zones == *\" {} \"* ]]; then", z));
    line(fmt::format("  listed=$(firewall-cmd --permanent --zone={} --list-rich-rules)", z));
    line("  args=()");
    line("  while IFS= read -r rule; do");
    line("    if [[ -n $rule ]]; then args+=(\"--remove-rich-rule=$rule\"); fi");
    line("  done <<<\"$listed\"");
    line(
        fmt::format("  if ((${{#args[@]}})); then firewall-cmd --permanent --zone={} "
                    "\"${{args[@]}}\"; fi",
                    z));
    for (auto [what, option] : {std::pair{"services", "service"}, std::pair{"ports", "port"}}) {
      line(fmt::format("  listed=$(firewall-cmd --permanent --zone={} --list-{})", z, what));
      line("  args=()");
      line(fmt::format("  for item in $listed; do args+=(\"--remove-{}=$item\"); done", option));
      line(
          fmt::format("  if ((${{#args[@]}})); then firewall-cmd --permanent --zone={} "
                      "\"${{args[@]}}\"; fi",
                      z));
    }
    line("else");
    line(fmt::format("  firewall-cmd --permanent --new-zone={}", z));
    line("fi");
    line();
  }

  void define_services() {
    comment("2. Services: those of earlier runs deleted, this policy's defined.");
    line("listed=$(firewall-cmd --permanent --get-services)");
    line("for item in $listed; do");
    line(
        "  if [[ $item == mailwarden-* ]]; then firewall-cmd --permanent "
        "--delete-service=\"$item\"; fi");
    line("done");
    for (const auto& s : m_.services) {
      line();
      comment(fmt::format("{}: {} ({}), {}", s.name, join(s.port_ids(), " "), s.short_text(),
                          who_may_connect(s.exposure)));
      std::string svc = "firewall-cmd --permanent --service=" + s.name;
      line("firewall-cmd --permanent --new-service=" + s.name);
      line(svc + " --set-short=" + shell_quote(xml_text(s.short_text())));
      line(svc + " --set-description=" + shell_quote(xml_text(s.description())));
      std::vector<std::string> ports;
      for (const auto& id : s.port_ids()) ports.push_back("--add-port=" + id);
      command(svc, ports);
    }
    line();
  }

  void configure_zone() {
    std::string zone = fmt::format("firewall-cmd --permanent --zone={}", kFirewalldZone);
    comment(fmt::format("3. Zone {}: drop what no rule accepts.", kFirewalldZone));
    line(zone + " --set-target=DROP");
    line(zone + " --set-short=" + shell_quote(zone_short()));
    line(zone + " --set-description=" + shell_quote(zone_description(plan_)));
    if (!m_.public_services.empty()) {
      comment("Public ports: everyone, IPv4 and IPv6.");
      std::vector<std::string> args;
      for (const auto& s : m_.public_services) args.push_back("--add-service=" + s);
      command(zone, args);
    }
    for (const auto& g : m_.groups) {
      comment(g.title);
      std::vector<std::string> args;
      for (const auto& r : g.rules) {
        args.push_back("--add-rich-rule=" + shell_quote(firewalld_rich_rule_text(r)));
      }
      command(zone, args);
    }
    line();
  }

  void direct_rules() {
    comment(
        fmt::format("4. Direct rules tagged {}: removed (firewall-cmd prints each rule "
                    "shell-quoted, hence eval), then added when the policy asks.",
                    kFirewalldDirectTag));
    line("listed=$(firewall-cmd --permanent --direct --get-all-rules)");
    line("while IFS= read -r rule; do");
    line(fmt::format(
        "  if [[ $rule == *\"--comment {}\"* ]]; then eval \"firewall-cmd --permanent --direct "
        "--remove-rule $rule\"; fi",
        kFirewalldDirectTag));
    line("done <<<\"$listed\"");
    if (!m_.direct_rules.empty()) {
      comment(
          "Only the MTA's user may open outbound SMTP: a web shell or a compromised webmail "
          "cannot send around the MTA's rate limits.");
    }
    for (const auto& args : m_.direct_rules) {
      std::vector<std::string> quoted;
      for (const auto& a : args) quoted.push_back(shell_quote(a));
      line("firewall-cmd --permanent --direct --add-rule " + join(quoted, " "));
    }
    line();
  }

  void apply() {
    comment("5. Check, load, cut over (see the CAUTION above), show the result.");
    line("firewall-cmd --check-config");
    line("firewall-cmd --reload");
    line(
        fmt::format("if [[ $(firewall-cmd --get-default-zone) != {0} ]]; then "
                    "firewall-cmd --set-default-zone={0}; fi",
                    kFirewalldZone));
    line(fmt::format("firewall-cmd --list-all --zone={}", kFirewalldZone));
    line(fmt::format("echo {} >&2",
                     shell_quote(fmt::format("mailwarden: every interface must be in zone {} "
                                             "(interfaces and sources of another zone bypass it):",
                                             kFirewalldZone))));
    line("firewall-cmd --get-active-zones");
  }

  const FirewallPlan& plan_;
  const Model& m_;
  std::string out_;
};

}  // namespace

std::string firewalld_rich_rule_text(const FirewalldRichRule& r) {
  std::string out = "rule";
  if (r.priority != 0) out += fmt::format(" priority=\"{}\"", r.priority);
  if (!r.family.empty()) out += fmt::format(" family=\"{}\"", r.family);
  if (!r.source.empty()) out += fmt::format(" source address=\"{}\"", r.source);
  if (!r.destination.empty()) out += fmt::format(" destination address=\"{}\"", r.destination);
  switch (r.element) {
    case Rule::Element::none:
      break;
    case Rule::Element::service:
      out += fmt::format(" service name=\"{}\"", r.value);
      break;
    case Rule::Element::port:
      out += fmt::format(" port port=\"{}\" protocol=\"{}\"", r.value, protocol_name(r.protocol));
      break;
    case Rule::Element::protocol:
      out += fmt::format(" protocol value=\"{}\"", r.value);
      break;
    case Rule::Element::icmp_type:
      out += fmt::format(" icmp-type name=\"{}\"", r.value);
      break;
  }
  if (!r.log_level.empty()) {
    out += fmt::format(" log prefix=\"{}\" level=\"{}\"", r.log_prefix, r.log_level);
    if (!r.log_limit.empty()) out += fmt::format(" limit value=\"{}\"", r.log_limit);
  }
  switch (r.action) {
    case Rule::Action::none:
      break;
    case Rule::Action::accept:
      out += " accept";
      break;
    case Rule::Action::drop:
      out += " drop";
      break;
  }
  if (r.action != Rule::Action::none && !r.action_limit.empty()) {
    out += fmt::format(" limit value=\"{}\"", r.action_limit);
  }
  return out;
}

std::string firewalld_service_name(Exposure exposure, std::string_view service) {
  std::string name;
  bool dash = false;
  for (char c : service) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z')) {
      if (dash && !name.empty()) name += '-';
      dash = false;
      name += static_cast<char>(u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u);
    } else {
      dash = true;
    }
    if (name.size() >= 40) break;
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (name.empty()) name = "extra";
  return fmt::format("mailwarden-{}-{}", exposure_name(exposure), name);
}

Result<std::string> firewalld_limit(std::string_view rate) {
  auto slash = rate.find('/');
  std::string_view n = rate.substr(0, slash);
  bool ok = slash != std::string_view::npos && !n.empty() && n.size() <= 5 && n[0] != '0' &&
            std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
  std::string_view unit = ok ? rate.substr(slash + 1) : "";
  ok = ok && (unit == "second" || unit == "minute" || unit == "hour" || unit == "day");
  if (!ok) {
    return Error{
        fmt::format("'{}' is not a rate (expected N/second, N/minute, N/hour or N/day)", rate)};
  }
  if (n == "1" && unit == "day") {
    return Error{"'1/day' is too slow for firewalld, which refuses limits below 2/day"};
  }
  return fmt::format("{}/{}", n, unit.substr(0, 1));
}

Result<std::vector<Artefact>> render_firewalld(const FirewallPlan& plan) {
  if (auto st = require_linux_host(plan, "firewalld"); !st) return st.error();
  auto model = ModelBuilder(plan).build();
  if (!model) return model.error();
  const Model& m = *model;

  std::vector<Artefact> out;
  out.push_back({kFirewalldScript, ScriptWriter(plan, m).render(),
                 "firewall-cmd --permanent commands: defines the services and zone "
                 "mailwarden, reloads and makes it the default zone (read its CAUTION first)"});
  out.push_back({kFirewalldZoneFile, render_zone(plan, m),
                 "firewalld zone (or copy to /etc/firewalld/zones/, then reload and "
                 "firewall-cmd --set-default-zone=mailwarden)"});
  for (const auto& s : m.services) {
    out.push_back({s.name + ".xml", render_service(plan, s),
                   "firewalld service (or copy to /etc/firewalld/services/)"});
  }
  if (!m.direct_rules.empty()) {
    out.push_back({kFirewalldDirectFile, render_direct(plan, m),
                   "firewalld direct rules, outbound SMTP (or merge into "
                   "/etc/firewalld/direct.xml)"});
  }
  return out;
}

}  // namespace mw
