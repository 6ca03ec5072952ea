// The plan (dry run), the refusals (delete outside hold), the batches of ids given to
// postsuper, and the re-check that leaves alone an id reused since the selection.
#include <gtest/gtest.h>

#include "fake_tools.hpp"
#include "queue/actions.hpp"
#include "queue/postqueue_json.hpp"

namespace mw::queue {
namespace {

using testing::FakeMessage;
using testing::FakeTools;

FakeTools queue_of(std::size_t deferred, std::size_t held) {
  FakeTools t;
  for (std::size_t i = 0; i < deferred; ++i)
    t.messages.push_back({"D" + std::to_string(i),
                          "deferred",
                          "spam@x.test",
                          1'800'000'000,
                          1000,
                          {"r@example.net"},
                          ""});
  for (std::size_t i = 0; i < held; ++i)
    t.messages.push_back({"H" + std::to_string(i),
                          "hold",
                          "spam@x.test",
                          1'800'000'000,
                          1000,
                          {"r@example.net"},
                          ""});
  return t;
}

std::vector<std::size_t> all(const QueueListing& l) {
  std::vector<std::size_t> v(l.messages.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

TEST(Plan, DeleteRefusesWhatIsNotOnHold) {
  FakeTools t = queue_of(3, 2);
  const auto l = parse_postqueue_json(t.json());
  const auto plan = plan_action(l, all(l), {Action::remove});
  EXPECT_EQ(plan.act.size(), 2u);
  EXPECT_EQ(plan.refused.size(), 3u);
  EXPECT_EQ(plan.queues, std::vector<std::string>{"hold"});
  EXPECT_EQ(plan.bytes, 2000u);
  const auto forced = plan_action(l, all(l), {Action::remove, true});
  EXPECT_EQ(forced.act.size(), 5u);
  EXPECT_TRUE(forced.refused.empty());
  EXPECT_TRUE(forced.queues.empty());
}

TEST(Plan, HoldAndReleaseSkipWhatHasNothingToDo) {
  FakeTools t = queue_of(3, 2);
  const auto l = parse_postqueue_json(t.json());
  const auto hold = plan_action(l, all(l), {Action::hold});
  EXPECT_EQ(hold.act.size(), 3u);
  EXPECT_EQ(hold.skipped.size(), 2u);
  const auto rel = plan_action(l, all(l), {Action::release});
  EXPECT_EQ(rel.act.size(), 2u);
  EXPECT_EQ(rel.skipped.size(), 3u);
  EXPECT_EQ(rel.queues, std::vector<std::string>{"hold"});
}

TEST(Plan, OnlySelectedMessages) {
  FakeTools t = queue_of(5, 0);
  const auto l = parse_postqueue_json(t.json());
  const auto plan = plan_action(l, {1, 3}, {Action::hold});
  ASSERT_EQ(plan.act.size(), 2u);
  EXPECT_EQ(plan.act[0].queue_id, "D1");
  EXPECT_EQ(plan.act[1].queue_id, "D3");
  EXPECT_TRUE(t.calls.empty()) << "planning runs nothing";
}

TEST(Execute, BatchesAndLogsEveryId) {
  FakeTools t = queue_of(2500, 0);
  const auto l = parse_postqueue_json(t.json());
  ActionOptions o{Action::hold, false, 1000};
  const auto plan = plan_action(l, all(l), o);
  std::vector<std::string> log;
  const auto out = execute(plan, t, o, [&](const std::string& s) { log.push_back(s); });
  ASSERT_EQ(t.calls.size(), 3u);
  EXPECT_EQ(t.calls[0].ids.size(), 1000u);
  EXPECT_EQ(t.calls[2].ids.size(), 500u);
  EXPECT_EQ(t.calls[0].action, Action::hold);
  EXPECT_EQ(out.requested, 2500u);
  EXPECT_EQ(out.affected, 2500u);
  EXPECT_TRUE(out.ok());
  std::size_t logged = 0;
  for (const auto& line : log)
    for (std::size_t p = line.find(" D"); p != std::string::npos; p = line.find(" D", p + 1))
      ++logged;
  EXPECT_EQ(logged, 2500u) << "every id appears in the audit log";
}

TEST(Execute, DeleteOnlyFromHoldAndOnlyTheSameMessage) {
  FakeTools t = queue_of(2, 3);
  const auto l = parse_postqueue_json(t.json());
  ActionOptions o{Action::remove, false, 2};
  const auto plan = plan_action(l, all(l), o);
  // Between the plan and the action: H1 is released, H2 is delivered and its id reused by a
  // different message.
  t.messages[3].queue = "deferred";
  t.messages[4].arrival += 5;
  std::vector<std::string> log;
  const auto out = execute(plan, t, o, [&](const std::string& s) { log.push_back(s); });
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].ids, std::vector<std::string>{"H0"});
  EXPECT_EQ(t.calls[0].queues, std::vector<std::string>{"hold"});
  EXPECT_EQ(out.changed_since, 2u);
  EXPECT_EQ(t.messages.size(), 4u);
  for (const auto& m : t.messages) EXPECT_NE(m.id, "H0");
}

TEST(Execute, FailedBatchIsAnError) {
  FakeTools t = queue_of(3, 0);
  t.fail_super = true;
  const auto l = parse_postqueue_json(t.json());
  ActionOptions o{Action::hold, false, 2};
  const auto out = execute(plan_action(l, all(l), o), t, o, [](const std::string&) {});
  EXPECT_FALSE(out.ok());
  EXPECT_EQ(out.batches_failed, 2u);
  EXPECT_EQ(out.affected, 0u);
}

TEST(Execute, NothingToDoRunsNothing) {
  FakeTools t = queue_of(0, 0);
  const auto out = execute(ActionPlan{}, t, {}, [](const std::string&) {});
  EXPECT_EQ(t.list_calls, 0);
  EXPECT_TRUE(t.calls.empty());
  EXPECT_TRUE(out.ok());
}

TEST(PostsuperCount, Parse) {
  EXPECT_EQ(parse_postsuper_count("postsuper: Deleted: 3 messages\n"), 3u);
  EXPECT_EQ(parse_postsuper_count("postsuper: warning: x\npostsuper: Placed on hold: 1 message\n"),
            1u);
  EXPECT_EQ(parse_postsuper_count("postsuper: Released from hold: 12 messages"), 12u);
  EXPECT_EQ(parse_postsuper_count("nothing"), 0u);
}

}  // namespace
}  // namespace mw::queue
