// Alerts: the texts (syslog line, mail, JSON, environment), command expansion, and each
// delivery against a real receiver: a fake sendmail, hook scripts, a loopback webhook server,
// the auto-lock, failures counted, a full queue dropping alerts.
#include "policyd/alerts.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/subprocess.hpp"

namespace mw::policyd {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Alert sample() {
  Alert a;
  a.time = 1'800'000'000;  // 2027-01-15 08:00:00 UTC
  a.kind = "rate_limit";
  a.key = "a:alice@example.com";
  a.scope = "account";
  a.subject = "alice@example.com";
  a.client_address = "192.0.2.7";
  a.sender = "alice@example.com";
  a.instance = "1a2b.5f3c.1";
  a.queue_id = "4Xyz1234";
  a.window = 3600;
  a.used_messages = 11;
  a.used_recipients = 30;
  a.limit_messages = 10;
  a.limit_recipients = 100;
  a.alerts = 1;
  a.action = "DEFER_IF_PERMIT";
  return a;
}

AlertConfig quiet() {
  AlertConfig c;
  c.syslog = false;  // the host's log stays clean
  c.timeout_ms = 10'000;
  return c;
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "mw-policyd-alerts-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path script(const std::string& name, const std::string& body) const {
    const auto p = path_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    chmod(p.c_str(), 0755);
    return p;
  }

