// BucketTable: the node-wide table of GCRA buckets, shared by every nginx worker process of a Kong node.
//
// Where it lives: a fixed-size region mapped MAP_SHARED|MAP_ANONYMOUS by the nginx master before fork
// (SharedRegion::Create), so all workers see the same physical pages; tests may place it in any memory. The
// table never allocates, never takes a lock, never makes a syscall: every update is a CAS on a 64-bit word.
//
// Layout: a header, then `capacity` (a power of two) 64-byte slots, one per limit key. A slot is one control
// word plus kSlotWindows bucket words (one per window of the limit: second, minute, hour...):
//
//   ctrl   = fingerprint:56 | generation:6 | state:2      state: FREE, CLAIMING, LIVE
//   bucket = generation:6   | tat:58                      tat in ns since the table's epoch (gcra.h)
//
// Keys are 128-bit hashes (key_hash.h). The low 64 bits pick the home slot; a key may live in any of the
// kProbeWindow slots from there (linear probing), and is recognised by 56 bits of the high half.
//
// Why a reader never updates the wrong key: the slot's generation is in the control word *and* in every bucket
// word, and a bucket CAS always expects the generation it read from the control word. Reusing a slot bumps the
// generation of every bucket word first (one CAS each, only while the bucket is full), then the control word.
// A worker that matched the old key and then stalls cannot land a write in the new occupant: its CAS expects
// the old generation and fails, and it looks the key up again. The 6-bit generation could only be fooled by a
// worker stalled through 64 reuses of the same slot *and* finding a bucket value equal to the one it read; even
// then the stale write charges one request to a bucket that was full.
//
// Inserting a key without duplicates: a key is inserted by claiming a FREE slot (CAS FREE -> CLAIMING with the
// key's fingerprint), re-scanning the probe window, and only then publishing it (CLAIMING -> LIVE). Two workers
// inserting the same key both store their claim before re-scanning (sequentially consistent atomics), so at least
// one of them sees the other and backs off (Dekker's argument); the loser uses the winner's slot. Lookups that
// meet a CLAIMING slot with their fingerprint retry briefly. A worker that dies holding a claim or halfway
// through an eviction leaves that key unavailable (bounded retries, then kUnavailable and the contention
// counter) until the master restarts; it never corrupts another key.
//
// Eviction: a key whose buckets are all full again carries no information (a fresh bucket is identical), so its
// slot may be reused. When a probe window has no FREE slot, the LIVE slot that has been full the longest is freed
// and the insertion retried. When every slot in the window holds a key that is still owed tokens, the table is
// full for that key: Consume reports kUnavailable and counts it (table_full); the engine then fails open and says
// so in the decision. Capacity planning: one slot per key active within its longest window.
//
// Several windows of one key live in one slot and are committed in order after checking all of them; if a
// concurrent update makes a later window refuse, the earlier ones are refunded (gcra.h Refund), so a refused
// request never leaves a partial consumption behind. See docs/quota.md for the residual (under-admission only).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "quota/gcra.h"
#include "quota/key_hash.h"

namespace guard::quota {

inline constexpr size_t kSlotWindows = 7;
inline constexpr size_t kProbeWindow = 8;

// An anonymous shared mapping: create it in the nginx master before fork, and every worker inherits it.
class SharedRegion {
 public:
  static absl::StatusOr<SharedRegion> Create(size_t bytes);
  SharedRegion() = default;
  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Counters kept in the shared header (all workers add to them); read with BucketTable::Stats.
struct TableStats {
  uint64_t capacity = 0;
  uint64_t live = 0;         // slots ever inserted minus slots freed (approximate under races)
  uint64_t inserts = 0;
  uint64_t evictions = 0;    // idle keys whose slot was reused
  uint64_t table_full = 0;   // Consume calls answered kUnavailable because the probe window was all busy
  uint64_t contention = 0;   // Consume calls answered kUnavailable after too many retries
};

enum class Outcome : uint8_t { kAdmitted, kRefused, kUnavailable };

// Where a key was found, for Refund.
struct SlotRef {
  uint64_t index = 0;
  uint32_t generation = 0;
  bool valid = false;
};

class BucketTable {
 public:
  // Bytes needed for `capacity` slots (rounded up to a power of two, at least kProbeWindow).
  static size_t BytesFor(size_t capacity);
  // Formats `mem` (64-byte aligned, `bytes` long) as an empty table whose clock starts at `epoch_ns`; the number
  // of slots is the largest power of two that fits. Call once, in the master, before fork.
  static absl::StatusOr<BucketTable> Format(void* mem, size_t bytes, uint64_t epoch_ns);
  // Attaches to memory formatted by Format (e.g. by another process or an earlier engine).
  static absl::StatusOr<BucketTable> Attach(void* mem, size_t bytes);

