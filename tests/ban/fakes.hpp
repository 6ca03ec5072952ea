// Test doubles shared by the ban engine's and the watch driver's unit tests: a command runner
// that records what the engine runs and answers like nft / ip, and a temporary directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "ban/ban.hpp"

namespace mw::ban::fakes {

// Records every command; answers `nft -j list set` from `kernel`, `ip -j addr` from `ip_json`.
class FakeRunner final : public CommandRunner {
 public:
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> scripts;
  std::string ip_json = "[]";
  std::string kernel4 = "{\"nftables\":[]}";
  bool nft_fails = false;
  int list_fails = 0;  // exit code of `nft -j list set`
  std::string list_err;
  std::size_t lists = 0;  // `nft -j list set` runs
  Result<CommandOutput> run(const std::vector<std::string>& argv,
                            const std::string& stdin_data) override {
    calls.push_back(argv);
    CommandOutput o;
    o.exit_code = 0;
    if (argv.at(0) == "ip") {
      o.out = ip_json;
    } else if (argv.at(0) == "nft" && argv.size() > 2 && argv[1] == "-j") {
      ++lists;
      if (list_fails) {
        o.exit_code = list_fails;
        o.err = list_err;
      }
      o.out = argv.back() == "ban4" ? kernel4 : "{\"nftables\":[]}";
    } else if (argv.at(0) == "nft") {
      scripts.push_back(stdin_data);
      if (nft_fails) {
        o.exit_code = 1;
        o.err = "Error: Could not process rule";
      }
    } else {
      o.exit_code = 127;
    }
    return o;
  }
};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("mw-ban-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static inline int counter = 0;
};

}  // namespace mw::ban::fakes
