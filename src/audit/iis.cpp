// Reads applicationHost.config with pugixml and merges its <ipSecurity> and <modules> elements
// for one path as IIS does; errors name file:line:column.
#include "audit/iis.hpp"

#include <fmt/format.h>

#include <pugixml.hpp>

#include <algorithm>
#include <map>
#include <utility>

#include "audit/text_lines.hpp"
#include "core/atomic_file.hpp"

namespace mw::audit {

namespace {

constexpr std::string_view kIpSecuritySection = "system.webServer/security/ipSecurity";
constexpr std::string_view kModulesSection = "system.webServer/modules";
// <configSections> nests section groups two or three deep; a deeper file is not IIS's.
constexpr int kMaxSectionGroupDepth = 16;

struct ParseError {
  std::string message;
};

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// A location path as segments: '/' at both ends and "." dropped, lower case (IIS compares
// paths case-insensitively).
std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(i, end - i);
    if (!seg.empty() && seg != ".") out.push_back(detail::ascii_lower(seg));
    i = end + 1;
  }
  return out;
}

std::string normalised(std::string_view path) {
  std::string out;
  for (const auto& s : segments(path)) out += (out.empty() ? "" : "/") + s;
  return out;
}

bool is_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Byte offsets to 1-based line and column (32-bit offsets: the input is at most kIisMaxBytes).
class Positions {
 public:
  explicit Positions(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') newlines_.push_back(static_cast<std::uint32_t>(i));
    }
  }
  std::pair<std::size_t, std::size_t> at(std::size_t offset) const {
    auto it = std::lower_bound(newlines_.begin(), newlines_.end(), offset,
                               [](std::uint32_t nl, std::size_t off) { return nl < off; });
    const std::size_t line = static_cast<std::size_t>(it - newlines_.begin()) + 1;
    const std::size_t start = line == 1 ? 0 : newlines_[line - 2] + 1;
    return {line, offset - start + 1};
  }

 private:
  std::vector<std::uint32_t> newlines_;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view name) : text_(text), name_(name), pos_(text) {}

  IisConfig parse() {
    pugi::xml_document doc;
    // UTF-8 as IIS writes it, so that offsets are byte offsets of the input; a BOM is skipped.
    const pugi::xml_parse_result r =
        doc.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!r) {
      const auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, r.offset));
      fail_at(std::min(offset, text_.size()),
              fmt::format("not well-formed XML: {}", r.description()));
    }
    const pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != "configuration") {
      fail(root, fmt::format("the root element is <{}>, not <configuration>", root.name()));
    }
    config_.source = std::string(name_);
    for (const pugi::xml_node n : root.children()) {
      if (n.type() != pugi::node_element) continue;
      const std::string_view tag = n.name();
      if (tag == "configSections") {
        section_group(n, "", 0);
      } else if (tag == "system.applicationHost") {
        sites(n.child("sites"));
      } else if (tag == "system.webServer") {
        web_server(n, IisLevel{});
      } else if (tag == "location") {
        location(n);
      }
    }
    return std::move(config_);
  }

 private:
  [[noreturn]] void fail_at(std::size_t offset, std::string_view what) const {
    const auto [line, col] = pos_.at(offset);
    throw ParseError{fmt::format("{}:{}:{}: {}", name_, line, col, what)};
  }
  [[noreturn]] void fail(const pugi::xml_node& n, std::string_view what) const {
    fail_at(static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, n.offset_debug())), what);
  }
  std::size_t line_of(const pugi::xml_node& n) const {
    return pos_.at(static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, n.offset_debug()))).first;
  }
  std::size_t column_of(const pugi::xml_node& n) const {
    return pos_.at(static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, n.offset_debug()))).second;
  }

  bool boolean(const pugi::xml_node& n, const pugi::xml_attribute& a) const {
    const std::string v = detail::ascii_lower(a.value());
    if (v == "true") return true;
    if (v == "false") return false;
    fail(n, fmt::format("<{} {}=\"{}\">: expected true or false", n.name(), a.name(), a.value()));
  }

  IisOverride override_mode(const pugi::xml_node& n, const pugi::xml_attribute& a) const {
    const std::string v = detail::ascii_lower(a.value());
    if (v == "allow") return IisOverride::allow;
    if (v == "deny") return IisOverride::deny;
    if (v == "inherit") return IisOverride::inherit;
    fail(n, fmt::format("<{} {}=\"{}\">: expected Allow, Deny or Inherit", n.name(), a.name(),
                        a.value()));
  }

  // lock* attributes; true when `a` is one of them.
  bool lock_attribute(const pugi::xml_node& n, const pugi::xml_attribute& a,
                      IisLocks& locks) const {
    const std::string_view an = a.name();
    auto list = [&] {
      std::vector<std::string> out;
      for (auto item : split_list(a.value())) out.emplace_back(item);
      return out;
    };
    if (an == "lockItem") {
      locks.lock_item = boolean(n, a);
    } else if (an == "lockAttributes") {
      locks.attributes = list();
    } else if (an == "lockElements") {
      locks.elements = list();
    } else if (an == "lockAllAttributesExcept") {
      locks.all_attributes_except = list();
    } else if (an == "lockAllElementsExcept") {
      locks.all_elements_except = list();
    } else {
      return false;
    }
    return true;
  }

  void section_group(const pugi::xml_node& group, const std::string& prefix, int depth) {
    if (depth > kMaxSectionGroupDepth) {
      fail(group, fmt::format("section groups nested deeper than {}", kMaxSectionGroupDepth));
    }
    for (const pugi::xml_node n : group.children()) {
      if (n.type() != pugi::node_element) continue;
      const std::string_view tag = n.name();
      const std::string name = prefix + n.attribute("name").value();
      if (tag == "sectionGroup") {
        section_group(n, name + "/", depth + 1);
      } else if (tag == "section") {
        for (const auto& s : config_.sections) {
          if (s.name == name) {
            fail(n, fmt::format("section '{}' is already declared at line {}", name, s.line));
          }
        }
        IisSectionDecl d;
        d.name = name;
        d.line = line_of(n);
        if (const auto a = n.attribute("overrideModeDefault"))
          d.override_default = override_mode(n, a);
        config_.sections.push_back(std::move(d));
      }
    }
  }

  void sites(const pugi::xml_node& list) {
    for (const pugi::xml_node s : list.children("site")) {
      IisSite site;
      site.name = s.attribute("name").value();
      site.id = s.attribute("id").value();
      site.line = line_of(s);
      for (const pugi::xml_node b : s.child("bindings").children("binding")) {
        site.bindings.push_back(
            {b.attribute("protocol").value(), b.attribute("bindingInformation").value()});
      }
      for (const pugi::xml_node a : s.children("application")) {
        site.applications.emplace_back(a.attribute("path").value());
      }
      config_.sites.push_back(std::move(site));
    }
  }

  void location(const pugi::xml_node& n) {
    IisLevel level;
    level.line = line_of(n);
    bool has_override = false;
    for (const pugi::xml_attribute a : n.attributes()) {
      const std::string_view an = a.name();
      if (an == "path") {
        level.path = a.value();
      } else if (an == "overrideMode") {
        if (has_override) fail(n, "<location> has both overrideMode and allowOverride");
        level.override_mode = override_mode(n, a);
        has_override = true;
      } else if (an == "allowOverride") {
        if (has_override) fail(n, "<location> has both overrideMode and allowOverride");
        level.override_mode = boolean(n, a) ? IisOverride::allow : IisOverride::deny;
        has_override = true;
      } else if (an == "inheritInChildApplications") {
        level.inherit_in_child_applications = boolean(n, a);
      }
    }
    // Trimmed of '/' at both ends, as written otherwise (for reports).
    while (!level.path.empty() && level.path.front() == '/') level.path.erase(0, 1);
    while (!level.path.empty() && level.path.back() == '/') level.path.pop_back();
    if (level.path == ".") level.path.clear();
    for (const pugi::xml_node c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      if (std::string_view(c.name()) == "location") {
        fail(c, "<location> inside <location> (IIS refuses it)");
      }
      if (std::string_view(c.name()) == "system.webServer") web_server(c, level);
    }
  }

  void web_server(const pugi::xml_node& ws, const IisLevel& level) {
    for (const pugi::xml_node n : ws.children()) {
      if (n.type() != pugi::node_element) continue;
      const std::string_view tag = n.name();
      if (tag == "globalModules" && normalised(level.path).empty()) {
        global_modules(n);
      } else if (tag == "modules") {
        modules(n, level);
      } else if (tag == "security") {
        for (const pugi::xml_node s : n.children("ipSecurity")) ip_security(s, level);
      }
    }
  }

  void global_modules(const pugi::xml_node& n) {
    for (const pugi::xml_node c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      const std::string_view tag = c.name();
      const bool ours = iequals(c.attribute("name").value(), kIisRestrictionModule);
      if (tag == "add" && ours) {
        config_.restriction_module_line = line_of(c);
        config_.restriction_module_image = c.attribute("image").value();
      } else if ((tag == "remove" && ours) || tag == "clear") {
        config_.restriction_module_line = 0;
        config_.restriction_module_image.clear();
      }
    }
  }

  // A section may be written once per path in one file: outside <location> and in
  // <location path="."> count as the same path.
  void once_per_path(const pugi::xml_node& n, std::string_view section, const IisLevel& level) {
    const std::string key = std::string(section) + "|" + normalised(level.path);
    auto [it, fresh] = seen_.emplace(key, line_of(n));
    if (!fresh) {
      fail(n, fmt::format("{} is already defined for path '{}' at line {} (IIS refuses the file)",
                          section, level.path, it->second));
    }
  }

  void modules(const pugi::xml_node& n, const IisLevel& level) {
    once_per_path(n, kModulesSection, level);
    IisModules m;
    m.level = level;
    m.line = line_of(n);
    for (const pugi::xml_attribute a : n.attributes()) {
      if (std::string_view(a.name()) == "configSource") m.config_source = a.value();
      lock_attribute(n, a, m.locks);
    }
    for (const pugi::xml_node c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      const std::string_view tag = c.name();
      IisModuleEntry e;
      e.line = line_of(c);
      e.name = c.attribute("name").value();
      if (const auto li = c.attribute("lockItem")) e.lock_item = boolean(c, li);
      if (tag == "add") {
        e.op = IisIpEntry::Op::add;
      } else if (tag == "remove") {
        e.op = IisIpEntry::Op::remove;
      } else if (tag == "clear") {
        e.op = IisIpEntry::Op::clear;
      } else {
        continue;
      }
      m.entries.push_back(std::move(e));
    }
    config_.modules.push_back(std::move(m));
  }

  void ip_security(const pugi::xml_node& n, const IisLevel& level) {
    once_per_path(n, kIpSecuritySection, level);
    IisIpSecurity s;
    s.level = level;
    s.line = line_of(n);
    for (const pugi::xml_attribute a : n.attributes()) {
      const std::string_view an = a.name();
      if (an == "allowUnlisted") {
        s.allow_unlisted = boolean(n, a);
      } else if (an == "enableProxyMode") {
        s.enable_proxy_mode = boolean(n, a);
      } else if (an == "enableReverseDns") {
        s.enable_reverse_dns = boolean(n, a);
      } else if (an == "denyAction") {
        s.deny_action = deny_action(n, a);
      } else if (an == "configSource") {
        s.config_source = a.value();
      } else if (!lock_attribute(n, a, s.locks)) {
        fail(n, fmt::format("<ipSecurity>: unrecognized attribute '{}' (IIS refuses it)", an));
      }
    }
    std::map<std::string, std::size_t> keys;  // added in this element
    for (const pugi::xml_node c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      IisIpEntry e = entry(c);
      if (e.op == IisIpEntry::Op::add) {
        auto [it, fresh] = keys.emplace(e.key, e.line);
        if (!fresh) {
          fail(c, fmt::format("<add> {}: duplicate entry (already added at line {}; IIS refuses "
                              "it)",
                              e.describe(), it->second));
        }
      } else if (e.op == IisIpEntry::Op::clear) {
        keys.clear();
      } else {
        keys.erase(e.key);
      }
      s.entries.push_back(std::move(e));
    }
    config_.ip_security.push_back(std::move(s));
  }

  std::string deny_action(const pugi::xml_node& n, const pugi::xml_attribute& a) const {
    for (std::string_view v : {"AbortRequest", "Unauthorized", "Forbidden", "NotFound"}) {
      if (iequals(a.value(), v)) return std::string(v);
    }
    fail(n, fmt::format("<ipSecurity denyAction=\"{}\">: expected AbortRequest, Unauthorized, "
                        "Forbidden or NotFound",
                        a.value()));
  }

  IisIpEntry entry(const pugi::xml_node& c) const {
    const std::string_view tag = c.name();
    IisIpEntry e;
    e.line = line_of(c);
    if (tag == "add") {
      e.op = IisIpEntry::Op::add;
    } else if (tag == "remove") {
      e.op = IisIpEntry::Op::remove;
    } else if (tag == "clear") {
      e.op = IisIpEntry::Op::clear;
    } else {
      fail(c, fmt::format("<ipSecurity>: unknown element <{}> (expected add, remove, clear)", tag));
    }
    IisLocks ignored;
    for (const pugi::xml_attribute a : c.attributes()) {
      const std::string_view an = a.name();
      if (e.op != IisIpEntry::Op::clear && an == "ipAddress") {
        e.ip_address = a.value();
      } else if (e.op != IisIpEntry::Op::clear && an == "subnetMask") {
        e.subnet_mask = a.value();
      } else if (e.op != IisIpEntry::Op::clear && an == "domainName") {
        e.domain_name = a.value();
      } else if (e.op == IisIpEntry::Op::add && an == "allowed") {
        e.allowed = boolean(c, a);
      } else if (!lock_attribute(c, a, ignored)) {
        fail(c, fmt::format("<{}>: unrecognized attribute '{}' (IIS refuses it)", tag, an));
      }
    }
    if (e.op == IisIpEntry::Op::clear) return e;
    if (!e.ip_address.empty()) {
      e.prefix = prefix_of(c, e);
      // The key as IIS compares it: the address and mask as given (host bits included).
      auto addr = parse_address(e.ip_address);
      e.key = fmt::format("{}/{}|{}", to_string(*addr), e.prefix->len,
                          detail::ascii_lower(e.domain_name));
    } else if (!e.domain_name.empty()) {
      e.key = "|" + detail::ascii_lower(e.domain_name);
    } else {
      fail(c, fmt::format("<{}>: neither ipAddress nor domainName", tag));
    }
    return e;
  }

  // ipAddress with subnetMask. IPv4: a dotted mask (Microsoft's documented form) or a prefix
  // length; IPv6: a prefix length (IIS Manager's "Mask or Prefix"), or none for one address.
  Prefix prefix_of(const pugi::xml_node& c, const IisIpEntry& e) const {
    auto addr = parse_address(e.ip_address);
    if (!addr) {
      fail(c,
           fmt::format("<{} ipAddress=\"{}\">: {}", c.name(), e.ip_address, addr.error().message));
    }
    const int bits = family_bits(addr->family);
    int len = bits;
    const std::string_view mask = e.subnet_mask;
    auto bad_mask = [&](std::string_view why) {
      fail(c, fmt::format("<{} ipAddress=\"{}\" subnetMask=\"{}\">: {}", c.name(), e.ip_address,
                          e.subnet_mask, why));
    };
    if (mask.empty()) {
      len = bits;
    } else if (detail::all_digits(mask)) {
      if (mask.size() > 3 || (mask.size() > 1 && mask.front() == '0') ||
          std::stoi(std::string(mask)) > bits) {
        bad_mask(fmt::format("a prefix length is 0 to {}", bits));
      }
      len = std::stoi(std::string(mask));
    } else if (addr->family == Family::v6) {
      bad_mask("an IPv6 entry takes a prefix length (0 to 128), not a dotted mask");
    } else {
      auto m = parse_address(mask);
      if (!m || m->family != Family::v4) bad_mask("not a dotted subnet mask");
      // Contiguous ones from the left: the complement plus one is a power of two.
      const u128 inverse = ~m->value & family_max(Family::v4);
      if ((inverse & (inverse + 1)) != 0) {
        bad_mask("not a contiguous mask (IIS masks are a run of ones, then zeros)");
      }
      len = 32;
      for (u128 v = inverse; v != 0; v >>= 1) --len;
    }
    Prefix p;
    p.addr.family = addr->family;
    p.addr.value = addr->value & ~host_mask(addr->family, len) & family_max(addr->family);
    p.len = len;
    return p;
  }

  std::string_view text_;
  std::string_view name_;
  Positions pos_;
  IisConfig config_;
  std::map<std::string, std::size_t> seen_;  // section|path -> line
};

