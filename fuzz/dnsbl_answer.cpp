// libFuzzer target for DNS responses as the DNSBL check reads them (whatever a resolver or a
// list's server sends back is untrusted): parsing never crashes or reads past the message,
// and decoding never turns a failed or foreign answer into "listed" or "not listed".
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dnsbl/answer.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "dnsbl_answer invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mw::dnsbl;
  static const DnsblList list = [] {
    DnsblList l;
    l.id = "fuzz";
    l.zone = "zen.example";
    l.codes = {{0x7f000002, 0x7f00000b, CodeClass::listed, "listed"},
               {0x7ffffffc, 0x7fffffff, CodeClass::refused, "refused"}};
    return l;
  }();
  const std::span<const std::uint8_t> msg(data, size);
  for (QueryType t : {QueryType::a, QueryType::txt}) {
    const DnsAnswer a = parse_dns_response(msg, t);
    if (a.a.size() > 64 || a.txt.size() > 64) fail("more records than the bound");
    for (const auto& s : a.txt)
      if (s.size() > 512) fail("TXT longer than the bound");
    if (a.rcode != Rcode::noerror && (!a.a.empty() || !a.txt.empty()))
      fail("records kept from a failed answer");
    if (t == QueryType::a && !a.txt.empty()) fail("TXT records from an A query");
    const Decoded d = decode_answer(list, a);
    if (d.verdict == Verdict::listed) {
      if (d.codes.empty()) fail("listed without a code");
      for (const auto& c : d.codes)
        if ((c.code >> 24) != 127) fail("listed with a code outside 127.0.0.0/8");
    }
    if (d.verdict == Verdict::not_listed &&
        !(a.rcode == Rcode::nxdomain || (a.rcode == Rcode::noerror && a.a.empty())))
      fail("not listed without NXDOMAIN or NODATA");
    if (size < 12 && d.verdict != Verdict::error) fail("a message shorter than its header judged");
  }
  return 0;
}
