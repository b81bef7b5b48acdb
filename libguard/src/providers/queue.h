// The bounded wait queue of one provider: jobs that chose the provider while all its call slots were busy.
//
// When the queue is full, the job with the lowest risk (the gateway's pre-score of how suspicious the
// request is) is shed, which may be the newcomer itself: under overload the AI budget goes to the requests
// most likely to be attacks. Jobs leave in order of risk (then deadline), and jobs whose deadline passed
// are dropped rather than sent: an answer after the plugin stopped polling is wasted money.
// Linear scans over a small vector: capacities are tens of jobs, and the code stays obvious.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"

namespace guard::providers {

struct QueuedJob {
  uint64_t id = 0;
  double risk = 0;
  absl::Time deadline;
};

class ProviderQueue {
 public:
  explicit ProviderQueue(size_t capacity) : capacity_(capacity) {}

  // Adds `job`. Returns the id of the job shed to make room (possibly job.id), or nullopt.
  std::optional<uint64_t> Push(const QueuedJob& job);
  // The next job to run (highest risk, then earliest deadline), skipping expired ones into `expired`.
  std::optional<QueuedJob> Pop(absl::Time now, std::vector<uint64_t>* expired);
  // Removes jobs whose deadline has passed; returns their ids.
  std::vector<uint64_t> DropExpired(absl::Time now);
  // Removes one job (cancelled by the caller). True when it was queued.
  bool Remove(uint64_t id);
  size_t size() const { return jobs_.size(); }
  // Earliest deadline in the queue (InfiniteFuture when empty), for the client loop's wake-up.
  absl::Time NextDeadline() const;

 private:
  size_t capacity_;
  std::vector<QueuedJob> jobs_;
};

}  // namespace guard::providers
