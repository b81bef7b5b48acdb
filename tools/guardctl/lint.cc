// guardctl rules lint FILE: guard_rules_check over a rules file; prints OK or the engine's message.
#include <iostream>

#include "commands.h"

namespace guardctl {

int RunRulesLint(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: guardctl rules lint FILE\n";
    return kExitUsage;
  }
  std::string rules;
  if (!ReadWholeFile(args[0], &rules)) return kExitUsage;
  char err[2048] = {0};
  int rc = guard_rules_check(rules.data(), rules.size(), err, sizeof err);
  if (rc == GUARD_OK) {
    std::cout << args[0] << ": OK\n";
    return kExitOk;
  }
  std::cout << args[0] << ": " << (err[0] ? err : "rules check failed") << " (status " << rc << ")\n";
  return rc == GUARD_ERULES ? kExitCheckFailed : kExitUsage;
}

}  // namespace guardctl
