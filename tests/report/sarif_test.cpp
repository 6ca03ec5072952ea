// The SARIF renderer over the example snapshots and over hand-made views: one rule per control,
// kinds and levels, locations into the snapshot files, baselineState, hostile strings.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "report/audit_sarif.hpp"
#include "support/audit_example.hpp"

namespace mw::report {
namespace {

using nlohmann::json;

json render(const AuditView& view) {
  std::string text;
  EXPECT_NO_THROW(text = render_audit_sarif(view));
  // Strict parse: the output must be valid JSON and valid UTF-8.
  return json::parse(text);
}

const json& run_of(const json& doc) {
  return doc.at("runs").at(0);
}

const json* result_for(const json& doc, const std::string& id) {
  for (const auto& r : run_of(doc).at("results")) {
    if (r.at("ruleId") == id) return &r;
  }
  return nullptr;
}

std::string line_of(const std::string& file, long long n) {
  std::ifstream in(file);
  std::string line;
  for (long long i = 0; i < n && std::getline(in, line); ++i) {
  }
  return line;
}

class ExampleSarif : public ::testing::TestWithParam<const char*> {};

TEST_P(ExampleSarif, OneRulePerControlAndOneResultEach) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  const json doc = render(a->view);
  EXPECT_EQ(doc.at("version"), "2.1.0");
  const json& run = run_of(doc);
  const json& driver = run.at("tool").at("driver");
  EXPECT_EQ(driver.at("name"), "mailwarden");
  const json& rules = driver.at("rules");
  const json& results = run.at("results");
  ASSERT_EQ(rules.size(), a->results.size());
  ASSERT_EQ(results.size(), a->results.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < a->results.size(); ++i) {
    const auto& c = *a->results[i].control;
    EXPECT_EQ(rules[i].at("id"), c.id);
    EXPECT_EQ(rules[i].at("shortDescription").at("text"), c.title);
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_EQ(results[i].at("ruleId"), c.id);
    EXPECT_EQ(results[i].at("ruleIndex"), i);
  }
}

TEST_P(ExampleSarif, KindCountsAreTheScoreCounts) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  const json doc = render(a->view);
  std::map<std::string, int> kinds;
  for (const auto& r : run_of(doc).at("results")) ++kinds[r.at("kind").get<std::string>()];
  EXPECT_EQ(kinds["pass"], a->view.score.pass);
  EXPECT_EQ(kinds["fail"], a->view.score.fail);
  EXPECT_EQ(kinds["open"], a->view.score.not_checked);
  EXPECT_EQ(kinds["notApplicable"], a->view.score.not_applicable);
  for (const auto& [kind, n] : kinds) {
    EXPECT_TRUE(kind == "pass" || kind == "fail" || kind == "open" || kind == "notApplicable")
        << n << " results of kind " << kind;
  }
  const json& score = run_of(doc).at("properties").at("score");
  EXPECT_EQ(score.at("percent"), a->view.score.percent);
  EXPECT_EQ(score.at("fail"), a->view.score.fail);
}

TEST_P(ExampleSarif, LevelFollowsKindAndSeverity) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  const json doc = render(a->view);
  const json& rules = run_of(doc).at("tool").at("driver").at("rules");
  const std::map<std::string, std::string> level_of_severity = {{"critical", "error"},
                                                                {"high", "error"},
                                                                {"medium", "warning"},
                                                                {"low", "warning"},
                                                                {"info", "note"}};
  for (const auto& r : run_of(doc).at("results")) {
    const json& rule = rules.at(r.at("ruleIndex").get<std::size_t>());
    const std::string severity = rule.at("properties").at("severity");
    EXPECT_EQ(rule.at("defaultConfiguration").at("level"), level_of_severity.at(severity));
    if (r.at("kind") == "fail") {
      EXPECT_EQ(r.at("level"), level_of_severity.at(severity)) << r.at("ruleId");
      EXPECT_TRUE(r.at("properties").contains("remediation"));
    } else {
      EXPECT_EQ(r.at("level"), "none") << r.at("ruleId");
    }
    EXPECT_FALSE(r.contains("baselineState")) << "no --baseline, no baselineState";
    EXPECT_EQ(r.at("partialFingerprints").size(), 1u);
  }
}

