// Engine::Inspect with the signal stages wired: blocklist first, the verdict cache escalating variants of a
// known attack, behaviour decisions from requests and responses. No node region in this test (profiles are
// per process); node_profiles_test.cc covers the node-wide table.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "engine/behaviour_node.h"
#include "engine/engine.h"
#include "engine/signals.h"
#include "../quota/fork_children.h"

namespace {

guard_str S(std::string_view s) { return {s.data(), s.size()}; }

// Two custom rules: "zzevilmark" is an attack (5 + 1 >= threshold 5), "zzevil" alone only scores 1. Both
// values have the token skeleton "w", so they share a request shape when flagged.
constexpr const char* kRules = R"("custom_rules":[
  {"id":900101,"category":"sqli","severity":5,"paranoia":1,"targets":["args"],"patterns":["zzevilmark"],"message":"m"},
  {"id":900102,"category":"sqli","severity":1,"paranoia":1,"targets":["args"],"patterns":["zzevil"],"message":"w"}])";

std::unique_ptr<guard::engine::Engine> Make(const std::string& extra, const char* instance = "inst") {
  std::string json = std::string("{") + kRules + (extra.empty() ? "" : "," + extra) + "}";
  auto e = guard::engine::Engine::Create(json, {instance, "node"});
  REQUIRE(e.ok());
  return std::move(*e);
}

struct Req {
  std::string method = "GET", path = "/search", query, ip = "192.0.2.10", consumer, route = "route-1";
  guard_header host{S("host"), S("a.example")};
  guard_request Build() {
    guard_request r{};
    r.method = S(method);
    r.path = S(path);
    r.query = S(query);
    r.client_ip = S(ip);
    r.consumer_id = S(consumer);
    r.route_id = S(route);
    r.headers = &host;
    r.header_count = 1;
    return r;
  }
};

guard_verdict Inspect(const guard::engine::Engine& e, Req& q) {
  guard_verdict v;
  guard_request r = q.Build();
  REQUIRE(e.Inspect(r, &v).ok());
  return v;
}

guard_decision_info Respond(const guard::engine::Engine& e, const Req& q, int status) {
  guard_response_info r{};
  r.method = S(q.method);
  r.path = S(q.path);
  r.client_ip = S(q.ip);
  r.consumer_id = S(q.consumer);
  r.route_id = S(q.route);
  r.status = status;
  guard_decision_info d;
  REQUIRE(e.Observe(r, &d).ok());
  return d;
}

}  // namespace

TEST_CASE("a cached malicious shape blocks a variant that scores below the threshold") {
  auto e = Make("");
  REQUIRE(e->verdict_cache() != nullptr);
  Req q;
  q.query = "q=zzevil";
  guard_verdict before = Inspect(*e, q);
  CHECK(before.action == GUARD_ACTION_ALLOW);  // alone it scores 1: nothing known yet
  CHECK(before.score == 1);

  q.query = "q=zzevilmark";
  guard_verdict attack = Inspect(*e, q);
  CHECK(attack.action == GUARD_ACTION_BLOCK);
  CHECK((attack.flags & GUARD_VERDICT_CACHED) == 0);
  CHECK(std::strlen(attack.fingerprint) == 32);

  q.query = "q=ZZEVIL";  // the low-scoring variant, other case: same shape, now known
  guard_verdict variant = Inspect(*e, q);
  CHECK(variant.action == GUARD_ACTION_BLOCK);
  CHECK((variant.flags & GUARD_VERDICT_CACHED) != 0);
  CHECK(std::string(variant.fingerprint) == attack.fingerprint);
  CHECK(variant.score >= attack.score);
  CHECK(std::string(variant.target) == "cache");

  q.route = "route-2";  // the key includes the route
  CHECK(Inspect(*e, q).action == GUARD_ACTION_ALLOW);
  q.route = "route-1";
  q.query = "q=hello";  // benign: a different shape, never a malicious hit
  guard_verdict benign = Inspect(*e, q);
  CHECK(benign.action == GUARD_ACTION_ALLOW);
  CHECK(std::string(benign.fingerprint) != attack.fingerprint);
  const auto st = e->verdict_cache()->stats();
  CHECK(st.hits >= 1);
  CHECK(st.inserts == 1);  // the attack; without an ai section no benign shape is stored
}

