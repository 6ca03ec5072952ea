// Parsers of the zimbra crontab, logrotate's configuration and rsyslog's forwarding actions.
#include "audit/host_logs.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "audit/text_lines.hpp"

namespace mw::audit {

namespace {

using detail::error_at;
using detail::split_lines;
using detail::trim;

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal integer with an optional sign, the whole text; bounded so that products stay small.
std::optional<long> parse_long(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 9 || !detail::all_digits(s)) return std::nullopt;
  long v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return neg ? -v : v;
}

std::string_view basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string strip_trailing_slashes(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return std::string(p);
}

// --- crontab ---------------------------------------------------------------------------------

// A shell word or operator of a crontab command.
struct Word {
  std::string text;
  bool op = false;      // ; | & < > ( ) outside quotes
  std::size_t col = 0;  // 1-based, in the crontab line
};

// Splits a command as sh would, well enough to find `find` and its arguments.
Result<std::vector<Word>> shell_words(std::string_view cmd, std::size_t col0, std::string_view src,
                                      std::size_t line) {
  std::vector<Word> out;
  Word cur;
  bool in_word = false;
  auto flush = [&] {
    if (in_word) out.push_back(std::move(cur));
    cur = Word{};
    in_word = false;
  };
  auto start = [&](std::size_t i) {
    if (!in_word) {
      in_word = true;
      cur.col = col0 + i;
    }
  };
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    const char c = cmd[i];
    if (c == ' ' || c == '\t') {
      flush();
    } else if (c == '\'') {
      start(i);
      auto end = cmd.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return error_at(src, line, col0 + i, "unterminated ' quote");
      }
      cur.text.append(cmd.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      start(i);
      std::size_t j = i + 1;
      for (; j < cmd.size() && cmd[j] != '"'; ++j) {
        if (cmd[j] == '\\' && j + 1 < cmd.size() &&
            std::string_view("$`\"\\").find(cmd[j + 1]) != std::string_view::npos) {
          ++j;
        }
        cur.text.push_back(cmd[j]);
      }
      if (j >= cmd.size()) return error_at(src, line, col0 + i, "unterminated \" quote");
      i = j;
    } else if (c == '\\') {
      start(i);
      if (i + 1 < cmd.size()) ++i;
      cur.text.push_back(cmd[i]);
    } else if (c == '#' && !in_word) {
      break;  // a shell comment
    } else if (std::string_view(";|&<>()").find(c) != std::string_view::npos) {
      flush();
      out.push_back(Word{std::string(1, c), true, col0 + i});
    } else {
      start(i);
      cur.text.push_back(c);
    }
  }
  flush();
  return out;
}

bool valid_time_field(std::string_view f) {
  static constexpr std::array<std::string_view, 19> kNames = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
      "nov", "dec", "sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::size_t i = 0;
  while (i < f.size()) {
    const char c = f[i];
    if (is_alpha(c)) {
      std::size_t j = i;
      while (j < f.size() && is_alpha(f[j])) ++j;
      auto name = detail::ascii_lower(f.substr(i, j - i));
      if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) return false;
      i = j;
    } else if (is_digit(c) || c == '*' || c == ',' || c == '-' || c == '/') {
      ++i;
    } else {
      return false;
    }
  }
  return !f.empty();
}

// find's tests and options that take one argument (skipped so that it is not read as a test).
bool takes_argument(std::string_view t) {
  static constexpr std::array<std::string_view, 27> kOne = {
      "-type",     "-xtype", "-path",   "-ipath",    "-wholename", "-iwholename", "-regex",
      "-iregex",   "-lname", "-ilname", "-newer",    "-anewer",    "-cnewer",     "-user",
      "-group",    "-perm",  "-size",   "-mindepth", "-printf",    "-fprint",     "-fprint0",
      "-samefile", "-inum",  "-links",  "-uid",      "-gid",       "-fstype"};
  if (std::find(kOne.begin(), kOne.end(), t) != kOne.end()) return true;
  return t == "-used" || t == "-regextype" || t == "-context" || t == "-fls" ||
         (t.size() == 8 && t.substr(0, 6) == "-newer");
}

