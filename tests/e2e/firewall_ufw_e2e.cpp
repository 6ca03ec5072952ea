// The generated ufw profiles and command script, run by the real ufw in a network namespace
// against private copies of its configuration (tests/e2e/ufw-in-netns.sh), give exactly the
// plan's exposure; the host's ufw files and firewall stay as they were.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/subprocess.hpp"
#include "e2e/exposure_check.hpp"
#include "firewall/backends.hpp"
#include "firewall/ufw_backend.hpp"
#include "harness/netns.hpp"
#include "support/temp_dir.hpp"

namespace mw {
namespace {

namespace fs = std::filesystem;
using test::example_plan;
using test::kTestMtaUser;

const std::string kWrapper = std::string(MW_SOURCE_DIR) + "/tests/e2e/ufw-in-netns.sh";
constexpr std::chrono::seconds kUfwTimeout{180};

Status write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  out.close();
  if (!out) return Error{"cannot write " + file.string()};
  return {};
}

// Runs the wrapper: `command` inside NETNS with ufw's files replaced by private copies (the
// generated script when `command` is empty).
Result<CommandOutput> ufw_in_netns(const std::string& netns, const std::vector<Artefact>& files,
                                   bool fragments, const std::vector<std::string>& command = {}) {
  test::TempDir dir{"mw-ufw-e2e."};
  if (dir.path().empty()) return Error{"mkdtemp failed"};
  for (const auto& a : files) {
    if (auto st = write_text(dir.path() / a.filename, a.content); !st) return st.error();
  }
  std::vector<std::string> argv = {"sh", kWrapper};
  if (fragments) argv.push_back("--fragments");
  argv.push_back(netns);
  argv.push_back(dir.path().string());
  argv.insert(argv.end(), command.begin(), command.end());
  CommandOptions o;
  o.timeout = kUfwTimeout;
  return run_command(argv, o);
}

Status run_generated_script(test::NetnsPair& ns, const std::vector<Artefact>& files,
                            bool fragments) {
  auto r = ufw_in_netns(ns.server(), files, fragments);
  if (!r.ok()) return r.error();
  if (!r->success() || r->out.find("Status: active") == std::string::npos) {
    return Error{fmt::format("mailwarden-ufw.sh in {} failed (exit {}):\n{}\n{}", ns.server(),
                             r->exit_code, r->out, r->err)};
  }
  return {};
}

std::vector<Artefact> render(const FirewallPlan& plan) {
  auto out = render_ufw(plan);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? *out : std::vector<Artefact>{};
}

// ---- the host must not change ----

// Every file under `roots` (recursively) with its bytes; symlinks by their target.
std::map<std::string, std::string> snapshot_files(const std::vector<fs::path>& roots) {
  std::map<std::string, std::string> out;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(p, ec))) {
      out[p.string()] = "symlink -> " + fs::read_symlink(p, ec).string();
    } else if (fs::is_regular_file(p, ec)) {
      std::ifstream in(p, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      out[p.string()] = bytes.str();
    } else if (fs::is_directory(p, ec)) {
      out[p.string()] = "directory";
    }
  };
  for (const auto& root : roots) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(root, ec))) {
      out[root.string()] = "absent";
      continue;
    }
    add(root);
    if (!fs::is_directory(root, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      add(it->path());
    }
  }
  return out;
}

std::vector<fs::path> host_ufw_paths() {
  std::error_code ec;
  fs::path lib = fs::canonical("/lib/ufw", ec);
  return {"/etc/ufw", ec ? fs::path("/lib/ufw") : lib, "/etc/default/ufw", "/run/ufw.lock",
          "/var/lib/ufw"};
}

// Which paths differ between two snapshots ("" when none).
std::string snapshot_diff(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [path, bytes] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      out += "removed: " + path + "\n";
    } else if (it->second != bytes) {
      out += "changed: " + path + "\n";
    }
  }
  for (const auto& [path, bytes] : after) {
    if (!before.count(path)) out += "added: " + path + "\n";
  }
  return out;
}

// `iptables -S` / `ip6tables -S` in the host's own namespace: listing is read-only.
void expect_no_ufw_chains_on_host() {
  for (const char* tool : {"iptables", "ip6tables"}) {
    auto r = run_command({tool, "-S"});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->out.find("ufw"), std::string::npos)
        << "the HOST has ufw chains (" << tool << " -S):\n"
        << r->out;
  }
}

