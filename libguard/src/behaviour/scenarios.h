// Scenario detectors: leaky buckets in the style of CrowdSec scenarios, fed by behaviour events.
//
// A scenario is a bucket per client with a capacity and a leak rate; each event a client causes pours
// a configured weight into the bucket (a 404 into "probing", a failed login into "credential
// stuffing", ...). Levels leak continuously, so a slow, steady client never overflows while a burst
// does. On overflow the bucket empties and the scenario acts: it adds `score` to the request's anomaly
// score and/or issues a decision (throttle or ban) for the client with a TTL that grows on repeat
// offences (ttl x multiplier per earlier offence, up to max_ttl). Offences are forgotten after
// offence_memory_ms without one.
//
// Config (JSON, all fields optional; "scenarios" replaces the default list when present):
//   {"window_ms":10000, "memory_budget_bytes":67108864, "shards":16, "baseline_alpha":0.2,
//    "burst_factor":5, "min_baseline":20, "warmup_windows":3, "bot_cv_max":0.1, "bot_min_samples":8,
//    "offence_memory_ms":86400000,
//    "scenarios":[{"name":"probing","capacity":20,"leak_per_sec":0.5,
//                  "feeds":{"status_404":1,"new_template":0.5},
//                  "score":5,"decision":"throttle","ttl_ms":60000,"ttl_multiplier":4,"max_ttl_ms":86400000}]}
// Feed names: see FeedName(); decisions: "none", "throttle", "ban".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "behaviour/profile_table.h"

namespace guard::behaviour {

// Events that pour into buckets.
enum class Feed : uint8_t {
  kRequest,               // every request
  kNewTemplate,           // first request of the window to this method + route template
  kStatus404,
  kStatusDenied,          // 401 or 403, any route
  kLoginFailure,          // 401/403 (or 400/422/429... as the caller decides) on a login-like route
  kNewUsername,           // a login attempt with a username not seen in this window
  kSequentialId,          // a numeric id one or two away from the previous one on the same template
  kOverBaseline,          // a request while the rate is > burst_factor x the client's own baseline
  kRegularTiming,         // a request from a non-browser (or inconsistent) client with metronome timing
  kNewHeaderFingerprint,  // a header fingerprint not yet seen in this window, beyond the first
  kSignatureHit,          // the signatures flagged the request
  kCount
};
std::string_view FeedName(Feed f);

enum class DecisionType : uint8_t { kNone = 0, kThrottle = 1, kBan = 2 };
std::string_view DecisionName(DecisionType d);

struct ScenarioConfig {
  std::string name;
  float capacity = 10;
  float leak_per_sec = 1;
  std::array<float, static_cast<size_t>(Feed::kCount)> feeds{};  // weight per event, 0 = not fed
  int32_t score = 0;                  // added to the anomaly score of the overflowing request
  DecisionType decision = DecisionType::kNone;
  int64_t ttl_ms = 60'000;            // first offence
  float ttl_multiplier = 4;           // each repeat offence
  int64_t max_ttl_ms = 86'400'000;
};

struct BehaviourConfig {
  size_t memory_budget_bytes = 64u << 20;  // profiles table, all included
  size_t shards = 16;
  int64_t window_ms = 10'000;              // sliding window of the rate and distinct counters
  float baseline_alpha = 0.2f;             // EWMA weight of the last window
  float burst_factor = 5;                  // "over baseline" = rate > burst_factor x baseline
  float min_baseline = 20;                 // requests per window below which nothing is a burst
  uint16_t warmup_windows = 3;             // windows before the baseline is trusted
  float bot_cv_max = 0.1f;                 // inter-arrival stddev/mean below this is machine-like
  uint16_t bot_min_samples = 8;
  int64_t offence_memory_ms = 86'400'000;
  std::vector<ScenarioConfig> scenarios;   // at most kMaxScenarios
};

// The default scenarios: probing, credential_stuffing, enumeration, burst, scripted_bot, attack_burst.
BehaviourConfig DefaultBehaviourConfig();
absl::Status ValidateBehaviourConfig(const BehaviourConfig& c);
// Parses the JSON above over the defaults. Errors name the JSON path ("scenarios[1].feeds.status_405").
absl::StatusOr<BehaviourConfig> ParseBehaviourConfig(std::string_view json);

// TTL of the n-th offence (n >= 1): ttl_ms x multiplier^(n-1), capped at max_ttl_ms.
int64_t EscalatedTtl(const ScenarioConfig& s, uint32_t offence);

// Leaks a bucket from level at last_ms to now_ms. Levels never go below 0.
inline float Leak(float level, float leak_per_sec, int64_t last_ms, int64_t now_ms) {
  if (now_ms <= last_ms) return level;
  float l = level - leak_per_sec * static_cast<float>(now_ms - last_ms) / 1000.0f;
  return l > 0 ? l : 0;
}

}  // namespace guard::behaviour
