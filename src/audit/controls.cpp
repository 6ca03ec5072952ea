// Loads catalog/controls/*.toml with toml++ and checks its schema; errors name
// file:line:column and the field.
#include "audit/controls.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <map>

#include "core/atomic_file.hpp"

namespace mw::audit {

namespace {

struct SchemaError {
  std::string message;
};

constexpr std::array<std::string_view, 5> kSeverities = {"critical", "high", "medium", "low",
                                                         "info"};
constexpr std::array<std::string_view, 5> kLevels = {"global", "server", "cos", "domain", "admin"};
constexpr std::array<std::string_view, 12> kOps = {
    "eq",          "ne",       "ge",           "le",    "between",   "duration_ge",
    "duration_le", "contains", "not_contains", "empty", "not_empty", "in"};
constexpr std::array<std::string_view, 6> kKinds = {"attr", "localconfig", "postconf",
                                                    "sshd", "package",     "custom"};
constexpr std::array<std::string_view, 11> kControlKeys = {
    "id",    "title",   "severity",    "guides",    "rationale", "notes",
    "check", "applies", "remediation", "fix_value", "scope"};
constexpr std::array<std::string_view, 2> kScopes = {"zimbra", "exchange"};
constexpr std::array<std::string_view, 10> kCheckKeys = {
    "kind",   "level", "name", "op",        "value",
    "values", "min",   "max",  "installed", "zero_is_infinite"};
constexpr std::array<std::string_view, 2> kAppliesKeys = {"topology", "edition"};

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<std::string_view, N>& names,
                                    std::string_view v) {
  auto it = std::find(names.begin(), names.end(), v);
  if (it == names.end()) return std::nullopt;
  return static_cast<std::size_t>(it - names.begin());
}

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  std::vector<Control> parse(const toml::table& root) {
    for (auto&& [key, node] : root) {
      (void)node;
      if (key.str() != "control")
        fail(key.source(), key.str(), "unknown key (expected [[control]])");
    }
    const toml::node* list = root.get("control");
    if (!list) return {};
    const toml::array* a = list->as_array();
    if (!a || !a->is_array_of_tables())
      fail(list->source(), "control", "expected [[control]] tables");
    std::vector<Control> out;
    for (std::size_t i = 0; i < a->size(); ++i) out.push_back(control(*a->get(i)->as_table(), i));
    return out;
  }

 private:
  [[noreturn]] void fail(const toml::source_region& at, std::string_view field,
                         std::string_view what) const {
    throw SchemaError{fmt::format("{}:{}:{}: {}: {}", source_, std::max<int>(1, at.begin.line),
                                  std::max<int>(1, at.begin.column), field, what)};
  }

  template <std::size_t N>
  void keys(const toml::table& t, const std::string& prefix,
            const std::array<std::string_view, N>& allowed) const {
    for (auto&& [key, node] : t) {
      (void)node;
      if (!index_of(allowed, key.str())) {
        fail(key.source(), prefix + std::string(key.str()),
             fmt::format("unknown key (expected one of {})", fmt::join(allowed, ", ")));
      }
    }
  }

