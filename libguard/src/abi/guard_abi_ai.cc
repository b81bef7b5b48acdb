// The C ABI of AI escalation (guard.h, "AI escalation"): submit / poll / cancel over the engine's providers
// client, feedback for the accuracy strategy, and the status JSON. Same conventions as guard_abi.cc: every
// entry point is a function-try-block, errors go to the caller's buffer, nothing here waits on the network.
#include <algorithm>
#include <cstring>
#include <string>

#include "abi/abi_internal.h"
#include "absl/strings/str_cat.h"
#include "common/incident_id.h"
#include "config/ai_section.h"
#include "providers/client.h"
#include "providers/config.h"
#include "providers/redis_quota_store.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "signatures/rules.h"

namespace {

using guard::abi::Fail;
using guard::abi::SetError;
using guard::abi::ValidRequest;
using guard::common::CopyCut;
namespace providers = guard::providers;

int ActionOf(providers::AiAction a) {
  switch (a) {
    case providers::AiAction::kAllow: return GUARD_ACTION_ALLOW;
    case providers::AiAction::kMonitor: return GUARD_ACTION_MONITOR;
    case providers::AiAction::kBlock: return GUARD_ACTION_BLOCK;
  }
  return GUARD_ACTION_ALLOW;
}

// Where quotas, budgets and open breakers live: "redis" (shared by the nodes; "redis_healthy": false while it is
// unreachable and this node runs on its local state), or "node-local" without a redis section.
std::string SharedStateJson(const guard::engine::Engine& e) {
  const providers::RedisQuotaStore* r = e.ai_redis();
  if (!r) return R"("shared_state":"node-local",)";
  const providers::RedisQuotaHealth h = r->Health();
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.String(h.last_error.data(), static_cast<rapidjson::SizeType>(h.last_error.size()));
  return absl::StrCat(R"("shared_state":"redis","redis_healthy":)", h.healthy ? "true" : "false",
                      R"(,"redis_ops_ok":)", h.ops_ok, R"(,"redis_ops_failed":)", h.ops_failed,
                      R"(,"redis_last_error":)", absl::string_view(sb.GetString(), sb.GetSize()), ",");
}

// The engine-level part of the status ("how requests are escalated"), followed by the client's metrics.
std::string StatusJson(const guard::engine::Engine& e) {
  providers::Client* ai = e.ai();
  if (!ai) return R"({"enabled":false})";
  const guard::config::AiSection& a = e.config().ai;
  std::string metrics = providers::MetricsJson(ai->Metrics());  // {"submitted":...}
  using guard::common::ToAbsl;
  return absl::StrCat(R"({"enabled":true,"mode":")", a.mode == guard::config::AiSection::Mode::kAsync ? "async" : "sync",
                      R"(","deadline_ms":)", a.deadline_ms, R"(,"fallback":")",
                      ToAbsl(guard::config::FallbackName(a.fallback)), R"(","strategy":")",
                      ToAbsl(providers::StrategyName(a.providers.strategy)),
                      R"(","cleared_shapes":)", e.ai_cleared() ? e.ai_cleared()->size() : 0, ",",
                      SharedStateJson(e), ToAbsl(std::string_view(metrics).substr(1)));
}

}  // namespace

extern "C" {

GUARD_API int guard_ai_submit(const guard_engine* engine, const guard_request* request, const guard_verdict* verdict,
                              uint64_t* job, char* errbuf, size_t errlen) try {
  if (!engine || !request || !verdict || !job) {
    return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine, request, verdict or job");
  }
  *job = 0;
  if (!ValidRequest(request)) {
    return Fail(errbuf, errlen, GUARD_EINVAL, "request has a NULL pointer with a non-zero length");
  }
  if (!engine->impl->ai()) return Fail(errbuf, errlen, GUARD_EINVAL, "the config has no ai section");
  auto id = engine->impl->SubmitAi(*request, *verdict);
  if (!id.ok()) return Fail(errbuf, errlen, GUARD_EINTERNAL, id.status());
  *job = *id;
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_ai_poll(const guard_engine* engine, uint64_t job, guard_ai_result* out, char* errbuf,
                            size_t errlen) try {
  if (!engine || !out) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine or out");
  std::memset(out, 0, sizeof *out);
  out->category = -1;
  providers::Client* ai = engine->impl->ai();
  if (!ai) return Fail(errbuf, errlen, GUARD_EINVAL, "the config has no ai section");
  const providers::JobResult r = ai->Poll(job);
  switch (r.state) {
    case providers::JobState::kPending: out->state = GUARD_AI_PENDING; break;
    case providers::JobState::kDone: out->state = GUARD_AI_DONE; break;
    case providers::JobState::kFailed: out->state = GUARD_AI_FAILED; break;
    case providers::JobState::kUnknown: out->state = GUARD_AI_UNKNOWN; break;
  }
  out->attempts = static_cast<uint32_t>(std::max(r.attempts, 0));
  out->latency_ms = static_cast<uint32_t>(std::clamp<int64_t>(absl::ToInt64Milliseconds(r.latency), 0, UINT32_MAX));
  CopyCut(out->provider, sizeof out->provider, r.provider);
  if (r.state == providers::JobState::kDone) {
    out->action = ActionOf(r.verdict.action);
    out->threat = r.verdict.threat ? 1 : 0;
    guard_category c;
    if (guard::signatures::ParseCategory(r.verdict.category, &c)) out->category = c;
    out->confidence = r.verdict.confidence;
    CopyCut(out->category_name, sizeof out->category_name, r.verdict.category);
    CopyCut(out->reason, sizeof out->reason, r.verdict.reason);
    if (out->action == GUARD_ACTION_BLOCK) guard::common::NewIncidentId(out->incident_id, sizeof out->incident_id);
  } else {
    CopyCut(out->reason, sizeof out->reason, r.reason);
  }
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_ai_cancel(const guard_engine* engine, uint64_t job, char* errbuf, size_t errlen) try {
  if (!engine) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine");
  providers::Client* ai = engine->impl->ai();
  if (!ai) return Fail(errbuf, errlen, GUARD_EINVAL, "the config has no ai section");
  ai->Cancel(job);
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_ai_feedback(const guard_engine* engine, const char* provider, size_t provider_len, int agreed,
                                char* errbuf, size_t errlen) try {
  if (!engine || (!provider && provider_len)) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine or provider");
  providers::Client* ai = engine->impl->ai();
  if (!ai) return Fail(errbuf, errlen, GUARD_EINVAL, "the config has no ai section");
  const std::string_view name(provider ? provider : "", provider_len);
  bool known = false;
  for (const providers::ProviderConfig& p : ai->config().providers) known = known || p.name == name;
  if (!known) return Fail(errbuf, errlen, GUARD_EINVAL, absl::StrCat("unknown provider: ", guard::common::ToAbsl(name)));
  ai->RecordFeedback(name, agreed != 0);
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_ai_status(const guard_engine* engine, char* json, size_t len, size_t* needed, char* errbuf,
                              size_t errlen) try {
  if (!engine || !needed || (!json && len)) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine, json or needed");
  const std::string s = StatusJson(*engine->impl);
  *needed = s.size();
  if (len) CopyCut(json, len, s);
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

}  // extern "C"
