#include "providers/redis_quota_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "providers/sv.h"

namespace guard::providers {
namespace {

int64_t DayId(absl::Time t) { return absl::ToUnixSeconds(t) / 86400; }
int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

// KEYS: the kRollingSeconds one-second buckets of the rolling minute (oldest first, the last one is now's), then
// day, budget, hdr, open. ARGV: rpm, tpm, rpd, usd_per_day, budget, tokens, usd, now_ms, bucket TTL ms.
// Same checks, in the same order, as LocalQuotaStore::Reserve. Returns {status, minute r, minute t, day r,
// day t, day u, budget u, open_until_ms}; status "ok" or the name of the limit that refused.
constexpr char kReserveScript[] = R"lua(
local n = #KEYS - 4
local kday, kbudget, khdr, kopen = KEYS[n + 1], KEYS[n + 2], KEYS[n + 3], KEYS[n + 4]
local rpm, tpm, rpd, usd_day, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local tok, usd, now, ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local mr, mt = 0, 0
for i = 1, n do
  local b = redis.call('HMGET', KEYS[i], 'r', 't')
  mr = mr + tonumber(b[1] or 0)
  mt = mt + tonumber(b[2] or 0)
end
local d = redis.call('HMGET', kday, 'r', 't', 'u')
local dr, dt, du = tonumber(d[1] or 0), tonumber(d[2] or 0), tonumber(d[3] or 0)
local g = tonumber(redis.call('HGET', kbudget, 'u') or 0)
local function out(status, open)
  return {status, mr, mt, dr, dt, tostring(du), tostring(g), open or 0}
end
local open = redis.call('PTTL', kopen)
if open > 0 then return out('breaker_open', now + open) end
local h = redis.call('HMGET', khdr, 'rem_req', 'req_reset', 'rem_tok', 'tok_reset', 'blocked_until')
if h[5] and tonumber(h[5]) > now then return out('provider_backoff') end
local req_live = h[1] and tonumber(h[2] or 0) > now
local tok_live = h[3] and tonumber(h[4] or 0) > now
if req_live and tonumber(h[1]) < 1 then return out('provider_backoff') end
if tok_live and tonumber(h[3]) < tok then return out('provider_backoff') end
if rpm > 0 and mr + 1 > rpm then return out('rpm') end
if tpm > 0 and mt + tok > tpm then return out('tpm') end
if rpd > 0 and dr + 1 > rpd then return out('rpd') end
if usd_day > 0 and du + usd > usd_day then return out('usd_per_day') end
if budget > 0 and g + usd > budget then return out('budget_usd_per_day') end
redis.call('HINCRBY', KEYS[n], 'r', 1)
redis.call('HINCRBY', KEYS[n], 't', tok)
redis.call('PEXPIRE', KEYS[n], ttl)
mr, mt = mr + 1, mt + tok
dr = redis.call('HINCRBY', kday, 'r', 1)
dt = redis.call('HINCRBY', kday, 't', tok)
du = tonumber(redis.call('HINCRBYFLOAT', kday, 'u', usd))
redis.call('PEXPIRE', kday, 172800000)
g = tonumber(redis.call('HINCRBYFLOAT', kbudget, 'u', usd))
redis.call('PEXPIRE', kbudget, 172800000)
if req_live then redis.call('HINCRBY', khdr, 'rem_req', -1) end
if tok_live then redis.call('HINCRBY', khdr, 'rem_tok', -tok) end
return out('ok')
)lua";

// KEYS: the second bucket, day, budget of the reservation. ARGV: token delta, dollar delta. Never below zero.
constexpr char kReconcileScript[] = R"lua(
local dt, du = tonumber(ARGV[1]), tonumber(ARGV[2])
local function add(key, field, delta, float)
  if redis.call('EXISTS', key) == 0 then return end
  local v = tonumber(redis.call('HGET', key, field) or 0) + delta
  if v < 0 then v = 0 end
  redis.call('HSET', key, field, float and tostring(v) or math.floor(v))
end
add(KEYS[1], 't', dt, false)
add(KEYS[2], 't', dt, false)
add(KEYS[2], 'u', du, true)
add(KEYS[3], 'u', du, true)
return 1
)lua";

