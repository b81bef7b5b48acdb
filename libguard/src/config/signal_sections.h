// The config sections of behaviour as a signal (docs/fingerprint.md): `cache`, `behaviour`, `blocklist`.
//
// The JSON Schema has checked shapes and ranges; these parsers turn the sections into the engines' own
// config structs (seconds to milliseconds, scenario overrides merged into the defaults by name) and check
// what the schema cannot (a blocklist subject is an IP, a CIDR or consumer:<id>; a new scenario has feeds;
// the engines' own validation). Absent fields take the schema's default, like the rest of the config.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "behaviour/scenarios.h"
#include "cache/verdict_cache.h"
#include "rapidjson/document.h"

namespace guard::config {

struct CacheSection {
  bool enabled = true;
  cache::VerdictCacheConfig l1;
  std::string warm_file;  // empty: no warming
};

struct BehaviourSection {
  bool enabled = false;
  behaviour::BehaviourConfig engine;
  std::vector<std::string> login_paths;   // '*' globs over the whole path
  std::vector<std::string> login_routes;  // Kong route ids
  std::vector<std::string> username_fields;
  int ban_status = 403;
};

struct BlocklistSection {
  std::vector<std::string> allow, deny;  // canonical subjects
};

// `section` is the config's member or nullptr when absent; `schema` the section's node in the schema
// (its "properties" give the defaults). Errors start with "invalid config: <section>...".
absl::StatusOr<CacheSection> ParseCacheSection(const rapidjson::Value* section, const rapidjson::Value& schema);
absl::StatusOr<BehaviourSection> ParseBehaviourSection(const rapidjson::Value* section, const rapidjson::Value& schema);
absl::StatusOr<BlocklistSection> ParseBlocklistSection(const rapidjson::Value* section, const rapidjson::Value& schema);

// Stable 64-bit hash of a JSON value with object keys sorted (cjson encodes Lua tables in hash order, which
// differs between workers): the same config gives the same digest everywhere.
uint64_t CanonicalDigest(const rapidjson::Value& v);

// True when `path` matches the glob ('*' = any run of characters, the rest literal, whole path).
bool GlobMatch(std::string_view pattern, std::string_view path);

}  // namespace guard::config
