// Snapshot collection on a fake host (a fake file tree and a fake runner serving the example
// snapshot): the collected directory loads into the same facts, planted secrets never reach the
// disk, absent commands and timeouts are recorded as such, untrusted names are never passed on,
// parallelism changes nothing. One test collects on this machine with the real runner.
#include "audit/collect.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/snapshot.hpp"
#include "audit_test_data.hpp"
#include "core/atomic_file.hpp"

namespace mw::audit {
namespace {

namespace fs = std::filesystem;
using test::snapshot_file;
using ::testing::HasSubstr;

using test::tables;

std::string example(const std::string& file) {
  return snapshot_file("zimbra-default", file);
}

// A secret attribute right after the "# name" header (or first, for gacf which has none).
std::string plant_zmprov(std::string text, const std::string& secret) {
  std::string line = "zimbraAuthTokenKey: " + secret + "\n";
  if (text.rfind("# name", 0) == 0) {
    text.insert(text.find('\n') + 1, line);
  } else {
    text.insert(0, line);
  }
  return text;
}

CommandOutput ok(std::string out, int code = 0) {
  CommandOutput o;
  o.exit_code = code;
  o.out = std::move(out);
  return o;
}

// The command inside the wrappers: runuser -l zimbra -c SCRIPT PROG ARGS, env LC_ALL=C PROG ARGS.
std::vector<std::string> inner(const std::vector<std::string>& argv) {
  if (argv.size() > 5 && argv[1] == "-l" && argv[2] == "zimbra") {
    return {argv.begin() + 5, argv.end()};
  }
  if (argv.size() > 2 && argv[0].ends_with("/env") && argv[1] == "LC_ALL=C") {
    return {argv.begin() + 2, argv.end()};
  }
  return argv;
}

class FakeRunner {
 public:
  FakeRunner() {
    const std::string zmprov = "/opt/zimbra/bin/zmprov";
    set("/opt/zimbra/bin/zmhostname", ok("mail.example.org\n"));
    set(zmprov + " -l gacf", ok(plant_zmprov(example("zmprov-gacf.txt"), "PLANTED-SECRET-gacf")));
    set(zmprov + " -l gs mail.example.org",
        ok(plant_zmprov(example("zmprov-gs.txt"), "PLANTED-SECRET-gs")));
    set(zmprov + " -l gac -v",
        ok(plant_zmprov(example("zmprov-gc-default.txt"), "PLANTED-SECRET-gac")));
    set(zmprov + " -l gad", ok("example.org\n"));
    set(zmprov + " -l gd example.org",
        ok(plant_zmprov(example("zmprov-gd.txt"), "PLANTED-SECRET-gd")));
    set(zmprov + " -l gaaa -v",
        ok(plant_zmprov(example("zmprov-ga-admin.txt"), "PLANTED-SECRET-gaaa")));
    set(zmprov + " -l gas", ok("mail.example.org\n"));
    set("/opt/zimbra/bin/zmlocalconfig -s",
        ok(example("zmlocalconfig-s.txt") + "mailwarden_planted_password = PLANTED-SECRET-lc\n"));
    set("/opt/zimbra/bin/zmcontrol -v", ok(example("zmcontrol-v.txt"), 1));
    const std::string pc = "/opt/zimbra/common/sbin/postconf";
    set(pc + " -n",
        ok(example("postconf-n.txt") + "smtp_sasl_password_maps = PLANTED-SECRET-pcn\n"));
    set(pc + " -M", ok("smtp inet n - n - - smtpd\nsubmission inet n - n - - smtpd "
                       "-o smtp_sasl_password_maps=PLANTED-SECRET-pcm\n"));
    set(pc + " -P", ok("submission/inet/smtp_sasl_password_maps = PLANTED-SECRET-pcp\n"));
    set("/usr/sbin/sshd -T", ok(example("sshd-T.txt")));
    set("/usr/bin/ss -Htlnup", ok(example("ss-tlnp.txt")));
    set("/usr/sbin/iptables-save", ok(example("iptables-save.txt")));
    set("/usr/sbin/ip6tables-save", ok(""));
    set("/usr/sbin/nft -j list ruleset", ok("{\"nftables\": []}\n"));
    set("/usr/bin/dpkg -l", ok(example("dpkg-l.txt")));
    set("/usr/bin/rpm -qa", ok("zimbra-core-10.1.3-1.el8.x86_64\n"));
    set("/usr/bin/apt list --upgradable", ok("Listing...\n"));
    set("/usr/bin/uname -r", ok("6.1.0-28-amd64\n"));
    set("/usr/bin/fail2ban-client status",
        ok("Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, zimbra-smtp\n"));
    set("/usr/bin/fail2ban-client status sshd", ok("Status for the jail: sshd\n"));
    set("/usr/bin/fail2ban-client status zimbra-smtp", ok("Status for the jail: zimbra-smtp\n"));
    CommandOutput cron;
    cron.exit_code = 1;
    cron.err = "no crontab for zimbra\n";
    set("/usr/bin/crontab -l -u zimbra", cron);
  }

