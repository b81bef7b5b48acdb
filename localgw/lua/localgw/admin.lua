-- localgw.admin: the Admin API subset localgw serves (JSON only), plus routes from plugins' api.lua modules.
--
-- Built in: GET /, GET /status, GET /services, GET /routes, GET /consumers, GET /plugins, GET /plugins/:id,
-- GET /schemas/plugins/:name, POST /schemas/plugins/validate, POST /config (DB-less reload).
-- Plugin routes use Kong's api.lua shape: { ["/path/:param"] = { GET = function(self, db, helpers) end } } with
-- self.params merging path params, query and body; they answer through kong.response.exit. Like Kong, a plugin's
-- route may override a built-in route with the same path. An admin request reaches one worker only.

local cjson = require "cjson.safe"
local schema = require "localgw.schema"
local config = require "localgw.config"
local plugins = require "localgw.plugins"
local state = require "localgw.state"
local meta = require "kong.meta"

local null = ngx.null

local _M = {}

local function exit(status, body)
  return kong.response.exit(status, body)
end

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local path = ngx.req.get_body_file()
  if not path then return nil end
  local f = io.open(path, "rb")
  if not f then return nil end
  body = f:read("*a")
  f:close()
  return body
end

-- Merged parameters like Lapis' self.params: query, then body (JSON or form), then path params.
local function params(path_params)
  local p = {}
  for k, v in pairs(ngx.req.get_uri_args(100)) do p[k] = v end
  local content_type = (ngx.var.http_content_type or ""):lower()
  if content_type:find("application/x-www-form-urlencoded", 1, true) then
    ngx.req.read_body()
    for k, v in pairs(ngx.req.get_post_args(100) or {}) do p[k] = v end
  else
    local body = read_body()
    if body and body ~= "" then
      local json = cjson.decode(body)
      if type(json) == "table" then
        for k, v in pairs(json) do p[k] = v end
      elseif not content_type:find("json", 1, true) then
        p.__raw_body = body
      else
        return nil, "Cannot parse JSON body"
      end
    end
  end
  for k, v in pairs(path_params or {}) do p[k] = v end
  return p
end

local function entity_list(list, strip)
  local out = {}
  for i, e in ipairs(list) do
    local copy = {}
    for k, v in pairs(e) do
      if not (strip and strip[k]) then copy[k] = v end
    end
    out[i] = copy
  end
  return setmetatable(out, cjson.array_mt)
end

local function plugin_entity(e)
  local p = state.loaded.by_name[e.name]
  if p then schema.mark_arrays(p.schema, { config = e.config }) end
  return {
    id = e.id, name = e.name, instance_name = e.instance_name or null, enabled = e.enabled,
    route = e.route_id and { id = e.route_id } or null,
    service = e.service_id and { id = e.service_id } or null,
    consumer = null, config = e.config, protocols = setmetatable(e.protocols or {}, cjson.array_mt),
    tags = e.tags or null,
  }
end

-- Schema definitions without functions, for GET /schemas/plugins/:name.
local function describe(v, seen)
  if type(v) == "function" then return nil end
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return nil end
  seen[v] = true
  local out = {}
  for k, x in pairs(v) do
    local d = describe(x, seen)
    if d ~= nil then out[k] = d end
  end
  seen[v] = nil
  return out
end

local function violation(errs)
  return {
    code = 2, name = "schema violation", message = schema.violation_message(errs), fields = errs,
  }
end

local BUILTIN = {}

