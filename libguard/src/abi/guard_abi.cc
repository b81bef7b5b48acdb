// The C ABI (guard.h). Every entry point is a function-try-block: no C++ exception crosses into LuaJIT or
// C callers, whatever an engine throws (std::bad_alloc included). Errors are copied into the caller's
// buffer, always NUL-terminated. The shared helpers are in abi_internal.h; the AI entry points in
// guard_abi_ai.cc.
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "abi/abi_internal.h"
#include "common/absl_compat.h"
#include "common/fixed_string.h"
#include "engine/engine.h"
#include "engine/node_table.h"
#include "quota/limits.h"
#include "guard.h"
#include "signatures/matcher.h"
#include "signatures/rules.h"

namespace {

using guard::abi::Fail;
using guard::abi::SetError;
using guard::abi::ToString;
using guard::abi::ValidRequest;
using guard::abi::ValidStr;
using guard::common::CopyCut;

}  // namespace

extern "C" {

GUARD_API const char* guard_version(void) { return GUARD_VERSION_STRING; }

GUARD_API int guard_node_init(size_t shm_bytes, char* errbuf, size_t errlen) try {
  return guard::abi::InitNodeRegion(guard::engine::InitNodeTable, shm_bytes, errbuf, errlen);
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_engine_new(const char* config_json, size_t config_len, guard_engine** out, char* errbuf,
                               size_t errlen) {
  return guard_engine_new_v2(config_json, config_len, nullptr, out, errbuf, errlen);
}

GUARD_API int guard_engine_new_v2(const char* config_json, size_t config_len, const guard_engine_options* options,
                                  guard_engine** out, char* errbuf, size_t errlen) try {
  if (!out) return Fail(errbuf, errlen, GUARD_EINVAL, "out is NULL");
  *out = nullptr;
  if (!config_json && config_len) return Fail(errbuf, errlen, GUARD_EINVAL, "config_json is NULL");
  guard::engine::Identity id;
  if (options) {
    if (!ValidStr(options->instance_id) || !ValidStr(options->node_id)) {
      return Fail(errbuf, errlen, GUARD_EINVAL, "options has a NULL pointer with a non-zero length");
    }
    if (options->instance_id.len > guard::quota::kMaxNameBytes) {
      return Fail(errbuf, errlen, GUARD_EINVAL, "options.instance_id longer than 64 bytes");
    }
    if (options->instance_id.len) id.instance_id = ToString(options->instance_id);
    if (options->node_id.len) id.node_id = ToString(options->node_id);
  }
  auto engine =
      guard::engine::Engine::Create(std::string_view(config_json ? config_json : "", config_len), std::move(id));
  if (!engine.ok()) {
    int code = engine.status().code() == absl::StatusCode::kInvalidArgument ? GUARD_ECONFIG : GUARD_EINTERNAL;
    return Fail(errbuf, errlen, code, engine.status());
  }
  *out = new guard_engine{std::move(*engine)};
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API void guard_engine_free(guard_engine* engine) { delete engine; }

GUARD_API int guard_inspect(const guard_engine* engine, const guard_request* request, guard_verdict* verdict,
                            char* errbuf, size_t errlen) try {
  if (!engine || !request || !verdict) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine, request or verdict");
  if (!ValidRequest(request)) {
    std::memset(verdict, 0, sizeof *verdict);
    return Fail(errbuf, errlen, GUARD_EINVAL, "request has a NULL pointer with a non-zero length");
  }
  absl::Status st = engine->impl->Inspect(*request, verdict);
  if (!st.ok()) return Fail(errbuf, errlen, GUARD_EINTERNAL, st);
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_engine_quota_status(const guard_engine* engine, guard_quota_status* out, char* errbuf,
                                        size_t errlen) try {
  if (!engine || !out) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine or out");
  std::memset(out, 0, sizeof *out);
  out->node_table = guard::engine::HasNodeTable() ? 1 : 0;
  const guard::quota::QuotaEngine* q = engine->impl->quota();
  if (!q) return GUARD_OK;
  out->enabled = 1;
  const guard::quota::EngineStats es = q->Stats();
  out->checks = es.checks;
  out->refused = es.refused;
  out->degraded = es.degraded;
  auto table = guard::engine::NodeTableOrLocal();
  if (table.ok()) {
    const guard::quota::TableStats ts = (*table)->Stats();
    out->table_capacity = ts.capacity;
    out->table_live = ts.live;
    out->table_full = ts.table_full;
  }
  out->sync_state = GUARD_SYNC_NONE;
  if (const guard::quota::RedisSync* sync = q->sync()) {
    const guard::quota::SyncStatus ss = sync->Status();
    switch (ss.state) {
      case guard::quota::SyncState::kIdle: out->sync_state = GUARD_SYNC_IDLE; break;
      case guard::quota::SyncState::kHealthy: out->sync_state = GUARD_SYNC_HEALTHY; break;
      case guard::quota::SyncState::kUnhealthy: out->sync_state = GUARD_SYNC_UNHEALTHY; break;
    }
    switch (ss.on_failure) {
      case guard::quota::FailurePolicy::kLocalFallback: CopyCut(out->on_failure, sizeof out->on_failure, "local_fallback"); break;
      case guard::quota::FailurePolicy::kFailOpen: CopyCut(out->on_failure, sizeof out->on_failure, "fail_open"); break;
      case guard::quota::FailurePolicy::kFailClosed: CopyCut(out->on_failure, sizeof out->on_failure, "fail_closed"); break;
    }
    out->active_nodes = ss.active_nodes;
    out->rounds_ok = ss.rounds_ok;
    out->rounds_failed = ss.rounds_failed;
    out->keys_synced = ss.keys_synced;
    out->counts_dropped = ss.counts_dropped;
    out->last_ok_unix_ms = ss.last_ok_unix_ms;
    CopyCut(out->last_error, sizeof out->last_error, ss.last_error);
  }
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API const char* guard_period_name(int period) {
  if (period < 0 || period >= GUARD_PERIOD_COUNT) return "";
  // PeriodHeaderName points into a static table of string literals: NUL-terminated.
  return guard::quota::PeriodHeaderName(static_cast<guard::quota::Period>(period)).data();
}

GUARD_API int guard_rules_check(const char* rules_json, size_t rules_len, char* errbuf, size_t errlen) try {
  if (!rules_json && rules_len) return Fail(errbuf, errlen, GUARD_EINVAL, "rules_json is NULL");
  auto set = guard::signatures::ParseRules(std::string_view(rules_json ? rules_json : "", rules_len));
  if (!set.ok()) return Fail(errbuf, errlen, GUARD_ERULES, set.status());
  guard::signatures::CompileOptions all_levels;
  all_levels.paranoia_level = 4;
  auto matcher = guard::signatures::Matcher::Compile(*set, all_levels);
  if (!matcher.ok()) return Fail(errbuf, errlen, GUARD_ERULES, matcher.status());
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API const char* guard_category_name(int category) {
  // Points into a static table of string literals, so returning .data() is NUL-terminated.
  std::string_view n = guard::signatures::CategoryName(static_cast<guard_category>(category));
  return n.empty() ? "" : n.data();
}

GUARD_API const char* guard_action_name(int action) {
  switch (action) {
    case GUARD_ACTION_ALLOW: return "allow";
    case GUARD_ACTION_MONITOR: return "monitor";
    case GUARD_ACTION_BLOCK: return "block";
    case GUARD_ACTION_RATE_LIMITED: return "rate_limited";
    default: return "";
  }
}

}  // extern "C"
