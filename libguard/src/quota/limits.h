// Limit specs and limit keys: what the `quota` section of the plugin config says, and how a request is turned
// into the 128-bit key of each bucket it must pay into.
//
// Config shape (documented with examples in docs/quota.md):
//   "quota": {
//     "limits": [ { "name": "per-consumer", "key": ["consumer"], "when_missing": "ip",
//                   "tiers": { "standard": [ {"per": "minute", "limit": 60} ],
//                              "premium":  [ {"per": "minute", "limit": 600, "burst": 100} ] },
//                   "default_tier": "standard", "tier_from": "consumer_tag", "cost": 1 },
//                 { "name": "per-ip", "key": ["ip"], "windows": [ {"per": "second", "limit": 20} ] } ],
//     "global": [ {"per": "second", "limit": 1000} ],
//     "on_unavailable": "allow",
//     "sync": { "redis": {"host": "redis", "port": 6379}, "interval_ms": 100,
//               "on_failure": "local_fallback", "expected_nodes": 3 } }
//
// Key building never allocates: the parts are written length-prefixed into a fixed buffer (so "a|b" + "c" and
// "a" + "b|c" differ), values longer than kMaxPartBytes are replaced by their own 128-bit hash, and the buffer is
// hashed with the stable Hash128. The key also carries a fingerprint of the limit's windows, so changing a
// limit's windows starts fresh buckets instead of reinterpreting old ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "guard.h"
#include "quota/gcra.h"
#include "quota/key_hash.h"
#include "quota/shm_table.h"
#include "rapidjson/document.h"

namespace guard::quota {

// The periods Kong's rate-limiting plugin knows; month is 30 days and year 365 days (a GCRA window slides, it
// is not a calendar month).
enum class Period : uint8_t { kSecond, kMinute, kHour, kDay, kMonth, kYear };
inline constexpr size_t kPeriodCount = 6;
std::string_view PeriodName(Period p);       // "second", "minute", ...
std::string_view PeriodHeaderName(Period p); // "Second", "Minute", ... for X-RateLimit-Limit-<Period>
uint64_t PeriodNs(Period p);

struct Window {
  Period period;
  Rate rate;
};

// One named set of windows.
struct Tier {
  std::string name;
  std::vector<Window> windows;  // at most one per period, at most kSlotWindows; sorted by period
  std::vector<Rate> rates;      // windows[i].rate, contiguous for BucketTable
  uint64_t fingerprint = 0;     // hash of the windows: part of the key
};

enum class KeyPartKind : uint8_t { kConsumer, kCredential, kIp, kRoute, kService, kHeader };

struct KeyPart {
  KeyPartKind kind;
  std::string header;  // lowercase, for kHeader
};

enum class WhenMissing : uint8_t { kIp, kSkip, kShared };

// How a tier is chosen for a request.
enum class TierFrom : uint8_t { kNone, kConsumerTag, kHeader };

struct LimitSpec {
  std::string name;
  std::vector<KeyPart> key;        // empty: one bucket for everything (the "global" limit)
  WhenMissing when_missing = WhenMissing::kIp;
  std::vector<Tier> tiers;         // tiers[default_tier] is used when no tier matches
  size_t default_tier = 0;
  TierFrom tier_from = TierFrom::kNone;
  std::string tier_header;         // lowercase, for TierFrom::kHeader
  uint64_t cost = 1;               // tokens per request, multiplied by the cost Check is called with
};

// What a node does for cluster-wide limits while Redis cannot be reached.
enum class FailurePolicy : uint8_t {
  kLocalFallback,  // each node enforces limit / active nodes on its own (every request costs N local tokens)
  kFailOpen,       // each node enforces the full limit on its own (up to N times the limit cluster-wide)
  kFailClosed,     // refuse every request subject to a limit
};

// The optional "sync" section: limits become cluster-wide through Redis (redis_sync.h).
struct SyncConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string password;            // empty: no AUTH
  uint32_t database = 0;
  uint32_t timeout_ms = 100;       // connect and command timeout (background thread only)
  uint32_t interval_ms = 100;      // how often a worker pushes its counts and pulls the cluster's state
  FailurePolicy on_failure = FailurePolicy::kLocalFallback;
  uint32_t expected_nodes = 1;     // divisor for local_fallback until Redis has told us the live node count
  std::string prefix = "guard:quota";
};

struct QuotaConfig {
  std::vector<LimitSpec> limits;   // "global" is appended as a limit named "global" with an empty key
  bool fail_open = true;           // on_unavailable: "allow" (true) or "deny"
  bool has_sync = false;           // a "sync" section was given
  SyncConfig sync;
};

inline constexpr size_t kMaxLimits = 16;
inline constexpr size_t kMaxKeyParts = 4;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr size_t kMaxPartBytes = 256;
inline constexpr size_t kKeyBufferBytes = 2048;
// Consumer tags of the form "tier:<name>" select the tier when tier_from is "consumer_tag".
inline constexpr std::string_view kTierTagPrefix = "tier:";

// Parses the `quota` section (the object itself). Errors name the JSON path, e.g.
// "quota.limits[0].tiers.standard[1].per: expected one of second, minute, hour, day, month, year".
absl::StatusOr<QuotaConfig> ParseQuotaConfig(const rapidjson::Value& section);
absl::StatusOr<QuotaConfig> ParseQuotaConfig(std::string_view json);

// What the gateway knows about the request, as views valid for the duration of the call.
struct RequestKeys {
  std::string_view consumer;    // consumer id, empty when anonymous
  std::string_view credential;
  std::string_view ip;          // the forwarded client IP as Kong computes it
  std::string_view route;
  std::string_view service;
  const guard_header* headers = nullptr;  // names compared case-insensitively
  size_t header_count = 0;
  const guard_str* consumer_tags = nullptr;
  size_t consumer_tag_count = 0;
};

// The resolved bucket of one limit for one request.
struct ResolvedKey {
  bool applies = false;     // false: a key part is missing and when_missing is "skip"
  const Tier* tier = nullptr;
  Key128 key;
};

// Builds the key of `spec` for `req` under namespace `ns` (the plugin instance). No allocation.
ResolvedKey ResolveKey(const LimitSpec& spec, std::string_view ns, const RequestKeys& req);

}  // namespace guard::quota
