// Quoting of untrusted input inside error messages.
#pragma once

#include <string>
#include <string_view>

namespace mw {

// The input as typed, in single quotes, with invisible and non-ASCII bytes shown as \xNN and
// the text cut after about 64 shown characters: the usual cause of "but it looks right" at
// 3 a.m. is a stray tab or a non-breaking space, and a pasted line must not drown the message.
std::string quote_input(std::string_view text);

// A run of digits echoed inside a message, cut after 12 so a runaway number stays readable.
std::string clip_digits(std::string_view digits);

}  // namespace mw
