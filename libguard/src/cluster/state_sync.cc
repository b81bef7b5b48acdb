#include "cluster/state_sync.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"

namespace guard::cluster {
namespace {

std::atomic<uint64_t> g_fork_gen{0};
std::once_flag g_atfork_once;

std::mutex g_registry_mu;
std::map<std::string, StateSync*>* g_registry = nullptr;  // never freed: threads outlive static destructors

constexpr int kPollMs = 200;
constexpr size_t kMaxPendingLines = 10000;  // lines kept while Redis is down

int64_t UnixMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

timeval Tv(uint32_t ms) { return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000) * 1000}; }

struct Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r != nullptr) freeReplyObject(r);
  }
};

absl::StatusOr<Reply*> Command(redisContext* ctx, const std::vector<std::string>& args, Reply* out) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  out->r = static_cast<redisReply*>(redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (out->r == nullptr) return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", ctx->errstr));
  if (out->r->type == REDIS_REPLY_ERROR)
    return absl::UnavailableError(absl::StrCat("redis ", args[0], ": ", std::string(out->r->str, out->r->len)));
  return out;
}

std::string Hex64(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}

// The hash field of a line's entry ("ban 1.2.3.4" for ban/unban), and whether the line removes it.
bool StateField(std::string_view line, std::string* field, bool* remove) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view op = line.substr(0, sp);
  std::string_view rest = line.substr(sp + 1);
  std::string_view subject = rest.substr(0, rest.find(' '));
  if (op == "ban" || op == "unban") {
    *field = "ban " + std::string(subject);
  } else if (op == "allow" || op == "unallow") {
    *field = "allow " + std::string(subject);
  } else {
    return false;
  }
  *remove = op[0] == 'u';
  return true;
}

}  // namespace

std::string StateSync::CacheKey(std::string_view prefix, const cache::VerdictKey& key) {
  return std::string(prefix) + ":vc:" + Hex64(key.version) + ":" + Hex64(key.route) + ":" +
         Hex64(key.fingerprint.hi) + Hex64(key.fingerprint.lo);
}

StateSync* StateSync::For(const config::RedisConnection& c, blocklist::Blocklist* apply_to) {
  std::call_once(g_atfork_once, [] {
    pthread_atfork(nullptr, nullptr, [] { g_fork_gen.fetch_add(1, std::memory_order_relaxed); });
  });
  std::string id = absl::StrCat(c.host, ":", c.port, "/", c.database, "/", c.prefix);
  std::lock_guard<std::mutex> lock(g_registry_mu);
  if (g_registry == nullptr) g_registry = new std::map<std::string, StateSync*>();
  auto it = g_registry->find(id);
  if (it != g_registry->end()) return it->second;
  auto* s = new StateSync(c, apply_to);
  (*g_registry)[id] = s;
  return s;
}

void StateSync::PublishToAll(std::string_view lines) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  if (g_registry == nullptr) return;
  for (auto& [id, s] : *g_registry) s->Publish(lines);
}

void StateSync::EnsureStarted() {
  const uint64_t gen = g_fork_gen.load(std::memory_order_relaxed);
  if (started_gen_.load(std::memory_order_acquire) == gen) return;
  std::lock_guard<std::mutex> lk(start_mu_);
  if (started_gen_.load() == gen) return;
  if (thread_ != nullptr) (void)thread_.release();  // the parent's thread does not exist in this child
  ctx_ = nullptr;                                   // nor does its connection (the socket is the parent's)
  last_id_.clear();
  // Never take a signal meant for nginx: block everything while creating the thread (it inherits the mask).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::make_unique<std::thread>([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  started_gen_.store(gen, std::memory_order_release);
}

void StateSync::Publish(std::string_view lines) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!lines.empty()) {
      size_t nl = lines.find('\n');
      std::string_view line = lines.substr(0, nl);
      lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
      if (line.empty()) continue;
      if (publish_.size() >= kMaxPendingLines) {
        ++stats_.publish_dropped;
        continue;
      }
      publish_.emplace_back(line);
    }
  }
  {
    std::lock_guard<std::mutex> lk(wake_mu_);
    wake_flag_ = true;
  }
  wake_.notify_one();  // a decision should reach the other nodes now, not at the next poll
}

void StateSync::Register(cache::VerdictCache* l1) {
  std::lock_guard<std::mutex> lock(mu_);
  ++live_[l1];
}

void StateSync::Unregister(cache::VerdictCache* l1) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(l1);
  if (it == live_.end() || --it->second > 0) return;
  live_.erase(it);
  fetch_.erase(std::remove_if(fetch_.begin(), fetch_.end(), [l1](const Fetch& f) { return f.l1 == l1; }),
               fetch_.end());
}

