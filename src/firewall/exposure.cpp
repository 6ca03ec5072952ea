// The exposure analyser: a walk over base chains with the source space split as rules decide.
#include "firewall/exposure.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace mw::fw {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::accept:
      return "accept";
    case Outcome::drop:
      return "drop";
    case Outcome::uncertain:
      return "uncertain";
  }
  return "?";
}

AddressSet ExposureResult::sources(Outcome o) const {
  AddressSet out;
  for (const auto& r : regions) {
    if (r.outcome == o) out = out.unite(r.sources);
  }
  return out;
}

const Region* ExposureResult::region_of(const Address& a) const {
  for (const auto& r : regions) {
    if (r.sources.contains(a)) return &r;
  }
  return nullptr;
}

namespace {

enum class Tri : std::uint8_t { no, yes, maybe };

constexpr int kMaxDepth = 64;             // the kernel refuses deeper jump nesting anyway
constexpr int kConntrackPriority = -200;  // NF_IP_PRI_CONNTRACK

// A set of sources that share everything the rules have changed so far.
struct Flow {
  AddressSet sources;
  std::uint16_t port = 0;          // destination port (after REDIRECT/DNAT)
  std::uint8_t ct_state = kCtNew;  // untracked after NOTRACK
  bool dnat = false;               // the destination was translated (REDIRECT/DNAT)
  std::string decided_by;          // the rule that accepted it last
};

struct Done {
  Flow flow;
  Outcome outcome = Outcome::drop;
  std::string rule;
  std::string reason;
};

struct ChainResult {
  std::vector<Done> done;      // accepted (for this base chain), dropped, uncertain
  std::vector<Flow> returned;  // fell off the end or RETURNed: the caller goes on with them
};

// What the packet looks like on one pass: the inbound SYN, or the reply leaving the host.
struct Direction {
  bool reply = false;  // free address is the destination (the client), the host is the source
};

class Analyser {
 public:
  Analyser(const Ruleset& rs, const Query& q) : rs_(rs), q_(q) {
    space_ = AddressSet::any_of(q.family);
    l4_ = q.protocol == Protocol::tcp ? 6 : 17;
  }

  ExposureResult run() {
    collect_chains();
    std::vector<Flow> flows = {
        Flow{space_, q_.port, kCtNew, false, "no filtering on the input path"}};
    flows = pass(inbound_, flows, Direction{false});
    for (auto& f : flows) {
      // The reply of an untracked connection is untracked too.
      if (f.ct_state != kCtUntracked) f.ct_state = kCtEstablished;
    }
    flows = pass(reply_, flows, Direction{true});
    for (auto& f : flows) add_region(f.sources, Outcome::accept, f.decided_by, "");
    ExposureResult out;
    for (auto& [key, set] : regions_) {
      out.regions.push_back({set, std::get<0>(key), std::get<1>(key), std::get<2>(key)});
    }
    return out;
  }

 private:
  struct BaseRef {
    const Table* table;
    const Chain* chain;
    int hook_order;
    int priority;
    std::size_t index;
  };

  bool table_applies(const Table& t) const {
    switch (t.family) {
      case TableFamily::ip:
        return q_.family == Family::v4;
      case TableFamily::ip6:
        return q_.family == Family::v6;
      case TableFamily::inet:
      case TableFamily::netdev:
        return true;
      case TableFamily::arp:
      case TableFamily::bridge:
        return false;
    }
    return false;
  }

  void collect_chains() {
    // iptables-nft tables appear in both dumps: prefer the iptables-save one, whose matches
    // the parser can read, over the nft JSON, where they are opaque xt expressions.
    std::set<std::pair<TableFamily, std::string>> from_save;
    for (const auto& t : rs_.tables) {
      if (t.origin == TableOrigin::iptables_save) from_save.insert({t.family, t.name});
    }
    std::size_t index = 0;
    for (const auto& t : rs_.tables) {
      if (!table_applies(t)) continue;
      if (t.origin == TableOrigin::nft_json && t.iptables_nft_compat &&
          from_save.count({t.family, t.name})) {
        continue;
      }
      for (const auto& c : t.chains) {
        if (!c.base) continue;
        int order = -1;
        bool reply = false;
        switch (c.base->hook) {
          case Hook::ingress:
            order = 0;
            break;
          case Hook::prerouting:
            order = 1;
            break;
          case Hook::input:
            order = 2;
            break;
          case Hook::output:
            order = 3;
            reply = true;
            break;
          case Hook::postrouting:
            order = 4;
            reply = true;
            break;
          case Hook::forward:
            break;
        }
        if (order < 0) continue;
        // netdev tables only have ingress chains; other families never do.
        (reply ? reply_ : inbound_).push_back({&t, &c, order, c.base->priority, index++});
      }
    }
    auto by_order = [](const BaseRef& a, const BaseRef& b) {
      return std::tie(a.hook_order, a.priority, a.index) <
             std::tie(b.hook_order, b.priority, b.index);
    };
    std::sort(inbound_.begin(), inbound_.end(), by_order);
    std::sort(reply_.begin(), reply_.end(), by_order);
  }

