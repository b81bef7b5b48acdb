// Anthropic messages API. There is no JSON mode: the system prompt asks for one object, and whatever comes
// back is held to the schema like every other provider's answer.
#include "providers/adapter.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace guard::providers {

HttpRequest BuildAnthropicRequest(const ProviderConfig& p, const Prompt& prompt) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("model");
  w.String(p.model.data(), static_cast<rapidjson::SizeType>(p.model.size()));
  w.Key("max_tokens"); w.Int(p.max_output_tokens);
  w.Key("temperature"); w.Int(0);
  w.Key("system");
  w.String(prompt.system.data(), static_cast<rapidjson::SizeType>(prompt.system.size()));
  w.Key("messages");
  w.StartArray();
  w.StartObject();
  w.Key("role"); w.String("user");
  w.Key("content"); w.String(prompt.user.data(), static_cast<rapidjson::SizeType>(prompt.user.size()));
  w.EndObject();
  w.EndArray();
  w.EndObject();

  HttpRequest req;
  req.url = JoinUrl(p.base_url, "/messages");
  req.headers.push_back("Content-Type: application/json");
  req.headers.push_back(absl::StrCat("x-api-key: ", p.api_key));
  req.headers.push_back(absl::StrCat("anthropic-version: ", p.anthropic_version));
  req.body.assign(sb.GetString(), sb.GetSize());
  return req;
}

absl::StatusOr<Completion> ParseAnthropicResponse(const HttpResponse& r) {
  if (r.status < 200 || r.status > 299) return HttpError(r);
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (d.HasParseError() || !d.IsObject()) return absl::DataLossError("anthropic: response is not a JSON object");
  if (!d.HasMember("content") || !d["content"].IsArray()) return absl::DataLossError("anthropic: no content");
  Completion c;
  bool found = false;
  for (const auto& block : d["content"].GetArray()) {
    // Only text blocks carry the answer; concatenating them mirrors how the API splits long text.
    if (block.IsObject() && block.HasMember("type") && block["type"].IsString() &&
        std::string_view(block["type"].GetString()) == "text" && block.HasMember("text") &&
        block["text"].IsString()) {
      c.text.append(block["text"].GetString(), block["text"].GetStringLength());
      found = true;
    }
  }
  if (!found) return absl::DataLossError("anthropic: no text block in content");
  if (d.HasMember("usage") && d["usage"].IsObject()) {
    const auto& u = d["usage"];
    if (u.HasMember("input_tokens") && u["input_tokens"].IsInt64()) c.input_tokens = u["input_tokens"].GetInt64();
    if (u.HasMember("output_tokens") && u["output_tokens"].IsInt64()) c.output_tokens = u["output_tokens"].GetInt64();
  }
  return c;
}

}  // namespace guard::providers
