// OpenAI chat completions, which Groq, Ollama (/v1) and vLLM also speak. JSON mode
// (response_format: json_object) makes the model emit one JSON object; the schema check still follows,
// because JSON mode guarantees syntax, not our keys.
#include "providers/adapter.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace guard::providers {

HttpRequest BuildOpenAIRequest(const ProviderConfig& p, const Prompt& prompt) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("model");
  w.String(p.model.data(), static_cast<rapidjson::SizeType>(p.model.size()));
  w.Key("messages");
  w.StartArray();
  w.StartObject();
  w.Key("role"); w.String("system");
  w.Key("content"); w.String(prompt.system.data(), static_cast<rapidjson::SizeType>(prompt.system.size()));
  w.EndObject();
  w.StartObject();
  w.Key("role"); w.String("user");
  w.Key("content"); w.String(prompt.user.data(), static_cast<rapidjson::SizeType>(prompt.user.size()));
  w.EndObject();
  w.EndArray();
  w.Key("temperature"); w.Int(0);
  w.Key("max_tokens"); w.Int(p.max_output_tokens);
  w.Key("response_format");
  w.StartObject();
  w.Key("type"); w.String("json_object");
  w.EndObject();
  w.EndObject();

  HttpRequest req;
  req.url = JoinUrl(p.base_url, "/chat/completions");
  req.headers.push_back("Content-Type: application/json");
  if (!p.api_key.empty()) req.headers.push_back(absl::StrCat("Authorization: Bearer ", p.api_key));
  req.body.assign(sb.GetString(), sb.GetSize());
  return req;
}

absl::StatusOr<Completion> ParseOpenAIResponse(const HttpResponse& r) {
  if (r.status < 200 || r.status > 299) return HttpError(r);
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (d.HasParseError() || !d.IsObject()) return absl::DataLossError("openai: response is not a JSON object");
  if (!d.HasMember("choices") || !d["choices"].IsArray() || d["choices"].Empty()) {
    return absl::DataLossError("openai: response has no choices");
  }
  const auto& choice = d["choices"][0];
  if (!choice.IsObject() || !choice.HasMember("message") || !choice["message"].IsObject() ||
      !choice["message"].HasMember("content") || !choice["message"]["content"].IsString()) {
    return absl::DataLossError("openai: choices[0].message.content missing");
  }
  Completion c;
  const auto& content = choice["message"]["content"];
  c.text.assign(content.GetString(), content.GetStringLength());
  if (d.HasMember("usage") && d["usage"].IsObject()) {
    const auto& u = d["usage"];
    if (u.HasMember("prompt_tokens") && u["prompt_tokens"].IsInt64()) c.input_tokens = u["prompt_tokens"].GetInt64();
    if (u.HasMember("completion_tokens") && u["completion_tokens"].IsInt64()) {
      c.output_tokens = u["completion_tokens"].GetInt64();
    }
  }
  return c;
}

}  // namespace guard::providers
