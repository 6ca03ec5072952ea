// Parses Postfix configuration listings: postconf -n / -d (and main.cf), postconf -P, and
// postconf -M (and master.cf).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace mw::audit {

struct PostconfParam {
  std::string name;
  std::string value;  // continuation lines joined by one space; may be empty
  std::size_t line = 0;
};

struct PostconfMain {
  std::vector<PostconfParam> params;  // in file order
  // The value Postfix uses: the last definition of `name` (main.cf may repeat one; postconf
  // output never does), or nullptr. An absent parameter has its built-in default (postconf -d).
  const PostconfParam* find(std::string_view name) const;
};

// `postconf -n`, `postconf -d` or a raw main.cf: "name = value" logical lines. A line starting
// with whitespace continues the previous one; blank lines and lines whose first non-blank
// character is '#' are skipped (main.cf(5)). Spaces around '=' are optional; "name =" is an
// empty value. Values are not expanded ($name stays). Errors: a line without '=', an invalid
// name, a continuation before any parameter.
Result<PostconfMain> parse_postconf(std::string_view text, std::string_view source);

// One line of `postconf -P`: "service/type/parameter = value".
struct ServiceParam {
  std::string service;  // "submission", "127.0.0.1:smtp"
  std::string type;     // "inet", "unix", ...
  std::string name;
  std::string value;
  std::size_t line = 0;
};
Result<std::vector<ServiceParam>> parse_postconf_p(std::string_view text, std::string_view source);

// One service of master.cf, as `postconf -M` prints it (one line each) or as written in
// /etc/postfix/master.cf (continuation lines, comments).
struct MasterService {
  std::string service;  // may carry a host: "127.0.0.1:submission"
  std::string type;     // inet, unix, unix-dgram, fifo, pass
  // The five flag columns as written; "-" means the built-in default.
  std::string private_flag, unprivileged, chroot, wakeup, maxproc;
  std::string command;            // "smtpd"
  std::vector<std::string> args;  // every argument after the command, "{ ... }" groups unwrapped
  // The "-o name=value" overrides in order (also "-o { name = value }" and "-oname=value").
  std::vector<std::pair<std::string, std::string>> overrides;
  std::size_t line = 0;  // first line of the entry

  // The last -o value of `name` (the one the daemon sees), or nullopt.
  std::optional<std::string_view> override_of(std::string_view name) const;
};

// Errors: fewer than 8 fields, an unknown service type, a flag that is not y/n/-, a wakeup or
// maxproc that is not a number (wakeup may end in '?'), "-o" without an argument or without '=',
// an unbalanced '{'.
Result<std::vector<MasterService>> parse_master_cf(std::string_view text, std::string_view source);

}  // namespace mw::audit
