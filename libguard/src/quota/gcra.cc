// GCRA arithmetic; see gcra.h for the model. Everything here is branch-light integer math on the hot path.
#include "quota/gcra.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace guard::quota {

absl::StatusOr<Rate> MakeRate(uint64_t limit, uint64_t period_ns, uint64_t burst) {
  if (limit == 0) return absl::InvalidArgumentError("limit must be at least 1");
  if (period_ns == 0) return absl::InvalidArgumentError("period must be positive");
  if (period_ns > kMaxSpan) return absl::InvalidArgumentError("period longer than 2^56 ns (833 days)");
  Rate r;
  r.limit = limit;
  r.period_ns = period_ns;
  // Rounded up: never faster than configured.
  r.interval_ns = period_ns / limit + (period_ns % limit != 0);
  r.burst = burst == 0 ? limit : burst;
  if (r.burst > kMaxSpan / r.interval_ns) {
    return absl::InvalidArgumentError(absl::StrCat("burst ", r.burst, " too large for this period"));
  }
  r.tau_ns = r.burst * r.interval_ns;
  return r;
}

Step Peek(const Rate& rate, uint64_t tat, uint64_t now) {
  Step s;
  const uint64_t base = std::max(tat, now);
  // base - now <= tau always holds for a TAT we wrote at a time <= now; a clock that went backwards can make it
  // larger, which simply means no tokens.
  const uint64_t owed = base - now;
  s.admitted = true;
  s.new_tat = tat;
  s.remaining = owed >= rate.tau_ns ? 0 : (rate.tau_ns - owed) / rate.interval_ns;
  s.reset_ns = owed;
  return s;
}

Step Apply(const Rate& rate, uint64_t tat, uint64_t now, uint64_t cost) {
  Step s;
  const uint64_t base = std::max(tat, now);
  const uint64_t need = cost * rate.interval_ns;
  const uint64_t candidate = base + need;
  if (candidate - now <= rate.tau_ns) {
    s.admitted = true;
    s.new_tat = candidate;
    s.remaining = (rate.tau_ns - (candidate - now)) / rate.interval_ns;
    s.reset_ns = candidate - now;
    s.retry_after_ns = 0;
    return s;
  }
  s = Peek(rate, tat, now);
  s.admitted = false;
  s.new_tat = tat;
  // Admitted at t once max(tat, t) + need - t <= tau, i.e. t >= tat + need - tau (tat > now here unless the cost
  // alone exceeds the burst).
  if (need > rate.tau_ns) {
    s.retry_after_ns = kNever;
  } else {
    s.retry_after_ns = tat + need - rate.tau_ns - now;
  }
  return s;
}

uint64_t Refund(const Rate& rate, uint64_t tat, uint64_t cost) {
  const uint64_t give = cost * rate.interval_ns;
  return tat > give ? tat - give : 0;
}

bool ApplyAll(const Rate* rates, const uint64_t* tats, size_t n, uint64_t now, uint64_t cost, uint64_t* new_tats,
              Step* steps) {
  bool all = true;
  for (size_t i = 0; i < n; ++i) {
    steps[i] = Apply(rates[i], tats[i], now, cost);
    all = all && steps[i].admitted;
  }
  if (all) {
    for (size_t i = 0; i < n; ++i) new_tats[i] = steps[i].new_tat;
    return true;
  }
  // Refused by at least one window: nothing is consumed anywhere. The windows that would have admitted keep
  // admitted = true (so the caller can tell which window refused) but report their untouched state.
  for (size_t i = 0; i < n; ++i) {
    new_tats[i] = tats[i];
    if (steps[i].admitted) steps[i] = Peek(rates[i], tats[i], now);
  }
  return false;
}

}  // namespace guard::quota
