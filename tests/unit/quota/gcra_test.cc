// GCRA arithmetic: refill, burst, cost > remaining, clock jumps, several windows. Exact numbers throughout:
// the interval is an integer number of ns, so every count below is computed, not approximated.
#include "quota/gcra.h"

#include <catch2/catch.hpp>

namespace q = guard::quota;

namespace {
constexpr uint64_t kS = q::kNsPerSecond;

q::Rate R(uint64_t limit, uint64_t period, uint64_t burst = 0) {
  auto r = q::MakeRate(limit, period, burst);
  REQUIRE(r.ok());
  return *r;
}

// Spends single tokens at `now` until refused; returns how many were admitted.
uint64_t Drain(const q::Rate& r, uint64_t& tat, uint64_t now) {
  uint64_t n = 0;
  for (;;) {
    auto s = q::Apply(r, tat, now, 1);
    if (!s.admitted) return n;
    tat = s.new_tat;
    ++n;
  }
}
}  // namespace

TEST_CASE("MakeRate rounds the interval up and defaults burst to limit", "[gcra]") {
  auto r = R(7, 60 * kS);
  CHECK(r.interval_ns == 8571428572ull);
  CHECK(r.burst == 7);
  CHECK(r.tau_ns == 7 * 8571428572ull);
  CHECK_FALSE(q::MakeRate(0, kS).ok());
  CHECK_FALSE(q::MakeRate(1, 0).ok());
  CHECK_FALSE(q::MakeRate(1, kS, uint64_t{1} << 40).ok());
}

TEST_CASE("a fresh bucket admits exactly burst, then refills one token per interval", "[gcra]") {
  auto r = R(10, kS, 5);  // 10/s, burst 5: interval 100 ms
  uint64_t tat = 0;
  const uint64_t t0 = 1000 * kS;
  CHECK(Drain(r, tat, t0) == 5);
  CHECK(tat == t0 + 5 * r.interval_ns);
  // 99.999999 ms later: still nothing; at 100 ms exactly one.
  CHECK(Drain(r, tat, t0 + r.interval_ns - 1) == 0);
  CHECK(Drain(r, tat, t0 + r.interval_ns) == 1);
  // 2.5 s later: bucket capped at burst, not 25.
  CHECK(Drain(r, tat, t0 + 3 * kS + kS / 2) == 5);
}

TEST_CASE("remaining, reset and retry-after are exact", "[gcra]") {
  auto r = R(60, 60 * kS);  // 1/s, burst 60
  const uint64_t t0 = 50 * kS;
  auto s = q::Apply(r, 0, t0, 1);
  REQUIRE(s.admitted);
  CHECK(s.remaining == 59);
  CHECK(s.reset_ns == kS);  // one token away from full
  uint64_t tat = s.new_tat;
  CHECK(Drain(r, tat, t0) == 59);
  auto refused = q::Apply(r, tat, t0, 1);
  CHECK_FALSE(refused.admitted);
  CHECK(refused.new_tat == tat);
  CHECK(refused.remaining == 0);
  CHECK(refused.reset_ns == 60 * kS);
  CHECK(refused.retry_after_ns == kS);
  // 250 ms later the wait is 750 ms; the header value rounds up to 1 s.
  refused = q::Apply(r, tat, t0 + kS / 4, 1);
  CHECK(refused.retry_after_ns == 3 * kS / 4);
  CHECK(q::CeilSeconds(refused.retry_after_ns) == 1);
  auto peek = q::Peek(r, tat, t0 + 10 * kS + 1);
  CHECK(peek.remaining == 10);
}

