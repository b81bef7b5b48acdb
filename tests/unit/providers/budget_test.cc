// Quotas and budgets: reservation before the call, reconciliation after, provider headers, windows.
#include <catch2/catch.hpp>

#include "providers/budget.h"
#include "providers/clock.h"

using namespace guard::providers;

namespace {
Usage Call(int64_t tokens, double usd = 0) { return Usage{1, tokens, usd}; }
}  // namespace

TEST_CASE("RPM is enforced by reservation over a rolling minute") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000 - 1'800'000'000 % 60));  // start of a minute
  LocalQuotaStore q;
  QuotaLimits lim;
  lim.rpm = 2;
  REQUIRE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  REQUIRE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  auto third = q.Reserve("a", lim, 0, Call(10), clock.Now());
  REQUIRE_FALSE(third.ok());
  CHECK(absl::IsResourceExhausted(third.status()));
  CHECK(std::string(third.status().message()).rfind("rpm", 0) == 0);
  CHECK(q.Reserve("b", lim, 0, Call(10), clock.Now()).ok());  // per provider
  CHECK(q.Snapshot("a", lim, 0, clock.Now()).headroom == Approx(0));
  // A new UTC minute does not reset it (that would let 2x rpm through around the boundary, and the
  // provider would answer 429): the calls count for a full rolling minute, plus a margin.
  clock.Advance(absl::Seconds(61));
  CHECK_FALSE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  clock.Advance(absl::Seconds(1));
  CHECK(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
}

TEST_CASE("the rolling minute frees each call's slot when that call is a minute old") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000 - 1'800'000'000 % 60 + 50));  // 10 s before a minute ends
  LocalQuotaStore q;
  QuotaLimits lim;
  lim.rpm = 2;
  REQUIRE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  clock.Advance(absl::Seconds(20));  // into the next UTC minute
  REQUIRE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  CHECK_FALSE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());  // both still within the window
  clock.Advance(absl::Seconds(41));  // the first call is 61 s old: still counted (margin)
  CHECK_FALSE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  clock.Advance(absl::Seconds(1));  // 62 s: freed
  CHECK(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
  CHECK_FALSE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
}

TEST_CASE("TPM reservations are reconciled with the real usage") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000 - 1'800'000'000 % 60));
  LocalQuotaStore q;
  QuotaLimits lim;
  lim.tpm = 1000;
  auto r1 = q.Reserve("a", lim, 0, Call(600), clock.Now());
  REQUIRE(r1.ok());
  CHECK_FALSE(q.Reserve("a", lim, 0, Call(600), clock.Now()).ok());  // 1200 > 1000
  q.Reconcile(*r1, Call(150));                                         // the call used far less
  CHECK(q.Snapshot("a", lim, 0, clock.Now()).minute.tokens == 150);
  CHECK(q.Reserve("a", lim, 0, Call(600), clock.Now()).ok());
  CHECK(q.Snapshot("a", lim, 0, clock.Now()).headroom == Approx(0.25));
}

TEST_CASE("dollars per day per provider and the global budget stop calls cleanly") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000 - 1'800'000'000 % 86400));
  LocalQuotaStore q;
  QuotaLimits lim;
  lim.usd_per_day = 1.0;
  REQUIRE(q.Reserve("a", lim, 0, Call(1, 0.6), clock.Now()).ok());
  auto over = q.Reserve("a", lim, 0, Call(1, 0.6), clock.Now());
  REQUIRE_FALSE(over.ok());
  CHECK(std::string(over.status().message()).rfind("usd_per_day", 0) == 0);

  QuotaLimits none;
  REQUIRE(q.Reserve("b", none, 1.0, Call(1, 0.3), clock.Now()).ok());  // global: 0.6 + 0.3
  auto global = q.Reserve("c", none, 1.0, Call(1, 0.3), clock.Now());
  REQUIRE_FALSE(global.ok());
  CHECK(std::string(global.status().message()).rfind("budget_usd_per_day", 0) == 0);
  CHECK(q.Snapshot("c", none, 1.0, clock.Now()).global_usd_day == Approx(0.9));
  clock.Advance(absl::Hours(24));
  CHECK(q.Reserve("c", none, 1.0, Call(1, 0.3), clock.Now()).ok());
}

TEST_CASE("CostUsd prices per million tokens") {
  CHECK(CostUsd(1'000'000, 0, 0.15, 0.6) == Approx(0.15));
  CHECK(CostUsd(1000, 500, 3.0, 15.0) == Approx(0.003 + 0.0075));
}

TEST_CASE("provider headers override our own view of headroom") {
  FakeClock clock;
  LocalQuotaStore q;
  QuotaLimits lim;  // no local limits at all
  RateLimitInfo info;
  info.limit_requests = 100;
  info.remaining_requests = 1;
  info.requests_reset_at = clock.Now() + absl::Seconds(30);
  q.Observe("a", info, clock.Now());
  CHECK(q.Snapshot("a", lim, 0, clock.Now()).headroom == Approx(0.01));
  REQUIRE(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());  // spends the last one locally
  auto r = q.Reserve("a", lim, 0, Call(10), clock.Now());
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).rfind("provider_backoff", 0) == 0);
  clock.Advance(absl::Seconds(30));  // the provider's reset: its old count no longer applies
  CHECK(q.Reserve("a", lim, 0, Call(10), clock.Now()).ok());
}

TEST_CASE("429 retry-after blocks the provider until then") {
  FakeClock clock;
  LocalQuotaStore q;
  QuotaLimits lim;
  RateLimitInfo info;
  info.retry_at = clock.Now() + absl::Seconds(2);
  q.Observe("a", info, clock.Now());
  CHECK_FALSE(q.Reserve("a", lim, 0, Call(1), clock.Now()).ok());
  CHECK(q.Snapshot("a", lim, 0, clock.Now()).headroom == 0);
  clock.Advance(absl::Seconds(2));
  CHECK(q.Reserve("a", lim, 0, Call(1), clock.Now()).ok());
}
