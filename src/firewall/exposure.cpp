// The exposure analyser: a walk over base chains with the source space split as rules decide.
#include "firewall/exposure.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

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

// What the packet looks like on one pass: the inbound SYN, or the reply leaving the host.
struct Direction {
  bool reply = false;  // free address is the destination (the client), the host is the source
};

// A rule as one direction of one query sees it, before the port and conntrack state of a flow
// are known. Rules that can never match (another family or protocol, a loopback-only rule...),
// rules without a verdict and jumps to chains that can only come back are left out.
struct RulePlan {
  const Rule* rule = nullptr;
  Tri tri = Tri::yes;  // the answer when the flow's port and state match: yes or maybe
  std::string reason;  // why maybe
  // The free addresses the rule can match; nullopt: the whole space of the family.
  std::optional<AddressSet> constraint;
  int target = -1;             // jump/goto: the target chain's plan, -1 when it does not exist
  std::string unknown_reason;  // for a target the walk does not model
};

struct ChainPlan {
  const Table* table = nullptr;
  const Chain* chain = nullptr;
  std::string label;  // "table/chain"
  std::vector<RulePlan> rules;
  // The destination port (source port on the reply) is the same for every flow of one walk
  // through a chain (only a redirect changes it, and that ends the chain): rules that test one
  // port are indexed by it, so a walk visits only the rules its port can match.
  std::vector<std::uint32_t> any_port;  // rules without a single-port test, ascending
  std::unordered_map<std::uint16_t, std::vector<std::uint32_t>> by_port;  // ascending
};

struct BaseRef {
  int plan;  // index of the chain's plan
  int hook_order;
  int priority;
  std::size_t index;
  bool before_conntrack;
  bool filter;  // type "filter": its accepts name the deciding rule
  bool nat;
  Verdict policy;
  std::string policy_text;  // "policy drop of filter/INPUT (rules.v4:3)"
};

std::string chain_label(const Table& t, const Chain& c) {
  return fmt::format("{}/{}", t.name, c.name);
}

}  // namespace

struct ExposureAnalyser::Prepared {
  AddressSet space;
  std::uint8_t l4 = 6;
  // Per direction (0 inbound, 1 reply): the plans of every chain of the tables that apply.
  std::vector<ChainPlan> plans[2];
  std::vector<BaseRef> inbound, reply;
};

namespace {

// A set of sources that share everything the rules have changed so far.
struct Flow {
  AddressSet sources;
  std::uint16_t port = 0;          // destination port (after REDIRECT/DNAT)
  std::uint8_t ct_state = kCtNew;  // untracked after NOTRACK
  bool dnat = false;               // the destination was translated (REDIRECT/DNAT)
  std::string_view decided_by;     // the rule that accepted it last (text owned by the
                                   // ruleset or the prepared analyser)
};

struct Done {
  Flow flow;
  Outcome outcome = Outcome::drop;
  std::string_view rule;
  std::string_view reason;
};

struct ChainResult {
  std::vector<Done> done;      // accepted (for this base chain), dropped, uncertain
  std::vector<Flow> returned;  // fell off the end or RETURNed: the caller goes on with them
};

// Builds the port-independent part: chains, their order, and each rule's static answer.
class Preparer {
 public:
  Preparer(const Ruleset& rs, const Query& q, ExposureAnalyser::Prepared& p)
      : rs_(rs), q_(q), p_(p) {
    p_.space = AddressSet::any_of(q.family);
    p_.l4 = q.protocol == Protocol::tcp ? 6 : 17;
  }