TEST_CASE("a request no rule matched skips the shape and the cache unless an ai section can use them") {
  // Its shape can only be a benign one (a malicious entry always holds a flagged value's skeleton), and a
  // benign entry matters only to spare a later request an AI escalation.
  auto plain = Make("");
  Req q;
  q.query = "q=hello";
  for (int i = 0; i < 2; ++i) {
    guard_verdict v = Inspect(*plain, q);
    CHECK(v.action == GUARD_ACTION_ALLOW);
    CHECK(std::string(v.fingerprint).empty());
    CHECK((v.flags & GUARD_VERDICT_CACHED) == 0);
  }
  auto st = plain->verdict_cache()->stats();
  CHECK(st.hits + st.misses + st.inserts == 0);
  q.query = "q=zzevil";  // matched (score 1, allowed): its shape is computed and looked up
  guard_verdict low = Inspect(*plain, q);
  CHECK(low.action == GUARD_ACTION_ALLOW);
  CHECK(std::strlen(low.fingerprint) == 32);
  st = plain->verdict_cache()->stats();
  CHECK(st.misses == 1);

  auto with_ai = Make(R"("ai":{"providers":[{"name":"p","kind":"openai","base_url":"http://127.0.0.1:9/v1","model":"m"}]})");
  q.query = "q=hello";
  guard_verdict first = Inspect(*with_ai, q);
  CHECK(std::strlen(first.fingerprint) == 32);
  CHECK((first.flags & GUARD_VERDICT_CACHED) == 0);
  guard_verdict again = Inspect(*with_ai, q);
  CHECK(std::string(again.fingerprint) == first.fingerprint);
  CHECK((again.flags & GUARD_VERDICT_CACHED) != 0);  // a known benign shape: not escalated
  CHECK(with_ai->verdict_cache()->stats().inserts >= 1);
}

TEST_CASE("the cache can be turned off, the version follows the config") {
  auto off = Make(R"("cache":{"enabled":false})");
  CHECK(off->verdict_cache() == nullptr);
  Req q;
  q.query = "q=zzevilmark";
  Inspect(*off, q);
  q.query = "q=zzevil";
  CHECK(Inspect(*off, q).action == GUARD_ACTION_ALLOW);
  auto a = Make(R"("anomaly_threshold":5)");
  auto b = Make(R"("anomaly_threshold":5)", "other-instance");
  auto c = Make(R"("anomaly_threshold":6)");
  CHECK(a->version() == b->version());  // same config, same key space (L2 is shared)
  CHECK(a->version() != c->version());
}

TEST_CASE("blocklist first: a static deny blocks before the signatures, an allow wins over it") {
  auto e = Make(R"("blocklist":{"deny":["198.51.100.0/24","consumer:bad"],"allow":["198.51.100.7"]})");
  Req q;
  q.query = "q=1";
  q.ip = "198.51.100.9";
  guard_verdict v = Inspect(*e, q);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK((v.flags & GUARD_VERDICT_BANNED) != 0);
  CHECK(std::string(v.category) == "behaviour");
  CHECK(std::string(v.target) == "blocklist");
  q.ip = "198.51.100.7";
  CHECK(Inspect(*e, q).action == GUARD_ACTION_ALLOW);
  q.ip = "203.0.113.1";
  q.consumer = "bad";
  CHECK(Inspect(*e, q).action == GUARD_ACTION_BLOCK);
  q.consumer = "";
  CHECK(Inspect(*e, q).action == GUARD_ACTION_ALLOW);
}

TEST_CASE("the shared blocklist: a published ban applies to every engine of the process, allow wins") {
  auto e1 = Make("", "one");
  auto e2 = Make("", "two");
  Req q;
  q.ip = "203.0.113.50";
  REQUIRE(guard::engine::PublishBlocklistLines("ban 203.0.113.50 0 test\n").ok());
  CHECK(Inspect(*e1, q).action == GUARD_ACTION_BLOCK);
  CHECK(Inspect(*e2, q).action == GUARD_ACTION_BLOCK);
  REQUIRE(guard::engine::PublishBlocklistLines("allow 203.0.113.0/24 0 office\n").ok());
  CHECK(Inspect(*e1, q).action == GUARD_ACTION_ALLOW);
  REQUIRE(guard::engine::PublishBlocklistLines("unallow 203.0.113.0/24\nunban 203.0.113.50\n").ok());
  CHECK(Inspect(*e2, q).action == GUARD_ACTION_ALLOW);
}

TEST_CASE("probing: 404 answers throttle the client after exactly the bucket capacity, others unaffected") {
  // No leak, so the count is exact whatever the time between calls.
  auto e = Make(R"("behaviour":{"enabled":true,"scenarios":[
      {"name":"probing","capacity":5,"leak_per_sec":0,"feeds":{"status_404":1},"decision":"throttle","ttl_s":60}]})");
  Req scanner;
  scanner.ip = "192.0.2.66";
  int decided_at = 0;
  for (int i = 1; i <= 10 && decided_at == 0; ++i) {
    scanner.path = "/p" + std::to_string(i);
    CHECK(Inspect(*e, scanner).action == GUARD_ACTION_ALLOW);
    guard_decision_info d = Respond(*e, scanner, 404);
    if (d.decision == GUARD_DECISION_THROTTLE) {
      decided_at = i;
      CHECK(d.is_new == 1);
      CHECK(std::string(d.scenario) == "probing");
    }
  }
  CHECK(decided_at == 6);  // the first 404 that takes the level above 5
  guard_verdict v = Inspect(*e, scanner);
  CHECK(v.action == GUARD_ACTION_RATE_LIMITED);
  CHECK((v.flags & GUARD_VERDICT_THROTTLED) != 0);
  CHECK(v.rate.retry_after_s >= 59);
  CHECK(v.rate.retry_after_s <= 60);

  Req browser;
  browser.ip = "192.0.2.67";
  for (int i = 0; i < 20; ++i) {
    CHECK(Inspect(*e, browser).action == GUARD_ACTION_ALLOW);
    Respond(*e, browser, 200);
  }
  CHECK(e->signals()->decisions_throttle.load() == 1);
}

