-- The whole FFI surface of libguard: one ffi.cdef (mirrors libguard/include/guard.h; a spec checks it)
-- and the library, found along package.cpath as Kong's atc-router finds its .so.
--
-- Struct bodies may be declared only once per LuaJIT state, so every other module requires this one.
local ffi = require "ffi"

local cdef = [[
typedef enum guard_status {
  GUARD_OK = 0,
  GUARD_EINVAL = 1,
  GUARD_ECONFIG = 2,
  GUARD_ERULES = 3,
  GUARD_ENOMEM = 4,
  GUARD_EINTERNAL = 5
} guard_status;

typedef enum guard_action {
  GUARD_ACTION_ALLOW = 0,
  GUARD_ACTION_MONITOR = 1,
  GUARD_ACTION_BLOCK = 2,
  GUARD_ACTION_RATE_LIMITED = 3
} guard_action;

typedef enum guard_category {
  GUARD_CAT_SQLI = 0,
  GUARD_CAT_XSS = 1,
  GUARD_CAT_CMDI = 2,
  GUARD_CAT_TRAVERSAL = 3,
  GUARD_CAT_RFI = 4,
  GUARD_CAT_SSRF = 5,
  GUARD_CAT_XXE = 6,
  GUARD_CAT_SSTI = 7,
  GUARD_CAT_JNDI = 8,
  GUARD_CAT_NOSQLI = 9,
  GUARD_CAT_LDAPI = 10,
  GUARD_CAT_CRLF = 11,
  GUARD_CAT_CODE = 12,
  GUARD_CAT_SCANNER = 13,
  GUARD_CAT_PROTOCOL = 14,
  GUARD_CAT_BEHAVIOUR = 15,
  GUARD_CAT_CUSTOM = 16,
  GUARD_CAT_COUNT = 17
} guard_category;

typedef struct guard_str {
  const char *ptr;
  size_t len;
} guard_str;

typedef struct guard_header {
  guard_str name;
  guard_str value;
} guard_header;

typedef struct guard_request {
  guard_str method;
  guard_str path;
  guard_str query;
  const guard_header *headers;
  size_t header_count;
  guard_str body;
  guard_str client_ip;
  guard_str consumer_id;
  guard_str credential_id;
  guard_str route_id;
  guard_str service_id;
  const guard_str *consumer_tags;
  size_t consumer_tag_count;
  uint32_t cost;
  uint32_t flags;
} guard_request;

typedef struct guard_rate_limit {
  uint32_t flags;
  uint32_t period_mask;
  uint64_t limit;
  uint64_t remaining;
  uint64_t reset_s;
  uint64_t retry_after_s;
  uint64_t period_limit[6];
  uint64_t period_remaining[6];
  char window[16];
  char limit_name[72];
  char policy[256];
} guard_rate_limit;

typedef struct guard_verdict {
  int32_t action;
  int32_t score;
  int32_t threshold;
  uint32_t rule_count;
  uint32_t rule_ids[16];
  uint64_t categories;
  char category[32];
  char target[64];
  char incident_id[40];
  uint32_t flags;
  char fingerprint[33];
  guard_rate_limit rate;
} guard_verdict;

typedef struct guard_engine guard_engine;

typedef struct guard_engine_options {
  guard_str instance_id;
  guard_str node_id;
} guard_engine_options;

typedef struct guard_quota_status {
  uint32_t enabled;
  uint32_t sync_state;
  char on_failure[16];
  uint32_t active_nodes;
  uint32_t node_table;
  uint64_t checks, refused, degraded;
  uint64_t rounds_ok, rounds_failed, keys_synced, counts_dropped, last_ok_unix_ms;
  uint64_t table_capacity, table_live, table_full;
  char last_error[256];
} guard_quota_status;

const char *guard_version(void);
int guard_engine_new(const char *config_json, size_t config_len, guard_engine **out, char *errbuf, size_t errlen);
int guard_node_init(size_t shm_bytes, char *errbuf, size_t errlen);
int guard_engine_new_v2(const char *config_json, size_t config_len, const guard_engine_options *options, guard_engine **out, char *errbuf, size_t errlen);
int guard_engine_quota_status(const guard_engine *engine, guard_quota_status *out, char *errbuf, size_t errlen);
const char *guard_period_name(int period);
void guard_engine_free(guard_engine *engine);
int guard_inspect(const guard_engine *engine, const guard_request *request, guard_verdict *verdict, char *errbuf, size_t errlen);
int guard_rules_check(const char *rules_json, size_t rules_len, char *errbuf, size_t errlen);
const char *guard_category_name(int category);
const char *guard_action_name(int action);

/* ---- behaviour as a signal (issue 5) ---- */
typedef struct guard_response_info {
  guard_str method;
  guard_str path;
  guard_str client_ip;
  guard_str consumer_id;
  guard_str route_id;
  int32_t status;
  uint32_t flags;
} guard_response_info;

typedef struct guard_decision_info {
  int32_t decision;
  uint32_t is_new;
  int64_t until_unix_ms;
  char scenario[72];
} guard_decision_info;

typedef struct guard_behaviour_status {
  uint32_t cache_enabled, behaviour_enabled;
  uint32_t node_profiles;
  uint32_t sync_state;
  uint64_t cache_hits, cache_misses, cache_inserts, cache_evictions, cache_expired, cache_suppressed;
  uint64_t cache_size, cache_capacity, cache_warmed;
  uint64_t profiles_live, profiles_capacity, profiles_memory_bytes, profiles_evicted;
  uint64_t decisions_throttle, decisions_ban;
  uint64_t requests_banned, requests_throttled, requests_cache_blocked;
  uint64_t blocklist_entries, blocklist_static, journal_seq, journal_lost;
  uint64_t sync_rounds_ok, sync_rounds_failed, sync_lines_published, sync_lines_pulled;
  uint64_t l2_fetches, l2_hits, l2_stores, l2_dropped, sync_last_ok_unix_ms;
  char sync_last_error[256];
} guard_behaviour_status;

int guard_node_init_behaviour(size_t shm_bytes, char *errbuf, size_t errlen);
int guard_observe(const guard_engine *engine, const guard_response_info *response, guard_decision_info *out, char *errbuf, size_t errlen);
int guard_blocklist_add(int list, guard_str subject, int64_t ttl_ms, guard_str reason, char *errbuf, size_t errlen);
int guard_blocklist_remove(int list, guard_str subject, char *errbuf, size_t errlen);
int guard_blocklist_list(char *out, size_t outlen, size_t *written, char *errbuf, size_t errlen);
int guard_engine_behaviour_status(const guard_engine *engine, guard_behaviour_status *out, char *errbuf, size_t errlen);
typedef struct guard_ai_result {
  int32_t state;
  int32_t action;
  uint32_t threat;
  int32_t category;
  double confidence;
  uint32_t attempts;
  uint32_t latency_ms;
  char category_name[32];
  char provider[65];
  char reason[256];
  char incident_id[40];
} guard_ai_result;

int guard_ai_submit(const guard_engine *engine, const guard_request *request, const guard_verdict *verdict, uint64_t *job, char *errbuf, size_t errlen);
int guard_ai_poll(const guard_engine *engine, uint64_t job, guard_ai_result *out, char *errbuf, size_t errlen);
int guard_ai_cancel(const guard_engine *engine, uint64_t job, char *errbuf, size_t errlen);
int guard_ai_feedback(const guard_engine *engine, const char *provider, size_t provider_len, int agreed, char *errbuf, size_t errlen);
int guard_ai_status(const guard_engine *engine, char *json, size_t len, size_t *needed, char *errbuf, size_t errlen);
]]
ffi.cdef(cdef)

