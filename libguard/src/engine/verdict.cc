#include "engine/verdict.h"

#include <algorithm>
#include <cstring>

#include "common/fixed_string.h"
#include "common/incident_id.h"
#include "signatures/rules.h"

namespace guard::engine {
using common::CopyCut;

void ClearVerdict(guard_verdict* v) { std::memset(v, 0, sizeof *v); }

void FillVerdict(const config::Config& cfg, std::span<const Finding> findings, bool uninspected, guard_verdict* v) {
  ClearVerdict(v);
  v->threshold = cfg.anomaly_threshold;
  if (uninspected) v->flags |= GUARD_VERDICT_BODY_UNINSPECTED;

  const Finding* strongest = nullptr;
  for (const Finding& f : findings) {
    v->score += f.severity;
    v->categories |= uint64_t{1} << f.category;
    if (v->rule_count < GUARD_MAX_RULE_IDS) v->rule_ids[v->rule_count] = f.rule_id;
    ++v->rule_count;
    if (!strongest || f.severity > strongest->severity) strongest = &f;
  }
  if (strongest) {
    CopyCut(v->category, sizeof v->category, signatures::CategoryName(strongest->category));
    char target[GUARD_TARGET_LEN];
    if (strongest->name.empty()) {
      CopyCut(target, sizeof target, strongest->kind);
    } else {
      size_t k = std::min(strongest->kind.size(), sizeof target - 2);
      std::memcpy(target, strongest->kind.data(), k);
      target[k] = ':';
      CopyCut(target + k + 1, sizeof target - k - 1, strongest->name);
    }
    std::memcpy(v->target, target, sizeof target);
  }

  if (v->score >= cfg.anomaly_threshold) {
    v->action = cfg.mode == config::Mode::kMonitor ? GUARD_ACTION_MONITOR : GUARD_ACTION_BLOCK;
    common::NewIncidentId(v->incident_id, sizeof v->incident_id);
  } else {
    v->action = GUARD_ACTION_ALLOW;
  }
}

void FillRateLimit(const quota::QuotaEngine& q, const quota::Decision& d, guard_rate_limit* out) {
  std::memset(out, 0, sizeof *out);
  if (d.limit_index < 0 && d.admitted) return;  // no limit applied to this request
  out->flags = GUARD_RATE_APPLIED | (d.degraded ? GUARD_RATE_DEGRADED : 0u);
  out->limit = d.limit;
  out->remaining = d.remaining;
  out->reset_s = d.reset_s;
  if (!d.admitted) {
    if (d.retry_after_s == quota::kNever) {
      out->flags |= GUARD_RATE_NEVER;
    } else {
      out->retry_after_s = std::max<uint64_t>(1, d.retry_after_s);
    }
  }
  static_assert(quota::kPeriodCount == GUARD_PERIOD_COUNT);
  for (size_t p = 0; p < quota::kPeriodCount; ++p) {
    if (!d.per_period[p].present) continue;
    out->period_mask |= 1u << p;
    out->period_limit[p] = d.per_period[p].limit;
    out->period_remaining[p] = d.per_period[p].remaining;
  }
  CopyCut(out->window, sizeof out->window, quota::PeriodName(d.period));
  if (d.limit_index >= 0 && static_cast<size_t>(d.limit_index) < q.config().limits.size()) {
    CopyCut(out->limit_name, sizeof out->limit_name, q.config().limits[d.limit_index].name);
  }
  CopyCut(out->policy, sizeof out->policy, std::string_view(d.policy, d.policy_len));
}

}  // namespace guard::engine
