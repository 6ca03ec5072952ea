// Network-namespace test harness: namespace pair setup/teardown, listeners, concurrent probes,
// sweeping.
#include "harness/netns.hpp"

#include "core/unique_fd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <random>
#include <sstream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mw::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(int err) {
  return std::strerror(err);
}

using Fd = UniqueFd;

bool contains(const InterfaceAddress& net, const Address& a) {
  if (net.address.family != a.family) return false;
  const int bits = family_bits(a.family);
  if (net.prefix_len <= 0) return true;
  const u128 mask = (family_max(a.family) << (bits - net.prefix_len)) & family_max(a.family);
  return (net.address.value & mask) == (a.value & mask);
}

// Socket address (AF_INET or AF_INET6) for an mw::Address and a port.
socklen_t to_sockaddr(const Address& a, std::uint16_t port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.family == Family::v4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(static_cast<std::uint32_t>(a.value));
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  for (int i = 0; i < 16; ++i) {
    sin6->sin6_addr.s6_addr[i] = static_cast<std::uint8_t>(a.value >> (8 * (15 - i)));
  }
  return sizeof(sockaddr_in6);
}

int enter_netns(const std::string& netns) {
  Fd fd(::open(netns_path(netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  if (::setns(fd.get(), CLONE_NEWNET) != 0) return errno;
  return 0;
}

// The probes of one call may need more descriptors than the soft limit allows.
void ensure_fd_limit(std::size_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, static_cast<rlim_t>(wanted));
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string first_line(const std::string& text) {
  auto s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string compute_unavailable_reason() {
  if (const char* skip = std::getenv("MAILWARDEN_SKIP_E2E"); skip != nullptr && *skip != '\0') {
    return "MAILWARDEN_SKIP_E2E is set";
  }
  if (::geteuid() != 0) {
    return "not root: e2e tests create network namespaces (run ctest as root, or "
           "sudo ctest -L e2e)";
  }
  NetnsOptions o;
  for (const auto& tool : {o.ip_binary, o.nft_binary, o.conntrack_binary}) {
    auto r = run_command({tool, "--version"}, {std::chrono::milliseconds(10000), "", 1 << 16, {}});
    if (!r) return "'" + tool + "' is not usable: " + r.error().message + " (scripts/install-deps)";
  }
  const std::string name = o.prefix + "-" + std::to_string(::getpid()) + "-check";
  CommandOptions co;
  co.timeout = std::chrono::milliseconds(10000);
  auto add = run_command({o.ip_binary, "netns", "add", name}, co);
  if (!add || !add->success()) {
    return "`ip netns add` does not work here: " +
           (add ? first_line(add->err) : add.error().message);
  }
  std::string why;
  auto nft = run_command({o.ip_binary, "netns", "exec", name, o.nft_binary, "list", "ruleset"}, co);
  if (!nft || !nft->success()) {
    why = "nft does not work inside a network namespace: " +
          (nft ? first_line(nft->err) : nft.error().message);
  }
  (void)run_command({o.ip_binary, "netns", "delete", name}, co);
  return why;
}

}  // namespace

std::string e2e_unavailable_reason() {
  static std::once_flag once;
  static std::string reason;
  std::call_once(once, [] { reason = compute_unavailable_reason(); });
  return reason;
}

Result<InterfaceAddress> parse_interface_address(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parse_address(text.substr(0, slash));
  if (!addr) return addr.error();
  InterfaceAddress ia{*addr, family_bits(addr->family)};
  if (slash == std::string_view::npos) return ia;
  std::string_view len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 ||
      !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (len.size() > 1 && len[0] == '0')) {
    return Error{"'" + std::string(text) + "': prefix length is not a decimal number"};
  }
  ia.prefix_len = std::stoi(std::string(len));
  if (ia.prefix_len > family_bits(addr->family)) {
    return Error{"'" + std::string(text) + "': prefix length " + std::string(len) + " exceeds " +
                 std::to_string(family_bits(addr->family))};
  }
  return ia;
}

InterfaceAddress interface_address(std::string_view text) {
  auto r = parse_interface_address(text);
  if (!r) {
    std::fprintf(stderr, "mw::test::interface_address: %s\n", r.error().message.c_str());
    std::abort();
  }
  return *r;
}

std::string to_string(const InterfaceAddress& a) {
  return mw::to_string(a.address) + "/" + std::to_string(a.prefix_len);
}

Prefix host_prefix(const Address& a) {
  return Prefix{a, family_bits(a.family)};
}

std::string netns_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  return "/var/run/netns/" + name;
}

Status run_in_netns(const std::string& netns, const std::function<Status()>& fn) {
  Status result;
  std::thread t([&] {
    if (int err = enter_netns(netns); err != 0) {
      result = Error{"cannot enter network namespace '" + netns + "': " + errno_text(err)};
      return;
    }
    result = fn();
  });
  t.join();
  return result;
}

Status write_sysctl(const std::string& netns, const std::string& key, const std::string& value) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  return run_in_netns(netns, [&]() -> Status {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return Error{"sysctl " + key + " in " + netns + ": " + errno_text(errno)};
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
      return Error{"sysctl " + key + "=" + value + " in " + netns + ": " + errno_text(errno)};
    }
    return {};
  });
}

