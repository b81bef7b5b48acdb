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

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "latency";
  if (mode == "latency") return Latency(argc > 2 ? std::atoi(argv[2]) : 201);
  if (mode == "redis" && argc >= 4) {
    return RedisRun(argv[2], std::atoi(argv[3]), argc > 4 ? std::atoi(argv[4]) : 2,
                    argc > 5 ? std::atof(argv[5]) : 10.0, argc > 6 ? std::atoi(argv[6]) : 2000,
                    argc > 7 ? std::atoi(argv[7]) : 50);
  }
  std::fprintf(stderr, "usage: bench_quota latency [rounds] | redis <host> <port> [procs] [seconds] [rps] [keys]\n");
  return 2;
}
