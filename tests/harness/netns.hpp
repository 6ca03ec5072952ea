// Network-namespace test harness: a server/client namespace pair on a veth, listeners, probes.
//
// Use from an e2e test (see tests/harness/harness_selftest.cpp):
//   if (auto why = mw::test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
//   auto pair = mw::test::NetnsPair::create();            // ASSERT_TRUE(pair.ok())
//   auto l = mw::test::Listeners::start((*pair)->server(), {{Protocol::tcp, 25}});
//   (*pair)->load_nft(ruleset);
//   auto got = mw::test::probe_all((*pair)->client(), probes, std::chrono::milliseconds(1500));
// In CMake, after mw_unit_test(<target> ... LABEL e2e LIBS mw_test_netns), call
// mw_require_netns_fixture(<target>) so ctest sweeps namespaces of crashed runs before and after.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/ip.hpp"
#include "core/port_set.hpp"
#include "core/result.hpp"
#include "core/subprocess.hpp"

namespace mw::test {

// Why e2e tests cannot run here ("" when they can): MAILWARDEN_SKIP_E2E set, not root, a tool
// missing from PATH, `ip netns add` refused, or nft unusable inside a namespace. Checked once
// per process (it creates and deletes a throw-away namespace) and cached.
std::string e2e_unavailable_reason();

// An address as configured on an interface: the address and its on-link prefix length
// ("192.0.2.1/24"). mw::Prefix cannot hold this: parse_prefix clears host bits.
struct InterfaceAddress {
  Address address;
  int prefix_len = 0;
  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};
// "192.0.2.1/24", "2001:db8::1/64"; a bare address is a host address (/32, /128).
Result<InterfaceAddress> parse_interface_address(std::string_view text);
// Like parse_interface_address, for literals in tests: aborts with the message if malformed.
InterfaceAddress interface_address(std::string_view text);
std::string to_string(const InterfaceAddress& a);  // "192.0.2.1/24"
// The address alone, as a host prefix: 192.0.2.1/32.
Prefix host_prefix(const Address& a);

struct NetnsOptions {
  std::string ip_binary = "ip";  // every system path is a parameter
  std::string nft_binary = "nft";
  std::string conntrack_binary = "conntrack";
  std::string prefix = "mwt";  // namespace names: <prefix>-<pid>-<counter>-srv / -cli
  std::vector<InterfaceAddress> server_addresses = {interface_address("192.0.2.1/24"),
                                                    interface_address("2001:db8::1/64")};
  // Add more, e.g. 198.51.100.10/32, 203.0.113.10/32, 2001:db8:ad::10/128: each gets an
  // on-link route back on the server.
  std::vector<InterfaceAddress> client_addresses = {interface_address("192.0.2.2/24"),
                                                    interface_address("2001:db8::2/64")};
  std::chrono::milliseconds command_timeout{20000};  // for each ip/nft/conntrack run
};

// "/var/run/netns/NAME" (where `ip netns` keeps its handles), or `name` itself if it has a '/'.
std::string netns_path(const std::string& name);

// Runs fn on a fresh thread that entered network namespace `netns` with setns(CLONE_NEWNET):
// sockets it creates and /proc/sys/net files it opens belong to that namespace. Blocks until
// fn returns. The calling thread's namespace is untouched.
Status run_in_netns(const std::string& netns, const std::function<Status()>& fn);

// Writes /proc/sys/<key with '.' as '/'> inside `netns` ("net.ipv6.conf.all.accept_dad").
Status write_sysctl(const std::string& netns, const std::string& key, const std::string& value);

// A "server" and a "client" namespace joined by one veth pair (server side "veth-srv",
// client side "veth-cli"). Neighbour discovery is real (no static entries); IPv6 DAD is off;
// ICMP error rate limits are off in both namespaces (many rejected probes at once must each
// get their ICMP error).
class NetnsPair {
 public:
  static Result<std::unique_ptr<NetnsPair>> create(const NetnsOptions& o = {});
  ~NetnsPair();  // deletes both namespaces (and thus the veth); never throws
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& server() const { return server_; }
  const std::string& client() const { return client_; }
  static constexpr std::string_view server_interface() { return "veth-srv"; }
  static constexpr std::string_view client_interface() { return "veth-cli"; }
  const NetnsOptions& options() const { return options_; }
  const std::vector<InterfaceAddress>& server_addresses() const { return server_addresses_; }
  const std::vector<InterfaceAddress>& client_addresses() const { return client_addresses_; }
  // The first configured address of that family (a zero Address of the family if none).
  Address server_address(Family f) const;
  Address client_address(Family f) const;

