-- AI escalation in the access phase (docs/ai.md). libguard marks grey-zone verdicts GUARD_VERDICT_ESCALATE;
-- this module hands them to the engine's LLM providers and applies the answer. Every network call runs on
-- libguard's own thread: the worker only submits, polls (between ngx.sleep steps) and cancels.
--
--   sync:  the request waits up to ai.deadline_ms, polling every ai.poll_ms; then the AI verdict applies, or
--          ai.fallback (signatures: the local verdict stands; allow; block) when there is none in time.
--   async: the request passes at once. The answer lands in the verdict cache (same-shape requests are then
--          decided by Inspect itself) and is kept here for the client's next request (same forwarded IP), in
--          this worker.
local ffi = require "ffi"
local cjson = require "cjson.safe"
local cdefs = require "kong.plugins.guard-ai.cdefs"
local guard_engine = require "kong.plugins.guard-ai.engine"

local lib, C = cdefs.lib, cdefs.constants
local ffi_new, ffi_string = ffi.new, ffi.string
local band = bit.band
local kong, ngx = kong, ngx
local ipairs, setmetatable, tonumber, type = ipairs, setmetatable, tonumber, type

local ERRLEN = 256
local errbuf = ffi_new("char[?]", ERRLEN)
local job_out = ffi_new("uint64_t[1]")
local result = ffi_new("guard_ai_result")
local needed = ffi_new("size_t[1]")
local status_len = 8192
local status_buf = ffi_new("char[?]", status_len)

local PENDING, DONE = C.GUARD_AI_PENDING, C.GUARD_AI_DONE
local ESCALATE = C.GUARD_VERDICT_ESCALATE
local ACTION_BLOCK, ACTION_MONITOR = guard_engine.ACTION_BLOCK, guard_engine.ACTION_MONITOR

-- Async mode, per engine (weak: it leaves with its config) and client IP: the job still running, or the
-- final result waiting for the client's next request. Bounded by expiry: an entry lives at most ENTRY_TTL.
local ENTRY_TTL = 60
local MAX_CLIENTS = 10000
local by_engine = setmetatable({}, { __mode = "k" })

local _M = {}

-- Copies the final result of a job into a plain table.
local function read_result(r)
  return {
    done = r.state == DONE,
    action = tonumber(r.action),
    category = ffi_string(r.category_name),
    provider = ffi_string(r.provider),
    reason = ffi_string(r.reason),
    incident_id = ffi_string(r.incident_id),
    attempts = tonumber(r.attempts),
    latency_ms = tonumber(r.latency_ms),
  }
end

local function poll(engine, job)
  if lib.guard_ai_poll(engine.ptr, job, result, errbuf, ERRLEN) ~= 0 then
    return nil, ffi_string(errbuf)
  end
  if result.state == PENDING then
    return false
  end
  if result.state == DONE or result.state == C.GUARD_AI_FAILED then
    return read_result(result)
  end
  return nil, "job unknown (expired or already read)"
end

-- `req` and `hdrs` hold the Lua strings the last inspect's request struct points into: passing them keeps
-- them alive across the call (the struct is the one engine.lua filled for this request; nothing ran since).
local function submit(engine, raw, req, hdrs)
  local rc = lib.guard_ai_submit(engine.ptr, guard_engine.request_struct(), raw, job_out, errbuf, ERRLEN)
  if rc ~= 0 or req == nil or hdrs == nil then
    return nil, ffi_string(errbuf)
  end
  return job_out[0]
end

-- Applies a final AI result (or its absence) to the verdict table `v`; `mode` is the plugin's block/monitor.
local function apply(v, ai, r, why, mode)
  local block_action = mode == "monitor" and "monitor" or "block"
  if r and r.done then
    v.ai = guard_engine.action_name(r.action)
    v.ai_provider = r.provider
    if r.action == ACTION_BLOCK then
      v.action = block_action
      v.category = r.category
      v.incident_id = r.incident_id
    elseif r.action == ACTION_MONITOR then
      v.action = "monitor"
    end
    return v
  end
  -- No verdict in time, or every provider failed: the route's fallback.
  v.ai = "fallback"
  v.ai_provider = r and r.provider ~= "" and r.provider or nil
  v.ai_error = why
  if ai.fallback == "block" then
    v.action = block_action
    if v.incident_id == "" then
      -- libguard's ids come with a verdict; a fallback block has none, so one is made here (unique, not secret)
      v.incident_id = ngx.md5(ngx.now() .. ":" .. ngx.worker.pid() .. ":" .. math.random())
    end
  elseif ai.fallback == "allow" then
    v.action = "allow"
  end -- "signatures": the local verdict stands
  return v
end

local function wait(engine, ai, job)
  local deadline = ngx.now() + ai.deadline_ms / 1000
  local step = ai.poll_ms / 1000
  repeat
    ngx.sleep(step)
    local r, err = poll(engine, job)
    if r ~= false then
      return r, err
    end
  until ngx.now() >= deadline
  lib.guard_ai_cancel(engine.ptr, job, errbuf, ERRLEN)
  return nil, "deadline"
