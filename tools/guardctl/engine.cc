// Engine loading shared by scan and bench.
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"

namespace guardctl {

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "guardctl: " << path << ": cannot open\n";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

EnginePtr LoadEngine(const std::string& config_path) {
  std::string config = "{}";
  if (!config_path.empty() && !ReadWholeFile(config_path, &config)) return nullptr;
  guard_engine* engine = nullptr;
  char err[1024] = {0};
  int rc = guard_engine_new(config.data(), config.size(), &engine, err, sizeof err);
  if (rc != GUARD_OK || engine == nullptr) {
    std::cerr << "guardctl: " << (config_path.empty() ? "default config" : config_path) << ": " << err << " (status "
              << rc << ")\n";
    return nullptr;
  }
  return EnginePtr(engine);
}

}  // namespace guardctl
