// The nft backend: bans are elements of sets ban4/ban6 in table inet mailwarden_ban, with
// their own base chain at priority filter - 10, changed in one `nft -f` transaction each.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ban/backend.hpp"

namespace mw::ban {

namespace {

// ICMPv6 router and neighbour solicitation/advertisement (RFC 4861 types 133-136).
constexpr std::string_view kNdTypesNft =
    "nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert";

std::string_view set_of(Family f) {
  return f == Family::v4 ? "ban4" : "ban6";
}

}  // namespace

std::string nft_ensure_script() {
  // `add` is a no-op on what exists, so existing elements survive; the chain's rules are
  // rewritten (flush chain) so that running this twice never duplicates them. No auto-merge:
  // it would join bans with different timeouts into one wider element. Neighbour and router
  // discovery pass before the drop: a banned /64 may hold the router or a neighbour on the
  // link, and dropping their solicitations would cut the host off its own link. `accept` only
  // ends this base chain; the policy's chain still judges the packet.
  return fmt::format(
      "add table inet {0}\n"
      "add set inet {0} ban4 {{ type ipv4_addr; flags interval, timeout; }}\n"
      "add set inet {0} ban6 {{ type ipv6_addr; flags interval, timeout; }}\n"
      "add chain inet {0} input {{ type filter hook input priority filter - 10; policy accept; }}\n"
      "flush chain inet {0} input\n"
      "add rule inet {0} input ip saddr @ban4 drop\n"
      "add rule inet {0} input icmpv6 type {{ {1} }} accept\n"
      "add rule inet {0} input ip6 saddr @ban6 drop\n",
      kBanTable, kNdTypesNft);
}

Result<std::vector<KernelBan>> parse_nft_set_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array())
    return Error{"nft -j list set: not nft JSON"};
  std::vector<KernelBan> out;
  auto value_prefix = [](const nlohmann::json& v) -> Result<Prefix> {
    if (v.is_string()) return parse_prefix(v.get<std::string>());
    if (v.is_object() && v.contains("prefix") && v["prefix"].is_object()) {
      const auto& p = v["prefix"];
      if (!p.contains("addr") || !p["addr"].is_string() || !p.contains("len") ||
          !p["len"].is_number_unsigned())
        return Error{"nft -j list set: malformed prefix element"};
      return parse_prefix(
          fmt::format("{}/{}", p["addr"].get<std::string>(), p["len"].get<unsigned>()));
    }
    return Error{"nft -j list set: an element is neither an address nor a prefix"};
  };
  for (const auto& item : j["nftables"]) {
    if (!item.is_object() || !item.contains("set")) continue;
    const auto& set = item["set"];
    if (!set.is_object() || !set.contains("elem")) continue;
    if (!set["elem"].is_array()) return Error{"nft -j list set: elem is not an array"};
    for (const auto& e : set["elem"]) {
      KernelBan kb;
      const nlohmann::json* val = &e;
      if (e.is_object() && e.contains("elem") && e["elem"].is_object()) {
        const auto& d = e["elem"];
        if (!d.contains("val")) return Error{"nft -j list set: element without val"};
        val = &d["val"];
        if (d.contains("timeout") && d["timeout"].is_number_integer())
          kb.timeout = Seconds(d["timeout"].get<std::int64_t>());
        if (d.contains("expires") && d["expires"].is_number_integer())
          kb.expires = Seconds(d["expires"].get<std::int64_t>());
        if (d.contains("comment") && d["comment"].is_string())
          kb.comment = d["comment"].get<std::string>();
      }
      auto p = value_prefix(*val);
      if (!p) return p.error();
      kb.prefix = *p;
      out.push_back(std::move(kb));
    }
  }
  return out;
}

namespace {

class NftBackend final : public BanBackend {
 public:
  NftBackend(CommandRunner& runner, std::string nft) : runner_(runner), nft_(std::move(nft)) {}

  std::string_view name() const override { return "nft"; }
  // nft keeps timeouts in milliseconds in 64 bits: the engine's 365-day limit is the bound.
  Seconds max_timeout() const override { return Seconds(365 * 86400); }

  Result<std::vector<KernelBan>> elements(Family f) override {
    auto r = run({"-j", "list", "set", "inet", std::string(kBanTable), std::string(set_of(f))});
    if (!r) return r.error();
    if (!r->success()) {
      // No table yet: nothing is banned. Any other failure is an error, including a missing
      // nft binary (`ip netns exec` reports that with the same errno text, exit 255).
      if (r->exit_code == 1 && r->err.rfind("Error: No such file or directory", 0) == 0)
        return std::vector<KernelBan>{};
      return Error{"`nft -j list set` failed: " + r->err};
    }
    return parse_nft_set_json(r->out);
  }

  std::string describe(const BanChange& c) const override {
    return nft_ensure_script() + element_lines(c);
  }

  Status apply(const BanChange& c) override { return script(describe(c)); }

  Status apply_all(const std::vector<BanChange>& changes) override {
    if (changes.empty()) return {};
    std::string text = nft_ensure_script();
    for (const auto& c : changes) text += element_lines(c);
    return script(text);
  }

  Status remove(const Prefix& p) override {
    return script(fmt::format("delete element inet {} {} {{ {} }}\n", kBanTable,
                              set_of(p.addr.family), to_string(p)));
  }

  Status flush() override {
    return script(nft_ensure_script() +
                  fmt::format("flush set inet {0} ban4\nflush set inet {0} ban6\n", kBanTable));
  }

 private:
  Result<CommandOutput> run(const std::vector<std::string>& args, const std::string& in = {}) {
    std::vector<std::string> argv{nft_};
    argv.insert(argv.end(), args.begin(), args.end());
    return runner_.run(argv, in);
  }
  static std::string element_lines(const BanChange& c) {
    const std::string_view set = set_of(c.prefix.addr.family);
    const std::string elem = to_string(c.prefix);
    std::string lines;
    for (const auto& r : c.replaced)
      lines += fmt::format("delete element inet {} {} {{ {} }}\n", kBanTable, set, to_string(r));
    // add (no-op if present) + delete + add: a repeat offence restarts the timeout and comment.
    lines += fmt::format("add element inet {0} {1} {{ {2} }}\n", kBanTable, set, elem);
    lines += fmt::format("delete element inet {0} {1} {{ {2} }}\n", kBanTable, set, elem);
    lines += fmt::format("add element inet {0} {1} {{ {2} timeout {3}s comment \"{4}\" }}\n",
                         kBanTable, set, elem, c.timeout.count(), c.comment);
    return lines;
  }
  Status script(const std::string& text) {
    auto r = run({"-f", "-"}, text);
    if (!r) return r.error();
    if (!r->success())
      return Error{fmt::format("nft refused the ban script: {}{}", r->err,
                               r->timed_out ? " (timed out)" : "")};
    return {};
  }

  CommandRunner& runner_;
  std::string nft_;
};

}  // namespace

std::unique_ptr<BanBackend> make_nft_backend(CommandRunner& runner, std::string nft) {
  return std::make_unique<NftBackend>(runner, std::move(nft));
}

BackendChoice detect_backend(CommandRunner& runner, const std::string& nft) {
  auto r = runner.run({nft, "list", "tables"});
  return r && r->success() ? BackendChoice::nft : BackendChoice::iptables;
}

}  // namespace mw::ban
