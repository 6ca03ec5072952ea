#include "audit/snapshot.hpp"

#include "audit/text_lines.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "audit/collect.hpp"
#include "core/atomic_file.hpp"
#include "firewall/ruleset_loader.hpp"

namespace mw::audit {

namespace {

// Snapshot files are small; a larger one is not a snapshot file.
constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;

class Loader {
 public:
  Loader(const std::filesystem::path& dir, std::vector<std::string>& warnings)
      : dir_(dir), warnings_(warnings) {}

  // The file's text, or nullopt (the group marked missing) when it is absent or unreadable.
  std::optional<std::string> read(const std::string& name, const std::string& group) {
    auto path = dir_ / name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::nullopt;
    auto text = read_file(path, kMaxFileBytes);
    if (!text) {
      missing(group, text.error().message);
      return std::nullopt;
    }
    facts.file_of[group] = name;
    return std::move(*text);
  }

  void missing(const std::string& group, const std::string& why) {
    if (facts.missing.count(group)) return;
    facts.missing[group] = why;
  }
  void parse_failed(const std::string& group, const std::string& message) {
    facts.file_of.erase(group);
    facts.missing[group] = "does not parse: " + message;
    warnings_.push_back(fmt::format("warning: {}", message));
  }

  // zmprov objects of a group, from the first of `names` that exists.
  std::vector<ZObject> zmprov(const std::vector<std::string>& names, const std::string& group) {
    for (const auto& name : names) {
      auto text = read(name, group);
      if (!text) continue;
      auto parsed = parse_zmprov(*text, name);
      if (!parsed) {
        parse_failed(group, parsed.error().message);
        return {};
      }
      std::vector<ZObject> out;
      for (auto& e : parsed->entries) out.push_back({std::move(e), name});
      return out;
    }
    missing(group, fmt::format("{}: not in the snapshot", names.front()));
    return {};
  }

  Facts facts;

