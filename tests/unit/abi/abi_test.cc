// libguard.so through its C ABI: errors in the caller's buffer, lifetimes, and verdicts end to end.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "guard.h"

namespace {

guard_str S(const char* s) { return {s, std::strlen(s)}; }

struct Req {
  std::vector<guard_header> headers;
  guard_request r{};
  Req(const char* method, const char* path, const char* query, const char* body = "") {
    r.method = S(method);
    r.path = S(path);
    r.query = S(query);
    r.body = S(body);
    r.client_ip = S("127.0.0.1");
    H("Host", "api.example.com");  // every HTTP/1.1 request has one; its absence is itself an anomaly
  }
  Req& H(const char* n, const char* v) {
    headers.push_back({S(n), S(v)});
    r.headers = headers.data();
    r.header_count = headers.size();
    return *this;
  }
};

guard_engine* NewEngine(const char* json) {
  guard_engine* e = nullptr;
  char err[256];
  int rc = guard_engine_new(json, std::strlen(json), &e, err, sizeof err);
  INFO(err);
  REQUIRE(rc == GUARD_OK);
  REQUIRE(e != nullptr);
  return e;
}

guard_verdict Inspect(const guard_engine* e, const guard_request& r) {
  guard_verdict v;
  char err[256] = "";
  int rc = guard_inspect(e, &r, &v, err, sizeof err);
  INFO(err);
  REQUIRE(rc == GUARD_OK);
  return v;
}

}  // namespace

TEST_CASE("version is major.minor.patch") {
  std::string v = guard_version();
  CHECK(std::count(v.begin(), v.end(), '.') == 2);
}

TEST_CASE("engine_new reports config errors in the caller's buffer") {
  guard_engine* e = reinterpret_cast<guard_engine*>(0x1);
  char err[256];
  const char* bad = R"({"mode":"blok"})";
  CHECK(guard_engine_new(bad, std::strlen(bad), &e, err, sizeof err) == GUARD_ECONFIG);
  CHECK(e == nullptr);
  CHECK(std::string(err) == "invalid config: /mode: must be one of \"block\", \"monitor\" (got \"blok\")");

  // A short buffer gets a cut, NUL-terminated message; a zero-length one is never written.
  char small[8];
  std::memset(small, 'x', sizeof small);
  CHECK(guard_engine_new(bad, std::strlen(bad), &e, small, sizeof small) == GUARD_ECONFIG);
  CHECK(std::string(small) == "invalid");
  char untouched = 'z';
  CHECK(guard_engine_new(bad, std::strlen(bad), &e, &untouched, 0) == GUARD_ECONFIG);
  CHECK(untouched == 'z');

  CHECK(guard_engine_new("{}", 2, nullptr, err, sizeof err) == GUARD_EINVAL);
  CHECK(guard_engine_new(nullptr, 5, &e, err, sizeof err) == GUARD_EINVAL);
  // The length is what counts, not a NUL terminator: "{}garbage" cut to 2 bytes is a valid config.
  CHECK(guard_engine_new("{}garbage", 2, &e, err, sizeof err) == GUARD_OK);
  guard_engine_free(e);
}

TEST_CASE("engines can be created and freed repeatedly; free(NULL) is a no-op") {
  guard_engine_free(nullptr);
  for (int i = 0; i < 5; ++i) {
    guard_engine* e = NewEngine("{}");
    Req q("GET", "/", "id=1%27%20or%20%271%27%3D%271");
    CHECK(Inspect(e, q.r).action == GUARD_ACTION_BLOCK);
    guard_engine_free(e);
  }
}

TEST_CASE("inspect rejects malformed calls without touching memory it was not given") {
  guard_engine* e = NewEngine("{}");
  Req q("GET", "/", "");
  guard_verdict v;
  char err[128];
  CHECK(guard_inspect(nullptr, &q.r, &v, err, sizeof err) == GUARD_EINVAL);
  CHECK(guard_inspect(e, nullptr, &v, err, sizeof err) == GUARD_EINVAL);
  CHECK(guard_inspect(e, &q.r, nullptr, err, sizeof err) == GUARD_EINVAL);
  q.r.body = {nullptr, 10};
  CHECK(guard_inspect(e, &q.r, &v, err, sizeof err) == GUARD_EINVAL);
  CHECK(std::string(err) == "request has a NULL pointer with a non-zero length");
  q.r.body = {nullptr, 0};
  q.r.header_count = 3;
  q.r.headers = nullptr;
  CHECK(guard_inspect(e, &q.r, &v, err, sizeof err) == GUARD_EINVAL);
  guard_engine_free(e);
}

