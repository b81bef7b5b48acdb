// What the C ABI's translation units share (guard_abi.cc, guard_abi_behaviour.cc, guard_abi_ai.cc): the opaque
// handle's body, the error-buffer helpers and the catch handlers that keep every exception on this side of the
// boundary. Not installed; guard.h is the only public header.
#pragma once

#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/absl_compat.h"
#include "common/fixed_string.h"
#include "engine/engine.h"
#include "guard.h"

struct guard_engine {
  std::unique_ptr<guard::engine::Engine> impl;
};

namespace guard::abi {

inline void SetError(char* errbuf, size_t errlen, std::string_view msg) { common::CopyCut(errbuf, errlen, msg); }

inline int Fail(char* errbuf, size_t errlen, int code, std::string_view msg) {
  SetError(errbuf, errlen, msg);
  return code;
}

inline int Fail(char* errbuf, size_t errlen, int code, const absl::Status& st) {
  return Fail(errbuf, errlen, code, common::ToStd(st.message()));
}

inline bool ValidStr(const guard_str& s) { return s.ptr != nullptr || s.len == 0; }

inline std::string ToString(const guard_str& s) { return s.len ? std::string(s.ptr, s.len) : std::string(); }

inline bool ValidRequest(const guard_request* r) {
  if (!ValidStr(r->method) || !ValidStr(r->path) || !ValidStr(r->query) || !ValidStr(r->body) ||
      !ValidStr(r->client_ip) || !ValidStr(r->consumer_id) || !ValidStr(r->credential_id) ||
      !ValidStr(r->route_id) || !ValidStr(r->service_id)) {
    return false;
  }
  if (r->consumer_tag_count && !r->consumer_tags) return false;
  for (size_t i = 0; i < r->consumer_tag_count; ++i) {
    if (!ValidStr(r->consumer_tags[i])) return false;
  }
  if (r->header_count && !r->headers) return false;
  for (size_t i = 0; i < r->header_count; ++i) {
    if (!ValidStr(r->headers[i].name) || !ValidStr(r->headers[i].value)) return false;
  }
  return true;
}

// guard_node_init and guard_node_init_behaviour: map a node region made before fork (MAP_SHARED memory).
template <typename InitFn>
int InitNodeRegion(InitFn init, size_t shm_bytes, char* errbuf, size_t errlen) {
  if (shm_bytes == 0) return Fail(errbuf, errlen, GUARD_EINVAL, "shm_bytes is 0");
  absl::Status st = init(shm_bytes);
  if (!st.ok()) {
    return Fail(errbuf, errlen, st.code() == absl::StatusCode::kResourceExhausted ? GUARD_ENOMEM : GUARD_EINVAL, st);
  }
  SetError(errbuf, errlen, "");
  return GUARD_OK;
}

}  // namespace guard::abi

// The handlers of every entry point's function-try-block: whatever an engine throws becomes a status
// code and a message in the caller's buffer.
#define GUARD_ABI_CATCH(errbuf, errlen)                                                 \
  catch (const std::bad_alloc&) {                                                       \
    return ::guard::abi::Fail(errbuf, errlen, GUARD_ENOMEM, "out of memory");           \
  }                                                                                     \
  catch (const std::exception& e) {                                                     \
    return ::guard::abi::Fail(errbuf, errlen, GUARD_EINTERNAL, e.what());               \
  }                                                                                     \
  catch (...) {                                                                         \
    return ::guard::abi::Fail(errbuf, errlen, GUARD_EINTERNAL, "unknown internal error"); \
  }
