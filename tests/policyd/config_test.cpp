// policyd configuration: the example file, every default, one test per error class with its
// exact "name:line:column: key" prefix, durations, listen forms, limits and exceptions.
#include "policyd/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace mw::policyd {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Result<Config> parse(std::string_view text) {
  return parse_config(text, "t.toml");
}

// The error of a configuration that must be refused (the test fails if it loads).
std::string error_of(std::string_view text) {
  auto c = parse(text);
  EXPECT_FALSE(c.ok()) << "accepted:\n" << text;
  return c.ok() ? std::string() : c.error().message;
}

Config ok(std::string_view text) {
  auto c = parse(text);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : Config{};
}

bool contains(const AddressSet& set, std::string_view address) {
  return set.contains(*parse_address(address));
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "mw-policyd-config-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, std::string_view text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }

 private:
  fs::path path_;
};

TEST(PolicydConfig, ExampleLoadsWithItsValues) {
  auto c = load_config(fs::path(MW_SOURCE_DIR) / "catalog/policyd.example.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server.listen,
            (std::vector<std::string>{"inet:127.0.0.1:10031",
                                      "unix:/var/spool/postfix/private/mailwarden-policy"}));
  EXPECT_EQ(c->server.node_id, "mta1.example.com");
  EXPECT_EQ(c->server.idle_timeout_ms, 330'000);
  EXPECT_EQ(c->server.max_ttl_ms, 1'100'000);
  EXPECT_EQ(c->server.metrics, "127.0.0.1:9464");
  EXPECT_EQ(c->stage, CountStage::end_of_message);
  EXPECT_TRUE(contains(c->mailbox_servers, "192.0.2.11"));
  EXPECT_TRUE(contains(c->mailbox_servers, "127.0.0.1"));
  EXPECT_FALSE(contains(c->mailbox_servers, "192.0.2.12"));
  ASSERT_EQ(c->limits.size(), 4u);
  EXPECT_EQ(c->limits[0].scope, Scope::account);
  EXPECT_EQ(c->limits[0].windows, (std::vector<WindowLimit>{{3600, 10, 100}, {86400, 100, 500}}));
  EXPECT_EQ(c->limits[1].scope, Scope::sender);
  EXPECT_EQ(c->limits[2].scope, Scope::client);
  EXPECT_EQ(c->limits[2].windows, (std::vector<WindowLimit>{{3600, 50, 0}}));
  EXPECT_EQ(c->limits[3].scope, Scope::domain);
  ASSERT_EQ(c->exceptions.size(), 2u);
  EXPECT_EQ(c->exceptions[0].match, "newsletter@example.com");
  EXPECT_FALSE(c->exceptions[0].exempt);
  EXPECT_EQ(c->exceptions[0].windows,
            (std::vector<WindowLimit>{{3600, 1000, 20000}, {86400, 5000, 100000}}));
  EXPECT_EQ(c->exceptions[1].match, "192.0.2.25");
  EXPECT_TRUE(c->exceptions[1].exempt);
  ASSERT_TRUE(c->exceptions[1].client.has_value());
  EXPECT_EQ(to_string(*c->exceptions[1].client), "192.0.2.25/32");
  EXPECT_EQ(c->action, OverLimitAction::defer);
  EXPECT_EQ(c->alerts.postmaster, "postmaster@example.com");
  EXPECT_EQ(c->alerts.lock_after, 0u);
  EXPECT_TRUE(c->spoofing.enabled);
  EXPECT_TRUE(c->spoofing.sender_login_maps.empty());
  EXPECT_EQ(c->spoofing.domains, std::vector<std::string>{"example.com"});
  EXPECT_EQ(c->state.backend, StoreBackend::memory);
  EXPECT_EQ(c->state.path, "/var/lib/mailwarden/policyd.sqlite");
  EXPECT_EQ(c->state.redis.host, "127.0.0.1");
  EXPECT_EQ(c->state.redis.port, 6379);
  EXPECT_EQ(c->state.redis.timeout_ms, 50);
}

TEST(PolicydConfig, EmptyFileHasEveryDefault) {
  const Config c = ok("");
  const Config d;  // config.hpp's defaults
  EXPECT_EQ(c.file, "t.toml");
  EXPECT_EQ(c.server.listen, std::vector<std::string>{"inet:127.0.0.1:10031"});
  EXPECT_EQ(c.server.node_id, "");
  EXPECT_EQ(c.server.threads, 0u);
  EXPECT_EQ(c.server.user, "");
  EXPECT_EQ(c.server.idle_timeout_ms, 330'000);
  EXPECT_EQ(c.server.request_timeout_ms, 100'000);
  EXPECT_EQ(c.server.max_ttl_ms, 1'100'000);
  EXPECT_EQ(c.server.max_request_bytes, 16384u);
  EXPECT_EQ(c.server.max_attributes, 100u);
  EXPECT_EQ(c.server.metrics, "");
  EXPECT_EQ(c.stage, CountStage::end_of_message);
  EXPECT_EQ(c.mailbox_servers.to_string(), "127.0.0.0/8, ::1/128");
  EXPECT_TRUE(c.limits.empty());
  EXPECT_TRUE(c.exceptions.empty());
  EXPECT_EQ(c.action, OverLimitAction::defer);
  EXPECT_EQ(c.defer_text, "4.7.1 Sending rate limit exceeded, try again later");
  EXPECT_EQ(c.hold_text, "sending rate limit exceeded: held for review");
  EXPECT_EQ(c.reject_text, "5.7.1 Sending rate limit exceeded");
  EXPECT_EQ(c.spoof_text, "5.7.1 Sender address not owned by the authenticated user");
  EXPECT_TRUE(c.alerts.syslog);
  EXPECT_EQ(c.alerts.postmaster, "");
  EXPECT_EQ(c.alerts.sendmail, "/usr/sbin/sendmail");
  EXPECT_EQ(c.alerts.command, "");
  EXPECT_EQ(c.alerts.webhook, "");
  EXPECT_EQ(c.alerts.lock_after, 0u);
  EXPECT_EQ(c.alerts.timeout_ms, 5000);
  EXPECT_FALSE(c.spoofing.enabled);
  EXPECT_TRUE(c.spoofing.sender_login_maps.empty());
  EXPECT_TRUE(c.spoofing.domains.empty());
  EXPECT_EQ(c.spoofing.action, OverLimitAction::reject);
  EXPECT_EQ(c.state.backend, StoreBackend::memory);
  EXPECT_TRUE(c.state.path.empty());
  EXPECT_EQ(c.state.flush_interval_ms, 1000);
  EXPECT_EQ(c.state.redis.host, d.state.redis.host);
  EXPECT_EQ(c.state.redis.port, 6379);
  EXPECT_EQ(c.state.redis.unix_socket, "");
  EXPECT_EQ(c.state.redis.database, 0);
  EXPECT_EQ(c.state.redis.pool, 8u);
  EXPECT_EQ(c.state.redis.timeout_ms, 50);
  EXPECT_EQ(c.state.redis.on_failure, FailMode::open);
  EXPECT_EQ(c.state.redis.prefix, "mailwarden:policyd:");
}

TEST(PolicydConfig, EmptySectionsKeepDefaultsToo) {
  const Config c = ok("[server]\n[counting]\n[action]\n[alerts]\n[spoofing]\n[state]\n");
  EXPECT_EQ(c.server.listen, std::vector<std::string>{"inet:127.0.0.1:10031"});
  EXPECT_EQ(c.mailbox_servers.to_string(), "127.0.0.0/8, ::1/128");
}

TEST(PolicydConfig, ScopeNames) {
  EXPECT_EQ(scope_name(Scope::account), "account");
  EXPECT_EQ(scope_name(Scope::sender), "sender");
  EXPECT_EQ(scope_name(Scope::client), "client");
  EXPECT_EQ(scope_name(Scope::domain), "domain");
}

// --- error classes, each with its exact position ---

TEST(PolicydConfigError, TomlSyntax) {
  EXPECT_THAT(error_of("[server]\nthreads = = 2\n"), StartsWith("t.toml:2:11: TOML syntax error"));
}

TEST(PolicydConfigError, UnknownTopLevelTable) {
  EXPECT_EQ(error_of("[servr]\nthreads = 2\n"),
            "t.toml:1:1: servr: unknown key (known here: server, counting, action, limit, "
            "exception, alerts, spoofing, state)");
}

TEST(PolicydConfigError, UnknownKeyInSection) {
  EXPECT_THAT(error_of("[server]\nlisten = [\"inet:127.0.0.1:10031\"]\nthread = 4\n"),
              StartsWith("t.toml:3:10: server.thread: unknown key (known here: listen,"));
  EXPECT_THAT(error_of("[state.redis]\nadress = \"127.0.0.1:6379\"\n"),
              StartsWith("t.toml:2:10: state.redis.adress: unknown key"));
  EXPECT_THAT(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1h\"\nmesages = 10\n"),
              StartsWith("t.toml:4:11: limit[0].mesages: unknown key"));
}

TEST(PolicydConfigError, WrongType) {
  EXPECT_EQ(error_of("[server]\nthreads = \"4\"\n"),
            "t.toml:2:11: server.threads: must be an integer");
  EXPECT_EQ(error_of("[alerts]\nsyslog = \"yes\"\n"),
            "t.toml:2:10: alerts.syslog: must be true or false");
  EXPECT_EQ(error_of("[server]\nlisten = \"inet:127.0.0.1:10031\"\n"),
            "t.toml:2:10: server.listen: must be an array of strings");
  EXPECT_EQ(error_of("[server]\nlisten = [\"inet:127.0.0.1:10031\", 5]\n"),
            "t.toml:2:35: server.listen[1]: must be a string");
  EXPECT_EQ(error_of("server = 5\n"), "t.toml:1:10: server: must be a table [server]");
  EXPECT_EQ(error_of("limit = 5\n"), "t.toml:1:9: limit: must be [[limit]] tables");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1h\"\nmessages = 1.5\n"),
            "t.toml:4:12: limit[0].messages: must be an integer");
}