  void set(const std::string& command, CommandOutput out) {
    outputs_[command] = std::move(out);
    errors_.erase(command);
  }
  void fail_to_start(const std::string& command, const std::string& message) {
    errors_[command] = message;
  }

  Runner runner() {
    return [this](const std::vector<std::string>& argv, std::chrono::milliseconds) {
      const std::string key = command_line(inner(argv));
      std::lock_guard lock(mu_);
      calls_.push_back(argv);
      if (auto e = errors_.find(key); e != errors_.end())
        return Result<CommandOutput>(Error{e->second});
      auto it = outputs_.find(key);
      if (it == outputs_.end()) {
        return Result<CommandOutput>(Error{"cannot run '" + key + "': command not found"});
      }
      return Result<CommandOutput>(it->second);
    };
  }

  std::vector<std::vector<std::string>> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::map<std::string, CommandOutput> outputs_;
  std::map<std::string, std::string> errors_;
  std::mutex mu_;
  std::vector<std::vector<std::string>> calls_;
};

void put(const fs::path& p, const std::string& text, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(write_file_atomic(p, text, mode).ok()) << p;
}

class Collect : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("mw-collect-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "root";
    // The programs the fake host has (the runner is fake, only their existence counts).
    for (const char* p :
         {"opt/zimbra/bin/zmprov", "opt/zimbra/bin/zmhostname", "opt/zimbra/bin/zmlocalconfig",
          "opt/zimbra/bin/zmcontrol", "opt/zimbra/common/sbin/postconf", "usr/sbin/runuser",
          "usr/bin/env", "usr/sbin/sshd", "usr/bin/ss", "usr/sbin/iptables-save",
          "usr/sbin/ip6tables-save", "usr/sbin/nft", "usr/bin/dpkg", "usr/bin/rpm", "usr/bin/apt",
          "usr/bin/uname", "usr/bin/fail2ban-client", "usr/bin/crontab"}) {
      put(root_ / p, "#!/bin/sh\nexit 99\n", 0755);
    }
    put(root_ / "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n");
    put(root_ / "etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n");
    put(root_ / "etc/ssh/sshd_config.d/notes.txt", "not a drop-in\n");
    put(root_ / "etc/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\n");
    put(root_ / "etc/logrotate.conf", "weekly\nrotate 4\n");
    put(root_ / "etc/logrotate.d/zimbra", "/var/log/zimbra.log {\n  daily\n}\n");
    put(root_ / "etc/rsyslog.conf", "*.* @@loghost.example.org:514\n");
    fs::create_directories(root_ / "etc/rsyslog.d");
  }
  void TearDown() override { fs::remove_all(base_); }

