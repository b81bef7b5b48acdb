// Provider adapters: request building, response parsing and rate-limit headers, without a socket.
#include <catch2/catch.hpp>
#include <string>

#include "providers/adapter.h"
#include "rapidjson/document.h"

using namespace guard::providers;

namespace {

Prompt SamplePrompt() {
  Prompt p;
  p.system = "SYSTEM \"quoted\"";
  p.user = "USER\n<<<REQUEST x>>>";
  p.nonce = "x";
  return p;
}

ProviderConfig Provider(ProviderKind kind, std::string base) {
  ProviderConfig p;
  p.name = "p";
  p.kind = kind;
  p.base_url = std::move(base);
  p.model = "model-1";
  p.api_key = "KEY";
  p.max_output_tokens = 150;
  return p;
}

bool HasHeader(const HttpRequest& r, const std::string& h) {
  for (const std::string& x : r.headers) {
    if (x == h) return true;
  }
  return false;
}

rapidjson::Document Json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

}  // namespace

TEST_CASE("OpenAI-compatible request: chat completions in JSON mode") {
  HttpRequest r = BuildRequest(Provider(ProviderKind::kOpenAI, "https://api.openai.com/v1/"), SamplePrompt());
  CHECK(r.url == "https://api.openai.com/v1/chat/completions");
  CHECK(HasHeader(r, "Authorization: Bearer KEY"));
  CHECK(HasHeader(r, "Content-Type: application/json"));
  rapidjson::Document d = Json(r.body);
  CHECK(std::string(d["model"].GetString()) == "model-1");
  CHECK(std::string(d["response_format"]["type"].GetString()) == "json_object");
  CHECK(d["max_tokens"].GetInt() == 150);
  CHECK(d["temperature"].GetInt() == 0);
  REQUIRE(d["messages"].Size() == 2);
  CHECK(std::string(d["messages"][0]["role"].GetString()) == "system");
  CHECK(std::string(d["messages"][0]["content"].GetString()) == SamplePrompt().system);
  CHECK(std::string(d["messages"][1]["content"].GetString()) == SamplePrompt().user);

  ProviderConfig ollama = Provider(ProviderKind::kOpenAI, "http://127.0.0.1:11434/v1");
  ollama.api_key.clear();
  HttpRequest o = BuildRequest(ollama, SamplePrompt());
  for (const std::string& h : o.headers) CHECK(h.rfind("Authorization", 0) != 0);
}

TEST_CASE("Anthropic request: messages API with x-api-key and anthropic-version") {
  HttpRequest r = BuildRequest(Provider(ProviderKind::kAnthropic, "https://api.anthropic.com/v1"), SamplePrompt());
  CHECK(r.url == "https://api.anthropic.com/v1/messages");
  CHECK(HasHeader(r, "x-api-key: KEY"));
  CHECK(HasHeader(r, "anthropic-version: 2023-06-01"));
  rapidjson::Document d = Json(r.body);
  CHECK(std::string(d["system"].GetString()) == SamplePrompt().system);
  CHECK(d["max_tokens"].GetInt() == 150);
  REQUIRE(d["messages"].Size() == 1);
  CHECK(std::string(d["messages"][0]["role"].GetString()) == "user");
  CHECK(std::string(d["messages"][0]["content"].GetString()) == SamplePrompt().user);
}

TEST_CASE("Gemini request: generateContent with a JSON response MIME type") {
  HttpRequest r = BuildRequest(
      Provider(ProviderKind::kGemini, "https://generativelanguage.googleapis.com/v1beta"), SamplePrompt());
  CHECK(r.url == "https://generativelanguage.googleapis.com/v1beta/models/model-1:generateContent");
  CHECK(HasHeader(r, "x-goog-api-key: KEY"));
  CHECK(r.url.find("KEY") == std::string::npos);
  rapidjson::Document d = Json(r.body);
  CHECK(std::string(d["generationConfig"]["responseMimeType"].GetString()) == "application/json");
  CHECK(d["generationConfig"]["maxOutputTokens"].GetInt() == 150);
  CHECK(std::string(d["systemInstruction"]["parts"][0]["text"].GetString()) == SamplePrompt().system);
  CHECK(std::string(d["contents"][0]["parts"][0]["text"].GetString()) == SamplePrompt().user);
}

