#include "firewall/apply_state.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "core/atomic_file.hpp"

namespace mw::fw {

namespace {

using nlohmann::json;

constexpr const char* kPendingFile = "pending.json";
constexpr const char* kLastFile = "last.json";
constexpr const char* kHistoryFile = "history.log";
constexpr const char* kLockFile = "lock";

Error sys_error(const std::filesystem::path& p, std::string_view what) {
  return Error{fmt::format("{}: {}: {}", p.string(), what, std::strerror(errno))};
}

// Reads a JSON object from the state directory; nullopt when the file does not exist.
Result<std::optional<json>> read_json(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return std::optional<json>{};
  auto text = read_file(p, std::size_t{16} << 20);
  if (!text) return text.error();
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error{
        fmt::format("{}: not a JSON object (damaged state: remove it after checking "
                    "the firewall by hand)",
                    p.string())};
  }
  return std::optional<json>{std::move(j)};
}

// Field access that turns a missing or mistyped field into an error naming the file.
template <class T>
Result<T> field(const json& j, const char* key, const std::filesystem::path& p) {
  auto it = j.find(key);
  if (it == j.end()) return Error{fmt::format("{}: field '{}' missing", p.string(), key)};
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return Error{fmt::format("{}: field '{}' has the wrong type", p.string(), key)};
  }
}

}  // namespace

Result<ApplyState> ApplyState::open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{fmt::format("{}: {}", dir.string(), ec.message())};
  // What is saved here is the firewall an attacker would like to know: root only.
  if (::chmod(dir.c_str(), 0700) != 0) return sys_error(dir, "chmod");
  return ApplyState(dir);
}

Result<ApplyState::Lock> ApplyState::lock() const {
  auto p = dir_ / kLockFile;
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_error(p, "open");
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return sys_error(p, "flock");
  }
  return Lock(std::move(fd));
}

Result<std::optional<PendingApply>> ApplyState::pending() const {
  auto p = dir_ / kPendingFile;
  auto j = read_json(p);
  if (!j) return j.error();
  if (!*j) return std::optional<PendingApply>{};
  PendingApply a;
  const json& o = **j;
#define MW_FIELD(name, type)           \
  {                                    \
    auto v = field<type>(o, #name, p); \
    if (!v) return v.error();          \
    a.name = std::move(*v);            \
  }
  MW_FIELD(id, std::string)
  MW_FIELD(backend, std::string)
  MW_FIELD(applied_at, std::int64_t)
  MW_FIELD(deadline, std::int64_t)
  MW_FIELD(policy, std::string)
  MW_FIELD(ssh_connection, std::string)
  MW_FIELD(watchdog_pid, int)
  MW_FIELD(saved, std::string)
#undef MW_FIELD
  return std::optional<PendingApply>{std::move(a)};
}

Status ApplyState::write_pending(const PendingApply& a) const {
  json j = {{"id", a.id},
            {"backend", a.backend},
            {"applied_at", a.applied_at},
            {"deadline", a.deadline},
            {"policy", a.policy},
            {"ssh_connection", a.ssh_connection},
            {"watchdog_pid", a.watchdog_pid},
            {"saved", a.saved}};
  return write_file_atomic(dir_ / kPendingFile, j.dump(2) + "\n", 0600);
}

Status ApplyState::clear_pending() const {
  auto p = dir_ / kPendingFile;
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return sys_error(p, "unlink");
  return {};
}

Status ApplyState::record(const ApplyRecord& r) const {
  json j = {{"id", r.id}, {"outcome", r.outcome}, {"at", r.at}, {"detail", r.detail}};
  if (auto st = write_file_atomic(dir_ / kLastFile, j.dump(2) + "\n", 0600); !st) return st;
  auto p = dir_ / kHistoryFile;
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) return sys_error(p, "open");
  auto line = j.dump() + "\n";
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return sys_error(p, "write");
  }
  return {};
}

Result<std::optional<ApplyRecord>> ApplyState::last() const {
  auto p = dir_ / kLastFile;
  auto j = read_json(p);
  if (!j) return j.error();
  if (!*j) return std::optional<ApplyRecord>{};
  ApplyRecord r;
  auto id = field<std::string>(**j, "id", p);
  auto outcome = field<std::string>(**j, "outcome", p);
  auto at = field<std::int64_t>(**j, "at", p);
  auto detail = field<std::string>(**j, "detail", p);
  if (!id) return id.error();
  if (!outcome) return outcome.error();
  if (!at) return at.error();
  if (!detail) return detail.error();
  r.id = *id;
  r.outcome = *outcome;
  r.at = *at;
  r.detail = *detail;
  return std::optional<ApplyRecord>{std::move(r)};
}

std::int64_t unix_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Clock::time_point from_unix_seconds(std::int64_t s) {
  return Clock::time_point{std::chrono::seconds(s)};
}

std::string format_time(std::int64_t s) {
  std::time_t t = static_cast<std::time_t>(s);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", tm);
}

std::string new_apply_id() {
  std::random_device rd;
  std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd();
  return fmt::format("{:016x}", v);
}

}  // namespace mw::fw
