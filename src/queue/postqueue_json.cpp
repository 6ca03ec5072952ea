// postqueue -j lines through simdjson's On-Demand API: the whole input is copied once into a
// padded buffer and each line is parsed in place (the next lines serve as its padding).
#include "queue/postqueue_json.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

namespace mw::queue {

namespace {

using simdjson::error_code;
namespace od = simdjson::ondemand;

std::string explain(error_code e) {
  return simdjson::error_message(e);
}

// Reads one JSON string into `out`, or says why not.
std::optional<std::string> read_string(od::value v, std::string& out, std::string_view field) {
  std::string_view s;
  if (auto e = v.get_string().get(s); e)
    return fmt::format("field '{}': expected a string ({})", field, explain(e));
  out.assign(s);
  return std::nullopt;
}

std::optional<std::string> read_recipients(od::value v, std::vector<Recipient>& out) {
  od::array arr;
  if (auto e = v.get_array().get(arr); e)
    return fmt::format("field 'recipients': expected an array ({})", explain(e));
  std::size_t index = 0;
  for (auto item : arr) {
    od::object obj;
    if (auto e = item.get_object().get(obj); e)
      return fmt::format("recipients[{}]: expected an object ({})", index, explain(e));
    Recipient r;
    bool have_address = false;
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key); e)
        return fmt::format("recipients[{}]: bad key ({})", index, explain(e));
      od::value val;
      if (auto e = field.value().get(val); e)
        return fmt::format("recipients[{}].{}: {}", index, key, explain(e));
      if (key == "address") {
        if (auto err = read_string(val, r.address, "address"))
          return fmt::format("recipients[{}]: {}", index, *err);
        have_address = true;
      } else if (key == "delay_reason") {
        if (auto err = read_string(val, r.delay_reason, "delay_reason"))
          return fmt::format("recipients[{}]: {}", index, *err);
      }  // other fields (a later Postfix's) are skipped
    }
    if (!have_address) return fmt::format("recipients[{}]: no 'address'", index);
    out.push_back(std::move(r));
    ++index;
  }
  return std::nullopt;
}

// One line: a message, or why it is not one.
std::optional<std::string> parse_line(od::parser& parser, const char* data, std::size_t len,
                                      std::size_t allocated, QueuedMessage& m) {
  od::document doc;
  if (auto e = parser.iterate(data, len, allocated).get(doc); e)
    return "malformed JSON: " + explain(e);
  od::object obj;
  if (auto e = doc.get_object().get(obj); e) return "expected a JSON object: " + explain(e);
  enum : unsigned { kName = 1, kId = 2, kArrival = 4, kSize = 8, kSender = 16, kRcpt = 32 };
  unsigned seen = 0;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) return "bad key: " + explain(e);
    od::value v;
    if (auto e = field.value().get(v); e) return fmt::format("field '{}': {}", key, explain(e));
    if (key == "queue_name") {
      if (auto err = read_string(v, m.queue_name, key)) return err;
      if (m.queue_name.empty() || m.queue_name.size() > 32 ||
          !std::all_of(m.queue_name.begin(), m.queue_name.end(),
                       [](char c) { return c >= 'a' && c <= 'z'; }))
        return fmt::format("field 'queue_name': '{}' is not a queue name", m.queue_name);
      m.queue = queue_from_name(m.queue_name);
      seen |= kName;
    } else if (key == "queue_id") {
      if (auto err = read_string(v, m.queue_id, key)) return err;
      if (!valid_queue_id(m.queue_id))
        return fmt::format("field 'queue_id': '{}' is not a Postfix queue id",
                           m.queue_id.substr(0, 80));
      seen |= kId;
    } else if (key == "arrival_time") {
      if (auto e = v.get_int64().get(m.arrival_time); e)
        return "field 'arrival_time': expected an integer (" + explain(e) + ")";
      seen |= kArrival;
    } else if (key == "message_size") {
      if (auto e = v.get_uint64().get(m.size); e)
        return "field 'message_size': expected a non-negative integer (" + explain(e) + ")";
      seen |= kSize;
    } else if (key == "forced_expire") {
      if (auto e = v.get_bool().get(m.forced_expire); e)
        return "field 'forced_expire': expected true or false (" + explain(e) + ")";
    } else if (key == "sender") {
      if (auto err = read_string(v, m.sender, key)) return err;
      seen |= kSender;
    } else if (key == "recipients") {
      if (auto err = read_recipients(v, m.recipients)) return err;
      seen |= kRcpt;
    }  // a field a later Postfix adds is skipped
  }
  const char* rest = nullptr;
  if (!doc.current_location().get(rest) && rest != nullptr)
    return fmt::format("column {}: text after the JSON object", rest - data + 1);
  static constexpr std::pair<unsigned, const char*> kRequired[] = {
      {kName, "queue_name"},   {kId, "queue_id"},   {kArrival, "arrival_time"},
      {kSize, "message_size"}, {kSender, "sender"}, {kRcpt, "recipients"}};
  for (const auto& [bit, name] : kRequired)
    if ((seen & bit) == 0) return fmt::format("missing field '{}'", name);
  return std::nullopt;
}

}  // namespace

bool valid_queue_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxQueueIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

QueueListing parse_postqueue_json(std::string_view text, std::string_view source) {
  QueueListing out;
  const simdjson::padded_string buffer(text);
  const char* base = buffer.data();
  const std::size_t total = buffer.size();
  od::parser parser(kMaxJsonLineBytes + 64);
  std::size_t pos = 0, line_no = 0;
  auto bad = [&](std::string why) {
    ++out.bad_line_count;
    if (out.bad_lines.size() < kMaxBadLinesKept)
      out.bad_lines.push_back({line_no, fmt::format("{} line {}: {}", source, line_no, why)});
  };
  while (pos < total) {
    const char* nl = static_cast<const char*>(std::memchr(base + pos, '\n', total - pos));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - base) : total;
    ++line_no;
    std::size_t len = end - pos;
    if (len > 0 && base[pos + len - 1] == '\r') --len;
    const std::string_view line(base + pos, len);
    const std::size_t start = pos;
    pos = end + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++out.lines;
    if (len > kMaxJsonLineBytes) {
      bad(fmt::format("line longer than {} bytes", kMaxJsonLineBytes));
      continue;
    }
    QueuedMessage m;
    // The rest of the buffer (and its padding) follows the line: simdjson may read into it.
    if (auto err =
            parse_line(parser, base + start, len, total - start + simdjson::SIMDJSON_PADDING, m)) {
      bad(std::move(*err));
      continue;
    }
    out.messages.push_back(std::move(m));
  }
  return out;
}

}  // namespace mw::queue