// ---------------------------------------------------------------------------------------------
// NetnsPair

Result<std::unique_ptr<NetnsPair>> NetnsPair::create(const NetnsOptions& o) {
  static std::atomic<int> counter{0};
  std::unique_ptr<NetnsPair> pair(new NetnsPair(o));
  const std::string base = o.prefix + "-" + std::to_string(::getpid()) + "-";
  // A leftover of a dead process that had our pid may hold a name: take the next counter.
  for (int attempt = 0;; ++attempt) {
    std::string stem = base + std::to_string(counter.fetch_add(1));
    pair->server_ = stem + "-srv";
    pair->client_ = stem + "-cli";
    auto r = run_command({o.ip_binary, "netns", "add", pair->server_},
                         {o.command_timeout, "", 1 << 20, {}});
    if (!r) return r.error();
    if (r->success()) break;
    if (attempt >= 5 || r->err.find("exists") == std::string::npos) {
      return Error{"ip netns add " + pair->server_ + " failed: " + first_line(r->err)};
    }
  }
  pair->server_made_ = true;
  if (Status s = pair->run_ok({o.ip_binary, "netns", "add", pair->client_}); !s) return s.error();
  pair->client_made_ = true;
  // Any failure from here on: the destructor deletes both namespaces.
  if (Status s = pair->setup(); !s) return s.error();
  return pair;
}

Status NetnsPair::setup() {
  const std::string& ip = options_.ip_binary;
  const std::string srv_dev(server_interface()), cli_dev(client_interface());
  for (const std::string* ns : {&server_, &client_}) {
    // Required: addresses must be usable at once, without duplicate address detection.
    for (const char* key : {"net.ipv6.conf.all.accept_dad", "net.ipv6.conf.default.accept_dad"}) {
      if (Status s = write_sysctl(*ns, key, "0"); !s) return s;
    }
    // Best effort (not every kernel has each of these per namespace): reverse-path filtering
    // inherited from the host would drop the extra client sources; ICMP error rate limits
    // would turn the 7th rejected probe in a second into a "dropped" one.
    for (auto [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
             {"net.ipv4.conf.all.rp_filter", "0"},
             {"net.ipv4.conf.default.rp_filter", "0"},
             {"net.ipv4.icmp_ratelimit", "0"},
             {"net.ipv4.icmp_ratemask", "0"},
             {"net.ipv4.icmp_msgs_per_sec", "1000000"},
             {"net.ipv4.icmp_msgs_burst", "1000000"},
             {"net.ipv6.icmp.ratelimit", "0"},
             {"net.ipv6.icmp.ratemask", "\n"},
         }) {
      (void)write_sysctl(*ns, key, value);
    }
    if (Status s = run_ok({ip, "-n", *ns, "link", "set", "lo", "up"}); !s) return s;
  }
  if (Status s = run_ok({ip, "-n", server_, "link", "add", srv_dev, "type", "veth", "peer", "name",
                         cli_dev, "netns", client_});
      !s) {
    return s;
  }
  for (auto [ns, dev] : {std::pair{&server_, &srv_dev}, std::pair{&client_, &cli_dev}}) {
    // Many first packets to a neighbour still being resolved wait in its queue; the default
    // queue (about 100 packets) would silently drop the rest of a burst of probes.
    for (const char* fam : {"ipv4", "ipv6"}) {
      (void)write_sysctl(*ns, std::string("net.") + fam + ".neigh." + *dev + ".unres_qlen_bytes",
                         "16777216");
    }
    (void)write_sysctl(*ns, "net.ipv6.conf." + *dev + ".accept_dad", "0");
    if (Status s = run_ok({ip, "-n", *ns, "link", "set", *dev, "up"}); !s) return s;
  }
  for (const auto& a : options_.server_addresses) {
    if (Status s = add_address(server_, srv_dev, a); !s) return s;
    server_addresses_.push_back(a);
  }
  for (const auto& a : options_.client_addresses) {
    if (Status s = add_address(client_, cli_dev, a); !s) return s;
    client_addresses_.push_back(a);
  }
  for (const auto& a : server_addresses_) {
    if (Status s = route_to(client_, cli_dev, a.address, client_addresses_); !s) return s;
  }
  for (const auto& a : client_addresses_) {
    if (Status s = route_to(server_, srv_dev, a.address, server_addresses_); !s) return s;
  }
  return {};
}

