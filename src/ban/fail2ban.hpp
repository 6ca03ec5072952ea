// `mailwarden ban fail2ban-config`: the fail2ban filters, jails and (when needed) actions for
// sites that keep fail2ban, generated as file contents; the CLI writes them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ban/ban.hpp"
#include "core/result.hpp"

namespace mw::ban::fail2ban {

enum class Flavour { zimbra, postfix };
enum class BanAction { nftables, iptables, route };

Result<Flavour> parse_flavour(std::string_view text);       // "zimbra" | "postfix"
Result<BanAction> parse_ban_action(std::string_view text);  // "nftables" | "iptables" | "route"
std::string_view flavour_name(Flavour f);
std::string_view ban_action_name(BanAction a);

// The filters we generate, by name (filter.d/<name>.conf and the jail of the same name).
inline constexpr std::string_view kPostfixSasl = "mailwarden-postfix-sasl";
inline constexpr std::string_view kZimbraAudit = "mailwarden-zimbra-audit";
inline constexpr std::string_view kZimbraMailbox = "mailwarden-zimbra-mailbox";
inline constexpr std::string_view kZimbraAdmin = "mailwarden-zimbra-admin";
inline constexpr std::string_view kRouteAction = "mailwarden-route";

struct Options {
  Flavour flavour = Flavour::zimbra;
  BanAction action = BanAction::nftables;
  // Log paths; unset: the flavour's default (zimbra: /var/log/zimbra.log, postfix:
  // /var/log/mail.log for the Postfix SASL jail; /opt/zimbra/log/{audit,mailbox}.log).
  std::optional<std::string> zimbra_log, audit_log, mailbox_log, maillog;
  // Whether fail2ban's own action.d/route.conf exists where the files will be installed;
  // without it, --action route also writes action.d/mailwarden-route.conf.
  bool have_route_action = true;
  int maxretry = 5;        // failures within findtime before a ban
  int admin_maxretry = 3;  // the admin console is a smaller, more valuable target
  std::chrono::seconds findtime{600};
  // The first ban time and its growth for repeat offenders (bantime.increment); from
  // catalog/ban.toml, so that fail2ban and `mailwarden ban` punish recidive alike.
  BanConfig recidive;
};

struct GeneratedFile {
  std::string path;  // relative to the fail2ban configuration directory: "filter.d/x.conf"
  std::string content;
};

struct Generated {
  std::vector<GeneratedFile> files;
  std::vector<std::string> ignoreip;  // the jails' ignoreip entries, deduplicated, in order
  std::vector<std::string> notes;     // things the user should know (rounded multipliers...)
};

// The ignoreip entries for `allow`: every prefix once, loopback first, in the list's order.
std::vector<std::string> ignoreip_entries(const AllowList& allow);

// bantime.multipliers for fail2ban from the recidive steps: step[i] / step[0], rounded up
// (fail2ban takes whole numbers); a rounded step is reported in *notes.
std::vector<long long> bantime_multipliers(const BanConfig& c, std::vector<std::string>* notes);

// The files for `options`; an Error names the bad option (a relative path, a newline...).
Result<Generated> generate(const Options& options, const AllowList& allow);

// The filter texts alone (what fail2ban-regex is given in the tests).
std::string postfix_sasl_filter();
std::string zimbra_audit_filter();
std::string zimbra_mailbox_filter();
std::string zimbra_admin_filter();

}  // namespace mw::ban::fail2ban
