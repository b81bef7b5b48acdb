// RedisQuotaStore: the AI quotas, budgets, provider rate-limit headers and open breakers shared by every
// nginx worker of every node through one Redis (the config's top-level `redis` section).
//
// Each QuotaStore method is one Lua script (EVALSHA) over fixed-window keys, so a reservation is atomic
// across nodes:
//   {prefix}:ai:{provider}:s:{second}   hash r (requests), t (tokens); the rolling minute is the last
//                                       kRollingSeconds of them (budget.h)     TTL kRollingSeconds + 1 s
//   {prefix}:ai:{provider}:d:{day}      hash r, t, u (dollars)                 TTL 2 days
//   {prefix}:ai:budget:d:{day}          hash u                                 TTL 2 days
//   {prefix}:ai:{provider}:hdr          hash of the provider's last rate-limit headers (remaining + reset)
//   {prefix}:ai:{provider}:open         set while some node's breaker holds the provider open (TTL cooldown)
//
// Only the providers client's I/O thread calls Reserve/Reconcile/Observe/OnBreakerOpen (never an nginx
// worker's request path). Snapshot, which the worker-side status also reads, never touches Redis: it combines
// the node-local mirror (headers, back-off) with the shared counts of the last Redis reply.
//
// Redis down or misconfigured: every method falls back to a node-local LocalQuotaStore (limits then hold per
// process) and reconnects at most once a second; Health() says which mode is in force and why.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "providers/budget.h"

struct redisContext;

namespace guard::providers {

struct RedisQuotaOptions {
  std::string host;
  uint16_t port = 6379;
  std::string password;
  uint32_t database = 0;
  uint32_t timeout_ms = 100;
  std::string prefix = "guard";
};

struct RedisQuotaHealth {
  bool healthy = false;      // the last Redis operation succeeded
  int64_t ops_ok = 0;
  int64_t ops_failed = 0;    // each one fell back to node-local state
  std::string last_error;
};

class RedisQuotaStore final : public QuotaStore {
 public:
  explicit RedisQuotaStore(RedisQuotaOptions options);
  ~RedisQuotaStore() override;

  absl::StatusOr<Reservation> Reserve(std::string_view provider, const QuotaLimits& limits,
                                      double global_usd_per_day, const Usage& estimate, absl::Time now) override;
  void Reconcile(const Reservation& reservation, const Usage& actual) override;
  void Observe(std::string_view provider, const RateLimitInfo& info, absl::Time now) override;
  void OnBreakerOpen(std::string_view provider, absl::Time until) override;
  QuotaSnapshot Snapshot(std::string_view provider, const QuotaLimits& limits, double global_usd_per_day,
                         absl::Time now) override;

  RedisQuotaHealth Health() const;

 private:
  struct Shared {  // the shared counts as of the last Redis reply for one provider
    int64_t second = -1, day = -1;
    Usage minute_used, day_used;
    double global_usd = 0;
    absl::Time open_until = absl::InfinitePast();  // a peer's breaker holds it open
  };
  bool Ready(absl::Time now);  // connected (connecting if due); false: use local_
  void Failed(const std::string& what);
  std::string Key(std::string_view provider, std::string_view suffix) const;

  RedisQuotaOptions options_;
  LocalQuotaStore local_;
  redisContext* conn_ = nullptr;  // I/O thread only
  std::string reserve_sha_, reconcile_sha_, observe_sha_;
  absl::Time next_connect_ = absl::InfinitePast();

  mutable std::mutex mu_;  // guards shared_ and health_ (Snapshot and Health run on other threads)
  std::map<std::string, Shared, std::less<>> shared_;
  RedisQuotaHealth health_;
};

}  // namespace guard::providers
