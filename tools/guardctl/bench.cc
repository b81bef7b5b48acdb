// guardctl bench: single-threaded guard_inspect throughput and latency over a corpus.
//
// One warm-up pass (page in the engine, fill per-thread scratch), then --iterations passes timed per
// request with steady_clock. Reports requests/s over the timed passes and the median and p99 of the
// per-request times. The clock reads are inside the measurement (~20 ns each on Linux).
//
// Two sets of passes: "first sight" passes each run on a new thread, whose per-thread state (the matcher's
// memo of clean header and name fields, signatures/clean_memo.h) starts empty, so every request is seen
// once, as at a gateway where only what clients really repeat (Host, User-Agent, ...) is seen again;
// "replayed" passes run on one thread, where the whole corpus has been seen before.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <utility>

#include "commands.h"
#include "options.h"

namespace guardctl {
namespace {
bool ParsePositive(const std::string& s, int* out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::stoi(s);
  return *out > 0;
}
}  // namespace


int RunBench(const std::vector<std::string>& args) {
  auto opts = ParseOptions(args, {"--format", "--config", "--iterations"}, {});
  if (!opts.ok()) {
    std::cerr << "guardctl bench: " << opts.status().message() << "\n";
    return kExitUsage;
  }
  int iterations = 5;
  if (opts->has("--iterations") && (!ParsePositive(opts->get("--iterations"), &iterations))) {
    std::cerr << "guardctl bench: --iterations must be a positive integer\n";
    return kExitUsage;
  }
  auto reqs = ReadInputs(*opts);
  if (!reqs.ok()) {
    std::cerr << "guardctl bench: " << reqs.status().message() << "\n";
    return kExitUsage;
  }
  if (reqs->empty()) {
    std::cerr << "guardctl bench: no requests\n";
    return kExitUsage;
  }
  EnginePtr engine = LoadEngine(opts->get("--config"));
  if (!engine) return kExitUsage;

  // Warm-up pass; a request the engine cannot inspect is reported and left out of the timed passes.
  std::vector<RequestView> views;
  views.reserve(reqs->size());
  guard_verdict v{};
  char err[512];
  size_t failed = 0;
  for (const auto& r : *reqs) {
    RequestView view(r);
    if (guard_inspect(engine.get(), view.get(), &v, err, sizeof err) != GUARD_OK) {
      if (++failed <= 5) std::cerr << "guardctl bench: " << r.id << ": guard_inspect failed: " << err << "\n";
      continue;
    }
    views.push_back(std::move(view));
  }
  if (failed > 0) std::cerr << "guardctl bench: " << failed << " requests excluded (inspect failed)\n";
  if (views.empty()) return kExitUsage;
  struct Timed {
    std::vector<int64_t> ns;
    int64_t blocked = 0;
    double secs = 0;
  };
  auto pass = [&](Timed* t) {
    guard_verdict pv{};
    char perr[512];
    auto start = std::chrono::steady_clock::now();
    for (const auto& view : views) {
      auto t0 = std::chrono::steady_clock::now();
      guard_inspect(engine.get(), view.get(), &pv, perr, sizeof perr);
      auto t1 = std::chrono::steady_clock::now();
      t->ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
      t->blocked += pv.action == GUARD_ACTION_BLOCK;
    }
    t->secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  Timed first, replayed;
  for (int it = 0; it < iterations; ++it) std::thread(pass, &first).join();
  for (int it = 0; it < iterations; ++it) pass(&replayed);
  std::printf("requests: %zu x %d iterations, blocked %.1f%%\n", views.size(), iterations,
              100.0 * replayed.blocked / replayed.ns.size());
  for (auto [name, t] : {std::pair{"first sight (a new thread per pass)", &first}, std::pair{"replayed", &replayed}}) {
    std::sort(t->ns.begin(), t->ns.end());
    auto pct = [&](double p) { return t->ns[std::min(t->ns.size() - 1, static_cast<size_t>(p * t->ns.size()))]; };
    std::printf("%s: %.0f requests/s (1 thread), latency median %lld ns, p99 %lld ns, max %lld ns\n", name,
                t->ns.size() / t->secs, static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.99)),
                static_cast<long long>(t->ns.back()));
  }
  return kExitOk;
}

}  // namespace guardctl