TEST(PolicydConfigError, OutOfRange) {
  EXPECT_EQ(error_of("[server]\nthreads = -1\n"),
            "t.toml:2:11: server.threads: -1 is out of range 0..1024");
  EXPECT_EQ(error_of("[server]\nmax_request_bytes = 100\n"),
            "t.toml:2:21: server.max_request_bytes: 100 is out of range 1024..1048576");
  EXPECT_EQ(error_of("[state.redis]\npool = 0\n"),
            "t.toml:2:8: state.redis.pool: 0 is out of range 1..1024");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1h\"\nmessages = 4294967296\n"),
            "t.toml:4:12: limit[0].messages: 4294967296 is out of range 0..4294967295");
}

TEST(PolicydConfigError, BadEnum) {
  EXPECT_EQ(error_of("[action]\nover_limit = \"drop\"\n"),
            "t.toml:2:14: action.over_limit: 'drop' is not one of defer, hold, reject");
  EXPECT_EQ(error_of("[counting]\nstage = \"data\"\n"),
            "t.toml:2:9: counting.stage: 'data' is not one of end-of-message, rcpt");
  EXPECT_EQ(error_of("[spoofing]\naction = \"hold\"\n"),
            "t.toml:2:10: spoofing.action: 'hold' is not one of reject, defer");
  EXPECT_EQ(error_of("[state]\nbackend = \"sqlite\"\n"),
            "t.toml:2:11: state.backend: 'sqlite' is not one of memory, redis");
  EXPECT_EQ(error_of("[state.redis]\non_failure = \"ignore\"\n"),
            "t.toml:2:14: state.redis.on_failure: 'ignore' is not one of open, closed");
}

