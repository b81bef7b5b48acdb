// Which rules make an input expensive to scan: Hyperscan ns/byte of every core rule (paranoia 1, rules
// reading unnamed fields) compiled together, then of the same set without each rule in turn.
//
//     build/bench/bench_rule_cost '${${::-' [bytes]
//     build/bench/bench_rule_cost @benign-values.txt [bytes] --patterns
//     build/bench/bench_rule_cost '${T(#{%{' 262144 --alone
//
// UNIT '@FILE' reads the unit from FILE. --patterns leaves out one pattern at a time instead of one rule.
// --rules FILE measures that rules file instead of the core rules (to try a rewrite without rebuilding).
// --joined measures the patterns in the joined form of the matcher's class databases (anchors that also hold
// at the separator byte, fenced off it, no SINGLEMATCH), as the joined scan of a request runs them; the input
// is then best a joined scan buffer (fields separated by \x01).
// --alone measures each rule's (with --patterns, each pattern's) own database instead, each scan stopping at the rule's first match: what the
// matcher does for values of 4 KiB or more (matcher.cc, kJoinMaxBytes), where the sum is what counts.
//
// --per-call N scans the unit itself N times, one Hyperscan call each, and gives ns per call: the fixed cost
// of a call, which small fields pay once per request. --size gives each database's size in bytes instead of a
// time: in the matcher the joined database is read cold (every request touches other memory between two
// scans), and the bytes a request's scan pulls in cost more than the hot figures above show. --total
// prints the figure for all the patterns and stops.
//
// The leave-one-out figure is what matters: patterns share engines inside one database, so a rule's cost
// alone says little. Linear-time matching is guaranteed by Hyperscan; this finds the rules behind a high
// constant (docs/benchmarks.md, "Linearity").
#include <hs/hs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "signatures/joined_pattern.h"
#include "signatures/rules.h"

