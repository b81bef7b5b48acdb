// Provider rate-limit headers, normalised.
//
// OpenAI-compatible APIs (OpenAI, Groq, vLLM behind a gateway) send x-ratelimit-{limit,remaining,reset}-
// {requests,tokens}, with resets as Go-style durations ("6m0s", "1.5s", "20ms"); Anthropic sends
// anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset} with RFC 3339 reset times; everyone may send
// retry-after (seconds or an HTTP date). The quota store only needs "how much is left until when".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace guard::providers {

// Response headers with lowercase names, in arrival order.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RateLimitInfo {
  std::optional<int64_t> limit_requests;
  std::optional<int64_t> remaining_requests;
  std::optional<int64_t> limit_tokens;
  std::optional<int64_t> remaining_tokens;
  std::optional<absl::Time> requests_reset_at;
  std::optional<absl::Time> tokens_reset_at;
  std::optional<absl::Time> retry_at;  // from retry-after
  bool empty() const {
    return !limit_requests && !remaining_requests && !limit_tokens && !remaining_tokens && !requests_reset_at &&
           !tokens_reset_at && !retry_at;
  }
};

// "6m0s", "1h2m3.5s", "20ms", "1.5s", "30" (bare seconds). Negative or unparsable values are errors.
absl::StatusOr<absl::Duration> ParseResetDuration(std::string_view text);

// A reset header value: a duration relative to `now`, or an RFC 3339 timestamp.
absl::StatusOr<absl::Time> ParseResetTime(std::string_view text, absl::Time now);

RateLimitInfo ParseRateLimitHeaders(const HeaderList& headers, absl::Time now);

}  // namespace guard::providers
