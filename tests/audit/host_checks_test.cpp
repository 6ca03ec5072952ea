// The host log and time controls: the crontab, logrotate and rsyslog parsers on real-looking
// files (positions in errors, comments ignored), retention at its 179/180-day boundary, and
// each check of catalog/controls/host-logs.toml on hand-built facts and on the sample host
// files of tests/data/audit/host.
#include "audit/host_logs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/snapshot.hpp"
#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = "tests/data/audit/host/";

std::string data(const std::string& name) {
  return test::read_source_file(kData + name);
}

// --- crontab ---------------------------------------------------------------------------------

Crontab crontab(const std::string& text) {
  auto r = parse_crontab(text, "zimbra-crontab.txt");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Crontab{};
}

TEST(Crontab, ZimbraDefaultPruning) {
  auto c = crontab(data("zimbra-crontab.txt"));
  EXPECT_EQ(c.entries, 10u);
  ASSERT_EQ(c.deletions.size(), 5u);
  const auto& logs = c.deletions[0];
  EXPECT_EQ(logs.line, 5u);
  EXPECT_EQ(logs.schedule, "30 2 * * *");
  EXPECT_THAT(logs.dirs, ElementsAre("/opt/zimbra/log"));
  EXPECT_THAT(logs.names, ElementsAre("*.log*"));  // the backslashes are the shell's
  EXPECT_EQ(logs.age_test, "-mtime +8");
  EXPECT_EQ(logs.kept_days, 9);
  EXPECT_THAT(logs.command, HasSubstr("find /opt/zimbra/log/"));
  EXPECT_THAT(c.deletions[1].names, ElementsAre("*.out.????????????"));
  EXPECT_EQ(c.deletions[2].line, 33u);
  EXPECT_THAT(c.deletions[2].dirs, ElementsAre("/opt/zimbra/mailboxd/logs"));
  EXPECT_EQ(c.deletions[3].maxdepth, 1);
  EXPECT_EQ(c.deletions[3].kept_days, 2);
  EXPECT_EQ(c.deletions[4].kept_days, 8);
}

TEST(Crontab, LaterZimbraFormWithExclusion) {
  auto c = crontab(
      "# ZIMBRASTART -- DO NOT EDIT ANYTHING BETWEEN THIS LINE AND ZIMBRAEND\n"
      "SHELL=/bin/bash\n"
      "30 2 * * * find /opt/zimbra/log/ ! -name 'zmsetup*.log' -type f -name '*.log?*' "
      "-mtime +8 -exec rm {} \\; > /dev/null 2>&1\n");
  EXPECT_EQ(c.entries, 1u);
  ASSERT_EQ(c.deletions.size(), 1u);
  EXPECT_THAT(c.deletions[0].names, ElementsAre("*.log?*"));
  EXPECT_THAT(c.deletions[0].not_names, ElementsAre("zmsetup*.log"));
  EXPECT_EQ(c.deletions[0].line, 3u);
  EXPECT_TRUE(deletion_reaches(c.deletions[0], "/opt/zimbra/log/mailbox.log.2025-01-01.gz"));
  EXPECT_FALSE(deletion_reaches(c.deletions[0], "/opt/zimbra/log/zmsetup.20250101.log"));
  EXPECT_FALSE(deletion_reaches(c.deletions[0], "/opt/zimbra/log/mailbox.log"));  // '?' needs one
}

TEST(Crontab, CommentsAndVariablesAreSkipped) {
  auto c = crontab(
      "# 30 2 * * * find /opt/zimbra/log -mtime +1 -delete\n"
      "   #15 * * * * find /var/log -delete\n"
      "MAILTO=\"\"\n"
      "PATH = /usr/bin:/bin\n"
      "\n"
      "*/2 * * * * /opt/zimbra/libexec/zmstatuslog\n");
  EXPECT_EQ(c.entries, 1u);
  EXPECT_TRUE(c.deletions.empty());
}

TEST(Crontab, AgeTests) {
  struct Case {
    std::string test;
    long kept;
  };
  const Case cases[] = {
      {"-mtime +8", 9},
      {"-mtime +178", 179},
      {"-mtime +179", 180},
      {"-mtime 8", 8},
      {"-mtime -8", 0},
      {"! -mtime +8", 0},
      {"-mmin +1440", 1},
      {"-mmin +2879", 1},
      {"-ctime +30", 31},
      {"", 0},
      {"-mtime +8 -mtime +400", 401},   // both must hold
      {"-mtime +8 -o -mtime +400", 9},  // either deletes
  };
  for (const auto& c : cases) {
    auto ct = crontab("0 3 * * * find /var/log/app -type f " + c.test + " -delete\n");
    ASSERT_EQ(ct.deletions.size(), 1u) << c.test;
    EXPECT_EQ(ct.deletions[0].kept_days, c.kept) << c.test;
  }
}

TEST(Crontab, WhatCountsAsDeleting) {
  struct Case {
    std::string command;
    bool deletes;
  };
  const Case cases[] = {
      {"find /var/log/app -mtime +8 -delete", true},
      {"find /var/log/app -mtime +8 -exec /bin/rm -f {} +", true},
      {"find /var/log/app -mtime +8 -execdir rm {} \\;", true},
      {"find /var/log/app -mtime +8 -print0 | xargs -0 rm -f", true},
      {"nice -n 19 /usr/bin/find /var/log/app -mtime +8 -delete", true},
      {"cd /tmp && find /var/log/app -mtime +8 -delete", true},
      {"find /var/log/app -mtime +8 -exec gzip {} \\;", false},
      {"find /var/log/app -mtime +8 -print", false},
      {"/opt/zimbra/libexec/zmcompresslogs > /dev/null 2>&1", false},
  };
  for (const auto& c : cases) {
    auto ct = crontab("0 3 * * * " + c.command + "\n");
    EXPECT_EQ(ct.deletions.size(), c.deletes ? 1u : 0u) << c.command;
  }
  auto at = crontab("@daily find \"/var/log/my app\" -name \"*.log\" -mtime +30 -delete\n");
  ASSERT_EQ(at.deletions.size(), 1u);
  EXPECT_EQ(at.deletions[0].schedule, "@daily");
  EXPECT_THAT(at.deletions[0].dirs, ElementsAre("/var/log/my app"));
  EXPECT_EQ(at.deletions[0].kept_days, 31);
  // cron ends the command at an unescaped %.
  auto pct = crontab("0 3 * * * find /var/log/app -mtime +8 -delete %x -mtime +900\n");
  ASSERT_EQ(pct.deletions.size(), 1u);
  EXPECT_EQ(pct.deletions[0].kept_days, 9);
}

