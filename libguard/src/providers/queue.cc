// ProviderQueue (see queue.h for the shedding policy).
#include "providers/queue.h"

#include <algorithm>

namespace guard::providers {

std::optional<uint64_t> ProviderQueue::Push(const QueuedJob& job) {
  if (jobs_.size() < capacity_) {
    jobs_.push_back(job);
    return std::nullopt;
  }
  if (capacity_ == 0) return job.id;
  // Lowest risk goes; among equals the latest deadline goes (it had the most slack to retry elsewhere).
  auto lowest = std::min_element(jobs_.begin(), jobs_.end(), [](const QueuedJob& a, const QueuedJob& b) {
    if (a.risk != b.risk) return a.risk < b.risk;
    return a.deadline > b.deadline;
  });
  if (job.risk <= lowest->risk) return job.id;
  uint64_t shed = lowest->id;
  *lowest = job;
  return shed;
}

std::optional<QueuedJob> ProviderQueue::Pop(absl::Time now, std::vector<uint64_t>* expired) {
  for (uint64_t id : DropExpired(now)) expired->push_back(id);
  if (jobs_.empty()) return std::nullopt;
  auto best = std::min_element(jobs_.begin(), jobs_.end(), [](const QueuedJob& a, const QueuedJob& b) {
    if (a.risk != b.risk) return a.risk > b.risk;
    return a.deadline < b.deadline;
  });
  QueuedJob out = *best;
  jobs_.erase(best);
  return out;
}

std::vector<uint64_t> ProviderQueue::DropExpired(absl::Time now) {
  std::vector<uint64_t> out;
  auto it = std::remove_if(jobs_.begin(), jobs_.end(), [&](const QueuedJob& j) {
    if (j.deadline > now) return false;
    out.push_back(j.id);
    return true;
  });
  jobs_.erase(it, jobs_.end());
  return out;
}

bool ProviderQueue::Remove(uint64_t id) {
  auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const QueuedJob& j) { return j.id == id; });
  if (it == jobs_.end()) return false;
  jobs_.erase(it);
  return true;
}

absl::Time ProviderQueue::NextDeadline() const {
  absl::Time t = absl::InfiniteFuture();
  for (const QueuedJob& j : jobs_) t = std::min(t, j.deadline);
  return t;
}

}  // namespace guard::providers
