// bench_ab_inspect: first-sight inspect latency of several builds of libguard, measured in one process.
//
//   build/bench/bench_ab_inspect [--rounds N] [--config CONFIG.json] CORPUS.jsonl LIB.so LIB.so [...]
//
// Why: on a shared VM the same build measures 5-10% apart from one minute to the next, which hides the
// 1-5% steps an optimisation is made of. Each LIB.so (a libguard build, e.g. copied aside before a change)
// is loaded into its own link-map namespace (dlmopen), so the builds do not share symbols, and the rounds
// alternate between them pass by pass (one pass: every request once, on a new thread, as `guardctl bench`
// does for "first sight"): whatever the host does to one build's pass it does to the next build's too.
//
// Prints, per build, the median over all its timed requests and the median of its per-round medians, and
// for every build after the first the per-round difference to the first (median and interquartile range
// of the paired differences, which is what to read).
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "guard.h"
#include "options.h"
#include "request.h"

namespace {

struct Lib {
  std::string path;
  void* handle = nullptr;
  int (*engine_new)(const char*, size_t, guard_engine**, char*, size_t) = nullptr;
  void (*engine_free)(guard_engine*) = nullptr;
  int (*inspect)(const guard_engine*, const guard_request*, guard_verdict*, char*, size_t) = nullptr;
  guard_engine* engine = nullptr;
  std::vector<int64_t> all_ns;
  std::vector<int64_t> round_median;
};

template <typename F>
bool Resolve(Lib& lib, const char* name, F* out) {
  *out = reinterpret_cast<F>(dlsym(lib.handle, name));
  if (*out == nullptr) std::cerr << "bench_ab_inspect: " << lib.path << ": no symbol " << name << "\n";
  return *out != nullptr;
}

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int64_t Quantile(std::vector<int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = guardctl::ParseOptions(args, {"--rounds", "--config"}, {});
  if (!opts.ok() || opts->files.size() < 3) {
    std::cerr << "usage: bench_ab_inspect [--rounds N] [--config CONFIG.json] CORPUS.jsonl LIB.so LIB.so [...]\n";
    return 2;
  }
  const int rounds = opts->has("--rounds") ? std::max(1, std::atoi(opts->get("--rounds").c_str())) : 20;
  std::string config = "{}";
  if (opts->has("--config")) {
    FILE* f = std::fopen(opts->get("--config").c_str(), "rb");
    if (f == nullptr) {
      std::cerr << "bench_ab_inspect: cannot open " << opts->get("--config") << "\n";
      return 2;
    }
    config.clear();
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) config.append(buf, n);
    std::fclose(f);
  }

  guardctl::Options corpus_opts;
  corpus_opts.files = {opts->files[0]};
  auto reqs = guardctl::ReadInputs(corpus_opts);
  if (!reqs.ok() || reqs->empty()) {
    std::cerr << "bench_ab_inspect: " << (reqs.ok() ? "no requests" : std::string(reqs.status().message())) << "\n";
    return 2;
  }
  std::vector<guardctl::RequestView> views;
  for (const auto& r : *reqs) views.emplace_back(r);

  std::vector<Lib> libs(opts->files.size() - 1);
  for (size_t i = 0; i < libs.size(); ++i) {
    Lib& lib = libs[i];
    lib.path = opts->files[i + 1];
    // A namespace of its own: two builds share a SONAME, and plain dlopen would return the first one.
    lib.handle = dlmopen(LM_ID_NEWLM, lib.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == nullptr) {
      std::cerr << "bench_ab_inspect: " << lib.path << ": " << dlerror() << "\n";
      return 2;
    }
    if (!Resolve(lib, "guard_engine_new", &lib.engine_new) || !Resolve(lib, "guard_engine_free", &lib.engine_free) ||
        !Resolve(lib, "guard_inspect", &lib.inspect)) {
      return 2;
    }
    char err[1024] = {0};
    if (lib.engine_new(config.data(), config.size(), &lib.engine, err, sizeof err) != GUARD_OK) {
      std::cerr << "bench_ab_inspect: " << lib.path << ": " << err << "\n";
      return 2;
    }
  }

  auto pass = [&](Lib* lib, bool timed) {
    guard_verdict v{};
    char err[512];
    std::vector<int64_t> ns;
    ns.reserve(views.size());
    for (const auto& view : views) {
      auto t0 = std::chrono::steady_clock::now();
      lib->inspect(lib->engine, view.get(), &v, err, sizeof err);
      auto t1 = std::chrono::steady_clock::now();
      ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    if (!timed) return;
    lib->round_median.push_back(Median(ns));
    lib->all_ns.insert(lib->all_ns.end(), ns.begin(), ns.end());
  };
  for (auto& lib : libs) std::thread(pass, &lib, false).join();  // warm-up: page in each engine
  for (int r = 0; r < rounds; ++r) {
    // Alternate the order too, so that no build always runs right after the same one.
    for (size_t k = 0; k < libs.size(); ++k) {
      Lib* lib = &libs[r % 2 == 0 ? k : libs.size() - 1 - k];
      std::thread(pass, lib, true).join();
    }
  }

  std::printf("%zu requests, %d rounds, first sight (a new thread per pass)\n", views.size(), rounds);
  for (size_t i = 0; i < libs.size(); ++i) {
    const Lib& lib = libs[i];
    std::printf("  [%zu] %-40s median %lld ns, median of round medians %lld ns", i, lib.path.c_str(),
                static_cast<long long>(Median(lib.all_ns)), static_cast<long long>(Median(lib.round_median)));
    if (i > 0) {
      std::vector<int64_t> diff;
      for (int r = 0; r < rounds; ++r) diff.push_back(lib.round_median[r] - libs[0].round_median[r]);
      std::printf(", vs [0]: %+lld ns (IQR %+lld..%+lld)", static_cast<long long>(Median(diff)),
                  static_cast<long long>(Quantile(diff, 0.25)), static_cast<long long>(Quantile(diff, 0.75)));
    }
    std::printf("\n");
  }
  for (auto& lib : libs) lib.engine_free(lib.engine);
  return 0;
}
