// Postfix's policy delegation protocol: a request as Postfix 3.7 sends it, framing across any
// split of the bytes, and every malformed form refused with a reason (never answered).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "policyd/protocol.hpp"

namespace mw::policyd {
namespace {

// An END-OF-MESSAGE request with every attribute Postfix 3.7 sends (SMTPD_POLICY_README).
const std::string kEom =
    "request=smtpd_access_policy\n"
    "protocol_state=END-OF-MESSAGE\n"
    "protocol_name=ESMTP\n"
    "helo_name=client.example.net\n"
    "queue_id=4Qx7Lm0Z3Kz9v\n"
    "sender=alice@example.com\n"
    "recipient=\n"
    "recipient_count=3\n"
    "client_address=192.0.2.7\n"
    "client_name=client.example.net\n"
    "reverse_client_name=client.example.net\n"
    "instance=2f3a.6566b2c1.8a1f2.0\n"
    "sasl_method=PLAIN\n"
    "sasl_username=alice@example.com\n"
    "sasl_sender=\n"
    "size=12345\n"
    "ccert_subject=\n"
    "ccert_issuer=\n"
    "ccert_fingerprint=\n"
    "ccert_pubkey_fingerprint=\n"
    "encryption_protocol=TLSv1.3\n"
    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
    "encryption_keysize=256\n"
    "etrn_domain=\n"
    "stress=\n"
    "policy_context=\n"
    "server_address=198.51.100.25\n"
    "server_port=587\n"
    "compatibility_level=3.6\n"
    "mail_version=3.7.11\n"
    "\n";

TEST(Protocol, ParsesAPostfixRequest) {
  std::size_t scanned = 0;
  ASSERT_EQ(find_request_end(kEom, scanned), kEom.size());
  auto r = parse_request(kEom, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->request, "smtpd_access_policy");
  EXPECT_EQ(r->protocol_state, "END-OF-MESSAGE");
  EXPECT_EQ(r->sasl_username, "alice@example.com");
  EXPECT_EQ(r->sender, "alice@example.com");
  EXPECT_EQ(r->recipient, "");
  EXPECT_EQ(r->client_address, "192.0.2.7");
  EXPECT_EQ(r->server_address, "198.51.100.25");
  EXPECT_EQ(r->instance, "2f3a.6566b2c1.8a1f2.0");
  EXPECT_TRUE(r->has_recipient_count);
  EXPECT_EQ(r->recipient_count, 3u);
  EXPECT_EQ(r->attributes, 30u);
}

TEST(Protocol, ValuesMayContainEqualsAndUnknownAttributesAreIgnored) {
  const std::string req =
      "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=a=b@example.com\n"
      "some_future_attribute=x\n\n";
  auto r = parse_request(req, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->recipient, "a=b@example.com");
  EXPECT_FALSE(r->has_recipient_count);
}

TEST(Protocol, CrLfIsAccepted) {
  const std::string req = "request=smtpd_access_policy\r\nsender=x@example.com\r\n\r\n";
  std::size_t scanned = 0;
  ASSERT_EQ(find_request_end(req, scanned), req.size());
  auto r = parse_request(req, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sender, "x@example.com");
}

TEST(Protocol, FramingFindsTwoPipelinedRequests) {
  const std::string two = kEom + kEom;
  std::size_t scanned = 0;
  EXPECT_EQ(find_request_end(two, scanned), kEom.size());
}

// Whatever the split of the bytes into reads, the end is found at the same offset, and each
// byte is scanned a bounded number of times.
RC_GTEST_PROP(Protocol, FramingIndependentOfReadSizes, (std::vector<std::uint8_t> cuts)) {
  std::size_t scanned = 0;
  std::size_t have = 0;
  std::size_t found = std::string::npos;
  for (auto c : cuts) {
    have = std::min(kEom.size(), have + 1 + c % 40);
    found = find_request_end(std::string_view(kEom).substr(0, have), scanned);
    if (found != std::string::npos) break;
    RC_ASSERT(scanned <= have);
  }
  if (found == std::string::npos) found = find_request_end(kEom, scanned);
  RC_ASSERT(found == kEom.size());
}

struct Bad {
  std::string text;
  std::string error;
};

TEST(Protocol, MalformedRequestsAreRefusedWithAReason) {
  const Bad cases[] = {
      {"\n", "empty request"},
      {"request=smtpd_access_policy\nnoequals\n\n", "line 2: no '=' in 'noequals'"},
      {"request=smtpd_access_policy\n=x\n\n", "line 2: empty attribute name"},
      {"request=smtpd_access_policy\nbad name=x\n\n", "line 2: invalid attribute name"},
      {"request=smtpd_access_policy\nsender=a\nsender=b\n\n",
       "line 3: attribute 'sender' repeated"},
      {"request=smtpd_access_policy\nrecipient_count=x1\n\n",
       "line 2: recipient_count 'x1' is not a number"},
      {"request=smtpd_access_policy\nrecipient_count=99999999999\n\n", "is not a number"},
      {"sender=a\n\n", "no 'request' attribute"},
      {"request=junk\n\n", "unknown request type 'junk'"},
      {std::string("request=smtpd_access_policy\nsender=a\0b\n\n", 39), "NUL byte"},
      {"request=smtpd_access_policy\n", "not ended by an empty line"},
      {"request=smtpd_access_policy\n\nextra", "bytes after the end"},
  };
  for (const auto& c : cases) {
    auto r = parse_request(c.text, {});
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.error), std::string::npos)
        << "got: " << r.error().message << "\nwanted: " << c.error;
  }
}

TEST(Protocol, LimitsOnSizeAndAttributeCount) {
  ProtocolLimits limits;
  limits.max_attributes = 5;
  std::string req = "request=smtpd_access_policy\n";
  for (int i = 0; i < 5; ++i) req += "a" + std::to_string(i) + "=x\n";
  req += "\n";
  auto r = parse_request(req, limits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 5 attributes"), std::string::npos);

  limits = {};
  limits.max_request_bytes = 100;
  const std::string big = "request=smtpd_access_policy\nsender=" + std::string(200, 'a') + "\n\n";
  r = parse_request(big, limits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exceeds the limit of 100"), std::string::npos);
}

TEST(Protocol, ReplyIsOneLineAndAnEmptyLine) {
  EXPECT_EQ(format_reply("DUNNO"), "action=DUNNO\n\n");
  EXPECT_EQ(format_reply("DEFER_IF_PERMIT 4.7.1 a\nb"), "action=DEFER_IF_PERMIT 4.7.1 a b\n\n");
}

// Any bytes: parse_request returns a request or an error, and a request it accepts had a
// well-formed request attribute.
RC_GTEST_PROP(Protocol, ArbitraryBytesNeverCrash, (std::string junk)) {
  auto r = parse_request(junk, {});
  if (r) RC_ASSERT(r->request == "smtpd_access_policy");
  std::size_t scanned = 0;
  const auto end = find_request_end(junk, scanned);
  RC_ASSERT(end == std::string::npos || end <= junk.size());
}

}  // namespace
}  // namespace mw::policyd
