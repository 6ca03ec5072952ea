// Selection (AND of selectors, accounts from postcat then logs), durations, the summary and the
// Nagios thresholds, over a fake queue.
#include <gtest/gtest.h>

#include "fake_tools.hpp"
#include "queue/postqueue_json.hpp"
#include "queue/selection.hpp"
#include "queue/summary.hpp"

namespace mw::queue {
namespace {

using testing::FakeMessage;
using testing::FakeTools;

constexpr std::int64_t kNow = 1'800'000'000;

FakeTools sample() {
  FakeTools t;
  t.messages = {
      {"A1", "deferred", "ceo@corp.test", kNow - 7200, 1000, {"x@victim.example"}, "mallory"},
      {"A2",
       "deferred",
       "CEO@corp.test",
       kNow - 60,
       2000,
       {"y@Victim.Example", "z@other.example"},
       "mallory"},
      {"A3", "deferred", "ceo@corp.test", kNow - 60, 3000, {"b@board.example"}, ""},  // real CEO
      {"A4", "hold", "alice@corp.test", kNow - 90000, 500, {"p@partner.example"}, "alice"},
      {"A5", "active", "", kNow - 10, 100, {"bounce@victim.example"}, ""},
  };
  return t;
}

std::vector<std::string> ids(const QueueListing& l, const Selection& s) {
  std::vector<std::string> out;
  for (auto i : s.indices) out.push_back(l.messages[i].queue_id);
  return out;
}

TEST(Selection, SelectorsCombineWithAnd) {
  FakeTools t = sample();
  const auto l = parse_postqueue_json(t.json());
  ASSERT_EQ(l.messages.size(), 5u);
  struct Case {
    Selector s;
    std::vector<std::string> expect;
  };
  Selector by_sender;
  by_sender.senders = {"ceo@CORP.test"};
  Selector sender_old = by_sender;
  sender_old.older_than = 3600;
  Selector domain;
  domain.to_domains = {"victim.example"};
  Selector domain_deferred = domain;
  domain_deferred.queues = {QueueName::deferred};
  Selector null_sender;
  null_sender.senders = {""};
  Selector two_ids;
  two_ids.queue_ids = {"A4", "A5", "ZZ"};
  for (const auto& c : std::vector<Case>{{by_sender, {"A1", "A2", "A3"}},
                                         {sender_old, {"A1"}},
                                         {domain, {"A1", "A2", "A5"}},
                                         {domain_deferred, {"A1", "A2"}},
                                         {null_sender, {"A5"}},
                                         {two_ids, {"A4", "A5"}}}) {
    const auto s = select(l, c.s, kNow, t, nullptr, true, 2);
    EXPECT_EQ(ids(l, s), c.expect) << c.s.describe();
  }
  EXPECT_EQ(t.postcat_calls, 0) << "no account needed, no postcat";
}

TEST(Selection, SaslUserFromQueueFileOnlyForCandidates) {
  FakeTools t = sample();
  const auto l = parse_postqueue_json(t.json());
  Selector s;
  s.sasl_users = {"Mallory"};
  s.senders = {"ceo@corp.test"};
  const auto sel = select(l, s, kNow, t, nullptr, true, 3);
  EXPECT_EQ(ids(l, sel), (std::vector<std::string>{"A1", "A2"}));  // not the real CEO's A3
  EXPECT_EQ(t.postcat_calls, 3) << "postcat only for the sender's 3 messages";
  EXPECT_EQ(sel.unknown_account, 1u);  // A3: no SASL login
}

TEST(Selection, SaslUserFromLogsChain) {
  // Zimbra: smtpd QID1 (sasl mallory) -> amavis -> re-injected as A3 without sasl_username.
  FakeTools t = sample();
  t.messages[2].sasl.clear();
  const auto l = parse_postqueue_json(t.json());
  QueueIdChain chain;
  logs::Event client;
  client.line_kind = logs::LineKind::parsed;
  client.facts.kind = logs::EventKind::message_client;
  client.facts.queue_id = "QID1";
  client.facts.account = "mallory";
  chain.add(client);
  logs::Event handoff = client;
  handoff.facts = {};
  handoff.facts.kind = logs::EventKind::delivery;
  handoff.facts.queue_id = "QID1";
  handoff.facts.next_queue_id = "QID2";
  handoff.facts.relay = "127.0.0.1[127.0.0.1]:10024";
  chain.add(handoff);
  logs::Event scan = client;
  scan.facts = {};
  scan.facts.kind = logs::EventKind::content_scan;
  scan.facts.queue_id = "QID2";
  scan.facts.next_queue_id = "A3";
  chain.add(scan);
  logs::Event remote = handoff;  // a remote server's "queued as": not ours
  remote.facts.next_queue_id = "A5";
  remote.facts.relay = "mx.example.net[192.0.2.7]:25";
  chain.add(remote);
  chain.finish();
  Selector s;
  s.sasl_users = {"mallory"};
  const auto sel = select(l, s, kNow, t, &chain, false, 1);
  EXPECT_EQ(ids(l, sel), (std::vector<std::string>{"A3"}));
  EXPECT_EQ(t.postcat_calls, 0);
  ASSERT_TRUE(sel.lookup.accounts.count("A3"));
  EXPECT_EQ(sel.lookup.accounts.at("A3").source, AccountSource::logs);
}

TEST(Selection, EmptySelectorIsRefused) {
  EXPECT_FALSE(validate(Selector{}).ok());
  Selector bad;
  bad.queue_ids = {"A1\nA2"};
  EXPECT_FALSE(validate(bad).ok());
  Selector dom;
  dom.to_domains = {"user@x"};
  EXPECT_FALSE(validate(dom).ok());
}

TEST(Duration, Parse) {
  EXPECT_EQ(*parse_duration("90s"), 90);
  EXPECT_EQ(*parse_duration("1h30m"), 5400);
  EXPECT_EQ(*parse_duration("2d"), 172800);
  EXPECT_EQ(*parse_duration("1w"), 604800);
  for (const char* bad : {"", "5", "h", "3x", "-1h", "99999999999999999999d"})
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  EXPECT_NE(parse_duration("3x").error().message.find("position 2"), std::string::npos);
}

TEST(Summary, Figures) {
  FakeTools t = sample();
  const auto l = parse_postqueue_json(t.json());
  AccountMap acc{{"A1", {"mallory", AccountSource::queue_file}},
                 {"A2", {"Mallory", AccountSource::logs}}};
  const auto s = summarize(l, &acc, kNow, 2);
  EXPECT_EQ(s.messages, 5u);
  EXPECT_EQ(s.bytes, 6600u);
  EXPECT_EQ(s.recipients, 6u);
  EXPECT_EQ(s.by_queue[static_cast<std::size_t>(QueueName::deferred)].messages, 3u);
  EXPECT_EQ(s.by_queue[static_cast<std::size_t>(QueueName::hold)].bytes, 500u);
  ASSERT_EQ(s.by_sender.size(), 2u);
  EXPECT_EQ(s.by_sender[0].key, "ceo@corp.test");
  EXPECT_EQ(s.by_sender[0].messages, 3u);
  EXPECT_EQ(s.senders, 3u);
  ASSERT_EQ(s.by_account.size(), 1u);
  EXPECT_EQ(s.by_account[0].messages, 2u);
  EXPECT_EQ(s.account_unknown, 3u);
  EXPECT_EQ(s.account_from_logs, 1u);
  EXPECT_EQ(s.by_domain[0].key, "victim.example");
  EXPECT_EQ(s.by_domain[0].messages, 3u);
  EXPECT_EQ(s.oldest_id, "A4");
  EXPECT_EQ(s.oldest_age, 90000);
  EXPECT_EQ(s.by_age[0].messages, 3u);  // <1h
  EXPECT_EQ(s.by_age[1].messages, 1u);  // 1h-6h
  EXPECT_EQ(s.by_age[3].messages, 1u);  // 1d-3d
}

TEST(Nagios, Thresholds) {
  EXPECT_EQ(parse_threshold("125")->kind, Threshold::messages);
  EXPECT_EQ(parse_threshold("450MB")->value, 450'000'000u);
  EXPECT_EQ(parse_threshold("1GiB")->value, 1u << 30);
  EXPECT_EQ(parse_threshold("6h")->kind, Threshold::age);
  EXPECT_EQ(parse_threshold("6h")->value, 21600u);
  EXPECT_FALSE(parse_threshold("lots").ok());
  EXPECT_FALSE(parse_threshold("4X").ok());
  QueueSummary s;
  s.messages = 130;
  s.bytes = 100'000'000;
  s.oldest_age = 60;
  auto v =
      evaluate(s, {*parse_threshold("125"), *parse_threshold("1h")}, {*parse_threshold("450MB")});
  EXPECT_EQ(v.state, 1);
  ASSERT_EQ(v.reasons.size(), 1u);
  s.bytes = 450'000'000;
  EXPECT_EQ(evaluate(s, {*parse_threshold("125")}, {*parse_threshold("450MB")}).state, 2);
  s.messages = 124;
  s.bytes = 0;
  EXPECT_EQ(evaluate(s, {*parse_threshold("125")}, {*parse_threshold("450MB")}).state, 0);
}

}  // namespace
}  // namespace mw::queue
