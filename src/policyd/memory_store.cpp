// MemoryStore: sharded in-process counters, written behind to SQLite (see memory_store.hpp).
#include "policyd/memory_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "policyd/window.hpp"

namespace mw::policyd {
namespace {

constexpr std::int64_t kSchemaVersion = 1;
constexpr std::string_view kApplication = "mailwarden-policyd";
constexpr std::size_t kEventBytes = 16;  // persisted event: int64 second, u32 messages, u32 rcpts

// now - since, saturated (times come from requests and files).
std::int64_t elapsed(std::int64_t now, std::int64_t since) {
  std::int64_t d = 0;
  if (__builtin_sub_overflow(now, since, &d)) {
    return now > since ? std::numeric_limits<std::int64_t>::max()
                       : std::numeric_limits<std::int64_t>::min();
  }
  return d;
}

struct KeyState {
  SlidingWindow window;
  std::int64_t last_alert = 0;
  std::int64_t alert_window = 0;  // the window the last alert covers; 0 = no alert remembered
  std::uint32_t alerts = 0;
  bool dirty = false;  // changed since the last flush, and listed in Shard::dirty
};

// Keys seen within the last kDedupeSeconds, in two generations of at most kDedupeSeconds each:
// the older one is dropped whole when the newer one is that old (freed by the caller after
// unlocking), so expiry needs no per-key queue. Lookups check each entry's own time.
template <class V>
class RecentKeys {
 public:
  using Map = std::unordered_map<std::string, std::pair<std::int64_t, V>>;

  const V* find(const std::string& key, std::int64_t now) const {
    for (const Map* m : {&current_, &previous_}) {
      const auto it = m->find(key);
      if (it != m->end() && elapsed(now, it->second.first) < kDedupeSeconds) {
        return &it->second.second;
      }
    }
    return nullptr;
  }
  void insert(const std::string& key, std::int64_t now, const V& value) {
    current_.insert_or_assign(key, std::pair{now, value});
  }
  // Call before find/insert. Entries older than kDedupeSeconds are moved into `garbage`.
  void rotate(std::int64_t now, Map& garbage) {
    if (!started_) {
      started_ = true;
      start_ = now;
      return;
    }
    if (elapsed(now, start_) < kDedupeSeconds) return;
    // Everything in previous_ is older than start_, hence expired. What current_ holds becomes
    // the older generation (possibly expired too, when time jumped: lookups check times).
    garbage = std::move(previous_);
    previous_ = std::move(current_);
    current_.clear();
    start_ = now;
  }

 private:
  Map current_;
  Map previous_;
  std::int64_t start_ = 0;  // when current_ was started
  bool started_ = false;
};

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

std::string encode_events(const SlidingWindow& w) {
  std::string out;
  const auto events = w.events();
  out.reserve(events.size() * kEventBytes);
  for (const WindowEvent& e : events) {
    put_le(out, static_cast<std::uint64_t>(e.second), 8);
    put_le(out, e.messages, 4);
    put_le(out, e.recipients, 4);
  }
  return out;
}

// Keys in the file are ours, but a damaged file may hold anything: show them bounded.
std::string printable(std::string_view key) {
  std::string out;
  for (const char c : key.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  return key.size() > 200 ? out + "..." : out;
}

}  // namespace

struct alignas(64) MemoryStore::Shard {
  std::mutex mutex;
  std::unordered_map<std::string, KeyState> keys;
  std::vector<std::string> dirty;  // keys changed or dropped since the last flush (when persisted)
  RecentKeys<ChargeResult> requests;  // dedupe_key -> first answer
  RecentKeys<bool> messages;          // message_key -> counted
};

// What flush() writes for one key: its state, or its deletion.
struct MemoryStore::Snapshot {
  std::string key;
  bool present = false;
  std::int64_t last_alert = 0;
  std::int64_t alert_window = 0;
  std::uint32_t alerts = 0;
  std::string events;
};

struct MemoryStore::Database {
  std::string path;
  sqlite3* db = nullptr;
  sqlite3_stmt* upsert = nullptr;
  sqlite3_stmt* remove = nullptr;

  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    sqlite3_finalize(upsert);
    sqlite3_finalize(remove);
    if (db != nullptr) sqlite3_close_v2(db);
  }

