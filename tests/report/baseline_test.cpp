// The baseline: a JSON report read back (errors named), and the diff with the results of now.
#include "report/baseline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/audit_report.hpp"
#include "support/audit_example.hpp"

namespace mw::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

TEST(Baseline, ItsOwnJsonReportIsAnEmptyDiff) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  auto b = parse_baseline(render_audit_json(a->view), "old.json");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->controls.size(), a->results.size());
  EXPECT_EQ(b->score, a->view.score.percent);
  auto d = diff_baseline(*b, a->results, "old.json");
  EXPECT_THAT(d.new_failures, IsEmpty());
  EXPECT_THAT(d.fixed, IsEmpty());
  EXPECT_THAT(d.changed, IsEmpty());
  EXPECT_THAT(d.facts, IsEmpty());
  EXPECT_THAT(d.removed, IsEmpty());
  EXPECT_EQ(d.failure_state.size(), static_cast<std::size_t>(a->view.score.fail));
  for (const auto& [id, state] : d.failure_state) EXPECT_EQ(state, "unchanged") << id;
}

TEST(Baseline, DefaultThenHardenedFixesAndChangesFacts) {
  auto before = test::load_example_audit("zimbra-default");
  auto after = test::load_example_audit("zimbra-hardened");
  ASSERT_TRUE(before && after);
  auto b = parse_baseline(render_audit_json(before->view), "default.json");
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto d = diff_baseline(*b, after->results, "default.json");
  EXPECT_EQ(d.snapshot, "examples/snapshots/zimbra-default");
  EXPECT_EQ(d.score_before, before->view.score.percent);
  // The hardened example passes everything it can check: nothing new fails, and every control
  // the default failed is fixed or changed (e.g. to not_checked where the hardened one lacks a
  // file).
  EXPECT_THAT(d.new_failures, IsEmpty());
  std::size_t failed_before = 0;
  for (const auto& c : b->controls) failed_before += c.status == "fail";
  std::size_t from_fail = d.fixed.size();
  for (const auto& c : d.changed) from_fail += c.before == "fail";
  EXPECT_EQ(from_fail, failed_before);
  // A fact known to change: the default COS's minimum password length.
  bool min_length = false;
  for (const auto& f : d.facts) {
    if (f.id == "accounts.password.min-length" &&
        f.fact.find("zimbraPasswordMinLength") != std::string::npos) {
      min_length = true;
      EXPECT_NE(f.before, f.after);
    }
  }
  EXPECT_TRUE(min_length);
}

// A baseline made by hand: one control failing, one passing, one gone.
constexpr const char* kHand = R"({
  "schema": "mailwarden-audit/1", "snapshot": "old", "collected_at": "2026-01-01T00:00:00Z",
  "score": {"percent": 40},
  "controls": [
    {"id": "a", "status": "fail", "failing": ["COS default"], "detail": "",
     "facts": [{"name": "n", "value": "1", "origin": "f:1"}]},
    {"id": "b", "status": "pass", "failing": [], "detail": "", "facts": []},
    {"id": "c", "status": "fail", "failing": ["x"], "detail": "", "facts": []},
    {"id": "gone", "status": "pass", "failing": [], "detail": "", "facts": []}
  ]})";

struct Now {
  std::vector<audit::Control> controls;
  std::vector<audit::ControlResult> results;
  void add(std::string id, audit::Status st, std::vector<std::string> failing = {},
           std::vector<audit::FactRead> facts = {}) {
    audit::Control c;
    c.id = std::move(id);
    controls.push_back(c);
    audit::ControlResult r;
    r.status = st;
    r.failing = std::move(failing);
    r.facts = std::move(facts);
    results.push_back(r);
  }
  const std::vector<audit::ControlResult>& done() {
    for (std::size_t i = 0; i < results.size(); ++i) results[i].control = &controls[i];
    return results;
  }
};

TEST(Baseline, ClassifiesEachChange) {
  auto b = parse_baseline(kHand, "hand.json");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->collected_at, "2026-01-01T00:00:00Z");
  Now now;
  now.add("a", audit::Status::fail, {"COS default"}, {{"n", "2", "f:1"}, {"m", "x", "f:2"}});
  now.add("b", audit::Status::fail, {"server"});
  now.add("c", audit::Status::not_checked);
  now.add("new", audit::Status::fail, {"y"});
  auto d = diff_baseline(*b, now.done(), "hand.json");
  ASSERT_EQ(d.new_failures.size(), 2u);
  EXPECT_EQ(d.new_failures[0].id, "b");
  EXPECT_EQ(d.new_failures[0].before, "pass");
  EXPECT_EQ(d.new_failures[1].id, "new");
  EXPECT_EQ(d.new_failures[1].before, "");
  EXPECT_THAT(d.fixed, IsEmpty());  // c is not fixed: it could not be checked
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].id, "c");
  EXPECT_EQ(d.changed[0].after, "not_checked");
  ASSERT_EQ(d.facts.size(), 2u);
  EXPECT_EQ(d.facts[0].fact, "n");
  EXPECT_EQ(d.facts[0].before, "1");
  EXPECT_EQ(d.facts[0].after, "2");
  EXPECT_EQ(d.facts[1].fact, "m");
  EXPECT_EQ(d.facts[1].before, "(absent)");
  EXPECT_THAT(d.removed, ElementsAre("gone"));
  EXPECT_EQ(d.failure_state.at("a"), "updated");  // same failing objects, changed facts
  EXPECT_EQ(d.failure_state.at("b"), "new");
  EXPECT_EQ(d.failure_state.at("new"), "new");
}