  // ip netns exec ns argv... A non-zero exit is a CommandOutput, not an Error.
  Result<CommandOutput> exec(const std::string& ns, std::vector<std::string> argv,
                             CommandOptions opts = {});
  // exec, then an Error naming the command and its stderr unless it succeeded; its stdout in
  // *out when given.
  Status exec_ok(const std::string& ns, const std::vector<std::string>& argv,
                 const std::string& stdin_data = "", std::string* out = nullptr);
  // The MAC address of `dev` in `ns` ("aa:bb:..."), or "" when it cannot be read.
  std::string mac_of(const std::string& ns, std::string_view dev);
  // `nft -f -` in the server namespace; the Error carries nft's stderr.
  Status load_nft(std::string_view ruleset_text);
  Status load_nft_in(const std::string& ns, std::string_view ruleset_text);
  // nft flush ruleset + conntrack -F in the server namespace (between cases).
  Status reset();
  // Adds one address to the client side later (nodad for v6) and, unless the server already
  // has it on-link, the route back on the server.
  Status add_client_address(const InterfaceAddress& a);
  // The same for a host prefix (/32, /128); any other length is an Error (see InterfaceAddress).
  Status add_client_address(const Prefix& p);
  // The mirror image: one more address on the server side, the route back on the client.
  Status add_server_address(const InterfaceAddress& a);

 private:
  explicit NetnsPair(NetnsOptions o) : options_(std::move(o)) {}
  Status setup();
  Status run_ok(std::vector<std::string> argv);
  Status add_address(const std::string& ns, std::string_view dev, const InterfaceAddress& a);
  Status route_to(const std::string& ns, std::string_view dev, const Address& a,
                  const std::vector<InterfaceAddress>& local);

  NetnsOptions options_;
  std::string server_, client_;
  bool server_made_ = false, client_made_ = false;
  std::vector<InterfaceAddress> server_addresses_, client_addresses_;
};

// TCP listeners and UDP echo responders inside a namespace, on the given (protocol, port)
// pairs, for both IPv4 and IPv6: one socket per port bound to [::] with IPV6_V6ONLY=0. UDP
// replies leave from the address the datagram was sent to (IPV6_PKTINFO). TCP connections
// are accepted and closed at once. One thread, which setns()es into the namespace.
class Listeners {
 public:
  static Result<std::unique_ptr<Listeners>> start(
      const std::string& netns, const std::vector<std::pair<Protocol, std::uint16_t>>& ports);
  ~Listeners();  // stops the thread, closes the sockets
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  std::uint64_t tcp_accepted() const { return tcp_accepted_.load(); }
  std::uint64_t udp_echoed() const { return udp_echoed_.load(); }

 private:
  Listeners() = default;
  void loop(std::vector<int> tcp, std::vector<int> udp);

  int stop_fd_ = -1;
  std::thread thread_;
  std::atomic<std::uint64_t> tcp_accepted_{0}, udp_echoed_{0};
};

enum class ProbeOutcome { open, rejected, dropped, error };
std::string_view probe_outcome_name(ProbeOutcome o);  // "open", "rejected", ...

struct Probe {
  Address source;
  Address target;
  Protocol protocol = Protocol::tcp;
  std::uint16_t port = 0;
};
std::string to_string(const Probe& p);  // "tcp 192.0.2.2 -> 192.0.2.1:25"

// Runs every probe concurrently from `netns` (a thread setns()es into it, creates non-blocking
// sockets bound to the probe's source address, connects / sends, epoll until one shared
// deadline).
// TCP: connected = open; ECONNREFUSED / EHOSTUNREACH / ENETUNREACH / EACCES = rejected; no
// answer by the deadline = dropped.
// UDP: connect(), send a private payload (again every 200 ms until answered), the same payload
// echoed back = open; an ICMP error (ECONNREFUSED, EHOSTUNREACH, ...) = rejected; nothing =
// dropped.
// error = the probe could not be made (source address not in the namespace, setns failed...).
// If `details` is given it gets one line per probe (errno text, or "" when open/dropped).
std::vector<ProbeOutcome> probe_all(const std::string& netns, const std::vector<Probe>& probes,
                                    std::chrono::milliseconds deadline,
                                    std::vector<std::string>* details = nullptr);

// Deletes leftover namespaces named "<prefix>-<pid>-..." whose process <pid> no longer exists
// (crashed earlier runs); namespaces of live processes (a parallel ctest) are kept. Returns
// how many were deleted; 0 when `ip netns list` cannot run.
int sweep_leftover_namespaces(const std::string& prefix = "mwt",
                              const std::string& ip_binary = "ip");

}  // namespace mw::test
