// ProfileTable: bounded memory under a flood of distinct clients, no allocation after Create, CLOCK
// keeps hot clients.
#include "behaviour/profile_table.h"

#include <catch2/catch.hpp>
#include <malloc.h>

#include <chrono>
#include <cstdio>

#include "behaviour/behaviour.h"
#include "fingerprint/client.h"
#include "fingerprint/request_shape.h"

using namespace guard::behaviour;

namespace {
size_t HeapInUse() { return mallinfo2().uordblks; }
uint64_t KeyOf(uint64_t i) { return guard::fingerprint::MakeClientKey("10.0.0.0:" + std::to_string(i), "").hash; }
}  // namespace

TEST_CASE("budget sizes the table") {
  CHECK_FALSE(ProfileTable::Create(1000, 16).ok());
  auto t = ProfileTable::Create(8u << 20, 16);
  REQUIRE(t.ok());
  CHECK((*t)->MemoryBytes() <= (8u << 20));
  CHECK((*t)->MemoryBytes() > (7u << 20));  // and the budget is actually used
  CHECK((*t)->capacity() >= (8u << 20) / (sizeof(Profile) + 16));
}

TEST_CASE("find, create, update") {
  auto t = std::move(*ProfileTable::Create(1u << 20, 4));
  CHECK_FALSE(t->With(42, false, 0, [](Profile&) {}));
  CHECK(t->With(42, true, 5, [](Profile& p) { p.seq_run = 7; }));
  uint16_t seen = 0;
  CHECK(t->With(42, false, 6, [&](Profile& p) { seen = p.seq_run; }));
  CHECK(seen == 7);
  CHECK(t->size() == 1);
  CHECK(t->stats().created == 1);
}

TEST_CASE("1M distinct client keys stay within the budget") {
  const size_t budget = 16u << 20;
  auto t = std::move(*ProfileTable::Create(budget, 16));
  const size_t cap = t->capacity();
  const uint64_t n = 1'000'000;
  const uint64_t hot = 0xC0FFEE;
  // Keys precomputed so that the measured loop is the table alone.
  std::vector<uint64_t> keys(n);
  for (uint64_t i = 0; i < n; ++i) keys[i] = KeyOf(i);
  size_t heap_before = HeapInUse();
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    t->With(keys[i], true, static_cast<int64_t>(i), [](Profile& p) { ++p.requests[0]; });
    if (i % 1000 == 0) t->With(hot, true, static_cast<int64_t>(i), [](Profile& p) { ++p.requests[0]; });
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t heap_after = HeapInUse();
  std::printf("profile table: %zu profiles of %zu bytes in %zu bytes (budget %zu); 1M inserts in %.3f s\n", cap,
              sizeof(Profile), t->MemoryBytes(), budget, secs);
  CHECK(heap_after == heap_before);  // no allocation after Create
  CHECK(t->MemoryBytes() <= budget);
  CHECK(t->size() == cap);
  ProfileTableStats st = t->stats();
  CHECK(st.created == n + 1);
  CHECK(st.evicted == n + 1 - cap);
  // The most recent clients and the hot one are kept; the oldest were evicted.
  size_t recent = 0, oldest = 0;
  for (uint64_t i = n - 1000; i < n; ++i) recent += t->With(keys[i], false, 0, [](Profile&) {});
  for (uint64_t i = 0; i < 1000; ++i) oldest += t->With(keys[i], false, 0, [](Profile&) {});
  CHECK(recent == 1000);
  CHECK(oldest == 0);
  uint32_t hot_requests = 0;
  CHECK(t->With(hot, false, 0, [&](Profile& p) { hot_requests = p.requests[0]; }));
  CHECK(hot_requests == 1000);  // never evicted, so never reset
}

TEST_CASE("engine: 1M distinct clients through OnRequest within budget, no allocation") {
  BehaviourConfig c = DefaultBehaviourConfig();
  c.memory_budget_bytes = 16u << 20;
  auto e = std::move(*BehaviourEngine::Create(c));
  RequestEvent ev;
  ev.method = "GET";
  ev.route_template = guard::fingerprint::RouteTemplateHash("/users/1");
  size_t heap_before = HeapInUse();
  for (uint64_t i = 0; i < 1'000'000; ++i) {
    ev.numeric_id = i;
    ev.has_numeric_id = true;
    e->OnRequest(i * 0x9E3779B97F4A7C15ULL + 1, ev, static_cast<int64_t>(i / 100));
  }
  CHECK(HeapInUse() == heap_before);
  CHECK(e->table().MemoryBytes() <= c.memory_budget_bytes);
  CHECK(e->table().size() == e->table().capacity());
}
