// Verdict parsing: RapidJSON's draft-04 validator against the embedded verdict schema. The SchemaDocument is
// built once and is immutable afterwards, so concurrent validators (one per call) may share it.
#include "providers/verdict.h"
#include "providers/sv.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/schema.h"
#include "rapidjson/stringbuffer.h"

namespace guard::embedded {
std::string_view verdict_schema();
}

namespace guard::providers {
namespace {

const rapidjson::SchemaDocument& Schema() {
  static const rapidjson::SchemaDocument* schema = [] {
    rapidjson::Document d;
    std::string_view text = guard::embedded::verdict_schema();
    d.Parse(text.data(), text.size());
    // The schema is ours and compiled in; a parse failure is a build bug that every test would catch.
    return new rapidjson::SchemaDocument(d);
  }();
  return *schema;
}

std::string_view StripFence(std::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(AV(text));
  if (absl::ConsumePrefix(&s, "```")) {
    absl::ConsumePrefix(&s, "json");
    if (!absl::ConsumeSuffix(&s, "```")) return {};  // an unterminated fence is not an answer
    s = absl::StripAsciiWhitespace(s);
  }
  return SV(s);
}

}  // namespace

std::string_view AiActionName(AiAction a) {
  switch (a) {
    case AiAction::kAllow: return "allow";
    case AiAction::kMonitor: return "monitor";
    case AiAction::kBlock: return "block";
  }
  return "allow";
}

std::string_view VerdictSchemaText() { return guard::embedded::verdict_schema(); }

absl::StatusOr<AiVerdict> ParseVerdict(std::string_view model_text) {
  std::string_view body = StripFence(model_text);
  if (body.empty()) return absl::InvalidArgumentError("model answer is empty");
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat("model answer is not JSON: ",
                                                   rapidjson::GetParseError_En(d.GetParseError()),
                                                   " at offset ", d.GetErrorOffset()));
  }
  rapidjson::SchemaValidator validator(Schema());
  if (!d.Accept(validator)) {
    rapidjson::StringBuffer where;
    validator.GetInvalidSchemaPointer().StringifyUriFragment(where);
    rapidjson::StringBuffer doc_where;
    validator.GetInvalidDocumentPointer().StringifyUriFragment(doc_where);
    return absl::InvalidArgumentError(absl::StrCat("model answer is off-schema: rule '",
                                                   validator.GetInvalidSchemaKeyword(), "' at ",
                                                   where.GetString(), ", value ", doc_where.GetString()));
  }
  AiVerdict v;
  v.threat = d["threat"].GetBool();
  v.category.assign(d["category"].GetString(), d["category"].GetStringLength());
  v.confidence = d["confidence"].GetDouble();
  std::string_view action(d["action"].GetString(), d["action"].GetStringLength());
  v.action = action == "block" ? AiAction::kBlock : action == "monitor" ? AiAction::kMonitor : AiAction::kAllow;
  v.reason.assign(d["reason"].GetString(), d["reason"].GetStringLength());
  return v;
}

}  // namespace guard::providers
