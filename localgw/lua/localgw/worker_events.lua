-- localgw.worker_events: kong.worker_events (Kong 3.x, backed by lua-resty-events) within one node.
--
-- post() appends the event to a ring in the shared dict "localgw_events"; every worker (the poster included,
-- as in Kong) picks it up from a polling timer and calls the callbacks registered for (source, event).
-- post_local() runs the local callbacks at once. Delivery is asynchronous and at-most-once per worker; events
-- older than EVENT_TTL seconds are dropped, which only matters for a worker stalled longer than that.
-- Callbacks receive (data, event, source, pid) like Kong's.

local cjson = require "cjson.safe"

local DICT = "localgw_events"
local EVENT_TTL = 60

local _M = {}

local handlers = {}   -- handlers[source][event or "*"] = { fn, ... }
local last_seen = 0

local function shm()
  local d = ngx.shared[DICT]
  if not d then error("lua_shared_dict " .. DICT .. " is not configured", 2) end
  return d
end

local function dispatch(source, event, data, pid)
  local by_source = handlers[source]
  if not by_source then return end
  for _, key in ipairs({ event, "*" }) do
    for _, fn in ipairs(by_source[key] or {}) do
      local ok, err = pcall(fn, data, event, source, pid)
      if not ok then
        ngx.log(ngx.ERR, "[localgw] worker event callback failed (", source, ":", event, "): ", err)
      end
    end
  end
end

function _M.register(callback, source, ...)
  if type(callback) ~= "function" then error("callback must be a function", 2) end
  if type(source) ~= "string" then error("source must be a string", 2) end
  handlers[source] = handlers[source] or {}
  local events = { ... }
  if #events == 0 then events = { "*" } end
  for _, ev in ipairs(events) do
    handlers[source][ev] = handlers[source][ev] or {}
    table.insert(handlers[source][ev], callback)
  end
  return true
end

function _M.unregister(callback, source, ...)
  local by_source = handlers[source]
  if not by_source then return true end
  local events = { ... }
  if #events == 0 then
    events = {}
    for ev in pairs(by_source) do events[#events + 1] = ev end
  end
  for _, ev in ipairs(events) do
    local list = by_source[ev] or {}
    for i = #list, 1, -1 do
      if list[i] == callback then table.remove(list, i) end
    end
  end
  return true
end

function _M.post(source, event, data)
  if type(source) ~= "string" or type(event) ~= "string" then
    return nil, "source and event must be strings"
  end
  local payload, err = cjson.encode({ source = source, event = event, data = data, pid = ngx.worker.pid() })
  if not payload then return nil, "failed to encode event data: " .. tostring(err) end
  local d = shm()
  local seq, ierr = d:incr("seq", 1, 0)
  if not seq then return nil, "failed to post event: " .. tostring(ierr) end
  local ok, serr = d:set("ev:" .. seq, payload, EVENT_TTL)
  if not ok then return nil, "failed to post event: " .. tostring(serr) end
  return true
end

function _M.post_local(source, event, data)
  dispatch(source, event, data, ngx.worker.pid())
  return true
end

-- Called from the worker's polling timer.
function _M.poll()
  local d = shm()
  local seq = d:get("seq") or 0
  while last_seen < seq do
    last_seen = last_seen + 1
    local payload = d:get("ev:" .. last_seen)
    local ev = payload and cjson.decode(payload)
    if ev then
      local data = ev.data
      dispatch(ev.source, ev.event, data, ev.pid)
    end
  end
end

-- Master (init_by_lua): remember where this generation of workers starts. Workers begin there rather than at
-- the current sequence, because a fast worker can already post (e.g. from an admin request) before a slower
-- sibling has run init_worker; that sibling must still see the event. A respawned worker therefore replays the
-- events of the last EVENT_TTL seconds.
function _M.init()
  local d = shm()
  d:add("seq", 0)
  d:set("base", d:get("seq"))
end

function _M.init_worker()
  local d = shm()
  last_seen = d:get("base") or d:get("seq") or 0
end

return _M
