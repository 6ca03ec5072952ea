// The inputs of `mailwarden logs`: compression sniffing, rotated-set order, gzip / zstd / stdin
// streams and their damage, and the chunked parallel reader, whose result must equal a plain
// sequential parse whatever the thread count and chunk size.
#include "logs/reader.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "logs/input.hpp"
#include "logs/parse_line.hpp"
#include "logs/progress.hpp"
#include "logs/syslog.hpp"
#include "logs_test_data.hpp"
#include "support/temp_dir.hpp"

namespace mw::logs {
namespace {

namespace fs = std::filesystem;

// Everything an Event says, as text: two reads agree when their descriptions do.
std::string describe(const Event& e) {
  std::ostringstream s;
  const auto& f = e.facts;
  s << name_of(e.line_kind) << '|' << name_of(e.envelope) << '|' << name_of(e.program_kind) << '|'
    << e.has_time << e.year_inferred << '|' << e.time.seconds << '.' << e.time.nanos << '|'
    << e.host << '|' << e.program << '|' << e.pid << '|' << e.message << '|' << name_of(f.kind)
    << '|' << name_of(f.protocol) << '|' << name_of(f.outcome) << '|' << name_of(f.status) << '|'
    << f.client_ip << '|' << f.client_name << '|' << f.client_port << '|' << f.account << '|'
    << f.method << '|' << f.reason << '|' << f.queue_id << '|' << f.next_queue_id << '|' << f.from
    << '|' << f.recipients << '|' << f.relay << '|' << f.dsn << '|' << f.message_id << '|' << f.size
    << '|' << f.nrcpt << '|' << f.has_from;
  return s.str();
}

std::string describe(const UnparsedCounts& c) {
  std::ostringstream s;
  for (auto v : c.by_kind) s << v << ',';
  s << '|';
  for (auto v : c.message_unknown_by_program) s << v << ',';
  s << '|' << c.lines << '|' << c.invalid_utf8 << '|' << c.time_backwards << '|'
    << c.year_rollovers;
  return s.str();
}

struct Read {
  std::vector<std::string> events;  // "input:line description"
  std::vector<InputResult> results;
};

ReadOptions options(unsigned threads, std::size_t chunk) {
  ReadOptions o;
  o.threads = threads;
  o.chunk_bytes = chunk;
  o.time_zone = "UTC";
  o.file_year_month = std::pair{2026, 12};
  return o;
}

Read read_all(const std::vector<std::string>& paths, const ReadOptions& o) {
  Read r;
  r.results = read_inputs(paths, o, [&](const Event& e, Position p) {
    r.events.push_back(std::to_string(p.input) + ":" + std::to_string(p.line) + " " + describe(e));
  });
  return r;
}

// The oracle: one ParseContext, every line in order, as a sequential reader of one file does.
Read reference(const std::string& text, std::pair<int, int> year_month = {2026, 12},
               bool only_parsed = false) {
  FixedOffsetZone utc(0);
  ParseContext ctx(utc, YearInference(year_month.first, year_month.second));
  Read r;
  std::uint64_t n = 0;
  for (const auto& line : test::split_lines(text)) {
    auto e = parse_line(line, ctx);
    ++n;
    if (only_parsed && e.line_kind != LineKind::parsed) continue;
    r.events.push_back("0:" + std::to_string(n) + " " + describe(e));
  }
  InputResult res;
  res.lines = n;
  res.bytes = text.size();
  res.counts = ctx.counts();
  r.results.push_back(res);
  return r;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void run(const std::string& cmd) {
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The same events, positions and counts as the oracle.
void expect_same(const Read& got, const Read& want, const std::string& what) {
  ASSERT_EQ(got.results.size(), 1u) << what;
  EXPECT_EQ(got.results[0].error, "") << what;
  EXPECT_EQ(got.results[0].lines, want.results[0].lines) << what;
  EXPECT_EQ(got.results[0].bytes, want.results[0].bytes) << what;
  EXPECT_EQ(describe(got.results[0].counts), describe(want.results[0].counts)) << what;
  ASSERT_EQ(got.events.size(), want.events.size()) << what;
  for (std::size_t i = 0; i < got.events.size(); ++i) {
    ASSERT_EQ(got.events[i], want.events[i]) << what << " event " << i;
  }
}

// Every thread count with chunk sizes from one byte (a chunk per byte, most owning no line)
// to a few KiB, and the default.
void expect_same_for_all_chunkings(const std::string& path, const Read& want,
                                   std::pair<int, int> year_month = {2026, 12}) {
  for (unsigned threads : {1u, 2u, 3u, 4u}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{333},
                              std::size_t{4096}, std::size_t{8} << 20}) {
      auto o = options(threads, chunk);
      o.file_year_month = year_month;
      expect_same(read_all({path}, o), want,
                  path + " threads=" + std::to_string(threads) + " chunk=" + std::to_string(chunk));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

std::vector<fs::path> sample_files() {
  std::vector<fs::path> out;
  for (const char* dir : {"tests/data/logs/public", "tests/data/logs/capture"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(MW_SOURCE_DIR) / dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- compression, order --------------------------------------------------------------------

TEST(Input, CompressionFromMagicNotName) {
  EXPECT_EQ(detect_compression(std::string_view("\x1f\x8b\x08\x00", 4)), Compression::gzip);
  EXPECT_EQ(detect_compression(std::string_view("\x28\xb5\x2f\xfd\x00", 5)), Compression::zstd);
  EXPECT_EQ(detect_compression("Nov 28"), Compression::none);
  EXPECT_EQ(detect_compression(std::string_view("\x28\xb5\x2f", 3)), Compression::none);
  EXPECT_EQ(detect_compression(""), Compression::none);

  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto text = std::string(
      "Nov 28 23:55:58 mail sshd[1]: Accepted password for a from "
      "192.0.2.1 port 22 ssh2\n");
  // A gzip file without a suffix, a plain file named .gz.
  write_file(dir.path() / "plain.gz", text);
  write_file(dir.path() / "src", text);
  run("gzip -c " + (dir.path() / "src").string() + " > " + (dir.path() / "rotated").string());
  auto r = read_all({(dir.path() / "rotated").string(), (dir.path() / "plain.gz").string()},
                    options(2, 1000));
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].compression, Compression::gzip);
  EXPECT_EQ(r.results[1].compression, Compression::none);
  EXPECT_EQ(r.results[0].error, "");
  EXPECT_EQ(r.results[1].error, "");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].substr(r.events[0].find(' ')), r.events[1].substr(r.events[1].find(' ')));
  EXPECT_EQ(r.events[0].substr(0, 4), "0:1 ");
  EXPECT_EQ(r.events[1].substr(0, 4), "1:1 ");
}

TEST(Input, OrderInputs) {
  struct Case {
    std::vector<std::string> in, want;
  };
  const std::vector<Case> cases = {
      // logrotate numbered, with delaycompress: higher N is older, the live file last.
      {{"/var/log/mail.log", "/var/log/mail.log.1", "/var/log/mail.log.2.gz",
        "/var/log/mail.log.10.gz", "/var/log/mail.log.3.zst"},
       {"/var/log/mail.log.10.gz", "/var/log/mail.log.3.zst", "/var/log/mail.log.2.gz",
        "/var/log/mail.log.1", "/var/log/mail.log"}},
      // dateext, in date order whatever the compression.
      {{"maillog", "maillog-20261201.gz", "maillog-20261115", "maillog-20261108.zst"},
       {"maillog-20261108.zst", "maillog-20261115", "maillog-20261201.gz", "maillog"}},
      // Sets keep the order of their first appearance; stdin stays where it is.
      {{"dovecot.log", "mail.log.1", "-", "dovecot.log.1", "mail.log"},
       {"dovecot.log.1", "dovecot.log", "mail.log.1", "mail.log", "-"}},
      {{"-", "b.1", "a", "b"}, {"-", "b.1", "b", "a"}},
      // The same name in two directories: two sets.
      {{"x/mail.log", "y/mail.log.1", "x/mail.log.1"},
       {"x/mail.log.1", "x/mail.log", "y/mail.log.1"}},
      // Not rotations: a suffix that is the whole name, a dot in a directory name.
      {{"logs.2/app", ".1", "mail.log.gz", "a-b"}, {"logs.2/app", ".1", "mail.log.gz", "a-b"}},
      // Hourly dateext sorts with daily dates of the same set.
      {{"m-2026120105", "m-20261201", "m-2026113023"},
       {"m-2026113023", "m-20261201", "m-2026120105"}},
      {{}, {}},
  };
  for (const auto& c : cases) EXPECT_EQ(order_inputs(c.in), c.want);
}

TEST(Input, YearInferenceContinuing) {
  // A chunk seeded with the previous chunk's last (year, month) gives the years a sequential
  // reader gives.
  const std::vector<int> months = {11, 11, 12, 12, 1, 1, 2, 11, 12, 1, 3};
  for (std::size_t cut = 1; cut < months.size(); ++cut) {
    YearInference whole(2027, 6);
    std::vector<int> want;
    for (int m : months) want.push_back(whole.year_for(m));
    YearInference first(2027, 6);
    std::vector<int> got;
    for (std::size_t i = 0; i < cut; ++i) got.push_back(first.year_for(months[i]));
    auto second = YearInference::continuing(first.year(), first.last_month());
    EXPECT_EQ(second.rollovers(), 0u);
    for (std::size_t i = cut; i < months.size(); ++i) got.push_back(second.year_for(months[i]));
    EXPECT_EQ(got, want) << "cut at " << cut;
    EXPECT_EQ(first.rollovers() + second.rollovers(), whole.rollovers()) << "cut at " << cut;
    EXPECT_EQ(second.year(), whole.year());
    EXPECT_EQ(second.last_month(), whole.last_month());
  }
  EXPECT_EQ(YearInference(2026, 12).last_month(), 0);
  EXPECT_EQ(YearInference::continuing(2026, 12).year_for(1), 2027);
}

// --- chunked reads equal a sequential read ---------------------------------------------------

TEST(Reader, RealSamplesAnyThreadsAnyChunks) {
  const auto files = sample_files();
  ASSERT_GE(files.size(), 5u);
  for (const auto& f : files) {
    const auto want = reference(read_file(f));
    expect_same_for_all_chunkings(f.string(), want);
    if (HasFatalFailure()) return;
  }
}

// Lines across Dec -> Jan (twice: the chunks in flight after a rollover were seeded with the
// old year), time going backwards at chunk boundaries, ISO lines with their own year, blank
// lines, garbage, CRLF and a last line without '\n'.
std::string generated_log(int days_per_line, std::size_t lines) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string out;
  std::int64_t t = days_from_civil(2025, 11, 20) * 86400;
  for (std::size_t i = 0; i < lines; ++i) {
    t += days_per_line * 86400 / 4 + static_cast<std::int64_t>(i % 7) * 611;
    if (i % 37 == 5) t -= 3600;  // a step back in time
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char head[64];
    if (i % 23 == 11) {
      std::snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else {
      std::snprintf(head, sizeof head, "%s %2d %02d:%02d:%02d", kMonths[tm.tm_mon], tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    out += head;
    switch (i % 11) {
      case 3:
        out += " mail postfix/smtpd[42]: connect from unknown[192.0.2." + std::to_string(i % 250) +
               "]";
        break;
      case 6:
        out += " mail sshd[7]: Failed password for invalid user u" + std::to_string(i) +
               " from 198.51.100.9 port 4242 ssh2\r";
        break;
      case 8:
        out += " mail cron[1]: (root) CMD (true)";
        break;
      default:
        out += " mail dovecot: imap-login: Login: user=<a" + std::to_string(i % 13) +
               "@example.org>, method=PLAIN, rip=203.0.113.4, lip=192.0.2.1";
    }
    out += '\n';
    if (i % 97 == 50) out += "\n";
    if (i % 101 == 70) out += "garbage that is no log line\n";
  }
  out += "Feb 30 10:00:00 mail sshd[1]: no such day";  // no '\n'
  return out;
}

TEST(Reader, YearRolloverAnyThreadsAnyChunks) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  // One rollover, file written in February; then lines three days apart over two years.
  const std::pair<int, int> ym{2027, 2};
  for (int days : {1, 12}) {
    const auto text = generated_log(days, days == 1 ? 400 : 300);
    const auto path = dir.path() / ("gen" + std::to_string(days) + ".log");
    write_file(path, text);
    const auto want = reference(text, ym);
    ASSERT_GE(want.results[0].counts.year_rollovers, days == 1 ? 1u : 2u);
    ASSERT_GT(want.results[0].counts.time_backwards, 3u);
    expect_same_for_all_chunkings(path.string(), want, ym);
    if (HasFatalFailure()) return;
  }
}

TEST(Reader, FirstLineAfterFileMonthIsLastYear) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto path = dir.path() / "m.log";
  write_file(path,
             "Dec 31 23:59:59 mail sshd[1]: Server listening on :: port 22.\n"
             "Jan  1 00:00:01 mail sshd[1]: Server listening on :: port 22.\n");
  auto o = options(2, 1);
  o.file_year_month = std::pair{2027, 1};
  std::vector<std::int64_t> times;
  auto res = read_inputs({path.string()}, o,
                         [&](const Event& e, Position) { times.push_back(e.time.seconds); });
  ASSERT_EQ(times.size(), 2u);
  EXPECT_EQ(times[0], days_from_civil(2026, 12, 31) * 86400 + 86399);
  EXPECT_EQ(times[1], days_from_civil(2027, 1, 1) * 86400 + 1);
  EXPECT_EQ(res[0].counts.year_rollovers, 1u);
}

TEST(Reader, LongLinesAreCutTheSameWay) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  std::string text = "Nov 28 23:55:58 mail sshd[1]: Invalid user a from 192.0.2.1\n";
  text += "Nov 28 23:55:59 mail postfix/smtpd[2]: " + std::string(200000, 'x') + "\n";
  text += "Nov 28 23:56:00 mail sshd[1]: Invalid user b from 192.0.2.2\n";
  text += std::string(kMaxLineBytes + 1, 'y') + "\n";                  // exactly one byte too long
  text += std::string(kMaxLineBytes, 'z') + "\n";                      // just fits
  text += "Nov 28 23:56:01 mail sshd[1]: " + std::string(70000, 'w');  // last, no '\n'
  const auto path = dir.path() / "long.log";
  write_file(path, text);
  const auto want = reference(text);
  EXPECT_EQ(want.results[0].counts.count(LineKind::too_long), 3u);
  for (unsigned threads : {1u, 3u}) {
    for (std::size_t chunk : {std::size_t{1000}, std::size_t{65536}, std::size_t{100000}}) {
      expect_same(read_all({path.string()}, options(threads, chunk)), want,
                  "plain chunk=" + std::to_string(chunk));
    }
  }
  // Through the stream splitter (gzip): the same events, counts and decoded bytes.
  run("gzip -c " + path.string() + " > " + path.string() + ".gz");
  for (std::size_t chunk : {std::size_t{1000}, std::size_t{8} << 20}) {
    auto got = read_all({path.string() + ".gz"}, options(2, chunk));
    expect_same(got, want, "gzip chunk=" + std::to_string(chunk));
  }
}

TEST(Reader, KeepFilterCountsEverything) {
  const auto f = fs::path(MW_SOURCE_DIR) / "tests/data/logs/public/fail2ban-1.0.2/logs/postfix";
  const auto text = read_file(f);
  const auto want = reference(text, {2026, 12}, true);
  for (unsigned threads : {1u, 2u}) {
    auto o = options(threads, 512);
    o.keep = [](const Event& e) { return e.line_kind == LineKind::parsed; };
    auto got = read_all({f.string()}, o);
    expect_same(got, want, "keep parsed, threads=" + std::to_string(threads));
    EXPECT_LT(got.events.size(), got.results[0].lines);
  }
}

TEST(Reader, LocalZoneInWorkerThreads) {
  // The default zone ("local") is one ProcessLocalZone per thread.
  const auto f = fs::path(MW_SOURCE_DIR) / "tests/data/logs/capture/postfix-3.7-dovecot/mail.log";
  auto o1 = options(1, 8 << 20);
  o1.time_zone = "local";
  auto o4 = options(4, 200);
  o4.time_zone = "local";
  const auto a = read_all({f.string()}, o1);
  const auto b = read_all({f.string()}, o4);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(describe(a.results[0].counts), describe(b.results[0].counts));
  EXPECT_GT(a.events.size(), 100u);
}

TEST(Reader, WorkersOfAPlainFileRunBelowTheDeliveringThread) {
  // The kernel's own view (getpriority on each worker's tid): workers parsing a plain file
  // are 10 nice steps below the thread that delivers (it is the serial stage); the workers of
  // a compressed stream, whose decoding is serial too, keep the caller's priority.
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto src = fs::path(MW_SOURCE_DIR) / "tests/data/logs/capture/postfix-3.7-dovecot/mail.log";
  const auto zst = dir.path() / "mail.log.zst";
  run("zstd -q -c " + src.string() + " > " + zst.string());
  const int caller = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  for (const auto& [path, want] :
       {std::pair{src, std::min(19, caller + 10)}, std::pair{zst, caller}}) {
    std::mutex m;
    std::set<int> seen;  // the workers' nice values
    auto o = options(2, 512);
    o.keep = [&](const Event&) {
      const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
      std::lock_guard lk(m);
      seen.insert(nice);
      return true;
    };
    const auto got = read_all({path.string()}, o);
    EXPECT_GT(got.events.size(), 100u) << path;
    EXPECT_EQ(seen, std::set<int>{want}) << path;
    EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), caller);
  }
}

// --- several inputs, compression, stdin ------------------------------------------------------

TEST(Reader, CompressedAndConcatenatedEqualPlain) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto src = fs::path(MW_SOURCE_DIR) / "tests/data/logs/capture/postfix-3.7-dovecot/mail.log";
  const auto text = read_file(src);
  const auto want = reference(text);
  const auto d = dir.path().string();
  write_file(dir.path() / "a", text.substr(0, 7001));  // cut mid-line: members join anyway
  write_file(dir.path() / "b", text.substr(7001));
  run("gzip -c " + src.string() + " > " + d + "/one.gz");
  run("gzip -c " + d + "/a > " + d + "/two.gz && gzip -c " + d + "/b >> " + d + "/two.gz");
  run("zstd -q -c " + src.string() + " > " + d + "/one.zst");
  run("zstd -q -c " + d + "/a > " + d + "/two.zst && zstd -q -c " + d + "/b >> " + d + "/two.zst");
  for (const char* name : {"one.gz", "two.gz", "one.zst", "two.zst"}) {
    for (unsigned threads : {1u, 2u, 4u}) {
      for (std::size_t chunk : {std::size_t{1}, std::size_t{300}, std::size_t{8} << 20}) {
        auto got = read_all({d + "/" + name}, options(threads, chunk));
        expect_same(got, want,
                    std::string(name) + " threads=" + std::to_string(threads) +
                        " chunk=" + std::to_string(chunk));
        EXPECT_EQ(got.results[0].compression,
                  name[4] == 'g' ? Compression::gzip : Compression::zstd);
      }
    }
  }
}

