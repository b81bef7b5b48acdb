// engine::Engine with a quota section: the quota runs after the signatures, over a process-local table when
// guard_node_init was never called (nothing in this binary calls it).
#include <catch2/catch.hpp>

#include <cstring>

#include "engine/engine.h"
#include "engine/node_table.h"

namespace {
guard_str S(const char* s) { return {s, std::strlen(s)}; }
}  // namespace

TEST_CASE("an engine with quota limits checks them after the signatures, on a process-local table") {
  auto e = guard::engine::Engine::Create(
      R"({"mode":"monitor","quota":{"hide_client_headers":true,"global":[{"per":"second","limit":2}]}})",
      {"inst", "node"});
  REQUIRE(e.ok());
  REQUIRE((*e)->quota() != nullptr);
  CHECK((*e)->config().quota_hide_client_headers);
  CHECK_FALSE(guard::engine::HasNodeTable());

  guard_header host{S("Host"), S("a.example")};
  guard_request r{};
  r.method = S("GET");
  r.path = S("/x");
  r.query = S("q=%3Cscript%3Ealert(1)%3C/script%3E");  // an attack, but the mode is monitor: it is proxied
  r.client_ip = S("192.0.2.1");
  r.headers = &host;
  r.header_count = 1;
  guard_verdict v;
  REQUIRE((*e)->Inspect(r, &v).ok());
  CHECK(v.action == GUARD_ACTION_MONITOR);  // a monitored request pays its token
  CHECK(v.rate.remaining == 1);
  CHECK(std::string(v.rate.limit_name) == "global");
  r.query = S("q=1");
  REQUIRE((*e)->Inspect(r, &v).ok());
  CHECK(v.action == GUARD_ACTION_ALLOW);
  CHECK(v.rate.remaining == 0);
  REQUIRE((*e)->Inspect(r, &v).ok());
  CHECK(v.action == GUARD_ACTION_RATE_LIMITED);
  CHECK(v.rate.retry_after_s == 1);
  CHECK((*e)->quota()->Stats().refused == 1);
}

TEST_CASE("an engine without limits has no quota engine") {
  auto e = guard::engine::Engine::Create(R"({"quota":{}})");
  REQUIRE(e.ok());
  CHECK((*e)->quota() == nullptr);
}
