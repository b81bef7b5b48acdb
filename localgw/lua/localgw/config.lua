-- localgw.config: loads a Kong declarative config (kong.yml, _format_version "3.0") into flat entity lists.
--
-- Output: { services = {...}, routes = {...}, plugins = {...}, consumers = {...} }, each entity with an id.
-- Nested routes/plugins are flattened with service_id/route_id references, as Kong's declarative loader does.
-- Every plugin's config is validated (and defaults filled) by the plugin's own schema through localgw.schema.
-- Errors are collected, not thrown: a nested table mirroring the input (like Kong's /config 400 "fields") plus
-- one line per problem; the caller decides whether to abort startup or answer 400.
--
-- This module only needs ngx.md5/ngx.null, so it also runs in init_by_lua (master, before fork).

local cjson = require "cjson.safe"
local schema = require "localgw.schema"

local null = schema.null
local fmt, concat = string.format, table.concat

local _M = {}

local SERVICE_FIELDS = {
  id = true, name = true, url = true, protocol = true, host = true, port = true, path = true, retries = true,
  connect_timeout = true, write_timeout = true, read_timeout = true, tags = true, enabled = true,
  routes = true, plugins = true, tls_verify = true, tls_verify_depth = true, ca_certificates = true,
  client_certificate = true,
}
local ROUTE_FIELDS = {
  id = true, name = true, paths = true, methods = true, hosts = true, strip_path = true, preserve_host = true,
  protocols = true, regex_priority = true, path_handling = true, https_redirect_status_code = true,
  request_buffering = true, response_buffering = true, tags = true, service = true, plugins = true,
}
local CONSUMER_FIELDS = { id = true, username = true, custom_id = true, tags = true, keyauth_credentials = true }
local TOP_LEVEL = { services = true, routes = true, plugins = true, consumers = true }

-- Deterministic ids (Kong's declarative loader also derives stable ids from entity names).
local function stable_id(kind, key)
  local h = ngx.md5(kind .. ":" .. key)
  return fmt("%s-%s-4%s-8%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(14, 16), h:sub(18, 20), h:sub(21, 32))
end
_M.stable_id = stable_id

-- lyaml represents YAML null as a sentinel table; Kong treats an explicit null like an absent field on insert.
local function strip_yaml_nulls(v, yaml_null)
  if type(v) ~= "table" then return v end
  if v == yaml_null then return nil end
  local out = {}
  for k, x in pairs(v) do
    if x ~= yaml_null and x ~= null then out[k] = strip_yaml_nulls(x, yaml_null) end
  end
  return out
end

-- Parses kong.yml text (YAML, or JSON which is valid YAML). Returns table or nil, err.
function _M.parse(text)
  if type(text) ~= "string" then return nil, "declarative config must be a string" end
  if text:match("^%s*{") then
    local t, err = cjson.decode(text)
    if t == nil then return nil, "failed parsing JSON: " .. tostring(err) end
    return strip_yaml_nulls(t)
  end
  local lyaml = require "lyaml"
  local ok, t = pcall(lyaml.load, text)
  if not ok then return nil, "failed parsing YAML: " .. tostring(t) end
  if type(t) ~= "table" then return nil, "declarative config must be a YAML mapping" end
  return strip_yaml_nulls(t, lyaml.null)
end

function _M.load_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot open declarative config: " .. tostring(err) end
  local text = f:read("*a")
  f:close()
  return _M.parse(text)
end

local function path_string(path)
  local out = {}
  for _, p in ipairs(path) do
    if type(p) == "number" then
      out[#out] = out[#out] .. "[" .. p .. "]"
    else
      out[#out + 1] = p
    end
  end
  return concat(out, ".")
end

-- Error collector: `fields` mirrors the input structure, `lines` are the human-readable messages. The line
-- defaults to "<path>: <message>" for a string message.
local function new_errors()
  local e = { fields = {}, lines = {} }
  function e.add(path, msg_or_fields, line)
    line = line or (path_string(path) .. ": " .. tostring(msg_or_fields))
    local t = e.fields
    for i = 1, #path - 1 do
      t[path[i]] = t[path[i]] or {}
      t = t[path[i]]
    end
    local last = path[#path]
    if type(msg_or_fields) == "table" and type(t[last]) == "table" then
      for k, v in pairs(msg_or_fields) do t[last][k] = v end
    else
      t[last] = msg_or_fields
    end
    e.lines[#e.lines + 1] = line
  end
  return e
end


local function extend(path, ...)
  local out = {}
  for i, p in ipairs(path) do out[i] = p end
  for _, p in ipairs({ ... }) do out[#out + 1] = p end
  return out
end

local function check_unknown(entity, allowed, path, errs)
  for k in pairs(entity) do
    if not allowed[k] then
      errs.add(extend(path, k), "unknown field")
    end
  end
end

local function parse_url(url)
  local scheme, host, port, path = url:match("^(%a[%w+.-]*)://([^/:]+):?(%d*)(.*)$")
  if not scheme then return nil end
  return scheme:lower(), host, tonumber(port), path ~= "" and path or nil
end

-- localgw has no resolver: upstream hosts must be IP literals (or localhost) so the balancer can use them.
local function resolve_host(host)
  if host == "localhost" then return "127.0.0.1" end
  if host:match("^%d+%.%d+%.%d+%.%d+$") then return host end
  return nil
end

local function as_list(v)
  if v == nil then return nil end
  if type(v) ~= "table" then return nil, "expected an array" end
  return v
end

-- `ctx` carries the collected entities, the error collector and the plugin schema lookup.
local function add_plugin(ctx, p, path, scope)
  local errs = ctx.errs
  if type(p) ~= "table" then
    errs.add(path, "expected a record")
    return
  end
  local name = p.name
  if type(name) ~= "string" then
    errs.add(extend(path, "name"), "required field missing")
    return
  end
  local plugin_schema, serr = ctx.get_schema(name)
  if not plugin_schema then
    errs.add(extend(path, "name"), serr)
    return
  end
  local ok, entity, verrs = pcall(schema.validate_plugin, plugin_schema, p)
  if not ok then
    -- A validator that raises is a plugin bug; Kong answers 500 on the Admin API. Report it verbatim.
    local msg = "error while validating plugin '" .. name .. "': " .. tostring(entity)
    errs.add(path, msg)
    return
  end
  if not entity then
    errs.add(path, verrs, path_string(path) .. " (" .. name .. "): " .. schema.violation_message(verrs))
    return
  end

  local service_ref = scope.service_ref or (type(p.service) == "table" and (p.service.id or p.service.name) or p.service)
  local route_ref = scope.route_ref or (type(p.route) == "table" and (p.route.id or p.route.name) or p.route)
  if p.consumer ~= nil and p.consumer ~= null then
    local msg = "localgw does not support consumer-scoped plugins"
    errs.add(extend(path, "consumer"), msg)
    return
  end

  ctx.plugins[#ctx.plugins + 1] = {
    id = p.id or stable_id("plugins", fmt("%s:%s:%s", name, tostring(route_ref), tostring(service_ref))),
    name = name,
    instance_name = p.instance_name,
    enabled = p.enabled ~= false,
    service_ref = service_ref,
    route_ref = route_ref,
    config = entity.config,
    protocols = entity.protocols,
    tags = p.tags,
    _path = path_string(path),
  }
end

local function add_route(ctx, r, path, service_ref)
  local errs = ctx.errs
  if type(r) ~= "table" then
    errs.add(path, "expected a record")
    return
  end
  check_unknown(r, ROUTE_FIELDS, path, errs)
  for _, f in ipairs({ "paths", "methods", "hosts", "protocols" }) do
    local _, err = as_list(r[f])
    if err then errs.add(extend(path, f), err) end
  end
  if not (r.paths or r.methods or r.hosts) then
    local msg = "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'http'"
    errs.add(extend(path, "@entity"), { msg }, path_string(path) .. ": " .. msg)
  end
  for i, p in ipairs(r.paths or {}) do
    if type(p) ~= "string" or (p:sub(1, 1) ~= "/" and p:sub(1, 1) ~= "~") then
      local msg = "should start with: / (fixed path) or ~/ (regex path)"
      errs.add(extend(path, "paths", i), msg)
    end
  end
  local key = r.name or r.id or path_string(path)
  local route = {
    id = r.id or stable_id("routes", key),
    name = r.name,
    service_ref = service_ref or (type(r.service) == "table" and (r.service.id or r.service.name) or r.service),
    paths = r.paths,
    methods = r.methods,
    hosts = r.hosts,
    strip_path = r.strip_path ~= false,
    preserve_host = r.preserve_host == true,
    protocols = r.protocols or { "http", "https" },
    regex_priority = r.regex_priority or 0,
    tags = r.tags,
  }
  ctx.routes[#ctx.routes + 1] = route
  for i, p in ipairs(r.plugins or {}) do
    add_plugin(ctx, p, extend(path, "plugins", i), { route_ref = route.id, service_ref = p.service })
  end
end

local function add_service(ctx, s, path)
  local errs = ctx.errs
  if type(s) ~= "table" then
    errs.add(path, "expected a record")
    return
  end
  check_unknown(s, SERVICE_FIELDS, path, errs)
  local protocol, host, port, spath = s.protocol or "http", s.host, s.port, s.path
  if s.url then
    protocol, host, port, spath = parse_url(s.url)
    if not protocol then
      errs.add(extend(path, "url"), "missing host in url")
      return
    end
  end
  if protocol ~= "http" and protocol ~= "https" then
    local msg = "localgw proxies only http and https services"
    errs.add(extend(path, "protocol"), msg)
  end
  if type(host) ~= "string" then
    errs.add(extend(path, "host"), "required field missing")
    return
  end
  local addr = resolve_host(host)
  if not addr then
    local msg = "localgw has no DNS resolver: use an IPv4 address or 'localhost' (got '" .. host .. "')"
    errs.add(extend(path, "host"), msg)
  end
  local key = s.name or s.id or path_string(path)
  local service = {
    id = s.id or stable_id("services", key),
    name = s.name,
    protocol = protocol,
    host = host,
    address = addr,
    port = port or (protocol == "https" and 443 or 80),
    path = spath,
    retries = s.retries or 5,
    connect_timeout = s.connect_timeout or 60000,
    write_timeout = s.write_timeout or 60000,
    read_timeout = s.read_timeout or 60000,
    enabled = s.enabled ~= false,
    tags = s.tags,
  }
  ctx.services[#ctx.services + 1] = service
  for i, r in ipairs(s.routes or {}) do add_route(ctx, r, extend(path, "routes", i), service.id) end
  for i, p in ipairs(s.plugins or {}) do
    add_plugin(ctx, p, extend(path, "plugins", i), { service_ref = service.id, route_ref = p.route })
  end
end

local function add_consumer(ctx, c, path)
  local errs = ctx.errs
  if type(c) ~= "table" then
    errs.add(path, "expected a record")
    return
  end
  check_unknown(c, CONSUMER_FIELDS, path, errs)
  if c.username == nil and c.custom_id == nil then
    local msg = "at least one of these fields must be non-empty: 'custom_id', 'username'"
    errs.add(extend(path, "@entity"), { msg }, path_string(path) .. ": " .. msg)
  end
  local consumer = {
    id = c.id or stable_id("consumers", tostring(c.username or c.custom_id)),
    username = c.username,
    custom_id = c.custom_id,
    tags = c.tags,
  }
  ctx.consumers[#ctx.consumers + 1] = consumer
  for i, k in ipairs(c.keyauth_credentials or {}) do
    if type(k) ~= "table" or type(k.key) ~= "string" then
      local kpath = extend(path, "keyauth_credentials", i, "key")
      errs.add(kpath, "required field missing")
    else
      ctx.credentials[#ctx.credentials + 1] = {
        id = k.id or stable_id("keyauth_credentials", k.key),
        key = k.key,
        consumer = { id = consumer.id },
        tags = k.tags,
      }
    end
  end
end

-- Resolves service/route references given by name or id and rejects duplicates Kong would reject.
local function unique(errs, kind, field, value, seen)
  if value == nil then return end
  if seen[value] then
    local msg = fmt("UNIQUE violation detected on '{%s=\"%s\"}'", field, tostring(value))
    errs.add({ kind, tostring(value) }, msg, kind .. ": " .. msg)
  end
  seen[value] = true
end

local function link(ctx)
  local errs = ctx.errs
  local services_by, routes_by = {}, {}
  local seen = { services = {}, routes = {}, ids = {}, consumers = {}, keys = {} }
  for _, s in ipairs(ctx.services) do
    unique(errs, "services", "name", s.name, seen.services)
    unique(errs, "services", "id", s.id, seen.ids)
    services_by[s.id] = s
    if s.name then services_by[s.name] = s end
  end
  for _, c in ipairs(ctx.consumers) do
    unique(errs, "consumers", "username", c.username, seen.consumers)
  end
  for _, k in ipairs(ctx.credentials) do
    unique(errs, "keyauth_credentials", "key", k.key, seen.keys)
  end
  for _, r in ipairs(ctx.routes) do
    unique(errs, "routes", "name", r.name, seen.routes)
    unique(errs, "routes", "id", r.id, seen.ids)
    routes_by[r.id] = r
    if r.name then routes_by[r.name] = r end
    if r.service_ref then
      local s = services_by[r.service_ref]
      if not s then
        local msg = "could not find service '" .. tostring(r.service_ref) .. "'"
        errs.add({ "routes", r.name or r.id, "service" }, msg, "route " .. (r.name or r.id) .. ": " .. msg)
      else
        r.service_id = s.id
      end
    end
    r.service_ref = nil
  end
  local plugin_keys = {}
  for _, p in ipairs(ctx.plugins) do
    if p.service_ref then
      local s = services_by[p.service_ref]
      if s then p.service_id = s.id else
        errs.add({ "plugins", p.id, "service" }, "could not find service", p._path .. ": could not find service '" .. tostring(p.service_ref) .. "'")
      end
    end
    if p.route_ref then
      local r = routes_by[p.route_ref]
      if r then p.route_id = r.id else
        errs.add({ "plugins", p.id, "route" }, "could not find route", p._path .. ": could not find route '" .. tostring(p.route_ref) .. "'")
      end
    end
    p.service_ref, p.route_ref = nil, nil
    local key = fmt("%s:%s:%s", p.name, p.route_id or "", p.service_id or "")
    if plugin_keys[key] then
      local msg = fmt("UNIQUE violation detected on '{consumer=null,name=\"%s\",route=%s,service=%s}'", p.name,
        p.route_id and ("{id=\"" .. p.route_id .. "\"}") or "null",
        p.service_id and ("{id=\"" .. p.service_id .. "\"}") or "null")
      errs.add({ "plugins", p.id }, msg, p._path .. ": " .. msg)
    end
    plugin_keys[key] = true
    p._path = nil
  end
end

-- Builds the flat config from a parsed declarative table.
-- get_schema(name) returns the plugin schema table, or nil and Kong's "plugin 'x' not enabled" message.
-- Returns config, or nil, message (one line), fields (nested).
function _M.build(decl, get_schema)
  local errs = new_errors()
  if type(decl) ~= "table" then
    return nil, "declarative config must be a table", { ["@entity"] = { "expected a table" } }
  end
  local version = decl._format_version
  if version == nil then
    errs.add({ "_format_version" }, "required field missing")
  elseif version ~= "3.0" and version ~= "2.1" then
    errs.add({ "_format_version" }, "expected one of: 2.1, 3.0")
  end
  for k in pairs(decl) do
    if type(k) ~= "string" or (k:sub(1, 1) ~= "_" and not TOP_LEVEL[k]) then
      local msg = "localgw does not support this entity (supported: services, routes, plugins, consumers)"
      errs.add({ k }, msg, tostring(k) .. ": " .. msg)
    end
  end
  local ctx = {
    errs = errs, get_schema = get_schema,
    services = {}, routes = {}, plugins = {}, consumers = {}, credentials = {},
  }
  for i, s in ipairs(decl.services or {}) do add_service(ctx, s, { "services", i }) end
  for i, r in ipairs(decl.routes or {}) do add_route(ctx, r, { "routes", i }) end
  for i, p in ipairs(decl.plugins or {}) do add_plugin(ctx, p, { "plugins", i }, {}) end
  for i, c in ipairs(decl.consumers or {}) do add_consumer(ctx, c, { "consumers", i }) end
  if #errs.lines == 0 then link(ctx) end
  if #errs.lines > 0 then
    return nil, concat(errs.lines, "; "), errs.fields
  end
  return {
    services = ctx.services, routes = ctx.routes, plugins = ctx.plugins,
    consumers = ctx.consumers, keyauth_credentials = ctx.credentials,
  }
end

return _M