TEST_CASE("attacks in query, header and JSON body are blocked; benign requests are allowed") {
  guard_engine* e = NewEngine("{}");

  Req sqli("GET", "/search", "q=1%27%20UNION%20SELECT%20password%20FROM%20users--");
  guard_verdict v = Inspect(e, sqli.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(v.score >= v.threshold);
  CHECK(v.threshold == 5);
  CHECK(std::string(v.category) == "sqli");
  CHECK(std::string(v.target) == "query:q");
  CHECK(v.rule_count >= 1);
  CHECK((v.categories & (1ull << GUARD_CAT_SQLI)) != 0);
  CHECK(std::strlen(v.incident_id) == 32);

  Req hdr("GET", "/", "");
  hdr.H("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)");
  v = Inspect(e, hdr.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(std::string(v.category) == "scanner");

  Req json("POST", "/api/comments", "", R"({"post":{"id":3,"text":"<script>alert(document.cookie)</script>"}})");
  json.H("Content-Type", "application/json");
  v = Inspect(e, json.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(std::string(v.category) == "xss");

  Req benign("POST", "/api/users", "page=2&sort=name",
             R"({"name":"Miles O'Brien","email":"miles@example.com","bio":"Select a plan from the list; it's 1=1 simple."})");
  benign.H("Content-Type", "application/json").H("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0");
  v = Inspect(e, benign.r);
  CHECK(v.action == GUARD_ACTION_ALLOW);
  CHECK(v.score < v.threshold);
  CHECK(std::string(v.incident_id).empty());
  guard_engine_free(e);
}

TEST_CASE("monitor mode reports what block mode would block") {
  guard_engine* e = NewEngine(R"({"mode":"monitor"})");
  Req q("GET", "/files", "name=..%2F..%2F..%2Fetc%2Fpasswd");
  guard_verdict v = Inspect(e, q.r);
  CHECK(v.action == GUARD_ACTION_MONITOR);
  CHECK(std::string(v.category) == "traversal");
  CHECK(std::strlen(v.incident_id) == 32);
  guard_engine_free(e);
}

TEST_CASE("protocol anomalies are findings like signatures") {
  guard_engine* e = NewEngine("{}");
  Req smuggle("POST", "/api/orders", "", "0\r\n\r\nGET /admin HTTP/1.1\r\n");
  smuggle.H("Content-Length", "4").H("Transfer-Encoding", "chunked");
  guard_verdict v = Inspect(e, smuggle.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(std::string(v.category) == "protocol");
  CHECK(std::find(v.rule_ids, v.rule_ids + v.rule_count, 9603u) != v.rule_ids + v.rule_count);

  Req trace("TRACE", "/", "");
  CHECK(Inspect(e, trace.r).action == GUARD_ACTION_BLOCK);
  guard_engine_free(e);

  // Disabled by id like any rule.
  e = NewEngine(R"({"disabled_rules":[9601,9502]})");
  CHECK(Inspect(e, trace.r).action == GUARD_ACTION_ALLOW);
  guard_engine_free(e);
}

TEST_CASE("exclusions stop a rule on one field and path only") {
  // A wiki that accepts HTML in one field: XSS rules skip that field on that path, nothing else changes.
  guard_engine* e = NewEngine(R"({"exclusions":[{"targets":["args:html"],"paths":["/api/wiki/*"]}]})");
  Req wiki("GET", "/api/wiki/7", "html=%3Cscript%3Ealert(1)%3C/script%3E");
  CHECK(Inspect(e, wiki.r).action == GUARD_ACTION_ALLOW);
  Req other_path("GET", "/api/users", "html=%3Cscript%3Ealert(1)%3C/script%3E");
  CHECK(Inspect(e, other_path.r).action == GUARD_ACTION_BLOCK);
  // The same rule still fires on another field of the excluded request.
  Req other_field("GET", "/api/wiki/7", "html=%3Cb%3E&title=%3Cscript%3Ealert(1)%3C/script%3E");
  guard_verdict v = Inspect(e, other_field.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(std::string(v.target) == "query:title");
  guard_engine_free(e);
}

TEST_CASE("custom rules from the config are compiled with the core set") {
  const char* cfg = R"({"custom_rules":[{"id":900001,"category":"custom","severity":5,"paranoia":1,
      "targets":["headers:x-tenant"],"patterns":["^forbidden-"],"message":"tenant blocked"}]})";
  guard_engine* e = NewEngine(cfg);
  Req q("GET", "/", "");
  q.H("X-Tenant", "forbidden-acme");
  guard_verdict v = Inspect(e, q.r);
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK(std::string(v.category) == "custom");
  CHECK(v.rule_ids[0] == 900001u);
  guard_engine_free(e);

  char err[256];
  guard_engine* none = nullptr;
  const char* clash = R"({"custom_rules":[{"id":1001,"category":"custom","severity":5,"paranoia":1,
      "targets":["args"],"patterns":["x"],"message":"m"}]})";
  CHECK(guard_engine_new(clash, std::strlen(clash), &none, err, sizeof err) == GUARD_ECONFIG);
  CHECK(std::string(err) == "invalid config: custom_rules: rule 1001: id already used by a core rule");
  const char* bad_pattern = R"({"custom_rules":[{"id":900002,"category":"custom","severity":5,"paranoia":1,
      "targets":["args"],"patterns":["(a)\\1"],"message":"m"}]})";
  CHECK(guard_engine_new(bad_pattern, std::strlen(bad_pattern), &none, err, sizeof err) == GUARD_ECONFIG);
  CHECK(std::string(err).rfind("invalid config: custom_rules: rule 900002: pattern", 0) == 0);
}

TEST_CASE("a body past max_body_bytes is flagged as not fully inspected") {
  guard_engine* e = NewEngine(R"({"max_body_bytes":16})");
  std::string body(64, 'a');
  Req q("POST", "/upload", "");
  q.r.body = {body.data(), body.size()};
  CHECK((Inspect(e, q.r).flags & GUARD_VERDICT_BODY_UNINSPECTED) != 0);
  guard_engine_free(e);
}

TEST_CASE("one engine serves several threads at once with identical verdicts") {
  guard_engine* e = NewEngine("{}");
  std::vector<std::thread> threads;
  std::vector<int> blocked(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Req q("GET", "/", "x=%3Cscript%3Ealert(1)%3C/script%3E");
      for (int i = 0; i < 200; ++i) {
        guard_verdict v;
        if (guard_inspect(e, &q.r, &v, nullptr, 0) == GUARD_OK && v.action == GUARD_ACTION_BLOCK) ++blocked[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(blocked == std::vector<int>{200, 200, 200, 200});
  guard_engine_free(e);
}

TEST_CASE("rules_check validates and compiles a rules file") {
  char err[256];
  const char* good = R"({"version":"1","rules":[{"id":9,"category":"custom","severity":5,"paranoia":1,)"
                     R"("targets":["args"],"patterns":["evil"],"message":"m"}]})";
  CHECK(guard_rules_check(good, std::strlen(good), err, sizeof err) == GUARD_OK);
  const char* bad = R"({"version":"1","rules":[{"id":9,"category":"custom","severity":5,"paranoia":1,)"
                    R"("targets":["args"],"patterns":["(?<=x)y"],"message":"m"}]})";
  CHECK(guard_rules_check(bad, std::strlen(bad), err, sizeof err) == GUARD_ERULES);
  CHECK(std::string(err).rfind("rule 9: pattern", 0) == 0);
}

TEST_CASE("names of actions and categories") {
  CHECK(std::string(guard_action_name(GUARD_ACTION_BLOCK)) == "block");
  CHECK(std::string(guard_action_name(GUARD_ACTION_RATE_LIMITED)) == "rate_limited");
  CHECK(std::string(guard_action_name(99)) == "");
  CHECK(std::string(guard_category_name(GUARD_CAT_JNDI)) == "jndi");
  CHECK(std::string(guard_category_name(GUARD_CAT_COUNT)) == "");
  CHECK(std::string(guard_category_name(-1)) == "");
}
