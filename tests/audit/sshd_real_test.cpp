// The real OpenSSH sshd (Debian 12's, fetched by fixture real_sshd) judges sshd_match_specs: for
// each Match block, `sshd -T -C SPEC` must accept the spec and show that block's values.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "audit/sshd.hpp"
#include "core/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace mw::audit {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

// Runs the extracted sshd, only ever with -T (print the configuration and exit). As root, sshd
// -T insists on the privilege separation user "sshd" and /run/sshd, which exist only where
// openssh-server is installed; as any other user it checks neither and evaluates Match blocks
// the same way. So as root it runs as nobody (setpriv), over files nobody can read.
class RealSshd {
 public:
  // nullopt, with the reason, when the fixture did not provide a runnable sshd.
  static std::optional<RealSshd> from_environment(std::string* why) {
    const char* env = std::getenv("MW_REAL_SSHD");
    if (env == nullptr || *env == '\0') {
      *why =
          "MW_REAL_SSHD is not set: run through ctest, whose fixture real_sshd "
          "(tests/audit/real-sshd-setup.sh) fetches Debian's openssh-server";
      return std::nullopt;
    }
    RealSshd s;
    s.sshd_ = env;
    if (::access(s.sshd_.c_str(), X_OK) != 0) {
      *why = "no executable sshd at MW_REAL_SSHD=" + s.sshd_ +
             ": fixture real_sshd (tests/audit/real-sshd-setup.sh) could not fetch it (no access "
             "to the Debian mirror?)";
      return std::nullopt;
    }
    const fs::path root = fs::path(s.sshd_).parent_path().parent_path().parent_path();
    s.libpath_ = (root / "lib/x86_64-linux-gnu").string() + ":" +
                 (root / "usr/lib/x86_64-linux-gnu").string();
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("nobody");
      if (pw == nullptr) {
        *why = "running as root, but there is no user 'nobody' to run sshd -T as";
        return std::nullopt;
      }
      s.drop_ = Ids{pw->pw_uid, pw->pw_gid};
    }
    return s;
  }

  // sshd -T ARGS..., 20 s at most.
  CommandOutput run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv;
    if (drop_) {
      argv = {"setpriv", "--reuid=" + std::to_string(drop_->uid),
              "--regid=" + std::to_string(drop_->gid), "--clear-groups", "--"};
    }
    argv.insert(argv.end(), {"env", "LD_LIBRARY_PATH=" + libpath_, sshd_, "-T"});
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions opt;
    opt.timeout = 20s;
    auto r = run_command(argv, opt);
    if (!r) {
      CommandOutput failed;
      failed.err = command_line(argv) + ": " + r.error().message;
      return failed;
    }
    return *r;
  }

  // Gives `path` to the user sshd runs as, with `mode`: the host key must be private to it.
  bool hand_over(const fs::path& path, mode_t mode) const {
    if (::chmod(path.c_str(), mode) != 0) return false;
    return !drop_ || ::chown(path.c_str(), drop_->uid, drop_->gid) == 0;
  }

 private:
  struct Ids {
    uid_t uid;
    gid_t gid;
  };
  std::string sshd_;
  std::string libpath_;
  std::optional<Ids> drop_;
};

// A Match block that yields a spec: under that spec sshd must give `keyword` the block's
// `value`; without -C (no connection) it gives `global`. `every_spec`: the block matches every
// connection (Match All), so every spec of the config shows its value.
struct Block {
  std::string criteria;  // as sshd_config writes it, for messages
  std::string keyword;
  std::string value;
  std::string global;
  bool every_spec = false;
};

// A value of a block that sshd_match_specs skips and that no connection can get (Group with
// our probe users, negations only): neither the global answer nor any spec may show it.
struct Unreachable {
  std::string keyword;
  std::string value;
};

