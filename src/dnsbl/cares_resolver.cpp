// The c-ares resolver: one channel, every lookup in flight at once (bounded), paced by each
// lookup's not_before, sockets watched with poll() and driven with ares_process_fd().
#include <ares.h>
#include <arpa/nameser.h>
#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>

#include "core/ip.hpp"
#include "dnsbl/resolver.hpp"

namespace mw::dnsbl {

namespace {

// ares_library_init is not thread-safe and must run once per process.
void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

class CaresResolver final : public Resolver {
 public:
  ~CaresResolver() override {
    if (channel_ != nullptr) ares_destroy(channel_);
  }

  Status init(const ResolverOptions& o) {
    init_library_once();
    options_ = o;
    ares_options opts{};
    int mask = 0;
    opts.timeout = static_cast<int>(std::max<std::int64_t>(1, o.timeout.count()));
    mask |= ARES_OPT_TIMEOUTMS;
    opts.tries = std::max(1, o.tries);
    mask |= ARES_OPT_TRIES;
    // NOCHECKRESP: hand back SERVFAIL / REFUSED as they are (a refusal is a fact we report)
    // instead of moving on to the next server. NOSEARCH: the names are absolute.
    opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH;
    mask |= ARES_OPT_FLAGS;
    opts.sock_state_cb = &CaresResolver::on_socket_state;
    opts.sock_state_cb_data = this;
    mask |= ARES_OPT_SOCK_STATE_CB;
    if (int st = ares_init_options(&channel_, &opts, mask); st != ARES_SUCCESS) {
      channel_ = nullptr;
      return Error{fmt::format("c-ares: cannot initialise a resolver: {}", ares_strerror(st))};
    }
    if (!o.server.empty()) {
      auto csv = parse_resolver_address(o.server);
      if (!csv) return csv.error();
      if (int st = ares_set_servers_ports_csv(channel_, csv->c_str()); st != ARES_SUCCESS)
        return Error{fmt::format("--resolver '{}': {}", o.server, ares_strerror(st))};
    }
    return {};
  }

  std::vector<DnsAnswer> resolve(std::span<const Lookup> lookups) override {
    std::vector<DnsAnswer> answers(lookups.size());
    std::vector<Pending> pending(lookups.size());
    std::vector<std::size_t> order(lookups.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return lookups[a].not_before < lookups[b].not_before;
    });
    const auto start = std::chrono::steady_clock::now();
    std::size_t next = 0, in_flight = 0;
    while (next < order.size() || in_flight > 0) {
      const auto now = std::chrono::steady_clock::now();
      while (next < order.size() && in_flight < options_.max_in_flight &&
             start + lookups[order[next]].not_before <= now) {
        const std::size_t i = order[next++];
        pending[i] = Pending{this, &answers[i], lookups[i].type, &in_flight};
        ++in_flight;
        ares_query(channel_, lookups[i].name.c_str(), ns_c_in,
                   lookups[i].type == QueryType::a ? ns_t_a : ns_t_txt, &CaresResolver::on_answer,
                   &pending[i]);
      }
      // Wait for a socket, c-ares' next timeout, or the next paced send, whichever is first.
      int wait_ms = 1000;
      if (next < order.size() && in_flight < options_.max_in_flight) {
        const auto due = start + lookups[order[next]].not_before - now;
        wait_ms = static_cast<int>(std::clamp<std::int64_t>(
            std::chrono::ceil<std::chrono::milliseconds>(due).count(), 0, 1000));
      }
      timeval max{wait_ms / 1000, (wait_ms % 1000) * 1000}, tv{};
      if (const timeval* t = ares_timeout(channel_, &max, &tv); t != nullptr)
        wait_ms = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
      std::vector<pollfd> fds;
      fds.reserve(sockets_.size());
      for (const auto& [fd, want] : sockets_) {
        short ev = 0;
        if (want.read) ev |= POLLIN;
        if (want.write) ev |= POLLOUT;
        fds.push_back({fd, ev, 0});
      }
      const int n =
          ::poll(fds.data(), fds.size(), in_flight > 0 || next < order.size() ? wait_ms : 0);
      if (n < 0 && errno != EINTR) {
        // Not expected; fail every open query rather than spin.
        ares_cancel(channel_);
        continue;
      }
      bool any = false;
      for (const auto& p : fds) {
        if (p.revents == 0) continue;
        any = true;
        const bool r = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool w = (p.revents & POLLOUT) != 0;
        ares_process_fd(channel_, r ? p.fd : ARES_SOCKET_BAD, w ? p.fd : ARES_SOCKET_BAD);
      }
      if (!any) ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    }
    return answers;
  }

 private:
  struct Pending {
    CaresResolver* self = nullptr;
    DnsAnswer* answer = nullptr;
    QueryType type = QueryType::a;
    std::size_t* in_flight = nullptr;
  };
  struct Want {
    bool read = false, write = false;
  };

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<CaresResolver*>(data);
    if (readable == 0 && writable == 0)
      self->sockets_.erase(fd);
    else
      self->sockets_[fd] = Want{readable != 0, writable != 0};
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* p = static_cast<Pending*>(arg);
    --*p->in_flight;
    DnsAnswer& out = *p->answer;
    if (abuf != nullptr && alen > 0 &&
        (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA ||
         status == ARES_ESERVFAIL || status == ARES_EREFUSED)) {
      out = parse_dns_response({abuf, static_cast<std::size_t>(alen)}, p->type);
      return;
    }
    switch (status) {
      case ARES_ETIMEOUT:
        out.rcode = Rcode::timeout;
        out.detail = "no answer after every try";
        break;
      case ARES_ENOTFOUND:
        out.rcode = Rcode::nxdomain;
        break;
      case ARES_ESERVFAIL:
        out.rcode = Rcode::servfail;
        out.detail = "SERVFAIL from the resolver";
        break;
      case ARES_EREFUSED:
        out.rcode = Rcode::refused;
        out.detail = "REFUSED by the resolver";
        break;
      default:
        out.rcode = Rcode::error;
        out.detail = fmt::format("c-ares: {}", ares_strerror(status));
        break;
    }
  }

  ares_channel channel_ = nullptr;
  ResolverOptions options_;
  std::map<ares_socket_t, Want> sockets_;
};

}  // namespace

Result<std::string> parse_resolver_address(std::string_view server) {
  std::string_view host = server;
  std::string_view port;
  if (!server.empty() && server.front() == '[') {
    const auto close = server.find(']');
    if (close == std::string_view::npos || close + 1 >= server.size() || server[close + 1] != ':')
      return Error{fmt::format("--resolver '{}': expected [IPv6]:PORT", server)};
    host = server.substr(1, close - 1);
    port = server.substr(close + 2);
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    const auto colon = server.find(':');
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  auto a = parse_address(host);
  if (!a) return Error{fmt::format("--resolver '{}': {}", server, a.error().message)};
  unsigned p = 53;
  if (!port.empty() || host.size() != server.size()) {
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || ptr != port.data() + port.size() || p == 0 || p > 65535 ||
        port.front() == '0')
      return Error{fmt::format("--resolver '{}': port '{}' is not 1-65535", server, port)};
  }
  return a->family == Family::v4 ? fmt::format("{}:{}", to_string(*a), p)
                                 : fmt::format("[{}]:{}", to_string(*a), p);
}

Result<std::unique_ptr<Resolver>> make_cares_resolver(const ResolverOptions& options) {
  auto r = std::make_unique<CaresResolver>();
  if (auto st = r->init(options); !st) return st.error();
  return std::unique_ptr<Resolver>(std::move(r));
}

}  // namespace mw::dnsbl
