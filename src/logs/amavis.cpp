// amavis(d-new) main log line, one per message and content category (amavisd's "log_templ":
// "[? %#D |#|Passed #|Blocked ...] CATEGORY {ACTION}, [peer]:port [client] <from> -> <rcpts>,
// Queue-ID: X, Message-ID: <..>, mail_id: .., Hits: .., size: N, queued_as: Y, N ms").
#include "logs/field_scan.hpp"
#include "logs/parsers.hpp"

namespace mw::logs {

using scan::consume;

bool parse_amavis(std::string_view msg, Facts& f) {
  // "(12345-01) " log id.
  if (consume(msg, "(")) {
    const auto close = msg.find(") ");
    if (close == std::string_view::npos || close > 32) return false;
    msg.remove_prefix(close + 2);
  }
  const auto verdict_start = msg;
  if (consume(msg, "Passed ")) {
    f.outcome = Outcome::success;
  } else if (consume(msg, "Blocked ") || consume(msg, "Not-Delivered ")) {
    f.outcome = Outcome::failure;
  } else {
    return false;
  }
  // Category up to " {ACTION}," or ",": "CLEAN", "SPAM", "INFECTED (Eicar-Signature)".
  const auto cat_end = scan::find_first_of(msg, "{,");
  if (cat_end == std::string_view::npos) return false;
  f.reason = scan::trim(verdict_start.substr(0, verdict_start.size() - msg.size() + cat_end));
  msg.remove_prefix(cat_end);
  if (consume(msg, "{")) {
    const auto close = msg.find('}');
    if (close == std::string_view::npos) return false;
    f.method = msg.substr(0, close);  // RelayedOutbound, DiscardedInbound,Quarantined, ...
    msg.remove_prefix(close + 1);
  }
  if (!consume(msg, ", ")) return false;
  const auto arrow = msg.find(" -> ");
  if (arrow == std::string_view::npos) return false;
  // Before the arrow: "[peer]:port [client] <from>" (or "LOCAL [peer]:port <from>").
  auto before = msg.substr(0, arrow);
  if (before.empty() || before.back() != '>') return false;
  const auto from_open = before.rfind('<');
  if (from_open == std::string_view::npos) return false;
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
  // The first occurrence of each field in one pass over the commas (four finds walked the
  // same commas four times); each value ends at the next ','.
  constexpr auto npos = std::string_view::npos;
  std::size_t queue_id = npos, message_id = npos, size_at = npos, queued_as = npos;
  for (auto p = fields.find(','); p != npos; p = fields.find(',', p + 1)) {
    const auto rest = fields.substr(p);
    if (queue_id == npos && scan::starts_with(rest, ", Queue-ID: ")) {
      queue_id = p + 12;
    } else if (message_id == npos && scan::starts_with(rest, ", Message-ID: ")) {
      message_id = p + 14;
    } else if (size_at == npos && scan::starts_with(rest, ", size: ")) {
      size_at = p + 8;
    } else if (queued_as == npos && scan::starts_with(rest, ", queued_as: ")) {
      queued_as = p + 13;
    }
    if (queue_id != npos && message_id != npos && size_at != npos && queued_as != npos) break;
  }
  auto value = [&fields](std::size_t at) {
    const auto v = fields.substr(at);
    return v.substr(0, v.find(','));
  };
  if (queue_id != npos) f.queue_id = value(queue_id);
  if (message_id != npos) f.message_id = value(message_id);
  std::uint64_t size = 0;
  if (size_at != npos && scan::whole_uint(value(size_at), size)) f.size = size;
  if (queued_as != npos) f.next_queue_id = value(queued_as);
  f.kind = EventKind::content_scan;
  f.protocol = Protocol::smtp;
  return true;
}

std::optional<Facts> parse_amavis(std::string_view msg) {
  Facts f;
  if (!parse_amavis(msg, f)) return std::nullopt;
  return f;
}

}  // namespace mw::logs
