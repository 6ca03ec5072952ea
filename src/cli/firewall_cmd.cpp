// `mailwarden firewall ...`: wiring from the command line to the firewall engine.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "firewall/backends.hpp"
#include "firewall/plan.hpp"
#include "policy/policy.hpp"

namespace mw::cli {

namespace {

struct GenerateOptions {
  std::string policy;
  std::string backend = "nft";
  std::string out_dir;
  std::string node;
};

Result<std::vector<Artefact>> render(const SitePolicy& site, const PortCatalog& catalog,
                                     std::string_view backend, std::vector<std::string>& notes) {
  auto plan = make_plan(site, catalog);
  if (!plan) return plan.error();
  notes.insert(notes.end(), plan->notes.begin(), plan->notes.end());
  const Backend* b = find_backend(backend);
  if (!b) {
    std::string names;
    for (const auto& known : backends())
      names += (names.empty() ? "" : ", ") + std::string(known.name);
    return Error{fmt::format("--backend {}: unknown (available: {})", backend, names)};
  }
  if (!b->caution.empty()) notes.push_back(fmt::format("{}: {}", b->name, b->caution));
  return b->render(*plan);
}

int write_artefacts(const std::filesystem::path& dir, const std::vector<Artefact>& artefacts) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "mailwarden: --out {}: {}\n", dir.string(), ec.message());
    return kExitFailure;
  }
  for (const auto& a : artefacts) {
    auto path = dir / a.filename;
    if (auto st = write_file_atomic(path, a.content); !st) {
      fmt::print(stderr, "mailwarden: {}\n", st.error().message);
      return kExitFailure;
    }
    fmt::print(stderr, "wrote {}: {}\n", path.string(), a.description);
  }
  return kExitOk;
}

int run_generate(const GenerateOptions& o) {
  auto loaded = load_policy(o.policy);
  if (!loaded) {
    fmt::print(stderr, "mailwarden: {}\n", loaded.error().message);
    return kExitInvalid;
  }
  for (const auto& w : loaded->policy.warnings) fmt::print(stderr, "{}\n", w);
  const SitePolicy& site = loaded->policy;

  // A multi-server policy describes every node: --node picks one; with --out and no --node,
  // each node gets its own subdirectory.
  std::vector<std::string> nodes;
  if (site.topology == Topology::multi && o.node.empty()) {
    if (o.out_dir.empty()) {
      auto st = policy_for_node(site, "");
      fmt::print(stderr, "mailwarden: {} (or give --out DIR for all of them)\n",
                 st.error().message);
      return kExitInvalid;
    }
    nodes = node_names(site);
  } else {
    nodes.push_back(o.node);
  }

  std::vector<std::string> notes;
  int rc = kExitOk;
  for (const auto& node : nodes) {
    auto node_policy = policy_for_node(site, node);
    if (!node_policy) {
      fmt::print(stderr, "mailwarden: {}\n", node_policy.error().message);
      return kExitInvalid;
    }
    auto artefacts = render(*node_policy, loaded->catalog, o.backend, notes);
    if (!artefacts) {
      fmt::print(stderr, "mailwarden: {}\n", artefacts.error().message);
      return kExitInvalid;
    }
    if (o.out_dir.empty()) {
      // One artefact prints as is (nft -f - can read it); several are separated the way
      // `head` separates files, with what each is for: --out DIR writes them as files.
      for (const auto& a : *artefacts) {
        if (artefacts->size() > 1) {
          fmt::print("==> {} <== ({})\n", a.filename, a.description);
        }
        std::fwrite(a.content.data(), 1, a.content.size(), stdout);
        if (artefacts->size() > 1) fmt::print("\n");
      }
      if (std::fflush(stdout) != 0) rc = kExitFailure;
      continue;
    }
    auto dir = std::filesystem::path(o.out_dir);
    if (site.topology == Topology::multi && o.node.empty()) dir /= node;
    if (int r = write_artefacts(dir, *artefacts); r != kExitOk) return r;
  }
  // Nodes of one installation share most notes: print each once, in order.
  std::vector<std::string> printed;
  for (const auto& note : notes) {
    if (std::find(printed.begin(), printed.end(), note) != printed.end()) continue;
    fmt::print(stderr, "note: {}\n", note);
    printed.push_back(note);
  }
  return rc;
}

}  // namespace

void register_firewall(CLI::App& app, int& exit_code) {
  auto* fw = app.add_subcommand("firewall", "generate, analyse and apply the host firewall");
  fw->require_subcommand(1);

  auto opts = std::make_shared<GenerateOptions>();
  auto* gen =
      fw->add_subcommand("generate", "print (or write with --out) the firewall for a site policy");
  gen->add_option("--policy,-p", opts->policy,
                  "site policy (TOML), e.g. examples/zimbra-single.toml")
      ->required();
  std::string backend_help = "firewall to generate:";
  for (const auto& b : backends()) backend_help += fmt::format("\n  {:<10} {}", b.name, b.summary);
  gen->add_option("--backend,-b", opts->backend, backend_help)->capture_default_str();
  gen->add_option("--node,-n", opts->node, "node of a multi-server policy to generate for");
  gen->add_option("--out,-o", opts->out_dir,
                  "write one file per artefact into this directory (nft: mailwarden.nft)");
  gen->callback([opts, &exit_code] { exit_code = run_generate(*opts); });

  register_firewall_analyze(*fw, exit_code);
  register_firewall_apply(*fw, exit_code);
}

}  // namespace mw::cli
