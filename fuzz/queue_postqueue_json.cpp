// Fuzz target: `postqueue -j` output, whose strings come from senders and remote servers
// (addresses, delay reasons). Every line becomes a message or a counted bad line; every
// accepted queue id is safe to give postsuper.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "queue/postqueue_json.hpp"
#include "queue/summary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto l = mw::queue::parse_postqueue_json(text, "fuzz");
  if (l.messages.size() + l.bad_line_count != l.lines) std::abort();
  for (const auto& m : l.messages)
    if (!mw::queue::valid_queue_id(m.queue_id)) std::abort();
  const auto s = mw::queue::summarize(l, nullptr, 1'800'000'000, 5);
  if (s.messages != l.messages.size()) std::abort();
  return 0;
}
