#include "firewall/owned_firewall.hpp"

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/subprocess.hpp"
#include "firewall/apply.hpp"
#include "firewall/backends.hpp"
#include "firewall/iptables_backend.hpp"
#include "firewall/nft_backend.hpp"

namespace mw::fw {

namespace {

constexpr std::chrono::seconds kToolTimeout{60};

// Runs a kernel tool; an Error carrying its stderr when it fails.
Result<CommandOutput> run_tool(const std::vector<std::string>& argv, std::string stdin_data = {}) {
  CommandOptions o;
  o.timeout = kToolTimeout;
  o.stdin_data = std::move(stdin_data);
  auto r = run_command(argv, o);
  if (!r) return r.error();
  if (!r->success()) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Error{fmt::format("`{}` failed{}{}", command_line(argv),
                             r->timed_out ? " (timed out)" : "", err.empty() ? "" : ":\n" + err)};
  }
  return r;
}

// A dump of a tool that may be absent or have nothing to show: nullopt then.
std::optional<NamedDump> optional_dump(const std::vector<std::string>& argv) {
  CommandOptions o;
  o.timeout = kToolTimeout;
  auto r = run_command(argv, o);
  if (!r || !r->success()) return std::nullopt;
  bool blank = r->out.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) return std::nullopt;
  return NamedDump{command_line(argv), std::move(r->out)};
}

const Artefact* find_artefact(const std::vector<Artefact>& a, std::string_view name) {
  for (const auto& x : a) {
    if (x.filename == name) return &x;
  }
  return nullptr;
}

Result<std::filesystem::path> write_work_file(const std::filesystem::path& dir,
                                              std::string_view name, std::string_view content) {
  auto p = dir / name;
  if (auto st = write_file_atomic(p, content, 0600); !st) return st.error();
  return p;
}

// ---- nft ------------------------------------------------------------------------------------

constexpr const char* kNftCandidate = "candidate.nft";
constexpr const char* kNftRestore = "restore.nft";

