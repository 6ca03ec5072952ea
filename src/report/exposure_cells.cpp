// The exposure matrix in words (one cell) and in groups (sources with equal outcomes).
#include "report/exposure_cells.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace mw::report {

namespace {

std::string join(const std::vector<Prefix>& ps, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < ps.size() && i < n; ++i) out += (i ? ", " : "") + to_string(ps[i]);
  return out;
}

std::string_view whole_space(Family f) {
  return f == Family::v4 ? "0.0.0.0/0" : "::/0";
}

// A stretch of one port's address space decided by one region.
struct Piece {
  u128 lo;
  u128 hi;
  const fw::Region* region;
};

}  // namespace

std::string exposure_cell(const fw::ExposureResult& r, Family f, bool short_uncertain) {
  AddressSet acc = r.sources(fw::Outcome::accept).only(f);
  AddressSet unc = r.sources(fw::Outcome::uncertain).only(f);
  std::string text;
  if (acc.is_any(f)) {
    text = "everyone";
  } else if (acc.empty()) {
    text = "nobody";
  } else if (auto but = AddressSet::any_of(f).subtract(acc).to_prefixes(f); but.size() <= 2) {
    // Everyone but a few prefixes (a spoofing rule for 127.0.0.0/8, one banned address).
    text = "everyone but " + join(but, but.size());
  } else {
    auto ps = acc.to_prefixes(f);
    text = join(ps, 3);
    if (ps.size() > 3) text += fmt::format(" +{} more", ps.size() - 3);
  }
  if (!unc.empty()) {
    text += unc.is_any(f)     ? " (uncertain: all)"
            : short_uncertain ? fmt::format(" (uncertain: {})", describe_sources(unc, f))
                              : fmt::format(" (uncertain: {})", unc.to_string());
  }
  return text;
}

Reach reach_of(const fw::ExposureResult& r, Family f) {
  AddressSet acc = r.sources(fw::Outcome::accept).only(f);
  if (acc.is_any(f)) return Reach::everyone;
  return acc.empty() ? Reach::nobody : Reach::some;
}

std::vector<SourceClass> classify_sources(const fw::AnalysisReport& report, Family f) {
  const std::size_t n = report.ports.size();
  const u128 max = family_max(f);

  // Each port's regions as sorted pieces of the space, and every point where some port's
  // outcome may change.
  std::vector<std::vector<Piece>> pieces(n);
  std::vector<u128> starts{0};
  for (std::size_t i = 0; i < n; ++i) {
    const auto& res = f == Family::v4 ? report.ports[i].v4 : report.ports[i].v6;
    for (const auto& reg : res.regions) {
      for (const auto& iv : reg.sources.intervals(f).intervals()) {
        pieces[i].push_back({iv.lo, iv.hi, &reg});
        starts.push_back(iv.lo);
        if (iv.hi < max) starts.push_back(iv.hi + 1);
      }
    }
    std::sort(pieces[i].begin(), pieces[i].end(),
              [](const Piece& a, const Piece& b) { return a.lo < b.lo; });
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());

  // One sweep over the elementary stretches between consecutive starts: each belongs to the
  // class of its outcome vector.
  struct Building {
    SourceClass cls;
    std::vector<Prefix> prefixes;
    u128 first = 0;
  };
  std::vector<Building> classes;
  std::map<std::string, std::size_t> by_signature;
  std::vector<std::size_t> cursor(n, 0);
  std::string signature(n, '\0');
  std::vector<const fw::Region*> deciding(n, nullptr);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const u128 lo = starts[k];
    const u128 hi = k + 1 < starts.size() ? starts[k + 1] - 1 : max;
    for (std::size_t i = 0; i < n; ++i) {
      auto& c = cursor[i];
      while (c < pieces[i].size() && pieces[i][c].hi < lo) ++c;
      const fw::Region* reg =
          c < pieces[i].size() && pieces[i][c].lo <= lo ? pieces[i][c].region : nullptr;
      deciding[i] = reg;
      // A stretch no region covers (never in a valid report) is shown as uncertain.
      signature[i] = static_cast<char>(reg ? reg->outcome : fw::Outcome::uncertain);
    }
    auto [it, fresh] = by_signature.try_emplace(signature, classes.size());
    if (fresh) {
      Building b;
      b.first = lo;
      b.cls.deciding.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        b.cls.outcomes.push_back(static_cast<fw::Outcome>(signature[i]));
      }
      classes.push_back(std::move(b));
    }
    auto& b = classes[it->second];
    auto cover = interval_to_prefixes(f, lo, hi);
    b.prefixes.insert(b.prefixes.end(), cover.begin(), cover.end());
    b.cls.size += static_cast<long double>(hi - lo) + 1.0L;
    for (std::size_t i = 0; i < n; ++i) {
      auto& d = b.cls.deciding[i];
      if (d.size() < kMaxDecidingRegions && std::find(d.begin(), d.end(), deciding[i]) == d.end()) {
        d.push_back(deciding[i]);
      }
    }
  }

  std::stable_sort(classes.begin(), classes.end(), [](const Building& a, const Building& b) {
    if (a.cls.size != b.cls.size) return a.cls.size > b.cls.size;
    return a.first < b.first;
  });
  std::vector<SourceClass> out;
  out.reserve(classes.size());
  for (auto& b : classes) {
    b.cls.sources = AddressSet::of(b.prefixes);
    out.push_back(std::move(b.cls));
  }
  return out;
}

std::string describe_sources(const AddressSet& s, Family f) {
  if (s.is_any(f)) return std::string(whole_space(f));
  auto ps = s.to_prefixes(f);
  if (ps.empty()) return "(none)";
  if (ps.size() <= 2) return join(ps, 2);
  auto but = AddressSet::any_of(f).subtract(s).to_prefixes(f);
  if (but.size() <= 2) return fmt::format("{} minus {}", whole_space(f), join(but, 2));
  // Whichever is shorter: the set, or what the whole space lacks of it (a blocklist).
  if (but.size() < ps.size()) {
    return fmt::format("{} minus {} +{} more", whole_space(f), join(but, 2), but.size() - 2);
  }
  return fmt::format("{} +{} more", join(ps, 2), ps.size() - 2);
}

}  // namespace mw::report