  Result<CollectResult> collect(FakeRunner& fake, const std::string& out = "snap",
                                unsigned parallelism = 4) {
    CollectOptions o;
    o.out_dir = base_ / out;
    o.root = root_;
    o.rules = RedactionRules{&tables().attrs, &tables().keys};
    o.host = "mail.example.org";
    o.parallelism = parallelism;
    o.clock = &clock_;
    return collect_snapshot(o, fake.runner());
  }

  static const ManifestEntry* entry(const CollectResult& r, const std::string& file) {
    for (const auto& e : r.manifest.files) {
      if (e.file == file) return &e;
    }
    return nullptr;
  }

  // Every file under dir, relative name -> content.
  static std::map<std::string, std::string> files_of(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      auto text = read_file(e.path());
      EXPECT_TRUE(text.ok());
      out[fs::relative(e.path(), dir).string()] = text.ok() ? *text : "";
    }
    return out;
  }

  fs::path base_, root_;
  FakeClock clock_;
};

TEST_F(Collect, TheCollectedExampleLoadsIntoTheSameFacts) {
  FakeRunner fake;
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;

  std::vector<std::string> warnings;
  auto f = load_snapshot(r->dir, tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_THAT(warnings, ::testing::IsEmpty());
  auto want = load_snapshot(std::string(MW_SOURCE_DIR) + "/examples/snapshots/zimbra-default",
                            tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(want.ok());

  ASSERT_TRUE(f->server && f->global);
  EXPECT_EQ(f->server->entry.name, "mail.example.org");
  ASSERT_EQ(f->coses.size(), 1u);
  EXPECT_EQ(f->coses[0].entry.name, want->coses[0].entry.name);
  EXPECT_EQ(f->coses[0].entry.name, "default");
  ASSERT_EQ(f->domains.size(), 1u);
  EXPECT_EQ(f->domains[0].entry.name, "example.org");
  ASSERT_EQ(f->admins.size(), 1u);
  EXPECT_EQ(f->admins[0].entry.name, "admin@example.org");
  EXPECT_EQ(f->edition, "network");
  EXPECT_EQ(f->topology, "single");
  ASSERT_TRUE(f->listeners && want->listeners);
  EXPECT_EQ(f->listeners->size(), want->listeners->size());
  int memcached = 0;
  for (const auto& s : *f->listeners) {
    if (s.local.port == 11211 && s.local.any_address()) ++memcached;
  }
  EXPECT_EQ(memcached, 2);  // 0.0.0.0 and [::], as in the example
  ASSERT_TRUE(f->localconfig && f->postconf && f->master && f->sshd && f->packages);
  EXPECT_EQ(f->packages->packages.size(), want->packages->packages.size());

  // zmcontrol -v exits 1 after printing the version: not a failure.
  ASSERT_NE(entry(*r, "zmcontrol-v.txt"), nullptr);
  EXPECT_EQ(entry(*r, "zmcontrol-v.txt")->status, "ok");
  EXPECT_EQ(entry(*r, "zmcontrol-v.txt")->run_as, "zimbra");
  // Raw files keep their layout; only *.conf drop-ins are copied.
  EXPECT_TRUE(fs::exists(r->dir / "etc/ssh/sshd_config"));
  // Where the loader looks for the raw sshd files (a group it does not know is not missing).
  EXPECT_EQ(f->missing.count("sshd_config"), 0u) << f->missing["sshd_config"];
  EXPECT_TRUE(fs::exists(r->dir / "etc/ssh/sshd_config.d/50-cloud-init.conf"));
  EXPECT_FALSE(fs::exists(r->dir / "etc/ssh/sshd_config.d/notes.txt"));
  EXPECT_TRUE(fs::exists(r->dir / "etc/logrotate.d/zimbra"));
  EXPECT_TRUE(fs::exists(r->dir / "etc/rsyslog.conf"));
  ASSERT_NE(entry(*r, "etc/rsyslog.d/"), nullptr);
  EXPECT_EQ(entry(*r, "etc/rsyslog.d/")->note, "0 file(s)");
  // fail2ban: the overview, then each jail.
  auto f2b = read_file(r->dir / "fail2ban-status.txt");
  ASSERT_TRUE(f2b.ok());
  EXPECT_THAT(*f2b, HasSubstr("Jail list:"));
  EXPECT_THAT(*f2b, HasSubstr("Status for the jail: sshd"));
  EXPECT_THAT(*f2b, HasSubstr("Status for the jail: zimbra-smtp"));
  // dpkg was there: rpm is not run.
  EXPECT_EQ(entry(*r, "rpm-qa.txt"), nullptr);
  EXPECT_FALSE(fs::exists(r->dir / "rpm-qa.txt"));
}

TEST_F(Collect, FilesAndDirectoriesArePrivate) {
  FakeRunner fake;
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(r->dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const auto& e : fs::recursive_directory_iterator(r->dir)) {
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, e.is_directory() ? 0700u : 0600u) << e.path();
  }
}

TEST_F(Collect, PlantedSecretsNeverReachTheDisk) {
  FakeRunner fake;
  // A failing command's stderr goes into the manifest: redacted too.
  CommandOutput lc_fail;
  lc_fail.exit_code = 1;
  lc_fail.out = example("zmlocalconfig-s.txt");
  lc_fail.err = "zimbra_mysql_password = PLANTED-SECRET-stderr\n";
  fake.set("/opt/zimbra/bin/zmlocalconfig -s", lc_fail);
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::size_t redacted = 0;
  for (const auto& e : r->manifest.files) redacted += e.redacted;
  EXPECT_GT(redacted, 10u);
  auto files = files_of(r->dir);
  EXPECT_GT(files.size(), 25u);
  for (const auto& [name, text] : files) {
    // PLANTED-SECRET: ours; FAKE-SECRET: the example's own (localconfig passwords, the PEM key).
    EXPECT_EQ(text.find("PLANTED-SECRET"), std::string::npos) << name;
    EXPECT_EQ(text.find("FAKE-SECRET"), std::string::npos) << name;
  }
  for (const char* f : {"zmprov-gacf.txt", "zmprov-gs.txt", "zmprov-gac-v.txt", "zmprov-gd.txt",
                        "zmprov-gaaa-v.txt", "zmlocalconfig-s.txt", "postconf-n.txt",
                        "postconf-M.txt", "postconf-P.txt"}) {
    ASSERT_NE(entry(*r, f), nullptr) << f;
    EXPECT_GE(entry(*r, f)->redacted, 1u) << f;
  }
  EXPECT_EQ(entry(*r, "zmlocalconfig-s.txt")->status, "failed");
  EXPECT_THAT(entry(*r, "zmlocalconfig-s.txt")->stderr_head, HasSubstr("zimbra_mysql_password"));
}

TEST_F(Collect, AbsentCommandsAreNotAvailableNotFailures) {
  FakeRunner fake;
  fake.fail_to_start("/usr/bin/ss -Htlnup", "cannot run '/usr/bin/ss': command not found in PATH");
  fs::remove(root_ / "usr/sbin/nft");
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const char* f : {"ss-tlnp.txt", "nft.json", "postconf-n-system.txt", "postconf-M-system.txt",
                        "postconf-P-system.txt", "reboot-required.txt"}) {
    const ManifestEntry* e = entry(*r, f);
    ASSERT_NE(e, nullptr) << f;
    EXPECT_EQ(e->status, "not_available") << f;
    EXPECT_FALSE(e->exit_code.has_value()) << f;
    EXPECT_FALSE(fs::exists(r->dir / f)) << f;
  }
  // The crontab command exists but says no: a failure with its exit code and stderr.
  const ManifestEntry* cron = entry(*r, "zimbra-crontab.txt");
  ASSERT_NE(cron, nullptr);
  EXPECT_EQ(cron->status, "failed");
  EXPECT_EQ(cron->exit_code, 1);
  EXPECT_EQ(cron->stderr_head, "no crontab for zimbra");
  EXPECT_FALSE(fs::exists(r->dir / "zimbra-crontab.txt"));
}

