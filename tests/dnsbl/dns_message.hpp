// Builds DNS response messages for the tests: header, one question, A or TXT answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mw::dnsbl::test {

inline void put16(std::vector<std::uint8_t>& m, unsigned v) {
  m.push_back(static_cast<std::uint8_t>(v >> 8));
  m.push_back(static_cast<std::uint8_t>(v & 0xff));
}

inline void put_name(std::vector<std::uint8_t>& m, std::string_view name) {
  while (!name.empty()) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    m.push_back(static_cast<std::uint8_t>(label.size()));
    m.insert(m.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  m.push_back(0);
}

// rcode 0..15; `a` answers (host order) for type A, or `txt` strings for type TXT (16).
inline std::vector<std::uint8_t> response(std::string_view qname, int rcode,
                                          const std::vector<std::uint32_t>& a,
                                          const std::vector<std::string>& txt = {}) {
  std::vector<std::uint8_t> m;
  const unsigned type = txt.empty() ? 1 : 16;
  put16(m, 0x1234);
  m.push_back(0x81);                                     // QR, RD
  m.push_back(static_cast<std::uint8_t>(0x80 | rcode));  // RA
  put16(m, 1);
  put16(m, static_cast<unsigned>(a.size() + txt.size()));
  put16(m, 0);
  put16(m, 0);
  put_name(m, qname);
  put16(m, type);
  put16(m, 1);
  for (auto v : a) {
    put16(m, 0xc00c);  // pointer to the question's name
    put16(m, 1);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, 4);
    for (int s = 24; s >= 0; s -= 8) m.push_back(static_cast<std::uint8_t>((v >> s) & 0xff));
  }
  for (const auto& t : txt) {
    put16(m, 0xc00c);
    put16(m, 16);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, static_cast<unsigned>(t.size() + 1));
    m.push_back(static_cast<std::uint8_t>(t.size()));
    m.insert(m.end(), t.begin(), t.end());
  }
  return m;
}

}  // namespace mw::dnsbl::test