  void run() {
    // iptables-nft tables appear in both dumps: prefer the iptables-save one, whose matches
    // the parser can read, over the nft JSON, where they are opaque xt expressions.
    std::set<std::pair<TableFamily, std::string>> from_save;
    for (const auto& t : rs_.tables) {
      if (t.origin == TableOrigin::iptables_save) from_save.insert({t.family, t.name});
    }
    std::vector<const Table*> tables;
    for (const auto& t : rs_.tables) {
      if (!table_applies(t)) continue;
      if (t.origin == TableOrigin::nft_json && t.iptables_nft_compat &&
          from_save.count({t.family, t.name})) {
        continue;
      }
      tables.push_back(&t);
    }
    // Every chain of those tables gets a plan (per direction); jumps point at plans. Only the
    // chains a direction reaches get their rules planned.
    for (const Table* t : tables) {
      auto& by_name = by_name_.emplace_back();
      for (const auto& c : t->chains) {
        // The first chain of a name wins, as Table::find does.
        by_name.emplace(c.name, static_cast<int>(p_.plans[0].size()));
        ChainPlan cp;
        cp.table = t;
        cp.chain = &c;
        cp.label = chain_label(*t, c);
        table_of_.push_back(by_name_.size() - 1);
        p_.plans[1].push_back(cp);
        p_.plans[0].push_back(std::move(cp));
      }
    }
    collect_bases();
    plan_reachable(p_.inbound, Direction{false});
    plan_reachable(p_.reply, Direction{true});
  }

 private:
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

  void collect_bases() {
    std::size_t index = 0;
    for (std::size_t i = 0; i < p_.plans[0].size(); ++i) {
      const ChainPlan& cp = p_.plans[0][i];
      const Chain& c = *cp.chain;
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
      // Conntrack runs at priority -200 (prerouting, output): a chain before it sees no
      // connection yet, and `ct state` reads INVALID there, unless NOTRACK made it UNTRACKED.
      const Hook hook = c.base->hook;
      const bool before_conntrack =
          hook == Hook::ingress || ((hook == Hook::prerouting || hook == Hook::output) &&
                                    c.base->priority < kConntrackPriority);
      BaseRef b{
          static_cast<int>(i),
          order,
          c.base->priority,
          index++,
          before_conntrack,
          c.base->type == "filter",
          c.base->type == "nat",
          c.base->policy,
          fmt::format("policy {} of {} ({})", c.base->policy == Verdict::drop ? "drop" : "accept",
                      cp.label, c.origin)};
      // netdev tables only have ingress chains; other families never do.
      (reply ? p_.reply : p_.inbound).push_back(std::move(b));
    }
    auto by_order = [](const BaseRef& a, const BaseRef& b) {
      return std::tie(a.hook_order, a.priority, a.index) <
             std::tie(b.hook_order, b.priority, b.index);
    };
    std::sort(p_.inbound.begin(), p_.inbound.end(), by_order);
    std::sort(p_.reply.begin(), p_.reply.end(), by_order);
  }

  void plan_reachable(const std::vector<BaseRef>& bases, Direction dir) {
    std::vector<ChainPlan>& plans = p_.plans[dir.reply ? 1 : 0];
    std::vector<char> planned(plans.size(), 0);
    std::vector<int> todo;
    for (const auto& b : bases) todo.push_back(b.plan);
    while (!todo.empty()) {
      const auto i = static_cast<std::size_t>(todo.back());
      todo.pop_back();
      if (planned[i]) continue;
      planned[i] = 1;
      plan_rules(plans[i], by_name_[table_of_[i]], dir);
      for (const auto& rp : plans[i].rules) {
        if (rp.target >= 0 && !planned[static_cast<std::size_t>(rp.target)]) {
          todo.push_back(rp.target);
        }
      }
    }
  }

