// Parsers of the host files that decide how long logs live and where they go: the zimbra
// user's crontab (its `find ... -mtime +N -exec rm` pruning lines), logrotate's configuration
// (logrotate.conf and logrotate.d/*) and rsyslog's (forwarding actions). Pure functions of the
// text; positions are "file:line:column" as written on the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

// One configuration file as it is on the host: "/etc/logrotate.d/zimbra" and its text.
struct HostFile {
  std::string path;
  std::string_view text;
};

// --- crontab -------------------------------------------------------------------------------

// A crontab line that runs `find` with a delete action (-delete, -exec/-execdir/-ok rm, or
// `| xargs rm`): what it deletes and from what age on.
struct CronDeletion {
  std::size_t line = 0;
  std::string schedule;                // "30 2 * * *", "@daily"
  std::string command;                 // the command as written
  std::vector<std::string> dirs;       // find's starting points, quotes removed
  std::vector<std::string> names;      // -name / -iname patterns, quotes and escapes removed
  std::vector<std::string> not_names;  // patterns after `!` / `-not`
  std::optional<int> maxdepth;         // -maxdepth N
  std::string age_test;                // "-mtime +8" as given; "" without an age test
  // Whole days a matching file survives: `-mtime +N` deletes files N+1 days old (find drops the
  // fraction of the age before comparing), so N+1; `-mmin +M` M/1440 rounded down; no age test,
  // `-mtime -N` or an OR of tests whose age we cannot bound: 0.
  long kept_days = 0;
};

struct Crontab {
  std::size_t entries = 0;              // job lines (not comments or variable settings)
  std::vector<CronDeletion> deletions;  // in file order
};

// `crontab -l` output: comments, blank lines and NAME=value lines are skipped; a job line is
// five time fields (digits, * , - /, month and day names) or an @keyword, then the command.
// The command is split as a shell would (quotes, backslashes, ; | && > as separators); a `%`
// not escaped ends the command (cron feeds the rest to stdin). Errors: a line that is not a job
// ("no crontab for zimbra"), an unknown @keyword, an unterminated quote, a find age test whose
// argument is not a number.
Result<Crontab> parse_crontab(std::string_view text, std::string_view source);

// True when the deletion reaches a file at `path` (an absolute path): under one of its dirs,
// within -maxdepth, its name matching one of `names` (all names when none is given) and none of
// `not_names`. Patterns are shell globs (fnmatch).
bool deletion_reaches(const CronDeletion& d, std::string_view path);

// --- logrotate ------------------------------------------------------------------------------

enum class RotateEvery : std::uint8_t { unset, hourly, daily, weekly, monthly, yearly, size };
std::string_view rotate_every_name(RotateEvery e);  // "daily", ...; "size", "unset"
// Hours between rotations for a period (months 30 days, years 365); size and unset: 24, at
// most one rotation a day (logrotate runs daily).
long rotate_every_hours(RotateEvery e);

// The options that decide how long rotated copies live, each with where it was set
// ("/etc/logrotate.conf:9"); an empty `_at` means logrotate's built-in default.
struct LogrotateOptions {
  long rotate = 0;  // logrotate keeps no rotated copy unless told; -1 keeps them all
  std::string rotate_at;
  RotateEvery every = RotateEvery::unset;  // the last of daily/weekly/.../size wins
  std::string every_at;
  std::string size;     // the argument of `size` when every == size
  std::string maxsize;  // `maxsize S`: also rotated (at most daily) when bigger than S
  std::string maxsize_at;
  std::optional<long> maxage;  // rotated copies older than N days are removed
  std::string maxage_at;
  std::string olddir;  // rotated copies go there ("" = beside the log)
  std::string olddir_at;
  bool compress = false;
  bool dateext = false;
};

// A `paths { ... }` block with the options in force for it: the global ones at the point
// where it starts, then its own.
struct LogrotateStanza {
  std::vector<std::string> paths;  // as written, quotes removed (may be globs)
  std::string file;                // "/etc/logrotate.d/zimbra"
  std::size_t line = 0;            // of the opening '{'
  std::size_t rotate_line = 0;     // of the stanza's own `rotate`, 0 when inherited
  std::size_t maxage_line = 0;     // of the stanza's own `maxage`, 0 when none
  LogrotateOptions options;
};

struct LogrotateConfig {
  std::vector<LogrotateStanza> stanzas;  // in the order logrotate reads them
  // Errors that made a file unreadable ("file:line:col: ..."); that file's stanzas are left out.
  std::vector<std::string> errors;
  // What was assumed: includes not in the snapshot, files no include names.
  std::vector<std::string> notes;
};

// The main file ("/etc/logrotate.conf", if among `files`) is read first; its `include` lines
// pull in the named file or every file of the named directory (sorted, without logrotate's
// taboo extensions such as .dpkg-old, ~ and .rpmsave) at that point, so the global options set
// before the include apply to them and those set in an included file carry on to the next,
// as logrotate does. Files that no include reaches are read afterwards with the final global
// options (noted). At most kLogrotateMaxDepth nested includes; each file is read once.
LogrotateConfig parse_logrotate(const std::vector<HostFile>& files);
inline constexpr int kLogrotateMaxDepth = 8;

// How long a stanza keeps rotated copies, as a lower bound in whole days.
struct LogRetention {
  std::optional<long> days;  // nullopt: kept until someone deletes them (rotate -1, no maxage)
  std::string how;           // "rotate 4 (/etc/logrotate.conf:9) x daily (...:2) = 4 days"
};
// rotate x period (hourly 1/24, daily 1, weekly 7, monthly 30, yearly 365 days; size, maxsize
// or no period: one rotation a day at most, as logrotate runs daily), capped by maxage.
LogRetention logrotate_retention(const LogrotateOptions& o);
// Where the rotated copies of `log` land and a typical name of one ("/var/log/x.log.1.gz"),
// for matching against a crontab's find.
std::string rotated_copy_path(const LogrotateStanza& s, const std::string& log);

// --- rsyslog --------------------------------------------------------------------------------

// A forwarding action: legacy `@host`, `@@host:port`, `:omrelp:host:port`, or
// `action(type="omfwd"|"omrelp" target=... port=... protocol=...)`.
struct SyslogForward {
  std::string file;
  std::size_t line = 0;
  std::string selector;  // "*.*", "mail.*", "&" (the previous selector), or the text before
                         // action( on its line ("" when none)
  std::string protocol;  // "udp", "tcp" or "relp"
  std::string target;    // host name or address (no brackets)
  std::string port;      // "" = the default (514)
  std::string written;   // the action as written, on one line
};

struct RsyslogConfig {
  std::vector<SyslogForward> forwards;
  std::vector<std::string> errors;  // "file:line:col: ..."; the rest of that file is skipped
};

// Comments (# to the end of a line, /* */) are skipped, and so are legacy $Directives.
// RainerScript objects (`name(...)`, possibly over several lines) are read whole; action()
// objects of type omfwd and omrelp are forwards. Outside objects, an unquoted word starting with
// @ or :omrelp: is a legacy forwarding action. Errors: unterminated quote, comment or object,
// a forward without a host, a port that is not a number.
RsyslogConfig parse_rsyslog(const std::vector<HostFile>& files);

}  // namespace mw::audit
