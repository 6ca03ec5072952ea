// The policy decision: which buckets a message counts for, the anti-spoofing rule, which
// protocol stage counts, the de-duplication keys, the fail modes, and the answers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policyd/engine.hpp"
#include "policyd/memory_store.hpp"

namespace mw::policyd {
namespace {

// Records what the engine asks; answers as told.
class FakeStore final : public CounterStore {
 public:
  Result<ChargeResult> charge(const ChargeRequest& r, std::span<const Bucket> b) override {
    requests.push_back(r);
    buckets.assign(b.begin(), b.end());
    if (fail) return Error{"redis 127.0.0.1:6390: connection refused"};
    return answer;
  }
  std::size_t active_keys() const override { return 0; }
  std::vector<ChargeRequest> requests;
  std::vector<Bucket> buckets;
  ChargeResult answer;
  bool fail = false;
};

Policy make_policy(std::string_view toml) {
  auto c = parse_config(toml, "test.toml");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  Policy p;
  if (c) p.config = std::move(*c);
  return p;
}

const char* kLimits = R"(
[[limit]]
scope = "account"
window = "1h"
messages = 10
[[limit]]
scope = "account"
window = "1d"
messages = 100
recipients = 500
[[limit]]
scope = "sender"
window = "1h"
messages = 20
[[limit]]
scope = "client"
window = "1h"
messages = 50
[[limit]]
scope = "domain"
window = "1h"
messages = 1000
[[exception]]
match = "newsletter@example.com"
exempt = true
[[exception]]
match = "@bulk.example.com"
limit = [{window = "1h", messages = 5000}]
[[exception]]
match = "198.51.100.0/24"
exempt = true
)";

Request eom(std::string_view sasl, std::string_view sender, std::string_view client,
            std::string_view instance = "1a.2b.3c.0") {
  Request r;
  r.request = "smtpd_access_policy";
  r.protocol_state = "END-OF-MESSAGE";
  r.sasl_username = sasl;
  r.sender = sender;
  r.client_address = client;
  r.instance = instance;
  r.server_address = "192.0.2.25";
  r.recipient_count = 3;
  r.has_recipient_count = true;
  return r;
}

std::vector<std::string> keys(const std::vector<Bucket>& b) {
  std::vector<std::string> out;
  for (const auto& x : b) out.push_back(x.key);
  return out;
}

TEST(Engine, AuthenticatedMailCountsForTheAccountAndItsSenderDomain) {
  const Policy p = make_policy(kLimits);
  const auto b =
      buckets_for(p.config, eom("Alice@Example.COM", "alice@example.com", "203.0.113.9"));
  EXPECT_EQ(keys(b), (std::vector<std::string>{"a:alice@example.com", "d:example.com"}));
  ASSERT_EQ(b[0].windows.size(), 2u);
  EXPECT_EQ(b[0].windows[0].window, 3600);
  EXPECT_EQ(b[0].windows[1].recipients, 500u);
}

TEST(Engine, WebmailFromAMailboxServerIsKeyedByTheEnvelopeSender) {
  const Policy p = make_policy(kLimits);
  // Two webmail users relayed by the same mailbox server (loopback by default) must not share
  // one bucket.
  EXPECT_EQ(keys(buckets_for(p.config, eom("", "u1@example.com", "127.0.0.1"))),
            (std::vector<std::string>{"s:u1@example.com", "d:example.com"}));
  EXPECT_EQ(keys(buckets_for(p.config, eom("", "u2@example.com", "127.0.0.1"))),
            (std::vector<std::string>{"s:u2@example.com", "d:example.com"}));
  // A bounce the mailbox server generated (null sender) is nobody's mail.
  EXPECT_TRUE(buckets_for(p.config, eom("", "", "127.0.0.1")).empty());
}

TEST(Engine, OtherUnauthenticatedMailIsKeyedByClientAddress) {
  const Policy p = make_policy(kLimits);
  EXPECT_EQ(keys(buckets_for(p.config, eom("", "x@example.org", "2001:DB8::7"))),
            (std::vector<std::string>{"c:2001:db8::7"}));
  // The client exception exempts a whole prefix.
  EXPECT_TRUE(buckets_for(p.config, eom("", "x@example.org", "198.51.100.3")).empty());
}

TEST(Engine, ExceptionsExemptOrReplaceTheLimits) {
  const Policy p = make_policy(kLimits);
  EXPECT_EQ(keys(buckets_for(
                p.config, eom("newsletter@example.com", "newsletter@example.com", "203.0.113.9"))),
            (std::vector<std::string>{"d:example.com"}));
  const auto b =
      buckets_for(p.config, eom("a@bulk.example.com", "a@bulk.example.com", "203.0.113.9"));
  ASSERT_EQ(keys(b), (std::vector<std::string>{"a:a@bulk.example.com", "d:bulk.example.com"}));
  ASSERT_EQ(b[0].windows.size(), 1u);
  EXPECT_EQ(b[0].windows[0].messages, 5000u);
  EXPECT_EQ(b[1].windows[0].messages, 5000u);  // the domain bucket: "@bulk.example.com"
}

TEST(Engine, OnlyTheConfiguredStageCounts) {
  const Policy p = make_policy(kLimits);
  FakeStore store;
  Request r = eom("alice@example.com", "alice@example.com", "203.0.113.9");
  r.protocol_state = "RCPT";
  auto d = decide(p, store, r, 1000);
  EXPECT_EQ(d.reason, Reason::not_counted);
  EXPECT_EQ(d.action, "DUNNO");
  EXPECT_TRUE(store.requests.empty());

  r.protocol_state = "END-OF-MESSAGE";
  d = decide(p, store, r, 1000);
  EXPECT_EQ(d.reason, Reason::accepted);
  ASSERT_EQ(store.requests.size(), 1u);
  EXPECT_EQ(store.requests[0].recipients, 3u);
  // The de-duplication key: the MTA's identity (server_address) and the instance.
  EXPECT_EQ(store.requests[0].dedupe_key, "192.0.2.25|1a.2b.3c.0");
  EXPECT_EQ(store.requests[0].message_key, "192.0.2.25|1a.2b.3c.0");
  EXPECT_EQ(store.requests[0].now, 1000);
}

TEST(Engine, RcptModeCountsEachRecipientAndTheMessageOnce) {
  std::string toml =
      std::string("[counting]\nstage = \"rcpt\"\n[server]\nnode_id = \"mta1\"\n") + kLimits;
  const Policy p = make_policy(toml);
  FakeStore store;
  Request r = eom("alice@example.com", "alice@example.com", "203.0.113.9");
  r.protocol_state = "RCPT";
  r.recipient = "Bob@Example.org";
  r.has_recipient_count = false;
  (void)decide(p, store, r, 1000);
  ASSERT_EQ(store.requests.size(), 1u);
  EXPECT_EQ(store.requests[0].dedupe_key, "mta1|1a.2b.3c.0|bob@example.org");
  EXPECT_EQ(store.requests[0].message_key, "mta1|1a.2b.3c.0");
  EXPECT_EQ(store.requests[0].recipients, 1u);
}

TEST(Engine, OverTheLimitAnswersTheConfiguredActionAndAlertsOnce) {
  for (const auto& [action, prefix] : std::vector<std::pair<std::string, std::string>>{
           {"defer", "DEFER_IF_PERMIT 4.7.1"}, {"hold", "HOLD "}, {"reject", "REJECT 5.7.1"}}) {
    const Policy p = make_policy("[action]\nover_limit = \"" + action + "\"\n" + kLimits);
    FakeStore store;
    store.answer.allowed = false;
    store.answer.bucket = 0;
    store.answer.window = 0;
    store.answer.used_messages = 10;
    store.answer.alert = true;
    store.answer.alerts = 1;
    auto d = decide(p, store, eom("alice@example.com", "alice@example.com", "203.0.113.9"), 5000);
    EXPECT_EQ(d.reason, Reason::over_limit);
    EXPECT_EQ(d.action.rfind(prefix, 0), 0u) << d.action;
    ASSERT_TRUE(d.alert);
    EXPECT_EQ(d.alert->key, "a:alice@example.com");
    EXPECT_EQ(d.alert->scope, "account");
    EXPECT_EQ(d.alert->subject, "alice@example.com");
    EXPECT_EQ(d.alert->limit_messages, 10u);
    EXPECT_EQ(d.alert->window, 3600);
    EXPECT_NE(d.detail.find("11 messages/10, 3 recipients in 1h"), std::string::npos) << d.detail;
    EXPECT_EQ(d.alert->used_messages, 11u);
    EXPECT_EQ(d.alert->used_recipients, 3u);

    store.answer.alert = false;
    d = decide(p, store, eom("alice@example.com", "alice@example.com", "203.0.113.9"), 5001);
    EXPECT_FALSE(d.alert);
  }
}

TEST(Engine, StoreFailureAppliesTheConfiguredFailMode) {
  for (const char* mode : {"open", "closed"}) {
    const Policy p =
        make_policy(std::string("[state]\nbackend = \"redis\"\n[state.redis]\non_failure = \"") +
                    mode + "\"\n" + kLimits);
    FakeStore store;
    store.fail = true;
    auto d = decide(p, store, eom("alice@example.com", "alice@example.com", "203.0.113.9"), 1);
    if (std::string(mode) == "open") {
      EXPECT_EQ(d.reason, Reason::fail_open);
      EXPECT_EQ(d.action, "DUNNO");
    } else {
      EXPECT_EQ(d.reason, Reason::fail_closed);
      EXPECT_EQ(d.action.rfind("DEFER_IF_PERMIT 4.3.0", 0), 0u);
    }
    EXPECT_NE(d.detail.find("connection refused"), std::string::npos);
  }
}

TEST(Engine, SpoofedSendersAreRefusedBeforeCounting) {
  Policy p = make_policy(std::string("[spoofing]\nenabled = true\n") + kLimits);
  FakeStore store;
  auto d = decide(p, store, eom("alice@example.com", "bob@example.com", "203.0.113.9"), 1);
  EXPECT_EQ(d.reason, Reason::spoofed);
  EXPECT_EQ(d.action.rfind("REJECT 5.7.1", 0), 0u);
  EXPECT_TRUE(store.requests.empty());
  // Case does not matter; the null sender is always allowed; unauthenticated mail is not checked.
  EXPECT_NE(
      decide(p, store, eom("alice@example.com", "ALICE@example.com", "203.0.113.9"), 1).reason,
      Reason::spoofed);
  EXPECT_NE(decide(p, store, eom("alice@example.com", "", "203.0.113.9"), 1).reason,
            Reason::spoofed);
  EXPECT_NE(decide(p, store, eom("", "bob@example.com", "203.0.113.9"), 1).reason, Reason::spoofed);
  // The login map lets alice use a shared address.
  auto map =
      SenderLoginMap::parse("info@example.com alice@example.com, carol@example.com\n", "map");
  ASSERT_TRUE(map) << map.error().message;
  p.logins = std::move(*map);
  EXPECT_NE(decide(p, store, eom("alice@example.com", "info@example.com", "203.0.113.9"), 1).reason,
            Reason::spoofed);
  EXPECT_EQ(decide(p, store, eom("alice@example.com", "ceo@example.com", "203.0.113.9"), 1).reason,
            Reason::spoofed);
  // Only the listed domains are checked when a list is given.
  Policy q = make_policy(std::string("[spoofing]\nenabled = true\ndomains = [\"example.com\"]\n") +
                         kLimits);
  EXPECT_NE(
      decide(q, store, eom("alice@example.com", "x@elsewhere.example", "203.0.113.9"), 1).reason,
      Reason::spoofed);
}

// With the real in-process store: the 11th message in an hour is deferred while another
// account still sends; the window slides at one-second resolution; two webmail users from one
// mailbox server keep separate counts.
TEST(Engine, TenPerHourWithTheMemoryStore) {
  const Policy p = make_policy(kLimits);
  auto store = MemoryStore::open({});
  ASSERT_TRUE(store) << store.error().message;
  const std::int64_t t0 = 1'800'000'000;
  int n = 0;
  auto send = [&](std::string_view sasl, std::string_view sender, std::string_view client,
                  std::int64_t t) {
    const std::string inst = "i" + std::to_string(++n);
    return decide(p, **store, eom(sasl, sender, client, inst), t);
  };
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(send("alice@example.com", "alice@example.com", "203.0.113.9", t0 + i).reason,
              Reason::accepted)
        << i;
  }
  auto d = send("alice@example.com", "alice@example.com", "203.0.113.9", t0 + 10);
  EXPECT_EQ(d.reason, Reason::over_limit);
  EXPECT_TRUE(d.alert);
  EXPECT_EQ(send("bob@example.com", "bob@example.com", "203.0.113.9", t0 + 11).reason,
            Reason::accepted);
  // At t0 + 3599 the first message is still in the window; at t0 + 3600 it has left it.
  EXPECT_EQ(send("alice@example.com", "alice@example.com", "203.0.113.9", t0 + 3599).reason,
            Reason::over_limit);
  EXPECT_EQ(send("alice@example.com", "alice@example.com", "203.0.113.9", t0 + 3600).reason,
            Reason::accepted);

  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(send("", "u1@example.com", "127.0.0.1", t0 + i).reason, Reason::accepted);
  }
  EXPECT_EQ(send("", "u1@example.com", "127.0.0.1", t0 + 30).reason, Reason::over_limit);
  EXPECT_EQ(send("", "u2@example.com", "127.0.0.1", t0 + 31).reason, Reason::accepted);

  // A resent request (same instance) is answered the same and not counted twice.
  auto first =
      decide(p, **store, eom("carol@example.com", "carol@example.com", "203.0.113.9", "dup"), t0);
  auto again =
      decide(p, **store, eom("carol@example.com", "carol@example.com", "203.0.113.9", "dup"), t0);
  EXPECT_EQ(first.reason, Reason::accepted);
  EXPECT_EQ(again.reason, Reason::duplicate);
}

}  // namespace
}  // namespace mw::policyd
