// The engine behind one plugin config: validated config + compiled detectors, immutable once built.
//
// Kong builds one engine per plugin instance (in configure(), or lazily on first use) and frees it when
// the config goes away. Inspect() runs per request on the nginx worker thread; it keeps its per-thread
// mutable state (parsed fields, Hyperscan scratch) in thread-local storage so the engine itself needs no
// locks and a steady-state request allocates nothing.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "cache/verdict_cache.h"
#include "config/config.h"
#include "guard.h"
#include "protocol/checks.h"
#include "quota/engine.h"
#include "signatures/matcher.h"

namespace guard::engine {

struct SignalState;  // engine/signals.h: blocklist, fingerprint, verdict cache, behaviour (issue 5)

// Who builds the engine: names the quota buckets of this plugin instance (node table and Redis keys).
struct Identity {
  std::string instance_id = "default";
  std::string node_id = "node";
};

class Engine {
 public:
  // With a `quota` section the engine also holds a quota::QuotaEngine over the node table (node_table.h).
  static absl::StatusOr<std::unique_ptr<Engine>> Create(std::string_view config_json, Identity id = {});

  // Fills *verdict completely. Returns an error only on an internal failure; the verdict then follows
  // the config's mode as if nothing matched, and the error says why.
  absl::Status Inspect(const guard_request& req, guard_verdict* verdict) const;

  const config::Config& config() const { return config_; }
  // nullptr without quota limits.
  const quota::QuotaEngine* quota() const { return quota_.get(); }
  // The L1 verdict cache keyed by request shape (docs/fingerprint.md); nullptr when the config has none.
  // Later stages (AI verdicts) store their answers here so requests of the same shape never pay twice.
  cache::VerdictCache* verdict_cache() const { return cache_.get(); }
  // Ruleset/config version: part of every verdict-cache key, so a rules or config change invalidates it.
  uint64_t version() const { return version_; }

  // ---- Behaviour as a signal (issue 5): engine/signals.cc ----
  ~Engine();
  // Feeds a response (log phase) into its client's profile; out may be nullptr.
  absl::Status Observe(const guard_response_info& r, guard_decision_info* out) const;
  const SignalState* signals() const { return signals_.get(); }

 private:
  Engine() = default;
  absl::Status BuildSignals(const Identity& id);
  // Before parsing: the blocklist. True when it decided the request (banned, block mode). *listed: 0 not
  // listed, 1 allowlisted (skips behaviour), 2 banned in monitor mode (reported after the signatures).
  bool BlocklistFirst(const guard_request& req, int64_t now_ms, guard_verdict* v, int* listed) const;
  // After the signatures scored: request-shape fingerprint, verdict cache, behaviour profile and decisions.
  void SignalsAfterSignatures(const guard_request& req, int64_t now_ms, int listed, guard_verdict* v) const;
  std::unique_ptr<SignalState> signals_;
  // ---- end of behaviour as a signal ----
  void CheckQuota(const guard_request& req, guard_verdict* verdict) const;
  config::Config config_;
  request::Limits limits_;
  std::shared_ptr<const signatures::Matcher> matcher_;
  std::unique_ptr<protocol::Checker> protocol_;
  std::unique_ptr<quota::QuotaEngine> quota_;
  std::shared_ptr<cache::VerdictCache> cache_;  // one per worker for all engines with the same cache settings
  uint64_t version_ = 0;
};

}  // namespace guard::engine
