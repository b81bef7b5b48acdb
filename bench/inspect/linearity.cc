// Linearity benchmark: inspect cost per byte of large bodies, benign vs adversarial, side by side.
//
// A WAF that is linear in input size costs the same per byte whatever the content: hostile bodies built
// to trip backtracking, repeated decoding or comment stripping (nested percent-encodings, runs of quotes,
// brackets, comment openers, entity prefixes) must not cost more per byte than plain text. Each case is
// inspected through the C ABI with the whole body in scope (max_body_bytes 16 MiB), several times; the
// median is reported as ns per byte and as a ratio to the benign JSON body of the same size.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
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
  std::vector<Case> cases = {
      {"benign JSON text", "application/json",
       "{\"notes\":\"" + Repeat("The quick brown fox jumps over the lazy dog, 42 times. ", size - 12) + "\"}"},
      {"benign form text", "application/x-www-form-urlencoded", "text=" + Repeat("hello+world+and+more+", size - 5)},
      {"nested percent-encoding", "application/x-www-form-urlencoded", "q=" + Repeat("%25252525252527", size - 2)},
      {"run of quotes", "application/x-www-form-urlencoded", "q=" + Repeat("'\"`", size - 2)},
      {"run of brackets (JSON)", "application/json", Repeat("[", size)},
      {"comment openers", "application/x-www-form-urlencoded", "q=" + Repeat("/*!--#/*", size - 2)},
      {"entity prefixes", "application/x-www-form-urlencoded", "q=" + Repeat("&#x&#&lt", size - 2)},
      {"angle brackets", "text/plain", Repeat("<<<<a<", size)},
      {"JNDI-like lookups", "text/plain", Repeat("${${::-", size)},
      {"unresolved lookups", "text/plain", Repeat("${a", size)},         // opens lookups no rule completes
      {"expression openers", "text/plain", Repeat("${T(#{%{", size)},  // SpEL / OGNL / EL starts
      {"dot-dot-slash", "application/x-www-form-urlencoded", "f=" + Repeat("..%2f", size - 2)},
      // Fields short enough to be joined (under 4 KiB) are not scanned rule by rule: one attack repeated in
      // each of many short fields (up to max_fields; more are dropped and flagged) is reported per occurrence.
      {"dot-dot-slash, short fields", "application/x-www-form-urlencoded", Repeat("f=..%2f..%2f..%2f..%2f&", size)},
  };
  std::printf("body size %zu bytes, median of %d runs (libguard %s)\n", size, runs, guard_version());
  std::printf("%-26s %12s %10s %8s\n", "case", "median us", "ns/byte", "ratio");
  double base = 0;
  for (const Case& c : cases) {
    double ns = MedianNs(e, c, runs);
    double per_byte = ns / static_cast<double>(c.body.size());
    if (base == 0) base = per_byte;
    std::printf("%-26s %12.1f %10.2f %8.2f\n", c.name, ns / 1000.0, per_byte, per_byte / base);
  }
  guard_engine_free(e);
  return 0;
}
