// QuotaEngine::Check: all-or-none across limits, the deciding window, header values, fail-open/closed.
#include "quota/engine.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "fork_children.h"

namespace q = guard::quota;

namespace {
constexpr uint64_t kS = q::kNsPerSecond;
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kEpoch = 1000 * kS;

struct Fixture {
  explicit Fixture(const std::string& json, size_t capacity = 1024)
      : bytes(q::BucketTable::BytesFor(capacity)), mem(std::aligned_alloc(64, bytes)) {
    auto t = q::BucketTable::Format(mem, bytes, kEpoch);
    REQUIRE(t.ok());
    table = *t;
    auto cfg = q::ParseQuotaConfig(json);
    INFO(cfg.status().ToString());
    REQUIRE(cfg.ok());
    auto e = q::QuotaEngine::Create(std::move(*cfg), &table, "plugin-1");
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  ~Fixture() { std::free(mem); }
  q::Decision Check(const q::RequestKeys& r, uint64_t now, uint64_t cost = 1) {
    q::Decision d;
    engine->Check(r, cost, now, &d);
    return d;
  }
  size_t bytes;
  void* mem;
  q::BucketTable table;
  std::unique_ptr<q::QuotaEngine> engine;
};

q::RequestKeys Consumer(const char* id) {
  q::RequestKeys r;
  r.consumer = id;
  r.ip = "192.0.2.1";
  return r;
}

std::string Policy(const q::Decision& d) { return std::string(d.policy, d.policy_len); }
}  // namespace

TEST_CASE("per-consumer and global limits: all or none, refunds, header values", "[engine]") {
  Fixture f(R"({"limits":[{"name":"per-consumer","key":["consumer"],"windows":[{"per":"second","limit":5}]}],
                "global":[{"per":"second","limit":8}]})");
  const uint64_t t0 = kEpoch + 10 * kS;
  auto a = Consumer("A");
  auto d = f.Check(a, t0);
  CHECK(d.admitted);
  CHECK(d.limit_index == 0);
  CHECK(d.period == q::Period::kSecond);
  CHECK(d.limit == 5);
  CHECK(d.remaining == 4);
  CHECK(d.reset_s == 1);
  CHECK(d.per_period[0].present);
  CHECK(d.per_period[0].limit == 5);
  CHECK(d.per_period[0].remaining == 4);
  CHECK_FALSE(d.per_period[1].present);
  CHECK(Policy(d) == "5;w=1, 8;w=1");
  for (int i = 0; i < 4; ++i) CHECK(f.Check(a, t0).admitted);
  d = f.Check(a, t0);
  CHECK_FALSE(d.admitted);
  CHECK(d.limit_index == 0);
  CHECK(d.remaining == 0);
  CHECK(d.retry_after_s == 1);  // 200 ms, rounded up

  // B: 3 more fill the global limit (8); B's 4th is refused by "global" and B's own bucket is refunded.
  auto b = Consumer("B");
  for (int i = 0; i < 3; ++i) CHECK(f.Check(b, t0).admitted);
  d = f.Check(b, t0);
  CHECK_FALSE(d.admitted);
  CHECK(d.limit_index == 1);
  CHECK(d.limit == 8);
  CHECK(Policy(d) == "8;w=1, 5;w=1");
  CHECK(d.retry_after_s == 1);  // 125 ms
  auto kb = q::ResolveKey(f.engine->config().limits[0], "plugin-1", b);
  q::Step st;
  f.table.Peek(kb.key, kb.tier->rates.data(), 1, t0, 0, &st);
  CHECK(st.remaining == 2);  // 3 taken, the refused 4th given back
  CHECK(f.engine->Stats().refused == 2);
  CHECK(f.engine->Stats().checks == 10);
}

TEST_CASE("several windows: the deciding window, Retry-After and Reset", "[engine]") {
  Fixture f(R"({"limits":[{"name":"w","key":["ip"],"windows":[{"per":"minute","limit":3},{"per":"second","limit":2}]}]})");
  const uint64_t t0 = kEpoch + 10 * kS;
  q::RequestKeys r;
  r.ip = "198.51.100.7";
  auto d = f.Check(r, t0);
  CHECK(d.admitted);
  CHECK(d.period == q::Period::kSecond);  // 1 left per second, 2 per minute
  CHECK(d.remaining == 1);
  CHECK(Policy(d) == "2;w=1, 3;w=60");
  CHECK(f.Check(r, t0).admitted);
  d = f.Check(r, t0);
  CHECK_FALSE(d.admitted);
  CHECK(d.period == q::Period::kSecond);
  CHECK(d.retry_after_s == 1);
  CHECK(d.per_period[1].present);
  CHECK(d.per_period[1].remaining == 1);  // the minute window was not charged for the refused request

  d = f.Check(r, t0 + kS);
  CHECK(d.admitted);
  CHECK(d.period == q::Period::kMinute);
  CHECK(d.limit == 3);
  CHECK(d.remaining == 0);
  CHECK(d.reset_s == 59);  // minute bucket full again at t0 + 60 s
  CHECK(Policy(d) == "3;w=60, 2;w=1");
  d = f.Check(r, t0 + kS);
  CHECK_FALSE(d.admitted);
  CHECK(d.period == q::Period::kMinute);
  CHECK(d.retry_after_s == 19);  // the first minute token comes back at t0 + 20 s
  d = f.Check(r, t0 + 20 * kS - 1);
  CHECK_FALSE(d.admitted);
  CHECK(f.Check(r, t0 + 20 * kS).admitted);
}

