// Counts heap allocations of a test binary, for tests that prove a path allocates nothing in steady state.
// Replaces the global operator new/delete, so include it in exactly one source file of a test binary.
//
// Under AddressSanitizer (tests/fuzz/run.sh builds these tests sanitized) the runtime owns operator
// new/delete; replacing them there trips its alloc/dealloc matching, so the count is only taken without it
// (GUARD_COUNT_ALLOCATIONS is then 0 and the tests skip their checks).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define GUARD_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GUARD_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef GUARD_COUNT_ALLOCATIONS
#define GUARD_COUNT_ALLOCATIONS 1
#endif

inline std::atomic<long> g_allocations{0};

#if GUARD_COUNT_ALLOCATIONS
// GCC cannot see that this new and this delete are a pair (both malloc/free).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif
