// Fuzz target: the zimbra crontab, logrotate and rsyslog parsers (host_logs.hpp), each fed the
// same input; logrotate reads it both as logrotate.conf and as an included file, so include
// handling and the per-file error recovery are exercised too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "audit/host_logs.hpp"

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mw::audit;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto cron = parse_crontab(text, "fuzz.txt");
  if (!cron.ok()) {
    if (!starts_with(cron.error().message, "fuzz.txt:")) std::abort();
  } else {
    // One job line may run several finds: deletions come in line order, from job lines.
    std::size_t last = 0;
    for (const auto& d : cron->deletions) {
      if (cron->entries == 0 || d.line < last) std::abort();
      last = d.line;
      if (d.dirs.empty() || d.kept_days < 0 || d.line == 0) std::abort();
      (void)deletion_reaches(d, "/opt/zimbra/log/mailbox.log.1.gz");
    }
  }

  const std::vector<HostFile> lr = {{"/etc/logrotate.conf", text}, {"/etc/logrotate.d/fuzz", text}};
  auto cfg = parse_logrotate(lr);
  for (const auto& e : cfg.errors) {
    if (!starts_with(e, "/etc/logrotate.")) std::abort();
  }
  for (const auto& s : cfg.stanzas) {
    if (s.paths.empty() || s.line == 0) std::abort();
    auto r = logrotate_retention(s.options);
    if (r.days && *r.days < 0) std::abort();
    for (const auto& p : s.paths) (void)rotated_copy_path(s, p);
  }

  const std::vector<HostFile> rs = {{"/etc/rsyslog.conf", text}};
  auto syslog = parse_rsyslog(rs);
  for (const auto& e : syslog.errors) {
    if (!starts_with(e, "/etc/rsyslog.conf:")) std::abort();
  }
  for (const auto& f : syslog.forwards) {
    if (f.target.empty() || f.line == 0) std::abort();
    // A legacy action's protocol comes from its form; action() may name any.
    const bool legacy = !f.written.empty() && (f.written[0] == '@' || f.written[0] == ':');
    if (legacy && f.protocol != "udp" && f.protocol != "tcp" && f.protocol != "relp") {
      std::abort();
    }
  }
  return 0;
}