TEST_F(Collect, ProgressSeesEveryManifestEntryOnce) {
  FakeRunner fake;
  std::vector<std::string> seen;  // on_entry calls are serialised: no lock needed here
  CollectOptions o;
  o.out_dir = base_ / "progress";
  o.root = root_;
  o.rules = RedactionRules{&tables().attrs, &tables().keys};
  o.host = "mail.example.org";
  o.clock = &clock_;
  o.on_entry = [&](const ManifestEntry& e) { seen.push_back(e.file); };
  auto r = collect_snapshot(o, fake.runner());
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> files;
  for (const auto& e : r->manifest.files) files.push_back(e.file);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, files);
}

TEST_F(Collect, WithoutZimbraEveryZimbraCommandIsNotAvailable) {
  FakeRunner fake;
  fs::remove_all(root_ / "opt");
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const char* f : {"zmprov-gacf.txt", "zmprov-gs.txt", "zmprov-gd.txt", "zmcontrol-v.txt",
                        "postconf-n.txt", "zimbra-crontab.txt"}) {
    ASSERT_NE(entry(*r, f), nullptr) << f;
    EXPECT_EQ(entry(*r, f)->status, "not_available") << f;
  }
  for (const auto& argv : fake.calls()) EXPECT_NE(argv[1], "-l") << command_line(argv);
}