// Reads one `find` invocation starting at words[at] (the word "find"). Returns the deletion
// (when it deletes) and moves `at` past it.
Result<std::optional<CronDeletion>> read_find(const std::vector<Word>& w, std::size_t& at,
                                              std::string_view src, std::size_t line) {
  CronDeletion d;
  d.line = line;
  std::size_t i = at + 1;
  // Options before the starting points.
  while (i < w.size() && !w[i].op &&
         (w[i].text == "-H" || w[i].text == "-L" || w[i].text == "-P" ||
          w[i].text.rfind("-O", 0) == 0)) {
    ++i;
  }
  if (i < w.size() && !w[i].op && w[i].text == "-D" && i + 1 < w.size()) i += 2;
  while (i < w.size() && !w[i].op && !w[i].text.empty() && w[i].text[0] != '-' &&
         w[i].text != "!" && w[i].text != "(" && w[i].text != ")" && w[i].text != ",") {
    d.dirs.push_back(strip_trailing_slashes(w[i].text));
    ++i;
  }
  if (d.dirs.empty()) d.dirs.emplace_back(".");

  bool deletes = false, negate = false, has_or = false, any_age = false;
  long kept_and = 0;
  long kept_or = -1;
  auto arg = [&](std::size_t k) -> Result<std::string> {
    if (k >= w.size() || w[k].op) {
      return error_at(src, line, w[k - 1].col,
                      fmt::format("find {}: argument expected", w[k - 1].text));
    }
    return w[k].text;
  };
  for (; i < w.size() && !w[i].op; ++i) {
    const std::string& t = w[i].text;
    if (t == "!" || t == "-not") {
      negate = !negate;
      continue;
    }
    if (t == "-o" || t == "-or" || t == ",") {
      has_or = true;
    } else if (t == "-name" || t == "-iname") {
      auto a = arg(i + 1);
      if (!a) return a.error();
      (negate ? d.not_names : d.names).push_back(*a);
      ++i;
    } else if (t == "-maxdepth") {
      auto a = arg(i + 1);
      if (!a) return a.error();
      auto n = parse_long(*a);
      if (!n || *n < 0) {
        return error_at(src, line, w[i + 1].col,
                        fmt::format("find -maxdepth: '{}' is not a number", *a));
      }
      d.maxdepth = static_cast<int>(*n);
      ++i;
    } else if (t == "-mtime" || t == "-ctime" || t == "-atime" || t == "-mmin" || t == "-cmin" ||
               t == "-amin") {
      auto a = arg(i + 1);
      if (!a) return a.error();
      auto n = parse_long(*a);
      if (!n) {
        return error_at(src, line, w[i + 1].col,
                        fmt::format("find {}: '{}' is not a number", t, *a));
      }
      const bool minutes = t.back() == 'n';
      const long v = *n < 0 ? -*n : *n;
      long kept = 0;
      if (!negate && (*a)[0] == '+') {
        kept = minutes ? v / 1440 : v + 1;
      } else if (!negate && (*a)[0] != '-') {
        kept = minutes ? v / 1440 : v;  // exactly N days old: younger files survive
      }
      if (d.age_test.empty()) d.age_test = t + " " + *a;
      any_age = true;
      kept_and = std::max(kept_and, kept);
      kept_or = kept_or < 0 ? kept : std::min(kept_or, kept);
      ++i;
    } else if (t == "-delete") {
      deletes = true;
    } else if (t == "-exec" || t == "-execdir" || t == "-ok" || t == "-okdir") {
      std::size_t j = i + 1;
      if (j < w.size() && !w[j].op && basename_of(w[j].text) == "rm") deletes = true;
      while (j < w.size() && !(w[j].text == ";" || (!w[j].op && w[j].text == "+"))) ++j;
      if (j >= w.size()) {
        return error_at(src, line, w[i].col, fmt::format("find {}: no terminating ';'", t));
      }
      i = j;  // an unescaped ';' (an operator) ends the find as well
      if (w[j].op) break;
    } else if (takes_argument(t)) {
      ++i;
    }
    negate = false;
  }
  // `find ... | xargs rm`
  if (i < w.size() && w[i].op && w[i].text == "|") {
    std::size_t j = i + 1;
    if (j < w.size() && !w[j].op && basename_of(w[j].text) == "xargs") {
      for (++j; j < w.size() && !w[j].op; ++j) {
        if (basename_of(w[j].text) == "rm") deletes = true;
      }
    }
  }
  at = i;
  if (!deletes) return std::optional<CronDeletion>{};
  d.kept_days = any_age ? (has_or ? kept_or : kept_and) : 0;
  return std::optional<CronDeletion>{std::move(d)};
}

bool is_variable_setting(std::string_view t) {
  if (t.empty() || !(is_alpha(t[0]) || t[0] == '_')) return false;
  std::size_t i = 0;
  while (i < t.size() && (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '_')) ++i;
  while (i < t.size() && detail::is_space(t[i])) ++i;
  return i < t.size() && t[i] == '=';
}