TEST(Crontab, ErrorsNameFileLineAndColumn) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"no crontab for zimbra\n", "zimbra-crontab.txt:1:1: 'no' is not a crontab time field"},
      {"# c\n# c\n30 2 * * find /x -delete\n", "zimbra-crontab.txt:3:10: 'find' is not a crontab"},
      {"30 2 * * *\n", "zimbra-crontab.txt:1:1: expected five time fields and a command"},
      {"@sometimes find /x -delete\n", "zimbra-crontab.txt:1:1: unknown schedule '@sometimes'"},
      {"30 2 * * * find /x -name '*.log -delete\n",
       "zimbra-crontab.txt:1:26: unterminated ' quote"},
      {"30 2 * * * find /var/log -mtime +x -delete\n",
       "zimbra-crontab.txt:1:33: find -mtime: '+x' is not a number"},
      {"30 2 * * * find /var/log -mtime\n", "zimbra-crontab.txt:1:26: find -mtime: argument"},
      {"30 2 * * * find /var/log -mtime +8 -exec rm {}\n",
       "zimbra-crontab.txt:1:36: find -exec: no terminating ';'"},
  };
  for (const auto& c : cases) {
    auto r = parse_crontab(c.text, "zimbra-crontab.txt");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(Crontab, DeletionReaches) {
  auto c = crontab(
      "0 3 * * * find /opt/zimbra/log/ -maxdepth 1 -name '*.log*' ! -name 'keep*' -delete\n");
  ASSERT_EQ(c.deletions.size(), 1u);
  const auto& d = c.deletions[0];
  EXPECT_TRUE(deletion_reaches(d, "/opt/zimbra/log/audit.log.1.gz"));
  EXPECT_TRUE(deletion_reaches(d, "/opt/zimbra/log/AUDIT.LOG.1"));       // matched ignoring case
  EXPECT_FALSE(deletion_reaches(d, "/opt/zimbra/log/sub/audit.log.1"));  // -maxdepth 1
  EXPECT_FALSE(deletion_reaches(d, "/opt/zimbra/log/keep.log.1"));
  EXPECT_FALSE(deletion_reaches(d, "/opt/zimbra/logs/audit.log.1"));  // another directory
  EXPECT_FALSE(deletion_reaches(d, "/opt/zimbra/log/zmstat.out"));
  auto all = crontab("0 3 * * * find /var/log -mtime +8 -delete\n");
  EXPECT_TRUE(deletion_reaches(all.deletions[0], "/var/log/a/b/c.gz"));
}

// --- logrotate -------------------------------------------------------------------------------

// The sample files as the snapshot holds them; the texts live as long as the test.
struct HostFiles {
  std::deque<std::string> texts;  // a deque never moves its elements
  std::vector<HostFile> files;
  void add(const std::string& path, std::string text) {
    texts.push_back(std::move(text));
    files.push_back({path, texts.back()});
  }
};

HostFiles sample_logrotate() {
  HostFiles h;
  h.add("/etc/logrotate.conf", data("etc/logrotate.conf"));
  h.add("/etc/logrotate.d/rsyslog", data("etc/logrotate.d/rsyslog"));
  h.add("/etc/logrotate.d/zimbra", data("etc/logrotate.d/zimbra"));
  return h;
}

const LogrotateStanza* stanza_of(const LogrotateConfig& c, const std::string& path) {
  for (const auto& s : c.stanzas) {
    if (std::find(s.paths.begin(), s.paths.end(), path) != s.paths.end()) return &s;
  }
  return nullptr;
}

std::optional<long> days_of(const LogrotateConfig& c, const std::string& path) {
  const auto* s = stanza_of(c, path);
  EXPECT_NE(s, nullptr) << path;
  return s ? logrotate_retention(s->options).days : std::nullopt;
}

TEST(Logrotate, ZimbraFileWithUbuntuDefaults) {
  auto h = sample_logrotate();
  auto c = parse_logrotate(h.files);
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  EXPECT_TRUE(c.notes.empty());
  ASSERT_EQ(c.stanzas.size(), 6u);
  // daily from the block, rotate 4 from logrotate.conf: 4 days.
  const auto* z = stanza_of(c, "/var/log/zimbra.log");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->file, "/etc/logrotate.d/zimbra");
  EXPECT_EQ(z->line, 1u);
  EXPECT_EQ(z->options.rotate, 4);
  EXPECT_EQ(z->options.rotate_at, "/etc/logrotate.conf:13");
  EXPECT_EQ(z->options.every_at, "/etc/logrotate.d/zimbra:2");
  EXPECT_EQ(z->rotate_line, 0u);
  auto ret = logrotate_retention(z->options);
  EXPECT_EQ(ret.days, 4);
  EXPECT_EQ(ret.how,
            "rotate 4 (/etc/logrotate.conf:13) x daily (/etc/logrotate.d/zimbra:2) = 4 days");
  EXPECT_EQ(days_of(c, "/var/log/zimbra-stats.log"), 0);
  EXPECT_EQ(stanza_of(c, "/var/log/zimbra-stats.log")->rotate_line, 20u);
  EXPECT_EQ(days_of(c, "/opt/zimbra/log/myslow.log"), 30);
  EXPECT_EQ(days_of(c, "/opt/zimbra/log/clamd.log"), 7);  // size after daily: by size
  EXPECT_EQ(stanza_of(c, "/opt/zimbra/log/clamd.log")->options.every, RotateEvery::size);
  EXPECT_EQ(stanza_of(c, "/opt/zimbra/log/nginx.log"),
            stanza_of(c, "/opt/zimbra/log/nginx.access.log"));
  // Thirteen paths, one per line, before the '{'.
  const auto* sys = stanza_of(c, "/var/log/syslog");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->paths.size(), 13u);
  EXPECT_EQ(sys->line, 14u);
  EXPECT_EQ(days_of(c, "/var/log/messages"), 28);
}

TEST(Logrotate, GlobalOptionsFollowTheReadingOrder) {
  HostFiles h;
  h.add("/etc/logrotate.conf",
        "rotate 4\nweekly\ninclude /etc/logrotate.d\nrotate 52\n/var/log/wtmp {\n}\n");
  h.add("/etc/logrotate.d/a", "monthly\n/var/log/a.log {\n}\n");
  h.add("/etc/logrotate.d/b", "/var/log/b.log {\n    rotate 2\n}\n");
  auto c = parse_logrotate(h.files);
  ASSERT_TRUE(c.errors.empty()) << c.errors.front();
  // Options after the include do not reach the included files...
  EXPECT_EQ(stanza_of(c, "/var/log/a.log")->options.rotate, 4);
  // ...a global option of an included file carries on to the next one...
  EXPECT_EQ(stanza_of(c, "/var/log/b.log")->options.every, RotateEvery::monthly);
  EXPECT_EQ(stanza_of(c, "/var/log/b.log")->options.every_at, "/etc/logrotate.d/a:1");
  EXPECT_EQ(stanza_of(c, "/var/log/b.log")->options.rotate, 2);
  // ...and a block after the include sees everything before it.
  EXPECT_EQ(stanza_of(c, "/var/log/wtmp")->options.rotate, 52);
  EXPECT_EQ(stanza_of(c, "/var/log/wtmp")->options.every, RotateEvery::monthly);
  // The order logrotate reads them in.
  ASSERT_EQ(c.stanzas.size(), 3u);
  EXPECT_EQ(c.stanzas[0].paths[0], "/var/log/a.log");
  EXPECT_EQ(c.stanzas[2].paths[0], "/var/log/wtmp");
}

