// Text for HTML reports: UTF-8 validation and HTML escaping shared by every HTML renderer
// (audit, logs). Log lines and snapshots are untrusted: whatever bytes they hold, the output is
// valid UTF-8 and inert HTML.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mw::report {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid multi-byte UTF-8 sequence at the start of `s` and its code point; 0
// when it is not one (ASCII, overlong forms, surrogates, code points past U+10FFFF).
std::size_t utf8_sequence(std::string_view s, char32_t& cp);

// `s` escaped for HTML text and quoted attribute values, as valid UTF-8: an invalid byte, a
// control character other than tab and newline, and a noncharacter become U+FFFD; CR LF and a
// lone CR become LF (what the HTML parser would make of them).
std::string html_escape(std::string_view s);

// The script of the Copy buttons (`button.copy` in a block with a `pre.cmd` and a `.copy-msg`),
// shown only when it runs. Copying tries the asynchronous clipboard, then a hidden textarea with
// execCommand("copy"), and when both are refused (file:// pages without permission) selects the
// commands and asks the reader to copy them. Nothing in it may throw.
extern const std::string_view kCopyScript;

}  // namespace mw::report
