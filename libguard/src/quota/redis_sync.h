// RedisSync: makes a node's quota buckets cluster-wide by reconciling them with authoritative buckets in Redis.
//
// The hot path never waits on Redis. Each worker process counts, per key, the tokens it admitted locally
// (Record: two uncontended atomic adds into a process-local table). A background thread, started lazily by the
// first check in the process (EnsureStarted; never at library load, never in the nginx master) with every signal
// blocked, wakes every interval_ms and sends ONE script call (EVALSHA) for the whole round, whatever the number
// of keys counted (only a round carrying more than 2000 windows is split, into calls pipelined in one round trip):
//   - it heartbeats the node into a sorted set and reads the number of live nodes;
//   - it adds every key's count to the key's GCRA buckets (TAT in microseconds of Redis' own clock, so node
//     clocks never need to agree) and returns how far each bucket is owed beyond Redis' now;
//   - the thread then raises the node's shared-memory buckets to at least the cluster's debt
//     (BucketTable::RaiseTo).
// What a node holds between two rounds is, in effect, a lease on the cluster bucket: the tokens it saw there at
// the last round plus its refill. Overshoot is therefore bounded and charged back (docs/quota.md): Redis counts
// every admitted request, so a bucket driven past its burst makes every node refuse until the debt is repaid.
//
// Redis layout, all under the hash tag {<ns>} (one Redis Cluster slot per plugin instance, so one script call can
// touch them all): "<prefix>:{<ns>}:nodes" (sorted set of node ids) and one hash per period,
// "<prefix>:{<ns>}:<period>", field = key hex, value = TAT. Inside the script a round costs TIME, ZADD, ZCOUNT and
// one HMGET + one HSET per period touched; cleanup (dead nodes, full buckets, TTLs) runs at most once a second.
// The client talks to one endpoint (standalone, or a proxy in front of a cluster); it does not follow MOVED
// redirections.
//
// Failure: a round that fails (connect, timeout, error reply) marks the sync unhealthy; the engine then applies
// on_failure (local_fallback / fail_open / fail_closed) and the counts are kept (bounded) for the next round.
// The thread reconnects with backoff; the first successful round restores healthy: no restart needed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "quota/limits.h"
#include "quota/shm_table.h"

struct redisContext;

namespace guard::quota {

enum class SyncState : uint8_t { kIdle, kHealthy, kUnhealthy };

struct SyncStatus {
  SyncState state = SyncState::kIdle;  // kIdle: no round attempted yet
  FailurePolicy on_failure = FailurePolicy::kLocalFallback;
  uint32_t active_nodes = 0;           // last count read from Redis (0: unknown)
  uint64_t rounds_ok = 0;
  uint64_t rounds_failed = 0;
  uint64_t keys_synced = 0;
  uint64_t counts_dropped = 0;         // tokens not sent: local table full or backlog too long during an outage
  uint64_t last_ok_unix_ms = 0;
  std::string last_error;
};

class RedisSync {
 public:
  struct Options {
    SyncConfig config;
    std::string node_id = "node";  // the Kong node id: all workers of a node share it
    bool background = true;        // false: no thread, the caller drives SyncOnce (tests)
  };

  static absl::StatusOr<std::unique_ptr<RedisSync>> Create(Options options, const BucketTable* table,
                                                           std::string ns);
  ~RedisSync();
  RedisSync(const RedisSync&) = delete;
  RedisSync& operator=(const RedisSync&) = delete;

  // Hot path: `cost` tokens of `key` (whose windows are `tier`) were admitted on this node. Lock-free, no
  // allocation; starts the background thread on first use in this process.
  void Record(const Key128& key, const Tier* tier, uint64_t cost);

  // Hot path: starts the background thread if this process has none yet (one relaxed load otherwise). Called
  // by every check, not only admitted ones: under fail_closed a node that has not synced yet admits nothing,
  // and must still start the thread that makes it healthy.
  void EnsureStarted() {
    if (options_.background && thread_fork_gen_.load(std::memory_order_relaxed) != CurrentForkGen()) StartThread();
  }

  // Hot path: whether the last round succeeded (before any round: false, so the failure policy applies until
  // Redis has answered once).
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  // The divisor for local_fallback: live nodes as last seen in Redis, else expected_nodes.
  uint32_t fallback_nodes() const { return fallback_nodes_.load(std::memory_order_relaxed); }
  const SyncConfig& config() const { return options_.config; }

  SyncStatus Status() const;

  // One round on the calling thread. Only when options.background is false.
  absl::Status SyncOnce();

 private:
  struct Entry;
  struct Table;
  struct Pending {
    Key128 key;
    const Tier* tier;
    uint64_t count;
  };

  RedisSync(Options options, const BucketTable* table, std::string ns);
  static uint64_t CurrentForkGen();
  void StartThread();
  void Run();
  absl::Status Round();
  absl::Status Connect();
  void Disconnect();
  void Drain(std::vector<Pending>* out);
  void Fail(const absl::Status& st);

  Options options_;
  const BucketTable* table_;
  std::string ns_;
  std::string nodes_key_;
  std::string hash_keys_[kPeriodCount];  // "<prefix>:{<ns>}:<period>": one bucket hash per period

  // Double-buffered count tables: the hot path writes into tables_[current_]; a round flips current_, waits
  // for writers of the old one to leave (inflight_), then drains it.
  std::unique_ptr<Table> tables_[2];
  std::atomic<uint32_t> current_{0};
  std::atomic<uint64_t> inflight_[2] = {};
  std::atomic<uint64_t> dropped_{0};

  std::atomic<bool> healthy_{false};
  std::atomic<uint32_t> fallback_nodes_{1};
  std::atomic<uint64_t> thread_fork_gen_{~uint64_t{0}};  // fork generation in which the thread was started
  std::mutex start_mu_;                                   // cold: only the first Record of a process

  // Owned by the round (background thread, or the SyncOnce caller).
  redisContext* conn_ = nullptr;
  std::string round_sha_;
  bool housekeeping_due_ = true;
  uint64_t last_housekeeping_ns_ = 0;
  std::vector<Pending> backlog_;

  mutable std::mutex status_mu_;  // never taken on the hot path
  SyncStatus status_;

  std::unique_ptr<std::thread> thread_;  // leaked, not joined, in a forked child (it does not exist there)
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace guard::quota
