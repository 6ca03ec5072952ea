// firewalld's own tool (firewall-offline-cmd, on private copies; the daemon is never started)
// accepts every example's generated files, builds the same configuration from the script, and
// rejects broken sets.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "core/subprocess.hpp"
#include "firewall/backends.hpp"
#include "firewall/firewalld_backend.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultConfig = "/usr/lib/firewalld";
constexpr const char* kSystemConfig = "/etc/firewalld";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << p;
}

bool in_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((fs::path(dir) / tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string unavailable_reason() {
  if (std::getenv("MAILWARDEN_SKIP_E2E")) return "MAILWARDEN_SKIP_E2E is set";
  if (::geteuid() != 0) return "firewall-offline-cmd refuses to run without root";
  for (const char* tool : {"firewall-offline-cmd", "xmllint", "bash", "env"}) {
    if (!in_path(tool)) return fmt::format("{} is not in PATH", tool);
  }
  if (!fs::is_directory(kDefaultConfig)) return fmt::format("no {}", kDefaultConfig);
  return "";
}

// Everything under the real /etc/firewalld (names, kinds, contents): the checks must leave it
// exactly as it was.
std::string snapshot_system_config() {
  std::error_code ec;
  if (!fs::exists(kSystemConfig, ec)) return "(absent)";
  std::string out;
  for (const auto& e : fs::recursive_directory_iterator(kSystemConfig, ec)) {
    out += e.path().string() + (e.is_directory() ? "/\n" : "\n");
    if (e.is_regular_file()) out += slurp(e.path()) + "\n";
  }
  return out;
}

std::vector<Artefact> example_artefacts(const std::string& example, const std::string& node) {
  auto loaded = load_policy(fmt::format("{}/examples/{}.toml", MW_SOURCE_DIR, example));
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.error().message;
    return {};
  }
  auto site = policy_for_node(loaded->policy, node);
  if (!site.ok()) {
    ADD_FAILURE() << site.error().message;
    return {};
  }
  auto plan = make_plan(*site, loaded->catalog);
  if (!plan.ok()) {
    ADD_FAILURE() << plan.error().message;
    return {};
  }
  auto artefacts = render_firewalld(*plan);
  if (!artefacts.ok()) {
    ADD_FAILURE() << artefacts.error().message;
    return {};
  }
  return *artefacts;
}

Artefact* find(std::vector<Artefact>& as, const std::string& name) {
  for (auto& a : as) {
    if (a.filename == name) return &a;
  }
  return nullptr;
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

// A private firewalld system configuration (what /etc/firewalld holds), removed at the end.
class PrivateConfig {
 public:
  PrivateConfig() {
    std::string tmpl = (fs::temp_directory_path() / "mw-firewalld-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    fs::create_directories(dir_ / "zones");
    fs::create_directories(dir_ / "services");
    fs::create_directories(dir_ / "scratch" / "bin");
    // The host's own settings when it has them (read only), else Debian's default.
    fs::path conf = fs::path(kSystemConfig) / "firewalld.conf";
    if (!fs::exists(conf)) conf = fs::path(MW_SOURCE_DIR) / "tests/data/firewalld/firewalld.conf";
    fs::copy_file(conf, dir_ / "firewalld.conf");
  }
  ~PrivateConfig() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  PrivateConfig(const PrivateConfig&) = delete;
  PrivateConfig& operator=(const PrivateConfig&) = delete;

  const fs::path& dir() const { return dir_; }

  // firewall-offline-cmd on this copy; out and err together, as the operator sees them.
  CommandOutput offline(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"firewall-offline-cmd", "--system-config", dir_.string(),
                                     "--default-config", kDefaultConfig};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    if (!r.ok()) {
      ADD_FAILURE() << r.error().message;
      return {};
    }
    return *r;
  }
  std::string query(const std::vector<std::string>& args) const {
    auto r = offline(args);
    EXPECT_TRUE(r.success()) << command_line(args) << ": " << r.out << r.err;
    return r.out;
  }

  // The XML artefacts where firewalld reads them.
  void install_xml(const std::vector<Artefact>& artefacts) const {
    for (const auto& a : artefacts) {
      if (a.filename == kFirewalldZoneFile) {
        spit(dir_ / "zones" / a.filename, a.content);
      } else if (a.filename == kFirewalldDirectFile) {
        spit(dir_ / a.filename, a.content);
      } else if (a.filename.ends_with(".xml")) {
        spit(dir_ / "services" / a.filename, a.content);
      }
    }
  }

  // Runs the script as an operator would, with `firewall-cmd` resolved to a stand-in that
  // sends the same options to firewall-offline-cmd on this copy (without --permanent, which
  // it does not take; --remove-service in a zone is spelt --remove-service-from-zone there).
  // Only the daemon's runtime operations are faked: --state, --reload, --get-active-zones.
  CommandOutput run_script(const std::string& script) const {
    fs::path bin = dir_ / "scratch" / "bin";
    spit(
        bin / "firewall-cmd",
        fmt::format("#!/bin/sh\n"
                    "for a do\n"
                    "  shift\n"
                    "  case $a in\n"
                    "    --permanent) continue ;;\n"
                    "    --state) echo running; exit 0 ;;\n"
                    "    --reload|--get-active-zones) exit 0 ;;\n"
                    "    --remove-service=*) a=\"--remove-service-from-zone=${{a#*=}}\" ;;\n"
                    "  esac\n"
                    "  set -- \"$@\" \"$a\"\n"
                    "done\n"
                    "exec firewall-offline-cmd --system-config '{}' --default-config '{}' \"$@\"\n",
                    dir_.string(), kDefaultConfig));
    fs::permissions(bin / "firewall-cmd", fs::perms::owner_all);
    fs::path file = dir_ / "scratch" / kFirewalldScript;
    spit(file, script);
    const char* path = std::getenv("PATH");
    CommandOptions o;
    o.timeout = std::chrono::minutes(5);
    auto r = run_command(
        {"env", "PATH=" + bin.string() + ":" + (path ? path : ""), "bash", file.string()}, o);
    if (!r.ok()) {
      ADD_FAILURE() << r.error().message;
      return {};
    }
    return *r;
  }

 private:
  fs::path dir_;
};

bool has_complaint(const CommandOutput& r) {
  for (const std::string* s : {&r.out, &r.err}) {
    for (const char* word : {"WARNING", "Warning", "ERROR", "Error"}) {
      if (s->find(word) != std::string::npos) return true;
    }
  }
  return false;
}

// Element names, sorted attributes and trimmed text, comments and layout ignored: our XML and
// firewalld's own rewrite of the same configuration compare equal.
std::string canonical_xml(const fs::path& file) {
  pugi::xml_document doc;
  auto res = doc.load_file(file.c_str());
  if (!res) return fmt::format("(unreadable {}: {})", file.string(), res.description());
  std::string out;
  auto walk = [&](auto&& self, pugi::xml_node n, int depth) -> void {
    for (auto c : n.children()) {
      if (c.type() == pugi::node_pcdata) {
        std::string t = c.value();
        auto b = t.find_first_not_of(" \n\t");
        if (b != std::string::npos) {
          out += std::string(depth * 2, ' ') +
                 "text:" + t.substr(b, t.find_last_not_of(" \n\t") - b + 1) + "\n";
        }
        continue;
      }
      if (c.type() != pugi::node_element) continue;
      std::set<std::string> attrs;
      for (auto a : c.attributes()) attrs.insert(fmt::format("{}={}", a.name(), a.value()));
      out += std::string(depth * 2, ' ') + c.name();
      for (const auto& a : attrs) out += " " + a;
      out += "\n";
      self(self, c, depth + 1);
    }
  };
  walk(walk, doc, 0);
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> xml_files(const PrivateConfig& pc) {
  std::vector<std::string> out;
  for (const char* sub : {"zones", "services"}) {
    for (const auto& e : fs::directory_iterator(pc.dir() / sub)) {
      if (e.path().extension() == ".xml") out.push_back(e.path().string());
    }
  }
  if (fs::exists(pc.dir() / "direct.xml")) out.push_back((pc.dir() / "direct.xml").string());
  std::sort(out.begin(), out.end());
  return out;
}

// What firewalld makes of the installed configuration of `zone`: every problem found, empty
// when it is clean. --check-config alone is not enough: it exits 0 when it drops an invalid
// rich rule (it only prints a WARNING) and never checks the services rich rules name.
std::vector<std::string> check_installed(const PrivateConfig& pc, const std::string& zone) {
  std::vector<std::string> problems;
  auto complain = [&](const std::string& what, const CommandOutput& r) {
    problems.push_back(fmt::format("{} (exit {}): {}{}", what, r.exit_code, r.out, r.err));
  };
  // What the files say, read before any firewalld command: some rewrite the zone file, and
  // drop the rules they refuse while doing so.
  std::size_t written_rules = 0;
  std::set<std::string> named;
  pugi::xml_document doc;
  doc.load_file((pc.dir() / "zones" / (zone + ".xml")).c_str());
  for (auto n : doc.child("zone").children()) {
    if (std::string(n.name()) == "service") named.insert(n.attribute("name").value());
    if (std::string(n.name()) != "rule") continue;
    ++written_rules;
    if (auto s = n.child("service")) named.insert(s.attribute("name").value());
  }
  std::size_t written_direct = 0;
  pugi::xml_document direct;
  if (direct.load_file((pc.dir() / "direct.xml").c_str())) {
    for (auto r : direct.child("direct").children("rule")) {
      (void)r;
      ++written_direct;
    }
  }

  for (const auto& file : xml_files(pc)) {
    auto lint = run_command({"xmllint", "--noout", file});
    if (!lint.ok() || !lint->success()) {
      problems.push_back("xmllint " + file + ": " + (lint.ok() ? lint->err : lint.error().message));
    }
  }
  auto check = pc.offline({"--check-config"});
  if (!check.success() || has_complaint(check)) complain("--check-config", check);

  auto listed = pc.offline({"--zone=" + zone, "--list-rich-rules"});
  std::size_t kept = 0;
  for (const auto& l : lines(listed.out)) kept += l.starts_with("rule ");
  if (!listed.success() || kept != written_rules) {
    complain(
        fmt::format("zone {}: {} rich rules written, firewalld kept {}", zone, written_rules, kept),
        listed);
  }
  auto services = pc.offline({"--get-services"});
  if (!services.success()) complain("--get-services", services);
  auto known = words(services.out);
  for (const auto& s : named) {
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      problems.push_back(
          fmt::format("zone {} names service {}, which firewalld does not know", zone, s));
    }
  }
  auto rules = pc.offline({"--direct", "--get-all-rules"});
  if (!rules.success() || lines(rules.out).size() != written_direct) {
    complain(fmt::format("direct.xml: {} rules written", written_direct), rules);
  }
  auto dz = pc.offline({"--set-default-zone=" + zone});
  if (!dz.success() || has_complaint(dz)) complain("--set-default-zone=" + zone, dz);
  return problems;
}

// The configuration this backend owns, as firewalld reports it and as its files say.
std::string fingerprint(const PrivateConfig& pc) {
  std::string out = "default zone: " + pc.query({"--get-default-zone"});
  out += pc.query({std::string("--zone=") + kFirewalldZone, "--list-all"});
  out += canonical_xml(pc.dir() / "zones" / kFirewalldZoneFile);
  for (const auto& s : words(pc.query({"--get-services"}))) {
    if (s.starts_with("mailwarden-")) out += canonical_xml(pc.dir() / "services" / (s + ".xml"));
  }
  out += "direct:\n" + pc.query({"--direct", "--get-all-rules"});
  return out;
}

class FirewalldCheck : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    before_ = snapshot_system_config();
  }
  void TearDown() override {
    if (!before_.empty()) {
      EXPECT_EQ(snapshot_system_config(), before_) << "something wrote under " << kSystemConfig;
    }
  }

  // The XML set passes firewalld's checks, and the script builds the same configuration.
  void expect_consistent(const std::string& example, const std::string& node) {
    SCOPED_TRACE(example + " " + node);
    auto artefacts = example_artefacts(example, node);
    ASSERT_FALSE(artefacts.empty());
    PrivateConfig from_xml;
    from_xml.install_xml(artefacts);
    auto problems = check_installed(from_xml, kFirewalldZone);
    EXPECT_TRUE(problems.empty()) << fmt::format("{}", fmt::join(problems, "\n"));

    PrivateConfig from_script;
    auto run = from_script.run_script(find(artefacts, kFirewalldScript)->content);
    ASSERT_TRUE(run.success()) << run.out << run.err;
    EXPECT_FALSE(has_complaint(run)) << run.out << run.err;
    EXPECT_EQ(fingerprint(from_script), fingerprint(from_xml));
  }

  std::string before_;
};