TEST(Reader, SeveralInputsNumberedPerInput) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto d = dir.path();
  write_file(d / "one", "Nov 28 23:55:58 mail sshd[1]: Invalid user a from 192.0.2.1\n\n");
  write_file(d / "empty", "");
  fs::create_directory(d / "adir");
  write_file(d / "two", "Nov 28 23:55:59 mail sshd[1]: Invalid user b from 192.0.2.2");
  std::vector<Position> seen;
  const std::vector<std::string> inputs = {(d / "one").string(), (d / "missing").string(),
                                           (d / "empty").string(), (d / "adir").string(),
                                           (d / "two").string()};
  auto res =
      read_inputs(inputs, options(2, 4), [&](const Event&, Position p) { seen.push_back(p); });
  ASSERT_EQ(res.size(), 5u);
  EXPECT_EQ(seen, (std::vector<Position>{{0, 1}, {0, 2}, {4, 1}}));
  EXPECT_EQ(res[0].lines, 2u);
  EXPECT_EQ(res[0].counts.count(LineKind::empty), 1u);
  EXPECT_NE(res[1].error.find((d / "missing").string()), std::string::npos) << res[1].error;
  EXPECT_NE(res[1].error.find("No such file"), std::string::npos) << res[1].error;
  EXPECT_EQ(res[2].error, "");
  EXPECT_EQ(res[2].lines, 0u);
  EXPECT_NE(res[3].error.find("is a directory"), std::string::npos) << res[3].error;
  EXPECT_EQ(res[4].error, "");
  EXPECT_EQ(res[4].lines, 1u);
  EXPECT_EQ(res[4].name, (d / "two").string());
}

