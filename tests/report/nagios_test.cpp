// The Nagios rendering: status by the worst failure against the thresholds, perfdata, long
// output, the baseline's new failures, and text that cannot break the plugin format.
#include "report/audit_nagios.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/audit_example.hpp"

namespace mw::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Controls of each severity, and results over them, built by hand.
struct Hand {
  std::vector<audit::Control> controls;
  std::vector<audit::ControlResult> results;
  AuditView view;

  void add(std::string id, audit::Severity sev, audit::Status st) {
    audit::Control c;
    c.id = std::move(id);
    c.title = "title of " + c.id;
    c.severity = sev;
    controls.push_back(std::move(c));
    audit::ControlResult r;
    r.status = st;
    results.push_back(r);
  }
  const AuditView& finish() {
    for (std::size_t i = 0; i < results.size(); ++i) results[i].control = &controls[i];
    view.results = &results;
    view.score = audit::score(results);
    view.snapshot = "snap";
    return view;
  }
};

NagiosOutput render(Hand& h, NagiosThresholds t = {}) {
  return render_audit_nagios(h.finish(), t);
}

TEST(Nagios, NothingFailingIsOk) {
  Hand h;
  h.add("a", audit::Severity::critical, audit::Status::pass);
  h.add("b", audit::Severity::high, audit::Status::not_checked);
  auto n = render(h);
  EXPECT_EQ(n.state, NagiosState::ok);
  EXPECT_THAT(n.text, StartsWith("MAILWARDEN AUDIT OK - score 100/100, 0 failing, 1 not checked"));
}

TEST(Nagios, InfoFailuresNeverAlert) {
  Hand h;
  h.add("a", audit::Severity::info, audit::Status::fail);
  auto n = render(h);
  EXPECT_EQ(n.state, NagiosState::ok);
  EXPECT_THAT(n.text, HasSubstr("info=1;;;0;"));
  EXPECT_THAT(n.text, HasSubstr("\ninfo a: title of a\n"));
}

TEST(Nagios, DefaultThresholds) {
  for (auto [sev, want] : {std::pair{audit::Severity::critical, NagiosState::critical},
                           std::pair{audit::Severity::high, NagiosState::critical},
                           std::pair{audit::Severity::medium, NagiosState::warning},
                           std::pair{audit::Severity::low, NagiosState::warning}}) {
    Hand h;
    h.add("x", sev, audit::Status::fail);
    h.add("y", audit::Severity::critical, audit::Status::pass);
    EXPECT_EQ(render(h).state, want) << audit::severity_name(sev);
  }
}

TEST(Nagios, ConfiguredThresholds) {
  Hand h;
  h.add("x", audit::Severity::high, audit::Status::fail);
  h.add("y", audit::Severity::low, audit::Status::fail);
  // Only critical failures are CRITICAL; medium and worse warn: the high one warns.
  EXPECT_EQ(render(h, {audit::Severity::medium, audit::Severity::critical, false}).state,
            NagiosState::warning);
  Hand h2;
  h2.add("y", audit::Severity::low, audit::Status::fail);
  // A low failure under a "medium" warning threshold is OK.
  EXPECT_EQ(render(h2, {audit::Severity::medium, audit::Severity::critical, false}).state,
            NagiosState::ok);
}

TEST(Nagios, PerfdataAndLongOutputWorstFirst) {
  Hand h;
  h.add("low.one", audit::Severity::low, audit::Status::fail);
  h.add("crit.one", audit::Severity::critical, audit::Status::fail);
  h.add("ok.one", audit::Severity::medium, audit::Status::pass);
  h.add("na.one", audit::Severity::medium, audit::Status::not_applicable);
  auto n = render(h);
  EXPECT_EQ(n.state, NagiosState::critical);
  // score: pass weight 3 of (3 + 10 + 1).
  EXPECT_THAT(n.text, StartsWith("MAILWARDEN AUDIT CRITICAL - score 21/100, 2 failing (1 critical, "
                                 "1 low), snapshot snap | score=21;;;0;100 fail=2;;;0; pass=1;;;0; "
                                 "not_checked=0;;;0; not_applicable=1;;;0; critical=1;;;0; "
                                 "high=0;;;0; medium=0;;;0; low=1;;;0; info=0;;;0;\n"));
  EXPECT_THAT(n.text, HasSubstr("\ncritical crit.one: title of crit.one\nlow low.one: title of "
                                "low.one\n"));
}

TEST(Nagios, OnlyNewAlertsOnNewFailures) {
  Hand h;
  h.add("old", audit::Severity::critical, audit::Status::fail);
  h.add("fresh", audit::Severity::medium, audit::Status::fail);
  BaselineDiff d;
  d.failure_state = {{"old", "unchanged"}, {"fresh", "new"}};
  d.new_failures = {{"fresh", "pass", "fail"}};
  h.view.baseline = d;
  auto all = render(h);
  EXPECT_EQ(all.state, NagiosState::critical);
  EXPECT_THAT(all.text, HasSubstr("1 new and 0 fixed since the baseline"));
  EXPECT_THAT(all.text, HasSubstr("new_failures=1;;;0; fixed=0;;;0;"));
  EXPECT_THAT(all.text, HasSubstr("medium fresh [new]: title of fresh"));
  EXPECT_THAT(all.text, Not(HasSubstr("old [new]")));
  auto only_new = render(h, {audit::Severity::low, audit::Severity::high, true});
  EXPECT_EQ(only_new.state, NagiosState::warning);
}

TEST(Nagios, TextCannotBreakThePluginFormat) {
  Hand h;
  h.add("x", audit::Severity::high, audit::Status::fail);
  h.controls[0].title = "a | b\nc";
  h.view.snapshot = "dir|with\npipe";
  auto n = render_audit_nagios(h.finish(), {});
  const auto first = n.text.substr(0, n.text.find('\n'));
  EXPECT_EQ(std::count(first.begin(), first.end(), '|'), 1) << first;
  EXPECT_THAT(n.text, HasSubstr("\nhigh x: a / b c\n"));
  EXPECT_EQ(nagios_unknown("bad | input\nhere"), "MAILWARDEN AUDIT UNKNOWN - bad / input here\n");
}

TEST(Nagios, DefaultExampleIsCritical) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  auto n = render_audit_nagios(a->view, {});
  EXPECT_EQ(n.state, NagiosState::critical);
  EXPECT_THAT(n.text, HasSubstr(fmt::format("fail={};;;0;", a->view.score.fail)));
  // One long-output line per failing control.
  EXPECT_EQ(std::count(n.text.begin(), n.text.end(), '\n'), 1 + a->view.score.fail);
}

}  // namespace
}  // namespace mw::report