TEST(Logrotate, RetentionAtItsBoundaries) {
  struct Case {
    std::string block;
    std::optional<long> days;
  };
  const Case cases[] = {
      {"daily\nrotate 180", 180},
      {"daily\nrotate 179", 179},
      {"weekly\nrotate 26", 182},
      {"weekly\nrotate 25", 175},
      {"monthly\nrotate 6", 180},
      {"yearly\nrotate 1", 365},
      {"hourly\nrotate 24", 1},
      {"rotate 5", 5},  // no period: one rotation a day at most
      {"size 100M\nrotate 30", 30},
      {"weekly\nrotate 30\nmaxsize 10M", 30},  // maxsize can rotate it daily
      {"daily\nrotate 365\nmaxage 90", 90},
      {"daily\nrotate -1", std::nullopt},
      {"daily\nrotate -1\nmaxage 200", 200},
      {"daily\nrotate = 200", 200},
      {"size 1M\ndaily\nrotate 10", 10},
      {"daily\nsize 1M\nrotate 10", 10},
  };
  for (const auto& c : cases) {
    HostFiles h;
    h.add("/etc/logrotate.d/app", "/var/log/app.log {\n" + c.block + "\n}\n");
    auto cfg = parse_logrotate(h.files);
    ASSERT_TRUE(cfg.errors.empty()) << cfg.errors.front();
    ASSERT_EQ(cfg.stanzas.size(), 1u) << c.block;
    EXPECT_EQ(logrotate_retention(cfg.stanzas[0].options).days, c.days) << c.block;
  }
}

TEST(Logrotate, CommentsAndScriptsAreSkipped) {
  HostFiles h;
  h.add("/etc/logrotate.d/app",
        "# /var/log/ghost.log {\n"
        "/var/log/app.log {\n"
        "    # rotate 1\n"
        "    daily\n"
        "    rotate 200\n"
        "    postrotate\n"
        "        rotate 1\n"
        "        }\n"
        "        /bin/kill -HUP $(cat /run/app.pid)\n"
        "    endscript\n"
        "}\n");
  auto c = parse_logrotate(h.files);
  ASSERT_TRUE(c.errors.empty()) << c.errors.front();
  ASSERT_EQ(c.stanzas.size(), 1u);
  EXPECT_EQ(c.stanzas[0].options.rotate, 200);
  EXPECT_EQ(c.stanzas[0].rotate_line, 5u);
  EXPECT_EQ(c.stanzas[0].line, 2u);
}

TEST(Logrotate, ErrorsNameFileLineAndColumnAndSpareOtherFiles) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"/var/log/a {\n    daily\n    rotate x\n}\n",
       "/etc/logrotate.d/bad:3:12: rotate: 'x' is not a count"},
      {"/var/log/a {\n    rotate -2\n}\n", "/etc/logrotate.d/bad:2:12: rotate: '-2'"},
      {"/var/log/a {\n    maxage soon\n}\n", "/etc/logrotate.d/bad:2:12: maxage: 'soon'"},
      {"/var/log/a {\n    rotate\n}\n", "/etc/logrotate.d/bad:2:5: rotate: argument expected"},
      {"/var/log/a {\n    daily\n", "/etc/logrotate.d/bad:1:1: block not closed by '}'"},
      {"daily\n}\n", "/etc/logrotate.d/bad:2:1: '}' without an opening '{'"},
      {"/var/log/a {\n  include /etc/x\n}\n",
       "/etc/logrotate.d/bad:2:3: include may not appear inside a log file block"},
      {"/var/log/a {\n  postrotate\n    true\n}\n",
       "/etc/logrotate.d/bad:2:1: script without endscript"},
      {"/var/log/a\ndaily\n", "/etc/logrotate.d/bad:1:1: log file names without a '{' block"},
      {"/var/log/a { daily }\n", "/etc/logrotate.d/bad:1:13: expected a line break after '{'"},
      {"/var/log/a {\n/var/log/b {\n}\n", "/etc/logrotate.d/bad:2:1: '/var/log/b {' inside"},
      {"/var/log/a {\n} x\n", "/etc/logrotate.d/bad:2:2: unexpected text after '}'"},
      {"\"/var/log/a {\n}\n", "/etc/logrotate.d/bad:1:1: unterminated \" quote"},
  };
  for (const auto& c : cases) {
    HostFiles h;
    h.add("/etc/logrotate.d/bad", c.text);
    h.add("/etc/logrotate.d/good", "/var/log/good.log {\n  rotate 9\n}\n");
    auto cfg = parse_logrotate(h.files);
    ASSERT_EQ(cfg.errors.size(), 1u) << c.text;
    EXPECT_THAT(cfg.errors[0], HasSubstr(c.message)) << c.text;
    // The broken file's blocks are left out; the next file is still read.
    ASSERT_EQ(cfg.stanzas.size(), 1u) << c.text;
    EXPECT_EQ(cfg.stanzas[0].paths[0], "/var/log/good.log");
  }
}

TEST(Logrotate, TabooFilesIncludesAndNotes) {
  HostFiles h;
  h.add("/etc/logrotate.conf", "rotate 4\ninclude /etc/logrotate.d/\ninclude /etc/other.d\n");
  h.add("/etc/logrotate.d/zimbra", "/var/log/zimbra.log {\n  daily\n}\n");
  h.add("/etc/logrotate.d/zimbra.dpkg-old", "/var/log/old.log {\n}\n");
  h.add("/etc/logrotate.d/zimbra~", "/var/log/backup.log {\n}\n");
  auto c = parse_logrotate(h.files);
  EXPECT_TRUE(c.errors.empty());
  ASSERT_EQ(c.stanzas.size(), 1u);
  EXPECT_EQ(c.stanzas[0].paths[0], "/var/log/zimbra.log");
  EXPECT_THAT(c.notes, ElementsAre("/etc/logrotate.conf:3: include /etc/other.d: not in the "
                                   "snapshot"));

  HostFiles without_main;
  without_main.add("/etc/logrotate.d/zimbra", "/var/log/zimbra.log {\n  daily\n}\n");
  auto d = parse_logrotate(without_main.files);
  ASSERT_EQ(d.stanzas.size(), 1u);
  EXPECT_EQ(d.stanzas[0].options.rotate, 0);
  EXPECT_EQ(d.stanzas[0].options.rotate_at, "");
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_THAT(d.notes[0], HasSubstr("/etc/logrotate.conf is not in the snapshot"));
}

TEST(Logrotate, RotatedCopyPath) {
  LogrotateStanza s;
  EXPECT_EQ(rotated_copy_path(s, "/opt/zimbra/log/myslow.log"), "/opt/zimbra/log/myslow.log.1");
  s.options.compress = true;
  EXPECT_EQ(rotated_copy_path(s, "/opt/zimbra/log/myslow.log"), "/opt/zimbra/log/myslow.log.1.gz");
  s.options.dateext = true;
  s.options.olddir = "old";
  EXPECT_EQ(rotated_copy_path(s, "/var/log/app/*.log"), "/var/log/app/old/x.log-20250101.gz");
  s.options.olddir = "/srv/archive/";
  EXPECT_EQ(rotated_copy_path(s, "/var/log/app/[ab]?.log"), "/srv/archive/xx.log-20250101.gz");
}

