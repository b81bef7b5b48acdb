// Verdict schema: only schema-valid JSON becomes a verdict; everything else is a provider failure.
#include <catch2/catch.hpp>
#include <string>

#include "providers/verdict.h"

using guard::providers::AiAction;
using guard::providers::ParseVerdict;

TEST_CASE("a schema-valid answer becomes a verdict") {
  auto v = ParseVerdict(R"({"threat":true,"category":"sqli","confidence":0.9,"action":"block","reason":"union"})");
  REQUIRE(v.ok());
  CHECK(v->threat);
  CHECK(v->category == "sqli");
  CHECK(v->confidence == Approx(0.9));
  CHECK(v->action == AiAction::kBlock);
  CHECK(v->reason == "union");
}

TEST_CASE("a Markdown code fence around the object is tolerated") {
  auto v = ParseVerdict("\n```json\n{\"threat\":false,\"category\":\"none\",\"confidence\":0,\"action\":\"allow\","
                        "\"reason\":\"\"}\n```\n");
  REQUIRE(v.ok());
  CHECK_FALSE(v->threat);
  CHECK(v->action == AiAction::kAllow);
}

TEST_CASE("off-schema and unparsable answers are rejected") {
  const char* bad[] = {
      "",
      "Sure, this looks safe.",
      R"({"threat":true,"category":"sqli","confidence":0.9,"action":"block"})",                        // missing
      R"({"threat":true,"category":"sqli","confidence":0.9,"action":"block","reason":"","x":1})",      // extra
      R"({"threat":"yes","category":"sqli","confidence":0.9,"action":"block","reason":""})",           // type
      R"({"threat":true,"category":"evil","confidence":0.9,"action":"block","reason":""})",            // enum
      R"({"threat":true,"category":"sqli","confidence":1.5,"action":"block","reason":""})",            // range
      R"({"threat":true,"category":"sqli","confidence":-0.1,"action":"block","reason":""})",           // range
      R"({"threat":true,"category":"sqli","confidence":0.9,"action":"drop","reason":""})",             // enum
      R"([{"threat":true,"category":"sqli","confidence":0.9,"action":"block","reason":""}])",          // array
      "```json\n{\"threat\":true}",                                                                   // fence
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK_FALSE(ParseVerdict(text).ok());
  }
  std::string long_reason(201, 'a');
  CHECK_FALSE(ParseVerdict(R"({"threat":false,"category":"none","confidence":0,"action":"allow","reason":")" +
                           long_reason + "\"}").ok());
  CHECK(ParseVerdict(R"({"threat":false,"category":"none","confidence":0,"action":"allow","reason":")" +
                     std::string(200, 'a') + "\"}").ok());
}
