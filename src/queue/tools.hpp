// The Postfix commands the queue engine runs (postqueue, postsuper, postcat), behind one small
// interface: unit tests use a fake, the CLI and the e2e test the real programs.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"

namespace mw::queue {

enum class Action { hold, release, remove };  // postsuper -h, -H, -d
std::string_view name_of(Action a);           // "hold", "release", "delete"
char postsuper_flag(Action a);                // 'h', 'H', 'd'

struct SuperResult {
  int exit_code = 0;
  std::string err;  // postsuper's report ("postsuper: Deleted: 3 messages") and warnings
  bool success() const { return exit_code == 0; }
};

class QueueTools {
 public:
  virtual ~QueueTools() = default;
  // `postqueue -j`: the raw JSON lines.
  virtual Result<std::string> list_queue() = 0;
  // `postcat -e -q ID`: the envelope records of one message (an Error when it is gone).
  virtual Result<std::string> read_envelope(const std::string& queue_id) = 0;
  // `postsuper -X - [queues...]` with `ids` on stdin, one per line.
  virtual Result<SuperResult> super(Action action, const std::vector<std::string>& ids,
                                    const std::vector<std::string>& queues) = 0;
};

struct PostfixPaths {
  std::string postqueue, postsuper, postcat;
  std::string config_dir;  // Postfix's -c; "" for the programs' default
};

// Zimbra's /opt/zimbra/common/sbin/NAME when it exists, else NAME (looked up in PATH).
std::string default_tool_path(const std::string& name,
                              const std::string& zimbra_sbin = "/opt/zimbra/common/sbin");

class PostfixTools final : public QueueTools {
 public:
  explicit PostfixTools(PostfixPaths paths) : paths_(std::move(paths)) {}
  Result<std::string> list_queue() override;
  Result<std::string> read_envelope(const std::string& queue_id) override;
  Result<SuperResult> super(Action action, const std::vector<std::string>& ids,
                            const std::vector<std::string>& queues) override;
  const PostfixPaths& paths() const { return paths_; }

 private:
  std::vector<std::string> base(const std::string& program) const;
  PostfixPaths paths_;
};

}  // namespace mw::queue