// ------------------------------------------------------------------------------- effective

struct Target {
  std::vector<std::string> segs;
  std::size_t app_depth = 0;  // segments of the deepest application containing the path
};

Target target_of(const IisConfig& config, std::string_view path) {
  Target t;
  t.segs = segments(path);
  if (t.segs.empty()) return t;
  t.app_depth = 1;  // the site's root application
  for (const auto& site : config.sites) {
    if (detail::ascii_lower(site.name) != t.segs.front()) continue;
    for (const auto& app : site.applications) {
      auto a = segments(app);
      a.insert(a.begin(), t.segs.front());
      if (is_prefix(a, t.segs)) t.app_depth = std::max(t.app_depth, a.size());
    }
  }
  return t;
}

// Whether an element at `level` is part of the configuration of `t`.
bool applies(const IisLevel& level, const Target& t) {
  const auto segs = segments(level.path);
  if (!is_prefix(segs, t.segs)) return false;
  // inheritInChildApplications="false": not into an application below the location.
  if (!level.inherit_in_child_applications && segs.size() < t.segs.size() &&
      t.app_depth > segs.size()) {
    return false;
  }
  return true;
}

// The elements of one section that apply to `t`, most general first (file order within a
// depth: IIS allows one per path, so equal depths are the same path).
template <class Element>
std::vector<const Element*> chain(const std::vector<Element>& all, const Target& t) {
  std::vector<const Element*> out;
  for (const auto& e : all) {
    if (applies(e.level, t)) out.push_back(&e);
  }
  std::stable_sort(out.begin(), out.end(), [](const Element* a, const Element* b) {
    return segments(a->level.path).size() < segments(b->level.path).size();
  });
  return out;
}

