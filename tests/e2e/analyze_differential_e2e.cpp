// Differential test of the exposure analyser against the kernel: random rulesets, probed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/ip.hpp"
#include "core/port_set.hpp"
#include "core/subprocess.hpp"
#include "firewall/exposure.hpp"
#include "firewall/ruleset.hpp"
#include "firewall/ruleset_loader.hpp"
#include "harness/netns.hpp"

namespace mw {
namespace {

using test::NetnsPair;
using test::Probe;
using test::ProbeOutcome;

constexpr int kDefaultCasesPerKind = 160;
constexpr std::chrono::milliseconds kProbeDeadline{700};
constexpr std::chrono::milliseconds kRetryDeadline{5000};

// ---------------------------------------------------------------------------------------------
// The address and port plan shared by the generator and the probes.

// Sources the client sends from: spread over the prefixes of the pools below, so that every
// prefix in a rule splits them.
const std::vector<const char*> kSources4 = {"192.0.2.2",      "192.0.2.200",   "198.51.100.10",
                                            "198.51.100.130", "198.51.100.77", "203.0.113.5",
                                            "203.0.113.70",   "203.0.113.200"};
const std::vector<const char*> kSources6 = {"2001:db8::2", "2001:db8:a::5", "2001:db8:a:1::9",
                                            "2001:db8:b::7", "2001:db8:ffff::1"};

// Prefixes rules match on: the documentation ranges, halves and quarters of them, supersets and
// single hosts.
const std::vector<const char*> kPool4 = {"192.0.2.0/24",    "192.0.2.0/25",    "192.0.2.128/25",
                                         "198.51.100.0/24", "198.51.100.0/25", "198.51.100.128/25",
                                         "203.0.113.0/24",  "203.0.113.64/26", "203.0.113.0/25",
                                         "198.51.0.0/16",   "192.0.2.200",     "198.51.100.10"};
const std::vector<const char*> kPool6 = {
    "2001:db8::/32",   "2001:db8::/64",      "2001:db8:a::/48", "2001:db8:a::/64",
    "2001:db8:b::/48", "2001:db8:ff00::/40", "2001:db8::2",     "2001:db8:a:1::/64"};

// The ports listened on and probed.
const std::vector<std::pair<Protocol, std::uint16_t>> kPorts = {
    {Protocol::tcp, 22},   {Protocol::tcp, 25},   {Protocol::tcp, 80}, {Protocol::tcp, 443},
    {Protocol::tcp, 1500}, {Protocol::tcp, 7071}, {Protocol::udp, 53}, {Protocol::udp, 1500}};

// Port values and ranges rules match on: {first, last}.
const std::vector<std::pair<int, int>> kPortPool = {
    {22, 22},     {25, 25},     {53, 53},     {80, 80}, {443, 443},   {1500, 1500},
    {7071, 7071}, {8080, 8080}, {1000, 2000}, {20, 30}, {7000, 7100}, {440, 450}};

const std::string kServer4 = "192.0.2.1";
const std::string kServer6 = "2001:db8::1";

// ---------------------------------------------------------------------------------------------
// Seeded choices (our own arithmetic on mt19937_64, so a seed means the same case everywhere).

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  int below(int n) { return static_cast<int>(g_() % static_cast<std::uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))];
  }

 private:
  std::mt19937_64 g_;
};

bool prefixes_overlap(const std::string& a, const std::string& b) {
  auto pa = parse_prefix(a);
  auto pb = parse_prefix(b);
  if (!pa.ok() || !pb.ok()) return true;
  if (pa->addr.family != pb->addr.family) return false;
  return pa->first() <= pb->last() && pb->first() <= pa->last();
}

// 1-3 distinct non-overlapping prefixes of a family (nft refuses overlapping interval elements).
std::vector<std::string> disjoint_prefixes(Rng& r, Family f, int max_n) {
  const auto& pool = f == Family::v4 ? kPool4 : kPool6;
  std::vector<std::string> out;
  const int n = 1 + r.below(max_n);
  for (int tries = 0; tries < 20 && static_cast<int>(out.size()) < n; ++tries) {
    std::string p = r.pick(pool);
    bool clash = false;
    for (const auto& q : out) clash = clash || prefixes_overlap(p, q);
    if (!clash) out.push_back(p);
  }
  return out;
}