// --- rsyslog ---------------------------------------------------------------------------------

RsyslogConfig rsyslog(const std::string& text, const std::string& path = "/etc/rsyslog.conf") {
  HostFiles h;
  h.add(path, text);
  return parse_rsyslog(h.files);
}

TEST(Rsyslog, LegacyForwardingForms) {
  struct Case {
    std::string line;
    std::string selector, protocol, target, port;
  };
  const Case cases[] = {
      {"*.* @loghost", "*.*", "udp", "loghost", ""},
      {"*.*  @@loghost.example.org:10514", "*.*", "tcp", "loghost.example.org", "10514"},
      {"mail.* @@(o,z9)[2001:db8::1]:514;RSYSLOG_ForwardFormat", "mail.*", "tcp", "2001:db8::1",
       "514"},
      {"auth,authpriv.* :omrelp:relp.example.org:2514", "auth,authpriv.*", "relp",
       "relp.example.org", "2514"},
      {"& @@192.0.2.10", "&", "tcp", "192.0.2.10", ""},
      {":msg, contains, \"sasl\" @logs", ":msg, contains, \"sasl\"", "udp", "logs", ""},
      {"if $programname == 'postfix' then @@logs:514", "if $programname == 'postfix' then", "tcp",
       "logs", "514"},
      {"\tlocal0.*                @zlog.example.org", "local0.*", "udp", "zlog.example.org", ""},
  };
  for (const auto& c : cases) {
    auto r = rsyslog("# a comment\n" + c.line + "\n");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front();
    ASSERT_EQ(r.forwards.size(), 1u) << c.line;
    const auto& f = r.forwards[0];
    EXPECT_EQ(f.line, 2u);
    EXPECT_EQ(f.file, "/etc/rsyslog.conf");
    EXPECT_EQ(f.selector, c.selector) << c.line;
    EXPECT_EQ(f.protocol, c.protocol) << c.line;
    EXPECT_EQ(f.target, c.target) << c.line;
    EXPECT_EQ(f.port, c.port) << c.line;
  }
}

TEST(Rsyslog, ActionObjects) {
  auto r = rsyslog(
      "module(load=\"imuxsock\")\n"
      "module(load=\"omrelp\")\n"
      "template(name=\"fwd\" type=\"string\"\n"
      "         string=\"<%PRI%>%TIMESTAMP% %HOSTNAME% @ %msg%\n\")\n"
      "*.* action(type=\"omfile\" file=\"/var/log/all.log\")\n"
      "mail.* action(type=\"omfwd\"\n"
      "              target=\"logs.example.org\" port=\"6514\" protocol=\"tcp\"\n"
      "              # a comment inside: @nothing\n"
      "              StreamDriver=\"gtls\" StreamDriverMode=\"1\")\n"
      "action(type='omrelp' target='relp.example.org' port='2514')\n"
      "Action (Type=\"OMFWD\" Target=\"udp.example.org\")\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.forwards.size(), 3u);
  EXPECT_EQ(r.forwards[0].line, 7u);
  EXPECT_EQ(r.forwards[0].selector, "mail.*");
  EXPECT_EQ(r.forwards[0].protocol, "tcp");
  EXPECT_EQ(r.forwards[0].target, "logs.example.org");
  EXPECT_EQ(r.forwards[0].port, "6514");
  EXPECT_THAT(r.forwards[0].written,
              HasSubstr("action(type=\"omfwd\" target=\"logs.example.org\""));
  EXPECT_EQ(r.forwards[1].protocol, "relp");
  EXPECT_EQ(r.forwards[1].target, "relp.example.org");
  EXPECT_EQ(r.forwards[1].selector, "");
  EXPECT_EQ(r.forwards[2].protocol, "udp");
  EXPECT_EQ(r.forwards[2].target, "udp.example.org");
}

TEST(Rsyslog, CommentedAndQuotedForwardsDoNotCount) {
  auto r = rsyslog(
      "#*.* @@central.example.org:514\n"
      "   # mail.* @backup\n"
      "*.* -/var/log/syslog # was @old-loghost\n"
      "/*\n"
      "*.* @@inside-a-comment\n"
      "action(type=\"omfwd\" target=\"commented.example.org\")\n"
      "*/\n"
      "$ActionQueueFileName fwd@queue\n"
      ":msg, contains, \"@\" /var/log/at.log\n"
      "*.emerg :omusrmsg:*\n"
      "user@example.org\n");
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_TRUE(r.forwards.empty()) << r.forwards.front().written;
}

TEST(Rsyslog, ErrorsNameFileLineAndColumnAndSpareOtherFiles) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"*.* @\n", "/etc/rsyslog.d/bad.conf:1:5: '@': forwarding action without a host"},
      {"\n*.* @@host:abc\n", "/etc/rsyslog.d/bad.conf:2:5: '@@host:abc': port 'abc' is not"},
      {"*.* @@[::1:514\n", "/etc/rsyslog.d/bad.conf:1:5: '@@[::1:514': '[' not closed"},
      {"*.* @(o host\n", "/etc/rsyslog.d/bad.conf:1:5: '@(o': options '(' not closed"},
      {"x\n  action(type=\"omfwd\"\n  target=\"a\"\n",
       "/etc/rsyslog.d/bad.conf:2:3: 'action(' not"},
      {"action(type=\"omfwd\" port=\"514\")\n",
       "/etc/rsyslog.d/bad.conf:1:1: action(type=\"omfwd\") without a target"},
      {"action(type=\"omfwd\" target=\"a\" port=\"x\")\n", "port 'x' is not a number"},
      {"/* never closed\n*.* @@host\n", "/etc/rsyslog.d/bad.conf:1:1: /* comment not closed"},
      {":msg, contains, \"oops @host\n", "/etc/rsyslog.d/bad.conf:1:17: unterminated \" quote"},
  };
  for (const auto& c : cases) {
    HostFiles h;
    h.add("/etc/rsyslog.d/bad.conf", c.text);
    h.add("/etc/rsyslog.d/good.conf", "*.* @@good.example.org\n");
    auto r = parse_rsyslog(h.files);
    ASSERT_EQ(r.errors.size(), 1u) << c.text;
    EXPECT_THAT(r.errors[0], HasSubstr(c.message)) << c.text;
    ASSERT_FALSE(r.forwards.empty());
    EXPECT_EQ(r.forwards.back().target, "good.example.org");
  }
}

// --- the checks ----------------------------------------------------------------------------------

const std::vector<Control>& controls() {
  static const std::vector<Control> all = [] {
    auto r = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(*r) : std::vector<Control>{};
  }();
  return all;
}

