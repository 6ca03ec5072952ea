// The ban engine against the real kernel, with each backend (nft; iptables + ipset) in a server
// namespace, probes from a client namespace on 25/587/993: IPv4 and IPv6, expiry, the
// allow-list, neighbour discovery through an IPv6 ban, and a policy reload. The sets and chains
// live in the namespaces, which the harness deletes.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "ban/ban.hpp"
#include "core/subprocess.hpp"
#include "harness/netns.hpp"
#include "mail_netns.hpp"

namespace mw::ban {
namespace {

using namespace std::chrono_literals;
using test::ProbeOutcome;

Prefix pfx(const char* t) {
  return *parse_prefix(t);
}

class BanE2E : public testing::TestWithParam<BackendChoice> {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    if (GetParam() == BackendChoice::iptables) {
      for (const char* tool : {"ipset", "iptables", "ip6tables", "iptables-restore"}) {
        auto found = run_command({"sh", "-c", std::string("command -v ") + tool});
        if (!found || !found->success()) GTEST_SKIP() << tool << " is not installed";
      }
    }
    auto net = e2e::MailNetns::create();
    ASSERT_TRUE(net.ok()) << net.error().message;
    net_ = std::move(*net);
    runner_ = std::make_unique<PrefixedRunner>(
        std::vector<std::string>{"ip", "netns", "exec", net_->pair().server()});
    // A parameterised test's name has a '/' ("Case/nft"): one directory level, not two, so
    // that TearDown removes all of it.
    std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    state_dir_ = std::filesystem::temp_directory_path() /
                 ("mw-ban-e2e-" + std::to_string(::getpid()) + "-" + name);
    AllowSources s;
    s.postconf = "";  // never the host's Postfix
    s.mynetworks = std::vector<std::string>{};
    s.extra = {"198.51.100.77/32"};
    auto al = build_allow_list(s, *runner_);
    ASSERT_TRUE(al.ok()) << al.error().message;
    allow_ = std::move(*al);
    if (GetParam() == BackendChoice::iptables) {
      // ipset needs its kernel module inside the namespace; say so rather than fail obscurely.
      auto probe =
          net_->pair().exec(net_->pair().server(), {"ipset", "create", "mw-e2e-probe", "hash:net"});
      if (!probe || !probe->success())
        GTEST_SKIP() << "ipset unusable in a namespace: " << (probe ? probe->err : "");
      ASSERT_TRUE(
          net_->pair().exec_ok(net_->pair().server(), {"ipset", "destroy", "mw-e2e-probe"}).ok());
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_, ec);
  }

  BanEngine engine() {
    EngineOptions o;
    o.state_dir = state_dir_;
    o.backend = GetParam();
    return BanEngine(o, *runner_, clock_);
  }
  bool nft() const { return GetParam() == BackendChoice::nft; }

  std::unique_ptr<e2e::MailNetns> net_;
  std::unique_ptr<PrefixedRunner> runner_;
  std::filesystem::path state_dir_;
  AllowList allow_;
  SystemClock clock_;
};

TEST_P(BanE2E, BanCutsTheAttackerOnlyAndTheAdminIsRefused) {
  ASSERT_TRUE(net_->all("198.51.100.10", ProbeOutcome::open));
  auto e = engine();
  auto r =
      e.add({pfx("198.51.100.10"), std::nullopt, "brute force", "bob@example.com", false}, allow_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->outcome, Outcome::banned);
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("203.0.113.10", ProbeOutcome::open));

  auto admin = e.add({pfx("198.51.100.0/24"), std::nullopt, "x", "", false}, allow_);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_EQ(admin->outcome, Outcome::refused) << admin->message;
  auto own = e.add({pfx("192.0.2.1"), std::nullopt, "x", "", false}, allow_);  // the server itself
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->outcome, Outcome::refused);
  EXPECT_TRUE(net_->all("198.51.100.77", ProbeOutcome::open));

  auto listed = e.list();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kernel.comment, "brute force; bob@example.com; offence 1");
  ASSERT_TRUE((*listed)[0].record.has_value());
  EXPECT_EQ((*listed)[0].record->account, "bob@example.com");

  ASSERT_TRUE(e.del(pfx("198.51.100.10")).ok());
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::open));
}

