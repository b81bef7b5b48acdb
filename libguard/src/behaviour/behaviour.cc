// Profile updates (windows, sketches, baseline, timing) and bucket pouring; see behaviour.h.
#include "behaviour/behaviour.h"

#include <bit>
#include <cmath>

#include "fingerprint/stable_hash.h"

namespace guard::behaviour {
namespace {

using fingerprint::UaClass;

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 29);
}

// Sets bit (h mod bits) in a bitmap; true when it was not set (probably a new distinct item).
template <size_t N>
bool SetBit(std::array<uint64_t, N>& bm, uint64_t h) {
  size_t bit = static_cast<size_t>(Mix(h) % (64 * N));
  uint64_t m = uint64_t{1} << (bit % 64);
  bool fresh = !(bm[bit / 64] & m);
  bm[bit / 64] |= m;
  return fresh;
}

// Linear counting: n ~ m ln(m / zeros); saturates at m ln m when every bit is set.
template <size_t N>
uint32_t Estimate(const std::array<uint64_t, N>& bm) {
  constexpr double m = 64.0 * N;
  int ones = 0;
  for (uint64_t w : bm) ones += std::popcount(w);
  double zeros = m - ones;
  return static_cast<uint32_t>(std::lround(m * std::log(m / (zeros > 0 ? zeros : 0.5))));
}

constexpr size_t F(Feed f) { return static_cast<size_t>(f); }

}  // namespace

absl::StatusOr<std::unique_ptr<BehaviourEngine>> BehaviourEngine::Create(const BehaviourConfig& config) {
  if (absl::Status s = ValidateBehaviourConfig(config); !s.ok()) return s;
  std::unique_ptr<BehaviourEngine> e(new BehaviourEngine(config));
  absl::StatusOr<std::unique_ptr<ProfileTable>> t = ProfileTable::Create(config.memory_budget_bytes, config.shards);
  if (!t.ok()) return t.status();
  e->owned_ = std::move(*t);
  e->table_ = e->owned_.get();
  return e;
}

absl::StatusOr<std::unique_ptr<BehaviourEngine>> BehaviourEngine::CreateOn(const BehaviourConfig& config,
                                                                           ProfileTable* table) {
  if (absl::Status s = ValidateBehaviourConfig(config); !s.ok()) return s;
  if (table == nullptr) return absl::InvalidArgumentError("behaviour: no profile table");
  std::unique_ptr<BehaviourEngine> e(new BehaviourEngine(config));
  e->table_ = table;
  return e;
}

// Moves the two-bucket window forward and learns the baseline from each completed window.
void BehaviourEngine::Roll(Profile& p, int64_t now_ms) const {
  const int64_t w = config_.window_ms;
  if (now_ms - p.window_start_ms < w) return;
  int64_t k = (now_ms - p.window_start_ms) / w;
  auto learn = [&](float count) {
    // A burst is not the new normal: once warm, a window counts at most as a burst threshold, so a
    // flood cannot raise its own baseline fast enough to hide.
    if (p.windows >= config_.warmup_windows)
      count = std::min(count, config_.burst_factor * std::max(p.baseline, config_.min_baseline));
    p.baseline = p.windows == 0 ? count : config_.baseline_alpha * count + (1 - config_.baseline_alpha) * p.baseline;
    if (p.windows < UINT16_MAX) ++p.windows;
  };
  learn(static_cast<float>(p.requests[0]));
  for (int64_t i = 1; i < std::min<int64_t>(k, 16); ++i) learn(0);  // idle windows pull it down
  auto shift = [k](uint32_t* c) {
    c[1] = k == 1 ? c[0] : 0;
    c[0] = 0;
  };
  shift(p.requests);
  shift(p.responses);
  shift(p.not_found);
  shift(p.denied);
  shift(p.login_failures);
  shift(p.signature_hits);
  p.prev_templates = static_cast<uint16_t>(std::min<uint32_t>(Estimate(p.templates), UINT16_MAX));
  p.templates = {};
  p.usernames = {};
  p.header_fps = 0;
  p.window_start_ms += k * w;
}