struct Case {
  std::string name;
  std::string main;  // the main sshd_config, "@DIR@" standing for the temp dir
  std::vector<std::pair<std::string, std::string>> files;  // more files, relative to the dir
  std::vector<Block> blocks;                               // one per spec, in block order
  std::size_t skipped = 0;
  std::vector<Unreachable> unreachable;
  // sshd 9.2 refuses `sshd -T` without -C, and every -C spec without lport=, once a Match line
  // names LocalPort. The global answer is then asked with this spec (one no block selects),
  // and plain `sshd -T` must fail saying so.
  std::string global_spec;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::string with_dir(std::string text, const std::string& dir) {
  for (auto p = text.find("@DIR@"); p != std::string::npos; p = text.find("@DIR@", p)) {
    text.replace(p, 5, dir);
    p += dir.size();
  }
  return text;
}

std::string value_of(const SshdEffective& e, const std::string& keyword) {
  const auto* v = e.find(keyword);
  return v == nullptr ? "(not printed)" : v->value;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"UserHostAndAddresses",
       "PasswordAuthentication no\nX11Forwarding no\nMaxAuthTries 3\nMaxSessions 10\n"
       "PermitRootLogin no\nAllowTcpForwarding no\n"
       "Match User backup\n  PasswordAuthentication yes\n"
       "Match Host *.example.org\n  X11Forwarding yes\n"
       "Match Address 10.20.0.0/16\n  MaxAuthTries 7\n"
       "Match Address 172.16.*\n  MaxAuthTries 8\n"
       "Match Address 192.168.1.?\n  MaxAuthTries 9\n"
       "Match Address 2001:db8::/32\n  MaxSessions 4\n"
       "Match Address fd00:*\n  PermitRootLogin prohibit-password\n"
       "Match Address *\n  AllowTcpForwarding local\n",
       {},
       {{"User backup", "passwordauthentication", "yes", "no"},
        {"Host *.example.org", "x11forwarding", "yes", "no"},
        {"Address 10.20.0.0/16", "maxauthtries", "7", "3"},
        {"Address 172.16.*", "maxauthtries", "8", "3"},
        {"Address 192.168.1.?", "maxauthtries", "9", "3"},
        {"Address 2001:db8::/32", "maxsessions", "4", "10"},
        {"Address fd00:*", "permitrootlogin", "without-password", "no"},
        {"Address *", "allowtcpforwarding", "local", "no"}},
       0,
       {},
       ""},
      {"LocalAddressAndLocalPort",
       "AllowTcpForwarding no\nPermitTTY yes\nClientAliveInterval 0\nX11DisplayOffset 10\n"
       "Match LocalAddress 10.9.0.0/16\n  AllowTcpForwarding yes\n"
       "Match LocalPort 2222\n  PermitTTY no\n"
       "Match LocalAddress 10.8.* LocalPort 2200\n  ClientAliveInterval 30\n"
       "Match LocalAddress fd12::/16\n  X11DisplayOffset 20\n",
       {},
       {{"LocalAddress 10.9.0.0/16", "allowtcpforwarding", "yes", "no"},
        {"LocalPort 2222", "permittty", "no", "yes"},
        {"LocalAddress 10.8.* LocalPort 2200", "clientaliveinterval", "30", "0"},
        {"LocalAddress fd12::/16", "x11displayoffset", "20", "10"}},
       0,
       {},
       "user=mailwarden-probe,host=probe.invalid,addr=192.0.2.1,lport=22"},
      {"CombinationsNegationsGroupAndAll",
       "MaxAuthTries 3\nMaxSessions 10\nPermitTTY yes\nX11Forwarding no\nGatewayPorts no\n"
       "LogLevel INFO\nPermitTunnel no\nAllowAgentForwarding yes\n"
       "Match User alice Address 10.0.0.0/8\n  MaxAuthTries 7\n"
       "Match User bob,carol Host mail?.example.net\n  MaxAuthTries 8\n"
       "Match User dave Host *.example.com Address 192.168.0.0/16 LocalPort 2222\n"
       "  MaxAuthTries 9\n"
       "Match Group admins\n  X11Forwarding yes\n"
       "Match User !root\n  PermitTTY no\n"
       "Match Address 10.0.0.0/8,!10.0.0.0/16\n  MaxSessions 3\n"
       "Match User !root,!admin,eve*\n  PermitTunnel yes\n"
       "Match Host *.example.org,!x*.example.org\n  GatewayPorts yes\n"
       "Match All\n  LogLevel VERBOSE\n",
       {},
       {{"User alice Address 10.0.0.0/8", "maxauthtries", "7", "3"},
        {"User bob,carol Host mail?.example.net", "maxauthtries", "8", "3"},
        {"User dave Host *.example.com Address 192.168.0.0/16 LocalPort 2222", "maxauthtries", "9",
         "3"},
        {"Address 10.0.0.0/8,!10.0.0.0/16", "maxsessions", "3", "10"},
        {"User !root,!admin,eve*", "permittunnel", "yes", "no"},
        {"Host *.example.org,!x*.example.org", "gatewayports", "yes", "no"},
        // Every connection, including the one standing for the global answer, gets Match All.
        {"All", "loglevel", "VERBOSE", "VERBOSE", true}},
       2,
       {{"x11forwarding", "yes"}, {"permittty", "no"}},
       "user=mailwarden-probe,host=probe.invalid,addr=192.0.2.1,lport=22"},
      {"IncludedDropInsAndIncludeInsideMatch",
       "Include @DIR@/sshd_config.d/*.conf\n"
       "PasswordAuthentication no\nPermitRootLogin no\nMaxAuthTries 3\n"
       "Match User backup\n  Include @DIR@/match.d/*.conf\n",
       {{"sshd_config.d/50-admin.conf",
         "X11Forwarding no\nMatch Address 192.168.50.0/24\n  PermitRootLogin prohibit-password\n"
         "  MaxAuthTries 5\n"},
        {"match.d/x11.conf", "X11Forwarding yes\n"}},
       // The drop-in's Match ends with its file: the main file's PermitRootLogin is global.
       {{"Address 192.168.50.0/24 (sshd_config.d/50-admin.conf)", "permitrootlogin",
         "without-password", "no"},
        {"User backup (its X11Forwarding included from match.d)", "x11forwarding", "yes", "no"}},
       0,
       {},
       ""},
      {"WildcardAndNegationEdges",
       "MaxAuthTries 3\nMaxSessions 10\nPermitTTY yes\nX11Forwarding no\nGatewayPorts no\n"
       "ClientAliveInterval 0\n"
       "Match Address 10.0.0.0/8,!10.0.0.*\n  MaxAuthTries 7\n"
       "Match Address 2001:db8:*:1\n  MaxSessions 4\n"
       "Match Address *.5\n  PermitTTY no\n"
       "Match User alice User a*\n  X11Forwarding yes\n"
       "Match Host *.Example.ORG\n  GatewayPorts yes\n"
       "Match Address 10.0.0.0/8,!10.0.0.0/9\n  ClientAliveInterval 30\n",
       {},
       {{"Address 10.0.0.0/8,!10.0.0.*", "maxauthtries", "7", "3"},
        {"Address 2001:db8:*:1", "maxsessions", "4", "10"},
        {"Address *.5", "permittty", "no", "yes"},
        {"User alice User a*", "x11forwarding", "yes", "no"},
        {"Host *.Example.ORG", "gatewayports", "yes", "no"},
        {"Address 10.0.0.0/8,!10.0.0.0/9", "clientaliveinterval", "30", "0"}},
       0,
       {},
       ""},
      {"EqualsSignsAndQuotes",
       "MaxAuthTries 3\nPermitTTY yes\n"
       "Match User=backup\n  MaxAuthTries 7\n"
       "Match User \"ops\" Address=10.30.0.0/16\n  PermitTTY no\n",
       {},
       {{"User=backup", "maxauthtries", "7", "3"},
        {"User \"ops\" Address=10.30.0.0/16", "permittty", "no", "yes"}},
       0,
       {},
       ""},
  };
  return all;
}