  // Passes flows through base chains in order: a packet must be accepted by every one.
  std::vector<Flow> pass(const std::vector<BaseRef>& chains, std::vector<Flow> flows,
                         Direction dir) {
    for (const auto& b : chains) {
      // NAT chains see only the first packet of a connection, never its reply.
      if (dir.reply && b.chain->base->type == "nat") continue;
      // Conntrack runs at priority -200 (prerouting, output): a chain before it sees no
      // connection yet, and `ct state` reads INVALID there, unless NOTRACK made it UNTRACKED.
      const Hook hook = b.chain->base->hook;
      const bool before_conntrack =
          hook == Hook::ingress ||
          ((hook == Hook::prerouting || hook == Hook::output) && b.priority < kConntrackPriority);
      std::vector<Flow> next;
      for (auto& f : flows) {
        const std::uint8_t state = f.ct_state;
        if (before_conntrack && state != kCtUntracked) f.ct_state = kCtInvalid;
        ChainResult r = eval_chain(*b.table, *b.chain, std::move(f), dir, 0, {});
        if (before_conntrack) {
          for (auto& d : r.done) {
            if (d.flow.ct_state == kCtInvalid) d.flow.ct_state = state;
          }
          for (auto& rf : r.returned) {
            if (rf.ct_state == kCtInvalid) rf.ct_state = state;
          }
        }
        for (auto& d : r.done) {
          if (d.outcome == Outcome::accept) {
            if (!dir.reply && b.chain->base->type == "filter") d.flow.decided_by = d.rule;
            next.push_back(std::move(d.flow));
          } else {
            add_region(d.flow.sources, d.outcome, d.rule, d.reason);
          }
        }
        std::string policy = fmt::format("policy {} of {} ({})", policy_name(b.chain->base->policy),
                                         chain_label(*b.table, *b.chain), b.chain->origin);
        for (auto& rf : r.returned) {
          if (b.chain->base->policy == Verdict::accept) {
            if (!dir.reply && b.chain->base->type == "filter") rf.decided_by = policy;
            next.push_back(std::move(rf));
          } else {
            add_region(rf.sources, Outcome::drop, policy, "");
          }
        }
      }
      flows = merge(std::move(next));
    }
    return flows;
  }

  static std::string_view policy_name(Verdict v) { return v == Verdict::drop ? "drop" : "accept"; }

  static std::string chain_label(const Table& t, const Chain& c) {
    return fmt::format("{}/{}", t.name, c.name);
  }

  // Flows that ended up alike are one flow again: keeps the walk linear in practice.
  static std::vector<Flow> merge(std::vector<Flow> flows) {
    std::vector<Flow> out;
    for (auto& f : flows) {
      if (f.sources.empty()) continue;
      auto it = std::find_if(out.begin(), out.end(), [&](const Flow& o) {
        return o.port == f.port && o.ct_state == f.ct_state && o.dnat == f.dnat &&
               o.decided_by == f.decided_by;
      });
      if (it == out.end()) {
        out.push_back(std::move(f));
      } else {
        it->sources = it->sources.unite(f.sources);
      }
    }
    return out;
  }

  ChainResult eval_chain(const Table& t, const Chain& c, Flow flow, Direction dir, int depth,
                         std::vector<const Chain*> stack) {
    ChainResult out;
    if (depth > kMaxDepth || std::find(stack.begin(), stack.end(), &c) != stack.end()) {
      out.done.push_back({std::move(flow), Outcome::uncertain, chain_label(t, c),
                          "jump loop or nesting deeper than 64"});
      return out;
    }
    stack.push_back(&c);
    std::vector<Flow> pending = {std::move(flow)};
    std::vector<Decision> decisions;  // per rule; kept here so its capacity is reused
    for (const Rule& rule : c.rules) {
      // A rule without a verdict (LOG, counter, `-m recent --set`), or a jump to a chain that
      // can only come back (ufw's logging chains), changes nothing the analysis follows,
      // whatever it matches.
      if (rule.verdict == Verdict::none) continue;
      if (rule.verdict == Verdict::jump && passive(t, rule.target, 0)) continue;
      // Most rules match none of the pending flows (another port, another protocol): decide
      // first, and leave the flows untouched when nothing matches.
      decisions.clear();
      bool any = false;
      for (const auto& f : pending) {
        decisions.push_back(decide(rule.match, f, dir));
        any = any || decisions.back().tri != Tri::no;
      }
      if (!any) continue;
      std::vector<Flow> next;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        Flow& f = pending[i];
        if (f.sources.empty()) continue;
        auto& [tri, constraint, reason] = decisions[i];
        if (tri == Tri::no) {
          next.push_back(std::move(f));
          continue;
        }
        Flow matched = f;
        matched.sources = f.sources.intersect(constraint);
        f.sources = f.sources.subtract(constraint);
        if (!f.sources.empty()) next.push_back(std::move(f));
        if (matched.sources.empty()) continue;
        if (tri == Tri::maybe) {
          out.done.push_back({std::move(matched), Outcome::uncertain, rule.origin, reason});
          continue;
        }
        apply(t, rule, std::move(matched), dir, depth, stack, out, next);
      }
      pending = merge(std::move(next));
      if (pending.empty()) break;
    }
    for (auto& f : pending) out.returned.push_back(std::move(f));
    return out;
  }

