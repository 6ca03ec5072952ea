// The scan engine: one asio io_context on the calling thread, a non-blocking connect() or UDP
// probe per (address, port), a timer per attempt, at most max_in_flight sockets at once.
// connect() is called directly (not async_connect) to tell "failed at once, nothing sent" from
// an answer that came back; asio supplies the readiness waits and the timers.
#include "scan/scanner.hpp"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <random>

#include "scan/udp_probes.hpp"

namespace mw::scan {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kMemcachedPort = 11211;
constexpr std::uint16_t kSnmpPort = 161;

std::string errno_name(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case EHOSTUNREACH:
      return "EHOSTUNREACH";
    case ENETUNREACH:
      return "ENETUNREACH";
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case EHOSTDOWN:
      return "EHOSTDOWN";
    case ENONET:
      return "ENONET";
    case ENOPROTOOPT:
      return "ENOPROTOOPT";
    case EPROTO:
      return "EPROTO";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EMSGSIZE:
      return "EMSGSIZE";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    default:
      return "errno " + std::to_string(err);
  }
}

// What an asynchronous ICMP error means, in the operator's words.
std::string icmp_detail(int err) {
  if (err == EACCES) return "ICMP EACCES: prohibited";
  return "ICMP " + errno_name(err);
}

socklen_t to_sockaddr(const Address& a, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.family == Family::v4) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    s->sin_addr.s_addr = htonl(static_cast<std::uint32_t>(a.value));
    return sizeof(sockaddr_in);
  }
  auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  for (int i = 0; i < 16; ++i) {
    s->sin6_addr.s6_addr[i] = static_cast<std::uint8_t>(a.value >> (8 * (15 - i)));
  }
  return sizeof(sockaddr_in6);
}

std::optional<Address> from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* s = reinterpret_cast<const sockaddr_in*>(sa);
    return Address{Family::v4, ntohl(s->sin_addr.s_addr)};
  }
  if (sa->sa_family == AF_INET6) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(sa);
    u128 v = 0;
    for (int i = 0; i < 16; ++i) v = (v << 8) | s->sin6_addr.s6_addr[i];
    return Address{Family::v6, v};
  }
  return std::nullopt;
}

bool looks_like_range_or_list(std::string_view h, std::string* why) {
  if (h.find('/') != std::string_view::npos) {
    *why = "is a prefix (CIDR)";
  } else if (h.find_first_of(", \t") != std::string_view::npos) {
    *why = "is a list";
  } else if (h.find_first_of("*?[]") != std::string_view::npos) {
    *why = "is a wildcard";
  } else if (h.find('-') != std::string_view::npos &&
             h.find_first_not_of("0123456789.-") == std::string_view::npos) {
    *why = "is a range";
  } else {
    return false;
  }
  return true;
}

// One (address, port) to scan: keeps its in-flight slot through all its attempts.
struct Job {
  std::size_t index = 0;  // into the report's ports
  Address target;
  fw::PortQuery port;
  Observation* out = nullptr;
};

class ScanRun {
 public:
  ScanRun(const ScanOptions& o, std::deque<Job> jobs) : o_(o), queue_(std::move(jobs)) {}

  Status run() {
    pump();
    io_.run();
    return fatal_ ? Status(*fatal_) : Status();
  }

 private:
  struct TcpAttempt {
    explicit TcpAttempt(asio::io_context& io) : socket(io), timer(io) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    Clock::time_point sent;
    bool done = false;
  };
  struct UdpProbe {
    explicit UdpProbe(asio::io_context& io) : socket(io), timer(io) {}
    asio::ip::udp::socket socket;
    asio::steady_timer timer;
    std::vector<std::uint8_t> request;
    std::uint32_t id = 0;
    Clock::time_point sent;
    bool done = false;
  };

  void pump() {
    while (!fatal_ && in_flight_ < std::max(1, o_.max_in_flight) && !queue_.empty()) {
      Job j = queue_.front();
      queue_.pop_front();
      ++in_flight_;
      if (j.port.protocol == Protocol::tcp) {
        start_tcp(j);
      } else if (udp_checkable(j.port.port)) {
        start_udp(j);
      } else {
        j.out->state = PortState::not_checkable;
        j.out->detail = "no UDP probe";
        finish();
      }
    }
  }

  void finish() {
    --in_flight_;
    pump();
  }

