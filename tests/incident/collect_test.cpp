// The collector's account mode on a fake host: the account's commands run (as zimbra) with the
// account as an argument, the outputs are redacted and load as an account snapshot, and an
// account name that is not one is refused before anything runs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "audit/collect.hpp"
#include "incident/account.hpp"

namespace mw::incident {
namespace {

namespace fs = std::filesystem;

const std::string kSnapshot = std::string(MW_SOURCE_DIR) + "/tests/data/incident/snapshot";

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct FakeHost {
  fs::path dir = fs::temp_directory_path() / ("mw-incident-collect-" + std::to_string(::getpid()));
  FakeHost() {
    fs::remove_all(dir);
    for (const char* p : {"/opt/zimbra/bin/zmprov", "/opt/zimbra/bin/zmmailbox",
                          "/opt/zimbra/bin/zmhostname", "/usr/sbin/runuser"}) {
      const fs::path f = dir / "root" / fs::path(p).relative_path();
      fs::create_directories(f.parent_path());
      std::ofstream(f) << "#!/bin/sh\n";
      ::chmod(f.c_str(), 0755);
    }
  }
  ~FakeHost() { fs::remove_all(dir); }
};

TEST(AccountCollect, RunsTheAccountCommandsAndRedacts) {
  FakeHost host;
  std::mutex mu;
  std::vector<std::string> ran;
  audit::Runner runner = [&](const std::vector<std::string>& argv,
                             std::chrono::milliseconds) -> Result<CommandOutput> {
    // runuser -l zimbra -c SCRIPT PROG ARGS...
    std::vector<std::string> inner(argv.begin() + 5, argv.end());
    const std::string line = command_line(inner);
    {
      std::lock_guard lock(mu);
      ran.push_back(line);
    }
    CommandOutput o;
    o.exit_code = 0;
    const std::string zmprov = "/opt/zimbra/bin/zmprov -l ";
    if (line == zmprov + "ga alice@example.com") {
      // The fixture's app passwords are redacted already: plant a live one.
      o.out = read(kSnapshot + "/zmprov-ga-account.txt");
      o.out.insert(o.out.find('\n') + 1, "zimbraAppSpecificPassword: PLANTED-APP-SECRET\n");
    } else if (line == zmprov + "gds alice@example.com")
      o.out = read(kSnapshot + "/zmprov-gds-account.txt");
    else if (line == zmprov + "getGrants -t account alice@example.com")
      o.out = read(kSnapshot + "/zmprov-getGrants-account.txt");
    else if (line == "/opt/zimbra/bin/zmmailbox -z -m alice@example.com getFilterRules")
      o.out = read(kSnapshot + "/zmmailbox-getFilterRules.txt");
    else if (line == zmprov + "gas mailbox")
      o.out = "mbox1.example.com\n";
    else if (line == zmprov + "gad")
      o.out = "example.com\n";
    else if (line == "/opt/zimbra/bin/zmhostname")
      o.out = "mbox1.example.com\n";
    return o;
  };
  audit::CollectOptions co;
  co.root = host.dir / "root";
  co.out_dir = host.dir / "snap";
  co.account = "alice@example.com";
  co.host = "mbox1.example.com";
  auto r = audit::collect_snapshot(co, runner);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(std::find(ran.begin(), ran.end(),
                      "/opt/zimbra/bin/zmprov -l getGrants -t account alice@example.com"),
            ran.end());
  // The host table's account-free commands are not run (sshd, iptables...): only Zimbra's.
  for (const auto& l : ran) EXPECT_EQ(l.rfind("/opt/zimbra/", 0), 0u) << l;
  const auto ga = read(co.out_dir / "zmprov-ga-account.txt");
  EXPECT_EQ(ga.find("PLANTED-APP-SECRET"), std::string::npos);
  auto s = load_account_snapshot(co.out_dir, "alice@example.com");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->attrs);
  EXPECT_EQ(s->attrs->values("zimbraAppSpecificPassword").size(), 3u);
  EXPECT_EQ(s->mailbox_servers, std::vector<std::string>{"mbox1.example.com"});
  ASSERT_TRUE(s->incoming_rules);
  EXPECT_EQ(s->incoming_rules->size(), 2u);
  auto manifest = audit::read_manifest(co.out_dir);
  ASSERT_TRUE(manifest);
  ASSERT_TRUE(*manifest);
  bool seen = false;
  for (const auto& e : (*manifest)->files)
    if (e.file == "zmmailbox-getFilterRules.txt") {
      seen = true;
      EXPECT_EQ(e.command, "/opt/zimbra/bin/zmmailbox -z -m alice@example.com getFilterRules");
      EXPECT_EQ(e.run_as, "zimbra");
    }
  EXPECT_TRUE(seen);
}

TEST(AccountCollect, RefusesWhatIsNotAnAccountName) {
  FakeHost host;
  int calls = 0;
  audit::Runner runner = [&](const std::vector<std::string>&,
                             std::chrono::milliseconds) -> Result<CommandOutput> {
    ++calls;
    return CommandOutput{};
  };
  audit::CollectOptions co;
  co.root = host.dir / "root";
  co.out_dir = host.dir / "snap";
  co.account = "-o /tmp/x@example.com";
  auto r = audit::collect_snapshot(co, runner);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is not an account name"), std::string::npos);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(fs::exists(co.out_dir));
}

}  // namespace
}  // namespace mw::incident
