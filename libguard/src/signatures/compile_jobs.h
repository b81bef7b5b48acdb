// Compiling a matcher's Hyperscan databases, several at a time.
//
// Compilation is the whole cost of building an engine (seconds for the core set: the matcher compiles
// each database class twice and each rule once more on its own) and the databases are independent, so
// they are compiled on a few threads. Configure time only, never the request path; every thread is
// joined before RunJobs returns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <hs/hs.h>

#include "absl/status/status.h"
#include "signatures/rules.h"

namespace guard::signatures {

// One database to compile: its patterns (owned, as jobs run on other threads), their Hyperscan flags, the
// rule of each (for errors) and where the database goes.
struct DbJob {
  std::vector<std::string> exprs;
  std::vector<unsigned> flags;
  std::vector<uint32_t> expr_rule;  // index into the rules passed to RunJobs
  hs_database_t** out = nullptr;
  absl::Status status;
};

// Compiles every job. Returns the error of the first failing job in job order (so that messages do not
// depend on scheduling), naming the rule and pattern; databases that did compile are left in *out for the
// caller to free.
absl::Status RunJobs(std::vector<DbJob>& jobs, const std::vector<Rule>& rules);

}  // namespace guard::signatures
