// SenderLoginMap: Postfix's table source format, the lookup order of smtpd_sender_login_maps,
// the recipient delimiter, errors with name:line, and the same answers as postmap(1) itself.
#include "policyd/sender_login_map.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/subprocess.hpp"

namespace mw::policyd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

SenderLoginMap parse_ok(std::string_view text, std::string_view delimiter = {}) {
  auto m = SenderLoginMap::parse(text, "map", delimiter);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : SenderLoginMap{};
}

std::string error_of(std::string_view text) {
  auto m = SenderLoginMap::parse(text, "map");
  EXPECT_FALSE(m.ok()) << "accepted:\n" << text;
  return m.ok() ? std::string() : m.error().message;
}

constexpr std::string_view kMap = R"(# sender address        SASL logins that may use it
alice@example.com          alice@example.com
Sales@Example.com          alice@example.com, Bob@example.com
                           carol@example.com
shared@example.com         dave@example.com,erin@example.com	frank@example.com

# the whole domain: only the admin (an address's own entry wins over this)
@example.org               admin@example.org
)";

TEST(SenderLoginMap, ParsesEntriesOwnersAndContinuations) {
  const auto m = parse_ok(kMap);
  EXPECT_EQ(m.size(), 4u);
  ASSERT_NE(m.owners("sales@example.com"), nullptr);
  EXPECT_THAT(*m.owners("sales@example.com"),
              ElementsAre("alice@example.com", "bob@example.com", "carol@example.com"));
  EXPECT_THAT(*m.owners("shared@example.com"),
              ElementsAre("dave@example.com", "erin@example.com", "frank@example.com"));
  EXPECT_EQ(m.owners("nobody@example.com"), nullptr);
}

TEST(SenderLoginMap, Owns) {
  const auto m = parse_ok(kMap);
  struct Case {
    std::string login, sender;
    bool owns;
  };
  for (const auto& c : std::vector<Case>{
           {"alice@example.com", "alice@example.com", true},
           {"ALICE@example.com", "Alice@Example.COM", true},  // case-insensitive throughout
           {"alice@example.com", "sales@example.com", true},
           {"bob@example.com", "SALES@example.com", true},
           {"carol@example.com", "sales@example.com", true},  // from the continuation line
           {"erin@example.com", "shared@example.com", true},
           {"mallory@example.com", "sales@example.com", false},
           {"alice@example.com", "bob@example.com", false},  // not listed, not equal
           // Equal to the login needs no entry.
           {"zed@example.net", "zed@example.net", true},
           {"zed@example.net", "zee@example.net", false},
           // @domain when the address has no entry of its own.
           {"admin@example.org", "anyone@example.org", true},
           {"user@example.org", "anyone@example.org", false},
           // The null sender (bounces) is nobody's to spoof.
           {"mallory@example.com", "", true},
       }) {
    EXPECT_EQ(m.owns(c.login, c.sender), c.owns) << c.login << " as " << c.sender;
  }
}

TEST(SenderLoginMap, AddressEntryWinsOverDomain) {
  // Postfix stops at the first entry found: the admin of @example.org does not own an address
  // that has its own entry.
  const auto m = parse_ok("@example.org admin@example.org\nceo@example.org ceo@example.org\n");
  EXPECT_TRUE(m.owns("ceo@example.org", "ceo@example.org"));
  EXPECT_FALSE(m.owns("admin@example.org", "ceo@example.org"));
  EXPECT_TRUE(m.owns("admin@example.org", "info@example.org"));
}

TEST(SenderLoginMap, RecipientDelimiter) {
  constexpr std::string_view text =
      "alice@example.com alice@example.com\n"
      "alice+news@example.com newsbot@example.com\n"
      "owner-list@example.com listadmin@example.com\n"
      "list-request@example.com listadmin@example.com\n";
  // Without a delimiter (Postfix's default): the extended address is only itself.
  const auto none = parse_ok(text);
  EXPECT_FALSE(none.owns("alice@example.com", "alice+shop@example.com"));
  EXPECT_TRUE(none.owns("newsbot@example.com", "alice+news@example.com"));
  // With "+": user+ext@domain first, then user@domain.
  const auto plus = parse_ok(text, "+");
  EXPECT_TRUE(plus.owns("alice@example.com", "alice+shop@example.com"));
  EXPECT_TRUE(plus.owns("newsbot@example.com", "alice+news@example.com"));
  // The extended address's own entry wins, even over the login's base address.
  EXPECT_FALSE(plus.owns("alice@example.com", "alice+news@example.com"));
  EXPECT_FALSE(plus.owns("newsbot@example.com", "alice+shop@example.com"));
  // Equal to the login once the extension is gone.
  EXPECT_TRUE(plus.owns("zed@example.net", "zed+x@example.net"));
  // A set of delimiters; the first one found splits. "owner-" and "-request" stay whole
  // (owner_request_special), so list-request is not "list" with extension "request".
  const auto set = parse_ok(text, "+-");
  EXPECT_TRUE(set.owns("alice@example.com", "alice-shop@example.com"));
  EXPECT_TRUE(set.owns("listadmin@example.com", "owner-list@example.com"));
  EXPECT_EQ(set.owners("owner-x@example.com"), nullptr);
  EXPECT_EQ(set.owners("postmaster-x@example.com"), nullptr);
  // Never a split to an empty localpart.
  EXPECT_EQ(plus.owners("+alice@example.com"), nullptr);
}