// overrideMode for the web.config files at `t`: the most specific location on the chain that
// holds the section and says Allow or Deny, else the declaration's overrideModeDefault.
template <class Element>
std::pair<IisOverride, std::string> lower_files(const IisConfig& config,
                                                const std::vector<const Element*>& elements,
                                                std::string_view section, bool& declared) {
  const IisSectionDecl* d = config.section(section);
  declared = d != nullptr;
  for (auto it = elements.rbegin(); it != elements.rend(); ++it) {
    const IisLevel& l = (*it)->level;
    if (l.override_mode != IisOverride::inherit) {
      return {l.override_mode,
              fmt::format("<location path=\"{}\" overrideMode=\"{}\"> at {}:{}", l.path,
                          iis_override_name(l.override_mode), config.source, l.line)};
    }
  }
  if (!d) {
    return {IisOverride::allow,
            fmt::format("no declaration of {} in <configSections> of {}", section, config.source)};
  }
  return {d->override_default,
          fmt::format("overrideModeDefault=\"{}\" of its declaration at {}:{}",
                      iis_override_name(d->override_default), config.source, d->line)};
}

}  // namespace

std::string_view iis_override_name(IisOverride o) {
  switch (o) {
    case IisOverride::allow:
      return "Allow";
    case IisOverride::deny:
      return "Deny";
    case IisOverride::inherit:
      break;
  }
  return "Inherit";
}

