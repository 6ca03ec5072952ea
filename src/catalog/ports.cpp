// Loads catalog/ports/*.toml with toml++ and checks its schema; errors name file:line:column.
#include "catalog/ports.hpp"

#include "catalog/toml_file.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#ifndef MW_CATALOG_DIR
#error "MW_CATALOG_DIR must name the default catalog directory (see src/catalog/CMakeLists.txt)"
#endif

namespace mw {

namespace {

constexpr std::array<std::string_view, 4> kExposureNames = {"public", "admin", "cluster",
                                                            "loopback"};
constexpr std::string_view kExpectedClasses = "public, admin, cluster, loopback";

// A catalog is reviewed data, not hostile input, but a mistyped path must not make us read a
// disk image into memory.
constexpr std::uintmax_t kMaxCatalogBytes = 1024 * 1024;

constexpr std::array<std::string_view, 6> kTopKeys = {"product",  "title",       "roles",
                                                      "features", "default_off", "port"};
constexpr std::array<std::string_view, 10> kPortKeys = {
    "port",  "protocol", "service",   "description", "single",
    "multi", "feature",  "attribute", "source",      "never_public"};

// Validation stops at the first error. Throwing this inside the parser keeps every check to one
// statement; parse_port_catalog() catches it, so it never leaves this file.
struct CatalogError {
  std::string message;
};

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Role, feature and product names are identifiers that policies and file names reuse.
bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() < 'a' || s.front() > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

template <class Range>
std::string join(const Range& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

class CatalogParser {
 public:
  explicit CatalogParser(std::string_view name) : name_(name) {}

  PortCatalog parse(const toml::table& root) {
    PortCatalog cat;
    cat.location = name_;
    check_keys(root, "", kTopKeys);

    cat.product = required_string(root, root_region(), "product");
    if (!is_name(cat.product))
      fail(*root.get("product"), "product",
           fmt::format("'{}' is not a name (lower-case letters, digits, '-')", cat.product));
    cat.title = required_string(root, root_region(), "title");
    cat.roles = name_list(root, "roles");
    cat.features = name_list(root, "features");
    if (root.get("default_off")) {
      cat.default_off = name_list(root, "default_off");
      for (std::size_t i = 0; i < cat.default_off.size(); ++i) {
        const auto& f = cat.default_off[i];
        if (std::find(cat.features.begin(), cat.features.end(), f) == cat.features.end())
          fail(*root.get("default_off")->as_array()->get(i), fmt::format("default_off[{}]", i),
               fmt::format("'{}' is not declared in features", f));
      }
    }

    const toml::node* ports = root.get("port");
    if (ports == nullptr) fail(root_region(), "port", "missing: a catalog lists at least one port");
    const toml::array* list = ports->as_array();
    if (list == nullptr || !list->is_array_of_tables())
      fail(*ports, "port", "expected an array of tables ([[port]] sections)");
    if (list->empty()) fail(*ports, "port", "empty: a catalog lists at least one port");

    // (protocol, port) -> index of its first definition, for the duplicate message.
    std::map<std::pair<Protocol, std::uint16_t>, std::size_t> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::table& t = *list->get(i)->as_table();
      PortFact fact = parse_port(t, i, cat);
      const auto [it, inserted] = seen.emplace(std::pair{fact.protocol, fact.port}, i);
      if (!inserted) {
        const auto first_line = list->get(it->second)->source().begin.line;
        fail(*t.get("port"), field(i, "port"),
             fmt::format("{}/{} is already defined by port[{}] at line {}",
                         protocol_name(fact.protocol), fact.port, it->second, first_line));
      }
      cat.ports.push_back(std::move(fact));
    }
    std::stable_sort(cat.ports.begin(), cat.ports.end(), [](const auto& a, const auto& b) {
      return std::tie(a.protocol, a.port) < std::tie(b.protocol, b.port);
    });
    return cat;
  }

  [[noreturn]] void fail(const toml::source_region& at, std::string_view field,
                         std::string_view what) const {
    // A node built without a position (none here, but toml++ allows it) still gets a usable
    // message: the file, then the field.
    const auto line = at.begin.line > 0 ? at.begin.line : 1;
    const auto column = at.begin.column > 0 ? at.begin.column : 1;
    throw CatalogError{fmt::format("{}:{}:{}: {}: {}", name_, line, column, field, what)};
  }
  [[noreturn]] void fail(const toml::node& at, std::string_view field,
                         std::string_view what) const {
    fail(at.source(), field, what);
  }

 private:
  static toml::source_region root_region() {
    toml::source_region r;
    r.begin = {1, 1};
    r.end = {1, 1};
    return r;
  }

  static std::string field(std::size_t index, std::string_view key) {
    return fmt::format("port[{}].{}", index, key);
  }

  template <std::size_t N>
  void check_keys(const toml::table& t, std::string_view prefix,
                  const std::array<std::string_view, N>& allowed) const {
    for (auto&& [key, node] : t) {
      (void)node;
      const std::string_view k = key.str();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        fail(key.source(), fmt::format("{}{}", prefix, k),
             fmt::format("unknown key (expected one of {})", join(allowed)));
      }
    }
  }

