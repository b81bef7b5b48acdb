// Quotas and budgets: requests/minute, tokens/minute, requests/day and dollars/day per provider, plus an
// optional dollars/day budget over all providers.
//
// Calls are *reserved before they are made* with an estimate (prompt tokens + max output tokens, priced at
// the provider's rates) and reconciled with the real usage afterwards, so concurrent jobs cannot all slip
// under a limit at once. The provider's own rate-limit headers (and 429 + retry-after) tighten this further:
// what the provider says is left wins over what we think is left.
//
// Windows: requests and tokens per minute are counted over a *rolling* minute of one-second buckets (62 of
// them: a call stays counted at least 61 s, a second of margin for the bucket granularity and for the network
// delay before the provider counts it, which varies from call to call): a fixed UTC minute would let 2x rpm through
// around a minute boundary, and providers count per rolling minute (a 429 is exactly what the reservation is
// there to avoid). Requests and dollars per day use the fixed UTC day, as providers bill. Every counter maps
// onto Redis keys with a TTL, which is what QuotaStore is shaped for. LocalQuotaStore is the in-process implementation; RedisQuotaStore (redis_quota_store.h) shares quotas
// across workers and nodes without touching the selector.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/ratelimit.h"

namespace guard::providers {

struct QuotaLimits {  // 0 = unlimited
  int64_t rpm = 0;
  int64_t tpm = 0;
  int64_t rpd = 0;
  double usd_per_day = 0;
};

struct Usage {
  int64_t requests = 0;
  int64_t tokens = 0;
  double usd = 0;
};

// Dollars for a call: prices are per million tokens, as providers publish them.
double CostUsd(int64_t input_tokens, int64_t output_tokens, double usd_per_1m_input, double usd_per_1m_output);

// One-second buckets of the rolling minute: a call booked at second s counts while s > now - kRollingSeconds.
inline constexpr int64_t kRollingSeconds = 62;

struct Reservation {
  std::string provider;
  int64_t second = 0;  // UNIX second (rolling-minute bucket) and UTC day id the amounts were booked in
  int64_t day = 0;
  Usage reserved;
  bool shared = false;  // booked in Redis (RedisQuotaStore) rather than in its node-local fallback
};

struct QuotaSnapshot {
  Usage minute;  // used in the rolling minute
  Usage day;     // used in the current UTC day
  double global_usd_day = 0;
  // Fraction of the tightest limit still free, 0..1 (1 when nothing limits the provider); 0 while the
  // provider told us to back off.
  double headroom = 1;
  absl::Time blocked_until = absl::InfinitePast();
};

// The shared-state seam. Every method is atomic with respect to the others (one Redis script each).
class QuotaStore {
 public:
  virtual ~QuotaStore() = default;
  // Books `estimate` for one call if every limit has room: all-or-nothing. ResourceExhausted names the
  // limit that refused ("rpm", "tpm", "rpd", "usd_per_day", "budget_usd_per_day", "provider_backoff").
  virtual absl::StatusOr<Reservation> Reserve(std::string_view provider, const QuotaLimits& limits,
                                              double global_usd_per_day, const Usage& estimate,
                                              absl::Time now) = 0;
  // Replaces the reserved amounts by what the call really used.
  virtual void Reconcile(const Reservation& reservation, const Usage& actual) = 0;
  // Feeds the provider's own view (headers of any response, 429 retry-after).
  virtual void Observe(std::string_view provider, const RateLimitInfo& info, absl::Time now) = 0;
  virtual QuotaSnapshot Snapshot(std::string_view provider, const QuotaLimits& limits, double global_usd_per_day,
                                 absl::Time now) = 0;
  // A breaker of this node opened on `provider` until `until`: a shared store makes the other nodes skip it
  // too (no call until then). The local store has nothing to share.
  virtual void OnBreakerOpen(std::string_view provider, absl::Time until) {
    (void)provider;
    (void)until;
  }
};

class LocalQuotaStore final : public QuotaStore {
 public:
  absl::StatusOr<Reservation> Reserve(std::string_view provider, const QuotaLimits& limits,
                                      double global_usd_per_day, const Usage& estimate, absl::Time now) override;
  void Reconcile(const Reservation& reservation, const Usage& actual) override;
  void Observe(std::string_view provider, const RateLimitInfo& info, absl::Time now) override;
  QuotaSnapshot Snapshot(std::string_view provider, const QuotaLimits& limits, double global_usd_per_day,
                         absl::Time now) override;

 private:
  struct Second {
    int64_t second = -1;
    Usage used;
  };
  struct Counters {
    std::array<Second, kRollingSeconds> seconds;  // ring indexed by second % kRollingSeconds
    int64_t day = -1;
    Usage day_used;
    // The provider's view, valid until the matching reset time.
    std::optional<int64_t> remaining_requests;
    absl::Time requests_reset_at = absl::InfinitePast();
    std::optional<int64_t> limit_requests;
    std::optional<int64_t> remaining_tokens;
    absl::Time tokens_reset_at = absl::InfinitePast();
    std::optional<int64_t> limit_tokens;
    absl::Time blocked_until = absl::InfinitePast();
  };
  Counters& Roll(std::string_view provider, absl::Time now);
  static Usage MinuteUsed(const Counters& c, absl::Time now);
  double Headroom(const Counters& c, const QuotaLimits& limits, double global_usd_per_day, absl::Time now) const;

  std::mutex mu_;  // guards everything below
  std::map<std::string, Counters, std::less<>> counters_;
  int64_t global_day_ = -1;
  double global_usd_ = 0;
};

}  // namespace guard::providers
