// The C ABI (guard.h). Every entry point is a function-try-block: no C++ exception crosses into LuaJIT or
// C callers, whatever an engine throws (std::bad_alloc included). Errors are copied into the caller's
// buffer, always NUL-terminated.
#include <cstring>
#include <new>
#include <string_view>

#include "common/absl_compat.h"
#include "engine/engine.h"
#include "guard.h"
#include "signatures/matcher.h"
#include "signatures/rules.h"

struct guard_engine {
  std::unique_ptr<guard::engine::Engine> impl;
};

namespace {

void SetError(char* errbuf, size_t errlen, std::string_view msg) {
  if (!errbuf || errlen == 0) return;
  size_t n = std::min(msg.size(), errlen - 1);
  std::memcpy(errbuf, msg.data(), n);
  errbuf[n] = '\0';
}

int Fail(char* errbuf, size_t errlen, int code, std::string_view msg) {
  SetError(errbuf, errlen, msg);
  return code;
}

int Fail(char* errbuf, size_t errlen, int code, const absl::Status& st) {
  return Fail(errbuf, errlen, code, guard::common::ToStd(st.message()));
}

bool ValidStr(const guard_str& s) { return s.ptr != nullptr || s.len == 0; }

bool ValidRequest(const guard_request* r) {
  if (!ValidStr(r->method) || !ValidStr(r->path) || !ValidStr(r->query) || !ValidStr(r->body) ||
      !ValidStr(r->client_ip) || !ValidStr(r->consumer_id) || !ValidStr(r->credential_id) ||
      !ValidStr(r->route_id)) {
    return false;
  }
  if (r->header_count && !r->headers) return false;
  for (size_t i = 0; i < r->header_count; ++i) {
    if (!ValidStr(r->headers[i].name) || !ValidStr(r->headers[i].value)) return false;
  }
  return true;
}

}  // namespace

extern "C" {

GUARD_API const char* guard_version(void) { return GUARD_VERSION_STRING; }

GUARD_API int guard_engine_new(const char* config_json, size_t config_len, guard_engine** out, char* errbuf,
                               size_t errlen) try {
  if (!out) return Fail(errbuf, errlen, GUARD_EINVAL, "out is NULL");
  *out = nullptr;
  if (!config_json && config_len) return Fail(errbuf, errlen, GUARD_EINVAL, "config_json is NULL");
  auto engine = guard::engine::Engine::Create(std::string_view(config_json ? config_json : "", config_len));
  if (!engine.ok()) {
    int code = engine.status().code() == absl::StatusCode::kInvalidArgument ? GUARD_ECONFIG : GUARD_EINTERNAL;
    return Fail(errbuf, errlen, code, engine.status());
  }
  *out = new guard_engine{std::move(*engine)};
  return GUARD_OK;
} catch (const std::bad_alloc&) {
  return Fail(errbuf, errlen, GUARD_ENOMEM, "out of memory");
} catch (const std::exception& e) {
  return Fail(errbuf, errlen, GUARD_EINTERNAL, e.what());
} catch (...) {
  return Fail(errbuf, errlen, GUARD_EINTERNAL, "unknown internal error");
}

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
} catch (const std::bad_alloc&) {
  return Fail(errbuf, errlen, GUARD_ENOMEM, "out of memory");
} catch (const std::exception& e) {
  return Fail(errbuf, errlen, GUARD_EINTERNAL, e.what());
} catch (...) {
  return Fail(errbuf, errlen, GUARD_EINTERNAL, "unknown internal error");
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
} catch (const std::bad_alloc&) {
  return Fail(errbuf, errlen, GUARD_ENOMEM, "out of memory");
} catch (...) {
  return Fail(errbuf, errlen, GUARD_EINTERNAL, "unknown internal error");
}

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
