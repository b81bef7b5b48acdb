// RedisSync implementation: process-local count tables, the background round, hiredis I/O and the Lua
// scripts. See redis_sync.h for the model.
#include "quota/redis_sync.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace guard::quota {

namespace {

// One sync round of one node, for all its counted keys, in one call (one Redis Cluster slot: every key below
// carries the hash tag {<ns>}).
//   KEYS[1]      the live-node sorted set (member: node id, score: Redis ms of its last round)
//   KEYS[1 + p]  the bucket hash of period p (1 = second ... 6 = year): field = key hex, value = TAT in µs of
//                Redis' TIME. Fields starting with '_' are bookkeeping: _exp (the hash's expiry, Redis ms),
//                _sweep (last sweep, ms), _cur (sweep cursor), _new (fields created since the last sweep).
//   ARGV         node id, live ttl ms, housekeeping (0/1), then per counted key:
//                field, count, window count, then per window: period index p, interval µs.
// Adds each key's count to the GCRA bucket of each of its windows, never refusing (the requests already
// happened on some node; counting them all is what charges overshoot back), and returns
// {live nodes, owed µs of every window of every key, in ARGV order}.
// Commands: TIME, ZADD, ZCOUNT, and per period touched one HMGET and one HSET. Housekeeping (the caller asks at
// most once a second): ZREMRANGEBYSCORE + PEXPIRE on the node set. Per bucket hash: PEXPIRE only when a
// bucket's debt outlives the hash's expiry (the expiry is then pushed 60 s further), and at most once a second
// (cluster-wide) a bounded HSCAN + HDEL that removes full buckets (TAT <= now: the same as an expired key).
// Microseconds keep every number below 2^53, where Lua's doubles are exact.
constexpr char kRoundScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now / 1000)
local ttl = tonumber(ARGV[2])
local added = redis.call('ZADD', KEYS[1], now_ms, ARGV[1])
if ARGV[3] == '1' then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - ttl) end
if ARGV[3] == '1' or added == 1 then redis.call('PEXPIRE', KEYS[1], ttl * 2) end
local live = redis.call('ZCOUNT', KEYS[1], string.format('(%d', now_ms - ttl), '+inf')