TEST(PolicydConfigError, BadDuration) {
  EXPECT_THAT(
      error_of("[server]\nidle_timeout = \"5 min\"\n"),
      StartsWith("t.toml:2:16: server.idle_timeout: '5 min': unknown unit ' ' (ms, s, m, h, d) "
                 "at position 2"));
  EXPECT_EQ(error_of("[server]\nidle_timeout = 0\n"),
            "t.toml:2:16: server.idle_timeout: 0 seconds is out of range 1..31536000");
  EXPECT_THAT(error_of("[server]\nidle_timeout = \"0s\"\n"), HasSubstr("out of range 1ms..365d"));
  EXPECT_THAT(error_of("[server]\nidle_timeout = \"-5s\"\n"),
              HasSubstr("expected a number at position 1"));
  EXPECT_THAT(error_of("[server]\nidle_timeout = \"99999999999999999999d\"\n"),
              HasSubstr("duration too large"));
  EXPECT_THAT(error_of("[server]\nidle_timeout = \"1w\"\n"),
              HasSubstr("unit 'w' not accepted here"));
  EXPECT_EQ(error_of("[server]\nidle_timeout = 1.5\n"),
            "t.toml:2:16: server.idle_timeout: must be a duration string like \"90s\" or an "
            "integer number of seconds");
  EXPECT_EQ(error_of("[server]\nidle_timeout = \"2d\"\n"),
            "t.toml:2:16: server.idle_timeout: 2d is out of range 1ms..1d");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1500ms\"\nmessages = 1\n"),
            "t.toml:3:10: limit[0].window: a window is a whole number of seconds (counters have "
            "1-second resolution)");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"32d\"\nmessages = 1\n"),
            "t.toml:3:10: limit[0].window: 32d is out of range 1s..31d");
}

