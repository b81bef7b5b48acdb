-- localgw.plugins: loads plugin handlers/schemas and runs their phases, after Kong's plugins iterator.
--
-- load() runs in the master (init_by_lua), so module-level code of handlers runs before fork as in Kong, and
-- checks handlers as Kong's plugin loader does (PRIORITY integer, VERSION "x.y.z", not both `response` and
-- header_filter/body_filter). build() turns a config into the per-worker view: instances by scope, the array of
-- configs handed to configure(), and a per-route cache of the plugins a request runs.
--
-- Precedence (Kong, without consumer scopes): route+service > route > service > global; one instance per plugin
-- per request. Order: PRIORITY descending, ties by name (as Kong sorts).

local schema = require "localgw.schema"
local pdk_log = require "localgw.pdk.log"

local fmt = string.format
local pcall, type, ipairs = pcall, type, ipairs

local _M = {}

local function check_handler(name, handler)
  if type(handler) ~= "table" then
    return nil, fmt("plugin '%s' handler must return a table, got %s", name, type(handler))
  end
  local prio = handler.PRIORITY
  if type(prio) ~= "number" or prio % 1 ~= 0 then
    return nil, fmt("Plugin \"%s\" cannot be loaded because its PRIORITY field is not a valid integer number, got: \"%s\"",
      name, tostring(prio))
  end
  local v = handler.VERSION
  if type(v) ~= "string" or not v:match("^%d+%.%d+%.%d+$") then
    return nil, fmt("Plugin \"%s\" cannot be loaded because its VERSION field does not follow the \"x.y.z\" format, got: \"%s\"",
      name, tostring(v))
  end
  if handler.response and (handler.header_filter or handler.body_filter) then
    return nil, fmt("Plugin \"%s\" can't be loaded because it implements both `response` and `header_filter` or `body_filter` methods.", name)
  end
  return true
end

