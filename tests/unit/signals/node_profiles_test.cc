// Node-wide behaviour state: profiles and the blocklist journal in the region guard_node_init_behaviour maps
// before fork. A client whose requests are spread over two worker processes fills one bucket, and a ban
// decided in one process is enforced by the other.
#include <catch2/catch.hpp>

#include <string>

#include "../quota/fork_children.h"
#include "engine/behaviour_node.h"
#include "engine/engine.h"
#include "engine/signals.h"

namespace {

guard_str S(std::string_view s) { return {s.data(), s.size()}; }

// One region per process (idempotent), as in nginx: every test case of this binary asks for the same size.
constexpr size_t kRegion = 8u << 20;

constexpr const char* kProbing = R"({"behaviour":{"enabled":true,"scenarios":[
    {"name":"probing","capacity":10,"leak_per_sec":0,"feeds":{"status_404":1},"decision":"ban","ttl_s":600}]}})";

// Sends `n` 404 answers for one client; returns how many of them issued a decision in this process.
uint64_t Probe(const guard::engine::Engine& e, int n) {
  uint64_t decided = 0;
  guard_response_info r{};
  r.method = S("GET");
  r.path = S("/wp-admin");
  r.client_ip = S("192.0.2.33");
  r.route_id = S("r");
  r.status = 404;
  for (int i = 0; i < n; ++i) {
    guard_decision_info d;
    REQUIRE(e.Observe(r, &d).ok());
    if (d.is_new) ++decided;
  }
  return decided;
}

}  // namespace

TEST_CASE("two forked workers share one profile: the client is decided within the bucket capacity") {
  REQUIRE(guard::engine::InitBehaviourNode(kRegion).ok());  // the nginx master, before fork
  auto e = guard::engine::Engine::Create(kProbing, {"inst", "node"});
  REQUIRE(e.ok());
  REQUIRE((*e)->signals()->node_profiles);
  // 2 x 6 = 12 404s against a capacity of 10: exactly one overflow (the 11th), in whichever child poured it.
  const uint64_t decisions = guard::quota::testing::SumInChildren(2, [&](int) { return Probe(**e, 6); });
  CHECK(decisions == 1);
  // The ban went through the node journal: this process (another "worker") enforces it too.
  guard_header host{S("host"), S("a")};
  guard_request r{};
  r.method = S("GET");
  r.path = S("/");
  r.client_ip = S("192.0.2.33");
  r.headers = &host;
  r.header_count = 1;
  guard_verdict v;
  REQUIRE((*e)->Inspect(r, &v).ok());
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK((v.flags & GUARD_VERDICT_BANNED) != 0);
  CHECK(guard::engine::BehaviourNodeStats().journal_seq >= 1);
}

TEST_CASE("the node profile table stays within its budget under 1M distinct clients") {
  REQUIRE(guard::engine::InitBehaviourNode(kRegion).ok());
  auto e = guard::engine::Engine::Create(kProbing, {"inst", "node"});
  REQUIRE(e.ok());
  const auto& table = (*e)->signals()->behaviour->table();
  guard_response_info r{};
  r.method = S("GET");
  r.path = S("/x");
  r.status = 200;
  char ip[32];
  for (uint32_t i = 0; i < 1'000'000; ++i) {
    int n = std::snprintf(ip, sizeof ip, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    r.client_ip = {ip, static_cast<size_t>(n)};
    REQUIRE((*e)->Observe(r, nullptr).ok());
  }
  CHECK(table.MemoryBytes() <= kRegion);
  CHECK(table.size() == table.capacity());
  CHECK(table.stats().evicted >= 1'000'000 - table.capacity());
}
