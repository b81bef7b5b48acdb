// Scenario detectors on the behaviour engine: exact overflow points, escalation, and benign traffic
// that must never trigger anything.
#include "behaviour/behaviour.h"

#include <catch2/catch.hpp>

#include <random>

#include "fingerprint/client.h"
#include "fingerprint/request_shape.h"

using namespace guard::behaviour;
using guard::fingerprint::RouteTemplateHash;
using guard::fingerprint::UaClass;

namespace {

std::unique_ptr<BehaviourEngine> Engine(BehaviourConfig c = DefaultBehaviourConfig()) {
  c.memory_budget_bytes = 1u << 20;
  auto e = BehaviourEngine::Create(c);
  REQUIRE(e.ok());
  return std::move(*e);
}

RequestEvent Get(std::string_view path, UaClass ua = UaClass::kBrowser) {
  RequestEvent ev;
  ev.method = "GET";
  ev.route_template = RouteTemplateHash(path);
  ev.has_numeric_id = guard::fingerprint::LastNumericSegment(path, &ev.numeric_id);
  ev.ua_class = ua;
  ev.header_fingerprint = 0x1234;
  return ev;
}

int FeedIndex(std::string_view name) {
  for (int f = 0; f < static_cast<int>(Feed::kCount); ++f)
    if (FeedName(static_cast<Feed>(f)) == name) return f;
  return -1;
}

BehaviourConfig OneScenario(std::string_view feed, float capacity, float leak, DecisionType d) {
  BehaviourConfig c = DefaultBehaviourConfig();
  ScenarioConfig s;
  s.name = "test";
  s.capacity = capacity;
  s.leak_per_sec = leak;
  s.feeds[FeedIndex(feed)] = 1;
  s.score = 7;
  s.decision = d;
  s.ttl_ms = 1000;
  s.ttl_multiplier = 4;
  s.max_ttl_ms = 20000;
  c.scenarios = {s};
  return c;
}

}  // namespace

