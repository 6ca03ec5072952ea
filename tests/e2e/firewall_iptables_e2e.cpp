// The generated iptables and ip6tables firewalls, loaded in a network namespace with the real
// iptables-restore, do exactly what the policy says: both forms (the complete rules files and
// the owned chains beside a foreign fail2ban chain), IPv4 and IPv6 together.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "e2e/exposure_check.hpp"
#include "firewall/backends.hpp"
#include "firewall/iptables_backend.hpp"
#include "firewall/plan.hpp"
#include "harness/netns.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

using test::example_plan;
using test::kTestMtaUser;

// One iptables variant: the default `iptables` (whatever the alternatives point to) or an
// explicitly named one (iptables-legacy, iptables-nft).
struct Variant {
  std::string label;
  std::string v4;  // "iptables", "iptables-legacy"
  std::string v6;  // "ip6tables", "ip6tables-legacy"
  std::string env_v4() const { return "IPTABLES=" + v4; }
  std::string env_v6() const { return "IP6TABLES=" + v6; }
};

std::string version_of(const std::string& tool) {
  auto r = run_command({tool, "-V"});
  return r.ok() && r->success() ? r->out : "";
}

// The default variant first, then the other backend if it is installed too.
std::vector<Variant> variants() {
  std::vector<Variant> out;
  std::string v = version_of("iptables");
  if (v.empty()) return out;
  const bool nft = v.find("nf_tables") != std::string::npos;
  out.push_back({nft ? "iptables (nf_tables)" : "iptables (legacy)", "iptables", "ip6tables"});
  const std::string other = nft ? "legacy" : "nft";
  if (!version_of("iptables-" + other).empty() && !version_of("ip6tables-" + other).empty()) {
    out.push_back({"iptables-" + other, "iptables-" + other, "ip6tables-" + other});
  }
  return out;
}

const Variant& default_variant() {
  static const std::vector<Variant> vs = variants();
  return vs.front();
}

struct Rendered {
  std::vector<Artefact> v4, v6;
  const std::string& get(Family f, const std::string& name) const {
    for (const auto& a : f == Family::v4 ? v4 : v6) {
      if (a.filename == name) return a.content;
    }
    ADD_FAILURE() << name << " not generated";
    static const std::string none;
    return none;
  }
  const std::string& rules(Family f) const { return get(f, iptables_file_names(f).rules); }
  const std::string& owned(Family f) const { return get(f, iptables_file_names(f).owned); }
};

Rendered render_both(const FirewallPlan& plan) {
  Rendered r;
  auto v4 = render_iptables(plan);
  auto v6 = render_ip6tables(plan);
  EXPECT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_TRUE(v6.ok()) << v6.error().message;
  if (v4.ok()) r.v4 = *v4;
  if (v6.ok()) r.v6 = *v6;
  return r;
}

const std::string& tool(const Variant& v, Family f) {
  return f == Family::v4 ? v.v4 : v.v6;
}

// <tool>-restore [flags] < text in the server namespace; the Error carries its stderr.
Status restore(test::NetnsPair& ns, const std::string& restore_tool, std::vector<std::string> flags,
               const std::string& text, const std::string& what) {
  CommandOptions o;
  o.stdin_data = text;
  std::vector<std::string> argv = {restore_tool};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto r = ns.exec(ns.server(), argv, o);
  if (!r.ok()) return r.error();
  if (!r->success()) {
    return Error{fmt::format("{} refused {}:\n{}", command_line(argv), what, r->err)};
  }
  return {};
}

// --test first (the tool's own validation), then the real load: the complete form.
Status load_complete(test::NetnsPair& ns, const Variant& v, const Rendered& r) {
  for (Family f : {Family::v4, Family::v6}) {
    const std::string rt = tool(v, f) + "-restore";
    const std::string name = iptables_file_names(f).rules;
    if (auto st = restore(ns, rt, {"--test"}, r.rules(f), name); !st) return st;
    if (auto st = restore(ns, rt, {}, r.rules(f), name); !st) return st;
  }
  return {};
}

