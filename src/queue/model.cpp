// Names of the queues and the small address helpers of the queue model.
#include "queue/model.hpp"

#include <array>

namespace mw::queue {

namespace {
constexpr std::array<std::string_view, kQueueNames> kNames = {
    "maildrop", "incoming", "active", "deferred", "hold", "corrupt", "other"};
}

std::string_view name_of(QueueName q) {
  return kNames[static_cast<std::size_t>(q)];
}

QueueName queue_from_name(std::string_view name) {
  for (std::size_t i = 0; i + 1 < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<QueueName>(i);
  return QueueName::other;
}

std::string QueueListing::first_error() const {
  return bad_lines.empty() ? std::string() : bad_lines.front().message;
}

std::string_view domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace mw::queue
