// The hot path allocates nothing: QuotaEngine::Check (key building, table lookup/insert, refunds, and the
// count for Redis) is run under a global operator new that counts calls made from this thread.
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include <catch2/catch.hpp>

#include "quota/engine.h"

namespace {
thread_local bool g_counting = false;
std::atomic<int> g_allocations{0};
}  // namespace

// Every non-aligned form is replaced, so that no block allocated by one allocator is freed by another (the
// sanitizers check that).
namespace {
void* Counted(std::size_t n) noexcept {
  if (g_counting) g_allocations.fetch_add(1);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace
void* operator new(std::size_t n) {
  void* p = Counted(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t n) {
  void* p = Counted(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return Counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return Counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace q = guard::quota;

TEST_CASE("Check allocates nothing, with several limits, new keys, refusals and sync counting", "[engine][alloc]") {
  const size_t bytes = q::BucketTable::BytesFor(4096);
  void* mem = std::aligned_alloc(64, bytes);
  auto table = q::BucketTable::Format(mem, bytes, 0);
  REQUIRE(table.ok());
  // Port 1 on loopback: nothing listens, and no round is ever run (SyncOnce is not called, no thread):
  // the sync is unhealthy, so local_fallback and Record are both exercised.
  auto cfg = q::ParseQuotaConfig(R"({
    "limits":[{"name":"c","key":["consumer","header:x-api-key"],"when_missing":"ip",
               "tiers":{"a":[{"per":"second","limit":3},{"per":"hour","limit":100}],"b":[{"per":"minute","limit":9}]},
               "default_tier":"a","tier_from":"consumer_tag"}],
    "global":[{"per":"second","limit":50}],
    "sync":{"redis":{"host":"127.0.0.1","port":1},"on_failure":"local_fallback"}})");
  REQUIRE(cfg.ok());
  q::EngineOptions o;
  o.sync_background = false;
  auto engine = q::QuotaEngine::Create(std::move(*cfg), &*table, "plugin-1", o);
  REQUIRE(engine.ok());

  std::string ids[64];
  for (int i = 0; i < 64; ++i) ids[i] = "consumer-" + std::to_string(i);
  std::string long_key(3000, 'k');
  guard_header headers[] = {{{"X-API-Key", 9}, {long_key.data(), long_key.size()}}};
  guard_str tags[] = {{"tier:b", 6}};
  q::Decision d;
  uint64_t now = 5 * q::kNsPerSecond;
  q::RequestKeys warm;
  warm.consumer = "warm";
  (*engine)->Check(warm, 1, now, &d);

  int admitted = 0, refused = 0;
  g_counting = true;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 64; ++i) {
      q::RequestKeys r;
      r.consumer = ids[i];
      r.ip = "203.0.113.1";
      r.headers = headers;
      r.header_count = 1;
      if (i % 2) {
        r.consumer_tags = tags;
        r.consumer_tag_count = 1;
      }
      (*engine)->Check(r, 1, now, &d);
      (d.admitted ? admitted : refused)++;
    }
    now += q::kNsPerSecond / 10;
  }
  g_counting = false;
  CHECK(g_allocations.load() == 0);
  CHECK(admitted > 0);
  CHECK(refused > 0);
  engine->reset();
  std::free(mem);
}
