// JSON Schema validation with messages a person can act on.
//
// RapidJSON's validator (draft-04) reports only pointers and a keyword; this wrapper turns that into
// "/mode: must be one of \"block\", \"monitor\" (got \"blok\")" so that the Admin API, guardctl and the
// gateway logs name the field and the rule broken. Schemas are compiled once and reused.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "rapidjson/schema.h"

namespace guard::common {

class JsonSchema {
 public:
  // A schema another one refers to with "$ref": "<name>#/pointer" (e.g. rules.schema.json).
  struct Remote {
    std::string_view name;
    std::string_view json;
  };

  // Parses a schema document (and the remote schemas its $refs name); an invalid schema is a bug in the
  // shipped files, reported as an error.
  static absl::StatusOr<std::unique_ptr<JsonSchema>> Compile(std::string_view schema_json,
                                                             std::vector<Remote> remotes = {});

  // Parses `json` into *doc and validates it. On failure the status message names the JSON path
  // (RFC 6901 pointer, "/" for the root) and what the schema requires there.
  absl::Status ParseAndValidate(std::string_view json, rapidjson::Document* doc) const;

  // Validates an already-parsed value.
  absl::Status Validate(const rapidjson::Value& value) const;

 private:
  class Provider;
  JsonSchema();
  const rapidjson::Value* SchemaAt(const rapidjson::Pointer& p) const;
  const rapidjson::Value* Resolve(const rapidjson::Value* node) const;
  const rapidjson::Value* SchemaForDocumentPath(const rapidjson::Pointer& doc_ptr) const;

  rapidjson::Document schema_doc_;
  std::unique_ptr<Provider> provider_;  // declared before schema_: it must outlive it
  std::unique_ptr<rapidjson::SchemaDocument> schema_;

 public:
  ~JsonSchema();
};

// Renders a JSON value compactly (for messages); long values are cut at max_len bytes.
std::string JsonSnippet(const rapidjson::Value& value, size_t max_len = 60);

}  // namespace guard::common
