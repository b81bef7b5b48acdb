// StateSync: the background link between one process and the Redis of the `redis` section.
//
// Two jobs, both off the request path:
//   - Blocklist: lines decided here (behaviour bans, admin API) are appended to a Redis stream
//     (<prefix>:bl:stream, XADD with an approximate MAXLEN) and to a hash of the live entries
//     (<prefix>:bl:state, subject -> line, for nodes that start later); every process reads the stream
//     every 200 ms (XREAD without BLOCK) and applies what it has not seen. A ban on one node is thus in
//     force on every node within ~0.5 s. On (re)connect the hash is loaded first, then the stream from its
//     end, so nothing decided meanwhile is missed for long.
//   - L2 verdict cache: malicious verdicts inserted into L1 are written behind (SET PX <ttl>); an L1 miss
//     of a flagged request queues a GET whose answer fills L1 for the requests that follow. The request
//     never waits: the queues are fixed-size, taken with try_lock, and dropped when busy or full.
//
// One StateSync per Redis endpoint and process, started lazily by the first request that needs it (never
// in the nginx master, never at library load), restarted in a forked child, with every signal blocked in
// its thread (quota/redis_sync.cc does the same). Redis down: the node works on local state, the status
// says unhealthy, the thread reconnects with backoff (up to 5 s) and keeps what it could not send (bounded).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "blocklist/blocklist.h"
#include "cache/verdict_cache.h"
#include "config/config.h"

struct redisContext;

namespace guard::cluster {

enum class SyncState : uint8_t { kIdle, kHealthy, kUnhealthy };

struct SyncStats {
  SyncState state = SyncState::kIdle;
  uint64_t rounds_ok = 0, rounds_failed = 0;
  uint64_t lines_published = 0, lines_pulled = 0, publish_dropped = 0;
  uint64_t l2_fetches = 0, l2_hits = 0, l2_stores = 0, l2_dropped = 0;
  int64_t last_ok_unix_ms = 0;
  std::string last_error;
};

class StateSync {
 public:
  // The process's sync for this endpoint (host, port, database, prefix), made on first use and kept for the
  // process's life. Pulled lines are applied to `apply_to`.
  static StateSync* For(const config::RedisConnection& c, blocklist::Blocklist* apply_to);
  // Hands locally decided lines to every StateSync of the process (engine/behaviour_node's publisher).
  static void PublishToAll(std::string_view lines);

  // Starts the thread in this process if it is not running (one atomic load when it is).
  void EnsureStarted();

  void Publish(std::string_view lines);
  // Counted: engines share caches. After the last Unregister of l1 the thread never touches it again.
  void Register(cache::VerdictCache* l1);
  void Unregister(cache::VerdictCache* l1);
  // Hot path: never blocks (try_lock), false when dropped.
  bool QueueFetch(cache::VerdictCache* l1, const cache::VerdictKey& key);
  bool QueueStore(const cache::VerdictKey& key, const cache::CachedVerdict& v, int64_t ttl_ms);

  SyncStats Stats() const;
  // One round on the calling thread (tests without the background thread).
  absl::Status RoundOnce();

  static std::string CacheKey(std::string_view prefix, const cache::VerdictKey& key);
  static constexpr size_t kQueueCap = 1024;

 private:
  StateSync(config::RedisConnection c, blocklist::Blocklist* apply_to) : conn_cfg_(std::move(c)), apply_to_(apply_to) {}
  void Run();
  absl::Status Round();
  absl::Status Connect();
  void Disconnect();
  void Fail(const absl::Status& st);

  struct Fetch {
    cache::VerdictCache* l1;
    cache::VerdictKey key;
  };
  struct Store {
    cache::VerdictKey key;
    cache::CachedVerdict v;
    int64_t ttl_ms;
  };

  const config::RedisConnection conn_cfg_;
  blocklist::Blocklist* const apply_to_;

  std::mutex mu_;  // queues, live caches, status; held briefly by the thread, try_lock on the hot path
  std::vector<std::string> publish_;
  std::vector<Fetch> fetch_;
  std::vector<Store> store_;
  std::unordered_map<cache::VerdictCache*, int> live_;  // registrations per cache
  SyncStats stats_;

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool wake_flag_ = false;

  std::mutex start_mu_;
  std::atomic<uint64_t> started_gen_{UINT64_MAX};
  std::unique_ptr<std::thread> thread_;

  // Thread-only state.
  redisContext* ctx_ = nullptr;
  std::string last_id_;
};

}  // namespace guard::cluster
