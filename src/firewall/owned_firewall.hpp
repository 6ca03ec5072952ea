// The kernel side of `firewall apply`: reads the host's rulesets, saves and restores exactly
// what mailwarden owns, checks and installs a new owned part, each in one kernel transaction.
// One implementation per backend (nft, iptables); unit tests use a fake.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "firewall/artefact.hpp"
#include "firewall/plan.hpp"

namespace mw::fw {

// A ruleset dump as the analyser reads it (iptables-save text or nft JSON), named for messages.
struct NamedDump {
  std::string name;  // "nft -j list ruleset", "iptables-save"...
  std::string text;
};

class OwnedFirewall {
 public:
  virtual ~OwnedFirewall() = default;
  virtual std::string_view backend() const = 0;

  // The new owned part from the policy's plan (the backend's generated artefacts).
  virtual Result<std::vector<Artefact>> render(const FirewallPlan& plan) const = 0;
  // Every ruleset active on the host now, as the analyser reads them.
  virtual Result<std::vector<NamedDump>> today() = 0;
  // What mailwarden owns now, serialised for the state directory ("absent" included).
  virtual Result<std::string> save() = 0;
  // The kernel tool's own check of `candidate` (nft -c, iptables-restore --test): no change.
  virtual Status check(const std::vector<Artefact>& candidate) = 0;
  // Tomorrow's dumps: `today` with the owned part replaced by `candidate`.
  virtual Result<std::vector<NamedDump>> tomorrow(const std::vector<NamedDump>& today,
                                                  const std::vector<Artefact>& candidate) = 0;
  // Replaces the owned part by `candidate`. On error the caller restores the saved state.
  virtual Status install(const std::vector<Artefact>& candidate) = 0;
  // Puts the owned part back as `saved` (from save()), touching nothing else.
  virtual Status restore(std::string_view saved) = 0;
};

// The real ones. `work_dir` receives the files handed to nft / iptables-restore, so that their
// error messages name a file the operator can open (file:line:column).
std::unique_ptr<OwnedFirewall> make_owned_firewall(std::string_view backend,
                                                   const std::filesystem::path& work_dir);

}  // namespace mw::fw
