// Command-line options shared by scan and bench: positional files plus "--name value" flags.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "readers.h"
#include "strutil.h"

namespace guardctl {

struct Options {
  std::vector<std::string> files;
  std::map<std::string, std::string> values;  // flag -> value ("" for switches)

  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  bool has(const std::string& k) const { return values.count(k) != 0; }
};

// `with_value` lists the flags that take a value, `switches` those that do not.
inline absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args, const std::set<std::string>& with_value,
                                            const std::set<std::string>& switches) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      o.files.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (switches.count(name)) {
      o.values[name] = "";
    } else if (with_value.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return absl::InvalidArgumentError(str::Cat(name, " needs a value"));
        value = args[++i];
      }
      if (name == "--fail-on" && o.values.count(name)) value = o.values[name] + "," + value;  // repeatable
      o.values[name] = value;
    } else {
      return absl::InvalidArgumentError(str::Cat("unknown option ", name));
    }
  }
  return o;
}

// Reads every file of o.files with --format (or the format guessed from each file name).
inline absl::StatusOr<std::vector<Request>> ReadInputs(const Options& o) {
  std::vector<Request> all;
  if (o.files.empty()) return absl::InvalidArgumentError("no input FILE");
  for (const auto& f : o.files) {
    Format fmt = FormatFromPath(f);
    if (o.has("--format")) {
      auto parsed = ParseFormat(o.get("--format"));
      if (!parsed.ok()) return parsed.status();
      fmt = *parsed;
    }
    auto reqs = ReadFile(f, fmt);
    if (!reqs.ok()) return reqs.status();
    for (auto& r : *reqs) {
      r.AddImpliedContentLength();
      all.push_back(std::move(r));
    }
  }
  return all;
}

}  // namespace guardctl
