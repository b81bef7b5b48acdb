/*
 * guard.h: the C ABI of libguard, the engine behind Kong Guard AI's `guard-ai` plugin.
 *
 * Conventions (as in SQLite and Hyperscan):
 *   - Opaque handles with explicit create/free pairs. A guard_engine is immutable once built (compiled
 *     signatures, validated config) and may be shared by every request of one plugin config.
 *   - Strings cross the boundary as pointer + length; nothing here relies on NUL terminators.
 *   - The caller owns every buffer it passes in; libguard never keeps a pointer into a request after the
 *     call returns.
 *   - Errors come back as a status code plus a message written to a caller-supplied buffer
 *     (always NUL-terminated when errlen > 0). No C++ exception ever crosses this boundary.
 *   - guard_inspect never blocks: no syscalls, no network, no contended locks.
 *
 * The LuaJIT binding (kong-plugin/kong/plugins/guard-ai/cdefs.lua) mirrors this file; a spec checks it.
 */
#ifndef GUARD_H
#define GUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GUARD_API __attribute__((visibility("default")))
#else
#define GUARD_API
#endif

/* Status codes returned by every fallible call. */
typedef enum guard_status {
  GUARD_OK = 0,
  GUARD_EINVAL = 1,    /* bad argument (NULL handle, malformed request struct) */
  GUARD_ECONFIG = 2,   /* config JSON invalid: the message names the JSON path and the rule broken */
  GUARD_ERULES = 3,    /* a rule set failed validation or Hyperscan compilation */
  GUARD_ENOMEM = 4,    /* allocation failed */
  GUARD_EINTERNAL = 5  /* unexpected internal error (a bug): the message says what */
} guard_status;

/* What the gateway should do with the request. */
typedef enum guard_action {
  GUARD_ACTION_ALLOW = 0,
  GUARD_ACTION_MONITOR = 1,     /* would have blocked, but the config's mode is "monitor" */
  GUARD_ACTION_BLOCK = 2,
  GUARD_ACTION_RATE_LIMITED = 3
} guard_action;

/* Attack categories; a verdict carries the set of them as bits (1 << category). */
typedef enum guard_category {
  GUARD_CAT_SQLI = 0,
  GUARD_CAT_XSS = 1,
  GUARD_CAT_CMDI = 2,       /* OS command injection / RCE */
  GUARD_CAT_TRAVERSAL = 3,  /* path traversal, LFI */
  GUARD_CAT_RFI = 4,
  GUARD_CAT_SSRF = 5,
  GUARD_CAT_XXE = 6,
  GUARD_CAT_SSTI = 7,
  GUARD_CAT_JNDI = 8,       /* JNDI lookups, Log4Shell */
  GUARD_CAT_NOSQLI = 9,
  GUARD_CAT_LDAPI = 10,
  GUARD_CAT_CRLF = 11,      /* CRLF / header injection, response splitting */
  GUARD_CAT_CODE = 12,      /* PHP / Java / JS code injection */
  GUARD_CAT_SCANNER = 13,   /* scanner and attack-tool user agents */
  GUARD_CAT_PROTOCOL = 14,  /* protocol anomalies */
  GUARD_CAT_BEHAVIOUR = 15, /* behavioural detectors, blocklist */
  GUARD_CAT_CUSTOM = 16,    /* rules added in the plugin config */
  GUARD_CAT_COUNT = 17
} guard_category;

/* A byte string: ptr may be NULL only when len is 0. */
typedef struct guard_str {
  const char *ptr;
  size_t len;
} guard_str;

typedef struct guard_header {
  guard_str name;
  guard_str value;
} guard_header;

/* Request flags. */
#define GUARD_REQ_BODY_TRUNCATED 0x1u /* the gateway could not read the whole body (e.g. buffered to disk) */

/* One request as the gateway saw it. Raw forms: path and query still percent-encoded, as on the wire. */
typedef struct guard_request {
  guard_str method;
  guard_str path;          /* request path without the query string */
  guard_str query;         /* raw query string without '?' */
  const guard_header *headers;
  size_t header_count;
  guard_str body;          /* may be a prefix of the body: see GUARD_REQ_BODY_TRUNCATED */
  guard_str client_ip;     /* the forwarded client IP as Kong computes it */
  guard_str consumer_id;   /* empty when no consumer was identified */
  guard_str credential_id;
  guard_str route_id;
  guard_str service_id;    /* quota key part "service"; empty when the route has no service */
  const guard_str *consumer_tags; /* the consumer's tags; "tier:<name>" picks a quota tier (tier_from consumer_tag) */
  size_t consumer_tag_count;
  uint32_t cost;           /* quota tokens this request spends (times each limit's cost); 0 means 1 */
  uint32_t flags;          /* GUARD_REQ_* */
} guard_request;

