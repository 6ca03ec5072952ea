// Names of the event model's enums, as reports and tests print them.
#include "logs/event.hpp"

namespace mw::logs {

void UnparsedCounts::merge(const UnparsedCounts& other) {
  for (std::size_t i = 0; i < by_kind.size(); ++i) by_kind[i] += other.by_kind[i];
  for (std::size_t i = 0; i < message_unknown_by_program.size(); ++i) {
    message_unknown_by_program[i] += other.message_unknown_by_program[i];
  }
  lines += other.lines;
  invalid_utf8 += other.invalid_utf8;
  time_backwards += other.time_backwards;
  year_rollovers += other.year_rollovers;
}

std::string_view name_of(LineKind k) {
  switch (k) {
    case LineKind::parsed:
      return "parsed";
    case LineKind::empty:
      return "empty";
    case LineKind::envelope_unknown:
      return "envelope_unknown";
    case LineKind::timestamp_invalid:
      return "timestamp_invalid";
    case LineKind::program_unknown:
      return "program_unknown";
    case LineKind::message_unknown:
      return "message_unknown";
    case LineKind::too_long:
      return "too_long";
  }
  return "?";
}

std::string_view name_of(EnvelopeFormat f) {
  switch (f) {
    case EnvelopeFormat::none:
      return "none";
    case EnvelopeFormat::rfc3164:
      return "rfc3164";
    case EnvelopeFormat::rfc5424:
      return "rfc5424";
    case EnvelopeFormat::iso:
      return "iso";
    case EnvelopeFormat::log4j:
      return "log4j";
  }
  return "?";
}

std::string_view name_of(Program p) {
  switch (p) {
    case Program::unknown:
      return "unknown";
    case Program::postfix:
      return "postfix";
    case Program::dovecot:
      return "dovecot";
    case Program::sshd:
      return "sshd";
    case Program::amavis:
      return "amavis";
    case Program::zimbra_audit:
      return "zimbra_audit";
    case Program::zimbra_mailbox:
      return "zimbra_mailbox";
  }
  return "?";
}

std::string_view name_of(Protocol p) {
  switch (p) {
    case Protocol::unknown:
      return "unknown";
    case Protocol::smtp:
      return "smtp";
    case Protocol::submission:
      return "submission";
    case Protocol::imap:
      return "imap";
    case Protocol::pop3:
      return "pop3";
    case Protocol::http:
      return "http";
    case Protocol::admin:
      return "admin";
    case Protocol::ssh:
      return "ssh";
    case Protocol::sieve:
      return "sieve";
    case Protocol::lmtp:
      return "lmtp";
  }
  return "?";
}

std::string_view name_of(Outcome o) {
  switch (o) {
    case Outcome::none:
      return "none";
    case Outcome::success:
      return "success";
    case Outcome::failure:
      return "failure";
  }
  return "?";
}

std::string_view name_of(EventKind k) {
  switch (k) {
    case EventKind::unparsed:
      return "unparsed";
    case EventKind::other:
      return "other";
    case EventKind::connect:
      return "connect";
    case EventKind::disconnect:
      return "disconnect";
    case EventKind::auth:
      return "auth";
    case EventKind::invalid_user:
      return "invalid_user";
    case EventKind::reject:
      return "reject";
    case EventKind::access_action:
      return "access_action";
    case EventKind::protocol_error:
      return "protocol_error";
    case EventKind::screen:
      return "screen";
    case EventKind::message_client:
      return "message_client";
    case EventKind::message_id:
      return "message_id";
    case EventKind::message_pickup:
      return "message_pickup";
    case EventKind::message_queued:
      return "message_queued";
    case EventKind::delivery:
      return "delivery";
    case EventKind::bounce_notice:
      return "bounce_notice";
    case EventKind::removed:
      return "removed";
    case EventKind::content_scan:
      return "content_scan";
    case EventKind::admin_command:
      return "admin_command";
    case EventKind::diagnostic:
      return "diagnostic";
    case EventKind::service:
      return "service";
  }
  return "?";
}

std::string_view name_of(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::none:
      return "none";
    case DeliveryStatus::sent:
      return "sent";
    case DeliveryStatus::deferred:
      return "deferred";
    case DeliveryStatus::bounced:
      return "bounced";
    case DeliveryStatus::expired:
      return "expired";
  }
  return "?";
}

}  // namespace mw::logs
