// The controls whose condition needs logic: named by `check = { kind = "custom", name = ... }`
// in catalog/controls/*.toml. A test checks that every name the catalog uses exists here.
#pragma once

#include "audit/engine.hpp"

namespace mw::audit {

// Every built-in check (the ones below and the network ones).
CustomChecks builtin_checks();
// The network exposure checks (network_checks.cpp): firewall via the ruleset analyser, and ss.
void add_network_checks(CustomChecks& checks);
// Administrator accounts, accounts to review (account_checks.cpp).
void add_account_checks(CustomChecks& checks);
// SMTP AUTH on 25, blocklists, per-account limits, MTA TLS (mailflow_checks.cpp).
void add_mailflow_checks(CustomChecks& checks);
// Log retention, remote syslog, time keeping, entropy (host_checks.cpp).
void add_host_checks(CustomChecks& checks);
// The Zimbra release against the table of fixed CVEs (version_checks.cpp).
void add_version_checks(CustomChecks& checks);
// Exchange: the IIS restriction of the admin center, /ecp (iis_checks.cpp).
void add_iis_checks(CustomChecks& checks);

}  // namespace mw::audit
