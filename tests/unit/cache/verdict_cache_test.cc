// VerdictCache: the safety rules (flagged requests, warming), bounds, TTLs, versions and counters.
#include "cache/verdict_cache.h"

#include <catch2/catch.hpp>

#include <thread>

#include "fingerprint/request_shape.h"

using namespace guard::cache;
using guard::fingerprint::Hash128;

namespace {

VerdictKey Key(uint64_t n, uint64_t version = 1, std::string_view route = "r1") {
  return VerdictKey{Hash128{n * 0x9E3779B97F4A7C15ULL + 1, n}, RouteKey(route), version};
}
const CachedVerdict kBenign{VerdictKind::kBenign, 0, 0, 0};
const CachedVerdict kBad{VerdictKind::kMalicious, 10, 1, 942100};

std::unique_ptr<VerdictCache> Make(VerdictCacheConfig c = {}) {
  auto r = VerdictCache::Create(c);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("config validation") {
  VerdictCacheConfig c;
  c.max_entries = 0;
  CHECK_FALSE(VerdictCache::Create(c).ok());
  c = {};
  c.benign_ttl_ms = 0;
  CHECK(VerdictCache::Create(c).status().message() ==
        "cache.benign_ttl_ms and cache.malicious_ttl_ms must be > 0");
}

TEST_CASE("hit, miss and counters") {
  auto c = Make();
  CHECK_FALSE(c->Lookup(Key(1), false, 1000).has_value());
  REQUIRE(c->Insert(Key(1), kBad, true, 1000).ok());
  auto v = c->Lookup(Key(1), true, 1001);
  REQUIRE(v.has_value());
  CHECK(v->kind == VerdictKind::kMalicious);
  CHECK(v->score == 10);
  CHECK(v->rule_id == 942100);
  CHECK_FALSE(c->Lookup(Key(1, 1, "r2"), false, 1001).has_value());  // other route
  VerdictCacheStats s = c->stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 2);
  CHECK(s.inserts == 1);
  CHECK(c->size() == 1);
}

TEST_CASE("a benign verdict is never returned for a flagged request") {
  auto c = Make();
  REQUIRE(c->Insert(Key(2), kBenign, false, 0).ok());
  CHECK(c->Lookup(Key(2), false, 1).has_value());
  CHECK_FALSE(c->Lookup(Key(2), true, 1).has_value());
  CHECK(c->stats().suppressed == 1);
  absl::Status st = c->Insert(Key(3), kBenign, true, 0);
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(c->stats().rejected == 1);
  CHECK_FALSE(c->Lookup(Key(3), false, 1).has_value());
  // A malicious verdict is returned whatever the signatures say (a later stage found the attack).
  REQUIRE(c->Insert(Key(4), kBad, false, 0).ok());
  CHECK(c->Lookup(Key(4), false, 1).has_value());
}

TEST_CASE("separate TTLs for benign and malicious verdicts") {
  VerdictCacheConfig cfg;
  cfg.benign_ttl_ms = 100;
  cfg.malicious_ttl_ms = 1000;
  auto c = Make(cfg);
  REQUIRE(c->Insert(Key(1), kBenign, false, 0).ok());
  REQUIRE(c->Insert(Key(2), kBad, true, 0).ok());
  CHECK(c->Lookup(Key(1), false, 99).has_value());
  CHECK_FALSE(c->Lookup(Key(1), false, 100).has_value());
  CHECK(c->Lookup(Key(2), false, 999).has_value());
  CHECK_FALSE(c->Lookup(Key(2), false, 1000).has_value());
  CHECK(c->stats().expired == 2);
  CHECK(c->size() == 0);
}

TEST_CASE("versions and invalidation make old entries unreachable") {
  auto c = Make();
  REQUIRE(c->Insert(Key(1, 7), kBad, true, 0).ok());
  CHECK(c->Lookup(Key(1, 7), true, 1).has_value());
  CHECK_FALSE(c->Lookup(Key(1, 8), true, 1).has_value());  // new ruleset version: a different key
  c->Invalidate();
  CHECK_FALSE(c->Lookup(Key(1, 7), true, 1).has_value());
  CHECK(c->stats().expired == 1);
  REQUIRE(c->Insert(Key(1, 7), kBad, true, 2).ok());  // usable again after the flush
  CHECK(c->Lookup(Key(1, 7), true, 3).has_value());
}

TEST_CASE("bounded by entries and bytes, LRU order") {
  VerdictCacheConfig cfg;
  cfg.max_entries = 64;
  cfg.shards = 1;
  auto c = Make(cfg);
  CHECK(c->capacity() == 64);
  for (uint64_t i = 0; i < 64; ++i) REQUIRE(c->Insert(Key(i), kBad, true, 0).ok());
  CHECK(c->Lookup(Key(0), true, 1).has_value());  // 0 becomes most recent; 1 is now the LRU tail
  REQUIRE(c->Insert(Key(1000), kBad, true, 1).ok());
  CHECK(c->stats().evictions == 1);
  CHECK_FALSE(c->Lookup(Key(1), true, 2).has_value());
  CHECK(c->Lookup(Key(0), true, 2).has_value());
  CHECK(c->size() == 64);

  VerdictCacheConfig by_bytes;
  by_bytes.max_entries = 10'000'000;
  by_bytes.max_bytes = 1 << 20;
  auto b = Make(by_bytes);
  CHECK(b->capacity() < 10'000'000);
  CHECK(b->capacity() > 1000);
  for (uint64_t i = 0; i < 3 * b->capacity(); ++i) REQUIRE(b->Insert(Key(i), kBad, true, 0).ok());
  CHECK(b->size() <= b->capacity());
  CHECK(b->MemoryBytes() <= by_bytes.max_bytes);
  CHECK(b->stats().evictions == 3 * b->capacity() - b->size());
}

TEST_CASE("warming loads known attacks without touching unrelated keys") {
  using namespace guard::fingerprint;
  auto c = Make();
  // A benign entry that is already live, and one warm line that collides with a live malicious entry.
  REQUIRE(c->Insert(Key(42), kBenign, false, 0).ok());
  CachedVerdict live{VerdictKind::kMalicious, 99, 2, 1};

  // The caller's pipeline, reduced: flagged when the query contains a quote; shape from method+path+query.
  WarmFingerprintFn fn = [](const WarmRequest& r) -> absl::StatusOr<WarmFingerprint> {
    if (r.path == "/boom") return absl::InternalError("pipeline failed");
    bool flagged = r.query.find('\'') != std::string::npos;
    ShapeParam p{ParamSource::kQuery, "q", r.query, flagged};
    ShapeInput in{r.method, r.path, false, std::span<const ShapeParam>(&p, 1)};
    return WarmFingerprint{FingerprintRequest(in).hash, flagged};
  };
  std::string file =
      "# known attacks\n"
      "{\"route_id\":\"r1\",\"request\":{\"method\":\"GET\",\"path\":\"/s\",\"query\":\"' or 1=1 --\"},"
      "\"verdict\":{\"kind\":\"malicious\",\"score\":12,\"rule_id\":942100,\"categories\":[\"sqli\"]}}\n"
      "\n"
      "{\"route_id\":\"r1\",\"request\":{\"method\":\"GET\",\"path\":\"/s\",\"query\":\"shoes\"},"
      "\"verdict\":{\"kind\":\"malicious\",\"score\":5}}\n"
      "{\"route_id\":\"r1\",\"request\":{\"method\":\"GET\",\"path\":\"/s\",\"query\":\"x' union select 1\"},"
      "\"verdict\":{\"kind\":\"benign\"}}\n"
      "not json\n"
      "{\"route_id\":\"r1\",\"request\":{\"method\":\"GET\",\"path\":\"/boom\"},\"verdict\":{\"kind\":\"malicious\"}}\n"
      "{\"route_id\":\"r1\",\"request\":{\"method\":\"GET\",\"path\":\"/s\",\"query\":\"a' and sleep(1) --\"},"
      "\"verdict\":{\"kind\":\"malicious\",\"categories\":[\"nope\"]}}\n"
      "{\"route_id\":\"r2\",\"request\":{\"method\":\"GET\",\"path\":\"/t\",\"query\":\"<a href='x'>\","
      "\"headers\":[[\"user-agent\",\"sqlmap\"]]},\"verdict\":{\"kind\":\"malicious\",\"categories\":[\"xss\"]}}\n";
  std::vector<WarmEntry> entries;
  WarmReport rep = ParseWarmFile(file, 1, fn, &entries);
  CHECK(rep.lines == 7);
  CHECK(rep.accepted == 2);
  CHECK(rep.skipped == 5);
  REQUIRE(rep.errors.size() == 5);
  CHECK(rep.errors[0].starts_with("line 4: the signatures do not flag this request"));
  CHECK(rep.errors[1] == "line 5: benign verdicts are never warmed");
  CHECK(rep.errors[2].starts_with("line 6: invalid JSON"));
  CHECK(rep.errors[3] == "line 7: pipeline failed");
  CHECK(rep.errors[4] == "line 8: unknown category \"nope\"");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].verdict.categories == 1);
  CHECK(entries[1].verdict.categories == 2);
  CHECK(entries[1].key.route == RouteKey("r2"));

  // Pretend the second entry is already cached live: warming must keep the live verdict.
  REQUIRE(c->Insert(entries[1].key, live, true, 0).ok());
  CHECK(c->Warm(entries, 10) == 1);
  CHECK(c->size() == 3);
  CHECK(c->Lookup(entries[1].key, true, 11)->score == 99);
  CHECK(c->Lookup(entries[0].key, true, 11)->score == 12);
  CHECK(c->Lookup(Key(42), false, 11)->kind == VerdictKind::kBenign);  // unrelated key untouched
  // A variant of the warmed attack hits; the benign request on the same route does not.
  ShapeParam variant{ParamSource::kQuery, "q", "'  OR 77=77 -- x", true};
  ShapeInput vin{"get", "/s", false, std::span<const ShapeParam>(&variant, 1)};
  CHECK(c->Lookup(VerdictKey{FingerprintRequest(vin).hash, RouteKey("r1"), 1}, true, 12).has_value());
  ShapeParam benign{ParamSource::kQuery, "q", "shoes", false};
  ShapeInput bin{"GET", "/s", false, std::span<const ShapeParam>(&benign, 1)};
  CHECK_FALSE(c->Lookup(VerdictKey{FingerprintRequest(bin).hash, RouteKey("r1"), 1}, false, 12).has_value());
}