void BehaviourEngine::Pour(Profile& p, const std::array<float, F(Feed::kCount)>& events, int64_t now_ms,
                           Assessment* out) const {
  if (p.decision != 0 && p.decision_until_ms <= now_ms) p.decision = 0;
  if (p.offences != 0 && now_ms - p.last_offence_ms > config_.offence_memory_ms) p.offences = 0;
  for (size_t i = 0; i < config_.scenarios.size(); ++i) {
    const ScenarioConfig& s = config_.scenarios[i];
    float add = 0;
    for (size_t f = 0; f < events.size(); ++f) add += events[f] * s.feeds[f];
    float level = Leak(p.bucket[i], s.leak_per_sec, p.bucket_ms, now_ms) + add;
    if (add > 0 && level > s.capacity) {
      level = 0;  // as a CrowdSec bucket: overflow, act, start again
      out->overflowed |= 1u << i;
      out->score += s.score;
      if (s.decision != DecisionType::kNone) {
        if (p.offences < UINT8_MAX) ++p.offences;
        p.last_offence_ms = now_ms;
        int64_t until = now_ms + EscalatedTtl(s, p.offences);
        uint8_t type = static_cast<uint8_t>(s.decision);
        // The stronger decision wins; for the same type, the later expiry.
        if (type > p.decision || (type == p.decision && until > p.decision_until_ms)) {
          p.decision = type;
          p.decision_until_ms = until;
          p.decision_scenario = static_cast<uint8_t>(i);
          out->new_decision = true;
        }
      }
    }
    p.bucket[i] = level;
  }
  p.bucket_ms = now_ms;
  if (p.decision != 0) {
    out->decision = static_cast<DecisionType>(p.decision);
    out->decision_until_ms = p.decision_until_ms;
    out->scenario = p.decision_scenario;
  }
  out->offences = p.offences;
}

Assessment BehaviourEngine::OnRequest(uint64_t client_key, const RequestEvent& ev, int64_t now_ms) {
  Assessment a;
  // Method and template together: GET /users/{int} and DELETE /users/{int} are two routes to a scanner.
  uint64_t method_hash = 0;
  for (char c : ev.method.substr(0, 16)) method_hash = method_hash * 131 + static_cast<unsigned char>(c);
  const uint64_t tmpl = ev.route_template ^ Mix(method_hash + 0x51ed27);
  const bool browser_like = ev.ua_class == UaClass::kBrowser && !(ev.header_traits & fingerprint::kUaInconsistent);
  table_->With(client_key, true, now_ms, [&](Profile& p) {
    Roll(p, now_ms);
    std::array<float, F(Feed::kCount)> events{};
    events[F(Feed::kRequest)] = 1;
    ++p.requests[0];

    if (SetBit(p.templates, tmpl)) events[F(Feed::kNewTemplate)] = 1;
    if (ev.login_route && ev.username != 0 && SetBit(p.usernames, ev.username)) events[F(Feed::kNewUsername)] = 1;

    if (ev.has_numeric_id) {
      uint64_t d = ev.numeric_id > p.last_id ? ev.numeric_id - p.last_id : p.last_id - ev.numeric_id;
      if (p.last_id_template == tmpl && (d == 1 || d == 2)) {
        if (p.seq_run < UINT16_MAX) ++p.seq_run;
        events[F(Feed::kSequentialId)] = 1;
      } else {
        p.seq_run = 0;
      }
      p.last_id = ev.numeric_id;
      p.last_id_template = tmpl;
    }

    if (ev.signature_score > 0) {
      ++p.signature_hits[0];
      events[F(Feed::kSignatureHit)] = 1;
    }

    if (p.windows >= config_.warmup_windows) {
      float elapsed = static_cast<float>(now_ms - p.window_start_ms) / static_cast<float>(config_.window_ms);
      float rate = static_cast<float>(p.requests[1]) * (1 - elapsed) + static_cast<float>(p.requests[0]);
      if (rate > config_.burst_factor * std::max(p.baseline, config_.min_baseline)) events[F(Feed::kOverBaseline)] = 1;
    }

    if (ev.header_fingerprint != 0 || ev.ua_hash != 0) {
      // A script rotating User-Agents keeps its header shape: both count as a new identity.
      uint64_t m = uint64_t{1} << (Mix(ev.header_fingerprint ^ Mix(ev.ua_hash + 0x75a)) % 64);
      if (!(p.header_fps & m)) {
        if (p.header_fps != 0) events[F(Feed::kNewHeaderFingerprint)] = 1;
        p.header_fps |= m;
      }
    }

    if (p.last_request_ms != INT64_MIN && now_ms >= p.last_request_ms) {
      // EWMA mean and variance (West's incremental form) of inter-arrival times.
      float dt = static_cast<float>(now_ms - p.last_request_ms);
      if (p.dt_samples == 0) {
        p.dt_mean = dt;
        p.dt_var = 0;
      } else {
        constexpr float kA = 0.2f;
        float diff = dt - p.dt_mean;
        p.dt_mean += kA * diff;
        p.dt_var = (1 - kA) * (p.dt_var + kA * diff * diff);
      }
      if (p.dt_samples < UINT16_MAX) ++p.dt_samples;
      // Metronome timing on one or two routes is a poller or a health check (a 5 s liveness probe must never
      // be throttled); across several routes it is a script walking the site.
      const int templates = std::popcount(p.templates[0]) + std::popcount(p.templates[1]) +
                            std::popcount(p.templates[2]) + std::popcount(p.templates[3]);
      if (!browser_like && templates >= 3 && p.dt_samples >= config_.bot_min_samples && p.dt_mean >= 1 &&
          std::sqrt(p.dt_var) / p.dt_mean < config_.bot_cv_max)
        events[F(Feed::kRegularTiming)] = 1;
    }
    p.last_request_ms = now_ms;
    Pour(p, events, now_ms, &a);
  });
  return a;
}

