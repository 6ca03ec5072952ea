// The snapshot contract: one file per collected command, named as below, plus an optional
// manifest.json. Loading reads the files that are there into Facts; a file that is absent or
// does not parse leaves its fact group missing, with the reason, so that the controls reading
// it answer not_checked rather than fail.
//
//   zmprov-gacf.txt        zmprov -l gacf                       global
//   zmprov-gs.txt          zmprov -l gs $(zmhostname)           server
//   zmprov-gac-v.txt       zmprov -l gac -v   (every COS)       cos
//   zmprov-gc-default.txt  zmprov -l gc default (older snapshots: the default COS only)
//   zmprov-gd.txt          zmprov -l gd DOMAIN, every domain    domain
//   zmprov-gaaa-v.txt      zmprov -l gaaa -v  (admin accounts)  admin
//   zmprov-ga-admin.txt    zmprov -l ga ADMIN ... (one admin)
//   zmprov-gas.txt         zmprov -l gas                        topology
//   zmprov-sa-review.txt   zmprov -l sa -v (no logon for 90 days,  review
//                          never logged in, external virtual)
//   zmlocalconfig-s.txt    zmlocalconfig -s                     localconfig
//   postconf-n.txt         postconf -n (Zimbra's)               postconf
//   postconf-M.txt         postconf -M                          master
//   sshd-T.txt             sshd -T                              sshd
//   ss-tlnp.txt            ss -Htlnup                           listeners
//   dpkg-l.txt / rpm-qa.txt                                     packages
//   zmcontrol-v.txt        zmcontrol -v                         edition, release
//   zimbra-crontab.txt     crontab -l -u zimbra                 crontab
//   uname-r.txt            uname -r                             kernel
//   chronyc-tracking.txt   chronyc -n tracking                  chrony
//   fail2ban-status.txt    fail2ban-client status [JAIL]...     fail2ban
//   apt-upgradable.txt     apt list --upgradable                updates
//   reboot-required.txt    copy of /var/run/reboot-required     reboot
//   iptables-save.txt, ip6tables-save.txt, nft.json             ruleset
//   etc/ssh/sshd_config, etc/ssh/sshd_config.d/*.conf           sshd_config
//   etc/logrotate.conf, etc/logrotate.d/*                       logrotate
//   etc/rsyslog.conf, etc/rsyslog.d/*                           rsyslog
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "audit/facts.hpp"
#include "core/result.hpp"

namespace mw::audit {

// Reads `dir` into facts. An Error only when the directory cannot be read at all; every other
// problem (a missing file, a parse error) is a missing fact group and a line in `warnings`.
Result<Facts> load_snapshot(const std::filesystem::path& dir, const AttrTable& attrs,
                            const LocalconfigKeyTable& keys, std::vector<std::string>& warnings);

}  // namespace mw::audit
