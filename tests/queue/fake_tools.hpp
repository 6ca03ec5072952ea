// A QueueTools that serves a fixed `postqueue -j` text and postcat outputs and records every
// postsuper call, applying it to its own queue so that a second listing sees the effect.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "queue/tools.hpp"

namespace mw::queue::testing {

struct FakeMessage {
  std::string id, queue = "deferred", sender;
  std::int64_t arrival = 1'800'000'000;
  std::uint64_t size = 1000;
  std::vector<std::string> rcpts = {"r@example.net"};
  std::string sasl;  // "" none
};

class FakeTools final : public QueueTools {
 public:
  std::vector<FakeMessage> messages;
  struct Call {
    Action action;
    std::vector<std::string> ids;
    std::vector<std::string> queues;
  };
  std::vector<Call> calls;
  int list_calls = 0;
  int postcat_calls = 0;
  bool fail_super = false;

  std::string json() const {
    std::string out;
    for (const auto& m : messages) {
      std::string r;
      for (const auto& a : m.rcpts)
        r += fmt::format("{}{{\"address\": \"{}\", \"delay_reason\": \"connect refused\"}}",
                         r.empty() ? "" : ", ", a);
      out += fmt::format(
          "{{\"queue_name\": \"{}\", \"queue_id\": \"{}\", \"arrival_time\": {}, "
          "\"message_size\": {}, \"forced_expire\": false, \"sender\": \"{}\", \"recipients\": "
          "[{}]}}\n",
          m.queue, m.id, m.arrival, m.size, m.sender, r);
    }
    return out;
  }
  Result<std::string> list_queue() override {
    ++list_calls;
    return json();
  }
  Result<std::string> read_envelope(const std::string& id) override {
    std::lock_guard lock(*mu_);
    ++postcat_calls;
    for (const auto& m : messages)
      if (m.id == id) {
        std::string out =
            fmt::format("*** ENVELOPE RECORDS {}/{} ***\nsender: {}\n", m.queue, id, m.sender);
        if (!m.sasl.empty()) out += "named_attribute: sasl_username=" + m.sasl + "\n";
        return out + "*** MESSAGE CONTENTS " + m.queue + "/" + id + " ***\n";
      }
    return Error{"postcat: fatal: open queue file " + id + ": No such file or directory"};
  }
  Result<SuperResult> super(Action action, const std::vector<std::string>& ids,
                            const std::vector<std::string>& queues) override {
    calls.push_back({action, ids, queues});
    if (fail_super) return SuperResult{1, "postsuper: fatal: boom\n"};
    std::size_t n = 0;
    for (const auto& id : ids)
      for (auto it = messages.begin(); it != messages.end(); ++it) {
        if (it->id != id) continue;
        if (!queues.empty() && std::find(queues.begin(), queues.end(), it->queue) == queues.end())
          break;
        ++n;
        if (action == Action::remove) {
          messages.erase(it);
        } else {
          it->queue = action == Action::hold ? "hold" : "deferred";
        }
        break;
      }
    const char* verb = action == Action::remove ? "Deleted"
                       : action == Action::hold ? "Placed on hold"
                                                : "Released from hold";
    return SuperResult{0, fmt::format("postsuper: {}: {} message{}\n", verb, n, n == 1 ? "" : "s")};
  }

 private:
  std::shared_ptr<std::mutex> mu_ = std::make_shared<std::mutex>();  // movable fake
};

}  // namespace mw::queue::testing