// KEYS: hdr. ARGV: field/value pairs (the headers present), expiry ms since epoch.
constexpr char kObserveScript[] = R"lua(
local n = #ARGV - 1
for i = 1, n, 2 do
  if ARGV[i] == 'blocked_until' then
    local cur = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or 0)
    if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
local exp = tonumber(ARGV[#ARGV])
redis.call('PEXPIREAT', KEYS[1], exp)
return 1
)lua";

timeval Tv(uint32_t ms) { return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)}; }

struct Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r) freeReplyObject(r);
  }
};

// One command, arguments as binary-safe strings (keys and values may hold anything).
redisReply* Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) argv.push_back(a.data()), lens.push_back(a.size());
  return static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
}

int64_t IntAt(const redisReply* r, size_t i) {
  const redisReply* e = r->element[i];
  if (e->type == REDIS_REPLY_INTEGER) return e->integer;
  if (e->type == REDIS_REPLY_STRING) return std::strtoll(e->str, nullptr, 10);
  return 0;
}
double DoubleAt(const redisReply* r, size_t i) {
  const redisReply* e = r->element[i];
  if (e->type == REDIS_REPLY_INTEGER) return static_cast<double>(e->integer);
  if (e->type == REDIS_REPLY_STRING) return std::strtod(e->str, nullptr);
  return 0;
}

}  // namespace

RedisQuotaStore::RedisQuotaStore(RedisQuotaOptions options) : options_(std::move(options)) {}

RedisQuotaStore::~RedisQuotaStore() {
  if (conn_) redisFree(conn_);
}

std::string RedisQuotaStore::Key(std::string_view provider, std::string_view suffix) const {
  return absl::StrCat(options_.prefix, ":ai:", AV(provider), ":", AV(suffix));
}

RedisQuotaHealth RedisQuotaStore::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return health_;
}

void RedisQuotaStore::Failed(const std::string& what) {
  if (conn_) redisFree(conn_);
  conn_ = nullptr;
  next_connect_ = absl::Now() + absl::Seconds(1);
  std::lock_guard<std::mutex> lock(mu_);
  health_.healthy = false;
  ++health_.ops_failed;
  health_.last_error = what;
}

bool RedisQuotaStore::Ready(absl::Time now) {
  if (conn_) return true;
  if (now < next_connect_) {
    std::lock_guard<std::mutex> lock(mu_);
    ++health_.ops_failed;  // served node-locally while waiting to reconnect
    return false;
  }
  conn_ = redisConnectWithTimeout(options_.host.c_str(), options_.port, Tv(options_.timeout_ms));
  if (!conn_ || conn_->err) {
    Failed(absl::StrCat("redis connect ", options_.host, ":", options_.port, ": ", conn_ ? conn_->errstr : "out of memory"));
    return false;
  }
  redisSetTimeout(conn_, Tv(options_.timeout_ms));
  auto command = [this](std::vector<std::string> args, std::string* out) {
    Reply rep;
    rep.r = Command(conn_, args);
    if (!rep.r) return absl::StrCat("redis ", args[0], ": ", conn_->errstr);
    if (rep.r->type == REDIS_REPLY_ERROR) return absl::StrCat("redis ", args[0], ": ", rep.r->str);
    if (out && rep.r->type == REDIS_REPLY_STRING) out->assign(rep.r->str, rep.r->len);
    return std::string();
  };
  std::string err;
  if (!options_.password.empty()) err = command({"AUTH", options_.password}, nullptr);
  if (err.empty() && options_.database != 0) err = command({"SELECT", std::to_string(options_.database)}, nullptr);
  if (err.empty()) err = command({"SCRIPT", "LOAD", kReserveScript}, &reserve_sha_);
  if (err.empty()) err = command({"SCRIPT", "LOAD", kReconcileScript}, &reconcile_sha_);
  if (err.empty()) err = command({"SCRIPT", "LOAD", kObserveScript}, &observe_sha_);
  if (!err.empty()) {
    Failed(err);
    return false;
  }
  return true;
}

