// AI escalation: which verdicts ask the LLM providers for a second opinion, the job handed to the providers
// client, and the verdict cache fed with the answers. Apart from engine.cc so that the AI stage stays one
// small block there (two calls: InitAi at build, MarkEscalation at the end of Inspect).
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/ai_cache_entry.h"
#include "engine/behaviour_node.h"
#include "engine/engine.h"
#include "quota/engine.h"
#include "signatures/rules.h"

namespace guard::engine {

bool ParseFingerprintHex(std::string_view hex, fingerprint::Hash128* out) {
  if (hex.size() != 32) return false;
  uint64_t part[2] = {0, 0};
  for (size_t i = 0; i < 32; ++i) {
    const char c = hex[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    part[i / 16] = (part[i / 16] << 4) | static_cast<uint64_t>(d);
  }
  out->hi = part[0];
  out->lo = part[1];
  return true;
}

cache::CachedVerdict AiCacheEntry(const providers::AiVerdict& ai, int32_t score, int32_t threshold,
                                  uint64_t categories, uint32_t rule_id) {
  cache::CachedVerdict cv;
  cv.rule_id = rule_id;
  cv.categories = categories;
  cv.score = score;
  if (ai.action == providers::AiAction::kBlock) {
    cv.kind = cache::VerdictKind::kMalicious;
    cv.score = std::max(score, threshold);
    guard_category c;
    if (signatures::ParseCategory(ai.category, &c)) cv.categories |= uint64_t{1} << c;
  }
  return cv;
}

absl::Status Engine::InitAi() {
  if (!config_.has_ai) return absl::OkStatus();
  providers::ClientOptions options;
  if (config_.has_redis) {
    // Quotas, budgets, provider headers and open breakers shared by every worker and node. The store connects
    // on first use, from the client's I/O thread.
    const config::RedisConnection& r = config_.redis;
    ai_redis_ = std::make_shared<providers::RedisQuotaStore>(
        providers::RedisQuotaOptions{r.host, r.port, r.password, r.database, r.timeout_ms, r.prefix});
    options.quota = ai_redis_;
  }
  // Benign AI answers, per shape: a few thousand entries, kept 5 minutes (a rules change bumps the version).
  cache::VerdictCacheConfig cleared;
  cleared.max_entries = 8192;
  cleared.max_bytes = 2u << 20;
  cleared.benign_ttl_ms = 300'000;
  auto memo = cache::VerdictCache::Create(cleared);
  if (!memo.ok()) return memo.status();
  ai_cleared_ = std::move(*memo);
  // Starts no thread (Client::Create never does): the engine may be built in the nginx master.
  auto client = providers::Client::Create(config_.ai.providers, std::move(options));
  if (!client.ok()) return client.status();
  ai_ = std::move(*client);
  return absl::OkStatus();
}

namespace {

// The verdict-cache key of an inspected request, when Inspect computed its fingerprint.
bool AiKey(const guard_request& req, const guard_verdict& v, uint64_t version, cache::VerdictKey* key) {
  const std::string_view hex(v.fingerprint, strnlen(v.fingerprint, sizeof v.fingerprint));
  if (!ParseFingerprintHex(hex, &key->fingerprint)) return false;
  key->route = cache::RouteKey(std::string_view(req.route_id.ptr ? req.route_id.ptr : "", req.route_id.len));
  key->version = version;
  return true;
}

int64_t NowMs() { return CoarseUnixMs(); }  // Inspect's clock (behaviour_node.h): cache TTLs compare against it

}  // namespace

void Engine::MarkEscalation(const guard_request& req, guard_verdict* v) const {
  if (!ai_ || v->action != GUARD_ACTION_ALLOW || (v->flags & GUARD_VERDICT_CACHED)) return;
  const bool grey = v->score >= config_.ai.escalate_min_score && v->score < v->threshold;
  const bool behaviour =
      config_.ai.escalate_behaviour && (v->categories & (uint64_t{1} << GUARD_CAT_BEHAVIOUR)) != 0;
  if (!grey && !behaviour) return;
  // Only grey verdicts get here (rare): the key parse and the uncontended shard lock stay off the common path.
  cache::VerdictKey key;
  if (AiKey(req, *v, version_, &key) && ai_cleared_->Lookup(key, false, NowMs())) return;
  v->flags |= GUARD_VERDICT_ESCALATE;
}

absl::StatusOr<uint64_t> Engine::SubmitAi(const guard_request& req, const guard_verdict& v) const {
  if (!ai_) return absl::FailedPreconditionError("the config has no ai section");
  const config::AiSection& a = config_.ai;
  providers::AiJob job;
  job.request = providers::AiRequestFromGuard(req);
  // The job ends (answer, failover exhausted or deadline) one poll step before the plugin stops waiting, so
  // the plugin's last poll sees a final state instead of giving up on a pending one.
  job.deadline = absl::Milliseconds(std::max(a.deadline_ms - a.poll_ms, a.deadline_ms / 2));
  job.risk = v.threshold > 0 ? std::clamp(static_cast<double>(v.score) / v.threshold, 0.0, 1.0) : 0.5;

  cache::VerdictKey key;
  if (AiKey(req, v, version_, &key)) {
    // Everything the callback needs is copied: it runs on the client's I/O thread after this request is gone.
    const bool flagged = v.rule_count > 0;
    const int32_t score = v.score, threshold = v.threshold;
    const uint64_t categories = v.categories;
    const uint32_t rule_id = v.rule_count > 0 ? v.rule_ids[0] : 0;
    cache::VerdictCache* cache = cache_.get();  // null until the fingerprint stage creates it
    cache::VerdictCache* cleared = ai_cleared_.get();
    job.on_verdict = [cache, cleared, key, flagged, score, threshold, categories, rule_id](
                         const providers::AiVerdict& ai, const std::string&) {
      const cache::CachedVerdict entry = AiCacheEntry(ai, score, threshold, categories, rule_id);
      // A benign answer for a request the signatures flagged is refused by the verdict cache by design (it
      // never serves "benign" to a flagged request); the AI's own memo keeps it from being asked again.
      if (cache) (void)cache->Insert(key, entry, flagged, NowMs());
      if (entry.kind == cache::VerdictKind::kBenign) (void)cleared->Insert(key, entry, false, NowMs());
    };
  }
  return ai_->Submit(std::move(job));
}

}  // namespace guard::engine