local per = {}
local i = 4
while i <= #ARGV do
  local nw = tonumber(ARGV[i + 2])
  for w = 1, nw do
    local p = tonumber(ARGV[i + 1 + 2 * w])
    local g = per[p]
    if not g then g = {list = {}, tat = {}, touched = {}}; per[p] = g end
    if not g.touched[ARGV[i]] then g.touched[ARGV[i]] = true; g.list[#g.list + 1] = ARGV[i] end
  end
  i = i + 3 + 2 * nw
end
for p, g in pairs(per) do
  local n = #g.list
  g.list[n + 1] = '_exp'; g.list[n + 2] = '_sweep'; g.list[n + 3] = '_cur'; g.list[n + 4] = '_new'
  local v = redis.call('HMGET', KEYS[1 + p], unpack(g.list))
  g.created = 0
  for j = 1, n do
    if v[j] then g.tat[g.list[j]] = tonumber(v[j]) else g.tat[g.list[j]] = 0; g.created = g.created + 1 end
  end
  g.exp = tonumber(v[n + 1] or '0'); g.sweep = tonumber(v[n + 2] or '0')
  g.cur = v[n + 3] or '0'; g.new = tonumber(v[n + 4] or '0')
  g.n = n; g.need = 0
end

local out = {live}
i = 4
while i <= #ARGV do
  local f = ARGV[i]
  local count = tonumber(ARGV[i + 1])
  local nw = tonumber(ARGV[i + 2])
  for w = 1, nw do
    local g = per[tonumber(ARGV[i + 1 + 2 * w])]
    local tat = g.tat[f]
    if tat < now then tat = now end
    tat = tat + count * tonumber(ARGV[i + 2 + 2 * w])
    g.tat[f] = tat
    if tat - now > g.need then g.need = tat - now end
    out[#out + 1] = tat - now
  end
  i = i + 3 + 2 * nw
end

for p, g in pairs(per) do
  local key = KEYS[1 + p]
  local args = {}
  for j = 1, g.n do
    local f = g.list[j]
    args[#args + 1] = f; args[#args + 1] = string.format('%d', g.tat[f])
  end
  local need_ms = math.floor(g.need / 1000) + 1000
  local new_exp = nil
  if now_ms + need_ms > g.exp then new_exp = now_ms + need_ms + 60000 end
  local sweep = now_ms - g.sweep >= 1000
  local fresh = g.new + g.created
  if new_exp then args[#args + 1] = '_exp'; args[#args + 1] = string.format('%d', new_exp) end
  if sweep then
    local c = redis.call('HSCAN', key, g.cur, 'COUNT', math.min(20000, math.max(1000, 2 * fresh)))
    local dels = {}
    for j = 1, #c[2], 2 do
      local f = c[2][j]
      if string.sub(f, 1, 1) ~= '_' and not g.touched[f] and tonumber(c[2][j + 1]) <= now then dels[#dels + 1] = f end
    end
    for j = 1, #dels, 4000 do
      redis.call('HDEL', key, unpack(dels, j, math.min(#dels, j + 3999)))
    end
    args[#args + 1] = '_sweep'; args[#args + 1] = string.format('%d', now_ms)
    args[#args + 1] = '_cur'; args[#args + 1] = c[1]
    args[#args + 1] = '_new'; args[#args + 1] = '0'
  elseif g.created > 0 then
    args[#args + 1] = '_new'; args[#args + 1] = string.format('%d', fresh)
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
  if new_exp then redis.call('PEXPIRE', key, new_exp - now_ms) end
end
return out
)lua";

constexpr size_t kTableSlots = 8192;   // distinct keys a worker can count per round
constexpr size_t kTableProbe = 32;
constexpr size_t kMaxBacklog = 65536;  // keys kept across failed rounds
// Bucket windows per script call: keeps Lua's unpack() below its 8000-value stack limit and bounds the time
// one call holds Redis. A round is ceil(windows / 2000) calls: one, unless a round carries over 2000 windows.
constexpr size_t kMaxWindowsPerCall = 2000;
constexpr uint64_t kHousekeepingNs = kNsPerSecond;  // node-set cleanup at most once a second per node

// Incremented in every forked child, so that a process knows its sync thread (if any) was its parent's.
std::atomic<uint64_t> g_fork_gen{0};
std::once_flag g_atfork_once;

uint64_t UnixMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond + static_cast<uint64_t>(ts.tv_nsec);
}

timeval Tv(uint32_t ms) { return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000) * 1000}; }


struct Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r != nullptr) freeReplyObject(r);
  }
};

}  // namespace

// One counted key. `lo` is the claim word (key.lo with bit 0 set, so 0 means empty); the key itself is in
// key_lo/hi, written before `ready` is published.
struct RedisSync::Entry {
  std::atomic<uint64_t> lo{0};
  std::atomic<uint32_t> ready{0};
  uint64_t key_lo = 0;
  uint64_t hi = 0;
  const Tier* tier = nullptr;
  std::atomic<uint64_t> count{0};
};

struct RedisSync::Table {
  Entry entries[kTableSlots];
};

absl::StatusOr<std::unique_ptr<RedisSync>> RedisSync::Create(Options options, const BucketTable* table,
                                                              std::string ns) {
  if (table == nullptr) return absl::InvalidArgumentError("redis sync needs a bucket table");
  for (char& c : ns) {
    if (c == '{' || c == '}') c = '_';  // the namespace sits inside the hash tag
  }
  std::call_once(g_atfork_once, [] {
    pthread_atfork(nullptr, nullptr, [] { g_fork_gen.fetch_add(1, std::memory_order_relaxed); });
  });
  return std::unique_ptr<RedisSync>(new RedisSync(std::move(options), table, std::move(ns)));
}

RedisSync::RedisSync(Options options, const BucketTable* table, std::string ns)
    : options_(std::move(options)), table_(table), ns_(std::move(ns)) {
  nodes_key_ = absl::StrCat(options_.config.prefix, ":{", ns_, "}:nodes");
  for (size_t p = 0; p < kPeriodCount; ++p) {
    const std::string_view name = PeriodName(static_cast<Period>(p));
    hash_keys_[p] = absl::StrCat(options_.config.prefix, ":{", ns_, "}:", absl::string_view(name.data(), name.size()));
  }
  tables_[0] = std::make_unique<Table>();
  tables_[1] = std::make_unique<Table>();
  fallback_nodes_.store(std::max<uint32_t>(1, options_.config.expected_nodes));
  status_.on_failure = options_.config.on_failure;
}

RedisSync::~RedisSync() {
  if (thread_ != nullptr) {
    if (thread_fork_gen_.load() == g_fork_gen.load()) {
      {
        std::lock_guard<std::mutex> lk(stop_mu_);
        stop_ = true;
      }
      stop_cv_.notify_all();
      thread_->join();
    } else {
      (void)thread_.release();  // the parent's thread: nothing to join in this process
    }
  }
  Disconnect();
}

uint64_t RedisSync::CurrentForkGen() { return g_fork_gen.load(std::memory_order_relaxed); }

void RedisSync::Record(const Key128& key, const Tier* tier, uint64_t cost) {
  EnsureStarted();
  // Enter the current table (and make sure it did not flip while entering).
  uint32_t idx;
  for (;;) {
    idx = current_.load(std::memory_order_acquire);
    inflight_[idx].fetch_add(1, std::memory_order_seq_cst);
    if (current_.load(std::memory_order_seq_cst) == idx) break;
    inflight_[idx].fetch_sub(1, std::memory_order_release);
  }
  Table& t = *tables_[idx];
  const uint64_t lo = key.lo | 1;
  bool counted = false;
  for (size_t i = 0; i < kTableProbe && !counted; ++i) {
    Entry& e = t.entries[(key.lo + i) & (kTableSlots - 1)];
    uint64_t cur = e.lo.load(std::memory_order_acquire);
    if (cur == 0) {
      uint64_t expected = 0;
      if (e.lo.compare_exchange_strong(expected, lo, std::memory_order_acq_rel)) {
        e.key_lo = key.lo;
        e.hi = key.hi;
        e.tier = tier;
        e.ready.store(1, std::memory_order_release);
        e.count.fetch_add(cost, std::memory_order_relaxed);
        counted = true;
        break;
      }
      cur = expected;
    }
    if (cur != lo) continue;
    // Claimed by another thread of this process a moment ago: it publishes within a few stores.
    while (e.ready.load(std::memory_order_acquire) == 0) {
    }
    if (e.key_lo == key.lo && e.hi == key.hi && e.tier == tier) {
      e.count.fetch_add(cost, std::memory_order_relaxed);
      counted = true;
    }
  }
  if (!counted) dropped_.fetch_add(cost, std::memory_order_relaxed);
  inflight_[idx].fetch_sub(1, std::memory_order_release);
}

void RedisSync::StartThread() {
  std::lock_guard<std::mutex> lk(start_mu_);
  const uint64_t gen = g_fork_gen.load();
  if (thread_fork_gen_.load() == gen) return;
  if (thread_ != nullptr) (void)thread_.release();  // inherited from the parent across fork
  // The thread must never take a signal meant for nginx: block everything while creating it (it inherits the
  // mask), then restore ours.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::make_unique<std::thread>([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  thread_fork_gen_.store(gen);
}

void RedisSync::Run() {
  pthread_setname_np(pthread_self(), "guard-qsync");  // shows in top/gdb; the kernel keeps 15 bytes
  uint32_t backoff_ms = options_.config.interval_ms;
  std::unique_lock<std::mutex> lk(stop_mu_);
  while (!stop_) {
    lk.unlock();
    const bool ok = Round().ok();
    lk.lock();
    // After a failure wait longer (up to 5 s) so a dead Redis is not hammered; back to the interval on success.
    backoff_ms = ok ? options_.config.interval_ms : std::min<uint32_t>(backoff_ms * 2, 5000);
    stop_cv_.wait_for(lk, std::chrono::milliseconds(backoff_ms), [this] { return stop_; });
  }
}

absl::Status RedisSync::SyncOnce() {
  if (options_.background) return absl::FailedPreconditionError("SyncOnce with a background thread running");
  return Round();
}

void RedisSync::Drain(std::vector<Pending>* out) {
  const uint32_t old = current_.load(std::memory_order_acquire);
  current_.store(old ^ 1, std::memory_order_seq_cst);
  // Writers that entered the old table before the flip finish within a few instructions.
  while (inflight_[old].load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  Table& t = *tables_[old];
  for (Entry& e : t.entries) {
    const uint64_t lo = e.lo.load(std::memory_order_acquire);
    if (lo == 0) continue;
    const uint64_t n = e.count.exchange(0, std::memory_order_acq_rel);
    if (n > 0) out->push_back(Pending{Key128{e.key_lo, e.hi}, e.tier, n});
    e.ready.store(0, std::memory_order_relaxed);
    e.tier = nullptr;
    e.key_lo = e.hi = 0;
    e.lo.store(0, std::memory_order_release);
  }
}

void RedisSync::Disconnect() {
  if (conn_ != nullptr) redisFree(conn_);
  conn_ = nullptr;
}

absl::Status RedisSync::Connect() {
  const SyncConfig& c = options_.config;
  conn_ = redisConnectWithTimeout(c.host.c_str(), c.port, Tv(c.timeout_ms));
  if (conn_ == nullptr) return absl::UnavailableError("redis: out of memory");
  if (conn_->err) {
    auto st = absl::UnavailableError(absl::StrCat("redis connect ", c.host, ":", c.port, ": ", conn_->errstr));
    Disconnect();
    return st;
  }
  redisSetTimeout(conn_, Tv(c.timeout_ms));
  auto command = [this](std::vector<std::string> args) -> absl::StatusOr<std::string> {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply rep;
    rep.r = static_cast<redisReply*>(redisCommandArgv(conn_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (rep.r == nullptr) return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", conn_->errstr));
    if (rep.r->type == REDIS_REPLY_ERROR) return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", rep.r->str));
    return rep.r->type == REDIS_REPLY_STRING || rep.r->type == REDIS_REPLY_STATUS ? std::string(rep.r->str, rep.r->len)
                                                                                    : std::string();
  };
  absl::StatusOr<std::string> r;
  if (!c.password.empty() && !(r = command({"AUTH", c.password})).ok()) return Disconnect(), r.status();
  if (c.database != 0 && !(r = command({"SELECT", std::to_string(c.database)})).ok()) return Disconnect(), r.status();
  if (!(r = command({"SCRIPT", "LOAD", kRoundScript})).ok()) return Disconnect(), r.status();
  round_sha_ = *r;
  housekeeping_due_ = true;  // a fresh connection (maybe a restarted Redis): clean up and set TTLs at once
  return absl::OkStatus();
}

void RedisSync::Fail(const absl::Status& st) {
  healthy_.store(false, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lk(status_mu_);
  status_.state = SyncState::kUnhealthy;
  ++status_.rounds_failed;
  status_.last_error = std::string(st.message());
}

absl::Status RedisSync::Round() {
  std::vector<Pending> batch;
  batch.swap(backlog_);
  Drain(&batch);

  // Keep the counts of a failed round for the next one (bounded: during a long outage the oldest go).
  auto keep = [&](const absl::Status& st) {
    if (batch.size() > kMaxBacklog) {
      uint64_t lost = 0;
      for (size_t i = kMaxBacklog; i < batch.size(); ++i) lost += batch[i].count;
      batch.resize(kMaxBacklog);
      dropped_.fetch_add(lost, std::memory_order_relaxed);
    }
    backlog_.swap(batch);
    Disconnect();
    Fail(st);
    return st;
  };

  if (conn_ == nullptr) {
    if (auto st = Connect(); !st.ok()) return keep(st);
  }

  // One script call carries every counted key (all windows, all periods) and the heartbeat; only a round with
  // more than kMaxWindowsPerCall windows is split, into calls pipelined in one round trip. All keys share the
  // hash tag {<ns>}: one Redis Cluster slot per plugin instance.
  const uint32_t ttl_ms = std::max<uint32_t>(3 * options_.config.interval_ms, 1000);
  const uint64_t mono = MonoNs();
  const bool housekeeping = housekeeping_due_ || mono - last_housekeeping_ns_ >= kHousekeepingNs;
  std::vector<std::pair<size_t, size_t>> calls;  // [begin, end) of batch
  {
    size_t begin = 0, windows = 0;
    for (size_t k = 0; k < batch.size(); ++k) {
      const size_t n = batch[k].tier->windows.size();
      if (k > begin && windows + n > kMaxWindowsPerCall) {
        calls.emplace_back(begin, k);
        begin = k;
        windows = 0;
      }
      windows += n;
    }
    calls.emplace_back(begin, batch.size());  // also the heartbeat-only call of an idle round
  }
  const std::string ttl = std::to_string(ttl_ms);
  std::vector<std::string> args;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (size_t c = 0; c < calls.size(); ++c) {
    args.clear();
    args.push_back("EVALSHA");
    args.push_back(round_sha_);
    args.push_back(std::to_string(1 + kPeriodCount));
    args.push_back(nodes_key_);
    for (const std::string& h : hash_keys_) args.push_back(h);
    args.push_back(options_.node_id);
    args.push_back(ttl);
    args.push_back(housekeeping && c == 0 ? "1" : "0");
    for (size_t k = calls[c].first; k < calls[c].second; ++k) {
      const Pending& p = batch[k];
      char hex[32];
      ToHex(p.key, hex);
      args.emplace_back(hex, 32);
      args.push_back(std::to_string(p.count));
      const size_t n = p.tier->windows.size();
      args.push_back(std::to_string(n));
      for (size_t i = 0; i < n; ++i) {
        const Rate& r = p.tier->rates[i];
        const uint64_t interval_us = r.interval_ns / 1000 + (r.interval_ns % 1000 != 0);
        args.push_back(std::to_string(1 + static_cast<size_t>(p.tier->windows[i].period)));
        args.push_back(std::to_string(interval_us));
      }
    }
    argv.clear();
    lens.clear();
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(conn_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }

  // Replies arrive in order; the local buckets are raised as they come.
  std::vector<Pending> unsent;
  std::string error;
  const uint64_t now = MonoNs();
  uint64_t synced = 0;
  uint32_t nodes = 0;
  for (size_t c = 0; c < calls.size(); ++c) {
    const auto [begin, end] = calls[c];
    Reply rep;
    if (redisGetReply(conn_, reinterpret_cast<void**>(&rep.r)) != REDIS_OK || rep.r == nullptr) {
      // The connection broke mid-round: whether the rest was applied is unknown. Re-sending could count twice,
      // dropping could count never; we re-send (over-counting only makes the cluster stricter).
      unsent.insert(unsent.end(), batch.begin() + static_cast<std::ptrdiff_t>(begin), batch.end());
      error = absl::StrCat("redis: ", conn_->errstr);
      break;
    }
    size_t expected = 1;
    for (size_t k = begin; k < end; ++k) expected += batch[k].tier->windows.size();
    if (rep.r->type != REDIS_REPLY_ARRAY || rep.r->elements != expected) {
      // NOSCRIPT (Redis restarted): these keys were not applied; retry them after reconnecting. Another error
      // reply is treated the same way (if part of it was applied, re-sending over-counts: stricter, never looser).
      unsent.insert(unsent.end(), batch.begin() + static_cast<std::ptrdiff_t>(begin),
                    batch.begin() + static_cast<std::ptrdiff_t>(end));
      if (error.empty()) error = rep.r->type == REDIS_REPLY_ERROR ? std::string("redis: ") + rep.r->str : "redis: bad reply";
      continue;
    }
    if (rep.r->element[0]->type == REDIS_REPLY_INTEGER) nodes = static_cast<uint32_t>(rep.r->element[0]->integer);
    size_t e = 1;
    for (size_t k = begin; k < end; ++k) {
      const size_t n = batch[k].tier->windows.size();
      uint64_t owed[kSlotWindows] = {};
      for (size_t i = 0; i < n; ++i, ++e) {
        const long long us = rep.r->element[e]->type == REDIS_REPLY_INTEGER ? rep.r->element[e]->integer : 0;
        owed[i] = us > 0 ? static_cast<uint64_t>(us) * 1000 : 0;
      }
      table_->RaiseTo(batch[k].key, n, now, owed);
      ++synced;
    }
  }
  if (!error.empty()) {
    batch.swap(unsent);
    return keep(absl::UnavailableError(error));
  }
  if (housekeeping) {
    housekeeping_due_ = false;
    last_housekeeping_ns_ = mono;
  }

  if (nodes > 0) fallback_nodes_.store(nodes, std::memory_order_relaxed);
  healthy_.store(true, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lk(status_mu_);
  status_.state = SyncState::kHealthy;
  status_.active_nodes = nodes;
  ++status_.rounds_ok;
  status_.keys_synced += synced;
  status_.last_ok_unix_ms = UnixMs();
  return absl::OkStatus();
}

SyncStatus RedisSync::Status() const {
  std::lock_guard<std::mutex> lk(status_mu_);
  SyncStatus s = status_;
  s.counts_dropped = dropped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace guard::quota