#define GUARD_MAX_RULE_IDS 16
#define GUARD_CATEGORY_LEN 32
#define GUARD_TARGET_LEN 64
#define GUARD_INCIDENT_ID_LEN 40
#define GUARD_POLICY_LEN 256
#define GUARD_FINGERPRINT_LEN 33 /* 32 hex digits of the 128-bit request-shape fingerprint + NUL */
#define GUARD_WINDOW_LEN 16
#define GUARD_LIMIT_NAME_LEN 72
#define GUARD_PERIOD_COUNT 6 /* second, minute, hour, day, month, year: index of guard_rate_limit.period_* */

/* Rate-limit flags (guard_rate_limit.flags). */
#define GUARD_RATE_APPLIED 0x1u  /* at least one quota limit applied: the other fields are meaningful */
#define GUARD_RATE_DEGRADED 0x2u /* decided under a failure policy (table full, or Redis down: on_failure) */
#define GUARD_RATE_NEVER 0x4u    /* refused and the cost can never pass (cost > burst): send no Retry-After */

/* The quota decision, everything Kong's rate-limiting headers need. Zero (flags 0) when the config has no
 * quota section, when no limit applied, and for blocked requests (an attack consumes no quota). */
typedef struct guard_rate_limit {
  uint32_t flags;                       /* GUARD_RATE_* */
  uint32_t period_mask;                 /* bit p: period p has a window (period_limit/remaining[p] are set) */
  uint64_t limit;                       /* RateLimit-Limit of the deciding window */
  uint64_t remaining;                   /* RateLimit-Remaining */
  uint64_t reset_s;                     /* RateLimit-Reset: seconds until that bucket is full again, >= 1 */
  uint64_t retry_after_s;               /* Retry-After when refused, >= 1; 0 when admitted or GUARD_RATE_NEVER */
  uint64_t period_limit[GUARD_PERIOD_COUNT];     /* X-RateLimit-Limit-<Period> (guard_period_name) */
  uint64_t period_remaining[GUARD_PERIOD_COUNT]; /* X-RateLimit-Remaining-<Period> */
  char window[GUARD_WINDOW_LEN];        /* period of the deciding window: "second", "minute", ... */
  char limit_name[GUARD_LIMIT_NAME_LEN]; /* name of the deciding limit ("global" for the global section) */
  char policy[GUARD_POLICY_LEN];        /* RateLimit-Policy, e.g. "60;w=60, 1000;w=3600" */
} guard_rate_limit;

/* The engine's answer. Filled completely by guard_inspect; strings are NUL-terminated. */
typedef struct guard_verdict {
  int32_t action;                       /* guard_action */
  int32_t score;                        /* anomaly score: sum of the severities of matched rules */
  int32_t threshold;                    /* the score at which the config blocks */
  uint32_t rule_count;                  /* rules matched (rule_ids holds the first GUARD_MAX_RULE_IDS) */
  uint32_t rule_ids[GUARD_MAX_RULE_IDS];
  uint64_t categories;                  /* bit (1 << guard_category) per category matched */
  char category[GUARD_CATEGORY_LEN];    /* category of the highest-severity match, "" when none */
  char target[GUARD_TARGET_LEN];        /* where it matched, e.g. "args:id", "headers:user-agent", "body" */
  char incident_id[GUARD_INCIDENT_ID_LEN]; /* unique id for a non-allow verdict, "" otherwise */
  uint32_t flags;                       /* GUARD_VERDICT_* */
  char fingerprint[GUARD_FINGERPRINT_LEN]; /* request-shape fingerprint (docs/fingerprint.md), "" if not computed:
                                            banned before parsing, or no rule matched and no ai section */
  guard_rate_limit rate;                /* the quota decision; action is GUARD_ACTION_RATE_LIMITED if refused */
} guard_verdict;

#define GUARD_VERDICT_BODY_UNINSPECTED 0x1u /* part of the body was not inspected (limit or truncation) */
#define GUARD_VERDICT_CACHED 0x2u   /* action/score came from the verdict cache (an earlier verdict for this shape) */
#define GUARD_VERDICT_ESCALATE 0x4u /* grey zone: the config asks for a second opinion (AI) on this request */

