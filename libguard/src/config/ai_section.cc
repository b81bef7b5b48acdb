#include "config/ai_section.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace guard::config {
namespace {

// Keys of the section that are the engine's; everything else belongs to providers::ParseAiConfig.
constexpr const char* kEscalationKeys[] = {"mode", "deadline_ms", "fallback", "poll_ms", "escalate_min_score",
                                            "escalate_behaviour"};

// The schema's default of ai.<name> (defaults live in the schema only, as for the top-level keys).
const rapidjson::Value& AiDefault(const char* name) {
  static const rapidjson::Document schema = [] {
    rapidjson::Document d;
    d.Parse(ConfigSchemaJson().data(), ConfigSchemaJson().size());
    return d;
  }();
  return schema["properties"]["ai"]["properties"][name]["default"];
}

const rapidjson::Value& Get(const rapidjson::Value& section, const char* name) {
  auto it = section.FindMember(name);
  return it != section.MemberEnd() ? it->value : AiDefault(name);
}

}  // namespace

std::string_view FallbackName(AiSection::Fallback f) {
  switch (f) {
    case AiSection::Fallback::kSignatures: return "signatures";
    case AiSection::Fallback::kAllow: return "allow";
    case AiSection::Fallback::kBlock: return "block";
  }
  return "signatures";
}

absl::Status ParseAiSection(const rapidjson::Value& section, int anomaly_threshold, AiSection* out) {
  AiSection a;
  a.mode = std::string_view(Get(section, "mode").GetString()) == "async" ? AiSection::Mode::kAsync
                                                                          : AiSection::Mode::kSync;
  a.deadline_ms = Get(section, "deadline_ms").GetInt();
  const std::string_view fallback = Get(section, "fallback").GetString();
  a.fallback = fallback == "allow"   ? AiSection::Fallback::kAllow
               : fallback == "block" ? AiSection::Fallback::kBlock
                                     : AiSection::Fallback::kSignatures;
  a.poll_ms = Get(section, "poll_ms").GetInt();
  a.escalate_min_score = Get(section, "escalate_min_score").GetInt();
  a.escalate_behaviour = Get(section, "escalate_behaviour").GetBool();
  if (a.escalate_min_score > anomaly_threshold) {
    return absl::InvalidArgumentError(absl::StrCat("invalid config: ai.escalate_min_score: ", a.escalate_min_score,
                                                   " is above anomaly_threshold (", anomaly_threshold,
                                                   "): the grey zone would be empty"));
  }
  if (a.poll_ms >= a.deadline_ms) {
    return absl::InvalidArgumentError(absl::StrCat("invalid config: ai.poll_ms: ", a.poll_ms,
                                                   " must be below ai.deadline_ms (", a.deadline_ms, ")"));
  }

  // The rest goes to the providers' own parser as JSON (it reads a string: it is also used on its own).
  rapidjson::Document rest;
  rest.CopyFrom(section, rest.GetAllocator());
  for (const char* k : kEscalationKeys) rest.RemoveMember(k);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  rest.Accept(w);
  auto providers = providers::ParseAiConfig(std::string_view(sb.GetString(), sb.GetSize()));
  if (!providers.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid config: ", providers.status().message()));
  }
  a.providers = std::move(*providers);
  *out = std::move(a);
  return absl::OkStatus();
}

}  // namespace guard::config
