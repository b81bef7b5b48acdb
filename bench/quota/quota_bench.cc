// Quota benchmark (docs/benchmarks.md, "Quotas"), through the C ABI as the plugin uses it.
//
//   bench_quota latency [rounds]
//       Median ns of guard_inspect on one benign 1 KB-class request, side by side in one run: an engine without
//       quota, the same engine with a quota whose bucket always admits (a local hit: per-IP + global limits, three
//       windows), and the difference. Rounds of 2000 calls alternate between the engines; medians of the rounds.
//
//   bench_quota redis <host> <port> [processes=2] [seconds=10] [rps=2000] [keys=50]
//       Redis commands per admitted request at steady state: `processes` forked processes, each a separate node
//       (own node id, own process-local table) with sync every 100 ms, each offering `rps` requests per second
//       spread over `keys` client IPs under a limit that always admits. The first 2 s are warm-up; the
//       commands counted are the delta of INFO commandstats over the remaining time, divided by the admitted
//       requests of that time.
//
//   bench_quota sidebyside <host> <port> [seconds=5] [max_procs=4]
//       The admission decision of two designs against the same redis-server, in one run, with 1, 2, 4 … up to
//       `max_procs` concurrent processes (each a closed loop: one request after the other, no pacing):
//         (a) per-request Redis round trip, as Kong's rate-limiting plugin with `policy: redis`: every request
//             runs one EVALSHA (INCR + PEXPIRE on a per-key fixed 1 s window) via hiredis and waits for the reply;
//         (b) ours: guard_inspect with the same per-IP 1 s limit, sync every 100 ms to the same Redis; the
//             processes share one node table (guard_node_init before fork, as nginx workers do).
//       (b) is timed through guard_inspect (the quota check has no C entry point of its own) on the smallest
//       request (Host only), so what remains is ~1 µs of inspect + the check: an upper bound on our decision. "(b0)"
//       is the same inspect without quota, to read the quota's share. Reports requests/s (sum over processes),
//       median/p99 of the per-request time, the admitted count (all requests: the limit always admits) and the
//       EVALSHA calls Redis received in the phase (INFO commandstats), in all and per request.
#include <hiredis/hiredis.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "guard.h"

namespace {

using Clock = std::chrono::steady_clock;

guard_str S(const char* s) { return {s, std::strlen(s)}; }

guard_engine* Build(const std::string& cfg, const char* instance, const char* node) {
  guard_engine* e = nullptr;
  char err[256] = "";
  guard_engine_options o{S(instance), S(node)};
  if (guard_engine_new_v2(cfg.data(), cfg.size(), &o, &e, err, sizeof err) != GUARD_OK) {
    std::fprintf(stderr, "engine: %s\n", err);
    std::exit(1);
  }
  return e;
}

struct Request {
  std::vector<guard_header> headers;
  guard_request r{};
  explicit Request(const char* ip) {
    const char* h[][2] = {{"Host", "api.example.com"},
                          {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"},
                          {"Accept", "application/json"},
                          {"Accept-Language", "en-GB,en;q=0.8"},
                          {"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"}};
    for (auto& kv : h) headers.push_back({S(kv[0]), S(kv[1])});
    r.method = S("GET");
    r.path = S("/api/v1/orders/12345/items");
    r.query = S("page=2&per_page=50&sort=-created_at&filter=status%3Dshipped");
    r.headers = headers.data();
    r.header_count = headers.size();
    r.client_ip = S(ip);
    r.route_id = S("route-1");
    r.service_id = S("service-1");
  }
};

double RoundNs(guard_engine* e, const guard_request& r, int calls) {
  guard_verdict v;
  auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) guard_inspect(e, &r, &v, nullptr, 0);
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / calls;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Latency(int rounds) {
  char err[128];
  guard_node_init(16 << 20, err, sizeof err);
  guard_engine* plain = Build("{}", "bench", "node");
  guard_engine* quota = Build(R"({"quota":{"limits":[{"name":"per-ip","key":["ip"],
      "windows":[{"per":"second","limit":1000000000},{"per":"hour","limit":1000000000}]}],
      "global":[{"per":"second","limit":1000000000}]}})", "bench", "node");
  Request req("198.51.100.7");
  guard_verdict v;
  guard_inspect(quota, &req.r, &v, nullptr, 0);
  if (!(v.rate.flags & GUARD_RATE_APPLIED) || v.action != GUARD_ACTION_ALLOW) {
    std::fprintf(stderr, "quota did not apply\n");
    return 1;
  }
  constexpr int kCalls = 2000;
  for (int i = 0; i < 3; ++i) RoundNs(plain, req.r, kCalls), RoundNs(quota, req.r, kCalls);  // warm-up
  std::vector<double> a, b, d;
  for (int i = 0; i < rounds; ++i) {
    const double x = RoundNs(plain, req.r, kCalls), y = RoundNs(quota, req.r, kCalls);
    a.push_back(x);
    b.push_back(y);
    d.push_back(y - x);
  }
  std::printf("inspect without quota     median %8.0f ns\n", Median(a));
  std::printf("inspect with quota        median %8.0f ns  (2 limits, 3 windows, local hit)\n", Median(b));
  std::printf("quota check (difference)  median %8.0f ns  (%d rounds of %d calls each)\n", Median(d), rounds, kCalls);
  guard_engine_free(plain);
  guard_engine_free(quota);
  return 0;
}