TEST_F(FirewalldCheck, ZimbraSingle) {
  expect_consistent("zimbra-single", "");
}
TEST_F(FirewalldCheck, ZimbraMultiMta) {
  expect_consistent("zimbra-multi", "mta1.example.com");
}
TEST_F(FirewalldCheck, ZimbraMultiProxy) {
  expect_consistent("zimbra-multi", "proxy1.example.com");
}
TEST_F(FirewalldCheck, ZimbraMultiMailbox) {
  expect_consistent("zimbra-multi", "mbox1.example.com");
}
TEST_F(FirewalldCheck, ZimbraMultiLdap) {
  expect_consistent("zimbra-multi", "ldap1.example.com");
}
TEST_F(FirewalldCheck, PostfixDovecot) {
  expect_consistent("postfix-dovecot", "");
}

// A second run, and a run over an earlier policy's configuration, leave exactly what a first
// run on a fresh copy leaves: nothing of the earlier run survives (services, rules, direct).
TEST_F(FirewalldCheck, ScriptRerunsReplaceEarlierRuns) {
  auto single = example_artefacts("zimbra-single", "");
  auto mta = example_artefacts("zimbra-multi", "mta1.example.com");
  ASSERT_FALSE(single.empty() || mta.empty());
  const std::string& single_script = find(single, kFirewalldScript)->content;
  const std::string& mta_script = find(mta, kFirewalldScript)->content;

  PrivateConfig fresh;
  ASSERT_TRUE(fresh.run_script(mta_script).success());
  PrivateConfig reused;
  ASSERT_TRUE(reused.run_script(single_script).success());
  ASSERT_FALSE(lines(reused.query({"--direct", "--get-all-rules"})).empty());
  auto again = reused.run_script(single_script);
  ASSERT_TRUE(again.success()) << again.out << again.err;
  auto over = reused.run_script(mta_script);
  ASSERT_TRUE(over.success()) << over.out << over.err;
  EXPECT_FALSE(has_complaint(over)) << over.out << over.err;
  EXPECT_EQ(fingerprint(reused), fingerprint(fresh));
}