  BucketTable() = default;

  // The clock Consume re-reads once it has loaded a bucket, and again on every CAS retry (absolute monotonic
  // ns, as now_ns). Without it a worker that read now_ns and was then preempted could update a bucket after
  // another worker that read a later clock: it would build on that TAT with an earlier now (a Remaining one
  // low; the last token refused for those milliseconds). Reading the clock after the load orders every update
  // by time. nullptr (the default, for tests that play time by hand): now_ns alone.
  void set_clock(uint64_t (*clock_ns)()) { clock_ns_ = clock_ns; }

  // Offers `cost` tokens to all `n` windows (n <= kSlotWindows) of `key` at absolute monotonic time `now_ns`.
  // Admitted only if every window admits; consumes from all or none. steps[0..n) describe each window after the
  // decision (see gcra.h). `where` (optional) receives the slot for Refund.
  Outcome Consume(const Key128& key, const Rate* rates, size_t n, uint64_t now_ns, uint64_t cost, Step* steps,
                  SlotRef* where = nullptr) const;

  // What Consume would decide for `cost` (0: just the state), without writing anything; a missing key is a
  // full bucket. Never inserts. Returns whether every window would admit.
  bool Peek(const Key128& key, const Rate* rates, size_t n, uint64_t now_ns, uint64_t cost, Step* steps) const;

  // Makes window i of `key` owe at least owed_ns[i] beyond `now_ns` (the cluster's state, from Redis). It only
  // ever removes tokens, so it races freely with Consume; it inserts the key when absent, since a fresh local
  // bucket would ignore what other nodes consumed. False when the table could not take the key.
  bool RaiseTo(const Key128& key, size_t n, uint64_t now_ns, const uint64_t* owed_ns) const;

  // Whether `key` currently has a slot (tests, diagnostics). Never inserts.
  bool Contains(const Key128& key) const;

  // Gives back what a Consume took (when a later limit refused the request). No-op if the slot was reused.
  void Refund(const SlotRef& where, const Rate* rates, size_t n, uint64_t cost) const;

  TableStats Stats() const;
  uint64_t capacity() const { return capacity_; }
  uint64_t epoch_ns() const;

 private:
  struct Header;
  struct Slot;
  BucketTable(Header* h, Slot* s, uint64_t cap) : header_(h), slots_(s), capacity_(cap) {}

  // Finds the LIVE slot of `key`, inserting it if `insert`. Returns false when none (and when !insert, that just
  // means "full bucket"); `outcome` says why on failure.
  bool Locate(const Key128& key, uint64_t now_rel, bool insert, SlotRef* ref, Outcome* failure) const;
  bool EvictIdlest(uint64_t home, uint64_t now_rel) const;
  uint64_t Relative(uint64_t now_ns) const;

  // now_rel, or the clock's current time when it is later (see set_clock).
  uint64_t Fresh(uint64_t now_rel) const;

  Header* header_ = nullptr;
  Slot* slots_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t (*clock_ns_)() = nullptr;
};

// Tests only (null in production): called by an insertion after its claim is stored and before it re-scans the
// probe window, so a test can play the competing worker deterministically. One load per insertion.
namespace testing {
extern void (*g_after_claim)(uint64_t slot_index);
}  // namespace testing

}  // namespace guard::quota