const Control& control(const std::string& id) {
  for (const auto& c : controls()) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no control " << id;
  static const Control none;
  return none;
}

ControlResult run(const std::string& id, const Facts& f) {
  static const CustomChecks checks = builtin_checks();
  return evaluate(control(id), f, checks);
}

std::vector<Facts::RawFile> raw(std::vector<std::pair<std::string, std::string>> files) {
  std::vector<Facts::RawFile> out;
  for (auto& [p, t] : files) out.push_back({p, t});
  return out;
}

Facts retention_facts(std::optional<std::string> crontab_text,
                      std::optional<std::vector<Facts::RawFile>> logrotate) {
  Facts f;
  if (crontab_text) {
    f.zimbra_crontab = std::move(crontab_text);
    f.file_of["crontab"] = "zimbra-crontab.txt";
  } else {
    f.missing["crontab"] = "zimbra-crontab.txt: not in the snapshot";
  }
  if (logrotate) {
    f.logrotate = std::move(logrotate);
    f.file_of["logrotate"] = "etc/logrotate.conf";
  } else {
    f.missing["logrotate"] = "etc/logrotate.conf and etc/logrotate.d/: not in the snapshot";
  }
  return f;
}

std::vector<Facts::RawFile> sample_logrotate_raw() {
  return raw({{"/etc/logrotate.conf", data("etc/logrotate.conf")},
              {"/etc/logrotate.d/rsyslog", data("etc/logrotate.d/rsyslog")},
              {"/etc/logrotate.d/zimbra", data("etc/logrotate.d/zimbra")}});
}

std::vector<Facts::RawFile> long_logrotate(const std::string& rotate = "rotate 180") {
  return raw({{"/etc/logrotate.conf", "weekly\nrotate 26\ninclude /etc/logrotate.d\n"},
              {"/etc/logrotate.d/zimbra",
               "/var/log/zimbra.log {\n    daily\n    " + rotate + "\n    compress\n}\n"}});
}

std::string cron_with(const std::string& age) {
  return "# ZIMBRASTART\n30 2 * * * find /opt/zimbra/log/ -type f -name \\*.log\\* " + age +
         " -exec rm {} \\; > /dev/null 2>&1\n";
}

TEST(LogRetention, ZimbraDefaultsFailWithEveryShortLog) {
  auto r = run("host.log-retention",
               retention_facts(data("zimbra-crontab.txt"), sample_logrotate_raw()));
  ASSERT_EQ(r.status, Status::fail) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("zimbra-crontab.txt:5: `-mtime +8` deletes *.log* under "
                                  "/opt/zimbra/log after 9 days"));
  EXPECT_THAT(r.detail, HasSubstr("/var/log/zimbra.log (/etc/logrotate.d/zimbra:1): 4 days"));
  EXPECT_THAT(r.detail,
              HasSubstr("/var/log/zimbra-stats.log (/etc/logrotate.d/zimbra:12): 0 days"));
  // The thirteen paths of one block, together.
  EXPECT_THAT(r.detail, HasSubstr("/var/log/syslog, /var/log/mail.info, /var/log/mail.warn, "));
  EXPECT_THAT(r.detail, HasSubstr("/var/log/messages (/etc/logrotate.d/rsyslog:14): 28 days"));
  EXPECT_THAT(r.detail, HasSubstr("/opt/zimbra/log/nginx.log, /opt/zimbra/log/nginx.access.log "
                                  "(/etc/logrotate.d/zimbra:47): 7 days"));
  // logrotate keeps 30 copies of myslow.log, the crontab's find deletes them after 9 days.
  EXPECT_THAT(r.detail, HasSubstr("/opt/zimbra/log/myslow.log (/etc/logrotate.d/zimbra:23): 9 "
                                  "days (rotate 30 (/etc/logrotate.d/zimbra:27) x daily "
                                  "(/etc/logrotate.d/zimbra:24) = 30 days, cut to 9 days by "
                                  "zimbra-crontab.txt:5 (-mtime +8))"));
  // The quarantine and amavis tmp finds are not about logs.
  EXPECT_THAT(r.detail, Not(HasSubstr("quarantine")));
  EXPECT_THAT(r.failing, Contains("zimbra-crontab.txt:5"));
  EXPECT_THAT(r.failing, Contains("zimbra-crontab.txt:33"));
  EXPECT_THAT(r.failing, Contains("/var/log/zimbra.log"));
  EXPECT_THAT(r.remediation,
              HasSubstr("crontab -u zimbra -l | sed -e '5s/-mtime +8\\b/-mtime +190/' -e "
                        "'6s/-mtime +8\\b/-mtime +190/' -e '33s/-mtime +8\\b/-mtime +190/' | "
                        "crontab -u zimbra -\n"));
  EXPECT_THAT(r.remediation,
              HasSubstr("sed -i -e '1a\\    rotate 180' -e '20s/rotate.*/rotate 180/' -e "
                        "'27s/rotate.*/rotate 180/'"));
  EXPECT_THAT(r.remediation,
              HasSubstr("sed -i -e '15s/rotate.*/rotate 26/' /etc/logrotate.d/rsyslog\n"));
  EXPECT_THAT(r.remediation, HasSubstr("logrotate -d /etc/logrotate.conf"));
  bool reported = false;
  for (const auto& fact : r.facts) {
    if (fact.name == "logrotate /var/log/zimbra.log") {
      reported = true;
      EXPECT_EQ(fact.origin, "/etc/logrotate.d/zimbra:1");
      EXPECT_THAT(fact.value, HasSubstr("4 days"));
    }
  }
  EXPECT_TRUE(reported);
}

TEST(LogRetention, PassesAtTheBoundaryAndFailsOneDayShort) {
  // Crontab: -mtime +179 keeps files 180 days; +178 keeps them 179.
  EXPECT_EQ(
      run("host.log-retention", retention_facts(cron_with("-mtime +179"), long_logrotate())).status,
      Status::pass);
  auto cron_short =
      run("host.log-retention", retention_facts(cron_with("-mtime +178"), long_logrotate()));
  EXPECT_EQ(cron_short.status, Status::fail);
  EXPECT_THAT(cron_short.detail, HasSubstr("after 179 days"));
  // logrotate: rotate 180 daily keeps 180 days; 179 keeps 179.
  auto rot_short = run("host.log-retention",
                       retention_facts(cron_with("-mtime +400"), long_logrotate("rotate 179")));
  EXPECT_EQ(rot_short.status, Status::fail);
  EXPECT_THAT(rot_short.detail,
              HasSubstr("/var/log/zimbra.log (/etc/logrotate.d/zimbra:1): 179 days"));
  EXPECT_THAT(rot_short.remediation,
              HasSubstr("sed -i -e '3s/rotate.*/rotate 180/' /etc/logrotate.d/zimbra\n"));
  auto pass = run("host.log-retention",
                  retention_facts(cron_with("-mtime +400"), long_logrotate("rotate 180")));
  EXPECT_EQ(pass.status, Status::pass) << pass.detail;
  EXPECT_THAT(pass.detail, HasSubstr("at least 180 days"));
  EXPECT_TRUE(pass.remediation.empty());
  // maxage cuts it.
  auto maxage =
      run("host.log-retention",
          retention_facts(cron_with("-mtime +400"), long_logrotate("rotate 365\n    maxage 179")));
  EXPECT_EQ(maxage.status, Status::fail);
  EXPECT_THAT(maxage.remediation, HasSubstr("-e '4s/maxage.*/maxage 180/'"));
  EXPECT_THAT(maxage.remediation, Not(HasSubstr("rotate 180")));
}