class RealSshdMatch : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string why;
    sshd_ = RealSshd::from_environment(&why);
    if (!sshd_) GTEST_SKIP() << why;
  }
  std::optional<RealSshd> sshd_;
};

TEST_P(RealSshdMatch, EverySpecIsAcceptedAndSelectsItsBlock) {
  const Case& c = GetParam();
  test::TempDir tmp{"mw-sshd-real-"};
  ASSERT_FALSE(tmp.path().empty()) << "mkdtemp failed";
  const std::string dir = tmp.path().string();
  ASSERT_TRUE(sshd_->hand_over(tmp.path(), 0755)) << tmp.path();

  // A host key of its own: sshd -T refuses to print anything without one it can load.
  const fs::path key = tmp.path() / "hostkey";
  auto keygen = run_command(
      {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mailwarden-test", "-f", key.string()});
  ASSERT_TRUE(keygen.ok()) << "ssh-keygen: " << keygen.error().message;
  ASSERT_TRUE(keygen->success()) << "ssh-keygen failed: " << keygen->err;
  ASSERT_TRUE(sshd_->hand_over(key, 0600)) << key;

  const fs::path main_path = tmp.path() / "sshd_config";
  const std::string main_text = "HostKey " + key.string() + "\n" + with_dir(c.main, dir);
  std::vector<std::pair<fs::path, std::string>> files = {{main_path, main_text}};
  for (const auto& [rel, text] : c.files) files.emplace_back(tmp.path() / rel, with_dir(text, dir));
  for (const auto& [path, text] : files) {
    fs::create_directories(path.parent_path());
    ASSERT_TRUE(sshd_->hand_over(path.parent_path(), 0755)) << path.parent_path();
    std::ofstream(path, std::ios::binary) << text;
    ASSERT_TRUE(sshd_->hand_over(path, 0644)) << path;
  }

  // What the audit collector does with the host's sshd_config.
  const auto resolver = filesystem_include_resolver("");
  auto config = parse_sshd_config(main_text, main_path.string(), &resolver, dir);
  ASSERT_TRUE(config.ok()) << config.error().message;
  std::vector<std::string> skipped;
  const auto specs = sshd_match_specs(*config, &skipped);
  ASSERT_EQ(skipped.size(), c.skipped) << "skipped:" << joined(skipped);
  ASSERT_EQ(specs.size(), c.blocks.size()) << "specs:" << joined(specs);

  std::vector<std::string> global_args = {"-f", main_path.string()};
  if (!c.global_spec.empty()) {
    const auto plain = sshd_->run(global_args);
    EXPECT_FALSE(plain.success()) << "sshd -T without -C accepted a Match LocalPort";
    EXPECT_NE(plain.err.find("'lport' not in connection test specification"), std::string::npos)
        << plain.err;
    global_args = {"-C", c.global_spec, "-f", main_path.string()};
  }
  const auto global_out = sshd_->run(global_args);
  ASSERT_TRUE(global_out.success()) << "sshd -T " << command_line(global_args) << " failed (exit "
                                    << global_out.exit_code << "): " << global_out.err;
  auto global = parse_sshd_t(global_out.out, "sshd -T");
  ASSERT_TRUE(global.ok()) << global.error().message;
  for (const auto& b : c.blocks) {
    EXPECT_EQ(value_of(*global, b.keyword), b.global) << "global answer, " << b.keyword;
    if (!b.every_spec) {
      EXPECT_NE(value_of(*global, b.keyword), b.value)
          << "the global answer must differ from Match " << b.criteria << "'s";
    }
  }
  for (const auto& u : c.unreachable) {
    EXPECT_NE(value_of(*global, u.keyword), u.value) << "global " << u.keyword;
  }

  for (std::size_t i = 0; i < specs.size(); ++i) {
    const Block& b = c.blocks[i];
    SCOPED_TRACE("Match " + b.criteria + " -> sshd -T -C " + specs[i]);
    auto out = sshd_->run({"-C", specs[i], "-f", main_path.string()});
    if (!out.success()) {
      ADD_FAILURE() << "real sshd rejected the spec (exit " << out.exit_code
                    << (out.timed_out ? ", timed out" : "") << "): " << out.err;
      continue;
    }
    auto eff = parse_sshd_t(out.out, "sshd -T -C");
    if (!eff.ok()) {
      ADD_FAILURE() << eff.error().message;
      continue;
    }
    EXPECT_EQ(value_of(*eff, b.keyword), b.value)
        << "the spec does not select its block: " << b.keyword << " keeps another value";
    for (const auto& other : c.blocks) {
      if (other.every_spec) {
        EXPECT_EQ(value_of(*eff, other.keyword), other.value) << "Match " << other.criteria;
      }
    }
    for (const auto& u : c.unreachable) {
      EXPECT_NE(value_of(*eff, u.keyword), u.value) << "a skipped block applied: " << u.keyword;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, RealSshdMatch, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace mw::audit