namespace {

bool listed(const std::vector<std::string>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& s) { return s == "*" || s == name; });
}

}  // namespace

bool IisLocks::attribute_locked(std::string_view name) const {
  return listed(attributes, name) ||
         (all_attributes_except && !listed(*all_attributes_except, name));
}

bool IisLocks::element_locked(std::string_view name) const {
  return listed(elements, name) || (all_elements_except && !listed(*all_elements_except, name));
}

std::string IisIpEntry::describe() const {
  if (op == Op::clear) return "clear";
  if (prefix) return to_string(*prefix);
  return domain_name + " (domain)";
}

const IisSite* IisConfig::site(std::string_view name) const {
  for (const auto& s : sites) {
    if (iequals(s.name, name)) return &s;
  }
  return nullptr;
}

const IisSectionDecl* IisConfig::section(std::string_view name) const {
  for (const auto& s : sections) {
    if (iequals(s.name, name)) return &s;
  }
  return nullptr;
}

Result<IisConfig> parse_iis_config(std::string_view text, std::string_view name) {
  if (text.size() > kIisMaxBytes) {
    return Error{fmt::format("{}: {} bytes, more than the {} an applicationHost.config may have",
                             name, text.size(), kIisMaxBytes)};
  }
  try {
    return Parser(text, name).parse();
  } catch (const ParseError& e) {
    return Error{e.message};
  }
}