// --- logrotate -------------------------------------------------------------------------------

constexpr std::array<std::string_view, 17> kTabooExts = {
    ",v",        ".cfsaved",  ".disabled", ".dpkg-bak", ".dpkg-del", ".dpkg-dist",
    ".dpkg-new", ".dpkg-old", ".dpkg-tmp", ".rpmnew",   ".rpmorig",  ".rpmsave",
    ".swp",      ".ucf-dist", ".ucf-new",  ".ucf-old",  "~"};

bool taboo(std::string_view name) {
  for (auto ext : kTabooExts) {
    if (name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
  }
  return name.find(".rhn-cfg-tmp-") != std::string_view::npos;
}

class LogrotateReader {
 public:
  explicit LogrotateReader(const std::vector<HostFile>& files) : files_(files) {
    read_.assign(files.size(), false);
  }

  LogrotateConfig run() {
    std::optional<std::size_t> main;
    for (std::size_t k = 0; k < files_.size(); ++k) {
      if (files_[k].path == "/etc/logrotate.conf") main = k;
    }
    if (main) {
      read(*main, 0);
    }
    for (std::size_t k = 0; k < files_.size(); ++k) {
      if (read_[k] || taboo(basename_of(files_[k].path))) continue;
      out_.notes.push_back(
          main ? fmt::format("{}: no include of /etc/logrotate.conf names it; read with the "
                             "global options at the end of /etc/logrotate.conf",
                             files_[k].path)
               : fmt::format("{}: /etc/logrotate.conf is not in the snapshot; read with "
                             "logrotate's built-in defaults (rotate 0, no period)",
                             files_[k].path));
      read(k, 0);
    }
    return std::move(out_);
  }

 private:
  void read(std::size_t k, int depth) {
    read_[k] = true;
    const HostFile& f = files_[k];
    if (auto st = detail::check_bounds(f.text, f.path); !st) {
      out_.errors.push_back(st.error().message);
      return;
    }
    auto fail = [&](std::size_t line, std::size_t col, std::string msg) {
      out_.errors.push_back(error_at(f.path, line, col, msg).message);
      std::erase_if(out_.stanzas, [&](const LogrotateStanza& s) { return s.file == f.path; });
    };

    std::optional<LogrotateStanza> stanza;
    std::vector<std::string> pending;  // paths read before their '{'
    std::size_t pending_line = 0, script_line = 0;
    for (const auto& l : split_lines(f.text)) {
      std::string_view t = trim(l.text);
      const std::size_t col = static_cast<std::size_t>(t.data() - l.text.data()) + 1;
      if (script_line) {
        if (t.substr(0, 9) == "endscript" && trim(t.substr(9)).empty()) script_line = 0;
        continue;
      }
      if (t.empty() || t[0] == '#') continue;
      if (stanza) {
        if (t[0] == '}') {
          if (!trim(t.substr(1)).empty()) {
            return fail(l.number, col + 1, "unexpected text after '}'");
          }
          out_.stanzas.push_back(std::move(*stanza));
          stanza.reset();
          continue;
        }
        if (!is_alpha(t[0])) {
          return fail(l.number, col,
                      fmt::format("'{}' inside the block opened at line {} (missing '}}'?)",
                                  t.substr(0, 40), stanza->line));
        }
        if (auto e = directive(t, f.path, l.number, col, stanza->options, &*stanza, script_line,
                               depth)) {
          return fail(l.number, e->first, e->second);
        }
        continue;
      }
      if (is_alpha(t[0])) {
        if (!pending.empty()) {
          return fail(pending_line, 1, "log file names without a '{' block");
        }
        if (auto e = directive(t, f.path, l.number, col, globals_, nullptr, script_line, depth)) {
          return fail(l.number, e->first, e->second);
        }
        continue;
      }
      if (t[0] == '}') return fail(l.number, col, "'}' without an opening '{'");
      // Log file names, possibly quoted, up to '{'.
      std::size_t i = 0;
      bool opened = false;
      if (pending.empty()) pending_line = l.number;
      while (i < t.size()) {
        while (i < t.size() && detail::is_space(t[i])) ++i;
        if (i >= t.size()) break;
        if (t[i] == '{') {
          if (!trim(t.substr(i + 1)).empty()) {
            return fail(l.number, col + i + 1, "expected a line break after '{'");
          }
          opened = true;
          break;
        }
        if (t[i] == '"' || t[i] == '\'') {
          auto end = t.find(t[i], i + 1);
          if (end == std::string_view::npos) {
            return fail(l.number, col + i, fmt::format("unterminated {} quote", t[i]));
          }
          pending.emplace_back(t.substr(i + 1, end - i - 1));
          i = end + 1;
          continue;
        }
        std::size_t j = i;
        while (j < t.size() && !detail::is_space(t[j]) && t[j] != '{') ++j;
        pending.emplace_back(t.substr(i, j - i));
        i = j;
      }
      if (opened) {
        if (pending.empty()) return fail(l.number, col, "'{' without log file names");
        stanza = LogrotateStanza{};
        stanza->paths = std::move(pending);
        pending.clear();
        stanza->file = f.path;
        stanza->line = l.number;
        stanza->options = globals_;
      }
    }
    if (script_line) {
      return fail(script_line, 1, "script without endscript");
    }
    if (stanza) {
      return fail(stanza->line, 1, "block not closed by '}'");
    }
    if (!pending.empty()) return fail(pending_line, 1, "log file names without a '{' block");
  }

  // An error in a directive: its column and message.
  using Problem = std::optional<std::pair<std::size_t, std::string>>;

  // Applies one directive to `o` (the globals, or the block's options when `stanza` is set).
  Problem directive(std::string_view t, const std::string& file, std::size_t line, std::size_t col,
                    LogrotateOptions& o, LogrotateStanza* stanza, std::size_t& script_line,
                    int depth) {
    std::size_t k = 0;
    while (k < t.size() && is_alpha(t[k])) ++k;
    const std::string key(t.substr(0, k));
    std::string_view value = trim(t.substr(k));
    if (!value.empty() && value[0] == '=') value = trim(value.substr(1));
    const std::size_t vcol = col + static_cast<std::size_t>(value.data() - t.data());
    const std::string at = fmt::format("{}:{}", file, line);
    auto problem = [&](std::size_t c, std::string msg) -> Problem {
      return std::make_pair(c, std::move(msg));
    };
    auto need_value = [&]() -> Problem {
      if (value.empty()) return problem(col, fmt::format("{}: argument expected", key));
      return std::nullopt;
    };
    if (key == "rotate") {
      if (auto e = need_value()) return e;
      auto n = parse_long(value);
      if (!n || *n < -1) {
        return problem(vcol, fmt::format("rotate: '{}' is not a count", value));
      }
      o.rotate = *n;
      o.rotate_at = at;
      if (stanza) stanza->rotate_line = line;
    } else if (key == "hourly" || key == "daily" || key == "weekly" || key == "monthly" ||
               key == "yearly") {
      o.every = key == "hourly"    ? RotateEvery::hourly
                : key == "daily"   ? RotateEvery::daily
                : key == "weekly"  ? RotateEvery::weekly
                : key == "monthly" ? RotateEvery::monthly
                                   : RotateEvery::yearly;
      o.every_at = at;
    } else if (key == "size") {
      if (auto e = need_value()) return e;
      o.every = RotateEvery::size;
      o.size = std::string(value);
      o.every_at = at;
    } else if (key == "maxsize") {
      if (auto e = need_value()) return e;
      o.maxsize = std::string(value);
      o.maxsize_at = at;
    } else if (key == "maxage") {
      if (auto e = need_value()) return e;
      auto n = parse_long(value);
      if (!n || *n < 0) return problem(vcol, fmt::format("maxage: '{}' is not a number", value));
      o.maxage = *n;
      o.maxage_at = at;
      if (stanza) stanza->maxage_line = line;
    } else if (key == "olddir") {
      if (auto e = need_value()) return e;
      o.olddir = std::string(value);
      o.olddir_at = at;
    } else if (key == "noolddir") {
      o.olddir.clear();
      o.olddir_at = at;
    } else if (key == "compress") {
      o.compress = true;
    } else if (key == "nocompress") {
      o.compress = false;
    } else if (key == "dateext") {
      o.dateext = true;
    } else if (key == "nodateext") {
      o.dateext = false;
    } else if (key == "postrotate" || key == "prerotate" || key == "firstaction" ||
               key == "lastaction" || key == "preremove") {
      script_line = line;
    } else if (key == "include") {
      if (stanza) return problem(col, "include may not appear inside a log file block");
      if (auto e = need_value()) return e;
      include(std::string(value), at, depth);
    }
    // Other directives (missingok, create, copytruncate, su, ...) do not change retention.
    return std::nullopt;
  }

  void include(const std::string& target, const std::string& at, int depth) {
    if (depth >= kLogrotateMaxDepth) {
      out_.notes.push_back(fmt::format("{}: include {}: more than {} nested includes, not read", at,
                                       target, kLogrotateMaxDepth));
      return;
    }
    const std::string want = strip_trailing_slashes(target);
    std::vector<std::size_t> hit;
    for (std::size_t k = 0; k < files_.size(); ++k) {
      const std::string& p = files_[k].path;
      if (p == want ||
          (p.size() > want.size() + 1 && p.compare(0, want.size(), want) == 0 &&
           p[want.size()] == '/' && p.find('/', want.size() + 1) == std::string::npos &&
           !taboo(basename_of(p)))) {
        hit.push_back(k);
      }
    }
    if (hit.empty()) {
      out_.notes.push_back(fmt::format("{}: include {}: not in the snapshot", at, target));
      return;
    }
    std::sort(hit.begin(), hit.end(),
              [&](std::size_t a, std::size_t b) { return files_[a].path < files_[b].path; });
    for (auto k : hit) {
      if (!read_[k]) read(k, depth + 1);
    }
  }

  const std::vector<HostFile>& files_;
  std::vector<bool> read_;
  LogrotateOptions globals_;
  LogrotateConfig out_;
};

// --- rsyslog ---------------------------------------------------------------------------------

class RsyslogReader {
 public:
  RsyslogReader(const HostFile& f, RsyslogConfig& out) : f_(f), t_(f.text), out_(out) {}

  void run() {
    if (auto st = detail::check_bounds(t_, f_.path); !st) {
      out_.errors.push_back(st.error().message);
      return;
    }
    bool boundary = true;    // the previous character separates words
    bool line_start = true;  // only blanks so far on this line
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '\n') {
        newline();
        boundary = line_start = true;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
        boundary = true;
        continue;
      }
      if (c == '/' && i_ + 1 < t_.size() && t_[i_ + 1] == '*') {
        if (!skip_block_comment()) return;
        boundary = true;
        continue;
      }
      if ((c == '#' && boundary) || (c == '$' && line_start)) {
        skip_to_eol();
        continue;
      }
      line_start = false;
      if (c == '"' || c == '\'') {
        if (!skip_string(false)) return;
        boundary = false;
        continue;
      }
      if (boundary && (c == '@' || t_.substr(i_, 8) == ":omrelp:")) {
        if (!legacy_forward()) return;
        boundary = false;
        continue;
      }
      if (boundary && (is_alpha(c) || c == '_')) {
        std::size_t j = i_;
        while (j < t_.size() && (is_alpha(t_[j]) || is_digit(t_[j]) || t_[j] == '_' ||
                                 t_[j] == '.' || t_[j] == '-')) {
          ++j;
        }
        std::size_t k = j;
        while (k < t_.size() && (t_[k] == ' ' || t_[k] == '\t')) ++k;
        if (k < t_.size() && t_[k] == '(' && j > i_) {
          if (!object(t_.substr(i_, j - i_), k)) return;
          boundary = false;
          continue;
        }
        i_ = j;
        boundary = false;
        continue;
      }
      boundary = c == '{' || c == '}';
      ++i_;
    }
  }

 private:
  std::size_t col(std::size_t at) const { return at - line_begin_ + 1; }
  void newline() {
    ++i_;
    ++line_;
    line_begin_ = i_;
  }
  void error(std::size_t line, std::size_t column, std::string msg) {
    out_.errors.push_back(error_at(f_.path, line, column, msg).message);
  }
  void skip_to_eol() {
    while (i_ < t_.size() && t_[i_] != '\n') ++i_;
  }
  bool skip_block_comment() {
    const std::size_t line = line_, column = col(i_);
    i_ += 2;
    while (i_ < t_.size()) {
      if (t_[i_] == '*' && i_ + 1 < t_.size() && t_[i_ + 1] == '/') {
        i_ += 2;
        return true;
      }
      if (t_[i_] == '\n') {
        newline();
      } else {
        ++i_;
      }
    }
    error(line, column, "/* comment not closed");
    return false;
  }
  // A quoted string, backslash escapes allowed; on one line unless `multiline` (inside an
  // object, where a template's text may run over several lines).
  bool skip_string(bool multiline) {
    const char q = t_[i_];
    const std::size_t line = line_, column = col(i_);
    ++i_;
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '\n') {
        if (!multiline) break;
        newline();
        continue;
      }
      if (c == '\\' && i_ + 1 < t_.size() && t_[i_ + 1] != '\n') {
        i_ += 2;
        continue;
      }
      ++i_;
      if (c == q) return true;
    }
    error(line, column, fmt::format("unterminated {} quote", q));
    return false;
  }

  // The text of the current line before `at`, trimmed: the selector of an action.
  std::string selector_before(std::size_t at) const {
    return std::string(trim(t_.substr(line_begin_, at - line_begin_)));
  }

  // "@host", "@@(o,z9)[::1]:10514;RSYSLOG_ForwardFormat", ":omrelp:host:2514;tpl".
  bool legacy_forward() {
    const std::size_t start = i_, column = col(i_);
    std::size_t end = i_;
    while (end < t_.size() && t_[end] != ' ' && t_[end] != '\t' && t_[end] != '\n' &&
           t_[end] != '\r') {
      ++end;
    }
    std::string_view word = t_.substr(start, end - start);
    i_ = end;
    SyslogForward fw;
    fw.file = f_.path;
    fw.line = line_;
    fw.selector = selector_before(start);
    fw.written = std::string(word);
    std::string_view rest;
    if (word[0] == ':') {
      fw.protocol = "relp";
      rest = word.substr(8);
    } else if (word.size() > 1 && word[1] == '@') {
      fw.protocol = "tcp";
      rest = word.substr(2);
    } else {
      fw.protocol = "udp";
      rest = word.substr(1);
    }
    if (!rest.empty() && rest[0] == '(') {
      auto close = rest.find(')');
      if (close == std::string_view::npos) {
        error(line_, column, fmt::format("'{}': options '(' not closed", word));
        return false;
      }
      rest = rest.substr(close + 1);
    }
    if (auto semi = rest.find(';'); semi != std::string_view::npos) rest = rest.substr(0, semi);
    std::string_view host, port;
    if (!rest.empty() && rest[0] == '[') {
      auto close = rest.find(']');
      if (close == std::string_view::npos) {
        error(line_, column, fmt::format("'{}': '[' not closed", word));
        return false;
      }
      host = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
      if (!rest.empty() && rest[0] != ':') {
        error(line_, column, fmt::format("'{}': unexpected text after ']'", word));
        return false;
      }
      if (!rest.empty()) port = rest.substr(1);
    } else {
      auto colon = rest.find(':');
      host = rest.substr(0, colon);
      if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    }
    if (host.empty()) {
      error(line_, column, fmt::format("'{}': forwarding action without a host", word));
      return false;
    }
    if (!port.empty() && !detail::all_digits(port)) {
      error(line_, column, fmt::format("'{}': port '{}' is not a number", word, port));
      return false;
    }
    fw.target = std::string(host);
    fw.port = std::string(port);
    out_.forwards.push_back(std::move(fw));
    return true;
  }

  // name( ... ) up to the matching ')', over several lines; action(type="omfwd"...) forwards.
  bool object(std::string_view name, std::size_t open) {
    const std::size_t line = line_, column = col(i_), start = i_;
    const std::string selector = selector_before(i_);
    i_ = open + 1;
    int depth = 1;
    std::vector<std::pair<std::string, std::string>> params;
    std::string key;
    bool expect_value = false;
    bool boundary = true;
    while (i_ < t_.size() && depth > 0) {
      const char c = t_[i_];
      if (c == '\n') {
        newline();
        boundary = true;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
        boundary = true;
        continue;
      }
      if (c == '/' && i_ + 1 < t_.size() && t_[i_ + 1] == '*') {
        if (!skip_block_comment()) return false;
        continue;
      }
      if (c == '#' && boundary) {
        skip_to_eol();
        continue;
      }
      if (c == '"' || c == '\'') {
        const std::size_t b = i_;
        if (!skip_string(true)) return false;
        if (expect_value) {
          params.emplace_back(key, std::string(t_.substr(b + 1, i_ - b - 2)));
          expect_value = false;
        }
        boundary = false;
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')') --depth;
      if (c == '=') {
        expect_value = !key.empty();
        ++i_;
        boundary = true;
        continue;
      }
      if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') {
        ++i_;
        boundary = true;
        continue;
      }
      // A bare word: a parameter name, or an unquoted value.
      std::size_t j = i_;
      while (j < t_.size() &&
             std::string_view(" \t\r\n=()[],\"'").find(t_[j]) == std::string_view::npos) {
        ++j;
      }
      std::string word(t_.substr(i_, j - i_));
      if (expect_value) {
        params.emplace_back(key, word);
        expect_value = false;
      } else {
        key = detail::ascii_lower(word);
      }
      i_ = j;
      boundary = false;
    }
    if (depth > 0) {
      error(line, column, fmt::format("'{}(' not closed by ')'", name));
      return false;
    }
    if (detail::ascii_lower(name) != "action") return true;
    auto get = [&](std::string_view k) -> std::optional<std::string> {
      for (const auto& [pk, pv] : params) {
        if (pk == k) return pv;
      }
      return std::nullopt;
    };
    const std::string type = detail::ascii_lower(get("type").value_or(""));
    if (type != "omfwd" && type != "omrelp") return true;
    SyslogForward fw;
    fw.file = f_.path;
    fw.line = line;
    fw.selector = selector;
    auto target = get("target");
    if (!target || target->empty()) {
      error(line, column, fmt::format("action(type=\"{}\") without a target", type));
      return false;
    }
    fw.target = *target;
    fw.port = get("port").value_or("");
    if (!fw.port.empty() && !detail::all_digits(fw.port)) {
      error(line, column,
            fmt::format("action(type=\"{}\"): port '{}' is not a number", type, fw.port));
      return false;
    }
    fw.protocol = type == "omrelp" ? "relp" : detail::ascii_lower(get("protocol").value_or("udp"));
    // One line, blanks collapsed.
    std::string written;
    for (char ch : t_.substr(start, i_ - start)) {
      const bool blank = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
      if (blank) {
        if (!written.empty() && written.back() != ' ') written.push_back(' ');
      } else {
        written.push_back(ch);
      }
    }
    if (written.size() > 200) written = written.substr(0, 197) + "...";
    fw.written = std::move(written);
    out_.forwards.push_back(std::move(fw));
    return true;
  }

  const HostFile& f_;
  std::string_view t_;
  RsyslogConfig& out_;
  std::size_t i_ = 0, line_ = 1, line_begin_ = 0;
};

}  // namespace

