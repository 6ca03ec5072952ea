// mw-loggen: writes realistic mail server logs with known incidents and benign look-alikes,
// and truth.json saying what an analyzer must find. Independent of mailwarden's own parsers.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "civil.hpp"
#include "generator.hpp"

#ifndef MW_LOGGEN_DEFAULT_SEED
#error "MW_LOGGEN_DEFAULT_SEED comes from tools/loggen/seed through CMake"
#endif

namespace loggen {
namespace {

// "1G" and "1GiB" are powers of 1024, "1GB" powers of 1000, a bare number is bytes.
std::optional<std::uint64_t> parse_size(const std::string& text) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = text.substr(i);
  std::uint64_t base = 1024;
  if (unit.size() == 2 && (unit[1] == 'B' || unit[1] == 'b')) {
    base = 1000;
    unit.pop_back();
  } else if (unit.size() == 3 && unit.substr(1) == "iB") {
    unit.resize(1);
  }
  int power = 0;
  if (unit.empty()) {
    power = 0;
  } else if (unit == "k" || unit == "K") {
    power = 1;
  } else if (unit == "M" || unit == "m") {
    power = 2;
  } else if (unit == "G" || unit == "g") {
    power = 3;
  } else if (unit == "T" || unit == "t") {
    power = 4;
  } else {
    return std::nullopt;
  }
  for (int p = 0; p < power; ++p) {
    if (n > UINT64_MAX / base) return std::nullopt;
    n *= base;
  }
  return n;
}

// temp + fsync + rename, as every file mailwarden writes.
void write_file_atomically(const std::string& dir, const std::string& name,
                           const std::string& text) {
  const auto tmp = dir + "/." + name + ".tmp";
  const auto path = dir + "/" + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename to " + path + ": " + std::strerror(errno));
  }
}

struct Plan {
  int days = 0;
  std::uint32_t rate_ppm = 1000000;
};

// The days and background share that make the output about `target` bytes. Bytes are linear in
// the background share and nearly additive per day, so two cheap dry runs measure them: one week
// of background alone (per weekday) and the fixed part (incidents, look-alikes, noise) alone.
Plan plan_for_target(const Options& base, std::uint64_t target) {
  nlohmann::ordered_json ignored;
  Options bg = base;
  bg.out_dir.clear();
  bg.fixed = false;
  bg.incidents = false;
  bg.truth_accounts = false;
  bg.days = 7;
  const auto week = generate(bg, ignored).bytes_by_day;
  auto background = [&week](int days) {
    std::uint64_t n = 0;
    for (int d = 0; d < days; ++d) n += week[static_cast<std::size_t>(d % 7)];
    return static_cast<double>(n);
  };
  auto fixed = [&base, &ignored](int days) {
    Options fx = base;
    fx.out_dir.clear();
    fx.background = false;
    fx.truth_accounts = false;
    fx.days = days;
    return static_cast<double>(generate(fx, ignored).total_bytes);
  };
  // Aim half a percent high: the estimate is that close, and the size should reach the target.
  const double want = static_cast<double>(target) * 1.005;
  Plan plan;
  plan.days = base.days;
  const double f0 = fixed(base.days);
  if (background(base.days) + f0 >= want) {
    const double share = std::clamp((want - f0) / background(base.days), 0.001, 1.0);
    plan.rate_ppm = static_cast<std::uint32_t>(share * 1e6);
    return plan;
  }
  // More days: estimate with the fixed part's daily average, then measure it exactly.
  const double f_day = f0 / base.days;
  int days = base.days;
  while (days < 3650 && background(days) + f0 + (days - base.days) * f_day < want) ++days;
  for (; days <= 3650; ++days) {
    const double f = fixed(days);
    if (background(days) + f >= want) {
      plan.days = days;
      plan.rate_ppm =
          static_cast<std::uint32_t>(std::clamp((want - f) / background(days), 0.001, 1.0) * 1e6);
      return plan;
    }
  }
  throw std::invalid_argument("--target-bytes needs more than ten years of logs");
}