TEST_P(ExampleSarif, LocationsPointAtExistingLinesOfTheSnapshot) {
  auto a = test::load_example_audit(GetParam());
  ASSERT_TRUE(a);
  const json doc = render(a->view);
  const json& run = run_of(doc);
  const json& artifacts = run.at("artifacts");
  const std::string dir = std::string(MW_SOURCE_DIR) + "/examples/snapshots/" + GetParam() + "/";
  int located = 0;
  for (const auto& r : run.at("results")) {
    if (!r.contains("locations")) continue;
    for (const auto& l : r.at("locations")) {
      const json& al = l.at("physicalLocation").at("artifactLocation");
      EXPECT_EQ(al.at("uriBaseId"), "SNAPSHOT");
      const std::string uri = al.at("uri");
      EXPECT_EQ(artifacts.at(al.at("index").get<std::size_t>()).at("location").at("uri"), uri);
      std::ifstream in(dir + uri);
      ASSERT_TRUE(in) << uri << " of " << r.at("ruleId") << " is not a snapshot file";
      if (l.at("physicalLocation").contains("region")) {
        const long long n = l.at("physicalLocation").at("region").at("startLine");
        EXPECT_FALSE(line_of(dir + uri, n).empty()) << uri << ":" << n;
      }
      ++located;
    }
  }
  EXPECT_GT(located, 20);
  EXPECT_TRUE(run.at("originalUriBaseIds").at("SNAPSHOT").contains("description"));
  EXPECT_FALSE(run.at("originalUriBaseIds").at("SNAPSHOT").contains("uri"));
}

INSTANTIATE_TEST_SUITE_P(Snapshots, ExampleSarif,
                         ::testing::Values("zimbra-default", "zimbra-hardened"));

TEST(Sarif, FailingControlPointsAtItsLine) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  const json doc = render(a->view);
  const json* r = result_for(doc, "accounts.password.min-length");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("kind"), "fail");
  EXPECT_EQ(r->at("level"), "error");  // high
  ASSERT_EQ(r->at("locations").size(), 1u);
  const json& pl = r->at("locations")[0].at("physicalLocation");
  EXPECT_EQ(pl.at("artifactLocation").at("uri"), "zmprov-gc-default.txt");
  EXPECT_EQ(pl.at("artifactLocation").at("uriBaseId"), "SNAPSHOT");
  EXPECT_EQ(pl.at("region").at("startLine"), 336);
  EXPECT_EQ(line_of(std::string(MW_SOURCE_DIR) +
                        "/examples/snapshots/zimbra-default/zmprov-gc-default.txt",
                    336),
            "zimbraPasswordMinLength: 6");
  EXPECT_NE(r->at("message").at("text").get<std::string>().find("zmprov"), std::string::npos)
      << "the fix commands are in the message";

  // An origin that names a file inside a longer text: "policy accept of filter/INPUT
  // (iptables-save.txt:3)".
  const json* console = result_for(doc, "network.admin-console");
  ASSERT_TRUE(console);
  const json& cl = console->at("locations")[0].at("physicalLocation");
  EXPECT_EQ(cl.at("artifactLocation").at("uri"), "iptables-save.txt");
  EXPECT_EQ(cl.at("region").at("startLine"), 3);
  EXPECT_EQ(console->at("locations").size(), 1u) << "the same file:line once";
}

TEST(Sarif, NotCheckedIsOpenAndNotApplicableIsNotApplicable) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  const json doc = render(a->view);
  const json* open = result_for(doc, "ssh.password-authentication-files");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->at("kind"), "open");
  EXPECT_EQ(open->at("level"), "none");
  EXPECT_EQ(open->at("properties").at("status"), "not_checked");
  EXPECT_FALSE(open->at("properties").contains("remediation"));
  const json* na = result_for(doc, "network.memcached-cluster");
  ASSERT_TRUE(na);
  EXPECT_EQ(na->at("kind"), "notApplicable");
  EXPECT_EQ(na->at("level"), "none");
}

