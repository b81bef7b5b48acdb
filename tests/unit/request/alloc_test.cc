// Steady state allocates nothing: after a warm-up, parsing the same kinds of requests into the same
// FieldList performs no heap allocation. Counted by replacing global operator new in this test binary.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "request/fields.h"
#include "test_util.h"

#include "../allocation_counter.h"

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