TEST_F(Collect, FailedCommandsKeepTheirOutputAndRpmReplacesDpkg) {
  FakeRunner fake;
  fake.set("/opt/zimbra/bin/zmprov -l gas", ok("mail.example.org\nmta.example.org\n", 2));
  fake.fail_to_start("/usr/bin/dpkg -l", "cannot run '/usr/bin/dpkg': No such file or directory");
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ManifestEntry* gas = entry(*r, "zmprov-gas.txt");
  ASSERT_NE(gas, nullptr);
  EXPECT_EQ(gas->status, "failed");
  EXPECT_EQ(gas->exit_code, 2);
  EXPECT_TRUE(fs::exists(r->dir / "zmprov-gas.txt"));
  EXPECT_EQ(entry(*r, "dpkg-l.txt")->status, "not_available");
  ASSERT_NE(entry(*r, "rpm-qa.txt"), nullptr);
  EXPECT_EQ(entry(*r, "rpm-qa.txt")->status, "ok");
  EXPECT_TRUE(fs::exists(r->dir / "rpm-qa.txt"));
}

TEST_F(Collect, ATimeoutIsRecordedAndItsPartialOutputDropped) {
  FakeRunner fake;
  CommandOutput slow;
  slow.timed_out = true;
  slow.exit_code = -1;
  slow.signal = 9;
  slow.out = "# name admin@example.org\nzimbraAccountStatus: act";
  slow.err = "[mailwarden: zmprov -l gaaa -v timed out after 20000 ms and was killed]\n";
  fake.set("/opt/zimbra/bin/zmprov -l gaaa -v", slow);
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ManifestEntry* e = entry(*r, "zmprov-gaaa-v.txt");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->status, "timed_out");
  EXPECT_THAT(e->note, HasSubstr("20000 ms"));
  EXPECT_FALSE(fs::exists(r->dir / "zmprov-gaaa-v.txt"));
}

