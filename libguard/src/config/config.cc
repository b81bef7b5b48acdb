#include "config/config.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/json_schema.h"
#include "signatures/rules.h"

namespace guard::embedded {
std::string_view config_schema();
}

namespace guard::config {
namespace {

const common::JsonSchema& Schema() {
  // Compiled once per process; the embedded schema is part of the build, so failure is a build bug.
  static const std::unique_ptr<common::JsonSchema> schema = [] {
    // custom_rules items are "$ref": "rules.schema.json#/definitions/rule": the rule shape has one source.
    auto s = common::JsonSchema::Compile(embedded::config_schema(),
                                         {{"rules.schema.json", signatures::RulesSchemaJson()}});
    return s.ok() ? std::move(*s) : nullptr;
  }();
  return *schema;
}

// The value of `name` in the config, or the schema's default for it.
const rapidjson::Value& FieldOrDefault(const rapidjson::Document& doc, const rapidjson::Document& schema,
                                       const char* name) {
  auto it = doc.FindMember(name);
  if (it != doc.MemberEnd()) return it->value;
  return schema["properties"][name]["default"];
}

}  // namespace

std::string_view ConfigSchemaJson() { return embedded::config_schema(); }

absl::StatusOr<Config> ParseConfig(std::string_view config_json) {
  rapidjson::Document doc;
  if (absl::Status st = Schema().ParseAndValidate(config_json, &doc); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid config: ", st.message()));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("invalid config: /: must be an object");
  static const rapidjson::Document schema = [] {
    rapidjson::Document d;
    d.Parse(embedded::config_schema().data(), embedded::config_schema().size());
    return d;
  }();
  auto get = [&](const char* name) -> const rapidjson::Value& { return FieldOrDefault(doc, schema, name); };

  Config c;
  c.mode = std::string_view(get("mode").GetString()) == "monitor" ? Mode::kMonitor : Mode::kBlock;
  c.paranoia_level = get("paranoia_level").GetInt();
  c.anomaly_threshold = get("anomaly_threshold").GetInt();
  c.inspect_body = get("inspect_body").GetBool();
  c.max_body_bytes = get("max_body_bytes").GetInt64();
  c.block_status = get("block_status").GetInt();
  c.block_message = get("block_message").GetString();
  for (auto& id : get("disabled_rules").GetArray()) c.disabled_rules.push_back(id.GetUint());
  c.verdict_headers = get("verdict_headers").GetBool();
  auto exclusions = signatures::Exclusions::FromJson(get("exclusions"));
  if (!exclusions.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid config: ", exclusions.status().message()));
  c.exclusions = std::move(*exclusions);
  const rapidjson::Value& custom = get("custom_rules");
  auto custom_rules = signatures::RulesFromJson(custom, "config: custom_rules");
  if (!custom_rules.ok()) return custom_rules.status();
  c.custom_rules = std::move(*custom_rules);
  c.custom_rules_json = common::JsonSnippet(custom, SIZE_MAX);

  if (auto q = doc.FindMember("quota"); q != doc.MemberEnd()) {
    // The schema has checked the shape; ParseQuotaConfig checks the rest (names, tiers, cost vs burst) and
    // does not know the plugin-only hide_client_headers, so it gets the section without it.
    rapidjson::Document section;
    section.CopyFrom(q->value, section.GetAllocator());
    if (auto h = section.FindMember("hide_client_headers"); h != section.MemberEnd()) {
      c.quota_hide_client_headers = h->value.GetBool();
      section.RemoveMember(h);
    }
    auto quota = quota::ParseQuotaConfig(section);
    if (!quota.ok()) return absl::InvalidArgumentError(absl::StrCat("invalid config: ", quota.status().message()));
    c.quota = std::move(*quota);
    c.has_quota = !c.quota.limits.empty();
  }
  if (auto r = doc.FindMember("redis"); r != doc.MemberEnd() && r->value.HasMember("host")) {
    // The schema checked every field and its range; absent optional fields keep RedisConnection's defaults,
    // which are the schema's. Without a host (Kong's default-filled record) there is no Redis.
    const rapidjson::Value& v = r->value;
    c.has_redis = true;
    c.redis.host = v["host"].GetString();
    if (v.HasMember("port")) c.redis.port = static_cast<uint16_t>(v["port"].GetUint());
    if (v.HasMember("password")) c.redis.password = v["password"].GetString();
    if (v.HasMember("database")) c.redis.database = v["database"].GetUint();
    if (v.HasMember("timeout_ms")) c.redis.timeout_ms = v["timeout_ms"].GetUint();
    if (v.HasMember("prefix")) c.redis.prefix = v["prefix"].GetString();
  }
  // ---- Behaviour as a signal (issue 5): parsing delegated to config/signal_sections.cc ----
  auto member = [&](const char* name) -> const rapidjson::Value* {
    auto it = doc.FindMember(name);
    return it == doc.MemberEnd() ? nullptr : &it->value;
  };
  const rapidjson::Value& props = schema["properties"];
  auto cache = ParseCacheSection(member("cache"), props["cache"]);
  if (!cache.ok()) return cache.status();
  c.cache = std::move(*cache);
  auto behaviour = ParseBehaviourSection(member("behaviour"), props["behaviour"]);
  if (!behaviour.ok()) return behaviour.status();
  c.behaviour = std::move(*behaviour);
  auto blocklist = ParseBlocklistSection(member("blocklist"), props["blocklist"]);
  if (!blocklist.ok()) return blocklist.status();
  c.blocklist = std::move(*blocklist);
  c.digest = CanonicalDigest(doc);

  if (auto a = doc.FindMember("ai"); a != doc.MemberEnd() && a->value.IsObject()) {
    // The AI stage: escalation keys here, provider settings in providers::ParseAiConfig (ai_section.cc).
    if (absl::Status st = ParseAiSection(a->value, c.anomaly_threshold, &c.ai); !st.ok()) return st;
    c.has_ai = true;
  }
  return c;
}

}  // namespace guard::config
