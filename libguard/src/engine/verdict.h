// Turning matches into a verdict: anomaly scoring as in CRS (sum of severities against a threshold),
// the category and target of the strongest match, and the verdict struct of the C ABI.
#pragma once

#include <span>

#include "config/config.h"
#include "engine/finding.h"
#include "guard.h"
#include "quota/engine.h"

namespace guard::engine {

void ClearVerdict(guard_verdict* v);

// Scores the findings of one request and fills the verdict (action, score, rules, category, target).
// `uninspected` says part of the body was not inspected.
void FillVerdict(const config::Config& cfg, std::span<const Finding> findings, bool uninspected, guard_verdict* v);

// Copies a quota decision into the verdict's flat rate-limit struct (all zero when no limit applied).
void FillRateLimit(const quota::QuotaEngine& q, const quota::Decision& d, guard_rate_limit* out);

}  // namespace guard::engine