// The generated files in a private temporary directory, removed on destruction.
class ArtefactDir {
 public:
  explicit ArtefactDir(const Rendered& r) {
    char tmpl[] = "/tmp/mw-iptables-e2e-XXXXXX";
    if (char* d = mkdtemp(tmpl)) path_ = d;
    for (const auto* list : {&r.v4, &r.v6}) {
      for (const auto& a : *list) std::ofstream(path_ / a.filename) << a.content;
    }
  }
  ~ArtefactDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ArtefactDir(const ArtefactDir&) = delete;
  ArtefactDir& operator=(const ArtefactDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs the generated loader scripts (v4 and v6) in the server namespace.
Status run_loaders(test::NetnsPair& ns, const Variant& v, const ArtefactDir& dir) {
  for (Family f : {Family::v4, Family::v6}) {
    std::vector<std::string> argv = {"env", f == Family::v4 ? v.env_v4() : v.env_v6(), "sh",
                                     dir.file(iptables_file_names(f).loader)};
    auto r = ns.exec(ns.server(), argv);
    if (!r.ok()) return r.error();
    if (!r->success()) return Error{fmt::format("{} failed:\n{}", command_line(argv), r->err)};
  }
  return {};
}

Result<std::string> save(test::NetnsPair& ns, const Variant& v, Family f) {
  auto r = ns.exec(ns.server(), {tool(v, f) + "-save", "-t", "filter"});
  if (!r.ok()) return r.error();
  if (!r->success()) return Error{tool(v, f) + "-save failed: " + r->err};
  return r->out;
}

// iptables-save without its dated comments and counters: comparable between two loads.
std::string stable(const std::string& saved) {
  std::string out;
  std::size_t pos = 0;
  while (pos < saved.size()) {
    std::size_t end = saved.find('\n', pos);
    if (end == std::string::npos) end = saved.size();
    std::string l = saved.substr(pos, end - pos);
    pos = end + 1;
    if (l.empty() || l[0] == '#') continue;
    if (l[0] == ':') l = l.substr(0, l.rfind(" ["));
    out += l + '\n';
  }
  return out;
}

std::vector<std::string> save_lines(const std::string& saved) {
  std::vector<std::string> out;
  std::string s = stable(saved);
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find('\n', pos);
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

int count_line(const std::vector<std::string>& ls, const std::string& line) {
  return static_cast<int>(std::count(ls.begin(), ls.end(), line));
}

int index_of(const std::vector<std::string>& ls, const std::string& line) {
  auto it = std::find(ls.begin(), ls.end(), line);
  return it == ls.end() ? -1 : static_cast<int>(it - ls.begin());
}

const char* const kF2bJump = "-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd";
const char* const kOurJump = "-A INPUT -j MAILWARDEN-INPUT";
const char* const kOurOutputJump = "-A OUTPUT -j MAILWARDEN-OUTPUT";

std::string banned(Family f) {
  return f == Family::v4 ? "203.0.113.9" : "2001:db8:ffff::9";
}

// fail2ban's iptables actions, as they leave INPUT: a chain with a ban and a RETURN, jumped
// to from the head of INPUT for the jail's port. `banned_source` overrides the banned address.
Status add_f2b_chain(test::NetnsPair& ns, const Variant& v, Family f,
                     const std::string& banned_source = "") {
  const std::string& t = tool(v, f);
  const std::string src = banned_source.empty() ? banned(f) : banned_source;
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {t, "-w", "-N", "f2b-sshd"},
           {t, "-w", "-A", "f2b-sshd", "-s", src, "-j", "REJECT"},
           {t, "-w", "-A", "f2b-sshd", "-j", "RETURN"},
           {t, "-w", "-I", "INPUT", "-p", "tcp", "--dport", "22", "-j", "f2b-sshd"}}) {
    auto r = ns.exec(ns.server(), argv);
    if (!r.ok()) return r.error();
    if (!r->success()) return Error{command_line(argv) + ": " + r->err};
  }
  return {};
}

// The owned form beside fail2ban's chain, loaded twice: the second load must leave the
// filter table exactly as the first did.
Status load_owned_twice(test::NetnsPair& ns, const Variant& v, const Rendered& r,
                        const ArtefactDir& dir) {
  for (Family f : {Family::v4, Family::v6}) {
    const std::string name = iptables_file_names(f).owned;
    if (auto st = restore(ns, tool(v, f) + "-restore", {"--test", "--noflush"}, r.owned(f), name);
        !st) {
      return st;
    }
    if (auto st = add_f2b_chain(ns, v, f); !st) return st;
  }
  if (auto st = run_loaders(ns, v, dir); !st) return st;
  std::string first[2];
  for (Family f : {Family::v4, Family::v6}) {
    auto s = save(ns, v, f);
    if (!s) return s.error();
    first[f == Family::v4 ? 0 : 1] = stable(*s);
  }
  if (auto st = run_loaders(ns, v, dir); !st) return st;
  for (Family f : {Family::v4, Family::v6}) {
    auto s = save(ns, v, f);
    if (!s) return s.error();
    if (stable(*s) != first[f == Family::v4 ? 0 : 1]) {
      return Error{
          fmt::format("{}: the second load changed the filter table:\n--- first\n{}\n"
                      "--- second\n{}",
                      family_name(f), first[f == Family::v4 ? 0 : 1], stable(*s))};
    }
  }
  return {};
}

// After the owned form: the foreign chain kept its rules and its jump (still before ours),
// exactly one jump to each of our chains, and the INPUT policy the test left (ACCEPT).
void expect_owned_beside_f2b(test::NetnsPair& ns, const Variant& v, const FirewallPlan& plan) {
  for (Family f : {Family::v4, Family::v6}) {
    SCOPED_TRACE(family_name(f));
    auto s = save(ns, v, f);
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto ls = save_lines(*s);
    const std::string ban = fmt::format(
        "-A f2b-sshd -s {}/{} -j REJECT --reject-with {}", banned(f), f == Family::v4 ? 32 : 128,
        f == Family::v4 ? "icmp-port-unreachable" : "icmp6-port-unreachable");
    EXPECT_EQ(count_line(ls, ban), 1) << *s;
    EXPECT_EQ(count_line(ls, "-A f2b-sshd -j RETURN"), 1) << *s;
    EXPECT_EQ(count_line(ls, kF2bJump), 1) << *s;
    EXPECT_EQ(count_line(ls, kOurJump), 1) << *s;
    EXPECT_EQ(count_line(ls, kOurOutputJump), plan.egress_smtp_restricted ? 1 : 0) << *s;
    EXPECT_LT(index_of(ls, kF2bJump), index_of(ls, kOurJump)) << "bans must come first:\n" << *s;
    EXPECT_EQ(count_line(ls, ":INPUT ACCEPT"), 1) << *s;
    EXPECT_EQ(count_line(ls, "-A MAILWARDEN-INPUT -j DROP"), 1) << *s;
  }
}

class IptablesE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    if (variants().empty()) GTEST_SKIP() << "iptables is not installed";
  }

  static void expect_complete_form(const test::PlanUnderTest& p, const Variant& v) {
    SCOPED_TRACE(v.label + ", complete rules files");
    Rendered r = render_both(p.plan);
    test::expect_kernel_matches_plan(p,
                                     [&](test::NetnsPair& ns) { return load_complete(ns, v, r); });
  }

  static void expect_owned_form(const test::PlanUnderTest& p, const Variant& v) {
    SCOPED_TRACE(v.label + ", owned chains beside fail2ban's");
    Rendered r = render_both(p.plan);
    ArtefactDir dir(r);
    test::expect_kernel_matches_plan(
        p, [&](test::NetnsPair& ns) { return load_owned_twice(ns, v, r, dir); },
        [&](test::NetnsPair& ns) { expect_owned_beside_f2b(ns, v, p.plan); });
  }

  static void expect_both_forms(const test::PlanUnderTest& p) {
    expect_complete_form(p, default_variant());
    expect_owned_form(p, default_variant());
  }
};