TEST(Sarif, BaselineStates) {
  auto a = test::load_example_audit("zimbra-default");
  ASSERT_TRUE(a);
  BaselineDiff d;
  d.file = "old.json";
  d.snapshot = "examples/snapshots/zimbra-old";
  d.collected_at = "2026-01-01T00:00:00Z";
  d.score_before = 10;
  d.failure_state["accounts.password.min-length"] = "unchanged";
  d.failure_state["accounts.password.upper-case"] = "updated";
  // accounts.password.lower-case fails and is not in the map: "new".
  d.new_failures.push_back({"accounts.password.lower-case", "pass", "fail"});
  d.fixed.push_back({"ssh.root-login", "fail", "pass"});
  d.changed.push_back({"ssh.password-authentication-files", "pass", "not_checked"});
  d.removed.push_back("zimbra.gone");
  a->view.baseline = d;
  const json doc = render(a->view);

  auto state = [&](const std::string& id) {
    const json* r = result_for(doc, id);
    EXPECT_TRUE(r) << id;
    return r && r->contains("baselineState") ? r->at("baselineState").get<std::string>()
                                             : std::string("(none)");
  };
  EXPECT_EQ(state("accounts.password.min-length"), "unchanged");
  EXPECT_EQ(state("accounts.password.upper-case"), "updated");
  EXPECT_EQ(state("accounts.password.lower-case"), "new");
  ASSERT_TRUE(result_for(doc, "ssh.root-login"));
  EXPECT_EQ(result_for(doc, "ssh.root-login")->at("kind"), "pass");
  EXPECT_EQ(state("ssh.root-login"), "absent");
  EXPECT_EQ(state("ssh.password-authentication-files"), "updated");
  EXPECT_EQ(state("network.memcached-cluster"), "(none)");
  for (const auto& r : run_of(doc).at("results")) {
    if (r.at("kind") == "fail") {
      EXPECT_TRUE(r.contains("baselineState")) << r.at("ruleId");
    }
  }
  const json& b = run_of(doc).at("properties").at("baseline");
  EXPECT_EQ(b.at("file"), "old.json");
  EXPECT_EQ(b.at("scoreBefore"), 10);
  EXPECT_EQ(b.at("removed"), json::array({"zimbra.gone"}));
  EXPECT_EQ(b.at("fixed"), json::array({"ssh.root-login"}));
}

// A hand-made view: one control per origin or value under test.
struct Synthetic {
  std::vector<audit::Control> controls;
  std::vector<audit::ControlResult> results;
  AuditView view;

  void add(const std::string& id, audit::Status status, std::vector<audit::FactRead> facts,
           std::vector<std::string> failing = {}) {
    audit::Control c;
    c.id = id;
    c.title = "title of " + id;
    c.severity = audit::Severity::medium;
    c.guides = {"Guide 1.2"};
    c.rationale = "why";
    c.remediation = "zmprov mc {object} zimbraX {value}\n";
    controls.push_back(c);
    audit::ControlResult r;
    r.status = status;
    r.facts = std::move(facts);
    r.failing = std::move(failing);
    r.detail = "detail of " + id;
    r.remediation = status == audit::Status::fail ? "zmprov mc default zimbraX 1\n" : "";
    results.push_back(std::move(r));
  }
  json render_all() {
    // Controls are stored first: pointers into `controls` stay valid once it stops growing.
    for (std::size_t i = 0; i < results.size(); ++i) results[i].control = &controls[i];
    view.results = &results;
    view.score = audit::score(results);
    if (view.snapshot.empty()) view.snapshot = "snap";
    view.tool = "mailwarden 1.2.3";
    return render(view);
  }
};

// (uri, line) of every location of a result; line 0 when the location has no region.
std::vector<std::pair<std::string, long long>> locations_of(const json& r) {
  std::vector<std::pair<std::string, long long>> out;
  if (!r.contains("locations")) return out;
  for (const auto& l : r.at("locations")) {
    const json& pl = l.at("physicalLocation");
    out.emplace_back(pl.at("artifactLocation").at("uri").get<std::string>(),
                     pl.contains("region") ? pl.at("region").at("startLine").get<long long>() : 0);
  }
  return out;
}

