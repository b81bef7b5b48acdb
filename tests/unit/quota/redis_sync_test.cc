// RedisSync against a real redis-server started here on a free 127.0.0.1 port (stopped by pid). Skipped, with
// a message, only when redis-server is not installed. These tests use the real monotonic clock, because the
// sync thread raises local buckets relative to it; the limits (10/minute) leave seconds of slack.
#include "quota/redis_sync.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "../redis_child.h"
#include "quota/engine.h"

namespace q = guard::quota;

namespace {

// redis-server (redis_child.h) plus what these tests read back from it.
class RedisServer : public RedisChild {
 public:
  using RedisChild::RedisChild;

  // A bucket's TAT (µs of Redis' TIME; -1 if missing) and how far it is owed beyond Redis' now, in ms.
  std::pair<long long, long long> Get(const std::pair<std::string, std::string>& bucket) const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{1, 0});
    long long v = -1, owed_ms = -1;
    if (c != nullptr && !c->err) {
      const auto& [key, field] = bucket;
      auto* r = static_cast<redisReply*>(redisCommand(c, "HGET %b %b", key.data(), key.size(), field.data(), field.size()));
      if (r != nullptr && r->type == REDIS_REPLY_STRING) v = std::atoll(r->str);
      if (r != nullptr) freeReplyObject(r);
      r = static_cast<redisReply*>(redisCommand(c, "TIME"));
      if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && v >= 0) {
        const long long now = std::atoll(r->element[0]->str) * 1000000 + std::atoll(r->element[1]->str);
        owed_ms = (v - now) / 1000;
      }
      if (r != nullptr) freeReplyObject(r);
    }
    if (c != nullptr) redisFree(c);
    return {v, owed_ms};
  }

  // Calls of each command since the server started (INFO commandstats; commands run inside scripts included).
  long long Calls() const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{1, 0});
    long long total = 0;
    if (c != nullptr && !c->err) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "INFO commandstats"));
      if (r != nullptr && r->type == REDIS_REPLY_STRING) {
        const std::string s(r->str, r->len);
        for (size_t p = 0; (p = s.find("cmdstat_", p)) != std::string::npos;) {
          const size_t colon = s.find(':', p);
          const std::string name = s.substr(p + 8, colon - p - 8);
          if (name != "info") total += std::atoll(s.c_str() + s.find("calls=", colon) + 6);
          p = colon;
        }
      }
      if (r != nullptr) freeReplyObject(r);
    }
    if (c != nullptr) redisFree(c);
    return total;
  }

  // Calls of one command (e.g. "evalsha").
  long long Calls(const std::string& command) const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{1, 0});
    long long n = 0;
    if (c != nullptr && !c->err) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "INFO commandstats"));
      if (r != nullptr && r->type == REDIS_REPLY_STRING) {
        const std::string s(r->str, r->len);
        const size_t p = s.find("cmdstat_" + command + ":");
        if (p != std::string::npos) n = std::atoll(s.c_str() + s.find("calls=", p) + 6);
      }
      if (r != nullptr) freeReplyObject(r);
    }
    if (c != nullptr) redisFree(c);
    return n;
  }
};

