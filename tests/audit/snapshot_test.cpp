// The snapshot loader: the example snapshots load whole; a missing or damaged file leaves its
// fact group missing with the reason (the controls then say not_checked), never a failure.
#include "audit/snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "core/atomic_file.hpp"

namespace mw::audit {
namespace {

using ::testing::HasSubstr;

struct Tables {
  AttrTable attrs;
  LocalconfigKeyTable keys;
};
const Tables& tables() {
  static const Tables t = [] {
    auto a = load_attrs_tsv(std::string(MW_SOURCE_DIR) + "/catalog/zimbra/attrs.tsv");
    auto k = load_localconfig_keys_tsv(std::string(MW_SOURCE_DIR) +
                                       "/catalog/zimbra/localconfig-keys.tsv");
    EXPECT_TRUE(a.ok() && k.ok());
    return Tables{std::move(*a), std::move(*k)};
  }();
  return t;
}

const std::string kDefault = std::string(MW_SOURCE_DIR) + "/examples/snapshots/zimbra-default";

TEST(Snapshot, TheExampleLoadsWhole) {
  std::vector<std::string> warnings;
  auto f = load_snapshot(kDefault, tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_TRUE(warnings.empty());
  ASSERT_TRUE(f->global && f->server);
  EXPECT_EQ(f->server->entry.name, "mail.example.org");
  ASSERT_EQ(f->coses.size(), 1u);
  EXPECT_EQ(f->coses[0].entry.name, "default");
  EXPECT_EQ(f->domains.size(), 1u);
  EXPECT_EQ(f->admins.size(), 1u);
  EXPECT_TRUE(f->localconfig && f->postconf && f->sshd && f->listeners && f->packages);
  EXPECT_EQ(f->edition, "network");
  EXPECT_EQ(f->topology, "");  // no zmprov-gas.txt in this snapshot
  EXPECT_EQ(f->missing.count("topology"), 1u);
}

class Damaged : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mw-snapshot-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::copy(kDefault, dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Damaged, AMissingFileMakesItsControlsNotChecked) {
  std::filesystem::remove(dir_ / "zmprov-gc-default.txt");
  std::filesystem::remove(dir_ / "dpkg-l.txt");
  std::vector<std::string> warnings;
  auto f = load_snapshot(dir_, tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->coses.empty());
  auto controls = load_controls(std::string(MW_SOURCE_DIR) + "/catalog/controls");
  ASSERT_TRUE(controls.ok());
  auto results = evaluate_all(*controls, *f, builtin_checks());
  int not_checked = 0;
  for (const auto& r : results) {
    if (r.control->id == "accounts.password.min-length" || r.control->id == "host.pax" ||
        r.control->id == "accounts.lockout.max-failures") {
      EXPECT_EQ(r.status, Status::not_checked) << r.control->id;
    }
    if (r.status == Status::not_checked) {
      ++not_checked;
      EXPECT_FALSE(r.detail.empty());
    }
  }
  EXPECT_GE(not_checked, 20);
}

TEST_F(Damaged, AFileThatDoesNotParseIsAWarningNotAFailure) {
  ASSERT_TRUE(write_file_atomic(dir_ / "zmlocalconfig-s.txt", "this is not localconfig\n").ok());
  std::vector<std::string> warnings;
  auto f = load_snapshot(dir_, tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->localconfig);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("zmlocalconfig-s.txt:1"));
  EXPECT_THAT(f->missing.at("localconfig"), HasSubstr("does not parse"));
}

TEST(Snapshot, NotADirectoryIsAnError) {
  std::vector<std::string> warnings;
  auto f = load_snapshot("/nonexistent/snapshot", tables().attrs, tables().keys, warnings);
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.error().message, HasSubstr("/nonexistent/snapshot"));
}

TEST(Snapshot, SenderLoginMismatchIsMootWithoutSmtpAuth) {
  std::vector<std::string> warnings;
  auto f = load_snapshot(kDefault, tables().attrs, tables().keys, warnings);
  ASSERT_TRUE(f.ok());
  Control c;
  c.id = "mailflow.sender-login-mismatch";
  c.check.kind = CheckKind::custom;
  c.check.name = "sender-login-mismatch";
  c.remediation = "zmprov mcf +zimbraMtaSmtpdSenderRestrictions x";
  auto checks = builtin_checks();
  EXPECT_EQ(evaluate(c, *f, checks).status, Status::fail);  // SASL on, no restriction
  auto parsed =
      parse_zmprov("# name mail.example.org\nzimbraMtaSaslAuthEnable: no\n\n", "zmprov-gs.txt");
  ASSERT_TRUE(parsed.ok());
  f->server = ZObject{parsed->entries[0], "zmprov-gs.txt"};
  EXPECT_EQ(evaluate(c, *f, checks).status, Status::not_applicable);
}

}  // namespace
}  // namespace mw::audit
