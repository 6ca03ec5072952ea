// Fuzz target: the syslog / RFC 5424 / ISO / Zimbra log4j envelopes and the whole dispatcher
// (parse_line) with one context across the input's lines (year inference, backward time).
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

mw::logs::FixedOffsetZone utc(0);

void one_line(std::string_view line) {
  static mw::logs::ParseContext ctx(utc, mw::logs::YearInference(2026, 12));
  std::string_view tag;
  (void)message_of(line, tag);
  if (auto env = mw::logs::parse_syslog_envelope(line)) {
    for (auto v : {env->host, env->program, env->pid, env->message}) {
      if (!inside(v, line)) std::abort();
    }
  }
  auto e = mw::logs::parse_line(line, ctx);
  for (auto v : {e.host, e.program, e.pid, e.message}) {
    if (!inside(v, line)) std::abort();
  }
  check_facts(e.facts, line);
  if (ctx.counts().lines !=
      ctx.counts().unparsed() + ctx.counts().count(mw::logs::LineKind::parsed)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mw::logs::fuzz::for_each_line(data, size, one_line);
  return 0;
}