TEST(PolicydConfig, Durations) {
  struct Case {
    std::string text;
    std::int64_t ms;
  };
  for (const auto& c : std::vector<Case>{{"\"250ms\"", 250},
                                         {"\"90s\"", 90'000},
                                         {"\"15m\"", 900'000},
                                         {"\"1h\"", 3'600'000},
                                         {"\"1d\"", 86'400'000},
                                         {"330", 330'000}}) {
    const Config cfg = ok("[server]\nidle_timeout = " + c.text + "\n");
    EXPECT_EQ(cfg.server.idle_timeout_ms, c.ms) << c.text;
  }
  EXPECT_EQ(ok("[state.redis]\ntimeout = \"20ms\"\n").state.redis.timeout_ms, 20);
  EXPECT_EQ(ok("[alerts]\ntimeout = 10\n").alerts.timeout_ms, 10'000);
  EXPECT_EQ(ok("[state]\nflush_interval = \"500ms\"\n").state.flush_interval_ms, 500);
  const Config w = ok("[[limit]]\nscope = \"client\"\nwindow = 600\nmessages = 3\n");
  EXPECT_EQ(w.limits.at(0).windows.at(0).window, 600);
}

TEST(PolicydConfig, ListenForms) {
  const Config c =
      ok("[server]\nlisten = [\"inet:127.0.0.1:10031\", \"inet:[::1]:10031\", "
         "\"inet:0.0.0.0:12345\", \"unix:/var/spool/postfix/private/policy\"]\n");
  EXPECT_EQ(c.server.listen.size(), 4u);
  EXPECT_EQ(c.server.listen[1], "inet:[::1]:10031");
}

TEST(PolicydConfigError, BadListen) {
  struct Case {
    std::string value;
    std::string error;
  };
  for (const auto& c : std::vector<Case>{
           {"tcp:127.0.0.1:10031",
            "'tcp:127.0.0.1:10031' is not \"inet:HOST:PORT\" or \"unix:/path\""},
           {"inet:::1:10031", "an IPv6 address needs brackets, as in [::1]:10031"},
           {"inet:127.0.0.1", "expected HOST:PORT"},
           {"inet:127.0.0.1:0", "port '0' is not a number from 1 to 65535"},
           {"inet:127.0.0.1:65536", "port '65536' is not a number from 1 to 65535"},
           {"inet:127.0.0.1:http", "port 'http' is not a number"},
           {"inet:localhost:10031", "host names are not accepted"},
           {"inet:[127.0.0.1]:10031", "brackets are for IPv6 addresses only"},
           {"inet:[::1]10031", "expected ':PORT' after ']'"},
           {"unix:relative/sock", "the socket path must be absolute"},
           {"unix:/" + std::string(120, 'a'), "a socket path is at most 107 bytes"},
       }) {
    const std::string e = error_of("[server]\nlisten = [\"" + c.value + "\"]\n");
    EXPECT_THAT(e, StartsWith("t.toml:2:11: server.listen[0]: ")) << c.value;
    EXPECT_THAT(e, HasSubstr(c.error)) << c.value;
  }
  EXPECT_EQ(error_of("[server]\nlisten = []\n"),
            "t.toml:2:10: server.listen: needs at least one address to listen on");
  EXPECT_EQ(error_of("[server]\nlisten = [\"inet:127.0.0.1:1\", \"inet:127.0.0.1:1\"]\n"),
            "t.toml:2:31: server.listen[1]: 'inet:127.0.0.1:1' is listed twice");
}

TEST(PolicydConfig, MetricsAndRedisAddresses) {
  EXPECT_EQ(ok("[server]\nmetrics = \"[::1]:9464\"\n").server.metrics, "[::1]:9464");
  EXPECT_THAT(error_of("[server]\nmetrics = \"9464\"\n"),
              StartsWith("t.toml:2:11: server.metrics: '9464': expected HOST:PORT"));
  const Config r =
      ok("[state]\nbackend = \"redis\"\n[state.redis]\naddress = \"redis.lan:6380\"\n");
  EXPECT_EQ(r.state.backend, StoreBackend::redis);
  EXPECT_EQ(r.state.redis.host, "redis.lan");
  EXPECT_EQ(r.state.redis.port, 6380);
  const Config v6 = ok("[state.redis]\naddress = \"[::1]:6379\"\n");
  EXPECT_EQ(v6.state.redis.host, "::1");
  const Config u =
      ok("[state.redis]\naddress = \"unix:/run/redis/redis-server.sock\"\npassword = \"pw\"\n"
         "database = 3\npool = 2\non_failure = \"closed\"\nprefix = \"mw:\"\n");
  EXPECT_EQ(u.state.redis.unix_socket, "/run/redis/redis-server.sock");
  EXPECT_EQ(u.state.redis.password, "pw");
  EXPECT_EQ(u.state.redis.database, 3);
  EXPECT_EQ(u.state.redis.pool, 2u);
  EXPECT_EQ(u.state.redis.on_failure, FailMode::closed);
  EXPECT_EQ(u.state.redis.prefix, "mw:");
  EXPECT_THAT(error_of("[state.redis]\naddress = \"unix:redis.sock\"\n"),
              StartsWith("t.toml:2:11: state.redis.address: 'redis.sock' must be an absolute"));
  EXPECT_THAT(error_of("[state.redis]\naddress = \"redis..lan:1\"\n"),
              StartsWith("t.toml:2:11: state.redis.address: 'redis..lan:1': the domain has an "
                         "empty label"));
}

TEST(PolicydConfigError, RedisBackendNeedsItsTable) {
  EXPECT_EQ(error_of("[state]\nbackend = \"redis\"\n"),
            "t.toml:2:11: state.backend: \"redis\" needs a [state.redis] table (at least "
            "address = \"HOST:PORT\")");
}

TEST(PolicydConfig, MailboxServers) {
  const Config c =
      ok("[counting]\nstage = \"rcpt\"\nmailbox_servers = [\"10.0.0.0/24\", "
         "\"2001:db8::/32\"]\n");
  EXPECT_EQ(c.stage, CountStage::rcpt);
  EXPECT_TRUE(contains(c.mailbox_servers, "10.0.0.200"));
  EXPECT_TRUE(contains(c.mailbox_servers, "2001:db8::5"));
  EXPECT_FALSE(contains(c.mailbox_servers, "127.0.0.1"));  // replaced, not added to
  EXPECT_TRUE(ok("[counting]\nmailbox_servers = []\n").mailbox_servers.empty());
}

TEST(PolicydConfigError, BadPrefix) {
  EXPECT_THAT(error_of("[counting]\nmailbox_servers = [\"10.0.0.0/33\"]\n"),
              StartsWith("t.toml:2:20: counting.mailbox_servers[0]: '10.0.0.0/33'"));
  EXPECT_THAT(error_of("[counting]\nmailbox_servers = [\"10.0.0.5/24\"]\n"),
              StartsWith("t.toml:2:20: counting.mailbox_servers[0]: '10.0.0.5/24': host bits"));
  EXPECT_THAT(error_of("[counting]\nmailbox_servers = [\"mail.example.com\"]\n"),
              HasSubstr("host names are not accepted"));
}

TEST(PolicydConfig, LimitsMergedPerScopeAndSorted) {
  const Config c = ok(R"(
[[limit]]
scope = "domain"
window = "1h"
messages = 500
[[limit]]
scope = "account"
window = "1d"
messages = 100
[[limit]]
scope = "account"
window = "1h"
recipients = 100
[[limit]]
scope = "account"
window = "15m"
messages = 5
)");
  ASSERT_EQ(c.limits.size(), 2u);
  EXPECT_EQ(c.limits[0].scope, Scope::account);
  EXPECT_EQ(c.limits[0].windows,
            (std::vector<WindowLimit>{{900, 5, 0}, {3600, 0, 100}, {86400, 100, 0}}));
  EXPECT_EQ(c.limits[1].scope, Scope::domain);
}

TEST(PolicydConfigError, BadLimit) {
  EXPECT_EQ(error_of("[[limit]]\nwindow = \"1h\"\nmessages = 1\n"),
            "t.toml:1:1: limit[0]: 'scope' is missing (account, sender, client or domain)");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nmessages = 1\n"),
            "t.toml:1:1: limit[0]: 'window' is missing (e.g. window = \"1h\")");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1h\"\nmessages = 0\n"),
            "t.toml:1:1: limit[0]: limits nothing: set messages and/or recipients above 0");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1h\"\nmessages = -1\n"),
            "t.toml:4:12: limit[0].messages: -1 is out of range 0..4294967295");
  EXPECT_EQ(error_of("[[limit]]\nscope = \"user\"\nwindow = \"1h\"\nmessages = 1\n"),
            "t.toml:2:9: limit[0].scope: 'user' is not one of account, sender, client, domain");
  // Same scope, same window length (60m == 1h): one of them would silently lose.
  EXPECT_EQ(error_of("[[limit]]\nscope = \"account\"\nwindow = \"1h\"\nmessages = 10\n"
                     "[[limit]]\nscope = \"sender\"\nwindow = \"1h\"\nmessages = 10\n"
                     "[[limit]]\nscope = \"account\"\nwindow = \"60m\"\nrecipients = 10\n"),
            "t.toml:11:10: limit[2].window: a second limit with window 1h for scope account "
            "(merge them into one)");
}

