// `dnsbl check`: every address against every selected list, concurrently, with each list's
// health checked by its test entry. Returns values; the CLI renders them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/ip.hpp"
#include "dnsbl/answer.hpp"
#include "dnsbl/catalog.hpp"
#include "dnsbl/resolver.hpp"

namespace mw::dnsbl {

enum class Health : std::uint8_t {
  ok,          // the test entry is listed and 127.0.0.1 / ::1 is not
  unreliable,  // the list answered, but wrongly: its results cannot be trusted
  refused,     // the health query itself was refused
  timeout,
  error,
  not_checked,
};
std::string_view name_of(Health h);

struct ListHealth {
  const DnsblList* list = nullptr;
  Health health = Health::not_checked;
  std::string detail;
};

struct ListResult {
  const DnsblList* list = nullptr;
  std::string query;  // the name looked up, empty when skipped
  Decoded decoded;
  std::vector<std::string> reasons;  // TXT records, when asked for and listed
  // False when the list failed its health check: a "not listed" from it is no evidence.
  bool reliable = true;
  // What counts: listed, clean, or unknown (unknown also for any result of an unreliable list).
  bool counts_listed() const { return reliable && decoded.verdict == Verdict::listed; }
  bool counts_clean() const { return reliable && decoded.verdict == Verdict::not_listed; }
  bool counts_unknown() const {
    return decoded.verdict != Verdict::skipped && !counts_listed() && !counts_clean();
  }
};

struct AddressResult {
  Address ip;
  std::vector<ListResult> results;  // in the order of the lists
};

struct CheckRequest {
  std::vector<Address> ips;
  std::vector<const DnsblList*> lists;  // closed lists are reported as skipped, never queried
  bool fetch_reasons = false;           // TXT lookups for the listed answers
  bool health_check = true;
};

struct CheckReport {
  std::vector<AddressResult> addresses;
  std::vector<ListHealth> health;
  std::size_t listed = 0, clean = 0, unknown = 0, skipped = 0, queries = 0;
  std::chrono::milliseconds elapsed{0};
};

// The lookups of one run, paced per list: the k-th query to a list is not sent before
// k / rate seconds (health checks first).
CheckReport run_check(const CheckRequest& request, Resolver& resolver);

}  // namespace mw::dnsbl
