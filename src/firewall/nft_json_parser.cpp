// Reader of `nft -j list ruleset` output into the analysis model: JSON text -> a small tree that
// remembers byte offsets (for positioned errors) -> tables, chains, named sets and rules.
#include "firewall/nft_json_parser.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/ip.hpp"
#include "core/quote.hpp"

namespace mw::fw {
namespace {

constexpr std::size_t kMaxInput = std::size_t{64} << 20;
constexpr int kMaxDepth = 64;
// The tree costs about 100 bytes per value: this caps it near 200 MB whatever the input holds
// (a ruleset with a 100k-element blocklist has well under a million values).
constexpr std::size_t kMaxValues = 2'000'000;
// nft's objects have a handful of members; a bound keeps member lookup linear and cheap.
constexpr std::size_t kMaxMembers = 256;
// Rule texts are for recognising a rule in a report, not for reproducing a 10k-element set.
constexpr std::size_t kMaxShownElements = 12;

// ---------------------------------------------------------------------------------------------
// JSON tree with offsets. simdjson's DOM forgets where a value was; its On-Demand API knows, so
// the document is walked once with On-Demand into this tree and every later error can point at
// the exact value.

struct Node {
  enum class Kind : std::uint8_t { null, boolean, integer, real, string, array, object };
  Kind kind = Kind::null;
  std::size_t offset = 0;
  bool boolean = false;
  std::int64_t integer = 0;
  std::string text;               // a string's value, or a number's JSON text
  std::vector<Node> items;        // array elements, or object member values
  std::vector<std::string> keys;  // object member names, parallel to items

  bool is(Kind k) const { return kind == k; }
  bool is_string() const { return kind == Kind::string; }
  bool is_object() const { return kind == Kind::object; }
  bool is_array() const { return kind == Kind::array; }
  const Node* get(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

// Byte offset -> "source:line:column".
class Positions {
 public:
  Positions(std::string_view text, std::string_view source) : source_(source) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  std::string at(std::size_t offset) const {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    const auto line = static_cast<std::size_t>(it - starts_.begin());
    const std::size_t col = offset - starts_[line - 1] + 1;
    return source_ + ":" + std::to_string(line) + ":" + std::to_string(col);
  }

 private:
  std::string source_;
  std::vector<std::size_t> starts_;
};

// Stage 1 of simdjson (run before any value is visited) reports a few errors without a
// position; find the byte they are about.
std::size_t locate_stage1_error(simdjson::error_code code, std::string_view t) {
  if (code == simdjson::UTF8_ERROR) {
    std::size_t i = 0;
    while (i < t.size()) {
      const auto c = static_cast<unsigned char>(t[i]);
      std::size_t len = c < 0x80         ? 1
                        : (c >> 5) == 6  ? 2
                        : (c >> 4) == 14 ? 3
                        : (c >> 3) == 30 ? 4
                                         : 0;
      if (len == 0 || i + len > t.size()) return i;
      for (std::size_t k = 1; k < len; ++k) {
        if ((static_cast<unsigned char>(t[i + k]) >> 6) != 2) return i;
      }
      // Overlong forms, surrogates and code points above U+10FFFF are invalid too.
      const auto c1 = static_cast<unsigned char>(len > 1 ? t[i + 1] : 0);
      if ((len == 2 && c < 0xc2) || (len == 3 && c == 0xe0 && c1 < 0xa0) ||
          (len == 3 && c == 0xed && c1 >= 0xa0) || (len == 4 && c == 0xf0 && c1 < 0x90) ||
          (len == 4 && (c > 0xf4 || (c == 0xf4 && c1 >= 0x90)))) {
        return i;
      }
      i += len;
    }
    return t.size();
  }
  // Walk strings: an unescaped control character, or the opening quote of an unclosed string.
  bool in_string = false;
  std::size_t opened = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else if (c < 0x20 && code == simdjson::UNESCAPED_CHARS) {
        return i;
      }
    } else if (c == '"') {
      in_string = true;
      opened = i;
    }
  }
  if (in_string) return opened;
  return code == simdjson::EMPTY ? 0 : t.size();
}

std::string describe(simdjson::error_code code) {
  switch (code) {
    case simdjson::TAPE_ERROR:
      return "malformed JSON: missing or extra comma, colon, brace or bracket";
    case simdjson::STRING_ERROR:
      return "malformed JSON string (bad escape)";
    case simdjson::NUMBER_ERROR:
      return "malformed JSON number";
    case simdjson::INCORRECT_TYPE:
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "malformed JSON value (expected true, false, null, a number, a string, an array "
             "or an object)";
    case simdjson::UTF8_ERROR:
      return "the input is not valid UTF-8";
    case simdjson::UNCLOSED_STRING:
      return "string opened here is never closed";
    case simdjson::UNESCAPED_CHARS:
      return "control character inside a string (must be escaped)";
    case simdjson::EMPTY:
      return "empty input: expected the JSON of `nft -j list ruleset`";
    case simdjson::OUT_OF_BOUNDS:
      return "unexpected end of input";
    default:
      return std::string("malformed JSON: ") + simdjson::error_message(code);
  }
}

class TreeBuilder {
 public:
  TreeBuilder(const char* base, std::size_t size) : base_(base), size_(size) {}

  // On failure: the simdjson error and the offset it is about.
  simdjson::error_code build(simdjson::ondemand::value v, Node& out, int depth) {
    const char* loc = nullptr;
    if (auto e = v.current_location().get(loc); e) return e;
    out.offset = static_cast<std::size_t>(loc - base_);
    last_ = out.offset;
    if (depth > kMaxDepth) {
      too_deep_ = true;
      return simdjson::DEPTH_ERROR;
    }
    if (++values_ > kMaxValues) {
      too_many_ = true;
      return simdjson::CAPACITY;
    }
    simdjson::ondemand::json_type type{};
    if (auto e = v.type().get(type); e) return e;
    switch (type) {
      case simdjson::ondemand::json_type::object: {
        out.kind = Node::Kind::object;
        simdjson::ondemand::object obj;
        if (auto e = v.get_object().get(obj); e) return e;
        for (auto member : obj) {
          simdjson::ondemand::field field;
          if (auto e = std::move(member).get(field); e) return e;
          // key() must be read before unescaped_key() consumes it.
          const std::size_t key_offset = static_cast<std::size_t>(field.key().raw() - base_);
          last_ = key_offset;
          std::string_view key;
          if (auto e = field.unescaped_key().get(key); e) return e;
          if (out.keys.size() >= kMaxMembers) {
            too_wide_ = true;
            last_ = key_offset > 0 ? key_offset - 1 : 0;
            return simdjson::CAPACITY;
          }
          if (out.get(key) != nullptr) {
            duplicate_ = true;
            last_ = key_offset > 0 ? key_offset - 1 : 0;
            duplicate_key_ = std::string(key);
            return simdjson::TAPE_ERROR;
          }
          out.keys.emplace_back(key);
          out.items.emplace_back();
          if (auto e = build(field.value(), out.items.back(), depth + 1); e) return e;
        }
        return simdjson::SUCCESS;
      }
      case simdjson::ondemand::json_type::array: {
        out.kind = Node::Kind::array;
        simdjson::ondemand::array arr;
        if (auto e = v.get_array().get(arr); e) return e;
        for (auto element : arr) {
          simdjson::ondemand::value ev;
          if (auto e = std::move(element).get(ev); e) return e;
          out.items.emplace_back();
          if (auto e = build(ev, out.items.back(), depth + 1); e) return e;
        }
        return simdjson::SUCCESS;
      }
      case simdjson::ondemand::json_type::number: {
        std::string_view raw = v.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' ||
                                raw.back() == '\r')) {
          raw.remove_suffix(1);
        }
        out.text = std::string(raw);
        std::int64_t i = 0;
        if (!v.get_int64().get(i)) {
          out.kind = Node::Kind::integer;
          out.integer = i;
          return simdjson::SUCCESS;
        }
        double d = 0;
        if (auto e = v.get_double().get(d); e) return e;
        out.kind = Node::Kind::real;
        return simdjson::SUCCESS;
      }
      case simdjson::ondemand::json_type::string: {
        out.kind = Node::Kind::string;
        std::string_view s;
        if (auto e = v.get_string().get(s); e) return e;
        out.text = std::string(s);
        return simdjson::SUCCESS;
      }
      case simdjson::ondemand::json_type::boolean: {
        out.kind = Node::Kind::boolean;
        return v.get_bool().get(out.boolean);
      }
      case simdjson::ondemand::json_type::null: {
        out.kind = Node::Kind::null;
        bool is_null = false;
        if (auto e = v.is_null().get(is_null); e) return e;
        return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
      }
    }
    return simdjson::INCORRECT_TYPE;
  }

