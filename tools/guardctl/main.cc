// guardctl: replays recorded requests through libguard, lints rule files and benchmarks the engine.
//
//   guardctl scan FILE... [--format jsonl|har|http] [--config CONFIG.json] [--output text|jsonl]
//                         [--fail-on attack|fp|attack,fp] [--split tune|holdout] [--verbose]
//   guardctl bench FILE... [--format ...] [--config CONFIG.json] [--iterations N]
//   guardctl rules lint FILE
//   guardctl version
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  guardctl scan FILE... [--format jsonl|har|http] [--config CONFIG.json] [--output text|jsonl]\n"
    "                        [--fail-on attack|fp|attack,fp] [--split tune|holdout] [--verbose]\n"
    "  guardctl bench FILE... [--format jsonl|har|http] [--config CONFIG.json] [--iterations N]\n"
    "  guardctl rules lint FILE\n"
    "  guardctl version\n"
    "exit codes: 0 ok, 1 misses/false positives (per --fail-on) or lint failure, 2 usage or input error\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? guardctl::kExitUsage : guardctl::kExitOk;
  }
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "scan") return guardctl::RunScan(rest);
  if (cmd == "bench") return guardctl::RunBench(rest);
  if (cmd == "rules" && !rest.empty() && rest[0] == "lint") {
    return guardctl::RunRulesLint(std::vector<std::string>(rest.begin() + 1, rest.end()));
  }
  if (cmd == "version") {
    std::cout << "guardctl (libguard " << guard_version() << ")\n";
    return guardctl::kExitOk;
  }
  std::cerr << "guardctl: unknown command \"" << cmd << "\"\n" << kUsage;
  return guardctl::kExitUsage;
}
