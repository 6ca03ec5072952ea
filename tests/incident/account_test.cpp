// The account snapshot's parsers (zmmailbox filter rules, sieve, zmprov getGrants and gds) and
// the mailbox findings on the fixture snapshot of tests/data/incident/snapshot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "incident/account.hpp"

namespace mw::incident {
namespace {

const std::string kSnapshot = std::string(MW_SOURCE_DIR) + "/tests/data/incident/snapshot";

TEST(FilterRules, ParsesNameFlagsConditionsAndActions) {
  auto r = parse_filter_rules(
      "\"Invoices\" active all header \"subject\" contains \"invoice\" redirect "
      "\"x@example.net\" stop\n\n\"Old\" inactive any size over \"1M\" discard\n",
      "rules.txt");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "Invoices");
  EXPECT_TRUE((*r)[0].active);
  EXPECT_EQ((*r)[0].conditions, "header \"subject\" contains \"invoice\"");
  ASSERT_EQ((*r)[0].actions.size(), 2u);
  EXPECT_EQ((*r)[0].actions[0].verb, "redirect");
  EXPECT_EQ((*r)[0].actions[0].args, std::vector<std::string>{"x@example.net"});
  EXPECT_EQ((*r)[0].actions[1].verb, "stop");
  EXPECT_FALSE((*r)[1].active);
  EXPECT_FALSE((*r)[1].all);
  EXPECT_EQ((*r)[1].line, 3u);
  EXPECT_EQ((*r)[1].actions[0].verb, "discard");
}

TEST(FilterRules, QuoteInsideANameIsNotAnEnd) {
  // Zimbra prints a quote inside a name unescaped: it ends the string only before a blank.
  auto r = parse_filter_rules("\"say \"hi\"!\" active all body contains \"redirect\" keep\n", "r");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)[0].name, "say \"hi\"!");
  ASSERT_EQ((*r)[0].actions.size(), 1u);  // the quoted "redirect" is a value, not an action
  EXPECT_EQ((*r)[0].actions[0].verb, "keep");
}

TEST(FilterRules, ErrorsNamePosition) {
  auto r = parse_filter_rules("\"ok\" active all keep\n\"broken active all keep\n", "rules.txt");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "rules.txt:2:1: unterminated string");
  auto n = parse_filter_rules("noname active\n", "rules.txt");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("rules.txt:1:1:"), std::string::npos);
}

TEST(Sieve, FindsRedirectNotifyDiscardNotKeep) {
  const char* script =
      "require [\"fileinto\", \"copy\", \"enotify\"];\n"
      "# redirect \"comment@example.net\";\n"
      "/* redirect \"block@example.net\"; */\n"
      "if header :contains \"subject\" \"redirect\" { redirect :copy \"a@example.net\"; }\n"
      "if true { keep; fileinto \"x\"; }\n"
      "notify :message \"hi\" \"mailto:b@example.org?subject=x\";\n"
      "vacation text:\nredirect \"inside@example.net\";\n.\n;\n"
      "discard;\n";
  auto s = scan_sieve(script, "sieve");
  EXPECT_EQ(s.error, "");
  ASSERT_EQ(s.actions.size(), 4u);
  EXPECT_EQ(s.actions[0].command, "redirect");
  EXPECT_EQ(s.actions[0].tags, std::vector<std::string>{":copy"});
  EXPECT_EQ(s.actions[0].line, 4u);
  EXPECT_EQ(sieve_targets(s.actions[0]), std::vector<std::string>{"a@example.net"});
  EXPECT_EQ(s.actions[1].command, "notify");
  EXPECT_EQ(sieve_targets(s.actions[1]), std::vector<std::string>{"b@example.org"});
  EXPECT_EQ(s.actions[2].command, "vacation");
  EXPECT_TRUE(sieve_targets(s.actions[2]).empty());
  EXPECT_EQ(s.actions[3].command, "discard");
}

TEST(Sieve, BrokenScriptKeepsWhatWasReadAndSaysWhere) {
  auto s = scan_sieve("redirect \"a@example.net\";\nredirect \"b@exa", "script");
  EXPECT_EQ(s.error, "script:2:10: unterminated string");
  ASSERT_EQ(s.actions.size(), 2u);
  EXPECT_EQ(sieve_targets(s.actions[0]), std::vector<std::string>{"a@example.net"});
}

TEST(Grants, ReadsFixedColumnsAndModifiers) {
  auto text = [] {
    std::ifstream in(kSnapshot + "/zmprov-getGrants-account.txt");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  auto g = parse_grants(text, "g");
  ASSERT_TRUE(g) << g.error().message;
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].grantee_type, "usr");
  EXPECT_EQ((*g)[0].grantee_name, "mallory@example.com");
  EXPECT_EQ((*g)[0].grantee_id, "c3d9e8f7-1a2b-4c5d-8e9f-0a1b2c3d4e5f");
  EXPECT_EQ((*g)[0].right, "sendAs");
  EXPECT_EQ((*g)[0].modifier, 0);
  EXPECT_EQ((*g)[1].right, "sendOnBehalfOf");
  EXPECT_EQ((*g)[1].modifier, '-');
  auto bad = parse_grants("account      short\n", "g");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("g:1:"), std::string::npos);
}

TEST(DataSources, TypeFromTheHeader) {
  auto d = parse_data_sources("# name Pull\n# type pop3\nzimbraDataSourceHost: pop.example.org\n\n",
                              "gds");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].name, "Pull");
  EXPECT_EQ((*d)[0].type, "pop3");
  EXPECT_EQ((*d)[0].entry.first("zimbraDataSourceHost").value(), "pop.example.org");
  auto bad = parse_data_sources("# type imap\n", "gds");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "gds:1:1: '# type' not right after a '# name' line");
}

