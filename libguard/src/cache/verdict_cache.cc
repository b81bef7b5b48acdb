// Sharded LRU of fixed-size entries in preallocated arrays; see verdict_cache.h for the rules.
#include "cache/verdict_cache.h"

#include <algorithm>
#include <bit>

#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace guard::cache {
namespace {

constexpr uint32_t kNil = UINT32_MAX;

struct KeyHash {
  // The fingerprint is already a uniform hash; fold in route and version.
  size_t operator()(const VerdictKey& k) const {
    uint64_t h = k.fingerprint.lo ^ (k.route * 0x9E3779B97F4A7C15ULL) ^ (k.version * 0xC2B2AE3D27D4EB4FULL);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

struct Entry {
  VerdictKey key;
  CachedVerdict verdict;
  int64_t expires_ms = 0;
  uint32_t epoch = 0;
  uint32_t prev = kNil, next = kNil;  // LRU list (head = most recently used)
};

using Map = absl::flat_hash_map<VerdictKey, uint32_t, KeyHash>;

// The map is reserved for 1.28x its entries so that erase+insert churn (tombstones) is always cleaned
// up in place, never by a growing rehash (an allocation on the hot path). With the power-of-two
// rounding that is at most 3 slots per entry, each with its control byte.
constexpr size_t kMapReserveNum = 32, kMapReserveDen = 25;
constexpr size_t kBytesPerEntry = sizeof(Entry) + sizeof(uint32_t) + 3 * (sizeof(Map::value_type) + 1);

}  // namespace

uint64_t RouteKey(std::string_view route_id) {
  return route_id.empty() ? 0 : fingerprint::StableHash64(route_id, 0x726f757465ULL /* "route" */);
}

absl::Status ValidateVerdictCacheConfig(const VerdictCacheConfig& c) {
  if (c.max_entries == 0) return absl::InvalidArgumentError("cache.max_entries must be > 0");
  if (c.max_bytes < 64 * 1024) return absl::InvalidArgumentError("cache.max_bytes must be >= 65536");
  if (c.shards == 0 || c.shards > 1024) return absl::InvalidArgumentError("cache.shards must be in 1..1024");
  if (c.benign_ttl_ms <= 0 || c.malicious_ttl_ms <= 0)
    return absl::InvalidArgumentError("cache.benign_ttl_ms and cache.malicious_ttl_ms must be > 0");
  return absl::OkStatus();
}

struct VerdictCache::Shard {
  std::mutex mu;
  Map map;
  std::vector<Entry> entries;  // capacity fixed at Create; size grows up to it
  std::vector<uint32_t> free;  // indexes of unused entries (after an erase)
  uint32_t head = kNil, tail = kNil;
  size_t cap = 0;