  std::optional<Address> source_for(Family f) const {
    return f == Family::v4 ? o_.source_v4 : o_.source_v6;
  }

  // Opens and binds; on failure records a fatal error (the whole scan stops: a --source that
  // is not ours, out of file descriptors).
  template <class Socket, class Protocol>
  bool open_socket(Socket& s, const Protocol& proto, const Job& j) {
    asio::error_code ec;
    s.open(proto, ec);
    if (!ec) s.non_blocking(true, ec);
    if (ec) {
      fatal_ = Error{"cannot open a socket: " + ec.message()};
      return false;
    }
    if (auto src = source_for(j.target.family)) {
      sockaddr_storage ss;
      socklen_t len = to_sockaddr(*src, 0, ss);
      if (::bind(s.native_handle(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        fatal_ =
            Error{"cannot bind to source address " + to_string(*src) + ": " + std::strerror(errno)};
        return false;
      }
    }
    return true;
  }

  void start_tcp(const Job& j) {
    auto a = std::make_shared<TcpAttempt>(io_);
    const auto proto = j.target.family == Family::v4 ? asio::ip::tcp::v4() : asio::ip::tcp::v6();
    if (!open_socket(a->socket, proto, j)) return finish();
    // Close with a RST, not a FIN: no TIME_WAIT here, and the service sees a short abort.
    linger lg{1, 0};
    ::setsockopt(a->socket.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    // ICMP errors into the error queue: an ICMP answer that arrives while connect() itself still
    // holds the socket (a fast path, veth) is otherwise only a "soft" error and the kernel waits
    // for its own SYN retransmission, a second later, to report it.
    const int on = 1;
    if (j.target.family == Family::v4) {
      ::setsockopt(a->socket.native_handle(), IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    } else {
      ::setsockopt(a->socket.native_handle(), IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    }
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(j.target, j.port.port, ss);
    ++j.out->attempts;
    a->sent = Clock::now();
    if (::connect(a->socket.native_handle(), reinterpret_cast<sockaddr*>(&ss), len) == 0) {
      return tcp_done(j, *a, 0, false);
    }
    if (errno != EINPROGRESS) {
      const int err = errno;
      return tcp_done(j, *a, err, true);
    }
    tcp_wait(j, a);
    a->timer.expires_after(o_.timeout);
    a->timer.async_wait([this, j, a](const asio::error_code& ec) {
      if (ec || a->done) return;
      a->done = true;
      asio::error_code ignored;
      a->socket.close(ignored);
      if (j.out->attempts <= o_.retries) return start_tcp(j);  // keeps the slot
      j.out->state = PortState::filtered;
      j.out->detail = "no answer";
      j.out->error = 0;
      finish();
    });
  }

  void tcp_wait(const Job& j, const std::shared_ptr<TcpAttempt>& a) {
    a->socket.async_wait(asio::socket_base::wait_write, [this, j, a](const asio::error_code& ec) {
      if (a->done) return;
      const int fd = a->socket.native_handle();
      int err = ec ? ec.value() : queued_icmp_error(fd);
      const bool icmp = err != 0 && !ec;
      if (err == 0) {
        socklen_t elen = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) err = errno;
      }
      if (err == 0) {
        tcp_info info{};
        socklen_t ilen = sizeof info;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) == 0 &&
            info.tcpi_state == TCP_SYN_SENT) {
          return tcp_wait(j, a);  // woken without news: keep waiting
        }
      }
      tcp_done(j, *a, err, false, icmp);
    });
  }

  // The errno of the first ICMP error queued on the socket (IP_RECVERR), 0 if none.
  static int queued_icmp_error(int fd) {
    std::array<char, 512> control;
    std::array<char, 64> data;
    iovec iov{data.data(), data.size()};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.data();
    m.msg_controllen = control.size();
    if (::recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      if (ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6) {
        return static_cast<int>(ee.ee_errno);
      }
    }
    return 0;
  }

  void tcp_done(const Job& j, TcpAttempt& a, int err, bool at_once, bool icmp = false) {
    a.done = true;
    a.timer.cancel();
    Verdict v = classify_tcp(err, at_once, icmp);
    j.out->state = v.state;
    j.out->detail = std::move(v.detail);
    j.out->error = err;
    if (!at_once) {
      j.out->rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - a.sent);
    }
    asio::error_code ignored;
    a.socket.close(ignored);
    finish();
  }

  void start_udp(const Job& j) {
    auto p = std::make_shared<UdpProbe>(io_);
    const auto proto = j.target.family == Family::v4 ? asio::ip::udp::v4() : asio::ip::udp::v6();
    if (!open_socket(p->socket, proto, j)) return finish();
    p->id = static_cast<std::uint32_t>(rng_());
    if (j.port.port == kMemcachedPort) {
      p->request = memcached_stats_request(static_cast<std::uint16_t>(p->id));
    } else {
      p->id &= 0x7fffffff;
      p->request = snmp_get_sysdescr_request(static_cast<std::int32_t>(p->id));
    }
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(j.target, j.port.port, ss);
    // A connected UDP socket: the kernel hands us the ICMP errors about it, and only datagrams
    // from the target's address and port.
    if (::connect(p->socket.native_handle(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      const int err = errno;
      return udp_done(j, *p, classify_udp_error(err, true), err);
    }
    udp_send(j, p);
    udp_wait(j, p);
  }

  void udp_send(const Job& j, const std::shared_ptr<UdpProbe>& p) {
    ++j.out->attempts;
    p->sent = Clock::now();
    if (::send(p->socket.native_handle(), p->request.data(), p->request.size(), 0) < 0) {
      const int err = errno;
      // An ICMP error from an earlier try may be reported here rather than on receive.
      return udp_done(j, *p, classify_udp_error(err, j.out->attempts == 1), err);
    }
    p->timer.expires_after(o_.timeout);
    p->timer.async_wait([this, j, p](const asio::error_code& ec) {
      if (ec || p->done) return;
      if (j.out->attempts <= o_.retries) return udp_send(j, p);
      udp_done(j, *p, {PortState::not_checkable, "open|filtered"}, 0);
    });
  }

  void udp_wait(const Job& j, const std::shared_ptr<UdpProbe>& p) {
    p->socket.async_wait(asio::socket_base::wait_read, [this, j, p](const asio::error_code& ec) {
      if (p->done) return;
      if (ec) return udp_done(j, *p, classify_udp_error(ec.value(), false), ec.value());
      std::array<std::uint8_t, 2048> buf;
      ssize_t n = ::recv(p->socket.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return udp_wait(j, p);
        return udp_done(j, *p, classify_udp_error(err, false), err);
      }
      std::span<const std::uint8_t> d(buf.data(), static_cast<std::size_t>(n));
      Verdict v{PortState::open, ""};
      if (j.port.port == kMemcachedPort) {
        auto m = parse_memcached_answer(d);
        v.detail = m && m->request_id == static_cast<std::uint16_t>(p->id)
                       ? "memcached answered"
                       : "answered (not a memcached reply)";
      } else {
        auto s = parse_snmp_answer(d);
        if (s && (s->request_id == static_cast<std::int64_t>(p->id) || s->version == 3)) {
          v.detail = s->error_status == 0
                         ? "SNMP answered"
                         : "SNMP answered (error-status " + std::to_string(s->error_status) + ")";
        } else {
          v.detail = s ? "SNMP answered (another request id)" : "answered (not an SNMP reply)";
        }
      }
      udp_done(j, *p, std::move(v), 0);
    });
  }

  void udp_done(const Job& j, UdpProbe& p, Verdict v, int err) {
    if (p.done) return;
    p.done = true;
    p.timer.cancel();
    j.out->state = v.state;
    j.out->detail = std::move(v.detail);
    j.out->error = err;
    const bool answered = v.state == PortState::open || v.state == PortState::closed ||
                          (v.state == PortState::filtered && err != 0);
    if (answered && j.out->attempts > 0) {
      j.out->rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - p.sent);
    }
    asio::error_code ignored;
    p.socket.close(ignored);
    finish();
  }

  const ScanOptions& o_;
  asio::io_context io_{1};
  std::deque<Job> queue_;
  int in_flight_ = 0;
  std::optional<Error> fatal_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace

std::string_view port_state_name(PortState s) {
  switch (s) {
    case PortState::open:
      return "open";
    case PortState::closed:
      return "closed";
    case PortState::filtered:
      return "filtered";
    case PortState::unreachable:
      return "unreachable";
    case PortState::not_checkable:
      return "not checkable";
  }
  return "?";
}

bool udp_checkable(std::uint16_t port) {
  return port == kMemcachedPort || port == kSnmpPort;
}

Verdict classify_tcp(int err, bool at_once, bool icmp) {
  if (err == 0) return {PortState::open, "connected"};
  // A RST, or an ICMP port unreachable: connect() says ECONNREFUSED for both (so nmap -sT calls
  // both closed); the error queue tells them apart.
  if (err == ECONNREFUSED) return {PortState::closed, icmp ? "ICMP port unreachable" : "RST"};
  if (err == ETIMEDOUT) return {PortState::filtered, "no answer"};
  if (at_once) {
    if (err == ENETUNREACH || err == EHOSTUNREACH) {
      return {PortState::unreachable, "no route from here (" + errno_name(err) + ")"};
    }
    if (err == EPERM || err == EACCES) {
      return {PortState::filtered, "refused by this machine's firewall (" + errno_name(err) + ")"};
    }
    return {PortState::unreachable, std::string(std::strerror(err)) + " (" + errno_name(err) + ")"};
  }
  return {PortState::filtered, icmp_detail(err)};
}

Verdict classify_udp_error(int err, bool at_once) {
  if (err == ECONNREFUSED) return {PortState::closed, "ICMP port unreachable"};
  return classify_tcp(err, at_once, !at_once);
}

Result<std::vector<Address>> resolve_host(std::string_view host) {
  if (host.empty()) return Error{"HOST is empty"};
  std::string why;
  if (looks_like_range_or_list(host, &why)) {
    return Error{"'" + std::string(host) + "' " + why +
                 ": mailwarden scan scans one host, named on the command line"};
  }
  if (auto a = parse_address(host)) return std::vector<Address>{*a};
  if (host.find(':') != std::string_view::npos ||
      host.find_first_not_of("0123456789.") == std::string_view::npos) {
    return Error{"'" + std::string(host) +
                 "' is not an IPv4 or IPv6 address: " + parse_address(host).error().message};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string name(host);
  if (int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res); rc != 0) {
    return Error{"cannot resolve '" + name + "': " + ::gai_strerror(rc)};
  }
  std::vector<Address> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    auto a = from_sockaddr(ai->ai_addr);
    if (!a) continue;
    bool have = std::any_of(out.begin(), out.end(),
                            [&](const Address& x) { return x.family == a->family; });
    if (!have) out.push_back(*a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) return Error{"'" + name + "' has no IPv4 or IPv6 address"};
  std::sort(out.begin(), out.end(),
            [](const Address& x, const Address& y) { return x.family < y.family; });
  return out;
}

Result<Address> local_source_for(const Address& target) {
  const int fd =
      ::socket(target.family == Family::v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(target, 9, ss);
  Result<Address> out = Error{""};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    out = Error{"no route to " + to_string(target) + ": " + std::strerror(errno)};
  } else {
    sockaddr_storage local;
    socklen_t llen = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) {
      out = Error{std::string("getsockname: ") + std::strerror(errno)};
    } else if (auto a = from_sockaddr(reinterpret_cast<sockaddr*>(&local))) {
      out = *a;
    } else {
      out = Error{"getsockname: not an IP address"};
    }
  }
  ::close(fd);
  return out;
}

Result<ScanReport> scan_host(std::string host, const std::vector<Address>& addresses,
                             const ScanOptions& o) {
  ScanReport r;
  r.host = std::move(host);
  r.addresses = addresses;
  if (o.source_v4) r.sources.push_back(*o.source_v4);
  if (o.source_v6) r.sources.push_back(*o.source_v6);
  r.ports.reserve(o.ports.size());
  for (const auto& p : o.ports) {
    PortObservation po;
    po.port = p;
    for (const auto& a : addresses) (a.family == Family::v4 ? po.v4 : po.v6) = Observation{};
    r.ports.push_back(std::move(po));
  }
  std::deque<Job> jobs;
  for (std::size_t i = 0; i < r.ports.size(); ++i) {
    for (const auto& a : addresses) {
      auto& slot = a.family == Family::v4 ? r.ports[i].v4 : r.ports[i].v6;
      jobs.push_back(Job{i, a, r.ports[i].port, &*slot});
    }
  }
  const auto t0 = Clock::now();
  ScanRun run(o, std::move(jobs));
  if (auto s = run.run(); !s) return s.error();
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  return r;
}

}  // namespace mw::scan