  void plan_rules(ChainPlan& cp, const std::unordered_map<std::string_view, int>& by_name,
                  Direction dir) {
    const Table& t = *cp.table;
    for (const Rule& rule : cp.chain->rules) {
      // A rule without a verdict (LOG, counter, `-m recent --set`), or a jump to a chain that
      // can only come back (ufw's logging chains), changes nothing the analysis follows,
      // whatever it matches.
      if (rule.verdict == Verdict::none) continue;
      if (rule.verdict == Verdict::jump && passive(t, rule.target, 0)) continue;
      RulePlan rp;
      rp.rule = &rule;
      if (!decide_static(rule.match, dir, rp)) continue;
      if (rule.verdict == Verdict::jump || rule.verdict == Verdict::goto_) {
        auto it = by_name.find(rule.target);
        if (it != by_name.end()) rp.target = it->second;
      }
      const bool modelled =
          (rule.verdict == Verdict::redirect && rule.target.empty()) ||
          ((rule.verdict == Verdict::jump || rule.verdict == Verdict::goto_) && rp.target >= 0) ||
          (rule.verdict != Verdict::redirect && rule.verdict != Verdict::jump &&
           rule.verdict != Verdict::goto_ && rule.verdict != Verdict::unknown);
      if (!modelled) {
        rp.unknown_reason = rule.target.empty()
                                ? std::string("target not modelled")
                                : fmt::format("target {} not modelled", rule.target);
      }
      const std::optional<PortSet>& known_port = dir.reply ? rule.match.sport : rule.match.dport;
      const auto index = static_cast<std::uint32_t>(cp.rules.size());
      const auto* ivs = known_port ? &known_port->intervals().intervals() : nullptr;
      if (ivs && ivs->size() == 1 && ivs->front().lo == ivs->front().hi) {
        cp.by_port[ivs->front().lo].push_back(index);
      } else {
        cp.any_port.push_back(index);
      }
      cp.rules.push_back(std::move(rp));
    }
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
    AddressSet in_family = set.intersect(p_.space);
    if (in_family.empty()) return Tri::no;
    if (q_.to) return in_family.contains(*q_.to) ? Tri::yes : Tri::no;
    return in_family == p_.space ? Tri::yes : Tri::maybe;
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

  // Everything of a match but the flow's destination port, conntrack state and DNAT status
  // (which only ever say no, see Walk::matches): false when the rule can never match, else
  // rp's answer, reason and constraint.
  bool decide_static(const Match& m, Direction dir, RulePlan& rp) const {
    Tri tri = Tri::yes;
    std::string reason;
    auto note = [&](Tri t, std::string_view why) {
      if (t == Tri::maybe && tri != Tri::no && reason.empty()) reason = std::string(why);
      tri = both(tri, t);
    };
    if (m.family && *m.family != q_.family) return false;
    if (m.l4proto && !(*m.l4proto)[p_.l4]) return false;
    if (m.icmp_type_test) return false;
    if (m.needs_ipv6_extension_header) return false;
    // Inbound: from a remote unicast address to a local one; the reply the other way.
    if (m.src_type && !addr_type_matches(*m.src_type, dir.reply)) return false;
    if (m.dst_type && !addr_type_matches(*m.dst_type, !dir.reply)) return false;
    if (m.tcp_syn_matches) {
      if (p_.l4 != 6) return false;
      if (!dir.reply && !*m.tcp_syn_matches) return false;
      if (dir.reply) note(Tri::maybe, "TCP flag test on the reply");
    }
    const std::optional<PortSet>& client_port = dir.reply ? m.dport : m.sport;
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
    if (tri == Tri::no) return false;
    if (!m.unknown.empty()) {
      std::string names;
      for (const auto& u : m.unknown) names += (names.empty() ? "" : "; ") + u;
      note(Tri::maybe, "not modelled: " + names);
    }
    const std::optional<AddressSet>& free = dir.reply ? m.dst : m.src;
    if (free) {
      AddressSet c = free->intersect(p_.space);
      if (c != p_.space) rp.constraint = std::move(c);
    }
    rp.tri = tri;
    rp.reason = std::move(reason);
    return true;
  }

  const Ruleset& rs_;
  const Query& q_;
  ExposureAnalyser::Prepared& p_;
  std::vector<std::unordered_map<std::string_view, int>> by_name_;  // per table: name -> plan
  std::vector<std::size_t> table_of_;                               // plan -> by_name_ index
};

// One port's walk over the prepared chains.
class Walk {
 public:
  Walk(const ExposureAnalyser::Prepared& p, std::uint16_t port) : p_(p), port_(port) {}

  ExposureResult run() {
    std::vector<Flow> flows;
    flows.push_back(Flow{p_.space, port_, kCtNew, false, "no filtering on the input path"});
    flows = pass(p_.inbound, std::move(flows), Direction{false});
    for (auto& f : flows) {
      // The reply of an untracked connection is untracked too.
      if (f.ct_state != kCtUntracked) f.ct_state = kCtEstablished;
    }
    flows = pass(p_.reply, std::move(flows), Direction{true});
    for (auto& f : flows) add_region(std::move(f.sources), Outcome::accept, f.decided_by, "");
    ExposureResult out;
    out.regions.reserve(regions_.size());
    for (auto& [key, set] : regions_) {
      out.regions.push_back({std::move(set), std::get<0>(key), std::string(std::get<1>(key)),
                             std::string(std::get<2>(key))});
    }
    return out;
  }

