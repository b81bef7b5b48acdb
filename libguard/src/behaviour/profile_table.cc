// Fixed slots + open-addressing index + CLOCK eviction; see profile_table.h.
#include "behaviour/profile_table.h"

#include <bit>

namespace guard::behaviour {
namespace {

inline size_t Home(uint64_t key, size_t mask) {
  uint64_t h = key * 0x9E3779B97F4A7C15ULL;  // keys are hashes already; this spreads the low bits
  return static_cast<size_t>(h >> 17) & mask;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProfileTable>> ProfileTable::Create(size_t budget_bytes, size_t shards) {
  if (shards == 0 || shards > 256) return absl::InvalidArgumentError("behaviour.shards must be in 1..256");
  shards = std::bit_ceil(shards);
  // Per profile: the slot, plus its share of the index, which is the next power of two >= 2 x slots
  // (at most 4 entries of 4 bytes per slot). First a capacity under that worst case, then as many
  // slots as fit beside the index size it implies.
  size_t fixed = sizeof(ProfileTable) + shards * (sizeof(void*) + sizeof(Shard));
  if (budget_bytes <= fixed) return absl::InvalidArgumentError("behaviour.memory_budget_bytes is too small");
  size_t per_shard = (budget_bytes - fixed) / shards;
  size_t cap = per_shard / (sizeof(Profile) + 4 * sizeof(uint32_t));
  if (cap < 16)
    return absl::InvalidArgumentError("behaviour.memory_budget_bytes is too small: " + std::to_string(budget_bytes) +
                                      " bytes hold fewer than 16 profiles per shard");
  size_t idx = std::bit_ceil(2 * cap);
  if (idx * sizeof(uint32_t) < per_shard) {
    size_t room = (per_shard - idx * sizeof(uint32_t)) / sizeof(Profile);
    cap = std::max(cap, std::min(room, idx / 2));
  }
  std::unique_ptr<ProfileTable> t(new ProfileTable());
  t->shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) {
    auto s = std::make_unique<Shard>();
    s->slots.resize(cap);
    s->index.assign(std::bit_ceil(2 * cap), 0);
    t->shards_.push_back(std::move(s));
  }
  t->capacity_ = cap * shards;
  return t;
}

Profile* ProfileTable::Shard::Find(uint64_t key) {
  size_t mask = index.size() - 1;
  for (size_t i = Home(key, mask);; i = (i + 1) & mask) {
    uint32_t v = index[i];
    if (v == 0) return nullptr;
    if (slots[v - 1].key == key) return &slots[v - 1];
  }
}

void ProfileTable::Shard::IndexErase(uint64_t key) {
  size_t mask = index.size() - 1;
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
  if (used < slots.size()) {
    slot = used++;
  } else {
    // CLOCK: skip (and clear) recently used profiles; take the first one not used since last pass.
    while (slots[hand].ref) {
      slots[hand].ref = 0;
      hand = (hand + 1) % slots.size();
    }
    slot = hand;
    hand = (hand + 1) % slots.size();
    IndexErase(slots[slot].key);
    ++evicted;
  }
  slots[slot] = Profile{};
  slots[slot].key = key;
  size_t mask = index.size() - 1;
  size_t i = Home(key, mask);
  while (index[i] != 0) i = (i + 1) & mask;
  index[i] = static_cast<uint32_t>(slot + 1);
  ++created;
  return &slots[slot];
}

size_t ProfileTable::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->used;
  }
  return n;
}

size_t ProfileTable::MemoryBytes() const {
  size_t n = sizeof(ProfileTable) + shards_.capacity() * sizeof(void*);
  for (const auto& s : shards_)
    n += sizeof(Shard) + s->slots.capacity() * sizeof(Profile) + s->index.capacity() * sizeof(uint32_t);
  return n;
}

ProfileTableStats ProfileTable::stats() const {
  ProfileTableStats st;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    st.lookups += s->lookups;
    st.created += s->created;
    st.evicted += s->evicted;
  }
  return st;
}

}  // namespace guard::behaviour
