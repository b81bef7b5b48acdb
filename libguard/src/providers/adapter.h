// Provider adapters: one per wire protocol (openai.cc, anthropic.cc, gemini.cc). An adapter is a pair of
// pure functions, prompt -> HTTP request and HTTP response -> completion text + token usage, so that every
// protocol detail is testable without a socket. Verdict validation happens after, in one place
// (verdict.h), so that no adapter can accept an answer another would reject.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "providers/config.h"
#include "providers/prompt.h"
#include "providers/ratelimit.h"

namespace guard::providers {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct HttpResponse {
  long status = 0;
  HeaderList headers;  // lowercase names
  std::string body;
};

struct Completion {
  std::string text;
  int64_t input_tokens = 0;   // 0 when the provider did not say
  int64_t output_tokens = 0;
};

HttpRequest BuildOpenAIRequest(const ProviderConfig& p, const Prompt& prompt);
absl::StatusOr<Completion> ParseOpenAIResponse(const HttpResponse& r);
HttpRequest BuildAnthropicRequest(const ProviderConfig& p, const Prompt& prompt);
absl::StatusOr<Completion> ParseAnthropicResponse(const HttpResponse& r);
HttpRequest BuildGeminiRequest(const ProviderConfig& p, const Prompt& prompt);
absl::StatusOr<Completion> ParseGeminiResponse(const HttpResponse& r);

// Dispatch on p.kind.
HttpRequest BuildRequest(const ProviderConfig& p, const Prompt& prompt);
absl::StatusOr<Completion> ParseResponse(ProviderKind kind, const HttpResponse& r);

// Shared by the adapters: the error for a non-2xx status (the body's message, bounded), and URL joining.
absl::Status HttpError(const HttpResponse& r);
std::string JoinUrl(std::string_view base, std::string_view path);

}  // namespace guard::providers