  // What went wrong on the first access, by SQLite's result code.
  std::string_view first_access_failure() const {
    switch (sqlite3_errcode(db) & 0xff) {
      case SQLITE_NOTADB:
      case SQLITE_CORRUPT:
        return "not a mailwarden policyd state file";
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return "in use by another process (two mailwarden policyd sharing one state file?)";
      default:
        return "reading the state file";
    }
  }
  Error error(std::string_view what) const {
    return Error{fmt::format("{}: {}: {}", path, what,
                             db != nullptr ? sqlite3_errmsg(db) : "out of memory")};
  }
  Status exec(const char* sql, std::string_view what) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(what);
    return {};
  }
  // Runs a statement returning one text column, e.g. a PRAGMA.
  Result<std::string> query_text(const char* sql, std::string_view what) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return error(what);
    std::string out;
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      Error e = error(what);
      sqlite3_finalize(st);
      return e;
    }
    sqlite3_finalize(st);
    return out;
  }

  Status write(const std::vector<Snapshot>& rows) {
    if (Status s = exec("BEGIN IMMEDIATE", "writing the counters"); !s) return s;
    for (const Snapshot& r : rows) {
      sqlite3_stmt* st = r.present ? upsert : remove;
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      sqlite3_bind_text(st, 1, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
      if (r.present) {
        sqlite3_bind_int64(st, 2, r.last_alert);
        sqlite3_bind_int64(st, 3, r.alert_window);
        sqlite3_bind_int64(st, 4, r.alerts);
        // A null pointer would store NULL: an empty window is a zero-length blob.
        sqlite3_bind_blob(st, 5, r.events.empty() ? "" : r.events.data(),
                          static_cast<int>(r.events.size()), SQLITE_STATIC);
      }
      if (sqlite3_step(st) != SQLITE_DONE) {
        Error e = error("writing the counters");
        sqlite3_reset(st);
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return e;
      }
    }
    sqlite3_reset(upsert);
    sqlite3_reset(remove);
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error e = error("committing the counters");
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return e;
    }
    return {};
  }
};

namespace {

// Locks a set of shards (a bit mask) in increasing order, so that concurrent charges over
// overlapping shards cannot deadlock; unlocks on destruction.
template <class Shard>
class ShardLocks {
 public:
  ShardLocks(Shard* shards, std::uint64_t mask) : shards_(shards), mask_(mask) {
    for (std::uint64_t m = mask_; m != 0; m &= m - 1) shards_[std::countr_zero(m)].mutex.lock();
  }
  ~ShardLocks() {
    for (std::uint64_t m = mask_; m != 0; m &= m - 1) shards_[std::countr_zero(m)].mutex.unlock();
  }
  ShardLocks(const ShardLocks&) = delete;
  ShardLocks& operator=(const ShardLocks&) = delete;

 private:
  Shard* shards_;
  std::uint64_t mask_;
};

std::size_t shard_of(const std::string& key, std::size_t shards) {
  return std::hash<std::string>{}(key) % shards;
}

}  // namespace

MemoryStore::MemoryStore() : shards_(new Shard[kShards]) {}
MemoryStore::~MemoryStore() = default;