  std::string str(const toml::table& t, std::string_view key, const std::string& prefix,
                  bool required) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) fail(t.source(), prefix + std::string(key), "missing (required)");
      return {};
    }
    if (!n->is_string()) fail(n->source(), prefix + std::string(key), "expected a string");
    std::string v = n->as_string()->get();
    if (required && v.empty()) fail(n->source(), prefix + std::string(key), "must not be empty");
    return v;
  }

  template <std::size_t N>
  std::size_t choice(const toml::table& t, std::string_view key, const std::string& prefix,
                     const std::array<std::string_view, N>& names) const {
    auto v = str(t, key, prefix, true);
    auto i = index_of(names, v);
    if (!i) {
      fail(t.get(key)->source(), prefix + std::string(key),
           fmt::format("'{}' (expected one of {})", v, fmt::join(names, ", ")));
    }
    return *i;
  }

  // A scalar written as a string, an integer or a boolean, as the text the engine compares.
  std::string scalar(const toml::node& n, const std::string& field) const {
    if (auto s = n.as_string()) return s->get();
    if (auto i = n.as_integer()) return std::to_string(i->get());
    if (auto b = n.as_boolean()) return b->get() ? "TRUE" : "FALSE";
    fail(n.source(), field, "expected a string, an integer or a boolean");
  }

  Check check(const toml::table& t, const std::string& prefix) const {
    keys(t, prefix, kCheckKeys);
    Check c;
    c.kind = static_cast<CheckKind>(choice(t, "kind", prefix, kKinds));
    c.name = str(t, "name", prefix, true);
    if (c.kind == CheckKind::attr) {
      c.level = static_cast<Level>(choice(t, "level", prefix, kLevels));
    } else if (t.get("level")) {
      fail(t.get("level")->source(), prefix + "level", "only an attr check has a level");
    }
    if (c.kind == CheckKind::package) {
      const toml::node* n = t.get("installed");
      if (!n || !n->is_boolean()) fail(t.source(), prefix + "installed", "expected true or false");
      c.installed = n->as_boolean()->get();
      return c;
    }
    if (c.kind == CheckKind::custom) {
      // A custom check may take one threshold from the catalog ("90" days, "180" days).
      if (const toml::node* n = t.get("value")) c.expected = scalar(*n, prefix + "value");
      return c;
    }
    if (const toml::node* z = t.get("zero_is_infinite")) {
      if (!z->is_boolean())
        fail(z->source(), prefix + "zero_is_infinite", "expected true or false");
      c.zero_is_infinite = z->as_boolean()->get();
    }
    c.op = static_cast<Op>(choice(t, "op", prefix, kOps));
    switch (c.op) {
      case Op::empty:
      case Op::not_empty:
        break;
      case Op::in: {
        const toml::node* n = t.get("values");
        if (!n || !n->is_array()) fail(t.source(), prefix + "values", "expected an array");
        for (std::size_t i = 0; i < n->as_array()->size(); ++i) {
          c.values.push_back(
              scalar(*n->as_array()->get(i), fmt::format("{}values[{}]", prefix, i)));
        }
        break;
      }
      case Op::between: {
        for (auto [key, out] : {std::pair{"min", &c.min}, std::pair{"max", &c.max}}) {
          const toml::node* n = t.get(key);
          if (!n || !n->is_integer()) fail(t.source(), prefix + key, "expected an integer");
          *out = n->as_integer()->get();
        }
        if (*c.min > *c.max) fail(t.source(), prefix + "min", "greater than max");
        break;
      }
      default: {
        const toml::node* n = t.get("value");
        if (!n) fail(t.source(), prefix + "value", "missing (required by this op)");
        c.expected = scalar(*n, prefix + "value");
        if ((c.op == Op::ge || c.op == Op::le) && !n->is_integer()) {
          fail(n->source(), prefix + "value", "expected an integer");
        }
      }
    }
    return c;
  }

  Control control(const toml::table& t, std::size_t i) {
    const std::string prefix = fmt::format("control[{}].", i);
    keys(t, prefix, kControlKeys);
    Control c;
    c.origin = fmt::format("{}:{}", source_, t.source().begin.line);
    c.id = str(t, "id", prefix, true);
    for (char ch : c.id) {
      if (!(std::islower(static_cast<unsigned char>(ch)) ||
            std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-')) {
        fail(t.get("id")->source(), prefix + "id",
             fmt::format("'{}': lower-case letters, digits, '.' and '-' only", c.id));
      }
    }
    if (auto [it, fresh] = ids_.emplace(c.id, t.source().begin.line); !fresh) {
      fail(t.get("id")->source(), prefix + "id",
           fmt::format("'{}' is already defined at line {}", c.id, it->second));
    }
    c.title = str(t, "title", prefix, true);
    if (t.get("scope")) c.scope = static_cast<Scope>(choice(t, "scope", prefix, kScopes));
    c.severity = static_cast<Severity>(choice(t, "severity", prefix, kSeverities));
    c.rationale = str(t, "rationale", prefix, true);
    c.notes = str(t, "notes", prefix, false);
    c.remediation = str(t, "remediation", prefix, false);
    c.fix_value = str(t, "fix_value", prefix, false);
    const toml::node* g = t.get("guides");
    if (!g || !g->is_array() || g->as_array()->empty()) {
      fail(t.source(), prefix + "guides", "expected a non-empty array: which guide demands it");
    }
    for (std::size_t k = 0; k < g->as_array()->size(); ++k) {
      const toml::node& n = *g->as_array()->get(k);
      if (!n.is_string())
        fail(n.source(), fmt::format("{}guides[{}]", prefix, k), "expected a string");
      c.guides.push_back(n.as_string()->get());
    }
    const toml::node* ch = t.get("check");
    if (!ch || !ch->is_table()) fail(t.source(), prefix + "check", "expected a table");
    c.check = check(*ch->as_table(), prefix + "check.");
    if (c.check.kind != CheckKind::custom && c.check.kind != CheckKind::package &&
        c.remediation.empty()) {
      fail(t.source(), prefix + "remediation", "missing: every failing check says what to type");
    }
    if (const toml::node* a = t.get("applies")) {
      if (!a->is_table()) fail(a->source(), prefix + "applies", "expected a table");
      keys(*a->as_table(), prefix + "applies.", kAppliesKeys);
      auto topo = str(*a->as_table(), "topology", prefix + "applies.", false);
      if (!topo.empty()) {
        if (topo != "single" && topo != "multi") {
          fail(a->source(), prefix + "applies.topology", "expected 'single' or 'multi'");
        }
        c.applies.topology = topo;
      }
      auto edition = str(*a->as_table(), "edition", prefix + "applies.", false);
      if (!edition.empty()) {
        if (edition != "network")
          fail(a->source(), prefix + "applies.edition", "expected 'network'");
        c.applies.edition = edition;
      }
    }
    return c;
  }

  std::string source_;
  std::map<std::string, int> ids_;
};

}  // namespace

