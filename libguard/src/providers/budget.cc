// LocalQuotaStore: a rolling minute of one-second buckets and the fixed UTC day, under one mutex (calls are few:
// at most one per escalated request, on the client thread, so contention is not a concern). See budget.h.
#include "providers/budget.h"
#include "providers/sv.h"

#include <mutex>
#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace guard::providers {
namespace {

int64_t DayId(absl::Time now) { return absl::ToUnixSeconds(now) / 86400; }

size_t Slot(int64_t second) { return static_cast<size_t>(second % kRollingSeconds); }

absl::Status Exhausted(std::string_view what, std::string_view provider) {
  return absl::ResourceExhaustedError(absl::StrCat(AV(what), ": quota of provider '", AV(provider), "' exhausted"));
}

}  // namespace

double CostUsd(int64_t input_tokens, int64_t output_tokens, double usd_per_1m_input, double usd_per_1m_output) {
  return (static_cast<double>(input_tokens) * usd_per_1m_input +
          static_cast<double>(output_tokens) * usd_per_1m_output) / 1e6;
}

LocalQuotaStore::Counters& LocalQuotaStore::Roll(std::string_view provider, absl::Time now) {
  auto it = counters_.find(provider);
  if (it == counters_.end()) it = counters_.emplace(std::string(provider), Counters{}).first;
  Counters& c = it->second;
  if (c.day != DayId(now)) c.day = DayId(now), c.day_used = {};
  if (global_day_ != DayId(now)) global_day_ = DayId(now), global_usd_ = 0;
  return c;
}

Usage LocalQuotaStore::MinuteUsed(const Counters& c, absl::Time now) {
  const int64_t oldest = absl::ToUnixSeconds(now) - kRollingSeconds + 1;
  Usage u;
  for (const Second& s : c.seconds) {
    if (s.second < oldest) continue;
    u.requests += s.used.requests;
    u.tokens += s.used.tokens;
    u.usd += s.used.usd;
  }
  return u;
}

absl::StatusOr<Reservation> LocalQuotaStore::Reserve(std::string_view provider, const QuotaLimits& limits,
                                                     double global_usd_per_day, const Usage& est,
                                                     absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Counters& c = Roll(provider, now);
  if (now < c.blocked_until) return Exhausted("provider_backoff", provider);
  if (c.remaining_requests && now < c.requests_reset_at && *c.remaining_requests < est.requests) {
    return Exhausted("provider_backoff", provider);
  }
  if (c.remaining_tokens && now < c.tokens_reset_at && *c.remaining_tokens < est.tokens) {
    return Exhausted("provider_backoff", provider);
  }
  const Usage minute = MinuteUsed(c, now);
  if (limits.rpm > 0 && minute.requests + est.requests > limits.rpm) return Exhausted("rpm", provider);
  if (limits.tpm > 0 && minute.tokens + est.tokens > limits.tpm) return Exhausted("tpm", provider);
  if (limits.rpd > 0 && c.day_used.requests + est.requests > limits.rpd) return Exhausted("rpd", provider);
  if (limits.usd_per_day > 0 && c.day_used.usd + est.usd > limits.usd_per_day) {
    return Exhausted("usd_per_day", provider);
  }
  if (global_usd_per_day > 0 && global_usd_ + est.usd > global_usd_per_day) {
    return absl::ResourceExhaustedError("budget_usd_per_day: the daily AI budget is spent");
  }
  const int64_t second = absl::ToUnixSeconds(now);
  Second& b = c.seconds[Slot(second)];
  if (b.second != second) b = Second{second, {}};
  b.used.requests += est.requests;
  b.used.tokens += est.tokens;
  b.used.usd += est.usd;
  c.day_used.requests += est.requests;
  c.day_used.tokens += est.tokens;
  c.day_used.usd += est.usd;
  global_usd_ += est.usd;
  // Spend the provider's advertised headroom locally too, until its next header corrects us.
  if (c.remaining_requests && now < c.requests_reset_at) *c.remaining_requests -= est.requests;
  if (c.remaining_tokens && now < c.tokens_reset_at) *c.remaining_tokens -= est.tokens;
  return Reservation{std::string(provider), second, c.day, est};
}

