// libFuzzer target for the address, prefix and port parsers: no crash on any input, glibc's
// inet_pton agrees on what is an address, and whatever parses prints back to the same value.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/port_set.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& input) {
  std::fprintf(stderr, "core_addr invariant broken: %s (input %zu bytes: '%s')\n", what,
               input.size(), input.c_str());
  std::abort();
}

void check(bool ok, const char* what, const std::string& input) {
  if (!ok) fail(what, input);
}

// Errors must quote the input first, as every caller relies on when prefixing a position, and
// stay short and printable whatever the input: they end up in terminals and logs.
void check_error(const mw::Error& e, const std::string& input) {
  check(e.message.size() > 3 && e.message[0] == '\'', "error does not start with a quote", input);
  check(e.message.size() < 400, "error message too long", input);
  for (char c : e.message) check(c >= 0x20 && c < 0x7f, "unprintable byte in error", input);
}

void check_address(const std::string& text) {
  auto a = mw::parse_address(text);
  // inet_pton reads a C string, so it cannot judge inputs with a NUL inside.
  if (text.find('\0') == std::string::npos) {
    unsigned char bytes[16];
    const bool v6 = text.find(':') != std::string::npos;
    const bool theirs = inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), bytes) == 1;
    check(a.ok() == theirs, "parse_address and inet_pton disagree", text);
    if (theirs) {
      mw::u128 v = 0;
      for (int k = 0; k < (v6 ? 16 : 4); ++k) v = (v << 8) | bytes[k];
      check(a->value == v && (a->family == mw::Family::v6) == v6, "value differs from inet_pton",
            text);
    }
  }
  if (!a.ok()) {
    check_error(a.error(), text);
    return;
  }
  const std::string printed = mw::to_string(*a);
  auto back = mw::parse_address(printed);
  check(back.ok() && *back == *a, "printed address does not parse back", text);
  check(mw::to_string(*back) == printed, "canonical address text is not a fixed point", text);
}

void check_prefix(const std::string& text) {
  std::vector<std::string> warnings;
  auto p = mw::parse_prefix(text, &warnings);
  if (!p.ok()) {
    check_error(p.error(), text);
    check(warnings.empty(), "warnings on a rejected prefix", text);
    return;
  }
  check(p->len >= 0 && p->len <= mw::family_bits(p->addr.family), "length out of range", text);
  check((p->first() & mw::host_mask(p->addr.family, p->len)) == 0, "host bits left set", text);
  check(p->first() <= p->last() && p->last() <= mw::family_max(p->addr.family), "bad last()", text);
  const std::string printed = mw::to_string(*p);
  std::vector<std::string> again;
  auto back = mw::parse_prefix(printed, &again);
  check(back.ok() && *back == *p, "printed prefix does not parse back", text);
  for (const auto& w : again) {
    check(w.find("host bits") == std::string::npos, "canonical prefix has host bits", text);
  }
}

void check_ports(const std::string& text) {
  auto port = mw::parse_port(text);
  if (port.ok()) {
    // The accepted syntax has exactly one spelling per port.
    check(*port >= 1 && std::to_string(*port) == text, "port text is not canonical", text);
  } else {
    check_error(port.error(), text);
  }
  auto set = mw::parse_port_set(text);
  if (!set.ok()) {
    check_error(set.error(), text);
    check(!port.ok(), "a port that is not a port set", text);
    return;
  }
  check(!set->empty() && !set->contains(0), "parsed port set is empty or holds port 0", text);
  if (port.ok()) check(set->count() == 1 && set->contains(*port), "port vs port set", text);
  auto back = mw::parse_port_set(set->to_string());
  check(back.ok() && *back == *set, "printed port set does not parse back", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_address(text);
  check_prefix(text);
  check_ports(text);
  return 0;
}