TEST(Sarif, OriginsToLocations) {
  using Locs = std::vector<std::pair<std::string, long long>>;
  const std::vector<std::pair<std::string, Locs>> cases = {
      {"zmprov-gs.txt:131", {{"zmprov-gs.txt", 131}}},
      {"zmprov-gs.txt", {{"zmprov-gs.txt", 0}}},
      {"master.cf:12 (-o on smtp)", {{"master.cf", 12}}},
      {"nft.json: handle 42", {{"nft.json", 0}}},
      {"/etc/ssh/sshd_config:12", {{"etc/ssh/sshd_config", 12}}},
      {"etc/ssh/sshd_config.d/50-x.conf:3", {{"etc/ssh/sshd_config.d/50-x.conf", 3}}},
      {"policy accept of filter/INPUT (iptables-save.txt:3); listening on *:25",
       {{"iptables-save.txt", 3}}},
      {"default (attrs.tsv)", {}},
      {"default (LC.java)", {}},
      {"catalog zimbra/cves.toml", {}},
      {"postconf -d", {}},
      {"Postfix default (postconf -d)", {}},
      {"firewall", {}},
      {"admin accounts", {}},
      {"no manifest.json", {}},
      {"not collected", {}},
      {"", {}},
      {"../../etc/shadow:1", {}},
      {"a/../b.txt:1", {}},
      {"dir/:1", {}},
      {"x.txt:12abc", {}},
      {"x.txt:99999999999", {}},
      {"x.txt:0", {{"x.txt", 0}}},
  };
  Synthetic s;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    s.add("c" + std::to_string(i), audit::Status::pass, {{"fact", "v", cases[i].first}});
  }
  const json doc = s.render_all();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json* r = result_for(doc, "c" + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(locations_of(*r), cases[i].second) << "origin '" << cases[i].first << "'";
    EXPECT_EQ(r->at("properties").at("facts")[0].at("origin"), cases[i].first);
  }
}

TEST(Sarif, IisConfigHasItsOwnBase) {
  Synthetic s;
  s.view.iis_config = "/srv/exchange/applicationHost.config";
  s.add("iis", audit::Status::fail,
        {{"ipSecurity allowUnlisted", "true", "applicationHost.config:42"}},
        {"Default Web Site/ecp"});
  s.add("zimbra", audit::Status::pass, {{"f", "v", "zmprov-gs.txt:1"}});
  const json doc = s.render_all();
  const json& l = result_for(doc, "iis")->at("locations")[0].at("physicalLocation");
  EXPECT_EQ(l.at("artifactLocation").at("uriBaseId"), "IISCONFIG");
  EXPECT_EQ(l.at("artifactLocation").at("uri"), "applicationHost.config");
  EXPECT_EQ(l.at("region").at("startLine"), 42);
  const json& z = result_for(doc, "zimbra")->at("locations")[0].at("physicalLocation");
  EXPECT_EQ(z.at("artifactLocation").at("uriBaseId"), "SNAPSHOT");
  const json& bases = run_of(doc).at("originalUriBaseIds");
  EXPECT_TRUE(bases.contains("IISCONFIG"));
  EXPECT_TRUE(bases.contains("SNAPSHOT"));
  for (const auto& [name, base] : bases.items()) EXPECT_FALSE(base.contains("uri")) << name;
}

TEST(Sarif, FingerprintIsStableAndFollowsFailingObjects) {
  auto fingerprint = [](const std::string& id, std::vector<std::string> failing) {
    Synthetic s;
    s.add(id, audit::Status::fail, {}, std::move(failing));
    const json doc = s.render_all();
    return result_for(doc, id)->at("partialFingerprints").at("mailwarden/v1").get<std::string>();
  };
  const std::string a = fingerprint("a", {"cos1", "cos2"});
  EXPECT_EQ(a.substr(0, 2), "a:");
  EXPECT_EQ(a.size(), 2u + 16u);
  EXPECT_EQ(a, fingerprint("a", {"cos2", "cos1"})) << "the order of failing objects does not count";
  EXPECT_NE(a, fingerprint("a", {"cos1"}));
  EXPECT_NE(a, fingerprint("a", {"cos1cos2"}));
  EXPECT_NE(a.substr(2), fingerprint("b", {"cos1", "cos2"}).substr(2));

  Synthetic t;
  t.add("a", audit::Status::fail, {}, {"cos1", "cos2"});
  t.add("b", audit::Status::fail, {}, {"cos1", "cos3"});
  Synthetic u;
  u.add("a", audit::Status::fail, {}, {"cos1", "cos2"});
  const json t_doc = t.render_all();
  const json u_doc = u.render_all();
  EXPECT_EQ(result_for(t_doc, "a")->at("partialFingerprints"),
            result_for(u_doc, "a")->at("partialFingerprints"))
      << "the same control and objects: the same identity";
  EXPECT_NE(result_for(t_doc, "a")->at("partialFingerprints").at("mailwarden/v1"),
            result_for(t_doc, "b")->at("partialFingerprints").at("mailwarden/v1"));
}