bool StateSync::QueueFetch(cache::VerdictCache* l1, const cache::VerdictKey& key) {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  if (fetch_.size() >= kQueueCap) {
    ++stats_.l2_dropped;
    return false;
  }
  fetch_.push_back(Fetch{l1, key});  // capacity reserved by the thread: no allocation here in steady state
  return true;
}

bool StateSync::QueueStore(const cache::VerdictKey& key, const cache::CachedVerdict& v, int64_t ttl_ms) {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  if (store_.size() >= kQueueCap) {
    ++stats_.l2_dropped;
    return false;
  }
  store_.push_back(Store{key, v, ttl_ms});
  return true;
}

SyncStats StateSync::Stats() const {
  std::lock_guard<std::mutex> lock(const_cast<std::mutex&>(mu_));
  return stats_;
}

void StateSync::Run() {
  pthread_setname_np(pthread_self(), "guard-state");
  int backoff_ms = kPollMs;
  for (;;) {
    const bool ok = Round().ok();
    backoff_ms = ok ? kPollMs : std::min(backoff_ms * 2, 5000);
    std::unique_lock<std::mutex> lk(wake_mu_);
    wake_.wait_for(lk, std::chrono::milliseconds(backoff_ms), [this] { return wake_flag_; });
    wake_flag_ = false;
  }
}

absl::Status StateSync::RoundOnce() { return Round(); }

void StateSync::Disconnect() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

void StateSync::Fail(const absl::Status& st) {
  Disconnect();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.state = SyncState::kUnhealthy;
  ++stats_.rounds_failed;
  stats_.last_error = std::string(st.message());
}

absl::Status StateSync::Connect() {
  const config::RedisConnection& c = conn_cfg_;
  ctx_ = redisConnectWithTimeout(c.host.c_str(), c.port, Tv(c.timeout_ms));
  if (ctx_ == nullptr) return absl::UnavailableError("redis: out of memory");
  if (ctx_->err) {
    auto st = absl::UnavailableError(absl::StrCat("redis connect ", c.host, ":", c.port, ": ", ctx_->errstr));
    Disconnect();
    return st;
  }
  redisSetTimeout(ctx_, Tv(c.timeout_ms));
  Reply r1, r2;
  if (!c.password.empty()) {
    if (auto r = Command(ctx_, {"AUTH", c.password}, &r1); !r.ok()) return r.status();
  }
  if (c.database != 0) {
    if (auto r = Command(ctx_, {"SELECT", std::to_string(c.database)}, &r2); !r.ok()) return r.status();
  }
  // Bootstrap: where the stream ends now, then every live entry. Lines added in between are read from the
  // stream as well (applying twice is harmless).
  const std::string stream = absl::StrCat(c.prefix, ":bl:stream");
  Reply last;
  if (auto r = Command(ctx_, {"XREVRANGE", stream, "+", "-", "COUNT", "1"}, &last); !r.ok()) return r.status();
  last_id_ = "0-0";
  if (last.r->type == REDIS_REPLY_ARRAY && last.r->elements == 1 && last.r->element[0]->type == REDIS_REPLY_ARRAY &&
      last.r->element[0]->elements >= 1) {
    const redisReply* id = last.r->element[0]->element[0];
    last_id_.assign(id->str, id->len);
  }
  Reply all;
  if (auto r = Command(ctx_, {"HGETALL", absl::StrCat(c.prefix, ":bl:state")}, &all); !r.ok()) return r.status();
  std::string lines;
  for (size_t i = 1; i < all.r->elements; i += 2) {
    lines.append(all.r->element[i]->str, all.r->element[i]->len);
    lines += '\n';
  }
  if (!lines.empty()) (void)apply_to_->ApplyLines(lines);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.lines_pulled += all.r->elements / 2;
  return absl::OkStatus();
}