  std::string required_string(const toml::table& t, const toml::source_region& table_at,
                              std::string_view key, std::string_view field_name = {}) const {
    const std::string f = field_name.empty() ? std::string(key) : std::string(field_name);
    const toml::node* n = t.get(key);
    if (n == nullptr) fail(table_at, f, "missing (required)");
    std::string value = string_value(*n, f);
    if (value.empty()) fail(*n, f, "must not be empty");
    return value;
  }

  std::string string_value(const toml::node& n, std::string_view f) const {
    const auto* s = n.as_string();
    if (s == nullptr) fail(n, f, fmt::format("expected a string, got {}", type_name(n.type())));
    return s->get();
  }

  std::vector<std::string> name_list(const toml::table& root, std::string_view key) const {
    std::vector<std::string> out;
    const toml::node* n = root.get(key);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr)
      fail(*n, key, fmt::format("expected an array of names, got {}", type_name(n->type())));
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& item = *a->get(i);
      const std::string f = fmt::format("{}[{}]", key, i);
      std::string value = string_value(item, f);
      if (!is_name(value))
        fail(item, f, fmt::format("'{}' is not a name (lower-case letters, digits, '-')", value));
      if (std::find(out.begin(), out.end(), value) != out.end())
        fail(item, f, fmt::format("'{}' is listed twice", value));
      out.push_back(std::move(value));
    }
    return out;
  }

  Exposure exposure_value(const toml::node& n, std::string_view f) const {
    const std::string text = string_value(n, f);
    const auto e = parse_exposure(text);
    if (!e) fail(n, f, fmt::format("unknown class '{}' (expected {})", text, kExpectedClasses));
    return *e;
  }

  PortFact parse_port(const toml::table& t, std::size_t i, const PortCatalog& cat) const {
    PortFact fact;
    const toml::source_region& at = t.source();
    fact.location = fmt::format("{}:{}", name_, at.begin.line);
    check_keys(t, fmt::format("port[{}].", i), kPortKeys);

    const toml::node* port = t.get("port");
    if (port == nullptr) fail(at, field(i, "port"), "missing (required)");
    const auto* number = port->as_integer();
    if (number == nullptr)
      fail(*port, field(i, "port"),
           fmt::format("expected an integer, got {}", type_name(port->type())));
    if (number->get() < 1 || number->get() > 65535)
      fail(*port, field(i, "port"), fmt::format("{} is outside 1-65535", number->get()));
    fact.port = static_cast<std::uint16_t>(number->get());

    const std::string proto_field = field(i, "protocol");
    const std::string proto = required_string(t, at, "protocol", proto_field);
    const auto parsed = parse_protocol(proto);
    if (!parsed.ok())
      fail(*t.get("protocol"), proto_field,
           fmt::format("unknown protocol '{}' (expected tcp, udp)", proto));
    fact.protocol = parsed.value();

    fact.service = required_string(t, at, "service", field(i, "service"));
    fact.description = required_string(t, at, "description", field(i, "description"));
    fact.source = required_string(t, at, "source", field(i, "source"));
    if (const toml::node* n = t.get("attribute")) {
      fact.attribute = string_value(*n, field(i, "attribute"));
      if (fact.attribute.empty()) fail(*n, field(i, "attribute"), "empty: omit the key instead");
    }

    if (const toml::node* n = t.get("single")) fact.single = exposure_value(*n, field(i, "single"));

    if (const toml::node* n = t.get("multi")) {
      const toml::table* roles = n->as_table();
      if (roles == nullptr)
        fail(*n, field(i, "multi"),
             fmt::format("expected a table of role = class, got {}", type_name(n->type())));
      for (auto&& [key, value] : *roles) {
        const std::string role(key.str());
        const std::string f = field(i, "multi." + role);
        if (std::find(cat.roles.begin(), cat.roles.end(), role) == cat.roles.end())
          fail(key.source(), f,
               fmt::format("role '{}' is not declared in roles ({})", role,
                           cat.roles.empty() ? std::string("none declared") : join(cat.roles)));
        fact.multi.emplace(role, exposure_value(value, f));
      }
    }

    if (const toml::node* n = t.get("feature")) {
      fact.feature = string_value(*n, field(i, "feature"));
      if (std::find(cat.features.begin(), cat.features.end(), fact.feature) == cat.features.end())
        fail(*n, field(i, "feature"),
             fmt::format("feature '{}' is not declared in features ({})", fact.feature,
                         cat.features.empty() ? std::string("none declared") : join(cat.features)));
    }

    if (const toml::node* n = t.get("never_public")) {
      const auto* b = n->as_boolean();
      if (b == nullptr)
        fail(*n, field(i, "never_public"),
             fmt::format("expected a boolean, got {}", type_name(n->type())));
      fact.never_public = b->get();
    }

    if (!fact.single && fact.multi.empty())
      fail(at, fmt::format("port[{}]", i),
           "neither 'single' nor 'multi' is set: the port would listen nowhere");

    // The catalog must not contradict itself: a port that may never be opened to outsiders
    // cannot be classed public or admin anywhere.
    if (fact.never_public) {
      const auto outside = [](Exposure e) {
        return e == Exposure::public_ || e == Exposure::admin;
      };
      if (fact.single && outside(*fact.single))
        fail(*t.get("single"), field(i, "single"),
             fmt::format("a never_public port cannot be '{}'", exposure_name(*fact.single)));
      for (const auto& [role, e] : fact.multi) {
        if (outside(e))
          fail(*t.get("multi")->as_table()->get(role), field(i, "multi." + role),
               fmt::format("a never_public port cannot be '{}'", exposure_name(e)));
      }
    }
    return fact;
  }

  std::string name_;
};

}  // namespace

