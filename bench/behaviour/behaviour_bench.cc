// Scenario benchmark of behaviour as a signal (issue 5), driving the engine as the plugin does
// (Engine::Inspect per request, Engine::Observe per response). Three parts, figures in docs/benchmarks.md:
//
//   replay   every query-string attack of tests/corpus/attacks.jsonl that the signatures block, then >= 20
//            mutated variants of it (case, whitespace/comment padding, other literals, %-encoding, double
//            encoding, HTML entities): share of variants answered from the verdict cache; then every request
//            of tests/corpus/benign.jsonl on the same route: a false hit is a benign request blocked by a
//            cached verdict.
//   mix      15 simulated minutes of traffic (browsers, API clients, health checks, and a path scanner, a
//            credential stuffer, a scraper, a burst) against the default scenarios, on a simulated clock:
//            when each hostile client is decided and after how many of the events its scenario counts;
//            benign clients throttled or banned.
//   memory   1M distinct client IPs through the node profile table (GUARD_BEHAVIOUR_SHM_BYTES default).
//
//   cost     median ns per request of Inspect (+ Observe) with the cache and behaviour off/on.
//
// Usage: bench_behaviour [replay|mix|cost|memory|all] [variants per payload, default 24]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/behaviour_node.h"
#include "engine/engine.h"
#include "engine/signals.h"
#include "rapidjson/document.h"

namespace {

using guard::engine::Engine;

guard_str S(const std::string& s) { return {s.data(), s.size()}; }

struct Http {
  std::string method = "GET", path = "/", query, body, ip, consumer, route = "bench-route";
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<guard_header> hv;
  guard_request Build() {
    hv.clear();
    for (auto& [n, v] : headers) hv.push_back({S(n), S(v)});
    guard_request r{};
    r.method = S(method);
    r.path = S(path);
    r.query = S(query);
    r.body = S(body);
    r.client_ip = S(ip);
    r.consumer_id = S(consumer);
    r.route_id = S(route);
    r.headers = hv.data();
    r.header_count = hv.size();
    return r;
  }
};

guard_verdict Inspect(const Engine& e, Http& h) {
  guard_verdict v;
  guard_request r = h.Build();
  if (!e.Inspect(r, &v).ok()) std::fprintf(stderr, "inspect failed\n");
  return v;
}

guard_decision_info Observe(const Engine& e, const Http& h, int status) {
  guard_response_info r{};
  r.method = S(h.method);
  r.path = S(h.path);
  r.client_ip = S(h.ip);
  r.consumer_id = S(h.consumer);
  r.route_id = S(h.route);
  r.status = status;
  guard_decision_info d;
  (void)e.Observe(r, &d);
  return d;
}

std::unique_ptr<Engine> MakeEngine(const std::string& json) {
  auto e = Engine::Create(json, {"bench", "node"});
  if (!e.ok()) {
    std::fprintf(stderr, "engine: %s\n", std::string(e.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*e);
}

std::vector<rapidjson::Document> ReadJsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<rapidjson::Document> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse(line.c_str());
    if (!d.HasParseError()) out.push_back(std::move(d));
  }
  return out;
}

Http FromCorpus(const rapidjson::Document& d) {
  Http h;
  h.method = d["method"].GetString();
  std::string uri = d["uri"].GetString();
  size_t q = uri.find('?');
  h.path = uri.substr(0, q);
  if (q != std::string::npos) h.query = uri.substr(q + 1);
  if (d.HasMember("body") && d["body"].IsString()) h.body = d["body"].GetString();
  if (d.HasMember("headers") && d["headers"].IsObject())
    for (auto& m : d["headers"].GetObject()) {
      std::string n = m.name.GetString();
      std::transform(n.begin(), n.end(), n.begin(), ::tolower);  // as Kong's get_headers() hands them over
      if (m.value.IsString()) h.headers.emplace_back(n, m.value.GetString());
    }
  h.ip = "198.51.100.1";
  return h;
}

// ---- mutations -------------------------------------------------------------------------------------

int Hex(char c) { return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1; }

std::string UrlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else out += s[i];
  }
  return out;
}