TEST_CASE("responses: text and token usage are extracted per protocol") {
  HttpResponse o{200, {}, R"({"choices":[{"message":{"role":"assistant","content":"{\"a\":1}"}}],)"
                          R"("usage":{"prompt_tokens":12,"completion_tokens":5}})"};
  auto c = ParseResponse(ProviderKind::kOpenAI, o);
  REQUIRE(c.ok());
  CHECK(c->text == "{\"a\":1}");
  CHECK(c->input_tokens == 12);
  CHECK(c->output_tokens == 5);

  HttpResponse a{200, {}, R"({"content":[{"type":"text","text":"{\"a\":"},{"type":"tool_use"},)"
                          R"({"type":"text","text":"1}"}],"usage":{"input_tokens":7,"output_tokens":3}})"};
  c = ParseResponse(ProviderKind::kAnthropic, a);
  REQUIRE(c.ok());
  CHECK(c->text == "{\"a\":1}");
  CHECK(c->input_tokens == 7);
  CHECK(c->output_tokens == 3);

  HttpResponse g{200, {}, R"({"candidates":[{"content":{"parts":[{"text":"{\"a\":1}"}]}}],)"
                          R"("usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":4}})"};
  c = ParseResponse(ProviderKind::kGemini, g);
  REQUIRE(c.ok());
  CHECK(c->text == "{\"a\":1}");
  CHECK(c->input_tokens == 9);
  CHECK(c->output_tokens == 4);
}

TEST_CASE("responses: errors and malformed bodies are failures with the right code") {
  HttpResponse e500{500, {}, R"({"error":{"message":"overloaded"}})"};
  auto c = ParseResponse(ProviderKind::kOpenAI, e500);
  REQUIRE_FALSE(c.ok());
  CHECK(absl::IsUnavailable(c.status()));
  CHECK(std::string(c.status().message()).find("overloaded") != std::string::npos);
  CHECK(absl::IsResourceExhausted(ParseResponse(ProviderKind::kAnthropic, HttpResponse{429, {}, "{}"}).status()));
  CHECK(absl::IsPermissionDenied(ParseResponse(ProviderKind::kGemini, HttpResponse{401, {}, ""}).status()));
  for (ProviderKind k : {ProviderKind::kOpenAI, ProviderKind::kAnthropic, ProviderKind::kGemini}) {
    CHECK_FALSE(ParseResponse(k, HttpResponse{200, {}, "not json"}).ok());
    CHECK_FALSE(ParseResponse(k, HttpResponse{200, {}, "{}"}).ok());
    CHECK_FALSE(ParseResponse(k, HttpResponse{200, {}, "[]"}).ok());
  }
  CHECK_FALSE(ParseResponse(ProviderKind::kGemini, HttpResponse{200, {}, R"({"candidates":[]})"}).ok());
  CHECK_FALSE(ParseResponse(ProviderKind::kOpenAI, HttpResponse{200, {}, R"({"choices":[{"message":{}}]})"}).ok());
}

TEST_CASE("reset durations in OpenAI's Go style and plain seconds") {
  CHECK(*ParseResetDuration("6m0s") == absl::Minutes(6));
  CHECK(*ParseResetDuration("1h2m3.5s") == absl::Hours(1) + absl::Minutes(2) + absl::Milliseconds(3500));
  CHECK(*ParseResetDuration("20ms") == absl::Milliseconds(20));
  CHECK(*ParseResetDuration("1.5s") == absl::Milliseconds(1500));
  CHECK(*ParseResetDuration("30") == absl::Seconds(30));
  CHECK_FALSE(ParseResetDuration("soon").ok());
  CHECK_FALSE(ParseResetDuration("-1s").ok());
  CHECK_FALSE(ParseResetDuration("").ok());
}

TEST_CASE("rate-limit headers of every provider are normalised") {
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  RateLimitInfo o = ParseRateLimitHeaders({{"x-ratelimit-limit-requests", "500"},
                                           {"x-ratelimit-remaining-requests", "499"},
                                           {"x-ratelimit-remaining-tokens", "149000"},
                                           {"x-ratelimit-reset-requests", "6m0s"},
                                           {"x-ratelimit-reset-tokens", "20ms"}},
                                          now);
  CHECK(*o.limit_requests == 500);
  CHECK(*o.remaining_requests == 499);
  CHECK(*o.remaining_tokens == 149000);
  CHECK(*o.requests_reset_at == now + absl::Minutes(6));
  CHECK(*o.tokens_reset_at == now + absl::Milliseconds(20));
  CHECK_FALSE(o.retry_at.has_value());

  RateLimitInfo a = ParseRateLimitHeaders({{"anthropic-ratelimit-requests-remaining", "3"},
                                           {"anthropic-ratelimit-tokens-remaining", "1000"},
                                           {"anthropic-ratelimit-requests-reset", "2027-01-15T08:00:30Z"},
                                           {"retry-after", "7"}},
                                          now);
  CHECK(*a.remaining_requests == 3);
  CHECK(*a.remaining_tokens == 1000);
  CHECK(absl::ToUnixSeconds(*a.requests_reset_at) == 1800000030);
  CHECK(*a.retry_at == now + absl::Seconds(7));

  RateLimitInfo junk = ParseRateLimitHeaders({{"x-ratelimit-remaining-requests", "lots"},
                                              {"x-ratelimit-reset-requests", "later"},
                                              {"content-type", "application/json"}},
                                             now);
  CHECK(junk.empty());
}
