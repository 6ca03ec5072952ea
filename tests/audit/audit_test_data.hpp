// Test helpers: reading the bundled example snapshots and test data.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace mw::audit::test {

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string snapshot_file(const std::string& snapshot, const std::string& file) {
  return read_source_file("examples/snapshots/" + snapshot + "/" + file);
}

}  // namespace mw::audit::test
