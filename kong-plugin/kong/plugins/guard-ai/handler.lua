-- guard-ai: inspects each request with libguard (signatures, then token-bucket quotas; behaviour and AI
-- escalation as they land) and blocks, rate-limits (429, Kong's rate-limiting headers), monitors or lets it
-- through.
--
-- PRIORITY 1010 runs the plugin after every bundled authentication plugin (hmac-auth 1030 is the lowest)
-- so the consumer and credential are known, and before ip-restriction (990), acl (950) and
-- rate-limiting (910), so attacks are stopped before they consume quota.
local guard_engine = require "kong.plugins.guard-ai.engine"
local behaviour = require "kong.plugins.guard-ai.behaviour"
local ai = require "kong.plugins.guard-ai.ai"

local kong = kong
local ipairs, pairs, tonumber, concat = ipairs, pairs, tonumber, table.concat

-- Module load runs in the nginx master before fork (Kong's init phase): compile the default signatures
-- there once for all workers. A failure here is not fatal: configure() reports it per config.
guard_engine.prewarm()

-- The node-wide quota table, also made here so every worker inherits it (plain mmap, no thread). Its size
-- comes from GUARD_SHM_BYTES (Kong: declare it with KONG_NGINX_MAIN_ENV=GUARD_SHM_BYTES); 64 bytes a key.
do
  local shm_bytes = tonumber(os.getenv("GUARD_SHM_BYTES") or "") or guard_engine.DEFAULT_SHM_BYTES
  local ok, err = guard_engine.node_init(shm_bytes)
  if not ok then
    -- Engines fall back to a table per worker: limits then hold per worker, not per node.
    ngx.log(ngx.ERR, "guard-ai: cannot create the node quota table (", shm_bytes, " bytes): ", err)
  end
end

-- Behaviour as a signal (issue 5): the node-wide profile table and blocklist journal, made here for the same
-- reason (GUARD_BEHAVIOUR_SHM_BYTES, default 32 MiB; Kong: KONG_NGINX_MAIN_ENV=GUARD_BEHAVIOUR_SHM_BYTES).
do
  local bytes = tonumber(os.getenv("GUARD_BEHAVIOUR_SHM_BYTES") or "") or behaviour.DEFAULT_SHM_BYTES
  local ok, err = behaviour.node_init(bytes)
  if not ok then
    -- Profiles then live per worker (a client spread over W workers is judged on 1/W of its traffic).
    ngx.log(ngx.ERR, "guard-ai: cannot create the node behaviour table (", bytes, " bytes): ", err)
  end
end

local GuardAiHandler = {
  PRIORITY = 1010,
  VERSION = "0.1.0",
}

-- One engine per plugin config, freed with it. Keyed weakly like the caches of Kong's bundled plugins;
-- configure() also frees engines of configs that went away instead of waiting for the GC.
local engines = setmetatable({}, { __mode = "k" })

local function engine_for(conf)
  local e = engines[conf]
  if e then
    return e
  end
  local err
  e, err = guard_engine.new(conf)
  if not e then
    return nil, err
  end
  engines[conf] = e
  return e
end

function GuardAiHandler:configure(configs)
  local live = {}
  for _, conf in ipairs(configs or {}) do
    live[conf] = true
    local _, err = engine_for(conf)
    if err then
      kong.log.err("cannot build engine for plugin ", conf.__plugin_id or "?", ": ", err)
    end
  end
  for conf, e in pairs(engines) do
    if not live[conf] then
      engines[conf] = nil
      e:free()
    end
  end
end

-- The body is read only when there is one and the config inspects bodies. A body nginx buffered to disk
-- (larger than client_body_buffer_size) is reported as truncated rather than silently skipped.
local function read_body(conf)
  if not conf.inspect_body or conf.max_body_bytes == 0 then
    return nil, 0
  end
  local len = tonumber(kong.request.get_header("content-length"))
  if (not len or len == 0) and not kong.request.get_header("transfer-encoding") then
    return nil, 0
  end
  local body, err = kong.request.get_raw_body()
  if not body then
    kong.log.notice("request body not inspected: ", err)
    return nil, guard_engine.REQ_BODY_TRUNCATED
  end
  return body, 0
end

local function set_verdict_headers(v, set)
  set("X-Guard-Action", v.action)
  set("X-Guard-Score", v.score)
  if v.incident_id ~= "" then
    set("X-Guard-Incident-Id", v.incident_id)
  end
  if v.body_uninspected then
    set("X-Guard-Body-Inspected", "partial")
  end
  if v.cached then
    set("X-Guard-Cache", "hit") -- the verdict came from the verdict cache (a known shape)
  end
  ai.set_headers(v, set)
end

function GuardAiHandler:access(conf)
  local engine, err = engine_for(conf)
  if not engine then
    -- A config that passed schema.lua but not libguard's own validation: a bug worth shouting about,
    -- answered like any other plugin failure in Kong.
    kong.log.err("guard-ai engine unavailable: ", err)
    return kong.response.error(500)
  end

  local body, flags = read_body(conf)
  local consumer = kong.client.get_consumer()
  local credential = kong.client.get_credential()
  local route = kong.router.get_route()
  local service = kong.router.get_service()
  local req = {
    method = kong.request.get_method(),
    path = kong.request.get_path(),
    query = kong.request.get_raw_query(),
    body = body,
    client_ip = kong.client.get_forwarded_ip(),
    consumer_id = consumer and consumer.id,
    credential_id = credential and credential.id,
    route_id = route and route.id,
    service_id = service and service.id,
    consumer_tags = consumer and consumer.tags,
  }
  local hdrs = kong.request.get_headers(1000)
  local raw, verr = engine:inspect(req, hdrs, flags)
  if not raw then
    -- libguard could not finish (an internal error): let the request through and say so.
    kong.log.err("guard-ai inspection failed, request allowed: ", verr)
    return
  end

  local rate_headers, retry_after = guard_engine.rate_headers(raw)
  if engine.hide_rate_headers then
    rate_headers = nil -- quota.hide_client_headers; the 429 body still says when to come back
  end
  if raw.action == guard_engine.ACTION_RATE_LIMITED then
    kong.ctx.plugin.answered = true
    if not retry_after and bit.band(raw.flags, guard_engine.VERDICT_THROTTLED) ~= 0 then
      -- A behaviour throttle (no quota headers): the client may come back when the decision expires.
      retry_after = tonumber(raw.rate.retry_after_s)
      rate_headers = { ["Retry-After"] = retry_after }
    end
    return kong.response.exit(429, { message = "API rate limit exceeded", retry_after = retry_after }, rate_headers)
  end
  kong.ctx.plugin.rate_headers = rate_headers
  -- AI escalation (ai.lua): a verdict table when the AI had a say; in sync mode this may wait (ngx.sleep).
  local v = type(conf.ai) == "table" and ai.decide(engine, conf, raw, req, hdrs, req.client_ip) or nil
  if not v then
    if raw.action == guard_engine.ACTION_ALLOW and raw.flags == 0 and not conf.verdict_headers then
      return -- the common case: nothing to record
    end
    v = guard_engine.verdict_table(raw)
  end
  kong.ctx.plugin.verdict = v
  if v.action == "allow" then
    return
  end

  local rules = concat(v.rule_ids, ",")
  if v.action == "block" then
    kong.log.warn("blocked request: incident=", v.incident_id, " category=", v.category, " target=", v.target,
                  " score=", v.score, " rules=", rules)
    kong.ctx.plugin.answered = true
    local status = conf.block_status
    if v.banned and type(conf.behaviour) == "table" and conf.behaviour.ban_status then
      status = conf.behaviour.ban_status
    end
    return kong.response.exit(status, {
      message = conf.block_message,
      incident_id = v.incident_id,
      category = v.category,
    })
  end
  kong.log.warn("monitored request (not blocked): incident=", v.incident_id, " category=", v.category,
                " target=", v.target, " score=", v.score, " rules=", rules)
end

function GuardAiHandler:header_filter(conf)
  local ctx = kong.ctx.plugin
  local v = ctx.verdict
  if v and conf.verdict_headers then
    set_verdict_headers(v, kong.response.set_header)
  end
  if ctx.rate_headers then
    for name, value in pairs(ctx.rate_headers) do
      kong.response.set_header(name, value)
    end
  end
end

-- Behaviour as a signal (issue 5): the response status feeds the client's profile (404s, 401/403, failed
-- logins). In log, not header_filter: it never delays the response. Requests this plugin answered itself
-- (blocked, throttled) are not fed: our own 403s must not count as the client's failed logins.
function GuardAiHandler:log(conf)
  local b = conf.behaviour
  if type(b) ~= "table" or not b.enabled or kong.ctx.plugin.answered then
    return
  end
  local engine = engines[conf]
  if not engine then
    return
  end
  local consumer = kong.client.get_consumer()
  local route = kong.router.get_route()
  local _, err = behaviour.observe(engine, {
    method = kong.request.get_method(),
    path = kong.request.get_path(),
    client_ip = kong.client.get_forwarded_ip(),
    consumer_id = consumer and consumer.id,
    route_id = route and route.id,
    status = kong.response.get_status(),
  })
  if err then
    kong.log.err("guard-ai: cannot record the response: ", err)
  end
end

return GuardAiHandler
