// Micro-benchmarks of the core sets and of firewall generation (no peer tool yet: later
// issues add side-by-side comparisons with iptables-restore, fffuu, ...).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "core/address_set.hpp"
#include "firewall/nft_backend.hpp"
#include "firewall/plan.hpp"
#include "policy/policy.hpp"

namespace {

mw::AddressSet random_set(std::mt19937_64& rng, int n) {
  mw::AddressSet s;
  for (int i = 0; i < n; ++i) {
    mw::Prefix p;
    p.addr.family = mw::Family::v4;
    int len = 8 + static_cast<int>(rng() % 25);
    std::uint32_t v = static_cast<std::uint32_t>(rng());
    p.len = len;
    p.addr.value = len == 32 ? v : (v & ~((std::uint32_t{1} << (32 - len)) - 1));
    s.add(p);
  }
  return s;
}

void BM_AddressSetAlgebra(benchmark::State& state) {
  std::mt19937_64 rng(42);
  auto a = random_set(rng, static_cast<int>(state.range(0)));
  auto b = random_set(rng, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto u = a.unite(b).subtract(a.intersect(b)).complement();
    benchmark::DoNotOptimize(u);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * 2);
}
BENCHMARK(BM_AddressSetAlgebra)->Arg(100)->Arg(10000);

void BM_ToPrefixes(benchmark::State& state) {
  std::mt19937_64 rng(7);
  auto a = random_set(rng, static_cast<int>(state.range(0))).complement();
  for (auto _ : state) benchmark::DoNotOptimize(a.to_prefixes());
}
BENCHMARK(BM_ToPrefixes)->Arg(100)->Arg(10000);

void BM_GenerateNft(benchmark::State& state) {
  setenv("MAILWARDEN_CATALOG", MW_SOURCE_DIR "/catalog", 0);
  for (auto _ : state) {
    auto loaded = mw::load_policy(MW_SOURCE_DIR "/examples/zimbra-single.toml");
    auto plan = mw::make_plan(loaded->policy, loaded->catalog);
    benchmark::DoNotOptimize(mw::render_nft(*plan));
  }
}
BENCHMARK(BM_GenerateNft);

}  // namespace

BENCHMARK_MAIN();