TEST(PolicydConfig, Exceptions) {
  const Config c = ok(R"(
[[exception]]
match = "Newsletter@Example.COM"
limit = [{ window = "1d", messages = 5000 }, { window = "1h", messages = 1000 }]
[[exception]]
match = "@Bulk.Example.com"
exempt = true
[[exception]]
match = "198.51.100.0/24"
exempt = true
[[exception]]
match = "2001:db8::25"
[[exception.limit]]
window = "1h"
recipients = 50
)");
  ASSERT_EQ(c.exceptions.size(), 4u);
  EXPECT_EQ(c.exceptions[0].match, "newsletter@example.com");
  EXPECT_FALSE(c.exceptions[0].client.has_value());
  EXPECT_EQ(c.exceptions[0].windows, (std::vector<WindowLimit>{{3600, 1000, 0}, {86400, 5000, 0}}));
  EXPECT_EQ(c.exceptions[1].match, "@bulk.example.com");
  EXPECT_TRUE(c.exceptions[1].exempt);
  EXPECT_TRUE(c.exceptions[1].windows.empty());
  EXPECT_EQ(c.exceptions[2].match, "198.51.100.0/24");
  ASSERT_TRUE(c.exceptions[2].client.has_value());
  EXPECT_EQ(c.exceptions[2].client->len, 24);
  EXPECT_EQ(c.exceptions[3].match, "2001:db8::25");
  EXPECT_EQ(c.exceptions[3].windows, (std::vector<WindowLimit>{{3600, 0, 50}}));
}