typedef struct guard_engine guard_engine;

/* Identity of an engine, for state shared beyond one process (node table, Redis). */
typedef struct guard_engine_options {
  guard_str instance_id; /* the plugin instance (Kong's plugin id): namespaces its quota buckets; "" = "default" */
  guard_str node_id;     /* kong.node.get_id(): this node in the Redis heartbeat; "" = "node" */
} guard_engine_options;

/* Quota sync states (guard_quota_status.sync_state). */
#define GUARD_SYNC_NONE 0      /* no sync section: node-local limits */
#define GUARD_SYNC_IDLE 1      /* sync configured, no round yet in this process (on_failure applies meanwhile) */
#define GUARD_SYNC_HEALTHY 2
#define GUARD_SYNC_UNHEALTHY 3 /* the last round failed: on_failure applies */

/* Quota counters of one engine in the calling process (each worker has its own engine and sync thread). */
typedef struct guard_quota_status {
  uint32_t enabled;          /* the config has quota limits */
  uint32_t sync_state;       /* GUARD_SYNC_* */
  char on_failure[GUARD_WINDOW_LEN]; /* "local_fallback", "fail_open", "fail_closed"; "" without sync */
  uint32_t active_nodes;     /* live nodes last read from Redis (0: unknown) */
  uint32_t node_table;       /* 1: the table made by guard_node_init; 0: a process-local one */
  uint64_t checks, refused, degraded;
  uint64_t rounds_ok, rounds_failed, keys_synced, counts_dropped, last_ok_unix_ms;
  uint64_t table_capacity, table_live, table_full;
  char last_error[GUARD_POLICY_LEN];
} guard_quota_status;

/* Version of libguard as "major.minor.patch"; static storage. */
GUARD_API const char *guard_version(void);

/* Builds an engine from a JSON config (validated against schema/guard-config.schema.json).
 * Returns GUARD_OK and sets *out, or an error code with a message in errbuf (*out is then NULL). */
GUARD_API int guard_engine_new(const char *config_json, size_t config_len, guard_engine **out,
                               char *errbuf, size_t errlen);

/* Creates the node-wide quota bucket table (shm_bytes of MAP_SHARED memory; 64 bytes a slot). Call it once in
 * the process that forks the workers (the nginx master, at module load) before fork: plain mmap, no thread.
 * Idempotent: later calls keep the first table and return GUARD_OK. Without it, engines with quotas use a
 * process-local table (exact within one process only). */
GUARD_API int guard_node_init(size_t shm_bytes, char *errbuf, size_t errlen);

/* guard_engine_new with an identity (options may be NULL). Build engines with quota sync in the worker that
 * uses them: the sync thread starts with the first admitted request, never at build time. */
GUARD_API int guard_engine_new_v2(const char *config_json, size_t config_len, const guard_engine_options *options,
                                  guard_engine **out, char *errbuf, size_t errlen);

/* Fills *out with the quota state of this engine in the calling process. */
GUARD_API int guard_engine_quota_status(const guard_engine *engine, guard_quota_status *out, char *errbuf,
                                        size_t errlen);

/* Header name of a period for X-RateLimit-*-<Period>: "Second", "Minute", ..., or "" out of range; static. */
GUARD_API const char *guard_period_name(int period);

/* Frees an engine built by guard_engine_new. NULL is a no-op. The caller ensures no inspect is in flight. */
GUARD_API void guard_engine_free(guard_engine *engine);

/* Inspects one request and fills *verdict. Safe to call from several threads on one engine. Signatures run
 * first; a request they block is not charged to any quota. Then the quota: refused -> GUARD_ACTION_RATE_LIMITED. */
GUARD_API int guard_inspect(const guard_engine *engine, const guard_request *request,
                            guard_verdict *verdict, char *errbuf, size_t errlen);

/* Checks a rules file (JSON, schema/rules.schema.json) and compiles it with Hyperscan without building an
 * engine. GUARD_OK, or GUARD_ERULES with the rule id and the problem in errbuf. */
GUARD_API int guard_rules_check(const char *rules_json, size_t rules_len, char *errbuf, size_t errlen);

/* Short name of a guard_category ("sqli", "xss", ...), or "" when out of range; static storage. */
GUARD_API const char *guard_category_name(int category);

