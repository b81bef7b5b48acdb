// Adapter dispatch and the helpers the three wire protocols share.
#include "providers/adapter.h"
#include "providers/sv.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"

namespace guard::providers {

HttpRequest BuildRequest(const ProviderConfig& p, const Prompt& prompt) {
  switch (p.kind) {
    case ProviderKind::kOpenAI: return BuildOpenAIRequest(p, prompt);
    case ProviderKind::kAnthropic: return BuildAnthropicRequest(p, prompt);
    case ProviderKind::kGemini: return BuildGeminiRequest(p, prompt);
  }
  return BuildOpenAIRequest(p, prompt);
}

absl::StatusOr<Completion> ParseResponse(ProviderKind kind, const HttpResponse& r) {
  switch (kind) {
    case ProviderKind::kOpenAI: return ParseOpenAIResponse(r);
    case ProviderKind::kAnthropic: return ParseAnthropicResponse(r);
    case ProviderKind::kGemini: return ParseGeminiResponse(r);
  }
  return absl::InternalError("unknown provider kind");
}

absl::Status HttpError(const HttpResponse& r) {
  // Providers put a message in {"error":{"message":...}}; take it when present, bounded, for the logs.
  std::string msg;
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("error")) {
    const auto& e = d["error"];
    if (e.IsObject() && e.HasMember("message") && e["message"].IsString()) {
      msg.assign(e["message"].GetString(), std::min<size_t>(e["message"].GetStringLength(), 160));
    } else if (e.IsString()) {
      msg.assign(e.GetString(), std::min<size_t>(e.GetStringLength(), 160));
    }
  }
  std::string text = absl::StrCat("HTTP ", r.status, msg.empty() ? "" : ": ", msg);
  if (r.status == 429) return absl::ResourceExhaustedError(text);
  if (r.status == 401 || r.status == 403) return absl::PermissionDeniedError(text);
  if (r.status >= 500) return absl::UnavailableError(text);
  return absl::InvalidArgumentError(text);
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  if (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return absl::StrCat(AV(base), AV(path));
}

}  // namespace guard::providers
