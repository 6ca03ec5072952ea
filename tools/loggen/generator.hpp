// The synthetic mail server: accounts with their habits, the mail flows and logins they cause,
// the incidents and their benign look-alikes, and the truth (what an analyzer must find).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sink.hpp"

namespace loggen {

enum class Flavor : std::uint8_t { zimbra, postfix };

struct Options {
  std::string out_dir;  // empty: a dry run that only counts bytes
  std::uint64_t seed = 0;
  Flavor flavor = Flavor::zimbra;
  int accounts = 2000;
  int days = 3;
  std::int64_t start_ms = 0;
  // Share (per million) of the planned background activity that is kept: --target-bytes below
  // the natural size thins the background instead of making people busier.
  std::uint32_t rate_ppm = 1000000;
  bool background = true;  // the normal accounts' own logins and mail
  bool fixed = true;       // look-alikes, administrators, scanners (the part that does not scale)
  bool incidents = true;
  bool truth_accounts = false;
};

// Fewest accounts the incidents need (the sprays alone touch about 150).
inline constexpr int kMinAccountsWithIncidents = 250;

struct RunFigures {
  std::array<StreamFigures, kStreams> streams;
  std::vector<std::uint64_t> bytes_by_day;
  std::uint64_t total_bytes = 0;
};

// The file names of a flavor, by stream ("" when the flavor has no such file).
std::array<std::string, kStreams> file_names(Flavor f);

// Throws std::invalid_argument naming the option when `opt` cannot be generated.
void validate(const Options& opt);

// Generates the logs (or counts them, for a dry run) and fills `truth`. Throws
// std::invalid_argument for bad options, std::runtime_error naming the file for I/O errors.
RunFigures generate(const Options& opt, nlohmann::ordered_json& truth);

}  // namespace loggen