TEST(Reader, BadTimeZoneIsAnErrorPerInput) {
  auto o = options(1, 100);
  o.time_zone = "Mars/Olympus";
  std::size_t n = 0;
  auto res = read_inputs({"a", "b"}, o, [&](const Event&, Position) { ++n; });
  ASSERT_EQ(res.size(), 2u);
  EXPECT_NE(res[0].error.find("Mars/Olympus"), std::string::npos);
  EXPECT_EQ(n, 0u);
}

// Reads "-" with `file` as stdin.
Read read_as_stdin(const fs::path& file, const ReadOptions& o) {
  const int saved = ::dup(STDIN_FILENO);
  const int fd = ::open(file.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  auto r = read_all({"-"}, o);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  return r;
}

TEST(Reader, Stdin) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto src = fs::path(MW_SOURCE_DIR) / "tests/data/logs/public/fail2ban-1.0.2/logs/sshd";
  const auto want = reference(read_file(src));
  run("gzip -c " + src.string() + " > " + (dir.path() / "s.gz").string());
  for (unsigned threads : {1u, 3u}) {
    auto plain = read_as_stdin(src, options(threads, 777));
    expect_same(plain, want, "stdin plain");
    EXPECT_EQ(plain.results[0].name, "stdin");
    auto gz = read_as_stdin(dir.path() / "s.gz", options(threads, 777));
    expect_same(gz, want, "stdin gzip");
    EXPECT_EQ(gz.results[0].compression, Compression::gzip);
  }
}

