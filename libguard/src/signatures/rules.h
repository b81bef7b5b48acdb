// Signature rules: the validated, in-memory form of a rules file (schema/rules.schema.json).
//
// Rules are data, not code: the core set ships in libguard/rules/core.json (embedded in the library at
// build time) and custom rules use the same shape. Loading validates the JSON against the schema first,
// so every later step can trust the shape and report problems by rule id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "guard.h"
#include "request/fields.h"
#include "transforms/transforms.h"

namespace guard::signatures {

// A place a rule looks at: a set of field kinds, optionally restricted to one field name.
struct RuleTarget {
  uint32_t kinds = 0;         // bit (1 << request::Target)
  std::string name;           // lowercase; empty = any field of those kinds
  bool custom_only = false;   // headers only: those that are not standard (see IsStandardHeader)
  // A rule's named target also reads a nested field of that name: `args:lang` reads the JSON key
  // `data.attributes.lang` and the form field `user[lang]`, as the application sees them. Exclusion targets
  // (exclusions.h) leave it off: an exclusion never widens beyond the field it names.
  bool leaf = false;

  bool Accepts(const request::Field& f) const;
};

// The last segment of a nested field name: "lang" for "data.attributes.lang", "a.0.lang" and "user[lang]";
// empty for a name that is not nested.
std::string_view LeafName(std::string_view name);

// Standard HTTP, proxy and tracing headers, whose values have known shapes (quotes, semicolons, commas)
// that generic injection rules would misread; rules read them only by name.
bool IsStandardHeader(std::string_view lowercase_or_not_name);

struct Rule {
  uint32_t id = 0;
  guard_category category = GUARD_CAT_CUSTOM;
  int severity = 0;
  int paranoia = 1;
  std::vector<RuleTarget> targets;
  std::vector<transforms::Transform> transforms;
  std::vector<std::string> patterns;
  bool case_sensitive = false;
  std::string message;

  uint32_t target_kinds() const;  // union of targets' kinds
  bool Applies(const request::Field& f) const;
};

struct RuleSet {
  std::string version;
  std::vector<Rule> rules;
};

// Parses and validates a rules file. Errors name the JSON path (e.g. /rules/3/severity) or the rule id.
absl::StatusOr<RuleSet> ParseRules(std::string_view rules_json);

// Converts an array of rule objects that already passed schema validation (e.g. the config's
// custom_rules); `what` names the source in errors ("rules", "config").
absl::StatusOr<std::vector<Rule>> RulesFromJson(const rapidjson::Value& array, std::string_view what);

// The core rule set compiled into the library, and the schema rules files follow.
std::string_view CoreRulesJson();
std::string_view RulesSchemaJson();

// Category name <-> enum, as in guard.h.
std::string_view CategoryName(guard_category c);
bool ParseCategory(std::string_view name, guard_category* out);

}  // namespace guard::signatures