absl::StatusOr<Reservation> RedisQuotaStore::Reserve(std::string_view provider, const QuotaLimits& limits,
                                                     double global_usd_per_day, const Usage& est, absl::Time now) {
  if (!Ready(now)) return local_.Reserve(provider, limits, global_usd_per_day, est, now);
  const int64_t second = absl::ToUnixSeconds(now), day = DayId(now);
  std::vector<std::string> args = {"EVALSHA", reserve_sha_, std::to_string(kRollingSeconds + 4)};
  for (int64_t s = second - kRollingSeconds + 1; s <= second; ++s) args.push_back(Key(provider, absl::StrCat("s:", s)));
  args.insert(args.end(), {Key(provider, absl::StrCat("d:", day)), absl::StrCat(options_.prefix, ":ai:budget:d:", day),
                           Key(provider, "hdr"), Key(provider, "open"), std::to_string(limits.rpm),
                           std::to_string(limits.tpm), std::to_string(limits.rpd), absl::StrCat(limits.usd_per_day),
                           absl::StrCat(global_usd_per_day), std::to_string(est.tokens), absl::StrCat(est.usd),
                           std::to_string(Ms(now)), std::to_string((kRollingSeconds + 1) * 1000)});
  Reply rep;
  rep.r = Command(conn_, args);
  if (!rep.r || rep.r->type != REDIS_REPLY_ARRAY || rep.r->elements != 8 ||
      rep.r->element[0]->type != REDIS_REPLY_STRING) {
    // NOSCRIPT after a Redis restart lands here too: reconnecting reloads the scripts.
    Failed(rep.r && rep.r->type == REDIS_REPLY_ERROR ? absl::StrCat("redis reserve: ", rep.r->str)
                                                     : absl::StrCat("redis reserve: ", conn_->errstr));
    return local_.Reserve(provider, limits, global_usd_per_day, est, now);
  }
  const std::string status(rep.r->element[0]->str, rep.r->element[0]->len);
  {
    std::lock_guard<std::mutex> lock(mu_);
    health_.healthy = true;
    ++health_.ops_ok;
    auto it = shared_.find(provider);
    if (it == shared_.end()) it = shared_.emplace(std::string(provider), Shared{}).first;
    Shared& s = it->second;
    s.second = second;
    s.day = day;
    s.minute_used = Usage{IntAt(rep.r, 1), IntAt(rep.r, 2), 0};
    s.day_used = Usage{IntAt(rep.r, 3), IntAt(rep.r, 4), DoubleAt(rep.r, 5)};
    s.global_usd = DoubleAt(rep.r, 6);
    const int64_t open_ms = IntAt(rep.r, 7);
    s.open_until = open_ms > 0 ? absl::FromUnixMillis(open_ms) : absl::InfinitePast();
  }
  if (status == "ok") return Reservation{std::string(provider), second, day, est, true};
  if (status == "budget_usd_per_day") {
    return absl::ResourceExhaustedError("budget_usd_per_day: the daily AI budget is spent");
  }
  if (status == "breaker_open") {
    return absl::ResourceExhaustedError(
        absl::StrCat("breaker_open: provider '", AV(provider), "' is held open by another node's breaker"));
  }
  return absl::ResourceExhaustedError(absl::StrCat(status, ": quota of provider '", AV(provider), "' exhausted"));
}

void RedisQuotaStore::Reconcile(const Reservation& r, const Usage& actual) {
  if (!r.shared) return local_.Reconcile(r, actual);
  const int64_t dt = actual.tokens - r.reserved.tokens;
  const double du = actual.usd - r.reserved.usd;
  if (dt == 0 && du == 0) return;
  if (!Ready(absl::Now())) return;  // the booking stays at its estimate: stricter, never looser
  std::vector<std::string> args = {"EVALSHA", reconcile_sha_, "3", Key(r.provider, absl::StrCat("s:", r.second)),
                                   Key(r.provider, absl::StrCat("d:", r.day)),
                                   absl::StrCat(options_.prefix, ":ai:budget:d:", r.day), std::to_string(dt),
                                   absl::StrCat(du)};
  Reply rep;
  rep.r = Command(conn_, args);
  if (!rep.r || rep.r->type == REDIS_REPLY_ERROR) {
    Failed(rep.r ? absl::StrCat("redis reconcile: ", rep.r->str) : absl::StrCat("redis reconcile: ", conn_->errstr));
  }
}

