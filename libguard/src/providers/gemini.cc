// Google Gemini generateContent. responseMimeType application/json is Gemini's JSON mode; the key goes in
// the x-goog-api-key header rather than the URL so it never lands in a proxy or curl error log.
#include "providers/adapter.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace guard::providers {

HttpRequest BuildGeminiRequest(const ProviderConfig& p, const Prompt& prompt) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("systemInstruction");
  w.StartObject();
  w.Key("parts");
  w.StartArray();
  w.StartObject();
  w.Key("text"); w.String(prompt.system.data(), static_cast<rapidjson::SizeType>(prompt.system.size()));
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.Key("contents");
  w.StartArray();
  w.StartObject();
  w.Key("role"); w.String("user");
  w.Key("parts");
  w.StartArray();
  w.StartObject();
  w.Key("text"); w.String(prompt.user.data(), static_cast<rapidjson::SizeType>(prompt.user.size()));
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.Key("generationConfig");
  w.StartObject();
  w.Key("responseMimeType"); w.String("application/json");
  w.Key("temperature"); w.Int(0);
  w.Key("maxOutputTokens"); w.Int(p.max_output_tokens);
  w.EndObject();
  w.EndObject();

  HttpRequest req;
  req.url = JoinUrl(p.base_url, absl::StrCat("/models/", p.model, ":generateContent"));
  req.headers.push_back("Content-Type: application/json");
  if (!p.api_key.empty()) req.headers.push_back(absl::StrCat("x-goog-api-key: ", p.api_key));
  req.body.assign(sb.GetString(), sb.GetSize());
  return req;
}

absl::StatusOr<Completion> ParseGeminiResponse(const HttpResponse& r) {
  if (r.status < 200 || r.status > 299) return HttpError(r);
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (d.HasParseError() || !d.IsObject()) return absl::DataLossError("gemini: response is not a JSON object");
  if (!d.HasMember("candidates") || !d["candidates"].IsArray() || d["candidates"].Empty()) {
    return absl::DataLossError("gemini: no candidates (blocked prompt?)");
  }
  const auto& cand = d["candidates"][0];
  if (!cand.IsObject() || !cand.HasMember("content") || !cand["content"].IsObject() ||
      !cand["content"].HasMember("parts") || !cand["content"]["parts"].IsArray()) {
    return absl::DataLossError("gemini: candidates[0].content.parts missing");
  }
  Completion c;
  for (const auto& part : cand["content"]["parts"].GetArray()) {
    if (part.IsObject() && part.HasMember("text") && part["text"].IsString()) {
      c.text.append(part["text"].GetString(), part["text"].GetStringLength());
    }
  }
  if (c.text.empty()) return absl::DataLossError("gemini: no text part");
  if (d.HasMember("usageMetadata") && d["usageMetadata"].IsObject()) {
    const auto& u = d["usageMetadata"];
    if (u.HasMember("promptTokenCount") && u["promptTokenCount"].IsInt64()) {
      c.input_tokens = u["promptTokenCount"].GetInt64();
    }
    if (u.HasMember("candidatesTokenCount") && u["candidatesTokenCount"].IsInt64()) {
      c.output_tokens = u["candidatesTokenCount"].GetInt64();
    }
  }
  return c;
}

}  // namespace guard::providers
