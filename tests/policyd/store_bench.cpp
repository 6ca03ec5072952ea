// Figures for MemoryStore (not a test, nothing asserted): nanoseconds per charge in the common
// shapes, the memory of 100,000 active accounts, and the time of a flush of all of them.
#include <malloc.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "policyd/memory_store.hpp"

using namespace mw::policyd;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kT0 = 1'800'000'000;

std::unique_ptr<MemoryStore> open_store(const std::filesystem::path& path = {}) {
  auto r = MemoryStore::open({path});
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

struct Prepared {
  ChargeRequest request;
  std::vector<Bucket> buckets;
};

// `accounts` accounts of `domains` domains; one request per message, 100 per second.
std::vector<Prepared> prepare(int n, int accounts, bool domain, bool dedupe) {
  std::vector<Prepared> out;
  out.reserve(static_cast<std::size_t>(n));
  const std::vector<WindowLimit> account_limits{{3600, 1'000'000, 0}, {86400, 10'000'000, 0}};
  const std::vector<WindowLimit> domain_limits{{3600, 100'000'000, 0}};
  for (int k = 0; k < n; ++k) {
    Prepared p;
    const int a = k % accounts;
    p.buckets.push_back({"a:user" + std::to_string(a) + "@example.com", account_limits});
    if (domain) p.buckets.push_back({"d:example" + std::to_string(a % 50) + ".com", domain_limits});
    if (dedupe) {
      p.request.dedupe_key = "mta1.example.com/4F2A" + std::to_string(k);
      p.request.message_key = p.request.dedupe_key;
    }
    p.request.recipients = 2;
    p.request.now = kT0 + k / 100;
    out.push_back(std::move(p));
  }
  return out;
}

// CPU time of the calling thread: the machines running this are shared, wall time is noise.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double run(MemoryStore& store, const std::vector<Prepared>& reqs) {
  const double start = thread_cpu_ns();
  std::size_t refused = 0;
  for (const Prepared& p : reqs) {
    auto r = store.charge(p.request, p.buckets);
    if (!r || !r->allowed) ++refused;
  }
  const double ns = thread_cpu_ns() - start;
  if (refused != 0) std::printf("  (%zu refused)\n", refused);
  return ns / static_cast<double>(reqs.size());
}

// The yardstick: one std::unordered_map<std::string, ...> insert of a fresh key of the same
// length as the dedupe keys (a charge with dedupe and message keys does two).
double baseline_insert_ns() {
  constexpr int kN = 400'000;
  std::vector<std::string> keys;
  keys.reserve(kN);
  for (int k = 0; k < kN; ++k) keys.push_back("mta1.example.com/4F2A" + std::to_string(k));
  std::unordered_map<std::string, std::pair<std::int64_t, int>> m;
  const double start = thread_cpu_ns();
  for (const auto& k : keys) m.insert_or_assign(k, std::pair<std::int64_t, int>{1, 1});
  return (thread_cpu_ns() - start) / kN;
}

void shape(const char* name, int accounts, bool domain, bool dedupe) {
  constexpr int kN = 400'000;
  auto store = open_store();
  const auto reqs = prepare(kN, accounts, domain, dedupe);
  run(*store, prepare(10'000, accounts, domain, dedupe));  // warm up
  const double ns = run(*store, reqs);
  std::printf("%-58s %8.0f ns/charge (CPU)\n", name, ns);
}

void threads(const char* name, int nthreads, bool same_key) {
  constexpr int kN = 200'000;
  auto store = open_store();
  std::vector<std::vector<Prepared>> per(static_cast<std::size_t>(nthreads));
  for (int t = 0; t < nthreads; ++t) {
    per[static_cast<std::size_t>(t)] = prepare(kN, same_key ? 1 : 1000, false, true);
    for (auto& p : per[static_cast<std::size_t>(t)]) {
      p.request.dedupe_key += "/t" + std::to_string(t);
      p.request.message_key = p.request.dedupe_key;
      if (!same_key) p.buckets[0].key += "/t" + std::to_string(t);
    }
  }
  const auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < nthreads; ++t) {
    ts.emplace_back([&, t] { run(*store, per[static_cast<std::size_t>(t)]); });
  }
  for (auto& th : ts) th.join();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%-58s %8.2f M charges/s\n", name, nthreads * kN / s / 1e6);
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

}  // namespace

int main() {
  std::printf("MemoryStore::charge, one thread (baseline: unordered_map<string> insert %.0f ns):\n",
              baseline_insert_ns());
  shape("1 key, 2 windows, no dedupe key", 1, false, false);
  shape("1 key, 2 windows, dedupe + message key", 1, false, true);
  shape("1,000 accounts, 2 windows, dedupe + message key", 1000, false, true);
  shape("1,000 accounts + 50 domains (2 buckets), dedupe + message", 1000, true, true);
  std::printf("Throughput with threads (this machine: %u cores):\n",
              std::thread::hardware_concurrency());
  threads("2 threads, one shared key", 2, true);
  threads("2 threads, 1,000 keys each", 2, false);

  // 100,000 active accounts (account + domain buckets), with 1 and with 10 messages each over
  // the last day.
  char tmpl[] = "/tmp/mw-store-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::filesystem::path dir = tmpl;
  for (const int messages : {1, 10}) {
    std::filesystem::remove(dir / "state.sqlite");
    const std::size_t before = heap_in_use();
    auto store = open_store(dir / "state.sqlite");
    const std::vector<WindowLimit> account_limits{{3600, 10, 100}, {86400, 100, 1000}};
    const std::vector<WindowLimit> domain_limits{{3600, 100000, 0}};
    std::vector<Bucket> b{{"", account_limits}, {"", domain_limits}};
    ChargeRequest q;
    q.recipients = 3;
    for (int m = 0; m < messages; ++m) {
      for (int a = 0; a < 100'000; ++a) {
        b[0].key = "a:user" + std::to_string(a) + "@example.com";
        b[1].key = "d:example" + std::to_string(a % 500) + ".com";
        q.now = kT0 + m * 3600 + a / 100;
        (void)store->charge(q, b);
      }
    }
    const std::size_t after = heap_in_use();
    std::printf("100,000 accounts x %d messages: %zu keys, heap %.1f MB (windows %.1f MB)\n",
                messages, store->active_keys(), static_cast<double>(after - before) / 1e6,
                static_cast<double>(store->window_heap_bytes()) / 1e6);
    auto start = Clock::now();
    if (!store->flush().ok()) return 1;
    std::printf("  flush of %llu dirty keys: %.0f ms\n",
                static_cast<unsigned long long>(store->rows_written()),
                std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    for (int k = 0; k < 3; ++k) {
      q.now += 1;
      (void)store->charge(q, b);
      start = Clock::now();
      if (!store->flush().ok()) return 1;
      std::printf("  flush of 2 dirty keys: %.2f ms\n",
                  std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    store.reset();
    start = Clock::now();
    store = open_store(dir / "state.sqlite");
    std::printf("  reopen and load %zu keys: %.0f ms; file %.1f MB\n", store->active_keys(),
                std::chrono::duration<double, std::milli>(Clock::now() - start).count(),
                static_cast<double>(std::filesystem::file_size(dir / "state.sqlite")) / 1e6);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
