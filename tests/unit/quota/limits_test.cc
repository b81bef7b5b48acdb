// The quota config section and limit keys: parsing with path-named errors, tiers, key parts, fallbacks.
#include "quota/limits.h"

#include <string>

#include <catch2/catch.hpp>

namespace q = guard::quota;

namespace {
constexpr uint64_t kS = q::kNsPerSecond;

const char* kExample = R"({
  "limits": [
    {"name": "per-consumer", "key": ["consumer"], "when_missing": "ip",
     "tiers": {"standard": [{"per": "hour", "limit": 1000}, {"per": "minute", "limit": 60}],
               "premium":  [{"per": "minute", "limit": 600, "burst": 100}]},
     "default_tier": "standard", "tier_from": "consumer_tag", "cost": 2},
    {"name": "per-key", "key": ["header:X-API-Key", "route"], "when_missing": "skip",
     "windows": [{"per": "second", "limit": 10}]}
  ],
  "global": [{"per": "second", "limit": 1000}],
  "on_unavailable": "deny"
})";

q::QuotaConfig Parse(const std::string& json) {
  auto c = q::ParseQuotaConfig(json);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

std::string ErrorOf(const std::string& json) {
  auto c = q::ParseQuotaConfig(json);
  REQUIRE_FALSE(c.ok());
  return std::string(c.status().message());
}
}  // namespace

TEST_CASE("the example config parses into limits, tiers and windows", "[limits]") {
  auto c = Parse(kExample);
  REQUIRE(c.limits.size() == 3);
  CHECK_FALSE(c.fail_open);
  const auto& pc = c.limits[0];
  CHECK(pc.name == "per-consumer");
  CHECK(pc.cost == 2);
  CHECK(pc.tier_from == q::TierFrom::kConsumerTag);
  REQUIRE(pc.tiers.size() == 2);
  CHECK(pc.tiers[pc.default_tier].name == "standard");
  // Windows are sorted by period whatever the config order.
  REQUIRE(pc.tiers[0].windows.size() == 2);
  CHECK(pc.tiers[0].windows[0].period == q::Period::kMinute);
  CHECK(pc.tiers[0].windows[1].period == q::Period::kHour);
  CHECK(pc.tiers[0].rates[1].interval_ns == 3600 * kS / 1000);
  CHECK(pc.tiers[1].rates[0].burst == 100);
  CHECK(pc.tiers[0].fingerprint != pc.tiers[1].fingerprint);
  const auto& pk = c.limits[1];
  REQUIRE(pk.key.size() == 2);
  CHECK(pk.key[0].kind == q::KeyPartKind::kHeader);
  CHECK(pk.key[0].header == "x-api-key");
  CHECK(pk.when_missing == q::WhenMissing::kSkip);
  CHECK(c.limits[2].name == "global");
  CHECK(c.limits[2].key.empty());
}

TEST_CASE("config errors name the JSON path and the rule", "[limits]") {
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"windows":[{"per":"week","limit":1}]}]})") ==
        "quota.limits[0].windows[0].per: expected one of second, minute, hour, day, month, year");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"windows":[{"per":"second","limit":0}]}]})") ==
        "quota.limits[0].windows[0].limit: expected a positive integer");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"windows":[{"per":"second","limit":1},{"per":"second","limit":2}]}]})") ==
        "quota.limits[0].windows[1].per: period given twice");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["cookie"],"windows":[{"per":"second","limit":1}]}]})") ==
        "quota.limits[0].key[0]: expected consumer, credential, ip, route, service or header:<name>");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"tiers":{"x":[{"per":"second","limit":1}]},"tier_from":"consumer_tag"}]})") ==
        "quota.limits[0].default_tier: required string when \"tiers\" is given");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"tiers":{"x":[{"per":"second","limit":1}]},"default_tier":"y","tier_from":"consumer_tag"}]})") ==
        "quota.limits[0].default_tier: names no tier in \"tiers\"");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"windows":[{"per":"second","limit":5}],"cost":6}]})") ==
        "quota.limits[0].cost: larger than the burst of tier default (5 per second): nothing would ever pass");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"],"windows":[{"per":"second","limit":5}],"colour":1}]})") ==
        "quota.limits[0].colour: unknown field");
  CHECK(ErrorOf(R"({"limits":[{"name":"a","key":["ip"]}]})") ==
        "quota.limits[0]: exactly one of \"tiers\" and \"windows\" is required");
  CHECK(ErrorOf(R"({"limits":[{"name":"global","key":["ip"],"windows":[{"per":"second","limit":5}]}]})") ==
        "quota.limits[0].name: \"global\" is reserved for the global section");
  CHECK(ErrorOf(R"({"on_unavailable":"maybe"})") == "quota.on_unavailable: expected one of allow, deny");
  CHECK(ErrorOf("{\"limits\": [") .rfind("quota: invalid JSON at offset", 0) == 0);
}

