// Parsing of the "ai" config object: defaults, every field, and errors that name the JSON path.
#include <catch2/catch.hpp>

#include "providers/config.h"

using namespace guard::providers;

TEST_CASE("a full config parses") {
  auto c = ParseAiConfig(R"({
    "strategy": "priority", "max_attempts": 2, "budget_usd_per_day": 25, "max_body_bytes": 1024,
    "headers": ["User-Agent"], "weights": {"speed": 1, "accuracy": 0, "cost": 0, "headroom": 0},
    "providers": [
      {"name": "groq", "kind": "groq", "base_url": "https://api.groq.com/openai/v1", "model": "llama",
       "api_key": "k", "timeout_ms": 1500, "priority": 1, "rpm": 30, "tpm": 6000, "rpd": 1000,
       "usd_per_day": 2, "usd_per_1m_input": 0.05, "usd_per_1m_output": 0.08, "max_output_tokens": 120,
       "max_concurrency": 4, "max_queue": 16,
       "breaker": {"failures": 3, "error_rate": 0.4, "min_calls": 5, "window_ms": 30000, "cooldown_ms": 2000,
                   "half_open_probes": 2}},
      {"name": "claude", "kind": "anthropic", "base_url": "https://api.anthropic.com/v1", "model": "c"}
    ]})");
  REQUIRE(c.ok());
  CHECK(c->strategy == Strategy::kPriority);
  CHECK(c->max_attempts == 2);
  CHECK(c->prompt.max_body_bytes == 1024);
  CHECK(c->prompt.headers == std::vector<std::string>{"user-agent"});
  REQUIRE(c->providers.size() == 2);
  const ProviderConfig& g = c->providers[0];
  CHECK(g.kind == ProviderKind::kOpenAI);
  CHECK(g.timeout == absl::Milliseconds(1500));
  CHECK(g.limits.rpm == 30);
  CHECK(g.limits.usd_per_day == 2);
  CHECK(g.breaker.cooldown == absl::Seconds(2));
  CHECK(g.breaker.half_open_probes == 2);
  CHECK(c->providers[1].kind == ProviderKind::kAnthropic);
  CHECK(c->providers[1].max_output_tokens == 200);  // default
  CHECK(c->weights.speed == 1);
}

TEST_CASE("config errors name the path and the rule") {
  auto msg = [](const char* json) { return std::string(ParseAiConfig(json).status().message()); };
  CHECK(msg("{}") == "ai.providers: expected a non-empty array");
  CHECK(msg(R"({"providers":[{"name":"a","kind":"bard","base_url":"http://x","model":"m"}]})") ==
        "ai.providers[0].kind: expected one of: openai, groq, ollama, vllm, anthropic, gemini");
  CHECK(msg(R"({"providers":[{"name":"a","kind":"openai","base_url":"ftp://x","model":"m"}]})") ==
        "ai.providers[0].base_url: expected an http:// or https:// URL");
  CHECK(msg(R"({"providers":[{"name":"a","kind":"openai","base_url":"http://x","model":"m","rpn":5}]})") ==
        "ai.providers[0].rpn: unknown key");
  CHECK(msg(R"({"providers":[{"name":"a","kind":"openai","base_url":"http://x","model":"m"},
                              {"name":"a","kind":"gemini","base_url":"http://y","model":"m"}]})") ==
        "ai.providers[1].name: duplicate name");
  CHECK(msg(R"({"strategy":"fastest","providers":[]})") ==
        "ai.strategy: expected one of: speed, accuracy, cost, balanced, priority");
  CHECK(msg(R"({"providers":[{"name":"a","kind":"openai","base_url":"http://x","model":"m",
                              "breaker":{"error_rate":2}}]})") ==
        "ai.providers[0].breaker.error_rate: expected between 0 and 1");
  CHECK(msg(R"({"providers":[{"kind":"openai","base_url":"http://x","model":"m"}]})") ==
        "ai.providers[0].name: required");
}
