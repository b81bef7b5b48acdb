// BucketTable: the shared-memory bucket table. Exactness across real processes (fork), eviction of idle keys,
// behaviour when full, and the hash that names the keys.
#include "quota/shm_table.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "quota/key_hash.h"
#include "fork_children.h"

namespace q = guard::quota;

namespace {
constexpr uint64_t kS = q::kNsPerSecond;
constexpr uint64_t kEpoch = 1000 * kS;

q::Rate R(uint64_t limit, uint64_t period, uint64_t burst = 0) {
  auto r = q::MakeRate(limit, period, burst);
  REQUIRE(r.ok());
  return *r;
}

// Caller-provided memory, as a test or an embedding would supply it.
struct Mem {
  explicit Mem(size_t n) : bytes(n), ptr(std::aligned_alloc(64, n)) {}
  ~Mem() { std::free(ptr); }
  size_t bytes;
  void* ptr;
};

q::BucketTable MakeTable(void* mem, size_t bytes) {
  auto t = q::BucketTable::Format(mem, bytes, kEpoch);
  REQUIRE(t.ok());
  return *t;
}

q::Key128 K(const std::string& s) { return q::Hash128(s); }

uint64_t Drain(const q::BucketTable& t, const q::Key128& k, const q::Rate* r, size_t n, uint64_t now) {
  uint64_t admitted = 0;
  q::Step steps[q::kSlotWindows];
  while (t.Consume(k, r, n, now, 1, steps) == q::Outcome::kAdmitted) ++admitted;
  return admitted;
}
}  // namespace

TEST_CASE("Hash128 is MurmurHash3_x64_128 with a fixed seed", "[key_hash]") {
  // Reference values of MurmurHash3_x64_128 (seed 0).
  auto h = q::Hash128("hello", 5, 0);
  CHECK(h.lo == 0xcbd8a7b341bd9b02ull);
  CHECK(h.hi == 0x5b1e906a48ae1d19ull);
  auto e = q::Hash128("", 0, 0);
  CHECK(e.lo == 0);
  CHECK(e.hi == 0);
  // Every length through two blocks and a tail hashes differently.
  std::string s;
  std::vector<q::Key128> seen;
  for (int i = 0; i < 40; ++i, s += static_cast<char>('a' + i % 26)) {
    auto k = q::Hash128(s);
    for (auto& o : seen) CHECK_FALSE(o == k);
    seen.push_back(k);
  }
  char hex[32];
  q::ToHex(q::Key128{0x0123456789abcdefull, 0xfedcba9876543210ull}, hex);
  CHECK(std::string(hex, 32) == "fedcba98765432100123456789abcdef");
}

TEST_CASE("Format rejects bad memory and Attach finds a formatted table", "[shm]") {
  Mem m(q::BucketTable::BytesFor(64));
  CHECK_FALSE(q::BucketTable::Attach(m.ptr, m.bytes).ok());
  CHECK_FALSE(q::BucketTable::Format(static_cast<char*>(m.ptr) + 8, m.bytes - 8, 0).ok());
  CHECK_FALSE(q::BucketTable::Format(m.ptr, 100, 0).ok());
  auto t = MakeTable(m.ptr, m.bytes);
  CHECK(t.capacity() == 64);
  auto a = q::BucketTable::Attach(m.ptr, m.bytes);
  REQUIRE(a.ok());
  CHECK(a->capacity() == 64);
  CHECK(a->epoch_ns() == kEpoch);
}