TEST_CASE("keys: parts, IP fallback, skip, shared, namespaces", "[limits]") {
  auto c = Parse(kExample);
  const auto& pc = c.limits[0];
  const auto& pk = c.limits[1];
  q::RequestKeys a;
  a.consumer = "c-1";
  a.ip = "10.0.0.1";
  auto ka = q::ResolveKey(pc, "plugin-1", a);
  REQUIRE(ka.applies);
  q::RequestKeys a2 = a;
  a2.ip = "10.9.9.9";
  CHECK(q::ResolveKey(pc, "plugin-1", a2).key == ka.key);          // the consumer, not the IP, is the key
  CHECK_FALSE(q::ResolveKey(pc, "plugin-2", a).key == ka.key);     // another plugin instance, other buckets
  q::RequestKeys anon;
  anon.ip = "c-1";  // an IP string equal to a consumer id still gets its own bucket
  auto kanon = q::ResolveKey(pc, "plugin-1", anon);
  REQUIRE(kanon.applies);
  CHECK_FALSE(kanon.key == ka.key);

  // Header part, case-insensitive name; skip when absent.
  guard_header hs[] = {{{"X-Api-KEY", 9}, {"k123", 4}}};
  q::RequestKeys h;
  h.headers = hs;
  h.header_count = 1;
  h.route = "r1";
  auto kh = q::ResolveKey(pk, "p", h);
  CHECK(kh.applies);
  q::RequestKeys none;
  none.route = "r1";
  CHECK_FALSE(q::ResolveKey(pk, "p", none).applies);

  // Length-prefixed parts: ("ab","c") and ("a","bc") differ.
  auto two = Parse(R"({"limits":[{"name":"x","key":["consumer","route"],"windows":[{"per":"second","limit":1}]}]})");
  q::RequestKeys p1, p2;
  p1.consumer = "ab"; p1.route = "c";
  p2.consumer = "a";  p2.route = "bc";
  CHECK_FALSE(q::ResolveKey(two.limits[0], "", p1).key == q::ResolveKey(two.limits[0], "", p2).key);

  // Long values are hashed: equal values give equal keys, different ones differ.
  std::string long1(5000, 'x'), long2(5000, 'x');
  long2[4999] = 'y';
  guard_header l1[] = {{{"x-api-key", 9}, {long1.data(), long1.size()}}};
  guard_header l2[] = {{{"x-api-key", 9}, {long2.data(), long2.size()}}};
  q::RequestKeys r1 = none, r2 = none;
  r1.headers = l1; r1.header_count = 1;
  r2.headers = l2; r2.header_count = 1;
  CHECK_FALSE(q::ResolveKey(pk, "p", r1).key == q::ResolveKey(pk, "p", r2).key);
  CHECK(q::ResolveKey(pk, "p", r1).key == q::ResolveKey(pk, "p", r1).key);

  // "shared": every request lacking the part pays into one bucket.
  auto sh = Parse(R"({"limits":[{"name":"s","key":["consumer"],"when_missing":"shared","windows":[{"per":"second","limit":1}]}]})");
  q::RequestKeys x1, x2;
  x1.ip = "1.1.1.1";
  x2.ip = "2.2.2.2";
  CHECK(q::ResolveKey(sh.limits[0], "", x1).key == q::ResolveKey(sh.limits[0], "", x2).key);
}