// calls per command from INFO commandstats (commands run inside scripts are counted too, under their own names).
std::map<std::string, long long> CommandCalls(redisContext* c) {
  redisReply* r = static_cast<redisReply*>(redisCommand(c, "INFO commandstats"));
  if (!r || r->type != REDIS_REPLY_STRING) {
    std::fprintf(stderr, "INFO failed\n");
    std::exit(1);
  }
  std::map<std::string, long long> out;
  std::string s(r->str, r->len);
  for (size_t p = 0; (p = s.find("cmdstat_", p)) != std::string::npos;) {
    const size_t colon = s.find(':', p);
    const size_t calls = s.find("calls=", colon);
    out[s.substr(p + 8, colon - p - 8)] = std::atoll(s.c_str() + calls + 6);
    p = colon;
  }
  freeReplyObject(r);
  out.erase("info");
  out.erase("config|resetstat");
  out.erase("config");
  return out;
}

int RedisRun(const char* host, int port, int procs, double seconds, int rps, int keys) {
  redisContext* c = redisConnect(host, port);
  if (!c || c->err) {
    std::fprintf(stderr, "cannot connect to %s:%d\n", host, port);
    return 1;
  }
  freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
  const std::string cfg = std::string(R"({"quota":{"limits":[{"name":"per-ip","key":["ip"],
      "windows":[{"per":"second","limit":1000000}]}],"sync":{"redis":{"host":")") + host +
      R"(","port":)" + std::to_string(port) + R"(},"interval_ms":100,"expected_nodes":)" + std::to_string(procs) + "}}}";
  const double warmup = 2.0;
  std::vector<int> fds(procs);
  std::vector<pid_t> pids(procs);
  for (int p = 0; p < procs; ++p) {
    int fd[2];
    if (pipe(fd) != 0) return 1;
    pids[p] = fork();
    if (pids[p] == 0) {
      close(fd[0]);
      const std::string node = "bench-node-" + std::to_string(p);
      guard_engine* e = Build(cfg, "bench", node.c_str());
      std::vector<std::string> ips;
      for (int k = 0; k < keys; ++k) ips.push_back("10.0." + std::to_string(k / 250) + "." + std::to_string(k % 250));
      std::vector<Request> reqs;
      reqs.reserve(keys);
      for (auto& ip : ips) reqs.emplace_back(ip.c_str());
      long long admitted_steady = 0, degraded = 0;
      const auto start = Clock::now();
      guard_verdict v;
      for (long long i = 0;; ++i) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                     static_cast<double>(i) / rps));
        std::this_thread::sleep_until(due);
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        if (t >= seconds) break;
        guard_inspect(e, &reqs[i % keys].r, &v, nullptr, 0);
        if (t >= warmup && v.action == GUARD_ACTION_ALLOW) ++admitted_steady;
        if (v.rate.flags & GUARD_RATE_DEGRADED) ++degraded;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the last round go out
      long long out[2] = {admitted_steady, degraded};
      (void)!write(fd[1], out, sizeof out);
      _exit(0);
    }
    close(fd[1]);
    fds[p] = fd[0];
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  const auto before = CommandCalls(c);
  long long admitted = 0, degraded = 0;
  for (int p = 0; p < procs; ++p) {
    long long in[2] = {0, 0};
    (void)!read(fds[p], in, sizeof in);
    admitted += in[0];
    degraded += in[1];
    waitpid(pids[p], nullptr, 0);
  }
  const auto after = CommandCalls(c);
  long long total = 0, client = 0;
  std::string detail;
  for (const auto& [name, n] : after) {
    const long long d = n - (before.count(name) ? before.at(name) : 0);
    if (d == 0) continue;
    total += d;
    if (name == "evalsha" || name == "eval" || name == "script|load" || name == "auth" || name == "select" ||
        name == "ping" || name == "hello") {
      client += d;
    }
    detail += " " + name + "=" + std::to_string(d);
  }
  std::printf("%d processes x %d req/s over %d keys, %.0f s steady (after %.0f s warm-up), sync every 100 ms\n",
              procs, rps, keys, seconds - warmup, warmup);
  std::printf("admitted (steady) %lld, degraded %lld\n", admitted, degraded);
  std::printf("commands sent by clients %lld = %.4f per admitted request\n", client,
              static_cast<double>(client) / std::max(1LL, admitted));
  std::printf("commands executed incl. inside scripts %lld = %.4f per admitted request\n", total,
              static_cast<double>(total) / std::max(1LL, admitted));
  std::printf("by command:%s\n", detail.c_str());
  redisFree(c);
  return 0;
}

