#include "common/json_schema.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidjson/error/en.h"
#include "rapidjson/pointer.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace guard::common {
namespace {

std::string PointerString(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer sb;
  p.Stringify(sb);
  std::string s = sb.GetString();
  return s.empty() ? "/" : s;
}

// Names the first property listed in "required" that `obj` lacks.
std::string MissingProperty(const rapidjson::Value& schema, const rapidjson::Value& obj) {
  auto req = schema.FindMember("required");
  if (req == schema.MemberEnd() || !req->value.IsArray() || !obj.IsObject()) return "";
  for (auto& name : req->value.GetArray()) {
    if (name.IsString() && !obj.HasMember(name)) return name.GetString();
  }
  return "";
}

std::string Describe(std::string_view keyword, const rapidjson::Value& schema, const rapidjson::Value& got) {
  auto kw = [&](const char* k) -> const rapidjson::Value* {
    auto it = schema.FindMember(k);
    return it == schema.MemberEnd() ? nullptr : &it->value;
  };
  std::string got_s = JsonSnippet(got);
  if (keyword == "enum" && kw("enum")) {
    std::vector<std::string> opts;
    for (auto& v : kw("enum")->GetArray()) opts.push_back(JsonSnippet(v));
    return absl::StrCat("must be one of ", absl::StrJoin(opts, ", "), " (got ", got_s, ")");
  }
  if (keyword == "type" && kw("type")) return absl::StrCat("must be of type ", JsonSnippet(*kw("type")), " (got ", got_s, ")");
  if (keyword == "minimum" && kw("minimum")) return absl::StrCat("must be >= ", JsonSnippet(*kw("minimum")), " (got ", got_s, ")");
  if (keyword == "maximum" && kw("maximum")) return absl::StrCat("must be <= ", JsonSnippet(*kw("maximum")), " (got ", got_s, ")");
  if (keyword == "minLength" && kw("minLength")) return absl::StrCat("must be at least ", JsonSnippet(*kw("minLength")), " characters long");
  if (keyword == "maxLength" && kw("maxLength")) return absl::StrCat("must be at most ", JsonSnippet(*kw("maxLength")), " characters long");
  if (keyword == "minItems" && kw("minItems")) return absl::StrCat("must have at least ", JsonSnippet(*kw("minItems")), " items");
  if (keyword == "maxItems" && kw("maxItems")) return absl::StrCat("must have at most ", JsonSnippet(*kw("maxItems")), " items");
  if (keyword == "pattern" && kw("pattern")) return absl::StrCat("must match the pattern ", JsonSnippet(*kw("pattern")), " (got ", got_s, ")");
  if (keyword == "uniqueItems") return "duplicates an earlier item";
  if (keyword == "additionalProperties") return "unknown field";
  if (keyword == "required") return absl::StrCat("missing required field '", MissingProperty(schema, got), "'");
  return absl::StrCat("violates the schema keyword '", std::string(keyword), "' (got ", got_s, ")");
}

}  // namespace

std::string JsonSnippet(const rapidjson::Value& value, size_t max_len) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  value.Accept(w);
  std::string s(sb.GetString(), sb.GetSize());
  if (s.size() > max_len) s = s.substr(0, max_len) + "...";
  return s;
}

absl::StatusOr<std::unique_ptr<JsonSchema>> JsonSchema::Compile(std::string_view schema_json) {
  std::unique_ptr<JsonSchema> js(new JsonSchema());
  js->schema_doc_.Parse(schema_json.data(), schema_json.size());
  if (js->schema_doc_.HasParseError()) {
    return absl::InternalError(absl::StrCat("embedded JSON Schema does not parse: ",
                                            rapidjson::GetParseError_En(js->schema_doc_.GetParseError())));
  }
  js->schema_ = std::make_unique<rapidjson::SchemaDocument>(js->schema_doc_);
  return js;
}

absl::Status JsonSchema::ParseAndValidate(std::string_view json, rapidjson::Document* doc) const {
  doc->Parse(json.data(), json.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON at offset ", doc->GetErrorOffset(), ": ",
                                                    rapidjson::GetParseError_En(doc->GetParseError())));
  }
  return Validate(*doc);
}

absl::Status JsonSchema::Validate(const rapidjson::Value& value) const {
  rapidjson::SchemaValidator validator(*schema_);
  if (value.Accept(validator)) return absl::OkStatus();
  const rapidjson::Pointer doc_ptr = validator.GetInvalidDocumentPointer();
  const rapidjson::Pointer schema_ptr = validator.GetInvalidSchemaPointer();
  const rapidjson::Value* got = doc_ptr.Get(value);
  const rapidjson::Value* schema_at = schema_ptr.Get(schema_doc_);
  static const rapidjson::Value kNull;
  std::string what = Describe(validator.GetInvalidSchemaKeyword(), schema_at ? *schema_at : kNull,
                              got ? *got : kNull);
  return absl::InvalidArgumentError(absl::StrCat(PointerString(doc_ptr), ": ", what));
}

}  // namespace guard::common
