// Linearity benchmark: inspect cost per byte of large bodies, benign vs adversarial, side by side.
//
// A WAF that is linear in input size costs the same per byte whatever the content: hostile bodies built
// to trip backtracking, repeated decoding or comment stripping (nested percent-encodings, runs of quotes,
// brackets, comment openers, entity prefixes) must not cost more per byte than plain text. Each case is
// inspected through the C ABI with the whole body in scope (max_body_bytes 16 MiB), several times; the
// median is reported as ns per byte and as ratios to the benign JSON body of the same size and to the benign
// body of the same content type and shape.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "guard.h"

namespace {

std::string Repeat(const std::string& unit, size_t size) {
  std::string s;
  s.reserve(size + unit.size());
  while (s.size() < size) s += unit;
  s.resize(size);
  return s;
}

struct Case {
  const char* name;
  const char* content_type;
  std::string body;
  const char* like = nullptr;  // the benign case of the same content type and shape
};

double MedianNs(guard_engine* e, const Case& c, int runs) {
  guard_header headers[] = {{{"Host", 4}, {"api.example.com", 15}},
                            {{"Content-Type", 12}, {c.content_type, std::strlen(c.content_type)}}};
  guard_request r{};
  r.method = {"POST", 4};
  r.path = {"/api/v1/import", 14};
  r.headers = headers;
  r.header_count = 2;
  r.body = {c.body.data(), c.body.size()};
  std::vector<double> ns;
  guard_verdict v;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    guard_inspect(e, &r, &v, nullptr, 0);
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t size = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : (1u << 20);
  int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  const char* cfg = R"({"max_body_bytes":16777216})";
  guard_engine* e = nullptr;
  char err[256];
  if (guard_engine_new(cfg, std::strlen(cfg), &e, err, sizeof err) != GUARD_OK) {
    std::fprintf(stderr, "engine: %s\n", err);
    return 2;
  }
  // Each adversarial case names the benign body of its own content type and shape (`like`): a form body is
  // parsed and decoded field by field, a text/plain one is scanned whole, so their benign costs differ by
  // ~3x. The table gives both ratios: to that benign body, and to the cheapest one (benign JSON text).
  std::vector<Case> cases = {
      {"benign JSON text", "application/json",
       "{\"notes\":\"" + Repeat("The quick brown fox jumps over the lazy dog, 42 times. ", size - 12) + "\"}"},
      {"benign form text", "application/x-www-form-urlencoded",
       "text=" + Repeat("The+quick+brown+fox+jumps+over+the+lazy+dog%2C+42+times.+", size - 5)},
      // English full of `and`/`or`, which SQL rules must look at: benign text costs depend on the words.
      {"benign form, and/or words", "application/x-www-form-urlencoded",
       "text=" + Repeat("hello+world+and+more+", size - 5), "benign form text"},
      {"benign form, short fields", "application/x-www-form-urlencoded",
       Repeat("name=Jane+Doe&city=Paris&qty=2&", size)},
      {"benign plain text", "text/plain", Repeat("The quick brown fox jumps over the lazy dog, 42 times. ", size)},
      {"nested percent-encoding", "application/x-www-form-urlencoded", "q=" + Repeat("%25252525252527", size - 2),
       "benign form text"},
      {"run of quotes", "application/x-www-form-urlencoded", "q=" + Repeat("'\"`", size - 2), "benign form text"},
      {"run of brackets (JSON)", "application/json", Repeat("[", size), "benign JSON text"},
      {"comment openers", "application/x-www-form-urlencoded", "q=" + Repeat("/*!--#/*", size - 2),
       "benign form text"},
      {"entity prefixes", "application/x-www-form-urlencoded", "q=" + Repeat("&#x&#&lt", size - 2),
       "benign form text"},
      {"angle brackets", "text/plain", Repeat("<<<<a<", size), "benign plain text"},
      {"JNDI-like lookups", "text/plain", Repeat("${${::-", size), "benign plain text"},
      {"unresolved lookups", "text/plain", Repeat("${a", size), "benign plain text"},  // lookups no rule completes
      {"expression openers", "text/plain", Repeat("${T(#{%{", size), "benign plain text"},  // SpEL/OGNL/EL starts
      // The same two in a form field, which many more rules read (command and template injection).
      {"unresolved lookups, form", "application/x-www-form-urlencoded", "q=" + Repeat("${a", size - 2),
       "benign form text"},
      {"expression openers, form", "application/x-www-form-urlencoded", "q=" + Repeat("${T(#{%{", size - 2),
       "benign form text"},
      {"dot-dot-slash", "application/x-www-form-urlencoded", "f=" + Repeat("..%2f", size - 2), "benign form text"},
      // Fields short enough to be joined (under 4 KiB) are not scanned rule by rule: one attack repeated in
      // each of many short fields (up to max_fields; more are dropped and flagged) is reported per occurrence.
      {"dot-dot-slash, short fields", "application/x-www-form-urlencoded", Repeat("f=..%2f..%2f..%2f..%2f&", size),
       "benign form, short fields"},
  };
  std::printf("body size %zu bytes, median of %d runs (libguard %s)\n", size, runs, guard_version());
  std::printf("%-28s %12s %10s %10s %10s\n", "case", "median us", "ns/byte", "vs JSON", "vs like");
  std::map<std::string, double> per_byte_of;
  for (const Case& c : cases) {
    double ns = MedianNs(e, c, runs);
    double per_byte = ns / static_cast<double>(c.body.size());
    per_byte_of[c.name] = per_byte;
    const double json = per_byte_of["benign JSON text"];
    std::printf("%-28s %12.1f %10.2f %10.2f", c.name, ns / 1000.0, per_byte, per_byte / json);
    if (c.like) {
      std::printf(" %10.2f  (%s)", per_byte / per_byte_of.at(c.like), c.like);
    }
    std::printf("\n");
  }
  guard_engine_free(e);
  return 0;
}