TEST_CASE("a key gets burst, refills, and keys are independent", "[shm]") {
  Mem m(q::BucketTable::BytesFor(1024));
  auto t = MakeTable(m.ptr, m.bytes);
  auto r = R(10, kS, 4);  // interval 100 ms
  const uint64_t t0 = kEpoch + 5 * kS;
  CHECK(Drain(t, K("a"), &r, 1, t0) == 4);
  CHECK(Drain(t, K("b"), &r, 1, t0) == 4);
  CHECK(Drain(t, K("a"), &r, 1, t0 + 250'000'000) == 2);
  q::Step st;
  t.Peek(K("a"), &r, 1, t0 + 250'000'000, 0, &st);
  CHECK(st.remaining == 0);
  CHECK(st.reset_ns == 350'000'000);  // TAT t0+600ms: 4 at t0, 2 more at t0+250ms
  t.Peek(K("never-seen"), &r, 1, t0, 0, &st);
  CHECK(st.remaining == 4);
  CHECK_FALSE(t.Contains(K("never-seen")));
  CHECK(t.Stats().inserts == 2);
}

TEST_CASE("several windows in one slot: all or nothing, refunded when a later limit refuses", "[shm]") {
  Mem m(q::BucketTable::BytesFor(64));
  auto t = MakeTable(m.ptr, m.bytes);
  q::Rate r[2] = {R(5, kS), R(8, 60 * kS)};
  const uint64_t t0 = kEpoch + kS;
  CHECK(Drain(t, K("k"), r, 2, t0) == 5);
  CHECK(Drain(t, K("k"), r, 2, t0 + kS) == 3);
  q::Step st[2];
  t.Peek(K("k"), r, 2, t0 + kS, 0, st);
  CHECK(st[0].remaining == 2);  // the per-second window was not charged for the refused 4th request
  CHECK(st[1].remaining == 0);
  // Refund (a later limit refused): the window gets its token back.
  q::SlotRef where;
  REQUIRE(t.Consume(K("k"), r, 2, t0 + 9 * kS, 1, st, &where) == q::Outcome::kAdmitted);
  t.Refund(where, r, 2, 1);
  t.Peek(K("k"), r, 2, t0 + 9 * kS, 0, st);
  CHECK(st[1].remaining == 1);
  CHECK(st[0].remaining == 5);
}

TEST_CASE("eviction reuses the slot of the key that has been full the longest", "[shm]") {
  Mem m(q::BucketTable::BytesFor(8));  // one probe window: every key competes for the same 8 slots
  auto t = MakeTable(m.ptr, m.bytes);
  REQUIRE(t.capacity() == 8);
  auto r = R(1, kS);  // burst 1: each request leaves its key owed for exactly 1 s
  const uint64_t t0 = kEpoch + 10 * kS;
  for (int i = 0; i < 8; ++i) {
    REQUIRE(Drain(t, K("k" + std::to_string(i)), &r, 1, t0 + i * 100'000'000ull) == 1);
  }
  // At t0 + 1.25 s keys 0, 1, 2 are full again; key 0 has been full the longest.
  const uint64_t t1 = t0 + 1'250'000'000ull;
  CHECK(Drain(t, K("new1"), &r, 1, t1) == 1);
  CHECK(t.Stats().evictions == 1);
  CHECK_FALSE(t.Contains(K("k0")));
  CHECK(t.Contains(K("k1")));
  CHECK(Drain(t, K("new2"), &r, 1, t1) == 1);
  CHECK_FALSE(t.Contains(K("k1")));
  CHECK(t.Contains(K("k2")));
  // Keys still owed keep their exact state.
  q::Step st;
  t.Peek(K("k7"), &r, 1, t1, 0, &st);
  CHECK(st.remaining == 0);
  CHECK(st.reset_ns == t0 + 700'000'000ull + kS - t1);
  CHECK(t.Stats().live == 8);
}

TEST_CASE("a full table fails the insert (counted) and recovers once keys go idle", "[shm]") {
  Mem m(q::BucketTable::BytesFor(8));
  auto t = MakeTable(m.ptr, m.bytes);
  auto r = R(1, 60 * kS);  // owed for a minute after one request
  const uint64_t t0 = kEpoch + kS;
  for (int i = 0; i < 8; ++i) REQUIRE(Drain(t, K("k" + std::to_string(i)), &r, 1, t0) == 1);
  q::Step st;
  CHECK(t.Consume(K("late"), &r, 1, t0 + kS, 1, &st) == q::Outcome::kUnavailable);
  CHECK(t.Stats().table_full == 1);
  CHECK(t.Stats().evictions == 0);
  // Existing keys are unaffected by the full table.
  CHECK(t.Consume(K("k3"), &r, 1, t0 + kS, 1, &st) == q::Outcome::kRefused);
  // A minute later every key is idle again: the newcomer gets a slot.
  CHECK(t.Consume(K("late"), &r, 1, t0 + 60 * kS, 1, &st) == q::Outcome::kAdmitted);
  CHECK(t.Stats().evictions == 1);
}