TEST_F(Collect, DomainNamesThatAreNotHostNamesAreNeverPassedOn) {
  FakeRunner fake;
  fake.set("/opt/zimbra/bin/zmprov -l gad",
           ok("example.org\nevil.org;touch /tmp/pwned\n$(id).org\n-l\nexample.org\n"
              "a b.org\n`id`.org\n"));
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> gd;
  for (const auto& argv : fake.calls()) {
    auto in = inner(argv);
    if (in.size() >= 3 && in[1] == "-l" && in[2] == "gd") gd.push_back(command_line(in));
    // Whatever reaches a shell string is the constant script.
    if (argv.size() > 4 && argv[3] == "-c") {
      EXPECT_EQ(argv[4], "exec \"$0\" \"$@\"");
    }
  }
  EXPECT_THAT(gd, ::testing::ElementsAre("/opt/zimbra/bin/zmprov -l gd example.org"));
  const ManifestEntry* e = entry(*r, "zmprov-gd.txt");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->status, "ok");
  EXPECT_THAT(e->note, HasSubstr("refused 5 value(s)"));
  EXPECT_THAT(e->note, HasSubstr("'evil.org;touch /tmp/pwned'"));
}

TEST_F(Collect, ParallelismDoesNotChangeTheOutput) {
  FakeRunner fake;
  auto one = collect(fake, "serial", 1);
  auto many = collect(fake, "parallel", 8);
  ASSERT_TRUE(one.ok() && many.ok());
  auto a = files_of(one->dir);
  auto b = files_of(many->dir);
  a.erase("manifest.json");
  b.erase("manifest.json");
  EXPECT_EQ(a, b);
  ASSERT_EQ(one->manifest.files.size(), many->manifest.files.size());
  for (std::size_t i = 0; i < one->manifest.files.size(); ++i) {
    const auto &x = one->manifest.files[i], &y = many->manifest.files[i];
    EXPECT_EQ(std::tie(x.file, x.command, x.run_as, x.status, x.exit_code, x.redacted, x.note),
              std::tie(y.file, y.command, y.run_as, y.status, y.exit_code, y.redacted, y.note));
  }
}

TEST_F(Collect, TheManifestReadsBack) {
  FakeRunner fake;
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto m = read_manifest(r->dir);
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(m->has_value());
  const Manifest& got = **m;
  EXPECT_EQ(got.schema, "mailwarden-snapshot/1");
  EXPECT_EQ(got.tool, "mailwarden dev");
  EXPECT_EQ(got.host, "mail.example.org");
  EXPECT_EQ(got.collected_at, "2027-01-15T08:00:00Z");  // FakeClock's start
  ASSERT_EQ(got.files.size(), r->manifest.files.size());
  for (std::size_t i = 0; i < got.files.size(); ++i) {
    const auto &x = got.files[i], &y = r->manifest.files[i];
    EXPECT_EQ(std::tie(x.file, x.command, x.run_as, x.status, x.exit_code, x.duration_ms,
                       x.redacted, x.stderr_head, x.note),
              std::tie(y.file, y.command, y.run_as, y.status, y.exit_code, y.duration_ms,
                       y.redacted, y.stderr_head, y.note));
  }
  const ManifestEntry* gacf = entry(*r, "zmprov-gacf.txt");
  ASSERT_NE(gacf, nullptr);
  EXPECT_EQ(gacf->command, "/opt/zimbra/bin/zmprov -l gacf");
}

TEST_F(Collect, TheDefaultDirectoryIsNamedByHostAndTimeAndAnExistingOneMustBeEmpty) {
  FakeRunner fake;
  const fs::path cwd = fs::current_path();
  fs::create_directories(base_ / "cwd");
  fs::current_path(base_ / "cwd");
  CollectOptions o;
  o.root = root_;
  o.host = "mail.example.org";
  o.clock = &clock_;
  auto r = collect_snapshot(o, fake.runner());
  auto again = collect_snapshot(o, fake.runner());
  fs::current_path(cwd);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dir, fs::path("mailwarden-snapshot-mail.example.org-20270115-080000"));
  EXPECT_TRUE(fs::exists(base_ / "cwd" / r->dir / "manifest.json"));
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("not empty"));
}