absl::Status StateSync::Round() {
  if (ctx_ == nullptr) {
    if (absl::Status st = Connect(); !st.ok()) {
      Fail(st);
      return st;
    }
  }
  const std::string& prefix = conn_cfg_.prefix;
  const std::string stream = absl::StrCat(prefix, ":bl:stream");
  const std::string state = absl::StrCat(prefix, ":bl:state");
  std::vector<std::string> publish;
  std::vector<Fetch> fetch;
  std::vector<Store> store;
  {
    std::lock_guard<std::mutex> lock(mu_);
    publish.swap(publish_);
    fetch.swap(fetch_);
    store.swap(store_);
    fetch_.reserve(kQueueCap);  // so that QueueFetch/QueueStore never allocate on the request path
    store_.reserve(kQueueCap);
  }
  auto fail = [&](const absl::Status& st) {
    std::lock_guard<std::mutex> lock(mu_);
    // Keep the decisions for the next round (bounded); cache traffic is best effort and dropped.
    publish.insert(publish.end(), publish_.begin(), publish_.end());
    if (publish.size() > kMaxPendingLines) {
      stats_.publish_dropped += publish.size() - kMaxPendingLines;
      publish.resize(kMaxPendingLines);
    }
    publish_.swap(publish);
    return st;
  };

  // 1. Our decisions: the stream for the nodes running now, the hash for those that start later.
  for (const std::string& line : publish) {
    Reply a, b;
    if (auto r = Command(ctx_, {"XADD", stream, "MAXLEN", "~", "10000", "*", "l", line}, &a); !r.ok()) {
      Fail(r.status());
      return fail(r.status());
    }
    std::string field;
    bool remove = false;
    if (StateField(line, &field, &remove)) {
      auto r = remove ? Command(ctx_, {"HDEL", state, field}, &b) : Command(ctx_, {"HSET", state, field, line}, &b);
      if (!r.ok()) {
        Fail(r.status());
        return fail(r.status());
      }
    }
  }
  const size_t published = publish.size();
  publish.clear();

  // 2. Everybody's decisions since the last read (ours included: idempotent).
  Reply xr;
  if (auto r = Command(ctx_, {"XREAD", "COUNT", "1000", "STREAMS", stream, last_id_}, &xr); !r.ok()) {
    Fail(r.status());
    return fail(r.status());
  }
  size_t pulled = 0;
  if (xr.r->type == REDIS_REPLY_ARRAY && xr.r->elements == 1) {
    const redisReply* entries = xr.r->element[0]->element[1];
    std::string lines;
    for (size_t i = 0; i < entries->elements; ++i) {
      const redisReply* e = entries->element[i];
      last_id_.assign(e->element[0]->str, e->element[0]->len);
      const redisReply* kv = e->element[1];
      for (size_t k = 0; k + 1 < kv->elements; k += 2) {
        lines.append(kv->element[k + 1]->str, kv->element[k + 1]->len);
        lines += '\n';
        ++pulled;
      }
    }
    if (!lines.empty()) (void)apply_to_->ApplyLines(lines);
  }

  // 3. L2 writes behind, then reads whose answers fill L1 (pipelined: one round trip for the batch).
  for (const Store& s : store) {
    char val[64];
    std::snprintf(val, sizeof val, "m %d %" PRIu64 " %u", s.v.score, s.v.categories, s.v.rule_id);
    redisAppendCommand(ctx_, "SET %b %s PX %lld", CacheKey(prefix, s.key).data(), CacheKey(prefix, s.key).size(), val,
                       static_cast<long long>(std::max<int64_t>(1, s.ttl_ms)));
  }
  for (const Fetch& f : fetch) {
    std::string k = CacheKey(prefix, f.key);
    redisAppendCommand(ctx_, "GET %b", k.data(), k.size());
  }
  for (size_t i = 0; i < store.size(); ++i) {
    Reply r;
    if (redisGetReply(ctx_, reinterpret_cast<void**>(&r.r)) != REDIS_OK) {
      auto st = absl::UnavailableError(absl::StrCat("redis SET: ", ctx_->errstr));
      Fail(st);
      return fail(st);
    }
  }
  size_t hits = 0;
  const int64_t now = UnixMs();
  for (const Fetch& f : fetch) {
    Reply val;
    if (redisGetReply(ctx_, reinterpret_cast<void**>(&val.r)) != REDIS_OK) {
      auto st = absl::UnavailableError(absl::StrCat("redis GET: ", ctx_->errstr));
      Fail(st);
      return fail(st);
    }
    if (val.r == nullptr || val.r->type != REDIS_REPLY_STRING) continue;
    cache::CachedVerdict v;
    unsigned long long cats = 0;
    unsigned rule = 0;
    int score = 0;
    std::string text(val.r->str, val.r->len);
    if (std::sscanf(text.c_str(), "m %d %llu %u", &score, &cats, &rule) != 3) continue;
    v.kind = cache::VerdictKind::kMalicious;
    v.score = score;
    v.categories = cats;
    v.rule_id = rule;
    ++hits;
    // Insert under mu_: Unregister (engine teardown) cannot free the cache meanwhile. The L1 copy gets L1's
    // own malicious TTL (at most one TTL past the Redis key's expiry).
    std::lock_guard<std::mutex> lock(mu_);
    if (live_.count(f.l1)) (void)f.l1->Insert(f.key, v, /*signatures_flagged=*/true, now);
  }

  std::lock_guard<std::mutex> lock(mu_);
  stats_.state = SyncState::kHealthy;
  ++stats_.rounds_ok;
  stats_.last_ok_unix_ms = now;
  stats_.lines_published += published;
  stats_.lines_pulled += pulled;
  stats_.l2_stores += store.size();
  stats_.l2_fetches += fetch.size();
  stats_.l2_hits += hits;
  stats_.last_error.clear();
  return absl::OkStatus();
}

}  // namespace guard::cluster