void RedisQuotaStore::Observe(std::string_view provider, const RateLimitInfo& info, absl::Time now) {
  local_.Observe(provider, info, now);  // the node's own view, also what Snapshot reads
  if (!Ready(now)) return;
  std::vector<std::string> args = {"EVALSHA", observe_sha_, "1", Key(provider, "hdr")};
  absl::Time expire = now + absl::Minutes(1);
  if (info.remaining_requests) {
    const absl::Time reset = info.requests_reset_at.value_or(now + absl::Minutes(1));
    args.insert(args.end(), {"rem_req", std::to_string(*info.remaining_requests), "req_reset", std::to_string(Ms(reset))});
    expire = std::max(expire, reset);
  }
  if (info.remaining_tokens) {
    const absl::Time reset = info.tokens_reset_at.value_or(now + absl::Minutes(1));
    args.insert(args.end(), {"rem_tok", std::to_string(*info.remaining_tokens), "tok_reset", std::to_string(Ms(reset))});
    expire = std::max(expire, reset);
  }
  if (info.retry_at) {
    args.insert(args.end(), {"blocked_until", std::to_string(Ms(*info.retry_at))});
    expire = std::max(expire, *info.retry_at);
  }
  if (args.size() == 4) return;
  args.push_back(std::to_string(Ms(expire)));
  Reply rep;
  rep.r = Command(conn_, args);
  if (!rep.r || rep.r->type == REDIS_REPLY_ERROR) {
    Failed(rep.r ? absl::StrCat("redis observe: ", rep.r->str) : absl::StrCat("redis observe: ", conn_->errstr));
  }
}

void RedisQuotaStore::OnBreakerOpen(std::string_view provider, absl::Time until) {
  const absl::Time now = absl::Now();
  if (until <= now || !Ready(now)) return;
  const std::string key = Key(provider, "open");
  const std::string ms = std::to_string(std::max<int64_t>(1, absl::ToInt64Milliseconds(until - now)));
  Reply rep;
  rep.r = Command(conn_, {"SET", key, "1", "PX", ms});
  if (!rep.r || rep.r->type == REDIS_REPLY_ERROR) {
    Failed(rep.r ? absl::StrCat("redis breaker: ", rep.r->str) : absl::StrCat("redis breaker: ", conn_->errstr));
  }
}

QuotaSnapshot RedisQuotaStore::Snapshot(std::string_view provider, const QuotaLimits& limits,
                                        double global_usd_per_day, absl::Time now) {
  QuotaSnapshot s = local_.Snapshot(provider, limits, global_usd_per_day, now);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shared_.find(provider);
  if (it == shared_.end()) return s;
  const Shared& sh = it->second;
  if (now < sh.open_until) s.headroom = 0;
  double h = s.headroom;
  auto frac = [&](double used, double limit) {
    if (limit > 0) h = std::min(h, std::max(0.0, (limit - used) / limit));
  };
  if (absl::ToUnixSeconds(now) - sh.second < kRollingSeconds) {  // an older reply says nothing about this minute
    s.minute = sh.minute_used;
    frac(static_cast<double>(sh.minute_used.requests), static_cast<double>(limits.rpm));
    frac(static_cast<double>(sh.minute_used.tokens), static_cast<double>(limits.tpm));
  }
  if (sh.day == DayId(now)) {
    s.day = sh.day_used;
    s.global_usd_day = std::max(s.global_usd_day, sh.global_usd);
    frac(static_cast<double>(sh.day_used.requests), static_cast<double>(limits.rpd));
    frac(sh.day_used.usd, limits.usd_per_day);
    frac(sh.global_usd, global_usd_per_day);
  }
  s.headroom = h;
  return s;
}

}  // namespace guard::providers