BUILTIN["/"] = {
  GET = function()
    local available, enabled, seen = {}, {}, {}
    for _, p in ipairs(state.loaded.list) do
      available[p.name] = { version = p.handler.VERSION, priority = p.handler.PRIORITY }
    end
    for _, e in ipairs(state.config.plugins) do
      if not seen[e.name] then
        enabled[#enabled + 1] = e.name
        seen[e.name] = true
      end
    end
    return exit(200, {
      tagline = "Welcome to kong",
      version = meta._VERSION,
      edition = "community",
      node_id = kong.node.get_id(),
      hostname = kong.node.get_hostname(),
      lua_version = jit and jit.version or _VERSION,
      plugins = {
        available_on_server = available,
        enabled_in_cluster = setmetatable(enabled, cjson.array_mt),
      },
      configuration = kong.configuration,
      localgw = { config_version = state.version, worker_pid = ngx.worker.pid() },
    })
  end,
}

BUILTIN["/status"] = {
  GET = function()
    local dicts = {}
    for name, d in pairs(ngx.shared) do
      dicts[name] = { capacity = d:capacity(), allocated_slabs = d:capacity() - d:free_space() }
    end
    local var = ngx.var
    return exit(200, {
      database = { reachable = true },
      server = {
        connections_active = tonumber(var.connections_active),
        connections_reading = tonumber(var.connections_reading),
        connections_writing = tonumber(var.connections_writing),
        connections_waiting = tonumber(var.connections_waiting),
      },
      memory = { lua_shared_dicts = dicts },
      configuration_hash = ngx.md5(cjson.encode(state.config) or ""),
    })
  end,
}

BUILTIN["/services"] = {
  GET = function() return exit(200, { data = entity_list(state.config.services, { address = true }), next = null }) end,
}
BUILTIN["/routes"] = {
  GET = function()
    local list = entity_list(state.config.routes)
    for _, r in ipairs(list) do
      r.service = r.service_id and { id = r.service_id } or null
      r.service_id = nil
    end
    return exit(200, { data = list, next = null })
  end,
}
BUILTIN["/consumers"] = {
  GET = function() return exit(200, { data = entity_list(state.config.consumers), next = null }) end,
}

BUILTIN["/plugins"] = {
  GET = function()
    local out = {}
    for i, e in ipairs(state.config.plugins) do out[i] = plugin_entity(e) end
    return exit(200, { data = setmetatable(out, cjson.array_mt), next = null })
  end,
}

BUILTIN["/plugins/:id"] = {
  GET = function(self)
    for _, e in ipairs(state.config.plugins) do
      if e.id == self.params.id or e.instance_name == self.params.id then return exit(200, plugin_entity(e)) end
    end
    return exit(404, { message = "Not found" })
  end,
}

BUILTIN["/schemas/plugins/:name"] = {
  GET = function(self)
    local p = state.loaded.by_name[self.params.name]
    if not p then return exit(404, { message = "No plugin named '" .. self.params.name .. "'" }) end
    return exit(200, { fields = describe(p.schema.fields), entity_checks = describe(p.schema.entity_checks) })
  end,
}

-- Kong's endpoint: validates {name=, config=, ...} as a plugin entity without storing it.
BUILTIN["/schemas/plugins/validate"] = {
  POST = function(self)
    local input = {}
    for k, v in pairs(self.params) do input[k] = v end
    local name = input.name
    if type(name) ~= "string" then
      return exit(400, violation({ name = "required field missing" }))
    end
    local p = state.loaded.by_name[name]
    if not p then
      return exit(400, violation({
        name = "plugin '" .. name .. "' not enabled; add it to the 'plugins' configuration property",
      }))
    end
    local ok, entity, errs = pcall(schema.validate_plugin, p.schema, input)
    if not ok then
      -- A raising validator is a 500 in Kong too.
      ngx.log(ngx.ERR, "[localgw] validator of plugin '", name, "' raised: ", entity)
      return exit(500, { message = "An unexpected error occurred" })
    end
    if not entity then return exit(400, violation(errs)) end
    return exit(200, { message = "schema validation successful" })
  end,
}

-- DB-less reload: the whole declarative config, validated first; on error nothing changes.
BUILTIN["/config"] = {
  POST = function(self)
    local decl = self.params
    if type(decl.config) == "string" then
      local perr
      decl, perr = config.parse(decl.config)
      if not decl then return exit(400, { message = perr }) end
    elseif decl.__raw_body then
      local perr
      decl, perr = config.parse(decl.__raw_body)
      if not decl then return exit(400, { message = perr }) end
    end
    local conf, msg, fields = config.build(decl, plugins.schema_lookup(state.loaded))
    if not conf then
      return exit(400, {
        code = 14, name = "invalid declarative configuration",
        message = "declarative config is invalid: " .. msg, fields = fields,
      })
    end
    local version, err = state.publish(conf)
    if not version then return exit(500, { message = err }) end
    return exit(201, {
      services = entity_list(conf.services, { address = true }),
      routes = entity_list(conf.routes),
      plugins = entity_list(conf.plugins),
      consumers = entity_list(conf.consumers),
      localgw = { config_version = version },
    })
  end,
}

local compiled  -- { {segments=, methods=}, ... } ordered: plugin routes first (they may override built-ins)

local function compile(path, methods)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = s end
  return { path = path, segs = segs, methods = methods }
end

local function build_routes()
  local list = {}
  for _, p in ipairs(state.loaded.list) do
    if type(p.api) == "table" then
      for path, methods in pairs(p.api) do
        if type(path) == "string" and type(methods) == "table" then list[#list + 1] = compile(path, methods) end
      end
    end
  end
  for path, methods in pairs(BUILTIN) do list[#list + 1] = compile(path, methods) end
  -- Literal segments beat :params at the same position (e.g. /schemas/plugins/validate vs :name).
  local function literal_count(r)
    local n = 0
    for _, s in ipairs(r.segs) do if s:sub(1, 1) ~= ":" then n = n + 1 end end
    return n
  end
  table.sort(list, function(a, b)
    if #a.segs ~= #b.segs then return #a.segs > #b.segs end
    return literal_count(a) > literal_count(b)
  end)
  return list
end

local function match(path)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = s end
  for _, r in ipairs(compiled) do
    if #r.segs == #segs then
      local pp, ok = {}, true
      for i, s in ipairs(r.segs) do
        if s:sub(1, 1) == ":" then
          pp[s:sub(2)] = ngx.unescape_uri(segs[i])
        elseif s ~= segs[i] then
          ok = false
          break
        end
      end
      if ok then return r, pp end
    end
  end
  return nil
end

function _M.handle()
  state.refresh()
  compiled = compiled or build_routes()
  local route, path_params = match(ngx.var.uri)
  if not route then return exit(404, { message = "Not found" }) end
  local method = ngx.req.get_method()
  local handler = route.methods[method]
  if not handler then return exit(405, { message = "Method not allowed" }) end
  local p, perr = params(path_params)
  if not p then return exit(400, { message = perr }) end
  local self = {
    params = p,
    req = { headers = ngx.req.get_headers(), method = method, parsed_url = { path = ngx.var.uri } },
  }
  local helpers = { yield_error = function(err) error(err, 2) end }
  local ok, res = pcall(handler, self, kong.db, helpers)
  if not ok then
    ngx.log(ngx.ERR, "[localgw] admin handler ", method, " ", route.path, " failed: ", res)
    return exit(500, { message = "An unexpected error occurred" })
  end
  -- Lapis-style return value ({status=, json=}) for handlers that do not call kong.response.exit.
  if type(res) == "table" and res.status then return exit(res.status, res.json) end
  return exit(204)
end

return _M
