// The scanner against the real kernel: a server namespace with listeners and nftables rulesets,
// scanned from the client namespace; what each kind of REJECT looks like from a connect(); and
// `firewall analyze --verify` agreeing with, then catching, a loaded ruleset.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"
#include "harness/netns.hpp"
#include "scan/scanner.hpp"
#include "scan/udp_probes.hpp"

namespace mw {
namespace {

using scan::PortState;

class ScanE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::e2e_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
    auto p = test::NetnsPair::create();
    ASSERT_TRUE(p.ok()) << p.error().message;
    pair_ = std::move(*p);
  }

  // Scans from inside the client namespace, in this process.
  scan::ScanReport scan_from_client(const std::string& ports, int timeout_ms = 300,
                                    int retries = 1) {
    scan::ScanOptions o;
    auto parsed = fw::parse_port_queries(ports, nullptr);
    EXPECT_TRUE(parsed.ok());
    o.ports = *parsed;
    o.timeout = std::chrono::milliseconds(timeout_ms);
    o.retries = retries;
    std::vector<Address> targets = {pair_->server_address(Family::v4),
                                    pair_->server_address(Family::v6)};
    scan::ScanReport out;
    Status s = test::run_in_netns(pair_->client(), [&]() -> Status {
      auto r = scan::scan_host("server", targets, o);
      if (!r) return r.error();
      out = std::move(*r);
      return {};
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return out;
  }

  static const scan::Observation& at(const scan::ScanReport& r, std::uint16_t port, Family f,
                                     Protocol proto = Protocol::tcp) {
    for (const auto& po : r.ports) {
      if (po.port.port == port && po.port.protocol == proto) {
        return *(f == Family::v4 ? po.v4 : po.v6);
      }
    }
    ADD_FAILURE() << "port " << port << " not in the report";
    static scan::Observation none;
    return none;
  }

  std::unique_ptr<test::NetnsPair> pair_;
};

// IPv6 needs neighbour discovery through a default-drop input chain.
constexpr const char* kDropHead =
    "table inet t {\n"
    "  chain input {\n"
    "    type filter hook input priority 0; policy drop;\n"
    "    ct state established,related accept\n"
    "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n";

TEST_F(ScanE2E, AcceptAllOpenAndClosedExactly) {
  auto l = test::Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::tcp, 443}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  auto r = scan_from_client("25,443,993,7071");
  for (Family f : {Family::v4, Family::v6}) {
    SCOPED_TRACE(std::string(family_name(f)));
    EXPECT_EQ(at(r, 25, f).state, PortState::open);
    EXPECT_EQ(at(r, 443, f).state, PortState::open);
    EXPECT_EQ(at(r, 993, f).state, PortState::closed);
    EXPECT_EQ(at(r, 993, f).error, ECONNREFUSED);
    EXPECT_EQ(at(r, 7071, f).state, PortState::closed);
    EXPECT_EQ(at(r, 25, f).attempts, 1);
    EXPECT_TRUE(at(r, 25, f).rtt.has_value());
  }
}

TEST_F(ScanE2E, DefaultDropFilteredVersusOpen) {
  auto l = test::Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::tcp, 7071}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_TRUE(pair_->load_nft(std::string(kDropHead) + "    tcp dport 25 accept\n  }\n}\n").ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = scan_from_client("25,7071,993", 300, 1);
  const auto took = std::chrono::steady_clock::now() - t0;
  for (Family f : {Family::v4, Family::v6}) {
    SCOPED_TRACE(std::string(family_name(f)));
    EXPECT_EQ(at(r, 25, f).state, PortState::open);
    EXPECT_EQ(at(r, 7071, f).state, PortState::filtered);  // listening, but dropped
    EXPECT_EQ(at(r, 7071, f).attempts, 2);                 // one retry
    EXPECT_EQ(at(r, 993, f).state, PortState::filtered);
  }
  // Every port in flight at once: two timeouts, not six.
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

// What connect() says for each kind of REJECT: measured here, not assumed.
TEST_F(ScanE2E, RejectVariantsAsTheKernelReportsThem) {
  ASSERT_TRUE(pair_
                  ->load_nft(std::string(kDropHead) +
                             "    tcp dport 7071 reject with tcp reset\n"
                             "    meta nfproto ipv4 tcp dport 7072 reject with icmp type "
                             "admin-prohibited\n"
                             "    meta nfproto ipv6 tcp dport 7072 reject with icmpv6 type "
                             "admin-prohibited\n"
                             "    tcp dport 7073 reject with icmpx type port-unreachable\n"
                             "    tcp dport 7074 reject with icmpx type host-unreachable\n"
                             "    tcp dport 7075 reject with icmpx type admin-prohibited\n"
                             "    tcp dport 7076 reject\n"
                             "  }\n}\n")
                  .ok());
  auto r = scan_from_client("7071-7076");
  for (Family f : {Family::v4, Family::v6}) {
    for (std::uint16_t p = 7071; p <= 7076; ++p) {
      const auto& o = at(r, p, f);
      std::cout << fmt::format("{} {}/tcp: {} ({}), errno {} {}\n", family_name(f), p,
                               scan::port_state_name(o.state), o.detail, o.error,
                               std::strerror(o.error));
    }
  }
  for (Family f : {Family::v4, Family::v6}) {
    SCOPED_TRACE(std::string(family_name(f)));
    EXPECT_EQ(at(r, 7071, f).state, PortState::closed);  // tcp reset
    EXPECT_EQ(at(r, 7071, f).error, ECONNREFUSED);
    EXPECT_EQ(at(r, 7071, f).detail, "RST");
    // ICMP port unreachable: the same ECONNREFUSED as a RST (so nmap -sT says closed too); the
    // socket's error queue tells them apart.
    EXPECT_EQ(at(r, 7073, f).state, PortState::closed);
    EXPECT_EQ(at(r, 7073, f).error, ECONNREFUSED);
    EXPECT_EQ(at(r, 7073, f).detail, "ICMP port unreachable");
    EXPECT_EQ(at(r, 7076, f).state, PortState::closed);  // plain reject: port unreachable
    EXPECT_EQ(at(r, 7072, f).state, PortState::filtered);
    EXPECT_EQ(at(r, 7074, f).state, PortState::filtered);
    EXPECT_EQ(at(r, 7074, f).error, EHOSTUNREACH);
    EXPECT_EQ(at(r, 7075, f).state, PortState::filtered);
    for (std::uint16_t p : {7072, 7074, 7075}) {
      EXPECT_EQ(at(r, p, f).attempts, 1) << p << ": an ICMP answer is not retried";
    }
  }
  // admin-prohibited: EHOSTUNREACH over IPv4 (ICMP type 3 code 13), EACCES over IPv6.
  EXPECT_EQ(at(r, 7072, Family::v4).error, EHOSTUNREACH);
  EXPECT_EQ(at(r, 7072, Family::v6).error, EACCES);
  EXPECT_EQ(at(r, 7075, Family::v4).error, EHOSTUNREACH);
  EXPECT_EQ(at(r, 7075, Family::v6).error, EACCES);
}

// A tiny memcached over UDP in the server namespace: answers `stats` frames as memcached does.
class MemcachedUdp {
 public:
  explicit MemcachedUdp(const std::string& netns) {
    if (::pipe(stop_) != 0) return;
    std::promise<bool> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, netns, &ready] {
      Status s = test::run_in_netns(netns, [&]() -> Status {
        UniqueFd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        int zero = 0;
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(11211);
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          ready.set_value(false);
          return Error{std::string("bind 11211/udp: ") + std::strerror(errno)};
        }
        ready.set_value(true);
        for (;;) {
          pollfd p[2] = {{fd.get(), POLLIN, 0}, {stop_[0], POLLIN, 0}};
          if (::poll(p, 2, 5000) <= 0 || p[1].revents) return {};
          std::uint8_t buf[1500];
          sockaddr_storage from{};
          socklen_t flen = sizeof from;
          ssize_t n =
              ::recvfrom(fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
          if (n < 8) continue;
          std::string reply(reinterpret_cast<char*>(buf), 2);  // the request id
          reply += std::string("\0\0\0\1\0\0", 6);
          reply += "STAT pid 4242\r\nSTAT uptime 17\r\nEND\r\n";
          ::sendto(fd.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                   flen);
          ++answered;
        }
      });
      if (!s) {
        try {
          ready.set_value(false);  // could not enter the namespace
        } catch (const std::future_error&) {
        }
      }
    });
    ok_ = started.get();
  }
  ~MemcachedUdp() {
    if (stop_[1] >= 0) (void)!::write(stop_[1], "x", 1);
    if (thread_.joinable()) thread_.join();
    for (int fd : stop_) {
      if (fd >= 0) ::close(fd);
    }
  }
  bool ok() const { return ok_; }
  std::atomic<int> answered{0};