  std::size_t last() const { return last_; }
  bool too_deep() const { return too_deep_; }
  bool too_wide() const { return too_wide_; }
  bool too_many() const { return too_many_; }
  bool duplicate() const { return duplicate_; }
  const std::string& duplicate_key() const { return duplicate_key_; }
  std::size_t size() const { return size_; }

 private:
  const char* base_;
  std::size_t size_;
  std::size_t last_ = 0;
  bool too_deep_ = false;
  bool too_wide_ = false;
  bool too_many_ = false;
  std::size_t values_ = 0;
  bool duplicate_ = false;
  std::string duplicate_key_;
};

Result<Node> parse_tree(std::string_view json, const Positions& pos) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (auto e = parser.iterate(padded).get(doc); e) {
    return Error{pos.at(locate_stage1_error(e, json)) + ": " + describe(e)};
  }
  TreeBuilder builder(padded.data(), json.size());
  // Where the iterator stopped is where the text went wrong; past the end, the input was cut.
  auto where = [&](simdjson::error_code e) {
    if (builder.too_deep()) {
      return pos.at(builder.last()) + ": nesting deeper than " + std::to_string(kMaxDepth) +
             " levels";
    }
    if (builder.too_many()) {
      return pos.at(builder.last()) + ": more than " + std::to_string(kMaxValues) + " JSON values";
    }
    if (builder.too_wide()) {
      return pos.at(builder.last()) + ": object with more than " + std::to_string(kMaxMembers) +
             " members";
    }
    if (builder.duplicate()) {
      return pos.at(builder.last()) + ": duplicate key " + quote_input(builder.duplicate_key());
    }
    const char* loc = nullptr;
    if (doc.current_location().get(loc) || loc == nullptr) {
      return pos.at(json.size()) + ": unexpected end of input";
    }
    return pos.at(static_cast<std::size_t>(loc - padded.data())) + ": " + describe(e);
  };
  simdjson::ondemand::json_type type{};
  if (auto e = doc.type().get(type); e) return Error{where(e)};
  if (type != simdjson::ondemand::json_type::object) {
    return Error{pos.at(0) + ": expected a JSON object {\"nftables\": [...]} at the top level"};
  }
  simdjson::ondemand::value root;
  if (auto e = doc.get_value().get(root); e) return Error{where(e)};
  Node tree;
  if (auto e = builder.build(root, tree, 0); e) return Error{where(e)};
  const char* rest = nullptr;
  if (!doc.current_location().get(rest) && rest != nullptr) {
    return Error{pos.at(static_cast<std::size_t>(rest - padded.data())) +
                 ": unexpected text after the JSON document"};
  }
  return tree;
}

// ---------------------------------------------------------------------------------------------
// Rendering of expressions and statements as short nft-like text, for Rule::text and unknowns.

std::string render(const Node& n);

std::string render_list(const std::vector<Node>& items, std::string_view sep, bool clip) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (clip && i == kMaxShownElements) {
      out += std::string(sep) + "... (" + std::to_string(items.size() - i) + " more)";
      break;
    }
    if (i > 0) out += sep;
    out += render(items[i]);
  }
  return out;
}

std::string member_text(const Node& obj, std::string_view key) {
  const Node* m = obj.get(key);
  return m == nullptr ? std::string() : render(*m);
}

std::string render(const Node& n) {
  switch (n.kind) {
    case Node::Kind::null:
      return "";
    case Node::Kind::boolean:
      return n.boolean ? "exists" : "missing";
    case Node::Kind::integer:
    case Node::Kind::real:
      return n.text;
    case Node::Kind::string:
      return n.text;
    case Node::Kind::array:
      // A map element is [key, data]; any other list is a flag combination.
      return render_list(n.items, ",", true);
    case Node::Kind::object:
      break;
  }
  if (n.items.size() != 1) {
    std::string out;
    for (std::size_t i = 0; i < n.keys.size(); ++i) {
      out += (i > 0 ? " " : "") + n.keys[i] + " " + render(n.items[i]);
    }
    return out;
  }
  const std::string& k = n.keys[0];
  const Node& v = n.items[0];
  if (k == "payload") {
    if (v.get("base") != nullptr) {
      return "@" + member_text(v, "base") + "," + member_text(v, "offset") + "," +
             member_text(v, "len");
    }
    return member_text(v, "protocol") + " " + member_text(v, "field");
  }
  if (k == "meta") {
    const std::string key = member_text(v, "key");
    if (key == "iifname" || key == "oifname" || key == "iif" || key == "oif") return key;
    return "meta " + key;
  }
  if (k == "ct") {
    std::string out = "ct";
    if (v.get("dir") != nullptr) out += " " + member_text(v, "dir");
    if (v.get("family") != nullptr) out += " " + member_text(v, "family");
    return out + " " + member_text(v, "key");
  }
  if (k == "fib") {
    std::string flags;
    if (const Node* f = v.get("flags"); f != nullptr) {
      flags = f->is_array() ? render_list(f->items, " . ", false) : render(*f);
    }
    return "fib " + flags + " " + member_text(v, "result");
  }
  if (k == "prefix") return member_text(v, "addr") + "/" + member_text(v, "len");
  if (k == "range" && v.is_array()) return render_list(v.items, "-", false);
  if (k == "set" && v.is_array()) {
    std::string out = "{ ";
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      if (i == kMaxShownElements) {
        out += ", ... (" + std::to_string(v.items.size() - i) + " more)";
        break;
      }
      if (i > 0) out += ", ";
      const Node& e = v.items[i];
      if (e.is_array() && e.items.size() == 2) {
        out += render(e.items[0]) + " : " + render(e.items[1]);
      } else {
        out += render(e);
      }
    }
    return out + " }";
  }
  if (k == "concat" && v.is_array()) return render_list(v.items, " . ", false);
  if (k == "elem") return member_text(v, "val");
  if ((k == "&" || k == "|" || k == "^" || k == "<<" || k == ">>") && v.is_array()) {
    return render_list(v.items, " " + k + " ", false);
  }
  if (k == "map") return member_text(v, "key") + " map " + member_text(v, "data");
  if (k == "jump" || k == "goto") return k + " " + member_text(v, "target");
  if ((k == "socket" || k == "rt" || k == "osf" || k == "numgen" || k == "symhash") &&
      v.is_object() && v.get("key") != nullptr) {
    std::string out = k;
    if (v.get("family") != nullptr) out += " " + member_text(v, "family");
    return out + " " + member_text(v, "key");
  }
  if (k == "tcp option" || k == "ip option" || k == "exthdr" || k == "sctp chunk") {
    return k + " " + member_text(v, "name") + " " + member_text(v, "field");
  }
  // Anything else: the key, then its members as "name value".
  std::string out = k;
  if (v.is_object()) {
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      out += " " + v.keys[i];
      const std::string val = render(v.items[i]);
      if (!val.empty()) out += " " + val;
    }
  } else if (!v.is(Node::Kind::null)) {
    out += " " + render(v);
  }
  return out;
}

// "tcp dport != 22": nft leaves == and the implicit `in` out.
std::string render_match(const Node& v) {
  const std::string op = member_text(v, "op");
  std::string out = member_text(v, "left");
  if (op == "!=" || op == "!" || op == "<" || op == ">" || op == "<=" || op == ">=") {
    out += " " + op;
  }
  return out + " " + member_text(v, "right");
}