// --- damage ----------------------------------------------------------------------------------

// The events delivered before an error are the first events of the whole file (the last one
// may be a line cut by the damage).
void expect_prefix(const Read& got, const Read& whole, const std::string& what) {
  ASSERT_FALSE(got.events.empty()) << what;
  ASSERT_LE(got.events.size(), whole.events.size()) << what;
  for (std::size_t i = 0; i + 1 < got.events.size(); ++i) {
    ASSERT_EQ(got.events[i], whole.events[i]) << what << " event " << i;
  }
}

TEST(Reader, TruncatedAndCorruptCompressedFiles) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  // Several zstd blocks (128 KiB each) of varied text: a zstd decoder gives nothing of an
  // incomplete block.
  const std::string text = generated_log(1, 6000);
  const auto whole = reference(text);
  const auto d = dir.path().string();
  write_file(d + "/src", text);
  run("gzip -c " + d + "/src > " + d + "/full.gz");
  run("zstd -q -c " + d + "/src > " + d + "/full.zst");
  struct Case {
    std::string name, message;
    std::function<std::string(std::string)> damage;
  };
  const std::vector<Case> cases = {
      {"cut.gz", "truncated gzip data", [](std::string s) { return s.substr(0, s.size() / 2); }},
      {"cut.zst", "truncated zstd data", [](std::string s) { return s.substr(0, s.size() / 2); }},
      {"bad.gz", "corrupt gzip data at byte",
       [](std::string s) {
         for (std::size_t i = s.size() / 2; i < s.size() / 2 + 64; ++i) s[i] = '\xff';
         return s;
       }},
      {"bad.zst", "corrupt zstd data at byte",
       [](std::string s) {
         for (std::size_t i = s.size() / 2; i < s.size() / 2 + 64; ++i) s[i] = '\xff';
         return s;
       }},
      {"tail.gz", "is not gzip", [](std::string s) { return s + "junk after the member"; }},
  };
  for (const auto& c : cases) {
    const auto full = read_file(d + (c.name.ends_with(".gz") ? "/full.gz" : "/full.zst"));
    const auto path = d + "/" + c.name;
    write_file(path, c.damage(full));
    for (unsigned threads : {1u, 2u}) {
      auto got = read_all({path}, options(threads, 1000));
      ASSERT_EQ(got.results.size(), 1u);
      const auto& err = got.results[0].error;
      EXPECT_NE(err.find(path), std::string::npos) << err;
      EXPECT_NE(err.find(c.message), std::string::npos) << c.name << ": " << err;
      if (c.name == "tail.gz") {
        EXPECT_EQ(got.events, whole.events);  // every member before the junk was read
      } else if (c.name.starts_with("cut")) {
        expect_prefix(got, whole, c.name);
        EXPECT_LT(got.events.size(), whole.events.size()) << c.name;
      } else {
        // A decoder may emit some garbage before it sees the damage: only the start is sure.
        ASSERT_FALSE(got.events.empty()) << c.name;
        EXPECT_EQ(got.events[0], whole.events[0]) << c.name;
      }
      EXPECT_EQ(got.results[0].lines, got.events.size()) << c.name;
    }
  }
}