Result<std::unique_ptr<MemoryStore>> MemoryStore::open(const MemoryStoreOptions& options) {
  std::unique_ptr<MemoryStore> store(new MemoryStore());
  if (options.path.empty()) return store;

  auto db = std::make_unique<Database>();
  db->path = options.path.string();
  if (sqlite3_open_v2(db->path.c_str(), &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    return db->error("cannot open the state file");
  }
  sqlite3_extended_result_codes(db->db, 1);
  // A restart may overlap the old process's exit by a moment.
  sqlite3_busy_timeout(db->db, 1000);
  // Keep the file locked while open: one process owns these counters. Also lets WAL work
  // without the -shm file.
  if (Status s = db->exec("PRAGMA locking_mode=EXCLUSIVE", "setting the locking mode"); !s) {
    return s.error();
  }

  // The first read: a file that is not a SQLite database fails here.
  std::vector<std::string> tables;
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db->db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st,
                           nullptr) != SQLITE_OK) {
      return db->error(db->first_access_failure());
    }
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    if (rc != SQLITE_DONE) {
      Error e = db->error(db->first_access_failure());
      sqlite3_finalize(st);
      return e;
    }
    sqlite3_finalize(st);
  }

  if (tables.empty()) {
    // A new (or empty) file: create the schema.
    auto mode = db->query_text("PRAGMA journal_mode=WAL", "switching to WAL mode");
    if (!mode) return mode.error();
    if (*mode != "wal") {
      return Error{
          fmt::format("{}: cannot switch to WAL mode (journal mode stays '{}')", db->path, *mode)};
    }
    const std::string sql = fmt::format(
        "BEGIN IMMEDIATE;"
        "CREATE TABLE schema_version(application TEXT NOT NULL, version INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES('{}', {});"
        "CREATE TABLE counters(key TEXT PRIMARY KEY NOT NULL, last_alert INTEGER NOT NULL,"
        " alert_window INTEGER NOT NULL, alerts INTEGER NOT NULL, events BLOB NOT NULL)"
        " WITHOUT ROWID;"
        "COMMIT;",
        kApplication, kSchemaVersion);
    if (Status s = db->exec(sql.c_str(), "creating the schema"); !s) return s.error();
  } else {
    if (std::find(tables.begin(), tables.end(), "schema_version") == tables.end()) {
      std::sort(tables.begin(), tables.end());
      std::string names;
      for (const auto& t : tables) names += (names.empty() ? "" : ", ") + printable(t);
      return Error{fmt::format(
          "{}: not a mailwarden policyd state file (a SQLite database with tables {}); refusing "
          "to use it",
          db->path, names)};
    }
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db->db, "SELECT application, version FROM schema_version", -1, &st,
                           nullptr) != SQLITE_OK) {
      return db->error("reading the schema version");
    }
    int rows = 0;
    std::string application;
    std::int64_t version = -1;
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      ++rows;
      if (sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        application = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      }
      if (sqlite3_column_type(st, 1) == SQLITE_INTEGER) version = sqlite3_column_int64(st, 1);
    }
    if (rc != SQLITE_DONE) {
      Error e = db->error("reading the schema version");
      sqlite3_finalize(st);
      return e;
    }
    sqlite3_finalize(st);
    if (rows != 1 || application != kApplication) {
      return Error{fmt::format(
          "{}: not a mailwarden policyd state file (schema_version holds {} rows, application "
          "'{}'); refusing to use it",
          db->path, rows, printable(application))};
    }
    if (version != kSchemaVersion) {
      return Error{
          fmt::format("{}: state file schema version {} is not supported (this build "
                      "reads version {})",
                      db->path, version, kSchemaVersion)};
    }
    auto mode = db->query_text("PRAGMA journal_mode=WAL", "switching to WAL mode");
    if (!mode) return mode.error();
    if (*mode != "wal") {
      return Error{
          fmt::format("{}: cannot switch to WAL mode (journal mode stays '{}')", db->path, *mode)};
    }
  }
  // WAL + NORMAL: a commit survives a process crash; a power loss may lose the last ones.
  if (Status s = db->exec("PRAGMA synchronous=NORMAL", "setting synchronous"); !s) return s.error();
  // Take the write lock now (held until close), so that a second process fails here, not at its
  // first flush.
  if (Status s = db->exec("BEGIN IMMEDIATE; UPDATE schema_version SET version = version; COMMIT",
                          "taking the write lock on the state file");
      !s) {
    return s.error();
  }
  if (sqlite3_prepare_v2(db->db,
                         "INSERT OR REPLACE INTO counters(key, last_alert, alert_window, alerts, "
                         "events) VALUES(?1, ?2, ?3, ?4, ?5)",
                         -1, &db->upsert, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db->db, "DELETE FROM counters WHERE key = ?1", -1, &db->remove, nullptr) !=
          SQLITE_OK) {
    return db->error("preparing the statements");
  }
  store->db_ = std::move(db);
  if (Status s = store->load(); !s) return s.error();
  return store;
}

