// Scenario configs: defaults, validation, JSON parsing, escalation. The buckets are poured in
// behaviour.cc, where the profiles are.
#include "behaviour/scenarios.h"

#include <cmath>
#include <limits>

#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace guard::behaviour {
namespace {

constexpr std::string_view kFeedNames[] = {
    "request",      "new_template",  "status_404",    "status_denied", "login_failure",          "new_username",
    "sequential_id", "over_baseline", "regular_timing", "new_header_fingerprint", "signature_hit"};
static_assert(std::size(kFeedNames) == static_cast<size_t>(Feed::kCount));

ScenarioConfig Make(std::string name, float capacity, float leak, std::initializer_list<std::pair<Feed, float>> feeds,
                    int32_t score, DecisionType d, int64_t ttl_ms) {
  ScenarioConfig s;
  s.name = std::move(name);
  s.capacity = capacity;
  s.leak_per_sec = leak;
  for (auto [f, w] : feeds) s.feeds[static_cast<size_t>(f)] = w;
  s.score = score;
  s.decision = d;
  s.ttl_ms = ttl_ms;
  return s;
}

}  // namespace

std::string_view FeedName(Feed f) { return kFeedNames[static_cast<size_t>(f)]; }

std::string_view DecisionName(DecisionType d) {
  switch (d) {
    case DecisionType::kThrottle: return "throttle";
    case DecisionType::kBan: return "ban";
    default: return "none";
  }
}