TEST(SenderLoginMap, QuotedKeysKeepTheirQuotes) {
  // As postmap(1) 3.2+: whitespace inside quotes belongs to the key, quotes included.
  const auto m = parse_ok("\"john doe\"@example.com john@example.com\n");
  EXPECT_TRUE(m.owns("john@example.com", "\"John Doe\"@example.com"));
  EXPECT_EQ(m.size(), 1u);
}

TEST(SenderLoginMap, DuplicateKeyKeepsTheFirst) {
  const auto m = parse_ok("a@x.y first@x.y\nA@X.Y second@x.y\n");
  EXPECT_TRUE(m.owns("first@x.y", "a@x.y"));
  EXPECT_FALSE(m.owns("second@x.y", "a@x.y"));
}

TEST(SenderLoginMap, CrLfAndEmptyInput) {
  const auto m = parse_ok("a@x.y\towner@x.y\r\n\r\n");
  EXPECT_TRUE(m.owns("owner@x.y", "a@x.y"));
  EXPECT_EQ(parse_ok("").size(), 0u);
  EXPECT_EQ(parse_ok("# only a comment\n\n   \n").size(), 0u);
}

TEST(SenderLoginMap, Errors) {
  EXPECT_EQ(error_of("# map\n\nalice@example.com\n"),
            "map:3: 'alice@example.com': no value (the SASL login names that own it)");
  EXPECT_EQ(error_of("a@x.y owner\nb@x.y   ,, \n"),
            "map:2: 'b@x.y': the value lists no login name");
  EXPECT_EQ(error_of("   owner@x.y\n"),
            "map:1: 'owner@x.y' starts with whitespace (a continuation line) but no entry "
            "precedes it");
  EXPECT_EQ(error_of("a@x.y o\n\"unclosed q\n"),
            "map:2: '\"unclosed q': a '\"' in the key is not closed");
  EXPECT_EQ(error_of(std::string_view("a@x.y o\nb\0c d\n", 14)),
            "map:2: a NUL byte: not a text file");
  // A continuation line belongs to the entry: the error names where the entry starts.
  EXPECT_EQ(error_of("a@x.y o\nb@x.y\n# note\n\n"),
            "map:2: 'b@x.y': no value (the SASL login names that own it)");
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "mw-policyd-slm-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(SenderLoginMap, LoadNamesTheFile) {
  TempDir dir;
  const auto file = dir.path() / "sender_login_maps";
  std::ofstream(file) << "ok@x.y o@x.y\nbad@x.y\n";
  auto m = SenderLoginMap::load(file);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, file.string() +
                                   ":2: 'bad@x.y': no value (the SASL login names "
                                   "that own it)");
  auto missing = SenderLoginMap::load(dir.path() / "absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, ::testing::StartsWith((dir.path() / "absent").string()));
}

// The same file through postmap(1): every key we store, with the owners Postfix returns.
TEST(SenderLoginMap, SameEntriesAsPostmap) {
  if (access("/usr/sbin/postmap", X_OK) != 0) GTEST_SKIP() << "postmap is not installed";
  TempDir dir;
  std::ofstream(dir.path() / "main.cf") << "";
  const auto file = dir.path() / "sender_login_maps";
  std::ofstream(file) << kMap << "\"a b\"@example.net  ab@example.net\nMiXed@CASE.example Owner\n";
  auto out = run_command(
      {"/usr/sbin/postmap", "-c", dir.path().string(), "-s", "texthash:" + file.string()});
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_TRUE(out->success()) << out->err;
  auto m = SenderLoginMap::load(file);
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::istringstream lines(out->out);
  std::string line;
  std::size_t keys = 0;
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string key = line.substr(0, tab);
    std::string value = line.substr(tab + 1);
    for (auto& ch : value)
      if (ch == ',') ch = ' ';
    std::istringstream words(value);
    std::vector<std::string> expected;
    for (std::string w; words >> w;) {
      for (auto& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      expected.push_back(w);
    }
    const auto* owners = m->owners(key);
    ASSERT_NE(owners, nullptr) << "postmap has " << key << ", we do not";
    EXPECT_EQ(*owners, expected) << key;
    ++keys;
  }
  EXPECT_EQ(keys, m->size());
  EXPECT_EQ(keys, 6u);
}

}  // namespace
}  // namespace mw::policyd
