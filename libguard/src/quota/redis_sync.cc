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

// Adds ARGV[1] tokens to the GCRA bucket of every window in KEYS and returns how far each is owed beyond Redis'
// now, in microseconds. Window i has interval ARGV[2i] and tau ARGV[2i+1] (microseconds). Microseconds keep every
// number below 2^53, where Lua's doubles are exact. Nothing is refused here: the requests already happened on
// some node, and counting them all is what charges overshoot back.
constexpr char kBucketScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local count = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local tau = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  if count > 0 then
    tat = tat + count * interval
    redis.call('SET', key, string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
  end
  out[i] = tat - now
end
return out
)lua";

// Marks ARGV[1] (the node id) alive, forgets nodes silent for ARGV[2] ms, returns the live count.
constexpr char kHeartbeatScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
)lua";

constexpr size_t kTableSlots = 8192;   // distinct keys a worker can count per round
constexpr size_t kTableProbe = 32;
constexpr size_t kMaxBacklog = 65536;  // keys kept across failed rounds

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

std::string_view PeriodOf(const Tier& t, size_t i) { return PeriodName(t.windows[i].period); }

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
  if (!(r = command({"SCRIPT", "LOAD", kBucketScript})).ok()) return Disconnect(), r.status();
  bucket_sha_ = *r;
  if (!(r = command({"SCRIPT", "LOAD", kHeartbeatScript})).ok()) return Disconnect(), r.status();
  heartbeat_sha_ = *r;
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

  // One pipelined round trip: the heartbeat, then one script call per key (one hash slot each).
  const uint32_t ttl_ms = std::max<uint32_t>(3 * options_.config.interval_ms, 1000);
  {
    const std::string ttl = std::to_string(ttl_ms);
    const char* argv[] = {"EVALSHA", heartbeat_sha_.c_str(), "1", nodes_key_.c_str(), options_.node_id.c_str(),
                          ttl.c_str()};
    const size_t lens[] = {7, heartbeat_sha_.size(), 1, nodes_key_.size(), options_.node_id.size(), ttl.size()};
    redisAppendCommandArgv(conn_, 6, argv, lens);
  }
  for (const Pending& p : batch) {
    char hex[32];
    ToHex(p.key, hex);
    const size_t n = p.tier->windows.size();
    std::vector<std::string> args;
    args.reserve(4 + 3 * n);
    args.push_back("EVALSHA");
    args.push_back(bucket_sha_);
    args.push_back(std::to_string(n));
    for (size_t i = 0; i < n; ++i) {
      args.push_back(absl::StrCat(options_.config.prefix, ":{", ns_, ":", absl::string_view(hex, 32), "}:",
                                  absl::string_view(PeriodOf(*p.tier, i).data(), PeriodOf(*p.tier, i).size())));
    }
    args.push_back(std::to_string(p.count));
    for (size_t i = 0; i < n; ++i) {
      const Rate& r = p.tier->rates[i];
      const uint64_t interval_us = r.interval_ns / 1000 + (r.interval_ns % 1000 != 0);
      args.push_back(std::to_string(interval_us));
      args.push_back(std::to_string(interval_us * r.burst));
    }
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(conn_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }

  Reply hb;
  if (redisGetReply(conn_, reinterpret_cast<void**>(&hb.r)) != REDIS_OK || hb.r == nullptr) {
    return keep(absl::UnavailableError(absl::StrCat("redis: ", conn_->errstr)));
  }
  if (hb.r->type == REDIS_REPLY_ERROR) return keep(absl::UnavailableError(absl::StrCat("redis: ", hb.r->str)));
  const uint32_t nodes = hb.r->type == REDIS_REPLY_INTEGER ? static_cast<uint32_t>(hb.r->integer) : 0;

  // Replies arrive in order; the local buckets are raised as they come.
  std::vector<Pending> unsent;
  std::string error;
  const uint64_t now = MonoNs();
  uint64_t synced = 0;
  for (size_t k = 0; k < batch.size(); ++k) {
    Reply rep;
    if (redisGetReply(conn_, reinterpret_cast<void**>(&rep.r)) != REDIS_OK || rep.r == nullptr) {
      // The connection broke mid-batch: whether the rest was applied is unknown. Re-sending could count twice,
      // dropping could count never; we re-send (over-counting only makes the cluster stricter).
      unsent.assign(batch.begin() + static_cast<std::ptrdiff_t>(k), batch.end());
      error = absl::StrCat("redis: ", conn_->errstr);
      break;
    }
    const size_t n = batch[k].tier->windows.size();
    if (rep.r->type != REDIS_REPLY_ARRAY || rep.r->elements != n) {
      // NOSCRIPT (Redis restarted) or another error: this key was not applied; retry it after reconnecting.
      unsent.push_back(batch[k]);
      if (error.empty()) error = rep.r->type == REDIS_REPLY_ERROR ? std::string("redis: ") + rep.r->str : "redis: bad reply";
      continue;
    }
    uint64_t owed[kSlotWindows] = {};
    for (size_t i = 0; i < n; ++i) {
      const long long us = rep.r->element[i]->type == REDIS_REPLY_INTEGER ? rep.r->element[i]->integer : 0;
      owed[i] = us > 0 ? static_cast<uint64_t>(us) * 1000 : 0;
    }
    table_->RaiseTo(batch[k].key, n, now, owed);
    ++synced;
  }
  if (!error.empty()) {
    batch.swap(unsent);
    return keep(absl::UnavailableError(error));
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