// Defaults are tuned so that a person browsing, an API client paging through results and a health
// check never overflow anything: no default scenario is fed by plain requests.
BehaviourConfig DefaultBehaviourConfig() {
  BehaviourConfig c;
  using enum Feed;
  using enum DecisionType;
  c.scenarios = {
      // Scanners: many 404s and many distinct routes. 30 404s faster than ~1 every 2 s.
      Make("probing", 30, 0.5f, {{kStatus404, 1}, {kNewTemplate, 0.5f}}, 5, kThrottle, 60'000),
      // Brute force / stuffing: failed logins, more so with many usernames. ~10 failures in minutes.
      Make("credential_stuffing", 10, 0.05f, {{kLoginFailure, 1}, {kNewUsername, 0.5f}}, 10, kBan, 300'000),
      // Walking ids: /users/1, /users/2, ...: 25 sequential ids faster than 1 every 5 s.
      Make("enumeration", 25, 0.2f, {{kSequentialId, 1}}, 5, kThrottle, 60'000),
      // Rate far above the client's own baseline, sustained for ~50 requests.
      Make("burst", 50, 5, {{kOverBaseline, 1}}, 0, kThrottle, 30'000),
      // Machine timing from a non-browser, or header fingerprints rotating within a window.
      Make("scripted_bot", 20, 0.1f, {{kRegularTiming, 1}, {kNewHeaderFingerprint, 2}}, 5, kThrottle, 120'000),
      // Repeated attacks: the signatures already block each; this bans the client for a while.
      Make("attack_burst", 5, 0.05f, {{kSignatureHit, 1}}, 0, kBan, 600'000),
  };
  return c;
}

absl::Status ValidateBehaviourConfig(const BehaviourConfig& c) {
  if (c.window_ms < 1000) return absl::InvalidArgumentError("behaviour.window_ms must be >= 1000");
  if (c.shards == 0 || c.shards > 256) return absl::InvalidArgumentError("behaviour.shards must be in 1..256");
  if (!(c.baseline_alpha > 0 && c.baseline_alpha <= 1))
    return absl::InvalidArgumentError("behaviour.baseline_alpha must be in (0, 1]");
  if (!(c.burst_factor >= 1)) return absl::InvalidArgumentError("behaviour.burst_factor must be >= 1");
  if (!(c.bot_cv_max >= 0)) return absl::InvalidArgumentError("behaviour.bot_cv_max must be >= 0");
  if (c.scenarios.size() > kMaxScenarios)
    return absl::InvalidArgumentError("behaviour.scenarios: at most " + std::to_string(kMaxScenarios));
  for (size_t i = 0; i < c.scenarios.size(); ++i) {
    const ScenarioConfig& s = c.scenarios[i];
    std::string at = "behaviour.scenarios[" + std::to_string(i) + "]";
    if (s.name.empty()) return absl::InvalidArgumentError(at + ".name must not be empty");
    if (!(s.capacity > 0)) return absl::InvalidArgumentError(at + ".capacity must be > 0");
    if (!(s.leak_per_sec >= 0)) return absl::InvalidArgumentError(at + ".leak_per_sec must be >= 0");
    if (s.decision != DecisionType::kNone && s.ttl_ms <= 0)
      return absl::InvalidArgumentError(at + ".ttl_ms must be > 0");
    if (!(s.ttl_multiplier >= 1)) return absl::InvalidArgumentError(at + ".ttl_multiplier must be >= 1");
    if (s.max_ttl_ms < s.ttl_ms) return absl::InvalidArgumentError(at + ".max_ttl_ms must be >= ttl_ms");
    for (float w : s.feeds)
      if (!(w >= 0)) return absl::InvalidArgumentError(at + ".feeds: weights must be >= 0");
  }
  return absl::OkStatus();
}

int64_t EscalatedTtl(const ScenarioConfig& s, uint32_t offence) {
  double ttl = static_cast<double>(s.ttl_ms);
  for (uint32_t i = 1; i < offence && ttl < static_cast<double>(s.max_ttl_ms); ++i) ttl *= s.ttl_multiplier;
  return ttl >= static_cast<double>(s.max_ttl_ms) ? s.max_ttl_ms : static_cast<int64_t>(ttl);
}

absl::StatusOr<BehaviourConfig> ParseBehaviourConfig(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError())
    return absl::InvalidArgumentError(std::string("behaviour: invalid JSON at offset ") +
                                      std::to_string(d.GetErrorOffset()) + ": " +
                                      rapidjson::GetParseError_En(d.GetParseError()));
  if (!d.IsObject()) return absl::InvalidArgumentError("behaviour: must be a JSON object");
  BehaviourConfig c = DefaultBehaviourConfig();
  std::string err;
  auto num = [&err](const rapidjson::Value& obj, const char* name, const std::string& at, auto* out) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) return;
    if (!it->value.IsNumber()) {
      if (err.empty()) err = at + name + " must be a number";
      return;
    }
    using T = std::remove_pointer_t<decltype(out)>;
    double v = it->value.GetDouble();
    if constexpr (std::is_integral_v<T>) {
      if (v < 0 || v != std::floor(v) || v > 9.0e15 || v > static_cast<double>(std::numeric_limits<T>::max())) {
        if (err.empty()) err = at + name + " must be a non-negative integer";
        return;
      }
    }
    *out = static_cast<T>(v);
  };
  static const std::string kTop = "behaviour.";
  num(d, "window_ms", kTop, &c.window_ms);
  num(d, "memory_budget_bytes", kTop, &c.memory_budget_bytes);
  num(d, "shards", kTop, &c.shards);
  num(d, "baseline_alpha", kTop, &c.baseline_alpha);
  num(d, "burst_factor", kTop, &c.burst_factor);
  num(d, "min_baseline", kTop, &c.min_baseline);
  num(d, "warmup_windows", kTop, &c.warmup_windows);
  num(d, "bot_cv_max", kTop, &c.bot_cv_max);
  num(d, "bot_min_samples", kTop, &c.bot_min_samples);
  num(d, "offence_memory_ms", kTop, &c.offence_memory_ms);
  if (auto it = d.FindMember("scenarios"); it != d.MemberEnd()) {
    if (!it->value.IsArray()) return absl::InvalidArgumentError("behaviour.scenarios must be an array");
    c.scenarios.clear();
    size_t i = 0;
    for (const auto& v : it->value.GetArray()) {
      std::string at = "behaviour.scenarios[" + std::to_string(i++) + "].";
      if (!v.IsObject()) return absl::InvalidArgumentError(at.substr(0, at.size() - 1) + " must be an object");
      ScenarioConfig s;
      if (auto n = v.FindMember("name"); n != v.MemberEnd() && n->value.IsString()) s.name = n->value.GetString();
      num(v, "capacity", at, &s.capacity);
      num(v, "leak_per_sec", at, &s.leak_per_sec);
      num(v, "score", at, &s.score);
      num(v, "ttl_ms", at, &s.ttl_ms);
      num(v, "ttl_multiplier", at, &s.ttl_multiplier);
      num(v, "max_ttl_ms", at, &s.max_ttl_ms);
      if (auto dm = v.FindMember("decision"); dm != v.MemberEnd()) {
        std::string_view dn = dm->value.IsString() ? dm->value.GetString() : "";
        if (dn == "none") s.decision = DecisionType::kNone;
        else if (dn == "throttle") s.decision = DecisionType::kThrottle;
        else if (dn == "ban") s.decision = DecisionType::kBan;
        else return absl::InvalidArgumentError(at + "decision must be \"none\", \"throttle\" or \"ban\"");
      }
      auto feeds = v.FindMember("feeds");
      if (feeds == v.MemberEnd() || !feeds->value.IsObject())
        return absl::InvalidArgumentError(at + "feeds must be an object of event name -> weight");
      for (const auto& f : feeds->value.GetObject()) {
        std::string_view fname(f.name.GetString(), f.name.GetStringLength());
        auto pos = std::find(std::begin(kFeedNames), std::end(kFeedNames), fname);
        if (pos == std::end(kFeedNames))
          return absl::InvalidArgumentError(at + "feeds." + std::string(fname) + " is not an event");
        if (!f.value.IsNumber()) return absl::InvalidArgumentError(at + "feeds." + std::string(fname) + " must be a number");
        s.feeds[pos - std::begin(kFeedNames)] = static_cast<float>(f.value.GetDouble());
      }
      c.scenarios.push_back(std::move(s));
    }
  }
  if (!err.empty()) return absl::InvalidArgumentError(err);
  if (absl::Status st = ValidateBehaviourConfig(c); !st.ok()) return st;
  return c;
}

}  // namespace guard::behaviour
