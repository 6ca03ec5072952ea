// UTF-8 validation and HTML escaping for the HTML reports.
#include "report/html_text.hpp"

namespace mw::report {

// The length of the valid UTF-8 sequence at the start of `s`, 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF are not).
std::size_t utf8_sequence(std::string_view s, char32_t& cp) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0Fu;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07u;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const unsigned char x = b(i);
    if (i == 1 ? (x < lo || x > hi) : (x < 0x80 || x > 0xBF)) return 0;
    cp = (cp << 6) | (x & 0x3Fu);
  }
  return len;
}

// `s` escaped for HTML text and quoted attribute values, as valid UTF-8: an invalid byte, a
// control character other than tab and newline, and a noncharacter become U+FFFD; CR LF and a
// lone CR become LF (what the HTML parser would make of them).
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        case '\r':
          out += '\n';
          if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
          break;
        case '\t':
        case '\n':
          out += static_cast<char>(c);
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(s.substr(i), cp);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    const bool c1_control = cp >= 0x80 && cp <= 0x9F;
    const bool nonchar = (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFEu) == 0xFFFEu;
    if (c1_control || nonchar) {
      out += kReplacement;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

const std::string_view kCopyScript = R"JS(
(function () {
  "use strict";
  function say(btn, text, ok) {
    var msg = btn.parentNode ? btn.parentNode.querySelector(".copy-msg") : null;
    if (!msg) return;
    msg.textContent = text;
    msg.className = "copy-msg " + (ok ? "ok" : "manual");
  }
  function selectText(el) {
    try {
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      if (sel) { sel.removeAllRanges(); sel.addRange(range); }
    } catch (e) { /* the commands stay on the page to select by hand */ }
  }
  function fallback(btn, pre, text) {
    var ok = false;
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.setAttribute("aria-hidden", "true");
    ta.setAttribute("tabindex", "-1");
    ta.className = "copy-buffer";
    try {
      document.body.appendChild(ta);
      ta.select();
      ok = typeof document.execCommand === "function" && document.execCommand("copy") === true;
    } catch (e) { ok = false; }
    if (ta.parentNode) ta.parentNode.removeChild(ta);
    if (ok) { say(btn, "Copied", true); return; }
    selectText(pre);
    say(btn, "Select and copy (Ctrl+C)", false);
  }
  function copy(btn) {
    var pre = document.getElementById(btn.getAttribute("data-copy") || "");
    if (!pre) return;
    var text = pre.textContent || "";
    var clip = null;
    try { clip = window.isSecureContext && navigator.clipboard ? navigator.clipboard : null; }
    catch (e) { clip = null; }
    if (clip && typeof clip.writeText === "function") {
      var p = null;
      try { p = clip.writeText(text); } catch (e) { p = null; }
      if (p && typeof p.then === "function") {
        p.then(function () { say(btn, "Copied", true); },
               function () { fallback(btn, pre, text); });
        return;
      }
    }
    fallback(btn, pre, text);
  }
  var buttons = document.querySelectorAll("button.copy");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (ev) { copy(ev.currentTarget); });
  }
})();
)JS";

}  // namespace mw::report
