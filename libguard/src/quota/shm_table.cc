// BucketTable implementation; the protocol (generations, claims, eviction) is described in shm_table.h.
// Shared words are plain uint64_t accessed through std::atomic_ref: the memory is a raw mapping that several
// processes use, and a lock-free 64-bit atomic is the same instruction in all of them.
#include "quota/shm_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace guard::quota {

namespace testing {
void (*g_after_claim)(uint64_t slot_index) = nullptr;
}  // namespace testing

// ---------------------------------------------------------------- SharedRegion

absl::StatusOr<SharedRegion> SharedRegion::Create(size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("shared region of 0 bytes");
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(absl::StrCat("mmap(", bytes, ", MAP_SHARED|MAP_ANONYMOUS): ",
                                                     std::strerror(errno)));
  }
  SharedRegion r;
  r.data_ = p;
  r.size_ = bytes;
  return r;
}

SharedRegion::SharedRegion(SharedRegion&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() {
  if (data_ != nullptr) munmap(data_, size_);
}

// ---------------------------------------------------------------- layout

namespace {

constexpr uint64_t kMagic = 0x31746f7571647267ull;  // "grdquot1"
constexpr int kMaxAttempts = 32;
constexpr int kSpinBudget = 4096;  // pause instructions per lookup, at most

enum State : uint64_t { kFree = 0, kClaiming = 1, kLive = 2 };

constexpr uint64_t kGenMask = 63;
inline uint64_t CtrlFp(uint64_t c) { return c >> 8; }
inline uint64_t CtrlGen(uint64_t c) { return (c >> 2) & kGenMask; }
inline uint64_t CtrlState(uint64_t c) { return c & 3; }
inline uint64_t MakeCtrl(uint64_t fp, uint64_t gen, uint64_t state) { return (fp << 8) | (gen << 2) | state; }
inline uint64_t WordGen(uint64_t w) { return w >> kTatBits; }
inline uint64_t WordTat(uint64_t w) { return w & kTatMask; }
inline uint64_t MakeWord(uint64_t gen, uint64_t tat) { return (gen << kTatBits) | tat; }

// 56 bits of the high half; 0 is reserved for FREE slots.
inline uint64_t Fingerprint(const Key128& k) {
  uint64_t fp = k.hi >> 8;
  return fp == 0 ? 1 : fp;
}

inline std::atomic_ref<uint64_t> A(uint64_t& w) { return std::atomic_ref<uint64_t>(w); }

// Gives `cost` back to one bucket word of generation `gen`; returns the TAT left (0 if the slot was reused,
// which only happens once the bucket was full).
uint64_t RefundWord(uint64_t& word, uint64_t gen, const Rate& rate, uint64_t cost) {
  uint64_t v = A(word).load(std::memory_order_acquire);
  for (;;) {
    if (WordGen(v) != gen) return 0;
    const uint64_t back = Refund(rate, WordTat(v), cost);
    if (A(word).compare_exchange_weak(v, MakeWord(gen, back), std::memory_order_acq_rel)) return back;
  }
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

struct BucketTable::Header {
  uint64_t magic;
  uint64_t capacity;
  uint64_t epoch_ns;
  uint64_t pad0[5];
  // Counters on their own cache line: they are written only on rare events (insert, evict, full).
  alignas(64) uint64_t live;
  uint64_t inserts;
  uint64_t evictions;
  uint64_t table_full;
  uint64_t contention;
  uint64_t pad1[3];
};

struct BucketTable::Slot {
  alignas(64) uint64_t ctrl;
  uint64_t bucket[kSlotWindows];
};

size_t BucketTable::BytesFor(size_t capacity) {
  static_assert(sizeof(Header) == 128 && sizeof(Slot) == 64);
  static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "shared words must be lock-free across processes");
  size_t cap = kProbeWindow;
  while (cap < capacity) cap <<= 1;
  return sizeof(Header) + cap * sizeof(Slot);
}

absl::StatusOr<BucketTable> BucketTable::Format(void* mem, size_t bytes, uint64_t epoch_ns) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % 64 != 0) {
    return absl::InvalidArgumentError("bucket table memory must be 64-byte aligned");
  }
  if (bytes < BytesFor(kProbeWindow)) {
    return absl::InvalidArgumentError(absl::StrCat("bucket table needs at least ", BytesFor(kProbeWindow), " bytes"));
  }
  uint64_t cap = kProbeWindow;
  while (sizeof(Header) + 2 * cap * sizeof(Slot) <= bytes) cap <<= 1;
  std::memset(mem, 0, sizeof(Header) + cap * sizeof(Slot));
  auto* h = static_cast<Header*>(mem);
  h->capacity = cap;
  h->epoch_ns = epoch_ns;
  // Magic last: a process attaching concurrently sees either no table or a complete one.
  A(h->magic).store(kMagic, std::memory_order_release);
  return BucketTable(h, reinterpret_cast<Slot*>(static_cast<char*>(mem) + sizeof(Header)), cap);
}

