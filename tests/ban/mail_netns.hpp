// The network of the ban e2e tests: a mail server namespace listening on 25/587/993 and a client
// namespace holding an attacker, another client, an admin (allow-listed by the tests) and two
// IPv6 attackers of one /64; probes from a given source address to every mail port.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "harness/netns.hpp"

namespace mw::ban::e2e {

inline constexpr std::uint16_t kMailPorts[] = {25, 587, 993};
inline constexpr const char* kAttacker = "198.51.100.10";
inline constexpr const char* kOtherClient = "203.0.113.10";
inline constexpr const char* kAdmin = "198.51.100.77";
inline constexpr const char* kAttacker6 = "2001:db8:bad:1::10";
inline constexpr const char* kSameSlash64 = "2001:db8:bad:1::99";
// What `firewall apply` loads: table inet mailwarden replaced whole in one transaction (a
// default-drop policy that opens the mail ports). The bans' own table must survive it.
inline constexpr const char* kPolicyReplacement =
    "table inet mailwarden\ndelete table inet mailwarden\n"
    "table inet mailwarden {\n chain input {\n  type filter hook input priority filter; policy "
    "drop;\n"
    "  iif lo accept\n  ct state established,related accept\n  meta l4proto ipv6-icmp accept\n"
    "  tcp dport { 25, 587, 993 } accept\n }\n}\n";

class MailNetns {
 public:
  static Result<std::unique_ptr<MailNetns>> create() {
    test::NetnsOptions o;
    for (const char* a : {"198.51.100.10/32", "203.0.113.10/32", "198.51.100.77/32",
                          "2001:db8:bad:1::10/128", "2001:db8:bad:1::99/128"})
      o.client_addresses.push_back(test::interface_address(a));
    auto pair = test::NetnsPair::create(o);
    if (!pair) return pair.error();
    std::unique_ptr<MailNetns> n(new MailNetns);
    n->pair_ = std::move(*pair);
    std::vector<std::pair<Protocol, std::uint16_t>> listen;
    for (auto port : kMailPorts) listen.emplace_back(Protocol::tcp, port);
    auto l = test::Listeners::start(n->pair_->server(), listen);
    if (!l) return l.error();
    n->listeners_ = std::move(*l);
    return n;
  }
  ~MailNetns() {
    listeners_.reset();  // before the namespaces go
    pair_.reset();
  }

  test::NetnsPair& pair() { return *pair_; }

  // One outcome per mail port, from `source` to the server's address of its family.
  std::vector<test::ProbeOutcome> probe(
      const char* source, std::chrono::milliseconds deadline = std::chrono::milliseconds(1500)) {
    const Address s = *parse_address(source);
    std::vector<test::Probe> ps;
    for (auto port : kMailPorts)
      ps.push_back({s, pair_->server_address(s.family), Protocol::tcp, port});
    return test::probe_all(pair_->client(), ps, deadline);
  }
  // Every mail port from `source` gives `o`.
  bool all(const char* source, test::ProbeOutcome o,
           std::chrono::milliseconds deadline = std::chrono::milliseconds(1500)) {
    const auto v = probe(source, deadline);
    return !v.empty() && std::all_of(v.begin(), v.end(), [&](auto x) { return x == o; });
  }
  // Polls with short probes until every mail port from `source` gives `want`, up to `limit`.
  bool becomes(const char* source, test::ProbeOutcome want, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (all(source, want, std::chrono::milliseconds(300))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  MailNetns() = default;
  std::unique_ptr<test::NetnsPair> pair_;
  std::unique_ptr<test::Listeners> listeners_;
};

}  // namespace mw::ban::e2e