/* Short name of a guard_action ("allow", "monitor", "block", "rate_limited"); static storage. */
GUARD_API const char *guard_action_name(int action);

/* ---- Behaviour as a signal (issue 5): verdict-cache flags, response feeding, blocklist, status ------------
 * Implemented in libguard/src/abi/guard_abi_behaviour.cc; docs/fingerprint.md describes the engines. */

#define GUARD_VERDICT_BANNED 0x100u    /* blocked because the client is banned (blocklist, or a behaviour decision) */
#define GUARD_VERDICT_THROTTLED 0x200u /* rate_limited by a behaviour throttle decision: rate.retry_after_s is set */

/* A response, as the gateway's log phase sees it: feeds the client's behaviour profile (404s, 401/403,
 * failed logins). Same client identity as the guard_request of that request. */
typedef struct guard_response_info {
  guard_str method;
  guard_str path;         /* request path without the query string */
  guard_str client_ip;
  guard_str consumer_id;
  guard_str route_id;
  int32_t status;         /* HTTP status sent to the client */
  uint32_t flags;         /* GUARD_RESP_* */
} guard_response_info;

#define GUARD_RESP_LOGIN_FAILED 0x1u /* the caller knows this was a failed login (e.g. 200 with an error body) */

#define GUARD_DECISION_NONE 0
#define GUARD_DECISION_THROTTLE 1
#define GUARD_DECISION_BAN 2

/* The behaviour decision for a client after an event. */
typedef struct guard_decision_info {
  int32_t decision;        /* GUARD_DECISION_*, in force now */
  uint32_t is_new;         /* 1: issued by this very event (a ban is then on the blocklist of every node) */
  int64_t until_unix_ms;   /* expiry of the decision in force, 0 when none */
  char scenario[GUARD_LIMIT_NAME_LEN]; /* scenario that decided, "" when none */
} guard_decision_info;

/* Behaviour and cache state of one engine in the calling process (profiles are node-wide, the L1 cache is
 * per worker). */
typedef struct guard_behaviour_status {
  uint32_t cache_enabled, behaviour_enabled;
  uint32_t node_profiles;    /* 1: profiles in the node table (guard_node_init_behaviour); 0: this process only */
  uint32_t sync_state;       /* GUARD_SYNC_* of the redis section's sync (blocklist, L2 cache) */
  uint64_t cache_hits, cache_misses, cache_inserts, cache_evictions, cache_expired, cache_suppressed;
  uint64_t cache_size, cache_capacity, cache_warmed;
  uint64_t profiles_live, profiles_capacity, profiles_memory_bytes, profiles_evicted;
  uint64_t decisions_throttle, decisions_ban; /* issued by this process */
  uint64_t requests_banned, requests_throttled, requests_cache_blocked;
  uint64_t blocklist_entries, blocklist_static, journal_seq, journal_lost;
  uint64_t sync_rounds_ok, sync_rounds_failed, sync_lines_published, sync_lines_pulled;
  uint64_t l2_fetches, l2_hits, l2_stores, l2_dropped, sync_last_ok_unix_ms;
  char sync_last_error[GUARD_POLICY_LEN];
} guard_behaviour_status;

/* Creates the node-wide behaviour region (profiles + blocklist journal, shm_bytes of MAP_SHARED memory). Call it
 * in the process that forks the workers, before fork, like guard_node_init; idempotent. */
GUARD_API int guard_node_init_behaviour(size_t shm_bytes, char *errbuf, size_t errlen);

/* Feeds a response into its client's profile (call it from the log phase). out may be NULL. */
GUARD_API int guard_observe(const guard_engine *engine, const guard_response_info *response,
                            guard_decision_info *out, char *errbuf, size_t errlen);

#define GUARD_LIST_BAN 0
#define GUARD_LIST_ALLOW 1

/* Adds (or replaces) a node- and cluster-wide blocklist entry: subject is an IP, a CIDR (v4/v6) or
 * "consumer:<id>"; ttl_ms 0 = never expires. Applied in this process at once, in the node's other workers
 * before their next request, on other nodes through the redis section's Redis (within ~0.5 s). */
GUARD_API int guard_blocklist_add(int list, guard_str subject, int64_t ttl_ms, guard_str reason, char *errbuf,
                                  size_t errlen);
