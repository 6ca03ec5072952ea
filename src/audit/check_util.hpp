// Small helpers shared by the C++ checks (custom_checks.cpp, network_checks.cpp, host_checks.cpp,
// version_checks.cpp): building a result, and answering not_checked with the loader's reason.
#pragma once

#include <string>
#include <string_view>

#include "audit/engine.hpp"

namespace mw::audit {

inline ControlResult make_result(const Control& c, Status s, std::string detail = {}) {
  ControlResult r;
  r.control = &c;
  r.status = s;
  r.detail = std::move(detail);
  return r;
}

// Why a fact group is missing, as the snapshot loader recorded it, or `fallback`.
inline std::string missing_reason(const Facts& f, const std::string& group,
                                  std::string_view fallback) {
  auto it = f.missing.find(group);
  return it != f.missing.end() ? it->second : std::string(fallback);
}

// not_checked, with the reason the snapshot loader recorded for the missing fact group.
inline ControlResult missing_facts(const Control& c, const Facts& f, const std::string& group,
                                   std::string_view fallback) {
  return make_result(c, Status::not_checked, missing_reason(f, group, fallback));
}

// Where a fact group came from ("zmprov-gs.txt"), or "not collected".
inline std::string origin_of(const Facts& f, const std::string& group) {
  auto it = f.file_of.find(group);
  return it != f.file_of.end() ? it->second : std::string("not collected");
}

}  // namespace mw::audit