TEST(PolicydConfigError, BadException) {
  EXPECT_EQ(error_of("[[exception]]\nexempt = true\n"),
            "t.toml:1:1: exception[0]: 'match' is missing (an address, \"@domain\" or a client "
            "address)");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@example.com\"\n"),
            "t.toml:1:1: exception[0]: needs exempt = true or its own limit = [{ window = "
            "\"1h\", messages = N }]");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@example.com\"\nexempt = false\n"),
            "t.toml:1:1: exception[0]: needs exempt = true or its own limit = [{ window = "
            "\"1h\", messages = N }]");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@example.com\"\nexempt = true\n"
                     "limit = [{ window = \"1h\", messages = 5 }]\n"),
            "t.toml:4:9: exception[0].limit: an exception is either exempt = true or has its "
            "own limits, not both");
  EXPECT_THAT(error_of("[[exception]]\nmatch = \"alice\"\nexempt = true\n"),
              StartsWith("t.toml:2:9: exception[0].match: expected an address \"user@domain\", "
                         "a domain \"@domain\" or a client address or prefix ('alice'"));
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"@exa mple.com\"\nexempt = true\n"),
            "t.toml:2:9: exception[0].match: '@exa mple.com': character ' ' is not allowed in "
            "a domain");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"@example.com\"\nexempt = true\n"
                     "[[exception]]\nmatch = \"@EXAMPLE.com\"\nexempt = true\n"),
            "t.toml:5:9: exception[1].match: '@example.com' has a second exception");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@b.c\"\nlimit = [{ window = \"1h\" }]\n"),
            "t.toml:3:10: exception[0].limit[0]: limits nothing: set messages and/or recipients "
            "above 0");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@b.c\"\nlimit = [{ window = \"1h\", mesages = 1 "
                     "}]\n"),
            "t.toml:3:37: exception[0].limit[0].mesages: unknown key (known here: window, "
            "messages, recipients)");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@b.c\"\nlimit = [{ window = \"1h\", messages = 1 "
                     "}, { window = \"3600s\", messages = 2 }]\n"),
            "t.toml:3:54: exception[0].limit[1].window: a second limit with window 1h for "
            "'a@b.c' (merge them into one)");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@b.c\"\nlimit = []\n"),
            "t.toml:3:9: exception[0].limit: is empty");
  EXPECT_EQ(error_of("[[exception]]\nmatch = \"a@b.c\"\nlimit = [5]\n"),
            "t.toml:3:10: exception[0].limit[0]: must be a table");
}

