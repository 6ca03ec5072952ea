// Kernel-vs-analyser comparison for the real rulesets in tests/data/rulesets/, loaded into a netns.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/ip.hpp"
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

constexpr std::chrono::milliseconds kProbeDeadline{700};

const std::vector<const char*> kSources4 = {"192.0.2.2",     "192.0.2.77",     "198.51.100.7",
                                            "198.51.100.20", "198.51.100.200", "203.0.113.5",
                                            "203.0.113.99"};
const std::vector<const char*> kSources6 = {"2001:db8::2", "2001:db8::77", "2001:db8:a::5",
                                            "2001:db8:ffff::1"};
const std::vector<std::pair<Protocol, std::uint16_t>> kPorts = {
    {Protocol::tcp, 22},   {Protocol::tcp, 25},   {Protocol::tcp, 80},  {Protocol::tcp, 443},
    {Protocol::tcp, 7071}, {Protocol::tcp, 9071}, {Protocol::tcp, 389}, {Protocol::tcp, 11211},
    {Protocol::udp, 53},   {Protocol::udp, 11211}};

const std::string kServer4 = "192.0.2.1";
const std::string kServer6 = "2001:db8::1";

Address addr(const std::string& text) {
  auto a = parse_address(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : Address{};
}

std::string data_path(const std::string& rel) {
  return std::string(MW_SOURCE_DIR) + "/tests/data/rulesets/" + rel;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// One load step: argv run in the server namespace with the file's content on stdin.
struct LoadStep {
  std::vector<std::string> argv;
  std::string file;  // relative to tests/data/rulesets/
};

struct RealCase {
  std::string name;
  std::vector<LoadStep> steps;
  // Substrings of an uncertain region's reason that are accepted (matches the model lacks).
  std::vector<std::string> allowed_uncertain;
  bool both_outcomes = true;  // the kernel must show open and closed probes
};

class Bench {
 public:
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
    // Static neighbours both ways: rulesets dropping ICMPv6 must not break neighbour discovery.
    const std::string srv_mac = pair_->mac_of(pair_->server(), NetnsPair::server_interface());
    const std::string cli_mac = pair_->mac_of(pair_->client(), NetnsPair::client_interface());
    if (srv_mac.empty() || cli_mac.empty()) return "cannot read the veth MAC addresses";
    if (auto st = run(pair_->client(),
                      {"ip", "-6", "neigh", "replace", kServer6, "lladdr", srv_mac, "dev",
                       std::string(NetnsPair::client_interface()), "nud", "permanent"});
        !st.empty()) {
      return st;
    }
    for (const auto* s : kSources6) {
      if (auto st = run(pair_->server(),
                        {"ip", "-6", "neigh", "replace", s, "lladdr", cli_mac, "dev",
                         std::string(NetnsPair::server_interface()), "nud", "permanent"});
          !st.empty()) {
        return st;
      }
    }
    for (const auto* s : kSources4) sources_.push_back(addr(s));
    for (const auto* s : kSources6) sources_.push_back(addr(s));
    return "";
  }

  std::string run(const std::string& ns, const std::vector<std::string>& argv,
                  const std::string& stdin_data = "", std::string* out = nullptr) {
    auto st = pair_->exec_ok(ns, argv, stdin_data, out);
    return st ? "" : st.error().message;
  }

  std::string reset() {
    if (auto st = pair_->reset(); !st.ok()) return st.error().message;
    return "";
  }

  const std::string& server() const { return pair_->server(); }

  std::vector<ProbeOutcome> probe(std::vector<Probe>& probes, std::vector<std::string>& details) {
    probes.clear();
    for (const auto& s : sources_) {
      const Address to = s.family == Family::v4 ? addr(kServer4) : addr(kServer6);
      for (auto [proto, port] : kPorts) probes.push_back({s, to, proto, port});
    }
    return test::probe_all(pair_->client(), probes, kProbeDeadline, &details);
  }

 private:
  std::unique_ptr<NetnsPair> pair_;
  std::unique_ptr<test::Listeners> listeners_;
  std::vector<Address> sources_;
};

void run_real(const RealCase& c) {
  if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  Bench bench;
  const std::string st = bench.setup();
  ASSERT_TRUE(st.empty()) << st;
  ASSERT_EQ(bench.reset(), "");

  bool iptables = false;
  for (const auto& step : c.steps) {
    std::string text;
    ASSERT_TRUE(read_file(data_path(step.file), text)) << "cannot read " << data_path(step.file);
    iptables = iptables || step.argv[0].find("tables-restore") != std::string::npos;
    if (auto err = bench.run(bench.server(), step.argv, text); !err.empty()) {
      bench.reset();
      GTEST_SKIP() << c.name << ": the kernel refused " << step.file << ": " << err;
    }
  }

  std::vector<std::pair<std::vector<std::string>, std::string>> cmds;
  cmds.push_back({{"nft", "-j", "list", "ruleset"}, "nft.json"});
  if (iptables) {
    cmds.push_back({{"iptables-save"}, "rules.v4"});
    cmds.push_back({{"ip6tables-save"}, "rules.v6"});
  }
  fw::Ruleset rs;
  std::string dumps;
  for (const auto& [argv, source] : cmds) {
    std::string out;
    const std::string err = bench.run(bench.server(), argv, "", &out);
    ASSERT_EQ(err, "");
    dumps += "# " + source + "\n" + out + "\n";
    auto added = fw::add_dump(rs, out, source);
    ASSERT_TRUE(added.ok()) << "add_dump(" << source << "): " << added.error().message;
  }

  std::vector<Probe> probes;
  std::vector<std::string> details;
  const auto got = bench.probe(probes, details);
  ASSERT_EQ(got.size(), probes.size());

  int open = 0, closed = 0, uncertain = 0;
  std::string mismatches, uncertain_seen;
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
    const bool is_open = got[i] == ProbeOutcome::open;
    ++(is_open ? open : closed);
    if (region == nullptr) {
      mismatches += fmt::format("  {}: kernel {}, analyser has no region\n", test::to_string(p),
                                test::probe_outcome_name(got[i]));
      continue;
    }
    const std::string line = fmt::format(
        "  {}: kernel {}{}, analyser {} (rule {}{})\n", test::to_string(p),
        test::probe_outcome_name(got[i]), details[i].empty() ? "" : " (" + details[i] + ")",
        fw::outcome_name(region->outcome), region->rule,
        region->reason.empty() ? "" : ", reason: " + region->reason);
    if (region->outcome == fw::Outcome::uncertain) {
      bool allowed = false;
      for (const auto& a : c.allowed_uncertain) {
        allowed = allowed || region->reason.find(a) != std::string::npos;
      }
      if (allowed) {
        ++uncertain;
        uncertain_seen += line;
      } else {
        mismatches += line;
      }
      continue;
    }
    if (is_open != (region->outcome == fw::Outcome::accept)) mismatches += line;
  }
  std::printf("%s: %zu probes, %d open, %d refused or dropped, %d uncertain (allowed)\n%s",
              c.name.c_str(), probes.size(), open, closed, uncertain, uncertain_seen.c_str());
  EXPECT_TRUE(mismatches.empty()) << c.name << ": kernel and analyser disagree:\n"
                                  << mismatches << "\n"
                                  << dumps;
  if (c.both_outcomes) {
    EXPECT_GT(open, 0);
    EXPECT_GT(closed, 0);
  }
  EXPECT_EQ(bench.reset(), "");
}