std::string render_statement(const Node& st) {
  if (!st.is_object() || st.items.size() != 1) return render(st);
  const std::string& k = st.keys[0];
  const Node& v = st.items[0];
  if (k == "match" && v.is_object()) return render_match(v);
  if (k == "counter") return "counter";
  if (k == "ct helper") return "ct helper set " + render(v);
  if (k == "log") {
    std::string out = "log";
    if (v.get("prefix") != nullptr) out += " prefix \"" + member_text(v, "prefix") + "\"";
    return out;
  }
  if (k == "limit" && v.is_object()) {
    std::string out = "limit rate ";
    if (const Node* inv = v.get("inv"); inv != nullptr && inv->boolean) out += "over ";
    out += member_text(v, "rate");
    if (v.get("rate_unit") != nullptr) out += " " + member_text(v, "rate_unit");
    out += "/" + member_text(v, "per");
    if (v.get("burst") != nullptr) out += " burst " + member_text(v, "burst");
    return out;
  }
  if (k == "vmap" && v.is_object()) {
    return member_text(v, "key") + " vmap " + member_text(v, "data");
  }
  if (k == "reject") {
    std::string out = "reject";
    if (v.is_object() && v.get("type") != nullptr) {
      out += " with " + member_text(v, "type");
      if (v.get("expr") != nullptr) out += " " + member_text(v, "expr");
    }
    return out;
  }
  if ((k == "redirect" || k == "dnat" || k == "snat" || k == "masquerade") && v.is_object()) {
    std::string out = k;
    if (v.get("addr") != nullptr || v.get("port") != nullptr) out += " to ";
    if (v.get("addr") != nullptr) out += member_text(v, "addr");
    if (v.get("port") != nullptr) out += ":" + member_text(v, "port");
    return out;
  }
  if (k == "xt" && v.is_object())
    return "xt " + member_text(v, "type") + " " + member_text(v, "name");
  if (k == "mangle" && v.is_object()) {
    return member_text(v, "key") + " set " + member_text(v, "value");
  }
  return render(st);
}

// ---------------------------------------------------------------------------------------------
// The model's domains and how nft's values map into them.

// What a match's left-hand side is about.
enum class Field : std::uint8_t {
  src,
  dst,
  sport,
  dport,
  l4proto,
  iif,
  oif,
  ct_state,
  ct_status,  // ct status: only `dnat` is modelled (firewalld accepts what it translated)
  tcp_flags,
  icmp,
  nfproto,    // meta nfproto: ipv4 / ipv6
  ethertype,  // meta protocol: ip / ip6 / ...
  other,
};

struct Left {
  Field field = Field::other;
  std::optional<Family> family;       // implied by ip/ip6 payloads
  std::optional<std::uint8_t> proto;  // implied layer-4 protocol (tcp dport -> 6)
  std::optional<std::uint8_t> mask;   // `tcp flags & mask`, `ct state & mask`
};

std::optional<std::uint8_t> transport_proto(std::string_view p) {
  if (p == "tcp") return 6;
  if (p == "udp") return 17;
  if (p == "udplite") return 136;
  if (p == "sctp") return 132;
  if (p == "dccp") return 33;
  return std::nullopt;
}

