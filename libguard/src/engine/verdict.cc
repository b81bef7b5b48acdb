#include "engine/verdict.h"

#include <cstring>

#include "common/incident_id.h"

namespace guard::engine {
namespace {

// Copies s into a fixed buffer, cutting it and always NUL-terminating.
void CopyCut(char* dst, size_t cap, std::string_view s) {
  size_t n = std::min(s.size(), cap - 1);
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

}  // namespace

void ClearVerdict(guard_verdict* v) { std::memset(v, 0, sizeof *v); }

void FillVerdict(const config::Config& cfg, const signatures::Matcher& matcher, const request::FieldList& fields,
                 const std::vector<signatures::Match>& matches, guard_verdict* v) {
  ClearVerdict(v);
  v->threshold = cfg.anomaly_threshold;
  if (fields.flags() & request::kBodyUninspected) v->flags |= GUARD_VERDICT_BODY_UNINSPECTED;

  const signatures::Match* strongest = nullptr;
  for (const signatures::Match& m : matches) {
    const signatures::Rule& r = matcher.rules()[m.rule_index];
    v->score += r.severity;
    v->categories |= uint64_t{1} << r.category;
    if (v->rule_count < GUARD_MAX_RULE_IDS) v->rule_ids[v->rule_count] = r.id;
    ++v->rule_count;
    if (!strongest || r.severity > matcher.rules()[strongest->rule_index].severity) strongest = &m;
  }
  if (strongest) {
    CopyCut(v->category, sizeof v->category, signatures::CategoryName(matcher.rules()[strongest->rule_index].category));
    const request::Field& f = fields.fields()[strongest->field_index];
    char target[GUARD_TARGET_LEN];
    std::string_view kind = request::TargetName(f.target);
    if (f.name.empty()) {
      CopyCut(target, sizeof target, kind);
    } else {
      size_t k = std::min(kind.size(), sizeof target - 2);
      std::memcpy(target, kind.data(), k);
      target[k] = ':';
      CopyCut(target + k + 1, sizeof target - k - 1, f.name);
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

}  // namespace guard::engine