TEST_CASE("threads hammering one key with two windows: exact, no partial consumption", "[shm]") {
  Mem m(q::BucketTable::BytesFor(64));
  auto t = MakeTable(m.ptr, m.bytes);
  q::Rate r[2] = {R(500, kS), R(800, 60 * kS)};
  const uint64_t t0 = kEpoch + kS;
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> th;
  for (int i = 0; i < 4; ++i) {
    th.emplace_back([&] {
      q::Step st[2];
      uint64_t mine = 0;
      for (int k = 0; k < 2000; ++k) mine += t.Consume(K("hot"), r, 2, t0, 1, st) == q::Outcome::kAdmitted;
      total += mine;
    });
  }
  for (auto& x : th) x.join();
  CHECK(total == 500);
  q::Step st[2];
  t.Peek(K("hot"), r, 2, t0, 0, st);
  CHECK(st[0].remaining == 0);
  CHECK(st[1].remaining == 300);  // exactly 500 charged to the minute window too
}

TEST_CASE("forked processes share the table: exactly burst + floor(elapsed/interval) admitted", "[shm][fork]") {
  constexpr int kChildren = 4;
  auto region = q::SharedRegion::Create(q::BucketTable::BytesFor(4096));
  REQUIRE(region.ok());
  auto t = MakeTable(region->data(), region->size());
  auto rate = R(1000, kS, 50);  // interval 1 ms, burst 50
  const uint64_t t0 = kEpoch + 7 * kS;
  const uint64_t step = rate.interval_ns / 3;  // <= tau - interval, so no process ever finds the bucket idle
  constexpr uint64_t kSteps = 3000;            // 1 s of injected time
  const q::Key128 key = K("consumer:42");

  // Each child walks the injected clock forward on its own, so processes see interleaved (even
  // backwards-going) times; each drains the bucket at every instant.
  const uint64_t total = q::testing::SumInChildren(kChildren, [&](int) {
    uint64_t admitted = 0;
    for (uint64_t k = 0; k <= kSteps; ++k) admitted += Drain(t, key, &rate, 1, t0 + k * step);
    return admitted;
  });
  const uint64_t elapsed = kSteps * step;
  CHECK(total == 50 + elapsed / rate.interval_ns);  // 50 + 999 = 1049
  CHECK(t.Stats().inserts == 1);                    // the key was inserted once, not once per process
  CHECK(t.Stats().contention == 0);
}

TEST_CASE("forked processes inserting many new keys at once never duplicate a key", "[shm][fork]") {
  constexpr int kChildren = 4;
  // Sized ~10x the keys: with 8-slot probe windows a much fuller table can legitimately refuse inserts.
  auto region = q::SharedRegion::Create(q::BucketTable::BytesFor(2048));
  REQUIRE(region.ok());
  auto t = MakeTable(region->data(), region->size());
  auto rate = R(3, 3600 * kS);  // burst 3, nothing refills during the test
  const uint64_t t0 = kEpoch + kS;
  constexpr int kKeys = 150;

  const uint64_t total = q::testing::SumInChildren(kChildren, [&](int) {
    uint64_t admitted = 0;
    q::Step st;
    for (int i = 0; i < kKeys; ++i) {
      for (int j = 0; j < 2; ++j) {
        admitted += t.Consume(K("ip:" + std::to_string(i)), &rate, 1, t0, 1, &st) == q::Outcome::kAdmitted;
      }
    }
    return admitted;
  });
  // 4 processes x 2 attempts = 8 per key, burst 3: exactly 3 per key if no key was ever duplicated.
  CHECK(total == 3 * kKeys);
  CHECK(t.Stats().inserts == kKeys);
  CHECK(t.Stats().table_full == 0);
}

