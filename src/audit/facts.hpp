// What an audit knows about one server: the parsed snapshot files, and for each group of facts
// that is missing, why. Built by the snapshot loader (snapshot.hpp); read by the engine.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/attrs.hpp"
#include "audit/dpkg.hpp"
#include "audit/iis.hpp"
#include "audit/localconfig.hpp"
#include "audit/postconf.hpp"
#include "audit/ss.hpp"
#include "audit/sshd.hpp"
#include "audit/zmprov.hpp"
#include "catalog/ports.hpp"
#include "firewall/plan.hpp"
#include "firewall/ruleset.hpp"

namespace mw::audit {

// A zmprov object and the file it came from (for "facts read" and finding locations).
struct ZObject {
  ZmprovEntry entry;
  std::string file;  // snapshot file name: "zmprov-gc-default.txt"
};

struct Facts {
  std::optional<ZObject> global;  // zmprov gacf
  std::optional<ZObject> server;  // zmprov gs <this server> (inherited values included)
  std::vector<ZObject> coses;     // every COS (gac -v), or the default one (gc default)
  std::vector<ZObject> domains;   // every domain (gd per domain)
  std::vector<ZObject> admins;    // admin accounts (gaaa -v, or ga of one admin)
  // Accounts to review (zmprov-sa-review.txt): no logon for 90 days before the collection,
  // never logged in, or external virtual; nullopt when not collected.
  std::optional<std::vector<ZObject>> review_accounts;
  std::optional<Localconfig> localconfig;
  std::optional<PostconfMain> postconf;              // postconf -n (Zimbra's MTA)
  std::optional<std::vector<MasterService>> master;  // postconf -M
  std::optional<SshdEffective> sshd;                 // sshd -T
  std::optional<SshdConfig> sshd_config;  // etc/ssh/sshd_config and its Includes, as written
  // sshd -T -C per Match block (sshd-T-match.txt): the connection spec and what sshd answers.
  struct SshdMatchAnswer {
    std::string spec;  // "user=backup,host=probe.invalid,addr=192.0.2.1"
    SshdEffective effective;
    std::size_t line = 0;  // the "# sshd -T -C" header in the file
  };
  std::optional<std::vector<SshdMatchAnswer>> sshd_matches;
  std::optional<std::vector<ListeningSocket>> listeners;  // ss -Htlnup
  std::optional<PackageList> packages;                    // dpkg -l or rpm -qa

  // The host's firewall (iptables-save.txt, ip6tables-save.txt, nft.json), and which families
  // the snapshot's dumps cover: a family without a dump is not checked, never assumed open.
  std::optional<fw::Ruleset> ruleset;
  bool ruleset_v4 = false, ruleset_v6 = false;

  // fail2ban-client status: the jail names; nullopt when not collected.
  std::optional<std::vector<std::string>> fail2ban_jails;
  // apt list --upgradable: the packages with a pending security update ("pkg/suite-security").
  std::optional<std::vector<std::string>> security_updates;
  // /var/run/reboot-required: true when copied into the snapshot, false when the manifest says
  // the collector found none; nullopt when unknown (no manifest).
  std::optional<bool> reboot_required;

  // "network" or "foss" from zmcontrol -v; "" when unknown.
  std::string edition;
  // zmcontrol -v as printed ("Release 10.1.3.GA.4633.UBUNTU22.64 UBUNTU22_64 NETWORK edition,
  // Patch 10.1.3."); nullopt when not collected.
  std::optional<std::string> zimbra_release;

  // Raw host files copied into the snapshot under their host path: etc/logrotate.conf and
  // etc/logrotate.d/*, etc/rsyslog.conf and etc/rsyslog.d/*. nullopt when none was collected.
  struct RawFile {
    std::string path;  // as on the host: "/etc/logrotate.d/zimbra"
    std::string text;
  };
  std::optional<std::vector<RawFile>> logrotate;
  std::optional<std::vector<RawFile>> rsyslog;
  // crontab -l -u zimbra (zimbra-crontab.txt).
  std::optional<std::string> zimbra_crontab;
  // uname -r (uname-r.txt), trimmed: "6.1.0-27-amd64".
  std::optional<std::string> kernel_release;
  // chronyc -n tracking (chronyc-tracking.txt): present when chronyd answered.
  std::optional<std::string> chrony_tracking;

  // manifest.json's collected_at ("2026-11-28T23:55:58Z"), "" without manifest: the reference
  // time of "unused for N days" controls.
  std::string collected_at;
  // "single" or "multi" (zmprov gas lists more than this server; without gas, "single" when
  // this server runs ldap, mailbox and mta); "" when unknown. topology_source says which.
  std::string topology;
  std::string topology_source;

  // Snapshot file names of each fact group, and why a group is missing (file absent, command
  // not available on the host, parse error).
  std::map<std::string, std::string> file_of;
  std::map<std::string, std::string> missing;

  // The tables that give absent attributes and keys their defaults.
  const AttrTable* attrs = nullptr;
  const LocalconfigKeyTable* localconfig_keys = nullptr;
  // The product's port catalog (which ports are internal), when loaded.
  const PortCatalog* ports = nullptr;

  // Exchange: IIS's applicationHost.config (--iis-config), nullopt when not given; why it is
  // missing (not given, does not parse) goes in missing["iis"]. iis_file is the name origins
  // use ("applicationHost.config:LINE"); IisConfig::source holds it too.
  std::optional<IisConfig> iis;
  std::string iis_file;
  // The site's firewall policy (--policy) for the Exchange server: its admin networks, its
  // servers, iis_site, iis_proxy_mode. nullptr without one.
  const FirewallPlan* site_plan = nullptr;
};

}  // namespace mw::audit