Status NetnsPair::add_address(const std::string& ns, std::string_view dev,
                              const InterfaceAddress& a) {
  std::vector<std::string> argv = {
      options_.ip_binary, "-n", ns, "address", "add", to_string(a), "dev", std::string(dev)};
  if (a.address.family == Family::v6) argv.push_back("nodad");
  return run_ok(std::move(argv));
}

// An on-link host route to `a` unless one of the namespace's own prefixes already covers it.
Status NetnsPair::route_to(const std::string& ns, std::string_view dev, const Address& a,
                           const std::vector<InterfaceAddress>& local) {
  if (std::any_of(local.begin(), local.end(), [&](const auto& l) { return contains(l, a); })) {
    return {};
  }
  return run_ok({options_.ip_binary, "-n", ns, a.family == Family::v4 ? "-4" : "-6", "route",
                 "replace", mw::to_string(host_prefix(a)), "dev", std::string(dev)});
}

Status NetnsPair::run_ok(std::vector<std::string> argv) {
  CommandOptions co;
  co.timeout = options_.command_timeout;
  auto r = run_command(argv, co);
  if (!r) return r.error();
  if (!r->success()) {
    return Error{command_line(argv) + " failed (exit " + std::to_string(r->exit_code) +
                 "): " + first_line(r->err)};
  }
  return {};
}