// Names nft prints for layer-4 protocols (from its table and /etc/protocols).
std::optional<std::uint8_t> proto_number(std::string_view name) {
  // clang-format off
  static const std::map<std::string_view, std::uint8_t> names = {
      {"hopopt", 0}, {"icmp", 1}, {"igmp", 2}, {"ggp", 3}, {"ipencap", 4}, {"st", 5}, {"tcp", 6},
      {"egp", 8}, {"igp", 9}, {"pup", 12}, {"udp", 17}, {"hmp", 20}, {"xns-idp", 22}, {"rdp", 27},
      {"iso-tp4", 29}, {"dccp", 33}, {"xtp", 36}, {"ddp", 37}, {"idpr-cmtp", 38}, {"ipv6", 41},
      {"ipv6-route", 43}, {"ipv6-frag", 44}, {"idrp", 45}, {"rsvp", 46}, {"gre", 47}, {"esp", 50},
      {"ah", 51}, {"skip", 57}, {"ipv6-icmp", 58}, {"icmpv6", 58}, {"ipv6-nonxt", 59},
      {"ipv6-opts", 60}, {"rspf", 73}, {"vmtp", 81}, {"eigrp", 88}, {"ospf", 89}, {"ax.25", 93},
      {"ipip", 94}, {"etherip", 97}, {"encap", 98}, {"pim", 103}, {"ipcomp", 108}, {"comp", 108},
      {"vrrp", 112}, {"l2tp", 115}, {"isis", 124}, {"sctp", 132}, {"fc", 133},
      {"mobility-header", 135}, {"udplite", 136}, {"mpls-in-ip", 137}, {"manet", 138},
      {"hip", 139}, {"shim6", 140}, {"wesp", 141}, {"rohc", 142}, {"ethernet", 143},
  };
  // clang-format on
  auto it = names.find(name);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint8_t> ct_state_bit(std::string_view name) {
  // The kernel's NF_CT_STATE_* bits: one per packet.
  if (name == "invalid") return 1;
  if (name == "established") return 2;
  if (name == "related") return 4;
  if (name == "new") return 8;
  if (name == "untracked") return 64;
  return std::nullopt;
}

std::optional<std::uint8_t> tcp_flag_bit(std::string_view name) {
  static constexpr std::array<std::string_view, 8> names = {"fin", "syn", "rst", "psh",
                                                            "ack", "urg", "ecn", "cwr"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<std::uint8_t>(1u << i);
  }
  return std::nullopt;
}

// The model's CtState bit of each kernel state bit.
constexpr std::array<std::pair<std::uint8_t, std::uint8_t>, 5> kCtStates = {{
    {8, kCtNew},
    {2, kCtEstablished},
    {4, kCtRelated},
    {1, kCtInvalid},
    {64, kCtUntracked},
}};

constexpr std::uint8_t kSyn = 2;  // the one packet the analysis follows: SYN without ACK

// A decision about one value of the right-hand side: usable, outside the model, or malformed.
template <class T>
using Parsed = Result<std::optional<T>>;

// ---------------------------------------------------------------------------------------------

class Parser {
 public:
  Parser(const Positions& pos, std::string_view source) : pos_(pos), source_(source) {}

  Result<std::vector<Table>> run(const Node& root);

 private:
  struct TableInfo {
    Table table;
    std::map<std::string, const Node*, std::less<>> sets;  // named sets and maps
    std::map<std::string, std::size_t, std::less<>> chains;
    bool dormant = false;  // `flags dormant`: its base chains are not attached to any hook
  };

  // One statement list being turned into rules.
  struct Draft {
    Match match;
    Verdict verdict = Verdict::none;
    std::string target;
    std::optional<std::uint16_t> to_port;
    std::vector<std::string> rate_limits;  // limit/quota texts, uncertain on a terminal rule
    bool has_verdict = false;
  };

  Error error_at(const Node& n, const std::string& what) const {
    return Error{pos_.at(n.offset) + ": " + what};
  }

  Status add_table(const Node& body);
  Status add_set(const Node& body);
  Status add_chain(const Node& body);
  Status add_rule(const Node& body);
  Result<TableInfo*> owner(const Node& body, std::string_view what);
  Result<std::string> string_member(const Node& obj, std::string_view key,
                                    std::string_view what) const;

  Status statement(TableInfo& t, const Node& st, Draft& d, std::vector<Rule>& expanded,
                   bool& expanded_used);
  Status apply_match(TableInfo& t, const Node& match, Draft& d);
  Left classify(const Node& left) const;
  Result<bool> apply_value(TableInfo& t, const Left& left, std::string_view op, const Node& right,
                           Match& m);
  Result<const std::vector<Node>*> resolve_set(TableInfo& t, const Node& ref);
  Status verdict_of(const Node& st, Draft& d, bool& recognised);
  Status expand_vmap(TableInfo& t, const Node& vmap, const Draft& base, std::vector<Rule>& out,
                     bool& modelled);

  // Right-hand values, element by element.
  Status collect(TableInfo& t, const Node& right, std::vector<const Node*>& out, int depth);
  // Add one element to `into`; false: the element is outside the model.
  // Appends to `into`; the caller builds the set once (AddressSet::of), so that a large set
  // given in any order costs one sort rather than an insertion per element.
  Result<bool> address_value(const Node& v, Family f, std::vector<Prefix>& into) const;
  Result<bool> port_value(const Node& v, PortSet& into) const;
  Parsed<std::bitset<256>> proto_value(const Node& v) const;
  Parsed<std::uint8_t> flag_value(const Node& v, Field f) const;

  const Positions& pos_;
  std::string source_;
  std::vector<std::unique_ptr<TableInfo>> tables_;
};

const char* family_text(TableFamily f) {
  switch (f) {
    case TableFamily::ip:
      return "ip";
    case TableFamily::ip6:
      return "ip6";
    case TableFamily::inet:
      return "inet";
    case TableFamily::arp:
      return "arp";
    case TableFamily::bridge:
      return "bridge";
    case TableFamily::netdev:
      return "netdev";
  }
  return "?";
}

std::optional<TableFamily> table_family(std::string_view s) {
  if (s == "ip") return TableFamily::ip;
  if (s == "ip6") return TableFamily::ip6;
  if (s == "inet") return TableFamily::inet;
  if (s == "arp") return TableFamily::arp;
  if (s == "bridge") return TableFamily::bridge;
  if (s == "netdev") return TableFamily::netdev;
  return std::nullopt;
}

// The family every packet of a table has, if one.
std::optional<Family> implied_family(TableFamily f) {
  if (f == TableFamily::ip) return Family::v4;
  if (f == TableFamily::ip6) return Family::v6;
  return std::nullopt;
}

Result<std::string> Parser::string_member(const Node& obj, std::string_view key,
                                          std::string_view what) const {
  const Node* m = obj.get(key);
  if (m == nullptr)
    return error_at(obj, std::string(what) + ": missing \"" + std::string(key) + "\"");
  if (!m->is_string()) {
    return error_at(*m, std::string(what) + ": \"" + std::string(key) + "\" must be a string");
  }
  return m->text;
}

Result<Parser::TableInfo*> Parser::owner(const Node& body, std::string_view what) {
  auto fam = string_member(body, "family", what);
  if (!fam) return fam.error();
  auto name = string_member(body, "table", what);
  if (!name) return name.error();
  for (auto& t : tables_) {
    if (family_text(t->table.family) == *fam && t->table.name == *name) return t.get();
  }
  return error_at(body, std::string(what) + ": unknown table " + *fam + " " + quote_input(*name));
}

Result<std::vector<Table>> Parser::run(const Node& root) {
  const Node* list = root.get("nftables");
  if (list == nullptr) return error_at(root, "expected the member \"nftables\" of `nft -j` output");
  if (!list->is_array()) return error_at(*list, "\"nftables\" must be an array");
  // Tables, sets and chains first: nft lists a chain's rules after all its table's objects, but
  // a hand-edited or concatenated file need not.
  for (int pass = 0; pass < 2; ++pass) {
    for (const Node& item : list->items) {
      if (!item.is_object() || item.items.size() != 1) {
        if (pass == 0)
          return error_at(item, "each element of \"nftables\" must be an object with one member");
        continue;
      }
      const std::string& kind = item.keys[0];
      const Node& body = item.items[0];
      if (pass == 0 && kind == "metainfo") {
        if (!body.is_object()) return error_at(body, "metainfo must be an object");
        if (const Node* v = body.get("json_schema_version"); v != nullptr) {
          if (!v->is(Node::Kind::integer) || v->integer != 1) {
            return error_at(*v, "json_schema_version " + quote_input(render(*v)) +
                                    " is not supported (only 1)");
          }
        }
        continue;
      }
      const bool known =
          kind == "table" || kind == "set" || kind == "map" || kind == "chain" || kind == "rule";
      if (!known) continue;  // flowtables, counters, quotas, ct helpers... do not decide a SYN
      if (!body.is_object()) return error_at(body, kind + " must be an object");
      Status s;
      if (pass == 0 && kind == "table") s = add_table(body);
      if (pass == 0 && (kind == "set" || kind == "map")) s = add_set(body);
      if (pass == 0 && kind == "chain") s = add_chain(body);
      if (pass == 1 && kind == "rule") s = add_rule(body);
      if (!s) return s.error();
    }
  }
  std::vector<Table> out;
  out.reserve(tables_.size());
  for (auto& t : tables_) out.push_back(std::move(t->table));
  return out;
}

Status Parser::add_table(const Node& body) {
  auto fam_text = string_member(body, "family", "table");
  if (!fam_text) return fam_text.error();
  auto fam = table_family(*fam_text);
  if (!fam) return error_at(*body.get("family"), "table: unknown family " + quote_input(*fam_text));
  auto name = string_member(body, "name", "table");
  if (!name) return name.error();
  for (auto& t : tables_) {
    if (t->table.family == *fam && t->table.name == *name) {
      return error_at(body, "table " + *fam_text + " " + quote_input(*name) + " listed twice");
    }
  }
  auto info = std::make_unique<TableInfo>();
  info->table.origin = TableOrigin::nft_json;
  info->table.family = *fam;
  info->table.name = *name;
  info->table.source = source_;
  if (const Node* flags = body.get("flags"); flags != nullptr) {
    auto is_dormant = [](const Node& f) { return f.is_string() && f.text == "dormant"; };
    info->dormant =
        is_dormant(*flags) ||
        (flags->is_array() && std::any_of(flags->items.begin(), flags->items.end(), is_dormant));
  }
  tables_.push_back(std::move(info));
  return {};
}

Status Parser::add_set(const Node& body) {
  auto t = owner(body, "set");
  if (!t) return t.error();
  auto name = string_member(body, "name", "set");
  if (!name) return name.error();
  if (const Node* elem = body.get("elem"); elem != nullptr && !elem->is_array()) {
    return error_at(*elem, "set " + quote_input(*name) + ": \"elem\" must be an array");
  }
  if ((*t)->sets.count(*name) != 0) {
    return error_at(body, "set " + quote_input(*name) + " listed twice");
  }
  (*t)->sets.emplace(*name, &body);
  return {};
}

// Named priorities of nft(8) ("PRIORITY": standard names, bridge ones differ).
std::optional<int> named_priority(std::string_view name, TableFamily fam) {
  if (fam == TableFamily::bridge) {
    if (name == "dstnat") return -300;
    if (name == "filter") return -200;
    if (name == "out") return 100;
    if (name == "srcnat") return 300;
    return std::nullopt;
  }
  if (name == "raw") return -300;
  if (name == "mangle") return -150;
  if (name == "dstnat") return -100;
  if (name == "filter") return 0;
  if (name == "security") return 50;
  if (name == "srcnat") return 100;
  return std::nullopt;
}

std::optional<int> small_int(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 6) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return neg ? -v : v;
}

// "filter", "filter + 10", "mangle - 5", "-150".
std::optional<int> priority_text(std::string_view s, TableFamily fam) {
  auto trim = [](std::string_view x) {
    while (!x.empty() && x.front() == ' ') x.remove_prefix(1);
    while (!x.empty() && x.back() == ' ') x.remove_suffix(1);
    return x;
  };
  s = trim(s);
  if (auto n = small_int(s)) return n;
  const auto op = s.find_first_of("+-");
  const std::string_view name = trim(s.substr(0, op));
  auto base = named_priority(name, fam);
  if (!base) return std::nullopt;
  if (op == std::string_view::npos) return base;
  auto offset = small_int(trim(s.substr(op + 1)));
  if (!offset || *offset < 0) return std::nullopt;
  return s[op] == '+' ? *base + *offset : *base - *offset;
}

Status Parser::add_chain(const Node& body) {
  auto t = owner(body, "chain");
  if (!t) return t.error();
  TableInfo& info = **t;
  auto name = string_member(body, "name", "chain");
  if (!name) return name.error();
  if (info.chains.count(*name) != 0) {
    return error_at(body, "chain " + quote_input(*name) + " listed twice");
  }
  Chain chain;
  chain.name = *name;
  chain.origin = source_ + ": table " + family_text(info.table.family) + " " + info.table.name +
                 " chain " + *name;
  if (const Node* hook = body.get("hook"); hook != nullptr) {
    if (!hook->is_string()) return error_at(*hook, "chain: \"hook\" must be a string");
    static const std::map<std::string_view, Hook> hooks = {
        {"ingress", Hook::ingress}, {"prerouting", Hook::prerouting},
        {"input", Hook::input},     {"output", Hook::output},
        {"forward", Hook::forward}, {"postrouting", Hook::postrouting},
    };
    auto it = hooks.find(hook->text);
    // egress (netdev, outbound only) is not a hook the model follows: kept as a regular chain.
    if (it == hooks.end() && hook->text != "egress") {
      return error_at(*hook,
                      "chain " + quote_input(*name) + ": unknown hook " + quote_input(hook->text));
    }
    if (it != hooks.end()) {
      BaseChain base;
      base.hook = it->second;
      if (const Node* prio = body.get("prio"); prio != nullptr) {
        std::optional<int> p;
        if (prio->is(Node::Kind::integer) && prio->integer >= INT32_MIN &&
            prio->integer <= INT32_MAX) {
          p = static_cast<int>(prio->integer);
        } else if (prio->is_string()) {
          p = priority_text(prio->text, info.table.family);
        }
        if (!p) {
          return error_at(*prio, "chain " + quote_input(*name) + ": bad priority " +
                                     quote_input(render(*prio)));
        }
        base.priority = *p;
      }
      if (const Node* pol = body.get("policy"); pol != nullptr) {
        if (pol->is_string() && pol->text == "accept") {
          base.policy = Verdict::accept;
        } else if (pol->is_string() && pol->text == "drop") {
          base.policy = Verdict::drop;
        } else {
          return error_at(*pol, "chain " + quote_input(*name) +
                                    ": policy must be accept or drop, not " +
                                    quote_input(render(*pol)));
        }
      }
      if (const Node* type = body.get("type"); type != nullptr && type->is_string()) {
        base.type = type->text;
      }
      if (!info.dormant) chain.base = base;
    }
  }
  info.chains.emplace(*name, info.table.chains.size());
  info.table.chains.push_back(std::move(chain));
  return {};
}