TEST(Reader, FileShrinkingWhileReadIsReportedNotFatal) {
  mw::test::TempDir dir("mw-reader.");
  ASSERT_FALSE(dir.path().empty());
  const auto src = fs::path(MW_SOURCE_DIR) / "tests/data/logs/capture/postfix-3.7-dovecot/mail.log";
  const auto whole = reference(read_file(src));
  for (unsigned threads : {1u, 3u}) {
    const auto path = dir.path() / "shrinking.log";
    fs::copy_file(src, path, fs::copy_options::overwrite_existing);
    Read got;
    bool cut = false;
    got.results =
        read_inputs({path.string()}, options(threads, 64), [&](const Event& e, Position p) {
          // copytruncate under our feet, while the first chunk is delivered.
          if (!cut) fs::resize_file(path, 100);
          cut = true;
          got.events.push_back(std::to_string(p.input) + ":" + std::to_string(p.line) + " " +
                               describe(e));
        });
    const auto& err = got.results[0].error;
    EXPECT_NE(err.find("shrank while being read"), std::string::npos) << err;
    EXPECT_NE(err.find(path.string()), std::string::npos) << err;
    expect_prefix(got, whole, "shrinking");
    EXPECT_LT(got.events.size(), whole.events.size());
    if (threads == 1) {
      // Chunk 0 (bytes 0-63) owns the first line only; the truncation leaves chunk 1 nothing.
      EXPECT_EQ(got.events.size(), 1u);
    }
  }
}