TEST_CASE("forked processes racing to insert the same key through eviction never duplicate it", "[shm][fork]") {
  // A single 8-slot probe window that is always full of idle keys: every new key needs an eviction, and the
  // children evict concurrently (possibly different victims), which is where a naive insert duplicates keys.
  constexpr int kChildren = 4;
  constexpr uint64_t kRounds = 1500;
  auto region = q::SharedRegion::Create(q::BucketTable::BytesFor(8));
  REQUIRE(region.ok());
  auto t = MakeTable(region->data(), region->size());
  REQUIRE(t.capacity() == 8);
  auto side = q::SharedRegion::Create(4096);
  REQUIRE(side.ok());
  auto* words = static_cast<uint64_t*>(side->data());
  auto rate = R(1, 5 * kS);  // burst 1, owed for 5 s; rounds are 10 s apart so older keys are idle
  const uint64_t t0 = kEpoch + kS;

  std::vector<pid_t> kids;
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      uint64_t admitted = 0, unavailable = 0;
      q::Step st;
      for (uint64_t r = 0; r < kRounds; ++r) {
        // Barrier: all children start round r together.
        std::atomic_ref<uint64_t>(words[0]).fetch_add(1);
        while (std::atomic_ref<uint64_t>(words[0]).load() < (r + 1) * kChildren) sched_yield();
        const auto key = K("round:" + std::to_string(r));
        for (int j = 0; j < 2; ++j) {
          auto o = t.Consume(key, &rate, 1, t0 + r * 10 * kS, 1, &st);
          admitted += o == q::Outcome::kAdmitted;
          unavailable += o == q::Outcome::kUnavailable;
        }
      }
      std::atomic_ref<uint64_t>(words[8 + c]).store(admitted);
      std::atomic_ref<uint64_t>(words[16 + c]).store(unavailable);
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
  }
  uint64_t total = 0, unavailable = 0;
  for (int c = 0; c < kChildren; ++c) {
    total += words[8 + c];
    unavailable += words[16 + c];
  }
  CHECK(unavailable == 0);
  CHECK(total == kRounds);  // one per key per round: a duplicated key would admit 2
  CHECK(t.Stats().inserts == kRounds);
  // Two children may each free a different idle slot for the same newcomer: harmless, so only a lower bound.
  CHECK(t.Stats().evictions >= kRounds - 8);
}

namespace {
// White-box view of the layout documented in shm_table.h: a 128-byte header, then 64-byte slots of
// ctrl (fingerprint:56 | generation:6 | state:2) and 7 bucket words (generation:6 | tat:58).
uint64_t* SlotWords(void* mem, uint64_t index) {
  return reinterpret_cast<uint64_t*>(static_cast<char*>(mem) + 128 + 64 * index);
}
void* g_race_mem = nullptr;
uint64_t g_race_ctrl = 0;
uint64_t g_race_slot = 0;
}  // namespace

