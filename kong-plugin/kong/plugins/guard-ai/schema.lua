-- guard-ai config schema in Kong's DSL. It mirrors schema/guard-config.schema.json, the one source of
-- truth (spec/schema_agreement_spec.lua proves they agree); libguard validates against that file again
-- when it builds an engine.
local typedefs = require "kong.db.schema.typedefs"

-- quota (docs/quota.md): libguard's quota::ParseQuotaConfig checks what neither schema can say (tier names,
-- cost against every burst, unique limit names).
local MAX_COUNT = 1000000000
local window = {
  type = "record",
  fields = {
    { per = { description = "The window: month is 30 days, year 365 days (sliding, not calendar).",
              type = "string", required = true, one_of = { "second", "minute", "hour", "day", "month", "year" } } },
    { limit = { description = "Requests (tokens) per window.", type = "integer", required = true, between = { 1, MAX_COUNT } } },
    { burst = { description = "Bucket capacity in tokens; absent: equal to limit.", type = "integer", between = { 1, MAX_COUNT } } },
  },
}
local function windows(description)
  return { description = description, type = "array", len_min = 1, len_max = 6, elements = window }
end
local WINDOWS = "Windows of one bucket, each period at most once; admitted only if every window admits."

local limit = {
  type = "record",
  fields = {
    { name = { description = "Unique name of the limit (part of the bucket key); \"global\" is reserved.",
               type = "string", required = true, len_min = 1, len_max = 64 } },
    { key = { description = "What a bucket is per: consumer, credential, ip, route, service, header:<name>.",
              type = "array", required = true, len_min = 1, len_max = 4,
              elements = { type = "string", len_max = 71, match_any = {
                patterns = { "^consumer$", "^credential$", "^ip$", "^route$", "^service$", "^header:.+$" },
                err = "expected consumer, credential, ip, route, service or header:<name>" } } } },
    { when_missing = { description = "A key part is empty: ip (limit by client IP; default), skip (the limit does not apply), shared (one bucket).",
                       type = "string", one_of = { "ip", "skip", "shared" } } },
    { windows = windows(WINDOWS) },
    { tiers = { description = "Named window sets instead of windows; needs default_tier and tier_from.",
                type = "map", keys = { type = "string", len_min = 1, len_max = 64 }, values = windows(WINDOWS) } },
    { default_tier = { description = "Tier used when the request names none or an unknown one.",
                       type = "string", len_min = 1, len_max = 64 } },
    { tier_from = { description = "consumer_tag (a consumer tag tier:<name>) or header:<name> (only a header an upstream plugin sets).",
                    type = "string", len_max = 71, match_any = { patterns = { "^consumer_tag$", "^header:.+$" },
                                                                 err = "expected consumer_tag or header:<name>" } } },
    { cost = { description = "Tokens per request for this limit (at most every burst).",
               type = "integer", between = { 1, MAX_COUNT } } },
  },
  entity_checks = {
    { only_one_of = { "windows", "tiers" } },
    { at_least_one_of = { "windows", "tiers" } },
    { mutually_required = { "tiers", "default_tier", "tier_from" } },
  },
}

local quota = {
  description = "Token-bucket rate limits (docs/quota.md); exact across the workers of a node, cluster-wide with sync.",
  type = "record",
  fields = {
    { limits = { type = "array", len_min = 0, len_max = 16, elements = limit } },
    { global = windows("Windows of one bucket shared by every request of this plugin instance.") },
    { on_unavailable = { description = "When the node table cannot hold a key: allow (fail open, default) or deny.",
                         type = "string", one_of = { "allow", "deny" } } },
    { hide_client_headers = { description = "Do not send RateLimit-*, X-RateLimit-* and Retry-After headers.",
                              type = "boolean", required = true, default = false } },
    { sync = { description = "Makes every limit cluster-wide through Redis (docs/quota.md).",
               type = "record",
               fields = {
                 { redis = { type = "record", required = true, fields = {
                     { host = { type = "string", required = true, len_min = 1, len_max = 255 } },
                     { port = { type = "integer", between = { 1, 65535 } } },
                     { password = { type = "string", len_min = 1, len_max = 512, referenceable = true } },
                     { database = { type = "integer", between = { 0, 15 } } },
                     { timeout_ms = { type = "integer", between = { 1, 60000 } } },
                   } } },
                 { interval_ms = { description = "How often each worker reports to and reads from Redis.",
                                   type = "integer", between = { 10, 60000 } } },
                 { on_failure = { description = "While Redis is unreachable: local_fallback (limit / nodes per node), fail_open, fail_closed.",
                                  type = "string", one_of = { "local_fallback", "fail_open", "fail_closed" } } },
                 { expected_nodes = { description = "Node count for local_fallback until Redis has reported the live nodes.",
                                      type = "integer", between = { 1, 10000 } } },
                 { prefix = { description = "Redis key prefix.", type = "string", len_min = 1, len_max = 64,
                              match = "^[^{}]+$" } },
               } } },
  },
}

