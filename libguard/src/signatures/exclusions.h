// Per-route exclusions (tuning): "rule X does not apply to field Y on paths Z", as CRS's
// ctl:ruleRemoveTargetById / ruleRemoveById do. An exclusion names any combination of rule ids, targets
// (rule target syntax: args:comment, headers:x-signature, body) and path patterns; each part left empty
// matches everything, so {rule_ids:[1001]} disables a rule and {targets:["args:html"]} stops every rule
// from reading one field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "request/fields.h"
#include "signatures/rules.h"

namespace guard::signatures {

struct Exclusion {
  std::vector<uint32_t> rule_ids;    // empty: every rule
  std::vector<RuleTarget> targets;   // empty: every field (and findings without a field)
  std::vector<std::string> paths;    // empty: every path; "/api/wiki/*" is a prefix, otherwise exact
};

class Exclusions {
 public:
  // Parses the config's "exclusions" array (validated by the config schema already; this checks the
  // target syntax). Errors name the index: "/exclusions/1/targets/0: unknown target 'argz'".
  static absl::StatusOr<Exclusions> FromJson(const rapidjson::Value& array);

  bool empty() const { return list_.empty(); }

  // True when the finding of `rule_id` on `field` (nullptr for findings not tied to a field, such as
  // protocol checks) for a request to `path` is excluded.
  bool Excludes(uint32_t rule_id, const request::Field* field, std::string_view path) const;

 private:
  std::vector<Exclusion> list_;
};

// Parses one rule target spec ("args:comment", "custom_headers", "body"); false if unknown.
bool ParseRuleTarget(std::string_view spec, RuleTarget* out);

}  // namespace guard::signatures