const MailboxFinding* find_kind(const std::vector<MailboxFinding>& v, std::string_view kind) {
  auto it = std::find_if(v.begin(), v.end(), [&](const auto& f) { return f.kind == kind; });
  return it == v.end() ? nullptr : &*it;
}

TEST(Snapshot, FixtureGivesEveryKindOfFinding) {
  auto s = load_account_snapshot(kSnapshot, "Alice@Example.com");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->mailbox_servers,
            (std::vector<std::string>{"mbox1.example.com", "mbox2.example.com"}));
  std::vector<std::string> warnings;
  auto f = mailbox_findings(*s, &warnings);
  const auto* fwd = find_kind(f, "forwarding");
  ASSERT_NE(fwd, nullptr);
  EXPECT_TRUE(fwd->external);
  EXPECT_EQ(fwd->severity, "high");
  EXPECT_EQ(fwd->revoke.at(0), "zmprov ma alice@example.com zimbraPrefMailForwardingAddress ''");
  EXPECT_EQ(fwd->revoke.at(1),
            "zmprov ma alice@example.com zimbraPrefMailLocalDeliveryDisabled FALSE");
  const auto* redirect = find_kind(f, "filter_redirect");
  ASSERT_NE(redirect, nullptr);
  EXPECT_EQ(redirect->targets, std::vector<std::string>{"collector@example.net"});
  EXPECT_EQ(redirect->revoke.at(0), "zmmailbox -z -m alice@example.com deleteFilterRule Invoices");
  EXPECT_EQ(redirect->evidence.rfind("zmmailbox-getFilterRules.txt:1:", 0), 0u);
  const auto* app = find_kind(f, "app_password");
  ASSERT_NE(app, nullptr);
  EXPECT_NE(app->summary.find("2 app-specific"), std::string::npos);
  const auto* ds = find_kind(f, "data_source");
  ASSERT_NE(ds, nullptr);
  EXPECT_TRUE(ds->external);
  EXPECT_EQ(ds->revoke.at(1), "zmprov dds alice@example.com Backup");
  const auto* grant = find_kind(f, "send_grant");
  ASSERT_NE(grant, nullptr);
  EXPECT_EQ(grant->revoke.at(0),
            "zmprov rvr account alice@example.com usr c3d9e8f7-1a2b-4c5d-8e9f-0a1b2c3d4e5f sendAs");
  // The sieve script is generated from the rules: not reported twice; the denial is no grant.
  EXPECT_EQ(find_kind(f, "sieve_redirect"), nullptr);
  EXPECT_EQ(std::count_if(f.begin(), f.end(), [](const auto& x) { return x.kind == "send_grant"; }),
            1);
  // Highest severity first.
  EXPECT_EQ(f.front().severity, "high");
}

TEST(Snapshot, SieveScriptCountsWhenTheRulesAreMissing) {
  auto s = load_account_snapshot(kSnapshot, "alice@example.com");
  ASSERT_TRUE(s);
  s->incoming_rules.reset();
  auto f = mailbox_findings(*s);
  const auto* r = find_kind(f, "sieve_redirect");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->targets, std::vector<std::string>{"collector@example.net"});
}

TEST(Snapshot, AnotherAccountsFileIsNotUsed) {
  auto s = load_account_snapshot(kSnapshot, "bob@example.com");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->attrs);
  EXPECT_TRUE(std::any_of(s->warnings.begin(), s->warnings.end(), [](const std::string& w) {
    return w.find("is the account 'alice@example.com', not bob@example.com") != std::string::npos;
  }));
  EXPECT_FALSE(load_account_snapshot(kSnapshot + "/nope", "bob@example.com"));
}

TEST(SieveDir, DovecotScriptsAreChecked) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("mw-incident-sieve-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "roundcube.sieve") << "require [\"copy\"];\nif true {\n  redirect :copy "
                                            "\"out@example.net\";\n}\n";
  std::ofstream(dir / "local.sieve") << "redirect \"bob@example.org\";\n";
  std::ofstream(dir / "notes.txt") << "redirect \"ignored@example.net\";\n";
  std::vector<std::string> warnings;
  auto f = sieve_dir_findings(dir, "carol@example.org", {}, &warnings);
  fs::remove_all(dir);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].targets, std::vector<std::string>{"bob@example.org"});
  EXPECT_FALSE(f[0].external);
  EXPECT_EQ(f[1].targets, std::vector<std::string>{"out@example.net"});
  EXPECT_TRUE(f[1].external);
  EXPECT_NE(f[1].evidence.find("roundcube.sieve:3:3: redirect"), std::string::npos);
  EXPECT_EQ(f[1].revoke.at(1), "doveadm sieve delete -u carol@example.org roundcube");
  EXPECT_TRUE(warnings.empty());
}

TEST(Names, AccountNamesAndShellWords) {
  EXPECT_TRUE(is_account_name("alice.b+tag@mail.example.com"));
  EXPECT_FALSE(is_account_name("-x@example.com"));
  EXPECT_FALSE(is_account_name("a b@example.com"));
  EXPECT_FALSE(is_account_name("a@b@example.com"));
  EXPECT_FALSE(is_account_name("a@exa mple.com"));
  EXPECT_FALSE(is_account_name("alice"));
  EXPECT_EQ(shell_word("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_word(""), "''");
  EXPECT_EQ(shell_word("a@b.c"), "a@b.c");
  EXPECT_EQ(address_domain("<X@Example.NET>"), "example.net");
}

}  // namespace
}  // namespace mw::incident
