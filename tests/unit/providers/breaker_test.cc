// Circuit breaker transitions, driven by a fake clock.
#include <catch2/catch.hpp>

#include "providers/breaker.h"
#include "providers/clock.h"

using namespace guard::providers;

TEST_CASE("closed -> open after N consecutive failures -> half-open after cooldown -> closed on success") {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 3;
  cfg.error_rate = 0;  // only the consecutive trigger
  cfg.cooldown = absl::Seconds(10);
  CircuitBreaker b(cfg);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(b.TryAcquire(clock.Now()));
    b.OnFailure(clock.Now());
  }
  CHECK(b.State(clock.Now()) == BreakerState::kClosed);
  b.OnSuccess(clock.Now());  // a success resets the streak
  for (int i = 0; i < 2; ++i) b.OnFailure(clock.Now());
  CHECK(b.State(clock.Now()) == BreakerState::kClosed);
  b.OnFailure(clock.Now());
  CHECK(b.State(clock.Now()) == BreakerState::kOpen);
  CHECK_FALSE(b.WouldAllow(clock.Now()));
  CHECK_FALSE(b.TryAcquire(clock.Now()));

  clock.Advance(absl::Seconds(9));
  CHECK(b.State(clock.Now()) == BreakerState::kOpen);
  clock.Advance(absl::Seconds(1));
  CHECK(b.State(clock.Now()) == BreakerState::kHalfOpen);
  CHECK(b.WouldAllow(clock.Now()));
  REQUIRE(b.TryAcquire(clock.Now()));        // the one probe
  CHECK_FALSE(b.WouldAllow(clock.Now()));    // no second probe while it is out
  CHECK_FALSE(b.TryAcquire(clock.Now()));
  b.OnSuccess(clock.Now());
  CHECK(b.State(clock.Now()) == BreakerState::kClosed);
  CHECK(b.TryAcquire(clock.Now()));
}

TEST_CASE("a failed probe re-opens the breaker and restarts the cooldown") {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 1;
  cfg.cooldown = absl::Seconds(5);
  CircuitBreaker b(cfg);
  b.OnFailure(clock.Now());
  REQUIRE(b.State(clock.Now()) == BreakerState::kOpen);
  clock.Advance(absl::Seconds(5));
  REQUIRE(b.TryAcquire(clock.Now()));
  b.OnFailure(clock.Now());
  CHECK(b.State(clock.Now()) == BreakerState::kOpen);
  clock.Advance(absl::Seconds(4));
  CHECK(b.State(clock.Now()) == BreakerState::kOpen);
  clock.Advance(absl::Seconds(1));
  CHECK(b.State(clock.Now()) == BreakerState::kHalfOpen);
}

TEST_CASE("an abandoned probe frees its slot") {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 1;
  cfg.cooldown = absl::Seconds(1);
  CircuitBreaker b(cfg);
  b.OnFailure(clock.Now());
  clock.Advance(absl::Seconds(1));
  REQUIRE(b.TryAcquire(clock.Now()));
  CHECK_FALSE(b.TryAcquire(clock.Now()));
  b.OnAbandon(clock.Now());
  CHECK(b.TryAcquire(clock.Now()));
}

TEST_CASE("the error-rate trigger opens on a high rate over the window, with a minimum of calls") {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 100;
  cfg.error_rate = 0.5;
  cfg.min_calls = 10;
  cfg.window = absl::Seconds(10);
  CircuitBreaker b(cfg);
  // Alternating outcomes: 50% errors, never 2 in a row. Opens once 10 calls are in the window.
  for (int i = 0; i < 4; ++i) {
    b.OnSuccess(clock.Now());
    b.OnFailure(clock.Now());
  }
  CHECK(b.State(clock.Now()) == BreakerState::kClosed);  // 8 calls: below min_calls
  b.OnSuccess(clock.Now());
  b.OnFailure(clock.Now());
  CHECK(b.State(clock.Now()) == BreakerState::kOpen);
  CHECK(b.ErrorRate(clock.Now()) == Approx(0.5));
}

TEST_CASE("old outcomes age out of the error-rate window") {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 100;
  cfg.error_rate = 0.5;
  cfg.min_calls = 4;
  cfg.window = absl::Seconds(10);
  CircuitBreaker b(cfg);
  for (int i = 0; i < 3; ++i) b.OnFailure(clock.Now());
  CHECK(b.ErrorRate(clock.Now()) == Approx(1.0));
  clock.Advance(absl::Seconds(11));
  CHECK(b.ErrorRate(clock.Now()) == Approx(0.0));
  b.OnSuccess(clock.Now());
  b.OnSuccess(clock.Now());
  b.OnSuccess(clock.Now());
  b.OnFailure(clock.Now());  // 1 of 4 in the window: the old failures no longer count
  CHECK(b.State(clock.Now()) == BreakerState::kClosed);
}
