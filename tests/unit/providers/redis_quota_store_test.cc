// RedisQuotaStore against a real redis-server on a free 127.0.0.1 port (stopped by pid): two stores stand for
// two nodes. Skipped, with a message, only when redis-server is not installed.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "providers/redis_quota_store.h"

using namespace guard::providers;

namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class Redis {
 public:
  Redis() : port_(FreePort()) {
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      const std::string port = std::to_string(port_);
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", "/tmp", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !Ping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~Redis() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool Ping() const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{0, 200000});
    bool ok = false;
    if (c && !c->err) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = r && r->type == REDIS_REPLY_STATUS;
      if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
  }
  RedisQuotaOptions Options() const {
    RedisQuotaOptions o;
    o.host = "127.0.0.1";
    o.port = static_cast<uint16_t>(port_);
    o.prefix = "t";
    o.timeout_ms = 500;
    return o;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

bool RedisInstalled() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

#define REQUIRE_REDIS()                                                           \
  if (!RedisInstalled()) {                                                        \
    WARN("redis-server is not installed: skipping the RedisQuotaStore test");     \
    return;                                                                       \
  }

// Mid-minute, so that a test's reservations never straddle a window boundary.
absl::Time MidMinute() {
  const int64_t s = absl::ToUnixSeconds(absl::Now());
  return absl::FromUnixSeconds(s - s % 60 + 30);
}

}  // namespace

TEST_CASE("two nodes share the per-minute requests, tokens and the daily budget", "[redis]") {
  REQUIRE_REDIS();
  Redis redis;
  REQUIRE(redis.Ping());
  RedisQuotaStore a(redis.Options()), b(redis.Options());
  const absl::Time now = MidMinute();
  QuotaLimits limits;
  limits.rpm = 3;
  Usage est{1, 100, 0.01};
  for (int i = 0; i < 3; ++i) {
    auto r = (i % 2 ? b : a).Reserve("p", limits, 0, est, now);
    REQUIRE(r.ok());
    CHECK(r->shared);
  }
  auto refused = b.Reserve("p", limits, 0, est, now);
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.status().message()).rfind("rpm:", 0) == 0);
  CHECK(b.Snapshot("p", limits, 0, now).headroom == 0);  // from b's last reply: all 3 used
  CHECK(a.Health().healthy);

  // Tokens: reconciled down to what the call used, so the room comes back on every node.
  QuotaLimits tpm;
  tpm.tpm = 250;
  auto r1 = a.Reserve("q", tpm, 0, est, now);
  auto r2 = b.Reserve("q", tpm, 0, est, now);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK_FALSE(b.Reserve("q", tpm, 0, est, now).ok());  // 300 > 250
  a.Reconcile(*r1, Usage{1, 20, 0.001});
  CHECK(b.Reserve("q", tpm, 0, est, now).ok());  // 20 + 100 + 100 = 220 <= 250

  // The global budget spans providers and nodes (own prefix: the calls above spent from the "t" budget).
  RedisQuotaOptions fresh = redis.Options();
  fresh.prefix = "budget";
  RedisQuotaStore c(fresh), d(fresh);
  auto g1 = c.Reserve("x", QuotaLimits{}, 0.025, est, now);
  auto g2 = d.Reserve("y", QuotaLimits{}, 0.025, est, now);
  REQUIRE(g1.ok());
  REQUIRE(g2.ok());
  auto spent = c.Reserve("z", QuotaLimits{}, 0.025, est, now);
  REQUIRE_FALSE(spent.ok());
  CHECK(std::string(spent.status().message()).rfind("budget_usd_per_day", 0) == 0);
}

TEST_CASE("provider headers and an open breaker seen by one node hold the provider on the other", "[redis]") {
  REQUIRE_REDIS();
  Redis redis;
  REQUIRE(redis.Ping());
  RedisQuotaStore a(redis.Options()), b(redis.Options());
  const absl::Time now = absl::Now();
  Usage est{1, 10, 0};

  RateLimitInfo none_left;
  none_left.remaining_requests = 0;
  none_left.requests_reset_at = now + absl::Seconds(30);
  a.Observe("h", none_left, now);
  auto r = b.Reserve("h", QuotaLimits{}, 0, est, now);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).rfind("provider_backoff", 0) == 0);
  CHECK(b.Reserve("h", QuotaLimits{}, 0, est, now + absl::Seconds(31)).ok());  // past the reset

  a.OnBreakerOpen("o", absl::Now() + absl::Seconds(30));
  auto o = b.Reserve("o", QuotaLimits{}, 0, est, absl::Now());
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.status().message()).rfind("breaker_open", 0) == 0);
  CHECK(b.Snapshot("o", QuotaLimits{}, 0, absl::Now()).headroom == 0);
}

TEST_CASE("without Redis the store runs on node-local state and reports why", "[redis]") {
  REQUIRE_REDIS();
  Redis redis;
  REQUIRE(redis.Ping());
  RedisQuotaOptions o = redis.Options();
  redis.Stop();
  RedisQuotaStore s(o);
  QuotaLimits limits;
  limits.rpm = 1;
  const absl::Time now = MidMinute();
  auto r = s.Reserve("p", limits, 0, Usage{1, 10, 0}, now);
  REQUIRE(r.ok());
  CHECK_FALSE(r->shared);
  CHECK_FALSE(s.Reserve("p", limits, 0, Usage{1, 10, 0}, now).ok());  // the local limit still holds
  const RedisQuotaHealth h = s.Health();
  CHECK_FALSE(h.healthy);
  CHECK(h.ops_failed >= 1);
  CHECK(h.last_error.find("redis connect 127.0.0.1") != std::string::npos);
}