 private:
  int stop_[2] = {-1, -1};
  std::thread thread_;
  bool ok_ = false;
};

TEST_F(ScanE2E, MemcachedUdpAnswerProvesOpenSilenceNeverClosed) {
  {
    MemcachedUdp memcached(pair_->server());
    ASSERT_TRUE(memcached.ok());
    auto r = scan_from_client("11211/udp,161/udp,514/udp");
    for (Family f : {Family::v4, Family::v6}) {
      SCOPED_TRACE(std::string(family_name(f)));
      EXPECT_EQ(at(r, 11211, f, Protocol::udp).state, PortState::open);
      EXPECT_EQ(at(r, 11211, f, Protocol::udp).detail, "memcached answered");
      // Nobody on 161: the kernel's ICMP port unreachable proves it closed.
      EXPECT_EQ(at(r, 161, f, Protocol::udp).state, PortState::closed);
      EXPECT_EQ(at(r, 514, f, Protocol::udp).state, PortState::not_checkable);
      EXPECT_EQ(at(r, 514, f, Protocol::udp).attempts, 0);  // nothing sent
    }
    EXPECT_GE(memcached.answered.load(), 2);
  }
  // Dropped: silence is "not checkable" (open|filtered), never closed.
  ASSERT_TRUE(pair_->load_nft(std::string(kDropHead) + "  }\n}\n").ok());
  MemcachedUdp memcached(pair_->server());
  ASSERT_TRUE(memcached.ok());
  auto r = scan_from_client("11211/udp,161/udp", 200, 1);
  for (Family f : {Family::v4, Family::v6}) {
    SCOPED_TRACE(std::string(family_name(f)));
    EXPECT_EQ(at(r, 11211, f, Protocol::udp).state, PortState::not_checkable);
    EXPECT_EQ(at(r, 11211, f, Protocol::udp).attempts, 2);
    EXPECT_EQ(at(r, 161, f, Protocol::udp).state, PortState::not_checkable);
  }
  EXPECT_EQ(memcached.answered.load(), 0);
}