TEST_CASE("cost greater than remaining is refused without consuming", "[gcra]") {
  auto r = R(10, kS);  // interval 100 ms, burst 10
  const uint64_t t0 = 7 * kS;
  auto s = q::Apply(r, 0, t0, 7);
  REQUIRE(s.admitted);
  CHECK(s.remaining == 3);
  auto big = q::Apply(r, s.new_tat, t0, 4);
  CHECK_FALSE(big.admitted);
  CHECK(big.new_tat == s.new_tat);
  CHECK(big.remaining == 3);
  CHECK(big.retry_after_ns == r.interval_ns);  // one more token needed
  auto fits = q::Apply(r, s.new_tat, t0, 3);
  CHECK(fits.admitted);
  CHECK(fits.remaining == 0);
  // More than the whole burst can never be admitted: retry-after says so.
  auto never = q::Apply(r, 0, t0, 11);
  CHECK_FALSE(never.admitted);
  CHECK(never.retry_after_ns == q::kNever);
}

TEST_CASE("a clock going backwards never grants extra tokens", "[gcra]") {
  auto r = R(10, kS);
  const uint64_t t1 = 100 * kS;
  uint64_t tat = 0;
  CHECK(Drain(r, tat, t1) == 10);
  // Jump back 5 s: the bucket looks even more owed, nothing is admitted.
  CHECK(Drain(r, tat, t1 - 5 * kS) == 0);
  CHECK(q::Peek(r, tat, t1 - 5 * kS).remaining == 0);
  // Back to t1 + 1 interval: exactly the one refilled token, the backward excursion changed nothing.
  CHECK(Drain(r, tat, t1 + r.interval_ns) == 1);
  // Remaining is monotone in now for a fixed TAT.
  for (uint64_t back = 0; back < 3 * kS; back += kS / 10) {
    CHECK(q::Peek(r, tat, t1 + kS - back).remaining <= q::Peek(r, tat, t1 + kS).remaining);
  }
  // A forward jump refills at most to burst.
  CHECK(Drain(r, tat, t1 + 3600 * kS) == 10);
}

TEST_CASE("a saturating client gets exactly burst + floor(elapsed/interval)", "[gcra]") {
  auto r = R(7, 60 * kS, 3);
  uint64_t tat = 0, admitted = 0;
  const uint64_t t0 = 10 * kS;
  uint64_t t = t0;
  for (; t <= t0 + 600 * kS; t += 1234567891ull) admitted += Drain(r, tat, t);
  t -= 1234567891ull;
  CHECK(admitted == 3 + (t - t0) / r.interval_ns);
}

TEST_CASE("several windows: admitted only if all admit, nothing consumed otherwise", "[gcra]") {
  q::Rate rates[2] = {R(5, kS), R(8, 60 * kS)};  // 5/s and 8/min
  uint64_t tats[2] = {0, 0}, next[2];
  q::Step steps[2];
  const uint64_t t0 = 3600 * kS;
  uint64_t admitted = 0;
  while (q::ApplyAll(rates, tats, 2, t0, 1, next, steps)) {
    tats[0] = next[0];
    tats[1] = next[1];
    ++admitted;
  }
  CHECK(admitted == 5);  // the second window binds
  CHECK_FALSE(steps[0].admitted);
  CHECK(steps[1].admitted);
  CHECK(steps[1].remaining == 3);
  CHECK(next[0] == tats[0]);
  CHECK(next[1] == tats[1]);
  // One second later the per-second window is full again but the minute window has 3 left: 3 more.
  uint64_t more = 0;
  while (q::ApplyAll(rates, tats, 2, t0 + kS, 1, next, steps)) {
    tats[0] = next[0];
    tats[1] = next[1];
    ++more;
  }
  CHECK(more == 3);
  CHECK(steps[0].admitted);  // the minute window refused this time
  CHECK_FALSE(steps[1].admitted);
  CHECK(steps[1].retry_after_ns == 60 * kS / 8 - kS);  // 7.5 s after t0 the first minute token returns
  // A cost that the minute window cannot take is refused without touching the second window.
  uint64_t before0 = tats[0];
  CHECK_FALSE(q::ApplyAll(rates, tats, 2, t0 + 2 * kS, 2, next, steps));
  CHECK(next[0] == before0);
}
