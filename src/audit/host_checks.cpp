// Host controls that need more than one fact: how long logs live (logrotate and Zimbra's own
// crontab), whether rsyslog forwards them, whether chronyd keeps the clock, and whether haveged
// is needed and present.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <map>

#include "audit/check_util.hpp"
#include "audit/custom_checks.hpp"
#include "audit/host_logs.hpp"
#include "audit/text_lines.hpp"
#include "core/ip.hpp"

namespace mw::audit {

namespace {

// The guides' "keep logs six months", when the catalog gives no `value`.
constexpr long kDefaultRetentionDays = 180;

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::optional<long> small_number(std::string_view s) {
  if (s.empty() || s.size() > 6 || !detail::all_digits(s)) return std::nullopt;
  return std::stol(std::string(s));
}

std::vector<HostFile> host_files(const std::vector<Facts::RawFile>& raw) {
  std::vector<HostFile> out;
  out.reserve(raw.size());
  for (const auto& r : raw) out.push_back({r.path, r.text});
  return out;
}

// --- host.log-retention ------------------------------------------------------------------------

// A crontab deletion is about logs when it works in a log directory or on log-like names.
bool about_logs(const CronDeletion& d) {
  auto has = [](const std::string& s, std::string_view what) {
    return detail::ascii_lower(s).find(what) != std::string::npos;
  };
  for (const auto& dir : d.dirs) {
    if (has(dir, "log")) return true;
  }
  for (const auto& n : d.names) {
    if (has(n, "log") || has(n, ".out")) return true;
  }
  return false;
}

std::string what_it_deletes(const CronDeletion& d) {
  std::string names = d.names.empty() ? std::string("every file") : joined(d.names, " or ");
  return fmt::format("{} under {}", names, joined(d.dirs, ", "));
}

// The crontab edits as one pipeline. `crontab -l` line numbers are those of the snapshot's
// copy; the pattern keeps an edit a no-op if the line moved since. A find without an age test
// that keeps anything (none, `-mtime -N`, a negated test) is left to a person.
std::string crontab_fix(const std::vector<const CronDeletion*>& short_lived,
                        const std::string& mtime) {
  std::string exprs, manual;
  for (const CronDeletion* d : short_lived) {
    if (d->age_test.empty() || d->kept_days == 0 || d->age_test.find(" -") != std::string::npos) {
      manual += fmt::format(
          "crontab -u zimbra -e   # line {}: give the find '-mtime +{}' (it deletes {} at any "
          "age)\n",
          d->line, mtime, what_it_deletes(*d));
    } else {
      exprs += fmt::format(" -e '{}s/{}\\b/-mtime +{}/'", d->line, d->age_test, mtime);
    }
  }
  if (exprs.empty()) return manual;
  return fmt::format("crontab -u zimbra -l | sed{} | crontab -u zimbra -\n", exprs) + manual;
}

// Minimum `rotate` for `days` with the stanza's period (one rotation a day at most for size,
// maxsize or no period).
long rotate_needed(const LogrotateOptions& o, long days) {
  long hours = rotate_every_hours(o.every);
  if (!o.maxsize.empty()) hours = std::min(hours, 24L);
  return (days * 24 + hours - 1) / hours;
}

// "file:line" back into its parts.
std::pair<std::string, std::size_t> split_at(const std::string& at) {
  auto colon = at.rfind(':');
  if (colon == std::string::npos) return {at, 0};
  auto n = small_number(std::string_view(at).substr(colon + 1));
  return {at.substr(0, colon), n ? static_cast<std::size_t>(*n) : 0};
}

ControlResult log_retention(const Control& c, const Facts& f) {
  const std::string& value = c.check.expected;
  const auto threshold =
      value.empty() ? std::optional<long>(kDefaultRetentionDays) : small_number(value);
  if (!threshold) {
    return make_result(c, Status::not_checked,
                       fmt::format("{}: value '{}' is not a number of days", c.origin, value));
  }
  const std::string mtime =
      small_number(c.fix_value) ? c.fix_value : std::to_string(*threshold + 10);
  if (!f.zimbra_crontab && !f.logrotate) {
    return make_result(
        c, Status::not_checked,
        fmt::format("{}; {}", missing_reason(f, "crontab", "zimbra-crontab.txt: not collected"),
                    missing_reason(f, "logrotate", "etc/logrotate.*: not collected")));
  }
  auto r = make_result(c, Status::pass);
  std::vector<std::string> short_lived;  // what keeps logs too briefly
  std::vector<std::string> unchecked;    // what could not be judged
  std::string remediation;

  // Zimbra's crontab: the pruning `find`s.
  std::vector<CronDeletion> deletions;
  const std::string cron_file =
      f.file_of.count("crontab") ? f.file_of.at("crontab") : std::string("zimbra-crontab.txt");
  bool cron_read = false;
  if (f.zimbra_crontab) {
    auto cron = parse_crontab(*f.zimbra_crontab, cron_file);
    if (!cron) {
      unchecked.push_back(
          fmt::format("the zimbra crontab does not parse: {}", cron.error().message));
    } else {
      cron_read = true;
      for (auto& d : cron->deletions) {
        if (about_logs(d)) deletions.push_back(std::move(d));
      }
    }
  } else {
    unchecked.push_back(fmt::format(
        "the zimbra crontab, where Zimbra deletes /opt/zimbra/log/*.log* after about 8 days ({})",
        missing_reason(f, "crontab", "not collected")));
  }
  std::vector<const CronDeletion*> cron_short;
  for (const auto& d : deletions) {
    const std::string where = fmt::format("{}:{}", cron_file, d.line);
    r.facts.push_back({"crontab: " + d.command, fmt::format("{} days", d.kept_days), where});
    if (d.kept_days < *threshold) {
      short_lived.push_back(fmt::format("{}: `{}` deletes {} after {} days", where,
                                        d.age_test.empty() ? "find" : d.age_test,
                                        what_it_deletes(d), d.kept_days));
      r.failing.push_back(where);
      cron_short.push_back(&d);
    }
  }
  remediation += crontab_fix(cron_short, mtime);
  if (cron_read && deletions.empty()) {
    r.facts.push_back({"crontab: deletions of logs", "none", cron_file});
  }

  // logrotate: every path's rotated copies, cut short by a crontab find that reaches them.
  if (f.logrotate) {
    auto files = host_files(*f.logrotate);
    const bool main_conf = std::any_of(files.begin(), files.end(), [](const HostFile& h) {
      return h.path == "/etc/logrotate.conf";
    });
    auto cfg = parse_logrotate(files);
    for (const auto& e : cfg.errors) unchecked.push_back(e);
    for (const auto& n : cfg.notes) r.facts.push_back({"logrotate: assumption", n, "logrotate"});
    // sed expressions per file, so that each file is edited in one pass (the line numbers of
    // one sed run all refer to its input).
    std::map<std::string, std::vector<std::string>> edits;
    for (const auto& s : cfg.stanzas) {
      const auto ret = logrotate_retention(s.options);
      bool stanza_fails = false;
      // Paths of one block with the same outcome are reported together.
      struct Group {
        std::string text;
        bool guessed;
        std::vector<std::string> paths;
      };
      std::vector<Group> groups;
      const std::string where = fmt::format("{}:{}", s.file, s.line);
      for (const auto& path : s.paths) {
        long days = ret.days ? *ret.days : LONG_MAX;
        std::string how = ret.how;
        bool cut_by_cron = false;
        const std::string copy = rotated_copy_path(s, path);
        for (const auto& d : deletions) {
          if (d.kept_days < days && deletion_reaches(d, copy)) {
            days = d.kept_days;
            cut_by_cron = true;
            how += fmt::format(", cut to {} days by {}:{} ({})", d.kept_days, cron_file, d.line,
                               d.age_test.empty() ? "find" : d.age_test);
          }
        }
        r.facts.push_back({"logrotate " + path,
                           days == LONG_MAX ? how : fmt::format("{} days: {}", days, how), where});
        if (days >= *threshold) continue;
        std::string text;
        // A value logrotate.conf would have set, when it is not in the snapshot, is a guess.
        const bool guessed = !main_conf && !cut_by_cron &&
                             (s.options.rotate_at.empty() || s.options.every_at.empty());
        if (guessed) {
          text = fmt::format(
              "({}): {}, with logrotate's built-in defaults; /etc/logrotate.conf "
              "is not in the snapshot",
              where, how);
        } else {
          text = fmt::format("({}): {} days ({})", where, days, how);
          r.failing.push_back(path);
          stanza_fails = true;
        }
        auto g = std::find_if(groups.begin(), groups.end(),
                              [&](const Group& e) { return e.text == text; });
        if (g == groups.end()) {
          groups.push_back({text, guessed, {path}});
        } else {
          g->paths.push_back(path);
        }
      }
      for (const auto& g : groups) {
        (g.guessed ? unchecked : short_lived).push_back(joined(g.paths, ", ") + " " + g.text);
      }
      if (!stanza_fails) continue;
      const LogrotateOptions& o = s.options;
      auto edit = [&](const std::string& file, std::string expr) {
        auto& list = edits[file];
        if (std::find(list.begin(), list.end(), expr) == list.end()) list.push_back(expr);
      };
      const long need = rotate_needed(o, *threshold);
      if (o.rotate >= 0 && o.rotate < need) {
        edit(s.file, s.rotate_line ? fmt::format("{}s/rotate.*/rotate {}/", s.rotate_line, need)
                                   : fmt::format("{}a\\    rotate {}", s.line, need));
      }
      // A global maxage (logrotate.conf) is raised where it is set.
      if (o.maxage && *o.maxage < *threshold) {
        auto [file, line] = split_at(o.maxage_at);
        if (line) edit(file, fmt::format("{}s/maxage.*/maxage {}/", line, *threshold));
      }
    }
    for (const auto& [file, exprs] : edits) {
      std::string cmd = "sed -i";
      for (const auto& e : exprs) cmd += fmt::format(" -e '{}'", e);
      remediation += fmt::format("{} {}\n", cmd, file);
    }
    if (!edits.empty()) {
      remediation +=
          "logrotate -d /etc/logrotate.conf   # dry run: no error means the edit holds\n";
    }
  } else {
    unchecked.push_back(
        fmt::format("logrotate ({})", missing_reason(f, "logrotate", "not collected")));
  }

  const std::string not_checked =
      unchecked.empty() ? "" : "not checked: " + joined(unchecked, "; ");
  if (!short_lived.empty()) {
    r.status = Status::fail;
    r.detail = fmt::format("logs kept less than {} days: {}{}{}", *threshold,
                           joined(short_lived, "; "), not_checked.empty() ? "" : "; ", not_checked);
    r.remediation = remediation.empty() ? render_remediation(c, "") : remediation;
    return r;
  }
  if (!unchecked.empty()) {
    r.status = Status::not_checked;
    r.detail =
        fmt::format("what was read keeps logs at least {} days, but {}", *threshold, not_checked);
    return r;
  }
  r.detail = fmt::format(
      "every log is kept at least {} days ({} crontab deletion(s) of logs, "
      "logrotate read)",
      *threshold, deletions.size());
  return r;
}

// --- host.remote-syslog ------------------------------------------------------------------------

bool is_this_host(const Facts& f, const std::string& target) {
  const std::string t = detail::ascii_lower(target);
  if (t == "localhost" || t == "localhost.localdomain" || t == "ip6-localhost" ||
      t.rfind("localhost.", 0) == 0) {
    return true;
  }
  if (auto a = parse_address(t)) {
    if (a->family == Family::v4) return (a->value >> 24) == 127;
    return a->value == 1;
  }
  return f.server && detail::ascii_lower(f.server->entry.name) == t;
}

ControlResult remote_syslog(const Control& c, const Facts& f) {
  if (!f.rsyslog) {
    return missing_facts(c, f, "rsyslog", "etc/rsyslog.conf and etc/rsyslog.d/: not collected");
  }
  auto r = make_result(c, Status::pass);
  // rsyslog reads rsyslog.conf and, through its $IncludeConfig / include(), rsyslog.d/*.conf.
  std::vector<HostFile> files;
  for (const auto& raw : *f.rsyslog) {
    const bool main = raw.path == "/etc/rsyslog.conf";
    const bool drop_in = raw.path.rfind("/etc/rsyslog.d/", 0) == 0 && raw.path.size() > 20 &&
                         raw.path.compare(raw.path.size() - 5, 5, ".conf") == 0;
    if (main || drop_in) {
      files.push_back({raw.path, raw.text});
    } else {
      r.facts.push_back({raw.path, "not read (rsyslog includes /etc/rsyslog.d/*.conf)", raw.path});
    }
  }
  auto cfg = parse_rsyslog(files);
  std::vector<std::string> remote, local;
  for (const auto& fw : cfg.forwards) {
    const std::string dest =
        fmt::format("{} {}{}", fw.protocol, fw.target, fw.port.empty() ? "" : ":" + fw.port);
    const std::string where = fmt::format("{}:{}", fw.file, fw.line);
    r.facts.push_back(
        {fmt::format("rsyslog forward ({})", fw.selector.empty() ? "action" : fw.selector), dest,
         where});
    const std::string item = fmt::format("{} for {} ({})", dest,
                                         fw.selector.empty() ? "its ruleset" : fw.selector, where);
    (is_this_host(f, fw.target) ? local : remote).push_back(item);
  }
  const std::string errors = cfg.errors.empty() ? "" : joined(cfg.errors, "; ");
  if (!remote.empty()) {
    r.detail = "logs go to " + joined(remote, ", ");
    if (!errors.empty()) r.detail += "; unreadable: " + errors;
    return r;
  }
  if (!errors.empty()) {
    r.status = Status::not_checked;
    r.detail = "no forwarding action found in what could be read; unreadable: " + errors;
    return r;
  }
  r.status = Status::fail;
  r.detail = local.empty() ? "no rsyslog action forwards logs to another host"
                           : "rsyslog forwards only to this host: " + joined(local, ", ");
  r.remediation = render_remediation(c, "");
  return r;
}

// --- host.chrony -------------------------------------------------------------------------------

// The value of "Name : value" in chronyc tracking, or "".
std::string tracking_value(const std::string& text, std::string_view name) {
  for (const auto& l : detail::split_lines(text)) {
    auto t = detail::trim(l.text);
    if (t.substr(0, name.size()) != name) continue;
    auto colon = t.find(':');
    if (colon != std::string_view::npos) return std::string(detail::trim(t.substr(colon + 1)));
  }
  return "";
}

ControlResult chrony(const Control& c, const Facts& f) {
  auto r = make_result(c, Status::pass);
  const bool installed = f.packages && f.packages->installed("chrony");
  r.facts.push_back({"package chrony",
                     f.packages ? (installed ? "installed" : "not installed") : "(unknown)",
                     origin_of(f, "packages")});
  std::string reference;
  if (f.chrony_tracking) {
    reference = tracking_value(*f.chrony_tracking, "Reference ID");
    r.facts.push_back({"chronyc tracking: Reference ID",
                       reference.empty() ? "(no answer from chronyd)" : reference,
                       origin_of(f, "chrony")});
  }
  bool with_processes = false;
  std::string socket;
  if (f.listeners) {
    for (const auto& s : *f.listeners) {
      if (!s.processes.empty()) with_processes = true;
      for (const auto& p : s.processes) {
        if (p.name == "chronyd" && socket.empty()) {
          socket = fmt::format("{} {} (pid {})", s.proto == SocketProto::udp ? "udp" : "tcp",
                               s.local.text, p.pid);
        }
      }
    }
    r.facts.push_back(
        {"chronyd socket", socket.empty() ? "none" : socket, origin_of(f, "listeners")});
  }
  if (!reference.empty() || !socket.empty()) {
    r.detail = !reference.empty() ? "chronyd answers: Reference ID " + reference
                                  : "chronyd listens: " + socket;
    const std::string leap =
        f.chrony_tracking ? tracking_value(*f.chrony_tracking, "Leap status") : std::string();
    if (!leap.empty() && leap != "Normal") r.detail += " (leap status: " + leap + ")";
    return r;
  }
  if (f.packages && !installed) {
    r.status = Status::fail;
    std::vector<std::string> others;
    for (const char* p : {"ntp", "ntpsec", "openntpd", "systemd-timesyncd"}) {
      if (f.packages->installed(p)) others.emplace_back(p);
    }
    r.detail = "chrony is not installed";
    if (!others.empty()) r.detail += " (installed instead: " + joined(others, ", ") + ")";
    r.remediation = render_remediation(c, "");
    return r;
  }
  const bool evidence = f.chrony_tracking || (f.listeners && with_processes);
  if (installed && evidence) {
    r.status = Status::fail;
    std::vector<std::string> why;
    if (f.chrony_tracking) {
      why.push_back(fmt::format("chronyc tracking got no answer ({})", origin_of(f, "chrony")));
    }
    if (f.listeners && with_processes) {
      why.push_back(fmt::format("no chronyd socket in {}", origin_of(f, "listeners")));
    }
    r.detail = "chrony is installed but chronyd does not run: " + joined(why, ", ");
    r.remediation = render_remediation(c, "");
    return r;
  }
  r.status = Status::not_checked;
  if (!f.packages) {
    r.detail = "whether chrony is installed is unknown: " +
               missing_reason(f, "packages", "dpkg-l.txt: not collected");
  } else {
    r.detail =
        fmt::format("chrony is installed; whether chronyd runs is unknown: {}; {}",
                    missing_reason(f, "chrony", "chronyc-tracking.txt: not collected"),
                    f.listeners ? std::string("ss-tlnp.txt shows no processes (ss without root?)")
                                : missing_reason(f, "listeners", "ss-tlnp.txt: not collected"));
  }
  return r;
}

// --- host.haveged ------------------------------------------------------------------------------

// "6.1.0-27-amd64" -> {6, 1}; nullopt unless it starts with MAJOR.MINOR.
std::optional<std::pair<long, long>> kernel_version(std::string_view release) {
  std::size_t i = 0;
  auto number = [&]() -> std::optional<long> {
    const std::size_t b = i;
    while (i < release.size() && release[i] >= '0' && release[i] <= '9') ++i;
    return small_number(release.substr(b, i - b));
  };
  auto major = number();
  if (!major || i >= release.size() || release[i] != '.') return std::nullopt;
  ++i;
  auto minor = number();
  if (!minor) return std::nullopt;
  return std::make_pair(*major, *minor);
}

ControlResult haveged(const Control& c, const Facts& f) {
  if (!f.kernel_release) {
    return missing_facts(c, f, "kernel", "uname-r.txt: not collected");
  }
  const std::string file = origin_of(f, "kernel");
  const std::string limit_text = c.check.expected.empty() ? "5.6" : c.check.expected;
  const auto limit = kernel_version(limit_text);
  if (!limit) {
    return make_result(c, Status::not_checked,
                       fmt::format("{}: value '{}' is not a kernel version", c.origin, limit_text));
  }
  const std::string& release = *f.kernel_release;
  const auto version = kernel_version(release);
  if (!version) {
    return make_result(
        c, Status::not_checked,
        release.empty() ? fmt::format("{}: empty, no kernel release", file)
                        : fmt::format("{}: '{}' is not a kernel release (expected MAJOR.MINOR..., "
                                      "e.g. 6.1.0-27-amd64)",
                                      file, release.substr(0, 80)));
  }
  auto r = make_result(c, Status::pass);
  r.facts.push_back({"kernel release", release, file});
  if (*version >= *limit) {
    r.status = Status::not_applicable;
    r.detail = fmt::format(
        "kernel {}.{} is {} or newer: /dev/random no longer blocks (Linux 5.6), haveged is not "
        "needed",
        version->first, version->second, limit_text);
    return r;
  }
  if (!f.packages) {
    return missing_facts(c, f, "packages", "dpkg-l.txt (or rpm-qa.txt): not collected");
  }
  const bool installed = f.packages->installed("haveged");
  r.facts.push_back(
      {"package haveged", installed ? "installed" : "not installed", origin_of(f, "packages")});
  if (!installed) {
    r.status = Status::fail;
    r.detail = fmt::format(
        "kernel {}.{} is older than {}: /dev/random can block for lack of entropy, and haveged is "
        "not installed",
        version->first, version->second, limit_text);
    r.remediation = render_remediation(c, "");
  } else {
    r.detail = fmt::format("kernel {}.{} is older than {} and haveged is installed", version->first,
                           version->second, limit_text);
  }
  return r;
}

}  // namespace

void add_host_checks(CustomChecks& checks) {
  checks.emplace("log-retention", log_retention);
  checks.emplace("remote-syslog", remote_syslog);
  checks.emplace("chrony", chrony);
  checks.emplace("haveged", haveged);
}

}  // namespace mw::audit