absl::StatusOr<BucketTable> BucketTable::Attach(void* mem, size_t bytes) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % 64 != 0 || bytes < sizeof(Header)) {
    return absl::InvalidArgumentError("bucket table memory too small or misaligned");
  }
  auto* h = static_cast<Header*>(mem);
  if (A(h->magic).load(std::memory_order_acquire) != kMagic) {
    return absl::FailedPreconditionError("memory does not hold a formatted bucket table");
  }
  if (sizeof(Header) + h->capacity * sizeof(Slot) > bytes) {
    return absl::FailedPreconditionError("bucket table larger than the memory given");
  }
  return BucketTable(h, reinterpret_cast<Slot*>(static_cast<char*>(mem) + sizeof(Header)), h->capacity);
}

uint64_t BucketTable::epoch_ns() const { return header_->epoch_ns; }

uint64_t BucketTable::Relative(uint64_t now_ns) const {
  // Before the epoch (an injected or skewed clock) reads as the epoch: a clock going back never grants.
  return now_ns > header_->epoch_ns ? now_ns - header_->epoch_ns : 0;
}

TableStats BucketTable::Stats() const {
  TableStats s;
  s.capacity = capacity_;
  s.live = A(header_->live).load(std::memory_order_relaxed);
  s.inserts = A(header_->inserts).load(std::memory_order_relaxed);
  s.evictions = A(header_->evictions).load(std::memory_order_relaxed);
  s.table_full = A(header_->table_full).load(std::memory_order_relaxed);
  s.contention = A(header_->contention).load(std::memory_order_relaxed);
  return s;
}

// ---------------------------------------------------------------- lookup and insertion

bool BucketTable::Locate(const Key128& key, uint64_t now_rel, bool insert, SlotRef* ref, Outcome* failure) const {
  const uint64_t mask = capacity_ - 1;
  const uint64_t home = key.lo & mask;
  const uint64_t fp = Fingerprint(key);
  // Waiting on another worker's claim is bounded in total (a few µs to ~100 µs of pause instructions): a worker
  // that died mid-claim must cost a lookup little before it gives up with kUnavailable.
  int spin_budget = kSpinBudget;
  auto pause = [&spin_budget](int n) {
    for (int k = 0; k < n && spin_budget > 0; ++k, --spin_budget) CpuRelax();
  };
  for (int attempt = 0; attempt < kMaxAttempts && spin_budget > 0; ++attempt) {
    int free_at = -1;
    uint64_t free_ctrl = 0;
    bool claim_seen = false;
    for (size_t i = 0; i < kProbeWindow; ++i) {
      Slot& s = slots_[(home + i) & mask];
      const uint64_t c = A(s.ctrl).load(std::memory_order_seq_cst);
      const uint64_t st = CtrlState(c);
      if (CtrlFp(c) == fp && st == kLive) {
        *ref = SlotRef{(home + i) & mask, static_cast<uint32_t>(CtrlGen(c)), true};
        return true;
      }
      if (CtrlFp(c) == fp && st == kClaiming) claim_seen = true;
      if (st == kFree && free_at < 0) {
        free_at = static_cast<int>(i);
        free_ctrl = c;
      }
    }
    if (!insert) return false;  // absent: a full bucket
    if (claim_seen) {
      // Another worker is inserting this very key; it publishes or backs off within a few instructions.
      pause(16 << std::min(attempt, 4));
      continue;
    }
    if (free_at < 0) {
      if (EvictIdlest(home, now_rel)) continue;
      A(header_->table_full).fetch_add(1, std::memory_order_relaxed);
      *failure = Outcome::kUnavailable;
      return false;
    }
    const uint64_t idx = (home + free_at) & mask;
    Slot& s = slots_[idx];
    const uint64_t gen = CtrlGen(free_ctrl);
    uint64_t expected = free_ctrl;
    if (!A(s.ctrl).compare_exchange_strong(expected, MakeCtrl(fp, gen, kClaiming), std::memory_order_seq_cst)) {
      continue;  // someone took this slot; rescan
    }
    if (testing::g_after_claim != nullptr) testing::g_after_claim(idx);
    // Our claim is stored (seq_cst); now look for a competing claim or a copy of the key published meanwhile.
    bool other = false;
    for (size_t i = 0; i < kProbeWindow && !other; ++i) {
      if (static_cast<int>(i) == free_at) continue;
      const uint64_t c = A(slots_[(home + i) & mask].ctrl).load(std::memory_order_seq_cst);
      other = CtrlFp(c) == fp && (CtrlState(c) == kLive || CtrlState(c) == kClaiming);
    }
    if (other) {
      // Back off: only the claimer writes a CLAIMING slot, so a plain store releases it. Stagger the retry by
      // slot index so that two symmetric claimers do not keep colliding.
      A(s.ctrl).store(free_ctrl, std::memory_order_seq_cst);
      pause((free_at + 1) * (16 << std::min(attempt, 4)));
      continue;
    }
    // Stamp the (full) buckets with now: the same state as 0, but it makes a key that was just inserted and not
    // yet charged the *least* attractive eviction victim instead of the most. Nobody else writes the words of a
    // CLAIMING slot.
    for (size_t w = 0; w < kSlotWindows; ++w) A(s.bucket[w]).store(MakeWord(gen, now_rel), std::memory_order_relaxed);
    A(s.ctrl).store(MakeCtrl(fp, gen, kLive), std::memory_order_seq_cst);
    A(header_->inserts).fetch_add(1, std::memory_order_relaxed);
    A(header_->live).fetch_add(1, std::memory_order_relaxed);
    *ref = SlotRef{idx, static_cast<uint32_t>(gen), true};
    return true;
  }
  A(header_->contention).fetch_add(1, std::memory_order_relaxed);
  *failure = Outcome::kUnavailable;
  return false;
}

