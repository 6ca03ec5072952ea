// Fuzz target: Postfix messages (parse_postfix) under every daemon tag.
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

void one_line(std::string_view line) {
  std::string_view tag;
  const auto msg = message_of(line, tag);
  for (std::string_view t : {"postfix/smtpd", "postfix/submission/smtpd", "postfix/postscreen",
                             "postfix/cleanup", "postfix/qmgr", "postfix/pickup", "postfix/smtp",
                             "postfix/local", "postfix/bounce", "postfix/master"}) {
    if (auto f = mw::logs::parse_postfix(t, msg)) check_facts(*f, line);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mw::logs::fuzz::for_each_line(data, size, one_line);
  return 0;
}
