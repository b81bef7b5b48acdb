// ProviderSelector: strategies and the glue between breakers, stats and quotas (see selector.h).
#include "providers/selector.h"

#include <mutex>
#include <algorithm>
#include <numeric>

namespace guard::providers {

ProviderSelector::ProviderSelector(const AiConfig* config, QuotaStore* quota, const Clock* clock)
    : config_(config), quota_(quota), clock_(clock) {
  for (const ProviderConfig& p : config_->providers) breakers_.emplace_back(p.breaker);
  stats_.resize(config_->providers.size());
}

double ProviderSelector::LatencyMs(size_t i) const {
  return stats_[i].ewma_latency_ms > 0 ? stats_[i].ewma_latency_ms : kPriorLatencyMs;
}

double ProviderSelector::Accuracy(size_t i) const {
  return (static_cast<double>(stats_[i].feedback_agree) + 1) / (static_cast<double>(stats_[i].feedback_total) + 2);
}

double ProviderSelector::EstimatedCallCostUsd(size_t i) const {
  const ProviderConfig& p = config_->providers[i];
  return CostUsd(kTypicalPromptTokens, p.max_output_tokens, p.usd_per_1m_input, p.usd_per_1m_output);
}

double ProviderSelector::Headroom(size_t i) {
  const ProviderConfig& p = config_->providers[i];
  return quota_->Snapshot(p.name, p.limits, config_->budget_usd_per_day, clock_->Now()).headroom;
}

std::vector<double> ProviderSelector::ScoresLocked(const std::vector<double>& headroom) const {
  size_t n = config_->providers.size();
  double min_latency = 1e18, min_cost = 1e18;
  for (size_t i = 0; i < n; ++i) {
    min_latency = std::min(min_latency, LatencyMs(i));
    min_cost = std::min(min_cost, EstimatedCallCostUsd(i));
  }
  const BalancedWeights& w = config_->weights;
  double wsum = w.speed + w.accuracy + w.cost + w.headroom;
  if (wsum <= 0) wsum = 1;
  std::vector<double> scores(n);
  for (size_t i = 0; i < n; ++i) {
    double speed = min_latency / LatencyMs(i);
    double cost = (min_cost + 1e-6) / (EstimatedCallCostUsd(i) + 1e-6);
    scores[i] = config_->providers[i].weight *
                (w.speed * speed + w.accuracy * Accuracy(i) + w.cost * cost + w.headroom * headroom[i]) / wsum;
  }
  return scores;
}

std::vector<double> ProviderSelector::BalancedScores() {
  std::vector<double> headroom(config_->providers.size());
  for (size_t i = 0; i < headroom.size(); ++i) headroom[i] = Headroom(i);
  std::lock_guard<std::mutex> lock(mu_);
  return ScoresLocked(headroom);
}

std::vector<size_t> ProviderSelector::Rank(const std::vector<size_t>& tried) {
  absl::Time now = clock_->Now();
  size_t n = config_->providers.size();
  // Quota snapshots first, outside our lock: a Redis-backed store may take a round trip.
  std::vector<double> headroom(n);
  for (size_t i = 0; i < n; ++i) headroom[i] = Headroom(i);

  std::lock_guard<std::mutex> lock(mu_);
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (std::find(tried.begin(), tried.end(), i) != tried.end()) continue;
    if (!breakers_[i].WouldAllow(now)) continue;
    if (headroom[i] <= 0) continue;
    out.push_back(i);
  }
  const auto& ps = config_->providers;
  auto tie = [&](size_t a, size_t b) {
    if (ps[a].priority != ps[b].priority) return ps[a].priority < ps[b].priority;
    return a < b;
  };
  std::vector<double> key(n, 0);  // smaller is better
  switch (config_->strategy) {
    case Strategy::kSpeed:
      for (size_t i = 0; i < n; ++i) key[i] = LatencyMs(i);
      break;
    case Strategy::kAccuracy:
      for (size_t i = 0; i < n; ++i) key[i] = -Accuracy(i);
      break;
    case Strategy::kCost:
      for (size_t i = 0; i < n; ++i) key[i] = EstimatedCallCostUsd(i);
      break;
    case Strategy::kPriority:
      for (size_t i = 0; i < n; ++i) key[i] = static_cast<double>(ps[i].priority) - ps[i].weight * 1e-6;
      break;
    case Strategy::kBalanced: {
      std::vector<double> s = ScoresLocked(headroom);
      for (size_t i = 0; i < n; ++i) key[i] = -s[i];
      break;
    }
  }
  std::stable_sort(out.begin(), out.end(), [&](size_t a, size_t b) {
    if (key[a] != key[b]) return key[a] < key[b];
    return tie(a, b);
  });
  return out;
}

bool ProviderSelector::AcquireBreaker(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  return breakers_[i].TryAcquire(clock_->Now());
}

absl::StatusOr<Reservation> ProviderSelector::Reserve(size_t i, int64_t input_tokens) {
  const ProviderConfig& p = config_->providers[i];
  Usage est;
  est.requests = 1;
  est.tokens = input_tokens + p.max_output_tokens;
  est.usd = CostUsd(input_tokens, p.max_output_tokens, p.usd_per_1m_input, p.usd_per_1m_output);
  return quota_->Reserve(p.name, p.limits, config_->budget_usd_per_day, est, clock_->Now());
}

void ProviderSelector::OnSuccess(size_t i, absl::Duration latency) {
  std::lock_guard<std::mutex> lock(mu_);
  breakers_[i].OnSuccess(clock_->Now());
  double ms = absl::ToDoubleMilliseconds(latency);
  double& e = stats_[i].ewma_latency_ms;
  e = e > 0 ? kEwmaAlpha * ms + (1 - kEwmaAlpha) * e : std::max(ms, 0.001);
}

void ProviderSelector::OnFailure(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  breakers_[i].OnFailure(clock_->Now());
}

void ProviderSelector::OnAbandon(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  breakers_[i].OnAbandon(clock_->Now());
}

void ProviderSelector::RecordFeedback(size_t i, bool agreed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (i >= stats_.size()) return;
  ++stats_[i].feedback_total;
  stats_[i].feedback_agree += agreed ? 1 : 0;
}

BreakerState ProviderSelector::breaker_state(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  return breakers_[i].State(clock_->Now());
}

ProviderStats ProviderSelector::stats(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_[i];
}

}  // namespace guard::providers
