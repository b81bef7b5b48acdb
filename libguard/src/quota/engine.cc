// QuotaEngine::Check and the header values it derives; see engine.h.
#include "quota/engine.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

namespace guard::quota {

uint64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond + static_cast<uint64_t>(ts.tv_nsec);
}

absl::StatusOr<std::unique_ptr<QuotaEngine>> QuotaEngine::Create(QuotaConfig config, const BucketTable* table,
                                                                 std::string_view ns, EngineOptions options) {
  if (table == nullptr) return absl::InvalidArgumentError("quota engine needs a bucket table");
  if (config.limits.size() > kMaxLimits) return absl::InvalidArgumentError("too many limits");
  std::unique_ptr<QuotaEngine> engine(new QuotaEngine(std::move(config), table, std::string(ns)));
  if (engine->config_.has_sync) {
    RedisSync::Options so;
    so.config = engine->config_.sync;
    so.node_id = std::move(options.node_id);
    so.background = options.sync_background;
    auto sync = RedisSync::Create(std::move(so), table, engine->ns_);
    if (!sync.ok()) return sync.status();
    engine->sync_ = std::move(*sync);
  }
  return engine;
}

EngineStats QuotaEngine::Stats() const {
  return EngineStats{checks_.load(std::memory_order_relaxed), refused_.load(std::memory_order_relaxed),
                     degraded_.load(std::memory_order_relaxed)};
}

namespace {

// One limit's part in a decision.
struct Charge {
  size_t limit = 0;
  const Tier* tier = nullptr;
  Key128 key;
  uint64_t cost = 0;        // tokens taken from the local buckets
  uint64_t sync_cost = 0;   // tokens reported to the cluster (without the local_fallback multiplier)
  SlotRef where;
  Step steps[kSlotWindows];
};

// Appends "limit;w=seconds[;burst=n]" items; stops at an item that would not fit (the header stays valid).
void AppendPolicy(Decision* out, const Window& w) {
  char item[96];
  const uint64_t secs = w.rate.period_ns / kNsPerSecond;
  int n = w.rate.burst == w.rate.limit
              ? std::snprintf(item, sizeof(item), "%s%llu;w=%llu", out->policy_len ? ", " : "",
                              static_cast<unsigned long long>(w.rate.limit), static_cast<unsigned long long>(secs))
              : std::snprintf(item, sizeof(item), "%s%llu;w=%llu;burst=%llu", out->policy_len ? ", " : "",
                              static_cast<unsigned long long>(w.rate.limit), static_cast<unsigned long long>(secs),
                              static_cast<unsigned long long>(w.rate.burst));
  if (n <= 0 || out->policy_len + static_cast<size_t>(n) >= kPolicyBytes) return;
  std::copy(item, item + n, out->policy + out->policy_len);
  out->policy_len += static_cast<size_t>(n);
  out->policy[out->policy_len] = '\0';
}

void Report(const Charge* charges, size_t n, size_t lead, size_t lead_window, Decision* out) {
  const Window& lw = charges[lead].tier->windows[lead_window];
  const Step& ls = charges[lead].steps[lead_window];
  out->limit_index = static_cast<int32_t>(charges[lead].limit);
  out->period = lw.period;
  out->limit = lw.rate.limit;
  out->remaining = ls.remaining;
  out->reset_s = std::max<uint64_t>(1, CeilSeconds(ls.reset_ns));
  AppendPolicy(out, lw);
  for (size_t c = 0; c < n; ++c) {
    const auto& windows = charges[c].tier->windows;
    for (size_t w = 0; w < windows.size(); ++w) {
      auto& pr = out->per_period[static_cast<size_t>(windows[w].period)];
      const uint64_t rem = charges[c].steps[w].remaining;
      if (!pr.present || rem < pr.remaining) pr = PeriodReport{true, windows[w].rate.limit, rem};
      if (c != lead || w != lead_window) AppendPolicy(out, windows[w]);
    }
  }
}

}  // namespace