Status MemoryStore::load() {
  Database& d = *db_;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(d.db, "SELECT key, last_alert, alert_window, alerts, events FROM counters",
                         -1, &st, nullptr) != SQLITE_OK) {
    return d.error("reading the counters");
  }
  // Finalizes on every return path.
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(st, sqlite3_finalize);
  std::vector<WindowEvent> events;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_TEXT) {
      return Error{fmt::format("{}: counters: a row's key is not text", d.path)};
    }
    const std::string key(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                          static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    auto bad = [&](std::string_view what) {
      return Error{fmt::format("{}: counters row '{}': {}", d.path, printable(key), what)};
    };
    for (int c = 1; c <= 3; ++c) {
      if (sqlite3_column_type(st, c) != SQLITE_INTEGER) {
        return bad(fmt::format("column {} is not an integer", sqlite3_column_name(st, c)));
      }
    }
    if (sqlite3_column_type(st, 4) != SQLITE_BLOB) return bad("events is not a blob");
    KeyState state;
    state.last_alert = sqlite3_column_int64(st, 1);
    state.alert_window = sqlite3_column_int64(st, 2);
    const std::int64_t alerts = sqlite3_column_int64(st, 3);
    if (state.alert_window < 0) return bad("alert_window is negative");
    if (alerts < 0 || alerts > std::numeric_limits<std::uint32_t>::max()) {
      return bad(fmt::format("alerts {} is out of range", alerts));
    }
    state.alerts = static_cast<std::uint32_t>(alerts);
    const auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(st, 4));
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(st, 4));
    if (bytes % kEventBytes != 0) {
      return bad(fmt::format("events blob of {} bytes is not a whole number of {}-byte events",
                             bytes, kEventBytes));
    }
    events.clear();
    for (std::size_t off = 0; off < bytes; off += kEventBytes) {
      events.push_back({static_cast<std::int64_t>(get_le(blob + off, 8)),
                        static_cast<std::uint32_t>(get_le(blob + off + 8, 4)),
                        static_cast<std::uint32_t>(get_le(blob + off + 12, 4))});
    }
    auto window = SlidingWindow::from_events(events);
    if (!window) return bad(window.error().message);
    state.window = std::move(*window);
    Shard& shard = shards_[shard_of(key, kShards)];
    if (shard.keys.emplace(key, std::move(state)).second) {
      active_keys_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (rc != SQLITE_DONE) return d.error("reading the counters");
  return {};
}

