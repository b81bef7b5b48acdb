// Fixed slots + open-addressing index + CLOCK eviction; see profile_table.h.
#include "behaviour/profile_table.h"

#include <sys/mman.h>

#include <bit>
#include <cerrno>

namespace guard::behaviour {
namespace {

inline size_t Home(uint64_t key, size_t mask) {
  uint64_t h = key * 0x9E3779B97F4A7C15ULL;  // keys are hashes already; this spreads the low bits
  return static_cast<size_t>(h >> 17) & mask;
}

}  // namespace

ProfileTable::Lock::Lock(ShardHeader* h) : h_(h) {
  // Uncontended: a user-space CAS, no syscall. EOWNERDEAD: a worker died holding it; its profile may be
  // half-written, which costs at most one client's counters, so mark the mutex usable and go on.
  if (pthread_mutex_lock(&h_->mu) == EOWNERDEAD) pthread_mutex_consistent(&h_->mu);
}

// Computes the layout of a table of `bytes` (shard headers, then per shard its slots and its index) and,
// unless dry_run, initialises the shard headers in `mem`.
absl::StatusOr<std::unique_ptr<ProfileTable>> ProfileTable::Layout(void* mem, size_t bytes, size_t shards,
                                                                   bool dry_run) {
  if (shards == 0 || shards > 256) return absl::InvalidArgumentError("behaviour.shards must be in 1..256");
  shards = std::bit_ceil(shards);
  // Per profile: the slot, plus its share of the index, which is the next power of two >= 2 x slots
  // (at most 4 entries of 4 bytes per slot). First a capacity under that worst case, then as many
  // slots as fit beside the index size it implies.
  const size_t fixed = shards * sizeof(ShardHeader);
  if (bytes <= fixed) return absl::InvalidArgumentError("behaviour.memory_budget_bytes is too small");
  size_t per_shard = (bytes - fixed) / shards;
  size_t cap = per_shard / (sizeof(Profile) + 4 * sizeof(uint32_t));
  if (cap < 16)
    return absl::InvalidArgumentError("behaviour.memory_budget_bytes is too small: " + std::to_string(bytes) +
                                      " bytes hold fewer than 16 profiles per shard");
  size_t idx = std::bit_ceil(2 * cap);
  if (idx * sizeof(uint32_t) < per_shard) {
    size_t room = (per_shard - idx * sizeof(uint32_t)) / sizeof(Profile);
    cap = std::max(cap, std::min(room, idx / 2));
  }
  std::unique_ptr<ProfileTable> t(new ProfileTable());
  t->capacity_ = cap * shards;
  t->shards_.resize(shards);
  auto* base = static_cast<unsigned char*>(mem);
  size_t off = fixed;
  for (size_t i = 0; i < shards; ++i) {
    Shard& s = t->shards_[i];
    s.h = reinterpret_cast<ShardHeader*>(base + i * sizeof(ShardHeader));
    s.slots = reinterpret_cast<Profile*>(base + off);
    off += cap * sizeof(Profile);
    s.index = reinterpret_cast<uint32_t*>(base + off);
    off += idx * sizeof(uint32_t);
    s.cap = cap;
    s.index_size = idx;
  }
  t->bytes_ = off;
  if (dry_run) return t;
  for (Shard& s : t->shards_) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(&s.h->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) return absl::InternalError("behaviour: pthread_mutex_init failed");
    s.h->used = s.h->hand = s.h->lookups = s.h->created = s.h->evicted = 0;
  }
  return t;
}

absl::StatusOr<std::unique_ptr<ProfileTable>> ProfileTable::Create(size_t budget_bytes, size_t shards) {
  auto sized = Layout(nullptr, budget_bytes, shards, true);
  if (!sized.ok()) return sized.status();
  const size_t bytes = (*sized)->bytes_;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return absl::ResourceExhaustedError("behaviour: cannot map the profile table");
  auto t = Layout(mem, budget_bytes, shards, false);
  if (!t.ok()) {
    munmap(mem, bytes);
    return t.status();
  }
  (*t)->owned_ = mem;
  return t;
}

absl::StatusOr<std::unique_ptr<ProfileTable>> ProfileTable::Format(void* mem, size_t bytes, size_t shards) {
  if (mem == nullptr) return absl::InvalidArgumentError("behaviour: no memory for the profile table");
  return Layout(mem, bytes, shards, false);
}

ProfileTable::~ProfileTable() {
  if (owned_ != nullptr) munmap(owned_, bytes_);
}

Profile* ProfileTable::Shard::Find(uint64_t key) {
  size_t mask = index_size - 1;
  for (size_t i = Home(key, mask);; i = (i + 1) & mask) {
    uint32_t v = index[i];
    if (v == 0) return nullptr;
    if (slots[v - 1].key == key) return &slots[v - 1];
  }
}

void ProfileTable::Shard::IndexErase(uint64_t key) {
  size_t mask = index_size - 1;
  size_t i = Home(key, mask);
  while (index[i] == 0 || slots[index[i] - 1].key != key) i = (i + 1) & mask;
  // Backward-shift deletion: pull later entries of the probe run into the hole so that lookups never
  // need tombstones (which would slowly fill the index).
  size_t j = i;
  while (true) {
    j = (j + 1) & mask;
    if (index[j] == 0) break;
    size_t h = Home(slots[index[j] - 1].key, mask);
    bool between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (!between) {
      index[i] = index[j];
      i = j;
    }
  }
  index[i] = 0;
}

Profile* ProfileTable::Shard::Insert(uint64_t key) {
  size_t slot;
  if (h->used < cap) {
    slot = h->used++;
  } else {
    // CLOCK: skip (and clear) recently used profiles; take the first one not used since last pass.
    while (slots[h->hand].ref) {
      slots[h->hand].ref = 0;
      h->hand = (h->hand + 1) % cap;
    }
    slot = h->hand;
    h->hand = (h->hand + 1) % cap;
    IndexErase(slots[slot].key);
    ++h->evicted;
  }
  slots[slot] = Profile{};
  slots[slot].key = key;
  size_t mask = index_size - 1;
  size_t i = Home(key, mask);
  while (index[i] != 0) i = (i + 1) & mask;
  index[i] = static_cast<uint32_t>(slot + 1);
  ++h->created;
  return &slots[slot];
}

size_t ProfileTable::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    Lock lock(s.h);
    n += s.h->used;
  }
  return n;
}

// The block: shard headers, slots and index arrays (the process-local views are a few hundred bytes).
size_t ProfileTable::MemoryBytes() const { return bytes_; }

ProfileTableStats ProfileTable::stats() const {
  ProfileTableStats st;
  for (const Shard& s : shards_) {
    Lock lock(s.h);
    st.lookups += s.h->lookups;
    st.created += s.h->created;
    st.evicted += s.h->evicted;
  }
  return st;
}

}  // namespace guard::behaviour