TEST(Manifest, AbsentIsAcceptedDamagedIsNamed) {
  const fs::path dir = fs::temp_directory_path() / ("mw-manifest-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto none = read_manifest(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  for (const char* bad :
       {"{\"schema\": \"mailwarden-snapshot/1\", \"files\": [", "[]",
        "{\"schema\": \"other/2\", \"files\": []}",
        "{\"schema\": \"mailwarden-snapshot/1\", \"files\": [{\"file\": \"x\", \"status\": "
        "\"great\"}]}",
        "{\"schema\": \"mailwarden-snapshot/1\", \"files\": [{\"file\": \"x\", \"status\": \"ok\", "
        "\"exit_code\": \"zero\"}]}"}) {
    ASSERT_TRUE(write_file_atomic(dir / "manifest.json", bad).ok());
    auto m = read_manifest(dir);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_THAT(m.error().message, HasSubstr("manifest.json")) << bad;
  }
  fs::remove_all(dir);
}

TEST(HostNames, OnlyDnsNamesPass) {
  for (const char* good :
       {"example.org", "mail.example.org", "xn--bcher-kva.example", "a", "a-b.c0", "EXAMPLE.ORG"}) {
    EXPECT_TRUE(is_host_name(good)) << good;
  }
  for (const char* bad : {"", "-l", "a..b", ".a", "a.", "a-.org", "a_b.org", "a b", "a;b", "$(id)",
                          "`id`", "a\nb", "é.org", "a/b", "*.org"}) {
    EXPECT_FALSE(is_host_name(bad)) << bad;
  }
  EXPECT_TRUE(is_host_name(std::string(63, 'a') + ".org"));
  EXPECT_FALSE(is_host_name(std::string(64, 'a') + ".org"));
}

TEST(ZimbraArgv, TheShellStringIsConstantAndArgumentsArePositional) {
  auto argv = zimbra_argv("/usr/sbin/runuser", {"/opt/zimbra/bin/zmprov", "-l", "gd", "x.org"});
  EXPECT_THAT(
      argv, ::testing::ElementsAre("/usr/sbin/runuser", "-l", "zimbra", "-c", "exec \"$0\" \"$@\"",
                                   "/opt/zimbra/bin/zmprov", "-l", "gd", "x.org"));
}

TEST(CollectTable, FileNamesFollowTheSnapshotContract) {
  std::set<std::string> files;
  for (const auto& i : collect_table()) {
    EXPECT_TRUE(files.insert(i.file).second) << "twice: " << i.file;
    if (i.kind == CollectKind::command || i.kind == CollectKind::per_value) {
      EXPECT_FALSE(i.argv.empty()) << i.file;
      EXPECT_GT(i.timeout.count(), 0) << i.file;
      EXPECT_LE(i.timeout.count(), 20000) << i.file;
    }
  }
  for (const char* f : {"zmprov-gacf.txt", "zmprov-gs.txt", "zmprov-gac-v.txt", "zmprov-gd.txt",
                        "zmprov-gaaa-v.txt", "zmprov-gas.txt", "zmlocalconfig-s.txt",
                        "postconf-n.txt", "postconf-M.txt", "sshd-T.txt", "ss-tlnp.txt",
                        "dpkg-l.txt", "rpm-qa.txt", "zmcontrol-v.txt"}) {
    EXPECT_EQ(files.count(f), 1u) << f;
  }
}

