-- A guard_engine per plugin config, and the per-worker cdata that carries requests into it.
--
-- The request/verdict structs and the error buffer are allocated once per worker and reused: a request
-- crosses the FFI boundary as one struct in, one struct out, with pointers into Lua strings that stay
-- referenced (as locals of inspect) for the duration of the call.
local ffi = require "ffi"
local cjson = require "cjson.safe"
local cdefs = require "kong.plugins.guard-ai.cdefs"

local lib = cdefs.lib
local C = cdefs.constants
local ffi_new, ffi_gc, ffi_string = ffi.new, ffi.gc, ffi.string
local pairs, ipairs, next, type, setmetatable, tostring = pairs, ipairs, next, type, setmetatable, tostring
local null = ngx.null

local ERRLEN = 512
local errbuf = ffi_new("char[?]", ERRLEN)
local engine_out = ffi_new("guard_engine *[1]")
local request = ffi_new("guard_request")
local verdict = ffi_new("guard_verdict")
local header_cap = 64
local headers = ffi_new("guard_header[?]", header_cap)
local tag_cap = 16
local tags = ffi_new("guard_str[?]", tag_cap)
local options = ffi_new("guard_engine_options")
local quota_status = ffi_new("guard_quota_status")

-- Engines alive in this worker, for the status endpoint (api.lua). Weak: an engine leaves with its config.
local live = setmetatable({}, { __mode = "k" })

-- Finalizer held as a closure over the library handle, so the library outlives every engine.
local function free_engine(ptr)
  lib.guard_engine_free(ptr)
end

-- Converts a Kong config into the JSON libguard validates. Kong's conf carries internal keys
-- (__plugin_id, __key__, __seq__) and ngx.null for unset optional fields; neither is config. Arrays and
-- sets keep their array-ness even when empty (cjson would otherwise encode {} as an object), guided by
-- the schema.lua field definitions.
local function to_config_value(value, field)
  if type(value) ~= "table" then
    return value
  end
  local ftype = field and field.type
  if ftype == "array" or ftype == "set" then
    local out = setmetatable({}, cjson.array_mt)
    for i = 1, #value do
      out[i] = to_config_value(value[i], field.elements)
    end
    return out
  end
  local subfields = {}
  if ftype == "record" then
    for _, f in ipairs(field.fields or {}) do
      local name, def = next(f)
      subfields[name] = def
    end
  end
  local out = {}
  for k, v in pairs(value) do
    if type(k) ~= "string" or k:sub(1, 2) ~= "__" then
      if v ~= null then
        out[k] = to_config_value(v, subfields[k] or (ftype == "map" and field.values) or nil)
      end
    end
  end
  return out
end

local config_field
local function config_json(conf)
  if not config_field then
    for _, f in ipairs(require("kong.plugins.guard-ai.schema").fields) do
      if f.config then
        config_field = f.config
      end
    end
  end
  return cjson.encode(to_config_value(conf, config_field))
end

local _M = {}
local Engine = {}
Engine.__index = Engine

local set_str = cdefs.set_str