std::string_view severity_name(Severity s) {
  return kSeverities[static_cast<std::size_t>(s)];
}

int severity_weight(Severity s) {
  constexpr std::array<int, 5> kWeights = {10, 5, 3, 1, 0};
  return kWeights[static_cast<std::size_t>(s)];
}

std::string_view scope_name(Scope s) {
  return kScopes[static_cast<std::size_t>(s)];
}

std::string_view level_name(Level l) {
  return kLevels[static_cast<std::size_t>(l)];
}

Result<std::vector<Control>> parse_controls(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, std::string(source));
  } catch (const toml::parse_error& e) {
    return Error{fmt::format("{}:{}:{}: {}", source, e.source().begin.line, e.source().begin.column,
                             e.description())};
  }
  try {
    return Parser(source).parse(root);
  } catch (const SchemaError& e) {
    return Error{e.message};
  }
}

Result<std::vector<Control>> load_controls(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".toml") files.push_back(e.path());
  }
  if (ec) return Error{fmt::format("{}: {}", dir.string(), ec.message())};
  std::sort(files.begin(), files.end());
  std::vector<Control> all;
  std::map<std::string, std::string> seen;
  for (const auto& f : files) {
    auto text = read_file(f, 1 << 20);
    if (!text) return text.error();
    auto controls = parse_controls(*text, f.string());
    if (!controls) return controls.error();
    for (auto& c : *controls) {
      if (auto [it, fresh] = seen.emplace(c.id, c.origin); !fresh) {
        return Error{
            fmt::format("{}: control '{}' is already defined at {}", c.origin, c.id, it->second)};
      }
      all.push_back(std::move(c));
    }
  }
  return all;
}

}  // namespace mw::audit