class NftFirewall final : public OwnedFirewall {
 public:
  explicit NftFirewall(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::string_view backend() const override { return "nft"; }

  Result<std::vector<Artefact>> render(const FirewallPlan& plan) const override {
    return render_nft_backend(plan);
  }

  Result<std::vector<NamedDump>> today() override {
    auto nft = run_tool({"nft", "-j", "list", "ruleset"});
    if (!nft) return nft.error();
    std::vector<NamedDump> out{{"nft -j list ruleset", std::move(nft->out)}};
    // iptables-legacy rules are not in the nft dump; iptables-nft ones are, and the analyser
    // recognises them. A packet must pass both.
    for (auto tool : {"iptables-legacy-save", "ip6tables-legacy-save"}) {
      if (auto d = optional_dump({tool})) out.push_back(std::move(*d));
    }
    return out;
  }

  Result<std::string> save() override {
    auto r = run_command({"nft", "-s", "list", "table", "inet", kNftTable},
                         CommandOptions{kToolTimeout, {}, 64 << 20, {}});
    if (!r) return r.error();
    if (r->success()) return "present\n" + r->out;
    if (r->err.find("No such file or directory") != std::string::npos)
      return std::string("absent\n");
    return Error{fmt::format("`nft -s list table inet {}` failed: {}", kNftTable, r->err)};
  }

  Status check(const std::vector<Artefact>& candidate) override {
    auto file = candidate_file(candidate);
    if (!file) return file.error();
    if (auto r = run_tool({"nft", "-c", "-f", file->string()}); !r) return r.error();
    return {};
  }

  Result<std::vector<NamedDump>> tomorrow(const std::vector<NamedDump>& today,
                                          const std::vector<Artefact>& candidate) override {
    auto file = candidate_file(candidate);
    if (!file) return file.error();
    // The kernel's JSON of the new table: load it alone into a throw-away network namespace.
    auto alone = run_tool({"unshare", "--net", "--", "sh", "-c",
                           "nft -f \"$1\" && nft -j list ruleset", "sh", file->string()});
    if (!alone) return alone.error();
    std::vector<NamedDump> out;
    for (const auto& d : today) {
      if (d.name != "nft -j list ruleset") {
        out.push_back(d);
        continue;
      }
      auto spliced = nft_json_splice(d.text, alone->out);
      if (!spliced) return spliced.error();
      out.push_back({"tomorrow's nft ruleset", std::move(*spliced)});
    }
    return out;
  }

  Status install(const std::vector<Artefact>& candidate) override {
    auto file = candidate_file(candidate);
    if (!file) return file.error();
    if (auto r = run_tool({"nft", "-f", file->string()}); !r) return r.error();
    return {};
  }

  Status restore(std::string_view saved) override {
    std::optional<std::string> table;
    if (saved.starts_with("present\n")) {
      table = std::string(saved.substr(8));
    } else if (saved != "absent\n") {
      return Error{"saved nft state: neither 'present' nor 'absent'"};
    }
    auto file = write_work_file(dir_, kNftRestore, nft_restore_script(table));
    if (!file) return file.error();
    if (auto r = run_tool({"nft", "-f", file->string()}); !r) return r.error();
    return {};
  }

 private:
  Result<std::filesystem::path> candidate_file(const std::vector<Artefact>& candidate) {
    const Artefact* a = find_artefact(candidate, "mailwarden.nft");
    if (!a) return Error{"the nft backend produced no mailwarden.nft"};
    return write_work_file(dir_, kNftCandidate, a->content);
  }
  std::filesystem::path dir_;
};

// ---- iptables -------------------------------------------------------------------------------

struct IptablesTools {
  Family family;
  std::string save;     // iptables-save
  std::string restore;  // iptables-restore
  std::string tag;      // v4
};

const IptablesTools kIptables[] = {
    {Family::v4, "iptables-save", "iptables-restore", "v4"},
    {Family::v6, "ip6tables-save", "ip6tables-restore", "v6"},
};

class IptablesFirewall final : public OwnedFirewall {
 public:
  explicit IptablesFirewall(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::string_view backend() const override { return "iptables"; }

  Result<std::vector<Artefact>> render(const FirewallPlan& plan) const override {
    std::vector<Artefact> out;
    for (const auto& t : kIptables) {
      auto a = render_iptables_family(plan, t.family);
      if (!a) return a.error();
      for (auto& x : *a) {
        if (x.filename == iptables_file_names(t.family).owned) out.push_back(std::move(x));
      }
    }
    return out;
  }

  Result<std::vector<NamedDump>> today() override {
    std::vector<NamedDump> out;
    for (const auto& t : kIptables) {
      auto d = run_tool({t.save, "-t", "filter"});
      if (!d) return d.error();
      // An empty dump has no "# Generated by" line, which tells the analyser the family.
      if (d->out.find("# Generated by") == std::string::npos) {
        d->out.insert(0, fmt::format("# Generated by {} (no filter table yet)\n", t.save));
      }
      out.push_back({t.save, std::move(d->out)});
    }
    // nft tables (iptables-nft's own are recognised by the analyser) must be passed too.
    if (auto d = optional_dump({"nft", "-j", "list", "ruleset"})) out.push_back(std::move(*d));
    return out;
  }

  Result<std::string> save() override {
    std::string out;
    for (const auto& t : kIptables) {
      auto dump = run_tool({t.save, "-t", "filter"});
      if (!dump) return dump.error();
      auto owned = iptables_owned_part(dump->out, t.save);
      if (!owned) return owned.error();
      out += fmt::format("family\t{}\n{}", t.tag, serialise(*owned));
    }
    return out;
  }

  Status check(const std::vector<Artefact>& candidate) override {
    return each_family(candidate, [&](const IptablesTools& t, const std::string& script) {
      auto file = write_work_file(dir_, "candidate." + t.tag, script);
      if (!file) return Status(file.error());
      if (auto r = run_tool({t.restore, "-w", "--test", "--noflush", file->string()}); !r) {
        return Status(r.error());
      }
      return Status();
    });
  }

  Result<std::vector<NamedDump>> tomorrow(const std::vector<NamedDump>& today,
                                          const std::vector<Artefact>& candidate) override {
    std::vector<NamedDump> out;
    for (const auto& d : today) {
      const IptablesTools* tools = nullptr;
      for (const auto& t : kIptables) {
        if (d.name == t.save) tools = &t;
      }
      if (!tools) {
        out.push_back(d);
        continue;
      }
      const Artefact* a = find_artefact(candidate, iptables_file_names(tools->family).owned);
      if (!a) return Error{fmt::format("no {} was generated", tools->tag)};
      auto spliced = iptables_splice(d.text, a->content);
      if (!spliced) return spliced.error();
      out.push_back({fmt::format("tomorrow's {}", tools->save), std::move(*spliced)});
    }
    return out;
  }

  Status install(const std::vector<Artefact>& candidate) override {
    return each_family(candidate, [&](const IptablesTools& t, const std::string& script) {
      auto file = write_work_file(dir_, "install." + t.tag, script);
      if (!file) return Status(file.error());
      if (auto r = run_tool({t.restore, "-w", "--noflush", file->string()}); !r) {
        return Status(r.error());
      }
      return Status();
    });
  }

  Status restore(std::string_view saved) override {
    // Sections "family\tv4" / "family\tv6", each a serialised IptablesOwned.
    for (const auto& t : kIptables) {
      auto header = fmt::format("family\t{}\n", t.tag);
      auto at = saved.find(header);
      if (at == std::string_view::npos) {
        return Error{fmt::format("saved iptables state: no {} section", t.tag)};
      }
      auto body = saved.substr(at + header.size());
      body = body.substr(0, body.find("family\t"));
      auto owned = parse_iptables_owned(body, "saved iptables state");
      if (!owned) return owned.error();
      auto dump = run_tool({t.save, "-t", "filter"});
      if (!dump) return dump.error();
      auto script = iptables_restore_script(dump->out, *owned);
      if (!script) return script.error();
      auto file = write_work_file(dir_, "restore." + t.tag, *script);
      if (!file) return file.error();
      if (auto r = run_tool({t.restore, "-w", "--noflush", file->string()}); !r) return r.error();
    }
    return {};
  }

 private:
  // For each family: today's dump, the install script of the candidate, then fn.
  template <class Fn>
  Status each_family(const std::vector<Artefact>& candidate, Fn fn) {
    for (const auto& t : kIptables) {
      const Artefact* a = find_artefact(candidate, iptables_file_names(t.family).owned);
      if (!a) return Error{fmt::format("no {} was generated", t.tag)};
      auto dump = run_tool({t.save, "-t", "filter"});
      if (!dump) return dump.error();
      auto script = iptables_install_script(dump->out, a->content);
      if (!script) return script.error();
      if (auto st = fn(t, *script); !st) return st;
    }
    return {};
  }
  std::filesystem::path dir_;
};

}  // namespace

std::unique_ptr<OwnedFirewall> make_owned_firewall(std::string_view backend,
                                                   const std::filesystem::path& work_dir) {
  if (backend == "nft") return std::make_unique<NftFirewall>(work_dir);
  if (backend == "iptables") return std::make_unique<IptablesFirewall>(work_dir);
  return nullptr;
}

}  // namespace mw::fw