Result<ChargeResult> MemoryStore::charge(const ChargeRequest& request,
                                         std::span<const Bucket> buckets) {
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    for (std::size_t j = 0; j < buckets[i].windows.size(); ++j) {
      if (buckets[i].windows[j].window <= 0) {
        return Error{fmt::format("bucket {} ('{}') window {}: length {} s is not positive", i,
                                 printable(buckets[i].key), j, buckets[i].windows[j].window)};
      }
    }
    if (!buckets[i].windows.empty()) mask |= std::uint64_t{1} << shard_of(buckets[i].key, kShards);
  }
  const bool dedupe = !request.dedupe_key.empty();
  const bool by_message = !request.message_key.empty();
  Shard& requests = shards_[dedupe ? shard_of(request.dedupe_key, kShards) : 0];
  Shard& messages = shards_[by_message ? shard_of(request.message_key, kShards) : 0];
  if (dedupe) mask |= std::uint64_t{1} << (&requests - shards_.get());
  if (by_message) mask |= std::uint64_t{1} << (&messages - shards_.get());

  const std::int64_t now = request.now;
  const bool persist = db_ != nullptr;
  auto mark_dirty = [persist](Shard& shard, KeyState& state, const std::string& key) {
    if (persist && !state.dirty) {
      state.dirty = true;
      shard.dirty.push_back(key);
    }
  };

  // Declared before the locks: expired generations are freed after unlocking.
  RecentKeys<ChargeResult>::Map request_garbage;
  RecentKeys<bool>::Map message_garbage;
  ShardLocks locks(shards_.get(), mask);

  if (dedupe) {
    requests.requests.rotate(now, request_garbage);
    if (const ChargeResult* first = requests.requests.find(request.dedupe_key, now)) {
      ChargeResult r = *first;
      r.duplicate = true;
      r.message_counted = false;
      r.alert = false;
      return r;
    }
  }
  bool message_seen = false;
  if (by_message) {
    messages.messages.rotate(now, message_garbage);
    message_seen = messages.messages.find(request.message_key, now) != nullptr;
  }
  const std::uint32_t add_messages = message_seen ? 0 : 1;
  const std::uint32_t add_recipients = request.recipients;

  // Every window of every bucket is checked before anything is counted.
  ChargeResult result;
  for (std::size_t i = 0; i < buckets.size() && result.allowed; ++i) {
    const Bucket& b = buckets[i];
    if (b.windows.empty()) continue;
    Shard& shard = shards_[shard_of(b.key, kShards)];
    const auto it = shard.keys.find(b.key);
    KeyState* state = it == shard.keys.end() ? nullptr : &it->second;
    if (state != nullptr) {
      std::int64_t longest = 0;
      for (const WindowLimit& w : b.windows) longest = std::max(longest, w.window);
      state->window.prune(now, longest);
    }
    for (std::size_t j = 0; j < b.windows.size(); ++j) {
      const WindowLimit& w = b.windows[j];
      const WindowUsage used =
          state != nullptr ? state->window.usage(now, w.window) : WindowUsage{};
      if ((w.messages != 0 && used.messages + add_messages > w.messages) ||
          (w.recipients != 0 && used.recipients + add_recipients > w.recipients)) {
        result.allowed = false;
        result.bucket = static_cast<int>(i);
        result.window = static_cast<int>(j);
        result.used_messages = used.messages;
        result.used_recipients = used.recipients;
        break;
      }
    }
  }

  if (!result.allowed) {
    const Bucket& b = buckets[static_cast<std::size_t>(result.bucket)];
    Shard& shard = shards_[shard_of(b.key, kShards)];
    auto [it, inserted] = shard.keys.try_emplace(b.key);
    if (inserted) active_keys_.fetch_add(1, std::memory_order_relaxed);
    KeyState& state = it->second;
    bool changed = false;
    const std::int64_t since = elapsed(now, state.last_alert);
    if (state.alert_window > 0 && since >= kAlertMemorySeconds && state.alerts != 0) {
      state.alerts = 0;
      changed = true;
    }
    // An alert covers one window length: the next refusal after it passed alerts again.
    if (state.alert_window == 0 || since >= state.alert_window) {
      result.alert = true;
      if (state.alerts != std::numeric_limits<std::uint32_t>::max()) ++state.alerts;
      state.last_alert = now;
      state.alert_window = b.windows[static_cast<std::size_t>(result.window)].window;
      changed = true;
    }
    result.alerts = state.alerts;
    if (changed) mark_dirty(shard, state, b.key);
  } else {
    if (add_messages != 0 || add_recipients != 0) {
      for (const Bucket& b : buckets) {
        if (b.windows.empty()) continue;
        Shard& shard = shards_[shard_of(b.key, kShards)];
        auto [it, inserted] = shard.keys.try_emplace(b.key);
        if (inserted) active_keys_.fetch_add(1, std::memory_order_relaxed);
        it->second.window.add(now, add_messages, add_recipients);
        mark_dirty(shard, it->second, b.key);
      }
    }
    result.message_counted = add_messages != 0;
    if (by_message && !message_seen) messages.messages.insert(request.message_key, now, true);
  }
  if (dedupe) requests.requests.insert(request.dedupe_key, now, result);
  return result;
}