Status Parser::add_rule(const Node& body) {
  auto t = owner(body, "rule");
  if (!t) return t.error();
  TableInfo& info = **t;
  auto chain_name = string_member(body, "chain", "rule");
  if (!chain_name) return chain_name.error();
  auto it = info.chains.find(*chain_name);
  if (it == info.chains.end()) {
    return error_at(*body.get("chain"), "rule: unknown chain " + quote_input(*chain_name) +
                                            " in table " + family_text(info.table.family) + " " +
                                            info.table.name);
  }
  const Node* exprs = body.get("expr");
  if (exprs == nullptr) return error_at(body, "rule: missing \"expr\"");
  if (!exprs->is_array()) return error_at(*exprs, "rule: \"expr\" must be an array");

  std::string origin = source_ + ": table " + family_text(info.table.family) + " " +
                       info.table.name + " chain " + *chain_name;
  if (const Node* h = body.get("handle"); h != nullptr) origin += " handle " + render(*h);
  std::string text;
  for (const Node& st : exprs->items) {
    const std::string s = render_statement(st);
    if (s.empty()) continue;
    if (!text.empty()) text += " ";
    text += s;
  }

  Draft d;
  std::vector<Rule> expanded;
  bool expanded_used = false;
  for (const Node& st : exprs->items) {
    if (d.has_verdict || expanded_used) break;  // nothing after a verdict runs
    if (auto s = statement(info, st, d, expanded, expanded_used); !s) return s;
  }
  if (!d.rate_limits.empty() && (d.verdict != Verdict::none || expanded_used)) {
    // A rate limit on a verdict makes the verdict depend on traffic the analysis cannot see.
    for (auto& r : expanded) {
      r.match.unknown.insert(r.match.unknown.end(), d.rate_limits.begin(), d.rate_limits.end());
    }
    d.match.unknown.insert(d.match.unknown.end(), d.rate_limits.begin(), d.rate_limits.end());
  }
  auto& rules = info.table.chains[it->second].rules;
  if (expanded_used) {
    for (auto& r : expanded) {
      r.origin = origin;
      r.text = text;
      rules.push_back(std::move(r));
    }
    return {};
  }
  Rule r;
  r.match = std::move(d.match);
  r.verdict = d.verdict;
  r.target = std::move(d.target);
  r.to_port = d.to_port;
  r.origin = std::move(origin);
  r.text = std::move(text);
  rules.push_back(std::move(r));
  return {};
}

// ---- statements -----------------------------------------------------------------------------

Status Parser::verdict_of(const Node& st, Draft& d, bool& recognised) {
  recognised = true;
  const std::string& k = st.keys[0];
  const Node& v = st.items[0];
  auto target = [&]() -> Status {
    if (!v.is_object() || v.get("target") == nullptr || !v.get("target")->is_string()) {
      return error_at(v, k + ": expected {\"target\": CHAIN}");
    }
    d.target = v.get("target")->text;
    return {};
  };
  if (k == "accept") {
    d.verdict = Verdict::accept;
  } else if (k == "drop") {
    d.verdict = Verdict::drop;
  } else if (k == "reject") {
    d.verdict = Verdict::reject;
  } else if (k == "return") {
    d.verdict = Verdict::return_;
  } else if (k == "continue") {
    d.verdict = Verdict::none;
  } else if (k == "jump") {
    d.verdict = Verdict::jump;
    if (auto s = target(); !s) return s;
  } else if (k == "goto") {
    d.verdict = Verdict::goto_;
    if (auto s = target(); !s) return s;
  } else if (k == "queue") {
    d.verdict = Verdict::unknown;
    d.target = render_statement(st);
  } else {
    recognised = false;
    return {};
  }
  d.has_verdict = d.verdict != Verdict::none || k == "continue";
  return {};
}

Status Parser::statement(TableInfo& t, const Node& st, Draft& d, std::vector<Rule>& expanded,
                         bool& expanded_used) {
  if (!st.is_object() || st.items.size() != 1) {
    return error_at(st, "rule: each statement must be an object with one member");
  }
  const std::string& k = st.keys[0];
  const Node& v = st.items[0];
  bool recognised = false;
  const bool untracked = d.verdict == Verdict::notrack;
  if (auto s = verdict_of(st, d, recognised); !s) return s;
  if (recognised) {
    // `notrack accept`: the model keeps one verdict per rule, so the notrack is not silent.
    if (untracked && d.verdict != Verdict::notrack) d.match.unknown.push_back("notrack");
    if ((d.verdict == Verdict::jump || d.verdict == Verdict::goto_) &&
        t.chains.count(d.target) == 0) {
      return error_at(v, k + " to unknown chain " + quote_input(d.target));
    }
    return {};
  }
  if (k == "match") return apply_match(t, v, d);
  if (k == "counter" || k == "log" || k == "ct helper" || k == "flow") {
    // Counting, logging, a conntrack helper for related flows, flow offload of established
    // flows: none changes what happens to a first SYN.
    return {};
  }
  if (k == "limit" || k == "quota") {
    d.rate_limits.push_back(render_statement(st));
    return {};
  }
  if (k == "notrack") {
    d.verdict = Verdict::notrack;
    d.has_verdict = false;  // notrack does not end the rule's chain walk
    return {};
  }
  if (k == "redirect" || k == "dnat") {
    d.has_verdict = true;
    d.verdict = Verdict::unknown;
    d.target = render_statement(st);
    const Node* port = v.is_object() ? v.get("port") : nullptr;
    const Node* addr = v.is_object() ? v.get("addr") : nullptr;
    if (port != nullptr && port->is(Node::Kind::integer)) {
      if (port->integer < 0 || port->integer > 65535) {
        return error_at(*port, k + ": port " + quote_input(port->text) + " exceeds 65535");
      }
      d.verdict = Verdict::redirect;
      d.to_port = static_cast<std::uint16_t>(port->integer);
      // DNAT: the address is kept in target so the analyser can tell whether it is this host.
      d.target = addr != nullptr ? render(*addr) : "";
    } else if (k == "redirect" && port == nullptr) {
      d.verdict = Verdict::redirect;  // to this host, port unchanged
      d.target.clear();
    }
    return {};
  }
  if (k == "vmap") {
    bool modelled = false;
    if (auto s = expand_vmap(t, v, d, expanded, modelled); !s) return s;
    if (modelled) {
      expanded_used = true;
    } else {
      d.verdict = Verdict::unknown;
      d.target = render_statement(st);
      d.has_verdict = true;
    }
    return {};
  }
  if (k == "xt") {
    const std::string name = v.is_object() ? member_text(v, "name") : "";
    const std::string type = v.is_object() ? member_text(v, "type") : "";
    t.table.iptables_nft_compat = true;
    if (type == "target") {
      // The arguments are not in the JSON; only targets that are the same whatever they are
      // can be modelled.
      if (name == "LOG" || name == "NFLOG" || name == "ULOG") return {};
      d.has_verdict = true;
      d.verdict = name == "REJECT" ? Verdict::reject : Verdict::unknown;
      d.target = name == "REJECT" ? "" : "xt target " + name;
      return {};
    }
    d.match.unknown.push_back("xt " + (type.empty() ? std::string("match") : type) + " " + name);
    return {};
  }
  // snat/masquerade (postrouting), mangle, set updates, tproxy, dup, fwd, synproxy, secmark...
  if (k == "snat" || k == "masquerade" || k == "tproxy" || k == "fwd" || k == "synproxy") {
    d.has_verdict = true;
    d.verdict = Verdict::unknown;
    d.target = render_statement(st);
    return {};
  }
  d.match.unknown.push_back(render_statement(st));
  return {};
}

