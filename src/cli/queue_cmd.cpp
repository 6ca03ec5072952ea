// `mailwarden queue summary|hold|release|delete`: the Postfix queue by sender, account, domain
// and age, and selective postsuper actions (dry run unless --yes; delete only from hold).
//
// Exit codes: 0 done (or dry run); 1 a command failed (postqueue, postsuper) or, with --yes,
// some selected messages were refused or failed; 2 bad usage (no selector, bad value).
// --format nagios (summary): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
#include <fmt/format.h>
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/clock.hpp"
#include "queue/accounts.hpp"
#include "queue/actions.hpp"
#include "queue/postqueue_json.hpp"
#include "queue/selection.hpp"
#include "queue/summary.hpp"
#include "queue/tools.hpp"

namespace mw::cli {

namespace {

using json = nlohmann::json;

struct CommonOptions {
  std::string postqueue, postsuper, postcat, config_dir;
  std::vector<std::string> logs;
  std::vector<std::string> mailbox_servers;  // their unauthenticated mail is webmail
  std::string tz = "local";
  unsigned jobs = 4;
  std::string format = "text";
};

struct SummaryOptions {
  CommonOptions common;
  std::string input;  // a saved `postqueue -j` output instead of running postqueue
  bool accounts = false;
  std::size_t top = 10;
  std::vector<std::string> warning, critical;
};

struct ActionCliOptions {
  CommonOptions common;
  queue::Action action = queue::Action::hold;
  std::vector<std::string> senders, sasl_users, queue_ids, to_domains, queues;
  std::string older_than;
  bool yes = false, no_hold_first = false, no_postcat = false, no_syslog = false;
  std::size_t show = 20, batch = 1000;
};

struct UsageError {
  std::string message;
};

queue::PostfixPaths paths_of(const CommonOptions& o) {
  queue::PostfixPaths p;
  p.postqueue = o.postqueue.empty() ? queue::default_tool_path("postqueue") : o.postqueue;
  p.postsuper = o.postsuper.empty() ? queue::default_tool_path("postsuper") : o.postsuper;
  p.postcat = o.postcat.empty() ? queue::default_tool_path("postcat") : o.postcat;
  p.config_dir = o.config_dir;
  return p;
}

std::unique_ptr<queue::LogAttribution> read_logs(const CommonOptions& o) {
  if (o.logs.empty()) return nullptr;
  logs::ReadOptions ro;
  ro.time_zone = o.tz;
  std::vector<Prefix> servers;
  for (const auto& s : o.mailbox_servers) {
    auto p = parse_prefix(s);
    if (!p) throw UsageError{"--mailbox-server: " + p.error().message};
    servers.push_back(*p);
  }
  auto la = std::make_unique<queue::LogAttribution>(
      queue::attribute_from_logs(o.logs, ro, std::move(servers)));
  for (const auto& e : la->errors) fmt::print(stderr, "mailwarden queue: --logs: {}\n", e);
  return la;
}

std::string human_bytes(std::uint64_t b) {
  if (b < 1000) return fmt::format("{} B", b);
  if (b < 1000000) return fmt::format("{:.1f} kB", static_cast<double>(b) / 1e3);
  if (b < 1000000000) return fmt::format("{:.1f} MB", static_cast<double>(b) / 1e6);
  return fmt::format("{:.1f} GB", static_cast<double>(b) / 1e9);
}

std::string human_age(std::int64_t s) {
  if (s < 120) return fmt::format("{}s", s);
  if (s < 7200) return fmt::format("{}m", s / 60);
  if (s < 172800) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

void warn_bad_lines(const queue::QueueListing& l) {
  if (l.bad_line_count == 0) return;
  fmt::print(stderr,
             "mailwarden queue: {} line(s) of postqueue -j could not be read; the figures "
             "miss those messages\n",
             l.bad_line_count);
  for (const auto& b : l.bad_lines) fmt::print(stderr, "  {}\n", b.message);
}

json tallies_json(const std::vector<queue::Tally>& v) {
  json a = json::array();
  for (const auto& t : v)
    a.push_back({{"key", t.key}, {"messages", t.messages}, {"bytes", t.bytes}});
  return a;
}

std::string summary_text(const queue::QueueSummary& s, const queue::QueueListing& l) {
  std::string out;
  auto line = [&](const std::string& t) { out += t + "\n"; };
  line(fmt::format("Queue: {} message(s), {}, {} recipient(s); oldest {} ({})", s.messages,
                   human_bytes(s.bytes), s.recipients, human_age(s.oldest_age),
                   s.oldest_id.empty() ? "-" : s.oldest_id));
  if (l.bad_line_count > 0)
    line(
        fmt::format("WARNING: {} unreadable line(s) of postqueue -j: not counted below (first: {})",
                    l.bad_line_count, l.first_error()));
  line("\nBy status:");
  for (const auto& q : s.by_queue)
    if (q.messages > 0 || (q.key != "other" && q.key != "corrupt"))
      line(fmt::format("  {:<10} {:>8}  {:>10}", q.key, q.messages, human_bytes(q.bytes)));
  line("\nBy age:");
  for (const auto& b : s.by_age)
    line(fmt::format("  {:<10} {:>8}  {:>10}", b.label, b.messages, human_bytes(b.bytes)));
  auto table = [&](std::string_view title, const std::vector<queue::Tally>& v, std::size_t distinct,
                   bool bytes) {
    line(fmt::format("\nBy {} (top {} of {}):", title, v.size(), distinct));
    for (const auto& t : v)
      line(bytes ? fmt::format("  {:>8}  {:>10}  {}", t.messages, human_bytes(t.bytes), t.key)
                 : fmt::format("  {:>8}  {}", t.messages, t.key));
  };
  table("sender", s.by_sender, s.senders, true);
  if (s.accounts_resolved) {
    table("submitting account", s.by_account, s.accounts, true);
    line(fmt::format(
        "  account known for {} message(s) ({} from the queue file, {} from the logs, {} "
        "webmail by sender), unknown for {}",
        s.account_known, s.account_from_queue_file, s.account_from_logs, s.account_from_webmail,
        s.account_unknown));
  }
  table("recipient domain (recipients)", s.by_domain, s.domains, false);
  return out;
}

json summary_json(const queue::QueueSummary& s, const queue::QueueListing& l) {
  json j;
  j["messages"] = s.messages;
  j["bytes"] = s.bytes;
  j["recipients"] = s.recipients;
  j["oldest_age_seconds"] = s.oldest_age;
  j["oldest_queue_id"] = s.oldest_id;
  json q = json::object();
  for (const auto& t : s.by_queue) q[t.key] = {{"messages", t.messages}, {"bytes", t.bytes}};
  j["by_status"] = q;
  json ages = json::array();
  for (const auto& b : s.by_age)
    ages.push_back({{"bucket", b.label}, {"messages", b.messages}, {"bytes", b.bytes}});
  j["by_age"] = ages;
  j["by_sender"] = tallies_json(s.by_sender);
  j["senders"] = s.senders;
  j["by_domain"] = tallies_json(s.by_domain);
  j["domains"] = s.domains;
  if (s.accounts_resolved) {
    j["by_account"] = tallies_json(s.by_account);
    j["accounts"] = {
        {"distinct", s.accounts},           {"known", s.account_known},
        {"unknown", s.account_unknown},     {"from_queue_file", s.account_from_queue_file},
        {"from_logs", s.account_from_logs}, {"from_webmail", s.account_from_webmail}};
  }
  json bad = json::array();
  for (const auto& b : l.bad_lines) bad.push_back({{"line", b.line}, {"error", b.message}});
  j["bad_lines"] = {{"count", l.bad_line_count}, {"first", bad}};
  return j;
}

int run_summary(const SummaryOptions& o) {
  const bool nagios = o.common.format == "nagios";
  const int fail = nagios ? 3 : kExitFailure;
  const int invalid = nagios ? 3 : kExitInvalid;
  std::vector<queue::Threshold> warning, critical;
  for (const auto& [list, out] :
       {std::pair{&o.warning, &warning}, std::pair{&o.critical, &critical}})
    for (const auto& t : *list) {
      auto p = queue::parse_threshold(t);
      if (!p) {
        fmt::print(nagios ? stdout : stderr, "{}mailwarden queue summary: {}\n",
                   nagios ? "QUEUE UNKNOWN - " : "", p.error().message);
        return invalid;
      }
      out->push_back(*p);
    }
  queue::PostfixTools tools(paths_of(o.common));
  std::string text;
  if (!o.input.empty()) {
    std::ifstream in(o.input, std::ios::binary);
    if (!in) {
      fmt::print(nagios ? stdout : stderr, "{}mailwarden queue summary: {}: cannot read\n",
                 nagios ? "QUEUE UNKNOWN - " : "", o.input);
      return fail;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else {
    auto listed = tools.list_queue();
    if (!listed) {
      fmt::print(nagios ? stdout : stderr, "{}mailwarden queue summary: {}\n",
                 nagios ? "QUEUE UNKNOWN - " : "", listed.error().message);
      return fail;
    }
    text = std::move(*listed);
  }
  const auto listing =
      queue::parse_postqueue_json(text, o.input.empty() ? "postqueue -j" : o.input);
  SystemClock clock;
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  std::unique_ptr<queue::LogAttribution> logs;
  try {
    logs = read_logs(o.common);
  } catch (const UsageError& e) {
    fmt::print(nagios ? stdout : stderr, "{}mailwarden queue summary: {}\n",
               nagios ? "QUEUE UNKNOWN - " : "", e.message);
    return invalid;
  }
  std::unique_ptr<queue::AccountLookup> lookup;
  if (o.accounts || logs) {
    std::vector<const queue::QueuedMessage*> all;
    for (const auto& m : listing.messages) all.push_back(&m);
    lookup = std::make_unique<queue::AccountLookup>(queue::lookup_accounts(
        tools, all, logs ? &logs->chain : nullptr, o.accounts, o.common.jobs));
    if (lookup->postcat_failures > 0)
      fmt::print(stderr, "mailwarden queue: postcat failed for {} message(s) (first: {})\n",
                 lookup->postcat_failures, lookup->first_error);
  }
  const auto s = queue::summarize(listing, lookup ? &lookup->accounts : nullptr, now, o.top);
  if (nagios) {
    auto v = queue::evaluate(s, warning, critical);
    // Unreadable lines: messages may be missing from the figures; never a quiet OK.
    if (listing.bad_line_count > 0) {
      v.state = std::max(v.state, 1);
      v.reasons.push_back(
          fmt::format("{} unreadable postqueue -j line(s)", listing.bad_line_count));
    }
    static constexpr const char* kState[] = {"OK", "WARNING", "CRITICAL"};
    std::string reasons;
    for (const auto& r : v.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    auto thr = [&](const std::vector<queue::Threshold>& l, queue::Threshold::Kind k) {
      for (const auto& t : l)
        if (t.kind == k) return std::to_string(t.value);
      return std::string();
    };
    using K = queue::Threshold;
    fmt::print(
        "QUEUE {} - {} messages, {}, oldest {}{}{} | messages={};{};{};0; size={}B;{};{};0; "
        "oldest={}s;{};{};0; deferred={};;;0; hold={};;;0;\n",
        kState[v.state], s.messages, human_bytes(s.bytes), human_age(s.oldest_age),
        reasons.empty() ? "" : ": ", reasons, s.messages, thr(warning, K::messages),
        thr(critical, K::messages), s.bytes, thr(warning, K::bytes), thr(critical, K::bytes),
        s.oldest_age, thr(warning, K::age), thr(critical, K::age),
        s.by_queue[static_cast<std::size_t>(queue::QueueName::deferred)].messages,
        s.by_queue[static_cast<std::size_t>(queue::QueueName::hold)].messages);
    return v.state;
  }
  warn_bad_lines(listing);
  if (o.common.format == "json")
    fmt::print("{}\n", summary_json(s, listing).dump(2));
  else
    fmt::print("{}", summary_text(s, listing));
  return kExitOk;
}

queue::Selector selector_of(const ActionCliOptions& o) {
  queue::Selector s;
  for (const auto& v : o.senders) s.senders.push_back(v == "<>" ? std::string() : v);
  s.sasl_users = o.sasl_users;
  s.queue_ids = o.queue_ids;
  s.to_domains = o.to_domains;
  for (const auto& q : o.queues) {
    auto n = queue::parse_queue_name(q);
    if (!n) throw UsageError{"--queue: " + n.error().message};
    s.queues.push_back(*n);
  }
  if (!o.older_than.empty()) {
    auto d = queue::parse_duration(o.older_than);
    if (!d) throw UsageError{"--older-than: " + d.error().message};
    s.older_than = *d;
  }
  if (auto st = queue::validate(s); !st) throw UsageError{st.error().message};
  return s;
}

json planned_json(const queue::PlannedMessage& p) {
  return {{"queue_id", p.queue_id},
          {"queue", p.queue_name},
          {"sender", p.sender},
          {"arrival_time", p.arrival_time},
          {"size", p.size}};
}

int run_action(const ActionCliOptions& o) {
  const std::string verb(queue::name_of(o.action));
  queue::Selector sel;
  try {
    sel = selector_of(o);
  } catch (const UsageError& e) {
    fmt::print(stderr, "mailwarden queue {}: {}\n", verb, e.message);
    return kExitInvalid;
  }
  const bool to_syslog = !o.no_syslog;
  if (to_syslog) ::openlog("mailwarden", LOG_PID, LOG_MAIL);
  auto log = [&](const std::string& line) {
    fmt::print(stderr, "mailwarden: {}\n", line);
    if (to_syslog) ::syslog(LOG_NOTICE, "%s", line.c_str());
  };
  queue::PostfixTools tools(paths_of(o.common));
  auto listed = tools.list_queue();
  if (!listed) {
    fmt::print(stderr, "mailwarden queue {}: {}\n", verb, listed.error().message);
    return kExitFailure;
  }
  const auto listing = queue::parse_postqueue_json(*listed);
  warn_bad_lines(listing);
  std::unique_ptr<queue::LogAttribution> logs;
  try {
    logs = read_logs(o.common);
  } catch (const UsageError& e) {
    fmt::print(stderr, "mailwarden queue {}: {}\n", verb, e.message);
    return kExitInvalid;
  }
  SystemClock clock;
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  const auto selection = queue::select(listing, sel, now, tools, logs ? &logs->chain : nullptr,
                                       !o.no_postcat, o.common.jobs);
  if (selection.unknown_account > 0)
    fmt::print(stderr,
               "mailwarden queue {}: {} message(s) matching the other selectors have no "
               "known account and are not selected{}\n",
               verb, selection.unknown_account,
               selection.lookup.postcat_failures > 0
                   ? fmt::format(" (postcat failed {} time(s): {})",
                                 selection.lookup.postcat_failures, selection.lookup.first_error)
                   : std::string());
  queue::ActionOptions ao;
  ao.action = o.action;
  ao.no_hold_first = o.no_hold_first;
  ao.batch_size = o.batch;
  const auto plan = queue::plan_action(listing, selection.indices, ao);

  queue::ActionOutcome outcome;
  if (o.yes && !plan.act.empty()) {
    log(fmt::format("queue {} --yes ({}) by uid {}: {} message(s), {} bytes", verb, sel.describe(),
                    ::getuid(), plan.act.size(), plan.bytes));
    outcome = queue::execute(plan, tools, ao, log);
  }

  if (o.common.format == "json") {
    json j;
    j["action"] = verb;
    j["dry_run"] = !o.yes;
    j["selectors"] = sel.describe();
    j["selected"] = selection.indices.size();
    j["unknown_account"] = selection.unknown_account;
    j["act"] = {{"messages", plan.act.size()}, {"bytes", plan.bytes}};
    json ids = json::array();
    for (const auto& p : plan.act) ids.push_back(planned_json(p));
    j["messages"] = ids;
    for (const auto& [name, list] :
         {std::pair{"refused", &plan.refused}, std::pair{"skipped", &plan.skipped}}) {
      json a = json::array();
      for (const auto& r : *list) {
        auto pj = planned_json(r.message);
        pj["reason"] = r.reason;
        a.push_back(pj);
      }
      j[name] = a;
    }
    if (o.yes)
      j["outcome"] = {{"batches", outcome.batches},
                      {"batches_failed", outcome.batches_failed},
                      {"requested", outcome.requested},
                      {"affected", outcome.affected},
                      {"changed_since_selection", outcome.changed_since},
                      {"errors", outcome.errors}};
    j["bad_lines"] = listing.bad_line_count;
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}{}: {} message(s) selected by {}\n", o.yes ? "" : "DRY RUN: ", verb,
               selection.indices.size(), sel.describe());
    fmt::print("  would {}: {} message(s), {}\n", verb, plan.act.size(), human_bytes(plan.bytes));
    for (std::size_t i = 0; i < plan.act.size() && i < o.show; ++i) {
      const auto& p = plan.act[i];
      fmt::print("    {:<16} {:<9} {:>10}  {}\n", p.queue_id, p.queue_name, human_bytes(p.size),
                 p.sender.empty() ? "<>" : p.sender);
    }
    if (plan.act.size() > o.show) fmt::print("    ... and {} more\n", plan.act.size() - o.show);
    if (!plan.refused.empty()) {
      fmt::print("  REFUSED: {} message(s): {}\n", plan.refused.size(),
                 plan.refused.front().reason);
      if (o.action == queue::Action::remove)
        fmt::print(
            "    the safe flow: mailwarden queue hold {} --yes; review with `mailwarden queue "
            "summary`; then delete\n",
            sel.describe());
    }
    if (!plan.skipped.empty())
      fmt::print("  skipped: {} message(s) ({})\n", plan.skipped.size(),
                 plan.skipped.front().reason);
    if (!o.yes)
      fmt::print("  nothing done: add --yes to {}\n", verb);
    else
      fmt::print(
          "  done: postsuper reports {} of {} message(s) in {} batch(es){}{}\n", outcome.affected,
          outcome.requested, outcome.batches,
          outcome.changed_since > 0
              ? fmt::format("; {} changed since selection and left alone", outcome.changed_since)
              : std::string(),
          outcome.errors.empty() ? "" : fmt::format("; {} error(s)", outcome.errors.size()));
  }
  for (const auto& e : outcome.errors) fmt::print(stderr, "mailwarden queue {}: {}\n", verb, e);
  if (to_syslog) ::closelog();
  if (!outcome.ok()) return kExitFailure;
  if (o.yes && !plan.refused.empty()) return kExitFailure;
  return kExitOk;
}

void add_common(CLI::App* cmd, CommonOptions& c, bool nagios) {
  cmd->add_option(
      "--postqueue", c.postqueue,
      "postqueue program (default: /opt/zimbra/common/sbin/postqueue if present, else PATH)");
  cmd->add_option("--postsuper", c.postsuper, "postsuper program (same default)");
  cmd->add_option("--postcat", c.postcat, "postcat program (same default)");
  cmd->add_option("--config-dir", c.config_dir, "Postfix configuration directory (postqueue -c)");
  cmd->add_option("--logs", c.logs,
                  "mail logs to attribute messages to accounts by following 'queued as'")
      ->check(CLI::ExistingFile);
  cmd->add_option("--mailbox-server", c.mailbox_servers,
                  "a mailbox server's address or CIDR: mail it submits without SASL is webmail, "
                  "the envelope sender's (default loopback; with --logs)")
      ->allow_extra_args(false);
  cmd->add_option("--tz", c.tz, "time zone of the logs' timestamps (default: local)");
  cmd->add_option("--jobs", c.jobs, "postcat runs at a time")->check(CLI::Range(1, 64));
  cmd->add_option("--format", c.format, "output format")
      ->check(CLI::IsMember(nagios ? std::vector<std::string>{"text", "json", "nagios"}
                                   : std::vector<std::string>{"text", "json"}));
}

}  // namespace

void register_queue(CLI::App& app, int& exit_code) {
  auto* q = app.add_subcommand("queue",
                               "The Postfix queue: summary, and selective hold / release / "
                               "delete (dry run unless --yes)");
  q->require_subcommand(1);

  auto so = std::make_shared<SummaryOptions>();
  auto* summary =
      q->add_subcommand("summary", "The queue by status, sender, account, domain and age");
  add_common(summary, so->common, true);
  summary->add_option("--input", so->input, "read a saved `postqueue -j` output instead")
      ->check(CLI::ExistingFile);
  summary->add_flag("--accounts", so->accounts,
                    "read each message's submitting account from its queue file (postcat)");
  summary->add_option("--top", so->top, "rows per table")->check(CLI::Range(1, 100000));
  summary->add_option("--warning", so->warning,
                      "nagios: WARNING at N messages, a size (450MB) or an age (6h); repeatable");
  summary->add_option("--critical", so->critical, "nagios: CRITICAL thresholds, as --warning");
  summary->callback([so, &exit_code] { exit_code = run_summary(*so); });

  struct Verb {
    const char* name;
    queue::Action action;
    const char* help;
  };
  for (const Verb& v :
       {Verb{"hold", queue::Action::hold, "Put the selected messages on hold (postsuper -h)"},
        Verb{"release", queue::Action::release,
             "Release the selected held messages (postsuper -H)"},
        Verb{"delete", queue::Action::remove,
             "Delete the selected messages, from the hold queue only (postsuper -d)"}}) {
    auto ao = std::make_shared<ActionCliOptions>();
    ao->action = v.action;
    auto* cmd = q->add_subcommand(v.name, v.help);
    add_common(cmd, ao->common, false);
    cmd->add_option("--sender", ao->senders,
                    "envelope sender (\"<>\" for the null sender); repeatable");
    cmd->add_option("--sasl-user", ao->sasl_users, "submitting SASL account; repeatable");
    cmd->add_option("--queue-id", ao->queue_ids, "queue id; repeatable");
    cmd->add_option("--older-than", ao->older_than, "arrived longer ago than this (30m, 6h, 2d)");
    cmd->add_option("--to-domain", ao->to_domains, "some recipient in this domain; repeatable");
    cmd->add_option("--queue", ao->queues,
                    "in this queue (deferred, active, hold, incoming, maildrop)");
    cmd->add_flag("--yes", ao->yes, "act (default: dry run)");
    if (v.action == queue::Action::remove)
      cmd->add_flag("--no-hold-first", ao->no_hold_first,
                    "also delete selected messages that are not on hold");
    cmd->add_flag("--no-postcat", ao->no_postcat, "--sasl-user: use the logs only");
    cmd->add_flag("--no-syslog", ao->no_syslog, "log actions to stderr only");
    cmd->add_option("--show", ao->show, "queue ids listed in the output");
    cmd->add_option("--batch", ao->batch, "queue ids per postsuper run")
        ->check(CLI::Range(1, 100000));
    cmd->callback([ao, &exit_code] { exit_code = run_action(*ao); });
  }
}

}  // namespace mw::cli
