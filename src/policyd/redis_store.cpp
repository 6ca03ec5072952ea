// RedisStore: rate-limit counters shared by several MTAs in Redis, one atomic Lua script per
// decision, over a small pool of hiredis connections.
#include "policyd/redis_store.hpp"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/sigpipe_guard.hpp"

namespace mw::policyd {

namespace {

// The layout in Redis, every key under RedisConfig::prefix:
//   w:<bucket>   sorted set, one member per second with accepted traffic, scored by the second:
//                "second:messages_sum:recipients_sum:messages:recipients" where the sums are
//                running totals over the key's retained history. A window's usage is the newest
//                entry's sums minus the sums before the first entry inside the window: one
//                O(log N) lookup per window instead of a scan of the day. Pruned of seconds no
//                window can count any more; TTL: the largest window.
//   al:<bucket>  hash {until, count, last}: the current alert covers seconds < until; count
//                alerts, forgotten kAlertMemorySeconds after the last one (its TTL).
//   dd:<dedupe>  "second allowed bucket window used_messages used_recipients alerts": the first
//                answer to a request, for its resends; TTL kDedupeSeconds.
//   msg:<message> the second the message was counted (RCPT mode); TTL kDedupeSeconds.
//   keys         sorted set of the w: keys scored by the second their traffic leaves every
//                window: active_keys() without a SCAN. TTL: the largest window.
// Time is the request's `now` throughout (the MTA's clock, injected in tests); TTLs only keep
// Redis from filling up, every expiry decision compares stored seconds with `now`. Running sums
// are Lua numbers (doubles): exact up to 2^53.
//
// The windows come with every call and nothing about them is stored, so a reload needs no
// migration: a shorter window is exact at once; a longer one sees what the previous longest
// window kept (seconds older than that were pruned), as in MemoryStore. MTAs sharing a Redis
// should therefore share their limits.
//
// Cost per call: O(B * (W + 1) * log N + K) for B buckets of W windows, N entries per bucket
// (at most one per second of its largest window, and at most one per accepted request), and K
// entries pruned (each added once, so O(1) amortised) or later than `now` (only when the MTAs'
// clocks differ: those entries' running sums are moved up, as in SlidingWindow::add).
// The calling convention is in the script's header, for whoever runs it by hand.
constexpr std::string_view kScript = R"lua(-- mailwarden policyd: one rate-limit decision, atomic.
-- KEYS: <prefix>dd:<dedupe key>, <prefix>msg:<message key>, <prefix>keys, then for each
--       bucket: <prefix>w:<bucket key>, <prefix>al:<bucket key>
-- ARGV: now (seconds), recipients, use dedupe key (0|1), use message key (0|1),
--       dedupe seconds (600), alert memory seconds (86400), number of buckets, then for each
--       bucket: number of windows, and per window: length (s), messages limit, recipients
--       limit (0 = no limit)
-- Reply: {duplicate, allowed, message_counted, bucket, window, used_messages,
--         used_recipients, alert, alerts}; bucket and window count from 0, -1 when allowed.
local now = tonumber(ARGV[1])
local rcpts = tonumber(ARGV[2])
local dedupe_ttl = tonumber(ARGV[5])
local alert_memory = tonumber(ARGV[6])
local nb = tonumber(ARGV[7])

-- A resent request gets its first answer and counts nothing.
if ARGV[3] == '1' then
  local seen = redis.call('GET', KEYS[1])
  if seen then
    local f = {}
    for v in string.gmatch(seen, '%-?%d+') do f[#f + 1] = tonumber(v) end
    if #f == 7 and now - f[1] < dedupe_ttl then
      return {1, f[2], 0, f[3], f[4], f[5], f[6], 0, f[7]}
    end
  end
end

-- In RCPT mode the message counts with its first accepted recipient only.
local add_m = 1
if ARGV[4] == '1' then
  local counted = tonumber(redis.call('GET', KEYS[2]) or '')
  if counted and now - counted < dedupe_ttl then add_m = 0 end
end

local function decode(key, member)
  local s, sm, sr, m, r = string.match(member, '^(%d+):(%d+):(%d+):(%d+):(%d+)$')
  if not s then error('mailwarden: malformed entry "' .. member .. '" in ' .. key) end
  return {tonumber(s), tonumber(sm), tonumber(sr), tonumber(m), tonumber(r), member}
end

local function encode(e)
  return string.format('%d:%d:%d:%d:%d', e[1], e[2], e[3], e[4], e[5])
end

-- Check every window of every bucket; nothing is written unless all of them allow.
local longest = {}
local refused = nil
local pos = 8
for b = 1, nb do
  local key = KEYS[2 + 2 * b]
  local nw = tonumber(ARGV[pos])
  pos = pos + 1
  local wins = {}
  longest[b] = 0
  for w = 1, nw do
    wins[w] = {tonumber(ARGV[pos]), tonumber(ARGV[pos + 1]), tonumber(ARGV[pos + 2])}
    pos = pos + 3
    if wins[w][1] > longest[b] then longest[b] = wins[w][1] end
  end
  if nw > 0 and not refused then
    -- Seconds no window can count from now on.
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now - longest[b]))
    local top = redis.call('ZRANGE', key, -1, -1)[1]
    local newest = top and decode(key, top)
    for w = 1, nw do
      local len, lm, lr = wins[w][1], wins[w][2], wins[w][3]
      local um, ur = 0, 0
      if newest then
        local first = redis.call('ZRANGEBYSCORE', key, string.format('(%d', now - len), '+inf',
                                 'LIMIT', 0, 1)[1]
        if first then
          local e = decode(key, first)
          um = newest[2] - (e[2] - e[4])
          ur = newest[3] - (e[3] - e[5])
        end
      end
      if (lm > 0 and um + add_m > lm) or (lr > 0 and ur + rcpts > lr) then
        refused = {b, w, um, ur, len}
        break
      end
    end
  end
end

local result
if refused then
  -- One alert per bucket per window length; the count is what an auto-lock looks at.
  local b, len = refused[1], refused[5]
  local akey = KEYS[3 + 2 * b]
  local a = redis.call('HMGET', akey, 'until', 'count', 'last')
  local alert_until, count, last = tonumber(a[1]), tonumber(a[2]) or 0, tonumber(a[3])
  if last and now - last >= alert_memory then count = 0 end
  local alert = 0
  if not alert_until or now >= alert_until then
    alert = 1
    count = count + 1
    redis.call('HSET', akey, 'until', string.format('%d', now + len), 'count', count,
               'last', string.format('%d', now))
    redis.call('EXPIRE', akey, math.max(alert_memory, len))
  end
  result = {0, 0, 0, b - 1, refused[2] - 1, refused[3], refused[4], alert, count}
else
  local index_ttl = 0
  for b = 1, nb do
    if longest[b] > 0 and (add_m > 0 or rcpts > 0) then
      local key = KEYS[2 + 2 * b]
      -- Usually empty, or this second's entry; later seconds only when clocks differ.
      local later = redis.call('ZRANGEBYSCORE', key, string.format('%d', now), '+inf')
      local first = later[1] and decode(key, later[1])
      local next_later = 1
      if first and first[1] == now then
        redis.call('ZREM', key, first[6])
        first[2], first[3] = first[2] + add_m, first[3] + rcpts
        first[4], first[5] = first[4] + add_m, first[5] + rcpts
        redis.call('ZADD', key, string.format('%d', now), encode(first))
        next_later = 2
      else
        local sm, sr = 0, 0
        if first then
          sm, sr = first[2] - first[4], first[3] - first[5]
        else
          local top = redis.call('ZRANGE', key, -1, -1)[1]
          if top then
            local t = decode(key, top)
            sm, sr = t[2], t[3]
          end
        end
        redis.call('ZADD', key, string.format('%d', now),
                   encode({now, sm + add_m, sr + rcpts, add_m, rcpts}))
      end
      local newest = now
      for i = next_later, #later do
        local e = decode(key, later[i])
        redis.call('ZREM', key, e[6])
        e[2], e[3] = e[2] + add_m, e[3] + rcpts
        redis.call('ZADD', key, string.format('%d', e[1]), encode(e))
        newest = e[1]
      end
      local ttl = longest[b] + newest - now
      redis.call('EXPIRE', key, ttl)
      redis.call('ZADD', KEYS[3], string.format('%d', newest + longest[b]), key)
      if ttl > index_ttl then index_ttl = ttl end
    end
  end
  if index_ttl > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', string.format('%d', now))
    if redis.call('TTL', KEYS[3]) < index_ttl then redis.call('EXPIRE', KEYS[3], index_ttl) end
  end
  if ARGV[4] == '1' and add_m > 0 then
    redis.call('SET', KEYS[2], string.format('%d', now), 'EX', dedupe_ttl)
  end
  result = {0, 1, add_m, -1, -1, 0, 0, 0, 0}
end

if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], string.format('%d %d %d %d %d %d %d', now, result[2], result[4],
             result[5], result[6], result[7], result[9]), 'EX', dedupe_ttl)