Left Parser::classify(const Node& left) const {
  Left out;
  if (!left.is_object() || left.items.size() != 1) return out;
  const std::string& k = left.keys[0];
  const Node& v = left.items[0];
  if (!v.is_object() && k != "&") return out;
  if (k == "payload") {
    const Node* p = v.get("protocol");
    const Node* f = v.get("field");
    if (p == nullptr || f == nullptr || !p->is_string() || !f->is_string()) return out;
    const std::string& proto = p->text;
    const std::string& field = f->text;
    if (proto == "ip" || proto == "ip6") {
      out.family = proto == "ip" ? Family::v4 : Family::v6;
      if (field == "saddr") out.field = Field::src;
      if (field == "daddr") out.field = Field::dst;
      if ((proto == "ip" && field == "protocol") || (proto == "ip6" && field == "nexthdr")) {
        out.field = Field::l4proto;
      }
      if (out.field == Field::other) out.family.reset();
      return out;
    }
    if (auto num = transport_proto(proto); num || proto == "th") {
      if (field == "sport") out.field = Field::sport;
      if (field == "dport") out.field = Field::dport;
      if (proto == "tcp" && field == "flags") out.field = Field::tcp_flags;
      if (out.field != Field::other) out.proto = num;
      return out;
    }
    if ((proto == "icmp" || proto == "icmpv6") && (field == "type" || field == "code")) {
      out.field = Field::icmp;
      out.proto = proto == "icmp" ? 1 : 58;
    }
    return out;
  }
  if (k == "meta") {
    const Node* key = v.get("key");
    if (key == nullptr || !key->is_string()) return out;
    const std::string& m = key->text;
    if (m == "l4proto") out.field = Field::l4proto;
    if (m == "nfproto") out.field = Field::nfproto;
    if (m == "protocol") out.field = Field::ethertype;
    if (m == "iifname" || m == "iif") out.field = Field::iif;
    if (m == "oifname" || m == "oif") out.field = Field::oif;
    return out;
  }
  if (k == "ct") {
    const Node* key = v.get("key");
    if (key != nullptr && key->is_string() && key->text == "state" && v.get("dir") == nullptr) {
      out.field = Field::ct_state;
    }
    if (key != nullptr && key->is_string() && key->text == "status" && v.get("dir") == nullptr) {
      out.field = Field::ct_status;
    }
    return out;
  }
  if (k == "&" && v.is_array() && v.items.size() == 2) {
    Left inner = classify(v.items[0]);
    if (inner.field != Field::tcp_flags && inner.field != Field::ct_state) return out;
    auto mask = flag_value(v.items[1], inner.field);
    if (!mask || !*mask) return out;
    inner.mask = **mask;
    return inner;
  }
  return out;
}

// Families as a 2-bit set (v4, v6), for meta nfproto / meta protocol.
using FamilyBits = std::bitset<2>;

Status Parser::apply_match(TableInfo& t, const Node& match, Draft& d) {
  if (!match.is_object()) return error_at(match, "match must be an object");
  const Node* op = match.get("op");
  const Node* left = match.get("left");
  const Node* right = match.get("right");
  if (op == nullptr || left == nullptr || right == nullptr) {
    return error_at(match, "match: expected \"op\", \"left\" and \"right\"");
  }
  if (!op->is_string()) return error_at(*op, "match: \"op\" must be a string");
  static constexpr std::array<std::string_view, 9> ops = {
      "==", "!=", "<", ">", "<=", ">=", "in", "!", "&"};
  if (std::find(ops.begin(), ops.end(), op->text) == ops.end()) {
    return error_at(*op, "match: unknown operator " + quote_input(op->text));
  }
  const Left l = classify(*left);
  const std::string text = render_match(match);
  if (l.field == Field::other || op->text == "&") {
    d.match.unknown.push_back(text);
    return {};
  }
  Match m;  // this one test, merged below
  auto ok = apply_value(t, l, op->text, *right, m);
  if (!ok) return ok.error();
  if (!*ok) {
    d.match.unknown.push_back(text);
    return {};
  }
  Match& into = d.match;
  auto never = [&] { into.l4proto = std::bitset<256>(); };  // no packet has no layer-4 protocol
  // Family: implied by ip/ip6 payloads and by meta nfproto/protocol.
  if (l.family) {
    const auto table_fam = implied_family(t.table.family);
    if (table_fam) {
      if (*table_fam != *l.family) never();
    } else if (into.family && *into.family != *l.family) {
      never();
    } else {
      into.family = l.family;
    }
  }
  if (m.family) {
    const auto table_fam = implied_family(t.table.family);
    if (table_fam && *table_fam != *m.family) never();
    if (!table_fam) {
      if (into.family && *into.family != *m.family) never();
      into.family = m.family;
    }
  }
  if (m.src) into.src = into.src ? into.src->intersect(*m.src) : *m.src;
  if (m.dst) into.dst = into.dst ? into.dst->intersect(*m.dst) : *m.dst;
  if (m.sport) into.sport = into.sport ? into.sport->intersect(*m.sport) : *m.sport;
  if (m.dport) into.dport = into.dport ? into.dport->intersect(*m.dport) : *m.dport;
  if (l.proto) {
    std::bitset<256> p;
    p.set(*l.proto);
    m.l4proto = m.l4proto ? (*m.l4proto & p) : p;
  }
  if (m.l4proto) into.l4proto = into.l4proto ? (*into.l4proto & *m.l4proto) : *m.l4proto;
  if (m.ct_state) into.ct_state = into.ct_state ? (*into.ct_state & *m.ct_state) : *m.ct_state;
  if (m.tcp_syn_matches) {
    into.tcp_syn_matches =
        into.tcp_syn_matches ? (*into.tcp_syn_matches && *m.tcp_syn_matches) : *m.tcp_syn_matches;
  }
  if (m.icmp_type_test) into.icmp_type_test = true;
  if (m.ct_status_dnat) {
    if (into.ct_status_dnat && *into.ct_status_dnat != *m.ct_status_dnat) never();
    into.ct_status_dnat = m.ct_status_dnat;
  }
  for (auto [from, to] : {std::make_pair(&m.iif, &into.iif), std::make_pair(&m.oif, &into.oif)}) {
    if (!*from) continue;
    if (*to) {
      into.unknown.push_back(text);  // a second interface test: not intersected
    } else {
      *to = *from;
    }
  }
  return {};
}

Result<const std::vector<Node>*> Parser::resolve_set(TableInfo& t, const Node& ref) {
  const std::string name = ref.text.substr(1);
  auto it = t.sets.find(name);
  if (it == t.sets.end()) {
    return error_at(ref, "unknown set " + quote_input(ref.text) + " in table " +
                             family_text(t.table.family) + " " + t.table.name);
  }
  static const std::vector<Node> empty;
  const Node* elem = it->second->get("elem");
  return elem == nullptr ? &empty : &elem->items;
}

// Flattens a right-hand side into its elements: a set's members, a named set's elements, a
// single value. {"elem": {"val": X}} (elements with timeouts, comments, counters) unwraps to X.
Status Parser::collect(TableInfo& t, const Node& right, std::vector<const Node*>& out, int depth) {
  if (depth > 4) return error_at(right, "sets nested too deeply");
  if (right.is_string() && !right.text.empty() && right.text[0] == '@') {
    auto elems = resolve_set(t, right);
    if (!elems) return elems.error();
    for (const Node& e : **elems) {
      if (auto s = collect(t, e, out, depth + 1); !s) return s;
    }
    return {};
  }
  if (right.is_object() && right.items.size() == 1 && right.keys[0] == "set") {
    const Node& members = right.items[0];
    if (!members.is_array()) {
      if (auto s = collect(t, members, out, depth + 1); !s) return s;
      return {};
    }
    for (const Node& e : members.items) {
      if (auto s = collect(t, e, out, depth + 1); !s) return s;
    }
    return {};
  }
  if (right.is_object() && right.items.size() == 1 && right.keys[0] == "elem") {
    const Node* val = right.items[0].is_object() ? right.items[0].get("val") : nullptr;
    if (val == nullptr) return error_at(right, "set element: missing \"val\"");
    return collect(t, *val, out, depth + 1);
  }
  out.push_back(&right);
  return {};
}