enum class Design { kRedisPerRequest, kLocal, kInspectOnly };

// Atomic fixed-window counter, one round trip: the cheapest shape of a per-request Redis limiter (Kong's redis
// policy sends at least this much per request). Returns the count of the window after this request.
constexpr const char* kFixedWindowLua =
    "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

// One closed-loop worker of the side-by-side run. Returns the per-request times in ns.
std::vector<uint32_t> SideWorker(Design d, const char* host, int port, double seconds, int proc,
                                 long long* admitted) {
  constexpr int kKeys = 1000;  // client IPs, the same set for both designs
  constexpr long long kLimit = 1000000000;  // always admits: we time the decision, not refusals
  std::vector<std::string> ips;
  for (int k = 0; k < kKeys; ++k) ips.push_back("10.1." + std::to_string(k / 250) + "." + std::to_string(k % 250));
  std::vector<uint32_t> ns;
  ns.reserve(1 << 20);
  *admitted = 0;
  if (d == Design::kRedisPerRequest) {
    redisContext* c = redisConnect(host, port);
    redisReply* r =
        c && !c->err ? static_cast<redisReply*>(redisCommand(c, "SCRIPT LOAD %s", kFixedWindowLua)) : nullptr;
    if (!r || r->type != REDIS_REPLY_STRING) {
      std::fprintf(stderr, "(a): cannot load the script on %s:%d\n", host, port);
      std::exit(1);
    }
    const std::string sha(r->str, r->len);
    freeReplyObject(r);
    char key[96];
    const auto start = Clock::now();
    for (long long i = 0;; ++i) {
      const auto t0 = Clock::now();
      if (t0 - start >= std::chrono::duration<double>(seconds)) break;
      // Window index from the client clock, as Kong does (period start in the key).
      const long long window = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
      std::snprintf(key, sizeof key, "sbs:%s:%lld", ips[(i * 7 + proc) % kKeys].c_str(), window);
      // PEXPIRE 2 windows: the key outlives its window, then Redis drops it.
      r = static_cast<redisReply*>(redisCommand(c, "EVALSHA %s 1 %s 2000", sha.c_str(), key));
      if (!r || r->type != REDIS_REPLY_INTEGER) {
        std::fprintf(stderr, "(a): EVALSHA failed\n");
        std::exit(1);
      }
      if (r->integer <= kLimit) ++*admitted;
      freeReplyObject(r);
      ns.push_back(static_cast<uint32_t>(std::chrono::duration<double, std::nano>(Clock::now() - t0).count()));
    }
    redisFree(c);
    return ns;
  }
  const std::string cfg = d == Design::kInspectOnly ? std::string("{}") :
      std::string(R"({"quota":{"limits":[{"name":"per-ip","key":["ip"],"windows":[{"per":"second","limit":)") +
      std::to_string(kLimit) + R"(}]}],"sync":{"redis":{"host":")" + host + R"(","port":)" + std::to_string(port) +
      R"(},"interval_ms":100}}})";
  const std::string node = "sbs-node";  // the processes are workers of one node
  guard_engine* e = Build(cfg, "sbs", node.c_str());
  std::vector<Request> reqs;
  reqs.reserve(kKeys);
  for (auto& ip : ips) {
    reqs.emplace_back(ip.c_str());
    // The smallest request (Host only, no query): with signatures running over a full request, inspect (~10 µs)
    // would hide the check; both designs would pay it alike, so it is left out of the comparison.
    reqs.back().r.header_count = 1;
    reqs.back().r.query = S("");
    reqs.back().r.path = S("/q");
  }
  guard_verdict v;
  // Warm-up: the first check starts the sync thread; let its first round land before timing.
  for (int i = 0; i < kKeys; ++i) guard_inspect(e, &reqs[i].r, &v, nullptr, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = Clock::now();
  for (long long i = 0;; ++i) {
    const auto t0 = Clock::now();
    if (t0 - start >= std::chrono::duration<double>(seconds)) break;
    guard_inspect(e, &reqs[(i * 7 + proc) % kKeys].r, &v, nullptr, 0);
    if (v.action == GUARD_ACTION_ALLOW) ++*admitted;
    ns.push_back(static_cast<uint32_t>(std::chrono::duration<double, std::nano>(Clock::now() - t0).count()));
  }
  if (d == Design::kLocal) {
    guard_quota_status st{};
    char err[128];
    if (guard_engine_quota_status(e, &st, err, sizeof err) == GUARD_OK && st.sync_state != GUARD_SYNC_HEALTHY) {
      std::fprintf(stderr, "warning: sync not healthy at the end of the run\n");
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the last round go out
  guard_engine_free(e);
  return ns;
}

// Runs `procs` forked workers at once; samples come back through a pipe (a child's memory is its own).
void SidePhase(Design d, const char* label, const char* host, int port, double seconds, int procs, redisContext* c) {
  // Script calls Redis received during the phase (both designs use EVALSHA): per request for (a), per round for (b).
  auto evalsha = [c] { const auto m = CommandCalls(c); return m.count("evalsha") ? m.at("evalsha") : 0LL; };
  const long long calls0 = evalsha();
  std::vector<int> fds(procs);
  std::vector<pid_t> pids(procs);
  for (int p = 0; p < procs; ++p) {
    int fd[2];
    if (pipe(fd) != 0) std::exit(1);
    pids[p] = fork();
    if (pids[p] == 0) {
      close(fd[0]);
      long long admitted = 0;
      const std::vector<uint32_t> ns = SideWorker(d, host, port, seconds, p, &admitted);
      const long long n = static_cast<long long>(ns.size());
      (void)!write(fd[1], &n, sizeof n);
      (void)!write(fd[1], &admitted, sizeof admitted);
      const char* src = reinterpret_cast<const char*>(ns.data());
      for (size_t off = 0, len = ns.size() * sizeof(uint32_t); off < len;) {  // a write may be partial: loop
        const ssize_t w = write(fd[1], src + off, len - off);
        if (w <= 0) _exit(1);
        off += static_cast<size_t>(w);
      }
      _exit(0);
    }
    close(fd[1]);
    fds[p] = fd[0];
  }
  std::vector<uint32_t> all;
  long long requests = 0, admitted = 0;
  for (int p = 0; p < procs; ++p) {
    long long n = 0, a = 0;
    (void)!read(fds[p], &n, sizeof n);
    (void)!read(fds[p], &a, sizeof a);
    const size_t base = all.size();
    all.resize(base + n);
    char* dst = reinterpret_cast<char*>(all.data() + base);
    for (size_t got = 0, want = n * sizeof(uint32_t); got < want;) {
      const ssize_t r = read(fds[p], dst + got, want - got);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    close(fds[p]);
    waitpid(pids[p], nullptr, 0);
    requests += n;
    admitted += a;
  }
  const long long calls = evalsha() - calls0;
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(q * all.size()))] / 1e3; };
  std::printf("%-44s %5d %12.0f %10.2f %10.2f %12lld %10lld %12.5f\n", label, procs, requests / seconds, pct(0.5),
              pct(0.99), admitted, calls, static_cast<double>(calls) / std::max(1LL, requests));
  std::fflush(stdout);
}

int SideBySide(const char* host, int port, double seconds, int max_procs) {
  char err[128];
  guard_node_init(16 << 20, err, sizeof err);  // before fork: the (b) processes share it, as nginx workers do
  redisContext* c = redisConnect(host, port);
  if (!c || c->err) {
    std::fprintf(stderr, "cannot connect to %s:%d\n", host, port);
    return 1;
  }
  std::printf("%-44s %5s %12s %10s %10s %12s %10s %12s\n", "design", "procs", "requests/s", "p50 us", "p99 us",
              "admitted", "EVALSHA", "per request");
  SidePhase(Design::kInspectOnly, "(b0) guard_inspect, no quota (reference)", host, port, seconds, 1, c);
  for (int p = 1; p <= max_procs; p *= 2) {
    SidePhase(Design::kRedisPerRequest, "(a) Redis EVALSHA per request (blocking)", host, port, seconds, p, c);
    SidePhase(Design::kLocal, "(b) guard_inspect + quota, sync 100 ms", host, port, seconds, p, c);
  }
  redisFree(c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "latency";
  if (mode == "latency") return Latency(argc > 2 ? std::atoi(argv[2]) : 201);
  if (mode == "redis" && argc >= 4) {
    return RedisRun(argv[2], std::atoi(argv[3]), argc > 4 ? std::atoi(argv[4]) : 2,
                    argc > 5 ? std::atof(argv[5]) : 10.0, argc > 6 ? std::atoi(argv[6]) : 2000,
                    argc > 7 ? std::atoi(argv[7]) : 50);
  }
  if (mode == "sidebyside" && argc >= 4) {
    return SideBySide(argv[2], std::atoi(argv[3]), argc > 4 ? std::atof(argv[4]) : 5.0,
                      argc > 5 ? std::atoi(argv[5]) : 4);
  }
  std::fprintf(stderr, "usage: bench_quota latency [rounds] | redis <host> <port> [procs] [seconds] [rps] [keys]"
                       " | sidebyside <host> <port> [seconds] [max_procs]\n");
  return 2;
}
