// Time source for the AI engine. Breakers, quota windows, EWMA ages and job deadlines all read the time
// through this interface so that tests can drive them with FakeClock instead of sleeping.
#pragma once

#include <atomic>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace guard::providers {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall clock (absl::Now). Quota windows are calendar minutes/days, so wall time, not a monotonic clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static const Clock* Get() {
    static const RealClock clock;
    return &clock;
  }
};

// Manually advanced clock for tests. Atomic so a test thread may advance it while the client thread reads.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override { return absl::FromUnixNanos(nanos_.load()); }
  void Advance(absl::Duration d) { nanos_ += absl::ToInt64Nanoseconds(d); }
  void Set(absl::Time t) { nanos_ = absl::ToUnixNanos(t); }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace guard::providers
