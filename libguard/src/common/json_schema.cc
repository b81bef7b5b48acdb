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

// Serves the schemas named by "$ref": "<name>#..." from memory (they are embedded in the library).
class JsonSchema::Provider : public rapidjson::IRemoteSchemaDocumentProvider {
 public:
  struct Doc {
    std::string name;
    rapidjson::Document raw;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
  };
  std::vector<std::unique_ptr<Doc>> docs;

  const rapidjson::SchemaDocument* GetRemoteDocument(const char* uri, rapidjson::SizeType length) override {
    // RapidJSON 1.1.0 (Debian 12) passes the length of the part before '#' minus one (an off-by-one in
    // HandleRefSchema): accept the name given whole or short of its last character.
    std::string_view asked(uri, length);
    for (const auto& d : docs) {
      std::string_view name = d->name;
      if (name == asked || (name.size() == asked.size() + 1 && name.substr(0, asked.size()) == asked)) {
        return d->schema.get();
      }
    }
    return nullptr;
  }
};

JsonSchema::JsonSchema() = default;
JsonSchema::~JsonSchema() = default;

absl::StatusOr<std::unique_ptr<JsonSchema>> JsonSchema::Compile(std::string_view schema_json,
                                                                std::vector<Remote> remotes) {
  std::unique_ptr<JsonSchema> js(new JsonSchema());
  js->provider_ = std::make_unique<Provider>();
  for (const Remote& r : remotes) {
    auto d = std::make_unique<Provider::Doc>();
    d->name = std::string(r.name);
    d->raw.Parse(r.json.data(), r.json.size());
    if (d->raw.HasParseError()) {
      return absl::InternalError(absl::StrCat("embedded JSON Schema ", std::string(r.name), " does not parse"));
    }
    d->schema = std::make_unique<rapidjson::SchemaDocument>(d->raw);
    js->provider_->docs.push_back(std::move(d));
  }
  js->schema_doc_.Parse(schema_json.data(), schema_json.size());
  if (js->schema_doc_.HasParseError()) {
    return absl::InternalError(absl::StrCat("embedded JSON Schema does not parse: ",
                                            rapidjson::GetParseError_En(js->schema_doc_.GetParseError())));
  }
  js->schema_ = std::make_unique<rapidjson::SchemaDocument>(js->schema_doc_, js->provider_.get());
  return js;
}

// Resolves "$ref" ("#/..." in the main schema, "<remote>#/..." in a remote one) until a plain node.
const rapidjson::Value* JsonSchema::Resolve(const rapidjson::Value* node) const {
  for (int hops = 0; node && node->IsObject() && hops < 8; ++hops) {
    auto ref = node->FindMember("$ref");
    if (ref == node->MemberEnd() || !ref->value.IsString()) return node;
    std::string_view r(ref->value.GetString(), ref->value.GetStringLength());
    size_t hash = r.find('#');
    if (hash == std::string_view::npos) return nullptr;
    const rapidjson::Value* root = &schema_doc_;
    if (hash > 0) {
      root = nullptr;
      for (const auto& d : provider_->docs) {
        if (d->name == r.substr(0, hash)) root = &d->raw;
      }
      if (!root) return nullptr;
    }
    rapidjson::Pointer p(r.data() + hash + 1, r.size() - hash - 1);
    node = p.IsValid() ? p.Get(*root) : nullptr;
  }
  return node;
}

const rapidjson::Value* JsonSchema::SchemaForDocumentPath(const rapidjson::Pointer& doc_ptr) const {
  const rapidjson::Value* node = Resolve(&schema_doc_);
  for (size_t i = 0; node && i < doc_ptr.GetTokenCount(); ++i) {
    const auto& tok = doc_ptr.GetTokens()[i];
    if (tok.index != rapidjson::kPointerInvalidIndex && node->HasMember("items")) {
      node = Resolve(&(*node)["items"]);
      continue;
    }
    auto props = node->FindMember("properties");
    if (props == node->MemberEnd()) return nullptr;
    auto it = props->value.FindMember(rapidjson::Value(tok.name, tok.length));
    node = it == props->value.MemberEnd() ? nullptr : Resolve(&it->value);
  }
  return node;
}

// The schema node an error points at: in the main document, or (for errors inside a $ref'd schema) in
// the remote one the pointer resolves in.
const rapidjson::Value* JsonSchema::SchemaAt(const rapidjson::Pointer& p) const {
  if (const rapidjson::Value* v = p.Get(schema_doc_)) return v;
  for (const auto& d : provider_->docs) {
    if (const rapidjson::Value* v = p.Get(d->raw)) return v;
    // RapidJSON reports pointers inside a $ref'd definition relative to that definition.
    if (auto defs = d->raw.FindMember("definitions"); defs != d->raw.MemberEnd() && defs->value.IsObject()) {
      for (const auto& def : defs->value.GetObject()) {
        if (const rapidjson::Value* v = p.Get(def.value)) return v;
      }
    }
  }
  return nullptr;
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
  const rapidjson::Value* schema_at = SchemaAt(schema_ptr);
  if (schema_ptr.GetTokenCount() == 0 && doc_ptr.GetTokenCount() != 0) {
    // RapidJSON 1.1.0 loses the schema pointer inside a $ref'd remote schema: find the schema node by
    // walking the schema along the document path instead.
    schema_at = SchemaForDocumentPath(doc_ptr);
  }
  static const rapidjson::Value kNull;
  std::string what = Describe(validator.GetInvalidSchemaKeyword(), schema_at ? *schema_at : kNull,
                              got ? *got : kNull);
  return absl::InvalidArgumentError(absl::StrCat(PointerString(doc_ptr), ": ", what));
}

}  // namespace guard::common