end

local function clients_of(engine)
  local t = by_engine[engine]
  if not t then
    t = { n = 0, map = {} }
    by_engine[engine] = t
  end
  return t
end

-- Async mode: the result of an earlier job of this client, if it is final now (it is then consumed).
local function earlier_result(engine, ip)
  local clients = by_engine[engine]
  local e = clients and ip and clients.map[ip]
  if not e then
    return nil
  end
  local r = poll(engine, e.job)
  if r == false then
    if ngx.now() < e.expires then
      return nil -- still running: the client's next request looks again
    end
    lib.guard_ai_cancel(engine.ptr, e.job, errbuf, ERRLEN)
  end
  clients.map[ip] = nil
  clients.n = clients.n - 1
  return r or nil
end

local function remember(engine, ip, job)
  local clients = clients_of(engine)
  if not ip or (clients.n >= MAX_CLIENTS and not clients.map[ip]) then
    return -- the verdict cache still learns the answer
  end
  if not clients.map[ip] then
    clients.n = clients.n + 1
  end
  clients.map[ip] = { job = job, expires = ngx.now() + ENTRY_TTL }
end

-- The AI step of one request. `raw` is the verdict cdata of the inspect that just ran (read before any
-- wait: it is shared by every request of the worker). Returns the verdict table to act on when the AI had
-- a say (v.ai set), or nil when this request is none of its business.
function _M.decide(engine, conf, raw, req, hdrs, client_ip)
  local ai = conf.ai
  local escalate = band(raw.flags, ESCALATE) ~= 0
  if ai.mode == "async" then
    local earlier = earlier_result(engine, client_ip)
    local v
    if earlier and earlier.done and earlier.action == ACTION_BLOCK then
      v = apply(guard_engine.verdict_table(raw), ai, earlier, nil, conf.mode)
      v.ai_async = true
    end
    if escalate then
      local job, err = submit(engine, raw, req, hdrs)
      if job then
        remember(engine, client_ip, job)
      else
        kong.log.err("guard-ai: AI escalation not submitted: ", err)
      end
    end
    return v
  end
  if not escalate then
    return nil
  end
  local v = guard_engine.verdict_table(raw)
  local job, err = submit(engine, raw, req, hdrs)
  local r
  if job then
    r, err = wait(engine, ai, job)
  end
  apply(v, ai, r, err or (r and not r.done and r.reason) or nil, conf.mode)
  if v.ai == "fallback" then
    -- info, not notice: under overload (quotas spent) this is most grey requests, and the status endpoint
    -- counts them; a log line each would cost every one a write to error.log.
    kong.log.info("guard-ai: no AI verdict (", v.ai_error or "?", "): fallback ", ai.fallback)
  elseif v.ai == "block" then
    kong.log.warn("AI blocked request: incident=", v.incident_id, " category=", v.category, " provider=",
                  v.ai_provider, " latency_ms=", r.latency_ms, " reason=", r.reason)
  end
  return v
end

-- The AI state of one engine in this worker (GET /guard-ai/status), or nil without an ai section.
function _M.status(engine)
  if lib.guard_ai_status(engine.ptr, status_buf, status_len, needed, errbuf, ERRLEN) ~= 0 then
    return { error = ffi_string(errbuf) }
  end
  if needed[0] >= status_len then
    status_len = tonumber(needed[0]) + 1
    status_buf = ffi_new("char[?]", status_len)
    return _M.status(engine)
  end
  local s = cjson.decode(ffi_string(status_buf, needed[0]))
  if type(s) == "table" and s.enabled == false then
    return nil
  end
  return s
end

-- Labelled feedback for the accuracy strategy: provider's answer agreed (true) or not with an operator.
function _M.feedback(engine, provider, agreed)
  if lib.guard_ai_feedback(engine.ptr, provider, #provider, agreed and 1 or 0, errbuf, ERRLEN) ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return true
end

-- POST /guard-ai/feedback {provider, agreed}: an operator's label for one of provider's verdicts, given to every
-- engine of this worker that has the provider. Returns how many took it. The accuracy statistics live in each
-- worker's client: the label reaches the worker that answers the Admin API request.
function _M.feedback_all(provider, agreed)
  local n = 0
  for _, e in ipairs(guard_engine.engines()) do
    local st = _M.status(e)
    if st and st.providers and st.providers[provider] and _M.feedback(e, provider, agreed) then
      n = n + 1
    end
  end
  return n
end

-- Headers of an AI decision (header_filter): what decided, and who.
function _M.set_headers(v, set)
  if not v.ai then
    return
  end
  set("X-Guard-AI", v.ai_async and (v.ai .. "; async") or v.ai)
  if v.ai_provider then
    set("X-Guard-AI-Provider", v.ai_provider)
  end
end

return _M
