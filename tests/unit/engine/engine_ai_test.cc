// The engine side of AI escalation: which verdicts are escalated, and the verdict-cache entry an AI answer
// makes (the contract with the fingerprint / verdict-cache work: key parsed from guard_verdict.fingerprint).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cache/verdict_cache.h"
#include "engine/ai_cache_entry.h"
#include "engine/behaviour_node.h"
#include "engine/engine.h"
#include "quota/engine.h"

using namespace guard;

namespace {

guard_str S(const char* s) { return {s, std::strlen(s)}; }

guard_verdict Inspect(const engine::Engine& e, const char* query) {
  std::vector<guard_header> headers = {{S("Host"), S("api.example.com")}, {S("User-Agent"), S("Mozilla/5.0")}};
  guard_request r{};
  r.method = S("GET");
  r.path = S("/items");
  r.query = S(query);
  r.client_ip = S("10.0.0.1");
  r.headers = headers.data();
  r.header_count = headers.size();
  guard_verdict v;
  REQUIRE(e.Inspect(r, &v).ok());
  return v;
}

const char* kProviders = R"("providers": [{"name": "p", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}])";

}  // namespace

TEST_CASE("the grey zone from escalate_min_score up to anomaly_threshold is escalated, nothing else") {
  auto e = engine::Engine::Create(std::string(R"({"anomaly_threshold": 100, "ai": {"escalate_min_score": 3, )") +
                                  kProviders + "}}");
  REQUIRE(e.ok());
  REQUIRE((*e)->ai() != nullptr);
  const guard_verdict sqli = Inspect(**e, "id=1%27%20UNION%20SELECT%20password%20FROM%20users--");
  CHECK(sqli.score >= 3);
  CHECK(sqli.action == GUARD_ACTION_ALLOW);
  CHECK((sqli.flags & GUARD_VERDICT_ESCALATE) != 0);
  CHECK((Inspect(**e, "q=shoes").flags & GUARD_VERDICT_ESCALATE) == 0);

  // Above the grey zone the signatures decide alone.
  auto blocking = engine::Engine::Create(std::string(R"({"ai": {)") + kProviders + "}}");
  REQUIRE(blocking.ok());
  const guard_verdict blocked = Inspect(**blocking, "id=1%27%20UNION%20SELECT%20password%20FROM%20users--");
  CHECK(blocked.action == GUARD_ACTION_BLOCK);
  CHECK((blocked.flags & GUARD_VERDICT_ESCALATE) == 0);

  // Without an ai section there is no client and no escalation.
  auto plain = engine::Engine::Create(R"({"anomaly_threshold": 100})");
  REQUIRE(plain.ok());
  CHECK((*plain)->ai() == nullptr);
  CHECK((Inspect(**plain, "id=1%27%20UNION%20SELECT%20password%20FROM%20users--").flags & GUARD_VERDICT_ESCALATE) == 0);
  guard_request r{};
  guard_verdict v{};
  CHECK((*plain)->SubmitAi(r, v).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("the config's ai section: defaults from the schema, escalation keys kept from the provider parser") {
  auto e = engine::Engine::Create(std::string(R"({"ai": {"mode": "async", "fallback": "block", )") + kProviders + "}}");
  REQUIRE(e.ok());
  const config::AiSection& a = (*e)->config().ai;
  CHECK((*e)->config().has_ai);
  CHECK(a.mode == config::AiSection::Mode::kAsync);
  CHECK(a.fallback == config::AiSection::Fallback::kBlock);
  CHECK(a.deadline_ms == 1500);
  CHECK(a.poll_ms == 10);
  CHECK(a.escalate_min_score == 2);
  CHECK(a.escalate_behaviour);
  CHECK(a.providers.strategy == providers::Strategy::kBalanced);
  REQUIRE(a.providers.providers.size() == 1);
  CHECK(a.providers.providers[0].max_concurrency == 8);
  // An unknown key inside a provider is an error naming its path (providers::ParseAiConfig).
  auto bad = engine::Engine::Create(
      R"({"ai": {"providers": [{"name": "p", "kind": "openai", "base_url": "http://x/v1", "model": "m", "breaker": {"failures": 0}}]}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("ai") != std::string::npos);
}

TEST_CASE("guard_verdict.fingerprint parses back into the Hash128 it was written from") {
  fingerprint::Hash128 h{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  fingerprint::Hash128 back;
  REQUIRE(engine::ParseFingerprintHex(h.Hex(), &back));
  CHECK(back == h);
  CHECK_FALSE(engine::ParseFingerprintHex("", &back));  // not computed (before the fingerprint stage)
  CHECK_FALSE(engine::ParseFingerprintHex("0123456789abcdef0123456789abcdeg", &back));
  CHECK_FALSE(engine::ParseFingerprintHex("0123456789abcdef0123456789abcde", &back));
}

TEST_CASE("an AI block becomes a malicious cache entry that a same-shape flagged request hits") {
  auto cache = cache::VerdictCache::Create(cache::VerdictCacheConfig{});
  REQUIRE(cache.ok());
  const cache::VerdictKey key{fingerprint::Hash128{1, 2}, cache::RouteKey("route-1"), 7};
  providers::AiVerdict block;
  block.threat = true;
  block.category = "sqli";
  block.action = providers::AiAction::kBlock;
  const cache::CachedVerdict m = engine::AiCacheEntry(block, 3, 5, 0, 942100);
  CHECK(m.kind == cache::VerdictKind::kMalicious);
  CHECK(m.score == 5);
  CHECK(m.categories == (uint64_t{1} << GUARD_CAT_SQLI));
  CHECK(m.rule_id == 942100);
  REQUIRE((*cache)->Insert(key, m, true, 1000).ok());
  auto hit = (*cache)->Lookup(key, true, 1001);
  REQUIRE(hit.has_value());
  CHECK(hit->kind == cache::VerdictKind::kMalicious);

  // A benign answer keeps the local score; the cache refuses it for a flagged request (never "benign" there).
  providers::AiVerdict allow;
  allow.category = "none";
  const cache::CachedVerdict b = engine::AiCacheEntry(allow, 3, 5, 0, 942100);
  CHECK(b.kind == cache::VerdictKind::kBenign);
  CHECK(b.score == 3);
  const cache::VerdictKey other{fingerprint::Hash128{3, 4}, cache::RouteKey("route-1"), 7};
  CHECK_FALSE((*cache)->Insert(other, b, true, 1000).ok());
  CHECK((*cache)->Insert(other, b, false, 1000).ok());
}

TEST_CASE("a shape the AI cleared is not escalated again on that route (once the fingerprint is filled)") {
  auto e = engine::Engine::Create(std::string(R"({"anomaly_threshold": 100, "ai": {)") + kProviders + "}}");
  REQUIRE(e.ok());
  REQUIRE((*e)->ai_cleared() != nullptr);
  guard_request r{};
  r.route_id = S("route-1");
  guard_verdict v{};
  v.action = GUARD_ACTION_ALLOW;
  v.score = 5;
  v.threshold = 100;
  v.rule_count = 1;

  // No fingerprint (as before the fingerprint stage is merged): always escalated.
  (*e)->MarkEscalation(r, &v);
  CHECK((v.flags & GUARD_VERDICT_ESCALATE) != 0);

  const fingerprint::Hash128 fp{0x1111, 0x2222};
  std::snprintf(v.fingerprint, sizeof v.fingerprint, "%s", fp.Hex().c_str());
  v.flags = 0;
  (*e)->MarkEscalation(r, &v);
  CHECK((v.flags & GUARD_VERDICT_ESCALATE) != 0);  // not cleared yet

  providers::AiVerdict allow;
  allow.category = "none";
  const cache::VerdictKey key{fp, cache::RouteKey("route-1"), (*e)->version()};
  REQUIRE((*e)->ai_cleared()->Insert(key, engine::AiCacheEntry(allow, 5, 100, 0, 0), false,
                                     engine::CoarseUnixMs()).ok());  // Inspect's clock
  v.flags = 0;
  (*e)->MarkEscalation(r, &v);
  CHECK((v.flags & GUARD_VERDICT_ESCALATE) == 0);  // cleared: the local verdict stands, no call

  guard_request other = r;
  other.route_id = S("route-2");
  (*e)->MarkEscalation(other, &v);
  CHECK((v.flags & GUARD_VERDICT_ESCALATE) != 0);  // per route
}
