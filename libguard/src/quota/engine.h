// QuotaEngine: the per-config quota check of the guard-ai plugin.
//
// Immutable once built (like guard_engine): the parsed limits plus a pointer to the node's BucketTable, which
// holds all mutable state in shared memory. Check is the hot path: it resolves each limit's key and tier from
// the request, charges every applicable limit through the table (all or none), and fills a Decision with what
// the plugin needs for its response headers. Check makes no syscall, takes no lock, allocates nothing and never
// touches the network (the one exception: with a "sync" section, the first checked request of a process starts
// the sync thread); it may be called from any thread of any worker process.
//
// All-or-none across limits: limits are charged in config order; if one refuses, the ones already charged are
// refunded (BucketTable::Refund), so a refused request costs nothing anywhere.
//
// Cluster-wide limits (a "sync" section): admitted tokens are also counted for RedisSync, which reconciles the
// node's buckets with Redis in the background. While Redis is unreachable, on_failure decides: local_fallback
// charges each request N times locally (N = live nodes last seen, else expected_nodes), so that N nodes together
// stay near the limit; fail_open keeps the per-node limit; fail_closed refuses.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "quota/limits.h"
#include "quota/redis_sync.h"
#include "quota/shm_table.h"

namespace guard::quota {

// CLOCK_MONOTONIC in ns: system-wide, so every worker process reads the same clock (vDSO, no syscall).
uint64_t MonotonicNowNs();

// Per-period summary for X-RateLimit-Limit-<Period> / X-RateLimit-Remaining-<Period>: when several limits have
// a window of the same period, the one with the fewest tokens left.
struct PeriodReport {
  bool present = false;
  uint64_t limit = 0;
  uint64_t remaining = 0;
};

inline constexpr size_t kPolicyBytes = 256;

struct Decision {
  bool admitted = true;
  // Not a normal decision: a limit could not be evaluated (table full or too contended; with on_unavailable
  // "allow" the request passed unmetered for that limit, counted in EngineStats::degraded), or the cluster sync
  // is down and on_failure was applied (see RedisSync::Status). The plugin should count and log it.
  bool degraded = false;
  // The limit and window that decided: the one that refused (the longest Retry-After among refusing windows),
  // or when admitted the window with the fewest tokens left. -1 when no limit applied.
  int32_t limit_index = -1;
  Period period = Period::kSecond;
  uint64_t limit = 0;           // RateLimit-Limit
  uint64_t remaining = 0;       // RateLimit-Remaining
  uint64_t reset_s = 0;         // RateLimit-Reset: seconds until that bucket is full again, at least 1
  uint64_t retry_after_s = 0;   // Retry-After when refused (0 when admitted); kNever if the cost can never pass
  PeriodReport per_period[kPeriodCount];
  // RateLimit-Policy, e.g. "60;w=60, 1000;w=3600;burst=100": the deciding window first. NUL-terminated.
  char policy[kPolicyBytes] = {};
  size_t policy_len = 0;
};

struct EngineStats {
  uint64_t checks = 0;
  uint64_t refused = 0;
  uint64_t degraded = 0;  // fail-open (or fail-closed) answers because the table could not serve a key
};

struct EngineOptions {
  std::string node_id = "node";  // Kong node id (kong.node.get_id()), for the Redis heartbeat
  bool sync_background = true;   // false: tests drive RedisSync::SyncOnce themselves
};

class QuotaEngine {
 public:
  // `table` must outlive the engine (it is the node-wide table made in the master). `ns` names this plugin
  // instance (e.g. the plugin id) so that two plugin configs never share buckets. With a "sync" section the
  // engine owns a RedisSync, whose thread starts on the first checked request (so build engines in workers,
  // e.g. in the plugin's configure phase, not in the master).
  static absl::StatusOr<std::unique_ptr<QuotaEngine>> Create(QuotaConfig config, const BucketTable* table,
                                                             std::string_view ns, EngineOptions options = {});

  // Charges `cost` (>= 1; multiplied by each limit's own cost) at monotonic time `now_ns` and fills *out.
  void Check(const RequestKeys& req, uint64_t cost, uint64_t now_ns, Decision* out) const;

  const QuotaConfig& config() const { return config_; }
  EngineStats Stats() const;
  // The cluster sync, or nullptr without a "sync" section; Status() feeds the plugin's status endpoint.
  RedisSync* sync() const { return sync_.get(); }

 private:
  QuotaEngine(QuotaConfig config, const BucketTable* table, std::string ns)
      : config_(std::move(config)), table_(table), ns_(std::move(ns)) {}

  QuotaConfig config_;
  const BucketTable* table_;
  std::string ns_;
  std::unique_ptr<RedisSync> sync_;
  // Per-engine counters; relaxed atomics touched once per check (per-process: each worker has its own engine).
  mutable std::atomic<uint64_t> checks_{0}, refused_{0}, degraded_{0};
};

}  // namespace guard::quota