// --- public ----------------------------------------------------------------------------------

Result<Crontab> parse_crontab(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  Crontab out;
  for (const auto& l : split_lines(text)) {
    std::string_view t = trim(l.text);
    if (t.empty() || t[0] == '#' || is_variable_setting(t)) continue;
    const std::size_t col0 = static_cast<std::size_t>(t.data() - l.text.data()) + 1;
    std::string schedule;
    std::size_t cmd_at = 0;  // offset of the command in t
    auto fields = detail::split_fields(t);
    if (t[0] == '@') {
      static constexpr std::array<std::string_view, 8> kKeys = {"@reboot",   "@yearly", "@annually",
                                                                "@monthly",  "@weekly", "@daily",
                                                                "@midnight", "@hourly"};
      if (std::find(kKeys.begin(), kKeys.end(), fields[0].text) == kKeys.end()) {
        return error_at(source, l.number, col0,
                        fmt::format("unknown schedule '{}'", fields[0].text));
      }
      if (fields.size() < 2) {
        return error_at(source, l.number, col0, "a schedule without a command");
      }
      schedule = std::string(fields[0].text);
      cmd_at = fields[1].col - 1;
    } else {
      for (std::size_t k = 0; k < fields.size() && k < 5; ++k) {
        if (!valid_time_field(fields[k].text)) {
          return error_at(source, l.number, col0 + fields[k].col - 1,
                          fmt::format("'{}' is not a crontab time field (expected five time "
                                      "fields and a command)",
                                      fields[k].text));
        }
      }
      if (fields.size() < 6) {
        return error_at(source, l.number, col0, "expected five time fields and a command");
      }
      schedule = std::string(t.substr(0, fields[4].col - 1 + fields[4].text.size()));
      cmd_at = fields[5].col - 1;
    }
    ++out.entries;
    std::string_view cmd = t.substr(cmd_at);
    // cron turns the first unescaped % into the end of the command.
    for (std::size_t k = 0; k < cmd.size(); ++k) {
      if (cmd[k] == '\\') {
        ++k;
      } else if (cmd[k] == '%') {
        cmd = cmd.substr(0, k);
        break;
      }
    }
    auto words = shell_words(cmd, col0 + cmd_at, source, l.number);
    if (!words) return words.error();
    for (std::size_t k = 0; k < words->size(); ++k) {
      const Word& w = (*words)[k];
      if (w.op || basename_of(w.text) != "find") continue;
      auto d = read_find(*words, k, source, l.number);
      if (!d) return d.error();
      if (*d) {
        (*d)->schedule = schedule;
        (*d)->command = std::string(trim(cmd));
        out.deletions.push_back(std::move(**d));
      }
      if (k >= words->size()) break;
    }
  }
  return out;
}