-- Loads handlers and schemas of the named plugins; returns { list = sorted, by_name = {} } or nil, err.
function _M.load(names)
  local loaded = { list = {}, by_name = {} }
  for _, name in ipairs(names) do
    local ok, handler = pcall(require, "kong.plugins." .. name .. ".handler")
    if not ok then return nil, fmt("failed to load plugin '%s' handler: %s", name, handler) end
    local hok, herr = check_handler(name, handler)
    if not hok then return nil, herr end
    local sok, plugin_schema = pcall(require, "kong.plugins." .. name .. ".schema")
    if not sok then return nil, fmt("failed to load plugin '%s' schema: %s", name, plugin_schema) end
    if type(plugin_schema) ~= "table" or type(plugin_schema.fields) ~= "table" then
      return nil, fmt("plugin '%s' schema must be a table with 'fields'", name)
    end
    local api
    local aok, amod = pcall(require, "kong.plugins." .. name .. ".api")
    if aok then
      api = amod
    elseif not tostring(amod):find("module 'kong.plugins." .. name .. ".api' not found", 1, true) then
      return nil, fmt("failed to load plugin '%s' api: %s", name, amod)
    end
    local p = { name = name, handler = handler, schema = plugin_schema, api = api, priority = handler.PRIORITY }
    loaded.list[#loaded.list + 1] = p
    loaded.by_name[name] = p
  end
  table.sort(loaded.list, function(a, b)
    if a.priority ~= b.priority then return a.priority > b.priority end
    return a.name > b.name
  end)
  return loaded
end

-- The get_schema callback localgw.config expects.
function _M.schema_lookup(loaded)
  return function(name)
    local p = loaded.by_name[name]
    if not p then return nil, fmt("plugin '%s' not enabled; add it to the 'plugins' configuration property", name) end
    return p.schema
  end
end

-- Calls handler[phase](handler, ...) for a non-request phase, logging errors (Kong logs and goes on).
local function call_quiet(p, phase, ...)
  local fn = p.handler[phase]
  if not fn then return true end
  pdk_log.current_plugin = p.name
  local ok, err = pcall(fn, p.handler, ...)
  pdk_log.current_plugin = nil
  if not ok then
    ngx.log(ngx.ERR, "[localgw] plugin '", p.name, "' failed in ", phase, ": ", err)
  end
  return ok, err
end

function _M.init_worker(loaded)
  for _, p in ipairs(loaded.list) do call_quiet(p, "init_worker") end
end

local seq = 0

-- Builds the per-worker view of a config: plugin instances by scope plus configure() input.
function _M.build(loaded, config)
  seq = seq + 1
  local view = {
    loaded = loaded,
    global = {}, by_service = {}, by_route = {}, by_route_service = {},
    configs = {},      -- plugin name -> array of confs, for configure()
    instances = {},    -- plugin id -> entity (admin API)
    cache = {},        -- route id -> ordered { {plugin=, conf=} }
  }
  for _, entity in ipairs(config.plugins) do
    view.instances[entity.id] = entity
    if entity.enabled and loaded.by_name[entity.name] then
      -- What the handler sees: nulls removed (Kong's DAO strips them on read) plus Kong's runtime keys.
      local conf = schema.remove_nulls(entity.config)
      conf.__plugin_id = entity.id
      conf.__key__ = fmt("plugins:%s:%s:%s::", entity.name, entity.route_id or "", entity.service_id or "")
      conf.__seq__ = seq
      local item = { conf = conf, protocols = entity.protocols }
      if entity.route_id and entity.service_id then
        local t = view.by_route_service[entity.route_id .. ":" .. entity.service_id] or {}
        view.by_route_service[entity.route_id .. ":" .. entity.service_id] = t
        t[entity.name] = item
      elseif entity.route_id then
        view.by_route[entity.route_id] = view.by_route[entity.route_id] or {}
        view.by_route[entity.route_id][entity.name] = item
      elseif entity.service_id then
        view.by_service[entity.service_id] = view.by_service[entity.service_id] or {}
        view.by_service[entity.service_id][entity.name] = item
      else
        view.global[entity.name] = item
      end
      local list = view.configs[entity.name] or {}
      view.configs[entity.name] = list
      list[#list + 1] = conf
    end
  end
  return view
end

-- Kong ≥ 3.5: configure(configs) in every worker after each rebuild, nil when no instance is enabled.
function _M.configure(view)
  for _, p in ipairs(view.loaded.list) do
    if p.handler.configure then
      ngx.update_time()
      local start = ngx.now()
      call_quiet(p, "configure", view.configs[p.name])
      ngx.update_time()
      local ms = (ngx.now() - start) * 1000
      if ms > 50 then
        ngx.log(ngx.NOTICE, "[localgw] executing plugin \"", p.name, "\": configure took ", ms, " ms")
      end
    end
  end
end

local function has_protocol(item, scheme)
  for _, proto in ipairs(item.protocols or {}) do
    if proto == scheme then return true end
  end
  return false
end

-- Ordered plugins for a request on (route, service); cached per route.
function _M.for_request(view, route, service, scheme)
  local key = (route and route.id or "") .. ":" .. scheme
  local cached = view.cache[key]
  if cached then return cached end
  local out = {}
  local rid, sid = route and route.id, service and service.id
  for _, p in ipairs(view.loaded.list) do
    local name = p.name
    local item = (rid and sid and (view.by_route_service[rid .. ":" .. sid] or {})[name])
      or (rid and (view.by_route[rid] or {})[name])
      or (sid and (view.by_service[sid] or {})[name])
      or view.global[name]
    if item and has_protocol(item, scheme) then
      out[#out + 1] = { plugin = p, conf = item.conf }
    end
  end
  view.cache[key] = out
  return out
end

-- Global plugins only (Kong runs the rewrite phase before routing, so only global plugins take part).
function _M.global_for_request(view, scheme)
  local key = "@global:" .. scheme
  local cached = view.cache[key]
  if cached then return cached end
  local out = {}
  for _, p in ipairs(view.loaded.list) do
    local item = view.global[p.name]
    if item and has_protocol(item, scheme) then out[#out + 1] = { plugin = p, conf = item.conf } end
  end
  view.cache[key] = out
  return out
end

return _M