void LocalQuotaStore::Reconcile(const Reservation& r, const Usage& actual) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(r.provider);
  if (it == counters_.end()) return;
  Counters& c = it->second;
  Usage delta{actual.requests - r.reserved.requests, actual.tokens - r.reserved.tokens,
              actual.usd - r.reserved.usd};
  // A window that has rolled over since the reservation keeps what it had: it is gone either way.
  if (Second& b = c.seconds[Slot(r.second)]; b.second == r.second) {
    b.used.requests = std::max<int64_t>(0, b.used.requests + delta.requests);
    b.used.tokens = std::max<int64_t>(0, b.used.tokens + delta.tokens);
    b.used.usd = std::max(0.0, b.used.usd + delta.usd);
  }
  if (c.day == r.day) {
    c.day_used.requests = std::max<int64_t>(0, c.day_used.requests + delta.requests);
    c.day_used.tokens = std::max<int64_t>(0, c.day_used.tokens + delta.tokens);
    c.day_used.usd = std::max(0.0, c.day_used.usd + delta.usd);
  }
  if (global_day_ == r.day) global_usd_ = std::max(0.0, global_usd_ + delta.usd);
}

void LocalQuotaStore::Observe(std::string_view provider, const RateLimitInfo& info, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Counters& c = Roll(provider, now);
  // Without a reset time the provider's count is trusted for one minute, the usual window.
  if (info.remaining_requests) {
    c.remaining_requests = info.remaining_requests;
    c.requests_reset_at = info.requests_reset_at.value_or(now + absl::Minutes(1));
  }
  if (info.limit_requests) c.limit_requests = info.limit_requests;
  if (info.remaining_tokens) {
    c.remaining_tokens = info.remaining_tokens;
    c.tokens_reset_at = info.tokens_reset_at.value_or(now + absl::Minutes(1));
  }
  if (info.limit_tokens) c.limit_tokens = info.limit_tokens;
  if (info.retry_at) c.blocked_until = std::max(c.blocked_until, *info.retry_at);
}

double LocalQuotaStore::Headroom(const Counters& c, const QuotaLimits& limits, double global_usd_per_day,
                                 absl::Time now) const {
  if (now < c.blocked_until) return 0;
  double h = 1;
  auto frac = [&](double used, double limit) {
    if (limit > 0) h = std::min(h, std::max(0.0, (limit - used) / limit));
  };
  const Usage minute = MinuteUsed(c, now);
  frac(static_cast<double>(minute.requests), static_cast<double>(limits.rpm));
  frac(static_cast<double>(minute.tokens), static_cast<double>(limits.tpm));
  frac(static_cast<double>(c.day_used.requests), static_cast<double>(limits.rpd));
  frac(c.day_used.usd, limits.usd_per_day);
  frac(global_usd_, global_usd_per_day);
  if (c.remaining_requests && c.limit_requests && *c.limit_requests > 0 && now < c.requests_reset_at) {
    frac(static_cast<double>(*c.limit_requests - *c.remaining_requests), static_cast<double>(*c.limit_requests));
  }
  if (c.remaining_tokens && c.limit_tokens && *c.limit_tokens > 0 && now < c.tokens_reset_at) {
    frac(static_cast<double>(*c.limit_tokens - *c.remaining_tokens), static_cast<double>(*c.limit_tokens));
  }
  return h;
}

QuotaSnapshot LocalQuotaStore::Snapshot(std::string_view provider, const QuotaLimits& limits,
                                        double global_usd_per_day, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Counters& c = Roll(provider, now);
  QuotaSnapshot s;
  s.minute = MinuteUsed(c, now);
  s.day = c.day_used;
  s.global_usd_day = global_usd_;
  s.headroom = Headroom(c, limits, global_usd_per_day, now);
  s.blocked_until = c.blocked_until;
  return s;
}

}  // namespace guard::providers
