// Circuit breaker state machine (see breaker.h for the transitions and why 429 is excluded).
#include "providers/breaker.h"

#include <cmath>

namespace guard::providers {

std::string_view BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "closed";
}

BreakerState CircuitBreaker::State(absl::Time now) const {
  if (state_ == BreakerState::kOpen && now >= opened_at_ + config_.cooldown) return BreakerState::kHalfOpen;
  return state_;
}

void CircuitBreaker::MaybeHalfOpen(absl::Time now) {
  if (state_ == BreakerState::kOpen && now >= opened_at_ + config_.cooldown) {
    state_ = BreakerState::kHalfOpen;
    probes_in_flight_ = 0;
  }
}

bool CircuitBreaker::WouldAllow(absl::Time now) const {
  switch (State(now)) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return false;
    case BreakerState::kHalfOpen:
      // After MaybeHalfOpen the counter is current; before it (still stored as open) no probe is out.
      return state_ == BreakerState::kOpen || probes_in_flight_ < config_.half_open_probes;
  }
  return false;
}

bool CircuitBreaker::TryAcquire(absl::Time now) {
  MaybeHalfOpen(now);
  switch (state_) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return false;
    case BreakerState::kHalfOpen:
      if (probes_in_flight_ >= config_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::OnAbandon(absl::Time now) {
  if (state_ == BreakerState::kHalfOpen && probes_in_flight_ > 0) --probes_in_flight_;
}

void CircuitBreaker::Record(absl::Time now, bool failure) {
  int64_t epoch = absl::ToUnixNanos(now) / std::max<int64_t>(1, absl::ToInt64Nanoseconds(BucketWidth()));
  Bucket& b = buckets_[static_cast<size_t>(epoch % static_cast<int64_t>(kBuckets))];
  if (b.epoch != epoch) b = Bucket{epoch, 0, 0};
  ++b.calls;
  b.failures += failure ? 1 : 0;
}

double CircuitBreaker::ErrorRate(absl::Time now) const {
  int64_t epoch = absl::ToUnixNanos(now) / std::max<int64_t>(1, absl::ToInt64Nanoseconds(BucketWidth()));
  int calls = 0, failures = 0;
  for (const Bucket& b : buckets_) {
    if (b.epoch > epoch - static_cast<int64_t>(kBuckets) && b.epoch <= epoch) {
      calls += b.calls;
      failures += b.failures;
    }
  }
  return calls == 0 ? 0.0 : static_cast<double>(failures) / calls;
}

void CircuitBreaker::Open(absl::Time now) {
  state_ = BreakerState::kOpen;
  opened_at_ = now;
  probes_in_flight_ = 0;
}

void CircuitBreaker::OnSuccess(absl::Time now) {
  MaybeHalfOpen(now);
  Record(now, false);
  consecutive_failures_ = 0;
  if (state_ == BreakerState::kHalfOpen) {
    state_ = BreakerState::kClosed;
    probes_in_flight_ = 0;
    buckets_ = {};  // a fresh start: the failures that opened the breaker must not re-open it at once
  }
}

void CircuitBreaker::OnFailure(absl::Time now) {
  MaybeHalfOpen(now);
  Record(now, true);
  ++consecutive_failures_;
  if (state_ == BreakerState::kHalfOpen) {
    Open(now);
    return;
  }
  if (state_ != BreakerState::kClosed) return;
  if (consecutive_failures_ >= config_.consecutive_failures) {
    Open(now);
    return;
  }
  if (config_.error_rate > 0) {
    int calls = 0;
    int64_t epoch = absl::ToUnixNanos(now) / std::max<int64_t>(1, absl::ToInt64Nanoseconds(BucketWidth()));
    for (const Bucket& b : buckets_) {
      if (b.epoch > epoch - static_cast<int64_t>(kBuckets) && b.epoch <= epoch) calls += b.calls;
    }
    if (calls >= config_.min_calls && ErrorRate(now) >= config_.error_rate) Open(now);
  }
}

}  // namespace guard::providers
