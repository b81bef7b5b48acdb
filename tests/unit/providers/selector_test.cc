// Provider selection strategies, breaker and quota filtering, with a fake clock.
#include <catch2/catch.hpp>

#include "providers/selector.h"

using namespace guard::providers;

namespace {

ProviderConfig P(std::string name, int priority, double in_price, double out_price) {
  ProviderConfig p;
  p.name = std::move(name);
  p.base_url = "http://127.0.0.1:1";
  p.model = "m";
  p.priority = priority;
  p.usd_per_1m_input = in_price;
  p.usd_per_1m_output = out_price;
  p.breaker.consecutive_failures = 2;
  p.breaker.cooldown = absl::Seconds(30);
  return p;
}

struct Fixture {
  FakeClock clock;
  LocalQuotaStore quota;
  AiConfig config;
  std::unique_ptr<ProviderSelector> sel;
  explicit Fixture(Strategy s) {
    config.strategy = s;
    config.providers = {P("cheap-slow", 3, 0.1, 0.4), P("fast-pricey", 2, 5, 15), P("mid", 1, 1, 2)};
    sel = std::make_unique<ProviderSelector>(&config, &quota, &clock);
    sel->OnSuccess(0, absl::Milliseconds(900));
    sel->OnSuccess(1, absl::Milliseconds(100));
    sel->OnSuccess(2, absl::Milliseconds(400));
  }
};

using V = std::vector<size_t>;

}  // namespace

TEST_CASE("speed ranks by EWMA latency") {
  Fixture f(Strategy::kSpeed);
  CHECK(f.sel->Rank({}) == V{1, 2, 0});
  // EWMA (alpha 0.2): five slow calls move "fast-pricey" past "mid".
  for (int i = 0; i < 5; ++i) f.sel->OnSuccess(1, absl::Milliseconds(1000));
  CHECK(f.sel->stats(1).ewma_latency_ms > 400);
  CHECK(f.sel->Rank({}) == V{2, 1, 0});
}

TEST_CASE("cost ranks by estimated dollars per call") {
  Fixture f(Strategy::kCost);
  CHECK(f.sel->Rank({}) == V{0, 2, 1});
  CHECK(f.sel->EstimatedCallCostUsd(0) < f.sel->EstimatedCallCostUsd(2));
}

TEST_CASE("priority ranks by the configured chain and skips what was tried") {
  Fixture f(Strategy::kPriority);
  CHECK(f.sel->Rank({}) == V{2, 1, 0});
  CHECK(f.sel->Rank({2}) == V{1, 0});
  CHECK(f.sel->Rank({0, 1, 2}).empty());
}

TEST_CASE("accuracy ranks by smoothed agreement with labelled feedback") {
  Fixture f(Strategy::kAccuracy);
  CHECK(f.sel->Rank({}) == V{2, 1, 0});  // no feedback: all 0.5, ties by priority
  for (int i = 0; i < 8; ++i) f.sel->RecordFeedback(0, true);
  for (int i = 0; i < 8; ++i) f.sel->RecordFeedback(2, i < 4);
  f.sel->RecordFeedback(1, false);
  CHECK(f.sel->Rank({}) == V{0, 2, 1});
  CHECK(f.sel->stats(0).feedback_agree == 8);
}

TEST_CASE("balanced combines speed, accuracy, cost and headroom by the documented formula") {
  Fixture f(Strategy::kBalanced);
  f.config.weights = {0.3, 0.3, 0.2, 0.2};
  std::vector<double> s = f.sel->BalancedScores();
  double min_cost = f.sel->EstimatedCallCostUsd(0);
  auto expect = [&](size_t i, double latency) {
    double speed = 100.0 / latency;
    double cost = (min_cost + 1e-6) / (f.sel->EstimatedCallCostUsd(i) + 1e-6);
    return (0.3 * speed + 0.3 * 0.5 + 0.2 * cost + 0.2 * 1.0) / 1.0;
  };
  CHECK(s[0] == Approx(expect(0, 900)));
  CHECK(s[1] == Approx(expect(1, 100)));
  CHECK(s[2] == Approx(expect(2, 400)));
  V ranked = f.sel->Rank({});
  REQUIRE(ranked.size() == 3);
  CHECK(s[ranked[0]] >= s[ranked[1]]);
  CHECK(s[ranked[1]] >= s[ranked[2]]);

  // Quota headroom moves the ranking: fast-pricey at 90% of its RPM loses its lead.
  f.config.providers[1].limits.rpm = 10;
  for (int i = 0; i < 9; ++i) REQUIRE(f.sel->Reserve(1, 100).ok());
  double before = s[1];
  CHECK(f.sel->BalancedScores()[1] == Approx(before - 0.2 * 0.9));
  // Weight scales the whole score.
  f.config.providers[2].weight = 2;
  CHECK(f.sel->BalancedScores()[2] == Approx(2 * s[2]));
}

TEST_CASE("an open breaker or an exhausted quota removes a provider until it recovers") {
  Fixture f(Strategy::kPriority);
  REQUIRE(f.sel->AcquireBreaker(2));
  f.sel->OnFailure(2);
  f.sel->OnFailure(2);
  CHECK(f.sel->breaker_state(2) == BreakerState::kOpen);
  CHECK(f.sel->Rank({}) == V{1, 0});
  f.clock.Advance(absl::Seconds(30));
  CHECK(f.sel->breaker_state(2) == BreakerState::kHalfOpen);
  CHECK(f.sel->Rank({}) == V{2, 1, 0});
  REQUIRE(f.sel->AcquireBreaker(2));
  CHECK(f.sel->Rank({}) == V{1, 0});  // its single probe is out
  f.sel->OnSuccess(2, absl::Milliseconds(50));
  CHECK(f.sel->breaker_state(2) == BreakerState::kClosed);

  f.config.providers[1].limits.rpd = 1;
  REQUIRE(f.sel->Reserve(1, 10).ok());
  CHECK_FALSE(f.sel->Reserve(1, 10).ok());
  CHECK(f.sel->Rank({}) == V{2, 0});
}
