// Steady state allocates nothing: after a warm-up, parsing the same kinds of requests into the same
// FieldList performs no heap allocation. Counted by replacing global operator new in this test binary.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "request/fields.h"
#include "test_util.h"

// Under AddressSanitizer (tests/fuzz/run.sh builds these tests sanitized) the runtime owns operator
// new/delete; replacing them there trips its alloc/dealloc matching, so the count is only taken without it.
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

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

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

using namespace guard::request;
using namespace guard::request::testing;

TEST_CASE("Steady-state parsing allocates nothing") {
  std::vector<RequestBuilder> requests(4);
  requests[0].query = "a=%41&b=" + std::string(3000, 'x');
  requests[0].headers = {{"Cookie", "s=%31; t=2"}, {"User-Agent", "UA"}, {"X-Upper", "v"}};
  requests[1].headers = {{"Content-Type", "application/json"}};
  requests[1].body = R"({"a":{"b":[1,"two",{"c":true}]},"long":")" + std::string(5000, 'y') + "\"}";
  requests[2].headers = {{"Content-Type", "text/xml"}};
  requests[2].body = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///\">]><x a=\"1\">&e;</x>";
  requests[3].headers = {{"Content-Type", "multipart/form-data; boundary=B"}};
  requests[3].body = "--B\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%41\r\n\r\nzz\r\n--B--";
  std::vector<guard_request> built;
  for (auto& r : requests) built.push_back(r.Build());

  if (!GUARD_COUNT_ALLOCATIONS) return;  // see above
  FieldList fl;
  for (int warm = 0; warm < 3; ++warm)
    for (auto& r : built) Parse(r, Limits{}, &fl);
  long probe = g_allocations.load();
  static void* volatile sink;  // a plain call, not a new-expression: the compiler may not elide it
  sink = ::operator new(8);
  ::operator delete(sink);
  REQUIRE(g_allocations.load() == probe + 1);  // the counter is live
  long before = g_allocations.load();
  for (int round = 0; round < 10; ++round)
    for (auto& r : built) Parse(r, Limits{}, &fl);
  REQUIRE(g_allocations.load() - before == 0);
}