class UfwE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    for (const char* tool : {"ufw", "unshare", "mount", "sysctl"}) {
      auto found = run_command({"sh", "-c", std::string("command -v ") + tool});
      if (!found.ok() || !found->success()) GTEST_SKIP() << tool << " not found in PATH";
    }
    host_before_ = snapshot_files(host_ufw_paths());
    expect_no_ufw_chains_on_host();
  }
  void TearDown() override {
    if (host_before_.empty()) return;  // skipped
    EXPECT_EQ(snapshot_diff(host_before_, snapshot_files(host_ufw_paths())), "")
        << "ufw wrote to the HOST's files";
    expect_no_ufw_chains_on_host();
  }

  void expect_ufw_matches_plan(const test::PlanUnderTest& p, bool fragments = false) {
    auto files = render(p.plan);
    ASSERT_EQ(files.size(), 4u);
    test::expect_kernel_matches_plan(
        p, [&](test::NetnsPair& ns) { return run_generated_script(ns, files, fragments); });
  }

  std::map<std::string, std::string> host_before_;
};

TEST_F(UfwE2E, ZimbraSingleServer) {
  auto p = example_plan("zimbra-single.toml");
  ASSERT_TRUE(p.plan.never_udp.contains(11211));
  ASSERT_FALSE(p.plan.allowed_sources(Protocol::tcp, 9071).empty());
  expect_ufw_matches_plan(p);
}

TEST_F(UfwE2E, ZimbraMultiServerNodes) {
  for (const char* node :
       {"mta1.example.com", "proxy1.example.com", "mbox1.example.com", "ldap1.example.com"}) {
    SCOPED_TRACE(node);
    expect_ufw_matches_plan(example_plan("zimbra-multi.toml", node));
  }
}

TEST_F(UfwE2E, PostfixDovecot) {
  auto p = example_plan("postfix-dovecot.toml");
  ASSERT_FALSE(p.plan.log_drops);  // `ufw logging off` is exercised too
  expect_ufw_matches_plan(p);
}

// With the before.rules fragments pasted in, ufw still loads and the exposure is unchanged.
TEST_F(UfwE2E, ZimbraSingleServerWithFragments) {
  expect_ufw_matches_plan(example_plan("zimbra-single.toml"), true);
}

// `ufw app info` accepts every generated profile: no profile skipped with a warning.
TEST_F(UfwE2E, UfwAcceptsEveryProfile) {
  auto pair = test::NetnsPair::create({});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"zimbra-single.toml", ""},
      {"postfix-dovecot.toml", ""},
      {"zimbra-multi.toml", "mta1.example.com"},
      {"zimbra-multi.toml", "proxy1.example.com"},
      {"zimbra-multi.toml", "mbox1.example.com"},
      {"zimbra-multi.toml", "ldap1.example.com"}};
  for (const auto& [file, node] : examples) {
    SCOPED_TRACE(file + " " + node);
    auto plan = example_plan(file, node).plan;
    auto profiles = ufw_profiles(plan);
    ASSERT_FALSE(profiles.empty());
    std::vector<std::string> cmd = {"sh", "-c", "for p; do ufw app info \"$p\" || exit 1; done",
                                    "sh"};
    for (const auto& p : profiles) cmd.push_back(p.name);
    auto r = ufw_in_netns((*pair)->server(), render(plan), false, cmd);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->success()) << r->out << r->err;
    EXPECT_EQ(r->err.find("WARN"), std::string::npos) << r->err;
    for (const auto& p : profiles) {
      EXPECT_NE(r->out.find("Profile: " + p.name + "\n"), std::string::npos) << r->out;
      EXPECT_NE(r->out.find(ufw_port_list(p.ports, p.protocol)), std::string::npos) << r->out;
    }
  }
}