// One Kong node: its own shared table and an engine whose sync is driven by the test.
struct Node {
  Node(const std::string& json, const std::string& node_id, bool background = false)
      : bytes(q::BucketTable::BytesFor(1024)), mem(std::aligned_alloc(64, bytes)) {
    auto t = q::BucketTable::Format(mem, bytes, q::MonotonicNowNs() - q::kNsPerSecond);
    REQUIRE(t.ok());
    table = *t;
    auto cfg = q::ParseQuotaConfig(json);
    INFO(cfg.status().ToString());
    REQUIRE(cfg.ok());
    q::EngineOptions o;
    o.node_id = node_id;
    o.sync_background = background;
    auto e = q::QuotaEngine::Create(std::move(*cfg), &table, "plugin-1", o);
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  ~Node() {
    engine.reset();
    std::free(mem);
  }
  q::Decision Check(const char* consumer) {
    q::RequestKeys r;
    r.consumer = consumer;
    r.ip = "192.0.2.1";
    q::Decision d;
    engine->Check(r, 1, q::MonotonicNowNs(), &d);
    return d;
  }
  int Admit(const char* consumer, int attempts) {
    int n = 0;
    for (int i = 0; i < attempts; ++i) n += Check(consumer).admitted;
    return n;
  }
  absl::Status Sync() { return engine->sync()->SyncOnce(); }
  size_t bytes;
  void* mem;
  q::BucketTable table;
  std::unique_ptr<q::QuotaEngine> engine;
};

std::string Config(int port, const char* on_failure = "local_fallback", int expected = 1, int interval = 100) {
  return std::string(R"({"limits":[{"name":"per-consumer","key":["consumer"],"windows":[{"per":"minute","limit":10}]}],)") +
         R"("sync":{"redis":{"host":"127.0.0.1","port":)" + std::to_string(port) + R"(,"timeout_ms":200},)" +
         R"("interval_ms":)" + std::to_string(interval) + R"(,"on_failure":")" + on_failure +
         R"(","expected_nodes":)" + std::to_string(expected) + "}}";
}

// The bucket hash of the minute window and the key's field in it.
std::pair<std::string, std::string> RedisKey(const Node& n, const char* consumer) {
  q::RequestKeys r;
  r.consumer = consumer;
  auto k = q::ResolveKey(n.engine->config().limits[0], "plugin-1", r);
  char hex[32];
  q::ToHex(k.key, hex);
  return {"guard:quota:{plugin-1}:minute", std::string(hex, 32)};
}

#define REQUIRE_REDIS()                                                               \
  if (!RedisInstalled()) {                                                            \
    WARN("redis-server is not installed: skipping the Redis sync test");              \
    return;                                                                           \
  }

}  // namespace