TEST(PolicydConfig, ReplyTexts) {
  const Config c =
      ok("[action]\nover_limit = \"hold\"\ndefer_text = \"4.7.0 slow down\"\n"
         "hold_text = \"held\"\nreject_text = \"5.7.0 no\"\n");
  EXPECT_EQ(c.action, OverLimitAction::hold);
  EXPECT_EQ(c.defer_text, "4.7.0 slow down");
  EXPECT_EQ(c.hold_text, "held");
  EXPECT_EQ(c.reject_text, "5.7.0 no");
  EXPECT_EQ(error_of("[action]\ndefer_text = \"5.7.1 no\"\n"),
            "t.toml:2:14: action.defer_text: the status code '5.7.1' must start with 4.");
  EXPECT_EQ(error_of("[action]\nreject_text = \"4.7.1 later\"\n"),
            "t.toml:2:15: action.reject_text: the status code '4.7.1' must start with 5.");
  EXPECT_EQ(error_of("[action]\nhold_text = \"a\\nb\"\n"),
            "t.toml:2:13: action.hold_text: control characters (a newline?) in a reply text");
  EXPECT_EQ(error_of("[action]\nhold_text = \"\"\n"),
            "t.toml:2:13: action.hold_text: the text is empty");
}

TEST(PolicydConfig, Alerts) {
  const Config c = ok(R"([alerts]
syslog = false
postmaster = "postmaster@example.com"
sendmail = "/opt/zimbra/common/sbin/sendmail"
command = "/usr/local/bin/alert-hook --key ${MW_KEY}"
webhook = "http://127.0.0.1:8080/hooks/mailwarden"
lock_after = 3
lock_command = "/opt/zimbra/bin/zmprov ma ${MW_SUBJECT} zimbraAccountStatus locked"
timeout = "2s"
)");
  EXPECT_FALSE(c.alerts.syslog);
  EXPECT_EQ(c.alerts.postmaster, "postmaster@example.com");
  EXPECT_EQ(c.alerts.sendmail, "/opt/zimbra/common/sbin/sendmail");
  EXPECT_EQ(c.alerts.command, "/usr/local/bin/alert-hook --key ${MW_KEY}");
  EXPECT_EQ(c.alerts.webhook, "http://127.0.0.1:8080/hooks/mailwarden");
  EXPECT_EQ(c.alerts.lock_after, 3u);
  EXPECT_EQ(c.alerts.lock_command,
            "/opt/zimbra/bin/zmprov ma ${MW_SUBJECT} zimbraAccountStatus locked");
  EXPECT_EQ(c.alerts.timeout_ms, 2000);
  EXPECT_EQ(ok("[alerts]\nwebhook = \"https://hooks.example.com/x\"\n").alerts.webhook,
            "https://hooks.example.com/x");
  EXPECT_EQ(ok("[alerts]\nwebhook = \"http://[::1]:8080\"\n").alerts.webhook, "http://[::1]:8080");
}

TEST(PolicydConfigError, BadAlerts) {
  EXPECT_EQ(error_of("[alerts]\npostmaster = \"a@b.c\\nBcc: x@y.z\"\n"),
            "t.toml:2:14: alerts.postmaster: 'a@b.c\\x0aBcc: x@y.z' is not one mail address");
  EXPECT_EQ(error_of("[alerts]\npostmaster = \"-oi@x\"\n"),
            "t.toml:2:14: alerts.postmaster: '-oi@x' is not one mail address");
  EXPECT_EQ(error_of("[alerts]\nsendmail = \"sendmail\"\n"),
            "t.toml:2:12: alerts.sendmail: 'sendmail' must be an absolute path");
  EXPECT_EQ(error_of("[alerts]\ncommand = \"alert-hook.sh\"\n"),
            "t.toml:2:11: alerts.command: the program must be an absolute path (the command runs "
            "without a shell)");
  EXPECT_EQ(error_of("[alerts]\nwebhook = \"ftp://example.com/\"\n"),
            "t.toml:2:11: alerts.webhook: 'ftp://example.com/': expected http://HOST[:PORT]/PATH "
            "or https://...");
  EXPECT_THAT(error_of("[alerts]\nwebhook = \"http://h:99999/\"\n"),
              StartsWith("t.toml:2:11: alerts.webhook: 'http://h:99999/': port '99999'"));
  EXPECT_EQ(error_of("[alerts]\nlock_after = 3\n"),
            "t.toml:2:14: alerts.lock_after: auto-lock needs lock_command (the command that "
            "locks the account)");
  EXPECT_EQ(error_of("[alerts]\nlock_command = \"/bin/true\"\n"),
            "t.toml:2:16: alerts.lock_command: is set but lock_after = 0 (never): set "
            "lock_after to the alert count that locks");
}