end
return result
)lua";

constexpr std::size_t kMaxPool = 1024;
constexpr std::int64_t kMaxTimeoutMs = 60'000;
constexpr std::int64_t kMaxWindow = 3650LL * 86400;  // keeps every second and TTL in range
constexpr std::size_t kMaxBuckets = 64;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// How a command failed, which decides what happens to its connection.
enum class Failure : std::uint8_t {
  none,
  reply,     // Redis answered with an error (or something unexpected): the connection is fine
  noscript,  // EVALSHA of a script Redis does not have (restarted, SCRIPT FLUSH)
  io,        // connection broken (closed, reset)
  timeout,   // no answer in time: the answer may still come, so the connection is dropped
};

std::string ms_text(std::int64_t ms) {
  return std::to_string(ms) + " ms";
}

}  // namespace

struct RedisStore::Impl {
  RedisConfig config;
  RedisStoreOptions options;
  std::string endpoint;
  timeval timeout{};

  std::mutex mu;
  std::condition_variable cv;
  std::vector<redisContext*> idle;
  std::size_t leased = 0;  // connections handed out, or being made
  // After a failed connect: no attempt before retry_after, then one thread tries while the
  // others get the error at once (a blackholed Redis would otherwise cost every request the
  // connect timeout).
  std::chrono::steady_clock::time_point retry_after{};
  std::string connect_error;  // empty once a connect succeeded
  bool probing = false;
  std::string sha;  // of kScript, from SCRIPT LOAD

