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

namespace {

bool inside(std::string_view v, std::string_view line) {
  return v.empty() || (v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size());
}

void check_facts(const mw::logs::Facts& f, std::string_view line) {
  for (auto v : {f.client_ip, f.client_name, f.queue_id, f.next_queue_id, f.from, f.recipients,
                 f.relay, f.dsn, f.message_id}) {
    if (!inside(v, line)) std::abort();
  }
}

// The message of a syslog line, or the whole line when it has no envelope.
std::string_view message_of(std::string_view line, std::string_view& tag) {
  if (auto env = mw::logs::parse_syslog_envelope(line)) {
    tag = env->program;
    return env->message;
  }
  return line;
}

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
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    one_line(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return 0;
}
