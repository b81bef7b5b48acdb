// ProfileTable: a fixed-memory table of per-client behaviour profiles.
//
// One Profile per client key (fingerprint/client.h: consumer or IP), in a table whose capacity is set
// once from a byte budget: slots are preallocated, the index is an open-addressing array of slot
// numbers (linear probing, backward-shift deletion), and when the table is full the CLOCK hand evicts a
// profile that was not used again since the hand last passed. A new profile starts unreferenced, so a
// flood of distinct one-request keys (a scan, spoofed IPs, rotating consumers) recycles its own slots
// in FIFO order instead of pushing out clients that come back. Memory is bounded and known, nothing is
// allocated after Create, and each eviction costs O(1) amortised (the hand moves at most once around
// the shard per `capacity` insertions).
//
// Sharded by key, one process-shared robust mutex per shard. The whole table (shard headers, slots,
// index) lives in one flat block of memory: Create maps a private one (the table of one process), Format
// lays it out in memory the caller provides - the node region made by guard_node_init before fork
// (engine/behaviour_node.h), so every nginx worker updates the same profiles. The locks are uncontended
// in practice (a worker holds one for a few hundred ns, and two workers rarely serve one client's
// requests at the same instant); a worker that dies holding one leaves it to the next locker
// (EOWNERDEAD: the profile it was writing may be half-updated, nothing worse).
#pragma once

#include <pthread.h>

#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace guard::behaviour {

inline constexpr size_t kMaxScenarios = 8;

// Everything remembered about one client. Plain data with a fixed size: the table's unit of memory.
struct Profile {
  uint64_t key = 0;  // 0 = free slot
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;

  // Two-bucket sliding window: counts of the current and previous window; a rate is the previous
  // window weighted by how much of it still overlaps [now - window, now] plus the current one.
  int64_t window_start_ms = 0;
  uint32_t requests[2] = {0, 0};   // [0] current, [1] previous
  uint32_t responses[2] = {0, 0};
  uint32_t not_found[2] = {0, 0};  // 404
  uint32_t denied[2] = {0, 0};     // 401/403 anywhere
  uint32_t login_failures[2] = {0, 0};
  uint32_t signature_hits[2] = {0, 0};
  float baseline = 0;              // EWMA of requests per window (bursts clamped, see behaviour.cc)
  uint16_t windows = 0;            // windows completed (baseline warm-up)

  // Distinct-count sketches for the current window (linear counting on bitmaps).
  std::array<uint64_t, 4> templates{};  // method + route template, 256 bits
  std::array<uint64_t, 2> usernames{};  // usernames tried on login routes, 128 bits
  uint64_t header_fps = 0;              // header fingerprints, 64 bits
  uint16_t prev_templates = 0;          // estimate of the previous window, for reporting

  // Enumeration: the last numeric id and on which template it was seen.
  uint64_t last_id = 0;
  uint64_t last_id_template = 0;
  uint16_t seq_run = 0;

  // Timing regularity: EWMA of inter-arrival time and of its squared deviation.
  int64_t last_request_ms = INT64_MIN;  // none yet
  float dt_mean = 0, dt_var = 0;
  uint16_t dt_samples = 0;

  // Scenario buckets (behaviour/scenarios.h), leaked lazily at each event.
  std::array<float, kMaxScenarios> bucket{};
  int64_t bucket_ms = 0;

  // Decision in force and repeat offences (for the escalating TTL).
  uint8_t decision = 0;           // Decision::Type
  uint8_t decision_scenario = 0;
  uint8_t offences = 0;
  uint8_t ref = 0;                // CLOCK reference bit
  int64_t decision_until_ms = 0;
  int64_t last_offence_ms = 0;
};

struct ProfileTableStats {
  uint64_t lookups = 0;
  uint64_t created = 0;
  uint64_t evicted = 0;
};

class ProfileTable {
 public:
  // Capacity = what fits in budget_bytes (slots + index), split over `shards` (a power of two). Private
  // memory of this process (anonymous mapping).
  static absl::StatusOr<std::unique_ptr<ProfileTable>> Create(size_t budget_bytes, size_t shards);
  // Lays a table out in `bytes` of zero-filled memory owned by the caller (e.g. MAP_SHARED, before fork);
  // the memory must outlive the table. Only shard headers are written: untouched pages stay unbacked.
  static absl::StatusOr<std::unique_ptr<ProfileTable>> Format(void* mem, size_t bytes, size_t shards);
  ~ProfileTable();
  ProfileTable(const ProfileTable&) = delete;
  ProfileTable& operator=(const ProfileTable&) = delete;

  // Runs f(Profile&) under the shard lock on the profile of `key`, creating it (and evicting another)
  // when create is true. Returns false when the key has no profile and create is false.
  template <class F>
  bool With(uint64_t key, bool create, int64_t now_ms, F&& f);

  size_t capacity() const { return capacity_; }
  size_t size() const;
  size_t MemoryBytes() const;  // bytes of the slot and index arrays: what the budget bounds
  ProfileTableStats stats() const;

 private:
  // In the table's memory block (shared between processes when formatted there).
  struct alignas(64) ShardHeader {
    pthread_mutex_t mu;
    uint64_t used, hand;
    uint64_t lookups, created, evicted;
  };
  // This process's view of one shard: pointers into the block (the same in every forked worker).
  struct Shard {
    ShardHeader* h;
    Profile* slots;    // cap entries
    uint32_t* index;   // slot + 1, 0 = empty; a power of two >= 2 x cap
    size_t cap, index_size;
    Profile* Find(uint64_t key);
    Profile* Insert(uint64_t key);  // key not present
    void IndexErase(uint64_t key);
  };
  class Lock {
   public:
    explicit Lock(ShardHeader* h);
    ~Lock() { pthread_mutex_unlock(&h_->mu); }
   private:
    ShardHeader* h_;
  };
  ProfileTable() = default;
  static absl::StatusOr<std::unique_ptr<ProfileTable>> Layout(void* mem, size_t bytes, size_t shards, bool dry_run);
  Shard& ShardFor(uint64_t key) { return shards_[(key >> 48) & (shards_.size() - 1)]; }

  size_t capacity_ = 0;
  size_t bytes_ = 0;
  void* owned_ = nullptr;  // the private mapping of Create (unmapped with the table)
  std::vector<Shard> shards_;
};

template <class F>
bool ProfileTable::With(uint64_t key, bool create, int64_t now_ms, F&& f) {
  if (key == 0) key = 1;  // 0 marks a free slot
  Shard& s = ShardFor(key);
  Lock lock(s.h);
  ++s.h->lookups;
  Profile* p = s.Find(key);
  if (p == nullptr) {
    if (!create) return false;
    p = s.Insert(key);
    p->first_seen_ms = now_ms;
    p->window_start_ms = now_ms;
    p->bucket_ms = now_ms;
  } else {
    // Only a second use marks a profile as referenced: a flood of one-request clients (a scan,
    // spoofed sources) then cycles through unreferenced slots and cannot push out regular clients.
    p->ref = 1;
  }
  p->last_seen_ms = now_ms;
  f(*p);
  return true;
}

}  // namespace guard::behaviour