  std::atomic<std::uint64_t> errors{0};

  std::mutex keys_mu;  // one refresh at a time
  std::atomic<std::size_t> active_keys{0};
  std::chrono::steady_clock::time_point keys_refreshed{};
  bool keys_known = false;

  // A connection lent for one call; returned healthy unless marked otherwise.
  struct Lease {
    Impl* owner = nullptr;
    redisContext* ctx = nullptr;
    bool reused = false;  // came from the idle list (it may have been closed meanwhile)
    Failure failure = Failure::none;
    Lease(Impl* o, redisContext* c, bool r) : owner(o), ctx(c), reused(r) {}
    Lease(Lease&& other) noexcept
        : owner(std::exchange(other.owner, nullptr)),
          ctx(other.ctx),
          reused(other.reused),
          failure(other.failure) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (owner) owner->release(ctx, failure);
    }
  };

  ~Impl() {
    for (redisContext* c : idle) redisFree(c);
  }

  Error error(std::string_view what) const {
    return Error{"redis " + endpoint + ": " + std::string(what)};
  }

  Result<redisContext*> connect() {
    redisContext* c = config.unix_socket.empty()
                          ? redisConnectWithTimeout(config.host.c_str(), config.port, timeout)
                          : redisConnectUnixWithTimeout(config.unix_socket.c_str(), timeout);
    if (c == nullptr) return error("connect: cannot allocate a connection");
    if (c->err != 0) {
      Error e = error(std::string("connect: ") + c->errstr);
      redisFree(c);
      return e;
    }
    if (redisSetTimeout(c, timeout) != REDIS_OK) {
      Error e = error(std::string("connect: cannot set the timeout: ") + c->errstr);
      redisFree(c);
      return e;
    }
    Failure f = Failure::none;
    if (!config.password.empty()) {
      const std::string_view args[] = {"AUTH", config.password};
      if (auto r = command(c, args, f); !r) {
        redisFree(c);
        return r.error();
      }
    }
    if (config.database != 0) {
      const std::string db = std::to_string(config.database);
      const std::string_view args[] = {"SELECT", db};
      if (auto r = command(c, args, f); !r) {
        redisFree(c);
        return r.error();
      }
    }
    return c;
  }

  // Errors name the command only: AUTH's argument is the password.
  Result<ReplyPtr> command(redisContext* c, std::span<const std::string_view> args,
                           Failure& failure) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    const std::string name(args.front());
    redisReply* raw = nullptr;
    int saved_errno = 0;
    {
      // hiredis writes with write(2): a connection Redis closed would raise SIGPIPE.
      SigpipeGuard guard;
      errno = 0;
      raw = static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
      saved_errno = errno;
      if (raw == nullptr && saved_errno == EPIPE) guard.note_epipe();
    }
    if (raw == nullptr) {
      if (c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
        failure = Failure::timeout;
        return error(name + ": no answer within " + ms_text(config.timeout_ms) + " (timeout)");
      }
      failure = Failure::io;
      return error(name + ": " + (c->errstr[0] != 0 ? c->errstr : "connection failed"));
    }
    ReplyPtr reply(raw);
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string text(reply->str, reply->len);
      failure = text.starts_with("NOSCRIPT") ? Failure::noscript : Failure::reply;
      return error(name + ": " + text);
    }
    return reply;
  }

  Result<Lease> acquire() {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config.timeout_ms);
    std::unique_lock lock(mu);
    for (;;) {
      if (!idle.empty()) {
        redisContext* c = idle.back();
        idle.pop_back();
        ++leased;
        return Lease(this, c, true);
      }
      if (leased < config.pool) {
        const auto now = std::chrono::steady_clock::now();
        if (now < retry_after) {
          const auto left = std::chrono::ceil<std::chrono::milliseconds>(retry_after - now).count();
          return Error{connect_error + " (next attempt in " + ms_text(left) + ")"};
        }
        if (probing) return Error{connect_error + " (another attempt is under way)"};
        const bool probe = !connect_error.empty();
        probing = probe;
        ++leased;
        lock.unlock();
        auto c = connect();
        lock.lock();
        if (probe) probing = false;
        if (!c) {
          --leased;
          retry_after = std::chrono::steady_clock::now() + options.retry_backoff;
          connect_error = c.error().message;
          cv.notify_one();
          return c.error();
        }
        connect_error.clear();
        return Lease(this, *c, false);
      }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
          leased >= config.pool) {
        return error("no free connection within " + ms_text(config.timeout_ms) + " (all " +
                     std::to_string(config.pool) + " busy)");
      }
    }
  }

  void release(redisContext* c, Failure failure) {
    const bool healthy =
        failure == Failure::none || failure == Failure::reply || failure == Failure::noscript;
    std::vector<redisContext*> dropped;
    {
      std::lock_guard lock(mu);
      --leased;
      if (healthy) {
        idle.push_back(c);
      } else {
        dropped.push_back(c);
        // A closed connection usually means Redis restarted: the idle ones are dead too.
        if (failure == Failure::io) {
          dropped.insert(dropped.end(), idle.begin(), idle.end());
          idle.clear();
        }
      }
    }
    if (healthy) {
      cv.notify_one();
    } else {
      for (redisContext* d : dropped) redisFree(d);
      cv.notify_all();
    }
  }

  std::string script_sha() {
    std::lock_guard lock(mu);
    return sha;
  }

  // EVALSHA, loading the script first when its SHA is not known yet and sending it whole when
  // Redis has lost it.
  Result<ReplyPtr> eval(Lease& lease, std::vector<std::string_view>& args) {
    std::string known = script_sha();
    if (known.empty()) {
      const std::string_view load[] = {"SCRIPT", "LOAD", kScript};
      auto r = command(lease.ctx, load, lease.failure);
      if (!r) return r.error();
      if ((*r)->type != REDIS_REPLY_STRING) {
        lease.failure = Failure::reply;
        return error("SCRIPT LOAD: unexpected reply");
      }
      known.assign((*r)->str, (*r)->len);
      std::lock_guard lock(mu);
      sha = known;
    }
    args[0] = "EVALSHA";
    args[1] = known;
    auto r = command(lease.ctx, args, lease.failure);
    if (r || lease.failure != Failure::noscript) return r;
    lease.failure = Failure::none;
    args[0] = "EVAL";
    args[1] = kScript;
    return command(lease.ctx, args, lease.failure);
  }

  Result<ChargeResult> decode(const redisReply& r) const {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 9) {
      return error("EVALSHA: unexpected reply (type " + std::to_string(r.type) + ", " +
                   std::to_string(r.elements) + " elements)");
    }
    long long v[9];
    for (std::size_t i = 0; i < 9; ++i) {
      if (r.element[i]->type != REDIS_REPLY_INTEGER) {
        return error("EVALSHA: unexpected reply (element " + std::to_string(i) +
                     " is not an integer)");
      }
      v[i] = r.element[i]->integer;
    }
    ChargeResult c;
    c.duplicate = v[0] != 0;
    c.allowed = v[1] != 0;
    c.message_counted = v[2] != 0;
    c.bucket = static_cast<int>(v[3]);
    c.window = static_cast<int>(v[4]);
    c.used_messages = static_cast<std::uint64_t>(v[5] < 0 ? 0 : v[5]);
    c.used_recipients = static_cast<std::uint64_t>(v[6] < 0 ? 0 : v[6]);
    c.alert = v[7] != 0;
    c.alerts = static_cast<std::uint32_t>(v[8] < 0 ? 0 : v[8]);
    return c;
  }

  // The script's KEYS and ARGV after two slots for the command and the script.
  Result<std::vector<std::string>> arguments(const ChargeRequest& q,
                                             std::span<const Bucket> buckets) const {
    if (q.now < 0) return error("charge: now " + std::to_string(q.now) + " is negative");
    if (buckets.size() > kMaxBuckets) {
      return error("charge: " + std::to_string(buckets.size()) + " buckets (at most " +
                   std::to_string(kMaxBuckets) + ")");
    }
    std::vector<std::string> a;
    a.reserve(2 + 3 + 2 * buckets.size() + 7 + buckets.size() * 7);
    a.emplace_back();
    a.emplace_back();
    a.push_back(std::to_string(3 + 2 * buckets.size()));
    a.push_back(config.prefix + "dd:" + q.dedupe_key);
    a.push_back(config.prefix + "msg:" + q.message_key);
    a.push_back(config.prefix + "keys");
    for (const Bucket& b : buckets) {
      a.push_back(config.prefix + "w:" + b.key);
      a.push_back(config.prefix + "al:" + b.key);
    }
    a.push_back(std::to_string(q.now));
    a.push_back(std::to_string(q.recipients));
    a.push_back(q.dedupe_key.empty() ? "0" : "1");
    a.push_back(q.message_key.empty() ? "0" : "1");
    a.push_back(std::to_string(kDedupeSeconds));
    a.push_back(std::to_string(kAlertMemorySeconds));
    a.push_back(std::to_string(buckets.size()));
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      const Bucket& b = buckets[i];
      a.push_back(std::to_string(b.windows.size()));
      for (std::size_t j = 0; j < b.windows.size(); ++j) {
        const WindowLimit& w = b.windows[j];
        if (w.window <= 0 || w.window > kMaxWindow) {
          return error("charge: bucket " + std::to_string(i) + " '" + b.key + "' window " +
                       std::to_string(j) + ": length " + std::to_string(w.window) +
                       " s is out of range (1 s to 3650 days)");
        }
        a.push_back(std::to_string(w.window));
        a.push_back(std::to_string(w.messages));
        a.push_back(std::to_string(w.recipients));
      }
    }
    return a;
  }

  Result<ChargeResult> charge(const ChargeRequest& q, std::span<const Bucket> buckets) {
    auto built = arguments(q, buckets);
    if (!built) return built.error();
    std::vector<std::string_view> args(built->begin(), built->end());
    for (int attempt = 0;; ++attempt) {
      auto lease = acquire();
      if (!lease) return lease.error();
      auto reply = eval(*lease, args);
      if (reply) {
        auto result = decode(**reply);
        if (!result) lease->failure = Failure::reply;
        return result;
      }
      // An idle connection may have been closed by a Redis restart (the script did not run):
      // one fresh try. Not after a timeout (that would double the wait) nor on a new
      // connection. Should Redis have died after running the script, the retry meets the
      // dedupe key and answers as a duplicate: nothing is counted twice.
      if (lease->failure == Failure::io && lease->reused && attempt == 0) continue;
      return reply.error();
    }
  }

  Result<std::size_t> count_active_keys(std::int64_t now) {
    auto lease = acquire();
    if (!lease) return lease.error();
    const std::string key = config.prefix + "keys";
    const std::string min = "(" + std::to_string(now);
    const std::string_view args[] = {"ZCOUNT", key, min, "+inf"};
    auto r = command(lease->ctx, args, lease->failure);
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER || (*r)->integer < 0) {
      lease->failure = Failure::reply;
      return error("ZCOUNT: unexpected reply");
    }
    return static_cast<std::size_t>((*r)->integer);
  }
};

