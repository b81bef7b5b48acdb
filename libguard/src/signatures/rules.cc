#include "signatures/rules.h"

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/absl_compat.h"
#include "absl/strings/str_cat.h"
#include "common/json_schema.h"
#include "signatures/exclusions.h"

namespace guard::embedded {
std::string_view rules_schema();
std::string_view core_rules();
}  // namespace guard::embedded

namespace guard::signatures {
namespace {

using request::Target;

constexpr uint32_t Bit(Target t) { return 1u << static_cast<uint32_t>(t); }

constexpr std::string_view kCategoryNames[GUARD_CAT_COUNT] = {
    "sqli", "xss", "cmdi", "traversal", "rfi", "ssrf", "xxe", "ssti", "jndi",
    "nosqli", "ldapi", "crlf", "code", "scanner", "protocol", "behaviour", "custom"};

const common::JsonSchema& Schema() {
  static const std::unique_ptr<common::JsonSchema> schema = [] {
    auto s = common::JsonSchema::Compile(embedded::rules_schema());
    return s.ok() ? std::move(*s) : nullptr;
  }();
  return *schema;
}

}  // namespace

bool ParseRuleTarget(std::string_view spec, RuleTarget* out) {
  *out = RuleTarget{};
  if (spec == "custom_headers") {
    out->kinds = Bit(Target::kHeader);
    out->custom_only = true;
    return true;
  }
  size_t colon = spec.find(':');
  out->kinds = request::TargetMask(spec.substr(0, colon));  // "args" = query + body values, as CRS ARGS
  if (colon != std::string_view::npos) {
    if (colon + 1 == spec.size()) return false;
    out->name = absl::AsciiStrToLower(common::ToAbsl(spec.substr(colon + 1)));
  }
  return out->kinds != 0;
}

uint32_t Rule::target_kinds() const {
  uint32_t k = 0;
  for (const auto& t : targets) k |= t.kinds;
  return k;
}

bool IsStandardHeader(std::string_view name) {
  // Sorted, lowercase: looked up by binary search on a lowercased copy (header names are short).
  static constexpr std::string_view kStandard[] = {
      "accept", "accept-charset", "accept-datetime", "accept-encoding", "accept-language", "authorization",
      "b3", "baggage", "cache-control", "connection", "content-encoding", "content-language", "content-length",
      "content-md5", "content-type", "cookie", "date", "device-memory", "dnt", "downlink", "dpr", "ect",
      "expect", "forwarded", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
      "if-unmodified-since", "keep-alive", "max-forwards", "origin", "pragma", "priority",
      "proxy-authorization", "purpose", "range", "referer", "rtt", "save-data", "te", "traceparent",
      "tracestate", "trailer", "transfer-encoding", "upgrade", "upgrade-insecure-requests", "user-agent",
      "via", "viewport-width", "warning", "width", "x-amzn-trace-id", "x-correlation-id", "x-csrf-token",
      "x-forwarded-for", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-proto", "x-real-ip",
      "x-request-id", "x-requested-with", "x-xsrf-token"};
  static constexpr std::string_view kPrefixes[] = {"sec-", "x-b3-", "x-datadog-", "x-cloud-trace-",
                                                   "access-control-request-"};
  char lower[48];
  if (name.size() > sizeof lower) return false;
  for (size_t i = 0; i < name.size(); ++i) lower[i] = absl::ascii_tolower(static_cast<unsigned char>(name[i]));
  const std::string_view n(lower, name.size());
  if (std::binary_search(std::begin(kStandard), std::end(kStandard), n)) return true;
  for (std::string_view p : kPrefixes) {
    if (n.size() > p.size() && n.substr(0, p.size()) == p) return true;
  }
  return false;
}

std::string_view LeafName(std::string_view name) {
  if (!name.empty() && name.back() == ']') {
    const size_t open = name.rfind('[');
    return open == std::string_view::npos ? std::string_view() : name.substr(open + 1, name.size() - open - 2);
  }
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

bool RuleTarget::Accepts(const request::Field& f) const {
  if (!(kinds & Bit(f.target))) return false;
  if (custom_only) return !IsStandardHeader(f.name);
  if (name.empty()) return true;
  // Field names of headers/cookies/args keep their case from the wire; rule names are lowercase.
  if (f.name.size() == name.size() && absl::EqualsIgnoreCase(common::ToAbsl(f.name), name)) return true;
  if (!leaf) return false;
  const std::string_view l = LeafName(f.name);
  return l.size() == name.size() && absl::EqualsIgnoreCase(common::ToAbsl(l), name);
}

bool Rule::Applies(const request::Field& f) const {
  for (const auto& t : targets) {
    if (t.Accepts(f)) return true;
  }
  return false;
}

std::string_view CategoryName(guard_category c) {
  return (c >= 0 && c < GUARD_CAT_COUNT) ? kCategoryNames[c] : std::string_view();
}

bool ParseCategory(std::string_view name, guard_category* out) {
  for (int i = 0; i < GUARD_CAT_COUNT; ++i) {
    if (kCategoryNames[i] == name) {
      *out = static_cast<guard_category>(i);
      return true;
    }
  }
  return false;
}

std::string_view CoreRulesJson() { return embedded::core_rules(); }
std::string_view RulesSchemaJson() { return embedded::rules_schema(); }

absl::StatusOr<std::vector<Rule>> RulesFromJson(const rapidjson::Value& array, std::string_view what) {
  std::vector<Rule> rules;
  for (const auto& jr : array.GetArray()) {
    Rule r;
    r.id = jr["id"].GetUint();
    auto fail = [&](std::string_view problem) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", common::ToAbsl(what), ": rule ", r.id, ": ", common::ToAbsl(problem)));
    };
    for (const Rule& seen : rules) {
      if (seen.id == r.id) return fail("duplicate rule id");
    }
    if (!ParseCategory(jr["category"].GetString(), &r.category)) return fail("unknown category");
    r.severity = jr["severity"].GetInt();
    r.paranoia = jr["paranoia"].GetInt();
    for (const auto& jt : jr["targets"].GetArray()) {
      std::string_view spec(jt.GetString(), jt.GetStringLength());
      RuleTarget t;
      if (!ParseRuleTarget(spec, &t)) return fail(absl::StrCat("unknown target '", common::ToAbsl(spec), "'"));
      t.leaf = true;
      r.targets.push_back(std::move(t));
    }
    if (auto it = jr.FindMember("transforms"); it != jr.MemberEnd()) {
      for (const auto& jt : it->value.GetArray()) {
        auto t = transforms::ParseTransform(jt.GetString());
        if (!t.ok()) return fail(common::ToStd(t.status().message()));
        r.transforms.push_back(*t);
      }
    }
    for (const auto& jp : jr["patterns"].GetArray()) r.patterns.emplace_back(jp.GetString(), jp.GetStringLength());
    if (auto it = jr.FindMember("case_sensitive"); it != jr.MemberEnd()) r.case_sensitive = it->value.GetBool();
    r.message = jr["message"].GetString();
    rules.push_back(std::move(r));
  }
  return rules;
}

absl::StatusOr<RuleSet> ParseRules(std::string_view rules_json) {
  rapidjson::Document doc;
  if (absl::Status st = Schema().ParseAndValidate(rules_json, &doc); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid rules: ", st.message()));
  }
  RuleSet set;
  set.version = doc["version"].GetString();
  auto rules = RulesFromJson(doc["rules"], "rules");
  if (!rules.ok()) return rules.status();
  set.rules = std::move(*rules);
  return set;
}

}  // namespace guard::signatures