Result<bool> Parser::address_value(const Node& v, Family f, std::vector<Prefix>& into) const {
  auto check = [&](const Prefix& p, const Node& at) -> Status {
    if (p.addr.family != f) {
      return error_at(
          at, quote_input(render(at)) + " is not an " + std::string(family_name(f)) + " address");
    }
    return {};
  };
  if (v.is_string()) {
    auto p = parse_prefix(v.text);
    if (!p) return error_at(v, "address: " + p.error().message);
    if (auto s = check(*p, v); !s) return s.error();
    into.push_back(*p);
    return true;
  }
  if (v.is_object() && v.items.size() == 1 && v.keys[0] == "prefix") {
    const Node& body = v.items[0];
    const Node* addr = body.is_object() ? body.get("addr") : nullptr;
    const Node* len = body.is_object() ? body.get("len") : nullptr;
    if (addr == nullptr || len == nullptr || !addr->is_string() || !len->is(Node::Kind::integer)) {
      return error_at(v, "prefix: expected {\"addr\": ADDRESS, \"len\": LENGTH}");
    }
    auto p = parse_prefix(addr->text + "/" + len->text);
    if (!p) return error_at(v, "prefix: " + p.error().message);
    if (auto s = check(*p, v); !s) return s.error();
    into.push_back(*p);
    return true;
  }
  if (v.is_object() && v.items.size() == 1 && v.keys[0] == "range") {
    const Node& r = v.items[0];
    if (!r.is_array() || r.items.size() != 2 || !r.items[0].is_string() ||
        !r.items[1].is_string()) {
      return error_at(v, "range: expected [LOW, HIGH] addresses");
    }
    auto lo = parse_address(r.items[0].text);
    if (!lo) return error_at(r.items[0], "address: " + lo.error().message);
    auto hi = parse_address(r.items[1].text);
    if (!hi) return error_at(r.items[1], "address: " + hi.error().message);
    if (lo->family != f)
      return error_at(r.items[0], quote_input(r.items[0].text) + " is not an " +
                                      std::string(family_name(f)) + " address");
    if (hi->family != f)
      return error_at(r.items[1], quote_input(r.items[1].text) + " is not an " +
                                      std::string(family_name(f)) + " address");
    if (lo->value > hi->value) return error_at(v, "range: low end above high end");
    for (const Prefix& p : interval_to_prefixes(f, lo->value, hi->value)) into.push_back(p);
    return true;
  }
  return false;  // concatenations, expressions: outside the model
}

Result<bool> Parser::port_value(const Node& v, PortSet& into) const {
  auto one = [&](const Node& n) -> Parsed<std::uint16_t> {
    if (n.is(Node::Kind::integer)) {
      if (n.integer < 0 || n.integer > 65535) {
        return error_at(
            n, "port " + quote_input(n.text) + (n.integer < 0 ? " is negative" : " exceeds 65535"));
      }
      return std::optional(static_cast<std::uint16_t>(n.integer));
    }
    return std::optional<std::uint16_t>();  // a service name (nft -S) or an expression
  };
  if (v.is_object() && v.items.size() == 1 && v.keys[0] == "range") {
    const Node& r = v.items[0];
    if (!r.is_array() || r.items.size() != 2) return error_at(v, "range: expected [LOW, HIGH]");
    auto lo = one(r.items[0]);
    if (!lo) return lo.error();
    auto hi = one(r.items[1]);
    if (!hi) return hi.error();
    if (!*lo || !*hi) return false;
    if (**lo > **hi) return error_at(v, "port range: low end above high end");
    into.add(**lo, **hi);
    return true;
  }
  auto p = one(v);
  if (!p) return p.error();
  if (!*p) return false;
  into.add(**p);
  return true;
}

Parsed<std::bitset<256>> Parser::proto_value(const Node& v) const {
  auto one = [&](const Node& n) -> Parsed<std::uint8_t> {
    if (n.is(Node::Kind::integer)) {
      if (n.integer < 0 || n.integer > 255) {
        return error_at(n, "protocol number " + quote_input(n.text) + " exceeds 255");
      }
      return std::optional(static_cast<std::uint8_t>(n.integer));
    }
    if (n.is_string()) return proto_number(n.text);
    return std::optional<std::uint8_t>();
  };
  std::bitset<256> s;
  if (v.is_object() && v.items.size() == 1 && v.keys[0] == "range") {
    const Node& r = v.items[0];
    if (!r.is_array() || r.items.size() != 2) return error_at(v, "range: expected [LOW, HIGH]");
    auto lo = one(r.items[0]);
    if (!lo) return lo.error();
    auto hi = one(r.items[1]);
    if (!hi) return hi.error();
    if (!*lo || !*hi) return std::optional<std::bitset<256>>();
    for (int i = **lo; i <= **hi; ++i) s.set(static_cast<std::size_t>(i));
    return std::optional(s);
  }
  auto p = one(v);
  if (!p) return p.error();
  if (!*p) return std::optional<std::bitset<256>>();
  s.set(**p);
  return std::optional(s);
}

// A bitmask value: a name, a list of names (OR), {"|": [...]}, or a number.
Parsed<std::uint8_t> Parser::flag_value(const Node& v, Field f) const {
  if (v.is_string()) {
    return f == Field::ct_state ? ct_state_bit(v.text) : tcp_flag_bit(v.text);
  }
  if (v.is(Node::Kind::integer)) {
    if (v.integer < 0 || v.integer > 255) return std::optional<std::uint8_t>();
    return std::optional(static_cast<std::uint8_t>(v.integer));
  }
  const std::vector<Node>* parts = nullptr;
  if (v.is_array()) parts = &v.items;
  if (v.is_object() && v.items.size() == 1 && v.keys[0] == "|" && v.items[0].is_array()) {
    parts = &v.items[0].items;
  }
  if (parts == nullptr) return std::optional<std::uint8_t>();
  std::uint8_t bits = 0;
  for (const Node& p : *parts) {
    auto b = flag_value(p, f);
    if (!b) return b.error();
    if (!*b) return std::optional<std::uint8_t>();
    bits = static_cast<std::uint8_t>(bits | **b);
  }
  return std::optional(bits);
}

