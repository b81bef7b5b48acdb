// RedisQuotaStore against a real redis-server on a free 127.0.0.1 port (stopped by pid): two stores stand for
// two nodes. Skipped, with a message, only when redis-server is not installed.
#include <catch2/catch.hpp>

#include <string>

#include "../redis_child.h"
#include "providers/redis_quota_store.h"

using namespace guard::providers;

namespace {

// One redis-server for a test, started at construction.
class Redis : public RedisChild {
 public:
  Redis() : RedisChild(FreePort()) { Start(); }
  RedisQuotaOptions Options() const {
    RedisQuotaOptions o;
    o.host = "127.0.0.1";
    o.port = static_cast<uint16_t>(port_);
    o.prefix = "t";
    o.timeout_ms = 500;
    return o;
  }
};

#define REQUIRE_REDIS()                                                           \
  if (!RedisInstalled()) {                                                        \
    WARN("redis-server is not installed: skipping the RedisQuotaStore test");     \
    return;                                                                       \
  }

// Mid-minute, so that a test's reservations never straddle a window boundary.
absl::Time MidMinute() {
  const int64_t s = absl::ToUnixSeconds(absl::Now());
  return absl::FromUnixSeconds(s - s % 60 + 30);
}

}  // namespace

TEST_CASE("two nodes share the per-minute requests, tokens and the daily budget", "[redis]") {
  REQUIRE_REDIS();
  Redis redis;
  REQUIRE(redis.Ping());
  RedisQuotaStore a(redis.Options()), b(redis.Options());
  const absl::Time now = MidMinute();
  QuotaLimits limits;
  limits.rpm = 3;
  Usage est{1, 100, 0.01};
  for (int i = 0; i < 3; ++i) {
    auto r = (i % 2 ? b : a).Reserve("p", limits, 0, est, now);
    REQUIRE(r.ok());
    CHECK(r->shared);
  }
  auto refused = b.Reserve("p", limits, 0, est, now);
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.status().message()).rfind("rpm:", 0) == 0);
  CHECK(b.Snapshot("p", limits, 0, now).headroom == 0);  // from b's last reply: all 3 used
  CHECK(a.Health().healthy);

  // Tokens: reconciled down to what the call used, so the room comes back on every node.
  QuotaLimits tpm;
  tpm.tpm = 250;
  auto r1 = a.Reserve("q", tpm, 0, est, now);
  auto r2 = b.Reserve("q", tpm, 0, est, now);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK_FALSE(b.Reserve("q", tpm, 0, est, now).ok());  // 300 > 250
  a.Reconcile(*r1, Usage{1, 20, 0.001});
  CHECK(b.Reserve("q", tpm, 0, est, now).ok());  // 20 + 100 + 100 = 220 <= 250

  // The global budget spans providers and nodes (own prefix: the calls above spent from the "t" budget).
  RedisQuotaOptions fresh = redis.Options();
  fresh.prefix = "budget";
  RedisQuotaStore c(fresh), d(fresh);
  auto g1 = c.Reserve("x", QuotaLimits{}, 0.025, est, now);
  auto g2 = d.Reserve("y", QuotaLimits{}, 0.025, est, now);
  REQUIRE(g1.ok());
  REQUIRE(g2.ok());
  auto spent = c.Reserve("z", QuotaLimits{}, 0.025, est, now);
  REQUIRE_FALSE(spent.ok());
  CHECK(std::string(spent.status().message()).rfind("budget_usd_per_day", 0) == 0);
}

TEST_CASE("provider headers and an open breaker seen by one node hold the provider on the other", "[redis]") {
  REQUIRE_REDIS();
  Redis redis;
  REQUIRE(redis.Ping());
  RedisQuotaStore a(redis.Options()), b(redis.Options());
  const absl::Time now = absl::Now();
  Usage est{1, 10, 0};

  RateLimitInfo none_left;
  none_left.remaining_requests = 0;
  none_left.requests_reset_at = now + absl::Seconds(30);
  a.Observe("h", none_left, now);
  auto r = b.Reserve("h", QuotaLimits{}, 0, est, now);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).rfind("provider_backoff", 0) == 0);
  CHECK(b.Reserve("h", QuotaLimits{}, 0, est, now + absl::Seconds(31)).ok());  // past the reset

  a.OnBreakerOpen("o", absl::Now() + absl::Seconds(30));
  auto o = b.Reserve("o", QuotaLimits{}, 0, est, absl::Now());
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.status().message()).rfind("breaker_open", 0) == 0);
  CHECK(b.Snapshot("o", QuotaLimits{}, 0, absl::Now()).headroom == 0);
}

TEST_CASE("without Redis the store runs on node-local state and reports why", "[redis]") {
  REQUIRE_REDIS();
  Redis redis;
  REQUIRE(redis.Ping());
  RedisQuotaOptions o = redis.Options();
  redis.Stop();
  RedisQuotaStore s(o);
  QuotaLimits limits;
  limits.rpm = 1;
  const absl::Time now = MidMinute();
  auto r = s.Reserve("p", limits, 0, Usage{1, 10, 0}, now);
  REQUIRE(r.ok());
  CHECK_FALSE(r->shared);
  CHECK_FALSE(s.Reserve("p", limits, 0, Usage{1, 10, 0}, now).ok());  // the local limit still holds
  const RedisQuotaHealth h = s.Health();
  CHECK_FALSE(h.healthy);
  CHECK(h.ops_failed >= 1);
  CHECK(h.last_error.find("redis connect 127.0.0.1") != std::string::npos);
}
