// Turning matches into a verdict: anomaly scoring as in CRS (sum of severities against a threshold),
// the category and target of the strongest match, and the verdict struct of the C ABI.
#pragma once

#include "config/config.h"
#include "guard.h"
#include "request/fields.h"
#include "signatures/matcher.h"

namespace guard::engine {

void ClearVerdict(guard_verdict* v);

// Scores the matches of one scan and fills the verdict (action, score, rules, category, target, flags).
void FillVerdict(const config::Config& cfg, const signatures::Matcher& matcher, const request::FieldList& fields,
                 const std::vector<signatures::Match>& matches, guard_verdict* v);

}  // namespace guard::engine
