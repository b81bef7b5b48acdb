// VerdictCache: the L1 (per worker process) cache of detection verdicts, keyed by request shape.
//
// Key = (request-shape fingerprint, route, ruleset/config version): one entry stands for every request
// with the same skeleton on the same route under the same rules (fingerprint/request_shape.h), never
// for "the same path" or "the same client" - the seed project's cache keyed unrelated requests together
// and served one verdict to all of them.
//
// Safety rules, enforced here rather than left to callers:
//   - Lookup takes the signature result of the request at hand and never returns a benign verdict for a
//     request the signatures flagged (a benign hit is then reported as a miss and counted as
//     "suppressed"); Insert refuses a benign verdict for a flagged request.
//   - Warming only loads malicious verdicts, only for requests the signatures flag (so their
//     fingerprints carry token skeletons and cannot equal a benign shape), never overwrites a live
//     entry, and computes each key with the caller's own fingerprint callback.
//
// Bounded by entries and bytes (entries are fixed-size, so the byte budget is a capacity), sharded LRU
// with a TTL per entry (separate TTLs for malicious and benign). A version is part of the key and
// Invalidate() bumps an epoch stored in each entry: both make old entries unreachable in O(1); they
// then age out of the LRU tail. Time is passed in (now_ms) so the hot path makes no clock syscall.
//
// Threads: each shard has its own mutex. In an nginx worker, requests run on one thread, so the locks
// are never contended there; they make the cache safe for the multi-threaded tests and tools.
// Lookups and inserts do not allocate: every table is sized at Create.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fingerprint/stable_hash.h"

namespace guard::cache {

struct VerdictKey {
  fingerprint::Hash128 fingerprint;
  uint64_t route = 0;    // RouteKey(route_id)
  uint64_t version = 0;  // ruleset/config version the verdict was computed under
  friend bool operator==(const VerdictKey&, const VerdictKey&) = default;
};

// Stable hash of Kong's route id (the empty string is "no route").
uint64_t RouteKey(std::string_view route_id);

enum class VerdictKind : uint8_t { kBenign = 0, kMalicious = 1 };

struct CachedVerdict {
  VerdictKind kind = VerdictKind::kBenign;
  int32_t score = 0;
  uint64_t categories = 0;  // bits (1 << guard_category)
  uint32_t rule_id = 0;     // highest-severity rule, 0 when none
};

struct VerdictCacheConfig {
  size_t max_entries = 65536;
  size_t max_bytes = 16u << 20;     // whole cache, tables included; the smaller bound wins
  size_t shards = 16;               // rounded up to a power of two
  int64_t benign_ttl_ms = 60'000;   // benign verdicts expire sooner: new rules should see traffic again
  int64_t malicious_ttl_ms = 600'000;
};
absl::Status ValidateVerdictCacheConfig(const VerdictCacheConfig& c);

struct VerdictCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;   // live entries pushed out by the LRU bound
  uint64_t expired = 0;     // entries found past their TTL (or from an invalidated epoch)
  uint64_t suppressed = 0;  // benign hits refused because the signatures flagged the request
  uint64_t rejected = 0;    // inserts refused (benign verdict for a flagged request)
};

// One line of a warm file, after the caller computed its key.
struct WarmEntry {
  VerdictKey key;
  CachedVerdict verdict;
};

class VerdictCache {
 public:
  static absl::StatusOr<std::unique_ptr<VerdictCache>> Create(const VerdictCacheConfig& config);
  ~VerdictCache();

  // The cached verdict, or nullopt (miss, expired, or benign while signatures_flagged).
  std::optional<CachedVerdict> Lookup(const VerdictKey& key, bool signatures_flagged, int64_t now_ms);

  // Stores (or refreshes) a verdict. FailedPrecondition for a benign verdict of a flagged request.
  absl::Status Insert(const VerdictKey& key, const CachedVerdict& verdict, bool signatures_flagged,
                      int64_t now_ms);

  // Makes every current entry unreachable in O(1) (admin "flush"; rules reloaded without a new version).
  void Invalidate();

  // Loads warm entries (see ParseWarmFile): malicious only, existing entries kept. Returns how many
  // were inserted.
  size_t Warm(std::span<const WarmEntry> entries, int64_t now_ms);

  VerdictCacheStats stats() const;
  size_t size() const;
  size_t capacity() const { return capacity_; }
  size_t MemoryBytes() const;  // bytes held by the tables (what max_bytes bounds)

 private:
  struct Shard;
  explicit VerdictCache(const VerdictCacheConfig& config);
  Shard& ShardFor(const VerdictKey& key);

  VerdictCacheConfig config_;
  size_t capacity_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint32_t> epoch_{1};
  std::atomic<uint64_t> hits_{0}, misses_{0}, inserts_{0}, evictions_{0}, expired_{0}, suppressed_{0},
      rejected_{0};
};

// ---- Warm files -------------------------------------------------------------------------------------
//
// JSONL, one known request and its verdict per line (blank lines and lines starting with '#' skipped):
//   {"route_id":"r1","request":{"method":"GET","path":"/s","query":"q=%27+or+1%3D1--","body":"",
//    "headers":[["user-agent","x"]]},"verdict":{"kind":"malicious","score":10,"rule_id":942100,
//    "categories":["sqli"]}}

struct WarmRequest {
  std::string route_id, method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What the caller's pipeline (parse + signatures + FingerprintRequest) says about a warm request.
struct WarmFingerprint {
  fingerprint::Hash128 fingerprint;
  bool signatures_flagged = false;
};
using WarmFingerprintFn = std::function<absl::StatusOr<WarmFingerprint>(const WarmRequest&)>;

struct WarmReport {
  size_t lines = 0;     // non-blank, non-comment lines
  size_t accepted = 0;  // entries appended to *out
  size_t skipped = 0;   // benign, unflagged, malformed or failed lines
  std::vector<std::string> errors;  // the first 20 reasons, "line N: ..."
};

// Parses a warm file into entries for version `version`. Never fails as a whole: bad lines are
// skipped and reported.
WarmReport ParseWarmFile(std::string_view jsonl, uint64_t version, const WarmFingerprintFn& fingerprint,
                         std::vector<WarmEntry>* out);

}  // namespace guard::cache