-- A custom rule: the rule object of schema/rules.schema.json (#/definitions/rule), which the JSON config
-- schema references; libguard validates custom rules against that same definition.
local RULE_TARGETS = { "method", "path", "args", "args_names", "query", "query_names", "headers", "header_names",
                       "cookies", "cookie_names", "body_args", "body_args_names", "files", "file_content", "xml",
                       "body" }
local target_patterns = { "^custom_headers$" }
for _, t in ipairs(RULE_TARGETS) do
  target_patterns[#target_patterns + 1] = "^" .. t .. "$"
  target_patterns[#target_patterns + 1] = "^" .. t .. ":[a-z0-9_.$%[%]-]+$"
end

local custom_rule = {
  type = "record",
  fields = {
    { id = { type = "integer", required = true, between = { 1, 4294967295 } } },
    { category = { type = "string", required = true,
                   one_of = { "sqli", "xss", "cmdi", "traversal", "rfi", "ssrf", "xxe", "ssti", "jndi", "nosqli",
                              "ldapi", "crlf", "code", "scanner", "protocol", "behaviour", "custom" } } },
    { severity = { type = "integer", required = true, between = { 1, 10 } } },
    { paranoia = { type = "integer", required = true, between = { 1, 4 } } },
    { targets = { type = "set", required = true, len_min = 1,
                  elements = { type = "string", match_any = { patterns = target_patterns,
                                                              err = "expected a rule target such as args, headers:user-agent or custom_headers" } } } },
    { transforms = { type = "set", required = true, default = {},
                     elements = { type = "string",
                                  one_of = { "urlDecode", "urlDecodeUni", "htmlEntityDecode", "utf8Normalize",
                                             "lowercase", "replaceComments", "compressWhitespace", "removeComments",
                                             "normalizePath", "removeNulls", "base64Decode", "cmdLine" } } } },
    { patterns = { type = "array", required = true, len_min = 1, elements = { type = "string", len_min = 1 } } },
    { case_sensitive = { type = "boolean", required = true, default = false } },
    { message = { type = "string", required = true, len_min = 1, len_max = 200 } },
    { tags = { type = "array", elements = { type = "string" } } },
  },
}

-- ---- Behaviour as a signal (issue 5): verdict cache, behaviour profiles and scenarios, blocklist ------------
local cache = {
  description = "Verdict cache keyed by request shape (docs/fingerprint.md): L1 in each worker, L2 in the redis section's Redis. A cached malicious verdict blocks variants of a known attack; a benign verdict is never served to a request the signatures flag.",
  type = "record",
  fields = {
    { enabled = { type = "boolean", required = true, default = true } },
    { max_entries = { description = "L1 entries per worker (about 100 bytes each).",
                      type = "integer", required = true, default = 65536, between = { 16, 16777216 } } },
    { benign_ttl_s = { type = "integer", required = true, default = 60, between = { 1, 86400 } } },
    { malicious_ttl_s = { type = "integer", required = true, default = 600, between = { 1, 2592000 } } },
    { warm_file = { description = "JSONL of known attacks loaded into L1 when the engine is built (docs/fingerprint.md, Warming).",
                    type = "string", len_min = 1, len_max = 4096 } },
  },
}

local scenario = {
  type = "record",
  fields = {
    { name = { type = "string", required = true, len_min = 1, len_max = 64 } },
    { enabled = { type = "boolean", required = true, default = true } },
    { capacity = { type = "number", between = { 0.001, 1000000 } } },
    { leak_per_sec = { type = "number", between = { 0, 1000000 } } },
    { feeds = { description = "Event name -> weight poured per event (docs/fingerprint.md, Scenario detectors).",
                type = "map", keys = { type = "string" }, values = { type = "number", between = { 0, 1000000 } } } },
    { score = { description = "Added to the anomaly score of the request that overflows the bucket.",
                type = "integer", between = { 0, 1000 } } },
    { decision = { type = "string", one_of = { "none", "throttle", "ban" } } },
    { ttl_s = { description = "Decision TTL of a first offence.", type = "integer", between = { 1, 31536000 } } },
    { ttl_multiplier = { description = "TTL factor per repeat offence.", type = "number", between = { 1, 1000 } } },
    { max_ttl_s = { type = "integer", between = { 1, 31536000 } } },
  },
}

local behaviour = {
  description = "Behaviour profiles per client and scenario detectors (docs/fingerprint.md). Off by default: turning it on lets scenarios throttle (429) and ban (ban_status) clients.",
  type = "record",
  fields = {
    { enabled = { type = "boolean", required = true, default = false } },
    { window_s = { description = "Sliding window of rates and distinct counts.",
                   type = "integer", required = true, default = 10, between = { 1, 3600 } } },
    { memory_budget_bytes = { description = "Profile table of one process, used when no node table was made (guard_node_init_behaviour); the node table (GUARD_BEHAVIOUR_SHM_BYTES) bounds every instance of a node together.",
                              type = "integer", required = true, default = 67108864, between = { 1048576, 17179869184 } } },
    { login_paths = { description = "Paths of login-like routes ('*' matches any run of characters): their 401/403 answers count as login failures.",
                      type = "array", required = true, len_max = 64,
                      default = { "*/login", "*/signin", "*/sign_in", "*/session", "*/sessions", "*/oauth/token", "*/auth" },
                      elements = { type = "string", len_min = 1, len_max = 256 } } },
    { login_routes = { description = "Kong route ids that are login-like.", type = "array", required = true, default = {},
                       len_max = 64, elements = { type = "string", len_min = 1, len_max = 64 } } },
    { username_fields = { description = "Body or query fields holding the username tried on a login route.",
                          type = "array", required = true, len_max = 16, default = { "username", "user", "login", "email" },
                          elements = { type = "string", len_min = 1, len_max = 64 } } },
    { ban_status = { description = "HTTP status answered to a banned client (a throttled client gets 429).",
                     type = "integer", required = true, default = 403, between = { 400, 599 } } },
    { scenarios = { description = "Overrides of the default scenarios (probing, credential_stuffing, enumeration, burst, scripted_bot, attack_burst) by name, or new ones (feeds required).",
                    type = "array", required = true, default = {}, len_max = 8, elements = scenario } },
  },
}

local subjects = { type = "array", required = true, default = {}, len_max = 10000,
                   elements = { type = "string", len_min = 1, len_max = 128 } }
local blocklist = {
  description = "Static entries: IPs, CIDRs (v4/v6) and consumer:<id>. The allow list always wins, also over bans issued by behaviour or the admin API.",
  type = "record",
  fields = {
    { allow = subjects },
    { deny = subjects },
  },
}
-- ---- end of behaviour ------------------------------------------------------------------------------------------

-- ai (docs/ai.md): libguard's providers::ParseAiConfig checks what neither schema can say (unique provider
-- names) and config.cc checks escalate_min_score against anomaly_threshold.
local MAX_LIMIT = 1099511627776 -- 2^40
local ai_breaker = {
  description = "Circuit breaker: closed -> open after `failures` consecutive failures or `error_rate` over window_ms (with min_calls) -> half-open after cooldown_ms -> closed on a probe success.",
  type = "record",
  fields = {
    { failures = { type = "integer", required = true, default = 5, between = { 1, 1000 } } },
    { error_rate = { description = "0 disables the error-rate trigger.", type = "number", required = true, default = 0.5, between = { 0, 1 } } },
    { min_calls = { type = "integer", required = true, default = 10, between = { 1, 100000 } } },
    { window_ms = { type = "integer", required = true, default = 60000, between = { 1000, 3600000 } } },
    { cooldown_ms = { type = "integer", required = true, default = 30000, between = { 10, 3600000 } } },
    { half_open_probes = { type = "integer", required = true, default = 1, between = { 1, 100 } } },
  },
}

local ai_provider = {
  type = "record",
  fields = {
    { name = { description = "Unique label (metrics, logs, quota keys).", type = "string", required = true, len_min = 1, len_max = 64 } },
    { kind = { description = "Wire protocol; groq, ollama and vllm speak OpenAI's chat completions.",
               type = "string", required = true, one_of = { "openai", "groq", "ollama", "vllm", "anthropic", "gemini" } } },
    { base_url = { description = "http:// or https:// URL, e.g. https://api.openai.com/v1",
                   type = "string", required = true, len_min = 1, len_max = 2048, match = "^[Hh][Tt][Tt][Pp][Ss]?://" } },
    { model = { type = "string", required = true, len_min = 1, len_max = 256 } },
    { api_key = { description = "Sent as the provider's auth header; a Kong vault reference ({vault://env/NAME}) is resolved by Kong. Absent: no auth (local Ollama / vLLM).",
                  type = "string", len_min = 1, len_max = 4096, referenceable = true } },
    { anthropic_version = { type = "string", required = true, default = "2023-06-01", len_min = 1, len_max = 64 } },
    { timeout_ms = { description = "Per call; also capped by the time left before the request's deadline.",
                     type = "integer", required = true, default = 5000, between = { 50, 120000 } } },
    { priority = { description = "Lower first (priority strategy; tie-break elsewhere).", type = "integer", required = true, default = 100, between = { 0, 1000000 } } },
    { weight = { description = "Multiplies the balanced score.", type = "number", required = true, default = 1, between = { 0, 1000 } } },
    { rpm = { description = "Requests per minute; 0 = unlimited.", type = "integer", required = true, default = 0, between = { 0, MAX_LIMIT } } },
    { tpm = { description = "Tokens per minute; 0 = unlimited.", type = "integer", required = true, default = 0, between = { 0, MAX_LIMIT } } },
    { rpd = { description = "Requests per day; 0 = unlimited.", type = "integer", required = true, default = 0, between = { 0, MAX_LIMIT } } },
    { usd_per_day = { description = "Dollars per day; 0 = unlimited.", type = "number", required = true, default = 0, between = { 0, 1000000000 } } },
    { usd_per_1m_input = { type = "number", required = true, default = 0, between = { 0, 1000000 } } },
    { usd_per_1m_output = { type = "number", required = true, default = 0, between = { 0, 1000000 } } },
    { max_output_tokens = { type = "integer", required = true, default = 200, between = { 16, 4096 } } },
    { max_concurrency = { description = "Calls in flight (also the per-host connection limit).", type = "integer", required = true, default = 8, between = { 1, 1024 } } },
    { max_queue = { description = "Jobs waiting for a free call slot; a full queue sheds the lowest-risk job.", type = "integer", required = true, default = 64, between = { 0, 100000 } } },
    { breaker = ai_breaker },
  },
}

local ai = {
  description = "LLM second opinion on grey-zone requests (docs/ai.md). Absent: no AI.",
  type = "record",
  fields = {
    { mode = { description = "sync: the request waits (ngx.sleep polling) up to deadline_ms for the AI verdict; async: it passes at once and the verdict applies to later requests of the same shape (verdict cache) or client.",
               type = "string", required = true, default = "sync", one_of = { "sync", "async" } } },
    { deadline_ms = { description = "How long a sync request waits for the AI, failovers included.", type = "integer", required = true, default = 1500, between = { 20, 60000 } } },
    { fallback = { description = "Past the deadline, or when every provider failed: signatures (the local verdict stands), allow, block.",
                   type = "string", required = true, default = "signatures", one_of = { "signatures", "allow", "block" } } },
    { poll_ms = { description = "Sleep between two polls of a sync request.", type = "integer", required = true, default = 10, between = { 1, 1000 } } },
    { escalate_min_score = { description = "Grey zone: anomaly scores from this up to anomaly_threshold (exclusive) are escalated; must not exceed anomaly_threshold.",
                             type = "integer", required = true, default = 2, between = { 1, 1000 } } },
    { escalate_behaviour = { description = "Also escalate requests the behaviour engines flagged (category behaviour) below the threshold.",
                             type = "boolean", required = true, default = true } },
    { strategy = { type = "string", required = true, default = "balanced", one_of = { "speed", "accuracy", "cost", "balanced", "priority" } } },
    { weights = { description = "Weights of the balanced score (docs/ai.md).", type = "record", fields = {
        { speed = { type = "number", required = true, default = 0.3, between = { 0, 100 } } },
        { accuracy = { type = "number", required = true, default = 0.3, between = { 0, 100 } } },
        { cost = { type = "number", required = true, default = 0.2, between = { 0, 100 } } },
        { headroom = { type = "number", required = true, default = 0.2, between = { 0, 100 } } },
      } } },
    { max_attempts = { description = "Providers tried per request (first call + failovers).", type = "integer", required = true, default = 3, between = { 1, 16 } } },
    { budget_usd_per_day = { description = "Over all providers; 0 = unlimited.", type = "number", required = true, default = 0, between = { 0, 1000000000 } } },
    { max_body_bytes = { description = "Body bytes sent to the model (cut at a UTF-8 boundary).", type = "integer", required = true, default = 2048, between = { 0, 1048576 } } },
    { headers = { description = "Lowercase header names sent to the model (secrets redacted).", type = "array", required = true, len_max = 64,
                  default = { "host", "user-agent", "content-type", "accept", "referer", "origin", "x-forwarded-for",
                              "x-requested-with", "cookie", "authorization" },
                  elements = { type = "string", len_min = 1, len_max = 128 } } },
    { max_total_connections = { type = "integer", required = true, default = 32, between = { 1, 4096 } } },
    { providers = { type = "array", required = true, len_min = 1, len_max = 16, elements = ai_provider } },
  },
}

return {
  name = "guard-ai",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { mode = { description = "block: answer attacks with block_status; monitor: let them through, add headers and log.",
                     type = "string", required = true, default = "block", one_of = { "block", "monitor" } } },
          { paranoia_level = { description = "1 (fewest false positives) to 4 (most rules).",
                               type = "integer", required = true, default = 1, between = { 1, 4 } } },
          { anomaly_threshold = { description = "Anomaly score at which a request is an attack.",
                                  type = "integer", required = true, default = 5, between = { 1, 1000 } } },
          { inspect_body = { description = "Inspect request bodies.",
                             type = "boolean", required = true, default = true } },
          { max_body_bytes = { description = "Bytes of body inspected; the rest is reported as uninspected.",
                               type = "integer", required = true, default = 65536, between = { 0, 16777216 } } },
          { block_status = { description = "HTTP status of a blocked request.",
                             type = "integer", required = true, default = 403, between = { 400, 599 } } },
          { block_message = { description = "The message field of the JSON body of a blocked request.",
                              type = "string", required = true, default = "Request blocked by Kong Guard AI",
                              len_min = 1, len_max = 256 } },
          { disabled_rules = { description = "Rule ids never evaluated for this plugin instance.",
                               type = "set", required = true, default = {},
                               elements = { type = "integer", between = { 1, 4294967295 } } } },
          { exclusions = { description = "Per-route tuning: stop rules from reading fields or paths (CRS ruleRemoveById / ruleRemoveTargetById).",
                           type = "array", required = true, default = {},
                           elements = { type = "record", fields = {
                             { rule_ids = { type = "array", required = true, default = {},
                                            elements = { type = "integer", between = { 1, 4294967295 } } } },
                             { targets = { type = "array", required = true, default = {},
                                           elements = { type = "string", len_min = 1, len_max = 128 } } },
                             { paths = { type = "array", required = true, default = {},
                                         elements = { type = "string", len_min = 1, len_max = 512 } } },
                           } } } },
          { custom_rules = { description = "Rules added to the core set for this plugin instance (shape: schema/rules.schema.json).",
                             type = "array", required = true, default = {}, elements = custom_rule } },
          { verdict_headers = { description = "Add X-Guard-* headers to responses of inspected requests.",
                                type = "boolean", required = true, default = true } },
          { quota = quota },
          { redis = { description = "Redis shared by the nodes for the verdict cache (L2), the blocklist and the AI providers' breaker and quota state (docs/architecture.md). Absent: each node keeps that state on its own. quota.sync names its own Redis. Kong fills an unset record with its defaults: no host means no Redis.",
                      type = "record",
                      fields = {
                        { host = { type = "string", len_min = 1, len_max = 255 } },
                        { port = { type = "integer", required = true, default = 6379, between = { 1, 65535 } } },
                        { password = { type = "string", len_min = 1, len_max = 512, referenceable = true } },
                        { database = { type = "integer", required = true, default = 0, between = { 0, 15 } } },
                        { timeout_ms = { type = "integer", required = true, default = 100, between = { 1, 60000 } } },
                        { prefix = { description = "Key prefix of this state.", type = "string", required = true, default = "guard",
                                     len_min = 1, len_max = 64, match = "^[^{}]+$" } },
                      } } },
          { cache = cache },         -- behaviour as a signal (issue 5)
          { behaviour = behaviour },
          { blocklist = blocklist },
          { ai = ai },
        },
      },
    },
  },
}
