// Quotas through the C ABI: guard_node_init, the quota fields of guard_request and guard_verdict, the
// v2 constructor's identity, guard_engine_quota_status, and the node table shared by forked workers.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "guard.h"

namespace {

guard_str S(const char* s) { return {s, std::strlen(s)}; }

struct Req {
  std::vector<guard_header> headers;
  guard_request r{};
  explicit Req(const char* ip = "198.51.100.1", const char* query = "page=1") {
    r.method = S("GET");
    r.path = S("/api/items");
    r.query = S(query);
    r.client_ip = S(ip);
    r.route_id = S("route-1");
    r.service_id = S("service-1");
    headers.push_back({S("Host"), S("api.example.com")});
    r.headers = headers.data();
    r.header_count = headers.size();
  }
};

guard_engine* NewEngine(const std::string& json, const char* instance = "test") {
  guard_engine* e = nullptr;
  char err[256] = "";
  guard_engine_options o{S(instance), S("node-a")};
  int rc = guard_engine_new_v2(json.data(), json.size(), &o, &e, err, sizeof err);
  INFO(err);
  REQUIRE(rc == GUARD_OK);
  return e;
}

guard_verdict Inspect(const guard_engine* e, const guard_request& r) {
  guard_verdict v;
  std::memset(&v, 0xAB, sizeof v);  // every field must be written
  char err[256] = "";
  int rc = guard_inspect(e, &r, &v, err, sizeof err);
  INFO(err);
  REQUIRE(rc == GUARD_OK);
  return v;
}

std::string Quota(const std::string& limits, const std::string& extra = "") {
  return R"({"quota":{"limits":[)" + limits + "]" + extra + "}}";
}

}  // namespace

TEST_CASE("guard_node_init refuses 0 bytes and is idempotent") {
  char err[128] = "";
  CHECK(guard_node_init(0, err, sizeof err) == GUARD_EINVAL);
  CHECK(std::string(err) == "shm_bytes is 0");
  CHECK(guard_node_init(1 << 20, err, sizeof err) == GUARD_OK);
  CHECK(guard_node_init(4 << 20, err, sizeof err) == GUARD_OK);  // keeps the first table
  guard_engine* e = NewEngine(Quota(R"({"name":"n","key":["ip"],"windows":[{"per":"minute","limit":5}]})"));
  guard_quota_status st;
  REQUIRE(guard_engine_quota_status(e, &st, err, sizeof err) == GUARD_OK);
  CHECK(st.node_table == 1);
  CHECK(st.table_capacity == 8192);  // largest power of two of 64-byte slots in 1 MiB minus the header
  guard_engine_free(e);
}

TEST_CASE("a verdict carries every rate-limit header value and a refusal is GUARD_ACTION_RATE_LIMITED") {
  guard_engine* e = NewEngine(Quota(R"({"name":"per-ip","key":["ip"],"windows":[{"per":"minute","limit":3}]})"));
  Req req("198.51.100.10");
  for (uint64_t i = 1; i <= 3; ++i) {
    guard_verdict v = Inspect(e, req.r);
    CHECK(v.action == GUARD_ACTION_ALLOW);
    CHECK(v.rate.flags == GUARD_RATE_APPLIED);
    CHECK(v.rate.limit == 3);
    CHECK(v.rate.remaining == 3 - i);
    CHECK(v.rate.reset_s == 20 * i);
    CHECK(v.rate.retry_after_s == 0);
    CHECK(v.rate.period_mask == 0x2u);  // minute
    CHECK(v.rate.period_limit[1] == 3);
    CHECK(v.rate.period_remaining[1] == 3 - i);
    CHECK(std::string(v.rate.window) == "minute");
    CHECK(std::string(v.rate.limit_name) == "per-ip");
    CHECK(std::string(v.rate.policy) == "3;w=60");
  }
  guard_verdict v = Inspect(e, req.r);
  CHECK(v.action == GUARD_ACTION_RATE_LIMITED);
  CHECK(std::string(guard_action_name(v.action)) == "rate_limited");
  CHECK(v.rate.flags == GUARD_RATE_APPLIED);
  CHECK(v.rate.remaining == 0);
  CHECK(v.rate.retry_after_s == 20);
  CHECK(v.rate.reset_s == 60);
  CHECK(v.score == 0);
  CHECK(std::string(v.incident_id).empty());

  Req other("198.51.100.11");  // another IP, another bucket
  CHECK(Inspect(e, other.r).rate.remaining == 2);

  char err[128];
  guard_quota_status st;
  REQUIRE(guard_engine_quota_status(e, &st, err, sizeof err) == GUARD_OK);
  CHECK(st.enabled == 1);
  CHECK(st.sync_state == GUARD_SYNC_NONE);
  CHECK(std::string(st.on_failure).empty());
  CHECK(st.checks == 5);
  CHECK(st.refused == 1);
  CHECK(st.degraded == 0);
  guard_engine_free(e);
}