/* Removes an entry (GUARD_OK also when there was none: removal is idempotent everywhere). */
GUARD_API int guard_blocklist_remove(int list, guard_str subject, char *errbuf, size_t errlen);
/* Writes the live entries as JSON ({"entries":[{"list","subject","expires_unix_ms","reason"}...]}) into out.
 * *written is the length (without NUL); if outlen is too small: GUARD_EINVAL and *written is the size needed. */
GUARD_API int guard_blocklist_list(char *out, size_t outlen, size_t *written, char *errbuf, size_t errlen);

GUARD_API int guard_engine_behaviour_status(const guard_engine *engine, guard_behaviour_status *out, char *errbuf,
                                            size_t errlen);
/* ---- end of behaviour as a signal ---------------------------------------------------------------------- */

/* ---- AI escalation (docs/ai.md) ----------------------------------------------------------------------
 * A verdict with GUARD_VERDICT_ESCALATE may be handed to the engine's LLM providers. guard_ai_submit copies
 * what it needs and returns at once; the calls run on libguard's own I/O thread (started by the first
 * submit, in the calling process: never submit from the nginx master). The caller polls without blocking
 * (e.g. between ngx.sleep steps) until a final state, or cancels when it stops waiting. A valid answer also
 * goes into the verdict cache under the verdict's fingerprint. No network I/O happens on the caller's thread. */

/* Job states (guard_ai_result.state). A final state (DONE, FAILED) is reported once, then the job is gone. */
#define GUARD_AI_PENDING 0
#define GUARD_AI_DONE 1    /* a provider answered with a schema-valid verdict */
#define GUARD_AI_FAILED 2  /* no verdict (deadline, every provider failed, shed, budget spent): apply the fallback */
#define GUARD_AI_UNKNOWN 3 /* never submitted, already reported, cancelled or expired */

#define GUARD_AI_PROVIDER_LEN 65
#define GUARD_AI_REASON_LEN 256

typedef struct guard_ai_result {
  int32_t state;          /* GUARD_AI_* */
  int32_t action;         /* DONE: guard_action of the AI verdict (allow, monitor or block) */
  uint32_t threat;        /* DONE: 1 when the model saw an attack */
  int32_t category;       /* DONE: guard_category of the answer, -1 for "none" */
  double confidence;      /* DONE: 0..1 */
  uint32_t attempts;      /* provider calls made for this job */
  uint32_t latency_ms;    /* submit to final state */
  char category_name[GUARD_CATEGORY_LEN];  /* DONE: the answer's category ("none" when benign) */
  char provider[GUARD_AI_PROVIDER_LEN];    /* who answered (DONE) or was tried last (FAILED) */
  char reason[GUARD_AI_REASON_LEN];        /* DONE: the model's reason; FAILED: why */
  char incident_id[GUARD_INCIDENT_ID_LEN]; /* DONE with action block: a new incident id; "" otherwise */
} guard_ai_result;

/* Queues a second opinion on `request` as inspected into `verdict` by the same engine. GUARD_OK and *job, or
 * GUARD_EINVAL when the config has no ai section or the arguments are bad, GUARD_EINTERNAL when the job cannot
 * be queued (too many outstanding jobs, thread could not start): apply the fallback. */
GUARD_API int guard_ai_submit(const guard_engine *engine, const guard_request *request, const guard_verdict *verdict,
                              uint64_t *job, char *errbuf, size_t errlen);

/* Current state of a job; never blocks (one brief mutex). */
GUARD_API int guard_ai_poll(const guard_engine *engine, uint64_t job, guard_ai_result *out, char *errbuf, size_t errlen);

/* The caller stopped waiting: a queued job is dropped unsent; an in-flight answer still feeds the verdict cache. */
GUARD_API int guard_ai_cancel(const guard_engine *engine, uint64_t job, char *errbuf, size_t errlen);

/* Labelled feedback for the accuracy strategy: did `provider`'s verdict agree with the operator's label? */
GUARD_API int guard_ai_feedback(const guard_engine *engine, const char *provider, size_t provider_len, int agreed,
                                char *errbuf, size_t errlen);

/* The AI state of this engine in the calling process as JSON (jobs, and per provider: calls, latency, tokens,
 * cost, failures, breaker state; docs/ai.md "Metrics"). Writes at most len - 1 bytes and a NUL; *needed is the
 * full length (call again with a larger buffer when *needed >= len). {"enabled":false} without an ai section. */
GUARD_API int guard_ai_status(const guard_engine *engine, char *json, size_t len, size_t *needed, char *errbuf,
                              size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* GUARD_H */
