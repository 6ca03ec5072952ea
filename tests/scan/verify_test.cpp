// The agreement table of `firewall analyze --verify`, case by case.
#include "scan/verify.hpp"

#include <gtest/gtest.h>

namespace mw::scan {
namespace {

Observation seen(PortState s, std::string detail = "") {
  Observation o;
  o.state = s;
  o.attempts = 1;
  o.detail = std::move(detail);
  return o;
}

struct Case {
  fw::Outcome predicted;
  Refusal refusal;
  PortState observed;
  Protocol protocol;
  Agreement want;
};

TEST(Compare, Table) {
  using fw::Outcome;
  constexpr auto kSilent = Refusal::silent;
  constexpr auto kCloses = Refusal::closes;
  constexpr auto kIcmp = Refusal::icmp;
  const Case cases[] = {
      {Outcome::accept, kSilent, PortState::open, Protocol::tcp, Agreement::agree},
      {Outcome::accept, kSilent, PortState::closed, Protocol::tcp, Agreement::agree},
      {Outcome::accept, kSilent, PortState::filtered, Protocol::tcp, Agreement::mismatch},
      {Outcome::drop, kSilent, PortState::filtered, Protocol::tcp, Agreement::agree},
      {Outcome::drop, kSilent, PortState::open, Protocol::tcp, Agreement::mismatch},
      {Outcome::drop, kSilent, PortState::closed, Protocol::tcp, Agreement::mismatch},
      {Outcome::drop, kCloses, PortState::closed, Protocol::tcp, Agreement::agree},
      {Outcome::drop, kCloses, PortState::filtered, Protocol::tcp, Agreement::mismatch},
      {Outcome::drop, kIcmp, PortState::filtered, Protocol::tcp, Agreement::mismatch},  // silent
      {Outcome::drop, kIcmp, PortState::closed, Protocol::tcp, Agreement::mismatch},
      {Outcome::uncertain, kSilent, PortState::open, Protocol::tcp, Agreement::unverifiable},
      {Outcome::accept, kSilent, PortState::not_checkable, Protocol::udp, Agreement::unverifiable},
      {Outcome::drop, kSilent, PortState::not_checkable, Protocol::udp, Agreement::unverifiable},
      {Outcome::accept, kSilent, PortState::open, Protocol::udp, Agreement::agree},
      {Outcome::drop, kSilent, PortState::unreachable, Protocol::tcp, Agreement::unverifiable},
  };
  for (const auto& c : cases) {
    auto got = compare(c.predicted, c.refusal, seen(c.observed), c.protocol);
    EXPECT_EQ(got.agreement, c.want)
        << fw::outcome_name(c.predicted) << " refusal " << static_cast<int>(c.refusal) << " vs "
        << port_state_name(c.observed) << ": " << got.note;
  }
}

TEST(Compare, NotesSayWhy) {
  EXPECT_EQ(
      compare(fw::Outcome::accept, Refusal::silent, seen(PortState::closed, "RST"), Protocol::tcp)
          .note,
      "nothing listening (RST)");
  auto m =
      compare(fw::Outcome::drop, Refusal::silent, seen(PortState::closed, "RST"), Protocol::tcp);
  EXPECT_NE(m.note.find("REJECT with tcp reset"), std::string::npos) << m.note;
  auto u = compare(fw::Outcome::uncertain, Refusal::silent, seen(PortState::open), Protocol::tcp);
  EXPECT_EQ(u.note, "unverifiable by prediction, observed open");
  // An ICMP answer proves the REJECT with an ICMP unreachable.
  Observation icmp = seen(PortState::filtered, "ICMP administratively prohibited (EACCES)");
  icmp.error = 13;
  EXPECT_EQ(compare(fw::Outcome::drop, Refusal::icmp, icmp, Protocol::tcp).agreement,
            Agreement::agree);
}

TEST(RefusalOf, FromTheRuleText) {
  fw::Rule r;
  r.verdict = fw::Verdict::reject;
  const std::pair<const char*, Refusal> cases[] = {
      {"reject with tcp reset", Refusal::closes},
      {"-A INPUT -p tcp --dport 25 -j REJECT --reject-with tcp-reset", Refusal::closes},
      {"reject with icmpx port-unreachable", Refusal::closes},
      {"reject", Refusal::closes},
      {"-A INPUT -j REJECT", Refusal::closes},
      {"reject with icmpx admin-prohibited", Refusal::icmp},
      {"-A INPUT -j REJECT --reject-with icmp-host-prohibited", Refusal::icmp},
      {"", Refusal::any_reject},
  };
  for (const auto& [text, want] : cases) {
    r.text = text;
    EXPECT_EQ(refusal_of(&r), want) << text;
  }
  r.verdict = fw::Verdict::drop;
  EXPECT_EQ(refusal_of(&r), Refusal::silent);
  EXPECT_EQ(refusal_of(nullptr), Refusal::silent);
}

}  // namespace
}  // namespace mw::scan
