// Which rules make an input expensive to scan: Hyperscan ns/byte of every core rule (paranoia 1, rules
// reading unnamed fields) compiled together, then of the same set without each rule in turn.
//
//     build/bench/bench_rule_cost '${${::-' [bytes]
//
// The leave-one-out figure is what matters: patterns share engines inside one database, so a rule's cost
// alone says little. Linear-time matching is guaranteed by Hyperscan; this finds the rules behind a high
// constant (docs/benchmarks.md, "Linearity").
#include <hs/hs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "signatures/rules.h"

namespace {

using guard::signatures::Rule;

// ns/byte of the rules' patterns compiled as the matcher's alone database (SINGLEMATCH), best of 3.
double NsPerByte(const std::vector<const Rule*>& rules, const std::string& body) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (const Rule* r : rules) {
    for (const std::string& p : r->patterns) {
      exprs.push_back(p.c_str());
      flags.push_back(HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH | (r->case_sensitive ? 0 : HS_FLAG_CASELESS));
      ids.push_back(static_cast<unsigned>(ids.size()));
    }
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, &db, &err) != HS_SUCCESS) {
    std::fprintf(stderr, "compile: %s\n", err ? err->message : "?");
    std::exit(2);
  }
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db, &scratch);
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    hs_scan(db, body.data(), static_cast<unsigned>(body.size()), 0, scratch,
            [](unsigned, unsigned long long, unsigned long long, unsigned, void*) { return 0; }, nullptr);
    best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  hs_free_scratch(scratch);
  hs_free_database(db);
  return best / static_cast<double>(body.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s UNIT [BYTES]  (UNIT repeated to BYTES, default 262144)\n", argv[0]);
    return 2;
  }
  const std::string unit = argv[1];
  const size_t size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 262144;
  std::string body;
  while (body.size() < size) body += unit;
  auto set = guard::signatures::ParseRules(guard::signatures::CoreRulesJson());
  if (!set.ok()) return 2;
  std::vector<const Rule*> rules;
  for (const Rule& r : set->rules) {
    const bool named_only = std::all_of(r.targets.begin(), r.targets.end(), [](const auto& t) { return !t.name.empty(); });
    if (r.paranoia == 1 && !named_only) rules.push_back(&r);
  }
  const double all = NsPerByte(rules, body);
  std::printf("%zu rules, %zu bytes of '%s': %.2f ns/byte\nwithout rule   ns/byte\n", rules.size(), body.size(),
              unit.c_str(), all);
  std::vector<std::pair<double, uint32_t>> without;
  for (size_t i = 0; i < rules.size(); ++i) {
    std::vector<const Rule*> rest = rules;
    rest.erase(rest.begin() + static_cast<long>(i));
    without.push_back({NsPerByte(rest, body), rules[i]->id});
  }
  std::sort(without.begin(), without.end());
  for (size_t i = 0; i < without.size() && i < 8; ++i) std::printf("%12u %9.2f\n", without[i].second, without[i].first);
  return 0;
}
