#include "engine/behaviour_node.h"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

namespace guard::engine {
namespace {

struct JournalEntry {
  std::atomic<uint64_t> seq;  // written last: an entry is complete when seq matches
  uint32_t len;
  char line[kJournalLineBytes];
};

struct Journal {
  pthread_mutex_t mu;  // process-shared, robust: writers only (decisions, admin calls)
  std::atomic<uint64_t> seq;
  JournalEntry ring[kJournalEntries];
};

struct Region {
  void* mem = nullptr;
  size_t bytes = 0;
  Journal* journal = nullptr;
  std::unique_ptr<behaviour::ProfileTable> profiles;
};

std::mutex g_init_mu;
std::atomic<Region*> g_region{nullptr};  // lives for the process (workers keep pointers into it)
std::atomic<LinePublisher> g_publisher{nullptr};

// This process's place in the journal. Taken only when behind (rare), never per request.
std::mutex g_catchup_mu;
std::atomic<uint64_t> g_applied{0};
std::atomic<uint64_t> g_lost{0};

constexpr size_t JournalBytes() { return (sizeof(Journal) + 4095) & ~size_t{4095}; }

void LockJournal(Journal* j) {
  if (pthread_mutex_lock(&j->mu) == EOWNERDEAD) pthread_mutex_consistent(&j->mu);
}

void AppendLine(Journal* j, std::string_view line) {
  if (line.size() > kJournalLineBytes) line = line.substr(0, kJournalLineBytes);  // reason cut; still parses
  LockJournal(j);
  const uint64_t seq = j->seq.load(std::memory_order_relaxed) + 1;
  JournalEntry& e = j->ring[seq % kJournalEntries];
  e.seq.store(0, std::memory_order_relaxed);
  std::memcpy(e.line, line.data(), line.size());
  e.len = static_cast<uint32_t>(line.size());
  e.seq.store(seq, std::memory_order_release);
  j->seq.store(seq, std::memory_order_release);
  pthread_mutex_unlock(&j->mu);
}

}  // namespace

std::atomic<int64_t (*)()> g_test_clock{nullptr};

void SetClockForTesting(int64_t (*now_ms)()) { g_test_clock.store(now_ms); }

int64_t CoarseUnixMs() {
  if (auto f = g_test_clock.load(std::memory_order_relaxed)) return f();
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

absl::Status InitBehaviourNode(size_t bytes) {
  std::lock_guard<std::mutex> lock(g_init_mu);
  if (g_region.load() != nullptr) return absl::OkStatus();
  if (bytes < JournalBytes() + (size_t{1} << 20))
    return absl::InvalidArgumentError("behaviour node region: at least 1 MiB beside the journal");
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return absl::ResourceExhaustedError("behaviour node region: mmap failed");
  auto* r = new Region();
  r->mem = mem;
  r->bytes = bytes;
  r->journal = new (mem) Journal();  // zero-filled memory: only the mutex needs initialising
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&r->journal->mu, &attr);
  pthread_mutexattr_destroy(&attr);
  auto table = behaviour::ProfileTable::Format(static_cast<char*>(mem) + JournalBytes(), bytes - JournalBytes(), 64);
  if (!table.ok()) {
    munmap(mem, bytes);
    delete r;
    return table.status();
  }
  r->profiles = std::move(*table);
  g_region.store(r);
  return absl::OkStatus();
}

behaviour::ProfileTable* NodeProfiles() {
  std::lock_guard<std::mutex> lock(g_init_mu);
  Region* r = g_region.load(std::memory_order_acquire);
  return r ? r->profiles.get() : nullptr;
}

blocklist::Blocklist& SharedBlocklist() {
  static blocklist::Blocklist* list = new blocklist::Blocklist();  // never destroyed: threads may use it at exit
  return *list;
}

void SetClusterPublisher(LinePublisher p) { g_publisher.store(p); }

absl::Status PublishBlocklistLines(std::string_view lines) {
  absl::Status st = SharedBlocklist().ApplyLines(lines);
  Region* r;
  {
    std::lock_guard<std::mutex> lock(g_init_mu);
    r = g_region.load();
  }
  if (r != nullptr) {
    // Our own lines come back through the journal too; applying them twice is harmless (idempotent), and
    // marking them applied here would skip lines another worker wrote in between.
    std::string_view rest = lines;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty()) AppendLine(r->journal, line);
    }
  }
  if (LinePublisher p = g_publisher.load()) p(lines);
  return st;
}

void CatchUpBlocklist() {
  Region* r = g_region.load(std::memory_order_acquire);  // set before fork
  if (r == nullptr) return;
  const uint64_t head = r->journal->seq.load(std::memory_order_acquire);
  if (head == g_applied.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(g_catchup_mu);
  uint64_t from = g_applied.load(std::memory_order_relaxed);
  if (head - from > kJournalEntries) {
    g_lost.fetch_add(head - from - kJournalEntries, std::memory_order_relaxed);
    from = head - kJournalEntries;
  }
  std::string line;
  for (uint64_t s = from + 1; s <= head; ++s) {
    const JournalEntry& e = r->journal->ring[s % kJournalEntries];
    if (e.seq.load(std::memory_order_acquire) != s) {
      g_lost.fetch_add(1, std::memory_order_relaxed);  // overwritten meanwhile
      continue;
    }
    line.assign(e.line, std::min<size_t>(e.len, kJournalLineBytes));
    if (e.seq.load(std::memory_order_acquire) != s) continue;  // torn by a writer lapping us
    (void)SharedBlocklist().ApplyLines(line);
  }
  g_applied.store(head, std::memory_order_relaxed);
}

NodeStats BehaviourNodeStats() {
  NodeStats s;
  Region* r = g_region.load();
  s.node_region = r != nullptr;
  if (r) s.journal_seq = r->journal->seq.load(std::memory_order_relaxed);
  s.journal_lost = g_lost.load(std::memory_order_relaxed);
  return s;
}

}  // namespace guard::engine
