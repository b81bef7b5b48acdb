// Protocol checks: structural anomalies of the request itself (method, framing headers, encodings,
// Host, restricted headers), in the spirit of CRS's 911/920 rules. They are code rather than Hyperscan
// patterns because they compare headers with each other, count things and parse numbers; they report
// findings with rule ids like signatures do, honour paranoia levels and can be disabled by id.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "guard.h"
#include "request/fields.h"

namespace guard::protocol {

struct CheckInfo {
  uint32_t id;
  int severity;
  int paranoia;
  std::string_view message;
};

// Every protocol check, for listing and documentation.
std::span<const CheckInfo> AllChecks();

struct Finding {
  uint32_t id;
  int severity;
  std::string_view target;  // e.g. "headers:content-length", "method", "path"
};

class Checker {
 public:
  Checker(int paranoia_level, std::span<const uint32_t> disabled_rules);

  // Appends a finding per failed check. Reads the raw request (framing headers, method) and the parse
  // flags of its fields. No allocation beyond `out` growing, no syscalls.
  void Run(const guard_request& req, const request::FieldList& fields, std::vector<Finding>* out) const;

 private:
  bool Enabled(uint32_t id) const;
  uint64_t enabled_ = 0;  // bit (id - kFirstId)
};

}  // namespace guard::protocol