TEST_CASE("escalated TTLs") {
  ScenarioConfig s;
  s.ttl_ms = 60'000;
  s.ttl_multiplier = 4;
  s.max_ttl_ms = 86'400'000;
  CHECK(EscalatedTtl(s, 1) == 60'000);
  CHECK(EscalatedTtl(s, 2) == 240'000);
  CHECK(EscalatedTtl(s, 3) == 960'000);
  CHECK(EscalatedTtl(s, 6) == 61'440'000);
  CHECK(EscalatedTtl(s, 7) == 86'400'000);
  CHECK(EscalatedTtl(s, 200) == 86'400'000);
  CHECK(Leak(10, 2, 0, 1500) == Approx(7));
  CHECK(Leak(1, 2, 0, 1500) == 0);
}

TEST_CASE("a bucket overflows exactly past capacity and escalates on repeat offences") {
  auto e = Engine(OneScenario("status_404", 10, 0, DecisionType::kThrottle));
  ResponseEvent nf{404};
  int64_t t = 1000;
  for (int i = 0; i < 10; ++i) {
    Assessment a = e->OnResponse(7, nf, t);
    CHECK(a.decision == DecisionType::kNone);
    CHECK(a.overflowed == 0);
  }
  Assessment a = e->OnResponse(7, nf, t);
  CHECK(a.overflowed == 1);
  CHECK(a.score == 7);
  CHECK(a.new_decision);
  CHECK(a.decision == DecisionType::kThrottle);
  CHECK(a.decision_until_ms == t + 1000);
  CHECK(a.offences == 1);
  // The decision is reported on later events without being "new".
  Assessment later = e->OnRequest(7, Get("/x"), t + 10);
  CHECK(later.decision == DecisionType::kThrottle);
  CHECK_FALSE(later.new_decision);
  CHECK(later.score == 0);
  // Second and third offences: x4 each, then the cap.
  const int64_t expect[] = {4000, 16000, 20000, 20000};
  for (int64_t ttl : expect) {
    t += 100'000;
    for (int i = 0; i < 10; ++i) CHECK(e->OnResponse(7, nf, t).overflowed == 0);
    a = e->OnResponse(7, nf, t);
    CHECK(a.new_decision);
    CHECK(a.decision_until_ms == t + ttl);
  }
  CHECK(a.offences == 5);
  // Expired decisions are gone; Forgive resets offences.
  CHECK(e->OnRequest(7, Get("/x"), t + 20'001).decision == DecisionType::kNone);
  CHECK(e->Forgive(7, t));
  CHECK_FALSE(e->Forgive(8, t));
  CHECK(e->OnRequest(7, Get("/x"), t + 1).offences == 0);
}

TEST_CASE("buckets leak: a slow steady client never overflows") {
  auto e = Engine(OneScenario("status_404", 5, 1, DecisionType::kBan));
  int64_t t = 0;
  for (int i = 0; i < 100; ++i, t += 1100) CHECK(e->OnResponse(1, ResponseEvent{404}, t).overflowed == 0);
  int overflow_at = -1;
  for (int i = 0; i < 10 && overflow_at < 0; ++i)
    if (e->OnResponse(1, ResponseEvent{404}, t).overflowed) overflow_at = i;
  CHECK(overflow_at == 5);  // level was ~0: the 6th quick 404 makes it 6 > 5
}

TEST_CASE("credential stuffing: failed logins with many usernames") {
  auto e = Engine();
  int64_t t = 0;
  int ban_at = -1;
  for (int k = 1; k <= 10 && ban_at < 0; ++k, t += 1000) {
    RequestEvent ev = Get("/login");
    ev.method = "POST";
    ev.login_route = true;
    ev.username = 1000 + k;  // a new username each time
    CHECK(e->OnRequest(5, ev, t).decision == DecisionType::kNone);
    Assessment a = e->OnResponse(5, ResponseEvent{401, true}, t);
    if (a.new_decision) {
      ban_at = k;
      CHECK(a.decision == DecisionType::kBan);
      CHECK(a.decision_until_ms == t + 300'000);
      CHECK(e->config().scenarios[a.scenario].name == "credential_stuffing");
    }
  }
  // Each attempt pours 0.5 (new username) + 1 (failure); the bucket leaks 0.05/s: 7 x 1.5 - 0.3 > 10.
  CHECK(ban_at == 7);
  auto s = e->Inspect(5, t);
  REQUIRE(s.has_value());
  CHECK(s->login_failures == 7);
  CHECK(s->distinct_usernames == 7);
  CHECK(s->denied_ratio == Approx(1.0));

  // The same user mistyping a password four times is nothing.
  auto f = Engine();
  for (int k = 0; k < 4; ++k) {
    RequestEvent ev = Get("/login");
    ev.login_route = true;
    ev.username = 77;
    f->OnRequest(6, ev, k * 5000);
    CHECK(f->OnResponse(6, ResponseEvent{401, true}, k * 5000).decision == DecisionType::kNone);
  }
}

TEST_CASE("enumeration: sequential ids on one route") {
  auto e = Engine();
  int throttle_at = -1;
  for (int i = 1; i <= 40 && throttle_at < 0; ++i)
    if (e->OnRequest(9, Get("/invoices/" + std::to_string(1000 + i)), i * 100).new_decision) throttle_at = i;
  // 26 sequential steps (from the 2nd request) minus 0.2/s of leak over 2.5 s: 25.5 > 25.
  CHECK(throttle_at == 27);
  CHECK(e->Inspect(9, 2700)->sequential_run == 26);

  // Random ids on the same route: nothing.
  auto f = Engine();
  std::mt19937 rng(3);
  for (int i = 1; i <= 200; ++i)
    CHECK(f->OnRequest(9, Get("/invoices/" + std::to_string(rng() % 1000000)), i * 100).decision ==
          DecisionType::kNone);
}

TEST_CASE("probing: a scanner's 404s on many routes") {
  auto e = Engine();
  int64_t t = 0;
  bool throttled = false;
  int n = 0;
  for (; n < 100 && !throttled; ++n, t += 50) {
    std::string path = "/probe-" + std::to_string(n) + "/admin.php";
    e->OnRequest(11, Get(path, UaClass::kOther), t);
    throttled = e->OnResponse(11, ResponseEvent{404}, t).new_decision;
  }
  CHECK(throttled);
  CHECK(n == 21);  // each pours 0.5 (new route) + 1 (404): 21 x 1.5 - 0.5/s x 1 s > 30
}

TEST_CASE("burst: rate far above the client's own baseline") {
  auto e = Engine();
  int64_t t = 0;
  // Five windows of 30 requests: baseline ~30, threshold 5 x 30 = 150 per window.
  for (int w = 0; w < 5; ++w)
    for (int i = 0; i < 30; ++i, t += 10'000 / 30) CHECK(e->OnRequest(12, Get("/feed"), t).decision == DecisionType::kNone);
  auto s = e->Inspect(12, t);
  CHECK(s->baseline == Approx(30).margin(1));
  // 400 requests in 4 s: the rate passes 150, and 50 requests later the burst bucket overflows.
  int throttle_at = -1;
  for (int i = 0; i < 400 && throttle_at < 0; ++i, t += 10)
    if (e->OnRequest(12, Get("/feed"), t).new_decision) throttle_at = i;
  CHECK(throttle_at > 100);
  CHECK(throttle_at < 260);
}

TEST_CASE("scripted bot: metronome timing from a non-browser, rotating header fingerprints") {
  auto e = Engine();
  int throttle_at = -1;
  const char* routes[] = {"/api/items", "/api/users", "/api/orders"};  // a script walking several routes
  for (int i = 0; i < 60 && throttle_at < 0; ++i)
    if (e->OnRequest(20, Get(routes[i % 3], UaClass::kLibrary), i * 500).new_decision) throttle_at = i;
  // Regular from the 8th inter-arrival sample (9th request, index 8) while the window has seen 3 routes;
  // the window rolls at index 20 (10 s), so indexes 20 and 21 (1 and 2 routes) pour nothing: events at
  // 8..19 and 22..31 are 22, less 23 x 0.05 of leak = 20.85 > 20.
  CHECK(throttle_at == 31);

  // One route at a fixed pace (a poller, a 5 s health check) is not a script walking the site.
  auto poll = Engine();
  for (int i = 0; i < 500; ++i)
    CHECK(poll->OnRequest(25, Get("/api/items", UaClass::kLibrary), i * 500).decision == DecisionType::kNone);

  // The same timing from a real browser is not scored; jittered library traffic is not either.
  auto b = Engine();
  for (int i = 0; i < 60; ++i) CHECK(b->OnRequest(21, Get("/api/items"), i * 500).decision == DecisionType::kNone);
  auto j = Engine();
  std::mt19937 rng(5);
  int64_t t = 0;
  for (int i = 0; i < 200; ++i, t += 200 + rng() % 1800)
    CHECK(j->OnRequest(22, Get("/api/items", UaClass::kLibrary), t).decision == DecisionType::kNone);

  // One IP, a new header fingerprint on every request.
  auto r = Engine();
  bool rotated = false;
  for (uint64_t i = 0; i < 30 && !rotated; ++i) {
    RequestEvent ev = Get("/");
    ev.header_fingerprint = 0xABC0 + i * 7919;
    rotated = r->OnRequest(23, ev, static_cast<int64_t>(i * 300)).new_decision;
  }
  CHECK(rotated);
  // Same header shape, a new User-Agent string each time: rotation as well.
  auto u = Engine();
  rotated = false;
  for (uint64_t i = 0; i < 30 && !rotated; ++i) {
    RequestEvent ev = Get("/");
    ev.ua_hash = 0x5150 + i * 104729;
    rotated = u->OnRequest(24, ev, static_cast<int64_t>(i * 300)).new_decision;
  }
  CHECK(rotated);
}

TEST_CASE("benign browsing never triggers anything") {
  auto e = Engine();
  std::mt19937 rng(11);
  const char* pages[] = {"/", "/products", "/products/", "/cart", "/account", "/search", "/help", "/blog/"};
  int64_t t = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string path = pages[rng() % 8];
    if (path.back() == '/' && path.size() > 1) path += std::to_string(rng() % 5000);
    Assessment a = e->OnRequest(30, Get(path), t);
    CHECK(a.score == 0);
    CHECK(a.decision == DecisionType::kNone);
    int status = rng() % 100 == 0 ? 404 : 200;
    a = e->OnResponse(30, ResponseEvent{status}, t);
    CHECK(a.decision == DecisionType::kNone);
    t += 300 + rng() % 3000;
  }
  // A health checker: one route, fixed interval, curl: regular timing but fed only by regularity,
  // and 1 request / 10 s leaks faster (0.1/s) than it pours.
  auto h = Engine();
  for (int i = 0; i < 500; ++i) CHECK(h->OnRequest(31, Get("/health", UaClass::kCliTool), i * 10'000).decision == DecisionType::kNone);
}

TEST_CASE("signals") {
  auto e = Engine();
  e->OnRequest(40, Get("/a"), 0);
  e->OnRequest(40, Get("/b"), 100);
  e->OnRequest(40, Get("/c"), 200);
  e->OnRequest(40, Get("/a"), 300);
  RequestEvent bad = Get("/a");
  bad.signature_score = 8;
  e->OnRequest(40, bad, 400);
  for (int st : {200, 404, 404, 403, 200}) e->OnResponse(40, ResponseEvent{st}, 500);
  auto s = e->Inspect(40, 500);
  REQUIRE(s.has_value());
  CHECK(s->rate == 5);
  CHECK(s->distinct_templates == 3);
  CHECK(s->not_found_ratio == Approx(0.4));
  CHECK(s->denied_ratio == Approx(0.2));
  CHECK(s->signature_hits == 1);
  CHECK(s->header_fingerprints == 1);
  CHECK(s->timing_cv == -1);  // not enough samples
  // Next window: the previous window still counts, weighted by its overlap.
  s = e->Inspect(40, 15'000);
  CHECK(s->rate == Approx(2.5));
  CHECK(s->distinct_templates == 0);
  CHECK_FALSE(e->Inspect(41, 0).has_value());
}

TEST_CASE("config parsing") {
  auto c = ParseBehaviourConfig(R"({"window_ms": 5000, "scenarios": [
      {"name": "n", "capacity": 3, "leak_per_sec": 0.5, "feeds": {"status_404": 2, "new_template": 1},
       "decision": "ban", "ttl_ms": 1000, "max_ttl_ms": 5000, "score": 4}]})");
  REQUIRE(c.ok());
  CHECK(c->window_ms == 5000);
  REQUIRE(c->scenarios.size() == 1);
  CHECK(c->scenarios[0].feeds[FeedIndex("status_404")] == 2);
  CHECK(c->scenarios[0].decision == DecisionType::kBan);
  CHECK(c->scenarios[0].score == 4);
  CHECK(ParseBehaviourConfig("{}")->scenarios.size() == 6);
  CHECK(ParseBehaviourConfig(R"({"scenarios":[{"name":"x","feeds":{"status_405":1}}]})").status().message() ==
        "behaviour.scenarios[0].feeds.status_405 is not an event");
  CHECK(ParseBehaviourConfig(R"({"window_ms":"10"})").status().message() == "behaviour.window_ms must be a number");
  CHECK(ParseBehaviourConfig(R"({"window_ms":10})").status().message() == "behaviour.window_ms must be >= 1000");
  CHECK(ParseBehaviourConfig(R"({"scenarios":[{"name":"x","feeds":{},"decision":"kill"}]})").status().message() ==
        "behaviour.scenarios[0].decision must be \"none\", \"throttle\" or \"ban\"");
  CHECK_FALSE(ParseBehaviourConfig("[").ok());
  CHECK(ParseBehaviourConfig(R"({"warmup_windows":70000})").status().message() ==
        "behaviour.warmup_windows must be a non-negative integer");
}
