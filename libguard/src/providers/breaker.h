// Circuit breaker, one per provider.
//
// closed --(N consecutive failures, or error rate >= R over the last `window` with >= M calls)--> open
// open --(cooldown elapsed)--> half-open: up to `half_open_probes` calls are let through
// half-open --(a probe succeeds)--> closed;  half-open --(a probe fails)--> open again (cooldown restarts)
//
// Rate limiting (429) is not a failure here: the quota store handles it with the provider's own reset time.
// The error-rate window is a ring of 10 buckets, so memory is fixed and old outcomes age out smoothly.
// Not thread-safe by itself: the client thread owns the breakers (the selector locks around them).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"

namespace guard::providers {

struct BreakerConfig {
  int consecutive_failures = 5;
  double error_rate = 0.5;     // 0 disables the rate trigger
  int min_calls = 10;          // the rate trigger needs at least this many calls in the window
  absl::Duration window = absl::Seconds(60);
  absl::Duration cooldown = absl::Seconds(30);
  int half_open_probes = 1;
};

enum class BreakerState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
std::string_view BreakerStateName(BreakerState s);

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerConfig config = {}) : config_(config) {}

  // Whether a call may start now, without taking a probe slot (for ranking candidates).
  bool WouldAllow(absl::Time now) const;
  // Takes the right to make one call: always in closed, a probe slot in half-open, never in open.
  bool TryAcquire(absl::Time now);
  void OnSuccess(absl::Time now);
  void OnFailure(absl::Time now);
  // A call that was acquired but never made (quota refused it, job shed): frees a half-open probe slot.
  void OnAbandon(absl::Time now);

  BreakerState State(absl::Time now) const;
  int consecutive_failures() const { return consecutive_failures_; }
  // Failures / calls in the window (0 when empty).
  double ErrorRate(absl::Time now) const;

 private:
  struct Bucket {
    int64_t epoch = -1;  // which bucket-sized slice of time this bucket counts
    int calls = 0;
    int failures = 0;
  };
  void Record(absl::Time now, bool failure);
  void Open(absl::Time now);
  void MaybeHalfOpen(absl::Time now);
  absl::Duration BucketWidth() const { return config_.window / static_cast<int>(kBuckets); }

  static constexpr size_t kBuckets = 10;
  BreakerConfig config_;
  BreakerState state_ = BreakerState::kClosed;
  absl::Time opened_at_ = absl::InfinitePast();
  int consecutive_failures_ = 0;
  int probes_in_flight_ = 0;
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace guard::providers