TEST_CASE("cost is charged per request times the limit's cost, and too big is never retryable", "[engine]") {
  Fixture f(R"({"limits":[{"name":"c","key":["ip"],"cost":2,"windows":[{"per":"second","limit":10}]}]})");
  const uint64_t t0 = kEpoch + kS;
  q::RequestKeys r;
  r.ip = "203.0.113.9";
  auto d = f.Check(r, t0, 3);  // 6 tokens
  CHECK(d.admitted);
  CHECK(d.remaining == 4);
  d = f.Check(r, t0, 3);
  CHECK_FALSE(d.admitted);
  CHECK(d.remaining == 4);
  CHECK(d.retry_after_s == 1);  // 200 ms until 6 are available
  d = f.Check(r, t0, 6);  // 12 tokens > burst 10
  CHECK_FALSE(d.admitted);
  CHECK(d.retry_after_s == q::kNever);
  CHECK(f.Check(r, t0, 2).admitted);  // nothing was consumed by the refusals
}

TEST_CASE("tiers from consumer tags", "[engine]") {
  Fixture f(R"({"limits":[{"name":"t","key":["consumer"],"tier_from":"consumer_tag","default_tier":"free",
                 "tiers":{"free":[{"per":"minute","limit":2}],"gold":[{"per":"minute","limit":50}]}}]})");
  const uint64_t t0 = kEpoch + kS;
  auto r = Consumer("C");
  CHECK(f.Check(r, t0).limit == 2);
  guard_str tags[] = {{"tier:gold", 9}};
  r.consumer_tags = tags;
  r.consumer_tag_count = 1;
  auto d = f.Check(r, t0);
  CHECK(d.limit == 50);
  CHECK(d.remaining == 49);
}

TEST_CASE("no applicable limit: admitted without headers", "[engine]") {
  Fixture f(R"({"limits":[{"name":"k","key":["header:x-api-key"],"when_missing":"skip","windows":[{"per":"second","limit":1}]}]})");
  q::RequestKeys r;
  r.ip = "192.0.2.5";
  for (int i = 0; i < 5; ++i) {
    auto d = f.Check(r, kEpoch + kS);
    CHECK(d.admitted);
    CHECK(d.limit_index == -1);
    CHECK(d.policy_len == 0);
  }
}

TEST_CASE("table full: fail open (counted) or fail closed, per on_unavailable", "[engine]") {
  for (bool open : {true, false}) {
    Fixture f(std::string(R"({"limits":[{"name":"ip","key":["ip"],"windows":[{"per":"minute","limit":1}]}],"on_unavailable":")") +
                  (open ? "allow" : "deny") + "\"}",
              8);
    const uint64_t t0 = kEpoch + kS;
    std::string ips[9];
    for (int i = 0; i < 8; ++i) {
      ips[i] = "10.0.0." + std::to_string(i);
      q::RequestKeys r;
      r.ip = ips[i];
      REQUIRE(f.Check(r, t0).admitted);
    }
    q::RequestKeys late;
    late.ip = "10.0.1.1";
    auto d = f.Check(late, t0);
    CHECK(d.admitted == open);
    CHECK(f.engine->Stats().degraded == 1);
    if (open) {
      CHECK(d.degraded);
      CHECK(d.limit_index == -1);
    } else {
      CHECK(d.retry_after_s == 1);
      CHECK(d.limit_index == 0);
    }
    // A minute later the idle keys make room: metered again.
    d = f.Check(late, t0 + 60 * kS);
    CHECK(d.admitted);
    CHECK_FALSE(d.degraded);
    CHECK(d.remaining == 0);
  }
}

TEST_CASE("MonotonicNowNs moves forward", "[engine]") {
  const uint64_t a = q::MonotonicNowNs();
  const uint64_t b = q::MonotonicNowNs();
  CHECK(b >= a);
  CHECK(a > 0);
  (void)kMs;
}

TEST_CASE("forked workers, two limits: exactly the global limit admitted, refused requests cost nothing",
          "[engine][fork]") {
  // 4 processes share the table; 4 consumers of 50/s each, a global 120/s. At a fixed instant exactly 120 pass,
  // and the consumers' buckets are charged exactly those 120: a request refused by "global" after its consumer
  // was charged must have been refunded, whichever process raced with which.
  constexpr int kChildren = 4;
  auto region = q::SharedRegion::Create(q::BucketTable::BytesFor(1024));
  REQUIRE(region.ok());
  auto table = q::BucketTable::Format(region->data(), region->size(), kEpoch);
  REQUIRE(table.ok());
  auto cfg = q::ParseQuotaConfig(R"({"limits":[{"name":"c","key":["consumer"],"windows":[{"per":"second","limit":50}]}],
                                      "global":[{"per":"second","limit":120}]})");
  REQUIRE(cfg.ok());
  auto engine = q::QuotaEngine::Create(std::move(*cfg), &*table, "plugin-1");
  REQUIRE(engine.ok());
  const char* consumers[] = {"c0", "c1", "c2", "c3"};
  const uint64_t now = kEpoch + 3 * kS;

  const uint64_t total = q::testing::SumInChildren(kChildren, [&](int c) {
    uint64_t admitted = 0;
    q::Decision d;
    for (int i = 0; i < 2000; ++i) {
      q::RequestKeys r;
      r.consumer = consumers[(i + c) % 4];
      (*engine)->Check(r, 1, now, &d);
      admitted += d.admitted;
    }
    return admitted;
  });
  CHECK(total == 120);
  uint64_t charged = 0;
  for (const char* id : consumers) {
    q::RequestKeys r;
    r.consumer = id;
    auto k = q::ResolveKey((*engine)->config().limits[0], "plugin-1", r);
    q::Step st;
    table->Peek(k.key, k.tier->rates.data(), 1, now, 0, &st);
    charged += 50 - st.remaining;
  }
  CHECK(charged == 120);
}