Result<IisConfig> load_iis_config(const std::filesystem::path& path) {
  auto text = read_file(path, kIisMaxBytes);
  if (!text) return text.error();
  auto config = parse_iis_config(*text, path.string());
  if (config) config->source = path.filename().string();
  return config;
}

Result<IisEffective> effective_ip_security(const IisConfig& config, std::string_view path) {
  IisEffective eff;
  eff.path = std::string(path);
  const Target t = target_of(config, path);
  const auto elements = chain(config.ip_security, t);
  for (const IisIpSecurity* s : elements) {
    eff.elements.push_back(s->line);
    if (!s->config_source.empty() && eff.unreadable.empty()) {
      eff.unreadable = fmt::format(
          "the <ipSecurity> at {}:{} takes its content from '{}' (configSource), which was not "
          "given",
          config.source, s->line, s->config_source);
    }
    if (s->allow_unlisted) {
      eff.allow_unlisted = *s->allow_unlisted;
      eff.allow_unlisted_line = s->line;
    }
    if (s->enable_proxy_mode) {
      eff.enable_proxy_mode = *s->enable_proxy_mode;
      eff.enable_proxy_mode_line = s->line;
    }
    if (s->deny_action) {
      eff.deny_action = *s->deny_action;
      eff.deny_action_line = s->line;
    }
    if (s->enable_reverse_dns) eff.enable_reverse_dns = *s->enable_reverse_dns;
    for (const IisIpEntry& e : s->entries) {
      switch (e.op) {
        case IisIpEntry::Op::clear:
          if (!eff.entries.empty()) {
            eff.notes.push_back(
                fmt::format("<clear/> at {}:{} drops the {} entries inherited "
                            "from above",
                            config.source, e.line, eff.entries.size()));
          }
          eff.entries.clear();
          break;
        case IisIpEntry::Op::remove: {
          auto it = std::find_if(eff.entries.begin(), eff.entries.end(),
                                 [&](const IisIpEntry& x) { return x.key == e.key; });
          if (it == eff.entries.end()) {
            eff.notes.push_back(
                fmt::format("<remove> {} at {}:{} removes nothing: no level "
                            "above adds it",
                            e.describe(), config.source, e.line));
          } else {
            eff.entries.erase(it);
          }
          break;
        }
        case IisIpEntry::Op::add: {
          auto it = std::find_if(eff.entries.begin(), eff.entries.end(),
                                 [&](const IisIpEntry& x) { return x.key == e.key; });
          if (it != eff.entries.end()) {
            return Error{fmt::format(
                "{}:{}:1: <add> {} for path '{}': duplicate of the entry added at line {} (IIS "
                "refuses the configuration)",
                config.source, e.line, e.describe(), s->level.path, it->line)};
          }
          eff.entries.push_back(e);
          break;
        }
      }
    }
  }
  for (const IisIpSecurity& s : config.ip_security) {
    if (!s.level.inherit_in_child_applications && !applies(s.level, t) &&
        is_prefix(segments(s.level.path), t.segs)) {
      eff.notes.push_back(fmt::format(
          "the <ipSecurity> of <location path=\"{}\" inheritInChildApplications=\"false\"> at "
          "{}:{} does not reach the application {}",
          s.level.path, config.source, s.level.line, path));
    }
  }

  // First matching entry decides; allowUnlisted for the rest.
  AddressSet decided;
  for (const IisIpEntry& e : eff.entries) {
    if (!e.prefix) continue;
    const AddressSet p = AddressSet::of(*e.prefix);
    if (e.allowed) eff.allowed = eff.allowed.unite(p.subtract(decided));
    decided = decided.unite(p);
  }
  if (eff.allow_unlisted) eff.allowed = eff.allowed.unite(decided.complement());

  // The module: installed server-wide, enabled by <modules> along the path.
  eff.module_installed = config.restriction_module_line != 0;
  eff.module_installed_line = config.restriction_module_line;
  const auto mods = chain(config.modules, t);
  bool any_lock_of_modules = false;
  for (const IisModules* m : mods) {
    if (!m->config_source.empty() && eff.unreadable.empty()) {
      eff.unreadable = fmt::format(
          "the <modules> at {}:{} takes its content from '{}' (configSource), which was not given",
          config.source, m->line, m->config_source);
    }
    any_lock_of_modules = any_lock_of_modules || m->locks.lock_item ||
                          (m->locks.element_locked("remove") && m->locks.element_locked("clear"));
    for (const IisModuleEntry& e : m->entries) {
      if (e.op == IisIpEntry::Op::clear ||
          (e.op == IisIpEntry::Op::remove && iequals(e.name, kIisRestrictionModule))) {
        eff.module_enabled = false;
        eff.module_entry_locked = false;
        eff.module_line = e.line;
      } else if (e.op == IisIpEntry::Op::add && iequals(e.name, kIisRestrictionModule)) {
        eff.module_enabled = true;
        eff.module_entry_locked = e.lock_item;
        eff.module_line = e.line;
      }
    }
  }
  bool modules_declared = false;
  if (lower_files(config, mods, kModulesSection, modules_declared).first == IisOverride::deny ||
      any_lock_of_modules) {
    eff.module_entry_locked = eff.module_enabled;
  }

  // What the web.config files at this path may change.
  auto [mode, from] = lower_files(config, elements, kIpSecuritySection, eff.section_declared);
  eff.lower_files = mode;
  eff.lower_files_from = std::move(from);
  if (eff.lower_files != IisOverride::deny) {
    for (std::string_view what : {"allowUnlisted", "enableProxyMode"}) {
      const bool locked =
          std::any_of(elements.begin(), elements.end(), [&](const IisIpSecurity* s) {
            return s->locks.lock_item || s->locks.attribute_locked(what);
          });
      if (!locked) eff.open_to_web_config.emplace_back(what);
    }
    for (std::string_view what : {"add", "remove", "clear"}) {
      const bool locked =
          std::any_of(elements.begin(), elements.end(), [&](const IisIpSecurity* s) {
            return s->locks.lock_item || s->locks.element_locked(what);
          });
      if (!locked) eff.open_to_web_config.emplace_back(what);
    }
  }
  return eff;
}

std::vector<std::string> iis_paths_below(const IisConfig& config, std::string_view path) {
  const auto base = segments(path);
  std::vector<std::string> out, seen;
  auto consider = [&](const IisLevel& l) {
    const auto segs = segments(l.path);
    if (segs.size() <= base.size() || !is_prefix(base, segs)) return;
    const std::string key = normalised(l.path);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
    seen.push_back(key);
    out.push_back(l.path);
  };
  for (const auto& s : config.ip_security) consider(s.level);
  for (const auto& m : config.modules) consider(m.level);
  return out;
}

}  // namespace mw::audit
