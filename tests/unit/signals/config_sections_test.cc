// The cache, behaviour and blocklist sections: schema defaults, scenario overrides by name, errors that
// name the field, and a config digest that does not depend on key order.
#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"
#include "config/signal_sections.h"

using guard::behaviour::DecisionType;
using guard::behaviour::Feed;

namespace {
const guard::behaviour::ScenarioConfig* Find(const guard::config::Config& c, const std::string& name) {
  for (const auto& s : c.behaviour.engine.scenarios)
    if (s.name == name) return &s;
  return nullptr;
}
}  // namespace

TEST_CASE("absent sections take the schema defaults: cache on, behaviour off, empty blocklist") {
  auto c = guard::config::ParseConfig("{}");
  REQUIRE(c.ok());
  CHECK(c->cache.enabled);
  CHECK(c->cache.l1.max_entries == 65536);
  CHECK(c->cache.l1.benign_ttl_ms == 60'000);
  CHECK(c->cache.l1.malicious_ttl_ms == 600'000);
  CHECK_FALSE(c->behaviour.enabled);  // no client is ever throttled or banned by default
  CHECK(c->behaviour.engine.window_ms == 10'000);
  CHECK(c->behaviour.engine.scenarios.size() == 6);
  CHECK(c->behaviour.ban_status == 403);
  CHECK(c->blocklist.allow.empty());
  CHECK(c->blocklist.deny.empty());
}

TEST_CASE("scenario overrides change a default by name, disable one, or add a new one") {
  auto c = guard::config::ParseConfig(R"({"behaviour":{"enabled":true,"window_s":30,"scenarios":[
      {"name":"probing","capacity":5,"leak_per_sec":0,"ttl_s":10,"decision":"ban"},
      {"name":"scripted_bot","enabled":false},
      {"name":"login_flood","capacity":3,"feeds":{"login_failure":1},"decision":"throttle","ttl_s":5}]}})");
  REQUIRE(c.ok());
  CHECK(c->behaviour.enabled);
  CHECK(c->behaviour.engine.window_ms == 30'000);
  const auto* probing = Find(*c, "probing");
  REQUIRE(probing != nullptr);
  CHECK(probing->capacity == 5);
  CHECK(probing->leak_per_sec == 0);
  CHECK(probing->ttl_ms == 10'000);
  CHECK(probing->decision == DecisionType::kBan);
  CHECK(probing->feeds[static_cast<size_t>(Feed::kStatus404)] == 1);  // feeds kept when not given
  CHECK(Find(*c, "scripted_bot") == nullptr);
  const auto* flood = Find(*c, "login_flood");
  REQUIRE(flood != nullptr);
  CHECK(flood->feeds[static_cast<size_t>(Feed::kLoginFailure)] == 1);
  CHECK(flood->decision == DecisionType::kThrottle);
}

TEST_CASE("errors name the field") {
  auto bad_feed = guard::config::ParseConfig(R"({"behaviour":{"scenarios":[{"name":"probing","feeds":{"status_405":1}}]}})");
  REQUIRE_FALSE(bad_feed.ok());
  CHECK_THAT(std::string(bad_feed.status().message()), Catch::Contains("behaviour.scenarios[0].feeds.status_405"));
  auto no_feeds = guard::config::ParseConfig(R"({"behaviour":{"scenarios":[{"name":"mine","capacity":3}]}})");
  REQUIRE_FALSE(no_feeds.ok());
  CHECK_THAT(std::string(no_feeds.status().message()), Catch::Contains("new scenario needs feeds"));
  auto bad_subject = guard::config::ParseConfig(R"({"blocklist":{"deny":["10.0.0.0/8","not-an-ip"]}})");
  REQUIRE_FALSE(bad_subject.ok());
  CHECK_THAT(std::string(bad_subject.status().message()), Catch::Contains("blocklist.deny[1]"));
  auto out_of_range = guard::config::ParseConfig(R"({"cache":{"max_entries":1}})");
  CHECK_FALSE(out_of_range.ok());  // the schema's minimum
}

TEST_CASE("the config digest ignores key order and changes with any value") {
  auto a = guard::config::ParseConfig(R"({"mode":"block","anomaly_threshold":5,"cache":{"enabled":true}})");
  auto b = guard::config::ParseConfig(R"({"cache":{"enabled":true},"anomaly_threshold":5,"mode":"block"})");
  auto c = guard::config::ParseConfig(R"({"mode":"block","anomaly_threshold":6,"cache":{"enabled":true}})");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a->digest == b->digest);
  CHECK(a->digest != c->digest);
}

TEST_CASE("login path globs match whole paths") {
  using guard::config::GlobMatch;
  CHECK(GlobMatch("*/login", "/api/v1/login"));
  CHECK(GlobMatch("*/login", "/login"));
  CHECK_FALSE(GlobMatch("*/login", "/login/help"));
  CHECK(GlobMatch("/auth/*", "/auth/token"));
  CHECK_FALSE(GlobMatch("/auth/*", "/v1/auth/token"));
  CHECK(GlobMatch("*", ""));
}