-- #defines of guard.h, which ffi.cdef cannot carry.
local constants = {
  GUARD_REQ_BODY_TRUNCATED = 0x1,
  GUARD_VERDICT_BODY_UNINSPECTED = 0x1,
  GUARD_VERDICT_CACHED = 0x2,
  GUARD_VERDICT_ESCALATE = 0x4,
  GUARD_MAX_RULE_IDS = 16,
  GUARD_PERIOD_COUNT = 6,
  GUARD_RATE_APPLIED = 0x1,
  GUARD_RATE_DEGRADED = 0x2,
  GUARD_RATE_NEVER = 0x4,
  GUARD_SYNC_NONE = 0,
  GUARD_SYNC_IDLE = 1,
  GUARD_SYNC_HEALTHY = 2,
  GUARD_SYNC_UNHEALTHY = 3,
  -- behaviour as a signal (issue 5)
  GUARD_VERDICT_BANNED = 0x100,
  GUARD_VERDICT_THROTTLED = 0x200,
  GUARD_RESP_LOGIN_FAILED = 0x1,
  GUARD_DECISION_NONE = 0,
  GUARD_DECISION_THROTTLE = 1,
  GUARD_DECISION_BAN = 2,
  GUARD_LIST_BAN = 0,
  GUARD_LIST_ALLOW = 1,
  GUARD_AI_PENDING = 0,
  GUARD_AI_DONE = 1,
  GUARD_AI_FAILED = 2,
  GUARD_AI_UNKNOWN = 3,
}

-- Walks package.cpath and loads the first libguard.so that exists; a failure lists every path tried.
local function load_library(name)
  local tried = {}
  for template in package.cpath:gmatch("[^;]+") do
    local dir = template:match("^(.*/)")
    if dir then
      local path = dir .. name
      local f = io.open(path, "rb")
      if f then
        f:close()
        return ffi.load(path)
      end
      tried[#tried + 1] = path
    end
  end
  error("could not find " .. name .. " along package.cpath; tried:\n  " .. table.concat(tried, "\n  "), 2)
end

-- Points a guard_str at a Lua string (nil: the empty string). The caller keeps `s` alive for the call.
local function set_str(field, s)
  if s then
    field.ptr = s
    field.len = #s
  else
    field.ptr = nil
    field.len = 0
  end
end

return {
  lib = load_library("libguard.so"),
  set_str = set_str,
  constants = constants,
  cdef = cdef, -- kept for spec/cdefs_spec.lua, which checks it against guard.h
}