NetnsPair::~NetnsPair() {
  CommandOptions co;
  co.timeout = options_.command_timeout;
  try {
    if (client_made_) (void)run_command({options_.ip_binary, "netns", "delete", client_}, co);
    if (server_made_) (void)run_command({options_.ip_binary, "netns", "delete", server_}, co);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
}

Address NetnsPair::server_address(Family f) const {
  for (const auto& a : server_addresses_) {
    if (a.address.family == f) return a.address;
  }
  return Address{f, 0};
}

Address NetnsPair::client_address(Family f) const {
  for (const auto& a : client_addresses_) {
    if (a.address.family == f) return a.address;
  }
  return Address{f, 0};
}

Result<CommandOutput> NetnsPair::exec(const std::string& ns, std::vector<std::string> argv,
                                      CommandOptions opts) {
  std::vector<std::string> full = {options_.ip_binary, "netns", "exec", ns};
  full.insert(full.end(), std::make_move_iterator(argv.begin()),
              std::make_move_iterator(argv.end()));
  return run_command(full, opts);
}

Status NetnsPair::exec_ok(const std::string& ns, const std::vector<std::string>& argv,
                          const std::string& stdin_data, std::string* out) {
  CommandOptions co;
  co.timeout = options_.command_timeout;
  co.stdin_data = stdin_data;
  auto r = exec(ns, argv, co);
  if (!r) return r.error();
  if (!r->success()) {
    return Error{fmt::format("{} failed (exit {}): {}", command_line(argv), r->exit_code, r->err)};
  }
  if (out) *out = std::move(r->out);
  return {};
}

std::string NetnsPair::mac_of(const std::string& ns, std::string_view dev) {
  std::string out;
  if (!exec_ok(ns, {"cat", fmt::format("/sys/class/net/{}/address", dev)}, "", &out)) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Status NetnsPair::load_nft(std::string_view ruleset_text) {
  return load_nft_in(server_, ruleset_text);
}

Status NetnsPair::load_nft_in(const std::string& ns, std::string_view ruleset_text) {
  CommandOptions co;
  co.timeout = options_.command_timeout;
  co.stdin_data = std::string(ruleset_text);
  auto r = exec(ns, {options_.nft_binary, "-f", "-"}, co);
  if (!r) return r.error();
  if (!r->success()) {
    return Error{"nft -f - in " + ns + " failed (exit " + std::to_string(r->exit_code) + "):\n" +
                 r->err};
  }
  return {};
}

Status NetnsPair::reset() {
  CommandOptions co;
  co.timeout = options_.command_timeout;
  for (const auto& argv : {std::vector<std::string>{options_.nft_binary, "flush", "ruleset"},
                           std::vector<std::string>{options_.conntrack_binary, "-F"}}) {
    auto r = exec(server_, argv, co);
    if (!r) return r.error();
    if (!r->success()) {
      return Error{command_line(argv) + " in " + server_ + " failed (exit " +
                   std::to_string(r->exit_code) + "): " + first_line(r->err)};
    }
  }
  return {};
}

Status NetnsPair::add_client_address(const InterfaceAddress& a) {
  if (Status s = add_address(client_, client_interface(), a); !s) return s;
  client_addresses_.push_back(a);
  return route_to(server_, server_interface(), a.address, server_addresses_);
}

Status NetnsPair::add_server_address(const InterfaceAddress& a) {
  if (Status s = add_address(server_, server_interface(), a); !s) return s;
  server_addresses_.push_back(a);
  return route_to(client_, client_interface(), a.address, client_addresses_);
}

Status NetnsPair::add_client_address(const Prefix& p) {
  if (p.len != family_bits(p.addr.family)) {
    return Error{"add_client_address(" + mw::to_string(p) +
                 "): a Prefix has no host bits; pass an InterfaceAddress (\"198.51.100.10/24\") "
                 "or a host prefix"};
  }
  return add_client_address(InterfaceAddress{p.addr, p.len});
}

// ---------------------------------------------------------------------------------------------
// Listeners

namespace {

constexpr std::uint64_t kStopTag = ~std::uint64_t{0};
constexpr std::uint64_t kUdpBit = std::uint64_t{1} << 62;

Result<int> open_listener(Protocol proto, std::uint16_t port) {
  const bool tcp = proto == Protocol::tcp;
  const int type = (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  const std::string what = std::string(protocol_name(proto)) + " port " + std::to_string(port);
  Fd fd(::socket(AF_INET6, type, 0));
  if (fd.get() < 0) return Error{"listener " + what + ": socket: " + errno_text(errno)};
  int zero = 0, one = 1;
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!tcp) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_port = htons(port);
  any.sin6_addr = in6addr_any;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) {
    return Error{"listener " + what + ": bind [::]:" + std::to_string(port) + ": " +
                 errno_text(errno)};
  }
  if (tcp && ::listen(fd.get(), 4096) != 0) {
    return Error{"listener " + what + ": listen: " + errno_text(errno)};
  }
  return fd.release();
}

}  // namespace

Result<std::unique_ptr<Listeners>> Listeners::start(
    const std::string& netns, const std::vector<std::pair<Protocol, std::uint16_t>>& ports) {
  std::unique_ptr<Listeners> l(new Listeners());
  l->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->stop_fd_ < 0) return Error{"listeners: eventfd: " + errno_text(errno)};
  std::promise<std::string> ready;
  auto ready_future = ready.get_future();
  l->thread_ = std::thread([self = l.get(), ready = std::move(ready), netns, ports]() mutable {
    if (int err = enter_netns(netns); err != 0) {
      ready.set_value("listeners: cannot enter network namespace '" + netns +
                      "': " + errno_text(err));
      return;
    }
    std::vector<int> tcp, udp;
    auto close_all = [&] {
      for (int fd : tcp) ::close(fd);
      for (int fd : udp) ::close(fd);
    };
    for (const auto& [proto, port] : ports) {
      auto fd = open_listener(proto, port);
      if (!fd) {
        close_all();
        ready.set_value(fd.error().message);
        return;
      }
      (proto == Protocol::tcp ? tcp : udp).push_back(*fd);
    }
    ready.set_value("");
    self->loop(std::move(tcp), std::move(udp));
  });
  std::string err = ready_future.get();
  if (!err.empty()) {
    l->thread_.join();
    return Error{err};
  }
  return l;
}