  void Unlink(uint32_t i) {
    Entry& e = entries[i];
    if (e.prev != kNil) entries[e.prev].next = e.next; else head = e.next;
    if (e.next != kNil) entries[e.next].prev = e.prev; else tail = e.prev;
    e.prev = e.next = kNil;
  }
  void PushFront(uint32_t i) {
    Entry& e = entries[i];
    e.prev = kNil;
    e.next = head;
    if (head != kNil) entries[head].prev = i;
    head = i;
    if (tail == kNil) tail = i;
  }
  void Erase(uint32_t i) {
    Unlink(i);
    map.erase(entries[i].key);
    free.push_back(i);  // never grows past cap: reserved at Create
  }
};

VerdictCache::VerdictCache(const VerdictCacheConfig& config) : config_(config) {}
VerdictCache::~VerdictCache() = default;

absl::StatusOr<std::unique_ptr<VerdictCache>> VerdictCache::Create(const VerdictCacheConfig& config) {
  if (absl::Status s = ValidateVerdictCacheConfig(config); !s.ok()) return s;
  std::unique_ptr<VerdictCache> c(new VerdictCache(config));
  size_t shards = std::bit_ceil(config.shards);
  size_t fixed = sizeof(VerdictCache) + shards * (sizeof(Shard) + 64);
  size_t by_bytes = config.max_bytes > fixed ? (config.max_bytes - fixed) / kBytesPerEntry : 0;
  size_t total = std::min(config.max_entries, by_bytes);
  size_t per_shard = std::max<size_t>(1, total / shards);
  c->capacity_ = per_shard * shards;
  for (size_t i = 0; i < shards; ++i) {
    auto s = std::make_unique<Shard>();
    s->cap = per_shard;
    s->entries.reserve(per_shard);
    s->free.reserve(per_shard);
    s->map.reserve(per_shard * kMapReserveNum / kMapReserveDen + 1);
    c->shards_.push_back(std::move(s));
  }
  if (c->MemoryBytes() > config.max_bytes)
    return absl::InternalError("verdict cache tables exceed max_bytes after sizing");
  return c;
}

VerdictCache::Shard& VerdictCache::ShardFor(const VerdictKey& k) {
  // Use other bits than the map's hash so that a shard's keys still spread over its map.
  uint64_t h = k.fingerprint.hi ^ (k.route >> 7);
  return *shards_[h & (shards_.size() - 1)];
}

std::optional<CachedVerdict> VerdictCache::Lookup(const VerdictKey& key, bool signatures_flagged,
                                                  int64_t now_ms) {
  Shard& s = ShardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  uint32_t i = it->second;
  Entry& e = s.entries[i];
  if (e.expires_ms <= now_ms || e.epoch != epoch_.load(std::memory_order_relaxed)) {
    s.Erase(i);
    expired_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (signatures_flagged && e.verdict.kind == VerdictKind::kBenign) {
    // The shapes of flagged and unflagged requests differ by construction, so this only happens on a
    // hash collision or a caller bug: either way the request must go through detection.
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  s.Unlink(i);
  s.PushFront(i);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return e.verdict;
}

absl::Status VerdictCache::Insert(const VerdictKey& key, const CachedVerdict& verdict, bool signatures_flagged,
                                  int64_t now_ms) {
  if (signatures_flagged && verdict.kind == VerdictKind::kBenign) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return absl::FailedPreconditionError("a benign verdict is never cached for a request the signatures flagged");
  }
  int64_t ttl = verdict.kind == VerdictKind::kMalicious ? config_.malicious_ttl_ms : config_.benign_ttl_ms;
  uint32_t epoch = epoch_.load(std::memory_order_relaxed);
  Shard& s = ShardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.map.find(key);
  uint32_t i;
  if (it != s.map.end()) {
    i = it->second;
    s.Unlink(i);
  } else {
    if (!s.free.empty()) {
      i = s.free.back();
      s.free.pop_back();
    } else if (s.entries.size() < s.cap) {
      i = static_cast<uint32_t>(s.entries.size());
      s.entries.emplace_back();
    } else {
      i = s.tail;  // evict the least recently used entry
      const Entry& old = s.entries[i];
      if (old.expires_ms <= now_ms || old.epoch != epoch) expired_.fetch_add(1, std::memory_order_relaxed);
      else evictions_.fetch_add(1, std::memory_order_relaxed);
      s.Unlink(i);
      s.map.erase(old.key);
    }
    s.map.emplace(key, i);
  }
  Entry& e = s.entries[i];
  e.key = key;
  e.verdict = verdict;
  e.expires_ms = now_ms + ttl;
  e.epoch = epoch;
  s.PushFront(i);
  inserts_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

void VerdictCache::Invalidate() { epoch_.fetch_add(1, std::memory_order_relaxed); }

size_t VerdictCache::Warm(std::span<const WarmEntry> entries, int64_t now_ms) {
  size_t n = 0;
  for (const WarmEntry& w : entries) {
    if (w.verdict.kind != VerdictKind::kMalicious) continue;
    Shard& s = ShardFor(w.key);
    {
      std::lock_guard<std::mutex> lock(s.mu);
      auto it = s.map.find(w.key);
      if (it != s.map.end() && s.entries[it->second].expires_ms > now_ms &&
          s.entries[it->second].epoch == epoch_.load(std::memory_order_relaxed))
        continue;  // live knowledge beats a file
    }
    if (Insert(w.key, w.verdict, true, now_ms).ok()) ++n;
  }
  return n;
}

VerdictCacheStats VerdictCache::stats() const {
  VerdictCacheStats st;
  st.hits = hits_.load(std::memory_order_relaxed);
  st.misses = misses_.load(std::memory_order_relaxed);
  st.inserts = inserts_.load(std::memory_order_relaxed);
  st.evictions = evictions_.load(std::memory_order_relaxed);
  st.expired = expired_.load(std::memory_order_relaxed);
  st.suppressed = suppressed_.load(std::memory_order_relaxed);
  st.rejected = rejected_.load(std::memory_order_relaxed);
  return st;
}

size_t VerdictCache::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->map.size();
  }
  return n;
}

size_t VerdictCache::MemoryBytes() const {
  size_t n = sizeof(VerdictCache) + shards_.capacity() * sizeof(void*);
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += sizeof(Shard) + s->entries.capacity() * sizeof(Entry) + s->free.capacity() * sizeof(uint32_t) +
         s->map.capacity() * (sizeof(Map::value_type) + 1);
  }
  return n;
}

// ---- Warm files -------------------------------------------------------------------------------------

namespace {

// Order of guard_category in guard.h (kept here so the cache does not link the ABI).
constexpr std::string_view kCategoryNames[] = {"sqli",  "xss",    "cmdi", "traversal", "rfi",      "ssrf",
                                               "xxe",   "ssti",   "jndi", "nosqli",    "ldapi",    "crlf",
                                               "code",  "scanner", "protocol", "behaviour", "custom"};

std::string_view Str(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

absl::Status ParseLine(std::string_view line, uint64_t version, const WarmFingerprintFn& fn, WarmEntry* out) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError())
    return absl::InvalidArgumentError(std::string("invalid JSON: ") + rapidjson::GetParseError_En(d.GetParseError()));
  if (!d.IsObject()) return absl::InvalidArgumentError("not a JSON object");
  auto req = d.FindMember("request");
  auto ver = d.FindMember("verdict");
  if (req == d.MemberEnd() || !req->value.IsObject()) return absl::InvalidArgumentError("missing object \"request\"");
  if (ver == d.MemberEnd() || !ver->value.IsObject()) return absl::InvalidArgumentError("missing object \"verdict\"");
  const rapidjson::Value& r = req->value;
  const rapidjson::Value& v = ver->value;