bool BucketTable::EvictIdlest(uint64_t home, uint64_t now_rel) const {
  const uint64_t mask = capacity_ - 1;
  int best = -1;
  uint64_t best_ctrl = 0, best_tat = ~uint64_t{0};
  for (size_t i = 0; i < kProbeWindow; ++i) {
    Slot& s = slots_[(home + i) & mask];
    const uint64_t c = A(s.ctrl).load(std::memory_order_acquire);
    if (CtrlState(c) != kLive) continue;
    uint64_t newest = 0;
    bool idle = true;
    for (size_t w = 0; w < kSlotWindows && idle; ++w) {
      const uint64_t v = A(s.bucket[w]).load(std::memory_order_acquire);
      idle = WordGen(v) == CtrlGen(c) && WordTat(v) <= now_rel;
      newest = std::max(newest, WordTat(v));
    }
    // Idle-est: the key whose buckets have been full for the longest (smallest latest TAT).
    if (idle && newest < best_tat) {
      best = static_cast<int>(i);
      best_ctrl = c;
      best_tat = newest;
    }
  }
  if (best < 0) return false;

  Slot& s = slots_[(home + best) & mask];
  const uint64_t gen = CtrlGen(best_ctrl), next_gen = (gen + 1) & kGenMask;
  // Bump every bucket word to the next generation while it is still full. Word 0 goes first, so of two
  // evictors only one gets past it; a worker that consumes meanwhile makes our CAS fail and we undo.
  for (size_t w = 0; w < kSlotWindows; ++w) {
    uint64_t v = A(s.bucket[w]).load(std::memory_order_acquire);
    const bool ok = WordGen(v) == gen && WordTat(v) <= now_rel &&
                    A(s.bucket[w]).compare_exchange_strong(v, MakeWord(next_gen, 0), std::memory_order_seq_cst);
    if (!ok) {
      // Undo: words of generation next_gen are written by nobody else while ctrl still says gen, and (gen, 0)
      // is the same state as the full bucket we replaced.
      for (size_t u = 0; u < w; ++u) {
        uint64_t e = MakeWord(next_gen, 0);
        A(s.bucket[u]).compare_exchange_strong(e, MakeWord(gen, 0), std::memory_order_seq_cst);
      }
      return true;  // the window changed under us: rescan
    }
  }
  // Only the evictor that bumped word 0 gets here, and nobody else writes a LIVE control word.
  uint64_t expected = best_ctrl;
  A(s.ctrl).compare_exchange_strong(expected, MakeCtrl(0, next_gen, kFree), std::memory_order_seq_cst);
  A(header_->evictions).fetch_add(1, std::memory_order_relaxed);
  A(header_->live).fetch_sub(1, std::memory_order_relaxed);
  return true;
}

// ---------------------------------------------------------------- bucket operations

uint64_t BucketTable::Fresh(uint64_t now_rel) const {
  if (clock_ns_ == nullptr) return now_rel;
  return std::min(std::max(now_rel, Relative(clock_ns_())), kMaxNow - 1);
}