// kUfwMaxPortSlots is ufw's real limit: 15 slots (a range counts two) pass, 16 do not.
TEST_F(UfwE2E, UfwLimitIsFifteenSlots) {
  auto pair = test::NetnsPair::create({});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  PortSet fifteen;
  for (std::uint16_t p = 1001; p <= 1013; ++p) fifteen.add(p * 2);  // 13 single ports
  fifteen.add(3000, 3005);                                          // + a range: 15 slots
  PortSet sixteen = fifteen;
  sixteen.add(4000);
  ASSERT_EQ(ufw_port_slots(fifteen), kUfwMaxPortSlots);
  std::string profiles = fmt::format(
      "[mw-fifteen]\ntitle=t\ndescription=d\nports={}\n"
      "[mw-sixteen]\ntitle=t\ndescription=d\nports={}\n",
      ufw_port_list(fifteen, Protocol::tcp), ufw_port_list(sixteen, Protocol::tcp));
  auto r = ufw_in_netns((*pair)->server(), {{"mailwarden", profiles, ""}}, false,
                        {"sh", "-c", "ufw app info mw-fifteen && ! ufw app info mw-sixteen"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->success()) << r->out << r->err;
  EXPECT_NE(r->err.find("Invalid ports in profile 'mw-sixteen'"), std::string::npos) << r->err;
}

// The outbound-SMTP rule of the fragments: only the MTA's user reaches tcp/25 outside.
TEST_F(UfwE2E, FragmentsRestrictOutboundSmtp) {
  auto plan = example_plan("zimbra-single.toml").plan;
  ASSERT_TRUE(plan.egress_smtp_restricted);
  ASSERT_EQ(plan.egress_mta_user, kTestMtaUser);
  auto pair = test::NetnsPair::create({});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;
  ASSERT_TRUE(run_generated_script(ns, render(plan), true).ok());
  auto listeners = test::Listeners::start(ns.client(), {{Protocol::tcp, 25}, {Protocol::tcp, 587}});
  ASSERT_TRUE(listeners.ok()) << listeners.error().message;
  auto connect = [&](const char* user, int port) {
    std::vector<std::string> argv = {"bash", "-c",
                                     fmt::format("exec 3<>/dev/tcp/192.0.2.2/{}", port)};
    if (user) {
      argv.insert(argv.begin(), {"setpriv", fmt::format("--reuid={}", user), "--regid=nogroup",
                                 "--clear-groups"});
    }
    auto r = ns.exec(ns.server(), argv);
    EXPECT_TRUE(r.ok());
    return r.ok() && r->success();
  };
  EXPECT_FALSE(connect(nullptr, 25)) << "root reached tcp/25 outbound";
  EXPECT_TRUE(connect(kTestMtaUser, 25)) << "the MTA user could not send";
  EXPECT_TRUE(connect(nullptr, 587)) << "only tcp/25 is restricted";
  // The other fragment rules are loaded too, in ufw's own before chains.
  auto v4 = ns.exec(ns.server(), {"iptables", "-S", "ufw-before-input"});
  auto v6 = ns.exec(ns.server(), {"ip6tables", "-S", "ufw6-before-input"});
  ASSERT_TRUE(v4.ok() && v6.ok());
  EXPECT_NE(v4->out.find("-A ufw-before-input -s 127.0.0.0/8 -j DROP"), std::string::npos)
      << v4->out;
  EXPECT_NE(v6->out.find("-A ufw6-before-input -s ::1/128 -j DROP"), std::string::npos) << v6->out;
  EXPECT_NE(v4->out.find("! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP"),
            std::string::npos)
      << v4->out;
}

// The host check above can fail: a changed, an added and a removed file are all reported.
TEST(UfwHostSnapshot, DetectsChanges) {
  test::TempDir dir{"mw-ufw-e2e."};
  ASSERT_FALSE(dir.path().empty());
  fs::create_directories(dir.path() / "etc-ufw" / "applications.d");
  ASSERT_TRUE(write_text(dir.path() / "etc-ufw" / "user.rules", "*filter\nCOMMIT\n").ok());
  ASSERT_TRUE(write_text(dir.path() / "etc-ufw" / "ufw.conf", "ENABLED=no\n").ok());
  std::vector<fs::path> roots = {dir.path() / "etc-ufw", dir.path() / "no-such-lock"};
  auto before = snapshot_files(roots);
  EXPECT_EQ(snapshot_diff(before, snapshot_files(roots)), "");
  ASSERT_TRUE(write_text(dir.path() / "etc-ufw" / "ufw.conf", "ENABLED=yes\n").ok());
  ASSERT_TRUE(write_text(dir.path() / "etc-ufw" / "applications.d" / "mailwarden", "x").ok());
  ASSERT_TRUE(write_text(dir.path() / "no-such-lock", "").ok());
  fs::remove(dir.path() / "etc-ufw" / "user.rules");
  auto diff = snapshot_diff(before, snapshot_files(roots));
  EXPECT_NE(diff.find("changed: " + (dir.path() / "etc-ufw" / "ufw.conf").string()),
            std::string::npos)
      << diff;
  EXPECT_NE(diff.find("added: " + (dir.path() / "etc-ufw/applications.d/mailwarden").string()),
            std::string::npos)
      << diff;
  EXPECT_NE(diff.find("removed: " + (dir.path() / "etc-ufw" / "user.rules").string()),
            std::string::npos)
      << diff;
  EXPECT_NE(diff.find("changed: " + (dir.path() / "no-such-lock").string()), std::string::npos)
      << diff;
}

}  // namespace
}  // namespace mw