bool deletion_reaches(const CronDeletion& d, std::string_view path) {
  const std::string name(basename_of(path));
  auto matches = [&](const std::string& pattern) {
    return fnmatch(pattern.c_str(), name.c_str(), FNM_CASEFOLD) == 0;
  };
  bool under = false;
  for (const auto& dir : d.dirs) {
    if (dir.empty() || dir[0] != '/') continue;
    const std::string prefix = dir == "/" ? "/" : dir + "/";
    if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) continue;
    auto rel = path.substr(prefix.size());
    const auto depth = static_cast<int>(std::count(rel.begin(), rel.end(), '/')) + 1;
    if (d.maxdepth && depth > *d.maxdepth) continue;
    under = true;
  }
  if (!under) return false;
  if (!d.names.empty() && std::none_of(d.names.begin(), d.names.end(), matches)) return false;
  return std::none_of(d.not_names.begin(), d.not_names.end(), matches);
}

std::string_view rotate_every_name(RotateEvery e) {
  switch (e) {
    case RotateEvery::hourly:
      return "hourly";
    case RotateEvery::daily:
      return "daily";
    case RotateEvery::weekly:
      return "weekly";
    case RotateEvery::monthly:
      return "monthly";
    case RotateEvery::yearly:
      return "yearly";
    case RotateEvery::size:
      return "size";
    case RotateEvery::unset:
      break;
  }
  return "unset";
}