TEST_CASE("two nodes share a limit through Redis and overshoot is charged back", "[redis]") {
  REQUIRE_REDIS();
  RedisServer redis(FreePort());
  REQUIRE(redis.Start());
  Node a(Config(redis.port()), "node-a"), b(Config(redis.port()), "node-b");
  REQUIRE(a.Sync().ok());
  REQUIRE(b.Sync().ok());
  REQUIRE(a.Sync().ok());
  CHECK(a.engine->sync()->healthy());
  CHECK(a.engine->sync()->Status().active_nodes == 2);
  CHECK(a.engine->sync()->Status().state == q::SyncState::kHealthy);

  // A spends the whole minute (10) locally; B has not heard of this consumer yet and spends it too: the
  // overshoot bound for 2 nodes is one burst.
  CHECK(a.Admit("alice", 15) == 10);
  CHECK(b.Admit("alice", 15) == 10);
  REQUIRE(a.Sync().ok());
  auto [tat, owed] = redis.Get(RedisKey(a, "alice"));
  CHECK(tat > 0);
  CHECK(owed > 58'000);  // 10 tokens of 6 s owed: ~60 s
  CHECK(owed <= 60'000);
  REQUIRE(b.Sync().ok());
  CHECK(redis.Get(RedisKey(a, "alice")).second > 118'000);  // both nodes' 20 counted: 120 s owed

  // B learned the cluster's debt: not one token for 66 s (120 s owed, the burst is 60 s, one token is 6 s).
  auto d = b.Check("alice");
  CHECK_FALSE(d.admitted);
  CHECK(d.retry_after_s >= 65);
  CHECK(d.retry_after_s <= 66);
  // A only refuses on its own count until it reports again: its local debt is 60 s, so 6 s until one token.
  d = a.Check("alice");
  CHECK_FALSE(d.admitted);
  CHECK(d.retry_after_s <= 6);
  CHECK(b.engine->sync()->Status().keys_synced == 1);
  // Another consumer is untouched.
  CHECK(b.Admit("bob", 3) == 3);
}

TEST_CASE("Redis down: local_fallback divides the limit, fail_closed refuses, recovery without restart",
          "[redis]") {
  REQUIRE_REDIS();
  RedisServer redis(FreePort());
  REQUIRE(redis.Start());
  Node a(Config(redis.port(), "local_fallback"), "node-a"), b(Config(redis.port(), "local_fallback"), "node-b");
  Node c(Config(redis.port(), "fail_closed"), "node-c");
  REQUIRE(a.Sync().ok());
  REQUIRE(b.Sync().ok());
  REQUIRE(c.Sync().ok());
  REQUIRE(a.Sync().ok());
  CHECK(a.engine->sync()->fallback_nodes() == 3);
  CHECK(c.Admit("carol", 1) == 1);

  redis.Stop();
  CHECK_FALSE(a.Sync().ok());
  CHECK_FALSE(c.Sync().ok());
  auto st = a.engine->sync()->Status();
  CHECK(st.state == q::SyncState::kUnhealthy);
  CHECK(st.rounds_failed == 1);
  CHECK_FALSE(st.last_error.empty());
  // local_fallback with 3 live nodes last seen: each request costs 3 local tokens, 10 / 3 -> 3 pass.
  auto d = a.Check("dave");
  CHECK(d.admitted);
  CHECK(d.degraded);
  CHECK(d.remaining == 7);
  CHECK(a.Admit("dave", 10) == 2);
  // fail_closed refuses everything subject to a limit.
  d = c.Check("carol");
  CHECK_FALSE(d.admitted);
  CHECK(d.degraded);
  CHECK(d.retry_after_s == 1);

  // Redis comes back on the same port: the next round reconnects, reloads the scripts and delivers the counts
  // kept during the outage (dave's 3).
  RedisServer again(redis.port());
  REQUIRE(again.Start());
  REQUIRE(a.Sync().ok());
  CHECK(a.engine->sync()->healthy());
  CHECK(a.engine->sync()->Status().state == q::SyncState::kHealthy);
  auto [tat, owed] = again.Get(RedisKey(a, "dave"));
  CHECK(tat > 0);
  CHECK(owed > 16'000);  // 3 tokens of 6 s
  CHECK(owed <= 18'000);
  REQUIRE(c.Sync().ok());
  CHECK(c.Check("carol").admitted);
}

TEST_CASE("the sync thread starts lazily, syncs in the background and stops with the engine", "[redis]") {
  REQUIRE_REDIS();
  RedisServer redis(FreePort());
  REQUIRE(redis.Start());
  auto node = std::make_unique<Node>(Config(redis.port(), "local_fallback", 1, 20), "node-bg", true);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(node->engine->sync()->Status().state == q::SyncState::kIdle);  // no request yet: no thread, no round
  CHECK_FALSE(node->engine->sync()->SyncOnce().ok());                  // and not callable with a thread
  CHECK(node->Admit("erin", 4) == 4);
  bool synced = false;
  for (int i = 0; i < 200 && !synced; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    synced = redis.Get(RedisKey(*node, "erin")).first > 0;
  }
  CHECK(synced);
  CHECK(node->engine->sync()->healthy());
  CHECK(node->engine->sync()->Status().rounds_ok >= 1);
  // The sync thread (named guard-qsync) blocks the signals nginx relies on: it
  // must never take SIGHUP, SIGTERM, SIGCHLD, ...
  int found = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm != "guard-qsync") continue;
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) != 0) continue;
      const unsigned long long blocked = std::stoull(line.substr(7), nullptr, 16);
      for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGWINCH, SIGIO}) {
        INFO("signal " << sig);
        CHECK((blocked >> (sig - 1)) & 1);
      }
      ++found;
    }
  }
  CHECK(found == 1);
  node.reset();  // joins the thread
}