RedisStore::RedisStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisStore::~RedisStore() = default;

Result<std::unique_ptr<RedisStore>> RedisStore::open(const RedisConfig& config,
                                                     const RedisStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  if (!config.unix_socket.empty()) {
    impl->endpoint = "unix:" + config.unix_socket;
    if (config.unix_socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return impl->error("socket path is longer than " +
                         std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
    }
  } else {
    impl->endpoint =
        (config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host) + ":" +
        std::to_string(config.port);
    if (config.host.empty()) return impl->error("no host");
    if (config.port < 1 || config.port > 65535) {
      return impl->error("port " + std::to_string(config.port) + " is out of range (1 to 65535)");
    }
  }
  if (config.pool < 1 || config.pool > kMaxPool) {
    return impl->error("pool of " + std::to_string(config.pool) +
                       " connections is out of range (1 to " + std::to_string(kMaxPool) + ")");
  }
  if (config.timeout_ms < 1 || config.timeout_ms > kMaxTimeoutMs) {
    return impl->error("timeout " + ms_text(config.timeout_ms) + " is out of range (1 ms to " +
                       ms_text(kMaxTimeoutMs) + ")");
  }
  if (config.database < 0) {
    return impl->error("database " + std::to_string(config.database) + " is negative");
  }
  if (options.retry_backoff.count() < 0 || options.active_keys_refresh.count() < 0) {
    return impl->error("negative back-off or refresh interval");
  }
  impl->timeout.tv_sec = static_cast<time_t>(config.timeout_ms / 1000);
  impl->timeout.tv_usec = static_cast<suseconds_t>((config.timeout_ms % 1000) * 1000);
  return std::unique_ptr<RedisStore>(new RedisStore(std::move(impl)));
}

Result<ChargeResult> RedisStore::charge(const ChargeRequest& request,
                                        std::span<const Bucket> buckets) {
  auto r = impl_->charge(request, buckets);
  if (!r) impl_->errors.fetch_add(1, std::memory_order_relaxed);
  return r;
}

std::size_t RedisStore::active_keys() const {
  Impl& s = *impl_;
  std::unique_lock lock(s.keys_mu, std::try_to_lock);
  if (!lock) return s.active_keys.load(std::memory_order_relaxed);  // another thread asks
  const auto now = std::chrono::steady_clock::now();
  if (s.keys_known && now - s.keys_refreshed < s.options.active_keys_refresh) {
    return s.active_keys.load(std::memory_order_relaxed);
  }
  // Failures wait for the next refresh too: metrics scrapes must not hammer a dead Redis.
  s.keys_refreshed = now;
  s.keys_known = true;
  const auto wall = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  if (auto n = s.count_active_keys(wall)) s.active_keys.store(*n, std::memory_order_relaxed);
  return s.active_keys.load(std::memory_order_relaxed);
}

Result<std::size_t> RedisStore::count_active_keys(std::int64_t now) const {
  return impl_->count_active_keys(now);
}

std::string_view RedisStore::lua_script() {
  return kScript;
}

std::uint64_t RedisStore::errors() const {
  return impl_->errors.load(std::memory_order_relaxed);
}

const std::string& RedisStore::endpoint() const {
  return impl_->endpoint;
}

}  // namespace mw::policyd