TEST(LogRetention, AFindWithoutAnAgeIsLeftToAPerson) {
  auto r = run("host.log-retention",
               retention_facts("0 4 * * * find /opt/zimbra/log -name '*.log.*' -delete\n",
                               long_logrotate()));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.detail, HasSubstr("zimbra-crontab.txt:1: `find` deletes *.log.* under "
                                  "/opt/zimbra/log after 0 days"));
  EXPECT_EQ(r.remediation,
            "crontab -u zimbra -e   # line 1: give the find '-mtime +190' (it deletes *.log.* "
            "under /opt/zimbra/log at any age)\n");
}

TEST(LogRetention, ANegatedAgeTestIsLeftToAPerson) {
  auto r = run(
      "host.log-retention",
      retention_facts("0 4 * * * find /opt/zimbra/log ! -mtime +8 -delete\n", long_logrotate()));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_THAT(r.remediation, HasSubstr("crontab -u zimbra -e   # line 1"));
  EXPECT_THAT(r.remediation, Not(HasSubstr("sed")));
}

TEST(LogRetention, ACrontabWithoutLogDeletionsIsFine) {
  auto r = run("host.log-retention",
               retention_facts("*/2 * * * * /opt/zimbra/libexec/zmstatuslog\n"
                               "0 1 * * * find /opt/zimbra/data/amavisd/quarantine -type f "
                               "-mtime +7 -exec rm -f {} \\;\n",
                               long_logrotate()));
  EXPECT_EQ(r.status, Status::pass) << r.detail;
}

TEST(LogRetention, MissingPartsAreNotChecked) {
  auto none = run("host.log-retention", retention_facts(std::nullopt, std::nullopt));
  EXPECT_EQ(none.status, Status::not_checked);
  EXPECT_THAT(none.detail, AllOf(HasSubstr("zimbra-crontab.txt: not in the snapshot"),
                                 HasSubstr("etc/logrotate.conf and etc/logrotate.d/")));
  // logrotate passes, but the crontab (the known 8-day deleter) is not there.
  auto no_cron = run("host.log-retention", retention_facts(std::nullopt, long_logrotate()));
  EXPECT_EQ(no_cron.status, Status::not_checked);
  EXPECT_THAT(no_cron.detail, HasSubstr("not checked: the zimbra crontab"));
  // What is there already fails: fail, and the detail says what was not checked.
  auto no_cron_short =
      run("host.log-retention", retention_facts(std::nullopt, sample_logrotate_raw()));
  EXPECT_EQ(no_cron_short.status, Status::fail);
  EXPECT_THAT(no_cron_short.detail, HasSubstr("not checked: the zimbra crontab"));
  // The crontab passes, logrotate is not there.
  auto no_lr = run("host.log-retention", retention_facts(cron_with("-mtime +200"), std::nullopt));
  EXPECT_EQ(no_lr.status, Status::not_checked);
  EXPECT_THAT(no_lr.detail, HasSubstr("not checked: logrotate (etc/logrotate.conf"));
  auto no_lr_short =
      run("host.log-retention", retention_facts(cron_with("-mtime +8"), std::nullopt));
  EXPECT_EQ(no_lr_short.status, Status::fail);
}

TEST(LogRetention, UnreadableFilesAreNotChecked) {
  auto bad_cron =
      run("host.log-retention", retention_facts("no crontab for zimbra\n", long_logrotate()));
  EXPECT_EQ(bad_cron.status, Status::not_checked);
  EXPECT_THAT(bad_cron.detail,
              HasSubstr("zimbra-crontab.txt:1:1: 'no' is not a crontab time field"));
  auto bad_lr = long_logrotate();
  bad_lr.push_back({"/etc/logrotate.d/broken", "/var/log/x.log {\n  rotate many\n}\n"});
  auto r = run("host.log-retention", retention_facts(cron_with("-mtime +400"), bad_lr));
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("/etc/logrotate.d/broken:2:10: rotate: 'many' is not a count"));
}

TEST(LogRetention, DefaultsOfAMissingLogrotateConfAreNotGuessedIntoAFail) {
  // Without logrotate.conf a block without `rotate` could inherit anything.
  auto facts =
      retention_facts(cron_with("-mtime +400"),
                      raw({{"/etc/logrotate.d/zimbra", "/var/log/zimbra.log {\n    daily\n}\n"}}));
  auto r = run("host.log-retention", facts);
  EXPECT_EQ(r.status, Status::not_checked) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("/etc/logrotate.conf is not in the snapshot"));
  // What the block says itself is no guess.
  auto own = retention_facts(
      cron_with("-mtime +400"),
      raw({{"/etc/logrotate.d/zimbra", "/var/log/zimbra.log {\n    daily\n    rotate 7\n}\n"}}));
  EXPECT_EQ(run("host.log-retention", own).status, Status::fail);
}