 private:
  std::filesystem::path dir_;
  std::vector<std::string>& warnings_;
};

}  // namespace

Result<Facts> load_snapshot(const std::filesystem::path& dir, const AttrTable& attrs,
                            const LocalconfigKeyTable& keys, std::vector<std::string>& warnings) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error{fmt::format("{}: not a snapshot directory", dir.string())};
  }
  Loader l(dir, warnings);
  Facts& f = l.facts;
  f.attrs = &attrs;
  f.localconfig_keys = &keys;

  if (auto g = l.zmprov({"zmprov-gacf.txt"}, "global"); !g.empty()) f.global = std::move(g[0]);
  if (auto s = l.zmprov({"zmprov-gs.txt"}, "server"); !s.empty()) f.server = std::move(s[0]);
  f.coses = l.zmprov({"zmprov-gac-v.txt", "zmprov-gc-default.txt"}, "cos");
  f.domains = l.zmprov({"zmprov-gd.txt"}, "domain");
  f.admins = l.zmprov({"zmprov-gaaa-v.txt", "zmprov-ga-admin.txt"}, "admin");
  {
    std::error_code ec;
    if (std::filesystem::exists(dir / "zmprov-sa-review.txt", ec)) {
      auto review = l.zmprov({"zmprov-sa-review.txt"}, "review");
      // An empty listing is an answer (nobody to review), a parse error is not.
      if (!l.facts.missing.count("review")) f.review_accounts = std::move(review);
    } else {
      l.missing("review", "zmprov-sa-review.txt: not in the snapshot");
    }
  }

  if (auto text = l.read("zmprov-gas.txt", "topology")) {
    auto servers = parse_zmprov_list(*text, "zmprov-gas.txt");
    if (!servers) {
      l.parse_failed("topology", servers.error().message);
    } else {
      f.topology = servers->size() > 1 ? "multi" : "single";
    }
  } else if (f.server) {
    // Without the server list: an all-in-one server runs the directory, the mailbox and the
    // MTA itself.
    auto services = f.server->entry.values("zimbraServiceEnabled");
    auto runs = [&](std::string_view s) {
      return std::find(services.begin(), services.end(), s) != services.end();
    };
    if (runs("ldap") && runs("mailbox") && runs("mta")) {
      f.topology = "single";
      f.topology_source = "zmprov-gs.txt: this server runs ldap, mailbox and mta";
    } else {
      l.missing("topology", "zmprov-gas.txt: not in the snapshot");
    }
  } else {
    l.missing("topology", "zmprov-gas.txt: not in the snapshot");
  }
  if (!f.topology.empty() && f.topology_source.empty()) f.topology_source = "zmprov-gas.txt";

  // The firewall: every dump that is there, read by the ruleset analyser.
  fw::Ruleset rs;
  bool any = false;
  for (const char* name : {"iptables-save.txt", "ip6tables-save.txt", "nft.json"}) {
    auto text = l.read(name, std::string("ruleset:") + name);
    if (!text) continue;
    if (auto st = fw::add_dump(rs, *text, name); !st) {
      l.parse_failed("ruleset", st.error().message);
      any = false;
      f.ruleset_v4 = f.ruleset_v6 = false;
      break;
    }
    any = true;
    std::string n = name;
    f.ruleset_v4 = f.ruleset_v4 || n != "ip6tables-save.txt";
    f.ruleset_v6 = f.ruleset_v6 || n != "iptables-save.txt";
  }
  if (any) {
    f.ruleset = std::move(rs);
  } else {
    l.missing("ruleset", "no iptables-save.txt, ip6tables-save.txt or nft.json in the snapshot");
  }

  if (auto text = l.read("zmlocalconfig-s.txt", "localconfig")) {
    auto lc = parse_localconfig(*text, "zmlocalconfig-s.txt");
    if (lc) {
      f.localconfig = std::move(*lc);
    } else {
      l.parse_failed("localconfig", lc.error().message);
    }
  } else {
    l.missing("localconfig", "zmlocalconfig-s.txt: not in the snapshot");
  }

  if (auto text = l.read("postconf-n.txt", "postconf")) {
    auto pc = parse_postconf(*text, "postconf-n.txt");
    if (pc) {
      f.postconf = std::move(*pc);
    } else {
      l.parse_failed("postconf", pc.error().message);
    }
  } else {
    l.missing("postconf", "postconf-n.txt: not in the snapshot");
  }

  if (auto text = l.read("postconf-M.txt", "master")) {
    auto m = parse_master_cf(*text, "postconf-M.txt");
    if (m) {
      f.master = std::move(*m);
    } else {
      l.parse_failed("master", m.error().message);
    }
  } else {
    l.missing("master", "postconf-M.txt: not in the snapshot");
  }

  if (auto text = l.read("sshd-T.txt", "sshd")) {
    auto s = parse_sshd_t(*text, "sshd-T.txt");
    if (s) {
      f.sshd = std::move(*s);
    } else {
      l.parse_failed("sshd", s.error().message);
    }
  } else {
    l.missing("sshd", "sshd-T.txt: not in the snapshot");
  }

  // The raw sshd configuration, laid out as on the host (etc/ssh/sshd_config, sshd_config.d/):
  // sshd -T shows the values for a connection no Match block selects, the files show the rest.
  if (auto text = l.read("etc/ssh/sshd_config", "sshd_config")) {
    auto resolver = filesystem_include_resolver(dir.string());
    auto c = parse_sshd_config(*text, "/etc/ssh/sshd_config", &resolver);
    if (c) {
      f.sshd_config = std::move(*c);
    } else {
      l.parse_failed("sshd_config", c.error().message);
    }
  } else {
    l.missing("sshd_config", "etc/ssh/sshd_config: not in the snapshot");
  }

  // sshd -T -C per Match block: sections headed "# sshd -T -C SPEC" (collect.cpp).
  if (auto text = l.read("sshd-T-match.txt", "sshd_matches")) {
    std::vector<Facts::SshdMatchAnswer> answers;
    std::string section;
    std::size_t header_line = 0;
    std::string spec;
    bool ok = true;
    auto flush = [&]() {
      if (header_line == 0) return;
      auto e = parse_sshd_t(section, fmt::format("sshd-T-match.txt (after line {})", header_line));
      if (!e) {
        l.parse_failed("sshd_matches", e.error().message);
        ok = false;
        return;
      }
      answers.push_back({spec, std::move(*e), header_line});
    };
    for (const auto& line : detail::split_lines(*text)) {
      constexpr std::string_view kHeader = "# sshd -T -C ";
      if (line.text.starts_with(kHeader)) {
        flush();
        spec = std::string(line.text.substr(kHeader.size()));
        header_line = line.number;
        section.clear();
      } else if (header_line == 0 && !detail::trim(line.text).empty()) {
        l.parse_failed(
            "sshd_matches",
            fmt::format("sshd-T-match.txt:{}: expected a '# sshd -T -C' header", line.number));
        ok = false;
        break;
      } else {
        section += std::string(line.text) + "\n";
      }
    }
    if (ok) flush();
    if (ok) f.sshd_matches = std::move(answers);
  }

  if (auto text = l.read("ss-tlnp.txt", "listeners")) {
    auto s = parse_ss(*text, "ss-tlnp.txt");
    if (s) {
      f.listeners = std::move(*s);
    } else {
      l.parse_failed("listeners", s.error().message);
    }
  } else {
    l.missing("listeners", "ss-tlnp.txt: not in the snapshot");
  }

  if (auto text = l.read("dpkg-l.txt", "packages")) {
    auto p = parse_dpkg_l(*text, "dpkg-l.txt");
    if (p) {
      f.packages = std::move(*p);
    } else {
      l.parse_failed("packages", p.error().message);
    }
  } else if (auto rpm = l.read("rpm-qa.txt", "packages")) {
    auto p = parse_rpm_qa(*rpm, "rpm-qa.txt");
    if (p) {
      f.packages = std::move(*p);
    } else {
      l.parse_failed("packages", p.error().message);
    }
  } else {
    l.missing("packages", "dpkg-l.txt (or rpm-qa.txt): not in the snapshot");
  }

  // fail2ban-client status: "`- Jail list:\tsshd, zimbra-audit" (then each jail's status).
  if (auto text = l.read("fail2ban-status.txt", "fail2ban")) {
    std::vector<std::string> jails;
    auto at = text->find("Jail list:");
    if (at != std::string::npos) {
      auto end = text->find('\n', at);
      std::string_view list(text->data() + at + 10,
                            (end == std::string::npos ? text->size() : end) - at - 10);
      for (auto jail : split_list(list)) jails.emplace_back(jail);
      f.fail2ban_jails = std::move(jails);
    } else {
      l.parse_failed("fail2ban", "fail2ban-status.txt: no 'Jail list:' line");
    }
  } else {
    l.missing("fail2ban", "fail2ban-status.txt: not in the snapshot");
  }

  // The first of `names` that is in the snapshot, read as the "updates" group.
  auto read_first = [&](std::initializer_list<const char*> names) -> std::optional<std::string> {
    for (const char* n : names) {
      if (auto t = l.read(n, "updates")) return t;
    }
    return std::nullopt;
  };
  if (auto text = l.read("apt-upgradable.txt", "updates")) {
    std::vector<std::string> security;
    std::size_t start = 0;
    while (start < text->size()) {
      auto nl = text->find('\n', start);
      std::string_view line(text->data() + start,
                            (nl == std::string::npos ? text->size() : nl) - start);
      start = nl == std::string::npos ? text->size() : nl + 1;
      auto slash = line.find('/');
      auto space = line.find(' ');
      if (slash == std::string_view::npos || space == std::string_view::npos || slash > space) {
        continue;  // "Listing...", warnings
      }
      auto suite = line.substr(slash + 1, space - slash - 1);
      // "bookworm-security", "jammy-security,jammy-updates"
      if (suite.find("-security") != std::string_view::npos) {
        security.emplace_back(line.substr(0, slash));
      }
    }
    f.security_updates = std::move(security);
  } else if (auto rpm_text = read_first({"dnf-security.txt", "yum-security.txt"})) {
    // "RHSA-2024:1234 Important/Sec. openssl-libs-1:3.0.7-25.el9_3.x86_64" (also "FEDORA-...",
    // "ALSA-..."): the third field is the package to update, name-[epoch:]version-release.arch.
    std::vector<std::string> security;
    for (const auto& line : detail::split_lines(*rpm_text)) {
      auto fields = detail::split_fields(line.text);
      if (fields.size() < 3 || fields[1].text.find("/Sec.") == std::string_view::npos) continue;
      std::string_view nevra = fields[2].text;
      // name ends before the "-version-release": the second '-' from the right.
      auto r1 = nevra.rfind('-');
      auto r2 = r1 == std::string_view::npos || r1 == 0 ? r1 : nevra.rfind('-', r1 - 1);
      std::string name(r2 == std::string_view::npos ? nevra : nevra.substr(0, r2));
      if (std::find(security.begin(), security.end(), name) == security.end()) {
        security.push_back(std::move(name));
      }
    }
    f.security_updates = std::move(security);
  } else {
    l.missing("updates", "apt-upgradable.txt (or dnf-security.txt): not in the snapshot");
  }

  {
    std::error_code ec;
    if (std::filesystem::exists(dir / "reboot-required.txt", ec)) {
      f.reboot_required = true;
      f.file_of["reboot"] = "reboot-required.txt";
    } else if (auto manifest = read_manifest(dir); manifest && *manifest) {
      for (const auto& e : (*manifest)->files) {
        if (e.file == "reboot-required.txt" && e.status == "not_available") {
          f.reboot_required = false;
          f.file_of["reboot"] = "manifest.json";
        }
      }
    }
    if (!f.reboot_required) {
      l.missing("reboot",
                "reboot-required.txt not in the snapshot and no manifest saying it was absent");
    }
  }

  // Raw host files under etc/: the file itself and every regular file of its .d directory.
  auto raw_files = [&](const std::string& file, const std::string& dir_name,
                       const std::string& group) -> std::optional<std::vector<Facts::RawFile>> {
    std::vector<Facts::RawFile> out;
    if (auto text = l.read(file, group)) out.push_back({"/" + file, std::move(*text)});
    std::error_code ec;
    std::vector<std::filesystem::path> names;
    for (const auto& e : std::filesystem::directory_iterator(dir / dir_name, ec)) {
      if (e.is_regular_file(ec)) names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      auto rel = dir_name + "/" + n.string();
      auto text = read_file(dir / rel, kMaxFileBytes);
      if (!text) {
        warnings.push_back(fmt::format("warning: {}", text.error().message));
        continue;
      }
      out.push_back({"/" + rel, std::move(*text)});
    }
    if (out.empty()) {
      l.missing(group, fmt::format("{} and {}/: not in the snapshot", file, dir_name));
      return std::nullopt;
    }
    f.file_of[group] = out.front().path.substr(1);
    return out;
  };
  f.logrotate = raw_files("etc/logrotate.conf", "etc/logrotate.d", "logrotate");
  f.rsyslog = raw_files("etc/rsyslog.conf", "etc/rsyslog.d", "rsyslog");
  if (auto text = l.read("zimbra-crontab.txt", "crontab")) {
    f.zimbra_crontab = std::move(*text);
  } else {
    l.missing("crontab", "zimbra-crontab.txt: not in the snapshot");
  }
  if (auto text = l.read("uname-r.txt", "kernel")) {
    auto end = text->find_last_not_of(" \t\r\n");
    f.kernel_release = text->substr(0, end == std::string::npos ? 0 : end + 1);
  } else {
    l.missing("kernel", "uname-r.txt: not in the snapshot");
  }
  if (auto text = l.read("chronyc-tracking.txt", "chrony")) {
    f.chrony_tracking = std::move(*text);
  } else {
    l.missing("chrony", "chronyc-tracking.txt: not in the snapshot");
  }
  if (auto manifest = read_manifest(dir); manifest && *manifest) {
    f.collected_at = (*manifest)->collected_at;
  }

  if (auto text = l.read("zmcontrol-v.txt", "edition")) {
    f.zimbra_release = *text;
    if (text->find("NETWORK edition") != std::string::npos) {
      f.edition = "network";
    } else if (text->find("FOSS edition") != std::string::npos) {
      f.edition = "foss";
    } else {
      l.parse_failed("edition", "zmcontrol-v.txt:1: neither 'NETWORK edition' nor 'FOSS edition'");
    }
  } else {
    l.missing("edition", "zmcontrol-v.txt: not in the snapshot");
  }
  return std::move(l.facts);
}

}  // namespace mw::audit