std::string_view exposure_name(Exposure e) {
  const auto index = static_cast<std::size_t>(e);
  return index < kExposureNames.size() ? kExposureNames[index] : std::string_view("?");
}

std::optional<Exposure> parse_exposure(std::string_view text) {
  for (std::size_t i = 0; i < kExposureNames.size(); ++i) {
    if (kExposureNames[i] == text) return static_cast<Exposure>(i);
  }
  return std::nullopt;
}

std::string_view topology_name(Topology t) {
  return t == Topology::single ? "single" : "multi";
}

std::optional<Topology> parse_topology(std::string_view text) {
  if (text == "single") return Topology::single;
  if (text == "multi") return Topology::multi;
  return std::nullopt;
}

const PortFact* PortCatalog::find(Protocol proto, std::uint16_t port) const {
  const auto key = std::pair{proto, port};
  const auto it = std::lower_bound(ports.begin(), ports.end(), key, [](const PortFact& f, auto k) {
    return std::pair{f.protocol, f.port} < k;
  });
  if (it == ports.end() || it->protocol != proto || it->port != port) return nullptr;
  return &*it;
}

std::vector<Exposure> PortCatalog::exposure(const PortFact& fact, Topology topology,
                                            const std::vector<std::string>& host_roles) const {
  if (topology == Topology::single) {
    if (fact.single) return {*fact.single};
    return {};
  }
  std::array<bool, kExposureNames.size()> present{};
  for (const auto& role : host_roles) {
    if (const auto it = fact.multi.find(role); it != fact.multi.end())
      present[static_cast<std::size_t>(it->second)] = true;
  }
  std::vector<Exposure> out;
  for (std::size_t i = 0; i < present.size(); ++i) {
    if (present[i]) out.push_back(static_cast<Exposure>(i));
  }
  return out;
}

Result<PortCatalog> parse_port_catalog(std::string_view text, std::string_view name) {
  auto root = parse_toml(text, name);
  if (!root) return root.error();
  try {
    return CatalogParser(name).parse(*root);
  } catch (const CatalogError& e) {
    return Error{e.message};
  }
}

Result<PortCatalog> load_port_catalog(const std::filesystem::path& file) {
  auto text = read_catalog_file(file, kMaxCatalogBytes);
  if (!text) return text.error();
  return parse_port_catalog(*text, file.string());
}

std::filesystem::path catalog_dir() {
  if (const char* env = std::getenv("MAILWARDEN_CATALOG"); env != nullptr && *env != '\0')
    return env;
  return MW_CATALOG_DIR;
}

Result<PortCatalog> load_product_catalog(std::string_view product) {
  // The name becomes a path component: anything but a plain name could leave the directory.
  if (!is_name(product))
    return Error{
        fmt::format("'{}' is not a product name (lower-case letters, digits, '-')", product)};
  const auto file = catalog_dir() / "ports" / (std::string(product) + ".toml");
  auto cat = load_port_catalog(file);
  if (!cat.ok()) return cat;
  if (cat->product != product)
    return Error{fmt::format("{}:1:1: product: the file says '{}', expected '{}'", file.string(),
                             cat->product, product)};
  return cat;
}

}  // namespace mw
