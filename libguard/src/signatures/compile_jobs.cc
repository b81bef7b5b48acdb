#include "signatures/compile_jobs.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"

namespace guard::signatures {
namespace {

// Compiles one job; errors name the rule of the failing expression.
void RunJob(DbJob& job, const std::vector<Rule>& rules) {
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  for (const std::string& e : job.exprs) {
    ids.push_back(static_cast<unsigned>(exprs.size()));
    exprs.push_back(e.c_str());
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), job.flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, job.out, &err) == HS_SUCCESS) {
    return;
  }
  std::string msg = absl::StrCat("Hyperscan: ", err ? err->message : "compile failed");
  if (err && err->expression >= 0) {
    const Rule& bad = rules[job.expr_rule[err->expression]];
    msg = absl::StrCat("rule ", bad.id, ": pattern '", exprs[err->expression], "': ", err->message);
  }
  hs_free_compile_error(err);
  job.status = absl::InvalidArgumentError(msg);
}

}  // namespace

absl::Status RunJobs(std::vector<DbJob>& jobs, const std::vector<Rule>& rules) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) RunJob(jobs[i], rules);
  };
  const size_t threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 4, jobs.size()});
  std::vector<std::thread> pool;
  try {
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // No thread to be had: the calling thread compiles everything.
  }
  work();
  for (std::thread& t : pool) t.join();
  for (DbJob& job : jobs) {
    if (!job.status.ok()) return job.status;
  }
  return absl::OkStatus();
}

}  // namespace guard::signatures