// This machine, real commands: Zimbra is not installed here (recorded as not available); the
// system commands are. Reads only; the time is printed, not asserted.
TEST(CollectOnThisHost, RealCommands) {
  const fs::path dir =
      fs::temp_directory_path() / ("mw-collect-real-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  CollectOptions o;
  o.out_dir = dir / "snap";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = collect_snapshot(o);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::printf("collection on this host: %lld ms, %zu manifest entries\n",
              static_cast<long long>(ms), r->manifest.files.size());
  std::map<std::string, std::string> status;
  for (const auto& e : r->manifest.files) {
    status[e.file] = e.status;
    std::printf("  %-34s %-13s %6lld ms  %s\n", e.file.c_str(), e.status.c_str(), e.duration_ms,
                e.note.c_str());
  }
  if (!fs::exists("/opt/zimbra/bin/zmprov")) {
    EXPECT_EQ(status["zmprov-gacf.txt"], "not_available");
    EXPECT_EQ(status["zmprov-gs.txt"], "not_available");
    EXPECT_EQ(status["zmprov-gd.txt"], "not_available");
  }
  EXPECT_EQ(status["uname-r.txt"], "ok");
  EXPECT_EQ(status["os-release.txt"], "ok");
  if (fs::exists("/usr/bin/ss")) {
    EXPECT_EQ(status["ss-tlnp.txt"], "ok");
  }
  if (fs::exists("/usr/bin/dpkg")) {
    EXPECT_EQ(status["dpkg-l.txt"], "ok");
  }
  auto uname = read_file(r->dir / "uname-r.txt");
  ASSERT_TRUE(uname.ok());
  EXPECT_FALSE(uname->empty());
  auto m = read_manifest(r->dir);
  ASSERT_TRUE(m.ok() && m->has_value());
  fs::remove_all(dir);
}

TEST_F(Collect, MatchBlocksAreAskedOfSshdAndTheReviewUsesTheClock) {
  put(root_ / "etc/ssh/sshd_config",
      "PasswordAuthentication no\nMatch User backup\n  PasswordAuthentication yes\n"
      "Match Group admins\n  X11Forwarding no\n");
  FakeRunner fake;
  fake.set("/usr/sbin/sshd -T -C user=backup,host=probe.invalid,addr=192.0.2.1",
           ok("port 22\npasswordauthentication yes\n"));
  // 90 days before the fake clock's 2027-01-15T08:00:00Z.
  const std::string query =
      "(&(!(zimbraIsSystemAccount=TRUE))(|(zimbraIsExternalVirtualAccount=TRUE)"
      "(!(zimbraLastLogonTimestamp=*))(zimbraLastLogonTimestamp<=20261017080000Z)))";
  fake.set(
      command_line(std::vector<std::string>{"/opt/zimbra/bin/zmprov", "-l", "sa", "-v", query}),
      ok("# name old@example.org\nzimbraLastLogonTimestamp: 20260101000000Z\n\n"));
  auto r = collect(fake);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto text = read_file(r->dir / "sshd-T-match.txt");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "# sshd -T -C user=backup,host=probe.invalid,addr=192.0.2.1\nport 22\n"
            "passwordauthentication yes\n");
  const auto* e = entry(*r, "sshd-T-match.txt");
  ASSERT_NE(e, nullptr);
  EXPECT_THAT(e->note, ::testing::HasSubstr("Match Group admins"));
  const auto* review = entry(*r, "zmprov-sa-review.txt");
  ASSERT_NE(review, nullptr);
  EXPECT_EQ(review->status, "ok");

  std::vector<std::string> warnings;
  auto f = load_snapshot(r->dir, tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_TRUE(f->sshd_matches.has_value());
  ASSERT_EQ(f->sshd_matches->size(), 1u);
  EXPECT_EQ(f->sshd_matches->front().spec, "user=backup,host=probe.invalid,addr=192.0.2.1");
  ASSERT_TRUE(f->review_accounts.has_value());
  EXPECT_EQ(f->review_accounts->size(), 1u);
  EXPECT_EQ(f->collected_at, "2027-01-15T08:00:00Z");
  auto controls = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
  ASSERT_TRUE(controls.ok());
  for (const auto& res : evaluate_all(*controls, *f, builtin_checks())) {
    if (res.control->id == "ssh.password-authentication-files") {
      EXPECT_EQ(res.status, audit::Status::fail);
      EXPECT_THAT(res.detail, ::testing::HasSubstr("sshd -T -C user=backup"));
    }
    if (res.control->id == "accounts.stale") {
      EXPECT_EQ(res.status, audit::Status::fail);
      EXPECT_EQ(res.failing, std::vector<std::string>{"old@example.org"});
    }
  }
}

}  // namespace
}  // namespace mw::audit