// The check itself accepts what firewalld writes.
TEST_F(FirewalldCheck, FirewalldsOwnZoneFilePasses) {
  PrivateConfig pc;
  fs::copy_file(fs::path(MW_SOURCE_DIR) / "tests/data/firewalld/zimbra-admin.xml",
                pc.dir() / "zones/zimbra-admin.xml");
  auto problems = check_installed(pc, "zimbra-admin");
  EXPECT_TRUE(problems.empty()) << fmt::format("{}", fmt::join(problems, "\n"));
}

// ---- The check fails on broken sets --------------------------------------------------------

bool mentions(const std::vector<std::string>& problems, const std::string& what) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(what) != std::string::npos; });
}

TEST_F(FirewalldCheck, RichRuleNamingAnUndefinedServiceFails) {
  auto artefacts = example_artefacts("zimbra-single", "");
  std::erase_if(artefacts,
                [](const Artefact& a) { return a.filename == "mailwarden-admin-ssh.xml"; });
  PrivateConfig pc;
  pc.install_xml(artefacts);
  // firewalld's own check lets it through...
  auto check = pc.offline({"--check-config"});
  EXPECT_TRUE(check.success() && !has_complaint(check)) << check.out << check.err;
  // ...ours does not.
  auto problems = check_installed(pc, kFirewalldZone);
  EXPECT_TRUE(mentions(problems, "names service mailwarden-admin-ssh, which firewalld does not"))
      << fmt::format("{}", fmt::join(problems, "\n"));
}