void Listeners::loop(std::vector<int> tcp, std::vector<int> udp) {
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  auto watch = [&](int fd, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
  };
  watch(stop_fd_, kStopTag);
  for (std::size_t i = 0; i < tcp.size(); ++i) watch(tcp[i], i);
  for (std::size_t i = 0; i < udp.size(); ++i) watch(udp[i], kUdpBit | i);

  std::array<char, 65536> buf{};
  bool running = ep.get() >= 0;
  while (running) {
    std::array<epoll_event, 64> events{};
    int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int e = 0; e < n; ++e) {
      const std::uint64_t tag = events[e].data.u64;
      if (tag == kStopTag) {
        running = false;
        break;
      }
      if ((tag & kUdpBit) == 0) {
        for (;;) {
          int c = ::accept4(tcp[tag], nullptr, nullptr, SOCK_CLOEXEC);
          if (c < 0) break;
          ::close(c);
          ++tcp_accepted_;
        }
        continue;
      }
      const int fd = udp[tag & ~kUdpBit];
      for (;;) {
        sockaddr_in6 peer{};
        iovec iov{buf.data(), buf.size()};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
        msghdr msg{};
        msg.msg_name = &peer;
        msg.msg_namelen = sizeof peer;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        ssize_t got = ::recvmsg(fd, &msg, 0);
        if (got < 0) {
          if (errno == EINTR) continue;
          break;
        }
        // Reply from the address the datagram was sent to: with several local addresses the
        // client's connected socket accepts nothing else.
        in6_pktinfo info{};
        bool have_info = false;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            have_info = true;
          }
        }
        iovec out_iov{buf.data(), static_cast<std::size_t>(got)};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in6_pktinfo))> out_control{};
        msghdr out{};
        out.msg_name = &peer;
        out.msg_namelen = msg.msg_namelen;
        out.msg_iov = &out_iov;
        out.msg_iovlen = 1;
        if (have_info) {
          info.ipi6_ifindex = 0;
          out.msg_control = out_control.data();
          out.msg_controllen = out_control.size();
          cmsghdr* c = CMSG_FIRSTHDR(&out);
          c->cmsg_level = IPPROTO_IPV6;
          c->cmsg_type = IPV6_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof info);
          std::memcpy(CMSG_DATA(c), &info, sizeof info);
        }
        if (::sendmsg(fd, &out, MSG_DONTWAIT) >= 0) ++udp_echoed_;
      }
    }
  }
  for (int fd : tcp) ::close(fd);
  for (int fd : udp) ::close(fd);
}

Listeners::~Listeners() {
  if (thread_.joinable()) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

// ---------------------------------------------------------------------------------------------
// Probes

std::string_view probe_outcome_name(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::open:
      return "open";
    case ProbeOutcome::rejected:
      return "rejected";
    case ProbeOutcome::dropped:
      return "dropped";
    case ProbeOutcome::error:
      return "error";
  }
  return "?";
}

std::string to_string(const Probe& p) {
  std::string target = mw::to_string(p.target);
  if (p.target.family == Family::v6) target = "[" + target + "]";
  return std::string(protocol_name(p.protocol)) + " " + mw::to_string(p.source) + " -> " + target +
         ":" + std::to_string(p.port);
}

