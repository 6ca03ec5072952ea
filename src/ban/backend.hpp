// The kernel side of the ban engine behind one interface, so that the allow-list, recidive and
// state logic of BanEngine is shared: nft (table inet mailwarden_ban) or iptables + ipset.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ban/ban.hpp"

namespace mw::ban {

// One ban to write: `replaced` (narrower active bans) go, `prefix` is (re)added with its
// timeout and comment, as one transaction where the backend has them.
struct BanChange {
  Prefix prefix;
  Seconds timeout{0};
  std::string comment;
  std::vector<Prefix> replaced;
};

class BanBackend {
 public:
  virtual ~BanBackend() = default;
  virtual std::string_view name() const = 0;  // "nft", "iptables"
  // The active bans of one family; none when the set does not exist yet.
  virtual Result<std::vector<KernelBan>> elements(Family f) = 0;
  // What apply() would run (scripts and commands), for dry runs; touches nothing.
  virtual std::string describe(const BanChange& change) const = 0;
  // Creates the sets and the chain if needed (never dropping existing elements), then the ban.
  virtual Status apply(const BanChange& change) = 0;
  // Several bans as one kernel transaction where the backend has one (one nft script, one
  // ipset restore): a burst of findings costs one process run, not two per ban. The changes
  // must not overlap one another (BanEngine::add_all makes sure of that).
  virtual Status apply_all(const std::vector<BanChange>& changes) = 0;
  virtual Status remove(const Prefix& p) = 0;
  // Empties both ban sets; nothing else.
  virtual Status flush() = 0;
  virtual Seconds max_timeout() const = 0;
};

std::unique_ptr<BanBackend> make_nft_backend(CommandRunner& runner, std::string nft);
std::unique_ptr<BanBackend> make_iptables_backend(CommandRunner& runner, IptablesTools tools);
// `automatic`: nft when `nft list tables` succeeds through the runner, else iptables.
BackendChoice detect_backend(CommandRunner& runner, const std::string& nft);

}  // namespace mw::ban