TEST_CASE("an insertion that finds a competing copy after claiming backs off and uses it", "[shm]") {
  // Plays the other worker deterministically: right after our claim of slot x is stored, "another worker"
  // publishes the same key in slot y. The re-scan must see it, release x, and charge y: never two copies.
  Mem m(q::BucketTable::BytesFor(8));
  auto t = MakeTable(m.ptr, m.bytes);
  const q::Key128 key = K("contended");
  const uint64_t home = key.lo & 7, other = (home + 3) & 7;
  const uint64_t fp = key.hi >> 8;
  g_race_mem = m.ptr;
  g_race_slot = other;
  g_race_ctrl = (fp << 8) | 2;  // generation 0, LIVE
  q::testing::g_after_claim = [](uint64_t claimed) {
    q::testing::g_after_claim = nullptr;  // once
    REQUIRE(claimed != g_race_slot);
    std::atomic_ref<uint64_t>(SlotWords(g_race_mem, g_race_slot)[0]).store(g_race_ctrl);
  };
  auto r = R(10, kS);
  q::Step st;
  REQUIRE(t.Consume(key, &r, 1, kEpoch + kS, 1, &st) == q::Outcome::kAdmitted);
  q::testing::g_after_claim = nullptr;
  CHECK(SlotWords(m.ptr, home)[0] == 0);                          // our claim was released: FREE, generation 0
  CHECK(SlotWords(m.ptr, other)[0] == g_race_ctrl);               // the competitor's copy stands
  CHECK((SlotWords(m.ptr, other)[1] & q::kTatMask) == kS + r.interval_ns);  // and was charged
  CHECK(t.Stats().inserts == 0);                                  // we never published a second copy
  CHECK(st.remaining == 9);
}

TEST_CASE("a claim left by a dead worker makes only that key unavailable, after a bounded wait", "[shm]") {
  Mem m(q::BucketTable::BytesFor(64));
  auto t = MakeTable(m.ptr, m.bytes);
  const q::Key128 key = K("orphaned");
  // The dead worker's claim: this key's fingerprint, CLAIMING, in its home slot.
  SlotWords(m.ptr, key.lo & 63)[0] = ((key.hi >> 8) << 8) | 1;
  auto r = R(10, kS);
  q::Step st;
  const auto start = std::chrono::steady_clock::now();
  CHECK(t.Consume(key, &r, 1, kEpoch + kS, 1, &st) == q::Outcome::kUnavailable);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited < std::chrono::milliseconds(20));
  CHECK(t.Stats().contention == 1);
  CHECK(Drain(t, K("healthy"), &r, 1, kEpoch + kS) == 10);
}

namespace {
uint64_t g_fake_now = 0;
uint64_t FakeClock() { return g_fake_now; }
}  // namespace

TEST_CASE("a worker that read the clock before another's update builds on it with the later time", "[shm]") {
  // Two workers, one bucket of 10 a minute. A read the clock at t0 + 1 ms and updated first; B read it at t0,
  // was preempted, and updates second. In request order B took the 2nd token: 8 left, not 7.
  const uint64_t t0 = kEpoch + 5 * kS;
  auto r = R(10, 60 * kS);
  q::Step st;

  Mem m1(q::BucketTable::BytesFor(64));
  auto stale = MakeTable(m1.ptr, m1.bytes);  // no clock: now_ns alone, the race as it was
  REQUIRE(stale.Consume(K("ip"), &r, 1, t0 + 1'000'000, 1, &st) == q::Outcome::kAdmitted);
  CHECK(st.remaining == 9);
  REQUIRE(stale.Consume(K("ip"), &r, 1, t0, 1, &st) == q::Outcome::kAdmitted);
  CHECK(st.remaining == 7);  // one low: B's earlier now against A's TAT

  Mem m2(q::BucketTable::BytesFor(64));
  auto fresh = MakeTable(m2.ptr, m2.bytes);
  fresh.set_clock(FakeClock);
  g_fake_now = t0 + 1'000'000;
  REQUIRE(fresh.Consume(K("ip"), &r, 1, t0 + 1'000'000, 1, &st) == q::Outcome::kAdmitted);
  CHECK(st.remaining == 9);
  g_fake_now = t0 + 1'000'100;  // B re-reads the clock after loading the bucket
  REQUIRE(fresh.Consume(K("ip"), &r, 1, t0, 1, &st) == q::Outcome::kAdmitted);
  CHECK(st.remaining == 8);
  // The clock never moves a request back in time: a later now_ns than the clock is kept.
  g_fake_now = t0;
  REQUIRE(fresh.Consume(K("ip"), &r, 1, t0 + 2'000'000, 1, &st) == q::Outcome::kAdmitted);
  CHECK(st.remaining == 7);
}
