// The postqueue -j and postcat parsers: real output captured from the e2e Postfix instance
// (tests/data/queue/), and table-driven bad lines, each named by its line number.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "queue/postcat.hpp"
#include "queue/postqueue_json.hpp"

namespace mw::queue {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/tests/data/queue/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PostqueueJson, RealCapture) {
  const auto l = parse_postqueue_json(fixture("postqueue-j.jsonl"));
  EXPECT_EQ(l.bad_line_count, 0u) << l.first_error();
  ASSERT_EQ(l.messages.size(), 13u);
  std::size_t mallory_rcpts = 0, deferred = 0;
  for (const auto& m : l.messages) {
    EXPECT_TRUE(valid_queue_id(m.queue_id));
    EXPECT_GT(m.arrival_time, 1'700'000'000);
    EXPECT_GT(m.size, 0u);
    ASSERT_FALSE(m.recipients.empty());
    EXPECT_FALSE(m.recipients[0].delay_reason.empty()) << m.queue_id;
    if (m.queue == QueueName::deferred) ++deferred;
    if (m.recipients.size() == 2) ++mallory_rcpts;
  }
  EXPECT_EQ(deferred, 13u);
  EXPECT_EQ(mallory_rcpts, 4u);
}

TEST(PostqueueJson, FieldsAndEscapes) {
  const auto l = parse_postqueue_json(
      R"({"queue_name": "hold", "queue_id": "4ABC123", "arrival_time": 1700000000, )"
      R"("message_size": 42, "forced_expire": true, "sender": "", "future": {"x": [1]}, )"
      R"("recipients": [{"address": "a\"b@example.com"}, {"address": "c@EXAMPLE.org", )"
      R"("delay_reason": "4.4.1 \u00e9"}]})"
      "\r\n\n");
  ASSERT_EQ(l.bad_line_count, 0u) << l.first_error();
  ASSERT_EQ(l.messages.size(), 1u);
  const auto& m = l.messages[0];
  EXPECT_EQ(m.queue, QueueName::hold);
  EXPECT_EQ(m.queue_id, "4ABC123");
  EXPECT_EQ(m.size, 42u);
  EXPECT_TRUE(m.forced_expire);
  EXPECT_EQ(m.sender, "");
  ASSERT_EQ(m.recipients.size(), 2u);
  EXPECT_EQ(m.recipients[0].address, "a\"b@example.com");
  EXPECT_EQ(m.recipients[1].delay_reason, "4.4.1 \xc3\xa9");
  EXPECT_EQ(domain_of(m.recipients[1].address), "EXAMPLE.org");
}

struct BadCase {
  const char* line;
  const char* expect;  // a substring of the error
};

class PostqueueBadLine : public ::testing::TestWithParam<BadCase> {};

TEST_P(PostqueueBadLine, NamedByLineAndRestStillRead) {
  const std::string good =
      R"({"queue_name": "deferred", "queue_id": "AAA", "arrival_time": 1, "message_size": 2, )"
      R"("sender": "s@x", "recipients": [{"address": "r@y"}]})";
  const std::string text = good + "\n" + GetParam().line + "\n" + good + "\n";
  const auto l = parse_postqueue_json(text, "q.json");
  EXPECT_EQ(l.messages.size(), 2u);
  ASSERT_EQ(l.bad_line_count, 1u);
  EXPECT_EQ(l.bad_lines[0].line, 2u);
  EXPECT_NE(l.bad_lines[0].message.find("q.json line 2: "), std::string::npos)
      << l.bad_lines[0].message;
  EXPECT_NE(l.bad_lines[0].message.find(GetParam().expect), std::string::npos)
      << l.bad_lines[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PostqueueBadLine,
    ::testing::Values(
        BadCase{"{", "JSON"}, BadCase{"[1,2]", "expected a JSON object"}, BadCase{"garbage", ""},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "A\nB", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": []})",
            "not a Postfix queue id"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "A-B", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": []})",
            "not a Postfix queue id"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "AB", "arrival_time": "x", "message_size": 2, "sender": "", "recipients": []})",
            "arrival_time"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "AB", "arrival_time": 1, "message_size": -2, "sender": "", "recipients": []})",
            "message_size"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "AB", "arrival_time": 1, "message_size": 2, "recipients": []})",
            "missing field 'sender'"},
        BadCase{
            R"({"queue_name": "Deferred/..", "queue_id": "AB", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": []})",
            "queue_name"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "AB", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": [{"delay_reason": "x"}]})",
            "no 'address'"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "AB", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": [3]})",
            "recipients[0]"},
        BadCase{
            R"({"queue_name": "deferred", "queue_id": "AB", "arrival_time": 1, "message_size": 2, "sender": "", "recipients": []} x)",
            "JSON"}));

TEST(PostqueueJson, ManyBadLinesAreCountedNotAllKept) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "nope\n";
  const auto l = parse_postqueue_json(text);
  EXPECT_EQ(l.bad_line_count, 100u);
  EXPECT_EQ(l.bad_lines.size(), kMaxBadLinesKept);
  EXPECT_EQ(l.lines, 100u);
}

TEST(Postcat, RealCaptureWithSasl) {
  const auto e = parse_postcat(fixture("postcat-e-sasl.txt"));
  EXPECT_EQ(e.sasl_username, "mallory");
  EXPECT_EQ(e.sender, "ceo@e2e.test");
  EXPECT_EQ(e.queue_name, "deferred");
  EXPECT_TRUE(valid_queue_id(e.queue_id)) << e.queue_id;
}

TEST(Postcat, RealCaptureWithoutSasl) {
  const auto e = parse_postcat(fixture("postcat-full-nosasl.txt"));
  EXPECT_EQ(e.sasl_username, "");
  EXPECT_EQ(e.sender, "bob@e2e.test");
}

TEST(Postcat, BodyCannotForgeTheEnvelope) {
  const auto e = parse_postcat(
      "*** ENVELOPE RECORDS deferred/A/ABC ***\nsender: bob@x\n"
      "*** MESSAGE CONTENTS deferred/A/ABC ***\nSubject: hi\n\n"
      "*** ENVELOPE RECORDS deferred/XYZ ***\nnamed_attribute: sasl_username=victim\n");
  EXPECT_EQ(e.sasl_username, "");
  EXPECT_EQ(e.queue_id, "ABC");
  EXPECT_EQ(e.queue_name, "deferred");
}

}  // namespace
}  // namespace mw::queue