Assessment BehaviourEngine::OnResponse(uint64_t client_key, const ResponseEvent& ev, int64_t now_ms) {
  Assessment a;
  table_->With(client_key, true, now_ms, [&](Profile& p) {
    Roll(p, now_ms);
    std::array<float, F(Feed::kCount)> events{};
    ++p.responses[0];
    if (ev.status == 404) {
      ++p.not_found[0];
      events[F(Feed::kStatus404)] = 1;
    }
    bool denied = ev.status == 401 || ev.status == 403;
    if (denied) {
      ++p.denied[0];
      events[F(Feed::kStatusDenied)] = 1;
    }
    if (ev.login_failed || (ev.login_route && denied)) {
      ++p.login_failures[0];
      events[F(Feed::kLoginFailure)] = 1;
    }
    Pour(p, events, now_ms, &a);
  });
  return a;
}

Signals BehaviourEngine::Read(const Profile& p, int64_t now_ms) const {
  Signals s;
  float elapsed = std::min(1.0f, static_cast<float>(now_ms - p.window_start_ms) / static_cast<float>(config_.window_ms));
  s.rate = static_cast<float>(p.requests[1]) * (1 - elapsed) + static_cast<float>(p.requests[0]);
  s.baseline = p.windows >= config_.warmup_windows ? p.baseline : 0;
  s.distinct_templates = Estimate(p.templates);
  uint32_t responses = p.responses[0] + p.responses[1];
  if (responses > 0) {
    s.not_found_ratio = static_cast<float>(p.not_found[0] + p.not_found[1]) / static_cast<float>(responses);
    s.denied_ratio = static_cast<float>(p.denied[0] + p.denied[1]) / static_cast<float>(responses);
  }
  s.login_failures = p.login_failures[0] + p.login_failures[1];
  s.distinct_usernames = Estimate(p.usernames);
  s.signature_hits = p.signature_hits[0] + p.signature_hits[1];
  s.header_fingerprints = static_cast<uint32_t>(std::popcount(p.header_fps));
  s.sequential_run = p.seq_run;
  if (p.dt_samples >= config_.bot_min_samples && p.dt_mean > 0) s.timing_cv = std::sqrt(p.dt_var) / p.dt_mean;
  for (size_t i = 0; i < config_.scenarios.size(); ++i)
    s.buckets[i] = Leak(p.bucket[i], config_.scenarios[i].leak_per_sec, p.bucket_ms, now_ms);
  return s;
}

std::optional<Signals> BehaviourEngine::Inspect(uint64_t client_key, int64_t now_ms) {
  std::optional<Signals> out;
  table_->With(client_key, false, now_ms, [&](Profile& p) {
    Roll(p, now_ms);
    out = Read(p, now_ms);
  });
  return out;
}

bool BehaviourEngine::Forgive(uint64_t client_key, int64_t now_ms) {
  return table_->With(client_key, false, now_ms, [&](Profile& p) {
    p.decision = 0;
    p.decision_until_ms = 0;
    p.offences = 0;
    p.bucket = {};
  });
}

}  // namespace guard::behaviour
