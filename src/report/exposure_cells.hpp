// The exposure matrix in words and in groups, for the renderers: the text of one cell (everyone /
// nobody / the prefixes) and the partition of a family's sources into the classes that meet the
// same outcome on every port (the rows of the HTML report's picture).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "firewall/analysis.hpp"

namespace mw::report {

// "everyone", "nobody", "everyone but 127.0.0.0/8", "198.51.100.0/24, 203.0.113.0/24 +2 more",
// with " (uncertain: ...)" when some sources are uncertain: the cell of `firewall analyze`,
// which lists every uncertain prefix; `short_uncertain` names them as describe_sources() does.
std::string exposure_cell(const fw::ExposureResult& r, Family f, bool short_uncertain = false);

// How much of the family's space a port's cell accepts, for colouring it.
enum class Reach : std::uint8_t { everyone, some, nobody };
Reach reach_of(const fw::ExposureResult& r, Family f);

// Sources of one family that meet the same outcome on every port of a report.
struct SourceClass {
  AddressSet sources;                 // of one family, never empty
  std::vector<fw::Outcome> outcomes;  // per port of the report, in its order
  // Per port: the regions (of the port's v4 or v6 result) that decide for these sources,
  // distinct, at most kMaxDecidingRegions (nullptr: no region covered them; never in a valid
  // report).
  std::vector<std::vector<const fw::Region*>> deciding;
  long double size = 0;  // number of addresses (rounded for IPv6)
};
inline constexpr std::size_t kMaxDecidingRegions = 4;

// The coarsest partition of the family's address space into sources with equal outcomes on every
// port of `report`: largest class first (ties: lowest address first). The classes point into
// `report`, which must outlive them.
std::vector<SourceClass> classify_sources(const fw::AnalysisReport& report, Family f);

// A short name for a set of one family: "0.0.0.0/0", "198.51.100.0/24, 203.0.113.7/32",
// "0.0.0.0/0 minus 198.51.100.0/24", "10.0.0.0/8, 10.2.0.0/16 +14 more",
// "0.0.0.0/0 minus 192.0.2.1/32, 192.0.2.9/32 +4998 more" (a blocklist), "(none)".
std::string describe_sources(const AddressSet& s, Family f);

}  // namespace mw::report
