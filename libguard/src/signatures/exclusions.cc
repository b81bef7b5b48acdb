#include "signatures/exclusions.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace guard::signatures {
namespace {

bool PathMatches(std::string_view pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return path.substr(0, pattern.size()) == pattern;
  }
  return path == pattern;
}

}  // namespace

absl::StatusOr<Exclusions> Exclusions::FromJson(const rapidjson::Value& array) {
  Exclusions out;
  if (!array.IsArray()) return absl::InvalidArgumentError("/exclusions: must be an array");
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
    const rapidjson::Value& e = array[i];
    if (!e.IsObject()) return absl::InvalidArgumentError(absl::StrCat("/exclusions/", i, ": must be an object"));
    Exclusion x;
    if (auto it = e.FindMember("rule_ids"); it != e.MemberEnd() && it->value.IsArray()) {
      for (auto& id : it->value.GetArray()) {
        if (id.IsUint()) x.rule_ids.push_back(id.GetUint());
      }
    }
    if (auto it = e.FindMember("targets"); it != e.MemberEnd() && it->value.IsArray()) {
      for (rapidjson::SizeType j = 0; j < it->value.Size(); ++j) {
        const auto& t = it->value[j];
        RuleTarget rt;
        std::string_view spec = t.IsString() ? std::string_view(t.GetString(), t.GetStringLength()) : "";
        if (!ParseRuleTarget(spec, &rt)) {
          return absl::InvalidArgumentError(
              absl::StrCat("/exclusions/", i, "/targets/", j, ": unknown target '", common::ToAbsl(spec), "'"));
        }
        x.targets.push_back(std::move(rt));
      }
    }
    if (auto it = e.FindMember("paths"); it != e.MemberEnd() && it->value.IsArray()) {
      for (auto& p : it->value.GetArray()) {
        if (p.IsString()) x.paths.emplace_back(p.GetString(), p.GetStringLength());
      }
    }
    out.list_.push_back(std::move(x));
  }
  return out;
}

bool Exclusions::Excludes(uint32_t rule_id, const request::Field* field, std::string_view path) const {
  for (const Exclusion& x : list_) {
    if (!x.rule_ids.empty() && std::find(x.rule_ids.begin(), x.rule_ids.end(), rule_id) == x.rule_ids.end()) {
      continue;
    }
    if (!x.paths.empty() &&
        std::none_of(x.paths.begin(), x.paths.end(), [&](const std::string& p) { return PathMatches(p, path); })) {
      continue;
    }
    if (!x.targets.empty() &&
        (!field || std::none_of(x.targets.begin(), x.targets.end(),
                                [&](const RuleTarget& t) { return t.Accepts(*field); }))) {
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace guard::signatures
