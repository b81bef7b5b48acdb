// Provider selection: which provider gets the next call of a job.
//
// A provider is a candidate when its breaker lets a call through, the job has not tried it yet, and its
// quota has headroom. Candidates are ordered by the configured strategy:
//   speed     lowest EWMA latency of successful calls (alpha 0.2; 500 ms assumed before the first one)
//   accuracy  highest agreement with labelled feedback, Laplace-smoothed: (agree + 1) / (total + 2)
//   cost      lowest estimated dollars per call (typical prompt + max output tokens at list prices)
//   priority  lowest `priority`, then highest `weight`
//   balanced  highest weight_i * (ws*speed + wa*accuracy + wc*cost + wh*headroom) / (ws+wa+wc+wh), where
//             speed = min_latency / latency_i, cost = (min_cost + 1e-6) / (cost_i + 1e-6), accuracy as
//             above and headroom the quota store's free fraction of the tightest limit, each in 0..1.
// Ties fall back to priority, then to config order, so rankings are deterministic and testable.
//
// Thread-safety: one mutex around breakers and stats. The client thread calls everything; the plugin's
// workers call RecordFeedback and the read-only accessors.
#pragma once

#include <mutex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "providers/breaker.h"
#include "providers/budget.h"
#include "providers/clock.h"
#include "providers/config.h"

namespace guard::providers {

struct ProviderStats {
  double ewma_latency_ms = 0;  // 0 until the first successful call
  int64_t feedback_total = 0;
  int64_t feedback_agree = 0;
};

class ProviderSelector {
 public:
  // `config`, `quota` and `clock` must outlive the selector.
  ProviderSelector(const AiConfig* config, QuotaStore* quota, const Clock* clock);

  // Candidate provider indexes for the next attempt, best first.
  std::vector<size_t> Rank(const std::vector<size_t>& tried);

  // The balanced score of every provider (index-aligned with config.providers), for tests and metrics.
  std::vector<double> BalancedScores();

  // Takes the breaker's permission for one call (a probe slot when half-open).
  bool AcquireBreaker(size_t i);
  // Books the call's estimated usage in the quota store.
  absl::StatusOr<Reservation> Reserve(size_t i, int64_t input_tokens);
  void OnSuccess(size_t i, absl::Duration latency);
  void OnFailure(size_t i);
  void OnAbandon(size_t i);  // acquired but not called, or rate limited (not the provider's fault)

  void RecordFeedback(size_t i, bool agreed);

  BreakerState breaker_state(size_t i);
  ProviderStats stats(size_t i);
  double EstimatedCallCostUsd(size_t i) const;
  double Headroom(size_t i);

 private:
  static constexpr double kPriorLatencyMs = 500;
  static constexpr double kEwmaAlpha = 0.2;
  static constexpr int64_t kTypicalPromptTokens = 700;

  double LatencyMs(size_t i) const;
  double Accuracy(size_t i) const;
  std::vector<double> ScoresLocked(const std::vector<double>& headroom) const;

  const AiConfig* config_;
  QuotaStore* quota_;
  const Clock* clock_;
  std::mutex mu_;  // guards breakers_ and stats_
  std::vector<CircuitBreaker> breakers_;
  std::vector<ProviderStats> stats_;
};

}  // namespace guard::providers
