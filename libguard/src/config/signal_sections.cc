#include "config/signal_sections.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_cat.h"
#include "blocklist/blocklist.h"
#include "common/absl_compat.h"
#include "fingerprint/stable_hash.h"

namespace guard::config {
namespace {

// The member `name` of `section`, else the schema's default for it, else nullptr.
const rapidjson::Value* Get(const rapidjson::Value* section, const rapidjson::Value& schema, const char* name) {
  if (section != nullptr && section->IsObject()) {
    auto it = section->FindMember(name);
    if (it != section->MemberEnd() && !it->value.IsNull()) return &it->value;
  }
  auto props = schema.FindMember("properties");
  if (props == schema.MemberEnd()) return nullptr;
  auto field = props->value.FindMember(name);
  if (field == props->value.MemberEnd()) return nullptr;
  auto def = field->value.FindMember("default");
  return def == field->value.MemberEnd() ? nullptr : &def->value;
}

std::vector<std::string> Strings(const rapidjson::Value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->IsArray()) return out;
  for (const auto& s : v->GetArray()) out.emplace_back(s.GetString(), s.GetStringLength());
  return out;
}

absl::Status Bad(std::string_view at, std::string_view msg) {
  return absl::InvalidArgumentError("invalid config: " + std::string(at) + ": " + std::string(msg));
}
absl::Status BadSt(std::string_view at, const absl::Status& st) { return Bad(at, common::ToStd(st.message())); }

void Canonical(const rapidjson::Value& v, fingerprint::StableHasher* h) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) {
      return std::string_view(a->name.GetString(), a->name.GetStringLength()) <
             std::string_view(b->name.GetString(), b->name.GetStringLength());
    });
    h->Add("{");
    for (auto* m : members) {
      h->Add(std::string_view(m->name.GetString(), m->name.GetStringLength()));
      Canonical(m->value, h);
    }
    h->Add("}");
  } else if (v.IsArray()) {
    h->Add("[");
    for (const auto& e : v.GetArray()) Canonical(e, h);
    h->Add("]");
  } else if (v.IsString()) {
    h->Add("s");
    h->Add(std::string_view(v.GetString(), v.GetStringLength()));
  } else if (v.IsNumber()) {
    h->Add("n");
    h->AddU64(v.IsInt64() ? static_cast<uint64_t>(v.GetInt64()) : std::bit_cast<uint64_t>(v.GetDouble()));
  } else if (v.IsBool()) {
    h->Add(v.GetBool() ? "t" : "f");
  } else {
    h->Add("null");
  }
}

}  // namespace

uint64_t CanonicalDigest(const rapidjson::Value& v) {
  fingerprint::StableHasher h;
  Canonical(v, &h);
  return h.Finish().lo;
}