TEST_F(FirewalldCheck, InvalidRichRuleFails) {
  auto artefacts = example_artefacts("zimbra-single", "");
  replace_once(find(artefacts, kFirewalldZoneFile)->content, "198.51.100.0/28", "198.51.100.0/33");
  PrivateConfig pc;
  pc.install_xml(artefacts);
  auto problems = check_installed(pc, kFirewalldZone);
  EXPECT_TRUE(mentions(problems, "INVALID_ADDR")) << fmt::format("{}", fmt::join(problems, "\n"));
  EXPECT_TRUE(mentions(problems, "rich rules written, firewalld kept"));
}

TEST_F(FirewalldCheck, ZoneNamingAnUndefinedServiceFails) {
  auto artefacts = example_artefacts("zimbra-single", "");
  std::erase_if(artefacts,
                [](const Artefact& a) { return a.filename == "mailwarden-public-smtp.xml"; });
  PrivateConfig pc;
  pc.install_xml(artefacts);
  auto check = pc.offline({"--check-config"});
  EXPECT_FALSE(check.success());
  EXPECT_NE(check.err.find("INVALID_SERVICE"), std::string::npos) << check.out << check.err;
  EXPECT_TRUE(mentions(check_installed(pc, kFirewalldZone), "--check-config (exit"));
}