-- Builds an engine for a plugin config. Returns the engine, or nil and libguard's message (which names
-- the offending field) on failure. The plugin id names the instance's quota buckets (node table, Redis),
-- so a rebuilt config keeps its buckets; the node id identifies this node to the other nodes in Redis.
function _M.new(conf)
  local json, jerr = config_json(conf)
  if not json then
    return nil, "cannot encode config: " .. tostring(jerr)
  end
  local instance_id = conf.__plugin_id or "default"
  local node = rawget(_G, "kong") and kong.node
  local node_id = node and node.get_id and node.get_id() or "node"
  set_str(options.instance_id, instance_id)
  set_str(options.node_id, node_id)
  local rc = lib.guard_engine_new_v2(json, #json, options, engine_out, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  local ptr = ffi_gc(engine_out[0], free_engine)
  local e = setmetatable({ ptr = ptr, conf = conf, instance_id = instance_id,
                           hide_rate_headers = type(conf.quota) == "table" and conf.quota.hide_client_headers == true },
                         Engine)
  live[e] = true
  return e
end

-- Frees the engine now rather than at the next GC cycle (disarms the finalizer).
function Engine:free()
  live[self] = nil
  if self.ptr then
    lib.guard_engine_free(ffi_gc(self.ptr, nil))
    self.ptr = nil
  end
end

-- Inspects one request. `r` holds Lua strings (method, path, query, body, client_ip, consumer_id,
-- credential_id, route_id, service_id), `r.consumer_tags` an array of strings or nil, `r.cost` the quota
-- tokens (default 1); `hdrs` is Kong's get_headers() table (name -> string or array of strings), `flags` the
-- GUARD_REQ_* bits. Returns the shared verdict cdata (valid until the next call) or nil, err.
function Engine:inspect(r, hdrs, flags)
  local n = 0
  for name, value in pairs(hdrs) do
    if type(value) == "table" then
      n = n + #value
    else
      n = n + 1
    end
  end
  if n > header_cap then
    header_cap = n * 2
    headers = ffi_new("guard_header[?]", header_cap)
  end
  local i = 0
  for name, value in pairs(hdrs) do
    if type(value) == "table" then
      for j = 1, #value do
        set_str(headers[i].name, name)
        set_str(headers[i].value, value[j])
        i = i + 1
      end
    else
      set_str(headers[i].name, name)
      set_str(headers[i].value, value)
      i = i + 1
    end
  end
  request.headers = headers
  request.header_count = i
  set_str(request.method, r.method)
  set_str(request.path, r.path)
  set_str(request.query, r.query)
  set_str(request.body, r.body)
  set_str(request.client_ip, r.client_ip)
  set_str(request.consumer_id, r.consumer_id)
  set_str(request.credential_id, r.credential_id)
  set_str(request.route_id, r.route_id)
  set_str(request.service_id, r.service_id)
  local ctags = r.consumer_tags
  local nt = type(ctags) == "table" and #ctags or 0
  if nt > tag_cap then
    tag_cap = nt * 2
    tags = ffi_new("guard_str[?]", tag_cap)
  end
  for k = 1, nt do
    set_str(tags[k - 1], ctags[k])
  end
  request.consumer_tags = tags
  request.consumer_tag_count = nt
  request.cost = r.cost or 1
  request.flags = flags or 0
  local rc = lib.guard_inspect(self.ptr, request, verdict, errbuf, ERRLEN)
  -- The header strings were referenced only through `hdrs`, which the caller still holds.
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return verdict
end

-- Reads the fields of a verdict into a plain table (for ctx, logs and responses).
function _M.verdict_table(v)
  local ids = {}
  for k = 0, math.min(v.rule_count, C.GUARD_MAX_RULE_IDS) - 1 do
    ids[#ids + 1] = tonumber(v.rule_ids[k])
  end
  return {
    action = ffi_string(lib.guard_action_name(v.action)),
    score = tonumber(v.score),
    threshold = tonumber(v.threshold),
    rule_ids = ids,
    category = ffi_string(v.category),
    target = ffi_string(v.target),
    incident_id = ffi_string(v.incident_id),
    body_uninspected = bit.band(v.flags, C.GUARD_VERDICT_BODY_UNINSPECTED) ~= 0,
    -- behaviour as a signal (issue 5)
    cached = bit.band(v.flags, C.GUARD_VERDICT_CACHED) ~= 0,
    banned = bit.band(v.flags, C.GUARD_VERDICT_BANNED) ~= 0,
    fingerprint = ffi_string(v.fingerprint),
  }
end

local period_names = {}
for p = 0, C.GUARD_PERIOD_COUNT - 1 do
  period_names[p] = ffi_string(lib.guard_period_name(p))
end

-- The rate-limit headers of a verdict as Kong's rate-limiting plugin sends them, or nil when no quota limit
-- applied. Retry-After only on a refusal that waiting can cure. Also returns the retry-after seconds (or nil).
function _M.rate_headers(v)
  local rate = v.rate
  if bit.band(rate.flags, C.GUARD_RATE_APPLIED) == 0 then
    return nil
  end
  local h = {
    ["RateLimit-Limit"] = tonumber(rate.limit),
    ["RateLimit-Remaining"] = tonumber(rate.remaining),
    ["RateLimit-Reset"] = tonumber(rate.reset_s),
    ["RateLimit-Policy"] = ffi_string(rate.policy),
  }
  for p = 0, C.GUARD_PERIOD_COUNT - 1 do
    if bit.band(rate.period_mask, bit.lshift(1, p)) ~= 0 then
      h["X-RateLimit-Limit-" .. period_names[p]] = tonumber(rate.period_limit[p])
      h["X-RateLimit-Remaining-" .. period_names[p]] = tonumber(rate.period_remaining[p])
    end
  end
  local retry_after
  if v.action == _M.ACTION_RATE_LIMITED and rate.retry_after_s > 0 then
    retry_after = tonumber(rate.retry_after_s)
    h["Retry-After"] = retry_after
  end
  return h, retry_after
end

local sync_states = { [0] = "none", "idle", "healthy", "unhealthy" }

-- Quota state of this engine in this worker (each worker has its own engine and sync thread).
function Engine:quota_status()
  local rc = lib.guard_engine_quota_status(self.ptr, quota_status, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  local s = quota_status
  if s.enabled == 0 then
    return { enabled = false }
  end
  local on_failure = ffi_string(s.on_failure)
  return {
    enabled = true,
    node_table = s.node_table == 1,
    sync = sync_states[tonumber(s.sync_state)],
    on_failure = on_failure ~= "" and on_failure or nil,
    -- what a request gets right now: "normal", or the on_failure policy while Redis is not (yet) reachable
    mode = (s.sync_state == C.GUARD_SYNC_IDLE or s.sync_state == C.GUARD_SYNC_UNHEALTHY) and on_failure or "normal",
    active_nodes = tonumber(s.active_nodes),
    checks = tonumber(s.checks), refused = tonumber(s.refused), degraded = tonumber(s.degraded),
    rounds_ok = tonumber(s.rounds_ok), rounds_failed = tonumber(s.rounds_failed),
    keys_synced = tonumber(s.keys_synced), counts_dropped = tonumber(s.counts_dropped),
    last_ok_unix_ms = tonumber(s.last_ok_unix_ms),
    table_capacity = tonumber(s.table_capacity), table_live = tonumber(s.table_live),
    table_full = tonumber(s.table_full),
    last_error = ffi_string(s.last_error),
  }
end

-- Status of every engine alive in this worker, keyed by plugin instance id.
function _M.status()
  local out = {}
  for e in pairs(live) do
    if e.ptr and e.instance_id ~= "prewarm" then
      out[e.instance_id] = { quota = e:quota_status(),
                             signals = require("kong.plugins.guard-ai.behaviour").status(e), -- issue 5
                             ai = require("kong.plugins.guard-ai.ai").status(e) }
    end
  end
  return out
end

-- Creates the node-wide quota table. Call at module load, in the nginx master before fork (plain mmap, no
-- thread); idempotent. bytes: GUARD_SHM_BYTES, default 16 MiB (256 K slots of 64 bytes).
_M.DEFAULT_SHM_BYTES = 16 * 1024 * 1024
function _M.node_init(bytes)
  bytes = bytes or _M.DEFAULT_SHM_BYTES
  local rc = lib.guard_node_init(bytes, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return true
end

_M.ACTION_ALLOW = 0
_M.ACTION_MONITOR = 1
_M.ACTION_BLOCK = 2
_M.ACTION_RATE_LIMITED = 3
_M.REQ_BODY_TRUNCATED = C.GUARD_REQ_BODY_TRUNCATED
_M.VERDICT_THROTTLED = C.GUARD_VERDICT_THROTTLED -- issue 5

-- Compiles the default rule options once in the nginx master (module load happens there, before fork),
-- so every worker inherits the compiled signatures instead of compiling its own copy in configure().
-- Plain computation: no threads are started. The engine is kept only to pin its shared matcher.
local pinned
function _M.prewarm()
  if pinned then
    return true
  end
  local e, err = _M.new({ __plugin_id = "prewarm" })
  pinned = e
  return e ~= nil, err
end

-- Every engine alive in this worker (for ai.lua's feedback route), as a list.
function _M.engines()
  local out = {}
  for e in pairs(live) do
    if e.ptr and e.instance_id ~= "prewarm" then
      out[#out + 1] = e
    end
  end
  return out
end

-- For ai.lua: the request struct the last inspect filled (valid while the caller holds that request's
-- strings, and until the next inspect), and action names.
function _M.request_struct()
  return request
end

function _M.action_name(action)
  return ffi_string(lib.guard_action_name(action))
end

function _M.version()
  return ffi_string(lib.guard_version())
end

return _M