 private:
  fs::path path_;
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count_lines(const fs::path& p) {
  const auto text = read(p);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// --- texts ---

TEST(AlertText, FormatWindow) {
  EXPECT_EQ(format_window(3600), "1h");
  EXPECT_EQ(format_window(86400), "1d");
  EXPECT_EQ(format_window(172800), "2d");
  EXPECT_EQ(format_window(5400), "90m");
  EXPECT_EQ(format_window(45), "45s");
  EXPECT_EQ(format_window(3601), "3601s");
}

TEST(AlertText, SummaryOfARateLimit) {
  EXPECT_EQ(alert_summary(sample()),
            "rate limit exceeded: account alice@example.com 11/10 messages in 1h from "
            "192.0.2.7 (alert 1), answered DEFER_IF_PERMIT");
  Alert r = sample();
  r.used_messages = 3;
  r.used_recipients = 130;
  r.window = 86400;
  r.alerts = 2;
  r.action = "HOLD";
  EXPECT_EQ(alert_summary(r),
            "rate limit exceeded: account alice@example.com 130/100 recipients in 1d from "
            "192.0.2.7 (alert 2), answered HOLD");
  r.used_messages = 12;
  EXPECT_THAT(alert_summary(r), HasSubstr(" 12/10 messages, 130/100 recipients in 1d "));
  Alert w = sample();
  w.scope = "sender";
  w.client_address = "";
  EXPECT_EQ(alert_summary(w),
            "rate limit exceeded: sender alice@example.com 11/10 messages in 1h (alert 1), "
            "answered DEFER_IF_PERMIT");
}

TEST(AlertText, SummaryOfSpoofing) {
  Alert s = sample();
  s.kind = "spoofing";
  s.sender = "ceo@example.com";
  s.action = "REJECT 5.7.1 Sender address not owned by the authenticated user";
  EXPECT_EQ(alert_summary(s),
            "sender address not owned: account alice@example.com used sender ceo@example.com "
            "from 192.0.2.7 (alert 1), answered REJECT 5.7.1 Sender address not owned by the "
            "authenticated user");
}

TEST(AlertText, ControlCharactersNeverReachALine) {
  Alert a = sample();
  a.subject = "evil@example.com\r\nBcc: victim@example.net";
  const auto line = alert_summary(a);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_THAT(line, HasSubstr("evil@example.com??Bcc: victim@example.net"));
  const auto mail = alert_mail(a, "postmaster@example.com");
  EXPECT_THAT(mail, Not(HasSubstr("\nBcc:")));
  // A crafted subject gets no copy-and-paste command.
  EXPECT_THAT(mail, Not(HasSubstr("zmprov")));
}

TEST(AlertText, Environment) {
  const auto env = alert_environment(sample());
  for (const char* entry :
       {"MW_ALERT_KIND=rate_limit", "MW_KEY=a:alice@example.com", "MW_SCOPE=account",
        "MW_SUBJECT=alice@example.com", "MW_CLIENT_ADDRESS=192.0.2.7",
        "MW_SENDER=alice@example.com", "MW_WINDOW=3600", "MW_USED_MESSAGES=11",
        "MW_USED_RECIPIENTS=30", "MW_LIMIT_MESSAGES=10", "MW_LIMIT_RECIPIENTS=100", "MW_ALERTS=1",
        "MW_ACTION=DEFER_IF_PERMIT", "MW_QUEUE_ID=4Xyz1234", "MW_INSTANCE=1a2b.5f3c.1",
        "MW_TIME=1800000000"}) {
    EXPECT_NE(std::find(env.begin(), env.end(), entry), env.end()) << entry;
  }
}

TEST(AlertText, Json) {
  const auto j = nlohmann::json::parse(alert_json(sample()));
  EXPECT_EQ(j["kind"], "rate_limit");
  EXPECT_EQ(j["key"], "a:alice@example.com");
  EXPECT_EQ(j["scope"], "account");
  EXPECT_EQ(j["subject"], "alice@example.com");
  EXPECT_EQ(j["client_address"], "192.0.2.7");
  EXPECT_EQ(j["window"], 3600);
  EXPECT_EQ(j["used_messages"], 11);
  EXPECT_EQ(j["limit_messages"], 10);
  EXPECT_EQ(j["limit_recipients"], 100);
  EXPECT_EQ(j["alerts"], 1);
  EXPECT_EQ(j["action"], "DEFER_IF_PERMIT");
  EXPECT_EQ(j["time"], 1'800'000'000);
  // Bytes that are not UTF-8 (from an SMTP client) do not break the document.
  Alert bad = sample();
  bad.sender = "caf\xe9@example.com";
  const auto jb = nlohmann::json::parse(alert_json(bad));
  EXPECT_EQ(jb["sender"], "caf\xef\xbf\xbd@example.com");  // U+FFFD
}

TEST(AlertText, Mail) {
  Alert a = sample();
  a.action = "HOLD sending rate limit exceeded: held for review";
  const auto m = alert_mail(a, "postmaster@example.com");
  const auto head = m.substr(0, m.find("\n\n"));
  EXPECT_THAT(head, StartsWith("To: postmaster@example.com\n"));
  EXPECT_THAT(head, HasSubstr("\nFrom: mailwarden policyd <MAILER-DAEMON>\n"));
  EXPECT_THAT(head, HasSubstr("\nSubject: [mailwarden] rate limit exceeded: account "
                              "alice@example.com 11/10 messages in 1h"));
  EXPECT_THAT(head, HasSubstr("\nDate: Fri, 15 Jan 2027 08:00:00 +0000\n"));
  EXPECT_THAT(head, HasSubstr("\nAuto-Submitted: auto-generated\n"));
  const auto body = m.substr(m.find("\n\n"));
  for (const char* fact :
       {"account:          alice@example.com",
        "key:              "
        "a:alice@example.com",
        "window:           1h (3600 s)", "messages:         11 (limit 10)",
        "recipients:       30 (limit 100)", "client address:   192.0.2.7",
        "queue id:         4Xyz1234", "time:             2027-01-15 08:00:00 UTC"}) {
    EXPECT_THAT(body, HasSubstr(fact));
  }
  EXPECT_THAT(body, HasSubstr("postqueue -j | jq -r 'select(.sender == \"alice@example.com\") | "
                              ".queue_id' | postsuper -h -"));
  EXPECT_THAT(body, HasSubstr("postcat -q 4Xyz1234"));
  EXPECT_THAT(body, HasSubstr("zmprov ma alice@example.com zimbraAccountStatus locked"));
}

TEST(AlertText, ExpandCommand) {
  const std::vector<std::string> env = {"MW_SUBJECT=alice@example.com", "MW_KEY=a:alice x",
                                        "MW_ALERTS=3"};
  EXPECT_EQ(
      expand_command("/opt/zimbra/bin/zmprov ma ${MW_SUBJECT} zimbraAccountStatus locked", env),
      (std::vector<std::string>{"/opt/zimbra/bin/zmprov", "ma", "alice@example.com",
                                "zimbraAccountStatus", "locked"}));
  // A value with a space stays one argument; no shell ever sees it.
  EXPECT_EQ(expand_command("/bin/hook --key=$MW_KEY  --n=${MW_ALERTS}x", env),
            (std::vector<std::string>{"/bin/hook", "--key=a:alice x", "--n=3x"}));
  // Unknown or non-MW variables and stray dollars are kept as typed.
  EXPECT_EQ(expand_command("/bin/x $HOME ${MW_NOPE} $ ${MW_SUBJECT", env),
            (std::vector<std::string>{"/bin/x", "$HOME", "${MW_NOPE}", "$", "${MW_SUBJECT"}));
  EXPECT_TRUE(expand_command("   ", env).empty());
}

// --- deliveries ---

TEST(Alerter, CommandHookGetsTheEnvironment) {
  TempDir dir;
  const auto out = dir.path() / "env.txt";
  const auto hook = dir.script("hook.sh", "env | grep '^MW_' | sort > \"$1\"\n");
  AlertConfig c = quiet();
  c.command = hook.string() + " " + out.string();
  {
    Alerter alerter(c);
    alerter.send(sample());
    alerter.wait_idle();
    EXPECT_EQ(alerter.sent(), 1u);
    EXPECT_EQ(alerter.failed(), 0u);
  }
  const auto env = read(out);
  EXPECT_THAT(env, HasSubstr("MW_ALERT_KIND=rate_limit\n"));
  EXPECT_THAT(env, HasSubstr("MW_KEY=a:alice@example.com\n"));
  EXPECT_THAT(env, HasSubstr("MW_USED_MESSAGES=11\n"));
  EXPECT_THAT(env, HasSubstr("MW_LIMIT_MESSAGES=10\n"));
  EXPECT_THAT(env, HasSubstr("MW_ACTION=DEFER_IF_PERMIT\n"));
}

TEST(Alerter, MailThroughSendmail) {
  TempDir dir;
  const auto sendmail =
      dir.script("sendmail", "echo \"$@\" > \"" + (dir.path() / "args").string() + "\"\ncat > \"" +
                                 (dir.path() / "mail").string() + "\"\n");
  AlertConfig c = quiet();
  c.postmaster = "postmaster@example.com";
  c.sendmail = sendmail.string();
  Alerter alerter(c);
  alerter.send(sample());
  alerter.wait_idle();
  EXPECT_EQ(alerter.sent(), 1u);
  EXPECT_EQ(read(dir.path() / "args"), "-t -i\n");
  EXPECT_EQ(read(dir.path() / "mail"), alert_mail(sample(), "postmaster@example.com"));
}

TEST(Alerter, FailuresAreCountedAndLoggedWithTheKey) {
  TempDir dir;
  AlertConfig c = quiet();
  c.postmaster = "postmaster@example.com";
  c.sendmail =
      dir.script("sendmail", "cat >/dev/null\necho 'queue file write error' >&2\nexit 75\n")
          .string();
  c.command = dir.script("hook.sh", "exit 3\n").string();
  testing::internal::CaptureStderr();
  {
    Alerter alerter(c);
    alerter.send(sample());
    alerter.wait_idle();
    EXPECT_EQ(alerter.sent(), 0u);
    EXPECT_EQ(alerter.failed(), 2u);
  }
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("alert for a:alice@example.com: mail to the postmaster failed: "));
  EXPECT_THAT(err, HasSubstr("exited with 75: queue file write error"));
  EXPECT_THAT(err, HasSubstr("alert for a:alice@example.com: command hook failed: "));
}

TEST(Alerter, CommandTimeoutIsAFailure) {
  TempDir dir;
  AlertConfig c = quiet();
  c.timeout_ms = 200;
  c.command = dir.script("slow.sh", "exec sleep 30\n").string();
  testing::internal::CaptureStderr();
  {
    Alerter alerter(c);
    alerter.send(sample());
    alerter.wait_idle();
    EXPECT_EQ(alerter.failed(), 1u);
  }
  EXPECT_THAT(testing::internal::GetCapturedStderr(), HasSubstr("timed out"));
}

TEST(Alerter, SyslogCountsAsADelivery) {
  AlertConfig c = quiet();
  c.syslog = true;
  Alerter alerter(c);
  alerter.send(sample());
  alerter.send(sample());
  alerter.wait_idle();
  EXPECT_EQ(alerter.sent(), 2u);
  EXPECT_EQ(alerter.failed(), 0u);
}

class WebhookServer {
 public:
  explicit WebhookServer(int status) {
    server_.Post("/hooks/mw", [this, status](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      content_type_ = req.get_header_value("Content-Type");
      res.status = status;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebhookServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::string content_type() {
    std::lock_guard lock(mu_);
    return content_type_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::string content_type_;
};

TEST(Alerter, WebhookPostsJson) {
  WebhookServer server(204);
  ASSERT_GT(server.port(), 0);
  AlertConfig c = quiet();
  c.webhook = "http://127.0.0.1:" + std::to_string(server.port()) + "/hooks/mw";
  Alerter alerter(c);
  alerter.send(sample());
  alerter.wait_idle();
  EXPECT_EQ(alerter.sent(), 1u);
  EXPECT_EQ(alerter.failed(), 0u);
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], alert_json(sample()));
  EXPECT_EQ(nlohmann::json::parse(bodies[0])["subject"], "alice@example.com");
  EXPECT_EQ(server.content_type(), "application/json");
}

TEST(Alerter, WebhookErrorStatusIsAFailure) {
  WebhookServer server(500);
  AlertConfig c = quiet();
  c.webhook = "http://127.0.0.1:" + std::to_string(server.port()) + "/hooks/mw";
  testing::internal::CaptureStderr();
  {
    Alerter alerter(c);
    alerter.send(sample());
    alerter.wait_idle();
    EXPECT_EQ(alerter.sent(), 0u);
    EXPECT_EQ(alerter.failed(), 1u);
  }
  EXPECT_THAT(testing::internal::GetCapturedStderr(),
              HasSubstr("alert for a:alice@example.com: webhook failed: "));
}

// A loopback port nobody listens on: bound, then closed.
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(Alerter, WebhookUnreachableIsAFailure) {
  AlertConfig c = quiet();
  c.webhook = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hooks/mw";
  testing::internal::CaptureStderr();
  Alerter alerter(c);
  alerter.send(sample());
  alerter.wait_idle();
  EXPECT_EQ(alerter.failed(), 1u);
  EXPECT_THAT(testing::internal::GetCapturedStderr(), HasSubstr("webhook failed"));
}

// https: the certificate is verified against OpenSSL's default CA store (which honours
// SSL_CERT_FILE): a self-signed server is refused until its certificate is trusted.
TEST(Alerter, HttpsWebhookVerifiesTheCertificate) {
  if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl is not installed";
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  auto made =
      run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                   "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                   "-keyout", key.string(), "-out", cert.string()});
  ASSERT_TRUE(made.ok() && made->success()) << (made.ok() ? made->err : made.error().message);
  httplib::SSLServer server(cert.c_str(), key.c_str());
  std::mutex mu;
  std::vector<std::string> bodies;
  server.Post("/hooks/mw", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    bodies.push_back(req.body);
    res.status = 200;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  AlertConfig c = quiet();
  c.webhook = "https://127.0.0.1:" + std::to_string(port) + "/hooks/mw";
  testing::internal::CaptureStderr();
  {
    Alerter untrusted(c);
    untrusted.send(sample());
    untrusted.wait_idle();
    EXPECT_EQ(untrusted.failed(), 1u);
    EXPECT_EQ(untrusted.sent(), 0u);
  }
  (void)testing::internal::GetCapturedStderr();
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(bodies.empty());
  }
  setenv("SSL_CERT_FILE", cert.c_str(), 1);
  {
    Alerter trusted(c);
    trusted.send(sample());
    trusted.wait_idle();
    EXPECT_EQ(trusted.sent(), 1u);
    EXPECT_EQ(trusted.failed(), 0u);
  }
  unsetenv("SSL_CERT_FILE");
  server.stop();
  thread.join();
  std::lock_guard lock(mu);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], alert_json(sample()));
}

TEST(Alerter, SendmailThatDoesNotReadItsInput) {
  // A sendmail that exits at once: writing the mail meets EPIPE, not a SIGPIPE that would kill
  // the service; the exit status decides.
  TempDir dir;
  AlertConfig c = quiet();
  c.postmaster = "postmaster@example.com";
  c.sendmail = dir.script("sendmail", "exit 1\n").string();
  testing::internal::CaptureStderr();
  Alerter alerter(c);
  alerter.send(sample());
  alerter.wait_idle();
  EXPECT_EQ(alerter.failed(), 1u);
  EXPECT_THAT(testing::internal::GetCapturedStderr(), HasSubstr("exited with 1"));
}

TEST(Alerter, LockAfterNAlertsOnceAndOnlyForAccounts) {
  TempDir dir;
  const auto locks = dir.path() / "locks";
  AlertConfig c = quiet();
  c.lock_after = 2;
  c.lock_command =
      dir.script("lock.sh", "echo \"$1 $MW_ALERTS\" >> \"" + locks.string() + "\"\n").string() +
      " ${MW_SUBJECT}";
  Alerter alerter(c);
  for (std::uint32_t n = 1; n <= 3; ++n) {
    Alert a = sample();
    a.alerts = n;
    alerter.send(a);
  }
  // A client address is not an account: never locked.
  Alert client = sample();
  client.scope = "client";
  client.key = "c:192.0.2.7";
  client.subject = "192.0.2.7";
  client.alerts = 2;
  alerter.send(client);
  // A webmail sender is.
  Alert sender = sample();
  sender.scope = "sender";
  sender.key = "s:bob@example.com";
  sender.subject = "bob@example.com";
  sender.alerts = 2;
  alerter.send(sender);
  alerter.wait_idle();
  EXPECT_EQ(read(locks), "alice@example.com 2\nbob@example.com 2\n");
  EXPECT_EQ(alerter.sent(), 2u);
}

TEST(Alerter, FullQueueDropsAndLogsOnce) {
  TempDir dir;
  // The first run blocks on a FIFO until the test releases it, so that the queue fills.
  const auto fifo = dir.path() / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(dir.path() / "block") << "";
  const auto hook = dir.script("hook.sh",
                               "d=\"$1\"\n"
                               "if [ -e \"$d/block\" ]; then\n"
                               "  rm -f \"$d/block\"; touch \"$d/started\"; read x < \"$d/fifo\"\n"
                               "fi\n"
                               "echo run >> \"$d/runs\"\n");
  AlertConfig c = quiet();
  c.command = hook.string() + " " + dir.path().string();
  constexpr std::size_t capacity = 20;  // the default 1000 works the same, only slower
  Alerter alerter(c, capacity);
  alerter.send(sample());
  // Wait (bounded) for the worker to be inside the first hook: the queue is then empty.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir.path() / "started") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(dir.path() / "started"));
  testing::internal::CaptureStderr();
  for (std::size_t i = 0; i < capacity + 5; ++i) alerter.send(sample());
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(alerter.dropped(), 5u);
  std::size_t logged = 0;
  for (auto at = err.find("alert queue is full"); at != std::string::npos;
       at = err.find("alert queue is full", at + 1))
    ++logged;
  EXPECT_EQ(logged, 1u) << err;
  std::ofstream(fifo) << "go\n";
  alerter.wait_idle();
  EXPECT_EQ(alerter.sent(), capacity + 1);
  EXPECT_EQ(count_lines(dir.path() / "runs"), capacity + 1);
}

TEST(Alerter, DestructorDeliversWhatIsQueued) {
  TempDir dir;
  const auto runs = dir.path() / "runs";
  AlertConfig c = quiet();
  c.command = dir.script("hook.sh", "echo \"$MW_ALERTS\" >> \"" + runs.string() + "\"\n").string();
  {
    Alerter alerter(c);
    for (std::uint32_t n = 1; n <= 3; ++n) {
      Alert a = sample();
      a.alerts = n;
      alerter.send(a);
    }
  }
  EXPECT_EQ(read(runs), "1\n2\n3\n");
}

}  // namespace
}  // namespace mw::policyd
