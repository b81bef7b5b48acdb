// Rate-limit header parsing (see ratelimit.h). Unknown or malformed values are ignored, not errors: a
// provider changing its header format must degrade to "no information", never to a failed call.
#include "providers/ratelimit.h"
#include "providers/sv.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace guard::providers {
namespace {

std::optional<int64_t> Int(std::string_view v) {
  int64_t n;
  if (absl::SimpleAtoi(absl::StripAsciiWhitespace(AV(v)), &n) && n >= 0) return n;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseResetDuration(std::string_view text) {
  std::string_view s = SV(absl::StripAsciiWhitespace(AV(text)));
  if (s.empty()) return absl::InvalidArgumentError("empty duration");
  double bare;
  if (absl::SimpleAtod(AV(s), &bare)) {
    if (bare < 0) return absl::InvalidArgumentError("negative duration");
    return absl::Seconds(bare);
  }
  // absl::ParseDuration speaks Go's syntax, which is exactly what OpenAI sends ("6m0s", "20ms").
  absl::Duration d;
  if (!absl::ParseDuration(AV(s), &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bad duration '", AV(s), "'"));
  }
  return d;
}

absl::StatusOr<absl::Time> ParseResetTime(std::string_view text, absl::Time now) {
  std::string_view s = SV(absl::StripAsciiWhitespace(AV(text)));
  if (s.size() >= 20 && std::isdigit(static_cast<unsigned char>(s[0])) && s[4] == '-') {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, AV(s), &t, &err)) return t;
    return absl::InvalidArgumentError(absl::StrCat("bad timestamp '", AV(s), "': ", err));
  }
  absl::StatusOr<absl::Duration> d = ParseResetDuration(s);
  if (!d.ok()) return d.status();
  return now + *d;
}

RateLimitInfo ParseRateLimitHeaders(const HeaderList& headers, absl::Time now) {
  RateLimitInfo info;
  auto reset = [&](std::string_view v, std::optional<absl::Time>& out) {
    absl::StatusOr<absl::Time> t = ParseResetTime(v, now);
    if (t.ok()) out = *t;
  };
  for (const auto& [name, value] : headers) {
    if (name == "x-ratelimit-limit-requests" || name == "anthropic-ratelimit-requests-limit") {
      info.limit_requests = Int(value);
    } else if (name == "x-ratelimit-remaining-requests" || name == "anthropic-ratelimit-requests-remaining") {
      info.remaining_requests = Int(value);
    } else if (name == "x-ratelimit-limit-tokens" || name == "anthropic-ratelimit-tokens-limit") {
      info.limit_tokens = Int(value);
    } else if (name == "x-ratelimit-remaining-tokens" || name == "anthropic-ratelimit-tokens-remaining") {
      info.remaining_tokens = Int(value);
    } else if (name == "x-ratelimit-reset-requests" || name == "anthropic-ratelimit-requests-reset") {
      reset(value, info.requests_reset_at);
    } else if (name == "x-ratelimit-reset-tokens" || name == "anthropic-ratelimit-tokens-reset") {
      reset(value, info.tokens_reset_at);
    } else if (name == "retry-after") {
      absl::StatusOr<absl::Duration> d = ParseResetDuration(value);
      if (d.ok()) {
        info.retry_at = now + *d;
      } else {
        absl::Time t;
        std::string err;
        if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), absl::UTCTimeZone(), &t, &err)) {
          info.retry_at = t;
        }
      }
    }
  }
  return info;
}

}  // namespace guard::providers