namespace {

using guard::signatures::Rule;

// One pattern of one rule.
struct Item {
  const Rule* rule;
  size_t pattern;
};

bool g_joined = false;  // --joined: the joined form, without SINGLEMATCH
bool g_size = false;    // --size: the database's size in bytes instead of a time
int g_calls = 0;        // --per-call N: the unit scanned N times by separate calls, cost per call

// ns/byte of the rules' patterns compiled as the matcher's alone database (SINGLEMATCH) or, with --joined,
// as its joined class database; best of 3.
double NsPerByte(const std::vector<Item>& items, const std::string& body, bool stop_at_match = false) {
  std::vector<std::string> written(items.size());
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (const Item& it : items) {
    const Rule* r = it.rule;
    std::string& expr = written[ids.size()];
    if (!g_joined || !guard::signatures::JoinedPattern(r->patterns[it.pattern], &expr)) expr = r->patterns[it.pattern];
    exprs.push_back(expr.c_str());
    flags.push_back(HS_FLAG_DOTALL | HS_FLAG_MULTILINE | (g_joined ? 0 : HS_FLAG_SINGLEMATCH) |
                    (r->case_sensitive ? 0 : HS_FLAG_CASELESS));
    ids.push_back(static_cast<unsigned>(ids.size()));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, &db, &err) != HS_SUCCESS) {
    std::fprintf(stderr, "compile: %s\n", err ? err->message : "?");
    std::exit(2);
  }
  if (g_size) {
    size_t bytes = 0;
    hs_database_size(db, &bytes);
    hs_free_database(db);
    return static_cast<double>(bytes);
  }
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(db, &scratch);
  double best = 1e300;
  auto on_match = [](unsigned, unsigned long long, unsigned long long, unsigned, void* stop) {
    return *static_cast<bool*>(stop) ? 1 : 0;
  };
  for (int round = 0; round < 3; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    for (int call = 0; call < std::max(g_calls, 1); ++call) {
      hs_scan(db, body.data(), static_cast<unsigned>(body.size()), 0, scratch, on_match, &stop_at_match);
    }
    best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  hs_free_scratch(scratch);
  hs_free_database(db);
  return g_calls ? best / g_calls : best / static_cast<double>(body.size());
}

// The whole file, or an error on stderr and false.
bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool by_pattern = std::erase(args, std::string("--patterns")) > 0;
  const bool alone = std::erase(args, std::string("--alone")) > 0;
  g_joined = std::erase(args, std::string("--joined")) > 0;
  g_size = std::erase(args, std::string("--size")) > 0;
  const bool total_only = std::erase(args, std::string("--total")) > 0;
  if (auto c = std::find(args.begin(), args.end(), "--per-call"); c != args.end() && c + 1 != args.end()) {
    g_calls = std::max(1, std::atoi((c + 1)->c_str()));
    args.erase(c, c + 2);
  }
  std::string rules_json(guard::signatures::CoreRulesJson());
  if (auto r = std::find(args.begin(), args.end(), "--rules"); r != args.end() && r + 1 != args.end()) {
    if (!ReadFile(*(r + 1), &rules_json)) return 2;
    args.erase(r, r + 2);
  }
  if (args.empty()) {
    std::fprintf(stderr,
                 "usage: %s UNIT|@FILE [BYTES] [--patterns] [--alone] [--joined] [--per-call N] [--size] [--total] [--rules FILE]\n"
                 "  (UNIT repeated to BYTES, default 262144)\n",
                 argv[0]);
    return 2;
  }
  std::string unit = args[0];
  if (unit.size() > 1 && unit[0] == '@' && !ReadFile(unit.substr(1), &unit)) return 2;
  const size_t size = args.size() > 1 ? std::strtoul(args[1].c_str(), nullptr, 10) : 262144;
  std::string body;
  while (body.size() < size) body += unit;
  if (g_calls) body = unit;  // each call scans the unit once
  auto set = guard::signatures::ParseRules(rules_json);
  if (!set.ok()) {
    std::fprintf(stderr, "rules: %s\n", std::string(set.status().message()).c_str());
    return 2;
  }
  std::vector<Item> items;
  for (const Rule& r : set->rules) {
    const bool named_only = std::all_of(r.targets.begin(), r.targets.end(), [](const auto& t) { return !t.name.empty(); });
    if (r.paranoia != 1 || named_only) continue;
    for (size_t p = 0; p < r.patterns.size(); ++p) items.push_back({&r, p});
  }
  if (alone) {  // each rule's own database, stopping at its first match
    std::vector<std::pair<double, std::string>> costs;
    double sum = 0;
    for (size_t i = 0; i < items.size();) {
      size_t end = i + 1;
      while (!by_pattern && end < items.size() && items[end].rule == items[i].rule) ++end;
      const double ns = NsPerByte(std::vector<Item>(items.begin() + static_cast<long>(i), items.begin() + static_cast<long>(end)), body, true);
      std::string name = std::to_string(items[i].rule->id);
      if (by_pattern) name.append("/").append(std::to_string(items[i].pattern));
      costs.push_back({ns, name});
      sum += ns;
      i = end;
    }
    std::sort(costs.rbegin(), costs.rend());
    std::printf("%zu bytes, each rule alone, stopping at its first match: %.2f ns/byte in all\n", body.size(), sum);
    for (size_t i = 0; i < costs.size() && i < 12; ++i) std::printf("%12s %9.2f\n", costs[i].second.c_str(), costs[i].first);
    return 0;
  }
  const double all = NsPerByte(items, body);
  const std::string shown = unit.size() > 40 ? unit.substr(0, 40) + "..." : unit;
  const char* unit_name = g_size ? "bytes" : g_calls ? "ns/call" : "ns/byte";
  std::printf("%zu patterns, %zu bytes of '%s': %.2f %s\nwithout %-9s %s\n", items.size(), body.size(), shown.c_str(), all,
              unit_name, by_pattern ? "pattern" : "rule", unit_name);
  if (total_only) return 0;
  std::vector<std::pair<double, std::string>> without;
  for (size_t i = 0; i < items.size();) {
    size_t end = i + 1;  // [i, end): one pattern, or every pattern of the rule
    while (!by_pattern && end < items.size() && items[end].rule == items[i].rule) ++end;
    if (end - i == items.size()) break;  // nothing would be left to compile
    std::vector<Item> rest = items;
    rest.erase(rest.begin() + static_cast<long>(i), rest.begin() + static_cast<long>(end));
    std::string name = std::to_string(items[i].rule->id);
    if (by_pattern) name.append("/").append(std::to_string(items[i].pattern));
    without.push_back({NsPerByte(rest, body), name});
    i = end;
  }
  std::sort(without.begin(), without.end());
  for (size_t i = 0; i < without.size() && i < 25; ++i) {
    std::printf("%12s %9.2f\n", without[i].second.c_str(), without[i].first);
  }
  return 0;
}