int run(int argc, char** argv) {
  CLI::App app{
      "mw-loggen: synthetic mail server logs (Zimbra or Postfix+Dovecot) with known incidents, "
      "benign look-alikes and a truth.json for testing `mailwarden logs`"};
  Options opt;
  opt.seed = MW_LOGGEN_DEFAULT_SEED;
  std::string out, flavor = "zimbra", start = "2026-11-23T00:00:00Z", target;
  bool no_incidents = false, quiet = false;
  app.add_option("--out", out, "output directory (created if missing)")->required();
  app.add_option("--seed", opt.seed, "random seed; same arguments + seed = same bytes")
      ->capture_default_str();
  app.add_option("--flavor", flavor, "zimbra | postfix")->capture_default_str();
  app.add_option("--accounts", opt.accounts, "mail accounts")->capture_default_str();
  app.add_option("--days", opt.days, "days of logs (at least 3 with incidents)")
      ->capture_default_str();
  app.add_option("--start", start, "first instant, UTC (ISO 8601)")->capture_default_str();
  app.add_option("--target-bytes", target,
                 "scale the background (share of activity, then more days) to about this size: "
                 "1G = 2^30, 1GB = 10^9");
  app.add_flag("--no-incidents", no_incidents, "no incidents (look-alikes and noise stay)");
  app.add_flag("--truth-accounts", opt.truth_accounts,
               "per-account figures in truth.json (messages, recipients, logins, failures)");
  app.add_flag("--quiet", quiet, "no summary on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is no error; a bad argument is a usage error
  }
  if (flavor == "zimbra") {
    opt.flavor = Flavor::zimbra;
  } else if (flavor == "postfix") {
    opt.flavor = Flavor::postfix;
  } else {
    std::fprintf(stderr, "mw-loggen: --flavor: '%s' is neither zimbra nor postfix\n",
                 flavor.c_str());
    return 2;
  }
  const auto start_ms = parse_iso_utc(start);
  if (!start_ms) {
    std::fprintf(stderr, "mw-loggen: --start: '%s' is not a UTC time like 2026-11-23T00:00:00Z\n",
                 start.c_str());
    return 2;
  }
  opt.start_ms = *start_ms;
  opt.incidents = !no_incidents;
  std::optional<std::uint64_t> target_bytes;
  if (!target.empty()) {
    target_bytes = parse_size(target);
    if (!target_bytes || *target_bytes == 0) {
      std::fprintf(stderr, "mw-loggen: --target-bytes: '%s' is not a size like 1G, 500M, 2GB\n",
                   target.c_str());
      return 2;
    }
  }
  try {
    validate(opt);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mw-loggen: %s\n", e.what());
    return 2;
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) throw std::runtime_error("cannot create " + out + ": " + ec.message());
    if (target_bytes) {
      const auto plan = plan_for_target(opt, *target_bytes);
      opt.days = plan.days;
      opt.rate_ppm = plan.rate_ppm;
    }
    opt.out_dir = out;
    nlohmann::ordered_json truth;
    const auto fig = generate(opt, truth);
    nlohmann::ordered_json gen = {
        {"accounts", opt.accounts}, {"days", opt.days}, {"background_share_ppm", opt.rate_ppm}};
    if (target_bytes) gen["target_bytes"] = *target_bytes;
    truth["generator"] = gen;
    nlohmann::ordered_json files = nlohmann::ordered_json::object();
    for (const auto& s : fig.streams) {
      if (!s.name.empty()) files[s.name] = {{"bytes", s.bytes}, {"lines", s.lines}};
    }
    truth["output"] = files;
    write_file_atomically(out, "truth.json", truth.dump(2) + "\n");
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!quiet) {
      for (const auto& s : fig.streams) {
        if (s.name.empty()) continue;
        std::fprintf(stderr, "mw-loggen: %s/%s: %llu bytes, %llu lines\n", out.c_str(),
                     s.name.c_str(), static_cast<unsigned long long>(s.bytes),
                     static_cast<unsigned long long>(s.lines));
      }
      std::fprintf(stderr, "mw-loggen: %llu bytes in %.1f s (%.0f MB/s), %d days, %d accounts\n",
                   static_cast<unsigned long long>(fig.total_bytes), secs,
                   static_cast<double>(fig.total_bytes) / 1e6 / (secs > 0 ? secs : 1), opt.days,
                   opt.accounts);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mw-loggen: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace loggen

int main(int argc, char** argv) {
  return loggen::run(argc, argv);
}