  // True when every path through the chain comes back unchanged: only verdict-less rules,
  // RETURNs and jumps to such chains.
  bool passive(const Table& t, const std::string& chain, int depth) const {
    const Chain* c = t.find(chain);
    if (!c || depth > kMaxDepth) return false;
    for (const Rule& r : c->rules) {
      bool ok =
          r.verdict == Verdict::none || r.verdict == Verdict::return_ ||
          (r.verdict == Verdict::jump && r.target != chain && passive(t, r.target, depth + 1));
      if (!ok) return false;
    }
    return true;
  }

  void apply(const Table& t, const Rule& rule, Flow matched, Direction dir, int depth,
             const std::vector<const Chain*>& stack, ChainResult& out, std::vector<Flow>& next) {
    switch (rule.verdict) {
      case Verdict::none:
        next.push_back(std::move(matched));
        return;
      case Verdict::accept:
        out.done.push_back({std::move(matched), Outcome::accept, rule.origin, ""});
        return;
      case Verdict::drop:
      case Verdict::reject:
        out.done.push_back({std::move(matched), Outcome::drop, rule.origin, ""});
        return;
      case Verdict::return_:
        out.returned.push_back(std::move(matched));
        return;
      case Verdict::notrack:
        matched.ct_state = kCtUntracked;
        next.push_back(std::move(matched));
        return;
      case Verdict::redirect:
        // A DNAT to an address (the target names it) may leave this host: not modelled.
        if (!rule.target.empty()) break;
        // The destination port changes (or stays, when the rule names none), and in a nat
        // chain the translation ends that chain.
        if (rule.to_port) matched.port = *rule.to_port;
        matched.dnat = true;
        out.done.push_back({std::move(matched), Outcome::accept, rule.origin, ""});
        return;
      case Verdict::jump:
      case Verdict::goto_: {
        const Chain* target = t.find(rule.target);
        if (!target) break;
        ChainResult sub = eval_chain(t, *target, std::move(matched), dir, depth + 1, stack);
        for (auto& d : sub.done) out.done.push_back(std::move(d));
        for (auto& r : sub.returned) {
          (rule.verdict == Verdict::jump ? next : out.returned).push_back(std::move(r));
        }
        return;
      }
      case Verdict::unknown:
        break;
    }
    out.done.push_back({std::move(matched), Outcome::uncertain, rule.origin,
                        rule.target.empty() ? std::string("target not modelled")
                                            : fmt::format("target {} not modelled", rule.target)});
  }

  struct Decision {
    Tri tri;
    AddressSet constraint;  // the free addresses the rule can match
    std::string reason;     // why maybe
  };

  static Tri both(Tri a, Tri b) {
    if (a == Tri::no || b == Tri::no) return Tri::no;
    if (a == Tri::maybe || b == Tri::maybe) return Tri::maybe;
    return Tri::yes;
  }

  // A port the packet carries but the model does not know (the client's source port).
  static Tri unknown_port(const PortSet& s) {
    if (s.empty()) return Tri::no;
    if (s.complement().empty()) return Tri::yes;
    return Tri::maybe;
  }

  Tri fixed_address(const AddressSet& set) const {
    AddressSet in_family = set.intersect(space_);
    if (in_family.empty()) return Tri::no;
    if (q_.to) return in_family.contains(*q_.to) ? Tri::yes : Tri::no;
    return in_family == space_ ? Tri::yes : Tri::maybe;
  }

