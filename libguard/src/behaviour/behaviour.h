// BehaviourEngine: per-client behaviour profiles fed by each request and response, and the scenario
// detectors (scenarios.h) evaluated on them.
//
// The lead's request path: OnRequest (access phase, after signatures) returns an Assessment: a score to
// add, the decision in force for the client (if any) and whether it was just issued (then propagate
// it: blocklist Add + Redis). OnResponse (log phase) feeds statuses. Time is passed in; nothing here
// makes a syscall or allocates after Create. Profiles live in a ProfileTable: the engine's own (one
// process), or the node table (CreateOn, engine/behaviour_node.h) that every nginx worker shares, so a
// client spread over the workers is judged on all of its traffic.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "behaviour/profile_table.h"
#include "behaviour/scenarios.h"
#include "fingerprint/client.h"

namespace guard::behaviour {

struct RequestEvent {
  std::string_view method;
  uint64_t route_template = 0;    // fingerprint::RouteTemplateHash(path)
  bool login_route = false;       // the route is login-like (config: route ids or path patterns)
  uint64_t username = 0;          // hash of the username tried on a login route, 0 = unknown
  bool has_numeric_id = false;    // fingerprint::LastNumericSegment(path, &numeric_id)
  uint64_t numeric_id = 0;
  int32_t signature_score = 0;    // > 0: the signatures flagged the request
  uint64_t header_fingerprint = 0;  // fingerprint::HeaderFingerprint::hash
  uint64_t ua_hash = 0;             // fingerprint::HeaderFingerprint::ua_hash: UA rotation counts too
  fingerprint::UaClass ua_class = fingerprint::UaClass::kEmpty;
  uint16_t header_traits = 0;     // fingerprint::HeaderTrait bits
};

struct ResponseEvent {
  int status = 0;
  bool login_route = false;
  bool login_failed = false;      // overrides the 401/403 rule when the caller knows better (e.g. 200 + error)
};

// What the profile shows now (for logs, the admin API and the tests).
struct Signals {
  float rate = 0;                 // requests in the sliding window
  float baseline = 0;             // the client's usual requests per window (0 during warm-up)
  uint32_t distinct_templates = 0;  // in the current window (estimate)
  float not_found_ratio = 0;      // over responses in the sliding window
  float denied_ratio = 0;
  uint32_t login_failures = 0;    // sliding window
  uint32_t distinct_usernames = 0;
  uint32_t signature_hits = 0;
  uint32_t header_fingerprints = 0;  // distinct (header fingerprint, User-Agent) in the current window
  uint16_t sequential_run = 0;
  float timing_cv = -1;           // stddev/mean of inter-arrival times, -1 until enough samples
  std::array<float, kMaxScenarios> buckets{};
};

struct Assessment {
  int32_t score = 0;                    // add to the request's anomaly score
  DecisionType decision = DecisionType::kNone;  // in force for this client now
  int64_t decision_until_ms = 0;
  int scenario = -1;                    // index in config().scenarios of the decision, -1 = none
  bool new_decision = false;            // issued by this very event: propagate it
  uint32_t overflowed = 0;              // bit per scenario that overflowed on this event
  uint8_t offences = 0;                 // the client's offence count after this event
};

class BehaviourEngine {
 public:
  static absl::StatusOr<std::unique_ptr<BehaviourEngine>> Create(const BehaviourConfig& config);
  // Over a table owned elsewhere (the node table), which must outlive the engine. Engines sharing a table
  // must keep their clients apart (distinct keys): bucket i means scenario i of each engine's config.
  static absl::StatusOr<std::unique_ptr<BehaviourEngine>> CreateOn(const BehaviourConfig& config, ProfileTable* table);

  Assessment OnRequest(uint64_t client_key, const RequestEvent& ev, int64_t now_ms);
  Assessment OnResponse(uint64_t client_key, const ResponseEvent& ev, int64_t now_ms);

  // The client's signals, or nullopt when it has no profile (never seen, or evicted).
  std::optional<Signals> Inspect(uint64_t client_key, int64_t now_ms);
  // Lifts a decision and forgets offences (admin unban). False when the client has no profile.
  bool Forgive(uint64_t client_key, int64_t now_ms);

  const BehaviourConfig& config() const { return config_; }
  const ProfileTable& table() const { return *table_; }

 private:
  explicit BehaviourEngine(const BehaviourConfig& c) : config_(c) {}
  void Roll(Profile& p, int64_t now_ms) const;
  void Pour(Profile& p, const std::array<float, static_cast<size_t>(Feed::kCount)>& events, int64_t now_ms,
            Assessment* out) const;
  Signals Read(const Profile& p, int64_t now_ms) const;

  BehaviourConfig config_;
  std::unique_ptr<ProfileTable> owned_;
  ProfileTable* table_ = nullptr;
};

}  // namespace guard::behaviour
