// The AI client: non-blocking escalation of suspicious requests to LLM providers.
//
// The Kong plugin runs inside nginx workers and must never block, so the API is submit-then-poll:
//   id = client.Submit(job)          // copies the job, returns at once (one brief mutex)
//   client.Poll(id)                  // pending | done(verdict) | failed(reason); final states are read once
// All network I/O runs on one background thread driving a libcurl multi handle (keep-alive connection
// cache, HTTP/2 multiplexing where offered, per-host and total connection limits, per-call timeouts).
//
// The thread starts lazily on the first Submit, never at construction: libguard is loaded in the nginx
// master before fork, and a thread started there would not exist in the workers. A Submit from a process
// other than the one that started the thread is refused (FailedPrecondition). The thread runs with every
// signal blocked so nginx's signal handling stays on nginx's threads.
//
// Per job: the prompt is built once (redacted, nonce-delimited); the selector ranks providers; the first
// whose breaker and quota allow a call gets it (or its bounded queue when all its slots are busy); a failure
// (transport error, timeout, 5xx, 429, unparsable or off-schema answer) fails over to the next provider
// while the job's deadline allows and max_attempts is not reached.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/breaker.h"
#include "providers/budget.h"
#include "providers/clock.h"
#include "providers/config.h"
#include "providers/prompt.h"
#include "providers/verdict.h"

namespace guard::providers {

struct AiJob {
  AiRequest request;
  absl::Duration deadline = absl::Seconds(2);  // from Submit; the plugin's per-route AI deadline
  double risk = 0.5;  // 0..1 pre-score from the local engines; the lowest risk is shed first
  // Called on the I/O thread when a provider answers with a valid verdict, also after the plugin cancelled
  // (the call is paid for; its answer still teaches the verdict cache). Must be quick and thread-safe.
  std::function<void(const AiVerdict& verdict, const std::string& provider)> on_verdict;
};

enum class JobState { kPending = 0, kDone = 1, kFailed = 2, kUnknown = 3 };

struct JobResult {
  JobState state = JobState::kUnknown;
  AiVerdict verdict;     // kDone
  std::string provider;  // who answered (kDone) or was tried last (kFailed)
  std::string reason;    // kFailed: why, e.g. "deadline", "shed", "budget_usd_per_day: ...", "HTTP 500"
  int attempts = 0;      // provider calls made for this job
  absl::Duration latency = absl::ZeroDuration();  // submit to final state
};

struct ProviderMetrics {
  std::string name;
  int64_t calls = 0;
  int64_t successes = 0;
  int64_t failures = 0;      // transport errors, timeouts, 5xx/4xx, malformed or off-schema answers
  int64_t invalid_answers = 0;  // of which: the answer failed the verdict schema
  int64_t rate_limited = 0;  // 429s and calls refused by quota
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0;
  double ewma_latency_ms = 0;
  int in_flight = 0;
  int queued = 0;
  double headroom = 1;
  BreakerState breaker = BreakerState::kClosed;
  int64_t feedback_total = 0;  // operator labels of this provider's verdicts (accuracy strategy)
  int64_t feedback_agree = 0;
};

struct ClientMetrics {
  int64_t submitted = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t shed = 0;
  int64_t expired = 0;  // deadline passed before an answer
  std::vector<ProviderMetrics> providers;
};

// Metrics as one JSON object, stats named "<provider>.<stat>" under "providers" (Envoy style):
// {"submitted":..,"done":..,"failed":..,"shed":..,"expired":..,"providers":{"openai":{"calls":..,
//  "successes":..,"failures":..,"invalid_answers":..,"rate_limited":..,"input_tokens":..,"output_tokens":..,
//  "cost_usd":..,"latency_ewma_ms":..,"in_flight":..,"queued":..,"headroom":..,"breaker":"closed",
//  "feedback_total":..,"feedback_agree":..}}}
std::string MetricsJson(const ClientMetrics& m);

struct ClientOptions {
  const Clock* clock = RealClock::Get();
  // Shared quota state; null means a LocalQuotaStore owned by the client.
  std::shared_ptr<QuotaStore> quota;
  size_t max_outstanding_jobs = 10000;  // Submit refuses beyond this (memory bound)
  absl::Duration result_ttl = absl::Seconds(60);  // unpolled final results are dropped after this
};

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Create(AiConfig config, ClientOptions options = {});
  ~Client();  // Shutdown()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Queues a job; starts the I/O thread on first use. Never blocks on the network.
  absl::StatusOr<uint64_t> Submit(AiJob job);
  // Current state of a job. A final state (done/failed) is returned once and then forgotten.
  JobResult Poll(uint64_t id);
  // The plugin no longer wants the answer (its deadline passed): a queued job is dropped, not sent.
  void Cancel(uint64_t id);
  // Labelled feedback for the accuracy strategy: did `provider`'s verdict match the operator's label?
  void RecordFeedback(std::string_view provider, bool agreed);
  ClientMetrics Metrics();
  const AiConfig& config() const;
  // Stops the thread, fails pending jobs with "shutdown". Idempotent; Submit afterwards fails.
  void Shutdown();

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace guard::providers