  std::string_view kind = Str(v, "kind");
  if (kind == "benign") return absl::InvalidArgumentError("benign verdicts are never warmed");
  if (kind != "malicious") return absl::InvalidArgumentError("verdict.kind must be \"malicious\"");
  CachedVerdict cv;
  cv.kind = VerdictKind::kMalicious;
  if (auto s = v.FindMember("score"); s != v.MemberEnd() && s->value.IsInt()) cv.score = s->value.GetInt();
  if (auto s = v.FindMember("rule_id"); s != v.MemberEnd() && s->value.IsUint()) cv.rule_id = s->value.GetUint();
  if (auto s = v.FindMember("categories"); s != v.MemberEnd()) {
    if (!s->value.IsArray()) return absl::InvalidArgumentError("verdict.categories must be an array of names");
    for (const auto& c : s->value.GetArray()) {
      std::string_view name = c.IsString() ? std::string_view(c.GetString(), c.GetStringLength()) : "";
      auto at = std::find(std::begin(kCategoryNames), std::end(kCategoryNames), name);
      if (at == std::end(kCategoryNames))
        return absl::InvalidArgumentError("unknown category \"" + std::string(name) + "\"");
      cv.categories |= uint64_t{1} << (at - std::begin(kCategoryNames));
    }
  }

  WarmRequest wr;
  wr.route_id = Str(d, "route_id");
  wr.method = Str(r, "method");
  wr.path = Str(r, "path");
  wr.query = Str(r, "query");
  wr.body = Str(r, "body");
  if (wr.method.empty() || wr.path.empty()) return absl::InvalidArgumentError("request.method and request.path are required");
  if (auto h = r.FindMember("headers"); h != r.MemberEnd()) {
    if (!h->value.IsArray()) return absl::InvalidArgumentError("request.headers must be an array of [name, value]");
    for (const auto& pair : h->value.GetArray()) {
      if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString())
        return absl::InvalidArgumentError("request.headers must be an array of [name, value]");
      wr.headers.emplace_back(pair[0].GetString(), pair[1].GetString());
    }
  }
  absl::StatusOr<WarmFingerprint> fp = fn(wr);
  if (!fp.ok()) return fp.status();
  if (!fp->signatures_flagged)
    return absl::InvalidArgumentError(
        "the signatures do not flag this request: its shape could be a benign one, so it is not warmed");
  out->key = VerdictKey{fp->fingerprint, RouteKey(wr.route_id), version};
  out->verdict = cv;
  return absl::OkStatus();
}

}  // namespace

WarmReport ParseWarmFile(std::string_view jsonl, uint64_t version, const WarmFingerprintFn& fingerprint,
                         std::vector<WarmEntry>* out) {
  WarmReport rep;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl = nl == std::string_view::npos ? std::string_view() : jsonl.substr(nl + 1);
    ++line_no;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    ++rep.lines;
    WarmEntry e;
    absl::Status st;
    try {
      st = ParseLine(line, version, fingerprint, &e);
    } catch (const std::exception& ex) {  // the callback may throw (bad_alloc): no exception escapes
      st = absl::InternalError(ex.what());
    }
    if (st.ok()) {
      out->push_back(e);
      ++rep.accepted;
    } else {
      ++rep.skipped;
      if (rep.errors.size() < 20) rep.errors.push_back("line " + std::to_string(line_no) + ": " + std::string(st.message()));
    }
  }
  return rep;
}

}  // namespace guard::cache