TEST_CASE("one sync round costs the same number of Redis commands whatever the number of keys", "[redis]") {
  REQUIRE_REDIS();
  RedisServer redis(FreePort());
  REQUIRE(redis.Start());
  Node a(Config(redis.port()), "node-a");
  // Connect, load the script, housekeeping and the first sweep of the minute hash happen here.
  CHECK(a.Admit("warm", 1) == 1);
  REQUIRE(a.Sync().ok());
  REQUIRE(a.Sync().ok());

  // Commands per round (INFO commandstats before/after, on this test's own server; commands run inside the
  // script count under their own names). The minimum of three rounds drops a round that happened to carry the
  // once-a-second housekeeping or sweep.
  auto round = [&](int keys, int r, long long* evalsha) {
    for (int i = 0; i < keys; ++i) {
      std::string consumer(keys == 1 ? "one-" : "c");
      consumer += std::to_string(keys == 1 ? r : i);
      REQUIRE(a.Admit(consumer.c_str(), 1) == 1);
    }
    const long long e0 = redis.Calls("evalsha"), t0 = redis.Calls();
    REQUIRE(a.Sync().ok());
    *evalsha = redis.Calls("evalsha") - e0;
    return redis.Calls() - t0;
  };
  long long one = 1 << 30, many = 1 << 30;
  for (int r = 0; r < 3; ++r) {
    long long e1 = 0, e300 = 0;
    one = std::min(one, round(1, r, &e1));
    many = std::min(many, round(300, r, &e300));
    CHECK(e1 == 1);  // one script call per round, not one per key
    CHECK(e300 == 1);
  }
  INFO("commands per round: 1 key " << one << ", 300 keys " << many);
  CHECK(many == one);
  CHECK(one <= 6);  // EVALSHA + TIME, ZADD, ZCOUNT, HMGET, HSET
  CHECK(a.engine->sync()->Status().keys_synced >= 3 * 301);
  auto [tat, owed] = redis.Get(RedisKey(a, "c299"));
  CHECK(tat > 0);
  CHECK(owed > 16'000);  // 3 tokens of 6 s
  CHECK(owed <= 18'000);
}

TEST_CASE("full buckets are swept from the bucket hash and the hashes expire", "[redis]") {
  REQUIRE_REDIS();
  RedisServer redis(FreePort());
  REQUIRE(redis.Start());
  const std::string json = std::string(R"({"limits":[{"name":"per-consumer","key":["consumer"],)") +
                           R"("windows":[{"per":"second","limit":10}]}],)" +
                           R"("sync":{"redis":{"host":"127.0.0.1","port":)" + std::to_string(redis.port()) +
                           R"(,"timeout_ms":200},"interval_ms":100}})";
  Node a(json, "node-a");
  CHECK(a.Admit("gone", 2) == 2);
  REQUIRE(a.Sync().ok());
  q::RequestKeys rk;
  rk.consumer = "gone";
  char hex[32];
  q::ToHex(q::ResolveKey(a.engine->config().limits[0], "plugin-1", rk).key, hex);
  const std::pair<std::string, std::string> gone{"guard:quota:{plugin-1}:second", std::string(hex, 32)};
  CHECK(redis.Get(gone).first > 0);
  // 2 tokens of 100 ms: full again after 0.2 s; the next sweep of the hash (at most once a second) drops it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(a.Admit("stays", 1) == 1);
  REQUIRE(a.Sync().ok());
  CHECK(redis.Get(gone).first == -1);
  redisContext* c = redisConnectWithTimeout("127.0.0.1", redis.port(), timeval{1, 0});
  REQUIRE(c != nullptr);
  for (const char* key : {"guard:quota:{plugin-1}:second", "guard:quota:{plugin-1}:nodes"}) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "PTTL %s", key));
    REQUIRE(r != nullptr);
    INFO(key);
    CHECK(r->integer > 0);  // every key the sync writes carries a TTL
    freeReplyObject(r);
  }
  auto* r = static_cast<redisReply*>(redisCommand(c, "HLEN guard:quota:{plugin-1}:second"));
  REQUIRE(r != nullptr);
  CHECK(r->integer == 1 + 4);  // "stays" and the bookkeeping fields _exp, _sweep, _cur, _new
  freeReplyObject(r);
  redisFree(c);
}