 private:
  // Passes flows through base chains in order: a packet must be accepted by every one.
  std::vector<Flow> pass(const std::vector<BaseRef>& chains, std::vector<Flow> flows,
                         Direction dir) {
    const std::vector<ChainPlan>& plans = p_.plans[dir.reply ? 1 : 0];
    for (const auto& b : chains) {
      // NAT chains see only the first packet of a connection, never its reply.
      if (dir.reply && b.nat) continue;
      const ChainPlan& cp = plans[static_cast<std::size_t>(b.plan)];
      std::vector<Flow> next;
      for (auto& f : flows) {
        const std::uint8_t state = f.ct_state;
        if (b.before_conntrack && state != kCtUntracked) f.ct_state = kCtInvalid;
        ChainResult r;
        eval_chain(cp, std::move(f), dir, 0, r);
        if (b.before_conntrack) {
          for (auto& d : r.done) {
            if (d.flow.ct_state == kCtInvalid) d.flow.ct_state = state;
          }
          for (auto& rf : r.returned) {
            if (rf.ct_state == kCtInvalid) rf.ct_state = state;
          }
        }
        for (auto& d : r.done) {
          if (d.outcome == Outcome::accept) {
            if (!dir.reply && b.filter) d.flow.decided_by = d.rule;
            next.push_back(std::move(d.flow));
          } else {
            add_region(std::move(d.flow.sources), d.outcome, d.rule, d.reason);
          }
        }
        for (auto& rf : r.returned) {
          if (b.policy == Verdict::accept) {
            if (!dir.reply && b.filter) rf.decided_by = b.policy_text;
            next.push_back(std::move(rf));
          } else {
            add_region(std::move(rf.sources), Outcome::drop, b.policy_text, "");
          }
        }
      }
      flows = merge(std::move(next));
    }
    return flows;
  }

  // Flows that ended up alike are one flow again: keeps the walk linear in practice.
  static std::vector<Flow> merge(std::vector<Flow> flows) {
    std::vector<Flow> out;
    out.reserve(flows.size());
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

  // The flow-dependent tests of a rule: they can only say no.
  static bool matches(const Match& m, const Flow& f, Direction dir) {
    if (m.ct_status_dnat && *m.ct_status_dnat != f.dnat) return false;
    if (m.ct_state && !(*m.ct_state & f.ct_state)) return false;
    const std::optional<PortSet>& known_port = dir.reply ? m.sport : m.dport;
    return !known_port || known_port->contains(f.port);
  }

  // Results are appended to `out`.
  void eval_chain(const ChainPlan& c, Flow flow, Direction dir, int depth, ChainResult& out) {
    if (depth > kMaxDepth || std::find(stack_.begin(), stack_.end(), c.chain) != stack_.end()) {
      out.done.push_back(
          {std::move(flow), Outcome::uncertain, c.label, "jump loop or nesting deeper than 64"});
      return;
    }
    stack_.push_back(c.chain);
    std::vector<Flow> pending;
    pending.push_back(std::move(flow));
    std::vector<char> hit;  // per pending flow; kept here so its capacity is reused
    // The rules this walk's port can match, in order: those without a single-port test merged
    // with those testing exactly this port.
    static const std::vector<std::uint32_t> kNone;
    const auto by_port = c.by_port.find(pending.front().port);
    const std::vector<std::uint32_t>& mine = by_port == c.by_port.end() ? kNone : by_port->second;
    std::size_t ia = 0, ib = 0;
    while (ia < c.any_port.size() || ib < mine.size()) {
      const std::uint32_t r =
          ib == mine.size() || (ia < c.any_port.size() && c.any_port[ia] < mine[ib])
              ? c.any_port[ia++]
              : mine[ib++];
      const RulePlan& rp = c.rules[r];
      // Most rules match none of the pending flows (another port): test first, and leave the
      // flows untouched when nothing matches.
      const Rule& rule = *rp.rule;
      hit.clear();
      bool any = false;
      for (const auto& f : pending) {
        assert(f.port == pending.front().port);
        hit.push_back(matches(rule.match, f, dir));
        any = any || hit.back();
      }
      if (!any) continue;
      std::vector<Flow> next;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        Flow& f = pending[i];
        if (f.sources.empty()) continue;
        if (!hit[i]) {
          next.push_back(std::move(f));
          continue;
        }
        Flow matched{{}, f.port, f.ct_state, f.dnat, f.decided_by};
        if (rp.constraint) {
          matched.sources = f.sources.intersect(*rp.constraint);
          f.sources = f.sources.subtract(*rp.constraint);
        } else {
          // Every flow's sources are within the family's space, the rule's constraint.
          matched.sources = std::move(f.sources);
          f.sources = AddressSet();
        }
        if (!f.sources.empty()) next.push_back(std::move(f));
        if (matched.sources.empty()) continue;
        if (rp.tri == Tri::maybe) {
          out.done.push_back({std::move(matched), Outcome::uncertain, rule.origin, rp.reason});
          continue;
        }
        apply(rp, std::move(matched), dir, depth, out, next);
      }
      pending = merge(std::move(next));
      if (pending.empty()) break;
    }
    for (auto& f : pending) out.returned.push_back(std::move(f));
    stack_.pop_back();
  }

