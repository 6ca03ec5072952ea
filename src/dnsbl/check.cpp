// The check engine: builds the lookups (health checks and address queries, paced per list),
// resolves them in one concurrent batch, decodes every answer against its list.
#include "dnsbl/check.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

namespace mw::dnsbl {

std::string_view name_of(Health h) {
  switch (h) {
    case Health::ok:
      return "ok";
    case Health::unreliable:
      return "unreliable";
    case Health::refused:
      return "refused";
    case Health::timeout:
      return "timeout";
    case Health::error:
      return "error";
    case Health::not_checked:
      return "not_checked";
  }
  return "?";
}

namespace {

// Paces lookups per list: the k-th lookup of a list waits k / rate seconds.
class Pacer {
 public:
  std::chrono::milliseconds next(const DnsblList& l) {
    const std::size_t k = count_[&l]++;
    if (l.rate <= 0) return std::chrono::milliseconds{0};
    return std::chrono::milliseconds{
        static_cast<std::int64_t>(std::floor(static_cast<double>(k) * 1000.0 / l.rate))};
  }

 private:
  std::map<const DnsblList*, std::size_t> count_;
};

struct HealthProbe {
  std::size_t list;  // index into request.lists
  bool positive;     // test entry (must be listed) or 127.0.0.1 / ::1 (must not be)
  Family family;
  std::size_t lookup;  // index into the batch
};

Health health_from(Verdict v) {
  switch (v) {
    case Verdict::refused:
      return Health::refused;
    case Verdict::timeout:
      return Health::timeout;
    default:
      return Health::error;
  }
}

}  // namespace

CheckReport run_check(const CheckRequest& request, Resolver& resolver) {
  const auto start = std::chrono::steady_clock::now();
  CheckReport report;
  Pacer pacer;
  std::vector<Lookup> lookups;
  std::vector<HealthProbe> probes;

  bool want_v4 = false, want_v6 = false;
  for (const auto& ip : request.ips) (ip.family == Family::v4 ? want_v4 : want_v6) = true;

  auto queryable = [](const DnsblList& l) { return l.status != ListStatus::closed; };

  report.health.resize(request.lists.size());
  for (std::size_t li = 0; li < request.lists.size(); ++li) {
    const DnsblList& l = *request.lists[li];
    report.health[li].list = &l;
    if (!queryable(l)) {
      report.health[li].detail = "closed: not queried";
      continue;
    }
    if (!request.health_check) continue;
    auto probe = [&](Family f, const Address& a, bool positive) {
      probes.push_back({li, positive, f, lookups.size()});
      lookups.push_back({query_name(a, l.zone), QueryType::a, pacer.next(l)});
    };
    // Only the families the run needs: an IPv4-only run does not depend on IPv6 data.
    if (want_v4 && l.ipv4 && l.test_ipv4) {
      probe(Family::v4, *l.test_ipv4, true);
      probe(Family::v4, Address{Family::v4, 0x7f000001}, false);
    }
    if (want_v6 && l.ipv6 && l.test_ipv6) {
      probe(Family::v6, *l.test_ipv6, true);
      probe(Family::v6, Address{Family::v6, 1}, false);
    }
  }

  // Address queries; index per (address, list), SIZE_MAX when skipped.
  std::vector<std::vector<std::size_t>> index(request.ips.size(),
                                              std::vector<std::size_t>(request.lists.size()));
  for (std::size_t ii = 0; ii < request.ips.size(); ++ii) {
    for (std::size_t li = 0; li < request.lists.size(); ++li) {
      const DnsblList& l = *request.lists[li];
      if (!queryable(l) || !l.supports(request.ips[ii].family)) {
        index[ii][li] = SIZE_MAX;
        continue;
      }
      index[ii][li] = lookups.size();
      lookups.push_back({query_name(request.ips[ii], l.zone), QueryType::a, pacer.next(l)});
    }
  }

  const auto answers = resolver.resolve(lookups);
  report.queries = lookups.size();

  // Health: the worst of the probes for the list wins.
  for (std::size_t li = 0; li < request.lists.size(); ++li) {
    if (queryable(*request.lists[li]) && request.health_check)
      report.health[li].health = Health::ok;
  }
  for (const auto& p : probes) {
    auto& h = report.health[p.list];
    if (h.health != Health::ok) continue;
    const Decoded d = decode_answer(*request.lists[p.list], answers[p.lookup]);
    const char* entry = p.positive ? "test entry" : "127.0.0.1/::1 entry";
    if (d.verdict == Verdict::listed || d.verdict == Verdict::not_listed) {
      const bool good = (d.verdict == Verdict::listed) == p.positive;
      if (!good) {
        h.health = Health::unreliable;
        h.detail = p.positive
                       ? fmt::format(
                             "{} test entry {} is not listed: the list's answers cannot be "
                             "trusted (zone gone, or the resolver hides it)",
                             family_name(p.family), lookups[p.lookup].name)
                       : fmt::format("{} {} is listed: the list lists everything (wildcard zone)",
                                     family_name(p.family), lookups[p.lookup].name);
      }
    } else {
      h.health = health_from(d.verdict);
      h.detail = fmt::format("{} {}: {}", family_name(p.family), entry, d.detail);
    }
  }

  std::vector<Lookup> txt;
  std::vector<ListResult*> txt_for;
  Pacer txt_pacer;  // the TXT batch starts after the first: its pacing starts afresh
  report.addresses.resize(request.ips.size());
  for (std::size_t ii = 0; ii < request.ips.size(); ++ii) {
    auto& ar = report.addresses[ii];
    ar.ip = request.ips[ii];
    for (std::size_t li = 0; li < request.lists.size(); ++li) {
      const DnsblList& l = *request.lists[li];
      ListResult r;
      r.list = &l;
      if (index[ii][li] == SIZE_MAX) {
        r.decoded.verdict = Verdict::skipped;
        r.decoded.detail = !queryable(l) ? fmt::format("list closed: {}", l.policy_note)
                                         : fmt::format("the list has no {} data",
                                                       family_name(request.ips[ii].family));
      } else {
        r.query = lookups[index[ii][li]].name;
        r.decoded = decode_answer(l, answers[index[ii][li]]);
        const Health h = report.health[li].health;
        r.reliable = h == Health::ok || h == Health::not_checked;
      }
      ar.results.push_back(std::move(r));
    }
  }
  for (auto& ar : report.addresses) {
    for (auto& r : ar.results) {
      if (r.counts_listed())
        ++report.listed;
      else if (r.counts_clean())
        ++report.clean;
      else if (r.counts_unknown())
        ++report.unknown;
      else
        ++report.skipped;
      if (request.fetch_reasons && r.decoded.verdict == Verdict::listed) {
        txt.push_back({r.query, QueryType::txt, txt_pacer.next(*r.list)});
        txt_for.push_back(&r);
      }
    }
  }
  if (!txt.empty()) {
    const auto reasons = resolver.resolve(txt);
    report.queries += txt.size();
    for (std::size_t i = 0; i < txt.size(); ++i) {
      if (reasons[i].rcode == Rcode::noerror) txt_for[i]->reasons = reasons[i].txt;
    }
  }
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return report;
}

}  // namespace mw::dnsbl
