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

-- Builds an engine for a plugin config. Returns the engine, or nil and libguard's message (which names
-- the offending field) on failure.
function _M.new(conf)
  local json, jerr = config_json(conf)
  if not json then
    return nil, "cannot encode config: " .. tostring(jerr)
  end
  local rc = lib.guard_engine_new(json, #json, engine_out, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  local ptr = ffi_gc(engine_out[0], free_engine)
  return setmetatable({ ptr = ptr, conf = conf }, Engine)
end

-- Frees the engine now rather than at the next GC cycle (disarms the finalizer).
function Engine:free()
  if self.ptr then
    lib.guard_engine_free(ffi_gc(self.ptr, nil))
    self.ptr = nil
  end
end

local function set_str(field, s)
  if s then
    field.ptr = s
    field.len = #s
  else
    field.ptr = nil
    field.len = 0
  end
end

-- Inspects one request. `r` holds Lua strings (method, path, query, body, client_ip, consumer_id,
-- credential_id, route_id), `hdrs` is Kong's get_headers() table (name -> string or array of strings),
-- `flags` the GUARD_REQ_* bits. Returns the shared verdict cdata (valid until the next call) or nil, err.
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
  }
end

_M.ACTION_ALLOW = 0
_M.ACTION_MONITOR = 1
_M.ACTION_BLOCK = 2
_M.ACTION_RATE_LIMITED = 3
_M.REQ_BODY_TRUNCATED = C.GUARD_REQ_BODY_TRUNCATED

-- Compiles the default rule options once in the nginx master (module load happens there, before fork),
-- so every worker inherits the compiled signatures instead of compiling its own copy in configure().
-- Plain computation: no threads are started. The engine is kept only to pin its shared matcher.
local pinned
function _M.prewarm()
  if pinned then
    return true
  end
  local e, err = _M.new({})
  pinned = e
  return e ~= nil, err
end

function _M.version()
  return ffi_string(lib.guard_version())
end

return _M