  void apply(const RulePlan& rp, Flow matched, Direction dir, int depth, ChainResult& out,
             std::vector<Flow>& next) {
    const Rule& rule = *rp.rule;
    if (!rp.unknown_reason.empty()) {
      out.done.push_back({std::move(matched), Outcome::uncertain, rule.origin, rp.unknown_reason});
      return;
    }
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
        // The destination port changes (or stays, when the rule names none), and in a nat
        // chain the translation ends that chain. (A DNAT to an address, which may leave this
        // host, has an unknown_reason.)
        if (rule.to_port) matched.port = *rule.to_port;
        matched.dnat = true;
        out.done.push_back({std::move(matched), Outcome::accept, rule.origin, ""});
        return;
      case Verdict::jump:
      case Verdict::goto_: {
        const auto& plans = p_.plans[dir.reply ? 1 : 0];
        ChainResult sub;
        eval_chain(plans[static_cast<std::size_t>(rp.target)], std::move(matched), dir, depth + 1,
                   sub);
        for (auto& d : sub.done) out.done.push_back(std::move(d));
        for (auto& r : sub.returned) {
          (rule.verdict == Verdict::jump ? next : out.returned).push_back(std::move(r));
        }
        return;
      }
      case Verdict::unknown:
        break;  // has an unknown_reason
    }
  }

  void add_region(AddressSet s, Outcome o, std::string_view rule, std::string_view reason) {
    if (s.empty()) return;
    auto& set = regions_[{o, rule, reason}];
    set = set.empty() ? std::move(s) : set.unite(s);
  }

  const ExposureAnalyser::Prepared& p_;
  std::uint16_t port_;
  std::vector<const Chain*> stack_;  // the chains being walked, against jump loops
  // Ordered by the texts, so the regions come out as they always have.
  std::map<std::tuple<Outcome, std::string_view, std::string_view>, AddressSet> regions_;
};

}  // namespace

ExposureAnalyser::ExposureAnalyser(const Ruleset& ruleset, const Query& query) {
  auto p = std::make_unique<Prepared>();
  Preparer(ruleset, query, *p).run();
  prepared_ = std::move(p);
}
ExposureAnalyser::~ExposureAnalyser() = default;
ExposureAnalyser::ExposureAnalyser(ExposureAnalyser&&) noexcept = default;
ExposureAnalyser& ExposureAnalyser::operator=(ExposureAnalyser&&) noexcept = default;

ExposureResult ExposureAnalyser::analyse(std::uint16_t port) const {
  return Walk(*prepared_, port).run();
}

ExposureResult analyse(const Ruleset& ruleset, const Query& query) {
  return ExposureAnalyser(ruleset, query).analyse(query.port);
}

}  // namespace mw::fw
