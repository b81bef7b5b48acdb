// Parsing of the "ai" config object. Hand-written rather than schema-driven so that every error carries
// the JSON path and the rule in the words the Admin API shows to an operator.
#include "providers/config.h"
#include "providers/sv.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace guard::providers {
namespace {

using Value = rapidjson::Value;

absl::Status Err(std::string_view path, std::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat("ai.", AV(path), ": ", AV(msg)));
}

// Small typed readers: absent keys keep the default, present keys must have the right type and range.
absl::Status Num(const Value& o, const char* key, std::string_view path, double lo, double hi, double* out) {
  if (!o.HasMember(key)) return absl::OkStatus();
  const Value& v = o[key];
  if (!v.IsNumber()) return Err(absl::StrCat(AV(path), key), "expected a number");
  double d = v.GetDouble();
  if (d < lo || d > hi) return Err(absl::StrCat(AV(path), key), absl::StrCat("expected between ", lo, " and ", hi));
  *out = d;
  return absl::OkStatus();
}
template <typename I>
absl::Status Int(const Value& o, const char* key, std::string_view path, int64_t lo, int64_t hi, I* out) {
  if (!o.HasMember(key)) return absl::OkStatus();
  const Value& v = o[key];
  if (!v.IsInt64()) return Err(absl::StrCat(AV(path), key), "expected an integer");
  int64_t n = v.GetInt64();
  if (n < lo || n > hi) return Err(absl::StrCat(AV(path), key), absl::StrCat("expected between ", lo, " and ", hi));
  *out = static_cast<I>(n);
  return absl::OkStatus();
}
absl::Status Millis(const Value& o, const char* key, std::string_view path, int64_t lo, int64_t hi,
                    absl::Duration* out) {
  int64_t ms = -1;
  if (absl::Status s = Int(o, key, path, lo, hi, &ms); !s.ok()) return s;
  if (ms >= 0) *out = absl::Milliseconds(ms);
  return absl::OkStatus();
}
absl::Status Str(const Value& o, const char* key, std::string_view path, std::string* out) {
  if (!o.HasMember(key)) return absl::OkStatus();
  if (!o[key].IsString()) return Err(absl::StrCat(AV(path), key), "expected a string");
  out->assign(o[key].GetString(), o[key].GetStringLength());
  return absl::OkStatus();
}
absl::Status OnlyKeys(const Value& o, std::string_view path, std::initializer_list<std::string_view> keys) {
  for (auto it = o.MemberBegin(); it != o.MemberEnd(); ++it) {
    std::string_view k(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (std::string_view allowed : keys) known = known || k == allowed;
    if (!known) return Err(absl::StrCat(AV(path), AV(k)), "unknown key");
  }
  return absl::OkStatus();
}

#define GUARD_RETURN_IF_ERROR(expr)        \
  do {                                     \
    if (absl::Status _s = (expr); !_s.ok()) \
      return _s;                           \
  } while (0)

absl::StatusOr<ProviderConfig> ParseProvider(const Value& o, const std::string& path) {
  if (!o.IsObject()) return Err(path, "expected an object");
  GUARD_RETURN_IF_ERROR(OnlyKeys(
      o, path,
      {"name", "kind", "base_url", "model", "api_key", "anthropic_version", "timeout_ms", "priority", "weight",
       "rpm", "tpm", "rpd", "usd_per_day", "usd_per_1m_input", "usd_per_1m_output", "max_output_tokens",
       "max_concurrency", "max_queue", "breaker"}));
  ProviderConfig p;
  for (const char* req : {"name", "kind", "base_url", "model"}) {
    if (!o.HasMember(req)) return Err(absl::StrCat(path, req), "required");
  }
  GUARD_RETURN_IF_ERROR(Str(o, "name", path, &p.name));
  if (p.name.empty() || p.name.size() > 64) return Err(absl::StrCat(path, "name"), "expected 1 to 64 characters");
  std::string kind;
  GUARD_RETURN_IF_ERROR(Str(o, "kind", path, &kind));
  if (kind == "openai" || kind == "groq" || kind == "ollama" || kind == "vllm") {
    p.kind = ProviderKind::kOpenAI;
  } else if (kind == "anthropic") {
    p.kind = ProviderKind::kAnthropic;
  } else if (kind == "gemini") {
    p.kind = ProviderKind::kGemini;
  } else {
    return Err(absl::StrCat(path, "kind"), "expected one of: openai, groq, ollama, vllm, anthropic, gemini");
  }
  GUARD_RETURN_IF_ERROR(Str(o, "base_url", path, &p.base_url));
  std::string lower = absl::AsciiStrToLower(p.base_url);
  if (lower.rfind("https://", 0) != 0 && lower.rfind("http://", 0) != 0) {
    return Err(absl::StrCat(path, "base_url"), "expected an http:// or https:// URL");
  }
  GUARD_RETURN_IF_ERROR(Str(o, "model", path, &p.model));
  GUARD_RETURN_IF_ERROR(Str(o, "api_key", path, &p.api_key));
  GUARD_RETURN_IF_ERROR(Str(o, "anthropic_version", path, &p.anthropic_version));
  GUARD_RETURN_IF_ERROR(Millis(o, "timeout_ms", path, 50, 120000, &p.timeout));
  GUARD_RETURN_IF_ERROR(Int(o, "priority", path, 0, 1000000, &p.priority));
  GUARD_RETURN_IF_ERROR(Num(o, "weight", path, 0, 1000, &p.weight));
  GUARD_RETURN_IF_ERROR(Int(o, "rpm", path, 0, int64_t{1} << 40, &p.limits.rpm));
  GUARD_RETURN_IF_ERROR(Int(o, "tpm", path, 0, int64_t{1} << 40, &p.limits.tpm));
  GUARD_RETURN_IF_ERROR(Int(o, "rpd", path, 0, int64_t{1} << 40, &p.limits.rpd));
  GUARD_RETURN_IF_ERROR(Num(o, "usd_per_day", path, 0, 1e9, &p.limits.usd_per_day));
  GUARD_RETURN_IF_ERROR(Num(o, "usd_per_1m_input", path, 0, 1e6, &p.usd_per_1m_input));
  GUARD_RETURN_IF_ERROR(Num(o, "usd_per_1m_output", path, 0, 1e6, &p.usd_per_1m_output));
  GUARD_RETURN_IF_ERROR(Int(o, "max_output_tokens", path, 16, 4096, &p.max_output_tokens));
  GUARD_RETURN_IF_ERROR(Int(o, "max_concurrency", path, 1, 1024, &p.max_concurrency));
  GUARD_RETURN_IF_ERROR(Int(o, "max_queue", path, 0, 100000, &p.max_queue));
  if (o.HasMember("breaker")) {
    const Value& b = o["breaker"];
    std::string bp = absl::StrCat(path, "breaker.");
    if (!b.IsObject()) return Err(bp, "expected an object");
    GUARD_RETURN_IF_ERROR(OnlyKeys(
        b, bp, {"failures", "error_rate", "min_calls", "window_ms", "cooldown_ms", "half_open_probes"}));
    GUARD_RETURN_IF_ERROR(Int(b, "failures", bp, 1, 1000, &p.breaker.consecutive_failures));
    GUARD_RETURN_IF_ERROR(Num(b, "error_rate", bp, 0, 1, &p.breaker.error_rate));
    GUARD_RETURN_IF_ERROR(Int(b, "min_calls", bp, 1, 100000, &p.breaker.min_calls));
    GUARD_RETURN_IF_ERROR(Millis(b, "window_ms", bp, 1000, 3600000, &p.breaker.window));
    GUARD_RETURN_IF_ERROR(Millis(b, "cooldown_ms", bp, 10, 3600000, &p.breaker.cooldown));
    GUARD_RETURN_IF_ERROR(Int(b, "half_open_probes", bp, 1, 100, &p.breaker.half_open_probes));
  }
  return p;
}

}  // namespace