void QuotaEngine::Check(const RequestKeys& req, uint64_t cost, uint64_t now_ns, Decision* out) const {
  *out = Decision{};
  checks_.fetch_add(1, std::memory_order_relaxed);
  if (cost == 0) cost = 1;

  // Cluster sync down: apply the failure policy.
  uint64_t fallback = 1;
  bool closed = false;
  if (sync_ != nullptr) sync_->EnsureStarted();
  if (sync_ != nullptr && !sync_->healthy()) {
    out->degraded = true;
    switch (sync_->config().on_failure) {
      case FailurePolicy::kLocalFallback: fallback = std::max<uint32_t>(1, sync_->fallback_nodes()); break;
      case FailurePolicy::kFailClosed: closed = true; break;
      case FailurePolicy::kFailOpen: break;
    }
  }

  Charge charges[kMaxLimits];
  size_t n = 0;
  bool refused = false, unavailable_refusal = false;
  for (size_t i = 0; i < config_.limits.size(); ++i) {
    const LimitSpec& spec = config_.limits[i];
    const ResolvedKey rk = ResolveKey(spec, ns_, req);
    if (!rk.applies) continue;
    Charge& ch = charges[n];
    ch.limit = i;
    ch.tier = rk.tier;
    ch.key = rk.key;
    ch.cost = cost > kMaxSpan / spec.cost ? kMaxSpan : cost * spec.cost;
    ch.sync_cost = ch.cost;
    const size_t nw = rk.tier->rates.size();
    bool too_big = false;
    uint64_t min_burst = kMaxSpan;
    for (const Rate& r : rk.tier->rates) {
      too_big = too_big || ch.cost > MaxCost(r);
      min_burst = std::min(min_burst, r.burst);
    }
    if (fallback > 1 && !too_big) {
      // N nodes each charging N tokens per request share the limit; capped at the burst so that a request
      // that fits the limit can still pass on an idle node.
      ch.cost = std::max(ch.cost, std::min(ch.cost * fallback, min_burst));
    }
    Outcome o;
    if (closed) {
      unavailable_refusal = true;
      refused = true;
      ++n;
      break;
    }
    if (too_big) {
      // More than any bucket could ever hold: refused, never retryable, nothing touched.
      for (size_t w = 0; w < nw; ++w) {
        ch.steps[w] = Peek(rk.tier->rates[w], 0, 0);
        ch.steps[w].admitted = false;
        ch.steps[w].retry_after_ns = kNever;
      }
      o = Outcome::kRefused;
    } else {
      o = table_->Consume(rk.key, rk.tier->rates.data(), nw, now_ns, ch.cost, ch.steps, &ch.where);
    }
    if (o == Outcome::kAdmitted) {
      ++n;
      continue;
    }
    if (o == Outcome::kUnavailable) {
      degraded_.fetch_add(1, std::memory_order_relaxed);
      if (config_.fail_open) {
        out->degraded = true;
        continue;
      }
      unavailable_refusal = true;
    }
    refused = true;
    ++n;  // the refusing limit is charges[n - 1]
    break;
  }

  if (n == 0) return;  // no limit applied (or all unavailable and failing open): admitted, no headers
  if (!refused) {
    if (sync_ != nullptr) {
      for (size_t c = 0; c < n; ++c) sync_->Record(charges[c].key, charges[c].tier, charges[c].sync_cost);
    }
    // The deciding window: fewest tokens left; on a tie the one that takes longest to refill.
    size_t lead = 0, lw = 0;
    for (size_t c = 0; c < n; ++c) {
      for (size_t w = 0; w < charges[c].tier->windows.size(); ++w) {
        const Step& s = charges[c].steps[w];
        const Step& best = charges[lead].steps[lw];
        if (s.remaining < best.remaining || (s.remaining == best.remaining && s.reset_ns > best.reset_ns)) {
          lead = c;
          lw = w;
        }
      }
    }
    Report(charges, n, lead, lw, out);
    return;
  }

  // Refused: give back what the earlier limits took, so that a refused request costs nothing anywhere.
  refused_.fetch_add(1, std::memory_order_relaxed);
  out->admitted = false;
  Charge& bad = charges[n - 1];
  for (size_t c = 0; c + 1 < n; ++c) {
    const Tier& t = *charges[c].tier;
    table_->Refund(charges[c].where, t.rates.data(), t.rates.size(), charges[c].cost);
    for (size_t w = 0; w < t.rates.size(); ++w) {
      charges[c].steps[w].remaining = std::min(charges[c].steps[w].remaining + charges[c].cost, t.rates[w].burst);
    }
  }
  if (unavailable_refusal) {
    // on_unavailable "deny", or the cluster sync is down with fail_closed: refuse, come back in a second.
    for (size_t w = 0; w < bad.tier->windows.size(); ++w) {
      bad.steps[w] = Peek(bad.tier->rates[w], 0, 0);
      bad.steps[w].remaining = 0;
      bad.steps[w].retry_after_ns = kNsPerSecond;
    }
    Report(charges, n, n - 1, 0, out);
    out->retry_after_s = 1;
    return;
  }
  // The deciding window of the refusing limit: the refusing window with the longest wait (the client must wait
  // for all of them).
  size_t lw = 0;
  bool found = false;
  for (size_t w = 0; w < bad.tier->windows.size(); ++w) {
    const Step& s = bad.steps[w];
    if (s.admitted) continue;
    if (!found || s.retry_after_ns > bad.steps[lw].retry_after_ns) lw = w;
    found = true;
  }
  Report(charges, n, n - 1, lw, out);
  const uint64_t ra = bad.steps[lw].retry_after_ns;
  out->retry_after_s = ra == kNever ? kNever : std::max<uint64_t>(1, CeilSeconds(ra));
}

}  // namespace guard::quota