Outcome BucketTable::Consume(const Key128& key, const Rate* rates, size_t n, uint64_t now_ns, uint64_t cost,
                             Step* steps, SlotRef* where) const {
  if (n == 0 || n > kSlotWindows) return Outcome::kUnavailable;
  uint64_t now = Relative(now_ns);
  if (now >= kMaxNow) return Outcome::kUnavailable;  // 4.5 years after the epoch: re-create the table
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    SlotRef ref;
    Outcome failure = Outcome::kUnavailable;
    if (!Locate(key, now, true, &ref, &failure)) return failure;
    Slot& s = slots_[ref.index];
    const uint64_t gen = ref.generation;

    uint64_t raw[kSlotWindows], tats[kSlotWindows], next[kSlotWindows];
    bool stale = false;
    for (size_t i = 0; i < n; ++i) {
      raw[i] = A(s.bucket[i]).load(std::memory_order_acquire);
      stale = stale || WordGen(raw[i]) != gen;
      tats[i] = WordTat(raw[i]);
    }
    if (stale) continue;  // the slot is being reused: look the key up again
    now = Fresh(now);     // after the load: no update we build on can carry a later time than ours
    // Check every window first: a refused request writes nothing (and a limited client hammering us causes no
    // cache-line traffic).
    if (!ApplyAll(rates, tats, n, now, cost, next, steps)) return Outcome::kRefused;

    size_t done = 0;
    bool restart = false, refused = false;
    for (size_t i = 0; i < n && !restart && !refused; ++i) {
      for (;;) {
        if (A(s.bucket[i]).compare_exchange_weak(raw[i], MakeWord(gen, next[i]), std::memory_order_acq_rel)) {
          ++done;
          break;
        }
        // raw[i] now holds the current word: recompute this window against it.
        if (WordGen(raw[i]) != gen) {
          restart = true;
          break;
        }
        now = Fresh(now);  // the word changed under us: so may have the time it carries
        steps[i] = Apply(rates[i], WordTat(raw[i]), now, cost);
        if (!steps[i].admitted) {
          refused = true;
          break;
        }
        next[i] = steps[i].new_tat;
      }
    }
    if (restart || refused) {
      // Undo the windows already committed so a refused request leaves no partial consumption.
      for (size_t j = 0; j < done; ++j) {
        const uint64_t back = RefundWord(s.bucket[j], gen, rates[j], cost);
        if (refused) steps[j] = quota::Peek(rates[j], back, now);
      }
      if (refused) {
        for (size_t j = done + 1; j < n; ++j) steps[j] = quota::Peek(rates[j], tats[j], now);
        return Outcome::kRefused;
      }
      continue;
    }
    if (where != nullptr) *where = ref;
    return Outcome::kAdmitted;
  }
  A(header_->contention).fetch_add(1, std::memory_order_relaxed);
  return Outcome::kUnavailable;
}

bool BucketTable::Peek(const Key128& key, const Rate* rates, size_t n, uint64_t now_ns, uint64_t cost,
                       Step* steps) const {
  if (n == 0 || n > kSlotWindows) return false;
  const uint64_t now = std::min(Relative(now_ns), kMaxNow);
  SlotRef ref;
  Outcome unused;
  const bool found = Locate(key, now, false, &ref, &unused);
  uint64_t tats[kSlotWindows] = {}, next[kSlotWindows];
  for (size_t i = 0; found && i < n; ++i) {
    const uint64_t v = A(slots_[ref.index].bucket[i]).load(std::memory_order_acquire);
    if (WordGen(v) == ref.generation) tats[i] = WordTat(v);  // otherwise being reused: it was full
  }
  return ApplyAll(rates, tats, n, now, cost, next, steps);
}

bool BucketTable::RaiseTo(const Key128& key, size_t n, uint64_t now_ns, const uint64_t* owed_ns) const {
  const uint64_t now = Relative(now_ns);
  if (n == 0 || n > kSlotWindows || now >= kMaxNow) return false;
  SlotRef ref;
  Outcome unused;
  if (!Locate(key, now, true, &ref, &unused)) return false;
  Slot& s = slots_[ref.index];
  for (size_t i = 0; i < n; ++i) {
    const uint64_t target = std::min(now + std::min(owed_ns[i], kMaxSpan), kTatMask);
    uint64_t v = A(s.bucket[i]).load(std::memory_order_acquire);
    while (WordGen(v) == ref.generation && WordTat(v) < target &&
           !A(s.bucket[i]).compare_exchange_weak(v, MakeWord(ref.generation, target), std::memory_order_acq_rel)) {
    }
  }
  return true;
}

bool BucketTable::Contains(const Key128& key) const {
  SlotRef ref;
  Outcome unused;
  return Locate(key, 0, false, &ref, &unused);
}

void BucketTable::Refund(const SlotRef& where, const Rate* rates, size_t n, uint64_t cost) const {
  if (!where.valid || where.index >= capacity_) return;
  Slot& s = slots_[where.index];
  for (size_t i = 0; i < n && i < kSlotWindows; ++i) RefundWord(s.bucket[i], where.generation, rates[i], cost);
}

}  // namespace guard::quota
