// dpkg -l and rpm -qa parsers.
#include "audit/dpkg.hpp"

#include <fmt/format.h>

#include "audit/text_lines.hpp"
#include "core/quote.hpp"

namespace mw::audit {
namespace {

using detail::error_at;

bool is_one_of(char c, std::string_view set) {
  return set.find(c) != std::string_view::npos;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

const Package* PackageList::find(std::string_view name) const {
  for (const auto& p : packages) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool PackageList::installed(std::string_view name) const {
  for (const auto& p : packages) {
    if (p.name == name && p.installed()) return true;
  }
  return false;
}

Result<PackageList> parse_dpkg_l(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  PackageList out;
  bool has_arch = true;
  for (const auto& line : detail::split_lines(text)) {
    const std::string_view t = line.text;
    if (detail::trim(t).empty()) continue;
    if (starts_with(t, "Desired=") || starts_with(t, "| ") || starts_with(t, "+++-") ||
        starts_with(t, "dpkg-query: ") || starts_with(t, "dpkg: ")) {
      continue;
    }
    if (starts_with(t, "||/ ") || starts_with(t, "|/ ")) {
      if (starts_with(t, "||/ ")) has_arch = t.find("Architecture") != std::string_view::npos;
      continue;
    }
    const auto f = detail::split_fields(t);
    const std::size_t need = has_arch ? 4 : 3;
    const std::string_view st = f[0].text;
    if (f[0].col != 1 || st.size() < 2 || st.size() > 3 || !is_one_of(st[0], "uihrp") ||
        !is_one_of(st[1], "ncHUFWti") || (st.size() == 3 && !is_one_of(st[2], " R"))) {
      return error_at(
          source, line.number, f[0].col,
          fmt::format("expected a status such as 'ii' or 'rc', got {}", quote_input(st)));
    }
    if (f.size() < need) {
      return error_at(source, line.number, 1,
                      fmt::format("expected status, name, version{} and description, got {}",
                                  has_arch ? ", architecture" : "", quote_input(t)));
    }
    Package p;
    p.line = line.number;
    p.desired = st[0];
    p.status = st[1];
    p.error = st.size() == 3 ? st[2] : ' ';
    std::string_view name = f[1].text;
    if (const std::size_t colon = name.find(':'); colon != std::string_view::npos) {
      name = name.substr(0, colon);
    }
    p.name = std::string(name);
    p.version = std::string(f[2].text);
    std::size_t desc_field = 3;
    if (has_arch) {
      p.arch = std::string(f[3].text);
      desc_field = 4;
    }
    if (f.size() > desc_field) p.description = std::string(t.substr(f[desc_field].col - 1));
    out.packages.push_back(std::move(p));
  }
  return out;
}

Result<PackageList> parse_rpm_qa(std::string_view text, std::string_view source) {
  if (auto st = detail::check_bounds(text, source); !st) return st.error();
  PackageList out;
  for (const auto& line : detail::split_lines(text)) {
    const auto f = detail::split_fields(line.text);
    if (f.empty()) continue;
    if (f.size() > 1) {
      return error_at(source, line.number, f[1].col,
                      fmt::format("expected one package per line, got {}", quote_input(line.text)));
    }
    std::string_view s = f[0].text;
    Package p;
    p.line = line.number;
    p.desired = 'i';
    p.status = 'i';
    // The arch is the suffix after the last '.', when that suffix follows the release.
    const std::size_t r_dash = s.rfind('-');
    if (r_dash == std::string_view::npos || r_dash == 0) {
      return error_at(source, line.number, f[0].col,
                      fmt::format("expected name-version-release[.arch], got {}", quote_input(s)));
    }
    const std::size_t dot = s.rfind('.');
    if (dot != std::string_view::npos && dot > r_dash) {
      const std::string_view arch = s.substr(dot + 1);
      static constexpr std::string_view kArches[] = {
          "x86_64",  "noarch", "i686", "i386", "aarch64", "ppc64le", "s390x",
          "armv7hl", "ppc64",  "src",  "i586", "riscv64", "armhfp"};
      for (auto a : kArches) {
        if (arch == a) {
          p.arch = std::string(arch);
          s = s.substr(0, dot);
          break;
        }
      }
    }
    const std::size_t rd = s.rfind('-');
    const std::size_t vd =
        rd == std::string_view::npos || rd == 0 ? std::string_view::npos : s.rfind('-', rd - 1);
    if (vd == std::string_view::npos || vd == 0 || rd + 1 == s.size() || vd + 1 == rd) {
      return error_at(
          source, line.number, f[0].col,
          fmt::format("expected name-version-release[.arch], got {}", quote_input(f[0].text)));
    }
    p.name = std::string(s.substr(0, vd));
    p.version = std::string(s.substr(vd + 1));
    out.packages.push_back(std::move(p));
  }
  return out;
}

}  // namespace mw::audit