TEST_P(BanE2E, BanExpiresByItself) {
  auto e = engine();
  auto r = e.add({pfx("203.0.113.10"), Seconds(2), "test", "", false}, allow_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(net_->all("203.0.113.10", ProbeOutcome::dropped));
  bool reopened = false;
  for (int i = 0; i < 10 && !reopened; ++i) {
    std::this_thread::sleep_for(1s);
    reopened = net_->all("203.0.113.10", ProbeOutcome::open);
  }
  EXPECT_TRUE(reopened) << "the 2 s ban was still active after 10 s";
}

TEST_P(BanE2E, Ipv6BanCoversTheSlash64) {
  ASSERT_TRUE(net_->all("2001:db8::2", ProbeOutcome::open));
  auto e = engine();
  auto r = e.add({pfx("2001:db8:bad:1::10"), std::nullopt, "spray", "", false}, allow_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->prefix, pfx("2001:db8:bad:1::/64"));
  EXPECT_TRUE(net_->all("2001:db8::2", ProbeOutcome::open));
  EXPECT_TRUE(net_->all("2001:db8:bad:1::10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("2001:db8:bad:1::99", ProbeOutcome::dropped));
}

TEST_P(BanE2E, Ipv6BanLetsNeighbourDiscoveryThrough) {
  auto e = engine();
  auto r = e.add({pfx("2001:db8:bad:1::10"), std::nullopt, "spray", "", false}, allow_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The client forgets the server's link-layer address; its next solicitation carries the
  // source of the packet that triggered it, a banned one (Linux ndisc_solicit).
  ASSERT_TRUE(
      net_->pair().exec_ok(net_->pair().client(), {"ip", "-6", "neigh", "flush", "all"}).ok());
  EXPECT_TRUE(net_->all("2001:db8:bad:1::10", ProbeOutcome::dropped));
  std::string neigh;
  ASSERT_TRUE(net_->pair()
                  .exec_ok(net_->pair().client(),
                           {"ip", "-6", "neigh", "show", "2001:db8::1", "dev",
                            std::string(test::NetnsPair::client_interface())},
                           "", &neigh)
                  .ok());
  // The server answered the banned source's solicitation: the link still works.
  EXPECT_NE(neigh.find("lladdr"), std::string::npos) << neigh;
  EXPECT_TRUE(net_->all("2001:db8::2", ProbeOutcome::open));
}

TEST_P(BanE2E, ReplacingThePolicyTableKeepsTheBans) {
  if (!nft()) GTEST_SKIP() << "nft only: the iptables case is PolicyRuleAboveTheJump";
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("198.51.100.10"), std::nullopt, "x", "", false}, allow_).ok());
  // What `firewall apply` does: table inet mailwarden replaced whole in one transaction.
  ASSERT_TRUE(net_->pair().load_nft(e2e::kPolicyReplacement).ok());
  ASSERT_TRUE(
      net_->pair().load_nft(e2e::kPolicyReplacement).ok());  // and again, replacing the first
  auto listed = e.list();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kernel.prefix, pfx("198.51.100.10/32"));
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("203.0.113.10", ProbeOutcome::open));
}

TEST_P(BanE2E, FlushEmptiesTheSetsOnly) {
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("198.51.100.10"), std::nullopt, "x", "", false}, allow_).ok());
  ASSERT_TRUE(e.add({pfx("2001:db8:bad:1::10"), std::nullopt, "x", "", false}, allow_).ok());
  ASSERT_TRUE(e.flush().ok());
  auto listed = e.list();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::open));
  // Ensuring twice leaves one pair of rules (idempotent).
  ASSERT_TRUE(e.add({pfx("198.51.100.10"), std::nullopt, "x", "", false}, allow_).ok());
  std::string out;
  if (nft()) {
    ASSERT_TRUE(net_->pair()
                    .exec_ok(net_->pair().server(),
                             {"nft", "list", "chain", "inet", "mailwarden_ban", "input"}, "", &out)
                    .ok());
    EXPECT_EQ(out.find("@ban4"), out.rfind("@ban4")) << out;
  } else {
    for (const char* tool : {"iptables", "ip6tables"}) {
      ASSERT_TRUE(net_->pair().exec_ok(net_->pair().server(), {tool, "-w", "-S"}, "", &out).ok());
      EXPECT_EQ(out.find("-A INPUT -j MAILWARDEN-BAN"), out.rfind("-A INPUT -j MAILWARDEN-BAN"))
          << out;
      EXPECT_EQ(out.find("--match-set"), out.rfind("--match-set")) << out;
    }
  }
}

// What a site firewall loaded after the ban chain looks like with iptables: an ACCEPT for the
// mail ports inserted above the jump. The next ban puts the jump back in front of it.
TEST_P(BanE2E, PolicyRuleAboveTheJump) {
  if (nft()) GTEST_SKIP() << "iptables only: nft orders base chains by priority";
  auto e = engine();
  ASSERT_TRUE(e.add({pfx("198.51.100.10"), std::nullopt, "x", "", false}, allow_).ok());
  ASSERT_TRUE(
      net_->pair()
          .exec_ok(net_->pair().server(), {"iptables", "-w", "-I", "INPUT", "1", "-p", "tcp", "-m",
                                           "multiport", "--dports", "25,587,993", "-j", "ACCEPT"})
          .ok());
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::open));  // the policy wins: why it matters
  ASSERT_TRUE(e.add({pfx("203.0.113.10"), std::nullopt, "x", "", false}, allow_).ok());
  EXPECT_TRUE(net_->all("198.51.100.10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("203.0.113.10", ProbeOutcome::dropped));
  EXPECT_TRUE(net_->all("198.51.100.77", ProbeOutcome::open));
  std::string out;
  ASSERT_TRUE(net_->pair()
                  .exec_ok(net_->pair().server(), {"iptables", "-w", "-S", "INPUT"}, "", &out)
                  .ok());
  EXPECT_EQ(out.find("-A INPUT"), out.find("-A INPUT -j MAILWARDEN-BAN")) << out;
}

INSTANTIATE_TEST_SUITE_P(Backends, BanE2E,
                         testing::Values(BackendChoice::nft, BackendChoice::iptables),
                         [](const testing::TestParamInfo<BackendChoice>& i) {
                           return std::string(backend_choice_name(i.param));
                         });

}  // namespace
}  // namespace mw::ban