TEST(Reader, SinkExceptionStopsWorkers) {
  const auto f = fs::path(MW_SOURCE_DIR) / "tests/data/logs/public/fail2ban-1.0.2/logs/sshd";
  std::size_t n = 0;
  EXPECT_THROW(read_inputs({f.string()}, options(3, 128),
                           [&](const Event&, Position) {
                             if (++n == 10) throw std::runtime_error("enough");
                           }),
               std::runtime_error);
  EXPECT_EQ(n, 10u);
}

// --- progress --------------------------------------------------------------------------------

TEST(Progress, FormatsOneLine) {
  EXPECT_EQ(format_progress(250'000'000, 1'000'000'000, 10.0),
            "[#####...............]  25%  250.0/1000.0 MB  25.0 MB/s  0:30 left");
  EXPECT_EQ(format_progress(0, 1'000'000'000, 0.0), "[....................]   0%  0.0/1000.0 MB");
  // Too early for a rate.
  EXPECT_EQ(format_progress(1'000'000, 2'000'000, 0.05), "[##########..........]  50%  1.0/2.0 MB");
  // Done: no time left; more than the total is the total.
  EXPECT_EQ(format_progress(3'000'000, 2'000'000, 2.0),
            "[####################] 100%  2.0/2.0 MB  1.0 MB/s");
  // Unknown total (stdin).
  EXPECT_EQ(format_progress(5'000'000, 0, 2.0), "5.0 MB  2.5 MB/s");
  // Hours.
  EXPECT_EQ(format_progress(1'000'000, 10'000'000'000, 1.0),
            "[....................]   0%  1.0/10000.0 MB  1.0 MB/s  2:46:39 left");
}

TEST(Progress, NothingWhenNotATerminal) {
  // ctest runs with stderr on a pipe or file: the bar stays off even when asked.
  if (::isatty(STDERR_FILENO) == 1) GTEST_SKIP() << "stderr is a terminal";
  ProgressBar bar(true, 100);
  EXPECT_FALSE(bar.active());
  ProgressBar off(false, 100);
  EXPECT_FALSE(off.active());
}

}  // namespace
}  // namespace mw::logs