TEST_CASE("credential stuffing: failed logins ban the client through the blocklist, the allow list exempts") {
  auto e = Make(R"("behaviour":{"enabled":true,"scenarios":[
      {"name":"credential_stuffing","capacity":4,"leak_per_sec":0,"feeds":{"login_failure":1},"decision":"ban","ttl_s":300}]},
      "blocklist":{"allow":["192.0.2.200"]})");
  Req stuffer;
  stuffer.method = "POST";
  stuffer.path = "/api/login";
  stuffer.ip = "192.0.2.77";
  int decided_at = 0;
  for (int i = 1; i <= 10 && decided_at == 0; ++i) {
    REQUIRE(Inspect(*e, stuffer).action == GUARD_ACTION_ALLOW);
    if (Respond(*e, stuffer, 401).decision == GUARD_DECISION_BAN) decided_at = i;
  }
  CHECK(decided_at == 5);
  guard_verdict v = Inspect(*e, stuffer);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK((v.flags & GUARD_VERDICT_BANNED) != 0);
  CHECK(std::string(v.target) == "blocklist");
  bool listed = false;
  for (const auto& entry : guard::engine::SharedBlocklist().Entries(guard::engine::CoarseUnixMs()))
    if (entry.subject == "192.0.2.77/32" || entry.subject == "::ffff:192.0.2.77/128") listed = true;
  CHECK(listed);

  Req partner = stuffer;
  partner.ip = "192.0.2.200";  // allowlisted: never profiled, never decided
  for (int i = 0; i < 10; ++i) {
    REQUIRE(Inspect(*e, partner).action == GUARD_ACTION_ALLOW);
    CHECK(Respond(*e, partner, 401).decision == GUARD_DECISION_NONE);
  }
  CHECK(Inspect(*e, partner).action == GUARD_ACTION_ALLOW);

  // An admin unban lifts it: the profile's ban is not enforced once it is off the blocklist.
  REQUIRE(guard::engine::PublishBlocklistLines("unban 192.0.2.77\n").ok());
  CHECK(Inspect(*e, stuffer).action == GUARD_ACTION_ALLOW);
}

