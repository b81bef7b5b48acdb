// The AI verdict: what an LLM provider may answer, and nothing else.
//
// A provider's text is accepted only when it is one JSON object valid against schema/verdict.schema.json
// (compiled into the library). Anything else, including plausible prose, is a provider *failure*: it counts
// against the provider's breaker and triggers failover, and never turns into an allow or a block. This keeps
// a prompt-injected model from inventing verdict shapes the plugin would have to guess at.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace guard::providers {

enum class AiAction { kAllow = 0, kMonitor = 1, kBlock = 2 };

struct AiVerdict {
  bool threat = false;
  std::string category;  // one of the schema's enum: "sqli", ..., "none"
  double confidence = 0;
  AiAction action = AiAction::kAllow;
  std::string reason;
};

std::string_view AiActionName(AiAction a);

// Parses a model's answer. Tolerates surrounding whitespace and one Markdown code fence (```json ... ```),
// which some models add even in JSON mode; everything else must match the schema exactly.
absl::StatusOr<AiVerdict> ParseVerdict(std::string_view model_text);

// The schema text as compiled into the library (for docs, the config endpoint and tests).
std::string_view VerdictSchemaText();

}  // namespace guard::providers
