// Configuration of the AI stage: the providers, how to choose among them, and the global budget.
// Parsed from the "ai" object of the plugin config (docs/ai.md; schema/guard-config.schema.json has the same
// shape, and config/ai_section.cc hands this parser the section minus its escalation keys). Errors name the
// JSON path, like the rest of libguard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "providers/breaker.h"
#include "providers/budget.h"
#include "providers/prompt.h"

namespace guard::providers {

// Wire protocol. Groq, Ollama and vLLM speak OpenAI's chat completions and are configured as kOpenAI.
enum class ProviderKind { kOpenAI, kAnthropic, kGemini };

enum class Strategy { kSpeed, kAccuracy, kCost, kBalanced, kPriority };
std::string_view StrategyName(Strategy s);

struct ProviderConfig {
  std::string name;      // unique label used in metrics, logs and quota keys
  ProviderKind kind = ProviderKind::kOpenAI;
  std::string base_url;  // e.g. https://api.openai.com/v1, https://api.anthropic.com/v1,
                         // https://generativelanguage.googleapis.com/v1beta
  std::string model;
  std::string api_key;   // may be empty (local Ollama / vLLM)
  std::string anthropic_version = "2023-06-01";
  absl::Duration timeout = absl::Seconds(5);
  int priority = 100;    // lower is tried first by the priority strategy and breaks ties elsewhere
  double weight = 1;     // multiplies the balanced score
  QuotaLimits limits;
  double usd_per_1m_input = 0;
  double usd_per_1m_output = 0;
  int max_output_tokens = 200;
  int max_concurrency = 8;  // calls in flight (also the per-host connection limit)
  int max_queue = 64;       // jobs waiting for a free slot
  BreakerConfig breaker;
};

// Weights of the balanced score (docs/ai.md); they need not sum to 1.
struct BalancedWeights {
  double speed = 0.3;
  double accuracy = 0.3;
  double cost = 0.2;
  double headroom = 0.2;
};

struct AiConfig {
  std::vector<ProviderConfig> providers;
  Strategy strategy = Strategy::kBalanced;
  BalancedWeights weights;
  int max_attempts = 3;            // providers tried per job (first call + failovers)
  double budget_usd_per_day = 0;   // over all providers; 0 = unlimited
  PromptOptions prompt;
  int max_total_connections = 32;
};

// Parses the "ai" object. Unknown keys are errors (a typo must not silently disable a limit).
absl::StatusOr<AiConfig> ParseAiConfig(std::string_view json);

}  // namespace guard::providers
