// Collects a snapshot on a live host: runs the read-only commands of the snapshot contract
// (snapshot.hpp), each with its own timeout and a few at a time, redacts every output and writes
// it, mode 0600, into a fresh directory with a manifest.json.
//
// How the CLI calls it (`mailwarden audit --collect [--out DIR]`):
//
//   audit::CollectOptions o;
//   o.out_dir = out;                                // empty: ./mailwarden-snapshot-HOST-STAMP
//   o.rules = audit::RedactionRules{&attrs, &keys};  // the tables run_audit already loads
//   o.tool_version = "0.1.0";
//   auto r = audit::collect_snapshot(o);            // real commands (run_command)
//   if (!r) -> print r.error().message, exit 4
//   else    -> print r->dir, one line per r->manifest.files entry that is not "ok"
//   then, for a live audit, audit r->dir through load_snapshot like any saved snapshot.
//
// Must run as root for sshd -T, ss -p, iptables-save, nft and fail2ban-client, and so that
// runuser can switch to the zimbra user; as another user those commands are recorded as failed.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/redact.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/subprocess.hpp"

namespace mw::audit {

inline constexpr std::string_view kSnapshotSchema = "mailwarden-snapshot/1";

// Runs one command (argv[0] an absolute path) with a timeout. An Error only when it could not
// be started; its message contains "not found" or "No such file" when the program is absent.
using Runner = std::function<Result<CommandOutput>(const std::vector<std::string>& argv,
                                                   std::chrono::milliseconds timeout)>;
// run_command without stdin, output bounded per stream.
Runner default_runner();

// Who runs a command: whoever runs mailwarden (root), or the zimbra user.
enum class RunAs { invoker, zimbra };

// What one row of the table collects.
enum class CollectKind {
  command,    // run `argv`, its stdout is `file`
  per_value,  // `argv` once per value read from the output of `values_from` ("{}" = the value),
              // outputs concatenated into `file` (after `argv` itself when `run_first`)
  copy_file,  // copy `source` (under CollectOptions::root) to `file`
  copy_dir,   // copy every regular file of the directory `source` into the directory `file`
};

// How values are read from the output named by `values_from`; each is validated before it is
// ever passed on as an argument, and a value that fails is refused (named in the manifest).
enum class ValueSource {
  none,
  host_names,      // one host name per line (zmhostname, zmprov gad)
  fail2ban_jails,  // the "Jail list:" of fail2ban-client status
  sshd_match,      // not from an output: one sshd -T -C spec per Match block of the host's
                   // sshd_config (sshd_match_specs); each output is headed "# sshd -T -C SPEC"
};

struct CollectItem {
  std::string file;  // snapshot file (or directory for copy_dir), contract names
  CollectKind kind = CollectKind::command;
  std::vector<std::string> argv;  // argv[0]: an absolute path, or a program name looked for in
                                  // the system directories (/usr/local/sbin ... /bin)
  RunAs run_as = RunAs::invoker;
  std::chrono::milliseconds timeout{5000};
  std::vector<int> ok_exit_codes = {0};  // zmcontrol -v exits 1 after printing the version
  std::string values_from;               // per_value: the file whose command gives the values
  ValueSource values = ValueSource::none;
  bool run_first = false;     // per_value: run argv without a value first (fail2ban status)
  std::string fallback_for;   // run only when this file's command is not available (rpm -qa)
  std::string requires_path;  // not available unless this path exists (zimbra's crontab)
  std::string source;         // copy_file / copy_dir: absolute path on the host
  std::string name_suffix;    // copy_dir: only files ending so (".conf" for sshd_config.d)
};

// The command table, in manifest order. Zimbra's programs are named by absolute path
// (/opt/zimbra/bin, /opt/zimbra/common/sbin); they run as zimbra through zimbra_argv().
const std::vector<CollectItem>& collect_table();

// The argv that runs `argv` as the zimbra user from its login environment (see collect.cpp for
// why a login shell, and why no untrusted text reaches the shell): `runuser` is the path of
// runuser(1).
std::vector<std::string> zimbra_argv(const std::string& runuser,
                                     const std::vector<std::string>& argv);

// True for a DNS host name (letters, digits, hyphens; labels of 1-63, not starting or ending
// with a hyphen; at most 253 characters): the only domain and server names passed as arguments.
bool is_host_name(std::string_view s);

// A Zimbra account name passed as an argument in the account mode: local@domain, the local part
// of [A-Za-z0-9._%+=-] (not starting with '-' or '.'), the domain a host name (is_host_name).
bool is_account_name(std::string_view s);

// The account mode (CollectOptions::account): the account-level commands (zmprov -l ga / gds /
// getGrants -t account, zmmailbox getFilterRules / getOutgoingFilterRules, zmprov gas mailbox)
// plus the rows of collect_table() the incident report needs (global config, COS, domains,
// servers, postconf, localconfig). "{account}" in argv is the account.
//
//   zmprov-ga-account.txt                 zmprov -l ga ACCOUNT
//   zmprov-gds-account.txt                zmprov -l gds ACCOUNT
//   zmprov-getGrants-account.txt          zmprov -l getGrants -t account ACCOUNT
//   zmmailbox-getFilterRules.txt          zmmailbox -z -m ACCOUNT getFilterRules
//   zmmailbox-getOutgoingFilterRules.txt  zmmailbox -z -m ACCOUNT getOutgoingFilterRules
//   zmprov-gas-mailbox.txt                zmprov -l gas mailbox
const std::vector<CollectItem>& account_collect_table();

struct ManifestEntry;

struct CollectOptions {
  std::filesystem::path out_dir;  // empty: mailwarden-snapshot-<host>-<YYYYmmdd-HHMMSS> in cwd
  // The host's file system: raw files are read and programs looked for under it. "/" on a real
  // host; unit tests point it at a fake tree.
  std::filesystem::path root = "/";
  RedactionRules rules;  // without tables, only the name rules of redact.hpp apply
  // Non-empty: the account mode (account_collect_table()); checked by is_account_name. The
  // default directory is then mailwarden-incident-<account>-<YYYYmmdd-HHMMSS>.
  std::string account;
  std::string tool_version;      // "" -> "dev"
  std::string host;              // "" -> gethostname()
  unsigned parallelism = 4;      // commands in flight at once
  const Clock* clock = nullptr;  // collected_at and the default directory name; nullptr: system
  // Called once per manifest entry as it completes (from the collecting threads, one call at a
  // time): progress on a terminal.
  std::function<void(const ManifestEntry&)> on_entry;
};

struct ManifestEntry {
  std::string file;     // relative to the snapshot directory ("etc/ssh/sshd_config")
  std::string command;  // for display: "zmprov -l gacf", "copy of /etc/ssh/sshd_config"
  std::string run_as;   // "zimbra", or "" for the invoking user
  std::string status;   // ok | not_available | failed | timed_out
  std::optional<int> exit_code;
  long long duration_ms = 0;
  std::size_t redacted = 0;  // values redacted
  std::string stderr_head;   // first lines of stderr (redacted) when not ok
  std::string note;          // why not available, refused values, ...
};

struct Manifest {
  std::string schema;  // kSnapshotSchema
  std::string tool;    // "mailwarden 0.1.0" / "mailwarden dev"
  std::string host;
  std::string collected_at;  // ISO-8601 UTC: 2026-11-28T23:55:58Z
  std::vector<ManifestEntry> files;
};

struct CollectResult {
  std::filesystem::path dir;
  Manifest manifest;
};

// Collects into a new directory (created 0700; an existing one must be empty). An Error only
// when the directory or a file cannot be written; commands that fail are manifest entries.
Result<CollectResult> collect_snapshot(const CollectOptions& options,
                                       const Runner& runner = default_runner());

std::string manifest_to_json(const Manifest& manifest);
// manifest.json of `dir`: nullopt when there is none (a snapshot without manifest is accepted);
// an Error naming the file when it is damaged.
Result<std::optional<Manifest>> read_manifest(const std::filesystem::path& dir);

}  // namespace mw::audit
