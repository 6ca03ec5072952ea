// Account controls that need more than one value: administrator accounts (unused, local
// authentication, separation) and the accounts to review (stale, external virtual).
#include <fmt/format.h>

#include <ctime>

#include "audit/check_util.hpp"
#include "audit/custom_checks.hpp"
#include "audit/text_lines.hpp"

namespace mw::audit {

namespace {

using detail::ascii_lower;

// "20241016074411Z" / "20241016074411.123Z" (LDAP generalized time, UTC) or
// "2026-11-28T23:55:58Z" (ISO 8601, the manifest): seconds since the epoch.
std::optional<std::int64_t> parse_utc(std::string_view s) {
  std::string digits;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') {
      digits += ch;
    } else if (ch == '.' || ch == 'Z') {
      break;
    } else if (ch != '-' && ch != ':' && ch != 'T') {
      return std::nullopt;
    }
  }
  if (digits.size() < 14) return std::nullopt;
  std::tm tm{};
  auto num = [&](std::size_t at, std::size_t n) { return std::stoi(digits.substr(at, n)); };
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(8, 2);
  tm.tm_min = num(10, 2);
  tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::string day_of(std::string_view generalized) {
  // "20241016074411Z" -> "2024-10-16"
  if (generalized.size() < 8) return std::string(generalized);
  return fmt::format("{}-{}-{}", generalized.substr(0, 4), generalized.substr(4, 2),
                     generalized.substr(6, 2));
}

bool is_true(const ZmprovEntry& e, std::string_view attr) {
  auto v = e.first(attr);
  return v && ascii_lower(*v) == "true";
}

std::int64_t threshold(const Control& c, std::int64_t fallback) {
  auto n = parse_zimbra_integer(c.check.expected);
  return n ? *n : fallback;
}

std::string listed(const std::vector<std::string>& names, std::size_t max = 20) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > max) s += fmt::format(" and {} more", names.size() - max);
  return s;
}

// Days since the account's last logon at `now`, or since its creation when it never logged in
// (nullopt: never logged in and no creation time).
struct Idle {
  std::optional<std::int64_t> days;
  std::string since;  // "last logon 2024-10-16" / "never logged in, created 2024-01-02"
};
Idle idle_days(const ZmprovEntry& e, std::int64_t now) {
  Idle out;
  if (auto last = e.first("zimbraLastLogonTimestamp")) {
    if (auto t = parse_utc(*last)) out.days = (now - *t) / 86400;
    out.since = "last logon " + day_of(*last);
    return out;
  }
  if (auto created = e.first("zimbraCreateTimestamp")) {
    if (auto t = parse_utc(*created)) out.days = (now - *t) / 86400;
    out.since = "never logged in, created " + day_of(*created);
    return out;
  }
  out.since = "never logged in";
  return out;
}

bool active(const ZmprovEntry& e) {
  auto s = e.first("zimbraAccountStatus");
  return !s || *s == "active" || *s == "lockout";
}

// The reference time of "unused for N days": when the snapshot was collected.
std::optional<std::int64_t> reference_time(const Facts& f) {
  if (f.collected_at.empty()) return std::nullopt;
  return parse_utc(f.collected_at);
}

ControlResult admin_unused(const Control& c, const Facts& f) {
  if (f.admins.empty()) return missing_facts(c, f, "admin", "no admin accounts in the snapshot");
  auto now = reference_time(f);
  if (!now) {
    return make_result(c, Status::not_checked,
                       "no collection time to measure from (manifest.json collected_at)");
  }
  const std::int64_t days = threshold(c, 90);
  auto r = make_result(c, Status::pass);
  r.facts.push_back({"collected at", f.collected_at, "manifest.json"});
  for (const auto& a : f.admins) {
    const auto& e = a.entry;
    if (!is_true(e, "zimbraIsAdminAccount") && !is_true(e, "zimbraIsDelegatedAdminAccount")) {
      continue;
    }
    auto idle = idle_days(e, *now);
    r.facts.push_back({fmt::format("admin {}: zimbraLastLogonTimestamp", e.name),
                       std::string(e.first("zimbraLastLogonTimestamp").value_or("(absent)")),
                       fmt::format("{}:{}", a.file, e.line)});
    if (!active(e)) continue;
    if (!idle.days || *idle.days >= days) {
      r.status = Status::fail;
      r.failing.push_back(e.name);
      r.detail +=
          fmt::format("{}{} ({}{})", r.detail.empty() ? "" : "; ", e.name, idle.since,
                      idle.days ? fmt::format(", {} days before the collection", *idle.days) : "");
    }
  }
  if (r.status == Status::fail) {
    r.detail =
        fmt::format("active administrator accounts unused for {} days or more: {}", days, r.detail);
    for (const auto& n : r.failing) r.remediation += render_remediation(c, n);
  }
  return r;
}

