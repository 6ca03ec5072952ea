// dpkg -l and rpm -qa parsers.
#include "audit/dpkg.hpp"

#include <gtest/gtest.h>

#include "audit_test_data.hpp"

namespace mw::audit {
namespace {

TEST(Dpkg, DefaultSnapshotLacksPaxAndFail2ban) {
  auto r = parse_dpkg_l(test::snapshot_file("zimbra-default", "dpkg-l.txt"), "dpkg");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->packages.size(), 13u);
  EXPECT_FALSE(r->installed("pax"));
  EXPECT_FALSE(r->installed("fail2ban"));
  EXPECT_TRUE(r->installed("zimbra-core"));
  const Package* ssh = r->find("openssh-server");
  ASSERT_NE(ssh, nullptr);
  EXPECT_EQ(ssh->version, "1:8.9p1-3ubuntu0.10");
  EXPECT_EQ(ssh->arch, "amd64");
  EXPECT_EQ(ssh->description, "secure shell (SSH) server, for secure access from remote machines");
  EXPECT_EQ(ssh->line, 8u);
  auto h = parse_dpkg_l(test::snapshot_file("zimbra-hardened", "dpkg-l.txt"), "dpkg");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_TRUE(h->installed("pax"));
  EXPECT_TRUE(h->installed("fail2ban"));
}

TEST(Dpkg, StatusesArchQualifiersAndOldFormat) {
  const std::string text =
      "||/ Name           Version      Architecture Description\n"
      "+++-==============-============-============-=================\n"
      "rc  pax            1:20201030-1 amd64        portable archive\n"
      "ii  libc6:amd64    2.36-9       amd64        GNU C Library\n"
      "iHR broken         1.0          all          half installed\n"
      "dpkg-query: no packages found matching spax\n";
  auto r = parse_dpkg_l(text, "d");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->packages.size(), 3u);
  EXPECT_FALSE(r->installed("pax"));  // removed, configuration files left
  EXPECT_NE(r->find("pax"), nullptr);
  EXPECT_TRUE(r->installed("libc6"));
  EXPECT_EQ(r->find("broken")->error, 'R');
  EXPECT_FALSE(r->installed("broken"));
  auto old = parse_dpkg_l("||/ Name Version Description\nii  cpio 2.13 GNU cpio\n", "d");
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->find("cpio")->arch, "");
  EXPECT_EQ(old->find("cpio")->description, "GNU cpio");
  auto e = parse_dpkg_l("zz  pax 1 amd64 x\n", "d");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "d:1:1: expected a status such as 'ii' or 'rc', got 'zz'");
  auto e2 = parse_dpkg_l("ii  pax 1\n", "d");
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e2.error().message.rfind("d:1:1: expected status, name, version, architecture", 0), 0u);
}

TEST(Rpm, Qa) {
  auto r = parse_rpm_qa(
      "openssh-server-8.7p1-34.el9.x86_64\npax-3.4-44.el9.x86_64\n"
      "gpg-pubkey-fd431d51-4ae0493b\npython3-libs-3.9.18-1.el9.noarch\n",
      "rpm");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->packages.size(), 4u);
  EXPECT_EQ(r->packages[0].name, "openssh-server");
  EXPECT_EQ(r->packages[0].version, "8.7p1-34.el9");
  EXPECT_EQ(r->packages[0].arch, "x86_64");
  EXPECT_TRUE(r->installed("pax"));
  EXPECT_EQ(r->packages[2].name, "gpg-pubkey");
  EXPECT_EQ(r->packages[2].arch, "");
  EXPECT_EQ(r->packages[3].name, "python3-libs");
  auto e = parse_rpm_qa("nodash\n", "rpm");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message.rfind("rpm:1:1: expected name-version-release", 0), 0u);
}

}  // namespace
}  // namespace mw::audit
