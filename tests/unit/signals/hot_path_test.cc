// The request path with the signal stages allocates nothing in steady state: blocklist lookups, the
// request-shape fingerprint, verdict-cache lookups and inserts, profile updates of known and new clients, and
// response feeding. Counted by replacing global operator new in this test binary (own binary for that reason).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "engine/engine.h"

#include "../allocation_counter.h"

namespace {
guard_str S(const std::string& s) { return {s.data(), s.size()}; }
}  // namespace

TEST_CASE("steady-state inspect and observe with cache, behaviour and blocklist allocate nothing") {
  auto e = guard::engine::Engine::Create(
      R"({"behaviour":{"enabled":true},"blocklist":{"deny":["203.0.113.0/24"],"allow":["198.51.100.1"]}})",
      {"inst", "node"});
  REQUIRE(e.ok());
  const std::vector<std::string> queries = {"q=shoes&page=2", "id=' OR 1=1 --", "q=<script>alert(1)</script>",
                                            "name=john%40example.com"};
  std::vector<std::string> ips;
  for (int i = 0; i < 400; ++i) ips.push_back("10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200));
  ips.push_back("203.0.113.5");  // banned by config
  ips.push_back("198.51.100.1");  // allowlisted
  const std::vector<std::pair<std::string, std::string>> hdrs = {
      {"host", "a.example"}, {"user-agent", "Mozilla/5.0 (X11; Linux) Firefox/126.0"}, {"accept", "text/html"},
      {"accept-language", "en"}};
  std::vector<guard_header> hv;
  for (auto& [n, v] : hdrs) hv.push_back({S(n), S(v)});
  const std::string method = "GET", route = "r1";
  std::vector<std::string> paths;
  for (int i = 0; i < 50; ++i) paths.push_back("/items/" + std::to_string(i * 37));

  auto round = [&](size_t first_ip, size_t n_ips) {
    guard_verdict v;
    for (size_t i = first_ip; i < first_ip + n_ips; ++i) {
      const std::string& ip = ips[i % ips.size()];
      const std::string& q = queries[i % queries.size()];
      const std::string& path = paths[i % paths.size()];
      guard_request r{};
      r.method = S(method);
      r.path = S(path);
      r.query = S(q);
      r.client_ip = S(ip);
      r.route_id = S(route);
      r.headers = hv.data();
      r.header_count = hv.size();
      REQUIRE((*e)->Inspect(r, &v).ok());
      guard_response_info resp{};
      resp.method = r.method;
      resp.path = r.path;
      resp.client_ip = r.client_ip;
      resp.route_id = r.route_id;
      resp.status = i % 7 == 0 ? 404 : 200;
      REQUIRE((*e)->Observe(resp, nullptr).ok());
    }
  };
  round(0, 200);  // warm-up: per-thread buffers grow, the known shapes are cached, 200 clients profiled
  round(0, 200);
  if (!GUARD_COUNT_ALLOCATIONS) return;
  long probe = g_allocations.load();
  static void* volatile sink;
  sink = ::operator new(8);
  ::operator delete(sink);
  REQUIRE(g_allocations.load() == probe + 1);  // the counter is live
  const long before = g_allocations.load();
  round(0, 2000);  // known clients, new clients (200..401), the banned and the allowlisted, cache hits
  CHECK(g_allocations.load() - before == 0);
}
