// Fuzz target: Zimbra audit.log / mailbox.log lines (parse_log4j_line, parse_zimbra, the oip
// chain with a trusted-proxy list).
// The input is split into lines; every view the parser returns must point into its line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logs/parse_line.hpp"
#include "logs/parsers.hpp"
#include "logs/syslog.hpp"
#include "logs_fuzz.hpp"

namespace {

using mw::logs::fuzz::check_facts;
using mw::logs::fuzz::inside;
using mw::logs::fuzz::message_of;

const mw::logs::TrustedProxies& trusted() {
  static const mw::logs::TrustedProxies t = [] {
    std::vector<mw::Prefix> p;
    for (auto s : {"10.0.0.0/8", "2001:db8:ffff::/48"}) p.push_back(*mw::parse_prefix(s));
    return mw::logs::TrustedProxies(std::move(p));
  }();
  return t;
}

void one_line(std::string_view line) {
  std::string_view tag;
  (void)message_of(line, tag);
  auto l = mw::logs::parse_log4j_line(line);
  if (!l) l = mw::logs::parse_log4j_body(line);
  if (!l) return;
  for (auto v : {l->level, l->thread, l->context, l->category, l->message}) {
    if (!inside(v, line)) std::abort();
  }
  for (const auto* t : {&trusted(), static_cast<const mw::logs::TrustedProxies*>(nullptr)}) {
    mw::logs::TrustedProxies none;
    const auto& tp = t ? *t : none;
    if (auto f = mw::logs::parse_zimbra(*l, tp)) {
      check_facts(*f, line);
      if (!inside(f->account, line)) std::abort();
    }
    if (!inside(mw::logs::zimbra_client(l->context, tp), line)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mw::logs::fuzz::for_each_line(data, size, one_line);
  return 0;
}
