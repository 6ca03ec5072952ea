// Renders a FirewallPlan as an nftables script that replaces `table inet mailwarden` in one
// transaction.
#include "firewall/nft_backend.hpp"
#include "core/join.hpp"

#include <fmt/format.h>

#include <string>

namespace mw {

namespace {

// nft writes a port set as "25, 80, 10024-10032": the same text PortSet prints.
std::string port_elements(const PortSet& ports) {
  return ports.to_string();
}

std::string prefix_elements(const AddressSet& set, Family f) {
  std::string out;
  for (const Prefix& p : set.to_prefixes(f)) {
    if (!out.empty()) out += ", ";
    out += to_string(p);
  }
  return out;
}

std::string class_set_name(Exposure e, Protocol proto) {
  return fmt::format("{}_{}", exposure_name(e), protocol_name(proto));
}

// nft string literal: the values we embed (prefixes, user names, host names) were validated,
// but a quote or backslash must never be able to end the literal.
std::string nft_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c != '"' && c != '\\') out += c;
  }
  return out + "\"";
}

class NftWriter {
 public:
  explicit NftWriter(const FirewallPlan& plan) : plan_(plan) {}

  std::string render() {
    header();
    out_ += fmt::format("table inet {} {{}}\n", kNftTable);
    out_ += fmt::format("delete table inet {}\n\n", kNftTable);
    out_ += fmt::format("table inet {} {{\n", kNftTable);
    address_sets();
    port_sets();
    input_chain();
    output_chain();
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  void line(int indent, std::string_view text) {
    out_.append(static_cast<std::size_t>(indent), '\t');
    out_ += text;
    out_ += '\n';
  }

  void header() {
    line(0, "#!/usr/sbin/nft -f");
    line(0, fmt::format("# mailwarden firewall for {} ({}, {} server{})", plan_.hostname,
                        plan_.product, topology_name(plan_.topology),
                        plan_.topology == Topology::multi ? ", roles: " + join(plan_.roles) : ""));
    line(0, fmt::format("# Generated from {} by `mailwarden firewall generate --backend nft`.",
                        plan_.policy_source));
    line(0, "# Do not edit: change the policy and generate again.");
    line(0, "# Load with `nft -f`: one transaction that replaces table inet mailwarden and");
    line(0, "# touches no other table (bans live in table inet mailwarden_ban).");
    for (const auto& note : plan_.notes) out_ += wrap_comment("NOTE: " + note, "# ");
    if (!plan_.closed.empty()) {
      line(0, "#");
      line(0, "# Listening here but closed to every other host:");
      for (const auto& c : plan_.closed) {
        line(0,
             fmt::format("#   {}/{} {}: {}", c.port, protocol_name(c.protocol), c.service, c.why));
      }
    }
    line(0, "");
  }

  void address_set(std::string_view name, const AddressSet& set, Family f) {
    if (set.empty(f)) return;
    line(1, fmt::format("set {} {{", name));
    line(2, f == Family::v4 ? "type ipv4_addr" : "type ipv6_addr");
    line(2, "flags interval");
    line(2, fmt::format("elements = {{ {} }}", prefix_elements(set, f)));
    line(1, "}");
    line(0, "");
  }

  void address_sets() {
    address_set("admin_v4", plan_.admin, Family::v4);
    address_set("admin_v6", plan_.admin, Family::v6);
    address_set("cluster_v4", plan_.cluster, Family::v4);
    address_set("cluster_v6", plan_.cluster, Family::v6);
  }

  void port_sets() {
    for (Exposure e : {Exposure::public_, Exposure::admin, Exposure::cluster}) {
      for (Protocol proto : {Protocol::tcp, Protocol::udp}) {
        PortSet ports = plan_.ports(proto, e);
        if (ports.empty()) continue;
        line(1, fmt::format("set {} {{", class_set_name(e, proto)));
        line(2, "type inet_service");
        line(2, "flags interval");
        line(2, fmt::format("elements = {{ {} }}", port_elements(ports)));
        line(1, "}");
        line(0, "");
      }
    }
  }

  // Accept rules for one class: public needs no source match; admin and cluster match the
  // source against their v4 and v6 sets (an empty family has no set and no rule).
  void accept_class(Exposure e, std::string_view v4_set, std::string_view v6_set,
                    const AddressSet& sources) {
    for (Protocol proto : {Protocol::tcp, Protocol::udp}) {
      if (plan_.ports(proto, e).empty()) continue;
      std::string match =
          fmt::format("{} dport @{}", protocol_name(proto), class_set_name(e, proto));
      if (e == Exposure::public_) {
        line(2, fmt::format("{} accept", match));
        continue;
      }
      if (!sources.empty(Family::v4)) {
        line(2, fmt::format("ip saddr @{} {} accept", v4_set, match));
      }
      if (!sources.empty(Family::v6)) {
        line(2, fmt::format("ip6 saddr @{} {} accept", v6_set, match));
      }
    }
  }

  void input_chain() {
    line(1, "chain input {");
    line(2, "type filter hook input priority filter; policy drop;");
    line(0, "");
    line(2, "iif \"lo\" accept");
    line(2, "# Loopback addresses arriving on a real interface are spoofed.");
    line(2, "ip saddr 127.0.0.0/8 drop");
    line(2, "ip6 saddr ::1 drop");
    line(2, "ct state established,related accept");
    line(2, "ct state invalid drop");
    line(2, "# A new TCP connection starts with a SYN (drops NULL, XMAS and stray ACK scans).");
    line(2, "ct state new tcp flags & (fin|syn|rst|ack) != syn drop");
    if (!plan_.never_udp.empty()) {
      line(2, fmt::format("udp dport {{ {} }} drop comment \"never opened (memcached UDP: "
                          "amplification)\"",
                          port_elements(plan_.never_udp)));
    }
    if (!plan_.never_tcp.empty()) {
      line(2, fmt::format("tcp dport {{ {} }} drop comment \"never opened\"",
                          port_elements(plan_.never_tcp)));
    }
    line(0, "");
    line(2, "# ICMP errors keep path MTU discovery working; echo is rate limited.");
    line(2, "icmp type { destination-unreachable, time-exceeded, parameter-problem } accept");
    line(2, "icmp type echo-request limit rate 10/second burst 20 packets accept");
    line(2, "# IPv6 cannot work without neighbour discovery and packet-too-big (RFC 4890).");
    line(2,
         "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
         "parameter-problem } accept");
    line(2,
         "icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
         "nd-neighbor-advert } ip6 hoplimit 255 accept");
    line(2,
         "icmpv6 type { mld-listener-query, mld-listener-report, mld2-listener-report } "
         "ip6 saddr fe80::/10 accept");
    line(2, "icmpv6 type echo-request limit rate 10/second burst 20 packets accept");
    line(0, "");
    line(2, "# Public ports: everyone, IPv4 and IPv6.");
    accept_class(Exposure::public_, "", "", AddressSet::any());
    if (has_class(Exposure::admin)) {
      line(2, "# Admin ports: the admin networks only.");
      accept_class(Exposure::admin, "admin_v4", "admin_v6", plan_.admin);
    }
    if (has_class(Exposure::cluster)) {
      line(2, "# Cluster ports: the other nodes of this installation only.");
      accept_class(Exposure::cluster, "cluster_v4", "cluster_v6", plan_.cluster);
    }
    line(0, "");
    if (plan_.log_drops) {
      line(2, fmt::format("limit rate {} burst 10 packets log prefix {} level info", plan_.log_rate,
                          nft_string(plan_.log_prefix)));
    }
    line(2, "counter drop");
    line(1, "}");
  }

  bool has_class(Exposure e) const {
    for (const auto& o : plan_.openings) {
      if (o.exposure == e) return true;
    }
    return false;
  }

  void output_chain() {
    if (!plan_.egress_smtp_restricted) return;
    line(0, "");
    line(1, "# Only the MTA's user may open outbound SMTP: a web shell or a compromised");
    line(1, "# webmail cannot send around the MTA's rate limits.");
    line(1, "chain output {");
    line(2, "type filter hook output priority filter; policy accept;");
    line(2, "oif \"lo\" accept");
    line(2, fmt::format("tcp dport 25 ct state new meta skuid != {} counter reject with "
                        "tcp reset comment \"outbound SMTP only from the MTA\"",
                        nft_string(plan_.egress_mta_user)));
    line(1, "}");
  }

  const FirewallPlan& plan_;
  std::string out_;
};

}  // namespace

std::vector<Artefact> render_nft(const FirewallPlan& plan) {
  return {{"mailwarden.nft", NftWriter(plan).render(),
           "nftables script: load with `nft -f mailwarden.nft` (atomic; replaces table inet "
           "mailwarden only)"}};
}

}  // namespace mw