// The remediation is pasted as is: run it (with the crontab command and the paths pointed at a
// scratch copy) and the control passes.
TEST(LogRetention, RemediationMakesItPass) {
  if (std::system("sed --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no GNU sed";
  auto dir = std::filesystem::temp_directory_path() /
             ("mw-host-remediation-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "etc/logrotate.d");
  auto write = [&](const std::string& rel, const std::string& text) {
    std::ofstream(dir / rel, std::ios::binary) << text;
  };
  auto read = [&](const std::string& rel) {
    std::ifstream in(dir / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  write("crontab", data("zimbra-crontab.txt"));
  for (const char* f : {"logrotate.conf", "logrotate.d/rsyslog", "logrotate.d/zimbra"}) {
    write(std::string("etc/") + f, data(std::string("etc/") + f));
  }
  auto facts = retention_facts(data("zimbra-crontab.txt"), sample_logrotate_raw());
  auto before = run("host.log-retention", facts);
  ASSERT_EQ(before.status, Status::fail);
  std::string script = before.remediation;
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (auto at = script.find(from); at != std::string::npos;
         at = script.find(from, at + to.size()))
      script.replace(at, from.size(), to);
  };
  const std::string d = dir.string();
  replace_all("crontab -u zimbra -l", "cat " + d + "/crontab");
  replace_all("| crontab -u zimbra -",
              "> " + d + "/crontab.new && mv " + d + "/crontab.new " + d + "/crontab");
  replace_all(" /etc/logrotate", " " + d + "/etc/logrotate");
  replace_all("logrotate -d", "true");
  ASSERT_EQ(std::system(("set -e\n" + script).c_str()), 0) << script;
  auto after =
      run("host.log-retention",
          retention_facts(read("crontab"),
                          raw({{"/etc/logrotate.conf", read("etc/logrotate.conf")},
                               {"/etc/logrotate.d/rsyslog", read("etc/logrotate.d/rsyslog")},
                               {"/etc/logrotate.d/zimbra", read("etc/logrotate.d/zimbra")}})));
  EXPECT_EQ(after.status, Status::pass) << after.detail << "\n" << script;
  std::filesystem::remove_all(dir);
}

Facts rsyslog_facts(std::vector<std::pair<std::string, std::string>> files) {
  Facts f;
  f.rsyslog = raw(std::move(files));
  f.file_of["rsyslog"] = "etc/rsyslog.conf";
  return f;
}

TEST(RemoteSyslog, PassNamesTheTargets) {
  auto r = run(
      "host.remote-syslog",
      rsyslog_facts({{"/etc/rsyslog.conf", data("etc/rsyslog.conf")},
                     {"/etc/rsyslog.d/50-default.conf", data("etc/rsyslog.d/50-default.conf")}}));
  ASSERT_EQ(r.status, Status::pass) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("udp zlog.example.org for local0.* (/etc/rsyslog.conf:34)"));
  EXPECT_THAT(r.detail, HasSubstr("for mail.* (/etc/rsyslog.conf:40)"));
  EXPECT_THAT(r.detail, Not(HasSubstr("central.example.org")));
}

TEST(RemoteSyslog, FailsWithoutAForwardToAnotherHost) {
  auto local = run(
      "host.remote-syslog",
      rsyslog_facts({{"/etc/rsyslog.d/50-default.conf", data("etc/rsyslog.d/50-default.conf")}}));
  EXPECT_EQ(local.status, Status::fail);
  EXPECT_EQ(local.detail, "no rsyslog action forwards logs to another host");
  EXPECT_THAT(local.remediation, HasSubstr("/etc/rsyslog.d/90-remote.conf && systemctl restart "
                                           "rsyslog"));
  Facts self = rsyslog_facts({{"/etc/rsyslog.conf",
                               "*.* @@127.0.0.1:10514\n"
                               "mail.* @[::1]\n"
                               "auth.* @mail.example.org\n"
                               "cron.* @LOCALHOST\n"}});
  ZObject server;
  server.entry.name = "mail.example.org";
  server.file = "zmprov-gs.txt";
  self.server = server;
  auto loop = run("host.remote-syslog", self);
  EXPECT_EQ(loop.status, Status::fail);
  EXPECT_THAT(loop.detail, HasSubstr("rsyslog forwards only to this host: tcp 127.0.0.1:10514"));
  // rsyslog reads only *.conf from rsyslog.d.
  auto disabled =
      run("host.remote-syslog",
          rsyslog_facts({{"/etc/rsyslog.d/90-remote.conf.disabled", "*.* @@logs.example.org\n"}}));
  EXPECT_EQ(disabled.status, Status::fail);
}

TEST(RemoteSyslog, NotCheckedWithoutFilesOrWhenUnreadable) {
  Facts none;
  none.missing["rsyslog"] = "etc/rsyslog.conf and etc/rsyslog.d/: not in the snapshot";
  auto r = run("host.remote-syslog", none);
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_EQ(r.detail, "etc/rsyslog.conf and etc/rsyslog.d/: not in the snapshot");
  auto broken =
      run("host.remote-syslog", rsyslog_facts({{"/etc/rsyslog.d/60-fwd.conf", "/* *.* @@logs\n"}}));
  EXPECT_EQ(broken.status, Status::not_checked);
  EXPECT_THAT(broken.detail, HasSubstr("/etc/rsyslog.d/60-fwd.conf:1:1: /* comment not closed"));
  // A forward found elsewhere still passes.
  auto other = run("host.remote-syslog",
                   rsyslog_facts({{"/etc/rsyslog.d/60-fwd.conf", "/* *.* @@logs\n"},
                                  {"/etc/rsyslog.conf", "*.* @@logs.example.org:514\n"}}));
  EXPECT_EQ(other.status, Status::pass);
  EXPECT_THAT(other.detail, HasSubstr("unreadable: /etc/rsyslog.d/60-fwd.conf:1:1"));
}

PackageList packages(const std::vector<std::string>& installed) {
  std::string text =
      "Desired=Unknown/Install/Remove/Purge/Hold\n"
      "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n"
      "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n"
      "||/ Name           Version      Architecture Description\n"
      "+++-==============-============-============-=================================\n"
      "ii  openssh-server 1:8.9p1-3    amd64        secure shell (SSH) server\n";
  for (const auto& p : installed) text += "ii  " + p + " 1.0-1 amd64 something\n";
  auto r = parse_dpkg_l(text, "dpkg-l.txt");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : PackageList{};
}

std::vector<ListeningSocket> sockets(const std::string& text) {
  auto r = parse_ss(text, "ss-tlnp.txt");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::vector<ListeningSocket>{};
}

const std::string kSshd = "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=812,fd=3))\n";
const std::string kChronyd =
    "udp UNCONN 0 0 127.0.0.1:323 0.0.0.0:* users:((\"chronyd\",pid=641,fd=5))\n";
const std::string kTracking =
    "Reference ID    : C0A80001 (192.168.0.1)\n"
    "Stratum         : 3\n"
    "Ref time (UTC)  : Sat Nov 28 23:50:02 2026\n"
    "System time     : 0.000012 seconds fast of NTP time\n"
    "Leap status     : Normal\n";

Facts time_facts() {
  Facts f;
  f.file_of["packages"] = "dpkg-l.txt";
  f.missing["chrony"] = "chronyc-tracking.txt: not in the snapshot";
  f.missing["listeners"] = "ss-tlnp.txt: not in the snapshot";
  f.missing["packages"] = "dpkg-l.txt (or rpm-qa.txt): not in the snapshot";
  return f;
}

TEST(Chrony, PassesWhenChronydAnswersOrListens) {
  auto f = time_facts();
  f.packages = packages({"chrony"});
  f.chrony_tracking = kTracking;
  f.file_of["chrony"] = "chronyc-tracking.txt";
  auto r = run("host.chrony", f);
  EXPECT_EQ(r.status, Status::pass);
  EXPECT_EQ(r.detail, "chronyd answers: Reference ID C0A80001 (192.168.0.1)");
  auto g = time_facts();
  g.listeners = sockets(kSshd + kChronyd);
  g.file_of["listeners"] = "ss-tlnp.txt";
  auto s = run("host.chrony", g);  // running shows it is installed, even without dpkg -l
  EXPECT_EQ(s.status, Status::pass);
  EXPECT_EQ(s.detail, "chronyd listens: udp 127.0.0.1:323 (pid 641)");
  auto unsynced = f;
  unsynced.chrony_tracking = "Reference ID    : 00000000 ()\nLeap status     : Not synchronised\n";
  EXPECT_THAT(run("host.chrony", unsynced).detail, HasSubstr("(leap status: Not synchronised)"));
}

TEST(Chrony, FailsWhenNotInstalledOrNotRunning) {
  auto f = time_facts();
  f.packages = packages({"ntp"});
  auto r = run("host.chrony", f);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_EQ(r.detail, "chrony is not installed (installed instead: ntp)");
  EXPECT_THAT(r.remediation, HasSubstr("apt-get install chrony && systemctl enable --now chrony"));
  auto stopped = time_facts();
  stopped.packages = packages({"chrony"});
  stopped.chrony_tracking = "506 Cannot talk to daemon\n";
  stopped.file_of["chrony"] = "chronyc-tracking.txt";
  auto s = run("host.chrony", stopped);
  EXPECT_EQ(s.status, Status::fail);
  EXPECT_THAT(s.detail, HasSubstr("chrony is installed but chronyd does not run: chronyc "
                                  "tracking got no answer (chronyc-tracking.txt)"));
  auto no_socket = time_facts();
  no_socket.packages = packages({"chrony"});
  no_socket.listeners = sockets(kSshd);
  no_socket.file_of["listeners"] = "ss-tlnp.txt";
  auto n = run("host.chrony", no_socket);
  EXPECT_EQ(n.status, Status::fail);
  EXPECT_THAT(n.detail, HasSubstr("no chronyd socket in ss-tlnp.txt"));
}

TEST(Chrony, NotCheckedWithoutEvidence) {
  auto f = time_facts();
  f.packages = packages({"chrony"});
  auto r = run("host.chrony", f);
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_THAT(r.detail, HasSubstr("chrony is installed; whether chronyd runs is unknown: "
                                  "chronyc-tracking.txt: not in the snapshot"));
  // ss without root shows no processes: no evidence either way.
  f.listeners = sockets("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n");
  EXPECT_EQ(run("host.chrony", f).status, Status::not_checked);
  auto unknown = time_facts();
  auto u = run("host.chrony", unknown);
  EXPECT_EQ(u.status, Status::not_checked);
  EXPECT_THAT(u.detail, HasSubstr("dpkg-l.txt (or rpm-qa.txt): not in the snapshot"));
}

Facts kernel_facts(std::optional<std::string> release, std::vector<std::string> installed) {
  Facts f = time_facts();
  if (release) {
    f.kernel_release = std::move(release);
    f.file_of["kernel"] = "uname-r.txt";
  } else {
    f.missing["kernel"] = "uname-r.txt: not in the snapshot";
  }
  f.packages = packages(installed);
  return f;
}

TEST(Haveged, ByKernelVersion) {
  struct Case {
    std::string release;
    bool haveged;
    Status want;
  };
  const Case cases[] = {
      {"6.1.0-27-amd64", false, Status::not_applicable},
      {"5.6.0", false, Status::not_applicable},
      {"5.15.0-91-generic", false, Status::not_applicable},
      {"5.5.19", false, Status::fail},
      {"5.5.19", true, Status::pass},
      {"5.4.0-150-generic", false, Status::fail},
      {"4.18.0-513.el8.x86_64", true, Status::pass},
      {"3.10.0-1160.el7.x86_64", false, Status::fail},
      {"10.0", false, Status::not_applicable},
  };
  for (const auto& c : cases) {
    auto r =
        run("host.haveged", kernel_facts(c.release, c.haveged ? std::vector<std::string>{"haveged"}
                                                              : std::vector<std::string>{}));
    EXPECT_EQ(r.status, c.want) << c.release << ": " << r.detail;
  }
  auto na = run("host.haveged", kernel_facts("6.1.0-27-amd64", {}));
  EXPECT_EQ(na.detail,
            "kernel 6.1 is 5.6 or newer: /dev/random no longer blocks (Linux 5.6), haveged is not "
            "needed");
  auto fail = run("host.haveged", kernel_facts("3.10.0-1160.el7.x86_64", {}));
  EXPECT_THAT(fail.detail, HasSubstr("kernel 3.10 is older than 5.6"));
  EXPECT_THAT(fail.remediation, HasSubstr("apt-get install haveged"));
}

TEST(Haveged, NotCheckedWhenTheKernelOrPackagesAreUnknown) {
  auto missing = run("host.haveged", kernel_facts(std::nullopt, {}));
  EXPECT_EQ(missing.status, Status::not_checked);
  EXPECT_EQ(missing.detail, "uname-r.txt: not in the snapshot");
  for (std::string garbage : {"Linux", "v5.4", "5", "5.x", "99999999.1", "-1.2"}) {
    auto r = run("host.haveged", kernel_facts(garbage, {}));
    EXPECT_EQ(r.status, Status::not_checked) << garbage;
    EXPECT_THAT(r.detail, HasSubstr("uname-r.txt: '" + garbage + "' is not a kernel release"));
  }
  auto empty = run("host.haveged", kernel_facts("", {}));
  EXPECT_EQ(empty.status, Status::not_checked);
  EXPECT_EQ(empty.detail, "uname-r.txt: empty, no kernel release");
  // An old kernel without the package list.
  auto f = kernel_facts("4.19.0-26-amd64", {});
  f.packages.reset();
  auto r = run("host.haveged", f);
  EXPECT_EQ(r.status, Status::not_checked);
  EXPECT_EQ(r.detail, "dpkg-l.txt (or rpm-qa.txt): not in the snapshot");
}

// The sample host files read by the snapshot loader, as `mailwarden audit` reads them.
TEST(HostControls, OnTheSampleHostFiles) {
  std::vector<std::string> warnings;
  auto f = load_snapshot(std::string(MW_SOURCE_DIR) + "/" + kData, test::tables().attrs,
                         test::tables().keys, warnings);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(run("host.log-retention", *f).status, Status::fail);
  auto syslog = run("host.remote-syslog", *f);
  EXPECT_EQ(syslog.status, Status::pass);
  EXPECT_THAT(syslog.detail, HasSubstr("zlog.example.org"));
  EXPECT_EQ(run("host.haveged", *f).status, Status::not_applicable);
  EXPECT_EQ(run("host.chrony", *f).status, Status::not_checked);  // no package list
}

TEST(HostControls, CatalogEntries) {
  for (const char* id :
       {"host.log-retention", "host.remote-syslog", "host.chrony", "host.haveged"}) {
    const Control& c = control(id);
    EXPECT_EQ(c.check.kind, CheckKind::custom) << id;
    EXPECT_FALSE(c.remediation.empty()) << id;
    EXPECT_FALSE(c.guides.empty()) << id;
  }
  EXPECT_EQ(control("host.log-retention").check.expected, "180");
  EXPECT_THAT(control("host.log-retention").rationale, HasSubstr("180 days"));
  EXPECT_EQ(control("host.log-retention").severity, Severity::medium);
  EXPECT_EQ(control("host.remote-syslog").severity, Severity::medium);
  EXPECT_EQ(control("host.chrony").severity, Severity::low);
  EXPECT_EQ(control("host.haveged").severity, Severity::low);
}

}  // namespace
}  // namespace mw::audit