TEST_CASE("a blocked attack spends no quota and request cost, service id and consumer tags are used") {
  guard_engine* e = NewEngine(Quota(R"({"name":"attack","key":["ip"],"windows":[{"per":"minute","limit":2}]})"));
  Req attack("198.51.100.20", "q=1%27%20union%20select%20password%20from%20users--");
  guard_verdict v = Inspect(e, attack.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(v.rate.flags == 0);
  Req benign("198.51.100.20");
  CHECK(Inspect(e, benign.r).rate.remaining == 1);
  guard_engine_free(e);

  e = NewEngine(Quota(R"({"name":"svc","key":["service"],"windows":[{"per":"hour","limit":10}]})"));
  Req a("198.51.100.21");
  a.r.cost = 4;
  CHECK(Inspect(e, a.r).rate.remaining == 6);
  Req b("198.51.100.22");  // same service, other IP: same bucket
  b.r.cost = 0;            // 0 means 1
  CHECK(Inspect(e, b.r).rate.remaining == 5);
  b.r.service_id = S("service-2");
  CHECK(Inspect(e, b.r).rate.remaining == 9);
  b.r.cost = 11;  // more than the burst: refused for good, no Retry-After
  v = Inspect(e, b.r);
  CHECK(v.action == GUARD_ACTION_RATE_LIMITED);
  CHECK(v.rate.flags == (GUARD_RATE_APPLIED | GUARD_RATE_NEVER));
  CHECK(v.rate.retry_after_s == 0);
  guard_engine_free(e);

  e = NewEngine(Quota(R"({"name":"tiers","key":["consumer"],"default_tier":"free","tier_from":"consumer_tag",
                          "tiers":{"free":[{"per":"day","limit":1}],"gold":[{"per":"day","limit":50}]}})"));
  Req c("198.51.100.23");
  c.r.consumer_id = S("consumer-1");
  guard_str tags[] = {S("team:x"), S("tier:gold")};
  c.r.consumer_tags = tags;
  c.r.consumer_tag_count = 2;
  v = Inspect(e, c.r);
  CHECK(v.rate.limit == 50);
  CHECK(v.rate.period_limit[3] == 50);  // day
  CHECK(std::string(v.rate.window) == "day");
  c.r.consumer_tag_count = 1;  // only "team:x": the default tier
  CHECK(Inspect(e, c.r).rate.limit == 1);
  guard_engine_free(e);
}

TEST_CASE("the request's quota fields are validated") {
  guard_engine* e = NewEngine(Quota(R"({"name":"v","key":["ip"],"windows":[{"per":"second","limit":9}]})"));
  Req r;
  r.r.consumer_tag_count = 1;  // with NULL tags
  guard_verdict v;
  char err[128];
  CHECK(guard_inspect(e, &r.r, &v, err, sizeof err) == GUARD_EINVAL);
  r.r.consumer_tag_count = 0;
  r.r.service_id = {nullptr, 3};
  CHECK(guard_inspect(e, &r.r, &v, err, sizeof err) == GUARD_EINVAL);
  guard_engine_free(e);
}

TEST_CASE("the instance id namespaces buckets and configs without quota report it disabled") {
  const std::string cfg = Quota(R"({"name":"ns","key":["ip"],"windows":[{"per":"minute","limit":5}]})");
  guard_engine* a1 = NewEngine(cfg, "plugin-a");
  guard_engine* a2 = NewEngine(cfg, "plugin-a");  // e.g. the same plugin after a config rebuild
  guard_engine* b = NewEngine(cfg, "plugin-b");
  Req r("198.51.100.30");
  CHECK(Inspect(a1, r.r).rate.remaining == 4);
  CHECK(Inspect(a2, r.r).rate.remaining == 3);
  CHECK(Inspect(b, r.r).rate.remaining == 4);
  guard_engine_free(a1);
  guard_engine_free(a2);
  guard_engine_free(b);

  guard_engine* plain = NewEngine("{}");
  guard_verdict v = Inspect(plain, r.r);
  CHECK(v.rate.flags == 0);
  guard_quota_status st;
  char err[64];
  REQUIRE(guard_engine_quota_status(plain, &st, err, sizeof err) == GUARD_OK);
  CHECK(st.enabled == 0);
  guard_engine_free(plain);
  // an empty quota section (Kong fills an absent record with its defaults) means no quotas
  plain = NewEngine(R"({"quota":{"hide_client_headers":false}})");
  REQUIRE(guard_engine_quota_status(plain, &st, err, sizeof err) == GUARD_OK);
  CHECK(st.enabled == 0);
  guard_engine_free(plain);
}

TEST_CASE("quota config errors name the field") {
  auto error_of = [](const std::string& json) {
    guard_engine* e = nullptr;
    char err[256] = "";
    int rc = guard_engine_new(json.data(), json.size(), &e, err, sizeof err);
    CHECK(rc == GUARD_ECONFIG);
    CHECK(e == nullptr);
    return std::string(err);
  };
  CHECK(error_of(Quota(R"({"name":"x","key":["ip"],"windows":[{"per":"week","limit":1}]})"))
            .find("/quota/limits/0/windows/0/per") != std::string::npos);
  CHECK(error_of(Quota(R"({"name":"x","key":["ip"],"windows":[{"per":"minute","limit":2}],"cost":3})")) ==
        "invalid config: quota.limits[0].cost: larger than the burst of tier default (2 per minute): nothing would "
        "ever pass");
  CHECK(error_of(Quota(R"({"name":"x","key":["ip"],"windows":[{"per":"minute","limit":2},{"per":"minute","limit":3}]})"))
            == "invalid config: quota.limits[0].windows[1].per: period given twice");
}

TEST_CASE("guard_period_name gives the X-RateLimit-*-<Period> names") {
  CHECK(std::string(guard_period_name(0)) == "Second");
  CHECK(std::string(guard_period_name(1)) == "Minute");
  CHECK(std::string(guard_period_name(5)) == "Year");
  CHECK(std::string(guard_period_name(6)).empty());
  CHECK(std::string(guard_period_name(-1)).empty());
}

TEST_CASE("forked workers share the node table made by guard_node_init: exactly the limit over 4 processes") {
  char err[128] = "";
  REQUIRE(guard_node_init(1 << 20, err, sizeof err) == GUARD_OK);
  guard_engine* e = NewEngine(Quota(R"({"name":"fork","key":["ip"],"windows":[{"per":"hour","limit":37}]})"),
                              "fork-test");
  constexpr int kWorkers = 4, kEach = 30;
  int fds[kWorkers][2];
  pid_t pids[kWorkers];
  for (int w = 0; w < kWorkers; ++w) {
    REQUIRE(pipe(fds[w]) == 0);
    pids[w] = fork();
    REQUIRE(pids[w] >= 0);
    if (pids[w] == 0) {
      Req r("198.51.100.40");
      int admitted = 0;
      for (int i = 0; i < kEach; ++i) {
        guard_verdict v;
        char e2[64];
        if (guard_inspect(e, &r.r, &v, e2, sizeof e2) == GUARD_OK && v.action == GUARD_ACTION_ALLOW) ++admitted;
      }
      (void)!write(fds[w][1], &admitted, sizeof admitted);
      _exit(0);
    }
    close(fds[w][1]);
  }
  int total = 0;
  for (int w = 0; w < kWorkers; ++w) {
    int n = 0;
    REQUIRE(read(fds[w][0], &n, sizeof n) == sizeof n);
    close(fds[w][0]);
    int status = 0;
    waitpid(pids[w], &status, 0);
    total += n;
  }
  CHECK(total == 37);
  Req r("198.51.100.40");
  CHECK(Inspect(e, r.r).action == GUARD_ACTION_RATE_LIMITED);  // the parent sees the children's spending
  guard_engine_free(e);
}

TEST_CASE("with sync configured and Redis unreachable on_failure applies and the status says so") {
  // Port 1 on localhost: connection refused at once. The sync thread starts with the first check, not before.
  guard_engine* e = NewEngine(Quota(R"({"name":"sync","key":["ip"],"windows":[{"per":"hour","limit":4}]})",
                                    R"(,"sync":{"redis":{"host":"127.0.0.1","port":1,"timeout_ms":50},
                                        "on_failure":"local_fallback","expected_nodes":2})"),
                              "sync-test");
  char err[64];
  guard_quota_status st;
  REQUIRE(guard_engine_quota_status(e, &st, err, sizeof err) == GUARD_OK);
  CHECK(st.sync_state == GUARD_SYNC_IDLE);
  CHECK(std::string(st.on_failure) == "local_fallback");
  Req r("198.51.100.50");
  guard_verdict v = Inspect(e, r.r);  // each request costs expected_nodes = 2 local tokens
  CHECK(v.action == GUARD_ACTION_ALLOW);
  CHECK(v.rate.flags == (GUARD_RATE_APPLIED | GUARD_RATE_DEGRADED));
  CHECK(v.rate.remaining == 2);
  CHECK(Inspect(e, r.r).rate.remaining == 0);
  CHECK(Inspect(e, r.r).action == GUARD_ACTION_RATE_LIMITED);
  REQUIRE(guard_engine_quota_status(e, &st, err, sizeof err) == GUARD_OK);
  CHECK(st.degraded == 0);  // EngineStats::degraded counts table trouble, not the sync policy
  guard_engine_free(e);
}
