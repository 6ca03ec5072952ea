// libFuzzer target for the scanner's recognition of UDP answers: no crash and no read past the
// datagram on any input, and what is recognised is consistent with the bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "scan/udp_probes.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "scan_answers invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> d(data, size);
  if (auto m = mw::scan::parse_memcached_answer(d)) {
    if (size < 8) fail("memcached answer shorter than its header");
    if (m->sequence >= m->total) fail("memcached sequence past total");
    if (m->payload.size() != size - 8) fail("memcached payload length");
    if (reinterpret_cast<const std::uint8_t*>(m->payload.data()) != data + 8) {
      fail("memcached payload outside the datagram");
    }
  }
  if (auto s = mw::scan::parse_snmp_answer(d)) {
    if (size < 2 || data[0] != 0x30) fail("SNMP answer without its SEQUENCE");
    if (s->version != 0 && s->version != 1 && s->version != 3) fail("SNMP version");
    if (s->version != 3 && (s->pdu_type < 0xa0 || s->pdu_type > 0xa8)) fail("SNMP PDU tag");
  }
  return 0;
}