// Every artefact of every Linux example passes `iptables-restore --test` (the owned form with
// --noflush, as it is loaded), with every installed variant; the loaders parse as sh.
TEST_F(IptablesE2E, RestoreTestAcceptsEveryArtefactOfEveryExample) {
  auto pair = test::NetnsPair::create({});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;
  struct Case {
    const char* example;
    const char* node;
  };
  const Case cases[] = {{"zimbra-single.toml", ""},
                        {"zimbra-multi.toml", "mta1.example.com"},
                        {"zimbra-multi.toml", "proxy1.example.com"},
                        {"zimbra-multi.toml", "mbox1.example.com"},
                        {"zimbra-multi.toml", "ldap1.example.com"},
                        {"postfix-dovecot.toml", ""}};
  int checked = 0;
  for (const auto& c : cases) {
    Rendered r = render_both(example_plan(c.example, c.node).plan);
    for (const auto& v : variants()) {
      for (Family f : {Family::v4, Family::v6}) {
        SCOPED_TRACE(fmt::format("{} {} {} {}", c.example, c.node, v.label, family_name(f)));
        const std::string rt = tool(v, f) + "-restore";
        auto names = iptables_file_names(f);
        auto st = restore(ns, rt, {"--test"}, r.rules(f), names.rules);
        EXPECT_TRUE(st.ok()) << st.error().message;
        st = restore(ns, rt, {"--test", "--noflush"}, r.owned(f), names.owned);
        EXPECT_TRUE(st.ok()) << st.error().message;
        CommandOptions o;
        o.stdin_data = r.get(f, names.loader);
        auto sh = ns.exec(ns.server(), {"sh", "-n"}, o);
        ASSERT_TRUE(sh.ok());
        EXPECT_TRUE(sh->success()) << names.loader << ": " << sh->err;
        checked += 3;
      }
    }
  }
  EXPECT_GE(checked, 6 * 2 * 3);
  // --test only parses: nothing was loaded.
  auto s = save(ns, default_variant(), Family::v4);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->find("MAILWARDEN"), std::string::npos) << *s;
}