namespace {

// The answers a firewall gives when it refuses: a TCP reset or an ICMP error.
bool is_rejection(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EACCES;
}

struct ProbeState {
  Fd fd;
  bool done = false;
  ProbeOutcome outcome = ProbeOutcome::dropped;
  std::string detail;
  std::string payload;  // UDP only
};

void finish(ProbeState& st, ProbeOutcome o, std::string detail = {}) {
  st.done = true;
  st.outcome = o;
  st.detail = std::move(detail);
  st.fd.reset();  // also leaves the epoll set
}

void finish_errno(ProbeState& st, int err, std::string_view during) {
  if (is_rejection(err)) {
    finish(st, ProbeOutcome::rejected, errno_text(err));
  } else {
    finish(st, ProbeOutcome::error, std::string(during) + ": " + errno_text(err));
  }
}

// The error an ICMP message left on a socket: SO_ERROR, else the head of the error queue.
int pending_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) return err;
  std::array<char, 512> control{};
  char dummy[64];
  iovec iov{dummy, sizeof dummy};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      sock_extended_err ee{};
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      return static_cast<int>(ee.ee_errno);
    }
  }
  return 0;
}

void start_probe(const Probe& p, ProbeState& st, int ep, std::size_t index,
                 const std::string& token) {
  if (p.source.family != p.target.family) {
    finish(st, ProbeOutcome::error, "source and target are of different families");
    return;
  }
  const int family = p.target.family == Family::v4 ? AF_INET : AF_INET6;
  const bool tcp = p.protocol == Protocol::tcp;
  st.fd.reset(::socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (st.fd.get() < 0) return finish(st, ProbeOutcome::error, "socket: " + errno_text(errno));
  const int fd = st.fd.get();
  int one = 1;
  if (tcp) {
    // Close with a reset: no TIME_WAIT and no lingering half-closed state on the server.
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  // Every ICMP error goes to the error queue. UDP: also the "soft" ones (host unreachable)
  // that a connected socket otherwise ignores. TCP: over veth the ICMP answer to a SYN often
  // arrives while connect() still holds the socket lock; the kernel then keeps it only as a
  // soft error and waits for the SYN retransmission a second later, but it still queues it.
  if (family == AF_INET) {
    ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
  } else {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
  }
  sockaddr_storage src{}, dst{};
  socklen_t src_len = to_sockaddr(p.source, 0, &src);
  socklen_t dst_len = to_sockaddr(p.target, p.port, &dst);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), src_len) != 0) {
    return finish(st, ProbeOutcome::error,
                  "bind " + mw::to_string(p.source) + ": " + errno_text(errno));
  }
  epoll_event ev{};
  ev.events = tcp ? EPOLLOUT : EPOLLIN;
  ev.data.u64 = index;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return finish(st, ProbeOutcome::error, "epoll_ctl: " + errno_text(errno));
  }
  // Errors returned by connect() itself come from this namespace (no route), not from the
  // firewall under test: they are errors, not rejections.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), dst_len) != 0 && errno != EINPROGRESS) {
    return finish(st, ProbeOutcome::error, "connect: " + errno_text(errno));
  }
  if (!tcp) {
    st.payload = "mailwarden-probe/" + token + "/" + std::to_string(index);
    if (::send(fd, st.payload.data(), st.payload.size(), MSG_DONTWAIT) < 0 && errno != EAGAIN) {
      finish(st, ProbeOutcome::error, "send: " + errno_text(errno));
    }
  }
}

void on_event(const Probe& p, ProbeState& st, std::uint32_t events) {
  const int fd = st.fd.get();
  if (p.protocol == Protocol::tcp) {
    int err = pending_error(fd);
    if (err != 0) return finish_errno(st, err, "connect");
    if ((events & EPOLLOUT) != 0) return finish(st, ProbeOutcome::open);
    return;
  }
  if ((events & EPOLLERR) != 0) {
    if (int err = pending_error(fd); err != 0) return finish_errno(st, err, "recv");
  }
  char buf[512];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return finish_errno(st, errno, "recv");
    }
    if (std::string_view(buf, static_cast<std::size_t>(n)) == st.payload) {
      return finish(st, ProbeOutcome::open);
    }
    // Anything else is not our echo: keep waiting.
  }
}