std::string_view StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kSpeed: return "speed";
    case Strategy::kAccuracy: return "accuracy";
    case Strategy::kCost: return "cost";
    case Strategy::kBalanced: return "balanced";
    case Strategy::kPriority: return "priority";
  }
  return "balanced";
}

absl::StatusOr<AiConfig> ParseAiConfig(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat("ai: invalid JSON: ", rapidjson::GetParseError_En(d.GetParseError()),
                                                   " at offset ", d.GetErrorOffset()));
  }
  if (!d.IsObject()) return Err("", "expected an object");
  GUARD_RETURN_IF_ERROR(OnlyKeys(d, "", {"providers", "strategy", "weights", "max_attempts", "budget_usd_per_day",
                                         "max_body_bytes", "headers", "max_total_connections"}));
  AiConfig c;
  if (d.HasMember("strategy")) {
    if (!d["strategy"].IsString()) return Err("strategy", "expected a string");
    std::string_view s(d["strategy"].GetString(), d["strategy"].GetStringLength());
    bool found = false;
    for (Strategy st : {Strategy::kSpeed, Strategy::kAccuracy, Strategy::kCost, Strategy::kBalanced,
                        Strategy::kPriority}) {
      if (s == StrategyName(st)) c.strategy = st, found = true;
    }
    if (!found) return Err("strategy", "expected one of: speed, accuracy, cost, balanced, priority");
  }
  if (d.HasMember("weights")) {
    const Value& w = d["weights"];
    if (!w.IsObject()) return Err("weights", "expected an object");
    GUARD_RETURN_IF_ERROR(OnlyKeys(w, "weights.", {"speed", "accuracy", "cost", "headroom"}));
    GUARD_RETURN_IF_ERROR(Num(w, "speed", "weights.", 0, 100, &c.weights.speed));
    GUARD_RETURN_IF_ERROR(Num(w, "accuracy", "weights.", 0, 100, &c.weights.accuracy));
    GUARD_RETURN_IF_ERROR(Num(w, "cost", "weights.", 0, 100, &c.weights.cost));
    GUARD_RETURN_IF_ERROR(Num(w, "headroom", "weights.", 0, 100, &c.weights.headroom));
  }
  GUARD_RETURN_IF_ERROR(Int(d, "max_attempts", "", 1, 16, &c.max_attempts));
  GUARD_RETURN_IF_ERROR(Num(d, "budget_usd_per_day", "", 0, 1e9, &c.budget_usd_per_day));
  GUARD_RETURN_IF_ERROR(Int(d, "max_body_bytes", "", 0, 1 << 20, &c.prompt.max_body_bytes));
  GUARD_RETURN_IF_ERROR(Int(d, "max_total_connections", "", 1, 4096, &c.max_total_connections));
  if (d.HasMember("headers")) {
    if (!d["headers"].IsArray()) return Err("headers", "expected an array of header names");
    c.prompt.headers.clear();
    for (const Value& h : d["headers"].GetArray()) {
      if (!h.IsString()) return Err("headers", "expected an array of header names");
      c.prompt.headers.push_back(absl::AsciiStrToLower(absl::string_view(h.GetString(), h.GetStringLength())));
    }
  }
  if (!d.HasMember("providers") || !d["providers"].IsArray() || d["providers"].Empty()) {
    return Err("providers", "expected a non-empty array");
  }
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < d["providers"].Size(); ++i) {
    absl::StatusOr<ProviderConfig> p = ParseProvider(d["providers"][i], absl::StrCat("providers[", i, "]."));
    if (!p.ok()) return p.status();
    if (!names.insert(p->name).second) return Err(absl::StrCat("providers[", i, "].name"), "duplicate name");
    c.providers.push_back(std::move(*p));
  }
  return c;
}

}  // namespace guard::providers
