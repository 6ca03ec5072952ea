// DNSBL query names, DNS response parsing (through c-ares' record parsers) and answer decoding.
#include "dnsbl/answer.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <fmt/format.h>

#include <array>

namespace mw::dnsbl {

namespace {

constexpr std::size_t kMaxRecords = 64;
constexpr std::size_t kMaxTxt = 512;

}  // namespace

std::string query_name(const Address& ip, std::string_view zone) {
  std::string out;
  if (ip.family == Family::v4) {
    const auto v = static_cast<std::uint32_t>(ip.value);
    out = fmt::format("{}.{}.{}.{}", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24);
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    out.reserve(64 + zone.size());
    u128 v = ip.value;
    for (int i = 0; i < 32; ++i) {
      if (i > 0) out += '.';
      out += kHex[static_cast<unsigned>(v & 0xf)];
      v >>= 4;
    }
  }
  out += '.';
  out += zone;
  return out;
}

std::string_view name_of(Rcode r) {
  switch (r) {
    case Rcode::noerror:
      return "NOERROR";
    case Rcode::nxdomain:
      return "NXDOMAIN";
    case Rcode::servfail:
      return "SERVFAIL";
    case Rcode::refused:
      return "REFUSED";
    case Rcode::timeout:
      return "timeout";
    case Rcode::error:
      return "error";
  }
  return "?";
}

std::string_view name_of(Verdict v) {
  switch (v) {
    case Verdict::listed:
      return "listed";
    case Verdict::not_listed:
      return "not_listed";
    case Verdict::refused:
      return "refused";
    case Verdict::timeout:
      return "timeout";
    case Verdict::error:
      return "error";
    case Verdict::skipped:
      return "skipped";
  }
  return "?";
}

DnsAnswer parse_dns_response(std::span<const std::uint8_t> message, QueryType type) {
  DnsAnswer out;
  if (message.size() < 12) {
    out.detail = fmt::format("DNS response of {} bytes is shorter than its header", message.size());
    return out;
  }
  if ((message[2] & 0x80) == 0) {
    out.detail = "DNS message is a query, not a response";
    return out;
  }
  if ((message[2] & 0x02) != 0) {
    // Truncated over UDP: c-ares retries over TCP itself; a truncated message here is partial.
    out.detail = "DNS response truncated (TC bit)";
    return out;
  }
  const int rcode = message[3] & 0x0f;
  switch (rcode) {
    case 0:
      break;
    case 2:
      out.rcode = Rcode::servfail;
      out.detail = "SERVFAIL from the resolver";
      return out;
    case 3:
      out.rcode = Rcode::nxdomain;
      return out;
    case 5:
      out.rcode = Rcode::refused;
      out.detail = "REFUSED by the resolver";
      return out;
    default:
      out.detail = fmt::format("DNS rcode {}", rcode);
      return out;
  }
  const int ancount = (message[6] << 8) | message[7];
  if (ancount == 0) {  // NODATA
    out.rcode = Rcode::noerror;
    return out;
  }
  const auto* buf = message.data();
  const int len = static_cast<int>(message.size());
  if (type == QueryType::a) {
    std::array<ares_addrttl, kMaxRecords> addrs{};
    int n = static_cast<int>(addrs.size());
    hostent* host = nullptr;
    const int st = ares_parse_a_reply(buf, len, &host, addrs.data(), &n);
    if (host != nullptr) ares_free_hostent(host);
    if (st == ARES_ENODATA) {  // CNAMEs only, or records of another type
      out.rcode = Rcode::noerror;
      return out;
    }
    if (st != ARES_SUCCESS) {
      out.detail = fmt::format("malformed DNS response: {}", ares_strerror(st));
      return out;
    }
    out.rcode = Rcode::noerror;
    for (int i = 0; i < n && i < static_cast<int>(kMaxRecords); ++i)
      out.a.push_back(ntohl(addrs[static_cast<std::size_t>(i)].ipaddr.s_addr));
    return out;
  }
  ares_txt_ext* txt = nullptr;
  const int st = ares_parse_txt_reply_ext(buf, len, &txt);
  if (st == ARES_ENODATA) {
    out.rcode = Rcode::noerror;
    return out;
  }
  if (st != ARES_SUCCESS) {
    out.detail = fmt::format("malformed DNS response: {}", ares_strerror(st));
    return out;
  }
  out.rcode = Rcode::noerror;
  // A TXT record may be split into several strings; `record_start` marks the first of each.
  for (const ares_txt_ext* t = txt; t != nullptr; t = t->next) {
    const std::string piece(reinterpret_cast<const char*>(t->txt), t->length);
    if (t->record_start || out.txt.empty()) {
      if (out.txt.size() >= kMaxRecords) break;
      out.txt.push_back(piece.substr(0, kMaxTxt));
    } else if (out.txt.back().size() < kMaxTxt) {
      out.txt.back() += piece.substr(0, kMaxTxt - out.txt.back().size());
    }
  }
  ares_free_data(txt);
  return out;
}

Decoded decode_answer(const DnsblList& list, const DnsAnswer& answer) {
  Decoded d;
  switch (answer.rcode) {
    case Rcode::nxdomain:
      d.verdict = Verdict::not_listed;
      return d;
    case Rcode::servfail:
    case Rcode::refused:
      d.verdict = Verdict::refused;
      d.detail = answer.detail.empty() ? std::string(name_of(answer.rcode)) : answer.detail;
      return d;
    case Rcode::timeout:
      d.verdict = Verdict::timeout;
      d.detail = answer.detail.empty() ? "no answer after every try" : answer.detail;
      return d;
    case Rcode::error:
      d.verdict = Verdict::error;
      d.detail = answer.detail.empty() ? "lookup failed" : answer.detail;
      return d;
    case Rcode::noerror:
      break;
  }
  if (answer.a.empty()) {
    d.verdict = Verdict::not_listed;
    d.detail = "no A record (NODATA)";
    return d;
  }
  bool refused = false, foreign = false;
  for (auto code : answer.a) {
    const ReturnCode* rc = list.code_for(code);
    if ((code >> 24) != 127) foreign = true;
    if (rc != nullptr && rc->cls == CodeClass::refused) refused = true;
    d.codes.push_back(
        {code, rc != nullptr ? rc->meaning : std::string("code not documented by the list")});
  }
  if (refused) {
    d.verdict = Verdict::refused;
    for (const auto& c : d.codes) {
      const ReturnCode* rc = list.code_for(c.code);
      if (rc != nullptr && rc->cls == CodeClass::refused) {
        d.detail = rc->meaning;
        break;
      }
    }
  } else if (foreign) {
    d.verdict = Verdict::error;
    d.detail =
        "answer outside 127.0.0.0/8: the resolver rewrites NXDOMAIN or the zone is not a DNSBL";
  } else {
    d.verdict = Verdict::listed;
  }
  return d;
}

std::optional<std::string> special_range(const Address& ip) {
  struct Range {
    const char* prefix;
    const char* what;
  };
  static constexpr Range kRanges[] = {
      {"0.0.0.0/8", "\"this network\" (RFC 1122)"},
      {"10.0.0.0/8", "private (RFC 1918)"},
      {"100.64.0.0/10", "shared address space / CGNAT (RFC 6598)"},
      {"127.0.0.0/8", "loopback"},
      {"169.254.0.0/16", "link-local"},
      {"172.16.0.0/12", "private (RFC 1918)"},
      {"192.0.2.0/24", "documentation (RFC 5737)"},
      {"192.168.0.0/16", "private (RFC 1918)"},
      {"198.18.0.0/15", "benchmarking (RFC 2544)"},
      {"198.51.100.0/24", "documentation (RFC 5737)"},
      {"203.0.113.0/24", "documentation (RFC 5737)"},
      {"224.0.0.0/4", "multicast"},
      {"240.0.0.0/4", "reserved"},
      {"::/127", "unspecified or loopback"},
      {"::ffff:0:0/96", "IPv4-mapped (check the IPv4 address instead)"},
      {"2001:db8::/32", "documentation (RFC 3849)"},
      {"fc00::/7", "unique local (RFC 4193)"},
      {"fe80::/10", "link-local"},
      {"ff00::/8", "multicast"},
  };
  for (const auto& r : kRanges) {
    const auto p = parse_prefix(r.prefix);
    if (!p || p->addr.family != ip.family) continue;
    if (ip.value >= p->first() && ip.value <= p->last())
      return fmt::format("{} is in {} ({}): no public DNSBL lists it", to_string(ip), to_string(*p),
                         r.what);
  }
  return std::nullopt;
}

}  // namespace mw::dnsbl