LogrotateConfig parse_logrotate(const std::vector<HostFile>& files) {
  return LogrotateReader(files).run();
}

long rotate_every_hours(RotateEvery e) {
  switch (e) {
    case RotateEvery::hourly:
      return 1;
    case RotateEvery::weekly:
      return 24 * 7;
    case RotateEvery::monthly:
      return 24 * 30;
    case RotateEvery::yearly:
      return 24 * 365;
    default:
      return 24;
  }
}

LogRetention logrotate_retention(const LogrotateOptions& o) {
  LogRetention r;
  auto where = [](const std::string& at) {
    return at.empty() ? std::string("logrotate's default") : at;
  };
  long hours = rotate_every_hours(o.every);
  std::string period;
  if (o.every == RotateEvery::size) {
    period = fmt::format("size {} ({}; up to one rotation a day)", o.size, o.every_at);
  } else if (o.every == RotateEvery::unset) {
    period = "no period (up to one rotation a day)";
  } else {
    period = fmt::format("{} ({})", rotate_every_name(o.every), o.every_at);
    if (!o.maxsize.empty() && hours > 24) {
      hours = 24;
      period += fmt::format(", or daily past maxsize {} ({})", o.maxsize, o.maxsize_at);
    }
  }
  if (o.rotate < 0) {
    r.how = fmt::format("rotate -1 ({}) keeps every copy", where(o.rotate_at));
  } else {
    r.days = o.rotate * hours / 24;
    r.how =
        fmt::format("rotate {} ({}) x {} = {} days", o.rotate, where(o.rotate_at), period, *r.days);
  }
  if (o.maxage && (!r.days || *o.maxage < *r.days)) {
    r.days = *o.maxage;
    r.how += fmt::format(", cut to {} days by maxage ({})", *o.maxage, o.maxage_at);
  }
  return r;
}

std::string rotated_copy_path(const LogrotateStanza& s, const std::string& log) {
  std::string dir(dirname_of(log));
  if (!s.options.olddir.empty()) {
    dir = s.options.olddir[0] == '/' ? strip_trailing_slashes(s.options.olddir)
                                     : dir + "/" + strip_trailing_slashes(s.options.olddir);
  }
  // A glob in the name stands for some name: a typical one is enough to match against find.
  std::string name;
  bool in_class = false;
  for (char c : basename_of(log)) {
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      name.push_back('x');
    } else if (c == '*' || c == '?') {
      name.push_back('x');
    } else {
      name.push_back(c);
    }
  }
  name += s.options.dateext ? "-20250101" : ".1";
  if (s.options.compress) name += ".gz";
  return (dir == "/" ? "" : dir) + "/" + name;
}

RsyslogConfig parse_rsyslog(const std::vector<HostFile>& files) {
  RsyslogConfig out;
  for (const auto& f : files) RsyslogReader(f, out).run();
  return out;
}

}  // namespace mw::audit
