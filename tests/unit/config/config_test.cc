// Config validation: defaults come from the schema, and every invalid config names the field and rule.
#include <catch2/catch.hpp>

#include "config/config.h"

using guard::config::Mode;
using guard::config::ParseConfig;

TEST_CASE("an empty config takes the schema's defaults") {
  auto c = ParseConfig("{}");
  REQUIRE(c.ok());
  CHECK(c->mode == Mode::kBlock);
  CHECK(c->paranoia_level == 1);
  CHECK(c->anomaly_threshold == 5);
  CHECK(c->inspect_body);
  CHECK(c->max_body_bytes == 65536);
  CHECK(c->block_status == 403);
  CHECK(c->block_message == "Request blocked by Kong Guard AI");
  CHECK(c->disabled_rules.empty());
}

TEST_CASE("given values override defaults") {
  auto c = ParseConfig(R"({"mode":"monitor","paranoia_level":3,"anomaly_threshold":10,"disabled_rules":[1001,2001],
                           "max_body_bytes":0,"inspect_body":false,"block_status":406,"block_message":"no"})");
  REQUIRE(c.ok());
  CHECK(c->mode == Mode::kMonitor);
  CHECK(c->paranoia_level == 3);
  CHECK(c->anomaly_threshold == 10);
  CHECK(c->disabled_rules == std::vector<uint32_t>{1001, 2001});
  CHECK(c->max_body_bytes == 0);
  CHECK_FALSE(c->inspect_body);
  CHECK(c->block_status == 406);
  CHECK(c->block_message == "no");
}

TEST_CASE("invalid configs name the JSON path and the rule broken") {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {R"({"mode":"blok"})", "invalid config: /mode: must be one of \"block\", \"monitor\" (got \"blok\")"},
      {R"({"paranoia_level":5})", "invalid config: /paranoia_level: must be <= 4 (got 5)"},
      {R"({"paranoia_level":0})", "invalid config: /paranoia_level: must be >= 1 (got 0)"},
      {R"({"anomaly_threshold":"5"})", "invalid config: /anomaly_threshold: must be of type \"integer\" (got \"5\")"},
      {R"({"modes":"block"})", "invalid config: /modes: unknown field"},
      {R"({"disabled_rules":[1,1]})", "invalid config: /disabled_rules/1: duplicates an earlier item"},
      {R"({"disabled_rules":[0]})", "invalid config: /disabled_rules/0: must be >= 1 (got 0)"},
      {R"({"block_message":""})", "invalid config: /block_message: must be at least 1 characters long"},
      {R"([])", "invalid config: /: must be of type \"object\" (got [])"},
  };
  for (const Case& k : cases) {
    INFO(k.json);
    auto c = ParseConfig(k.json);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message() == k.expect);
  }
}

TEST_CASE("malformed JSON is reported with its offset") {
  auto c = ParseConfig(R"({"mode": )");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("invalid JSON at offset") != std::string_view::npos);
}

TEST_CASE("exclusions are parsed, and a bad target is named with its index") {
  auto c = ParseConfig(R"({"exclusions":[{"rule_ids":[2001],"targets":["args:html"],"paths":["/api/wiki/*"]}]})");
  REQUIRE(c.ok());
  guard::request::Field html{guard::request::Target::kBodyArg, "html", "<script>"};
  CHECK(c->exclusions.Excludes(2001, &html, "/api/wiki/7"));
  CHECK_FALSE(c->exclusions.Excludes(2001, &html, "/api/users"));

  auto bad = ParseConfig(R"({"exclusions":[{"targets":["argz:html"]}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "invalid config: /exclusions/0/targets/0: unknown target 'argz:html'");
  auto unknown = ParseConfig(R"({"exclusions":[{"rules":[1]}]})");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message() == "invalid config: /exclusions/0/rules: unknown field");
}

TEST_CASE("custom rules are validated against the rules schema they reference") {
  auto c = ParseConfig(R"({"custom_rules":[{"id":900001,"category":"custom","severity":5,"paranoia":1,
      "targets":["headers:x-tenant"],"patterns":["forbidden-tenant"],"message":"tenant blocked"}]})");
  REQUIRE(c.ok());
  REQUIRE(c->custom_rules.size() == 1);
  CHECK(c->custom_rules[0].id == 900001);
  CHECK(c->custom_rules[0].targets[0].name == "x-tenant");

  auto bad = ParseConfig(R"({"custom_rules":[{"id":900001,"category":"evil","severity":5,"paranoia":1,
      "targets":["args"],"patterns":["x"],"message":"m"}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).rfind("invalid config: /custom_rules/0/category: must be one of", 0) == 0);
  auto missing = ParseConfig(R"({"custom_rules":[{"id":900001,"category":"custom","severity":5,"paranoia":1,
      "targets":["args"],"message":"m"}]})");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "invalid config: /custom_rules/0: missing required field 'patterns'");
}

TEST_CASE("the redis section: absent or without host means no Redis; given fields override defaults") {
  auto none = ParseConfig("{}");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_redis);
  // What Kong sends for an unset record: its defaults, no host.
  auto filled = ParseConfig(R"({"redis":{"port":6379,"database":0,"timeout_ms":100,"prefix":"guard"}})");
  REQUIRE(filled.ok());
  CHECK_FALSE(filled->has_redis);

  auto c = ParseConfig(R"({"redis":{"host":"redis.internal","port":6380,"password":"s3cret","database":2,
                                     "timeout_ms":250,"prefix":"edge"}})");
  REQUIRE(c.ok());
  CHECK(c->has_redis);
  CHECK(c->redis.host == "redis.internal");
  CHECK(c->redis.port == 6380);
  CHECK(c->redis.password == "s3cret");
  CHECK(c->redis.database == 2);
  CHECK(c->redis.timeout_ms == 250);
  CHECK(c->redis.prefix == "edge");

  auto bad = ParseConfig(R"({"redis":{"host":"r","port":70000}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("redis.port") != std::string::npos);
}
