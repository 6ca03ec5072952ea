// Loads the DNSBL catalog with toml++: every key known, every value checked; the first error
// stops the load and names file:line:column.
#include "dnsbl/catalog.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <initializer_list>

#include "catalog/ports.hpp"
#include "catalog/toml_file.hpp"

namespace mw::dnsbl {

namespace {

struct CatalogError {
  std::string message;
};

bool is_id(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// A DNS zone name: labels of letters, digits, '-' and '_', 1-63 bytes each, 253 at most,
// no trailing dot (a reversed IPv6 address adds 64 bytes: the zone must leave room).
bool is_zone(std::string_view s) {
  if (s.empty() || s.size() > 253 - 64) return false;
  std::size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

class Parser {
 public:
  explicit Parser(std::string_view name) : name_(name) {}

  DnsblCatalog parse(const toml::table& root) {
    DnsblCatalog c;
    c.location = std::string(name_);
    keys(root, "the top level", {"schema", "list"});
    const auto& schema = get(root, "schema", "the top level");
    if (schema.value<std::int64_t>() != 1)
      fail(schema, "schema: only schema = 1 is understood by this version");
    const auto& lists = get(root, "list", "the top level");
    const auto* arr = lists.as_array();
    if (arr == nullptr || !arr->is_array_of_tables())
      fail(lists, "'list' must be an array of tables ([[list]])");
    if (arr->empty()) fail(lists, "'list' is empty: the catalog names no list");
    for (const auto& node : *arr) {
      DnsblList l = list(*node.as_table());
      for (const auto& other : c.lists) {
        if (other.id == l.id) fail(node, fmt::format("list id '{}' appears twice", l.id));
      }
      c.lists.push_back(std::move(l));
    }
    return c;
  }

 private:
  DnsblList list(const toml::table& t) {
    DnsblList l;
    const std::string where = "[[list]]";
    keys(t, where,
         {"id", "name", "zone", "ipv4", "ipv6", "status", "policy", "policy_note", "delist_url",
          "default", "rate", "test_ipv4", "test_ipv6", "codes"});
    l.id = string(t, "id", where);
    if (!is_id(l.id))
      fail(get(t, "id", where),
           fmt::format("id '{}': use lower-case letters, digits, '-', '_' (at most 40)", l.id));
    const std::string in = fmt::format("list '{}'", l.id);
    l.name = string(t, "name", in);
    l.zone = string(t, "zone", in);
    if (!is_zone(l.zone))
      fail(get(t, "zone", in), fmt::format("{}: zone '{}' is not a DNS name", in, l.zone));
    std::transform(l.zone.begin(), l.zone.end(), l.zone.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    l.ipv4 = boolean(t, "ipv4", in);
    l.ipv6 = boolean(t, "ipv6", in);
    if (!l.ipv4 && !l.ipv6) fail(t, fmt::format("{}: neither ipv4 nor ipv6 is true", in));
    l.status = choice<ListStatus>(t, "status", in,
                                  {{"active", ListStatus::active},
                                   {"closed", ListStatus::closed},
                                   {"folded", ListStatus::folded}});
    l.policy = choice<UsagePolicy>(t, "policy", in,
                                   {{"free", UsagePolicy::free},
                                    {"free-low-volume", UsagePolicy::free_low_volume},
                                    {"registration", UsagePolicy::registration},
                                    {"paid", UsagePolicy::paid},
                                    {"closed", UsagePolicy::closed}});
    if ((l.status == ListStatus::closed) != (l.policy == UsagePolicy::closed))
      fail(get(t, "policy", in),
           fmt::format("{}: status \"closed\" and policy \"closed\" go together", in));
    l.policy_note = string(t, "policy_note", in);
    l.delist_url = string(t, "delist_url", in);
    if (l.delist_url.rfind("https://", 0) != 0 && l.delist_url.rfind("http://", 0) != 0)
      fail(get(t, "delist_url", in), fmt::format("{}: delist_url must be an http(s) URL", in));
    l.enabled_by_default = boolean(t, "default", in);
    if (l.enabled_by_default && l.status != ListStatus::active)
      fail(get(t, "default", in),
           fmt::format("{}: a {} list cannot be queried by default", in, name_of(l.status)));
    {
      const auto& n = get(t, "rate", in);
      const auto v = n.value<double>();
      if (!v || !(*v >= 0 && *v <= 100000))
        fail(n, fmt::format("{}: rate must be a number of queries per second, 0..100000", in));
      l.rate = *v;
    }
    if (const auto* n = t.get("test_ipv4")) l.test_ipv4 = address(*n, in, Family::v4);
    if (const auto* n = t.get("test_ipv6")) l.test_ipv6 = address(*n, in, Family::v6);
    if (l.ipv4 && !l.test_ipv4)
      fail(t, fmt::format("{}: test_ipv4 is missing (the entry the health check queries)", in));
    if (!l.ipv6 && l.test_ipv6)
      fail(*t.get("test_ipv6"), fmt::format("{}: test_ipv6 given but ipv6 = false", in));
    const auto& codes = get(t, "codes", in);
    const auto* arr = codes.as_array();
    if (arr == nullptr || arr->empty())
      fail(codes, fmt::format("{}: codes must be a non-empty array of inline tables", in));
    for (const auto& item : *arr) {
      const auto* ct = item.as_table();
      if (ct == nullptr)
        fail(item, fmt::format("{}: every code is an inline table {{ code, class, meaning }}", in));
      l.codes.push_back(code(*ct, in));
      const auto& added = l.codes.back();
      for (std::size_t i = 0; i + 1 < l.codes.size(); ++i) {
        if (added.first <= l.codes[i].last && l.codes[i].first <= added.last)
          fail(item, fmt::format("{}: code {} overlaps an earlier code", in,
                                 to_string(Address{Family::v4, added.first})));
      }
    }
    return l;
  }

  ReturnCode code(const toml::table& t, const std::string& in) {
    keys(t, in + " code", {"code", "class", "meaning"});
    ReturnCode rc;
    const auto& n = get(t, "code", in);
    const std::string text = string(t, "code", in);
    const auto dash = text.find('-');
    auto one = [&](std::string_view s) -> std::uint32_t {
      auto a = parse_address(s);
      if (!a || a->family != Family::v4)
        fail(n, fmt::format("{}: code '{}' is not an IPv4 address", in, s));
      return static_cast<std::uint32_t>(a->value);
    };
    rc.first = one(std::string_view(text).substr(0, dash));
    rc.last = dash == std::string::npos ? rc.first : one(std::string_view(text).substr(dash + 1));
    if (rc.last < rc.first) fail(n, fmt::format("{}: code range '{}' is reversed", in, text));
    // RFC 5782: answers are in 127.0.0.0/8 so that they can never be mistaken for real hosts.
    if ((rc.first >> 24) != 127 || (rc.last >> 24) != 127)
      fail(n, fmt::format("{}: code '{}' is outside 127.0.0.0/8", in, text));
    rc.cls = choice<CodeClass>(t, "class", in,
                               {{"listed", CodeClass::listed}, {"refused", CodeClass::refused}});
    rc.meaning = string(t, "meaning", in);
    return rc;
  }

  [[noreturn]] void fail(const toml::node& at, std::string_view what) const {
    const auto& b = at.source().begin;
    throw CatalogError{fmt::format("{}:{}:{}: {}", name_, b.line > 0 ? b.line : 1,
                                   b.column > 0 ? b.column : 1, what)};
  }

  void keys(const toml::table& t, std::string_view where,
            std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end())
        fail(node, fmt::format("{}: unknown key '{}'", where, key.str()));
    }
  }

  const toml::node& get(const toml::table& t, std::string_view key, std::string_view where) const {
    const auto* n = t.get(key);
    if (n == nullptr) fail(t, fmt::format("{}: key '{}' is missing", where, key));
    return *n;
  }

  std::string string(const toml::table& t, std::string_view key, std::string_view where) const {
    const auto& n = get(t, key, where);
    const auto s = n.value<std::string>();
    if (!s || s->empty() || s->size() > 1000)
      fail(n, fmt::format("{}: '{}' must be a non-empty string (at most 1000 bytes)", where, key));
    return *s;
  }

  bool boolean(const toml::table& t, std::string_view key, std::string_view where) const {
    const auto& n = get(t, key, where);
    const auto* b = n.as_boolean();
    if (b == nullptr) fail(n, fmt::format("{}: '{}' must be true or false", where, key));
    return b->get();
  }

  Address address(const toml::node& n, std::string_view where, Family f) const {
    const auto s = n.value<std::string>();
    if (!s) fail(n, fmt::format("{}: the test entry must be a string", where));
    auto a = parse_address(*s);
    if (!a) fail(n, fmt::format("{}: test entry: {}", where, a.error().message));
    if (a->family != f)
      fail(n, fmt::format("{}: test entry '{}' is not an {} address", where, *s, family_name(f)));
    return *a;
  }

  template <class E>
  E choice(const toml::table& t, std::string_view key, std::string_view where,
           std::initializer_list<std::pair<std::string_view, E>> options) const {
    const auto& n = get(t, key, where);
    const auto s = n.value<std::string>();
    std::string names;
    for (const auto& [k, v] : options) {
      if (s && *s == k) return v;
      names += names.empty() ? "" : ", ";
      names += k;
    }
    fail(n, fmt::format("{}: '{}' must be one of {}", where, key, names));
  }

  std::string_view name_;
};

}  // namespace

std::string_view name_of(CodeClass c) {
  return c == CodeClass::listed ? "listed" : "refused";
}

std::string_view name_of(ListStatus s) {
  switch (s) {
    case ListStatus::active:
      return "active";
    case ListStatus::closed:
      return "closed";
    case ListStatus::folded:
      return "folded";
  }
  return "?";
}

std::string_view name_of(UsagePolicy p) {
  switch (p) {
    case UsagePolicy::free:
      return "free";
    case UsagePolicy::free_low_volume:
      return "free-low-volume";
    case UsagePolicy::registration:
      return "registration";
    case UsagePolicy::paid:
      return "paid";
    case UsagePolicy::closed:
      return "closed";
  }
  return "?";
}

const ReturnCode* DnsblList::code_for(std::uint32_t answer) const {
  for (const auto& c : codes) {
    if (answer >= c.first && answer <= c.last) return &c;
  }
  return nullptr;
}

const DnsblList* DnsblCatalog::find(std::string_view id) const {
  for (const auto& l : lists) {
    if (l.id == id) return &l;
  }
  return nullptr;
}

Result<DnsblCatalog> parse_dnsbl_catalog(std::string_view text, std::string_view name) {
  auto root = parse_toml(text, name);
  if (!root) return root.error();
  try {
    return Parser(name).parse(*root);
  } catch (const CatalogError& e) {
    return Error{e.message};
  }
}

Result<DnsblCatalog> load_dnsbl_catalog(const std::filesystem::path& file) {
  auto text = read_catalog_file(file, kMaxDnsblCatalogBytes);
  if (!text) return text.error();
  return parse_dnsbl_catalog(*text, file.string());
}

Result<DnsblCatalog> load_default_dnsbl_catalog() {
  return load_dnsbl_catalog(mw::catalog_dir() / "dnsbl.toml");
}

}  // namespace mw::dnsbl