TEST_CASE("concurrent use is safe and counted exactly") {
  VerdictCacheConfig cfg;
  cfg.max_entries = 4096;
  auto c = Make(cfg);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (uint64_t i = 0; i < 20000; ++i) {
        VerdictKey k = Key(i % 3000 + t * 100000);
        if (!c->Lookup(k, true, 1)) (void)c->Insert(k, kBad, true, 1);
      }
    });
  for (auto& t : ts) t.join();
  VerdictCacheStats s = c->stats();
  CHECK(s.hits + s.misses == 80000);
  CHECK(s.inserts == s.misses);
  CHECK(c->size() <= c->capacity());
}

#include <malloc.h>

TEST_CASE("lookups and inserts allocate nothing once created") {
  VerdictCacheConfig cfg;
  cfg.max_entries = 1024;
  cfg.shards = 4;
  auto c = Make(cfg);
  size_t before = mallinfo2().uordblks;
  size_t hits = 0;
  for (uint64_t i = 0; i < 100000; ++i) {  // 100x capacity: evictions and erase/insert churn
    if (c->Lookup(Key(i % 5000), true, static_cast<int64_t>(i))) ++hits;
    else (void)c->Insert(Key(i % 5000), kBad, true, static_cast<int64_t>(i));
  }
  size_t after = mallinfo2().uordblks;
  CHECK(after == before);
  CHECK(hits + c->stats().inserts == 100000);
}
