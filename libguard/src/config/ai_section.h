// The `ai` section of the plugin config: when to ask an LLM for a second opinion, how long a request may
// wait for it, what happens when it does not come, and the providers (providers::AiConfig, docs/ai.md).
//
// Kept apart from config.cc so that the AI stage is one small block there: the schema has checked the
// shape already; this file reads the escalation keys and hands the rest to providers::ParseAiConfig, the
// one parser of provider settings.
#pragma once

#include "absl/status/status.h"
#include "providers/config.h"
#include "rapidjson/document.h"

namespace guard::config {

struct AiSection {
  enum class Mode { kSync, kAsync };
  // Past the deadline or when every provider failed: the local verdict stands, or allow, or block.
  enum class Fallback { kSignatures, kAllow, kBlock };

  Mode mode = Mode::kSync;
  int deadline_ms = 1500;
  Fallback fallback = Fallback::kSignatures;
  int poll_ms = 10;
  int escalate_min_score = 2;     // grey zone: [escalate_min_score, anomaly_threshold)
  bool escalate_behaviour = true;  // also escalate behaviour-flagged requests below the threshold
  providers::AiConfig providers;
};

// Reads a schema-valid `ai` object. `anomaly_threshold` bounds the grey zone; errors name the path
// ("invalid config: ai.escalate_min_score: ...", "invalid config: ai.providers[1].name: duplicate name").
absl::Status ParseAiSection(const rapidjson::Value& section, int anomaly_threshold, AiSection* out);

std::string_view FallbackName(AiSection::Fallback f);

}  // namespace guard::config
