// The engine configuration: the plugin config (schema/guard-config.schema.json) after validation.
//
// Validation happens here, inside libguard, against the same schema file the plugin's schema.lua mirrors,
// so a config that reaches an engine is valid whatever path it took (Admin API, kong.yml, guardctl).
// Defaults live in the schema only: absent fields take the schema's "default".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/signal_sections.h"
#include "config/ai_section.h"
#include "quota/limits.h"
#include "signatures/exclusions.h"

namespace guard::config {

enum class Mode { kBlock, kMonitor };

// The top-level `redis` section: the Redis the nodes share for the verdict cache (L2), the blocklist and the
// AI providers' state. Used only by libguard's background threads, never on the request path.
struct RedisConnection {
  std::string host;
  uint16_t port = 6379;
  std::string password;  // empty: no AUTH
  uint32_t database = 0;
  uint32_t timeout_ms = 100;
  std::string prefix = "guard";
};

struct Config {
  Mode mode = Mode::kBlock;
  int paranoia_level = 1;
  int anomaly_threshold = 5;
  bool inspect_body = true;
  int64_t max_body_bytes = 65536;
  int block_status = 403;
  std::string block_message;
  std::vector<uint32_t> disabled_rules;
  bool verdict_headers = true;
  signatures::Exclusions exclusions;  // per-route tuning, applied to findings before scoring
  std::vector<signatures::Rule> custom_rules;  // compiled with the core set
  std::string custom_rules_json;                // their canonical JSON: part of the compiled-matcher cache key
  // The optional `quota` section, as quota::ParseQuotaConfig reads it (hide_client_headers is the plugin's and is
  // kept here). has_quota is set only when the section defines at least one limit: Kong fills an absent record
  // with its defaults, so an empty section means "no quotas".
  bool has_quota = false;
  quota::QuotaConfig quota;
  bool quota_hide_client_headers = false;
  // The optional `redis` section (absent, or Kong's null for an unset record: has_redis false).
  bool has_redis = false;
  RedisConnection redis;
  // ---- Behaviour as a signal (issue 5; config/signal_sections.h) ----
  CacheSection cache;
  BehaviourSection behaviour;
  BlocklistSection blocklist;
  // Stable hash of the whole config as validated (keys sorted, so the same on every worker and node):
  // with the core rules' hash, the version part of every verdict-cache key.
  uint64_t digest = 0;
  // The optional `ai` section (config/ai_section.h): LLM second opinions on grey-zone requests.
  bool has_ai = false;
  AiSection ai;
};

// Validates config_json against the embedded schema and fills defaults. The error names the JSON path.
absl::StatusOr<Config> ParseConfig(std::string_view config_json);

// The schema text libguard validates against (embedded at build time from schema/).
std::string_view ConfigSchemaJson();

}  // namespace guard::config
