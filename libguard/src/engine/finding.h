// A finding: one reason a request looks hostile (a signature rule, a protocol check, later a behaviour
// detector), with what the verdict reports about it. Findings from every detector are scored together.
#pragma once

#include <cstdint>
#include <string_view>

#include "guard.h"

namespace guard::engine {

struct Finding {
  uint32_t rule_id;
  guard_category category;
  int severity;
  std::string_view kind;  // target kind, e.g. "query", "headers", "body"
  std::string_view name;  // field name, or empty
};

}  // namespace guard::engine