std::vector<std::pair<int, int>> disjoint_ports(Rng& r, int max_n) {
  std::vector<std::pair<int, int>> out;
  const int n = 1 + r.below(max_n);
  for (int tries = 0; tries < 20 && static_cast<int>(out.size()) < n; ++tries) {
    auto p = r.pick(kPortPool);
    bool clash = false;
    for (const auto& q : out) clash = clash || (p.first <= q.second && q.first <= p.second);
    if (!clash) out.push_back(p);
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string port_text(std::pair<int, int> p, char range_sep) {
  return p.first == p.second ? std::to_string(p.first)
                             : fmt::format("{}{}{}", p.first, range_sep, p.second);
}

// ---------------------------------------------------------------------------------------------
// nft generator

enum class NftFamily { inet, ip, ip6 };

struct NftTableCtx {
  NftFamily family = NftFamily::inet;
  bool set4 = false, set6 = false, port_set = false;
};

struct NftChainCtx {
  bool prerouting = false;           // reject is not allowed on this path: drop instead
  std::vector<std::string> targets;  // chains a jump/goto may go to (later in the DAG)
};

std::string nft_addr_match(Rng& r, const NftTableCtx& t, Family f, const char* dir) {
  const std::string kw = f == Family::v4 ? "ip" : "ip6";
  const std::string neg = r.chance(30) ? "!= " : "";
  if (std::string(dir) == "daddr") {
    const std::vector<std::string> d4 = {"192.0.2.1", "192.0.2.0/24", "198.51.100.1"};
    const std::vector<std::string> d6 = {"2001:db8::1", "2001:db8::/64", "2001:db8:a::1"};
    return fmt::format("{} daddr {}{}", kw, neg, r.pick(f == Family::v4 ? d4 : d6));
  }
  const bool has_set = f == Family::v4 ? t.set4 : t.set6;
  const int kind = r.below(has_set ? 3 : 2);
  if (kind == 2) return fmt::format("{} saddr {}@a{}", kw, neg, f == Family::v4 ? 4 : 6);
  if (kind == 1) {
    auto ps = disjoint_prefixes(r, f, 3);
    if (ps.size() > 1) return fmt::format("{} saddr {}{{ {} }}", kw, neg, join(ps, ", "));
  }
  return fmt::format("{} saddr {}{}", kw, neg, r.pick(f == Family::v4 ? kPool4 : kPool6));
}

std::string nft_l4_match(Rng& r, const NftTableCtx& t) {
  const std::string proto = r.chance(60) ? "tcp" : "udp";
  const std::string neg = r.chance(20) ? "!= " : "";
  switch (r.below(t.port_set ? 9 : 8)) {
    case 7: {
      // TCP flag tests the analysis decides for a SYN.
      const std::vector<std::string> m = {"tcp flags syn", "tcp flags & (syn | ack) == syn",
                                          "tcp flags & (syn | ack) == ack",
                                          "tcp flags & (fin | syn | rst | ack) != syn"};
      return r.pick(m);
    }
    case 0:
      return "meta l4proto " + proto;
    case 1:
      return "meta l4proto { tcp, udp }";
    case 2: {
      std::vector<std::string> ps;
      for (auto p : disjoint_ports(r, 3)) ps.push_back(port_text(p, '-'));
      return "meta l4proto { tcp, udp } th dport " +
             (ps.size() > 1 ? "{ " + join(ps, ", ") + " }" : ps[0]);
    }
    case 3:
    case 4:
      return fmt::format("{} dport {}{}", proto, neg, port_text(r.pick(kPortPool), '-'));
    case 5:
    case 6: {
      std::vector<std::string> ps;
      for (auto p : disjoint_ports(r, 4)) ps.push_back(port_text(p, '-'));
      return fmt::format("{} dport {}{{ {} }}", proto, neg, join(ps, ", "));
    }
    default:
      return fmt::format("{} dport {}@ports", proto, neg);
  }
}

std::string nft_iface_match(Rng& r) {
  const std::vector<std::string> m = {"iifname \"lo\"",
                                      "iifname \"veth-srv\"",
                                      "iifname != \"lo\"",
                                      "iifname != \"veth-srv\"",
                                      "iif \"lo\"",
                                      "iifname \"veth*\"",
                                      "iifname { \"lo\", \"veth-srv\" }"};
  return r.pick(m);
}

std::string nft_ct_match(Rng& r) {
  const std::vector<std::string> m = {
      "ct state new",     "ct state established,related", "ct state established",
      "ct state invalid", "ct state new,established",     "ct state != established"};
  return r.pick(m);
}

std::string nft_rule(Rng& r, const NftTableCtx& t, const NftChainCtx& c) {
  std::vector<std::string> parts;
  std::optional<Family> fam;
  if (t.family == NftFamily::ip) fam = Family::v4;
  if (t.family == NftFamily::ip6) fam = Family::v6;
  if (t.family == NftFamily::inet && r.chance(60)) fam = r.chance(50) ? Family::v4 : Family::v6;
  if (t.family == NftFamily::inet && fam && r.chance(10)) {
    parts.push_back(*fam == Family::v4 ? "meta nfproto ipv4" : "meta nfproto ipv6");
  }
  if (fam && r.chance(55)) parts.push_back(nft_addr_match(r, t, *fam, "saddr"));
  if (fam && r.chance(10)) parts.push_back(nft_addr_match(r, t, *fam, "daddr"));
  if (r.chance(20)) parts.push_back(nft_iface_match(r));
  std::string l4;
  if (r.chance(65)) parts.push_back(l4 = nft_l4_match(r, t));
  if (r.chance(20)) parts.push_back(nft_ct_match(r));
  if (r.chance(15)) parts.push_back("counter");
  std::string verdict;
  const int v = r.below(100);
  if (v < 30) {
    verdict = "accept";
  } else if (v < 50) {
    verdict = "drop";
  } else if (v < 60) {
    verdict = c.prerouting ? "drop" : "reject";
    const bool tcp_only = l4.rfind("tcp ", 0) == 0;
    if (!c.prerouting && tcp_only && r.chance(50)) verdict = "reject with tcp reset";
  } else if (v < 75 && !c.targets.empty()) {
    verdict = "jump " + r.pick(c.targets);
  } else if (v < 83 && !c.targets.empty()) {
    verdict = "goto " + r.pick(c.targets);
  } else if (v < 90) {
    verdict = "return";
  } else if (parts.empty()) {
    verdict = "counter";
  }
  if (!verdict.empty()) parts.push_back(verdict);
  if (parts.empty()) parts.push_back("accept");
  return join(parts, " ");
}

std::string gen_nft(Rng& r) {
  std::string out;
  const int ntables = 1 + (r.chance(35) ? 1 : 0);
  for (int ti = 0; ti < ntables; ++ti) {
    NftTableCtx t;
    const int f = r.below(4);
    t.family = f < 2 ? NftFamily::inet : f == 2 ? NftFamily::ip : NftFamily::ip6;
    t.set4 = t.family != NftFamily::ip6 && r.chance(40);
    t.set6 = t.family != NftFamily::ip && r.chance(40);
    t.port_set = r.chance(35);
    const char* fam = t.family == NftFamily::inet ? "inet"
                      : t.family == NftFamily::ip ? "ip"
                                                  : "ip6";
    out += fmt::format("table {} t{} {{\n", fam, ti);
    if (t.set4) {
      out += fmt::format("  set a4 {{ type ipv4_addr; flags interval; elements = {{ {} }} }}\n",
                         join(disjoint_prefixes(r, Family::v4, 3), ", "));
    }
    if (t.set6) {
      out += fmt::format("  set a6 {{ type ipv6_addr; flags interval; elements = {{ {} }} }}\n",
                         join(disjoint_prefixes(r, Family::v6, 3), ", "));
    }
    if (t.port_set) {
      std::vector<std::string> ps;
      for (auto p : disjoint_ports(r, 4)) ps.push_back(port_text(p, '-'));
      out +=
          fmt::format("  set ports {{ type inet_service; flags interval; elements = {{ {} }} }}\n",
                      join(ps, ", "));
    }
    const int nbase = 1 + (r.chance(40) ? 1 : 0);
    for (int bi = 0; bi < nbase; ++bi) {
      NftChainCtx c;
      c.prerouting = r.chance(30);
      const int nreg = r.below(3);
      // Regular chains first, the last of the DAG first: jumps only go to later chains.
      for (int k = nreg - 1; k >= 0; --k) {
        NftChainCtx rc;
        rc.prerouting = c.prerouting;
        for (int j = k + 1; j < nreg; ++j) rc.targets.push_back(fmt::format("b{}c{}", bi, j));
        out += fmt::format("  chain b{}c{} {{\n", bi, k);
        const int nrules = 1 + r.below(4);
        for (int i = 0; i < nrules; ++i) out += "    " + nft_rule(r, t, rc) + "\n";
        out += "  }\n";
      }
      for (int j = 0; j < nreg; ++j) c.targets.push_back(fmt::format("b{}c{}", bi, j));
      // -300 runs before conntrack (-200): there `ct state` reads INVALID (found by seed 72).
      const std::vector<int> prios = {-300, -150, -10, 0, 10, 100};
      out += fmt::format("  chain b{} {{\n    type filter hook {} priority {}; policy {};\n", bi,
                         c.prerouting ? "prerouting" : "input", r.pick(prios),
                         r.chance(50) ? "accept" : "drop");
      // A REJECT reached by the handshake's final ACK (ESTABLISHED: it skips a `ct state new
      // accept`) answers with an ICMP error that the probe reads as a refusal, though the SYN
      // was accepted. The analysis follows the first SYN only, so the ACK is let in first.
      if (!c.prerouting) out += "    ct state established,related accept\n";
      const int nrules = 1 + r.below(5);
      for (int i = 0; i < nrules; ++i) out += "    " + nft_rule(r, t, c) + "\n";
      out += "  }\n";
    }
    out += "}\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// iptables generator (one iptables-restore text per family)

// `filter`: the rule is in the filter table (REJECT is only allowed there). `ct`: conntrack
// matches allowed (in raw, before conntrack, they see INVALID: the analyser models it).
std::string ipt_rule(Rng& r, Family f, const std::string& chain,
                     const std::vector<std::string>& targets, bool filter = true, bool ct = true) {
  std::vector<std::string> parts = {"-A " + chain};
  const auto& pool = f == Family::v4 ? kPool4 : kPool6;
  bool multi_src = false;  // iptables refuses `! -d` beside several -s addresses
  if (r.chance(55)) {
    const int k = r.below(3);
    if (k == 0) {
      parts.push_back("-s " + std::string(r.pick(pool)));
    } else if (k == 1) {
      parts.push_back("! -s " + std::string(r.pick(pool)));
    } else {
      auto ps = disjoint_prefixes(r, f, 3);
      multi_src = ps.size() > 1;
      parts.push_back("-s " + join(ps, ","));
    }
  }
  if (r.chance(10)) {
    const std::vector<std::string> d4 = {"-d 192.0.2.1", "! -d 192.0.2.1", "-d 192.0.2.0/24",
                                         "-d 198.51.100.1"};
    const std::vector<std::string> d6 = {"-d 2001:db8::1", "! -d 2001:db8::1", "-d 2001:db8::/64",
                                         "-d 2001:db8:a::1"};
    std::string d = r.pick(f == Family::v4 ? d4 : d6);
    if (multi_src && d[0] == '!') d = d.substr(2);
    parts.push_back(d);
  }
  if (r.chance(20)) {
    const std::vector<std::string> m = {"-i lo", "-i veth-srv", "! -i lo", "! -i veth-srv",
                                        "-i veth+"};
    parts.push_back(r.pick(m));
  }
  bool tcp = false;
  if (r.chance(65)) {
    const std::string proto = r.chance(60) ? "tcp" : "udp";
    tcp = proto == "tcp";
    const std::string neg = r.chance(20) ? "! " : "";
    switch (r.below(6)) {
      case 5: {
        // TCP flag tests the analysis decides for a SYN.
        const std::vector<std::string> m = {"--syn", "! --syn", "--tcp-flags SYN,ACK SYN",
                                            "--dport 25 --tcp-flags SYN,RST,ACK ACK"};
        tcp = true;
        parts.push_back("-p tcp -m tcp " + r.pick(m));
        break;
      }
      case 0:
        parts.push_back("-p " + proto);
        break;
      case 1:
      case 2:
        parts.push_back(fmt::format("-p {} -m {} {}--dport {}", proto, proto, neg,
                                    port_text(r.pick(kPortPool), ':')));
        break;
      default: {
        std::vector<std::string> ps;
        for (auto p : disjoint_ports(r, 4)) ps.push_back(port_text(p, ':'));
        parts.push_back(fmt::format("-p {} -m multiport {}--dports {}", proto, neg, join(ps, ",")));
      }
    }
  }
  if (ct && r.chance(20)) {
    const std::vector<std::string> m = {
        "-m conntrack --ctstate NEW", "-m conntrack --ctstate RELATED,ESTABLISHED",
        "-m conntrack ! --ctstate NEW", "-m state --state NEW", "-m conntrack --ctstate INVALID"};
    parts.push_back(r.pick(m));
  }
  const int v = r.below(100);
  if (v < 30) {
    parts.push_back("-j ACCEPT");
  } else if (v < 50) {
    parts.push_back("-j DROP");
  } else if (v < 60) {
    if (!filter) {
      parts.push_back("-j DROP");
    } else {
      parts.push_back(tcp && r.chance(40) ? "-j REJECT --reject-with tcp-reset" : "-j REJECT");
    }
  } else if (v < 75 && !targets.empty()) {
    parts.push_back("-j " + r.pick(targets));
  } else if (v < 83 && !targets.empty()) {
    parts.push_back("-g " + r.pick(targets));
  } else if (v < 90) {
    parts.push_back("-j RETURN");
  }  // else: no target, a counting rule
  return join(parts, " ");
}

std::string gen_ipt(Rng& r, Family f) {
  std::string out = "*filter\n";
  out += fmt::format(":INPUT {} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
                     r.chance(50) ? "ACCEPT" : "DROP");
  const int nuser = r.below(4);
  for (int k = 0; k < nuser; ++k) out += fmt::format(":C{} - [0:0]\n", k);
  std::vector<std::string> all;
  for (int k = 0; k < nuser; ++k) all.push_back(fmt::format("C{}", k));
  // The handshake's final ACK is let in first (see gen_nft).
  out += "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n";
  const int nrules = 1 + r.below(6);
  for (int i = 0; i < nrules; ++i) out += ipt_rule(r, f, "INPUT", all) + "\n";
  for (int k = 0; k < nuser; ++k) {
    std::vector<std::string> later(all.begin() + k + 1, all.end());
    const int n = 1 + r.below(4);
    for (int i = 0; i < n; ++i)
      out += ipt_rule(r, f, all[static_cast<std::size_t>(k)], later) + "\n";
  }
  out += "COMMIT\n";
  // Sometimes rules before filter: raw PREROUTING (before conntrack) and mangle PREROUTING /
  // INPUT, built-in chains only.
  for (const char* table : {"raw", "mangle"}) {
    if (!r.chance(20)) continue;
    const bool raw = std::string(table) == "raw";
    out += fmt::format("*{}\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n", table);
    if (!raw) out += ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n";
    const int n = 1 + r.below(3);
    for (int i = 0; i < n; ++i) {
      const std::string chain = raw || r.chance(50) ? "PREROUTING" : "INPUT";
      out += ipt_rule(r, f, chain, {}, false, true) + "\n";
    }
    out += "COMMIT\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The kernel side: one namespace pair for all the cases of a test.

enum class Kind { nft, iptables };

struct GeneratedCase {
  std::string nft;         // nft -f text (Kind::nft; sometimes beside iptables too)
  std::string ipt4, ipt6;  // iptables-restore texts (Kind::iptables)
  std::string text() const {
    if (ipt4.empty()) return nft;
    return "# iptables-restore\n" + ipt4 + "# ip6tables-restore\n" + ipt6 +
           (nft.empty() ? "" : "# nft -f\n" + nft);
  }
};

GeneratedCase generate(Kind kind, std::uint64_t seed) {
  Rng r(seed * 0x9e3779b97f4a7c15ULL + (kind == Kind::nft ? 1 : 2));
  GeneratedCase c;
  if (kind == Kind::nft) {
    c.nft = gen_nft(r);
  } else {
    c.ipt4 = gen_ipt(r, Family::v4);
    c.ipt6 = gen_ipt(r, Family::v6);
    // Sometimes native nft tables beside iptables-nft's: both dumps are read, and the
    // analyser must not count the xt-compat tables of the JSON twice.
    if (r.chance(30)) c.nft = gen_nft(r);
  }
  return c;
}

Address addr(const std::string& text) {
  auto a = parse_address(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : Address{};
}

class Bench {
 public:
  // Sets up the namespaces, listeners and static neighbour entries; "" or the reason it failed.
  std::string setup() {
    test::NetnsOptions o;
    o.server_addresses = {test::interface_address(kServer4 + "/24"),
                          test::interface_address(kServer6 + "/64")};
    o.client_addresses = {};
    for (const auto* s : kSources4) {
      const std::string a = s;
      o.client_addresses.push_back(
          test::interface_address(a == "192.0.2.2" ? a + "/24" : a + "/32"));
    }
    for (const auto* s : kSources6) {
      const std::string a = s;
      o.client_addresses.push_back(
          test::interface_address(a == "2001:db8::2" ? a + "/64" : a + "/128"));
    }
    auto pair = NetnsPair::create(o);
    if (!pair.ok()) return pair.error().message;
    pair_ = std::move(*pair);
    auto l = test::Listeners::start(pair_->server(), kPorts);
    if (!l.ok()) return l.error().message;
    listeners_ = std::move(*l);
    // Static IPv6 neighbours both ways: a generated ruleset dropping ICMPv6 must not break
    // neighbour discovery (that would be a generator artefact, not an analyser disagreement).
    auto srv_mac = pair_->mac_of(pair_->server(), NetnsPair::server_interface());
    auto cli_mac = pair_->mac_of(pair_->client(), NetnsPair::client_interface());
    if (srv_mac.empty() || cli_mac.empty()) return "cannot read the veth MAC addresses";
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"ip", "-6", "neigh", "replace", kServer6, "lladdr", srv_mac, "dev",
                    std::string(NetnsPair::client_interface()), "nud", "permanent"});
    for (const auto* s : kSources6) {
      cmds.push_back({"ip", "-6", "neigh", "replace", s, "lladdr", cli_mac, "dev",
                      std::string(NetnsPair::server_interface()), "nud", "permanent"});
    }
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      const std::string& ns = i == 0 ? pair_->client() : pair_->server();
      if (auto st = run(ns, cmds[i]); !st.empty()) return st;
    }
    for (const auto* s : kSources4) sources_.push_back(addr(s));
    for (const auto* s : kSources6) sources_.push_back(addr(s));
    return "";
  }

  // Runs argv in namespace ns; "" on success or the failure.
  std::string run(const std::string& ns, const std::vector<std::string>& argv,
                  const std::string& stdin_data = "", std::string* out = nullptr) {
    auto st = pair_->exec_ok(ns, argv, stdin_data, out);
    return st ? "" : st.error().message;
  }

  // Empties every firewall table and the conntrack table; checks nothing is left.
  std::string reset() {
    if (auto st = pair_->reset(); !st.ok()) return st.error().message;
    std::string left;
    if (auto st = run(pair_->server(), {"nft", "list", "ruleset"}, "", &left); !st.empty()) {
      return st;
    }
    if (left.find_first_not_of(" \t\n") != std::string::npos) {
      return "ruleset not empty after reset:\n" + left;
    }
    return "";
  }

  // Loads the case; "" or the tool's complaint.
  std::string load(const GeneratedCase& c) {
    if (!c.ipt4.empty()) {
      if (auto st = run(pair_->server(), {"iptables-restore"}, c.ipt4); !st.empty()) return st;
      if (auto st = run(pair_->server(), {"ip6tables-restore"}, c.ipt6); !st.empty()) return st;
    }
    if (!c.nft.empty()) return run(pair_->server(), {"nft", "-f", "-"}, c.nft);
    return "";
  }

  // What the kernel holds, parsed; the dumps go to *dumps for messages.
  std::string dump(const GeneratedCase& c, fw::Ruleset& rs, std::string& dumps) {
    std::vector<std::pair<std::vector<std::string>, std::string>> cmds;
    if (!c.ipt4.empty()) {
      cmds.push_back({{"iptables-save"}, "rules.v4"});
      cmds.push_back({{"ip6tables-save"}, "rules.v6"});
    }
    if (!c.nft.empty()) cmds.push_back({{"nft", "-j", "list", "ruleset"}, "nft.json"});
    for (const auto& [argv, source] : cmds) {
      std::string out;
      if (auto st = run(pair_->server(), argv, "", &out); !st.empty()) return st;
      dumps += "# " + source + "\n" + out + "\n";
      if (auto st = fw::add_dump(rs, out, source); !st.ok()) {
        return "add_dump(" + source + "): " + st.error().message;
      }
    }
    return "";
  }

  std::vector<ProbeOutcome> probe(std::vector<Probe>& probes, std::vector<std::string>& details) {
    probes.clear();
    for (const auto& s : sources_) {
      const Address to = s.family == Family::v4 ? addr(kServer4) : addr(kServer6);
      for (auto [proto, port] : kPorts) probes.push_back({s, to, proto, port});
    }
    return test::probe_all(pair_->client(), probes, kProbeDeadline, &details);
  }

  // The same probes again with a longer deadline: a SYN-ACK that missed the first deadline on a
  // loaded machine is not a disagreement.
  std::vector<ProbeOutcome> probe_again(const std::vector<Probe>& probes,
                                        std::vector<std::string>& details) {
    return test::probe_all(pair_->client(), probes, kRetryDeadline, &details);
  }

 private:
  std::unique_ptr<NetnsPair> pair_;
  std::unique_ptr<test::Listeners> listeners_;
  std::vector<Address> sources_;
};

std::string save_dir() {
  if (const char* d = std::getenv("MW_DIFF_SAVE_DIR"); d && *d) return d;
  return ::testing::TempDir();
}

std::string save_case(Kind kind, std::uint64_t seed, const std::string& content) {
  const std::string dir = save_dir();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path =
      (std::filesystem::path(dir) /
       fmt::format("mw-diff-{}-seed-{}.txt", kind == Kind::nft ? "nft" : "iptables", seed))
          .string();
  std::ofstream(path) << content;
  return path;
}

std::vector<std::uint64_t> seeds(std::uint64_t first) {
  if (const char* s = std::getenv("MW_DIFF_SEED"); s && *s) {
    return {std::strtoull(s, nullptr, 10)};
  }
  int n = kDefaultCasesPerKind;
  if (const char* s = std::getenv("MW_DIFF_CASES"); s && *s) n = std::atoi(s);
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(first + static_cast<std::uint64_t>(i));
  return out;
}

// Probe outcomes over a run: both must occur, or the comparison proves little.
struct Tally {
  int open = 0, closed = 0;
};

// One seeded case: load, dump, analyse, probe, compare.
void run_case(Bench& bench, Kind kind, std::uint64_t seed, Tally& tally) {
  const GeneratedCase c = generate(kind, seed);
  const std::string what = fmt::format("{} case, seed {} (replay: MW_DIFF_SEED={})",
                                       kind == Kind::nft ? "nft" : "iptables", seed, seed);
  if (auto st = bench.reset(); !st.empty()) {
    ADD_FAILURE() << what << ": reset: " << st;
    return;
  }
  if (auto st = bench.load(c); !st.empty()) {
    const auto path = save_case(kind, seed, "# " + what + "\n" + c.text());
    ADD_FAILURE() << what << ": the kernel refused the generated ruleset (generator bug), saved to "
                  << path << "\n"
                  << st << "\n"
                  << c.text();
    return;
  }
  fw::Ruleset rs;
  std::string dumps;
  if (auto st = bench.dump(c, rs, dumps); !st.empty()) {
    const auto path = save_case(kind, seed, "# " + what + "\n" + c.text() + "\n" + dumps);
    ADD_FAILURE() << what << ": " << st << "\nsaved to " << path << "\n" << c.text();
    return;
  }
  std::vector<Probe> probes;
  std::vector<std::string> details;
  auto got = bench.probe(probes, details);
  if (got.size() != probes.size()) {
    ADD_FAILURE() << what << ": probe_all returned " << got.size() << " outcomes";
    return;
  }
  // Probes the analyser says are accepted but that got no answer in time: once more, slowly.
  std::vector<std::size_t> late;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (got[i] == ProbeOutcome::open || got[i] == ProbeOutcome::error) continue;
    fw::Query q;
    q.family = probes[i].source.family;
    q.protocol = probes[i].protocol;
    q.port = probes[i].port;
    q.iface = std::string(NetnsPair::server_interface());
    q.to = probes[i].target;
    const auto result = fw::analyse(rs, q);
    const fw::Region* region = result.region_of(probes[i].source);
    if (region != nullptr && region->outcome == fw::Outcome::accept) late.push_back(i);
  }
  if (!late.empty()) {
    std::vector<Probe> again;
    for (auto i : late) again.push_back(probes[i]);
    std::vector<std::string> again_details;
    const auto second = bench.probe_again(again, again_details);
    for (std::size_t k = 0; k < late.size() && k < second.size(); ++k) {
      got[late[k]] = second[k];
      if (k < again_details.size() && late[k] < details.size()) details[late[k]] = again_details[k];
    }
  }
  std::string mismatches;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    fw::Query q;
    q.family = p.source.family;
    q.protocol = p.protocol;
    q.port = p.port;
    q.iface = std::string(NetnsPair::server_interface());
    q.to = p.target;
    const auto result = fw::analyse(rs, q);
    const fw::Region* region = result.region_of(p.source);
    if (got[i] == ProbeOutcome::error) {
      mismatches += fmt::format("  {}: probe error {}\n", test::to_string(p), details[i]);
      continue;
    }
    const bool open = got[i] == ProbeOutcome::open;
    ++(open ? tally.open : tally.closed);
    if (region == nullptr) {
      mismatches += fmt::format("  {}: kernel {}, analyser has no region\n", test::to_string(p),
                                test::probe_outcome_name(got[i]));
      continue;
    }
    const bool ok = region->outcome == fw::Outcome::uncertain
                        ? false
                        : open == (region->outcome == fw::Outcome::accept);
    if (!ok) {
      mismatches += fmt::format("  {}: kernel {}{}, analyser {} (rule {}{})\n", test::to_string(p),
                                test::probe_outcome_name(got[i]),
                                details[i].empty() ? "" : " (" + details[i] + ")",
                                fw::outcome_name(region->outcome), region->rule,
                                region->reason.empty() ? "" : ", reason: " + region->reason);
    }
  }
  if (!mismatches.empty()) {
    const std::string report =
        fmt::format("# {}\n{}\n# disagreements:\n{}\n{}", what, c.text(), mismatches, dumps);
    const auto path = save_case(kind, seed, report);
    ADD_FAILURE() << what << ": kernel and analyser disagree (saved to " << path << ")\n"
                  << c.text() << "disagreements:\n"
                  << mismatches;
  }
}

void run_kind(Kind kind) {
  if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  Bench bench;
  const std::string st = bench.setup();
  ASSERT_TRUE(st.empty()) << st;
  const auto start = std::chrono::steady_clock::now();
  const auto list = seeds(1);
  Tally tally;
  for (std::uint64_t seed : list) {
    run_case(bench, kind, seed, tally);
    if (::testing::Test::HasFailure() && ::testing::Test::HasFatalFailure()) break;
  }
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu %s cases in %.1f s: %d probes open, %d refused or dropped\n", list.size(),
              kind == Kind::nft ? "nft" : "iptables", secs, tally.open, tally.closed);
  if (list.size() > 1) {
    EXPECT_GT(tally.open, 0);
    EXPECT_GT(tally.closed, 0);
  }
  // Leave the namespace's firewall empty for whoever comes next.
  EXPECT_TRUE(bench.reset().empty());
}

TEST(AnalyzeDifferential, NftRulesetsAgreeWithTheKernel) {
  run_kind(Kind::nft);
}

TEST(AnalyzeDifferential, IptablesRulesetsAgreeWithTheKernel) {
  run_kind(Kind::iptables);
}

}  // namespace
}  // namespace mw
