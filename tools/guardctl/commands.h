// guardctl's subcommands. Each takes the arguments after its name and returns the process exit code:
// 0 success, 1 the check failed (misses / false positives per --fail-on, a rules file that does not lint),
// 2 usage or input error.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "guard.h"

namespace guardctl {

constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitUsage = 2;

int RunScan(const std::vector<std::string>& args);
int RunBench(const std::vector<std::string>& args);
int RunRulesLint(const std::vector<std::string>& args);

struct EngineDeleter {
  void operator()(guard_engine* e) const { guard_engine_free(e); }
};
using EnginePtr = std::unique_ptr<guard_engine, EngineDeleter>;

// Builds an engine from the config file at `path`, or from "{}" (the defaults) when path is empty.
// On failure prints the error to stderr and returns nullptr.
EnginePtr LoadEngine(const std::string& config_path);

// Reads the whole file into *out; false (with a message on stderr) when it cannot.
bool ReadWholeFile(const std::string& path, std::string* out);

}  // namespace guardctl
