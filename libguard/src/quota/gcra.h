// GCRA: the token-bucket arithmetic of the quota engine, as pure functions over one 64-bit word.
//
// A bucket is a single number, its TAT ("theoretical arrival time"): the instant at which the bucket would be
// full again. Admitting `cost` tokens at `now` moves it to max(TAT, now) + cost * interval, and is allowed only if
// the result stays within `tau` (= burst * interval) of now. Because the whole state is one integer and every
// operation is a pure function of (TAT, now), it runs as a compare-and-swap loop on a word in shared memory
// (shm_table.h), the same arithmetic runs in Lua inside Redis (redis_sync.h), and nothing needs a refill timer.
//
// Exactness: the emission interval is rounded *up* to whole nanoseconds (e.g. 7/minute -> 8571428572 ns), so the
// engine never admits more than `limit` per period; the relative error is below 1e-9 and always against the
// client. With that integer interval, the number admitted over any span is exactly
// burst + floor(elapsed / interval) for a saturating client, which is what the tests assert.
//
// Clocks: the functions only ever compare `now` with the TAT. A clock that goes backwards by D makes TAT - now
// larger, i.e. fewer tokens, so it can never grant extra; it delays refills by at most D. A refused request
// leaves the TAT untouched (cost > remaining consumes nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "absl/status/statusor.h"

namespace guard::quota {

inline constexpr uint64_t kNsPerSecond = 1'000'000'000ull;

// TATs are kept relative to a per-table epoch in 58 bits (the top 6 bits of a shared word carry a slot
// generation, see shm_table.h): 2^58 ns is 9.1 years. Intervals and tau are capped at 2^56 so that
// now + tau + cost * interval never leaves 58 bits while now < 2^57 (4.5 years).
inline constexpr uint64_t kTatBits = 58;
inline constexpr uint64_t kTatMask = (uint64_t{1} << kTatBits) - 1;
inline constexpr uint64_t kMaxNow = uint64_t{1} << 57;
inline constexpr uint64_t kMaxSpan = uint64_t{1} << 56;

// Means "never" for retry_after: the cost exceeds the burst, waiting cannot help.
inline constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

// One window of a limit: `limit` requests per `period_ns`, with `burst` tokens of instantaneous allowance.
struct Rate {
  uint64_t limit = 0;        // as configured, for headers
  uint64_t period_ns = 0;    // as configured, for headers (RateLimit-Policy w=)
  uint64_t interval_ns = 0;  // ceil(period / limit): one token comes back every interval
  uint64_t burst = 0;        // bucket capacity in tokens
  uint64_t tau_ns = 0;       // burst * interval: how far ahead of now the TAT may run
};

// Validates and derives a Rate. burst == 0 means "burst = limit" (a fresh client may spend the whole limit at
// once, like a fixed window, then gets it back smoothly).
absl::StatusOr<Rate> MakeRate(uint64_t limit, uint64_t period_ns, uint64_t burst = 0);

// The outcome of offering `cost` tokens to one bucket at `now`.
struct Step {
  bool admitted = false;
  uint64_t new_tat = 0;         // the TAT to store (equal to the input TAT when refused)
  uint64_t remaining = 0;       // whole tokens left after this decision
  uint64_t reset_ns = 0;        // until the bucket is full again
  uint64_t retry_after_ns = 0;  // 0 when admitted; until `cost` tokens are available when refused (or kNever)
};

// Pure: what happens to a bucket with `tat` when `cost` tokens are asked for at `now`. `cost` must satisfy
// cost * interval <= kMaxSpan (MaxCost) and `now` < kMaxNow.
Step Apply(const Rate& rate, uint64_t tat, uint64_t now, uint64_t cost);

// Pure: the bucket's state at `now` without taking anything (cost 0): remaining, reset.
Step Peek(const Rate& rate, uint64_t tat, uint64_t now);

// Pure: gives `cost` tokens back to a bucket whose TAT is `tat` (used to undo a partial commit). Every TAT at or
// below now means "full", so the result is floored at 0 rather than going negative.
uint64_t Refund(const Rate& rate, uint64_t tat, uint64_t cost);

// The largest cost that can be asked of this rate without overflow.
inline uint64_t MaxCost(const Rate& rate) { return kMaxSpan / rate.interval_ns; }

// Several windows of one key (second/minute/hour/...): admitted only if every window admits. Pure: reads
// tats[0..n), writes new_tats[0..n) and steps[0..n); when refused, new_tats == tats (nothing consumed anywhere).
// Returns whether admitted.
bool ApplyAll(const Rate* rates, const uint64_t* tats, size_t n, uint64_t now, uint64_t cost, uint64_t* new_tats,
              Step* steps);

// Seconds for headers: rounded up, so a client that waits that long is admitted.
inline uint64_t CeilSeconds(uint64_t ns) {
  return ns == kNever ? kNever : ns / kNsPerSecond + (ns % kNsPerSecond != 0);
}

}  // namespace guard::quota