std::string UrlEncode(const std::string& s) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += d[c >> 4];
      out += d[c & 15];
    }
  }
  return out;
}

// What a variant of an attack of a category may change without changing what the attack does.
struct Toolbox {
  bool sql = false;       // SQL: case, whitespace and comment padding
  bool html = false;      // HTML: case, '<' as an entity
  bool literals = false;  // numbers are free literals (1=1, alert(1), {{7*7}}, sleep 5); not in IPs, ports, paths
};
Toolbox ToolboxFor(const std::string& category) {
  Toolbox t;
  t.sql = category == "sqli";
  t.html = category == "xss";
  t.literals = category == "sqli" || category == "xss" || category == "ssti" || category == "cmdi" || category == "code";
  return t;
}

// An attacker's toolbox (as in tests/unit/fingerprint/request_shape_test.cc), limited per category to changes
// that keep the attack's meaning: %-encoding of random characters and double encoding everywhere (the target
// decodes them); case, padding, entities and other literals where the language allows (see Toolbox).
std::string Mutate(const std::string& s, std::mt19937& rng, const Toolbox& tb) {
  std::string lit;
  // Other literals: every free-standing number becomes another one. Digits inside a word (`base64_decode`,
  // base64 text) or a %XX escape still in the value are part of a name or a byte, not a literal: changing them
  // would break the attack rather than vary it.
  auto word_char = [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '%'; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (tb.literals && isdigit(static_cast<unsigned char>(s[i])) && (i == 0 || !word_char(s[i - 1]))) {
      size_t j = i;
      while (j + 1 < s.size() && isdigit(static_cast<unsigned char>(s[j + 1]))) ++j;
      if (j + 1 == s.size() || !word_char(s[j + 1])) {
        lit += std::to_string(1 + rng() % 9999);
        i = j;
        continue;
      }
    }
    lit += s[i];
  }
  std::string out;
  static const char* d = "0123456789abcdef";
  for (char c : lit) {
    if (tb.sql || tb.html) {
      if (c >= 'a' && c <= 'z' && rng() % 2) c = static_cast<char>(c - 32);
      else if (c >= 'A' && c <= 'Z' && rng() % 2) c = static_cast<char>(c + 32);
    }
    if (c == ' ' && tb.sql) {
      static const char* kSql[] = {" ", "  ", "\t", "/**/", "\n", " /*x*/ "};
      out += kSql[rng() % 6];
      continue;
    }
    if (c == '<' && tb.html && rng() % 3 == 0) {
      static const char* kLt[] = {"&lt;", "&#60;", "&#x3c;"};
      out += kLt[rng() % 3];
      continue;
    }
    if (rng() % 5 == 0) {
      unsigned char u = static_cast<unsigned char>(c);
      out += '%';
      out += d[u >> 4];
      out += d[u & 15];
      continue;
    }
    out += c;
  }
  if (rng() % 3 == 0) {
    std::string twice;
    for (char c : out) twice += c == '%' ? std::string("%25") : std::string(1, c);
    out = twice;
  }
  return out;
}

