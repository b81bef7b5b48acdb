-- localgw.proxy: the request path on the proxy listener, after Kong's runloop.
--
-- rewrite: global plugins' rewrite. access: route matching (404 "no Route matched with those values"), upstream
-- variables for proxy_pass, then each plugin's access in priority order; a plugin that raises gets a logged error
-- and a 500 like Kong's. header_filter/body_filter/log run for the plugins collected in access (those that ran,
-- including one that ended the request with kong.response.exit); an error there is re-raised as in Kong.
-- balancer: sets the peer from the service.

local ctx = require "localgw.pdk.ctx"
local state = require "localgw.state"
local plugins = require "localgw.plugins"
local meta = require "kong.meta"

local balancer = require "ngx.balancer"

local ngx = ngx
local var = ngx.var
local pcall, ipairs = pcall, ipairs
local find, sub = string.find, string.sub

local SERVER_TOKENS = meta._SERVER_TOKENS
local VIA = "1.1 " .. SERVER_TOKENS

local _M = {}

-- Request state stashed per worker so it survives nginx's internal redirect to the upstream error location
-- (ngx.ctx does not); the key travels in $localgw_ctx_ref, which survives the redirect. Freed in log.
local stash = {}
local stash_seq = 0

local function run(r, item, phase)
  local fn = item.plugin.handler[phase]
  if not fn then return true end
  r.plugin, r.plugin_id = item.plugin.name, item.conf.__plugin_id
  local ok, err = pcall(fn, item.plugin.handler, item.conf)
  r.plugin = nil
  if not ok then
    ngx.log(ngx.ERR, "[localgw] plugin '", item.plugin.name, "' failed in ", phase, " phase: ", err)
  end
  return ok
end

-- Kong calls filter/log handlers without protection: an error skips the remaining plugins of that phase and
-- nginx handles it (a broken response in the filters, a logged error in log). Same here.
local function run_or_raise(r, item, phase)
  local fn = item.plugin.handler[phase]
  if not fn then return end
  r.plugin, r.plugin_id = item.plugin.name, item.conf.__plugin_id
  local ok, err = pcall(fn, item.plugin.handler, item.conf)
  r.plugin = nil
  if not ok then error("plugin '" .. item.plugin.name .. "' failed in " .. phase .. " phase: " .. tostring(err), 0) end
end

local function unexpected(r)
  r.unexpected = true
  return kong.response.error(500, "An unexpected error occurred")
end

function _M.rewrite()
  state.refresh()
  local r = ctx.request()
  r.started = ngx.now()
  -- Pin the config for the whole request: a POST /config applied meanwhile affects the next requests only.
  r.view, r.router = state.view, state.router
  for _, item in ipairs(plugins.global_for_request(r.view, var.scheme)) do
    if item.plugin.handler.rewrite then
      if not run(r, item, "rewrite") then return unexpected(r) end
    end
  end
end

local function host_header(service)
  local port = service.port
  if (service.protocol == "http" and port == 80) or (service.protocol == "https" and port == 443) then
    return service.host
  end
  return service.host .. ":" .. port
end

function _M.access()
  local r = ctx.request()
  local view, router = r.view or state.view, r.router or state.router
  local uri = var.request_uri or "/"
  local q = find(uri, "?", 2, true)
  local raw_path = q and sub(uri, 1, q - 1) or uri
  local route, service, upstream_uri, matched = router:match(ngx.req.get_method(), var.host, raw_path,
    var.args)
  if not route then
    r.plugins = {}
    return kong.response.error(404, "no Route matched with those values")
  end
  r.route, r.service = route, service
  if not service then
    r.plugins = {}
    return kong.response.error(503, "no Service found with those values")
  end
  var.upstream_scheme = service.protocol
  var.upstream_uri = upstream_uri
  var.upstream_host = route.preserve_host and (var.http_host or var.host) or host_header(service)
  var.upstream_x_forwarded_path = raw_path
  if route.strip_path and matched ~= "" and matched ~= "/" then
    var.upstream_x_forwarded_prefix = matched
    r.forwarded_prefix = matched
  end

  local list = plugins.for_request(view, route, service, var.scheme)
  -- Collected as they run, so a plugin that exits still sees its header_filter/log (Kong's collecting iterator).
  local ran = {}
  r.plugins = ran
  for i, item in ipairs(list) do
    ran[i] = item
    if not run(r, item, "access") then return unexpected(r) end
  end
  r.proxied = true
  r.access_done = ngx.now()
  stash_seq = stash_seq + 1
  stash[stash_seq] = ngx.ctx
  var.localgw_ctx_ref = stash_seq
end

-- error_page target for 502/503/504 from proxy_pass: restore the request state, answer like Kong.
function _M.upstream_error()
  local ref = tonumber(var.localgw_ctx_ref)
  local saved = ref and stash[ref]
  if saved then ngx.ctx = saved end
  local status = ngx.status
  if status < 500 then status = 502 end
  local r = ctx.request()
  r.unexpected = true
  r.proxied = false
  return kong.response.error(status)
end

function _M.balancer()
  local r = ngx.ctx.localgw
  local s = r and r.service
  if not s then return ngx.exit(500) end
  local ok, err = balancer.set_current_peer(s.address, s.port)
  if not ok then
    ngx.log(ngx.ERR, "[localgw] failed to set peer: ", err)
    return ngx.exit(500)
  end
  balancer.set_timeouts(s.connect_timeout / 1000, s.write_timeout / 1000, s.read_timeout / 1000)
end

function _M.header_filter()
  local r = ngx.ctx.localgw
  if not r then return end
  local now = ngx.now()
  if r.exited or r.unexpected or not r.proxied then
    ngx.header["Server"] = SERVER_TOKENS
    if r.started then ngx.header["X-Kong-Response-Latency"] = math.floor((now - r.started) * 1000) end
  else
    ngx.header["Via"] = VIA
    if r.access_done then
      ngx.header["X-Kong-Proxy-Latency"] = math.floor((r.access_done - r.started) * 1000)
      ngx.header["X-Kong-Upstream-Latency"] = math.floor((now - r.access_done) * 1000)
    end
  end
  for _, item in ipairs(r.plugins or {}) do run_or_raise(r, item, "header_filter") end
end

function _M.body_filter()
  local r = ngx.ctx.localgw
  if not r then return end
  if r.exit_body then
    -- kong.response.exit() from header_filter: replace the upstream body with the exit body.
    if not r.exit_sent then
      r.exit_sent = true
      ngx.arg[1] = r.exit_body
      ngx.arg[2] = true
    else
      ngx.arg[1] = nil
    end
  end
  for _, item in ipairs(r.plugins or {}) do run_or_raise(r, item, "body_filter") end
end

function _M.log()
  local ref = tonumber(var.localgw_ctx_ref)
  if ref then stash[ref] = nil end
  local r = ngx.ctx.localgw
  if not r then return end
  for _, item in ipairs(r.plugins or {}) do run_or_raise(r, item, "log") end
end

return _M
