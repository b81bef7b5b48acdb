// JSON Schema validation with messages a person can act on.
//
// RapidJSON's validator (draft-04) reports only pointers and a keyword; this wrapper turns that into
// "/mode: must be one of \"block\", \"monitor\" (got \"blok\")" so that the Admin API, guardctl and the
// gateway logs name the field and the rule broken. Schemas are compiled once and reused.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "rapidjson/schema.h"

namespace guard::common {

class JsonSchema {
 public:
  // Parses a schema document; an invalid schema is a bug in the shipped file, reported as an error.
  static absl::StatusOr<std::unique_ptr<JsonSchema>> Compile(std::string_view schema_json);

  // Parses `json` into *doc and validates it. On failure the status message names the JSON path
  // (RFC 6901 pointer, "/" for the root) and what the schema requires there.
  absl::Status ParseAndValidate(std::string_view json, rapidjson::Document* doc) const;

  // Validates an already-parsed value.
  absl::Status Validate(const rapidjson::Value& value) const;

 private:
  JsonSchema() = default;
  rapidjson::Document schema_doc_;
  std::unique_ptr<rapidjson::SchemaDocument> schema_;
};

// Renders a JSON value compactly (for messages); long values are cut at max_len bytes.
std::string JsonSnippet(const rapidjson::Value& value, size_t max_len = 60);

}  // namespace guard::common