void run_probes(const std::vector<Probe>& probes, std::vector<ProbeState>& states,
                Clock::time_point deadline) {
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (ep.get() < 0) {
    for (auto& st : states) finish(st, ProbeOutcome::error, "epoll_create1: " + errno_text(errno));
    return;
  }
  std::random_device rd;
  std::ostringstream token;
  token << std::hex << rd() << rd();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    start_probe(probes[i], states[i], ep.get(), i, token.str());
  }
  constexpr auto kResend = std::chrono::milliseconds(200);
  auto next_resend = Clock::now() + kResend;
  std::vector<epoll_event> events(256);
  for (;;) {
    std::size_t pending = 0;
    for (const auto& st : states) pending += st.done ? 0 : 1;
    if (pending == 0) return;
    auto now = Clock::now();
    if (now >= deadline) return;
    if (now >= next_resend) {
      // A UDP datagram lost before the neighbour was resolved is not retried by the kernel.
      for (std::size_t i = 0; i < probes.size(); ++i) {
        auto& st = states[i];
        if (st.done || probes[i].protocol != Protocol::udp) continue;
        if (::send(st.fd.get(), st.payload.data(), st.payload.size(), MSG_DONTWAIT) < 0 &&
            errno != EAGAIN && errno != EINTR) {
          finish_errno(st, errno, "send");
        }
      }
      next_resend = now + kResend;
    }
    auto until = std::min(deadline, next_resend);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()),
                         static_cast<int>(std::max<long long>(wait, 1)));
    if (n < 0 && errno != EINTR) {
      for (auto& st : states) {
        if (!st.done) finish(st, ProbeOutcome::error, "epoll_wait: " + errno_text(errno));
      }
      return;
    }
    for (int e = 0; e < n; ++e) {
      auto i = static_cast<std::size_t>(events[e].data.u64);
      if (i < states.size() && !states[i].done) on_event(probes[i], states[i], events[e].events);
    }
  }
}

}  // namespace

std::vector<ProbeOutcome> probe_all(const std::string& netns, const std::vector<Probe>& probes,
                                    std::chrono::milliseconds deadline,
                                    std::vector<std::string>* details) {
  const auto until = Clock::now() + deadline;
  std::vector<ProbeState> states(probes.size());
  ensure_fd_limit(probes.size() + 256);
  Status s = run_in_netns(netns, [&]() -> Status {
    run_probes(probes, states, until);
    return {};
  });
  std::vector<ProbeOutcome> out;
  out.reserve(states.size());
  if (details != nullptr) details->clear();
  for (auto& st : states) {
    if (!s) {
      st.outcome = ProbeOutcome::error;
      st.detail = s.error().message;
    }
    st.fd.reset();
    out.push_back(st.outcome);
    if (details != nullptr) details->push_back(st.detail);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sweeping

int sweep_leftover_namespaces(const std::string& prefix, const std::string& ip_binary) {
  CommandOptions co;
  co.timeout = std::chrono::milliseconds(20000);
  auto list = run_command({ip_binary, "netns", "list"}, co);
  if (!list || !list->success()) return 0;
  int deleted = 0;
  std::istringstream lines(list->out);
  std::string line;
  const std::string lead = prefix + "-";
  while (std::getline(lines, line)) {
    std::string name = line.substr(0, line.find(' '));  // "name (id: 3)"
    if (name.compare(0, lead.size(), lead) != 0) continue;
    std::string rest = name.substr(lead.size());
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0 || digits > 9 || digits >= rest.size() || rest[digits] != '-') continue;
    const pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, digits)));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM) continue;  // still alive
    auto del = run_command({ip_binary, "netns", "delete", name}, co);
    if (del && del->success()) ++deleted;
  }
  return deleted;
}

}  // namespace mw::test