std::string MutateQuery(const std::string& query, std::mt19937& rng, const Toolbox& tb) {
  std::string out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string pair = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    size_t eq = pair.find('=');
    if (!out.empty()) out += '&';
    if (eq == std::string::npos) out += pair;
    else out += pair.substr(0, eq + 1) + UrlEncode(Mutate(UrlDecode(pair.substr(eq + 1)), rng, tb));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

// ---- replay ------------------------------------------------------------------------------------------

void Replay(int variants) {
  auto e = MakeEngine("{}");  // defaults: cache on
  std::mt19937 rng(20261123);
  auto attacks = ReadJsonl(std::string(GUARD_SOURCE_DIR) + "/tests/corpus/attacks.jsonl");
  size_t bases = 0, skipped_location = 0, skipped_unblocked = 0, sent = 0, hits = 0, rescued = 0, blocked = 0;
  size_t unflagged = 0;
  std::map<std::string, std::pair<size_t, size_t>> by_category;  // hits, sent
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& d : attacks) {
    if (std::string(d["location"].GetString()) != "query") {
      ++skipped_location;
      continue;
    }
    Http base = FromCorpus(d);
    if (base.query.empty()) {
      ++skipped_location;
      continue;
    }
    guard_verdict v = Inspect(*e, base);
    if (v.action != GUARD_ACTION_BLOCK) {
      ++skipped_unblocked;  // the signatures do not block it: no malicious verdict to cache
      continue;
    }
    ++bases;
    const std::string cat = d["category"].GetString();
    const Toolbox tb = ToolboxFor(cat);
    for (int i = 0; i < variants; ++i) {
      Http var = base;
      var.query = MutateQuery(base.query, rng, tb);
      guard_verdict vv = Inspect(*e, var);
      ++sent;
      ++by_category[cat].second;
      if (vv.rule_count == 0) {
        ++unflagged;
        // GUARD_BENCH_SHOW_MISSES=1 prints them: signature misses are leads for the detection rules.
        static const bool show = std::getenv("GUARD_BENCH_SHOW_MISSES") != nullptr;
        if (show) std::fprintf(stderr, "unflagged %s %s?%s\n", cat.c_str(), var.path.c_str(), var.query.c_str());
      }
      if (vv.action == GUARD_ACTION_BLOCK) ++blocked;
      if ((vv.flags & GUARD_VERDICT_CACHED) && vv.action == GUARD_ACTION_BLOCK) {
        ++hits;
        ++by_category[cat].first;
        if (std::string(vv.target) == "cache") ++rescued;
      }
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("replay: %zu base payloads (query attacks the signatures block; %zu in other locations, %zu not "
              "blocked), %d variants each\n", bases, skipped_location, skipped_unblocked, variants);
  std::printf("  variants sent %zu, verdict-cache hits %zu = %.1f%%; blocked %zu = %.1f%%; blocked only because "
              "of the cache %zu; not flagged at all by the signatures %zu\n",
              sent, hits, 100.0 * hits / std::max<size_t>(1, sent), blocked, 100.0 * blocked / std::max<size_t>(1, sent),
              rescued, unflagged);
  for (auto& [cat, hs] : by_category)
    std::printf("    %-10s %5zu / %5zu = %.1f%%\n", cat.c_str(), hs.first, hs.second, 100.0 * hs.first / hs.second);

  auto benign = ReadJsonl(std::string(GUARD_SOURCE_DIR) + "/tests/corpus/benign.jsonl");
  size_t false_hits = 0, benign_blocked = 0, benign_hits = 0;
  for (const auto& d : benign) {
    Http h = FromCorpus(d);
    guard_verdict v = Inspect(*e, h);
    if (v.action == GUARD_ACTION_BLOCK) ++benign_blocked;
    if (v.flags & GUARD_VERDICT_CACHED) {
      if (v.action == GUARD_ACTION_BLOCK) ++false_hits;
      else ++benign_hits;
    }
  }
  const auto st = e->verdict_cache()->stats();
  std::printf("  benign corpus: %zu requests, false hits (blocked by a cached verdict) %zu, benign-verdict hits %zu, "
              "blocked by the signatures themselves %zu\n", benign.size(), false_hits, benign_hits, benign_blocked);
  std::printf("  cache: hits %llu misses %llu inserts %llu evictions %llu suppressed %llu; %.2f s\n",
              (unsigned long long)st.hits, (unsigned long long)st.misses, (unsigned long long)st.inserts,
              (unsigned long long)st.evictions, (unsigned long long)st.suppressed, secs);
}

// ---- traffic mix -------------------------------------------------------------------------------------

int64_t g_now = 0;
int64_t SimNow() { return g_now; }

enum class Kind { kBrowser, kApi, kHealth, kScanner, kStuffer, kScraper, kBurst };
const char* KindName(Kind k) {
  switch (k) {
    case Kind::kBrowser: return "browser";
    case Kind::kApi: return "api";
    case Kind::kHealth: return "health";
    case Kind::kScanner: return "path scanner";
    case Kind::kStuffer: return "credential stuffer";
    case Kind::kScraper: return "scraper";
    case Kind::kBurst: return "burst";
  }
  return "";
}
bool Hostile(Kind k) { return k >= Kind::kScanner; }

struct Client {
  Kind kind;
  int index = 0;  // within its kind
  std::string ip, consumer;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t start_ms = 0, end_ms = 0;
  uint64_t n = 0;            // requests sent
  std::map<std::string, uint64_t> events;  // per scenario, the events that feed it (404s, failed logins, ...)
  int64_t decided_ms = -1;   // first request refused (403/429)
  std::map<std::string, uint64_t> events_at_decision;
  uint64_t n_at_decision = 0;
  std::string decided_by, decided_how;
  int last_status = 0;
  bool banned = false, throttled = false;
  uint64_t refused = 0;
};

const std::vector<std::pair<std::string, std::string>> kBrowserHeaders = {
    {"host", "shop.example"},
    {"user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"},
    {"accept", "text/html,application/xhtml+xml"}, {"accept-language", "en-GB,en;q=0.9"},
    {"accept-encoding", "gzip, br"}, {"cookie", "sid=abc"}};
const std::vector<std::pair<std::string, std::string>> kLibraryHeaders = {
    {"host", "api.example"}, {"user-agent", "python-requests/2.31.0"}, {"accept", "*/*"},
    {"accept-encoding", "gzip, deflate"}};

void Mix() {
  guard::engine::SetClockForTesting(&SimNow);
  g_now = 1'767'225'600'000;  // 2026-01-01, simulated
  const int64_t t0 = g_now;
  auto e = MakeEngine(R"({"behaviour":{"enabled":true}})");  // the default scenarios
  std::mt19937 rng(42);
  std::vector<Client> clients;
  auto add = [&](Kind k, int count, int64_t start, int64_t end) {
    for (int i = 0; i < count; ++i) {
      Client c;
      c.kind = k;
      c.index = i;
      c.ip = "10." + std::to_string(static_cast<int>(k)) + "." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
      c.headers = (k == Kind::kBrowser || k == Kind::kBurst) ? kBrowserHeaders : kLibraryHeaders;
      if (k == Kind::kApi) c.consumer = "consumer-" + std::to_string(i);
      if (k == Kind::kHealth) c.headers = {{"host", "shop.example"}, {"user-agent", "curl/8.5.0"}, {"accept", "*/*"}};
      c.start_ms = start + (k == Kind::kBrowser ? static_cast<int64_t>(rng() % 800'000) : 0);
      c.end_ms = end;
      clients.push_back(std::move(c));
    }
  };
  const int64_t T = 15 * 60'000;
  add(Kind::kBrowser, 400, t0, t0 + T);
  add(Kind::kApi, 60, t0, t0 + T);
  add(Kind::kHealth, 3, t0, t0 + T);
  add(Kind::kScraper, 1, t0 + 2 * 60'000, t0 + T);
  add(Kind::kStuffer, 1, t0 + 3 * 60'000, t0 + T);
  add(Kind::kScanner, 2, t0 + 5 * 60'000, t0 + T);  // [0] probes known attack paths, [1] a word list
  add(Kind::kBurst, 1, t0, t0 + T);  // steady 1 req/s for 6 minutes, then 40 req/s for a minute
  const int64_t burst_at = t0 + 6 * 60'000, burst_end = t0 + 7 * 60'000;

  using Ev = std::pair<int64_t, size_t>;
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> q;
  for (size_t i = 0; i < clients.size(); ++i) q.push({clients[i].start_ms, i});
  uint64_t total = 0;
  std::uniform_real_distribution<double> U(0, 1);
  while (!q.empty()) {
    auto [t, i] = q.top();
    q.pop();
    Client& c = clients[i];
    if (t > c.end_ms) continue;
    g_now = t;
    Http h;
    h.ip = c.ip;
    h.consumer = c.consumer;
    h.headers = c.headers;
    int status = 200;
    int64_t next = 1000;
    const char* feeds = nullptr;  // the scenario this request's event feeds, if hostile
    switch (c.kind) {
      case Kind::kBrowser: {
        const double r = U(rng);
        if (r < 0.3) h.path = "/products/" + std::to_string(rng() % 5000);
        else if (r < 0.45) { h.path = "/search"; h.query = "q=shoes+size+" + std::to_string(rng() % 50); }
        else if (r < 0.55) h.path = "/cart";
        else if (r < 0.57) { h.method = "POST"; h.path = "/login"; h.body = "username=me&password=x"; status = U(rng) < 0.2 ? 401 : 200; }
        else if (r < 0.60) { h.path = "/old-page-" + std::to_string(rng() % 100); status = 404; }
        else h.path = "/";
        next = 1000 + static_cast<int64_t>(rng() % 20'000);  // think time 1-21 s
        if (c.n > 30 + rng() % 150) c.end_ms = t;             // session ends
        break;
      }
      case Kind::kApi:
        h.path = U(rng) < 0.5 ? "/api/v1/orders" : "/api/v1/orders/" + std::to_string(rng() % 100000);
        if (h.path == "/api/v1/orders") h.query = "page=" + std::to_string(c.n % 50);
        if (U(rng) < 0.01) status = 404;
        next = 600 + static_cast<int64_t>(rng() % 900);  // ~1/s with jitter
        break;
      case Kind::kHealth:
        h.path = "/health";
        next = 5000;  // a metronome: regular timing, which is fine for a health check
        break;
      case Kind::kScanner: {
        static const char* kPaths[] = {"/.env", "/wp-login.php", "/admin", "/phpmyadmin/", "/.git/config", "/backup.zip",
                                       "/config.php", "/server-status", "/api/swagger.json", "/actuator/env"};
        static const char* kWords[] = {"admin", "backup", "old", "test", "dev", "api", "v2", "staging", "db", "tmp",
                                       "private", "internal", "console", "debug", "uploads", "files"};
        if (c.index == 0) h.path = std::string(kPaths[rng() % 10]) + (c.n % 3 ? "" : std::to_string(c.n));
        else h.path = "/" + std::string(kWords[rng() % 16]) + "/" + kWords[rng() % 16];  // no attack in the path
        status = U(rng) < 0.95 ? 404 : 200;
        if (status == 404) feeds = "probing";
        next = c.index == 0 ? 125 : 60 + static_cast<int64_t>(rng() % 130);  // ~8 req/s (the word list jittered)
        break;
      }
      case Kind::kStuffer:
        h.method = "POST";
        h.path = "/api/login";
        h.body = "username=user" + std::to_string(c.n) + "%40mail.example&password=Winter2024";
        h.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
        h.headers.push_back({"content-length", std::to_string(h.body.size())});
        status = 401;
        feeds = "credential_stuffing";
        next = 500;
        break;
      case Kind::kScraper:
        h.path = "/products/" + std::to_string(1 + c.n);
        if (c.n > 0) feeds = "enumeration";  // a sequential id (the first one has no predecessor)
        next = 333;
        break;
      case Kind::kBurst:
        h.path = "/api/v1/feed";
        if (t >= burst_at && t < burst_end) {
          next = 25;  // 40 req/s
          feeds = "burst";  // counted from the start of the burst: the first ~100 only raise the rate
        } else {
          next = 800 + static_cast<int64_t>(rng() % 400);
        }
        break;
    }
    ++c.n;
    ++total;
    guard_verdict v = Inspect(*e, h);
    const bool behaviour = std::string(v.category) == "behaviour";
    if (v.action == GUARD_ACTION_BLOCK && !behaviour) ++c.events["attack_burst"];  // the signatures blocked it
    if (v.action == GUARD_ACTION_BLOCK || v.action == GUARD_ACTION_RATE_LIMITED) {
      ++c.refused;
      if (v.flags & GUARD_VERDICT_BANNED) c.banned = true;
      if (v.flags & GUARD_VERDICT_THROTTLED) c.throttled = true;
      if (c.decided_ms < 0 && behaviour) {
        c.decided_ms = t;
        c.events_at_decision = c.events;
        c.n_at_decision = c.n - 1;
        std::string target = v.target;  // "ban:<scenario>", "throttle:<scenario>", "score:<scenario>", "blocklist"
        if (target == "blocklist") {
          auto hit = guard::engine::SharedBlocklist().Lookup(c.ip, c.consumer, t);
          target = hit.reason;  // "behaviour: <scenario>" (banned in the log phase of the previous request)
        }
        c.decided_how = target.rfind("throttle:", 0) == 0 ? "throttled" : target.rfind("score:", 0) == 0 ? "blocked (score)" : "banned";
        c.decided_by = target.substr(target.find_first_of(": ") + 1);
        while (!c.decided_by.empty() && c.decided_by[0] == ' ') c.decided_by.erase(0, 1);
      }
    } else {
      if (feeds) ++c.events[feeds];
      Observe(*e, h, status);
    }
    q.push({t + next, i});
  }
  guard::engine::SetClockForTesting(nullptr);

  std::printf("mix: %zu clients, %llu requests over %lld simulated minutes, default scenarios\n", clients.size(),
              (unsigned long long)total, (long long)(T / 60'000));
  const auto& sc = e->config().behaviour.engine.scenarios;
  auto capacity = [&](const std::string& name) {
    for (const auto& s : sc)
      if (s.name == name) return s.capacity;
    return 0.0f;
  };
  auto leak = [&](const std::string& name) {
    for (const auto& s : sc)
      if (s.name == name) return s.leak_per_sec;
    return 0.0f;
  };
  for (const Client& c : clients) {
    if (!Hostile(c.kind)) continue;
    const int64_t started = c.kind == Kind::kBurst ? burst_at : c.start_ms;
    if (c.decided_ms < 0) {
      std::printf("  %-18s NOT decided (%llu requests)\n", KindName(c.kind), (unsigned long long)c.n);
      continue;
    }
    const std::string& scen = c.decided_by;
    auto ev = c.events_at_decision.find(scen);
    const uint64_t counted = ev == c.events_at_decision.end() ? 0 : ev->second;
    // The bound: the capacity, plus what leaked while the client was being counted, plus the overflowing event.
    // (The burst scenario only starts counting once the rate exceeds burst_factor x the baseline.)
    const double elapsed_s = (c.decided_ms - started) / 1000.0;
    double bound = capacity(scen.c_str()) + leak(scen.c_str()) * elapsed_s + 1;
    const auto& bc = e->config().behaviour.engine;
    const double threshold = scen == "burst" ? bc.burst_factor * bc.min_baseline : 0;  // baseline < min_baseline here
    bound += threshold;
    std::printf("  %-18s %s by %s after %llu requests, %llu of them events that feed it (capacity %.0f + %.1f "
                "leaked + 1%s = bound %.1f); %.1f s after it started; refused %llu of %llu\n",
                KindName(c.kind), c.decided_how.c_str(), scen.c_str(), (unsigned long long)c.n_at_decision,
                (unsigned long long)counted, capacity(scen.c_str()), leak(scen.c_str()) * elapsed_s,
                threshold > 0 ? " + 100 requests to pass 5 x the baseline" : "", bound, elapsed_s,
                (unsigned long long)c.refused, (unsigned long long)c.n);
  }
  std::map<Kind, std::array<size_t, 4>> benign;  // clients, banned, throttled, refused requests
  for (const Client& c : clients) {
    if (Hostile(c.kind)) continue;
    auto& b = benign[c.kind];
    ++b[0];
    b[1] += c.banned;
    b[2] += c.throttled;
    b[3] += c.refused;
  }
  for (auto& [k, b] : benign)
    std::printf("  benign %-8s clients %zu: banned %zu, throttled %zu, requests refused %zu\n", KindName(k), b[0], b[1],
                b[2], b[3]);
}

// ---- memory ------------------------------------------------------------------------------------------

long RssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

void Memory() {
  const size_t region = guard::engine::kDefaultBehaviourNodeBytes;
  if (!guard::engine::InitBehaviourNode(region).ok()) std::exit(1);
  auto e = MakeEngine(R"({"behaviour":{"enabled":true},"cache":{"enabled":false}})");
  const auto& table = e->signals()->behaviour->table();
  const long rss0 = RssKb();
  Http h;
  h.path = "/x";
  h.headers = kLibraryHeaders;
  const auto t0 = std::chrono::steady_clock::now();
  const uint32_t N = 1'000'000;
  for (uint32_t i = 0; i < N; ++i) {
    h.ip = "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255);
    Inspect(*e, h);
    Observe(*e, h, 200);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long rss1 = RssKb();
  std::printf("memory: %u distinct client IPs (inspect + observe each) through the node profile table of %zu MiB\n", N,
              region >> 20);
  std::printf("  table %zu bytes (budget %zu), capacity %zu profiles, live %zu, evicted %llu; RSS %+ld KiB "
              "(the region's pages as they are touched); %.2f us per request+response\n",
              table.MemoryBytes(), region, table.capacity(), table.size(),
              (unsigned long long)table.stats().evicted, rss1 - rss0, secs * 1e6 / N);
}

// ---- cost on the request path --------------------------------------------------------------------------

// Median ns per Inspect (+ Observe when behaviour is on) of benign corpus requests, rounds alternating between
// the configurations so that machine noise hits them alike.
void Cost(int rounds) {
  struct Setup {
    const char* name;
    std::unique_ptr<Engine> e;
    bool observe;
    std::vector<double> ns;
  };
  std::vector<Setup> setups;
  setups.push_back({"signatures only (cache off)", MakeEngine(R"({"cache":{"enabled":false}})"), false, {}});
  setups.push_back({"+ verdict cache (default)", MakeEngine("{}"), false, {}});
  setups.push_back({"+ cache + behaviour (inspect + observe)", MakeEngine(R"({"behaviour":{"enabled":true}})"), true, {}});
  auto benign = ReadJsonl(std::string(GUARD_SOURCE_DIR) + "/tests/corpus/benign.jsonl");
  std::vector<Http> reqs;
  for (size_t i = 0; i < benign.size() && reqs.size() < 200; ++i) {
    reqs.push_back(FromCorpus(benign[i]));
    reqs.back().ip = "10.9." + std::to_string(i / 200) + "." + std::to_string(i % 200);
  }
  std::vector<guard_request> built;
  for (Http& h : reqs) built.push_back(h.Build());
  for (int r = 0; r < rounds; ++r) {
    for (Setup& s : setups) {
      guard_verdict v;
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i < built.size(); ++i) {
        (void)s.e->Inspect(built[i], &v);
        if (s.observe) Observe(*s.e, reqs[i], 200);
      }
      s.ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                     static_cast<double>(built.size()));
    }
  }
  std::printf("cost: %zu benign corpus requests per round, %d rounds, median ns per request\n", built.size(), rounds);
  for (Setup& s : setups) {
    std::sort(s.ns.begin(), s.ns.end());
    std::printf("  %-42s %8.0f ns\n", s.name, s.ns[s.ns.size() / 2]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "all";
  int variants = argc > 2 ? std::atoi(argv[2]) : 24;
  if (what == "replay" || what == "all") Replay(variants);
  if (what == "mix" || what == "all") Mix();
  if (what == "cost" || what == "all") Cost(101);
  if (what == "memory" || what == "all") Memory();
  return 0;
}