// Applies `left OP right` to the empty Match m. false: the test is outside the model.
Result<bool> Parser::apply_value(TableInfo& t, const Left& left, std::string_view op,
                                 const Node& right, Match& m) {
  const bool is_set = (right.is_string() && !right.text.empty() && right.text[0] == '@') ||
                      (right.is_object() && right.items.size() == 1 && right.keys[0] == "set");
  std::vector<const Node*> elems;
  if (auto s = collect(t, right, elems, 0); !s) return s.error();
  const bool eq = op == "==" || op == "in";
  const bool ne = op == "!=";
  const bool cmp = op == "<" || op == ">" || op == "<=" || op == ">=";

  switch (left.field) {
    case Field::src:
    case Field::dst: {
      if (!eq && !ne) return false;
      const Family f = *left.family;
      std::vector<Prefix> prefixes;
      prefixes.reserve(elems.size());
      for (const Node* e : elems) {
        auto a = address_value(*e, f, prefixes);
        if (!a) return a.error();
        if (!*a) return false;
      }
      AddressSet s = AddressSet::of(prefixes);
      if (ne) s = AddressSet::any_of(f).subtract(s);
      (left.field == Field::src ? m.src : m.dst) = s;
      return true;
    }
    case Field::sport:
    case Field::dport: {
      PortSet s;
      if (cmp) {
        if (is_set || elems.size() != 1 || !elems[0]->is(Node::Kind::integer)) return false;
        PortSet probe;  // range check only
        auto p = port_value(*elems[0], probe);
        if (!p) return p.error();
        const auto v = static_cast<int>(elems[0]->integer);
        int lo = 0;
        int hi = 65535;
        if (op == "<") hi = v - 1;
        if (op == "<=") hi = v;
        if (op == ">") lo = v + 1;
        if (op == ">=") lo = v;
        if (lo <= hi) s.add(static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi));
      } else if (eq || ne) {
        for (const Node* e : elems) {
          auto p = port_value(*e, s);
          if (!p) return p.error();
          if (!*p) return false;
        }
        if (ne) s = PortSet::all().subtract(s);
      } else {
        return false;
      }
      (left.field == Field::sport ? m.sport : m.dport) = s;
      return true;
    }
    case Field::l4proto: {
      std::bitset<256> s;
      if (cmp) {
        if (is_set || elems.size() != 1) return false;
        auto p = proto_value(*elems[0]);
        if (!p) return p.error();
        if (!*p || (**p).count() != 1) return false;
        std::size_t v = 0;
        while (!(**p).test(v)) ++v;
        for (std::size_t i = 0; i < 256; ++i) {
          const bool in = (op == "<" && i < v) || (op == "<=" && i <= v) || (op == ">" && i > v) ||
                          (op == ">=" && i >= v);
          s.set(i, in);
        }
      } else if (eq || ne) {
        for (const Node* e : elems) {
          auto p = proto_value(*e);
          if (!p) return p.error();
          if (!*p) return false;
          s |= **p;
        }
        if (ne) s.flip();
      } else {
        return false;
      }
      m.l4proto = s;
      return true;
    }
    case Field::nfproto:
    case Field::ethertype: {
      if (!eq && !ne) return false;
      FamilyBits s;
      for (const Node* e : elems) {
        if (!e->is_string()) return false;
        const std::string& x = e->text;
        const bool v4 = left.field == Field::nfproto ? x == "ipv4" : x == "ip";
        const bool v6 = left.field == Field::nfproto ? x == "ipv6" : x == "ip6";
        if (v4) s.set(0);
        if (v6) s.set(1);
        if (!v4 && !v6 && left.field == Field::nfproto && x != "arp" && x != "bridge" &&
            x != "netdev" && x != "inet") {
          return false;
        }
      }
      if (ne) s.flip();
      if (s.none()) {
        m.l4proto = std::bitset<256>();  // not IP: no TCP/UDP packet matches
      } else if (s.count() == 1) {
        m.family = s.test(0) ? Family::v4 : Family::v6;
      }
      return true;
    }
    case Field::iif:
    case Field::oif: {
      if (!eq && !ne) return false;
      IfaceMatch im;
      im.negate = ne;
      for (const Node* e : elems) {
        if (!e->is_string()) return false;  // interface indexes
        std::string name = e->text;
        if (!name.empty() && name.back() == '*') name.back() = '+';
        im.names.push_back(std::move(name));
      }
      (left.field == Field::iif ? m.iif : m.oif) = std::move(im);
      return true;
    }
    case Field::ct_state:
    case Field::tcp_flags: {
      if (cmp || (is_set && !eq && !ne)) return false;
      std::vector<std::uint8_t> values;
      for (const Node* e : elems) {
        auto b = flag_value(*e, left.field);
        if (!b) return b.error();
        if (!*b) return false;
        values.push_back(**b);
      }
      const std::uint8_t mask = left.mask.value_or(0xff);
      // The exact test nft runs, for one packet value x.
      auto holds = [&](std::uint8_t x) {
        x = static_cast<std::uint8_t>(x & mask);
        if (is_set) {
          const bool member = std::find(values.begin(), values.end(), x) != values.end();
          return ne ? !member : member;
        }
        const std::uint8_t val = values.empty() ? 0 : values[0];
        if (op == "==") return x == val;
        if (op == "!=") return x != val;
        if (op == "in") return (x & val) != 0;
        return (x & val) == 0;  // "!"
      };
      if (left.field == Field::tcp_flags) {
        m.tcp_syn_matches = holds(kSyn);
      } else {
        std::uint8_t states = 0;
        for (auto [kernel_bit, model_bit] : kCtStates) {
          if (holds(kernel_bit)) states = static_cast<std::uint8_t>(states | model_bit);
        }
        m.ct_state = states;
      }
      return true;
    }
    case Field::ct_status: {
      // `ct status dnat` ("in" / "=="), `ct status != dnat` / `! dnat`: the other status bits
      // (expected, seen-reply, assured...) are not modelled.
      if (is_set || elems.size() != 1 || !elems[0]->is_string() || elems[0]->text != "dnat") {
        return false;
      }
      if (op == "in" || op == "==") {
        m.ct_status_dnat = true;
      } else if (op == "!=" || op == "!") {
        m.ct_status_dnat = false;
      } else {
        return false;
      }
      return true;
    }
    case Field::icmp:
      m.icmp_type_test = true;
      return true;
    case Field::other:
      break;
  }
  return false;
}

Status Parser::expand_vmap(TableInfo& t, const Node& vmap, const Draft& base,
                           std::vector<Rule>& out, bool& modelled) {
  modelled = false;
  if (!vmap.is_object() || vmap.get("key") == nullptr || vmap.get("data") == nullptr) {
    return error_at(vmap, "vmap: expected {\"key\": EXPR, \"data\": MAP}");
  }
  const Node& key = *vmap.get("key");
  const Node& data = *vmap.get("data");
  const Left l = classify(key);
  if (l.field == Field::other || l.field == Field::icmp) return {};
  std::vector<const Node*> entries;
  if (data.is_string() && !data.text.empty() && data.text[0] == '@') {
    auto elems = resolve_set(t, data);
    if (!elems) return elems.error();
    for (const Node& e : **elems) entries.push_back(&e);
  } else if (data.is_object() && data.items.size() == 1 && data.keys[0] == "set" &&
             data.items[0].is_array()) {
    for (const Node& e : data.items[0].items) entries.push_back(&e);
  } else {
    return {};
  }
  std::vector<Rule> rules;
  for (const Node* e : entries) {
    // [key, verdict], or {"elem": {"val": [key, verdict]}}
    const Node* pair = e;
    if (e->is_object() && e->items.size() == 1 && e->keys[0] == "elem" && e->items[0].is_object() &&
        e->items[0].get("val") != nullptr) {
      pair = e->items[0].get("val");
    }
    if (!pair->is_array() || pair->items.size() != 2) {
      return error_at(*e, "verdict map element: expected [KEY, VERDICT]");
    }
    const Node& verdict = pair->items[1];
    if (!verdict.is_object() || verdict.items.size() != 1) {
      return error_at(verdict, "verdict map element: expected a verdict object");
    }
    Draft d = base;
    d.has_verdict = false;
    // The element as the match `KEY == VALUE`, so that it is read exactly as a rule's test.
    Node match;
    match.kind = Node::Kind::object;
    match.offset = pair->offset;
    Node op;
    op.kind = Node::Kind::string;
    op.offset = pair->offset;
    op.text = "==";
    match.keys = {"op", "left", "right"};
    match.items = {op, key, pair->items[0]};
    const std::size_t unknown_before = d.match.unknown.size();
    if (auto s = apply_match(t, match, d); !s) return s;
    if (d.match.unknown.size() != unknown_before) return {};  // an element outside the model
    bool recognised = false;
    if (auto s = verdict_of(verdict, d, recognised); !s) return s;
    if (!recognised) return {};
    if ((d.verdict == Verdict::jump || d.verdict == Verdict::goto_) &&
        t.chains.count(d.target) == 0) {
      return error_at(verdict, verdict.keys[0] + " to unknown chain " + quote_input(d.target));
    }
    Rule r;
    r.match = std::move(d.match);
    r.verdict = d.verdict;
    r.target = std::move(d.target);
    rules.push_back(std::move(r));
  }
  // Elements of one map never overlap, so at most one of these rules matches a packet: in
  // sequence they decide as the map does, and a packet matching none goes on, as with a map.
  out = std::move(rules);
  modelled = true;
  return {};
}

}  // namespace

Result<std::vector<Table>> parse_nft_json(std::string_view json, std::string_view source) {
  if (json.size() > kMaxInput) {
    return Error{std::string(source) + ": input of " + std::to_string(json.size()) +
                 " bytes exceeds the limit of " + std::to_string(kMaxInput) + " bytes"};
  }
  const Positions pos(json, source);
  auto tree = parse_tree(json, pos);
  if (!tree) return tree.error();
  Parser parser(pos, source);
  return parser.run(*tree);
}

}  // namespace mw::fw