TEST(Baseline, FixedMeansPassOrNotApplicable) {
  auto b = parse_baseline(kHand, "hand.json");
  ASSERT_TRUE(b.ok());
  Now now;
  now.add("a", audit::Status::pass);
  now.add("c", audit::Status::not_applicable);
  auto d = diff_baseline(*b, now.done(), "hand.json");
  ASSERT_EQ(d.fixed.size(), 2u);
  EXPECT_EQ(d.fixed[0].id, "a");
  EXPECT_EQ(d.fixed[1].after, "not_applicable");
  EXPECT_THAT(d.removed, ElementsAre("b", "gone"));
}

TEST(Baseline, TextAndJsonShowTheDiff) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  auto b = parse_baseline(kHand, "hand.json");
  ASSERT_TRUE(b.ok());
  a->view.baseline = diff_baseline(*b, a->results, "hand.json");
  const auto text = render_audit_text(a->view, false);
  EXPECT_THAT(text,
              HasSubstr("SINCE THE BASELINE hand.json (old, collected 2026-01-01T00:00:00Z)"));
  EXPECT_THAT(text, HasSubstr("[new since the baseline]"));
  EXPECT_THAT(text, HasSubstr(" no longer run:\n    a\n"));
  const auto json = nlohmann::json::parse(render_audit_json(a->view));
  EXPECT_EQ(json["baseline"]["file"], "hand.json");
  EXPECT_EQ(json["baseline"]["score_before"], 40);
  EXPECT_EQ(json["baseline"]["new_failures"].size(), a->view.baseline->new_failures.size());
  // And the report with a baseline is itself a valid baseline.
  EXPECT_TRUE(parse_baseline(render_audit_json(a->view), "again.json").ok());
}

struct Bad {
  const char* text;
  const char* error;
};

class BaselineErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(BaselineErrors, NameTheFileAndTheField) {
  auto b = parse_baseline(GetParam().text, "old.json");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message, StartsWith(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Json, BaselineErrors,
    ::testing::Values(
        Bad{"", "old.json:1:1: not JSON"}, Bad{"{\n  \"schema\": ,\n}", "old.json:2:13: not JSON"},
        Bad{"[]", "old.json: expected a JSON object"},
        Bad{R"({"schema": "other/1"})", "old.json: schema: 'other/1' is not a mailwarden audit"},
        Bad{R"({"schema": "mailwarden-audit/1"})", "old.json: snapshot: missing"},
        Bad{R"({"schema": "mailwarden-audit/1", "snapshot": "s", "score": {"percent": "x"}})",
            "old.json: score.percent: expected an integer"},
        Bad{R"({"schema": "mailwarden-audit/1", "snapshot": "s", "score": {"percent": 1},
               "controls": [{"id": "a", "status": "broken"}]})",
            "old.json: controls[0].status: unknown status 'broken'"},
        Bad{R"({"schema": "mailwarden-audit/1", "snapshot": "s", "score": {"percent": 1},
               "controls": [{"id": "a", "status": "pass", "failing": [1]}]})",
            "old.json: controls[0].failing[0]: expected a string"},
        Bad{R"({"schema": "mailwarden-audit/1", "snapshot": "s", "score": {"percent": 1},
               "controls": [{"id": "a", "status": "pass", "failing": [], "detail": "",
                             "facts": [{"name": "n"}]}]})",
            "old.json: controls[0].facts[0].value: missing"},
        Bad{R"({"schema": "mailwarden-audit/1", "snapshot": "s", "score": {"percent": 1},
               "controls": [{"id": "a", "status": "pass", "failing": [], "detail": "", "facts": []},
                            {"id": "a", "status": "pass", "failing": [], "detail": "", "facts": []}]})",
            "old.json: controls[1].id: 'a' appears twice"}));

TEST(Baseline, MissingFileIsAnError) {
  auto b = load_baseline("/nonexistent/old.json");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message, HasSubstr("/nonexistent/old.json: cannot read"));
}

}  // namespace
}  // namespace mw::report