// `firewall analyze DUMP --verify HOST` run by the mailwarden binary from the client namespace.
class VerifyE2E : public ScanE2E {
 protected:
  std::string dump(const std::string& ruleset) {
    EXPECT_TRUE(pair_->load_nft(ruleset).ok());
    auto out = pair_->exec(pair_->server(), {"nft", "-j", "list", "ruleset"});
    EXPECT_TRUE(out.ok() && out->success());
    const std::string path =
        fmt::format("{}/mw-scan-e2e-{}-{}.json", std::filesystem::temp_directory_path().string(),
                    ::getpid(), counter_++);
    std::ofstream(path) << out->out;
    files_.push_back(path);
    return path;
  }
  ~VerifyE2E() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }
  CommandOutput verify(const std::string& file, const std::string& host) {
    CommandOptions o;
    o.timeout = std::chrono::milliseconds(20000);
    auto r = pair_->exec(pair_->client(),
                         {"env", "MAILWARDEN_CATALOG=" MW_SOURCE_DIR "/catalog", MW_BINARY,
                          "firewall", "analyze", file, "--verify", host, "--ports",
                          "25,993,7071,7072", "--timeout", "300ms", "--retries", "1"},
                         o);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandOutput{};
  }
  int counter_ = 0;
  std::vector<std::string> files_;
};

TEST_F(VerifyE2E, AgreesThenNamesTheMismatchingPort) {
  auto l = test::Listeners::start(pair_->server(), {{Protocol::tcp, 25}, {Protocol::tcp, 7071}});
  ASSERT_TRUE(l.ok()) << l.error().message;
  const std::string ruleset = std::string(kDropHead) +
                              "    tcp dport 25 accept\n"
                              "    tcp dport 993 accept\n"  // nothing listening: closed, agrees
                              "    tcp dport 7072 reject with tcp reset\n"
                              "  }\n}\n";
  const std::string file = dump(ruleset);
  for (const char* host : {"192.0.2.1", "2001:db8::1"}) {
    SCOPED_TRACE(host);
    auto out = verify(file, host);
    EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
    EXPECT_NE(out.out.find("4 checked: 4 agree, 0 mismatch"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("nothing listening (RST)"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("rejected (RST)"), std::string::npos) << out.out;
  }
  // The kernel now also accepts 7071; the file given to analyze does not know it.
  ASSERT_TRUE(pair_
                  ->load_nft("flush ruleset\n" + std::string(kDropHead) +
                             "    tcp dport { 25, 993, 7071 } accept\n"
                             "    tcp dport 7072 drop\n  }\n}\n")
                  .ok());
  auto out = verify(file, "192.0.2.1");
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  bool named = false;
  std::istringstream lines(out.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("7071/tcp", 0) == 0) {
      named = true;
      EXPECT_NE(line.find("MISMATCH"), std::string::npos) << line;
    }
    if (line.rfind("7072/tcp", 0) == 0) {
      // Predicted a tcp reset, now silently dropped.
      EXPECT_NE(line.find("MISMATCH"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(named) << out.out;
  EXPECT_NE(out.out.find("  7071/tcp IPv4: predicted drop, observed open"), std::string::npos)
      << out.out;
}

}  // namespace
}  // namespace mw