TEST_CASE("repeated attacks ban the client (attack_burst), low-severity matches do not count") {
  auto e = Make(R"("behaviour":{"enabled":true,"scenarios":[{"name":"attack_burst","capacity":3,"leak_per_sec":0}]})");
  Req q;
  q.ip = "192.0.2.90";
  q.query = "q=zzevil";  // scores 1: not an attack, must never feed a ban
  for (int i = 0; i < 10; ++i) CHECK(Inspect(*e, q).action == GUARD_ACTION_ALLOW);
  q.ip = "192.0.2.91";
  q.query = "q=zzevilmark";
  int banned_at = 0;
  for (int i = 1; i <= 10 && banned_at == 0; ++i) {
    guard_verdict v = Inspect(*e, q);
    CHECK(v.action == GUARD_ACTION_BLOCK);
    if (v.flags & GUARD_VERDICT_BANNED) banned_at = i;
  }
  CHECK(banned_at == 4);
  q.query = "q=harmless";
  CHECK(Inspect(*e, q).action == GUARD_ACTION_BLOCK);  // banned: even benign requests
}

namespace {
uint64_t Probe404(const guard::engine::Engine& e, int n) {
  Req q;
  q.ip = "192.0.2.33";
  uint64_t decided = 0;
  for (int i = 0; i < n; ++i) decided += Respond(e, q, 404).is_new;
  return decided;
}
}  // namespace

TEST_CASE("without the node region each process judges only its own share (the failure the region fixes)") {
  // Nothing in this binary calls InitBehaviourNode: profiles are per process.
  auto e = guard::engine::Engine::Create(R"({"behaviour":{"enabled":true,"scenarios":[
      {"name":"probing","capacity":10,"leak_per_sec":0,"feeds":{"status_404":1},"decision":"ban","ttl_s":600}]}})",
                                         {"inst", "node"});
  REQUIRE(e.ok());
  REQUIRE_FALSE((*e)->signals()->node_profiles);
  const uint64_t decisions = guard::quota::testing::SumInChildren(2, [&](int) { return Probe404(**e, 6); });
  CHECK(decisions == 0);
}


TEST_CASE("a warm file preloads known attacks (their own keys only) into L1") {
  const std::string path = std::string(GUARD_BINARY_DIR) + "/warm_test.jsonl";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs(R"({"route_id":"route-1","request":{"method":"GET","path":"/search","query":"q=zzevilmark"},)"
               R"("verdict":{"kind":"malicious","score":9,"rule_id":900101,"categories":["sqli"]}})" "\n", f);
    std::fputs(R"({"route_id":"route-1","request":{"method":"GET","path":"/search","query":"q=hello"},)"
               R"("verdict":{"kind":"malicious","score":9,"rule_id":1,"categories":["sqli"]}})" "\n", f);  // unflagged: refused
    std::fclose(f);
  }
  auto e = Make(R"("cache":{"warm_file":")" + path + "\"}");
  CHECK(e->signals()->warmed == 1);
  Req q;
  q.query = "q=zzEvil";  // scores 1, but the warm entry knows its shape
  guard_verdict v = Inspect(*e, q);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK((v.flags & GUARD_VERDICT_CACHED) != 0);
  q.query = "q=hello";  // the refused line poisoned nothing
  CHECK(Inspect(*e, q).action == GUARD_ACTION_ALLOW);
  auto missing = guard::engine::Engine::Create(std::string("{") + kRules + R"(,"cache":{"warm_file":"/nonexistent/x"}})");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(std::string(missing.status().message()), Catch::Contains("cache.warm_file"));
}

TEST_CASE("monitor mode reports a banned client instead of blocking it") {
  auto e = Make(R"("mode":"monitor","blocklist":{"deny":["198.51.100.0/24"]})");
  Req q;
  q.ip = "198.51.100.3";
  q.query = "q=zzevil";
  guard_verdict v = Inspect(*e, q);
  CHECK(v.action == GUARD_ACTION_MONITOR);
  CHECK((v.flags & GUARD_VERDICT_BANNED) != 0);
  CHECK(std::string(v.target) == "blocklist");
  CHECK(v.rule_count == 1);  // inspected as usual: the signatures ran, and the shape of what they matched
  CHECK(std::strlen(v.fingerprint) == 32);
}