TEST_F(FirewalldCheck, MalformedXmlFails) {
  auto artefacts = example_artefacts("zimbra-single", "");
  auto& service = find(artefacts, "mailwarden-public-smtp.xml")->content;
  service.resize(service.size() - 5);
  PrivateConfig pc;
  pc.install_xml(artefacts);
  auto problems = check_installed(pc, kFirewalldZone);
  EXPECT_TRUE(mentions(problems, "xmllint")) << fmt::format("{}", fmt::join(problems, "\n"));
}

TEST_F(FirewalldCheck, ScriptDisagreeingWithTheXmlFails) {
  auto artefacts = example_artefacts("zimbra-single", "");
  std::string& script = find(artefacts, kFirewalldScript)->content;
  replace_once(script,
               "  --add-rich-rule='rule family=\"ipv6\" source address=\"2001:db8:ad::/120\" "
               "service name=\"mailwarden-admin-ssh\" accept' \\\n",
               "");
  PrivateConfig from_xml;
  from_xml.install_xml(artefacts);
  ASSERT_TRUE(check_installed(from_xml, kFirewalldZone).empty());
  PrivateConfig from_script;
  ASSERT_TRUE(from_script.run_script(script).success());
  EXPECT_NE(fingerprint(from_script), fingerprint(from_xml));
}

TEST_F(FirewalldCheck, ScriptStopsAtTheFirstRefusedCommand) {
  auto artefacts = example_artefacts("zimbra-single", "");
  std::string script = find(artefacts, kFirewalldScript)->content;
  replace_once(script, "--set-target=DROP", "--set-target=DROPPED");
  PrivateConfig pc;
  auto run = pc.run_script(script);
  EXPECT_FALSE(run.success());
  EXPECT_NE(run.err.find("INVALID_TARGET"), std::string::npos) << run.out << run.err;
  // set -e: nothing after the refused command ran.
  EXPECT_EQ(pc.query({"--get-default-zone"}), "public\n");
}

}  // namespace
}  // namespace mw
