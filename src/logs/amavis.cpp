// amavis(d-new) main log line, one per message and content category (amavisd's "log_templ":
// "[? %#D |#|Passed #|Blocked ...] CATEGORY {ACTION}, [peer]:port [client] <from> -> <rcpts>,
// Queue-ID: X, Message-ID: <..>, mail_id: .., Hits: .., size: N, queued_as: Y, N ms").
#include "logs/field_scan.hpp"
#include "logs/parsers.hpp"

namespace mw::logs {

using scan::consume;

std::optional<Facts> parse_amavis(std::string_view msg) {
  // "(12345-01) " log id.
  if (consume(msg, "(")) {
    const auto close = msg.find(") ");
    if (close == std::string_view::npos || close > 32) return std::nullopt;
    msg.remove_prefix(close + 2);
  }
  Facts f;
  const auto verdict_start = msg;
  if (consume(msg, "Passed ")) {
    f.outcome = Outcome::success;
  } else if (consume(msg, "Blocked ") || consume(msg, "Not-Delivered ")) {
    f.outcome = Outcome::failure;
  } else {
    return std::nullopt;
  }
  // Category up to " {ACTION}," or ",": "CLEAN", "SPAM", "INFECTED (Eicar-Signature)".
  const auto cat_end = msg.find_first_of("{,");
  if (cat_end == std::string_view::npos) return std::nullopt;
  f.reason = scan::trim(verdict_start.substr(0, verdict_start.size() - msg.size() + cat_end));
  msg.remove_prefix(cat_end);
  if (consume(msg, "{")) {
    const auto close = msg.find('}');
    if (close == std::string_view::npos) return std::nullopt;
    f.method = msg.substr(0, close);  // RelayedOutbound, DiscardedInbound,Quarantined, ...
    msg.remove_prefix(close + 1);
  }
  if (!consume(msg, ", ")) return std::nullopt;
  const auto arrow = msg.find(" -> ");
  if (arrow == std::string_view::npos) return std::nullopt;
  // Before the arrow: "[peer]:port [client] <from>" (or "LOCAL [peer]:port <from>").
  auto before = msg.substr(0, arrow);
  if (before.empty() || before.back() != '>') return std::nullopt;
  const auto from_open = before.rfind('<');
  if (from_open == std::string_view::npos) return std::nullopt;
  f.from = before.substr(from_open + 1, before.size() - from_open - 2);
  f.has_from = true;
  const auto peers = before.substr(0, from_open);
  const auto c_close = peers.rfind(']');
  if (c_close != std::string_view::npos) {
    const auto c_open = peers.rfind('[', c_close);
    if (c_open != std::string_view::npos)
      f.client_ip = peers.substr(c_open + 1, c_close - c_open - 1);
  }
  // Recipients "<a>,<b>" end at the first ">, " (fields follow, separated by ", ").
  auto after = msg.substr(arrow + 4);
  const auto r_end = after.find(">, ");
  f.recipients = r_end == std::string_view::npos ? after : after.substr(0, r_end + 1);
  std::uint32_t n = 0;
  for (char c : f.recipients) n += c == '<' ? 1 : 0;
  f.nrcpt = n;
  const auto fields =
      r_end == std::string_view::npos ? std::string_view{} : after.substr(r_end + 1);
  std::string_view v;
  if (scan::value_after(fields, ", Queue-ID: ", ",", v)) f.queue_id = v;
  if (scan::value_after(fields, ", Message-ID: ", ",", v)) f.message_id = v;
  std::uint64_t size = 0;
  if (scan::value_after(fields, ", size: ", ",", v) && scan::whole_uint(v, size)) f.size = size;
  if (scan::value_after(fields, ", queued_as: ", ",", v)) f.next_queue_id = v;
  f.kind = EventKind::content_scan;
  f.protocol = Protocol::smtp;
  return f;
}

}  // namespace mw::logs