TEST(Sarif, HostileStringsNeverThrowAndStayValidJson) {
  const std::string hostile = std::string("say \"hi\"\n\ttab\\ \x01\x1b[31m \x7f end ") +
                              "\xff\xfe bad \xc3 cut \xed\xa0\x80 surrogate \xe2\x80\xa8 ls";
  Synthetic s;
  s.view.snapshot = "snap\xff\n";
  s.add("bad\xc0.id", audit::Status::fail, {{hostile, hostile, hostile + ":1"}}, {hostile});
  s.controls.back().title = hostile;
  s.controls.back().guides = {hostile};
  s.controls.back().rationale = hostile;
  s.controls.back().notes = hostile;
  s.results.back().detail = hostile;
  s.results.back().remediation = hostile;
  audit::Manifest m;
  m.host = hostile;
  m.files.push_back({"we ird%:x\xff.txt", hostile, "zimbra", "ok", 0, 1, 0, "", ""});
  s.view.manifest = m;
  s.view.tool = hostile;

  std::string text;
  ASSERT_NO_THROW(text = render_audit_sarif([&] {
                    for (std::size_t i = 0; i < s.results.size(); ++i)
                      s.results[i].control = &s.controls[i];
                    s.view.results = &s.results;
                    s.view.score = audit::score(s.results);
                    return s.view;
                  }()));
  json doc;
  ASSERT_NO_THROW(doc = json::parse(text));
  for (char c : text) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n')
        << "raw control character " << int(c);
  }
  EXPECT_NE(text.find("\\u0001"), std::string::npos);
  EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos) << "invalid bytes become U+FFFD";
  const json& r = run_of(doc).at("results")[0];
  EXPECT_NE(r.at("message").at("text").get<std::string>().find("say \"hi\"\n"), std::string::npos);
  EXPECT_FALSE(r.contains("locations")) << "a hostile origin names no file";
  const json& artifact = run_of(doc).at("artifacts")[0];
  EXPECT_EQ(artifact.at("location").at("uri"), "we%20ird%25%3Ax%FF.txt");
}

TEST(Sarif, ManifestFilesAreArtifacts) {
  Synthetic s;
  audit::Manifest m;
  m.host = "mail.example.org";
  m.collected_at = "2026-11-28T23:55:58Z";
  m.files.push_back(
      {"zmprov-gs.txt", "zmprov gs mail.example.org", "zimbra", "ok", 0, 12, 2, "", ""});
  m.files.push_back({"nft.json", "nft -j list ruleset", "", "not_available", std::nullopt, 0, 0, "",
                     "nft: not found"});
  s.view.manifest = m;
  s.add("x", audit::Status::pass, {{"f", "v", "zmprov-gs.txt:7"}, {"g", "w", "other.txt:2"}});
  const json doc = s.render_all();
  const json& artifacts = run_of(doc).at("artifacts");
  ASSERT_EQ(artifacts.size(), 3u);
  EXPECT_EQ(artifacts[0].at("location").at("uri"), "zmprov-gs.txt");
  EXPECT_EQ(artifacts[0].at("description").at("text"), "zmprov gs mail.example.org");
  EXPECT_EQ(artifacts[0].at("properties").at("runAs"), "zimbra");
  EXPECT_EQ(artifacts[1].at("properties").at("status"), "not_available");
  EXPECT_EQ(artifacts[2].at("location").at("uri"), "other.txt");
  const json& locs = result_for(doc, "x")->at("locations");
  EXPECT_EQ(locs[0].at("physicalLocation").at("artifactLocation").at("index"), 0);
  EXPECT_EQ(locs[1].at("physicalLocation").at("artifactLocation").at("index"), 2);
  EXPECT_EQ(run_of(doc).at("properties").at("host"), "mail.example.org");
  const json& driver = run_of(doc).at("tool").at("driver");
  EXPECT_EQ(driver.at("version"), "1.2.3");
  EXPECT_EQ(driver.at("semanticVersion"), "1.2.3");
  EXPECT_TRUE(run_of(doc).at("invocations")[0].at("executionSuccessful").get<bool>());
}

TEST(Sarif, EmptyViewIsAValidRun) {
  AuditView view;
  const json doc = render(view);
  EXPECT_TRUE(run_of(doc).at("results").empty());
  EXPECT_TRUE(run_of(doc).at("tool").at("driver").at("rules").empty());
  EXPECT_EQ(run_of(doc).at("tool").at("driver").at("version"), "dev");
}

}  // namespace
}  // namespace mw::report