TEST(AnalyzeRealRulesets, NftHandwritten) {
  run_real({"b-nft-handwritten", {{{"nft", "-f", "-"}, "b-nft-handwritten/zimbra-inet.nft"}}, {}});
}

TEST(AnalyzeRealRulesets, IptablesClassic) {
  run_real({"c-iptables-classic",
            {{{"iptables-restore"}, "c-iptables-classic/rules.v4"},
             {{"ip6tables-restore"}, "c-iptables-classic/rules.v6"}},
            {"recent"}});
}

TEST(AnalyzeRealRulesets, Ufw) {
  run_real({"a-ufw",
            {{{"iptables-restore"}, "a-ufw/iptables-save.txt"},
             {{"ip6tables-restore"}, "a-ufw/ip6tables-save.txt"}},
            {}});
}

// firewalld's `ct status dnat accept` (IPv4 input) and its IPv6 rpfilter `fib saddr . mark .
// iif oif missing drop` come before any port rule: every answer is uncertain there.
TEST(AnalyzeRealRulesets, Firewalld) {
  run_real({"d-firewalld",
            {{{"nft", "-f", "-"}, "d-firewalld/nft.txt"}},
            {"not modelled: ct status dnat", "not modelled: fib saddr"}});
}

TEST(AnalyzeRealRulesets, NftablesExampleWorkstation) {
  run_real({"e-nftables-examples/workstation",
            {{{"nft", "-j", "-f", "-"}, "e-nftables-examples/workstation.nft.json"}},
            {},
            false});  // opens none of the probed ports
}

TEST(AnalyzeRealRulesets, NftablesExampleDebianDefault) {
  run_real({"e-nftables-examples/debian-default",
            {{{"nft", "-j", "-f", "-"}, "e-nftables-examples/debian-default-nftables.conf.json"}},
            {},
            false});  // accept policies, no rules: everything open
}

}  // namespace
}  // namespace mw