// The check above can fail: --test refuses what the kernel modules would not take.
TEST_F(IptablesE2E, RestoreTestRefusesBrokenRules) {
  auto pair = test::NetnsPair::create({});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;
  Rendered r = render_both(example_plan("zimbra-single.toml").plan);
  std::string v6 = r.rules(Family::v6);
  // An ICMPv4 type name in the IPv6 file.
  v6.replace(v6.find("--icmpv6-type packet-too-big"), 28, "--icmp-type fragmentation-needed");
  for (const auto& v : variants()) {
    SCOPED_TRACE(v.label);
    EXPECT_FALSE(restore(ns, v.v6 + "-restore", {"--test"}, v6, "rules.v6").ok());
    std::string v4 = r.rules(Family::v4);
    v4.replace(v4.find("--limit-burst 10"), 16, "--limit-burst x");
    EXPECT_FALSE(restore(ns, v.v4 + "-restore", {"--test"}, v4, "rules.v4").ok());
  }
}

TEST_F(IptablesE2E, ZimbraSingleServer) {
  auto p = example_plan("zimbra-single.toml");
  // The example's choices, so that the kernel check covers each kind of port.
  ASSERT_TRUE(p.plan.allowed_sources(Protocol::tcp, 25).contains(*parse_address("203.0.113.200")));
  ASSERT_FALSE(p.plan.allowed_sources(Protocol::tcp, 9071).empty());
  ASSERT_TRUE(p.plan.allowed_sources(Protocol::tcp, 389).empty());
  ASSERT_TRUE(p.plan.allowed_sources(Protocol::udp, 11211).empty());
  expect_both_forms(p);
}

TEST_F(IptablesE2E, ZimbraMultiServerNodes) {
  for (const char* node :
       {"mta1.example.com", "proxy1.example.com", "mbox1.example.com", "ldap1.example.com"}) {
    SCOPED_TRACE(node);
    auto p = example_plan("zimbra-multi.toml", node);
    ASSERT_FALSE(p.plan.cluster.empty(Family::v4));
    ASSERT_FALSE(p.plan.cluster.empty(Family::v6));
    expect_both_forms(p);
  }
}

TEST_F(IptablesE2E, PostfixDovecot) {
  expect_both_forms(example_plan("postfix-dovecot.toml"));
}

// The other installed variant (legacy x_tables when the default is nf_tables), both forms.
TEST_F(IptablesE2E, OtherVariantBothForms) {
  if (variants().size() < 2) GTEST_SKIP() << "only " << default_variant().label << " installed";
  auto p = example_plan("zimbra-single.toml");
  expect_complete_form(p, variants()[1]);
  expect_owned_form(p, variants()[1]);
}

// The loader keeps one jump whatever it finds: none, one (left in place even when fail2ban
// inserted its own ahead since), or duplicates left by hand.
TEST_F(IptablesE2E, LoaderKeepsExactlyOneJump) {
  auto plan = example_plan("zimbra-single.toml").plan;
  Rendered r = render_both(plan);
  ArtefactDir dir(r);
  for (const auto& v : variants()) {
    SCOPED_TRACE(v.label);
    auto pair = test::NetnsPair::create({});
    ASSERT_TRUE(pair.ok()) << pair.error().message;
    auto& ns = **pair;
    ASSERT_TRUE(run_loaders(ns, v, dir).ok());
    // fail2ban (re)starts and inserts its jump at the head; someone duplicates ours.
    ASSERT_TRUE(add_f2b_chain(ns, v, Family::v4).ok());
    for (int i = 0; i < 2; ++i) {
      auto dup = ns.exec(ns.server(), {v.v4, "-w", "-A", "INPUT", "-j", "MAILWARDEN-INPUT"});
      ASSERT_TRUE(dup.ok() && dup->success());
    }
    auto run = run_loaders(ns, v, dir);
    ASSERT_TRUE(run.ok()) << run.error().message;
    auto s = save(ns, v, Family::v4);
    ASSERT_TRUE(s.ok());
    auto ls = save_lines(*s);
    EXPECT_EQ(count_line(ls, kOurJump), 1) << *s;
    EXPECT_EQ(count_line(ls, kOurOutputJump), 1) << *s;
    EXPECT_EQ(count_line(ls, kF2bJump), 1) << *s;
    EXPECT_LT(index_of(ls, kF2bJump), index_of(ls, kOurJump)) << *s;
    EXPECT_EQ(ls.back(), "COMMIT");
  }
}

