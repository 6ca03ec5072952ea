// Bad input: truncation at every byte of real sample lines, random bytes, huge lines, invalid
// UTF-8. Each line lives in a heap buffer of exactly its size, so ASan reports any read past
// it; every view of the Event must point into the line (or be a parser's constant).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <memory>

#include "logs_test_data.hpp"

namespace mw::logs {
namespace {

bool inside(std::string_view v, const char* begin, std::size_t size) {
  return v.empty() || (v.data() >= begin && v.data() + v.size() <= begin + size);
}

// Parses `text` from an exact-size heap copy and checks where the views point.
Event parse_exact(std::string_view text, ParseContext& ctx) {
  std::unique_ptr<char[]> buf(new char[text.size() == 0 ? 1 : text.size()]);
  std::copy(text.begin(), text.end(), buf.get());
  const std::string_view line(buf.get(), text.size());
  Event e = parse_line(line, ctx);
  const char* b = buf.get();
  const std::size_t n = text.size();
  for (auto v : {e.host, e.program, e.pid, e.message, e.facts.client_ip, e.facts.client_name,
                 e.facts.queue_id, e.facts.next_queue_id, e.facts.from, e.facts.recipients,
                 e.facts.relay, e.facts.dsn, e.facts.message_id}) {
    EXPECT_TRUE(inside(v, b, n)) << text;
  }
  if (e.facts.account != "root") {
    EXPECT_TRUE(inside(e.facts.account, b, n)) << text;
  }
  EXPECT_LE(static_cast<int>(e.line_kind), static_cast<int>(LineKind::too_long));
  return e;  // views dangle after return: callers only look at enums and counts
}

std::vector<std::string> sample_lines() {
  std::vector<std::string> out;
  for (const char* f : {"postfix", "dovecot", "sshd"}) {
    for (auto& l : test::fail2ban_lines(f)) out.push_back(l);
  }
  for (auto& l : test::split_lines(test::read_source_file("fuzz/corpus/logs_zimbra/audit.log"))) {
    if (!l.empty()) out.push_back(l);
  }
  for (auto& l : test::split_lines(test::read_source_file("fuzz/corpus/logs_amavis/amavis.log"))) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

TEST(Robustness, TruncatedAtEveryByte) {
  const auto lines = sample_lines();
  ASSERT_GT(lines.size(), 250u);
  test::Fixture fx;
  std::size_t parsed = 0;
  for (const auto& l : lines) {
    for (std::size_t k = 0; k <= l.size(); ++k) {
      auto e = parse_exact(std::string_view(l).substr(0, k), fx.ctx);
      if (e.line_kind == LineKind::parsed) ++parsed;
    }
  }
  EXPECT_GT(parsed, 0u);
  EXPECT_EQ(fx.ctx.counts().lines,
            fx.ctx.counts().unparsed() + fx.ctx.counts().count(LineKind::parsed));
}

TEST(Robustness, HugeLinesAreCutAndCounted) {
  test::Fixture fx;
  std::string big = "Nov 28 23:55:58 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]";
  big.append(1 << 20, 'A');
  auto e = parse_exact(big, fx.ctx);
  EXPECT_EQ(e.line_kind, LineKind::too_long);
  EXPECT_TRUE(e.has_time);
  std::string junk(1 << 20, '\xff');
  EXPECT_EQ(parse_exact(junk, fx.ctx).line_kind, LineKind::too_long);
  // Exactly at the limit: read normally.
  std::string edge = "Nov 28 23:55:58 mx sshd[1]: Invalid user ";
  edge.append(kMaxLineBytes - edge.size() - 20, 'u');
  edge += " from 192.0.2.1";
  ASSERT_LE(edge.size(), kMaxLineBytes);
  EXPECT_EQ(parse_exact(edge, fx.ctx).line_kind, LineKind::parsed);
  EXPECT_EQ(fx.ctx.counts().count(LineKind::too_long), 2u);
}

TEST(Robustness, InvalidUtf8IsKeptAndCounted) {
  test::Fixture fx;
  auto e = fx.parse(
      "Nov 28 23:55:58 mx sshd[1]: Failed password for invalid user \xc3\x28\xff "
      "from 192.0.2.1 port 22 ssh2");
  EXPECT_EQ(e.line_kind, LineKind::parsed);
  EXPECT_EQ(e.facts.account, "\xc3\x28\xff");
  EXPECT_EQ(fx.ctx.counts().invalid_utf8, 1u);
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
}

// The reference: RFC 3629 decoding one byte at a time.
bool utf8_reference(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

// is_valid_utf8 reads many bytes per step: a character (or a bad byte, or a cut sequence) at
// every offset around its step boundaries and in the last bytes must be judged as the
// reference judges it.
TEST(Robustness, Utf8CheckAgreesWithTheReferenceAtEveryOffset) {
  const std::vector<std::string> pieces = {"\xc3\xa9",     "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                           "\xc3",         "\xe2\x82",     "\xff",
                                           "\xed\xa0\x80", "\xc0\xaf",     "\x80"};
  for (std::size_t len = 0; len <= 72; ++len) {
    for (const auto& piece : pieces) {
      for (std::size_t at = 0; at <= len; ++at) {
        std::string s(len, 'a');
        s.insert(at, piece);
        ASSERT_EQ(is_valid_utf8(s), utf8_reference(s)) << "length " << len << " at " << at;
      }
    }
  }
}

RC_GTEST_PROP(Robustness, Utf8CheckAgreesWithTheReference, (const std::string& s)) {
  RC_ASSERT(is_valid_utf8(s) == utf8_reference(s));
}

TEST(Robustness, GarbageAndEmpty) {
  test::Fixture fx;
  const std::string nul("Nov 28 23:55:58 mx sshd[1]: \0\0\0", 31);
  EXPECT_EQ(parse_exact(nul, fx.ctx).line_kind, LineKind::message_unknown);
  EXPECT_EQ(parse_exact("", fx.ctx).line_kind, LineKind::empty);
  EXPECT_EQ(parse_exact("   \r", fx.ctx).line_kind, LineKind::empty);
  EXPECT_EQ(parse_exact("\x01\x02\x03", fx.ctx).line_kind, LineKind::envelope_unknown);
  EXPECT_EQ(parse_exact("<999>1 x", fx.ctx).line_kind, LineKind::envelope_unknown);
  EXPECT_EQ(parse_exact("2026-11-28 23:55:58,123 INFO  [", fx.ctx).line_kind,
            LineKind::envelope_unknown);
  const auto& c = fx.ctx.counts();
  EXPECT_EQ(c.count(LineKind::empty), 2u);
  EXPECT_EQ(c.unparsed(), 6u);
}

RC_GTEST_PROP(Robustness, RandomBytesNeverCrash, (const std::string& bytes)) {
  test::Fixture fx;
  parse_exact(bytes, fx.ctx);
  RC_ASSERT(fx.ctx.counts().lines == 1u);
}

RC_GTEST_PROP(Robustness, MutatedSamplesNeverCrash, ()) {
  static const auto lines = sample_lines();
  auto line = lines[*rc::gen::inRange<std::size_t>(0, lines.size())];
  const auto edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits && !line.empty(); ++i) {
    const auto pos = *rc::gen::inRange<std::size_t>(0, line.size());
    line[pos] =
        *rc::gen::elementOf(std::string("[]<>:;,= -\0\xff"
                                        "0aZ",
                                        16));
  }
  test::Fixture fx;
  parse_exact(line, fx.ctx);
  RC_ASSERT(fx.ctx.counts().lines == 1u);
}

}  // namespace
}  // namespace mw::logs
