// ss -Htlnup parser: endpoints through mw::parse_address, processes from users:((...)).
#include "audit/ss.hpp"

#include <fmt/format.h>

#include <charconv>

#include "audit/text_lines.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

using detail::error_at;

template <class T>
bool parse_number(std::string_view s, T& out) {
  if (!detail::all_digits(s)) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Result<SocketEndpoint> parse_endpoint(std::string_view text) {
  SocketEndpoint ep;
  ep.text = std::string(text);
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Error{"expected address:port"};
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (port != "*") {
    std::uint16_t p = 0;
    if (!parse_number(port, p)) {
      return Error{fmt::format("port {} is not a number from 0 to 65535", quote_input(port))};
    }
    ep.port = p;
  }
  // The scope: "127.0.0.53%lo" or "[fe80::1]%eth0" (ss prints it after the bracket).
  if (const std::size_t pct = host.rfind('%');
      pct != std::string_view::npos && host.find(']', pct) == std::string_view::npos) {
    ep.iface = std::string(host.substr(pct + 1));
    host = host.substr(0, pct);
    if (ep.iface.empty()) return Error{"empty interface after '%'"};
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    // Some ss versions print the scope inside the brackets.
    if (const std::size_t pct = host.find('%'); pct != std::string_view::npos) {
      ep.iface = std::string(host.substr(pct + 1));
      host = host.substr(0, pct);
    }
  }
  if (host == "*") return ep;
  auto addr = parse_address(host);
  if (!addr) return Error{addr.error().message};
  ep.address = *addr;
  return ep;
}

// users:(("memcached",pid=1588,fd=26),("x",pid=2,fd=3))
Result<std::vector<SocketProcess>> parse_users(std::string_view s) {
  std::vector<SocketProcess> out;
  constexpr std::string_view kPrefix = "users:(";
  if (s.substr(0, kPrefix.size()) != kPrefix || s.back() != ')') {
    return Error{fmt::format("expected users:((...)), got {}", quote_input(s))};
  }
  s = s.substr(kPrefix.size(), s.size() - kPrefix.size() - 1);
  while (!s.empty()) {
    if (s.substr(0, 2) != "(\"")
      return Error{fmt::format("expected (\"name\",...) at {}", quote_input(s))};
    const std::size_t end_name = s.find("\",pid=");
    if (end_name == std::string_view::npos) {
      return Error{fmt::format("expected \",pid= in {}", quote_input(s))};
    }
    SocketProcess p;
    p.name = std::string(s.substr(2, end_name - 2));
    s.remove_prefix(end_name + 6);
    const std::size_t close = s.find(')');
    if (close == std::string_view::npos) return Error{"unterminated process entry"};
    const std::string_view fields = s.substr(0, close);
    const std::size_t comma = fields.find(",fd=");
    if (comma == std::string_view::npos || !parse_number(fields.substr(0, comma), p.pid) ||
        !parse_number(fields.substr(comma + 4), p.fd)) {
      return Error{fmt::format("expected pid=N,fd=N, got {}", quote_input(fields))};
    }
    out.push_back(std::move(p));
    s.remove_prefix(close + 1);
    if (!s.empty()) {
      if (s.front() != ',') return Error{fmt::format("expected ',' at {}", quote_input(s))};
      s.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace

bool SocketEndpoint::any_address() const {
  return !address || address->value == 0;
}

bool SocketEndpoint::loopback() const {
  if (!address) return false;
  if (address->family == Family::v4) return (address->value >> 24) == 127;
  if (address->value == 1) return true;
  return (address->value >> 32) == 0xffff && ((address->value >> 24) & 0xff) == 127;
}

Result<std::vector<ListeningSocket>> parse_ss(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  std::vector<ListeningSocket> out;
  for (const auto& line : detail::split_lines(text)) {
    const auto f = detail::split_fields(line.text);
    if (f.empty()) continue;
    if (f[0].text == "Netid" || f[0].text == "State") continue;  // header without -H
    ListeningSocket s;
    s.line = line.number;
    std::size_t i = 0;
    if (f[0].text == "tcp" || f[0].text == "udp") {
      s.proto = f[0].text == "tcp" ? SocketProto::tcp : SocketProto::udp;
      i = 1;
    } else if (f[0].text != "LISTEN" && f[0].text != "UNCONN") {
      return error_at(
          source, line.number, f[0].col,
          fmt::format("expected tcp, udp or a socket state, got {}", quote_input(f[0].text)));
    }
    if (f.size() < i + 5) {
      return error_at(source, line.number, 1,
                      fmt::format("expected [Netid] State Recv-Q Send-Q Local Peer [Process], "
                                  "got {}",
                                  quote_input(line.text)));
    }
    s.state = std::string(f[i].text);
    if (!parse_number(f[i + 1].text, s.recv_q) || !parse_number(f[i + 2].text, s.send_q)) {
      const auto& bad = parse_number(f[i + 1].text, s.recv_q) ? f[i + 2] : f[i + 1];
      return error_at(source, line.number, bad.col,
                      fmt::format("expected a queue length, got {}", quote_input(bad.text)));
    }
    for (int k = 0; k < 2; ++k) {
      const auto& field = f[i + 3 + k];
      auto ep = parse_endpoint(field.text);
      if (!ep) {
        return error_at(source, line.number, field.col,
                        fmt::format("{}: {}", quote_input(field.text), ep.error().message));
      }
      (k == 0 ? s.local : s.peer) = std::move(*ep);
    }
    if (!s.local.port) {
      return error_at(source, line.number, f[i + 3].col, "local port '*' on a listening socket");
    }
    for (std::size_t k = i + 5; k < f.size(); ++k) {
      if (f[k].text.substr(0, 6) != "users:") continue;  // other columns (-e, -m) are ignored
      // The process column runs to the end of the line: a name may hold blanks.
      auto procs = parse_users(detail::trim(line.text.substr(f[k].col - 1)));
      if (!procs) {
        return error_at(source, line.number, f[k].col, procs.error().message);
      }
      s.processes = std::move(*procs);
      break;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mw::audit