TEST_CASE("keys are stable across processes and releases", "[limits]") {
  // Pinned: every worker and every Kong node must derive the same key (shared memory, Redis). If this changes,
  // the change is a breaking one for mixed-version clusters: say so in the release notes.
  auto c = Parse(R"({"limits":[{"name":"per-consumer","key":["consumer"],"windows":[{"per":"minute","limit":60}]}]})");
  q::RequestKeys r;
  r.consumer = "4f1c2e9a-consumer";
  auto k = q::ResolveKey(c.limits[0], "plugin-7", r);
  char hex[32];
  q::ToHex(k.key, hex);
  CHECK(std::string(hex, 32) == "d414ca305b59049531d5c285a8e3fe43");
}

TEST_CASE("tiers come from consumer tags or a header, else the default", "[limits]") {
  auto c = Parse(kExample);
  const auto& pc = c.limits[0];
  q::RequestKeys r;
  r.consumer = "c-1";
  CHECK(q::ResolveKey(pc, "", r).tier->name == "standard");
  guard_str tags[] = {{"team:blue", 9}, {"tier:premium", 12}};
  r.consumer_tags = tags;
  r.consumer_tag_count = 2;
  auto prem = q::ResolveKey(pc, "", r);
  CHECK(prem.tier->name == "premium");
  guard_str unknown[] = {{"tier:platinum", 13}};
  r.consumer_tags = unknown;
  r.consumer_tag_count = 1;
  auto fallback = q::ResolveKey(pc, "", r);
  CHECK(fallback.tier->name == "standard");
  CHECK_FALSE(fallback.key == prem.key);  // an upgrade starts a fresh bucket

  auto hc = Parse(R"({"limits":[{"name":"h","key":["ip"],"tiers":{"free":[{"per":"second","limit":1}],"gold":[{"per":"second","limit":9}]},"default_tier":"free","tier_from":"header:X-Tier"}]})");
  guard_header hs[] = {{{"x-tier", 6}, {"gold", 4}}};
  q::RequestKeys rh;
  rh.ip = "1.2.3.4";
  rh.headers = hs;
  rh.header_count = 1;
  CHECK(q::ResolveKey(hc.limits[0], "", rh).tier->name == "gold");
}

TEST_CASE("the sync section: defaults, values and errors", "[limits]") {
  auto none = Parse(R"({"global":[{"per":"second","limit":5}]})");
  CHECK_FALSE(none.has_sync);
  auto c = Parse(R"({"global":[{"per":"second","limit":5}],
                     "sync":{"redis":{"host":"redis.internal","port":6380,"password":"s3cret","database":2,"timeout_ms":50},
                             "interval_ms":250,"on_failure":"fail_closed","expected_nodes":4,"prefix":"kga"}})");
  REQUIRE(c.has_sync);
  CHECK(c.sync.host == "redis.internal");
  CHECK(c.sync.port == 6380);
  CHECK(c.sync.password == "s3cret");
  CHECK(c.sync.database == 2);
  CHECK(c.sync.timeout_ms == 50);
  CHECK(c.sync.interval_ms == 250);
  CHECK(c.sync.on_failure == q::FailurePolicy::kFailClosed);
  CHECK(c.sync.expected_nodes == 4);
  CHECK(c.sync.prefix == "kga");
  auto d = Parse(R"({"sync":{}})");
  CHECK(d.sync.host == "127.0.0.1");
  CHECK(d.sync.port == 6379);
  CHECK(d.sync.interval_ms == 100);
  CHECK(d.sync.on_failure == q::FailurePolicy::kLocalFallback);
  CHECK(ErrorOf(R"({"sync":{"redis":{"port":70000}}})") == "quota.sync.redis.port: expected an integer between 1 and 65535");
  CHECK(ErrorOf(R"({"sync":{"on_failure":"panic"}})") ==
        "quota.sync.on_failure: expected one of local_fallback, fail_open, fail_closed");
  CHECK(ErrorOf(R"({"sync":{"interval_ms":1}})") == "quota.sync.interval_ms: expected an integer between 10 and 60000");
  CHECK(ErrorOf(R"({"sync":{"prefix":"a{b}"}})") == "quota.sync.prefix: expected 1 to 64 bytes without braces");
  CHECK(ErrorOf(R"({"sync":{"redis":{"tls":true}}})") == "quota.sync.redis.tls: unknown field");
}