// A ban ahead of our chain works: fail2ban's chain rejects an admin address on tcp/22 while
// another admin address still gets in and the banned one still reaches the admin console.
TEST_F(IptablesE2E, OwnedChainsLeaveBansInForce) {
  auto plan = example_plan("zimbra-single.toml").plan;
  Rendered r = render_both(plan);
  ArtefactDir dir(r);
  test::NetnsOptions opts;
  opts.client_addresses.push_back(test::interface_address("198.51.100.1/32"));
  opts.client_addresses.push_back(test::interface_address("198.51.100.2/32"));
  auto pair = test::NetnsPair::create(opts);
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  auto& ns = **pair;
  ASSERT_TRUE(add_f2b_chain(ns, default_variant(), Family::v4, "198.51.100.1").ok());
  auto loaded = run_loaders(ns, default_variant(), dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto listeners =
      test::Listeners::start(ns.server(), {{Protocol::tcp, 22}, {Protocol::tcp, 9071}});
  ASSERT_TRUE(listeners.ok()) << listeners.error().message;
  Address server = *parse_address("192.0.2.1");
  Address bannedv4 = *parse_address("198.51.100.1");
  Address other = *parse_address("198.51.100.2");
  std::vector<test::Probe> probes = {{bannedv4, server, Protocol::tcp, 22},
                                     {other, server, Protocol::tcp, 22},
                                     {bannedv4, server, Protocol::tcp, 9071}};
  auto got = test::probe_all(ns.client(), probes, std::chrono::milliseconds(2500));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(test::probe_outcome_name(got[0]), "rejected");
  EXPECT_EQ(test::probe_outcome_name(got[1]), "open");
  EXPECT_EQ(test::probe_outcome_name(got[2]), "open");
}

// Outbound SMTP is refused to every user but the MTA's, over IPv4 and IPv6, in both forms.
TEST_F(IptablesE2E, EgressSmtpOnlyFromTheMtaUser) {
  auto plan = example_plan("zimbra-single.toml").plan;
  ASSERT_TRUE(plan.egress_smtp_restricted);
  Rendered r = render_both(plan);
  ArtefactDir dir(r);
  for (const char* form : {"complete", "owned"}) {
    SCOPED_TRACE(form);
    auto pair = test::NetnsPair::create({});
    ASSERT_TRUE(pair.ok()) << pair.error().message;
    auto& ns = **pair;
    auto loaded = std::string(form) == "complete" ? load_complete(ns, default_variant(), r)
                                                  : run_loaders(ns, default_variant(), dir);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    auto listeners =
        test::Listeners::start(ns.client(), {{Protocol::tcp, 25}, {Protocol::tcp, 587}});
    ASSERT_TRUE(listeners.ok()) << listeners.error().message;
    for (const char* client : {"192.0.2.2", "2001:db8::2"}) {
      SCOPED_TRACE(client);
      auto connect = [&](const char* user, int port) {
        std::string dev = fmt::format("exec 3<>/dev/tcp/{}/{}", client, port);
        if (!user) return ns.exec(ns.server(), {"bash", "-c", dev});
        return ns.exec(ns.server(), {"setpriv", fmt::format("--reuid={}", user), "--regid=nogroup",
                                     "--clear-groups", "bash", "-c", dev});
      };
      auto as_root = connect(nullptr, 25);
      ASSERT_TRUE(as_root.ok());
      EXPECT_FALSE(as_root->success()) << "root reached tcp/25 outbound";
      EXPECT_NE(as_root->err.find("refused"), std::string::npos)
          << "expected a TCP reset: " << as_root->err;
      auto as_mta = connect(kTestMtaUser, 25);
      ASSERT_TRUE(as_mta.ok());
      EXPECT_TRUE(as_mta->success()) << "the MTA user could not send: " << as_mta->err;
      auto submission = connect(nullptr, 587);
      ASSERT_TRUE(submission.ok());
      EXPECT_TRUE(submission->success()) << "only tcp/25 is restricted: " << submission->err;
    }
  }
}

}  // namespace
}  // namespace mw