TEST(PolicydConfig, SpoofingWithoutMap) {
  const Config c = ok("[spoofing]\nenabled = true\ndomains = [\"Example.COM\"]\n");
  EXPECT_TRUE(c.spoofing.enabled);
  EXPECT_TRUE(c.spoofing.sender_login_maps.empty());
  EXPECT_EQ(c.spoofing.domains, std::vector<std::string>{"example.com"});
  // Deferring while trying a map out: the default text becomes a temporary one.
  const Config d = ok("[spoofing]\nenabled = true\naction = \"defer\"\n");
  EXPECT_EQ(d.spoofing.action, OverLimitAction::defer);
  EXPECT_EQ(d.spoof_text, "4.7.1 Sender address not owned by the authenticated user");
  EXPECT_EQ(error_of("[spoofing]\naction = \"defer\"\ntext = \"5.7.1 no\"\n"),
            "t.toml:3:8: spoofing.text: the status code '5.7.1' must start with 4.");
  EXPECT_EQ(error_of("[spoofing]\ndomains = [\"@example.com\"]\n"),
            "t.toml:2:12: spoofing.domains[0]: '@example.com': character '@' is not allowed in "
            "a domain (write the domain alone: example.com)");
}

TEST(PolicydConfig, SpoofingMapFile) {
  TempDir dir;
  const auto map = dir.write("sender_login_maps", "alice@example.com alice@example.com\n");
  const Config c = ok("[spoofing]\nenabled = true\nsender_login_maps = \"" + map.string() + "\"\n");
  EXPECT_EQ(c.spoofing.sender_login_maps, map);
  // main.cf's spelling: the hash: table's source file.
  const Config h =
      ok("[spoofing]\nenabled = true\nsender_login_maps = \"hash:" + map.string() + "\"\n");
  EXPECT_EQ(h.spoofing.sender_login_maps, map);

  const auto missing = (dir.path() / "nope").string();
  EXPECT_EQ(error_of("[spoofing]\nsender_login_maps = \"" + missing + "\"\n"),
            "t.toml:2:21: spoofing.sender_login_maps: '" + missing + "': no such file");
  EXPECT_THAT(error_of("[spoofing]\nsender_login_maps = \"ldap:/opt/zimbra/conf/ldap-slm.cf\"\n"),
              StartsWith("t.toml:2:21: spoofing.sender_login_maps: "
                         "'ldap:/opt/zimbra/conf/ldap-slm.cf': only a table source file is read"));
  EXPECT_EQ(error_of("[spoofing]\nsender_login_maps = \"sender_login_maps\"\n"),
            "t.toml:2:21: spoofing.sender_login_maps: 'sender_login_maps' must be an absolute "
            "path");
  // A broken map is refused at load (check-config, reload), with its own line.
  const auto bad = dir.write("bad", "# owners\nalice@example.com\n");
  EXPECT_EQ(error_of("[spoofing]\nsender_login_maps = \"" + bad.string() + "\"\n"),
            "t.toml:2:21: spoofing.sender_login_maps: " + bad.string() +
                ":2: 'alice@example.com': no value (the SASL login names that own it)");
}

TEST(PolicydConfig, StateAndServerValues) {
  const Config c = ok(R"([server]
node_id = "mta2"
threads = 4
user = "mailwarden"
request_timeout = "30s"
max_ttl = "20m"
max_attributes = 200
[state]
path = "/var/lib/mailwarden/p.sqlite"
flush_interval = "2s"
)");
  EXPECT_EQ(c.server.node_id, "mta2");
  EXPECT_EQ(c.server.threads, 4u);
  EXPECT_EQ(c.server.user, "mailwarden");
  EXPECT_EQ(c.server.request_timeout_ms, 30'000);
  EXPECT_EQ(c.server.max_ttl_ms, 1'200'000);
  EXPECT_EQ(c.server.max_attributes, 200u);
  EXPECT_EQ(c.state.path, "/var/lib/mailwarden/p.sqlite");
  EXPECT_EQ(c.state.flush_interval_ms, 2000);
  EXPECT_EQ(error_of("[state]\npath = \"policyd.sqlite\"\n"),
            "t.toml:2:8: state.path: 'policyd.sqlite' must be an absolute path");
  EXPECT_EQ(error_of("[server]\nnode_id = \"mta 2\"\n"),
            "t.toml:2:11: server.node_id: must be at most 255 printable characters without "
            "whitespace");
}

TEST(PolicydConfig, LoadNamesTheFile) {
  TempDir dir;
  const auto file = dir.write("policyd.toml", "[server]\nthreads = true\n");
  auto c = load_config(file);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, file.string() + ":2:11: server.threads: must be an integer");
  auto missing = load_config(dir.path() / "absent.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, StartsWith((dir.path() / "absent.toml").string() + ":"));
  const auto good = dir.write("good.toml", "[server]\nthreads = 2\n");
  auto g = load_config(good);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->file, good);
}

}  // namespace
}  // namespace mw::policyd