std::vector<MemoryStore::Snapshot> MemoryStore::take_snapshots() {
  // Keys a failed flush could not write are dirty again (their current state is written).
  std::vector<std::string> retry;
  retry.swap(retry_);
  for (std::string& key : retry) {
    Shard& shard = shards_[shard_of(key, kShards)];
    std::lock_guard lock(shard.mutex);
    const auto it = shard.keys.find(key);
    if (it == shard.keys.end()) {
      shard.dirty.push_back(std::move(key));
    } else if (!it->second.dirty) {
      it->second.dirty = true;
      shard.dirty.push_back(std::move(key));
    }
  }
  std::vector<Snapshot> out;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    names.clear();
    {
      std::lock_guard lock(shard.mutex);
      names.swap(shard.dirty);
      for (std::string& key : names) {
        const auto it = shard.keys.find(key);
        if (it == shard.keys.end()) {
          out.push_back(Snapshot{std::move(key), false, 0, 0, 0, {}});
          continue;
        }
        KeyState& s = it->second;
        // Already taken (a key dropped and re-created is listed twice).
        if (!s.dirty) continue;
        s.dirty = false;
        out.push_back(Snapshot{std::move(key), true, s.last_alert, s.alert_window, s.alerts,
                               encode_events(s.window)});
      }
    }
  }
  return out;
}

Status MemoryStore::flush() {
  if (!db_) return {};
  std::lock_guard lock(flush_mutex_);
  std::vector<Snapshot> rows = take_snapshots();
  if (rows.empty()) return {};
  Status s = db_->write(rows);
  if (!s) {
    for (Snapshot& r : rows) retry_.push_back(std::move(r.key));
    return s;
  }
  rows_written_.fetch_add(rows.size(), std::memory_order_relaxed);
  return s;
}

std::size_t MemoryStore::expire(std::int64_t now, std::int64_t max_window) {
  const bool persist = db_ != nullptr;
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    RecentKeys<ChargeResult>::Map request_garbage;
    RecentKeys<bool>::Map message_garbage;
    std::lock_guard lock(shard.mutex);
    shard.requests.rotate(now, request_garbage);
    shard.messages.rotate(now, message_garbage);
    for (auto it = shard.keys.begin(); it != shard.keys.end();) {
      KeyState& s = it->second;
      s.window.prune(now, max_window);
      const std::int64_t since = elapsed(now, s.last_alert);
      const bool alert_forgotten =
          s.alert_window == 0 || (since >= kAlertMemorySeconds && since >= s.alert_window);
      if (s.window.empty() && alert_forgotten) {
        // Listed for the next flush, which deletes its row.
        if (persist && !s.dirty) shard.dirty.push_back(it->first);
        it = shard.keys.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  active_keys_.fetch_sub(dropped, std::memory_order_relaxed);
  return dropped;
}

WindowUsage MemoryStore::usage(const std::string& key, std::int64_t now,
                               std::int64_t window) const {
  Shard& shard = shards_[shard_of(key, kShards)];
  std::lock_guard lock(shard.mutex);
  const auto it = shard.keys.find(key);
  return it == shard.keys.end() ? WindowUsage{} : it->second.window.usage(now, window);
}

std::size_t MemoryStore::window_heap_bytes() const {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    for (const auto& [key, state] : shards_[i].keys) bytes += state.window.heap_bytes();
  }
  return bytes;
}

}  // namespace mw::policyd