bool GlobMatch(std::string_view pattern, std::string_view path) {
  // Iterative wildcard match with one backtrack point: linear enough for short admin-written patterns.
  size_t p = 0, s = 0, star = std::string_view::npos, mark = 0;
  while (s < path.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

absl::StatusOr<CacheSection> ParseCacheSection(const rapidjson::Value* section, const rapidjson::Value& schema) {
  CacheSection c;
  c.enabled = Get(section, schema, "enabled")->GetBool();
  c.l1.max_entries = Get(section, schema, "max_entries")->GetUint64();
  // The byte bound follows the entry bound (entries are fixed-size): max_entries is what operators set.
  c.l1.max_bytes = c.l1.max_entries * 512 + (size_t{1} << 20);
  c.l1.benign_ttl_ms = Get(section, schema, "benign_ttl_s")->GetInt64() * 1000;
  c.l1.malicious_ttl_ms = Get(section, schema, "malicious_ttl_s")->GetInt64() * 1000;
  if (const rapidjson::Value* w = Get(section, schema, "warm_file")) c.warm_file = w->GetString();
  if (absl::Status st = cache::ValidateVerdictCacheConfig(c.l1); !st.ok()) return BadSt("cache", st);
  return c;
}

absl::StatusOr<BehaviourSection> ParseBehaviourSection(const rapidjson::Value* section,
                                                       const rapidjson::Value& schema) {
  using behaviour::DecisionType;
  using behaviour::Feed;
  BehaviourSection b;
  b.enabled = Get(section, schema, "enabled")->GetBool();
  b.engine = behaviour::DefaultBehaviourConfig();
  b.engine.window_ms = Get(section, schema, "window_s")->GetInt64() * 1000;
  b.engine.memory_budget_bytes = Get(section, schema, "memory_budget_bytes")->GetUint64();
  b.login_paths = Strings(Get(section, schema, "login_paths"));
  b.login_routes = Strings(Get(section, schema, "login_routes"));
  b.username_fields = Strings(Get(section, schema, "username_fields"));
  b.ban_status = Get(section, schema, "ban_status")->GetInt();

  const rapidjson::Value* overrides = Get(section, schema, "scenarios");
  const size_t n = overrides && overrides->IsArray() ? overrides->Size() : 0;
  for (size_t i = 0; i < n; ++i) {
    const rapidjson::Value& o = (*overrides)[static_cast<rapidjson::SizeType>(i)];
    const std::string at = absl::StrCat("behaviour.scenarios[", i, "]");
    const std::string name = o["name"].GetString();
    auto& list = b.engine.scenarios;
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& s) { return s.name == name; });
    auto enabled = o.FindMember("enabled");
    if (enabled != o.MemberEnd() && enabled->value.IsBool() && !enabled->value.GetBool()) {
      if (it != list.end()) list.erase(it);
      continue;
    }
    const bool fresh = it == list.end();
    if (fresh) {
      if (!o.HasMember("feeds")) return Bad(at, "a new scenario needs feeds");
      behaviour::ScenarioConfig s;
      s.name = name;
      list.push_back(std::move(s));
      it = list.end() - 1;
    }
    behaviour::ScenarioConfig& s = *it;
    if (auto m = o.FindMember("capacity"); m != o.MemberEnd()) s.capacity = m->value.GetFloat();
    if (auto m = o.FindMember("leak_per_sec"); m != o.MemberEnd()) s.leak_per_sec = m->value.GetFloat();
    if (auto m = o.FindMember("score"); m != o.MemberEnd()) s.score = m->value.GetInt();
    if (auto m = o.FindMember("ttl_s"); m != o.MemberEnd()) s.ttl_ms = m->value.GetInt64() * 1000;
    if (auto m = o.FindMember("ttl_multiplier"); m != o.MemberEnd()) s.ttl_multiplier = m->value.GetFloat();
    if (auto m = o.FindMember("max_ttl_s"); m != o.MemberEnd()) s.max_ttl_ms = m->value.GetInt64() * 1000;
    if (s.max_ttl_ms < s.ttl_ms && !o.HasMember("max_ttl_s")) s.max_ttl_ms = s.ttl_ms;
    if (auto m = o.FindMember("decision"); m != o.MemberEnd()) {
      std::string_view d = m->value.GetString();
      s.decision = d == "ban" ? DecisionType::kBan : d == "throttle" ? DecisionType::kThrottle : DecisionType::kNone;
    }
    if (auto m = o.FindMember("feeds"); m != o.MemberEnd()) {
      s.feeds = {};  // the feeds given replace the default ones
      for (const auto& f : m->value.GetObject()) {
        std::string_view fname(f.name.GetString(), f.name.GetStringLength());
        size_t k = 0;
        while (k < static_cast<size_t>(Feed::kCount) && behaviour::FeedName(static_cast<Feed>(k)) != fname) ++k;
        if (k == static_cast<size_t>(Feed::kCount)) return Bad(at + ".feeds." + std::string(fname), "not an event");
        s.feeds[k] = f.value.GetFloat();
      }
    }
  }
  if (b.engine.scenarios.size() > behaviour::kMaxScenarios)
    return Bad("behaviour.scenarios", "at most " + std::to_string(behaviour::kMaxScenarios) + " scenarios in all");
  if (absl::Status st = behaviour::ValidateBehaviourConfig(b.engine); !st.ok())
    return absl::InvalidArgumentError("invalid config: " + std::string(common::ToStd(st.message())));
  return b;
}

absl::StatusOr<BlocklistSection> ParseBlocklistSection(const rapidjson::Value* section,
                                                       const rapidjson::Value& schema) {
  BlocklistSection b;
  for (const char* list : {"allow", "deny"}) {
    std::vector<std::string> subjects = Strings(Get(section, schema, list));
    for (size_t i = 0; i < subjects.size(); ++i) {
      // Checked through the blocklist's own parser, so a config entry means what an admin entry means.
      blocklist::Blocklist probe;
      if (absl::Status st = probe.Add(blocklist::List::kBan, subjects[i], 0, ""); !st.ok())
        return BadSt("blocklist." + std::string(list) + "[" + std::to_string(i) + "]", st);
    }
    (std::string_view(list) == "allow" ? b.allow : b.deny) = std::move(subjects);
  }
  return b;
}

}  // namespace guard::config
