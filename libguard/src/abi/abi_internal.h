// Shared by the ABI's translation units (guard_abi.cc, guard_abi_behaviour.cc): the engine handle and the
// error plumbing every entry point uses. Not installed; guard.h is the only public header.
#pragma once

#include <memory>
#include <new>
#include <string>
#include <string_view>

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

}  // namespace guard::abi

// The handlers of every entry point's function-try-block: whatever an engine throws becomes a status
// code and a message in the caller's buffer.
#define GUARD_ABI_CATCH(errbuf, errlen)                                                    \
  catch (const std::bad_alloc&) {                                                          \
    return ::guard::abi::Fail(errbuf, errlen, GUARD_ENOMEM, "out of memory");              \
  }                                                                                        \
  catch (const std::exception& e) {                                                        \
    return ::guard::abi::Fail(errbuf, errlen, GUARD_EINTERNAL, e.what());                  \
  }                                                                                        \
  catch (...) {                                                                            \
    return ::guard::abi::Fail(errbuf, errlen, GUARD_EINTERNAL, "unknown internal error"); \
  }