  static bool iface_name_matches(const IfaceMatch& m, std::string_view name) {
    for (const auto& n : m.names) {
      if (!n.empty() && n.back() == '+') {
        if (name.substr(0, n.size() - 1) == std::string_view(n).substr(0, n.size() - 1)) {
          return true;
        }
      } else if (n == name) {
        return true;
      }
    }
    return false;
  }

  // The interface is not loopback; its name is known only when given.
  static Tri iface(const IfaceMatch& m, const std::optional<std::string>& name) {
    if (name) return iface_name_matches(m, *name) != m.negate ? Tri::yes : Tri::no;
    bool only_loopback = !m.names.empty();
    for (const auto& n : m.names) only_loopback = only_loopback && n == "lo";
    if (only_loopback) return m.negate ? Tri::yes : Tri::no;
    return Tri::maybe;
  }

  // Whether an address of the connection has one of the types: the host's own address is
  // LOCAL and UNICAST, the client's is UNICAST.
  static bool addr_type_matches(const Match::AddrType& t, bool local) {
    bool any = false;
    for (const auto& name : t.types) {
      any = any || name == "UNICAST" || (local && name == "LOCAL");
    }
    return any != t.negate;
  }

  Decision decide(const Match& m, const Flow& f, Direction dir) const {
    Tri tri = Tri::yes;
    std::string reason;
    auto note = [&](Tri t, std::string why) {
      if (t == Tri::maybe && tri != Tri::no && reason.empty()) reason = std::move(why);
      tri = both(tri, t);
    };
    if (m.family && *m.family != q_.family) return {Tri::no, {}, ""};
    if (m.l4proto && !(*m.l4proto)[l4_]) return {Tri::no, {}, ""};
    if (m.icmp_type_test) return {Tri::no, {}, ""};
    if (m.needs_ipv6_extension_header) return {Tri::no, {}, ""};
    if (m.ct_status_dnat && *m.ct_status_dnat != f.dnat) return {Tri::no, {}, ""};
    // Inbound: from a remote unicast address to a local one; the reply the other way.
    if (m.src_type && !addr_type_matches(*m.src_type, dir.reply)) return {Tri::no, {}, ""};
    if (m.dst_type && !addr_type_matches(*m.dst_type, !dir.reply)) return {Tri::no, {}, ""};
    if (m.tcp_syn_matches) {
      if (l4_ != 6) return {Tri::no, {}, ""};
      if (!dir.reply && !*m.tcp_syn_matches) return {Tri::no, {}, ""};
      if (dir.reply) note(Tri::maybe, "TCP flag test on the reply");
    }
    if (m.ct_state && !(*m.ct_state & f.ct_state)) return {Tri::no, {}, ""};
    const std::optional<PortSet>& known_port = dir.reply ? m.sport : m.dport;
    const std::optional<PortSet>& client_port = dir.reply ? m.dport : m.sport;
    if (known_port && !known_port->contains(f.port)) return {Tri::no, {}, ""};
    if (client_port) note(unknown_port(*client_port), "test of the client's port");
    if (dir.reply) {
      if (m.iif) note(Tri::maybe, "input interface test on the output path");
      // The reply leaves by the interface the connection came in on (symmetric routing).
      if (m.oif) note(iface(*m.oif, q_.iface), "output interface (give --iface)");
      if (m.src) note(fixed_address(*m.src), "the host's own address (give --to)");
    } else {
      if (m.iif) note(iface(*m.iif, q_.iface), "input interface (give --iface)");
      if (m.oif) note(Tri::maybe, "output interface test on the input path");
      if (m.dst) note(fixed_address(*m.dst), "destination address (give --to)");
    }
    if (tri == Tri::no) return {Tri::no, {}, ""};
    if (!m.unknown.empty()) {
      std::string names;
      for (const auto& u : m.unknown) names += (names.empty() ? "" : "; ") + u;
      note(Tri::maybe, "not modelled: " + names);
    }
    const std::optional<AddressSet>& free = dir.reply ? m.dst : m.src;
    AddressSet constraint = free ? free->intersect(space_) : space_;
    return {tri, std::move(constraint), std::move(reason)};
  }

  void add_region(const AddressSet& s, Outcome o, const std::string& rule,
                  const std::string& reason) {
    if (s.empty()) return;
    auto& set = regions_[{o, rule, reason}];
    set = set.unite(s);
  }

  const Ruleset& rs_;
  const Query& q_;
  AddressSet space_;
  std::uint8_t l4_ = 6;
  std::vector<BaseRef> inbound_, reply_;
  std::map<std::tuple<Outcome, std::string, std::string>, AddressSet> regions_;
};

}  // namespace

ExposureResult analyse(const Ruleset& ruleset, const Query& query) {
  return Analyser(ruleset, query).run();
}

}  // namespace mw::fw