ControlResult admin_local_auth(const Control& c, const Facts& f) {
  if (f.admins.empty()) return missing_facts(c, f, "admin", "no admin accounts in the snapshot");
  const std::int64_t min_len = threshold(c, 15);
  const AttrInfo* info = f.attrs ? f.attrs->find("zimbraPasswordMinLength") : nullptr;
  auto r = make_result(c, Status::pass);
  bool any = false;
  for (const auto& a : f.admins) {
    const auto& e = a.entry;
    if (!is_true(e, "zimbraIsAdminAccount")) continue;  // delegated admins do not fall back
    any = true;
    const bool tfa = is_true(e, "zimbraFeatureTwoFactorAuthRequired");
    std::string len_text;
    std::string origin;
    if (auto v = e.first("zimbraPasswordMinLength")) {
      len_text = std::string(*v);
      origin = fmt::format("{}:{}", a.file, e.find("zimbraPasswordMinLength")->line);
    } else if (info && !info->default_cos_value.empty()) {
      len_text = info->default_cos_value.front();
      origin = "default (attrs.tsv)";
    }
    r.facts.push_back({fmt::format("admin {}: zimbraFeatureTwoFactorAuthRequired", e.name),
                       tfa ? "TRUE" : "FALSE", a.file});
    r.facts.push_back({fmt::format("admin {}: zimbraPasswordMinLength", e.name), len_text, origin});
    if (tfa) continue;
    auto len = parse_zimbra_integer(len_text);
    if (!len) {
      return make_result(
          c, Status::not_checked,
          fmt::format("admin {}: zimbraPasswordMinLength: {}", e.name, len.error().message));
    }
    if (*len < min_len) {
      r.status = Status::fail;
      r.failing.push_back(e.name);
      r.detail += fmt::format(
          "{}{}: no second factor required and passwords of {} characters "
          "accepted (a passphrase needs {})",
          r.detail.empty() ? "" : "; ", e.name, *len, min_len);
    }
  }
  if (!any) {
    return make_result(c, Status::not_checked,
                       "no global administrator (zimbraIsAdminAccount TRUE) in the snapshot's "
                       "admin accounts");
  }
  for (const auto& n : r.failing) r.remediation += render_remediation(c, n);
  return r;
}

ControlResult admin_separate(const Control& c, const Facts& f) {
  if (f.admins.empty()) return missing_facts(c, f, "admin", "no admin accounts in the snapshot");
  std::vector<std::string> globals;
  for (const auto& a : f.admins) {
    if (!is_true(a.entry, "zimbraIsAdminAccount")) continue;
    auto last = a.entry.first("zimbraLastLogonTimestamp");
    globals.push_back(fmt::format("{} ({})", a.entry.name,
                                  last ? "last logon " + day_of(*last) : "never logged in"));
  }
  auto r = make_result(
      c, Status::not_checked,
      globals.empty()
          ? "no global administrator in the snapshot's admin accounts"
          : fmt::format("a person must confirm that none of these global administrators is "
                        "someone's daily mailbox: {}",
                        listed(globals)));
  for (const auto& g : globals) r.facts.push_back({"global administrator", g, "admin accounts"});
  return r;
}

// The review listing, filtered: active, not virtual, unused for the catalog's days.
ControlResult stale_accounts(const Control& c, const Facts& f) {
  if (!f.review_accounts) {
    return missing_facts(c, f, "review", "zmprov-sa-review.txt: not in the snapshot");
  }
  auto now = reference_time(f);
  if (!now) {
    return make_result(c, Status::not_checked,
                       "no collection time to measure from (manifest.json collected_at)");
  }
  const std::int64_t days = threshold(c, 90);
  auto r = make_result(c, Status::pass);
  std::vector<std::string> shown;
  for (const auto& a : *f.review_accounts) {
    const auto& e = a.entry;
    if (is_true(e, "zimbraIsExternalVirtualAccount") || is_true(e, "zimbraIsSystemAccount") ||
        !active(e)) {
      continue;
    }
    auto idle = idle_days(e, *now);
    if (idle.days && *idle.days < days) continue;
    r.failing.push_back(e.name);
    shown.push_back(fmt::format("{} ({})", e.name, idle.since));
  }
  r.facts.push_back({"accounts listed for review", std::to_string(f.review_accounts->size()),
                     origin_of(f, "review")});
  if (!r.failing.empty()) {
    r.status = Status::fail;
    r.detail = fmt::format("{} active account(s) unused for {} days or more: {}", r.failing.size(),
                           days, listed(shown));
    std::size_t n = 0;
    for (const auto& name : r.failing) {
      if (n++ == 50) {
        r.remediation +=
            fmt::format("# ... and {} more (see the list above)\n", r.failing.size() - 50);
        break;
      }
      r.remediation += render_remediation(c, name);
    }
  }
  return r;
}

ControlResult external_virtual(const Control& c, const Facts& f) {
  if (!f.review_accounts) {
    return missing_facts(c, f, "review", "zmprov-sa-review.txt: not in the snapshot");
  }
  auto r = make_result(c, Status::pass);
  std::vector<std::string> shown;
  for (const auto& a : *f.review_accounts) {
    if (!is_true(a.entry, "zimbraIsExternalVirtualAccount")) continue;
    r.failing.push_back(a.entry.name);
    auto last = a.entry.first("zimbraLastLogonTimestamp");
    shown.push_back(fmt::format("{} ({})", a.entry.name,
                                last ? "last logon " + day_of(*last) : "never logged in"));
  }
  r.facts.push_back(
      {"external virtual accounts", std::to_string(r.failing.size()), origin_of(f, "review")});
  if (!r.failing.empty()) {
    r.status = Status::fail;
    r.detail = fmt::format("{} external virtual account(s) to review: {}", r.failing.size(),
                           listed(shown));
    for (const auto& name : r.failing) r.remediation += render_remediation(c, name);
  }
  return r;
}

}  // namespace

void add_account_checks(CustomChecks& checks) {
  checks.emplace("admin-unused", admin_unused);
  checks.emplace("admin-local-auth", admin_local_auth);
  checks.emplace("admin-separate", admin_separate);
  checks.emplace("stale-accounts", stale_accounts);
  checks.emplace("external-virtual-accounts", external_virtual);
}

}  // namespace mw::audit
